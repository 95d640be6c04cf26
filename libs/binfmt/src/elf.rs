//! ELF64 executables for x86_64: header checks and the load plan.
//!
//! Linux: fs/binfmt_elf.c (`load_elf_binary`, `load_elf_phdrs`,
//! `elf_check_arch`), include/uapi/linux/elf.h.
//!
//! [`ElfImage::parse`] accepts what Linux's `load_elf_binary` would, for
//! static programs: `ET_EXEC` and static-PIE `ET_DYN`, machine x86_64, at
//! most `ELF_MIN_ALIGN` bytes of program headers. A `PT_INTERP` (a
//! dynamically linked program) is refused until there is a dynamic loader
//! to run. [`ElfImage::load_plan`] then says where each `PT_LOAD` goes,
//! with which protection, and where brk starts, refusing segments that lie
//! outside the file or the user address space or overlap each other.

use alloc::vec::Vec;
use linux_raw_sys::elf_uapi as e;

use crate::{page_down, page_up};

/// Why a file is not a loadable executable. The kernel answers `ENOEXEC`
/// for all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Not `\x7fELF`, or shorter than a header.
    BadMagic,
    /// Not ELFCLASS64, little-endian, version 1, x86_64.
    WrongArch,
    /// Neither `ET_EXEC` nor `ET_DYN`.
    BadType,
    /// Program headers of the wrong size, too many, or past the file.
    BadPhdrs,
    /// A `PT_INTERP`: a dynamically linked program.
    Interp,
    /// No `PT_LOAD`, or one that is malformed, outside the file or the
    /// address space, or overlapping another.
    BadSegment,
}

/// Size of the ELF64 header and of one program header.
pub const EHDR_SIZE: usize = 64;
pub const PHDR_SIZE: usize = 56;
/// Linux's cap on the program header table: one page (`ELF_MIN_ALIGN`).
pub const MAX_PHDRS_SIZE: usize = 4096;

/// One program header (Linux: `struct elf64_phdr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ProgramHeader {
    pub p_type: u32,
    pub p_flags: u32,
    pub p_offset: u64,
    pub p_vaddr: u64,
    pub p_filesz: u64,
    pub p_memsz: u64,
    pub p_align: u64,
}

/// A checked ELF64 executable (Linux: `struct elf64_hdr` plus its
/// program headers).
#[derive(Clone, Debug)]
pub struct ElfImage {
    pub e_type: u16,
    pub e_entry: u64,
    pub e_phoff: u64,
    pub e_phnum: u16,
    pub phdrs: Vec<ProgramHeader>,
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(off..off + 8)?.try_into().ok()?))
}

impl ProgramHeader {
    fn parse(b: &[u8]) -> Option<Self> {
        Some(Self {
            p_type: u32_at(b, 0)?,
            p_flags: u32_at(b, 4)?,
            p_offset: u64_at(b, 8)?,
            p_vaddr: u64_at(b, 16)?,
            p_filesz: u64_at(b, 32)?,
            p_memsz: u64_at(b, 40)?,
            p_align: u64_at(b, 48)?,
        })
    }
}

impl ElfImage {
    /// Checks the header and reads the program headers of `file`.
    pub fn parse(file: &[u8]) -> Result<Self, ElfError> {
        Self::parse_with(file, |off, size| {
            let start = usize::try_from(off).ok()?;
            file.get(start..start.checked_add(size)?).map(<[u8]>::to_vec)
        })
    }

    /// Checks the header at the start of `hdr` and reads the program
    /// headers through `read_at(offset, size)`, which gives `None` if the
    /// file is too short (Linux: `load_elf_binary`'s checks on the first
    /// bytes, then `load_elf_phdrs`' own read), so a loader need not read
    /// the whole file.
    pub fn parse_with(
        hdr: &[u8],
        read_at: impl FnOnce(u64, usize) -> Option<Vec<u8>>,
    ) -> Result<Self, ElfError> {
        let hdr = hdr.get(..EHDR_SIZE).ok_or(ElfError::BadMagic)?;
        if hdr[..4] != *b"\x7fELF" {
            return Err(ElfError::BadMagic);
        }
        let ident_ok = u32::from(hdr[4]) == e::ELFCLASS64
            && u32::from(hdr[5]) == e::ELFDATA2LSB
            && u32::from(hdr[6]) == e::EV_CURRENT;
        let machine = u16_at(hdr, 18).map(u32::from);
        if !ident_ok || machine != Some(e::EM_X86_64) {
            return Err(ElfError::WrongArch);
        }
        let e_type = u16_at(hdr, 16).ok_or(ElfError::BadMagic)?;
        if ![e::ET_EXEC, e::ET_DYN].contains(&u32::from(e_type)) {
            return Err(ElfError::BadType);
        }
        let e_entry = u64_at(hdr, 24).ok_or(ElfError::BadMagic)?;
        let e_phoff = u64_at(hdr, 32).ok_or(ElfError::BadMagic)?;
        let e_phentsize = u16_at(hdr, 54).ok_or(ElfError::BadMagic)?;
        let e_phnum = u16_at(hdr, 56).ok_or(ElfError::BadMagic)?;
        let phdrs = Self::read_phdrs(read_at, e_phoff, e_phentsize, e_phnum)?;
        if phdrs.iter().any(|p| p.p_type == e::PT_INTERP) {
            return Err(ElfError::Interp);
        }
        Ok(Self { e_type, e_entry, e_phoff, e_phnum, phdrs })
    }

    /// Linux: `load_elf_phdrs`.
    fn read_phdrs(
        read_at: impl FnOnce(u64, usize) -> Option<Vec<u8>>,
        off: u64,
        entsize: u16,
        num: u16,
    ) -> Result<Vec<ProgramHeader>, ElfError> {
        let size = usize::from(num) * PHDR_SIZE;
        if usize::from(entsize) != PHDR_SIZE || size == 0 || size > MAX_PHDRS_SIZE {
            return Err(ElfError::BadPhdrs);
        }
        let table = read_at(off, size).filter(|t| t.len() == size).ok_or(ElfError::BadPhdrs)?;
        table
            .chunks_exact(PHDR_SIZE)
            .map(|c| ProgramHeader::parse(c).ok_or(ElfError::BadPhdrs))
            .collect()
    }

    /// Whether `PT_GNU_STACK` asks for an executable stack (Linux:
    /// `EXSTACK_ENABLE_X`); without one, x86_64 defaults to not.
    pub fn executable_stack(&self) -> bool {
        self.phdrs
            .iter()
            .find(|p| p.p_type == e::PT_GNU_STACK)
            .is_some_and(|p| p.p_flags & e::PF_X != 0)
    }
}

/// Protection bits of a segment (Linux: `make_prot`), as `PF_*`.
pub const PF_X: u32 = e::PF_X;
pub const PF_W: u32 = e::PF_W;
pub const PF_R: u32 = e::PF_R;

/// Where one `PT_LOAD` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The page-aligned range to map, bias applied.
    pub map_start: u64,
    pub map_end: u64,
    /// Where the file bytes go, and which bytes: `file_offset..+file_len`.
    pub vaddr: u64,
    pub file_offset: u64,
    pub file_len: u64,
    /// Bytes in memory from `vaddr` (`p_memsz`): past `file_len`, zeros.
    pub mem_len: u64,
    /// `PF_R | PF_W | PF_X` bits.
    pub flags: u32,
}

/// What `load_elf_binary` does with a checked image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    /// Added to every address: 0 for `ET_EXEC`.
    pub load_bias: u64,
    pub entry: u64,
    pub segments: Vec<Segment>,
    /// `AT_PHDR`: where the program headers appear in memory, 0 if no
    /// segment loads them (as Linux 6.1).
    pub phdr_addr: u64,
    pub start_code: u64,
    pub end_code: u64,
    pub start_data: u64,
    pub end_data: u64,
    /// The page after the highest segment: where brk starts.
    pub start_brk: u64,
}

impl ElfImage {
    /// Places the segments: `ET_EXEC` where they say, `ET_DYN` at
    /// `dyn_base` (Linux: `ELF_ET_DYN_BASE`, aligned to the largest
    /// `p_align`). Every segment must lie in `[min_addr, task_size)`.
    pub fn load_plan(
        &self,
        file_len: u64,
        dyn_base: u64,
        min_addr: u64,
        task_size: u64,
    ) -> Result<LoadPlan, ElfError> {
        let mut loads: Vec<ProgramHeader> =
            self.phdrs.iter().filter(|p| p.p_type == e::PT_LOAD).copied().collect();
        loads.sort_by_key(|p| p.p_vaddr);
        let first = loads.first().ok_or(ElfError::BadSegment)?;
        let load_bias = if u32::from(self.e_type) == e::ET_DYN {
            let align =
                loads.iter().map(|p| p.p_align).filter(|a| a.is_power_of_two()).max().unwrap_or(1);
            let base = dyn_base & !(align.max(crate::PAGE_SIZE) - 1);
            page_down(base.wrapping_sub(page_down(first.p_vaddr)))
        } else {
            0
        };
        let mut plan = LoadPlan {
            load_bias,
            entry: self.e_entry.wrapping_add(load_bias),
            segments: Vec::new(),
            phdr_addr: 0,
            start_code: u64::MAX,
            end_code: 0,
            start_data: 0,
            end_data: 0,
            start_brk: 0,
        };
        let mut prev_end = 0;
        for p in &loads {
            let seg = Self::place(p, load_bias, file_len, min_addr, task_size)?;
            if seg.vaddr < prev_end {
                return Err(ElfError::BadSegment);
            }
            prev_end = seg.vaddr + p.p_memsz;
            self.account(&mut plan, p, &seg);
            plan.segments.push(seg);
        }
        if plan.start_code == u64::MAX {
            plan.start_code = 0;
        }
        Ok(plan)
    }

    /// Checks one `PT_LOAD` and places it (Linux: the checks before
    /// `elf_map` in `load_elf_binary`).
    fn place(
        p: &ProgramHeader,
        bias: u64,
        file_len: u64,
        min_addr: u64,
        task_size: u64,
    ) -> Result<Segment, ElfError> {
        let bad = ElfError::BadSegment;
        let in_file = p.p_offset.checked_add(p.p_filesz).is_some_and(|end| end <= file_len);
        // The file offset and address must agree within a page, as mmap needs.
        let congruent = p.p_offset % crate::PAGE_SIZE == p.p_vaddr % crate::PAGE_SIZE;
        if p.p_filesz > p.p_memsz || !in_file || !congruent || p.p_memsz == 0 {
            return Err(bad);
        }
        let vaddr = p.p_vaddr.checked_add(bias).ok_or(bad)?;
        let end = vaddr.checked_add(p.p_memsz).filter(|&end| end <= task_size).ok_or(bad)?;
        let map_start = page_down(vaddr);
        if map_start < min_addr {
            return Err(bad);
        }
        let map_end = page_up(end).ok_or(bad)?;
        Ok(Segment {
            map_start,
            map_end,
            vaddr,
            file_offset: p.p_offset,
            file_len: p.p_filesz,
            mem_len: p.p_memsz,
            flags: p.p_flags,
        })
    }

    /// The `mm` layout fields Linux derives while mapping segments.
    fn account(&self, plan: &mut LoadPlan, p: &ProgramHeader, seg: &Segment) {
        if p.p_offset <= self.e_phoff && self.e_phoff < p.p_offset + p.p_filesz {
            plan.phdr_addr = self.e_phoff - p.p_offset + seg.vaddr;
        }
        let exec = p.p_flags & e::PF_X != 0;
        if exec {
            plan.start_code = plan.start_code.min(seg.vaddr);
        }
        plan.start_data = plan.start_data.max(seg.vaddr);
        let file_end = seg.vaddr + p.p_filesz;
        if exec {
            plan.end_code = plan.end_code.max(file_end);
        }
        plan.end_data = plan.end_data.max(file_end);
        plan.start_brk = plan.start_brk.max(seg.map_end);
    }
}

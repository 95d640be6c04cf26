//! The parts of an ELF64 relocatable object a module loader reads: the
//! header, the section table, the symbol table and RELA entries.
//!
//! Linux: kernel/module/main.c `elf_validity_check` (the header and every
//! section checked against the file before anything is used),
//! include/uapi/linux/elf.h (the layouts).
//!
//! Every accessor bounds-checks against the file; nothing is trusted.

use crate::{Error, Result};

const EHDR_SIZE: usize = 64;
const SHDR_SIZE: usize = 64;
const SYM_SIZE: usize = 24;
const RELA_SIZE: usize = 24;

const ET_REL: u16 = 1;
const EM_X86_64: u16 = 62;

pub const SHT_SYMTAB: u32 = 2;
pub const SHT_RELA: u32 = 4;
pub const SHT_NOBITS: u32 = 8;
pub const SHT_REL: u32 = 9;

pub const SHF_WRITE: u64 = 0x1;
pub const SHF_ALLOC: u64 = 0x2;
pub const SHF_EXECINSTR: u64 = 0x4;

pub const SHN_UNDEF: u16 = 0;
pub const SHN_LORESERVE: u16 = 0xff00;
pub const SHN_ABS: u16 = 0xfff1;
pub const SHN_COMMON: u16 = 0xfff2;

pub const STB_WEAK: u8 = 2;

pub const STT_OBJECT: u8 = 1;
pub const STT_FUNC: u8 = 2;

pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

fn usize_of(v: u64, what: &'static str) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::Malformed(what))
}

/// One section header (Linux: `Elf64_Shdr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    pub name: u32,
    pub kind: u32,
    pub flags: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
    pub info: u32,
    pub align: u64,
    pub entsize: u64,
}

impl Section {
    pub fn is_alloc(&self) -> bool {
        self.flags & SHF_ALLOC != 0
    }
}

/// One symbol (Linux: `Elf64_Sym`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: u32,
    pub info: u8,
    pub shndx: u16,
    pub value: u64,
    pub size: u64,
}

impl Symbol {
    pub fn bind(&self) -> u8 {
        self.info >> 4
    }

    pub fn kind(&self) -> u8 {
        self.info & 0xf
    }
}

/// One relocation with addend (Linux: `Elf64_Rela`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rela {
    pub offset: u64,
    pub sym: u32,
    pub kind: u32,
    pub addend: i64,
}

/// A checked ELF64 x86_64 relocatable object.
#[derive(Debug)]
pub struct Elf<'a> {
    bytes: &'a [u8],
    sections: alloc::vec::Vec<Section>,
    shstrndx: usize,
}

impl<'a> Elf<'a> {
    /// Checks the header and every section header against the file
    /// (Linux: `elf_validity_check`).
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let head = bytes.get(..EHDR_SIZE).ok_or(Error::NotElf)?;
        // Magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT.
        if head[..7] != [0x7f, b'E', b'L', b'F', 2, 1, 1] {
            return Err(Error::NotElf);
        }
        if u16_at(head, 16) != Some(ET_REL) || u16_at(head, 18) != Some(EM_X86_64) {
            return Err(Error::NotElf);
        }
        let shoff = usize_of(u64_at(head, 40).unwrap_or(0), "e_shoff")?;
        let shentsize = usize::from(u16_at(head, 58).unwrap_or(0));
        let shnum = usize::from(u16_at(head, 60).unwrap_or(0));
        let shstrndx = usize::from(u16_at(head, 62).unwrap_or(0));
        if shentsize != SHDR_SIZE || shnum == 0 || shstrndx >= shnum {
            return Err(Error::Malformed("section header table"));
        }
        let table_len = shnum.checked_mul(SHDR_SIZE).ok_or(Error::Malformed("e_shnum"))?;
        let end = shoff.checked_add(table_len).ok_or(Error::Malformed("e_shoff"))?;
        let table = bytes.get(shoff..end).ok_or(Error::Malformed("section headers past EOF"))?;
        let mut sections = alloc::vec::Vec::new();
        sections.try_reserve_exact(shnum).map_err(|_| Error::Malformed("too many sections"))?;
        for raw in table.chunks_exact(SHDR_SIZE) {
            let s = Section {
                name: u32_at(raw, 0).unwrap_or(0),
                kind: u32_at(raw, 4).unwrap_or(0),
                flags: u64_at(raw, 8).unwrap_or(0),
                offset: u64_at(raw, 24).unwrap_or(0),
                size: u64_at(raw, 32).unwrap_or(0),
                link: u32_at(raw, 40).unwrap_or(0),
                info: u32_at(raw, 44).unwrap_or(0),
                align: u64_at(raw, 48).unwrap_or(0),
                entsize: u64_at(raw, 56).unwrap_or(0),
            };
            // Sections with contents must lie inside the file.
            if s.kind != SHT_NOBITS && s.kind != 0 {
                let end = s.offset.checked_add(s.size).ok_or(Error::Malformed("section size"))?;
                if end > bytes.len() as u64 {
                    return Err(Error::Malformed("section past EOF"));
                }
            }
            if s.align > 1 && !s.align.is_power_of_two() {
                return Err(Error::Malformed("section alignment"));
            }
            sections.push(s);
        }
        Ok(Self { bytes, sections, shstrndx })
    }

    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The contents of section `index` (empty for `SHT_NOBITS`).
    pub fn data(&self, index: usize) -> Result<&'a [u8]> {
        let s = self.sections.get(index).ok_or(Error::Malformed("section index"))?;
        if s.kind == SHT_NOBITS {
            return Ok(&[]);
        }
        let start = usize_of(s.offset, "sh_offset")?;
        let end =
            start.checked_add(usize_of(s.size, "sh_size")?).ok_or(Error::Malformed("sh_size"))?;
        self.bytes.get(start..end).ok_or(Error::Malformed("section past EOF"))
    }

    /// The NUL-terminated string at `offset` of string table `index`.
    pub fn str_at(&self, index: usize, offset: u32) -> Result<&'a [u8]> {
        let table = self.data(index)?;
        let rest = table.get(offset as usize..).ok_or(Error::Malformed("string offset"))?;
        let len =
            rest.iter().position(|&b| b == 0).ok_or(Error::Malformed("unterminated string"))?;
        Ok(&rest[..len])
    }

    /// Section `index`'s name.
    pub fn section_name(&self, index: usize) -> Result<&'a [u8]> {
        let s = self.sections.get(index).ok_or(Error::Malformed("section index"))?;
        self.str_at(self.shstrndx, s.name)
    }

    /// The index of the section called `name`, if any.
    pub fn find_section(&self, name: &[u8]) -> Option<usize> {
        (0..self.sections.len()).find(|&i| self.section_name(i).ok() == Some(name))
    }

    /// The single `SHT_SYMTAB` section (Linux: "module has no symbols
    /// (stripped?)" without one).
    pub fn symtab(&self) -> Result<usize> {
        let mut it = self.sections.iter().enumerate().filter(|(_, s)| s.kind == SHT_SYMTAB);
        let (i, s) = it.next().ok_or(Error::Malformed("no symbol table"))?;
        if it.next().is_some() || s.link as usize >= self.sections.len() {
            return Err(Error::Malformed("symbol table"));
        }
        Ok(i)
    }

    /// Number of symbols in symbol table `index`.
    pub fn symbol_count(&self, index: usize) -> Result<usize> {
        Ok(self.data(index)?.len() / SYM_SIZE)
    }

    /// Symbol `n` of symbol table `index`.
    pub fn symbol(&self, index: usize, n: usize) -> Result<Symbol> {
        let table = self.data(index)?;
        let at = n.checked_mul(SYM_SIZE).ok_or(Error::Malformed("symbol index"))?;
        let raw =
            table.get(at..at.saturating_add(SYM_SIZE)).ok_or(Error::Malformed("symbol index"))?;
        Ok(Symbol {
            name: u32_at(raw, 0).unwrap_or(0),
            info: raw[4],
            shndx: u16_at(raw, 6).unwrap_or(0),
            value: u64_at(raw, 8).unwrap_or(0),
            size: u64_at(raw, 16).unwrap_or(0),
        })
    }

    /// The name of symbol `sym` of symbol table `index`.
    pub fn symbol_name(&self, index: usize, sym: &Symbol) -> Result<&'a [u8]> {
        let link = self.sections.get(index).ok_or(Error::Malformed("symtab"))?.link;
        self.str_at(link as usize, sym.name)
    }

    /// The entries of RELA section `index`.
    pub fn relas(&self, index: usize) -> Result<impl Iterator<Item = Rela> + 'a> {
        let data = self.data(index)?;
        Ok(data.chunks_exact(RELA_SIZE).map(|raw| {
            let info = u64_at(raw, 8).unwrap_or(0);
            Rela {
                offset: u64_at(raw, 0).unwrap_or(0),
                sym: (info >> 32) as u32,
                kind: (info & 0xffff_ffff) as u32,
                addend: u64_at(raw, 16).unwrap_or(0) as i64,
            }
        }))
    }
}

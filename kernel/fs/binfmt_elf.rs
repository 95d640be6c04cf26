//! Loading a static ELF64 program into a fresh address space.
//!
//! Linux: fs/binfmt_elf.c (`load_elf_binary`, `load_elf_phdrs`,
//! `elf_map`, `set_brk`, `padzero`).
//!
//! The checks and the placement of segments are `binfmt::elf`'s
//! (host-tested with malformed files). Only the header page (which exec
//! read for the `#!` check) and the program headers are read; each
//! `PT_LOAD` then becomes a private mapping of the file itself (`elf_map`),
//! so text pages are the page cache's, shared by every process running
//! the program, and a data page is copied on its first write. Past the
//! file bytes of a segment, the rest of the last file page is zeroed
//! (`padzero`: a write, so that page becomes a private copy) and the
//! pages after it are anonymous memory (`set_brk`), as Linux does.
//! Dynamically linked programs (`PT_INTERP`) are refused with `ENOEXEC`
//! until there is a dynamic loader to start.
//!
//! The caller (execve) opens the file, makes a new `Mm`, calls
//! [`load_elf_binary`], and only then, past the point of no return,
//! installs the mm in the task and starts it at `entry` with
//! `rsp = stack_pointer`.
//!
//! # Locking
//! None of its own; `mm` is not yet visible to any task.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use binfmt::elf::{ElfImage, PF_R, PF_W, PF_X, PHDR_SIZE, Segment};
use binfmt::stack::AuxvValues;

use crate::fs::exec_stack::{USER_HZ, bprm_stack_limits, elf_hwcap, setup_arg_pages};
use crate::fs::file_table::File;
use crate::fs::read_write::vfs_pread;
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, page_align};
use crate::mm::mm_types::{ELF_ET_DYN_BASE, MMAP_MIN_ADDR, Mm, TASK_SIZE};
use crate::mm::mmap::{MapFlags, Prot, do_mmap, do_mmap_pgoff};
use crate::mm::slab_common::kzalloc;

const PAGE: u64 = PAGE_SIZE as u64;

/// Where a loaded program starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfLoadInfo {
    /// The first instruction (`AT_ENTRY`).
    pub entry: u64,
    /// The initial `rsp`, pointing at argc.
    pub stack_pointer: u64,
    /// Added to every address of a static-PIE program; 0 for `ET_EXEC`.
    pub load_bias: u64,
    /// Where brk starts.
    pub start_brk: u64,
}

/// Reads `size` bytes at `off` of `file`; `None` if it is shorter
/// (Linux: `elf_read`).
fn elf_read(file: &File, off: u64, size: usize) -> Option<Vec<u8>> {
    let mut buf = kzalloc(size).ok()?;
    let mut done = 0;
    while done < size {
        let at = i64::try_from(off.checked_add(done as u64)?).ok()?;
        match vfs_pread(file, &mut buf[done..], at) {
            Ok(0) | Err(_) => return None,
            Ok(n) => done += n,
        }
    }
    Some(buf)
}

/// Loads the ELF program `file`, whose first bytes are `hdr`, into the
/// empty `mm` with its arguments (Linux: `load_elf_binary`). `ENOEXEC`
/// for anything that is not a static x86_64 ELF64 program, `E2BIG` for
/// arguments over Linux's limits, `ENOMEM` when memory runs out.
pub fn load_elf_binary(
    file: &Arc<File>,
    hdr: &[u8],
    mm: &Mm,
    argv: &[&[u8]],
    envp: &[&[u8]],
    execfn: &[u8],
) -> KResult<ElfLoadInfo> {
    let elf = ElfImage::parse_with(hdr, |off, size| elf_read(file, off, size))
        .map_err(|_| Errno::ENOEXEC)?;
    bprm_stack_limits(argv, envp, execfn)?;
    let plan = elf
        .load_plan(file.f_inode.size(), ELF_ET_DYN_BASE, MMAP_MIN_ADDR, TASK_SIZE)
        .map_err(|_| Errno::ENOEXEC)?;
    for (i, seg) in plan.segments.iter().enumerate() {
        let next = plan.segments.get(i + 1).map_or(u64::MAX, |n| n.vaddr);
        elf_map(mm, file, seg, next)?;
    }
    {
        let mut layout = mm.mmap_write();
        layout.start_code = plan.start_code;
        layout.end_code = plan.end_code;
        layout.start_data = plan.start_data;
        layout.end_data = plan.end_data;
        layout.start_brk = plan.start_brk;
        layout.brk = plan.start_brk;
    }
    let aux = AuxvValues {
        hwcap: elf_hwcap(),
        clktck: USER_HZ,
        phdr: plan.phdr_addr,
        phent: PHDR_SIZE as u64,
        phnum: u64::from(elf.e_phnum),
        entry: plan.entry,
        ..AuxvValues::default()
    };
    let sp = setup_arg_pages(mm, elf.executable_stack(), argv, envp, execfn, &aux)?;
    Ok(ElfLoadInfo {
        entry: plan.entry,
        stack_pointer: sp,
        load_bias: plan.load_bias,
        start_brk: plan.start_brk,
    })
}

/// Maps one segment: its file pages privately (Linux: `elf_map`), then
/// zeroes what follows the file bytes in their last page up to `next`,
/// where the next segment starts (`padzero`), and maps the remaining
/// pages anonymously (`set_brk` for the bss).
fn elf_map(mm: &Mm, file: &Arc<File>, seg: &Segment, next: u64) -> KResult<()> {
    let prot = make_prot(seg.flags);
    let fixed = MapFlags::PRIVATE | MapFlags::FIXED;
    let file_end = seg.vaddr + seg.file_len;
    let mut anon_start = seg.map_start;
    if seg.file_len > 0 {
        let map_end = page_align(file_end).ok_or(Errno::ENOEXEC)?;
        let pgoff = seg.file_offset / PAGE;
        do_mmap_pgoff(mm, Some(file), seg.map_start, map_end - seg.map_start, prot, fixed, pgoff)?;
        anon_start = map_end;
        let pad = map_end.min(next).saturating_sub(file_end);
        if seg.mem_len > seg.file_len && pad > 0 {
            let zeros = kzalloc(usize::try_from(pad).map_err(|_| Errno::ENOEXEC)?)?;
            mm.write_remote(file_end, &zeros)?;
        }
    }
    if seg.map_end > anon_start {
        let anon = fixed | MapFlags::ANONYMOUS;
        do_mmap(mm, anon_start, seg.map_end - anon_start, prot, anon, 0)?;
    }
    Ok(())
}

/// The `mmap` protection of a segment's `PF_*` flags (Linux: `make_prot`).
fn make_prot(p_flags: u32) -> Prot {
    let mut prot = Prot::empty();
    prot.set(Prot::READ, p_flags & PF_R != 0);
    prot.set(Prot::WRITE, p_flags & PF_W != 0);
    prot.set(Prot::EXEC, p_flags & PF_X != 0);
    prot
}

/// A two-segment static program built by hand: text (R-X) at 0x400000
/// holding `mov eax, 60; syscall`, data (RW-) at 0x401000 with 8 file
/// bytes and a bss page after them.
fn tiny_elf() -> alloc::vec::Vec<u8> {
    let mut f = alloc::vec![0u8; 0x1010];
    let put = |f: &mut [u8], off: usize, b: &[u8]| f[off..off + b.len()].copy_from_slice(b);
    put(&mut f, 0, b"\x7fELF\x02\x01\x01");
    put(&mut f, 16, &2u16.to_le_bytes());
    put(&mut f, 18, &62u16.to_le_bytes());
    put(&mut f, 20, &1u32.to_le_bytes());
    put(&mut f, 24, &0x4000b0u64.to_le_bytes());
    put(&mut f, 32, &64u64.to_le_bytes());
    put(&mut f, 52, &64u16.to_le_bytes());
    put(&mut f, 54, &56u16.to_le_bytes());
    put(&mut f, 56, &2u16.to_le_bytes());
    let phdrs: [(u32, u64, u64, u64, u64); 2] =
        [(5, 0, 0x400000, 0xc0, 0xc0), (6, 0x1000, 0x401000, 8, 0x1800)];
    for (i, (flags, off, va, filesz, memsz)) in phdrs.into_iter().enumerate() {
        let p = 64 + 56 * i;
        put(&mut f, p, &1u32.to_le_bytes());
        put(&mut f, p + 4, &flags.to_le_bytes());
        put(&mut f, p + 8, &off.to_le_bytes());
        put(&mut f, p + 16, &va.to_le_bytes());
        put(&mut f, p + 32, &filesz.to_le_bytes());
        put(&mut f, p + 40, &memsz.to_le_bytes());
        put(&mut f, p + 48, &0x1000u64.to_le_bytes());
    }
    put(&mut f, 0xb0, b"\xb8\x3c\x00\x00\x00\x0f\x05");
    put(&mut f, 0x1000, b"DATA1234");
    f
}

/// Writes `image` to a file of a scratch tmpfs and loads it into `mm`.
fn load_image(
    s: &crate::fs::tests::Scratch,
    image: &[u8],
    mm: &Mm,
    argv: &[&[u8]],
    envp: &[&[u8]],
) -> KResult<ElfLoadInfo> {
    use linux_raw_sys::general::{AT_FDCWD, O_CREAT, O_RDWR, O_TRUNC};
    let fd = crate::fs::open::do_sys_open(
        s.ctx(),
        AT_FDCWD,
        b"prog",
        O_CREAT | O_RDWR | O_TRUNC,
        0o755,
    )?;
    let file = s.files.get(fd)?;
    s.files.close(fd)?;
    if crate::fs::read_write::vfs_write(&file, image)? != image.len() {
        return Err(Errno::EIO);
    }
    load_elf_binary(&file, &image[..image.len().min(PAGE_SIZE)], mm, argv, envp, argv[0])
}

/// The frame mapped at `addr`, if any.
fn pfn_at(mm: &Mm, addr: u64) -> Option<crate::mm::addr::Pfn> {
    let pte = mm.page_table().get_pte(crate::mm::addr::VirtAddr::new(addr));
    pte.is_present().then(|| pte.pfn())
}

fn read_u64(mm: &Mm, addr: u64) -> Result<u64, &'static str> {
    let mut b = [0u8; 8];
    mm.read_remote(addr, &mut b).map_err(|_| "read_remote")?;
    Ok(u64::from_le_bytes(b))
}

crate::ktest!(binfmt_elf_loads_static_program, {
    use linux_raw_sys::auxvec::{AT_ENTRY, AT_EXECFN, AT_NULL, AT_PAGESZ, AT_PHDR, AT_RANDOM};
    let s = crate::fs::tests::Scratch::new()?;
    let mm = Mm::new().map_err(|_| "Mm::new")?;
    let argv: [&[u8]; 2] = [b"/bin/tiny", b"-v"];
    let envp: [&[u8]; 1] = [b"HOME=/"];
    let info = load_image(&s, &tiny_elf(), &mm, &argv, &envp).map_err(|_| "load")?;
    crate::kassert!(info.entry == 0x4000b0 && info.load_bias == 0, "entry of an ET_EXEC");
    crate::kassert!(info.start_brk == 0x403000 && mm.mmap_read().brk == 0x403000, "brk after bss");
    let mut code = [0u8; 7];
    mm.read_remote(0x4000b0, &mut code).map_err(|_| "read code")?;
    crate::kassert!(code == *b"\xb8\x3c\x00\x00\x00\x0f\x05", "text copied from the file");
    crate::kassert!(read_u64(&mm, 0x401000)? == u64::from_le_bytes(*b"DATA1234"), "data copied");
    crate::kassert!(read_u64(&mm, 0x401008)? == 0 && read_u64(&mm, 0x402ff8)? == 0, "bss is zero");
    {
        let layout = mm.mmap_read();
        let text = layout.vmas.lookup(0x400000).ok_or("text vma")?;
        let rx = crate::mm::vma::VmFlags::READ | crate::mm::vma::VmFlags::EXEC;
        crate::kassert!(text.flags & crate::mm::vma::VmFlags::ACCESS == rx, "text is r-x");
        let cache = crate::mm::filemap::vma_mapping(text).ok_or("text maps the file")?;
        let page0 = cache.lock().find_page(0);
        crate::kassert!(
            page0.is_some() && pfn_at(&mm, 0x400000) == page0,
            "text is the cached page"
        );
        let data = layout.vmas.lookup(0x401000).ok_or("data vma")?;
        crate::kassert!(data.file.is_some() && data.pgoff == 1, "data maps file page 1");
        let page1 = cache.lock().find_page(1);
        crate::kassert!(page1.is_some() && pfn_at(&mm, 0x401000) != page1, "padzero copied it");
        let bss = layout.vmas.lookup(0x402000).ok_or("bss vma")?;
        crate::kassert!(bss.is_anonymous() && bss.start == 0x402000, "bss is anonymous");
    }
    let sp = info.stack_pointer;
    crate::kassert!(sp % 16 == 0, "rsp is 16-byte aligned");
    crate::kassert!(read_u64(&mm, sp)? == 2, "argc");
    let mut name = [0u8; 10];
    mm.read_remote(read_u64(&mm, sp + 8)?, &mut name).map_err(|_| "argv[0]")?;
    crate::kassert!(name == *b"/bin/tiny\0", "argv[0]");
    crate::kassert!(
        read_u64(&mm, sp + 24)? == 0 && read_u64(&mm, sp + 40)? == 0,
        "NULL terminators"
    );
    let (mut at, mut seen) = (sp + 48, 0);
    loop {
        let (key, val) = (read_u64(&mm, at)?, read_u64(&mm, at + 8)?);
        match u32::try_from(key).unwrap_or(u32::MAX) {
            AT_NULL => break,
            AT_ENTRY if val == 0x4000b0 => seen |= 1,
            AT_PAGESZ if val == 4096 => seen |= 2,
            AT_PHDR if val == 0x400040 => seen |= 4,
            AT_RANDOM if val > sp => seen |= 8,
            AT_EXECFN if val > sp => seen |= 16,
            _ => {}
        }
        at += 16;
    }
    crate::kassert!(seen == 31, "auxv has AT_ENTRY, AT_PAGESZ, AT_PHDR, AT_RANDOM, AT_EXECFN");
    Ok(())
});

crate::ktest!(binfmt_elf_loads_static_pie, {
    let s = crate::fs::tests::Scratch::new()?;
    let mut image = tiny_elf();
    image[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
    let mm = Mm::new().map_err(|_| "Mm::new")?;
    let info = load_image(&s, &image, &mm, &[b"/pie"], &[]).map_err(|_| "load")?;
    let bias = ELF_ET_DYN_BASE - 0x400000;
    crate::kassert!(
        info.load_bias == bias && info.entry == 0x4000b0 + bias,
        "loaded at ELF_ET_DYN_BASE"
    );
    let mut code = [0u8; 7];
    mm.read_remote(info.entry, &mut code).map_err(|_| "read code")?;
    crate::kassert!(code == *b"\xb8\x3c\x00\x00\x00\x0f\x05", "text mapped from the file");
    crate::kassert!(read_u64(&mm, 0x401000 + bias)? == u64::from_le_bytes(*b"DATA1234"), "data");
    crate::kassert!(read_u64(&mm, 0x401008 + bias)? == 0, "bss after the data is zero");
    Ok(())
});

crate::ktest!(binfmt_elf_refuses_malformed_files, {
    let good = tiny_elf();
    let s = crate::fs::tests::Scratch::new()?;
    let load = |f: &[u8]| -> KResult<ElfLoadInfo> {
        let mm = Mm::new()?;
        load_image(&s, f, &mm, &[b"x"], &[])
    };
    for cut in [0, 4, 63, 64, 100, 0xbf, 0x1004] {
        crate::kassert!(load(&good[..cut]) == Err(Errno::ENOEXEC), "a truncated file");
    }
    // Corrupt every header byte in turn with a few values: any answer but
    // a panic is acceptable.
    let mut f = good.clone();
    for i in 0..176 {
        for v in [0u8, 0x80, 0xff] {
            let old = f[i];
            f[i] = v;
            let _ = load(&f);
            f[i] = old;
        }
    }
    let mut interp = good.clone();
    interp[64..68].copy_from_slice(&3u32.to_le_bytes());
    crate::kassert!(
        load(&interp) == Err(Errno::ENOEXEC),
        "PT_INTERP: dynamic programs are refused"
    );
    let huge: &[u8] = &alloc::vec![b'a'; 32 * 4096];
    let mm = Mm::new().map_err(|_| "Mm::new")?;
    crate::kassert!(load_image(&s, &good, &mm, &[huge], &[]) == Err(Errno::E2BIG), "E2BIG");
    Ok(())
});

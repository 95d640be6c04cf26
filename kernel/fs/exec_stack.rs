//! The new program's stack: its VMA, and argv, envp and the auxiliary
//! vector written into it.
//!
//! Linux: fs/exec.c (`setup_arg_pages`, `bprm_stack_limits`),
//! fs/binfmt_elf.c (`create_elf_tables`), arch/x86/include/asm/elf.h
//! (`ELF_HWCAP`, `ELF_PLATFORM`).
//!
//! The byte layout is computed by `binfmt::stack` (host-tested); here it
//! is placed: a `VM_GROWSDOWN` VMA ending at `STACK_TOP`, as large as the
//! arguments plus Linux's 128 KiB of room, whose pages beyond the argument
//! area are only allocated when touched.
//!
//! # Locking
//! The mm is a new one that no task runs on yet; the mm calls take its
//! locks.
#![deny(unsafe_code)]

use binfmt::stack::{AuxvValues, check_arg_limits, create_elf_tables};

use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::PAGE_SIZE;
use crate::mm::mm_types::{Mm, RLIMIT_STACK, STACK_TOP};
use crate::mm::mmap::{MapFlags, Prot, do_mmap};

/// Room below the arguments that the stack VMA starts with (Linux:
/// `stack_expand` in `setup_arg_pages`).
pub const STACK_EXPAND: u64 = 128 << 10;
/// Linux: `ELF_PLATFORM` on x86_64.
const ELF_PLATFORM: &[u8] = b"x86_64";
/// `AT_CLKTCK`: the USER_HZ of `times(2)` (Linux: `CLOCKS_PER_SEC`).
pub const USER_HZ: u64 = 100;

/// Linux: `ELF_HWCAP`, CPUID leaf 1's EDX feature word.
pub fn elf_hwcap() -> u64 {
    u64::from(raw_cpuid::cpuid!(1).edx)
}

/// `E2BIG` unless argv and envp fit Linux's limits for the default 8 MiB
/// stack rlimit. Exec checks this before it gives up the old program.
pub fn bprm_stack_limits(argv: &[&[u8]], envp: &[&[u8]], execfn: &[u8]) -> KResult<()> {
    check_arg_limits(argv, envp, execfn, RLIMIT_STACK).map_err(|_| Errno::E2BIG)
}

/// Maps the stack and writes the argument area and tables into it;
/// returns the initial stack pointer (Linux: `setup_arg_pages` then
/// `create_elf_tables`).
pub fn setup_arg_pages(
    mm: &Mm,
    executable_stack: bool,
    argv: &[&[u8]],
    envp: &[&[u8]],
    execfn: &[u8],
    aux: &AuxvValues,
) -> KResult<u64> {
    bprm_stack_limits(argv, envp, execfn)?;
    let mut random = [0u8; 16];
    crate::drivers::char::random::get_random_bytes(&mut random);
    let image = create_elf_tables(STACK_TOP, argv, envp, execfn, ELF_PLATFORM, &random, aux)
        .map_err(|_| Errno::E2BIG)?;
    let page = PAGE_SIZE as u64;
    let used = STACK_TOP - (image.sp & !(page - 1));
    let size = (used + STACK_EXPAND).min(RLIMIT_STACK & !(page - 1)).max(used);
    let mut prot = Prot::READ | Prot::WRITE;
    if executable_stack {
        prot |= Prot::EXEC;
    }
    let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED | MapFlags::GROWSDOWN;
    do_mmap(mm, STACK_TOP - size, size, prot, flags, 0)?;
    mm.write_remote(image.sp, &image.bytes)?;
    let mut layout = mm.mmap_write();
    layout.start_stack = image.arg_start;
    layout.arg_start = image.arg_start;
    layout.arg_end = image.arg_end;
    layout.env_start = image.env_start;
    layout.env_end = image.env_end;
    layout.saved_auxv = image.auxv;
    Ok(image.sp)
}

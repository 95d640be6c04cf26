//! Executable formats, as pure computations the kernel then carries out:
//! which ELF64 files are acceptable and where their segments go
//! ([`elf`]), what a `#!` line asks for ([`script`]), and the bytes of the
//! initial user stack with argv, envp and the auxiliary vector
//! ([`stack`]).
//!
//! Linux: fs/binfmt_elf.c, fs/binfmt_script.c, fs/exec.c.
//!
//! Nothing here touches memory or page tables: the kernel's
//! `fs::binfmt_elf` maps what [`elf::ElfImage::load_plan`] describes and
//! copies in what [`stack::create_elf_tables`] builds. Every input comes
//! from a user's file or arguments, so every parse is bounds-checked and
//! the property tests feed random bytes. No locking: plain values.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod elf;
pub mod script;
pub mod stack;

/// The page size the formats are laid out for (Linux: `ELF_MIN_ALIGN`,
/// `ELF_EXEC_PAGESIZE` on x86_64).
pub const PAGE_SIZE: u64 = 4096;

pub(crate) const fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

pub(crate) fn page_up(x: u64) -> Option<u64> {
    Some(x.checked_add(PAGE_SIZE - 1)? & !(PAGE_SIZE - 1))
}

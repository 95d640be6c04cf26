//! The kernel image's sections, as the linker script lays them out.
//!
//! Linux: include/asm-generic/sections.h.

use crate::kernel::ktest::KTest;

// Only the addresses of these symbols are used; nothing crosses into C,
// so the Rust layout of `KTest` (with its `&str`s) is fine.
#[allow(improper_ctypes)]
unsafe extern "C" {
    static __ktest_start: KTest;
    static __ktest_end: KTest;
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __bss_start: u8;
    static __bss_end: u8;
    static __kernel_start: u8;
    static __kernel_end: u8;
}

/// The self-tests that `ktest!` placed in the `.ktest` section.
pub fn ktests() -> &'static [KTest] {
    let start = &raw const __ktest_start;
    let end = &raw const __ktest_end;
    let len = (end as usize - start as usize) / size_of::<KTest>();
    // SAFETY:
    // 1. The linker script puts `__ktest_start` and `__ktest_end` around the
    //    `.ktest` section, 8-aligned, and `ktest!` puts only `KTest` statics
    //    there, so the range is an array of `len` initialised `KTest`s.
    // 2. The section is read-only and lives as long as the kernel.
    unsafe { core::slice::from_raw_parts(start, len) }
}

/// A range of the kernel image's virtual addresses.
#[derive(Clone, Copy, Debug)]
pub struct Section {
    pub start: u64,
    pub end: u64,
}

/// The kernel image: text, rodata (with ktests, notes, kallsyms), data+bss.
pub fn text() -> Section {
    Section { start: (&raw const __text_start) as u64, end: (&raw const __text_end) as u64 }
}

pub fn rodata() -> Section {
    Section { start: (&raw const __rodata_start) as u64, end: (&raw const __rodata_end) as u64 }
}

/// Data and bss together: both are read-write and never executed.
pub fn data() -> Section {
    Section { start: (&raw const __data_start) as u64, end: (&raw const __bss_end) as u64 }
}

pub fn bss() -> Section {
    Section { start: (&raw const __bss_start) as u64, end: (&raw const __bss_end) as u64 }
}

/// The whole image, from the first text byte to the end of bss.
pub fn kernel_image() -> Section {
    Section { start: (&raw const __kernel_start) as u64, end: (&raw const __kernel_end) as u64 }
}

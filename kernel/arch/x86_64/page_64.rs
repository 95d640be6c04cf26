//! Clearing and copying whole 4 KiB pages.
//!
//! Linux: arch/x86/lib/clear_page_64.S (`clear_page_orig`),
//! arch/x86/lib/copy_page_64.S (`copy_page_regs`),
//! arch/x86/include/asm/page_64.h.
//!
//! Linux chooses among three `clear_page`s by CPU feature at boot (`rep
//! stosb` with ERMS, `rep stosq`, and an unrolled loop of `movq`); Ferrite
//! always uses the unrolled loop, and the same for `copy_page`. The reason
//! is the machine we run on: under QEMU's TCG a `rep` string instruction
//! runs one iteration per dispatch of its translated block, so `rep stosq`
//! over a page is 512 dispatches where the loop is 64 of eight stores each.
//! On hardware the variants are within a few percent of each other for one
//! page. `core::ptr::write_bytes` and `copy_nonoverlapping` become the
//! `rep` forms (compiler_builtins' x86_64 `memset`/`memcpy`).
//!
//! # Locking
//! None: the caller owns the destination page.

use core::arch::asm;

use crate::mm::addr::PAGE_SIZE;

/// Bytes per loop iteration: eight 8-byte moves.
const CHUNK: usize = 64;

/// Fills the 4 KiB page at `page` with zeros.
///
/// # Safety
/// `page` is 8-byte aligned and valid for writes of `PAGE_SIZE` bytes that
/// nothing else accesses meanwhile.
pub unsafe fn clear_page(page: *mut u8) {
    // SAFETY: the caller's contract: PAGE_SIZE writable bytes at `page`;
    // the loop writes exactly those (PAGE_SIZE / CHUNK iterations of
    // CHUNK bytes), touches no stack and leaves the flags clobbered only.
    unsafe {
        asm!(
            "2:",
            "mov qword ptr [{p}], {zero}",
            "mov qword ptr [{p} + 8], {zero}",
            "mov qword ptr [{p} + 16], {zero}",
            "mov qword ptr [{p} + 24], {zero}",
            "mov qword ptr [{p} + 32], {zero}",
            "mov qword ptr [{p} + 40], {zero}",
            "mov qword ptr [{p} + 48], {zero}",
            "mov qword ptr [{p} + 56], {zero}",
            "add {p}, 64",
            "dec {n}",
            "jnz 2b",
            p = inout(reg) page => _,
            n = inout(reg) PAGE_SIZE / CHUNK => _,
            zero = in(reg) 0u64,
            options(nostack),
        );
    }
}

/// Copies the 4 KiB page at `from` to `to`.
///
/// # Safety
/// Both are 8-byte aligned and valid for `PAGE_SIZE` bytes (`to` for
/// writes that nothing else accesses meanwhile), and they do not overlap.
pub unsafe fn copy_page(to: *mut u8, from: *const u8) {
    // SAFETY: the caller's contract: PAGE_SIZE readable bytes at `from`,
    // PAGE_SIZE writable ones at `to`, disjoint; each iteration reads
    // CHUNK bytes into four registers twice and writes them back, and
    // touches no stack.
    unsafe {
        asm!(
            "2:",
            "mov {a}, qword ptr [{src}]",
            "mov {b}, qword ptr [{src} + 8]",
            "mov {c}, qword ptr [{src} + 16]",
            "mov {d}, qword ptr [{src} + 24]",
            "mov qword ptr [{dst}], {a}",
            "mov qword ptr [{dst} + 8], {b}",
            "mov qword ptr [{dst} + 16], {c}",
            "mov qword ptr [{dst} + 24], {d}",
            "mov {a}, qword ptr [{src} + 32]",
            "mov {b}, qword ptr [{src} + 40]",
            "mov {c}, qword ptr [{src} + 48]",
            "mov {d}, qword ptr [{src} + 56]",
            "mov qword ptr [{dst} + 32], {a}",
            "mov qword ptr [{dst} + 40], {b}",
            "mov qword ptr [{dst} + 48], {c}",
            "mov qword ptr [{dst} + 56], {d}",
            "add {src}, 64",
            "add {dst}, 64",
            "dec {n}",
            "jnz 2b",
            src = inout(reg) from => _,
            dst = inout(reg) to => _,
            n = inout(reg) PAGE_SIZE / CHUNK => _,
            a = out(reg) _,
            b = out(reg) _,
            c = out(reg) _,
            d = out(reg) _,
            options(nostack),
        );
    }
}

crate::ktest!(clear_page_and_copy_page, {
    let mut a = alloc::vec![0xa5u8; PAGE_SIZE + 8];
    let mut b = alloc::vec![0u8; PAGE_SIZE + 8];
    // Page-sized windows at an 8-byte-aligned offset, with guard bytes past them.
    let off = a.as_ptr().align_offset(8);
    let (a, b) = (&mut a[off..off + PAGE_SIZE + 1], &mut b[off..off + PAGE_SIZE + 1]);
    for (i, byte) in a.iter_mut().enumerate().take(PAGE_SIZE) {
        *byte = u8::try_from(i % 251).unwrap_or(0);
    }
    b[PAGE_SIZE] = 0x5a;
    // SAFETY: both windows hold PAGE_SIZE + 1 bytes, 8-byte aligned, ours.
    unsafe { copy_page(b.as_mut_ptr(), a.as_ptr()) };
    crate::kassert!(a[..PAGE_SIZE] == b[..PAGE_SIZE], "copy_page copies the page");
    crate::kassert!(b[PAGE_SIZE] == 0x5a, "copy_page stops at the page's end");
    // SAFETY: as above.
    unsafe { clear_page(b.as_mut_ptr()) };
    crate::kassert!(b[..PAGE_SIZE].iter().all(|&x| x == 0), "clear_page zeroes the page");
    crate::kassert!(b[PAGE_SIZE] == 0x5a, "clear_page stops at the page's end");
    Ok(())
});

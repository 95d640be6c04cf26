//! Reading, writing and copying the contents of whole page frames through
//! the direct map.
//!
//! Linux: include/linux/highmem.h (`copy_highpage`, `memcpy_to_page`, `memzero_page`,
//! `memcpy_from_page`); on x86_64 there is no highmem, so `kmap` is the
//! direct map and these are plain copies.
//!
//! The frames are user pages that the caller holds a reference to (a PTE
//! or its own `get`), so they cannot be freed or reused by the kernel
//! meanwhile. Another thread of the owning process may write the same
//! page at the same time, as in Linux; the copies are then of no
//! particular moment, which user space must arrange itself.
//!
//! # Locking
//! None: the reference the caller holds keeps the frame.

use crate::mm::addr::{PAGE_SIZE, Pfn, phys_to_virt};

/// Copies the 4 KiB of frame `src` into frame `dst` (Linux:
/// `copy_user_highpage`, the heart of copy-on-write).
pub fn copy_highpage(dst: Pfn, src: Pfn) {
    let to = phys_to_virt(dst.phys()).as_mut_ptr::<u8>();
    let from = phys_to_virt(src.phys()).as_ptr::<u8>();
    if dst == src {
        return;
    }
    // SAFETY:
    // 1. Both are whole RAM frames the caller holds references to (see the
    //    module header), mapped in the direct map for PAGE_SIZE bytes and
    //    page aligned.
    // 2. Distinct frames never overlap.
    unsafe { crate::arch::page_64::copy_page(to, from) };
}

/// Writes `data` into frame `pfn` at `offset` (Linux: `memcpy_to_page`).
/// Bytes that would run past the page are not written.
pub fn memcpy_to_page(pfn: Pfn, offset: usize, data: &[u8]) {
    let len = data.len().min(PAGE_SIZE.saturating_sub(offset));
    let to = phys_to_virt(pfn.phys()).as_mut_ptr::<u8>().wrapping_add(offset);
    // SAFETY:
    // 1. `[offset, offset + len)` lies inside the frame, which the caller
    //    holds a reference to and which the direct map maps writable.
    // 2. `data` is a kernel slice, never part of a user page frame.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), to, len) };
}

/// Reads frame `pfn` from `offset` into `buf` (Linux:
/// `memcpy_from_page`). Bytes past the page are left as they were.
pub fn memcpy_from_page(pfn: Pfn, offset: usize, buf: &mut [u8]) {
    let len = buf.len().min(PAGE_SIZE.saturating_sub(offset));
    let from = phys_to_virt(pfn.phys()).as_ptr::<u8>().wrapping_add(offset);
    // SAFETY:
    // 1. `[offset, offset + len)` lies inside the frame, which the caller
    //    holds a reference to, mapped by the direct map.
    // 2. `buf` is an exclusive kernel slice.
    unsafe { core::ptr::copy_nonoverlapping(from, buf.as_mut_ptr(), len) };
}

/// Zeroes `len` bytes of frame `pfn` from `offset` (Linux:
/// `memzero_page`, used by truncation for the tail of the last page).
/// Bytes past the page are not touched.
pub fn memset_page(pfn: Pfn, offset: usize, len: usize) {
    let len = len.min(PAGE_SIZE.saturating_sub(offset));
    let to = phys_to_virt(pfn.phys()).as_mut_ptr::<u8>().wrapping_add(offset);
    // SAFETY:
    // 1. `[offset, offset + len)` lies inside the frame, which the caller
    //    holds a reference to and which the direct map maps writable.
    // 2. `write_bytes` needs no alignment for `u8`.
    unsafe { core::ptr::write_bytes(to, 0, len) };
}

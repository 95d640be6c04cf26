//! `msync`: writing mapped file pages back to their file.
//!
//! Linux: mm/msync.c (`sys_msync`).
//!
//! Only anonymous memory can be mapped yet, so there is nothing to write
//! back: the call checks its arguments and that the range is mapped, as
//! Linux does for anonymous and tmpfs memory (a hole is `ENOMEM`).
//!
//! # Locking
//! `mmap_lock` shared for the walk.
#![deny(unsafe_code)]

use linux_raw_sys::general::{MS_ASYNC, MS_INVALIDATE, MS_SYNC};

use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, page_align};
use crate::mm::mm_types::{Mm, current_mm};

const PAGE: u64 = PAGE_SIZE as u64;

/// msync(2).
pub fn sys_msync(start: u64, len: u64, flags: i32) -> KResult<()> {
    let flags = u32::try_from(flags).map_err(|_| Errno::EINVAL)?;
    if flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
        || !start.is_multiple_of(PAGE)
        || flags & (MS_ASYNC | MS_SYNC) == MS_ASYNC | MS_SYNC
    {
        return Err(Errno::EINVAL);
    }
    let len = page_align(len).ok_or(Errno::ENOMEM)?;
    let end = start.checked_add(len).ok_or(Errno::ENOMEM)?;
    if end == start {
        return Ok(());
    }
    let mm = current_mm().ok_or(Errno::ENOMEM)?;
    do_msync(&mm, start, end)
}

/// Walks the VMAs of `[start, end)`: `ENOMEM` if any part is unmapped
/// (Linux: the loop of `sys_msync`; file VMAs would be synced here).
pub fn do_msync(mm: &Mm, start: u64, end: u64) -> KResult<()> {
    let layout = mm.mmap_read();
    let mut unmapped_error = Ok(());
    let mut at = start;
    while at < end {
        let Some(vma) = layout.vmas.find(at) else { return Err(Errno::ENOMEM) };
        if vma.start > at {
            unmapped_error = Err(Errno::ENOMEM);
            if vma.start >= end {
                break;
            }
        }
        at = vma.end;
    }
    unmapped_error
}

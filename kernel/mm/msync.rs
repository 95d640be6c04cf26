//! `msync`: writing mapped file pages back to their file.
//!
//! Linux: mm/msync.c (`sys_msync`).
//!
//! `MAP_SHARED` writes land in the page cache itself, so `read(2)` sees
//! them at once; `MS_SYNC` then writes the cached pages of the range back
//! and reports a writeback error (Linux: `vfs_fsync_range`), which for
//! tmpfs is nothing. A write through a shared mapping dirties its page
//! at the write fault (mm/filemap.rs `fault_dirty_shared_page`), and
//! writeback write-protects it again (`page_mkclean`), so the sync finds
//! exactly the pages written since the last one. `MS_ASYNC` is a no-op,
//! as in Linux since 2.6.19 (the flusher writes the dirty pages), and so is
//! `MS_INVALIDATE` (the cache is coherent). A hole in the range is
//! `ENOMEM`, after the mapped parts were synced.
//!
//! # Locking
//! `mmap_lock` shared for the walk; the files to sync are collected and
//! written back after it is dropped, as Linux drops it around the fsync.
#![deny(unsafe_code)]

use linux_raw_sys::general::{MS_ASYNC, MS_INVALIDATE, MS_SYNC};

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::fs::file_table::File;
use crate::fs::sync::vfs_fsync_range;
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, page_align};
use crate::mm::mm_types::{Mm, current_mm};
use crate::mm::vma::{VmFlags, linear_page_index};

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
    do_msync(&mm, start, end, flags & MS_SYNC != 0)
}

/// Walks the VMAs of `[start, end)`, writing back the shared file pages
/// if `sync`: `ENOMEM` if any part is unmapped (Linux: the loop of
/// `sys_msync`).
pub fn do_msync(mm: &Mm, start: u64, end: u64, sync: bool) -> KResult<()> {
    let mut to_sync: Vec<(Arc<File>, u64, u64)> = Vec::new();
    let mut unmapped_error = Ok(());
    {
        let layout = mm.mmap_read();
        let mut at = start;
        while at < end {
            let Some(vma) = layout.vmas.find(at) else { return Err(Errno::ENOMEM) };
            if vma.start > at {
                unmapped_error = Err(Errno::ENOMEM);
                if vma.start >= end {
                    break;
                }
            }
            if sync
                && vma.flags.contains(VmFlags::SHARED)
                && let Some(file) = vma.file.clone()
            {
                let first = linear_page_index(vma, at.max(vma.start));
                let last = linear_page_index(vma, vma.end.min(end));
                to_sync.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                to_sync.push((file, first, last));
            }
            at = vma.end;
        }
    }
    for (file, first, last) in to_sync {
        let end = last.saturating_mul(PAGE).saturating_sub(1);
        vfs_fsync_range(&file, first.saturating_mul(PAGE), end, true)?;
    }
    unmapped_error
}

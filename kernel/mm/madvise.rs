//! `madvise`: what a program tells the kernel about its use of memory.
//!
//! Linux: mm/madvise.c (`do_madvise`, `madvise_behavior_valid`,
//! `madvise_walk_vmas`, `madvise_dontneed_free`, `madvise_remove`,
//! `madvise_update_vma`, `madvise_populate`).
//!
//! Most advice is a hint Linux may ignore, and Ferrite does (read-ahead,
//! KSM, huge pages, core dumps, reclaim). What changes results is kept:
//! `MADV_DONTNEED`/`MADV_FREE` drop the pages, so private memory reads
//! back as zeros, shared memory from its object and a private file
//! mapping from its file (its private copies are gone); `MADV_REMOVE` frees
//! the shared object's pages too; `MADV_DONTFORK`/`MADV_WIPEONFORK` and
//! their undoing change what fork copies; `MADV_POPULATE_*` fault pages in.
//! As in Linux, a hole in the range is `ENOMEM`, reported after the areas
//! around it got their advice.
//!
//! # Locking
//! `mmap_lock` exclusive for the walk (some advice splits VMAs), then
//! `page_table_lock` to zap PTEs.
#![deny(unsafe_code)]

use linux_raw_sys::general as g;

use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, page_align};
use crate::mm::memory::{FaultFlags, VmFault, handle_user_fault, zap_page_range};
use crate::mm::mm_types::{Mm, MmLayout, current_mm};
use crate::mm::vma::{VmFlags, linear_page_index};

const PAGE: u64 = PAGE_SIZE as u64;

/// Whether Linux 6.1 (x86_64, Debian's config) knows this advice (Linux:
/// `madvise_behavior_valid`). The memory-failure injections are left out:
/// poisoning a page is not a test a user should be able to run.
fn madvise_behavior_valid(behavior: u32) -> bool {
    matches!(behavior, g::MADV_NORMAL..=g::MADV_DONTNEED | g::MADV_FREE..=g::MADV_COLLAPSE)
}

/// madvise(2).
pub fn sys_madvise(start: u64, len: u64, behavior: i32) -> KResult<()> {
    let behavior = u32::try_from(behavior).map_err(|_| Errno::EINVAL)?;
    if !madvise_behavior_valid(behavior) || !start.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    // A length that rounds up past the end of the address space is EINVAL.
    let len = page_align(len).ok_or(Errno::EINVAL)?;
    let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
    if end == start {
        return Ok(());
    }
    let mm = current_mm().ok_or(Errno::ENOMEM)?;
    do_madvise(&mm, start, end, behavior)
}

/// Applies `behavior` to the mapped parts of `[start, end)` (Linux:
/// `do_madvise` and `madvise_walk_vmas`).
pub fn do_madvise(mm: &Mm, start: u64, end: u64, behavior: u32) -> KResult<()> {
    if matches!(behavior, g::MADV_POPULATE_READ | g::MADV_POPULATE_WRITE) {
        return madvise_populate(mm, start, end, behavior == g::MADV_POPULATE_WRITE);
    }
    let mut layout = mm.mmap_write();
    let mut unmapped_error = Ok(());
    let mut at = start;
    while at < end {
        let Some(vma) = layout.vmas.find(at) else { return Err(Errno::ENOMEM) };
        if vma.start > at {
            unmapped_error = Err(Errno::ENOMEM);
            at = vma.start;
            if at >= end {
                break;
            }
        }
        let next = vma.end.min(end);
        madvise_vma_behavior(mm, &mut layout, at, next, behavior)?;
        at = next;
    }
    unmapped_error
}

/// The advice for `[start, end)`, which lies in one VMA (Linux:
/// `madvise_vma_behavior`).
fn madvise_vma_behavior(
    mm: &Mm,
    layout: &mut MmLayout,
    start: u64,
    end: u64,
    behavior: u32,
) -> KResult<()> {
    let vma = layout.vmas.lookup(start).ok_or(Errno::ENOMEM)?;
    let flags = vma.flags;
    match behavior {
        g::MADV_DONTNEED | g::MADV_DONTNEED_LOCKED => zap(mm, start, end),
        // Freeing lazily is for private anonymous memory only; dropping
        // the pages at once is one of the results Linux allows.
        g::MADV_FREE if !vma.is_anonymous() => return Err(Errno::EINVAL),
        g::MADV_FREE => zap(mm, start, end),
        // Punching a hole in a file's cache is not done yet.
        g::MADV_REMOVE
            if vma.file.is_some() && !flags.contains(VmFlags::SHARED | VmFlags::WRITE) =>
        {
            return Err(Errno::EACCES);
        }
        g::MADV_REMOVE => {
            let Some(shmem) = vma.shmem.clone() else { return Err(Errno::EINVAL) };
            if !flags.contains(VmFlags::SHARED | VmFlags::WRITE) {
                return Err(Errno::EACCES);
            }
            let (first, last) = (linear_page_index(vma, start), linear_page_index(vma, end));
            zap(mm, start, end);
            shmem.punch_hole(first, last);
        }
        g::MADV_DONTFORK => update_vma_flags(layout, start, end, flags | VmFlags::DONTCOPY),
        g::MADV_DOFORK => update_vma_flags(layout, start, end, flags - VmFlags::DONTCOPY),
        g::MADV_WIPEONFORK if flags.contains(VmFlags::SHARED) || vma.file.is_some() => {
            return Err(Errno::EINVAL);
        }
        g::MADV_WIPEONFORK => update_vma_flags(layout, start, end, flags | VmFlags::WIPEONFORK),
        g::MADV_KEEPONFORK => update_vma_flags(layout, start, end, flags - VmFlags::WIPEONFORK),
        // Hints: read-ahead, KSM, THP, core dumps, reclaim.
        _ => {}
    }
    Ok(())
}

/// Drops the PTEs of `[start, end)` and the references they held (Linux:
/// `zap_page_range` from `madvise_dontneed_single_vma`).
fn zap(mm: &Mm, start: u64, end: u64) {
    let freed = zap_page_range(&mut mm.page_table(), start, end);
    mm.add_rss(-freed);
}

/// Gives `[start, end)`, inside one VMA, the flags `newflags`, splitting
/// and merging as needed (Linux: `madvise_update_vma`).
fn update_vma_flags(layout: &mut MmLayout, start: u64, end: u64, newflags: VmFlags) {
    layout.vmas.split(start);
    layout.vmas.split(end);
    let Some(vma) = layout.vmas.get_mut(start) else { return };
    if vma.data.flags != newflags {
        vma.data.flags = newflags;
        layout.vmas.merge_around(start);
    }
}

/// Faults in every page of `[start, end)` as a read or a write would
/// (Linux: `madvise_populate`): `ENOMEM` for a hole or no memory,
/// `EFAULT` where the access is not allowed.
fn madvise_populate(mm: &Mm, start: u64, end: u64, write: bool) -> KResult<()> {
    let mut flags = FaultFlags::empty();
    flags.set(FaultFlags::WRITE, write);
    for addr in (start..end).step_by(PAGE_SIZE) {
        handle_user_fault(mm, addr, flags).map_err(|fault| match fault {
            VmFault::Sigsegv { code } if code == g::SEGV_MAPERR => Errno::ENOMEM,
            VmFault::Oom => Errno::ENOMEM,
            _ => Errno::EFAULT,
        })?;
    }
    Ok(())
}

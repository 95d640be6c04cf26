//! Writing dirty page-cache pages back, and keeping dirty memory in
//! bounds (Linux: mm/page-writeback.c `write_cache_pages`,
//! `balance_dirty_pages`, the `vm.dirty_*` sysctls).
//!
//! The count of dirty file pages (Linux: `NR_FILE_DIRTY`) moves as pages
//! are dirtied and cleaned in fs/pagecache.rs. Past
//! `dirty_background_ratio` percent of RAM the flusher thread
//! (fs/fs_writeback.rs) is woken; past `dirty_ratio` a writer writes
//! back itself before its `write(2)` returns (Linux makes it sleep while
//! the flusher works; writing in the writer is the simple form of the
//! same throttle). tmpfs pages are never counted.
//!
//! # Locking
//! The knobs and the count are atomics. [`write_cache_pages`] takes a
//! mapping's `i_pages` only to collect its dirty pages, then each
//! mapper's `mmap_lock` and `page_table_lock` to write-protect them, and
//! writes them with no lock held.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use alloc::vec::Vec;

use crate::fs::pagecache::PageCache;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::time::HZ;
use crate::mm::filemap::page_mkclean;
use crate::mm::memory::put_page;
use crate::mm::page_alloc::totalram_pages;

/// `/proc/sys/vm/dirty_background_ratio` (Linux default 10).
pub static DIRTY_BACKGROUND_RATIO: AtomicU32 = AtomicU32::new(10);
/// `/proc/sys/vm/dirty_ratio` (Linux default 20).
pub static DIRTY_RATIO: AtomicU32 = AtomicU32::new(20);
/// `/proc/sys/vm/dirty_writeback_centisecs`: the flusher's period; 0
/// turns periodic writeback off (Linux default 500).
pub static DIRTY_WRITEBACK_CENTISECS: AtomicU32 = AtomicU32::new(500);
/// `/proc/sys/vm/dirty_expire_centisecs`: how old dirty data must be
/// for periodic writeback to write it (Linux default 3000).
pub static DIRTY_EXPIRE_CENTISECS: AtomicU32 = AtomicU32::new(3000);

/// Dirty page-cache pages (Linux: `NR_FILE_DIRTY`).
static NR_FILE_DIRTY: AtomicUsize = AtomicUsize::new(0);

/// Pages being written right now (Linux: `NR_WRITEBACK`).
static NR_WRITEBACK: AtomicUsize = AtomicUsize::new(0);

/// Pages under writeback now (`Writeback:` in /proc/meminfo).
pub fn nr_writeback() -> usize {
    NR_WRITEBACK.load(Ordering::Relaxed)
}

/// Counts `n` pages newly dirty (Linux: `folio_account_dirtied`).
pub fn account_page_dirtied(n: usize) {
    NR_FILE_DIRTY.fetch_add(n, Ordering::Relaxed);
}

/// Counts `n` dirty pages cleaned or dropped (Linux:
/// `folio_account_cleaned`).
pub fn account_page_cleaned(n: usize) {
    if n != 0 {
        let _ = NR_FILE_DIRTY
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| Some(d.saturating_sub(n)));
    }
}

/// Dirty page-cache pages now (`Dirty:` in /proc/meminfo).
pub fn nr_file_dirty() -> usize {
    NR_FILE_DIRTY.load(Ordering::Relaxed)
}

/// Centiseconds to jiffies.
pub fn centisecs_to_jiffies(cs: u32) -> u64 {
    u64::from(cs) * HZ / 100
}

/// The background and the hard limit, in pages (Linux:
/// `domain_dirty_limits`, over all of RAM rather than what is free).
fn dirty_limits() -> (usize, usize) {
    let pages = usize::try_from(totalram_pages()).unwrap_or(usize::MAX);
    let of = |ratio: &AtomicU32| {
        let ratio = usize::try_from(ratio.load(Ordering::Relaxed).min(100)).unwrap_or(100);
        pages / 100 * ratio
    };
    let limit = of(&DIRTY_RATIO);
    (of(&DIRTY_BACKGROUND_RATIO).min(limit), limit)
}

/// Called after a write dirtied pages (Linux:
/// `balance_dirty_pages_ratelimited`): wakes the flusher past the
/// background limit, writes back in the caller past the hard one.
pub fn balance_dirty_pages_ratelimited() {
    let dirty = nr_file_dirty();
    let (background, limit) = dirty_limits();
    if dirty <= background {
        return;
    }
    crate::fs::fs_writeback::wakeup_flusher_threads();
    if dirty > limit {
        crate::fs::fs_writeback::writeback_all(u64::MAX, false);
    }
}

/// Writes the dirty pages of `mapping` in `[start, end)` dirtied at or
/// before `older_than` jiffies (Linux: `write_cache_pages`,
/// `do_writepages`), write-protecting them in shared mappings first
/// (`clear_page_dirty_for_io` → `page_mkclean`). A failed page sets the
/// mapping's error for the next fsync and stays clean (Linux's
/// `mapping_set_error`). Returns the pages written. Sleeps: call it with
/// no lock held.
pub fn write_cache_pages(
    mapping: &PageCache,
    start: u64,
    end: u64,
    older_than: u64,
    sync: bool,
) -> KResult<usize> {
    if !mapping.a_ops.can_writeback() {
        return Ok(0);
    }
    // Every write is synchronous here, so data-integrity writeback
    // (Linux: `WB_SYNC_ALL`) and background writeback do the same.
    let _ = sync;
    let host = mapping.host()?;
    let pages = mapping.lock().take_dirty(start, end, older_than);
    if !pages.is_empty() && mapping.is_mapped() {
        // Before the bytes are copied out: a write through a mapping
        // from now on faults and dirties the page again.
        page_mkclean(mapping, &pages);
    }
    let mut written = 0;
    let mut rest = &pages[..];
    while let Some(&(start, _)) = rest.first() {
        // A run of consecutive pages, one `writepages` call.
        let run = (1..rest.len().min(WRITEPAGES_MAX))
            .find(|&i| rest[i].0 != start + i as u64)
            .unwrap_or(rest.len().min(WRITEPAGES_MAX));
        let mut pfns = Vec::new();
        if pfns.try_reserve(run).is_err() {
            // Not written: dirty again for a later round, and this sync
            // reports it (Linux: `redirty_page_for_writepage`).
            rest.iter().for_each(|&(index, _)| mapping.set_page_dirty(index));
            mapping.set_error(Errno::ENOMEM);
            break;
        }
        pfns.extend(rest[..run].iter().map(|&(_, pfn)| pfn));
        // Linux: `folio_start_writeback` … `folio_end_writeback`.
        NR_WRITEBACK.fetch_add(run, Ordering::Relaxed);
        let result = mapping.a_ops.writepages(&host, start, &pfns);
        NR_WRITEBACK.fetch_sub(run, Ordering::Relaxed);
        match result {
            Ok(()) => written += run,
            Err(e) => mapping.set_error(e),
        }
        rest = &rest[run..];
    }
    pages.into_iter().for_each(|(_, pfn)| put_page(pfn));
    Ok(written)
}

/// The most pages one `writepages` call gets (128 KiB).
const WRITEPAGES_MAX: usize = 32;

/// Writes `[start, end)` of `mapping` and returns the error any
/// writeback met since the last call (Linux:
/// `file_write_and_wait_range`; writes are synchronous here, so there
/// is nothing to wait for).
pub fn filemap_write_and_wait_range(mapping: &PageCache, start: u64, end: u64) -> KResult<()> {
    write_cache_pages(mapping, start, end, u64::MAX, true)?;
    mapping.take_error()
}

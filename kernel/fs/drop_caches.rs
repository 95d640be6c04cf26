//! `/proc/sys/vm/drop_caches`: writing 1 drops the clean page cache, 2 the
//! reclaimable slab objects, 3 both; 4 silences the log line.
//!
//! Linux: fs/drop_caches.c (`drop_caches_sysctl_handler`,
//! `drop_pagecache_sb`), mm/truncate.c (`invalidate_mapping_pages`).
//!
//! Dropping is the same work reclaim does (mm/vmscan.rs): every page
//! cache with a backing store gives up its clean pages that nothing maps,
//! pins or writes back; dirty pages stay, which is why the documentation
//! says to `sync` first. Slab objects: Ferrite's dentry cache does not
//! shrink yet and ext2's inode cache is pruned by the flusher, so 2 frees
//! nothing more than that; the value is accepted as Linux accepts it.
//!
//! # Locking
//! Each page tree's `i_pages` in turn, through vmscan; no lock of its own.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU32, Ordering};

use crate::kernel::sched::current;

/// The last value written (Linux: `sysctl_drop_caches`).
pub static SYSCTL_DROP_CACHES: AtomicU32 = AtomicU32::new(0);
/// Set once a write had bit 4: no more log lines (Linux: `stfu`).
static STFU: AtomicU32 = AtomicU32::new(0);

/// Acts on a write of `value` (1..=4) to drop_caches.
pub fn drop_caches_sysctl_handler(value: u32) {
    if value & 1 != 0 {
        crate::mm::vmscan::drop_pagecache();
    }
    let task = current();
    if STFU.load(Ordering::Relaxed) == 0 {
        let comm = task.comm();
        let comm = crate::kernel::sched::task::comm_str(&comm);
        crate::pr_info!("{comm} ({}): drop_caches: {value}", task.pid);
    }
    STFU.fetch_or(value & 4, Ordering::Relaxed);
}

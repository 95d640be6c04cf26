//! I/O statistics of a disk or partition, as /proc/diskstats shows them:
//! completed I/Os, merges, sectors and time, per direction.
//!
//! Linux: include/linux/part_stat.h (`struct disk_stats`,
//! `part_stat_inc`), block/blk-core.c (`bdev_start_io_acct`,
//! `bdev_end_io_acct`, `update_io_ticks`), Documentation/admin-guide/
//! iostats.rst (what each field means).
//!
//! A whole disk's statistics also feed `/proc/vmstat`'s `pgpgin` and
//! `pgpgout` (KiB moved), which Linux counts in `submit_bio`: every I/O,
//! a partition's included, reaches the disk, so partitions do not count
//! them a second time.
//!
//! `io_ticks` is the time at least one I/O was in flight: an I/O that
//! starts with none in flight opens an interval, one that ends with none
//! left closes it.
//!
//! # Locking
//! Atomics only, updated from any context without a lock.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use super::bio::ReqOp;
use crate::kernel::errno::KResult;
use crate::kernel::time::ktime_get_ns;
use crate::mm::vm_event::{VmEventItem, count_vm_events};

const NSEC_PER_MSEC: u64 = 1_000_000;

/// Linux: `STAT_READ`, `STAT_WRITE`, `STAT_FLUSH`.
fn group(op: ReqOp) -> usize {
    match op {
        ReqOp::Read => 0,
        ReqOp::Write => 1,
        ReqOp::Flush => 2,
    }
}

/// `pgpgin`/`pgpgout`, in KiB (Linux: `submit_bio`'s
/// `count_vm_events(PGPGIN, bio_sectors(bio))`, shown halved).
fn count_pgpg(op: ReqOp, sectors: u64) {
    match op {
        ReqOp::Read => count_vm_events(VmEventItem::PgPgIn, sectors / 2),
        ReqOp::Write => count_vm_events(VmEventItem::PgPgOut, sectors / 2),
        ReqOp::Flush => {}
    }
}

/// Linux: `struct disk_stats`.
pub struct DiskStats {
    ios: [AtomicU64; 3],
    merges: [AtomicU64; 3],
    sectors: [AtomicU64; 3],
    nsecs: [AtomicU64; 3],
    in_flight: AtomicU64,
    /// These are a whole disk's: count `pgpgin`/`pgpgout`.
    whole_disk: bool,
    io_ticks_ns: AtomicU64,
    /// When the current busy interval began.
    busy_since_ns: AtomicU64,
}

/// A copy of the counters, times in milliseconds.
#[derive(Clone, Copy, Default, Debug)]
pub struct DiskStatsSnapshot {
    pub ios: [u64; 3],
    pub merges: [u64; 3],
    pub sectors: [u64; 3],
    pub ticks_ms: [u64; 3],
    pub in_flight: u64,
    pub io_ticks_ms: u64,
}

impl DiskStatsSnapshot {
    /// The 17 counters, in the order of Documentation/admin-guide/
    /// iostats.rst, that /proc/diskstats prints after the name and sysfs
    /// `stat` prints alone: reads, writes, in flight, busy time, time in
    /// queue, four discard fields (never counted), flushes.
    pub fn iostat_fields(&self) -> [u64; 17] {
        let time_in_queue = self.ticks_ms.iter().fold(0u64, |a, t| a.saturating_add(*t));
        let (r, w, f) = (group(ReqOp::Read), group(ReqOp::Write), group(ReqOp::Flush));
        [
            self.ios[r],
            self.merges[r],
            self.sectors[r],
            self.ticks_ms[r],
            self.ios[w],
            self.merges[w],
            self.sectors[w],
            self.ticks_ms[w],
            self.in_flight,
            self.io_ticks_ms,
            time_in_queue,
            0,
            0,
            0,
            0,
            self.ios[f],
            self.ticks_ms[f],
        ]
    }
}

impl Default for DiskStats {
    fn default() -> Self {
        Self::new()
    }
}

impl DiskStats {
    /// A whole disk's statistics.
    pub const fn new() -> Self {
        Self { whole_disk: true, ..Self::new_partition() }
    }

    /// A partition's, which its disk's also count.
    pub const fn new_partition() -> Self {
        Self {
            whole_disk: false,
            ios: [const { AtomicU64::new(0) }; 3],
            merges: [const { AtomicU64::new(0) }; 3],
            sectors: [const { AtomicU64::new(0) }; 3],
            nsecs: [const { AtomicU64::new(0) }; 3],
            in_flight: AtomicU64::new(0),
            io_ticks_ns: AtomicU64::new(0),
            busy_since_ns: AtomicU64::new(0),
        }
    }

    /// A bio merged into a pending request (Linux: `part_stat_inc(merges)`).
    pub fn merge(&self, op: ReqOp) {
        self.merges[group(op)].fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `io`, an I/O of `sectors` sectors, counting it (Linux:
    /// `bdev_start_io_acct` … `bdev_end_io_acct`).
    pub fn account<T>(
        &self,
        op: ReqOp,
        sectors: u64,
        io: impl FnOnce() -> KResult<T>,
    ) -> KResult<T> {
        let start = ktime_get_ns();
        if self.in_flight.fetch_add(1, Ordering::AcqRel) == 0 {
            self.busy_since_ns.store(start, Ordering::Relaxed);
        }
        let result = io();
        let end = ktime_get_ns();
        let g = group(op);
        self.ios[g].fetch_add(1, Ordering::Relaxed);
        self.sectors[g].fetch_add(sectors, Ordering::Relaxed);
        if self.whole_disk {
            count_pgpg(op, sectors);
        }
        self.nsecs[g].fetch_add(end.saturating_sub(start), Ordering::Relaxed);
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            let since = self.busy_since_ns.load(Ordering::Relaxed);
            self.io_ticks_ns.fetch_add(end.saturating_sub(since), Ordering::Relaxed);
        }
        result
    }

    pub fn snapshot(&self) -> DiskStatsSnapshot {
        let load = |a: &[AtomicU64; 3]| a.each_ref().map(|v| v.load(Ordering::Relaxed));
        DiskStatsSnapshot {
            ios: load(&self.ios),
            merges: load(&self.merges),
            sectors: load(&self.sectors),
            ticks_ms: load(&self.nsecs).map(|ns| ns / NSEC_PER_MSEC),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            io_ticks_ms: self.io_ticks_ns.load(Ordering::Relaxed) / NSEC_PER_MSEC,
        }
    }
}

crate::ktest!(block_iostat_fields_order, {
    let s = DiskStatsSnapshot {
        ios: [1, 5, 15],
        merges: [2, 6, 0],
        sectors: [3, 7, 0],
        ticks_ms: [4, 8, 16],
        in_flight: 9,
        io_ticks_ms: 10,
    };
    let want = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 28, 0, 0, 0, 0, 15, 16];
    crate::kassert!(s.iostat_fields() == want, "iostats.rst order");
    let full = DiskStatsSnapshot { ticks_ms: [u64::MAX, 1, 1], ..s };
    crate::kassert!(full.iostat_fields()[10] == u64::MAX, "time in queue saturates");
    Ok(())
});

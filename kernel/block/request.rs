//! Requests and the plug: bios that touch adjacent sectors are merged into
//! one request before the driver sees them, so a run of small page-sized
//! bios becomes one large transfer.
//!
//! Linux: block/blk-core.c (`blk_start_plug`, `blk_finish_plug`),
//! block/blk-merge.c (`blk_attempt_plug_merge`, `bio_attempt_back_merge`,
//! `bio_attempt_front_merge`, `ll_back_merge_fn`: the segment and size
//! limits), block/blk-mq.c (`blk_mq_submit_bio`, `blk_mq_end_request`),
//! include/linux/blkdev.h (`struct queue_limits`).
//!
//! plug → merge → dispatch → complete: [`BlkPlug::submit_bio`] merges a
//! bio at the back or the front of a pending request of the same
//! operation when the result stays within [`QueueLimits`], else starts a
//! new request; [`BlkPlug::finish`] dispatches the requests in order: a
//! request's page pieces go to the disk's `rw_pages` (virtio-blk DMAs
//! straight into them, several requests in flight); then every bio of the
//! request ends with the request's result.
//!
//! # Locking
//! None: a plug belongs to the task that made it (Linux: `current->plug`).
//! The disk locks its own queue; statistics are atomics.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::bio::{Bio, ReqOp};
use super::{BlockDevice, SECTOR_SIZE, check_io};
use crate::kernel::errno::{Errno, KResult};

/// How large a request may grow by merging (Linux: `struct
/// queue_limits`, `max_sectors` and `max_segments`).
#[derive(Clone, Copy, Debug)]
pub struct QueueLimits {
    pub max_sectors: u64,
    pub max_segments: usize,
}

/// 256 KiB and 64 pages: eight of virtio-blk's 32 KiB slots in flight.
pub const DEFAULT_LIMITS: QueueLimits = QueueLimits { max_sectors: 512, max_segments: 64 };

/// Bios merged into one transfer (Linux: `struct request`).
pub struct Request {
    pub op: ReqOp,
    pub sector: u64,
    pub nr_sectors: u64,
    pub bios: Vec<Bio>,
}

impl Request {
    fn segments(&self) -> usize {
        self.bios.iter().map(|b| b.vecs.len()).sum()
    }

    /// Whether `bio` may join within `limits` (Linux: `ll_back_merge_fn`).
    fn fits(&self, bio: &Bio, limits: &QueueLimits) -> bool {
        self.op == bio.op
            && self.op != ReqOp::Flush
            && self.nr_sectors.saturating_add(bio.sectors()) <= limits.max_sectors
            && self.segments().saturating_add(bio.vecs.len()) <= limits.max_segments
    }

    /// Linux: `bio_attempt_back_merge` / `bio_attempt_front_merge`; gives
    /// the bio back if it is not adjacent or does not fit.
    fn try_merge(&mut self, bio: Bio, limits: &QueueLimits) -> Result<(), Bio> {
        if !self.fits(&bio, limits) {
            return Err(bio);
        }
        let end = self.sector.saturating_add(self.nr_sectors);
        if bio.sector == end && self.bios.try_reserve(1).is_ok() {
            self.nr_sectors += bio.sectors();
            self.bios.push(bio);
            Ok(())
        } else if bio.end_sector() == self.sector && self.bios.try_reserve(1).is_ok() {
            self.sector = bio.sector;
            self.nr_sectors += bio.sectors();
            self.bios.insert(0, bio);
            Ok(())
        } else {
            Err(bio)
        }
    }

    /// Runs the request on `disk` (Linux: `blk_mq_dispatch_rq_list` →
    /// the driver's `queue_rq`, then its completion).
    fn dispatch(&self, disk: &dyn BlockDevice) -> KResult<()> {
        if self.op == ReqOp::Flush {
            return disk.flush();
        }
        let len = usize::try_from(self.nr_sectors).map_err(|_| Errno::EIO)? * SECTOR_SIZE;
        // Linux: `bio_check_eod`, before any memory is spent.
        check_io(self.sector, len, disk.capacity())?;
        let mut segs = Vec::new();
        segs.try_reserve_exact(self.segments()).map_err(|_| Errno::ENOMEM)?;
        segs.extend(self.bios.iter().flat_map(|b| b.vecs.iter().copied()));
        disk.rw_pages(self.op, self.sector, &segs)
    }

    /// Ends every bio with `result` (Linux: `blk_mq_end_request`).
    fn end(self, result: KResult<()>) {
        for bio in self.bios {
            bio.endio(result);
        }
    }
}

/// Bios held back so that neighbours can merge (Linux: `struct blk_plug`).
pub struct BlkPlug {
    disk: Arc<dyn BlockDevice>,
    limits: QueueLimits,
    requests: Vec<Request>,
    /// Bios merged into an earlier one (for /proc/diskstats and tests).
    pub merges: u64,
}

impl BlkPlug {
    /// Linux: `blk_start_plug`.
    pub fn new(disk: Arc<dyn BlockDevice>) -> Self {
        Self { disk, limits: DEFAULT_LIMITS, requests: Vec::new(), merges: 0 }
    }

    /// Requests pending (Linux: `plug->rq_count`).
    pub fn nr_requests(&self) -> usize {
        self.requests.len()
    }

    /// Merges `bio` into a pending request or starts one (Linux:
    /// `blk_mq_submit_bio` → `blk_attempt_plug_merge`). A bio that cannot
    /// be queued at all ends at once with `ENOMEM`.
    pub fn submit_bio(&mut self, bio: Bio) {
        crate::kernel::trace::events::block::trace_block_bio_queue(self.disk.as_ref(), &bio);
        let mut bio = bio;
        for rq in self.requests.iter_mut().rev() {
            match rq.try_merge(bio, &self.limits) {
                Ok(()) => {
                    self.merges += 1;
                    if let Some(stats) = self.disk.stats() {
                        stats.merge(rq.op);
                    }
                    return;
                }
                Err(back) => bio = back,
            }
        }
        if self.requests.try_reserve(1).is_err() {
            return bio.endio(Err(Errno::ENOMEM));
        }
        let (op, sector, nr_sectors) = (bio.op, bio.sector, bio.sectors());
        let mut bios = Vec::new();
        if bios.try_reserve(1).is_err() {
            return bio.endio(Err(Errno::ENOMEM));
        }
        bios.push(bio);
        self.requests.push(Request { op, sector, nr_sectors, bios });
    }

    /// Dispatches every pending request in order and ends their bios
    /// (Linux: `blk_finish_plug` → `blk_mq_flush_plug_list`).
    pub fn finish(mut self) {
        self.flush_plug();
    }

    fn flush_plug(&mut self) {
        for rq in core::mem::take(&mut self.requests) {
            let result = rq.dispatch(self.disk.as_ref());
            rq.end(result);
        }
    }
}

impl Drop for BlkPlug {
    /// A plug dropped without `finish` still runs its requests: no bio is
    /// left without its callback.
    fn drop(&mut self) {
        self.flush_plug();
    }
}

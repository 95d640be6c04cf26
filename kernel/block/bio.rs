//! Bios: one block I/O, an operation on a run of sectors whose data lives
//! in page frames (the page cache's, or pages a caller allocated), with a
//! callback that runs when it ends.
//!
//! Linux: include/linux/blk_types.h (`struct bio`, `struct bio_vec`,
//! `REQ_OP_*`), block/bio.c (`bio_add_page`, `bio_endio`,
//! `submit_bio_wait`), block/blk-core.c (`submit_bio`,
//! `bio_check_eod`).
//!
//! The path, as in Linux: [`submit_bio`] plugs the bio
//! ([`BlkPlug`](super::request::BlkPlug)), where it merges into an
//! adjacent request; unplugging dispatches each request to the driver;
//! when the driver is done, every bio of the request ends with
//! [`Bio::endio`], which runs its callback. [`submit_bio_wait`] is the
//! callback that completes a [`Completion`] the submitter sleeps on.
//!
//! # Locking
//! A bio is owned by whoever holds it (submitter, plug, request) and has
//! no lock; `submit_bio_wait`'s result slot is a leaf spinlock.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::request::BlkPlug;
use super::{BlockDevice, SECTOR_SIZE};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::completion::Completion;
use crate::mm::addr::{PAGE_SIZE, Pfn};
use crate::mm::highmem::{memcpy_from_page, memcpy_to_page};

/// What a bio does (Linux: `enum req_op`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReqOp {
    Read,
    Write,
    /// Empties the device's write cache; carries no data.
    Flush,
}

/// A piece of a page (Linux: `struct bio_vec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BioVec {
    pub pfn: Pfn,
    pub offset: usize,
    pub len: usize,
}

/// Runs once when the bio ends, with its result (Linux: `bi_end_io`).
pub type BioEndIo = Box<dyn FnOnce(KResult<()>) + Send>;

/// One block I/O (Linux: `struct bio`).
pub struct Bio {
    pub op: ReqOp,
    /// The first sector (Linux: `bi_iter.bi_sector`).
    pub sector: u64,
    pub vecs: Vec<BioVec>,
    end_io: Option<BioEndIo>,
}

impl Bio {
    /// An empty bio at `sector` (Linux: `bio_alloc` + `bio_set_dev`).
    pub fn new(op: ReqOp, sector: u64) -> Self {
        Self { op, sector, vecs: Vec::new(), end_io: None }
    }

    /// Sets the callback run when the bio ends.
    pub fn set_end_io(&mut self, end_io: BioEndIo) {
        self.end_io = Some(end_io);
    }

    /// Adds `len` bytes of frame `pfn` from `offset` (Linux:
    /// `bio_add_page`). `EINVAL` for a piece past the page or not whole
    /// sectors.
    pub fn add_page(&mut self, pfn: Pfn, offset: usize, len: usize) -> KResult<()> {
        let fits = offset.checked_add(len).is_some_and(|end| end <= PAGE_SIZE);
        if !fits || len == 0 || !len.is_multiple_of(SECTOR_SIZE) || self.op == ReqOp::Flush {
            return Err(Errno::EINVAL);
        }
        self.vecs.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        self.vecs.push(BioVec { pfn, offset, len });
        Ok(())
    }

    /// The bytes it moves (Linux: `bio->bi_iter.bi_size`).
    pub fn size(&self) -> usize {
        self.vecs.iter().map(|v| v.len).sum()
    }

    /// Linux: `bio_sectors`.
    pub fn sectors(&self) -> u64 {
        (self.size() / SECTOR_SIZE) as u64
    }

    /// The sector after its last (Linux: `bio_end_sector`).
    pub fn end_sector(&self) -> u64 {
        self.sector.saturating_add(self.sectors())
    }

    /// Ends the bio: runs its callback (Linux: `bio_endio`).
    pub fn endio(mut self, result: KResult<()>) {
        if let Some(end_io) = self.end_io.take() {
            end_io(result);
        }
    }
}

/// Hands `bio` to `disk`'s queue (Linux: `submit_bio`): a one-bio plug,
/// dispatched at once. The bio's callback runs before this returns (the
/// drivers underneath are synchronous to their callers).
pub fn submit_bio(disk: &Arc<dyn BlockDevice>, bio: Bio) {
    let mut plug = BlkPlug::new(disk.clone());
    plug.submit_bio(bio);
    plug.finish();
}

/// Submits `bio` and sleeps until it ends; returns its result (Linux:
/// `submit_bio_wait`).
pub fn submit_bio_wait(disk: &Arc<dyn BlockDevice>, mut bio: Bio) -> KResult<()> {
    let done = Arc::new((Completion::new(), SpinLock::new(Err(Errno::EIO))));
    let signal = done.clone();
    bio.set_end_io(Box::new(move |result| {
        *signal.1.lock() = result;
        signal.0.complete();
    }));
    submit_bio(disk, bio);
    done.0.wait_for_completion();
    *done.1.lock()
}

/// [`BlockDevice::rw_pages`] through one kernel buffer: a write gathers
/// the pieces into it, a read scatters it back (a driver without DMA into
/// pages; Linux's bounce buffering, `blk_queue_bounce`).
pub fn rw_pages_bounced<D>(dev: &D, op: ReqOp, lba: u64, segs: &[BioVec]) -> KResult<()>
where
    D: BlockDevice + ?Sized,
{
    if op == ReqOp::Flush {
        return dev.flush();
    }
    let len = segs.iter().map(|v| v.len).sum();
    let mut buf = Vec::new();
    buf.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
    buf.resize(len, 0);
    let mut pieces = segs.iter().scan(0, |at, v| {
        let start = *at;
        *at += v.len;
        Some((v, start..start + v.len))
    });
    if op == ReqOp::Write {
        for (v, range) in pieces.by_ref() {
            if let Some(dst) = buf.get_mut(range) {
                memcpy_from_page(v.pfn, v.offset, dst);
            }
        }
        return dev.write_blocks(lba, &buf);
    }
    dev.read_blocks(lba, &mut buf)?;
    for (v, range) in pieces {
        if let Some(src) = buf.get(range) {
            memcpy_to_page(v.pfn, v.offset, src);
        }
    }
    Ok(())
}

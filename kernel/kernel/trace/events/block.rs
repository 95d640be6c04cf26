//! Block I/O: a bio queued, a request issued to the driver and completed.
//!
//! Linux: include/trace/events/block.h (`block_bio_queue`,
//! `block_rq_issue`, `block_rq_complete`), fired from block/blk-core.c
//! `submit_bio_noacct`, block/blk-mq.c `blk_mq_start_request` and
//! `blk_mq_end_request`.
//!
//! Ferrite's drivers are synchronous: [`traced_io`] wraps one transfer
//! with its issue and complete events. `cmd` (SCSI passthrough) is
//! always empty, as Linux prints it for a disk.
//!
//! # Locking
//! None beyond the ring's; the events fire in the submitter's context.
#![deny(unsafe_code)]

use core::fmt;
use core::sync::atomic::AtomicBool;

use super::{Entry, Field, TraceEvent, rd_data_loc, rd_i32, rd_str, rd_u32, rd_u64};
use crate::block::BlockDevice;
use crate::block::bio::{Bio, ReqOp};
use crate::fs::inode::DevT;
use crate::kernel::errno::KResult;

const fn field(decl: &'static str, offset: u16, size: u16, signed: bool) -> Field {
    Field { decl, offset, size, signed }
}

pub static BLOCK_RQ_ISSUE: TraceEvent = TraceEvent {
    system: "block",
    name: "block_rq_issue",
    id: 1061,
    enabled: AtomicBool::new(false),
    fields: &[
        field("dev_t dev", 8, 4, false),
        field("sector_t sector", 16, 8, false),
        field("unsigned int nr_sector", 24, 4, false),
        field("unsigned int bytes", 28, 4, false),
        field("char rwbs[8]", 32, 8, true),
        field("char comm[16]", 40, 16, true),
        field("__data_loc char[] cmd", 56, 4, true),
    ],
    print_fmt: "\"%d,%d %s %u (%s) %llu + %u [%s]\", ((unsigned int) ((REC->dev) >> 20)), ((unsigned int) ((REC->dev) & ((1U << 20) - 1))), REC->rwbs, REC->bytes, __get_str(cmd), (unsigned long long)REC->sector, REC->nr_sector, REC->comm",
    output: output_issue,
};

pub static BLOCK_RQ_COMPLETE: TraceEvent = TraceEvent {
    system: "block",
    name: "block_rq_complete",
    id: 1064,
    enabled: AtomicBool::new(false),
    fields: &[
        field("dev_t dev", 8, 4, false),
        field("sector_t sector", 16, 8, false),
        field("unsigned int nr_sector", 24, 4, false),
        field("int error", 28, 4, true),
        field("char rwbs[8]", 32, 8, true),
        field("__data_loc char[] cmd", 40, 4, true),
    ],
    print_fmt: "\"%d,%d %s (%s) %llu + %u [%d]\", ((unsigned int) ((REC->dev) >> 20)), ((unsigned int) ((REC->dev) & ((1U << 20) - 1))), REC->rwbs, __get_str(cmd), (unsigned long long)REC->sector, REC->nr_sector, REC->error",
    output: output_complete,
};

pub static BLOCK_BIO_QUEUE: TraceEvent = TraceEvent {
    system: "block",
    name: "block_bio_queue",
    id: 1055,
    enabled: AtomicBool::new(false),
    fields: &[
        field("dev_t dev", 8, 4, false),
        field("sector_t sector", 16, 8, false),
        field("unsigned int nr_sector", 24, 4, false),
        field("char rwbs[8]", 28, 8, true),
        field("char comm[16]", 36, 16, true),
    ],
    print_fmt: "\"%d,%d %s %llu + %u [%s]\", ((unsigned int) ((REC->dev) >> 20)), ((unsigned int) ((REC->dev) & ((1U << 20) - 1))), REC->rwbs, (unsigned long long)REC->sector, REC->nr_sector, REC->comm",
    output: output_bio_queue,
};

/// Linux: `blk_fill_rwbs` for the operations Ferrite has.
fn rwbs(op: ReqOp) -> [u8; 8] {
    let s: &[u8] = match op {
        ReqOp::Read => b"R",
        ReqOp::Write => b"W",
        ReqOp::Flush => b"FF",
    };
    let mut out = [0u8; 8];
    out[..s.len()].copy_from_slice(s);
    out
}

fn current_comm() -> [u8; 16] {
    crate::arch::current::with_current(|t| t.map_or([0; 16], |t| t.comm()))
}

/// Runs `io`, one transfer of `nr_sector` sectors at `sector` on `dev`,
/// between `block_rq_issue` and `block_rq_complete`.
#[inline(always)]
pub fn traced_io<T>(
    dev: DevT,
    op: ReqOp,
    sector: u64,
    nr_sector: u64,
    io: impl FnOnce() -> KResult<T>,
) -> KResult<T> {
    let nr = u32::try_from(nr_sector).unwrap_or(u32::MAX);
    if BLOCK_RQ_ISSUE.is_enabled() {
        record_issue(dev, op, sector, nr);
    }
    let result = io();
    if BLOCK_RQ_COMPLETE.is_enabled() {
        let error = result.as_ref().err().map_or(0, |e| -(*e as i32));
        record_complete(dev, op, sector, nr, error);
    }
    result
}

#[cold]
#[inline(never)]
fn record_issue(dev: DevT, op: ReqOp, sector: u64, nr: u32) {
    let mut e = Entry::new(&BLOCK_RQ_ISSUE, 60);
    e.put(8, &dev.0.to_le_bytes());
    e.put(16, &sector.to_le_bytes());
    e.put(24, &nr.to_le_bytes());
    e.put(28, &nr.saturating_mul(512).to_le_bytes());
    e.put(32, &rwbs(op));
    e.put_comm(40, &current_comm());
    e.put_data_loc(56, b"");
    e.commit();
}

#[cold]
#[inline(never)]
fn record_complete(dev: DevT, op: ReqOp, sector: u64, nr: u32, error: i32) {
    let mut e = Entry::new(&BLOCK_RQ_COMPLETE, 44);
    e.put(8, &dev.0.to_le_bytes());
    e.put(16, &sector.to_le_bytes());
    e.put(24, &nr.to_le_bytes());
    e.put(28, &error.to_le_bytes());
    e.put(32, &rwbs(op));
    e.put_data_loc(40, b"");
    e.commit();
}

/// Linux: `trace_block_bio_queue(bio)` in `submit_bio_noacct`.
#[inline(always)]
pub fn trace_block_bio_queue(disk: &dyn BlockDevice, bio: &Bio) {
    if BLOCK_BIO_QUEUE.is_enabled() {
        record_bio_queue(disk.devt(), bio.op, bio.sector, bio.sectors());
    }
}

#[cold]
#[inline(never)]
fn record_bio_queue(dev: DevT, op: ReqOp, sector: u64, nr_sector: u64) {
    let mut e = Entry::new(&BLOCK_BIO_QUEUE, 52);
    e.put(8, &dev.0.to_le_bytes());
    e.put(16, &sector.to_le_bytes());
    e.put(24, &u32::try_from(nr_sector).unwrap_or(u32::MAX).to_le_bytes());
    e.put(28, &rwbs(op));
    e.put_comm(36, &current_comm());
    e.commit();
}

fn dev(p: &[u8]) -> (u32, u32) {
    let d = DevT(rd_u32(p, 8));
    (d.major(), d.minor())
}

fn output_issue(p: &[u8], m: &mut dyn fmt::Write) -> fmt::Result {
    let (major, minor) = dev(p);
    write!(
        m,
        "{major},{minor} {} {} ({}) {} + {} [{}]",
        rd_str(p, 32, 8),
        rd_u32(p, 28),
        rd_data_loc(p, 56),
        rd_u64(p, 16),
        rd_u32(p, 24),
        rd_str(p, 40, 16)
    )
}

fn output_complete(p: &[u8], m: &mut dyn fmt::Write) -> fmt::Result {
    let (major, minor) = dev(p);
    write!(
        m,
        "{major},{minor} {} ({}) {} + {} [{}]",
        rd_str(p, 32, 8),
        rd_data_loc(p, 40),
        rd_u64(p, 16),
        rd_u32(p, 24),
        rd_i32(p, 28)
    )
}

fn output_bio_queue(p: &[u8], m: &mut dyn fmt::Write) -> fmt::Result {
    let (major, minor) = dev(p);
    write!(
        m,
        "{major},{minor} {} {} + {} [{}]",
        rd_str(p, 28, 8),
        rd_u64(p, 16),
        rd_u32(p, 24),
        rd_str(p, 36, 16)
    )
}

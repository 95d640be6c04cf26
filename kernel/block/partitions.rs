//! Partitions: reading a disk's partition table and the block device
//! each partition is, a window onto its disk.
//!
//! Linux: block/partitions/core.c (`check_partition`, `add_partition`,
//! `blk_add_partition`), block/partitions/msdos.c (the table itself, here
//! the host-tested `partitions` crate), block/blk-core.c
//! (`blk_partition_remap`: a partition's sector plus its start).
//!
//! A partition's device number is its disk's plus the partition number
//! (virtio-blk reserves 16 minors a disk, so vda1..vda15). I/O is checked
//! against the partition's own size before it is moved by its start, so
//! no partition reaches its neighbour.
//!
//! # Locking
//! None of its own: a partition is immutable once made; the disk does its
//! own locking.
#![deny(unsafe_code)]

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use partitions::{Note, SECTOR_SIZE as TABLE_SECTOR, msdos_partition, partition_name};

use super::bio::{BioVec, ReqOp};
use super::stat::DiskStats;
use super::{BlockDevice, SECTOR_SIZE, check_io};
use crate::fs::inode::DevT;
use crate::kernel::errno::{Errno, KResult};
use crate::{pr_info, pr_warn};

/// One partition of a disk (Linux: the partition's `struct block_device`).
pub struct Partition {
    name: String,
    disk: Arc<dyn BlockDevice>,
    devt: DevT,
    /// First sector on the disk, and length in sectors.
    start: u64,
    sectors: u64,
    stats: DiskStats,
}

impl Partition {
    /// The sector on the disk of partition sector `lba`, after checking a
    /// transfer of `len` bytes fits the partition.
    fn remap(&self, lba: u64, len: usize) -> KResult<u64> {
        check_io(lba, len, self.sectors)?;
        self.start.checked_add(lba).ok_or(Errno::EIO)
    }
}

impl BlockDevice for Partition {
    fn disk_name(&self) -> &str {
        &self.name
    }

    fn capacity(&self) -> u64 {
        self.sectors
    }

    fn read_blocks(&self, lba: u64, buf: &mut [u8]) -> KResult<()> {
        let lba = self.remap(lba, buf.len())?;
        let sectors = (buf.len() / SECTOR_SIZE) as u64;
        self.stats.account(ReqOp::Read, sectors, || self.disk.read_blocks(lba, buf))
    }

    fn write_blocks(&self, lba: u64, buf: &[u8]) -> KResult<()> {
        let lba = self.remap(lba, buf.len())?;
        let sectors = (buf.len() / SECTOR_SIZE) as u64;
        self.stats.account(ReqOp::Write, sectors, || self.disk.write_blocks(lba, buf))
    }

    fn read_only(&self) -> bool {
        self.disk.read_only()
    }

    fn devt(&self) -> DevT {
        self.devt
    }

    fn start_sect(&self) -> u64 {
        self.start
    }

    fn flush(&self) -> KResult<()> {
        self.stats.account(ReqOp::Flush, 0, || self.disk.flush())
    }

    fn discard(&self, lba: u64, sectors: u64) -> KResult<()> {
        let end = lba.checked_add(sectors).filter(|&e| e <= self.sectors).ok_or(Errno::EIO)?;
        self.disk.discard(self.start.checked_add(lba).ok_or(Errno::EIO)?, end - lba)
    }

    fn max_discard_sectors(&self) -> u64 {
        self.disk.max_discard_sectors()
    }

    fn stats(&self) -> Option<&DiskStats> {
        Some(&self.stats)
    }

    fn rw_pages(&self, op: ReqOp, lba: u64, segs: &[BioVec]) -> KResult<()> {
        if op == ReqOp::Flush {
            return self.flush();
        }
        let len = segs.iter().map(|v| v.len).sum();
        let lba = self.remap(lba, len)?;
        let sectors = (len / SECTOR_SIZE) as u64;
        self.stats.account(op, sectors, || self.disk.rw_pages(op, lba, segs))
    }
}

/// Reads `disk`'s partition table and makes its partitions, logging as
/// Linux does (Linux: `check_partition` + `blk_add_partitions`). A disk
/// without a table, or whose sector 0 cannot be read, has none.
pub fn read_partitions(disk: &Arc<dyn BlockDevice>) -> Vec<Arc<Partition>> {
    let read = |lba, buf: &mut [u8; TABLE_SECTOR]| disk.read_blocks(lba, buf).is_ok();
    let Some(table) = msdos_partition(read, disk.capacity(), disk.minors()) else {
        return Vec::new();
    };
    let name = disk.disk_name();
    pr_info!("{}", table.describe(name));
    for note in &table.notes {
        match *note {
            Note::BeyondEnd { number, start } => {
                pr_warn!("{name}: p{number} start {start} is beyond EOD, enabling native capacity")
            }
            Note::Truncated { number, sectors } => {
                pr_warn!("{name}: p{number} size {sectors} extends beyond EOD, truncated")
            }
        }
    }
    let base = disk.devt();
    let mut parts = Vec::new();
    for p in table.partitions {
        if parts.try_reserve(1).is_err() {
            break;
        }
        parts.push(Arc::new(Partition {
            name: partition_name(name, p.number),
            disk: disk.clone(),
            devt: DevT::new(base.major(), base.minor() + p.number),
            start: p.start,
            sectors: p.sectors,
            stats: DiskStats::new_partition(),
        }));
    }
    parts
}

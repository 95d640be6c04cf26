//! The block layer: what a disk driver provides ([`BlockDevice`]), the
//! list of disks and partitions ([`genhd`]), partition tables
//! ([`partitions`]).
//!
//! Linux: include/linux/blkdev.h (`struct gendisk`, `get_capacity`,
//! `SECTOR_SIZE`), block/blk-core.c (`bio_check_eod`: I/O past the end is
//! `EIO`).
//!
//! A driver does synchronous I/O of whole sectors into kernel buffers
//! (and may queue several requests of one call at once); a partition is a
//! [`BlockDevice`] too, forwarding to its disk with an offset. Page-based
//! I/O goes through [`bio`]s, which a plug merges into [`request`]s.
//!
//! # Locking
//! See [`genhd`]: the device list is a leaf lock, never held across I/O.
#![deny(unsafe_code)]

pub mod bio;
pub mod genhd;
pub mod ioprio;
pub mod partitions;
mod partitions_test;
pub mod request;
mod request_test;
pub mod stat;

use core::fmt;

pub use genhd::{add_disk, get_disk, get_disk_by_devt};

use self::bio::{BioVec, ReqOp};
use self::stat::DiskStats;
use crate::fs::inode::DevT;
use crate::kernel::errno::{Errno, KResult};

/// The unit of block addresses and of a disk's capacity, whatever its
/// logical block size (Linux: `SECTOR_SIZE`).
pub const SECTOR_SIZE: usize = 512;

/// A disk (Linux: `struct gendisk` with its `block_device_operations`).
/// Addresses and lengths are in 512-byte sectors; buffers are whole
/// sectors. Errors: `EINVAL` for a buffer that is not whole sectors, `EIO`
/// for I/O past the end or a device error, `EROFS` for a write to a
/// read-only disk.
pub trait BlockDevice: Send + Sync {
    /// "vda", as in /dev and /sys/block.
    fn disk_name(&self) -> &str;
    /// Size in sectors (Linux: `get_capacity`).
    fn capacity(&self) -> u64;
    /// Reads `buf.len() / SECTOR_SIZE` sectors starting at `lba`.
    fn read_blocks(&self, lba: u64, buf: &mut [u8]) -> KResult<()>;
    /// Writes `buf.len() / SECTOR_SIZE` sectors starting at `lba`.
    fn write_blocks(&self, lba: u64, buf: &[u8]) -> KResult<()>;
    /// Whether writes are refused (Linux: `get_disk_ro`).
    fn read_only(&self) -> bool {
        false
    }
    /// The device number of the whole disk or partition (Linux:
    /// `bd_dev`); 0 for a device without one.
    fn devt(&self) -> DevT {
        DevT(0)
    }
    /// Device numbers a disk reserves, itself and its partitions (Linux:
    /// `gendisk.minors`); 1 means the disk is never partitioned.
    fn minors(&self) -> u32 {
        1
    }
    /// A partition's first sector on its disk, 0 for a whole disk
    /// (Linux: `bdev->bd_start_sect`, /sys/block/vda/vda1/start).
    fn start_sect(&self) -> u64 {
        0
    }
    /// Writes the device's volatile cache to stable storage (Linux:
    /// `blkdev_issue_flush`); nothing to do without a write cache.
    fn flush(&self) -> KResult<()> {
        Ok(())
    }
    /// Tells the disk `sectors` sectors from `lba` are unused (Linux:
    /// `blkdev_issue_discard`); what they then read is up to the disk.
    /// `EOPNOTSUPP` for a disk that cannot (Linux: no
    /// `max_discard_sectors`).
    fn discard(&self, _lba: u64, _sectors: u64) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    /// The longest discard the device takes in one request, in sectors;
    /// 0 if it takes none (Linux: `bdev_max_discard_sectors`, which
    /// FITRIM asks before walking a file system).
    fn max_discard_sectors(&self) -> u64 {
        0
    }
    /// Its I/O counters, for /proc/diskstats (Linux: `bd_stats`).
    fn stats(&self) -> Option<&DiskStats> {
        None
    }
    /// Reads or writes the page pieces `segs`, whole sectors back to back,
    /// from sector `lba` (Linux: a request's bio_vecs handed to the
    /// driver's `queue_rq`). The default goes through a kernel buffer; a
    /// driver that can DMA into the pages overrides it.
    fn rw_pages(&self, op: ReqOp, lba: u64, segs: &[BioVec]) -> KResult<()> {
        bio::rw_pages_bounced(self, op, lba, segs)
    }
    /// An ioctl on the device node the block layer does not know (Linux:
    /// `block_device_operations.ioctl`): a loop device's `LOOP_*`.
    fn ioctl(&self, _cmd: u32, _arg: u64) -> KResult<i64> {
        Err(Errno::ENOTTY)
    }
}

/// Checks a transfer of `len` bytes at sector `lba` against a disk of
/// `capacity` sectors; returns the number of sectors.
pub fn check_io(lba: u64, len: usize, capacity: u64) -> KResult<u64> {
    if len == 0 || !len.is_multiple_of(SECTOR_SIZE) {
        return Err(Errno::EINVAL);
    }
    let sectors = (len / SECTOR_SIZE) as u64;
    let end = lba.checked_add(sectors).ok_or(Errno::EIO)?;
    if end > capacity {
        return Err(Errno::EIO);
    }
    Ok(sectors)
}

/// A size as Linux's `string_get_size` prints it, three significant
/// digits: "1.05 MB" (base 1000) or "1.00 MiB" (base 1024).
pub struct SizeFmt {
    pub bytes: u64,
    pub base: u64,
}

impl fmt::Display for SizeFmt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS_10: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
        const UNITS_2: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let units = if self.base == 1024 { UNITS_2 } else { UNITS_10 };
        let base = self.base.max(2);
        let (mut value, mut rem, mut unit) = (self.bytes, 0, 0);
        while value >= base && unit + 1 < units.len() {
            rem = value % base;
            value /= base;
            unit += 1;
        }
        let unit = units[unit];
        // Hundredths of the unit, rounded.
        let hundredths = (rem * 1000 / base + 5) / 10;
        let (value, hundredths) =
            if hundredths >= 100 { (value + 1, 0) } else { (value, hundredths) };
        match value {
            0..10 => write!(f, "{value}.{hundredths:02} {unit}"),
            10..100 => write!(f, "{value}.{} {unit}", hundredths / 10),
            _ => write!(f, "{value} {unit}"),
        }
    }
}

crate::ktest!(block_check_io_bounds, {
    crate::kassert!(check_io(0, 512, 8) == Ok(1), "one sector");
    crate::kassert!(check_io(6, 1024, 8) == Ok(2), "the last two sectors");
    crate::kassert!(check_io(7, 1024, 8) == Err(Errno::EIO), "past the end");
    crate::kassert!(check_io(u64::MAX, 512, 8) == Err(Errno::EIO), "overflowing lba");
    crate::kassert!(check_io(0, 100, 8) == Err(Errno::EINVAL), "not whole sectors");
    crate::kassert!(check_io(0, 0, 8) == Err(Errno::EINVAL), "empty");
    Ok(())
});

crate::ktest!(block_string_get_size, {
    let show = |bytes, base| alloc::format!("{}", SizeFmt { bytes, base });
    crate::kassert!(show(1 << 20, 1000) == "1.05 MB", "1 MiB in MB");
    crate::kassert!(show(1 << 20, 1024) == "1.00 MiB", "1 MiB in MiB");
    crate::kassert!(show(10 << 30, 1000) == "10.7 GB", "10 GiB in GB");
    crate::kassert!(show(512, 1024) == "512 B", "bytes");
    Ok(())
});

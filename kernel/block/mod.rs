//! The block layer's beginning: what a disk driver provides, and the list
//! of disks the kernel knows ("vda", "vdb"…).
//!
//! Linux: include/linux/blkdev.h (`struct gendisk`, `get_capacity`,
//! `SECTOR_SIZE`), block/genhd.c (`device_add_disk`, the disk list),
//! block/blk-core.c (`bio_check_eod`: I/O past the end is `EIO`).
//!
//! For now a driver does synchronous I/O of whole sectors into kernel
//! buffers; bios, a request queue that merges, partitions and block
//! device files come on top of [`BlockDevice`] without changing it.
//!
//! # Locking
//! `DISKS` (Linux: the `block_class` device list) is a leaf, held only to
//! add to or copy the list, never across I/O.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

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

static DISKS: SpinLock<Vec<Arc<dyn BlockDevice>>> = SpinLock::new(Vec::new());

/// Makes a disk known (Linux: `device_add_disk`).
pub fn add_disk(disk: Arc<dyn BlockDevice>) -> KResult<()> {
    let mut disks = DISKS.lock();
    disks.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    disks.push(disk);
    Ok(())
}

/// The disk called `name` (Linux: looking a disk up by its name, as
/// `root=/dev/vda` does).
pub fn get_disk(name: &str) -> Option<Arc<dyn BlockDevice>> {
    DISKS.lock().iter().find(|d| d.disk_name() == name).cloned()
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

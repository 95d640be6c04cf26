//! The list of block devices the kernel knows, whole disks and their
//! partitions, looked up by name ("vda1") or device number (254:1).
//!
//! Linux: block/genhd.c (`device_add_disk`, `show_partition` for
//! /proc/partitions), block/bdev.c (`blkdev_get_no_open`: a device number
//! to its block device), block/partitions/core.c (`bdev_disk_changed`).
//!
//! Adding a disk reads its partition table and adds one entry per
//! partition right after the disk, so the list is in /proc/partitions
//! order.
//!
//! # Locking
//! `DISKS` (Linux: the `block_class` device list) is a leaf, held only to
//! change or copy the list, never across I/O: the partition table is read
//! before taking it.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::BlockDevice;
use super::partitions::{Partition, read_partitions};
use crate::fs::inode::DevT;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

/// One entry: a whole disk (`whole == None`) or a partition of `whole`.
#[derive(Clone)]
pub struct BdevEntry {
    pub bdev: Arc<dyn BlockDevice>,
    pub whole: Option<Arc<dyn BlockDevice>>,
}

static DISKS: SpinLock<Vec<BdevEntry>> = SpinLock::new(Vec::new());

/// Makes a disk known and adds its partitions (Linux:
/// `device_add_disk` → `disk_scan_partitions`); prints Linux's
/// `" vda: vda1 vda2"` line when the disk has a partition table.
pub fn add_disk(disk: Arc<dyn BlockDevice>) -> KResult<()> {
    let parts = if disk.minors() > 1 { read_partitions(&disk) } else { Vec::new() };
    let mut disks = DISKS.lock();
    disks.try_reserve(1 + parts.len()).map_err(|_| Errno::ENOMEM)?;
    disks.push(BdevEntry { bdev: disk.clone(), whole: None });
    disks.extend(parts.into_iter().map(|p| entry_of(&disk, p)));
    Ok(())
}

fn entry_of(disk: &Arc<dyn BlockDevice>, part: Arc<Partition>) -> BdevEntry {
    BdevEntry { bdev: part, whole: Some(disk.clone()) }
}

/// The disk or partition called `name` (Linux: looking a disk up by its
/// name, as `root=/dev/vda1` does).
pub fn get_disk(name: &str) -> Option<Arc<dyn BlockDevice>> {
    DISKS.lock().iter().find(|d| d.bdev.disk_name() == name).map(|d| d.bdev.clone())
}

/// The disk or partition numbered `devt` (Linux: `blkdev_get_no_open`).
pub fn get_disk_by_devt(devt: DevT) -> Option<Arc<dyn BlockDevice>> {
    if devt == DevT(0) {
        return None;
    }
    DISKS.lock().iter().find(|d| d.bdev.devt() == devt).map(|d| d.bdev.clone())
}

/// Every disk and partition, disks each followed by their partitions.
pub fn all_bdevs() -> Vec<BdevEntry> {
    DISKS.lock().clone()
}

/// Re-reads the partition table of whole disk `disk` (Linux: `BLKRRPART`
/// → `bdev_disk_changed`). `EINVAL` for a partition, `EBUSY` while a
/// partition is in use: held by something besides this list (an open
/// file, a mount).
pub fn rescan_partitions(disk: &Arc<dyn BlockDevice>) -> KResult<()> {
    let devt = disk.devt();
    let mut disks = DISKS.lock();
    let is_whole = disks.iter().any(|d| d.whole.is_none() && d.bdev.devt() == devt);
    if !is_whole || disk.minors() <= 1 {
        return Err(Errno::EINVAL);
    }
    let ours = |d: &BdevEntry| d.whole.as_ref().is_some_and(|w| w.devt() == devt);
    if disks.iter().filter(|d| ours(d)).any(|d| Arc::strong_count(&d.bdev) > 1) {
        return Err(Errno::EBUSY);
    }
    disks.retain(|d| !ours(d));
    drop(disks);
    // Someone may open a partition between the two locks: the table read
    // here is then what the newly added entries say.
    let parts = read_partitions(disk);
    let mut disks = DISKS.lock();
    let at = disks.iter().position(|d| d.bdev.devt() == devt).map_or(disks.len(), |i| i + 1);
    disks.try_reserve(parts.len()).map_err(|_| Errno::ENOMEM)?;
    for (i, part) in parts.into_iter().enumerate() {
        disks.insert(at + i, entry_of(disk, part));
    }
    Ok(())
}

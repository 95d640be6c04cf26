//! Disks and partitions in sysfs: `/sys/block/vda`, `/sys/class/block`,
//! `/sys/dev/block/254:0` (Linux: block/genhd.c `disk_attrs`,
//! block/partitions/core.c `part_attrs`, block/blk-sysfs.c `queue/`).
//!
//! A disk's directory holds `dev`, `size` (512-byte sectors), `ro`,
//! `removable`, `range`, `ext_range`, `stat`, `inflight`, `uevent` and
//! `queue/`; each partition is a subdirectory with `dev`, `partition`,
//! `start`, `size`, `ro`, `stat`, `inflight`, `uevent`. Values are read
//! from the block layer when the file is read.
//!
//! # Locking
//! The disk list is copied once (`all_bdevs`); attributes hold their
//! device by a weak reference (a partition a new table dropped must not
//! look busy to `BLKRRPART`; its files then read `ENODEV`, as Linux's of a
//! deleted device) and take no lock but the device's own.
#![deny(unsafe_code)]

use alloc::format;
use alloc::sync::{Arc, Weak};

use super::kernfs::KernfsBuilder;
use crate::block::genhd::all_bdevs;
use crate::block::{BlockDevice, SECTOR_SIZE};
use crate::fs::proc::generic::SeqBuf;
use crate::kernel::errno::{Errno, KResult};

/// Where a disk's directory is (see the module header of sysfs).
const BLOCK_DEVICES: &str = "devices/virtual/block";

/// Linux: `part_stat_show`: 17 fields, times in milliseconds; discards
/// are never counted here.
fn stat_show(dev: &dyn BlockDevice, m: &mut SeqBuf) -> KResult<()> {
    let s = dev.stats().map(|s| s.snapshot()).unwrap_or_default();
    let fields = s.iostat_fields();
    for (i, field) in fields.iter().enumerate() {
        let end = if i + 1 == fields.len() { '\n' } else { ' ' };
        m.printf(format_args!("{field:>8}{end}"))?;
    }
    Ok(())
}

/// Attribute `name` of `dev`, shown by `show` while the device lives.
fn dev_attr(
    b: &mut KernfsBuilder,
    dir: &str,
    name: &str,
    dev: &Arc<dyn BlockDevice>,
    show: fn(&dyn BlockDevice, &mut SeqBuf) -> KResult<()>,
) -> KResult<()> {
    let weak: Weak<dyn BlockDevice> = Arc::downgrade(dev);
    b.attr(dir, name, move |m| show(&*weak.upgrade().ok_or(Errno::ENODEV)?, m))
}

/// The attributes a disk and a partition share.
fn add_common(b: &mut KernfsBuilder, dir: &str, dev: &Arc<dyn BlockDevice>) -> KResult<()> {
    let devt = dev.devt();
    b.attr(dir, "dev", move |m| m.printf(format_args!("{}:{}\n", devt.major(), devt.minor())))?;
    dev_attr(b, dir, "size", dev, |d, m| m.printf(format_args!("{}\n", d.capacity())))?;
    dev_attr(b, dir, "ro", dev, |d, m| m.printf(format_args!("{}\n", u8::from(d.read_only()))))?;
    dev_attr(b, dir, "stat", dev, stat_show)?;
    // Linux splits in-flight I/O by direction; the block layer counts one
    // total, shown as reads.
    dev_attr(b, dir, "inflight", dev, |d, m| {
        let n = d.stats().map_or(0, |s| s.snapshot().in_flight);
        m.printf(format_args!("{n:>8} {:>8}\n", 0))
    })
}

/// `uevent`: what udev and mdev read (Linux: `dev_uevent` +
/// `part_uevent`); DEVNAME after MAJOR and MINOR, as mdev looks for
/// "\nDEVNAME=".
fn add_uevent(
    b: &mut KernfsBuilder,
    dir: &str,
    dev: &Arc<dyn BlockDevice>,
    partn: Option<u32>,
) -> KResult<()> {
    let devt = dev.devt();
    let devtype = if partn.is_some() { "partition" } else { "disk" };
    let mut env = alloc::vec![
        format!("MAJOR={}", devt.major()),
        format!("MINOR={}", devt.minor()),
        format!("DEVNAME={}", dev.disk_name()),
        format!("DEVTYPE={devtype}"),
    ];
    if let Some(n) = partn {
        env.push(format!("PARTN={n}"));
    }
    let shown = env.clone();
    let devpath = format!("/{dir}");
    let show = move |m: &mut SeqBuf| shown.iter().try_for_each(|v| m.printf(format_args!("{v}\n")));
    // Writing an action sends that event (Linux: `uevent_store`).
    let store = move |buf: &[u8]| {
        crate::net::netlink::uevent::kobject_synth_uevent(buf, &devpath, "block", &env)
    };
    b.attr_rw(dir, "uevent", show, store)
}

/// A whole disk's directory and its `queue/` (Linux: `disk_attrs`,
/// `queue_attrs`: a virtio disk without `VIRTIO_BLK_F_BLK_SIZE` has
/// 512-byte blocks and is not rotational).
fn add_disk(b: &mut KernfsBuilder, disk: &Arc<dyn BlockDevice>) -> KResult<()> {
    let name = disk.disk_name();
    let dir = format!("{BLOCK_DEVICES}/{name}");
    add_common(b, &dir, disk)?;
    add_uevent(b, &dir, disk, None)?;
    let minors = disk.minors();
    b.attr(&dir, "range", move |m| m.printf(format_args!("{minors}\n")))?;
    b.attr(&dir, "ext_range", move |m| m.printf(format_args!("{minors}\n")))?;
    b.attr(&dir, "removable", |m| m.puts(b"0\n"))?;
    b.link(&dir, "subsystem", "../../../../class/block")?;
    let queue = format!("{dir}/queue");
    for attr in ["logical_block_size", "physical_block_size", "hw_sector_size", "minimum_io_size"] {
        b.attr(&queue, attr, |m| m.printf(format_args!("{SECTOR_SIZE}\n")))?;
    }
    b.attr(&queue, "rotational", |m| m.puts(b"0\n"))?;
    b.link("block", name, &format!("../{dir}"))?;
    b.link("class/block", name, &format!("../../{dir}"))?;
    let devt = disk.devt();
    let num = format!("{}:{}", devt.major(), devt.minor());
    b.link("dev/block", &num, &format!("../../{dir}"))
}

/// A partition's directory inside its disk's (Linux: `part_attrs`).
fn add_partition(
    b: &mut KernfsBuilder,
    part: &Arc<dyn BlockDevice>,
    disk: &Arc<dyn BlockDevice>,
) -> KResult<()> {
    let dir = format!("{BLOCK_DEVICES}/{}/{}", disk.disk_name(), part.disk_name());
    let partn = part.devt().minor().saturating_sub(disk.devt().minor());
    add_common(b, &dir, part)?;
    add_uevent(b, &dir, part, Some(partn))?;
    b.attr(&dir, "partition", move |m| m.printf(format_args!("{partn}\n")))?;
    let start = part.start_sect();
    b.attr(&dir, "start", move |m| m.printf(format_args!("{start}\n")))?;
    b.link(&dir, "subsystem", "../../../../../class/block")?;
    b.link("class/block", part.disk_name(), &format!("../../{dir}"))?;
    let devt = part.devt();
    let num = format!("{}:{}", devt.major(), devt.minor());
    b.link("dev/block", &num, &format!("../../{dir}"))
}

/// Every disk the block layer knows, each with its partitions.
pub fn add_block_devices(b: &mut KernfsBuilder) -> KResult<()> {
    for entry in all_bdevs() {
        match &entry.whole {
            None => add_disk(b, &entry.bdev)?,
            Some(disk) => add_partition(b, &entry.bdev, disk)?,
        }
    }
    Ok(())
}

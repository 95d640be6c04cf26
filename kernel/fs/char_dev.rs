//! Character-device numbers to drivers (Linux: fs/char_dev.c, `cdev_map`,
//! `register_chrdev_region` + `cdev_add`, `chrdev_open`).
//!
//! A driver registers its [`FileOps`] for a range of device numbers; opening
//! a character-device node looks its `i_rdev` up here and the open file gets
//! those operations. A number nobody registered opens with `ENXIO`, as in
//! Linux. `drivers::char::mem` registers major 1 (null, zero, full, random,
//! urandom); the tty layer registers 4:64 (ttyS0), 5:0 (tty), 5:1 (console):
//! `register_chrdev_region(DevT::new(5, 1), 1, "console", &CONSOLE_FOPS)`.
//!
//! # Locking
//! `CHRDEVS` is a leaf lock.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use super::file_table::FileOps;
use super::inode::DevT;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

#[allow(dead_code, reason = "the name is for /proc/devices")]
struct CharDevRegion {
    base: DevT,
    count: u32,
    name: &'static str,
    fops: &'static dyn FileOps,
}

static CHRDEVS: SpinLock<Vec<CharDevRegion>> = SpinLock::new(Vec::new());

/// Binds `count` device numbers from `base` to `fops` (Linux:
/// `register_chrdev_region` + `cdev_add`); `EBUSY` if any is taken.
pub fn register_chrdev_region(
    base: DevT,
    count: u32,
    name: &'static str,
    fops: &'static dyn FileOps,
) -> KResult<()> {
    let end = base.0.checked_add(count).ok_or(Errno::EINVAL)?;
    let mut map = CHRDEVS.lock();
    if map.iter().any(|r| base.0 < r.base.0 + r.count && r.base.0 < end) {
        return Err(Errno::EBUSY);
    }
    map.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    map.push(CharDevRegion { base, count, name, fops });
    Ok(())
}

#[allow(dead_code, reason = "for drivers that take a whole major")]
/// Binds all 256 minors of `major` (Linux: `register_chrdev`).
pub fn register_chrdev(major: u32, name: &'static str, fops: &'static dyn FileOps) -> KResult<()> {
    register_chrdev_region(DevT::new(major, 0), 256, name, fops)
}

/// The operations for device `rdev`; `ENXIO` without a driver (Linux:
/// `chrdev_open` → `kobj_lookup`).
pub fn chrdev_fops(rdev: DevT) -> KResult<&'static dyn FileOps> {
    let map = CHRDEVS.lock();
    map.iter()
        .find(|r| rdev.0 >= r.base.0 && rdev.0 - r.base.0 < r.count)
        .map(|r| r.fops)
        .ok_or(Errno::ENXIO)
}

#[allow(dead_code, reason = "for /proc/devices")]
/// Registered regions as (major, name), for /proc/devices, by first
/// device number (Linux keeps a major's regions sorted by `baseminor`).
pub fn chrdevs() -> Vec<(u32, &'static str)> {
    let mut regions: Vec<(DevT, &'static str)> =
        CHRDEVS.lock().iter().map(|r| (r.base, r.name)).collect();
    regions.sort_by_key(|&(base, _)| base.0);
    regions.into_iter().map(|(base, name)| (base.major(), name)).collect()
}

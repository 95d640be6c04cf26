//! The ioctls of ext2 files and directories: `FITRIM`, which tells the
//! disk which blocks are free (`fstrim`). Others are `ENOTTY`.
//!
//! Linux's ext2 has no FITRIM; Debian mounts ext2 with the ext4 driver,
//! so Linux: fs/ext4/ioctl.c (`FITRIM` in `__ext4_ioctl`) and
//! fs/ext4/mballoc.c (`ext4_trim_fs`, `ext4_trim_extent`). The order of
//! the checks is ext4's: `EPERM` without `CAP_SYS_ADMIN`, `EOPNOTSUPP` for
//! a disk without discard, `EFAULT`, then the range's `EINVAL`. A
//! read-only mount is trimmed too (ext4 refuses only a `noload` journal,
//! which ext2 has none of). On success `len` becomes the bytes trimmed.
//! The walk itself is the library's (libs/ext2 trim.rs).
//!
//! # Locking
//! The instance mutex ([`Ext2Sb::fs`](super::Ext2Sb), S4) is held for one
//! group's walk and its discards, so nothing is allocated there meanwhile
//! (Linux: `ext4_lock_group` and marking the extent busy), and released
//! between groups so that other work goes on during a long trim.
#![deny(unsafe_code)]

use linux_raw_sys::general::CAP_SYS_ADMIN;
use linux_raw_sys::ioctl::FITRIM;

use super::{Ext2Sb, ext2_sb};
use crate::arch::uaccess::{UserAddr, copy_from_user, copy_to_user};
use crate::block::SECTOR_SIZE;
use crate::fs::file_table::File;
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};

/// Linux: `struct fstrim_range { __u64 start, len, minlen; }`.
const FSTRIM_RANGE_SIZE: usize = 24;

/// Linux: `ext4_ioctl` for the commands ext2 answers.
pub fn ext2_ioctl(file: &File, cmd: u32, arg: u64) -> KResult<i64> {
    match cmd {
        FITRIM => ext2_ioctl_fitrim(file, arg),
        _ => Err(Errno::ENOTTY),
    }
}

/// Linux: `ext4_ioctl_fitrim`.
fn ext2_ioctl_fitrim(file: &File, arg: u64) -> KResult<i64> {
    if !capable(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let info = ext2_sb(&file.f_inode.sb)?;
    if info.disk.max_discard_sectors() == 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let mut raw = [0u8; FSTRIM_RANGE_SIZE];
    copy_from_user(&mut raw, UserAddr::new(arg)).map_err(|_| Errno::EFAULT)?;
    let field = |i: usize| {
        raw.get(i * 8..i * 8 + 8).and_then(|b| b.try_into().ok()).map_or(0, u64::from_ne_bytes)
    };
    let (start, len, minlen) = (field(0), field(1), field(2));
    let trimmed = ext2_trim_fs(info, start, len, minlen)?;
    raw[8..16].copy_from_slice(&trimmed.to_ne_bytes());
    copy_to_user(UserAddr::new(arg), &raw).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}

/// Discards the free blocks of `[start, start + len)` in runs of at least
/// `minlen` bytes and returns the bytes discarded (Linux: `ext4_trim_fs`).
/// The disk's discard granularity is taken as a sector: Ferrite's
/// virtio-blk does not read `discard_sector_alignment`.
pub fn ext2_trim_fs(info: &Ext2Sb, start: u64, len: u64, minlen: u64) -> KResult<u64> {
    let granularity = SECTOR_SIZE as u64;
    let (range, block_size) = info.with_fs(|fs| {
        let range = fs.trim_range(start, len, minlen, granularity);
        Ok((range.map_err(|e| info.errno(e, 0))?, fs.block_size()))
    })?;
    let Some(r) = range else { return Ok(0) };
    let sectors_per_block = u64::from(block_size) / SECTOR_SIZE as u64;
    let mut blocks = 0u64;
    for g in r.first_group..=r.last_group {
        let from = if g == r.first_group { r.first_offset } else { 0 };
        let to = if g == r.last_group { r.last_offset } else { u32::MAX };
        let mut discard = |block: u32, count: u32| {
            let lba = u64::from(block) * sectors_per_block;
            match info.disk.discard(lba, u64::from(count) * sectors_per_block) {
                // Linux: `ext4_try_to_trim_range` counts it all the same.
                Ok(()) | Err(Errno::EOPNOTSUPP) => Ok(()),
                Err(_) => Err(ext2::Error::Io),
            }
        };
        let n = info.with_fs(|fs| {
            fs.trim_group(g, from, to, r.minlen, &mut discard).map_err(|e| info.errno(e, 0))
        })?;
        blocks += u64::from(n);
    }
    info.with_fs(|fs| {
        fs.trim_done(r.minlen);
        Ok(())
    })?;
    Ok(blocks * u64::from(block_size))
}

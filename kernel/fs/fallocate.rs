//! fallocate, fadvise64 and readahead: telling a file system about space
//! and access patterns ahead of time (Linux: fs/open.c `vfs_fallocate`,
//! mm/fadvise.c `generic_fadvise`, mm/readahead.c `ksys_readahead`).
//!
//! `vfs_fallocate` makes Linux's generic checks, in Linux's order (mode,
//! access, file type, range), then calls the file's `fallocate` hook;
//! a file system without one answers `EOPNOTSUPP`. Ferrite's page cache
//! has no backing device to read ahead from, so fadvise validates and
//! ignores its advice, as Linux does for tmpfs (`noop_backing_dev_info`).
//!
//! # Locking
//! None of its own; the file system's hook locks its page cache.
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use super::fdget;
use super::file_table::{FMode, File};
use super::inode::FileType;
use super::read_write::MAX_LFS_FILESIZE;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::Fd;

/// The modes any file system may know (Linux: `FALLOC_FL_SUPPORTED_MASK`).
const FALLOC_FL_SUPPORTED_MASK: u32 = uapi::FALLOC_FL_KEEP_SIZE
    | uapi::FALLOC_FL_PUNCH_HOLE
    | uapi::FALLOC_FL_COLLAPSE_RANGE
    | uapi::FALLOC_FL_ZERO_RANGE
    | uapi::FALLOC_FL_INSERT_RANGE
    | uapi::FALLOC_FL_UNSHARE_RANGE;

/// The combinations of mode bits Linux rejects before looking at the
/// file: `EOPNOTSUPP` for unknown or contradictory ones, `EINVAL` for the
/// range operations mixed with anything else.
fn check_mode(mode: u32) -> KResult<()> {
    use uapi::{
        FALLOC_FL_COLLAPSE_RANGE as COLLAPSE, FALLOC_FL_INSERT_RANGE as INSERT,
        FALLOC_FL_KEEP_SIZE as KEEP, FALLOC_FL_PUNCH_HOLE as PUNCH,
        FALLOC_FL_UNSHARE_RANGE as UNSHARE, FALLOC_FL_ZERO_RANGE as ZERO,
    };
    if mode & !FALLOC_FL_SUPPORTED_MASK != 0
        || mode & (PUNCH | ZERO) == PUNCH | ZERO
        || (mode & PUNCH != 0 && mode & KEEP == 0)
    {
        return Err(Errno::EOPNOTSUPP);
    }
    let exclusive = |bit: u32, allowed: u32| mode & bit != 0 && mode & !allowed != 0;
    if exclusive(COLLAPSE, COLLAPSE)
        || exclusive(INSERT, INSERT)
        || exclusive(UNSHARE, UNSHARE | KEEP)
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// fallocate(2) on an open file (Linux: `vfs_fallocate`).
pub fn vfs_fallocate(file: &File, mode: u32, offset: i64, len: i64) -> KResult<()> {
    if offset < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    check_mode(mode)?;
    if !file.f_mode.contains(FMode::WRITE) {
        return Err(Errno::EBADF);
    }
    match file.f_inode.file_type() {
        FileType::Fifo => return Err(Errno::ESPIPE),
        FileType::Directory => return Err(Errno::EISDIR),
        FileType::Regular | FileType::BlockDev => {}
        _ => return Err(Errno::ENODEV),
    }
    // Both are non-negative, so only the upper bound can be crossed.
    let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
    if end.unsigned_abs() > MAX_LFS_FILESIZE {
        return Err(Errno::EFBIG);
    }
    file.f_op.fallocate(file, mode, offset.unsigned_abs(), len.unsigned_abs())
}

/// fallocate(2). `O_PATH` descriptors are `EBADF`, as Linux's `fdget`.
pub fn sys_fallocate(fd: Fd, mode: i32, offset: i64, len: i64) -> KResult<()> {
    let file = fdget(fd)?;
    if file.f_mode.contains(FMode::PATH) {
        return Err(Errno::EBADF);
    }
    vfs_fallocate(&file, mode.cast_unsigned(), offset, len)
}

/// Validates `advice` for `file` (Linux: `generic_fadvise` on a mapping
/// with no backing device: every known advice is accepted and ignored).
pub fn vfs_fadvise(file: &File, len: i64, advice: i32) -> KResult<()> {
    if file.f_inode.file_type() == FileType::Fifo {
        return Err(Errno::ESPIPE);
    }
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    match u32::try_from(advice) {
        Ok(uapi::POSIX_FADV_NORMAL..=uapi::POSIX_FADV_NOREUSE) => Ok(()),
        _ => Err(Errno::EINVAL),
    }
}

/// fadvise64(2) (Linux: `ksys_fadvise64_64`).
pub fn sys_fadvise64(fd: Fd, offset: i64, len: i64, advice: i32) -> KResult<()> {
    let _ = offset;
    let file = fdget(fd)?;
    if file.f_mode.contains(FMode::PATH) {
        return Err(Errno::EBADF);
    }
    vfs_fadvise(&file, len, advice)
}

/// readahead(2): `EBADF` unless open for reading, `EINVAL` for anything
/// but a regular file (Linux: `ksys_readahead`).
pub fn sys_readahead(fd: Fd, offset: i64, count: usize) -> KResult<()> {
    let _ = (offset, count);
    let file = fdget(fd)?;
    if file.f_mode.contains(FMode::PATH) || !file.f_mode.contains(FMode::READ) {
        return Err(Errno::EBADF);
    }
    if file.f_inode.file_type() != FileType::Regular {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

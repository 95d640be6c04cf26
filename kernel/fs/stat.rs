//! stat, statx and readlink (Linux: fs/stat.c `vfs_getattr`,
//! `generic_fillattr`, `cp_new_stat`, `cp_statx`, `do_readlinkat`).
//!
//! [`Kstat`] is the file-system-neutral answer; [`cp_new_stat`] and
//! [`cp_statx`] lay it out as x86_64's `struct stat` and `struct statx`
//! (from linux-raw-sys), which the system calls at the end copy out whole.
//!
//! # Locking
//! Reads one inode's attributes under its `i_lock`.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use super::inode::{DevT, FileType, Inode, Timespec};
use super::namei::{LookupFlags, filename_lookup, getname_flags, user_path_at};
use super::namespace::Path;
use super::{FsContext, current_fs, raw_dfd, raw_fd};
use crate::arch::uaccess::copy_to_user;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{AtFd, Fd, UserPtr};

/// Attributes of a file (Linux: `struct kstat`).
#[derive(Clone, Copy, Debug)]
pub struct Kstat {
    pub dev: DevT,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: DevT,
    pub size: u64,
    pub blksize: u32,
    pub blocks: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    pub mnt_id: u64,
    pub mount_root: bool,
}

/// Linux: `vfs_getattr` → `generic_fillattr`.
pub fn vfs_getattr(path: &Path) -> KResult<Kstat> {
    let inode = path.dentry.positive()?;
    Ok(fill_kstat(&inode, path))
}

fn fill_kstat(inode: &Inode, path: &Path) -> Kstat {
    let a = inode.attr();
    Kstat {
        dev: inode.sb.s_dev,
        ino: inode.ino,
        mode: a.mode,
        nlink: a.nlink,
        uid: a.uid,
        gid: a.gid,
        rdev: a.rdev,
        size: a.size,
        blksize: inode.sb.s_blocksize,
        blocks: a.blocks,
        atime: a.atime,
        mtime: a.mtime,
        ctime: a.ctime,
        mnt_id: path.mnt.mnt_id,
        mount_root: alloc::sync::Arc::ptr_eq(&path.dentry, &path.mnt.mnt_root),
    }
}

/// stat/lstat/newfstatat/fstat by path (Linux: `vfs_fstatat`); `flags`
/// takes `AT_SYMLINK_NOFOLLOW`, `AT_EMPTY_PATH`, `AT_NO_AUTOMOUNT`.
pub fn vfs_fstatat(ctx: FsContext<'_>, dfd: i32, name: &[u8], flags: u32) -> KResult<Kstat> {
    vfs_getattr(&user_path_at(ctx, dfd, name, flags)?)
}

/// fstat(2).
pub fn vfs_fstat(ctx: FsContext<'_>, fd: i32) -> KResult<Kstat> {
    let file = ctx.files.get(fd)?;
    Ok(fill_kstat(&file.f_inode, &file.f_path))
}

fn secs(t: Timespec) -> (u64, u64) {
    // Negative times wrap as Linux's unsigned `st_atime` does.
    (t.sec as u64, u64::from(t.nsec))
}

/// x86_64's `struct stat` (Linux: `cp_new_stat`).
pub fn cp_new_stat(st: &Kstat) -> uapi::stat {
    let (atime, atime_nsec) = secs(st.atime);
    let (mtime, mtime_nsec) = secs(st.mtime);
    let (ctime, ctime_nsec) = secs(st.ctime);
    uapi::stat {
        st_dev: st.dev.encode(),
        st_ino: st.ino,
        st_nlink: u64::from(st.nlink),
        st_mode: st.mode,
        st_uid: st.uid,
        st_gid: st.gid,
        __pad0: 0,
        st_rdev: st.rdev.encode(),
        st_size: i64::try_from(st.size).unwrap_or(i64::MAX),
        st_blksize: i64::from(st.blksize),
        st_blocks: i64::try_from(st.blocks).unwrap_or(i64::MAX),
        st_atime: atime,
        st_atime_nsec: atime_nsec,
        st_mtime: mtime,
        st_mtime_nsec: mtime_nsec,
        st_ctime: ctime,
        st_ctime_nsec: ctime_nsec,
        __unused: [0; 3],
    }
}

fn statx_ts(t: Timespec) -> uapi::statx_timestamp {
    uapi::statx_timestamp { tv_sec: t.sec, tv_nsec: t.nsec, __reserved: 0 }
}

/// `struct statx` (Linux: `cp_statx`); every basic field is filled
/// whatever was asked, as Linux's tmpfs does, and no birth time.
pub fn cp_statx(st: &Kstat, _mask: u32) -> uapi::statx {
    let zero = statx_ts(Timespec::default());
    uapi::statx {
        stx_mask: uapi::STATX_BASIC_STATS | uapi::STATX_MNT_ID,
        stx_blksize: st.blksize,
        stx_attributes: if st.mount_root { u64::from(uapi::STATX_ATTR_MOUNT_ROOT) } else { 0 },
        stx_nlink: st.nlink,
        stx_uid: st.uid,
        stx_gid: st.gid,
        // The mode is 16 bits in statx by definition.
        stx_mode: u16::try_from(st.mode & 0xffff).unwrap_or(0),
        __spare0: [0],
        stx_ino: st.ino,
        stx_size: st.size,
        stx_blocks: st.blocks,
        stx_attributes_mask: u64::from(uapi::STATX_ATTR_MOUNT_ROOT),
        stx_atime: statx_ts(st.atime),
        stx_btime: zero,
        stx_ctime: statx_ts(st.ctime),
        stx_mtime: statx_ts(st.mtime),
        stx_rdev_major: st.rdev.major(),
        stx_rdev_minor: st.rdev.minor(),
        stx_dev_major: st.dev.major(),
        stx_dev_minor: st.dev.minor(),
        stx_mnt_id: st.mnt_id,
        stx_dio_mem_align: 0,
        stx_dio_offset_align: 0,
        stx_subvol: 0,
        stx_atomic_write_unit_min: 0,
        stx_atomic_write_unit_max: 0,
        stx_atomic_write_segments_max: 0,
        stx_dio_read_offset_align: 0,
        stx_atomic_write_unit_max_opt: 0,
        __spare2: [0],
        __spare3: [0; 8],
    }
}

/// statx(2) (Linux: `do_statx`): `EINVAL` for unknown flags, both sync
/// modes at once, or the reserved mask bit.
pub fn do_statx(
    ctx: FsContext<'_>,
    dfd: i32,
    name: &[u8],
    flags: u32,
    mask: u32,
) -> KResult<uapi::statx> {
    let allowed = uapi::AT_SYMLINK_NOFOLLOW
        | uapi::AT_EMPTY_PATH
        | uapi::AT_NO_AUTOMOUNT
        | uapi::AT_STATX_SYNC_TYPE;
    if flags & !allowed != 0 || flags & uapi::AT_STATX_SYNC_TYPE == uapi::AT_STATX_SYNC_TYPE {
        return Err(Errno::EINVAL);
    }
    if mask & uapi::STATX__RESERVED != 0 {
        return Err(Errno::EINVAL);
    }
    let how = LookupFlags::from_at_flags(flags & !uapi::AT_STATX_SYNC_TYPE, allowed)?;
    let path = filename_lookup(ctx, dfd, name, how)?;
    Ok(cp_statx(&vfs_getattr(&path)?, mask))
}

/// readlink(2), readlinkat(2) (Linux: `do_readlinkat`): the target, cut to
/// `bufsiz` bytes, no NUL; `EINVAL` for a non-link or `bufsiz` 0.
pub fn do_readlinkat(ctx: FsContext<'_>, dfd: i32, name: &[u8], bufsiz: usize) -> KResult<Vec<u8>> {
    if bufsiz == 0 {
        return Err(Errno::EINVAL);
    }
    let path = filename_lookup(ctx, dfd, name, LookupFlags::EMPTY)?;
    let inode = path.dentry.positive()?;
    if inode.file_type() != FileType::Symlink {
        return Err(Errno::EINVAL);
    }
    let mut target = inode.i_op.get_link(&inode)?;
    target.truncate(bufsiz);
    Ok(target)
}

/// stat(2).
pub fn sys_newstat(filename: UserPtr<u8>, statbuf: UserPtr<uapi::stat>) -> KResult<()> {
    sys_newfstatat(AtFd::Cwd, filename, statbuf, 0)
}

/// lstat(2).
pub fn sys_newlstat(filename: UserPtr<u8>, statbuf: UserPtr<uapi::stat>) -> KResult<()> {
    sys_newfstatat(AtFd::Cwd, filename, statbuf, uapi::AT_SYMLINK_NOFOLLOW)
}

/// fstat(2).
pub fn sys_newfstat(fd: Fd, statbuf: UserPtr<uapi::stat>) -> KResult<()> {
    let st = vfs_fstat(current_fs()?.ctx(), raw_fd(fd)?)?;
    statbuf.write(&cp_new_stat(&st))
}

/// newfstatat(2), the `fstatat` of 64-bit programs.
pub fn sys_newfstatat(
    dfd: AtFd,
    filename: UserPtr<u8>,
    statbuf: UserPtr<uapi::stat>,
    flag: u32,
) -> KResult<()> {
    let name = getname_flags(filename, flag & uapi::AT_EMPTY_PATH != 0)?;
    let st = vfs_fstatat(current_fs()?.ctx(), raw_dfd(dfd)?, &name, flag)?;
    statbuf.write(&cp_new_stat(&st))
}

/// statx(2).
pub fn sys_statx(
    dfd: AtFd,
    filename: UserPtr<u8>,
    flags: u32,
    mask: u32,
    buffer: UserPtr<uapi::statx>,
) -> KResult<()> {
    let name = getname_flags(filename, flags & uapi::AT_EMPTY_PATH != 0)?;
    let stx = do_statx(current_fs()?.ctx(), raw_dfd(dfd)?, &name, flags, mask)?;
    buffer.write(&stx)
}

/// readlink(2).
pub fn sys_readlink(path: UserPtr<u8>, buf: UserPtr<u8>, bufsiz: i32) -> KResult<usize> {
    sys_readlinkat(AtFd::Cwd, path, buf, bufsiz)
}

/// readlinkat(2): the target's length; `EINVAL` for `bufsiz <= 0` before
/// the path is even read, as Linux does.
pub fn sys_readlinkat(
    dfd: AtFd,
    path: UserPtr<u8>,
    buf: UserPtr<u8>,
    bufsiz: i32,
) -> KResult<usize> {
    let size = usize::try_from(bufsiz).ok().filter(|&n| n > 0).ok_or(Errno::EINVAL)?;
    let name = getname_flags(path, true)?;
    let target = match do_readlinkat(current_fs()?.ctx(), raw_dfd(dfd)?, &name, size) {
        // An empty path names the descriptor itself: not a link is ENOENT.
        Err(Errno::EINVAL) if name.is_empty() => return Err(Errno::ENOENT),
        other => other?,
    };
    copy_to_user(buf.addr(), &target).map_err(|_| Errno::EFAULT)?;
    Ok(target.len())
}

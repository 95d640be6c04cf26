//! utimensat, utimes, utime, futimesat: setting a file's access and
//! modification times (Linux: fs/utimes.c `vfs_utimes`, `do_utimes`,
//! and fs/attr.c `setattr_prepare`, fs/attr.c `notify_change`).
//!
//! Each time is either explicit, `UTIME_NOW` or `UTIME_OMIT`. Setting
//! both to "now" (or passing no times) only needs write access to the
//! file, as `touch` by a group member does; any explicit time, or one
//! left alone, needs the owner (or fsuid 0): `EACCES` and `EPERM`
//! respectively, as Linux's `ATTR_TOUCH` / `ATTR_TIMES_SET`. The ctime is
//! stamped in every case (`Inode::apply_attr`).
//!
//! # Locking
//! None of its own: the inode's `setattr` takes `i_lock`.
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use super::file_table::FMode;
use super::inode::{Inode, SetAttr, Timespec, current_time};
use super::namei::permission::{MAY_WRITE, inode_permission};
use super::namei::{AT_FDCWD, getname_flags, user_path_at};
use super::{FsContext, FsCred, current_fs};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::UserPtr;

/// One requested time (Linux: a `timespec64` whose `tv_nsec` may be
/// `UTIME_NOW` or `UTIME_OMIT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UTime {
    Now,
    Omit,
    At(Timespec),
}

impl UTime {
    /// `EINVAL` for a nanosecond field that is neither a special value
    /// nor in `0..1e9` (Linux: `nsec_valid`).
    fn from_timespec(sec: i64, nsec: i64) -> KResult<Self> {
        match nsec {
            n if n == i64::from(uapi::UTIME_NOW) => Ok(UTime::Now),
            n if n == i64::from(uapi::UTIME_OMIT) => Ok(UTime::Omit),
            0..=999_999_999 => {
                Ok(UTime::At(Timespec { sec, nsec: u32::try_from(nsec).unwrap_or(0) }))
            }
            _ => Err(Errno::EINVAL),
        }
    }
}

/// Whether `cred` owns `inode` or may act as its owner (Linux:
/// `inode_owner_or_capable`, `CAP_FOWNER` as fsuid 0).
fn owner_or_capable(inode: &Inode, cred: FsCred) -> bool {
    cred.fsuid == 0 || cred.fsuid == inode.attr().uid
}

/// Sets the times of `inode`; `None` means both "now" (Linux: `vfs_utimes`
/// and the permission half of `notify_change`).
pub fn vfs_utimes(inode: &Inode, cred: FsCred, times: Option<[UTime; 2]>) -> KResult<()> {
    let times = times.filter(|t| *t != [UTime::Now, UTime::Now]);
    match times {
        None => {
            if !owner_or_capable(inode, cred) {
                inode_permission(inode, MAY_WRITE, cred)?;
            }
        }
        Some(_) if !owner_or_capable(inode, cred) => return Err(Errno::EPERM),
        Some(_) => {}
    }
    let now = current_time();
    let [atime, mtime] = times.unwrap_or([UTime::Now, UTime::Now]);
    let pick = |t: UTime| match t {
        UTime::Now => Some(now),
        UTime::Omit => None,
        UTime::At(ts) => Some(ts),
    };
    let change = SetAttr { atime: pick(atime), mtime: pick(mtime), ..SetAttr::default() };
    inode.i_op.setattr(inode, &change)
}

/// Linux: `do_utimes`: a NULL name with a descriptor changes that open
/// file (futimens), anything else is looked up.
pub fn do_utimes(
    ctx: FsContext<'_>,
    dfd: i32,
    name: UserPtr<u8>,
    times: Option<[UTime; 2]>,
    flags: u32,
) -> KResult<()> {
    if name.is_null() && dfd != AT_FDCWD {
        if flags != 0 {
            return Err(Errno::EINVAL);
        }
        let file = ctx.files.get(dfd)?;
        if file.f_mode.contains(FMode::PATH) {
            return Err(Errno::EBADF); // Linux's `fdget` skips O_PATH files
        }
        crate::fs::namespace::mnt_want_write(&file.f_path.mnt)?;
        return vfs_utimes(&file.f_inode, ctx.cred, times);
    }
    if flags & !(uapi::AT_SYMLINK_NOFOLLOW | uapi::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let name = getname_flags(name, flags & uapi::AT_EMPTY_PATH != 0)?;
    let path = user_path_at(ctx, dfd, &name, flags)?;
    crate::fs::namespace::mnt_want_write(&path.mnt)?;
    vfs_utimes(&*path.dentry.positive()?, ctx.cred, times)
}

/// utimensat(2): both `UTIME_OMIT` returns before even looking at the
/// path, as Linux does.
pub fn sys_utimensat(
    dfd: i32,
    filename: UserPtr<u8>,
    utimes: UserPtr<[i64; 4]>,
    flags: u32,
) -> KResult<()> {
    let times = if utimes.is_null() {
        None
    } else {
        let [s0, n0, s1, n1] = utimes.read()?;
        let omit = i64::from(uapi::UTIME_OMIT);
        if n0 == omit && n1 == omit {
            return Ok(());
        }
        Some([UTime::from_timespec(s0, n0)?, UTime::from_timespec(s1, n1)?])
    };
    do_utimes(current_fs()?.ctx(), dfd, filename, times, flags)
}

/// futimesat(2) (Linux: `do_futimesat`): microseconds, with
/// `UTIME_NOW`/`UTIME_OMIT` invalid there.
pub fn sys_futimesat(dfd: i32, filename: UserPtr<u8>, utimes: UserPtr<[i64; 4]>) -> KResult<()> {
    let times = if utimes.is_null() {
        None
    } else {
        let [s0, u0, s1, u1] = utimes.read()?;
        if !(0..1_000_000).contains(&u0) || !(0..1_000_000).contains(&u1) {
            return Err(Errno::EINVAL);
        }
        Some([UTime::from_timespec(s0, u0 * 1000)?, UTime::from_timespec(s1, u1 * 1000)?])
    };
    do_utimes(current_fs()?.ctx(), dfd, filename, times, 0)
}

/// utimes(2).
pub fn sys_utimes(filename: UserPtr<u8>, utimes: UserPtr<[i64; 4]>) -> KResult<()> {
    sys_futimesat(AT_FDCWD, filename, utimes)
}

/// utime(2): whole seconds (`struct utimbuf`).
pub fn sys_utime(filename: UserPtr<u8>, times: UserPtr<[i64; 2]>) -> KResult<()> {
    let times = if times.is_null() {
        None
    } else {
        let [actime, modtime] = times.read()?;
        Some([UTime::At(Timespec::from_secs(actime)), UTime::At(Timespec::from_secs(modtime))])
    };
    do_utimes(current_fs()?.ctx(), AT_FDCWD, filename, times, 0)
}

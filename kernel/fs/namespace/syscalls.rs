//! The mount(2) and umount2(2) system calls: copying the arguments in,
//! decoding `MS_*` flags into per-mount flags, and choosing the operation
//! in Linux's order (Linux: fs/namespace.c `SYSCALL_DEFINE5(mount)`,
//! `path_mount`, `SYSCALL_DEFINE2(umount)`, `ksys_umount`).
//!
//! # Locking
//! None of its own: arguments are copied before any lock, then the
//! operations of the parent module take `MOUNTS`.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use super::mnt_ns::{check_mnt, do_change_type};
use super::{
    MntFlags, Path, UmountFlags, do_loopback, do_move_mount, do_new_mount, do_remount, path_umount,
};
use crate::arch::uaccess::{StrncpyError, strncpy_from_user};
use crate::fs::namei::{AT_FDCWD, user_path_at};
use crate::fs::{FsContext, current_fs};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;
use crate::kernel::syscall::args::{UserPtr, getname};
use crate::mm::addr::PAGE_SIZE;
use crate::mm::slab_common::kzalloc;

/// A string argument of mount(2): empty for NULL (Linux:
/// `copy_mount_string`, `strndup_user(…, PATH_MAX)`; the options page of
/// `copy_mount_options` is read as a string too, as every file system
/// here takes text options).
fn copy_mount_string(ptr: UserPtr<u8>) -> KResult<Vec<u8>> {
    if ptr.is_null() {
        return Ok(Vec::new());
    }
    let mut buf = kzalloc(PAGE_SIZE)?;
    let len = strncpy_from_user(&mut buf, ptr.addr()).map_err(|e| match e {
        StrncpyError::Fault => Errno::EFAULT,
        StrncpyError::TooLong => Errno::EINVAL,
    })?;
    buf.truncate(len);
    Ok(buf)
}

/// Linux: `MNT_ATIME_MASK`.
const MNT_ATIME_MASK: MntFlags =
    MntFlags::NOATIME.union(MntFlags::NODIRATIME).union(MntFlags::RELATIME);

/// The per-mount part of mount(2)'s flags (Linux: the `mnt_flags` of
/// `path_mount`): relatime unless noatime or strictatime is asked for.
fn ms_to_mnt_flags(ms: u32) -> MntFlags {
    let pairs = [
        (uapi::MS_NOSUID, MntFlags::NOSUID),
        (uapi::MS_NODEV, MntFlags::NODEV),
        (uapi::MS_NOEXEC, MntFlags::NOEXEC),
        (uapi::MS_NOATIME, MntFlags::NOATIME),
        (uapi::MS_NODIRATIME, MntFlags::NODIRATIME),
        (uapi::MS_RDONLY, MntFlags::READONLY),
        (uapi::MS_NOSYMFOLLOW, MntFlags::NOSYMFOLLOW),
    ];
    let mut flags = MntFlags::empty();
    for (ms_bit, mnt_bit) in pairs {
        flags.set(mnt_bit, ms & ms_bit != 0);
    }
    if ms & (uapi::MS_NOATIME | uapi::MS_STRICTATIME) == 0 {
        flags |= MntFlags::RELATIME;
    }
    flags
}

/// The work of mount(2) once the target is found (Linux: `path_mount`),
/// in Linux's order: remount of the mount (`MS_BIND`) or of the file
/// system, bind, propagation change, move, new mount. A remount that says
/// nothing about atime keeps the mount's.
fn path_mount(
    ctx: FsContext<'_>,
    dev_name: &[u8],
    path: &Path,
    fstype: &[u8],
    flags: u64,
    data: &[u8],
) -> KResult<()> {
    let mut flags = u32::try_from(flags & u64::from(u32::MAX)).unwrap_or(0);
    if flags & uapi::MS_MGC_MSK == uapi::MS_MGC_VAL {
        flags &= !uapi::MS_MGC_MSK;
    }
    if flags & uapi::MS_NOUSER != 0 {
        return Err(Errno::EINVAL);
    }
    let mut mnt_flags = ms_to_mnt_flags(flags);
    let atime = uapi::MS_NOATIME | uapi::MS_NODIRATIME | uapi::MS_RELATIME | uapi::MS_STRICTATIME;
    if flags & uapi::MS_REMOUNT != 0 && flags & atime == 0 {
        mnt_flags = (mnt_flags - MNT_ATIME_MASK) | (path.mnt.flags() & MNT_ATIME_MASK);
    }
    let propagation = uapi::MS_SHARED | uapi::MS_PRIVATE | uapi::MS_SLAVE | uapi::MS_UNBINDABLE;
    // Linux: the `check_mnt` tests of each operation: no mount of
    // another namespace is changed or used as a place.
    if !check_mnt(&path.mnt) {
        return Err(Errno::EINVAL);
    }
    if flags & uapi::MS_REMOUNT != 0 {
        do_remount(path, mnt_flags, flags & uapi::MS_BIND != 0)
    } else if flags & uapi::MS_BIND != 0 {
        let old = user_path_at(ctx, AT_FDCWD, dev_name, 0)?;
        if !check_mnt(&old.mnt) {
            return Err(Errno::EINVAL);
        }
        do_loopback(path, &old, flags & uapi::MS_REC != 0).map(drop)
    } else if flags & propagation != 0 {
        do_change_type(path, flags)
    } else if flags & uapi::MS_MOVE != 0 {
        let old = user_path_at(ctx, AT_FDCWD, dev_name, 0)?;
        if !check_mnt(&old.mnt) {
            return Err(Errno::EINVAL);
        }
        do_move_mount(&old, path)
    } else if fstype.is_empty() {
        Err(Errno::EINVAL)
    } else {
        do_new_mount(path, fstype, dev_name, data, mnt_flags).map(drop)
    }
}

/// Only the superuser mounts (Linux: `may_mount`, `CAP_SYS_ADMIN`).
fn may_mount() -> KResult<()> {
    if current().cred().euid == 0 { Ok(()) } else { Err(Errno::EPERM) }
}

/// mount(2) (Linux: `SYSCALL_DEFINE5(mount)` → `do_mount`).
pub fn sys_mount(
    dev_name: UserPtr<u8>,
    dir_name: UserPtr<u8>,
    fstype: UserPtr<u8>,
    flags: u64,
    data: UserPtr<u8>,
) -> KResult<()> {
    let fstype = copy_mount_string(fstype)?;
    let dev_name = copy_mount_string(dev_name)?;
    let data = copy_mount_string(data)?;
    let dir_name = getname(dir_name)?;
    let cur = current_fs()?;
    let path = user_path_at(cur.ctx(), AT_FDCWD, &dir_name, 0)?;
    may_mount()?;
    path_mount(cur.ctx(), &dev_name, &path, &fstype, flags, &data)
}

/// umount2(2) (Linux: `SYSCALL_DEFINE2(umount)` → `ksys_umount`):
/// `EINVAL` for unknown flags or `MNT_EXPIRE` with `MNT_FORCE` or
/// `MNT_DETACH`. `MNT_FORCE` asks file systems to abort pending I/O,
/// which none here has.
pub fn sys_umount(name: UserPtr<u8>, flags: u32) -> KResult<()> {
    let flags = UmountFlags::from_bits(flags).ok_or(Errno::EINVAL)?;
    if flags.contains(UmountFlags::EXPIRE)
        && flags.intersects(UmountFlags::FORCE | UmountFlags::DETACH)
    {
        return Err(Errno::EINVAL);
    }
    let name = getname(name)?;
    let at_flags =
        if flags.contains(UmountFlags::NOFOLLOW) { uapi::AT_SYMLINK_NOFOLLOW } else { 0 };
    let path = user_path_at(current_fs()?.ctx(), AT_FDCWD, &name, at_flags)?;
    may_mount()?;
    if !check_mnt(&path.mnt) {
        return Err(Errno::EINVAL);
    }
    path_umount(&path, flags)
}

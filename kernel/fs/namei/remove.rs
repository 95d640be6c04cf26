//! Removing names: unlink and rmdir (Linux: fs/namei.c `do_unlinkat`,
//! `do_rmdir`, `vfs_unlink`, `vfs_rmdir`, `may_delete`).
//!
//! The name goes at once; the inode lives on while open files, working
//! directories or other links hold it (tmpfs frees the data when the last
//! `Arc<Inode>` goes, Linux's `iput_final`).
//!
//! # Locking
//! `s_vfs_rename_lock` of the parent's file system around lookup + removal.
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use super::permission::may_modify_dir;
use super::{AT_FDCWD, LastType, filename_parentat, lookup_one_locked};
use crate::fs::dcache::{d_delete, d_invalidate};
use crate::fs::{FsContext, current_fs, raw_dfd};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{AtFd, UserPtr, getname};

/// rmdir(2) (Linux: `do_rmdir`).
pub fn do_rmdir(ctx: FsContext<'_>, dfd: i32, name: &[u8]) -> KResult<()> {
    let (parent, last) = filename_parentat(ctx, dfd, name)?;
    match last.kind {
        LastType::Norm => {}
        LastType::Dot => return Err(Errno::EINVAL),
        LastType::DotDot => return Err(Errno::ENOTEMPTY),
        LastType::Root => return Err(Errno::EBUSY),
    }
    crate::fs::namespace::mnt_want_write(&parent.mnt)?;
    let dir = parent.dentry.positive()?;
    let _guard = dir.sb.s_vfs_rename_lock.lock();
    let dentry = lookup_one_locked(&parent.dentry, &last.name)?;
    let inode = dentry.positive()?;
    if !inode.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    may_modify_dir(&dir, ctx.cred)?;
    if dentry.is_mountpoint() || ctx.fs.root().dentry.is_subdir(&dentry) {
        return Err(Errno::EBUSY);
    }
    dir.i_op.rmdir(&dir, &last.name)?;
    dir.touch_mtime();
    // Its cached (negative) children hold it: drop them too, or the dead
    // directory's inode is never freed (Linux: `shrink_dcache_parent` in
    // `vfs_rmdir`).
    d_invalidate(&dentry);
    Ok(())
}

/// unlink(2), unlinkat(2) (Linux: `do_unlinkat`); `AT_REMOVEDIR` makes it
/// rmdir.
pub fn do_unlinkat(ctx: FsContext<'_>, dfd: i32, name: &[u8], flags: u32) -> KResult<()> {
    if flags & !uapi::AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & uapi::AT_REMOVEDIR != 0 {
        return do_rmdir(ctx, dfd, name);
    }
    let (parent, last) = filename_parentat(ctx, dfd, name)?;
    if last.kind != LastType::Norm {
        return Err(Errno::EISDIR);
    }
    crate::fs::namespace::mnt_want_write(&parent.mnt)?;
    let dir = parent.dentry.positive()?;
    let _guard = dir.sb.s_vfs_rename_lock.lock();
    let dentry = lookup_one_locked(&parent.dentry, &last.name)?;
    let inode = dentry.positive()?;
    if inode.is_dir() {
        return Err(Errno::EISDIR);
    }
    if last.trailing_slash {
        return Err(Errno::ENOTDIR);
    }
    may_modify_dir(&dir, ctx.cred)?;
    if dentry.is_mountpoint() {
        return Err(Errno::EBUSY);
    }
    dir.i_op.unlink(&dir, &last.name)?;
    dir.touch_mtime();
    d_delete(&dentry);
    Ok(())
}

/// rmdir(2).
pub fn sys_rmdir(pathname: UserPtr<u8>) -> KResult<()> {
    let name = getname(pathname)?;
    do_rmdir(current_fs()?.ctx(), AT_FDCWD, &name)
}

/// unlink(2).
pub fn sys_unlink(pathname: UserPtr<u8>) -> KResult<()> {
    sys_unlinkat(AtFd::Cwd, pathname, 0)
}

/// unlinkat(2): `EINVAL` for flags other than `AT_REMOVEDIR`, checked
/// before the path is read, as Linux does.
pub fn sys_unlinkat(dfd: AtFd, pathname: UserPtr<u8>, flags: u32) -> KResult<()> {
    if flags & !uapi::AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let name = getname(pathname)?;
    do_unlinkat(current_fs()?.ctx(), raw_dfd(dfd)?, &name, flags)
}

//! Renaming (Linux: fs/namei.c `do_renameat2`, `vfs_rename`, `lock_rename`).
//!
//! The VFS checks what does not depend on the file system: flag
//! combinations, types (`EISDIR`, `ENOTDIR`), a directory moved below
//! itself (`EINVAL`), mounts (`EXDEV`, `EBUSY`); the file system checks
//! emptiness of a replaced directory (`ENOTEMPTY`) and moves the entry.
//! Then the dentries follow (`d_move`), so open files and working
//! directories inside a renamed directory keep working.
//!
//! # Locking
//! The file system's `s_vfs_rename_lock` is held from the lookups to
//! `d_move` (Linux: `s_vfs_rename_mutex` and both parents' `i_rwsem`).
#![deny(unsafe_code)]

use alloc::sync::Arc;

use super::permission::may_modify_dir;
use super::{LastType, filename_parentat, lookup_one_locked};
use crate::fs::dcache::{d_invalidate, d_move};
use crate::fs::inode::RenameFlags;
use crate::fs::{FsContext, current_fs, raw_dfd};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{AtFd, UserPtr, getname};

/// rename(2), renameat(2), renameat2(2) (Linux: `do_renameat2`).
pub fn do_renameat2(
    ctx: FsContext<'_>,
    olddfd: i32,
    oldname: &[u8],
    newdfd: i32,
    newname: &[u8],
    flags: u32,
) -> KResult<()> {
    let flags = RenameFlags::from_bits(flags).ok_or(Errno::EINVAL)?;
    if flags.contains(RenameFlags::NOREPLACE | RenameFlags::EXCHANGE)
        || flags.contains(RenameFlags::WHITEOUT)
    {
        return Err(Errno::EINVAL);
    }
    let exchange = flags.contains(RenameFlags::EXCHANGE);
    let (old_parent, old_last) = filename_parentat(ctx, olddfd, oldname)?;
    let (new_parent, new_last) = filename_parentat(ctx, newdfd, newname)?;
    if !Arc::ptr_eq(&old_parent.mnt, &new_parent.mnt) {
        return Err(Errno::EXDEV);
    }
    if old_last.kind != LastType::Norm {
        return Err(Errno::EBUSY);
    }
    if new_last.kind != LastType::Norm {
        return Err(if flags.contains(RenameFlags::NOREPLACE) {
            Errno::EEXIST
        } else {
            Errno::EBUSY
        });
    }
    crate::fs::namespace::mnt_want_write(&old_parent.mnt)?;
    let old_dir = old_parent.dentry.positive()?;
    let new_dir = new_parent.dentry.positive()?;
    let _guard = old_dir.sb.s_vfs_rename_lock.lock();
    let old = lookup_one_locked(&old_parent.dentry, &old_last.name)?;
    let old_inode = old.positive()?;
    let new = lookup_one_locked(&new_parent.dentry, &new_last.name)?;
    let new_inode = new.inode();
    match (&new_inode, exchange) {
        (None, true) => return Err(Errno::ENOENT),
        (Some(_), false) if flags.contains(RenameFlags::NOREPLACE) => return Err(Errno::EEXIST),
        _ => {}
    }
    let old_is_dir = old_inode.is_dir();
    let new_is_dir = new_inode.as_ref().is_some_and(|i| i.is_dir());
    if (!old_is_dir && old_last.trailing_slash)
        || (!(old_is_dir || exchange && new_is_dir) && new_last.trailing_slash)
    {
        return Err(Errno::ENOTDIR);
    }
    if let Some(target) = &new_inode {
        if Arc::ptr_eq(target, &old_inode) {
            return Ok(());
        }
        if !exchange && old_is_dir && !new_is_dir {
            return Err(Errno::ENOTDIR);
        }
        if !exchange && !old_is_dir && new_is_dir {
            return Err(Errno::EISDIR);
        }
    }
    // A directory cannot move below itself (Linux: the `lock_rename` trap).
    if new_parent.dentry.is_subdir(&old) || (exchange && old_parent.dentry.is_subdir(&new)) {
        return Err(Errno::EINVAL);
    }
    may_modify_dir(&old_dir, ctx.cred)?;
    may_modify_dir(&new_dir, ctx.cred)?;
    if old.is_mountpoint() || new.is_mountpoint() {
        return Err(Errno::EBUSY);
    }
    old_dir.i_op.rename(&old_dir, &old_last.name, &new_dir, &new_last.name, flags)?;
    if exchange {
        d_move(&old, &new_parent.dentry, &new_last.name)?;
        d_move(&new, &old_parent.dentry, &old_last.name)?;
    } else {
        if new_inode.is_some() {
            // A replaced directory's cached children go with it (Linux:
            // `shrink_dcache_parent` in `vfs_rename`).
            d_invalidate(&new);
        }
        d_move(&old, &new_parent.dentry, &new_last.name)?;
    }
    old_dir.touch_mtime();
    new_dir.touch_mtime();
    Ok(())
}

/// rename(2).
pub fn sys_rename(oldname: UserPtr<u8>, newname: UserPtr<u8>) -> KResult<()> {
    sys_renameat2(AtFd::Cwd, oldname, AtFd::Cwd, newname, 0)
}

/// renameat(2).
pub fn sys_renameat(
    olddfd: AtFd,
    oldname: UserPtr<u8>,
    newdfd: AtFd,
    newname: UserPtr<u8>,
) -> KResult<()> {
    sys_renameat2(olddfd, oldname, newdfd, newname, 0)
}

/// renameat2(2).
pub fn sys_renameat2(
    olddfd: AtFd,
    oldname: UserPtr<u8>,
    newdfd: AtFd,
    newname: UserPtr<u8>,
    flags: u32,
) -> KResult<()> {
    let old = getname(oldname)?;
    let new = getname(newname)?;
    let ctx = current_fs()?;
    do_renameat2(ctx.ctx(), raw_dfd(olddfd)?, &old, raw_dfd(newdfd)?, &new, flags)
}

//! Making names: mkdir, mknod, symlink, link (Linux: fs/namei.c
//! `filename_create`, `vfs_mkdir`, `vfs_mknod`, `vfs_symlink`, `vfs_link`,
//! `do_mkdirat`, `do_mknodat`, `do_symlinkat`, `do_linkat`).
//!
//! Each finds the parent directory, then, under the file system's
//! `s_vfs_rename_lock`, looks the name up (it must be absent: `EEXIST`),
//! checks that the caller may write the directory, asks the file system
//! and turns the negative dentry into a positive one.
//!
//! # Locking
//! `s_vfs_rename_lock` of the parent's file system around lookup + create.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use linux_raw_sys::general as uapi;

use super::permission::may_modify_dir;
use super::{
    AT_FDCWD, LastType, LookupFlags, filename_lookup, filename_parentat, getname_flags,
    lookup_one_locked,
};
use crate::fs::dcache::Dentry;
use crate::fs::inode::{DevT, FileType, Inode};
use crate::fs::namespace::Path;
use crate::fs::{FsContext, current_fs, raw_dfd};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{AtFd, UserPtr, getname};

/// Finds the parent of a name to create (Linux: `filename_create`): the
/// name must be a normal last component; a trailing slash is for
/// directories only.
pub fn filename_create(
    ctx: FsContext<'_>,
    dfd: i32,
    name: &[u8],
    is_dir: bool,
) -> KResult<(Path, alloc::vec::Vec<u8>)> {
    let (parent, last) = filename_parentat(ctx, dfd, name)?;
    if last.kind != LastType::Norm {
        return Err(Errno::EEXIST);
    }
    if last.trailing_slash && !is_dir {
        // Linux: EEXIST if the name exists, else ENOENT.
        let exists = super::lookup_one(&parent.dentry, &last.name).is_ok_and(|d| !d.is_negative());
        return Err(if exists { Errno::EEXIST } else { Errno::ENOENT });
    }
    Ok((parent, last.name))
}

/// Creates `name` in `parent` with `make`, under the rename lock (the
/// common part of Linux's `vfs_create`, `vfs_mkdir`, ...).
pub fn vfs_create_with(
    ctx: FsContext<'_>,
    parent: &Path,
    name: &[u8],
    make: impl FnOnce(&Inode) -> KResult<Arc<Inode>>,
) -> KResult<Arc<Dentry>> {
    let dir = parent.dentry.positive()?;
    let _guard = dir.sb.s_vfs_rename_lock.lock();
    let dentry = lookup_one_locked(&parent.dentry, name)?;
    if !dentry.is_negative() {
        return Err(Errno::EEXIST);
    }
    crate::fs::namespace::mnt_want_write(&parent.mnt)?;
    may_modify_dir(&dir, ctx.cred)?;
    let inode = make(&dir)?;
    dentry.instantiate(inode);
    Ok(dentry)
}

/// mkdir(2), mkdirat(2) (Linux: `do_mkdirat`).
pub fn do_mkdirat(ctx: FsContext<'_>, dfd: i32, name: &[u8], mode: u32) -> KResult<()> {
    let (parent, last) = filename_create(ctx, dfd, name, true)?;
    let mode = uapi::S_IFDIR | (mode & 0o1777 & !ctx.fs.umask());
    vfs_create_with(ctx, &parent, &last, |dir| dir.i_op.mkdir(dir, &last, mode, ctx.cred))?;
    Ok(())
}

/// mknod(2), mknodat(2) (Linux: `do_mknodat`): regular files, device
/// nodes, fifos and sockets; device nodes need root (`CAP_MKNOD`).
pub fn do_mknodat(ctx: FsContext<'_>, dfd: i32, name: &[u8], mode: u32, dev: u64) -> KResult<()> {
    let ftype = match mode & uapi::S_IFMT {
        0 => FileType::Regular,
        m => FileType::from_mode(m).ok_or(Errno::EINVAL)?,
    };
    match ftype {
        FileType::Directory => return Err(Errno::EPERM),
        FileType::Symlink => return Err(Errno::EINVAL),
        FileType::CharDev | FileType::BlockDev if ctx.cred.fsuid != 0 => return Err(Errno::EPERM),
        _ => {}
    }
    let (parent, last) = filename_create(ctx, dfd, name, false)?;
    let mode = ftype.mode_bits() | (mode & 0o7777 & !ctx.fs.umask());
    let rdev = DevT::decode(dev);
    vfs_create_with(ctx, &parent, &last, |dir| match ftype {
        FileType::Regular => dir.i_op.create(dir, &last, mode, ctx.cred),
        _ => dir.i_op.mknod(dir, &last, mode, rdev, ctx.cred),
    })?;
    Ok(())
}

/// symlink(2), symlinkat(2) (Linux: `do_symlinkat`).
pub fn do_symlinkat(ctx: FsContext<'_>, target: &[u8], dfd: i32, name: &[u8]) -> KResult<()> {
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    if target.len() >= super::PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let (parent, last) = filename_create(ctx, dfd, name, false)?;
    vfs_create_with(ctx, &parent, &last, |dir| dir.i_op.symlink(dir, &last, target, ctx.cred))?;
    Ok(())
}

/// link(2), linkat(2) (Linux: `do_linkat`): `AT_SYMLINK_FOLLOW` and
/// `AT_EMPTY_PATH` accepted; directories cannot be linked (`EPERM`), nor
/// names across mounts (`EXDEV`).
pub fn do_linkat(
    ctx: FsContext<'_>,
    olddfd: i32,
    oldname: &[u8],
    newdfd: i32,
    newname: &[u8],
    flags: u32,
) -> KResult<()> {
    if flags & !(uapi::AT_SYMLINK_FOLLOW | uapi::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let mut how = LookupFlags::empty();
    if flags & uapi::AT_SYMLINK_FOLLOW != 0 {
        how |= LookupFlags::FOLLOW;
    }
    if flags & uapi::AT_EMPTY_PATH != 0 {
        how |= LookupFlags::EMPTY;
    }
    let old = filename_lookup(ctx, olddfd, oldname, how)?;
    let (parent, last) = filename_create(ctx, newdfd, newname, false)?;
    if !Arc::ptr_eq(&old.mnt, &parent.mnt) {
        return Err(Errno::EXDEV);
    }
    let inode = old.dentry.positive()?;
    if inode.is_dir() {
        return Err(Errno::EPERM);
    }
    vfs_create_with(ctx, &parent, &last, |dir| {
        if inode.attr().nlink == 0 {
            return Err(Errno::ENOENT);
        }
        dir.i_op.link(&inode, dir, &last)?;
        Ok(inode.clone())
    })?;
    Ok(())
}

/// mkdir(2).
pub fn sys_mkdir(pathname: UserPtr<u8>, mode: u32) -> KResult<()> {
    sys_mkdirat(AtFd::Cwd, pathname, mode)
}

/// mkdirat(2).
pub fn sys_mkdirat(dfd: AtFd, pathname: UserPtr<u8>, mode: u32) -> KResult<()> {
    let name = getname(pathname)?;
    do_mkdirat(current_fs()?.ctx(), raw_dfd(dfd)?, &name, mode)
}

/// mknod(2).
pub fn sys_mknod(filename: UserPtr<u8>, mode: u32, dev: u32) -> KResult<()> {
    sys_mknodat(AtFd::Cwd, filename, mode, dev)
}

/// mknodat(2); `dev` is the 32-bit `new_encode_dev` form.
pub fn sys_mknodat(dfd: AtFd, filename: UserPtr<u8>, mode: u32, dev: u32) -> KResult<()> {
    let name = getname(filename)?;
    do_mknodat(current_fs()?.ctx(), raw_dfd(dfd)?, &name, mode, u64::from(dev))
}

/// symlink(2).
pub fn sys_symlink(oldname: UserPtr<u8>, newname: UserPtr<u8>) -> KResult<()> {
    sys_symlinkat(oldname, AtFd::Cwd, newname)
}

/// symlinkat(2).
pub fn sys_symlinkat(oldname: UserPtr<u8>, newdfd: AtFd, newname: UserPtr<u8>) -> KResult<()> {
    let target = getname(oldname)?;
    let name = getname(newname)?;
    do_symlinkat(current_fs()?.ctx(), &target, raw_dfd(newdfd)?, &name)
}

/// link(2).
pub fn sys_link(oldname: UserPtr<u8>, newname: UserPtr<u8>) -> KResult<()> {
    let old = getname(oldname)?;
    let new = getname(newname)?;
    do_linkat(current_fs()?.ctx(), AT_FDCWD, &old, AT_FDCWD, &new, 0)
}

/// linkat(2).
pub fn sys_linkat(
    olddfd: AtFd,
    oldname: UserPtr<u8>,
    newdfd: AtFd,
    newname: UserPtr<u8>,
    flags: u32,
) -> KResult<()> {
    let old = getname_flags(oldname, flags & uapi::AT_EMPTY_PATH != 0)?;
    let new = getname(newname)?;
    let ctx = current_fs()?;
    do_linkat(ctx.ctx(), raw_dfd(olddfd)?, &old, raw_dfd(newdfd)?, &new, flags)
}

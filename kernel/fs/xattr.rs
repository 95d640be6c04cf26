//! Extended attributes: the getxattr family (Linux: fs/xattr.c `setxattr`,
//! `getxattr`, `listxattr`, `removexattr`, `xattr_permission`).
//!
//! The VFS does Linux's argument checks (the lookup, a writable mount,
//! flags, name length, value size), then `xattr_permission`: `user.*`
//! exists only on regular files and directories, `trusted.*` only for the
//! superuser (`EPERM` to write, `ENODATA` to read), and `user.*` (or an
//! unknown namespace) needs read or write permission on the inode. Then
//! the file system's `InodeOps` hook answers; the defaults have no handler
//! (`EOPNOTSUPP`, as Linux 6.1's tmpfs answers for `user.*` and unknown
//! namespaces) and list nothing. ext2 handles `user.*`. Deviation: Linux's
//! tmpfs stores `security.*` and `trusted.*` (for root); here they are
//! `EOPNOTSUPP` too.
//!
//! # Locking
//! Set and remove hold the inode's `i_rwsem` (Linux: `vfs_setxattr`'s
//! `inode_lock`) around the hook; get and list take nothing here. Values
//! are copied from and to user space outside it.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use super::file_table::FMode;
use super::inode::{FileType, Inode};
use super::namei::{AT_FDCWD, MAY_READ, MAY_WRITE, inode_permission, user_path_at};
use super::namespace::{Path, mnt_want_write};
use super::{FsContext, current_fs, raw_fd};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{Fd, UserPtr, UserSlice, UserSliceMut, getname};

/// Linux: `XATTR_NAME_MAX`, `XATTR_SIZE_MAX`.
const XATTR_NAME_MAX: usize = 255;
const XATTR_SIZE_MAX: usize = 65536;

/// Copies an attribute name: `ERANGE` if empty or longer than
/// `XATTR_NAME_MAX` (Linux: `import_xattr_name`).
fn import_xattr_name(name: UserPtr<u8>) -> KResult<Vec<u8>> {
    let name = match getname(name) {
        Err(Errno::ENOENT) | Err(Errno::ENAMETOOLONG) => return Err(Errno::ERANGE),
        other => other?,
    };
    if name.is_empty() || name.len() > XATTR_NAME_MAX {
        return Err(Errno::ERANGE);
    }
    Ok(name)
}

/// The VFS's namespace rules and the inode permission (Linux:
/// `xattr_permission`; CAP_SYS_ADMIN and CAP_FOWNER as fsuid 0).
fn xattr_permission(ctx: FsContext<'_>, inode: &Inode, name: &[u8], mask: u32) -> KResult<()> {
    let write = mask & MAY_WRITE != 0;
    let denied = if write { Errno::EPERM } else { Errno::ENODATA };
    let root = ctx.cred.fsuid == 0;
    if name.starts_with(b"security.") || name.starts_with(b"system.") {
        return Ok(());
    }
    if name.starts_with(b"trusted.") {
        return if root { Ok(()) } else { Err(denied) };
    }
    if name.starts_with(b"user.") {
        let ftype = inode.file_type();
        if !matches!(ftype, FileType::Regular | FileType::Directory) {
            return Err(denied);
        }
        let attr = inode.attr();
        let sticky = attr.mode & uapi::S_ISVTX != 0;
        if ftype == FileType::Directory && sticky && write && !root && ctx.cred.fsuid != attr.uid {
            return Err(Errno::EPERM);
        }
    }
    inode_permission(inode, mask, ctx.cred)
}

/// The inode a call names: a path (following links unless `nofollow`) or
/// a descriptor (not O_PATH, as Linux's `fdget`).
enum Target {
    Path(UserPtr<u8>, bool),
    Fd(Fd),
}

fn target_path(ctx: FsContext<'_>, target: Target) -> KResult<(Path, Arc<Inode>)> {
    match target {
        Target::Path(name, nofollow) => {
            let name = getname(name)?;
            let flags = if nofollow { uapi::AT_SYMLINK_NOFOLLOW } else { 0 };
            let path = user_path_at(ctx, AT_FDCWD, &name, flags)?;
            let inode = path.dentry.positive()?;
            Ok((path, inode))
        }
        Target::Fd(fd) => {
            let file = ctx.files.get(raw_fd(fd)?)?;
            if file.f_mode.contains(FMode::PATH) {
                return Err(Errno::EBADF);
            }
            Ok((file.f_path.clone(), file.f_inode.clone()))
        }
    }
}

/// Linux 6.1: `path_setxattr` / `fsetxattr`: the lookup and
/// `mnt_want_write`, then `setxattr`'s checks of flags, name and size,
/// the copy of the value, `vfs_setxattr`.
fn do_setxattr(
    target: Target,
    name: UserPtr<u8>,
    value: UserPtr<u8>,
    size: usize,
    flags: i32,
) -> KResult<()> {
    let fs = current_fs()?;
    let ctx = fs.ctx();
    let (path, inode) = target_path(ctx, target)?;
    mnt_want_write(&path.mnt)?;
    let allowed = (uapi::XATTR_CREATE | uapi::XATTR_REPLACE).cast_signed();
    if flags & !allowed != 0 {
        return Err(Errno::EINVAL);
    }
    let name = import_xattr_name(name)?;
    if size > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    let value = UserSlice::new(value, size)?.read_to_vec()?;
    xattr_permission(ctx, &inode, &name, MAY_WRITE)?;
    let _locked = inode.inode_lock();
    inode.i_op.setxattr(&inode, &name, &value, flags.cast_unsigned())
}

/// Linux: `path_getxattr` / `fgetxattr`: the lookup comes first; a zero
/// `size` asks for the length, a smaller one than the value is `ERANGE`.
fn do_getxattr(
    target: Target,
    name: UserPtr<u8>,
    value: UserPtr<u8>,
    size: usize,
) -> KResult<usize> {
    let fs = current_fs()?;
    let ctx = fs.ctx();
    let (_, inode) = target_path(ctx, target)?;
    let name = import_xattr_name(name)?;
    xattr_permission(ctx, &inode, &name, MAY_READ)?;
    let got = inode.i_op.getxattr(&inode, &name)?;
    copy_out(&got, value, size)
}

/// Hands a value or a name list to user space: its length for a zero
/// `size`, `ERANGE` if it does not fit (Linux: `getxattr`, `listxattr`).
fn copy_out(bytes: &[u8], to: UserPtr<u8>, size: usize) -> KResult<usize> {
    if size == 0 {
        return Ok(bytes.len());
    }
    if bytes.len() > size {
        return Err(Errno::ERANGE);
    }
    UserSliceMut::new(to, bytes.len())?.write(bytes)
}

/// Linux: `path_listxattr` / `flistxattr`.
fn do_listxattr(target: Target, list: UserPtr<u8>, size: usize) -> KResult<usize> {
    let fs = current_fs()?;
    let (_, inode) = target_path(fs.ctx(), target)?;
    let names = inode.i_op.listxattr(&inode)?;
    copy_out(&names, list, size)
}

/// Linux 6.1: `path_removexattr` / `fremovexattr`: the lookup and
/// `mnt_want_write`, then the name, `vfs_removexattr`.
fn do_removexattr(target: Target, name: UserPtr<u8>) -> KResult<()> {
    let fs = current_fs()?;
    let ctx = fs.ctx();
    let (path, inode) = target_path(ctx, target)?;
    mnt_want_write(&path.mnt)?;
    let name = import_xattr_name(name)?;
    xattr_permission(ctx, &inode, &name, MAY_WRITE)?;
    let _locked = inode.inode_lock();
    inode.i_op.removexattr(&inode, &name)
}

pub fn sys_setxattr(
    path: UserPtr<u8>,
    name: UserPtr<u8>,
    value: UserPtr<u8>,
    size: usize,
    flags: i32,
) -> KResult<()> {
    do_setxattr(Target::Path(path, false), name, value, size, flags)
}

pub fn sys_lsetxattr(
    path: UserPtr<u8>,
    name: UserPtr<u8>,
    value: UserPtr<u8>,
    size: usize,
    flags: i32,
) -> KResult<()> {
    do_setxattr(Target::Path(path, true), name, value, size, flags)
}

pub fn sys_fsetxattr(
    fd: Fd,
    name: UserPtr<u8>,
    value: UserPtr<u8>,
    size: usize,
    flags: i32,
) -> KResult<()> {
    do_setxattr(Target::Fd(fd), name, value, size, flags)
}

pub fn sys_getxattr(
    path: UserPtr<u8>,
    name: UserPtr<u8>,
    value: UserPtr<u8>,
    size: usize,
) -> KResult<usize> {
    do_getxattr(Target::Path(path, false), name, value, size)
}

pub fn sys_lgetxattr(
    path: UserPtr<u8>,
    name: UserPtr<u8>,
    value: UserPtr<u8>,
    size: usize,
) -> KResult<usize> {
    do_getxattr(Target::Path(path, true), name, value, size)
}

pub fn sys_fgetxattr(fd: Fd, name: UserPtr<u8>, value: UserPtr<u8>, size: usize) -> KResult<usize> {
    do_getxattr(Target::Fd(fd), name, value, size)
}

pub fn sys_listxattr(path: UserPtr<u8>, list: UserPtr<u8>, size: usize) -> KResult<usize> {
    do_listxattr(Target::Path(path, false), list, size)
}

pub fn sys_llistxattr(path: UserPtr<u8>, list: UserPtr<u8>, size: usize) -> KResult<usize> {
    do_listxattr(Target::Path(path, true), list, size)
}

pub fn sys_flistxattr(fd: Fd, list: UserPtr<u8>, size: usize) -> KResult<usize> {
    do_listxattr(Target::Fd(fd), list, size)
}

pub fn sys_removexattr(path: UserPtr<u8>, name: UserPtr<u8>) -> KResult<()> {
    do_removexattr(Target::Path(path, false), name)
}

pub fn sys_lremovexattr(path: UserPtr<u8>, name: UserPtr<u8>) -> KResult<()> {
    do_removexattr(Target::Path(path, true), name)
}

pub fn sys_fremovexattr(fd: Fd, name: UserPtr<u8>) -> KResult<()> {
    do_removexattr(Target::Fd(fd), name)
}

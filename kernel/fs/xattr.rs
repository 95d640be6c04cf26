//! Extended attributes: the getxattr family, answered as a file system
//! with no xattr handlers (Linux: fs/xattr.c `setxattr`, `getxattr`,
//! `listxattr`, `removexattr`, `xattr_permission`, `xattr_resolve_name`).
//!
//! No Ferrite file system stores extended attributes yet, so after
//! Linux's argument checks (the lookup, flags, name length, value size)
//! every name resolves to no handler: `EOPNOTSUPP`, as Linux 6.1's tmpfs
//! answers for `user.*` and unknown namespaces. The VFS rules that come
//! before the handler are kept: `user.*` exists only on regular files and
//! directories, `trusted.*` only for the superuser (`EPERM` to write,
//! `ENODATA` to read). Listing gives an empty list. Deviation: Linux's
//! tmpfs stores `security.*` and `trusted.*` (for root); here they are
//! `EOPNOTSUPP` too.
//!
//! # Locking
//! None: nothing is stored.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use super::file_table::FMode;
use super::inode::{FileType, Inode};
use super::namei::{AT_FDCWD, user_path_at};
use super::{FsContext, current_fs, raw_fd};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{Fd, UserPtr, getname};

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

/// The VFS's namespace rules, then the missing handler (Linux:
/// `xattr_permission` + `xattr_resolve_name`).
fn no_handler(inode: &Inode, name: &[u8], write: bool, fsuid: u32) -> Errno {
    let denied = if write { Errno::EPERM } else { Errno::ENODATA };
    let ftype = inode.file_type();
    if name.starts_with(b"trusted.") && fsuid != 0 {
        return denied;
    }
    if name.starts_with(b"user.") && !matches!(ftype, FileType::Regular | FileType::Directory) {
        return denied;
    }
    Errno::EOPNOTSUPP
}

/// The inode a call names: a path (following links unless `nofollow`) or
/// a descriptor (not O_PATH, as Linux's `fdget`).
enum Target {
    Path(UserPtr<u8>, bool),
    Fd(Fd),
}

fn target_inode(ctx: FsContext<'_>, target: Target) -> KResult<Arc<Inode>> {
    match target {
        Target::Path(name, nofollow) => {
            let name = getname(name)?;
            let flags = if nofollow { uapi::AT_SYMLINK_NOFOLLOW } else { 0 };
            user_path_at(ctx, AT_FDCWD, &name, flags)?.dentry.positive()
        }
        Target::Fd(fd) => {
            let file = ctx.files.get(raw_fd(fd)?)?;
            if file.f_mode.contains(FMode::PATH) {
                return Err(Errno::EBADF);
            }
            Ok(file.f_inode.clone())
        }
    }
}

/// Linux 6.1: `path_setxattr` / `fsetxattr`: the lookup, then `setxattr`'s
/// checks of flags, name and size.
fn do_setxattr(target: Target, name: UserPtr<u8>, size: usize, flags: i32) -> KResult<()> {
    let fs = current_fs()?;
    let ctx = fs.ctx();
    let inode = target_inode(ctx, target)?;
    let allowed = (uapi::XATTR_CREATE | uapi::XATTR_REPLACE).cast_signed();
    if flags & !allowed != 0 {
        return Err(Errno::EINVAL);
    }
    let name = import_xattr_name(name)?;
    if size > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    Err(no_handler(&inode, &name, true, ctx.cred.fsuid))
}

/// Linux: `path_getxattr` / `fgetxattr` (and removexattr, `write`): the
/// lookup comes first.
fn do_getxattr(target: Target, name: UserPtr<u8>, write: bool) -> KResult<usize> {
    let fs = current_fs()?;
    let ctx = fs.ctx();
    let inode = target_inode(ctx, target)?;
    let name = import_xattr_name(name)?;
    Err(no_handler(&inode, &name, write, ctx.cred.fsuid))
}

/// Linux: `path_listxattr` / `flistxattr`: no attributes, an empty list.
fn do_listxattr(target: Target) -> KResult<usize> {
    let fs = current_fs()?;
    target_inode(fs.ctx(), target).map(|_| 0)
}

pub fn sys_setxattr(
    path: UserPtr<u8>,
    name: UserPtr<u8>,
    value: UserPtr<u8>,
    size: usize,
    flags: i32,
) -> KResult<()> {
    let _ = value;
    do_setxattr(Target::Path(path, false), name, size, flags)
}

pub fn sys_lsetxattr(
    path: UserPtr<u8>,
    name: UserPtr<u8>,
    value: UserPtr<u8>,
    size: usize,
    flags: i32,
) -> KResult<()> {
    let _ = value;
    do_setxattr(Target::Path(path, true), name, size, flags)
}

pub fn sys_fsetxattr(
    fd: Fd,
    name: UserPtr<u8>,
    value: UserPtr<u8>,
    size: usize,
    flags: i32,
) -> KResult<()> {
    let _ = value;
    do_setxattr(Target::Fd(fd), name, size, flags)
}

pub fn sys_getxattr(
    path: UserPtr<u8>,
    name: UserPtr<u8>,
    value: UserPtr<u8>,
    size: usize,
) -> KResult<usize> {
    let _ = (value, size);
    do_getxattr(Target::Path(path, false), name, false)
}

pub fn sys_lgetxattr(
    path: UserPtr<u8>,
    name: UserPtr<u8>,
    value: UserPtr<u8>,
    size: usize,
) -> KResult<usize> {
    let _ = (value, size);
    do_getxattr(Target::Path(path, true), name, false)
}

pub fn sys_fgetxattr(fd: Fd, name: UserPtr<u8>, value: UserPtr<u8>, size: usize) -> KResult<usize> {
    let _ = (value, size);
    do_getxattr(Target::Fd(fd), name, false)
}

pub fn sys_listxattr(path: UserPtr<u8>, list: UserPtr<u8>, size: usize) -> KResult<usize> {
    let _ = (list, size);
    do_listxattr(Target::Path(path, false))
}

pub fn sys_llistxattr(path: UserPtr<u8>, list: UserPtr<u8>, size: usize) -> KResult<usize> {
    let _ = (list, size);
    do_listxattr(Target::Path(path, true))
}

pub fn sys_flistxattr(fd: Fd, list: UserPtr<u8>, size: usize) -> KResult<usize> {
    let _ = (list, size);
    do_listxattr(Target::Fd(fd))
}

pub fn sys_removexattr(path: UserPtr<u8>, name: UserPtr<u8>) -> KResult<()> {
    do_getxattr(Target::Path(path, false), name, true).map(|_| ())
}

pub fn sys_lremovexattr(path: UserPtr<u8>, name: UserPtr<u8>) -> KResult<()> {
    do_getxattr(Target::Path(path, true), name, true).map(|_| ())
}

pub fn sys_fremovexattr(fd: Fd, name: UserPtr<u8>) -> KResult<()> {
    do_getxattr(Target::Fd(fd), name, true).map(|_| ())
}

//! open, close, truncate, access, chdir, chroot, umask, chmod (Linux:
//! fs/open.c), with their system calls: each copies its path in
//! (`getname`), takes the current task's view (`current_fs`) and calls
//! the body.
//!
//! # Locking
//! None of its own: the descriptor table and `FsStruct` lock internally.
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use super::file_table::FMode;
use super::inode::{FileType, Inode, SetAttr};
use super::namei::open::do_filp_open;
use super::namei::{
    AT_FDCWD, LookupFlags, MAY_EXEC, MAY_READ, MAY_WRITE, filename_lookup, getname_flags,
    inode_permission, user_path_at,
};
use super::{FsContext, FsCred, current_files, current_fs, raw_dfd, raw_fd};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{AtFd, Fd, UserPtr, getname};

/// open(2), openat(2), creat(2) (Linux: `do_sys_openat2` with
/// `build_open_flags`): unknown flags are ignored, as open(2) does.
pub fn do_sys_open(
    ctx: FsContext<'_>,
    dfd: i32,
    name: &[u8],
    flags: u32,
    mode: u32,
) -> KResult<i32> {
    let file = do_filp_open(ctx, dfd, name, flags, mode)?;
    ctx.files.alloc_fd(0, file, flags & uapi::O_CLOEXEC != 0)
}

/// Sets a regular file's size (Linux: `do_truncate`).
fn do_truncate(inode: &super::inode::Inode, length: i64) -> KResult<()> {
    let size = u64::try_from(length).map_err(|_| Errno::EINVAL)?;
    match inode.file_type() {
        FileType::Directory => return Err(Errno::EISDIR),
        FileType::Regular => {}
        _ => return Err(Errno::EINVAL),
    }
    let _locked = inode.inode_lock();
    inode.i_op.setattr(inode, &SetAttr { size: Some(size), ..SetAttr::default() })
}

/// truncate(2) (Linux: `do_sys_truncate`): needs write permission.
pub fn do_sys_truncate(ctx: FsContext<'_>, name: &[u8], length: i64) -> KResult<()> {
    let path = filename_lookup(ctx, uapi::AT_FDCWD, name, LookupFlags::FOLLOW)?;
    let inode = path.dentry.positive()?;
    if inode.is_dir() {
        return Err(Errno::EISDIR);
    }
    crate::fs::namespace::mnt_want_write(&path.mnt)?;
    inode_permission(&inode, MAY_WRITE, ctx.cred)?;
    do_truncate(&inode, length)
}

/// ftruncate(2) (Linux: `do_sys_ftruncate`): the file must be open for
/// writing (`EINVAL` otherwise, as Linux says).
pub fn do_sys_ftruncate(ctx: FsContext<'_>, fd: i32, length: i64) -> KResult<()> {
    let file = ctx.files.get(fd)?;
    if file.f_mode.contains(FMode::PATH) {
        return Err(Errno::EBADF);
    }
    if length < 0 {
        return Err(Errno::EINVAL);
    }
    if !file.f_mode.contains(FMode::WRITE) || file.f_inode.file_type() != FileType::Regular {
        return Err(Errno::EINVAL);
    }
    do_truncate(&file.f_inode, length)
}

/// access(2), faccessat(2), faccessat2(2) (Linux: `do_faccessat`).
/// `AT_EACCESS` is accepted (real and effective ids are the same here).
pub fn do_faccessat(
    ctx: FsContext<'_>,
    dfd: i32,
    name: &[u8],
    mode: u32,
    flags: u32,
) -> KResult<()> {
    if mode & !(uapi::R_OK | uapi::W_OK | uapi::X_OK) != 0 {
        return Err(Errno::EINVAL);
    }
    let allowed = uapi::AT_EACCESS | uapi::AT_SYMLINK_NOFOLLOW | uapi::AT_EMPTY_PATH;
    let path = user_path_at(ctx, dfd, name, flags & !uapi::AT_EACCESS)
        .and_then(|p| if flags & !allowed != 0 { Err(Errno::EINVAL) } else { Ok(p) })?;
    let inode = path.dentry.positive()?;
    let mut mask = 0;
    if mode & uapi::R_OK != 0 {
        mask |= MAY_READ;
    }
    if mode & uapi::W_OK != 0 {
        mask |= MAY_WRITE;
    }
    if mode & uapi::X_OK != 0 {
        mask |= MAY_EXEC;
    }
    inode_permission(&inode, mask, ctx.cred)
}

/// chdir(2): must be a directory we may search.
pub fn do_chdir(ctx: FsContext<'_>, name: &[u8]) -> KResult<()> {
    let path =
        filename_lookup(ctx, uapi::AT_FDCWD, name, LookupFlags::FOLLOW | LookupFlags::DIRECTORY)?;
    let inode = path.dentry.positive()?;
    inode_permission(&inode, MAY_EXEC, ctx.cred)?;
    ctx.fs.set_pwd(path);
    Ok(())
}

/// fchdir(2).
pub fn do_fchdir(ctx: FsContext<'_>, fd: i32) -> KResult<()> {
    let file = ctx.files.get(fd)?;
    if !file.f_inode.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    inode_permission(&file.f_inode, MAY_EXEC, ctx.cred)?;
    ctx.fs.set_pwd(file.f_path.clone());
    Ok(())
}

/// chroot(2): root only (`CAP_SYS_CHROOT`).
pub fn do_chroot(ctx: FsContext<'_>, name: &[u8]) -> KResult<()> {
    let path =
        filename_lookup(ctx, uapi::AT_FDCWD, name, LookupFlags::FOLLOW | LookupFlags::DIRECTORY)?;
    let inode = path.dentry.positive()?;
    inode_permission(&inode, MAY_EXEC, ctx.cred)?;
    if ctx.cred.fsuid != 0 {
        return Err(Errno::EPERM);
    }
    ctx.fs.set_root(path);
    Ok(())
}

/// umask(2): returns the previous mask.
pub fn do_umask(ctx: FsContext<'_>, mask: u32) -> u32 {
    ctx.fs.set_umask(mask)
}

/// chmod(2), fchmodat(2) (Linux: `do_fchmodat` → `chmod_common`): owner
/// or root only.
pub fn do_fchmodat(ctx: FsContext<'_>, dfd: i32, name: &[u8], mode: u32) -> KResult<()> {
    let path = filename_lookup(ctx, dfd, name, LookupFlags::FOLLOW)?;
    crate::fs::namespace::mnt_want_write(&path.mnt)?;
    chmod_common(&*path.dentry.positive()?, mode, ctx.cred)
}

/// fchmod(2) (Linux: `vfs_fchmod`): not on an O_PATH descriptor.
pub fn do_fchmod(ctx: FsContext<'_>, fd: i32, mode: u32) -> KResult<()> {
    let file = ctx.files.get(fd)?;
    if file.f_mode.contains(FMode::PATH) {
        return Err(Errno::EBADF);
    }
    crate::fs::namespace::mnt_want_write(&file.f_path.mnt)?;
    chmod_common(&file.f_inode, mode, ctx.cred)
}

/// Linux: `chmod_common`: the owner or root sets the permission bits.
fn chmod_common(inode: &Inode, mode: u32, cred: FsCred) -> KResult<()> {
    if cred.fsuid != 0 && cred.fsuid != inode.attr().uid {
        return Err(Errno::EPERM);
    }
    inode.i_op.setattr(inode, &SetAttr { mode: Some(mode & 0o7777), ..SetAttr::default() })
}

/// open(2); `O_LARGEFILE` is implied on 64-bit (Linux: `force_o_largefile`).
pub fn sys_open(filename: UserPtr<u8>, flags: u32, mode: u32) -> KResult<i32> {
    let name = getname(filename)?;
    do_sys_open(current_fs()?.ctx(), AT_FDCWD, &name, flags | uapi::O_LARGEFILE, mode)
}

/// openat(2).
pub fn sys_openat(dfd: AtFd, filename: UserPtr<u8>, flags: u32, mode: u32) -> KResult<i32> {
    let name = getname(filename)?;
    do_sys_open(current_fs()?.ctx(), raw_dfd(dfd)?, &name, flags | uapi::O_LARGEFILE, mode)
}

/// creat(2): open for writing, created and truncated.
pub fn sys_creat(pathname: UserPtr<u8>, mode: u32) -> KResult<i32> {
    sys_open(pathname, uapi::O_CREAT | uapi::O_WRONLY | uapi::O_TRUNC, mode)
}

/// close(2).
pub fn sys_close(fd: Fd) -> KResult<()> {
    current_files()?.close(raw_fd(fd)?)
}

/// truncate(2).
pub fn sys_truncate(path: UserPtr<u8>, length: i64) -> KResult<()> {
    let name = getname(path)?;
    do_sys_truncate(current_fs()?.ctx(), &name, length)
}

/// ftruncate(2).
pub fn sys_ftruncate(fd: Fd, length: i64) -> KResult<()> {
    do_sys_ftruncate(current_fs()?.ctx(), raw_fd(fd)?, length)
}

/// access(2).
pub fn sys_access(filename: UserPtr<u8>, mode: u32) -> KResult<()> {
    sys_faccessat2(AtFd::Cwd, filename, mode, 0)
}

/// faccessat(2): the system call has no flags argument.
pub fn sys_faccessat(dfd: AtFd, filename: UserPtr<u8>, mode: u32) -> KResult<()> {
    sys_faccessat2(dfd, filename, mode, 0)
}

/// faccessat2(2).
pub fn sys_faccessat2(dfd: AtFd, filename: UserPtr<u8>, mode: u32, flags: u32) -> KResult<()> {
    let name = getname_flags(filename, flags & uapi::AT_EMPTY_PATH != 0)?;
    do_faccessat(current_fs()?.ctx(), raw_dfd(dfd)?, &name, mode, flags)
}

/// chdir(2).
pub fn sys_chdir(filename: UserPtr<u8>) -> KResult<()> {
    let name = getname(filename)?;
    do_chdir(current_fs()?.ctx(), &name)
}

/// fchdir(2).
pub fn sys_fchdir(fd: Fd) -> KResult<()> {
    do_fchdir(current_fs()?.ctx(), raw_fd(fd)?)
}

/// chroot(2).
pub fn sys_chroot(filename: UserPtr<u8>) -> KResult<()> {
    let name = getname(filename)?;
    do_chroot(current_fs()?.ctx(), &name)
}

/// umask(2): the old mask.
pub fn sys_umask(mask: u32) -> KResult<u32> {
    Ok(do_umask(current_fs()?.ctx(), mask))
}

/// chmod(2).
pub fn sys_chmod(filename: UserPtr<u8>, mode: u32) -> KResult<()> {
    sys_fchmodat(AtFd::Cwd, filename, mode)
}

/// fchmod(2).
pub fn sys_fchmod(fd: Fd, mode: u32) -> KResult<()> {
    do_fchmod(current_fs()?.ctx(), raw_fd(fd)?, mode)
}

/// fchmodat(2).
pub fn sys_fchmodat(dfd: AtFd, filename: UserPtr<u8>, mode: u32) -> KResult<()> {
    let name = getname(filename)?;
    do_fchmodat(current_fs()?.ctx(), raw_dfd(dfd)?, &name, mode)
}

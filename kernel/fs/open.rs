//! open, close, truncate, access, chdir, chroot, umask (Linux: fs/open.c).
//!
//! # Locking
//! None of its own: the descriptor table and `FsStruct` lock internally.
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use super::FsContext;
use super::file_table::FMode;
use super::inode::{FileType, SetAttr};
use super::namei::open::do_filp_open;
use super::namei::{
    LookupFlags, MAY_EXEC, MAY_READ, MAY_WRITE, filename_lookup, inode_permission, user_path_at,
};
use crate::kernel::errno::{Errno, KResult};

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

#[allow(
    dead_code,
    reason = "syscall-facing API: the integration step wires it to the table and the task"
)]
/// close(2).
pub fn close_fd(ctx: FsContext<'_>, fd: i32) -> KResult<()> {
    ctx.files.close(fd)
}

/// Sets a regular file's size (Linux: `do_truncate`).
fn do_truncate(inode: &super::inode::Inode, length: i64) -> KResult<()> {
    let size = u64::try_from(length).map_err(|_| Errno::EINVAL)?;
    match inode.file_type() {
        FileType::Directory => return Err(Errno::EISDIR),
        FileType::Regular => {}
        _ => return Err(Errno::EINVAL),
    }
    inode.i_op.setattr(inode, &SetAttr { size: Some(size), ..SetAttr::default() })
}

#[allow(
    dead_code,
    reason = "syscall-facing API: the integration step wires it to the table and the task"
)]
/// truncate(2) (Linux: `do_sys_truncate`): needs write permission.
pub fn do_sys_truncate(ctx: FsContext<'_>, name: &[u8], length: i64) -> KResult<()> {
    let path = filename_lookup(ctx, uapi::AT_FDCWD, name, LookupFlags::FOLLOW)?;
    let inode = path.dentry.positive()?;
    if inode.is_dir() {
        return Err(Errno::EISDIR);
    }
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

#[allow(
    dead_code,
    reason = "syscall-facing API: the integration step wires it to the table and the task"
)]
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

#[allow(
    dead_code,
    reason = "syscall-facing API: the integration step wires it to the table and the task"
)]
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

#[allow(
    dead_code,
    reason = "syscall-facing API: the integration step wires it to the table and the task"
)]
/// umask(2): returns the previous mask.
pub fn do_umask(ctx: FsContext<'_>, mask: u32) -> u32 {
    ctx.fs.set_umask(mask)
}

#[allow(
    dead_code,
    reason = "syscall-facing API: the integration step wires it to the table and the task"
)]
/// chmod(2), fchmodat(2) (Linux: `do_fchmodat` → `chmod_common`): owner
/// or root only.
pub fn do_fchmodat(ctx: FsContext<'_>, dfd: i32, name: &[u8], mode: u32) -> KResult<()> {
    let path = filename_lookup(ctx, dfd, name, LookupFlags::FOLLOW)?;
    let inode = path.dentry.positive()?;
    if ctx.cred.fsuid != 0 && ctx.cred.fsuid != inode.attr().uid {
        return Err(Errno::EPERM);
    }
    inode.i_op.setattr(&inode, &SetAttr { mode: Some(mode & 0o7777), ..SetAttr::default() })
}

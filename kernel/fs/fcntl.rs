//! fcntl and the dup family, and their system calls (Linux: fs/fcntl.c
//! `do_fcntl`, fs/file.c `ksys_dup3`); the record-lock commands go to
//! locks.rs.
//!
//! # Locking
//! None of its own; see fdtable.rs.
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use super::fdtable::FdTable;
use super::file_table::{FMode, File};
use super::inode::FileType;
use super::{current_files, pipe, raw_fd};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::Fd;

/// dup3(2): `EINVAL` for flags other than O_CLOEXEC or for equal fds.
pub fn ksys_dup3(files: &FdTable, oldfd: i32, newfd: i32, flags: u32) -> KResult<i32> {
    if flags & !uapi::O_CLOEXEC != 0 || oldfd == newfd {
        return Err(Errno::EINVAL);
    }
    if newfd < 0 {
        return Err(Errno::EBADF);
    }
    files.dup3(oldfd, newfd, flags & uapi::O_CLOEXEC != 0)
}

/// fcntl(2) for F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL,
/// F_SETFL; other commands are `EINVAL` (Linux: `do_fcntl`).
pub fn do_fcntl(files: &FdTable, fd: i32, cmd: u32, arg: u64) -> KResult<i64> {
    let file = files.get(fd)?;
    let is_path = file.f_mode.contains(FMode::PATH);
    match cmd {
        uapi::F_DUPFD | uapi::F_DUPFD_CLOEXEC => {
            let start = usize::try_from(arg).map_err(|_| Errno::EINVAL)?;
            if start >= files.nofile() {
                return Err(Errno::EINVAL);
            }
            let fd = files.alloc_fd(start, file, cmd == uapi::F_DUPFD_CLOEXEC)?;
            Ok(i64::from(fd))
        }
        uapi::F_GETFD => Ok(if files.get_cloexec(fd)? { i64::from(uapi::FD_CLOEXEC) } else { 0 }),
        uapi::F_SETFD => {
            files.set_cloexec(fd, arg & u64::from(uapi::FD_CLOEXEC) != 0)?;
            Ok(0)
        }
        uapi::F_GETFL => Ok(i64::from(file.flags())),
        uapi::F_SETFL if is_path => Err(Errno::EBADF),
        uapi::F_SETFL => {
            // Only the low 32 bits carry flags (Linux takes `unsigned int`).
            setfl(&file, u32::try_from(arg & 0xffff_ffff).unwrap_or(0))?;
            Ok(0)
        }
        _ if is_path => Err(Errno::EBADF),
        _ => Err(Errno::EINVAL),
    }
}

/// F_SETFL (Linux: `setfl`): O_NOATIME only for the owner (`EPERM`),
/// O_DIRECT only where direct I/O exists, which on Ferrite is pipes and
/// FIFOs (packet mode, as a flag), block devices and files whose
/// [`FileOps::direct_io`](super::file_table::FileOps::direct_io) says so (`EINVAL`).
fn setfl(file: &File, flags: u32) -> KResult<()> {
    let attr = file.f_inode.attr();
    if flags & uapi::O_NOATIME != 0 && file.flags() & uapi::O_NOATIME == 0 {
        let fsuid = crate::kernel::sched::current().cred().fsuid;
        if fsuid != 0 && fsuid != attr.uid {
            return Err(Errno::EPERM);
        }
    }
    let ftype = file.f_inode.file_type();
    let can_direct = matches!(ftype, FileType::Fifo | FileType::BlockDev) || file.f_op.direct_io();
    if flags & uapi::O_DIRECT != 0 && !can_direct {
        return Err(Errno::EINVAL);
    }
    file.set_status_flags(flags);
    Ok(())
}

/// dup(2).
pub fn sys_dup(fildes: Fd) -> KResult<i32> {
    current_files()?.dup(raw_fd(fildes)?)
}

/// dup2(2): both descriptors as C `int`s, so that a negative `newfd` is
/// `EBADF` from the table, after `oldfd` was checked.
pub fn sys_dup2(oldfd: i32, newfd: i32) -> KResult<i32> {
    current_files()?.dup2(oldfd, newfd)
}

/// dup3(2): flags are checked before either descriptor, as Linux does.
pub fn sys_dup3(oldfd: i32, newfd: i32, flags: u32) -> KResult<i32> {
    ksys_dup3(&*current_files()?, oldfd, newfd, flags)
}

/// fcntl(2): the pipe commands go to the pipe (Linux: `pipe_fcntl`), the
/// rest to [`do_fcntl`].
pub fn sys_fcntl(fd: Fd, cmd: u32, arg: u64) -> KResult<i64> {
    let files = current_files()?;
    let fd = raw_fd(fd)?;
    match cmd {
        uapi::F_GETPIPE_SZ | uapi::F_SETPIPE_SZ => pipe::pipe_fcntl(&*files.get(fd)?, cmd, arg),
        uapi::F_GETLK
        | uapi::F_SETLK
        | uapi::F_SETLKW
        | uapi::F_OFD_GETLK
        | uapi::F_OFD_SETLK
        | uapi::F_OFD_SETLKW => {
            let file = files.get(fd)?;
            if file.f_mode.contains(FMode::PATH) {
                return Err(Errno::EBADF);
            }
            super::locks::fcntl_lock(&files, &file, cmd, arg)
        }
        _ => do_fcntl(&files, fd, cmd, arg),
    }
}

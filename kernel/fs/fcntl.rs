//! fcntl and the dup family (Linux: fs/fcntl.c `do_fcntl`, fs/file.c
//! `ksys_dup3`).
//!
//! # Locking
//! None of its own; see fdtable.rs.
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use super::fdtable::FdTable;
use super::file_table::FMode;
use crate::kernel::errno::{Errno, KResult};

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
            file.set_status_flags(u32::try_from(arg & 0xffff_ffff).unwrap_or(0));
            Ok(0)
        }
        _ if is_path => Err(Errno::EBADF),
        _ => Err(Errno::EINVAL),
    }
}

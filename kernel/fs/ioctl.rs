//! ioctl(2): the commands the VFS answers for every file, then the file's
//! own (Linux: fs/ioctl.c `do_vfs_ioctl`, `ioctl_fionbio`, `vfs_ioctl`).
//!
//! `FIOCLEX`/`FIONCLEX` change the descriptor's close-on-exec bit,
//! `FIONBIO` the file's `O_NONBLOCK`, `FIONREAD` on a regular file gives
//! the bytes after the position, `FIFREEZE`/`FITHAW` freeze and thaw the
//! file's file system (fs/freeze.rs); everything else goes to
//! `FileOps::ioctl` (a tty's termios, a pipe's `FIONREAD`), whose default
//! is `ENOTTY`.
//!
//! # Locking
//! None of its own; the descriptor table and the file lock internally.
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;
use linux_raw_sys::ioctl as cmds;

use super::file_table::{FMode, File};
use super::inode::FileType;
use super::{current_files, raw_fd};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{Fd, UserPtr};

/// ioctl(2).
pub fn sys_ioctl(fd: Fd, cmd: u32, arg: u64) -> KResult<i64> {
    let files = current_files()?;
    let fd = raw_fd(fd)?;
    let file = files.get(fd)?;
    if file.f_mode.contains(FMode::PATH) {
        return Err(Errno::EBADF);
    }
    let argp = UserPtr::<i32>::new(crate::arch::uaccess::UserAddr::new(arg));
    match cmd {
        cmds::FIOCLEX => files.set_cloexec(fd, true).map(|()| 0),
        cmds::FIONCLEX => files.set_cloexec(fd, false).map(|()| 0),
        cmds::FIONBIO => {
            ioctl_fionbio(&file, argp.read()? != 0);
            Ok(0)
        }
        cmds::FIONREAD if file.f_inode.file_type() == FileType::Regular => {
            let left = i64::try_from(file.f_inode.size()).unwrap_or(i64::MAX)
                - i64::try_from(file.pos()).unwrap_or(i64::MAX);
            let left = i32::try_from(left.clamp(i64::from(i32::MIN), i64::from(i32::MAX)));
            argp.write(&left.map_err(|_| Errno::EINVAL)?)?;
            Ok(0)
        }
        cmds::FIFREEZE => super::freeze::ioctl_freeze(&file.f_inode.sb, true),
        cmds::FITHAW => super::freeze::ioctl_freeze(&file.f_inode.sb, false),
        _ => file.f_op.ioctl(&file, cmd, arg),
    }
}

/// Sets or clears `O_NONBLOCK` alone (Linux: `ioctl_fionbio`).
fn ioctl_fionbio(file: &File, on: bool) {
    let flags = file.flags();
    let flags = if on { flags | uapi::O_NONBLOCK } else { flags & !uapi::O_NONBLOCK };
    file.set_status_flags(flags);
}

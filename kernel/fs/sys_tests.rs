//! Self-tests of the file system calls as user space reaches them: the
//! `sys_*` wrappers on the current task, with user buffers on a scratch
//! user page (the page above it unmapped), so that short copies and
//! `EFAULT` are exercised without a user program.
//!
//! The running task (init, during `ktest`) gets a private tmpfs root and
//! an empty descriptor table for the test, and its own back afterwards.
//!
//! # Locking
//! None of its own; the user page lives in a private mm swapped in for
//! the task's, so the system calls run with interrupts on and may sleep
//! as they do for a user program.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use linux_raw_sys::general as uapi;

use super::d_path::sys_getcwd;
use super::fcntl::sys_fcntl;
use super::fdtable::FdTable;
use super::ioctl::sys_ioctl;
use super::open::{sys_close, sys_open, sys_umask};
use super::pipe::sys_pipe2;
use super::read_write::{sys_lseek, sys_pread64, sys_read, sys_readv, sys_write, sys_writev};
use super::readdir::sys_getdents64;
use super::stat::sys_newfstat;
use super::tests::Scratch;
use crate::arch::uaccess::{SCRATCH_USER_PAGE, UserAddr, with_scratch_user_page};
use crate::kernel::errno::Errno;
use crate::kernel::ktest::KTestResult;
use crate::kernel::sched::current;
use crate::kernel::syscall::args::{Fd, UserPtr};
use crate::mm::addr::PAGE_SIZE;

/// Runs `f` as the current task with a scratch root and descriptor table
/// and a user page at `SCRATCH_USER_PAGE`.
fn with_scratch_task(f: impl FnOnce() -> KTestResult) -> KTestResult {
    let scratch = Scratch::new()?;
    let task = current();
    let fs = Arc::new(scratch.fs);
    let files = Arc::new(FdTable::new());
    let old_fs = task.fs.lock().replace(fs);
    let old_files = task.files.lock().replace(files);
    let result = with_scratch_user_page(|_| f());
    let ours_fs = core::mem::replace(&mut *task.fs.lock(), old_fs);
    let ours_files = core::mem::replace(&mut *task.files.lock(), old_files);
    drop((ours_fs, ours_files));
    result?
}

fn user(offset: usize) -> UserPtr<u8> {
    UserPtr::new(UserAddr::new(SCRATCH_USER_PAGE + offset as u64))
}

/// Puts a NUL-terminated path at `offset` in the user page.
fn put_path(offset: usize, path: &[u8]) -> Result<UserPtr<u8>, &'static str> {
    let mut bytes = alloc::vec::Vec::from(path);
    bytes.push(0);
    crate::arch::uaccess::copy_to_user(user(offset).addr(), &bytes).map_err(|_| "copy out")?;
    Ok(user(offset))
}

fn fd(n: i32) -> Result<Fd, &'static str> {
    u32::try_from(n).map(Fd::new).map_err(|_| "negative fd")
}

crate::ktest!(sys_read_write_short_copies, {
    with_scratch_task(|| {
        let path = put_path(0, b"/f")?;
        let f = fd(sys_open(path, uapi::O_RDWR | uapi::O_CREAT, 0o644).map_err(|_| "open")?)?;
        crate::kassert!(sys_write(f, put_path(16, b"0123456789")?, 10) == Ok(10), "write");
        crate::kassert!(sys_lseek(f, 0, uapi::SEEK_SET) == Ok(0), "rewind");
        let near_end = user(PAGE_SIZE - 4);
        crate::kassert!(
            sys_read(f, near_end, 10) == Ok(4),
            "a read into the unmapped page is short"
        );
        crate::kassert!(
            sys_lseek(f, 0, uapi::SEEK_CUR) == Ok(4),
            "the position counts what arrived"
        );
        crate::kassert!(sys_read(f, user(PAGE_SIZE), 4) == Err(Errno::EFAULT), "all unmapped");
        crate::kassert!(
            sys_lseek(f, 0, uapi::SEEK_CUR) == Ok(4),
            "a failed read keeps the position"
        );
        crate::kassert!(sys_write(f, near_end, 10) == Ok(4), "a write from the edge is short");
        crate::kassert!(sys_pread64(f, user(64), 3, 4) == Ok(3), "pread");
        crate::kassert!(
            sys_read(f, user(0), usize::MAX) == Err(Errno::EFAULT),
            "past the user half"
        );
        crate::kassert!(sys_close(f) == Ok(()), "close");
        crate::kassert!(sys_close(f) == Err(Errno::EBADF), "closed twice");
        Ok(())
    })
});

crate::ktest!(sys_readv_writev_and_stat, {
    with_scratch_task(|| {
        let path = put_path(0, b"/v")?;
        let f = fd(sys_open(path, uapi::O_RDWR | uapi::O_CREAT, 0o600).map_err(|_| "open")?)?;
        let data = put_path(256, b"abcdefgh")?.addr().as_u64();
        // Two iovecs at offset 512: "abc" and "defgh".
        let iov: [u64; 4] = [data, 3, data + 3, 5];
        UserPtr::<[u64; 4]>::new(user(512).addr()).write(&iov).map_err(|_| "iov")?;
        crate::kassert!(sys_writev(f, user(512).addr(), 2) == Ok(8), "writev gathers");
        crate::kassert!(sys_writev(f, user(512).addr(), 1025) == Err(Errno::EINVAL), "UIO_MAXIOV");
        crate::kassert!(sys_lseek(f, 0, uapi::SEEK_SET) == Ok(0), "rewind");
        crate::kassert!(sys_readv(f, user(512).addr(), 2) == Ok(8), "readv scatters");
        let st = UserPtr::<uapi::stat>::new(user(1024).addr());
        crate::kassert!(sys_newfstat(f, st) == Ok(()), "fstat");
        let st = st.read().map_err(|_| "read stat")?;
        crate::kassert!(st.st_size == 8 && st.st_mode == uapi::S_IFREG | 0o600, "size and mode");
        crate::kassert!(sys_newfstat(f, UserPtr::new(user(PAGE_SIZE).addr())).is_err(), "EFAULT");
        Ok(())
    })
});

crate::ktest!(sys_pipe_fcntl_ioctl_getcwd_getdents, {
    with_scratch_task(|| {
        let fds = UserPtr::<[i32; 2]>::new(user(0).addr());
        crate::kassert!(sys_pipe2(fds, uapi::O_NONBLOCK) == Ok(()), "pipe2");
        let [r, w] = fds.read().map_err(|_| "fds")?;
        crate::kassert!((r, w) == (0, 1), "lowest free descriptors");
        crate::kassert!(sys_read(fd(r)?, user(64), 8) == Err(Errno::EAGAIN), "empty pipe");
        crate::kassert!(sys_write(fd(w)?, put_path(16, b"hi")?, 2) == Ok(2), "pipe write");
        crate::kassert!(sys_read(fd(r)?, user(PAGE_SIZE), 2) == Err(Errno::EFAULT), "EFAULT");
        crate::kassert!(sys_read(fd(r)?, user(64), 8) == Ok(2), "the data stayed in the pipe");
        let size = sys_fcntl(fd(r)?, uapi::F_GETPIPE_SZ, 0);
        crate::kassert!(size == Ok(65536), "F_GETPIPE_SZ");
        crate::kassert!(sys_fcntl(fd(r)?, uapi::F_SETPIPE_SZ, 8192) == Ok(8192), "F_SETPIPE_SZ");
        crate::kassert!(sys_pipe2(UserPtr::new(user(PAGE_SIZE).addr()), 0).is_err(), "bad array");
        let leaked = sys_fcntl(fd(2)?, uapi::F_GETFD, 0);
        crate::kassert!(leaked == Err(Errno::EBADF), "no descriptors leaked by the failed pipe");
        let cmds = linux_raw_sys::ioctl::FIOCLEX;
        crate::kassert!(sys_ioctl(fd(r)?, cmds, 0) == Ok(0), "FIOCLEX");
        let getfd = sys_fcntl(fd(r)?, uapi::F_GETFD, 0);
        crate::kassert!(getfd == Ok(i64::from(uapi::FD_CLOEXEC)), "close-on-exec set");
        crate::kassert!(sys_ioctl(fd(r)?, 0x5401, 0) == Err(Errno::ENOTTY), "TCGETS on a pipe");
        crate::kassert!(sys_getcwd(user(128), 64) == Ok(2), "getcwd is \"/\"");
        crate::kassert!(sys_getcwd(user(128), 1) == Err(Errno::ERANGE), "ERANGE");
        crate::kassert!(sys_umask(0o077) == Ok(0o022), "umask");
        let dir = fd(sys_open(put_path(0, b"/")?, uapi::O_RDONLY, 0).map_err(|_| "open /")?)?;
        let n = sys_getdents64(dir, user(PAGE_SIZE - 8), 4096);
        crate::kassert!(n == Err(Errno::EFAULT), "getdents64 into the unmapped page");
        crate::kassert!(sys_getdents64(dir, user(256), 1024).is_ok_and(|n| n > 0), "again");
        Ok(())
    })
});

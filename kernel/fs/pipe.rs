//! Pipes: a bounded byte queue between a read end and a write end.
//!
//! Linux: fs/pipe.c (`struct pipe_inode_info`, `pipe_read`, `pipe_write`,
//! `pipe_poll`, `pipe_release`, `do_pipe2`, `pipe_fcntl`).
//!
//! The buffer holds up to `PIPE_DEF_BUFFERS` pages (64 KiB) by default;
//! `F_SETPIPE_SZ` changes that. Writes of at most `PIPE_BUF` bytes are
//! atomic: they wait until all of it fits. A read of an empty pipe waits
//! for a writer, or returns 0 (end of file) when there is none; a write
//! with no reader fails with `EPIPE` and raises SIGPIPE.
//!
//! # Locking
//! `PipeInodeInfo::inner` (Linux: `pipe->mutex`, here an IRQ-safe leaf
//! spinlock) guards the buffer and the reader/writer counts; it is never
//! held while sleeping or copying to user space. Readers sleep on
//! `rd_wait`, writers on `wr_wait`.
#![deny(unsafe_code)]

use alloc::collections::VecDeque;
use alloc::sync::Arc;

use linux_raw_sys::general as uapi;

use alloc::boxed::Box;

use super::current_files;
use super::file_table::{FMode, File, FileOps, PollMask};
use super::inode::InodeAttr;
use super::libfs::PseudoFs;
use super::select::poll_wake;
use crate::arch::uaccess::{UserAddr, copy_to_user};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::current;
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::syscall::args::UserPtr;

/// Atomic write size (Linux: `PIPE_BUF`).
pub const PIPE_BUF: usize = uapi::PIPE_BUF as usize;
/// Pages in a new pipe (Linux: `PIPE_DEF_BUFFERS`).
pub const PIPE_DEF_BUFFERS: usize = 16;
const PAGE_SIZE: usize = 4096;
/// The most `F_SETPIPE_SZ` grants an unprivileged user (Linux:
/// `/proc/sys/fs/pipe-max-size`).
pub const PIPE_MAX_SIZE: usize = 1 << 20;

/// The pipe's state under its lock.
struct PipeState {
    buf: VecDeque<u8>,
    /// Capacity in bytes (Linux: `max_usage` pages).
    max_size: usize,
    readers: usize,
    writers: usize,
}

/// A pipe (Linux: `struct pipe_inode_info`).
pub struct PipeInodeInfo {
    inner: SpinLock<PipeState>,
    rd_wait: WaitQueue,
    wr_wait: WaitQueue,
}

/// Which end of a pipe a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipeEnd {
    Read,
    Write,
}

impl PipeInodeInfo {
    /// A pipe with one reader and one writer (Linux: `alloc_pipe_info`).
    pub fn new() -> Arc<Self> {
        let state = PipeState {
            buf: VecDeque::new(),
            max_size: PIPE_DEF_BUFFERS * PAGE_SIZE,
            readers: 1,
            writers: 1,
        };
        Arc::new(Self {
            inner: SpinLock::new(state),
            rd_wait: WaitQueue::new(),
            wr_wait: WaitQueue::new(),
        })
    }

    /// Reads what is there, waiting for a writer if the pipe is empty
    /// (Linux: `pipe_read`).
    pub fn pipe_read(&self, buf: &mut [u8], nonblock: bool) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            {
                let mut pipe = self.inner.lock();
                if !pipe.buf.is_empty() {
                    let n = buf.len().min(pipe.buf.len());
                    for (dst, src) in buf.iter_mut().zip(pipe.buf.drain(..n)) {
                        *dst = src;
                    }
                    drop(pipe);
                    self.wake(&self.wr_wait);
                    return Ok(n);
                }
                if pipe.writers == 0 {
                    return Ok(0);
                }
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            self.rd_wait.wait_event_interruptible(|| {
                let pipe = self.inner.lock();
                !pipe.buf.is_empty() || pipe.writers == 0
            })?;
        }
    }

    /// Writes all of `buf`, waiting for room; up to `PIPE_BUF` bytes go in
    /// at once or not at all (Linux: `pipe_write`). A signal or a
    /// non-blocking file ends the write early with the count so far.
    pub fn pipe_write(&self, buf: &[u8], nonblock: bool) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut done = 0;
        loop {
            match self.write_some(&buf[done..]) {
                Err(Errno::EPIPE) if done == 0 => {
                    send_sigpipe();
                    return Err(Errno::EPIPE);
                }
                Err(Errno::EPIPE) => return Ok(done),
                Err(e) => return Err(e),
                Ok(n) => done += n,
            }
            if done == buf.len() {
                break;
            }
            if nonblock {
                return if done > 0 { Ok(done) } else { Err(Errno::EAGAIN) };
            }
            let need = if buf.len() - done <= PIPE_BUF { buf.len() - done } else { 1 };
            let waited = self.wr_wait.wait_event_interruptible(|| {
                let pipe = self.inner.lock();
                pipe.readers == 0 || pipe.max_size - pipe.buf.len() >= need
            });
            if let Err(e) = waited {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
        }
        Ok(done)
    }

    /// One pass of a write: copies what fits (all of a `PIPE_BUF`-sized
    /// write, or nothing).
    fn write_some(&self, buf: &[u8]) -> KResult<usize> {
        let mut pipe = self.inner.lock();
        if pipe.readers == 0 {
            return Err(Errno::EPIPE);
        }
        let room = pipe.max_size - pipe.buf.len().min(pipe.max_size);
        if room == 0 || (buf.len() <= PIPE_BUF && room < buf.len()) {
            return Ok(0);
        }
        let n = room.min(buf.len());
        pipe.buf.try_reserve(n).map_err(|_| Errno::ENOMEM)?;
        pipe.buf.extend(&buf[..n]);
        drop(pipe);
        if n > 0 {
            self.wake(&self.rd_wait);
        }
        Ok(n)
    }

    fn wake(&self, wq: &WaitQueue) {
        wq.wake_up_all();
        poll_wake();
    }

    /// Readiness of one end (Linux: `pipe_poll`).
    pub fn pipe_poll(&self, end: PipeEnd) -> PollMask {
        let pipe = self.inner.lock();
        match end {
            PipeEnd::Read => {
                let mut mask = 0;
                if !pipe.buf.is_empty() {
                    mask |= uapi::POLLIN | uapi::POLLRDNORM;
                }
                if pipe.writers == 0 {
                    mask |= uapi::POLLHUP;
                }
                mask
            }
            PipeEnd::Write => {
                let mut mask = 0;
                if pipe.max_size - pipe.buf.len().min(pipe.max_size) >= PIPE_BUF.min(pipe.max_size)
                {
                    mask |= uapi::POLLOUT | uapi::POLLWRNORM;
                }
                if pipe.readers == 0 {
                    mask |= uapi::POLLERR;
                }
                mask
            }
        }
    }

    /// The open read and write ends (Linux: `readers`, `writers`), for
    /// FIFO opens (fifo.rs).
    pub fn readers_writers(&self) -> (usize, usize) {
        let pipe = self.inner.lock();
        (pipe.readers, pipe.writers)
    }

    /// A file of `end` was opened again (dup'd files share one open).
    pub fn pipe_get(&self, end: PipeEnd) {
        let mut pipe = self.inner.lock();
        match end {
            PipeEnd::Read => pipe.readers += 1,
            PipeEnd::Write => pipe.writers += 1,
        }
    }

    /// The last reference to an end went away (Linux: `pipe_release`):
    /// waiters on the other side see EOF or EPIPE.
    pub fn pipe_release(&self, end: PipeEnd) {
        {
            let mut pipe = self.inner.lock();
            match end {
                PipeEnd::Read => pipe.readers = pipe.readers.saturating_sub(1),
                PipeEnd::Write => pipe.writers = pipe.writers.saturating_sub(1),
            }
        }
        self.wake(&self.rd_wait);
        self.wake(&self.wr_wait);
    }

    /// `FIONREAD`: bytes waiting.
    #[allow(dead_code, reason = "the pipe's ioctl, live once sys_ioctl calls FileOps::ioctl")]
    pub fn pipe_inq(&self) -> usize {
        self.inner.lock().buf.len()
    }

    /// `F_GETPIPE_SZ`.
    pub fn pipe_size(&self) -> usize {
        self.inner.lock().max_size
    }

    /// `F_SETPIPE_SZ` (Linux: `pipe_set_size`): rounds up to a power of two
    /// pages; `EBUSY` if the data would not fit, `EPERM` above the maximum.
    pub fn set_pipe_size(&self, size: u64) -> KResult<usize> {
        let size = usize::try_from(size).map_err(|_| Errno::EINVAL)?;
        if size > PIPE_MAX_SIZE {
            return Err(Errno::EPERM);
        }
        let size = size.max(PAGE_SIZE).next_power_of_two();
        let mut pipe = self.inner.lock();
        if pipe.buf.len() > size {
            return Err(Errno::EBUSY);
        }
        pipe.max_size = size;
        drop(pipe);
        self.wake(&self.wr_wait);
        Ok(size)
    }
}

/// `F_GETPIPE_SZ` and `F_SETPIPE_SZ` (Linux: `pipe_fcntl`): `EBADF` on
/// anything but a pipe.
pub fn pipe_fcntl(file: &File, cmd: u32, arg: u64) -> KResult<i64> {
    let pipe = file_pipe(file).map_err(|_| Errno::EBADF)?;
    let size = match cmd {
        uapi::F_GETPIPE_SZ => pipe.pipe_size(),
        uapi::F_SETPIPE_SZ => pipe.set_pipe_size(arg & 0xffff_ffff)?,
        _ => return Err(Errno::EINVAL),
    };
    i64::try_from(size).map_err(|_| Errno::EINVAL)
}

/// The flags `pipe2` accepts (Linux: `__do_pipe_flags`).
pub fn check_pipe2_flags(flags: u32) -> KResult<()> {
    if flags & !(uapi::O_CLOEXEC | uapi::O_NONBLOCK | uapi::O_DIRECT) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Which end a pipe file is, and its pipe.
fn file_pipe(file: &File) -> KResult<&Arc<PipeInodeInfo>> {
    file.f_inode.private::<Arc<PipeInodeInfo>>()
}

/// File operations of one end of a pipe (Linux: `pipefifo_fops`, split by
/// end since a pipe's files are read-only or write-only).
struct PipeFileOps(PipeEnd);

static PIPE_READ_FOPS: PipeFileOps = PipeFileOps(PipeEnd::Read);
static PIPE_WRITE_FOPS: PipeFileOps = PipeFileOps(PipeEnd::Write);

impl FileOps for PipeFileOps {
    fn release(&self, file: &File) {
        if let Ok(pipe) = file_pipe(file) {
            pipe.pipe_release(self.0);
        }
    }
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        match self.0 {
            PipeEnd::Read => file_pipe(file)?.pipe_read(buf, file.is_nonblocking()),
            PipeEnd::Write => Err(Errno::EBADF),
        }
    }
    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        match self.0 {
            PipeEnd::Write => file_pipe(file)?.pipe_write(buf, file.is_nonblocking()),
            PipeEnd::Read => Err(Errno::EBADF),
        }
    }
    fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> KResult<i64> {
        if cmd != linux_raw_sys::ioctl::FIONREAD {
            return Err(Errno::ENOTTY);
        }
        let count = i32::try_from(file_pipe(file)?.pipe_inq()).unwrap_or(i32::MAX);
        copy_to_user(UserAddr::new(arg), &count.to_ne_bytes()).map_err(|_| Errno::EFAULT)?;
        Ok(0)
    }
    fn poll(&self, file: &File) -> PollMask {
        file_pipe(file).map_or(uapi::POLLNVAL, |pipe| pipe.pipe_poll(self.0))
    }
    fn seekable(&self) -> bool {
        false
    }
}

/// The pseudo file system pipe inodes live in (Linux: `pipefs`), never
/// mounted where a path can reach it.
static PIPEFS: PseudoFs = PseudoFs::new("pipefs", PIPEFS_MAGIC);
/// Linux: `PIPEFS_MAGIC`.
const PIPEFS_MAGIC: u64 = 0x5049_5045;

/// Makes a pipe and its two files, read end first (Linux: `do_pipe2` ->
/// `create_pipe_files`). `O_NONBLOCK` goes on both files; `O_CLOEXEC` is
/// for the caller to set on the descriptors; `O_DIRECT` (packet mode) is
/// accepted and treated as a byte stream.
pub fn do_pipe2(flags: u32, uid: u32, gid: u32) -> KResult<(Arc<File>, Arc<File>)> {
    check_pipe2_flags(flags)?;
    let pipe = PipeInodeInfo::new();
    let attr = InodeAttr::new(uapi::S_IFIFO | 0o600, uid, gid);
    let (path, inode) = PIPEFS.new_inode_path(attr, &PIPE_READ_FOPS, Box::new(pipe.clone()))?;
    let nonblock = flags & uapi::O_NONBLOCK;
    // Should the first open fail, the pipe must not keep a phantom writer.
    let read = File::open(
        path.clone(),
        inode.clone(),
        &PIPE_READ_FOPS,
        FMode::READ,
        uapi::O_RDONLY | nonblock,
    )
    .inspect_err(|_| pipe.pipe_release(PipeEnd::Write))?;
    let write = File::open(path, inode, &PIPE_WRITE_FOPS, FMode::WRITE, uapi::O_WRONLY | nonblock)?;
    Ok((read, write))
}

/// pipe(2).
pub fn sys_pipe(fildes: UserPtr<[i32; 2]>) -> KResult<()> {
    sys_pipe2(fildes, 0)
}

/// pipe2(2) (Linux: `do_pipe2`): the descriptors are installed, then
/// reported; if the report faults they are closed again (Linux reserves
/// them and installs only after the copy; only another thread of the
/// caller could tell the difference).
pub fn sys_pipe2(fildes: UserPtr<[i32; 2]>, flags: u32) -> KResult<()> {
    let cred = current().cred();
    let (read, write) = do_pipe2(flags, cred.fsuid, cred.fsgid)?;
    let files = current_files()?;
    let cloexec = flags & uapi::O_CLOEXEC != 0;
    let rfd = files.alloc_fd(0, read, cloexec)?;
    let wfd = files.alloc_fd(0, write, cloexec).inspect_err(|_| {
        let _ = files.close(rfd);
    })?;
    fildes.write(&[rfd, wfd]).inspect_err(|_| {
        let _ = files.close(rfd);
        let _ = files.close(wfd);
    })
}

/// A write with no reader left raises SIGPIPE on the writer (Linux:
/// `send_sig(SIGPIPE, current, 0)` in `pipe_write`).
fn send_sigpipe() {
    crate::kernel::signal::send_sig_current(crate::kernel::signal::Signal::SIGPIPE);
}

crate::ktest!(pipe_write_read_eof_eagain, {
    let pipe = PipeInodeInfo::new();
    let mut buf = [0; 8];
    crate::kassert!(pipe.pipe_read(&mut buf, true) == Err(Errno::EAGAIN), "empty and non-blocking");
    crate::kassert!(pipe.pipe_write(b"hello", false) == Ok(5), "write");
    crate::kassert!(pipe.pipe_poll(PipeEnd::Read) & uapi::POLLIN != 0, "readable");
    crate::kassert!(pipe.pipe_read(&mut buf[..3], false) == Ok(3), "a short read");
    crate::kassert!(pipe.pipe_read(&mut buf[3..], false) == Ok(2), "the rest");
    crate::kassert!(&buf[..5] == b"hello", "the bytes, in order");
    pipe.pipe_release(PipeEnd::Write);
    crate::kassert!(pipe.pipe_read(&mut buf, false) == Ok(0), "EOF without writers");
    crate::kassert!(pipe.pipe_poll(PipeEnd::Read) & uapi::POLLHUP != 0, "POLLHUP");
    Ok(())
});

crate::ktest!(pipe_full_atomic_and_epipe, {
    let pipe = PipeInodeInfo::new();
    let chunk = [0x5a; PIPE_BUF];
    let size = pipe.pipe_size();
    for _ in 0..size / PIPE_BUF {
        crate::kassert!(pipe.pipe_write(&chunk, true) == Ok(PIPE_BUF), "fills");
    }
    crate::kassert!(pipe.pipe_write(b"x", true) == Err(Errno::EAGAIN), "full");
    crate::kassert!(pipe.pipe_poll(PipeEnd::Write) & uapi::POLLOUT == 0, "not writable");
    let mut buf = [0; 100];
    crate::kassert!(pipe.pipe_read(&mut buf, true) == Ok(100), "drain a little");
    crate::kassert!(
        pipe.pipe_write(&chunk, true) == Err(Errno::EAGAIN),
        "PIPE_BUF writes are all or nothing"
    );
    crate::kassert!(pipe.pipe_write(&buf, true) == Ok(100), "a small write fits");
    crate::kassert!(pipe.set_pipe_size(4096) == Err(Errno::EBUSY), "cannot shrink below the data");
    pipe.pipe_release(PipeEnd::Read);
    crate::kassert!(pipe.pipe_write(b"x", false) == Err(Errno::EPIPE), "no readers");
    crate::kassert!(check_pipe2_flags(uapi::O_CLOEXEC | uapi::O_NONBLOCK).is_ok(), "pipe2 flags");
    crate::kassert!(check_pipe2_flags(uapi::O_APPEND) == Err(Errno::EINVAL), "other flags");
    Ok(())
});

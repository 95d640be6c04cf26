//! eventfd: a 64-bit counter behind a file descriptor, for waking one
//! process or thread from another (Linux: fs/eventfd.c).
//!
//! A write adds to the counter; a read returns it and resets it to 0, or,
//! with `EFD_SEMAPHORE`, returns 1 and decrements it. A read of 0 waits, a
//! write that would carry the counter past `u64::MAX - 1` waits; both
//! fail with `EAGAIN` instead on a non-blocking file. The file is readable
//! while the counter is not 0 and writable while it is below
//! `u64::MAX - 1`.
//!
//! # Locking
//! `EventFdCtx::count` is an IRQ-safe leaf spinlock (Linux takes
//! `wqh.lock` for it); it is dropped before the wait queue is woken.
//! Readers, writers and epoll's callbacks hang on `EventFdCtx::wqh`.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;

use linux_raw_sys::general as uapi;

use super::anon_inodes::anon_inode_getfile;
use super::current_files;
use super::file_table::{File, FileOps, PollMask};
use super::select::poll_wake;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueue;

/// The most the counter may hold (Linux: `ULLONG_MAX - 1`; `ULLONG_MAX`
/// itself marks an overflow, reported as `EPOLLERR`).
const EVENTFD_MAX: u64 = u64::MAX - 1;

/// One eventfd (Linux: `struct eventfd_ctx`).
pub struct EventFdCtx {
    count: SpinLock<u64>,
    /// Linux: `EFD_SEMAPHORE` in `ctx->flags`.
    semaphore: bool,
    /// Readers waiting for a count, writers waiting for room, epoll.
    wqh: WaitQueue,
}

impl EventFdCtx {
    fn new(initval: u32, semaphore: bool) -> Self {
        Self { count: SpinLock::new(u64::from(initval)), semaphore, wqh: WaitQueue::new() }
    }

    /// Takes what a read returns, if the counter is not 0 (Linux:
    /// `eventfd_ctx_do_read`).
    fn try_read(&self) -> Option<u64> {
        let mut count = self.count.lock();
        if *count == 0 {
            return None;
        }
        let taken = if self.semaphore { 1 } else { *count };
        *count -= taken;
        Some(taken)
    }

    /// Adds `n` if it fits below [`EVENTFD_MAX`].
    fn try_write(&self, n: u64) -> bool {
        let mut count = self.count.lock();
        if EVENTFD_MAX - *count < n {
            return false;
        }
        *count += n;
        true
    }

    /// Wakes the other side and every poller.
    fn wake(&self) {
        self.wqh.wake_up_all();
        poll_wake();
    }

    /// The counter as `read` would consume it, for self-tests.
    fn count(&self) -> u64 {
        *self.count.lock()
    }

    /// Linux: `eventfd_read`.
    fn read(&self, nonblock: bool) -> KResult<u64> {
        let mut taken = self.try_read();
        if taken.is_none() {
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            self.wqh
                .wait_event_interruptible(|| {
                    taken = self.try_read();
                    taken.is_some()
                })
                .map_err(|_| Errno::ERESTARTSYS)?;
        }
        self.wake();
        taken.ok_or(Errno::EAGAIN)
    }

    /// Linux: `eventfd_write`; `u64::MAX` is never a valid addend.
    fn write(&self, n: u64, nonblock: bool) -> KResult<()> {
        if n == u64::MAX {
            return Err(Errno::EINVAL);
        }
        if !self.try_write(n) {
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            self.wqh
                .wait_event_interruptible(|| self.try_write(n))
                .map_err(|_| Errno::ERESTARTSYS)?;
        }
        self.wake();
        Ok(())
    }

    /// Linux: `eventfd_poll`.
    fn poll(&self) -> PollMask {
        let count = *self.count.lock();
        let mut mask = 0;
        if count > 0 {
            mask |= uapi::POLLIN | uapi::POLLRDNORM;
        }
        if count == u64::MAX {
            mask |= uapi::POLLERR;
        }
        if count < EVENTFD_MAX {
            mask |= uapi::POLLOUT | uapi::POLLWRNORM;
        }
        mask
    }
}

/// Linux: `eventfd_fops`.
struct EventFdFileOps;
static EVENTFD_FOPS: EventFdFileOps = EventFdFileOps;

fn ctx(file: &File) -> KResult<&EventFdCtx> {
    file.private::<EventFdCtx>().ok_or(Errno::EINVAL)
}

impl FileOps for EventFdFileOps {
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        let out = buf.get_mut(..8).ok_or(Errno::EINVAL)?;
        let n = ctx(file)?.read(file.is_nonblocking())?;
        out.copy_from_slice(&n.to_ne_bytes());
        Ok(8)
    }

    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        let bytes: [u8; 8] = buf.get(..8).and_then(|b| b.try_into().ok()).ok_or(Errno::EINVAL)?;
        ctx(file)?.write(u64::from_ne_bytes(bytes), file.is_nonblocking())?;
        Ok(8)
    }

    fn poll(&self, file: &File) -> PollMask {
        ctx(file).map_or(uapi::POLLERR, EventFdCtx::poll)
    }

    fn poll_wait_queue<'a>(&self, file: &'a File) -> &'a WaitQueue {
        match ctx(file) {
            Ok(ctx) => &ctx.wqh,
            Err(_) => super::select::poll_wait_queue(),
        }
    }

    fn seekable(&self) -> bool {
        false
    }
}

/// `EINVAL` for flags other than `EFD_SEMAPHORE`, `EFD_NONBLOCK`,
/// `EFD_CLOEXEC` (Linux: `EFD_FLAGS_SET`).
fn check_eventfd_flags(flags: u32) -> KResult<()> {
    let known = uapi::EFD_SEMAPHORE | uapi::EFD_NONBLOCK | uapi::EFD_CLOEXEC;
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Makes an eventfd file (Linux: `do_eventfd` without the descriptor).
pub fn eventfd_file(initval: u32, flags: u32) -> KResult<Arc<File>> {
    check_eventfd_flags(flags)?;
    let ctx = EventFdCtx::new(initval, flags & uapi::EFD_SEMAPHORE != 0);
    let open_flags = uapi::O_RDWR | (flags & uapi::O_NONBLOCK);
    anon_inode_getfile(&EVENTFD_FOPS, Box::new(ctx), open_flags)
}

/// eventfd2(2).
pub fn sys_eventfd2(initval: u32, flags: u32) -> KResult<i32> {
    let file = eventfd_file(initval, flags)?;
    current_files()?.alloc_fd(0, file, flags & uapi::EFD_CLOEXEC != 0)
}

/// eventfd(2): eventfd2 with no flags.
pub fn sys_eventfd(initval: u32) -> KResult<i32> {
    sys_eventfd2(initval, 0)
}

crate::ktest!(eventfd_counter_semaphore_and_overflow, {
    let file = eventfd_file(3, uapi::EFD_NONBLOCK | uapi::EFD_SEMAPHORE).map_err(|_| "eventfd")?;
    let ops = file.f_op;
    let mut buf = [0u8; 8];
    let mut pos = 0;
    crate::kassert!(ops.read(&file, &mut buf[..4], &mut pos) == Err(Errno::EINVAL), "short read");
    crate::kassert!(ops.read(&file, &mut buf, &mut pos) == Ok(8), "read");
    crate::kassert!(u64::from_ne_bytes(buf) == 1, "a semaphore reads 1");
    crate::kassert!(ctx(&file).map(EventFdCtx::count) == Ok(2), "and decrements");
    let max = u64::MAX.to_ne_bytes();
    crate::kassert!(ops.write(&file, &max, &mut pos) == Err(Errno::EINVAL), "u64::MAX");
    let big = (EVENTFD_MAX - 2).to_ne_bytes();
    crate::kassert!(ops.write(&file, &big, &mut pos) == Ok(8), "up to the limit");
    crate::kassert!(ops.poll(&file) & uapi::POLLOUT == 0, "full: not writable");
    crate::kassert!(ops.write(&file, &1u64.to_ne_bytes(), &mut pos) == Err(Errno::EAGAIN), "full");
    crate::kassert!(check_eventfd_flags(1 << 3) == Err(Errno::EINVAL), "unknown flag");
    Ok(())
});

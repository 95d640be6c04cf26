//! poll(2) and ppoll(2): waiting for any of several files to be ready.
//!
//! Linux: fs/select.c (`do_sys_poll`, `do_poll`, `do_pollfd`,
//! `poll_select_set_timeout`).
//!
//! Linux's `poll_wait` puts the polling task on each file's wait queues
//! through a `poll_table`. Until `FileOps::poll` takes a poll table, the
//! files that can block (ttys, pipes) call [`poll_wake`] whenever they wake
//! their own queues, and a poller sleeps on the one `POLL_WAIT` queue with
//! a sequence number, so no wakeup between its scan and its sleep is lost.
//! The cost is that every poller rescans on any pollable event.
//!
//! Timed waits (poll's timeout, a tty's VTIME) sleep on the same queue
//! with their deadline in `NEXT_DEADLINE`; [`poll_timer_tick`], called from
//! the timer tick, wakes them when the earliest deadline has passed (Linux
//! arms an hrtimer per sleeper: `schedule_hrtimeout_range`).
//!
//! # Locking
//! None of its own: `POLL_SEQ` is atomic and `POLL_WAIT` is a wait queue.
//! Files are polled with no lock held.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use linux_raw_sys::general as uapi;

use alloc::vec::Vec;

use linux_raw_sys::general::__kernel_timespec;

use super::current_files;
use super::file_table::{File, PollMask};
use crate::arch::uaccess::{UserAddr, copy_from_user, copy_to_user};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::signal::deliver::set_current_blocked;
use crate::kernel::signal::{SigSet, SigTask};
use crate::kernel::syscall::args::UserPtr;
use crate::kernel::time::{HZ, jiffies};
use crate::mm::slab_common::kzalloc;

static POLL_WAIT: WaitQueue = WaitQueue::new();
static POLL_SEQ: AtomicU64 = AtomicU64::new(0);
/// The earliest deadline (jiffies) of a timed sleeper on `POLL_WAIT`.
static NEXT_DEADLINE: AtomicU64 = AtomicU64::new(u64::MAX);

/// Tells pollers that some file's readiness may have changed.
pub fn poll_wake() {
    POLL_SEQ.fetch_add(1, Ordering::AcqRel);
    POLL_WAIT.wake_up_all();
}

/// Wakes timed sleepers whose deadline has passed; the timer tick calls
/// it. Sleepers whose deadline is still ahead go back to sleep and
/// publish it again.
pub fn poll_timer_tick() {
    if jiffies() >= NEXT_DEADLINE.load(Ordering::Acquire) {
        NEXT_DEADLINE.store(u64::MAX, Ordering::Release);
        poll_wake();
    }
}

/// Sleeps until `cond()` holds (`Ok(true)`), `timeout` jiffies pass
/// (`Ok(false)`) or a signal arrives (`EINTR`) (Linux:
/// `wait_event_interruptible_timeout`). Whatever makes `cond()` true must
/// call [`poll_wake`].
pub fn wait_event_interruptible_timeout(
    mut cond: impl FnMut() -> bool,
    timeout: u64,
) -> KResult<bool> {
    let deadline = jiffies().saturating_add(timeout);
    let mut met = false;
    POLL_WAIT.wait_event_interruptible(|| {
        met = cond();
        if !met {
            NEXT_DEADLINE.fetch_min(deadline, Ordering::AcqRel);
        }
        met || jiffies() >= deadline
    })?;
    Ok(met)
}

/// One entry of poll's array (Linux: `struct pollfd`), 8 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PollFd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}

pub const POLLFD_SIZE: usize = 8;
const _: () = assert!(core::mem::size_of::<uapi::pollfd>() == POLLFD_SIZE);

impl PollFd {
    pub fn from_bytes(b: &[u8; POLLFD_SIZE]) -> Self {
        Self {
            fd: i32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
            events: i16::from_ne_bytes([b[4], b[5]]),
            revents: i16::from_ne_bytes([b[6], b[7]]),
        }
    }

    pub fn to_bytes(self) -> [u8; POLLFD_SIZE] {
        let mut b = [0; POLLFD_SIZE];
        b[..4].copy_from_slice(&self.fd.to_ne_bytes());
        b[4..6].copy_from_slice(&self.events.to_ne_bytes());
        b[6..].copy_from_slice(&self.revents.to_ne_bytes());
        b
    }
}

/// `EINVAL` when `nfds` exceeds the caller's `RLIMIT_NOFILE` (Linux:
/// `do_sys_poll`).
pub fn check_nfds(nfds: u64, rlimit_nofile: u64) -> KResult<usize> {
    if nfds > rlimit_nofile {
        return Err(Errno::EINVAL);
    }
    usize::try_from(nfds).map_err(|_| Errno::EINVAL)
}

/// A poll timeout in milliseconds as poll(2) takes it: negative waits
/// forever. Returns jiffies, `None` for forever.
pub fn poll_timeout_jiffies(timeout_ms: i32) -> Option<u64> {
    let ms = u64::try_from(timeout_ms).ok()?;
    Some(ms.saturating_mul(HZ).div_ceil(1000))
}

/// A ppoll timeout (seconds, nanoseconds) in jiffies; `EINVAL` for a
/// negative or malformed one (Linux: `poll_select_set_timeout`).
pub fn ppoll_timeout_jiffies(sec: i64, nsec: i64) -> KResult<u64> {
    let sec = u64::try_from(sec).map_err(|_| Errno::EINVAL)?;
    let nsec = u64::try_from(nsec).ok().filter(|&ns| ns < 1_000_000_000).ok_or(Errno::EINVAL)?;
    let per_jiffy = 1_000_000_000 / HZ;
    Ok(sec.saturating_mul(HZ).saturating_add(nsec.div_ceil(per_jiffy)))
}

/// Fills in one entry's `revents` (Linux: `do_pollfd`): 0 for a negative
/// fd, `POLLNVAL` for a closed one; POLLERR and POLLHUP always count.
fn do_pollfd(pfd: &mut PollFd, fget: &dyn Fn(i32) -> Option<Arc<File>>) -> bool {
    pfd.revents = 0;
    if pfd.fd < 0 {
        return false;
    }
    let mask: PollMask = match fget(pfd.fd) {
        None => uapi::POLLNVAL,
        Some(file) => {
            // Events are 16 bits on the wire; the two always reported ride along.
            let wanted = u32::from(pfd.events as u16) | uapi::POLLERR | uapi::POLLHUP;
            file.f_op.poll(&file) & wanted
        }
    };
    pfd.revents = i16::from_ne_bytes(u16::try_from(mask & 0xffff).unwrap_or(0).to_ne_bytes());
    mask != 0
}

/// Polls `fds` until one is ready, the timeout (jiffies; `None` =
/// forever) runs out, or a signal comes (Linux: `do_poll`). `fget` looks a
/// descriptor up in the caller's table. Returns the number of entries
/// with events; `EINTR` if a signal came first.
pub fn do_poll(
    fds: &mut [PollFd],
    timeout: Option<u64>,
    fget: &dyn Fn(i32) -> Option<Arc<File>>,
) -> KResult<usize> {
    let deadline = timeout.map(|t| jiffies().saturating_add(t));
    loop {
        let seq = POLL_SEQ.load(Ordering::Acquire);
        let mut count = 0;
        for pfd in fds.iter_mut() {
            count += usize::from(do_pollfd(pfd, fget));
        }
        if count > 0 {
            return Ok(count);
        }
        let left = match deadline {
            None => u64::MAX,
            Some(end) => end.saturating_sub(jiffies()),
        };
        if left == 0 {
            return Ok(0);
        }
        let changed = || POLL_SEQ.load(Ordering::Acquire) != seq;
        wait_event_interruptible_timeout(changed, left)?;
    }
}

/// The body of poll(2) and ppoll(2) (Linux: `do_sys_poll`): copies the
/// array in, polls, copies it back with `revents` filled in. A signal
/// ends the wait with `ERESTARTNOHAND`: restarted if no handler ran,
/// `EINTR` if one did.
fn do_sys_poll(ufds: UserAddr, nfds: u32, timeout: Option<u64>) -> KResult<usize> {
    let files = current_files()?;
    let nofile = u64::try_from(files.nofile()).unwrap_or(u64::MAX);
    let nfds = check_nfds(u64::from(nfds), nofile)?;
    let mut raw = kzalloc(nfds * POLLFD_SIZE)?;
    copy_from_user(&mut raw, ufds).map_err(|_| Errno::EFAULT)?;
    let mut fds = Vec::new();
    fds.try_reserve_exact(nfds).map_err(|_| Errno::ENOMEM)?;
    for chunk in raw.chunks_exact(POLLFD_SIZE) {
        let mut entry = [0u8; POLLFD_SIZE];
        entry.copy_from_slice(chunk);
        fds.push(PollFd::from_bytes(&entry));
    }
    let fget = |fd: i32| files.get(fd).ok();
    let count = match do_poll(&mut fds, timeout, &fget) {
        Err(Errno::EINTR) => return Err(Errno::ERESTARTNOHAND),
        other => other?,
    };
    for (chunk, pfd) in raw.chunks_exact_mut(POLLFD_SIZE).zip(&fds) {
        chunk.copy_from_slice(&pfd.to_bytes());
    }
    copy_to_user(ufds, &raw).map_err(|_| Errno::EFAULT)?;
    Ok(count)
}

/// poll(2): `timeout_msecs` < 0 waits forever.
pub fn sys_poll(ufds: UserAddr, nfds: u32, timeout_msecs: i32) -> KResult<usize> {
    do_sys_poll(ufds, nfds, poll_timeout_jiffies(timeout_msecs))
}

/// ppoll(2): a NULL `tsp` waits forever; `sigmask` replaces the blocked
/// mask for the wait (Linux: `set_user_sigmask`). If a signal ends the
/// wait, the old mask comes back after its handler, as with
/// rt_sigsuspend; otherwise at once. The time left is not written back.
pub fn sys_ppoll(
    ufds: UserAddr,
    nfds: u32,
    tsp: UserPtr<__kernel_timespec>,
    sigmask: UserPtr<u64>,
    sigsetsize: usize,
) -> KResult<usize> {
    let timeout = if tsp.is_null() {
        None
    } else {
        let ts = tsp.read()?;
        Some(ppoll_timeout_jiffies(ts.tv_sec, ts.tv_nsec)?)
    };
    if sigmask.is_null() {
        return do_sys_poll(ufds, nfds, timeout);
    }
    if sigsetsize != core::mem::size_of::<u64>() {
        return Err(Errno::EINVAL);
    }
    let mask = SigSet::from_bits(sigmask.read()?);
    let cur = current();
    let old = cur.thread_signal().lock().blocked;
    set_current_blocked(cur.as_ref(), mask);
    let result = do_sys_poll(ufds, nfds, timeout);
    if result == Err(Errno::ERESTARTNOHAND) {
        cur.thread_signal().lock().saved_sigmask = Some(old);
    } else {
        set_current_blocked(cur.as_ref(), old);
    }
    result
}

crate::ktest!(poll_pipe_pollin_and_pollhup, {
    let (read, write) = super::pipe::do_pipe2(uapi::O_NONBLOCK, 0, 0).map_err(|_| "pipe2")?;
    let mut write = Some(write);
    let mut fds =
        [PollFd { fd: 0, events: 1, revents: 0 }, PollFd { fd: 7, events: 1, revents: 0 }];
    let events = |fds: &mut [PollFd], write: &Option<Arc<File>>| {
        let fget = |fd: i32| match fd {
            0 => Some(read.clone()),
            1 => write.clone(),
            _ => None,
        };
        do_poll(fds, Some(0), &fget)
    };
    crate::kassert!(events(&mut fds[..1], &write) == Ok(0), "nothing to read yet");
    let mut pos = 0;
    let w = write.as_ref().ok_or("write end")?;
    crate::kassert!(w.f_op.write(w, b"x", &mut pos) == Ok(1), "write");
    crate::kassert!(events(&mut fds, &write) == Ok(2), "POLLIN and POLLNVAL");
    crate::kassert!(fds[0].revents == 1, "POLLIN");
    crate::kassert!(i64::from(fds[1].revents) == i64::from(uapi::POLLNVAL), "a closed fd");
    write = None;
    crate::kassert!(events(&mut fds[..1], &write) == Ok(1), "still readable");
    crate::kassert!(
        u32::from(fds[0].revents as u16) == uapi::POLLIN | uapi::POLLHUP,
        "POLLHUP after the writer closed"
    );
    crate::kassert!(check_nfds(2000, 1024) == Err(Errno::EINVAL), "nfds over RLIMIT_NOFILE");
    crate::kassert!(ppoll_timeout_jiffies(0, 1_000_000_000) == Err(Errno::EINVAL), "bad timespec");
    Ok(())
});

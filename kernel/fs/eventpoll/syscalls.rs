//! The epoll system calls: creating an instance, changing its interest
//! list, and waiting on its ready list (Linux: fs/eventpoll.c,
//! `do_epoll_create`, `do_epoll_wait`, `ep_poll`, the `SYSCALL_DEFINE`s).
//!
//! # Locking
//! None of its own; see the parent module.

use alloc::vec::Vec;

use linux_raw_sys::general as uapi;
use linux_raw_sys::general::__kernel_timespec;

use super::{EventPoll, do_epoll_ctl, epoll_file, file_epoll};
use crate::arch::uaccess::{UserAddr, access_ok, copy_from_user, copy_to_user};
use crate::fs::current_files;
use crate::fs::fdtable::fdget_current;
use crate::fs::select::{get_user_sigmask, with_user_sigmask};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::UserPtr;
use crate::kernel::time::posix::timespec_to_ns;
use crate::kernel::time::timer::MAX_SCHEDULE_TIMEOUT;
use crate::kernel::time::{HZ, ktime_get_ns};

/// Size of `struct epoll_event` on x86_64, where it is packed.
const EPOLL_EVENT_SIZE: usize = 12;
const _: () = assert!(core::mem::size_of::<uapi::epoll_event>() == EPOLL_EVENT_SIZE);
/// The most events one call may ask for (Linux: `EP_MAX_EVENTS`).
const EP_MAX_EVENTS: usize = i32::MAX as usize / EPOLL_EVENT_SIZE;

/// Waits until `ep` has events, `end_ns` passes (`None` = never) or a
/// signal comes (`EINTR`, never restarted) (Linux: `ep_poll`).
fn ep_poll(ep: &EventPoll, maxevents: usize, end_ns: Option<u64>) -> KResult<Vec<(u32, u64)>> {
    loop {
        let got = ep.send_events(maxevents)?;
        let left = match end_ns {
            None => MAX_SCHEDULE_TIMEOUT,
            Some(end) => end.saturating_sub(ktime_get_ns()).div_ceil(1_000_000_000 / HZ),
        };
        if !got.is_empty() || left == 0 {
            return Ok(got);
        }
        ep.wq.wait_event_interruptible_timeout(|| ep.events_available(), left)?;
    }
}

/// The body of the epoll_wait family (Linux: `do_epoll_wait`).
fn do_epoll_wait(
    epfd: i32,
    events: UserAddr,
    maxevents: i32,
    end_ns: Option<u64>,
) -> KResult<usize> {
    let max = usize::try_from(maxevents)
        .ok()
        .filter(|&m| m > 0 && m <= EP_MAX_EVENTS)
        .ok_or(Errno::EINVAL)?;
    if !access_ok(events, max * EPOLL_EVENT_SIZE) {
        return Err(Errno::EFAULT);
    }
    let file = fdget_current(epfd)?;
    let ep = file_epoll(&file).ok_or(Errno::EINVAL)?;
    let got = ep_poll(ep, max, end_ns)?;
    // Through a buffer on the stack, a chunk of events per copy.
    let mut raw = [0u8; 32 * EPOLL_EVENT_SIZE];
    for (i, chunk) in got.chunks(32).enumerate() {
        let bytes = &mut raw[..chunk.len() * EPOLL_EVENT_SIZE];
        for (b, (revents, data)) in bytes.chunks_exact_mut(EPOLL_EVENT_SIZE).zip(chunk) {
            b[..4].copy_from_slice(&revents.to_ne_bytes());
            b[4..].copy_from_slice(&data.to_ne_bytes());
        }
        let at = events.checked_add(i * 32 * EPOLL_EVENT_SIZE).ok_or(Errno::EFAULT)?;
        copy_to_user(at, bytes).map_err(|_| Errno::EFAULT)?;
    }
    Ok(got.len())
}

/// A timeout in milliseconds made absolute; negative waits forever.
fn msecs_end_ns(timeout: i32) -> Option<u64> {
    let ms = u64::try_from(timeout).ok()?;
    Some(ktime_get_ns().saturating_add(ms.saturating_mul(1_000_000)))
}

/// epoll_wait(2).
pub fn sys_epoll_wait(epfd: i32, events: UserAddr, maxevents: i32, timeout: i32) -> KResult<usize> {
    do_epoll_wait(epfd, events, maxevents, msecs_end_ns(timeout))
}

/// epoll_pwait(2): with a signal mask for the wait.
pub fn sys_epoll_pwait(
    epfd: i32,
    events: UserAddr,
    maxevents: i32,
    timeout: i32,
    sigmask: UserPtr<u64>,
    sigsetsize: usize,
) -> KResult<usize> {
    let mask = get_user_sigmask(sigmask, sigsetsize)?;
    with_user_sigmask(mask, Errno::EINTR, || {
        do_epoll_wait(epfd, events, maxevents, msecs_end_ns(timeout))
    })
}

/// epoll_pwait2(2): the timeout is a timespec; NULL waits forever.
pub fn sys_epoll_pwait2(
    epfd: i32,
    events: UserAddr,
    maxevents: i32,
    timeout: UserPtr<__kernel_timespec>,
    sigmask: UserPtr<u64>,
    sigsetsize: usize,
) -> KResult<usize> {
    let end_ns = if timeout.is_null() {
        None
    } else {
        let ts = timeout.read()?;
        Some(ktime_get_ns().saturating_add(timespec_to_ns(&ts)?))
    };
    let mask = get_user_sigmask(sigmask, sigsetsize)?;
    with_user_sigmask(mask, Errno::EINTR, || do_epoll_wait(epfd, events, maxevents, end_ns))
}

/// epoll_create1(2): `EPOLL_CLOEXEC` is the only flag.
pub fn sys_epoll_create1(flags: i32) -> KResult<i32> {
    let flags = u32::try_from(flags).map_err(|_| Errno::EINVAL)?;
    if flags & !uapi::EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let file = epoll_file()?;
    current_files()?.alloc_fd(0, file, flags & uapi::EPOLL_CLOEXEC != 0)
}

/// epoll_create(2): `size` is only checked to be positive.
pub fn sys_epoll_create(size: i32) -> KResult<i32> {
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    sys_epoll_create1(0)
}

/// epoll_ctl(2): the event is read first for ADD and MOD (Linux checks
/// the copy before the descriptors).
pub fn sys_epoll_ctl(epfd: i32, op: i32, fd: i32, event: UserAddr) -> KResult<()> {
    let op = u32::try_from(op).map_err(|_| Errno::EINVAL)?;
    let ev = if op == uapi::EPOLL_CTL_DEL {
        (0, 0)
    } else {
        let mut raw = [0u8; EPOLL_EVENT_SIZE];
        copy_from_user(&mut raw, event).map_err(|_| Errno::EFAULT)?;
        let mut data = [0u8; 8];
        data.copy_from_slice(&raw[4..]);
        (u32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]), u64::from_ne_bytes(data))
    };
    let files = current_files()?;
    let ep_file = files.get(epfd)?;
    let file = files.get(fd)?;
    do_epoll_ctl(&ep_file, op, fd, &file, ev)
}

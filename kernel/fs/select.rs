//! poll(2), ppoll(2), select(2) and pselect6(2): waiting for any of
//! several files to be ready.
//!
//! Linux: fs/select.c (`do_sys_poll`, `do_poll`, `do_pollfd`,
//! `core_sys_select`, `do_select`, `poll_select_set_timeout`,
//! `poll_select_finish`).
//!
//! select is poll over three bitmaps: a file's poll mask maps to
//! readable, writable and exceptional through `POLLIN_SET`,
//! `POLLOUT_SET` and `POLLEX_SET`, and the time left is written back to
//! the caller's timeout, as Linux does. Deadlines are kept in
//! nanoseconds, so a timed wait never returns early.
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

use linux_raw_sys::general::{__kernel_old_timeval, __kernel_timespec};

use super::current_files;
use super::fdtable::FdTable;
use super::file_table::{File, PollMask};
use crate::arch::uaccess::{UserAddr, copy_from_user, copy_to_user};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::signal::deliver::set_current_blocked;
use crate::kernel::signal::{SigSet, SigTask};
use crate::kernel::syscall::args::UserPtr;
use crate::kernel::time::{HZ, jiffies, ktime_get_ns};

static POLL_WAIT: WaitQueue = WaitQueue::new();
static POLL_SEQ: AtomicU64 = AtomicU64::new(0);
/// The earliest deadline (jiffies) of a timed sleeper on `POLL_WAIT`.
static NEXT_DEADLINE: AtomicU64 = AtomicU64::new(u64::MAX);

/// The shared queue every pollable file's changes wake (what
/// [`FileOps::poll_wait_queue`](super::file_table::FileOps::poll_wait_queue)
/// returns unless a file has its own).
pub fn poll_wait_queue() -> &'static WaitQueue {
    &POLL_WAIT
}

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

/// Looks up a batch of descriptors in the caller's table: the files, in
/// order, `None` for a closed one (see [`FdTable::fget_many`]).
pub type FgetMany<'a> = dyn Fn(&mut dyn Iterator<Item = i32>, &mut Vec<Option<Arc<File>>>) + 'a;

/// The batch lookup over `files`.
fn fget_many_from(
    files: &FdTable,
) -> impl Fn(&mut dyn Iterator<Item = i32>, &mut Vec<Option<Arc<File>>>) {
    move |fds, out| files.fget_many(fds, out)
}

/// Fills in one entry's `revents` (Linux: `do_pollfd`): 0 for a negative
/// fd, `POLLNVAL` for a closed one; POLLERR and POLLHUP always count.
fn do_pollfd(pfd: &mut PollFd, file: Option<&Arc<File>>) -> bool {
    pfd.revents = 0;
    if pfd.fd < 0 {
        return false;
    }
    let mask: PollMask = match file {
        None => uapi::POLLNVAL,
        Some(file) => {
            // Events are 16 bits on the wire; the two always reported ride along.
            let wanted = u32::from(pfd.events as u16) | uapi::POLLERR | uapi::POLLHUP;
            file.f_op.poll(file) & wanted
        }
    };
    pfd.revents = i16::from_ne_bytes(u16::try_from(mask & 0xffff).unwrap_or(0).to_ne_bytes());
    mask != 0
}

/// Polls `fds` until one is ready, the timeout (jiffies; `None` =
/// forever) runs out, or a signal comes (Linux: `do_poll`). `fget_many`
/// looks the descriptors up in the caller's table, once per pass. Returns
/// the number of entries with events; `EINTR` if a signal came first.
pub fn do_poll(
    fds: &mut [PollFd],
    timeout: Option<u64>,
    fget_many: &FgetMany<'_>,
) -> KResult<usize> {
    let end_ns = timeout.map(|t| ktime_get_ns().saturating_add(t.saturating_mul(NSEC_PER_JIFFY)));
    let mut files = Vec::new();
    files.try_reserve_exact(fds.len()).map_err(|_| Errno::ENOMEM)?;
    poll_loop(end_ns, || {
        fget_many(&mut fds.iter().map(|pfd| pfd.fd), &mut files);
        let ready = fds.iter_mut().zip(&files).map(|(pfd, f)| do_pollfd(pfd, f.as_ref()));
        let count = ready.filter(|&r| r).count();
        // Linux's `fdput` after each descriptor: no reference outlives the pass.
        files.clear();
        count
    })
}

/// Nanoseconds per jiffy.
const NSEC_PER_JIFFY: u64 = 1_000_000_000 / HZ;

/// Scans with `scan` (which returns how many events it found) until it
/// finds some, `end_ns` (`ktime_get_ns`; `None` = never) passes, or a
/// signal comes (`EINTR`): the loop of Linux's `do_poll` and `do_select`.
/// A timed sleep never ends before `end_ns`.
pub(super) fn poll_loop(end_ns: Option<u64>, mut scan: impl FnMut() -> usize) -> KResult<usize> {
    loop {
        let seq = POLL_SEQ.load(Ordering::Acquire);
        let count = scan();
        if count > 0 {
            return Ok(count);
        }
        let left = match end_ns {
            None => u64::MAX,
            Some(end) => end.saturating_sub(ktime_get_ns()).div_ceil(NSEC_PER_JIFFY),
        };
        if left == 0 {
            return Ok(0);
        }
        let changed = || POLL_SEQ.load(Ordering::Acquire) != seq;
        wait_event_interruptible_timeout(changed, left)?;
    }
}

/// How many `pollfd`s move between user and kernel per copy: the array
/// goes through a buffer on the stack, as Linux's `POLL_STACK_ALLOC`.
const POLL_CHUNK: usize = 32;

/// The body of poll(2) and ppoll(2) (Linux: `do_sys_poll`): copies the
/// array in, polls, copies it back with `revents` filled in. A signal
/// ends the wait with `ERESTARTNOHAND`: restarted if no handler ran,
/// `EINTR` if one did.
fn do_sys_poll(ufds: UserAddr, nfds: u32, timeout: Option<u64>) -> KResult<usize> {
    let files = current_files()?;
    let nofile = u64::try_from(files.nofile()).unwrap_or(u64::MAX);
    let nfds = check_nfds(u64::from(nfds), nofile)?;
    let mut fds = Vec::new();
    fds.try_reserve_exact(nfds).map_err(|_| Errno::ENOMEM)?;
    let mut raw = [0u8; POLL_CHUNK * POLLFD_SIZE];
    for start in (0..nfds).step_by(POLL_CHUNK) {
        let bytes = &mut raw[..(nfds - start).min(POLL_CHUNK) * POLLFD_SIZE];
        copy_from_user(bytes, user_offset(ufds, start * POLLFD_SIZE)?)
            .map_err(|_| Errno::EFAULT)?;
        fds.extend(bytes.chunks_exact(POLLFD_SIZE).map(|b| PollFd::from_bytes(pollfd_bytes(b))));
    }
    let count = match do_poll(&mut fds, timeout, &fget_many_from(&files)) {
        Err(Errno::EINTR) => return Err(Errno::ERESTARTNOHAND),
        other => other?,
    };
    for (i, chunk) in fds.chunks(POLL_CHUNK).enumerate() {
        let bytes = &mut raw[..chunk.len() * POLLFD_SIZE];
        for (b, pfd) in bytes.chunks_exact_mut(POLLFD_SIZE).zip(chunk) {
            b.copy_from_slice(&pfd.to_bytes());
        }
        let at = user_offset(ufds, i * POLL_CHUNK * POLLFD_SIZE)?;
        copy_to_user(at, bytes).map_err(|_| Errno::EFAULT)?;
    }
    Ok(count)
}

/// `base + off` for a user array's element; `EFAULT` past the address space.
fn user_offset(base: UserAddr, off: usize) -> KResult<UserAddr> {
    base.checked_add(off).ok_or(Errno::EFAULT)
}

/// One `pollfd`'s bytes out of a chunk of exactly that size.
fn pollfd_bytes(b: &[u8]) -> &[u8; POLLFD_SIZE] {
    b.try_into().unwrap_or(&[0; POLLFD_SIZE])
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
    let mask = get_user_sigmask(sigmask, sigsetsize)?;
    with_user_sigmask(mask, Errno::ERESTARTNOHAND, || do_sys_poll(ufds, nfds, timeout))
}

/// The mask a ppoll/pselect6/epoll_pwait caller passes: `None` for a NULL
/// pointer, `EINVAL` unless `sigsetsize` is 8 (Linux: `set_user_sigmask`).
pub fn get_user_sigmask(sigmask: UserPtr<u64>, sigsetsize: usize) -> KResult<Option<SigSet>> {
    if sigmask.is_null() {
        return Ok(None);
    }
    if sigsetsize != core::mem::size_of::<u64>() {
        return Err(Errno::EINVAL);
    }
    Ok(Some(SigSet::from_bits(sigmask.read()?)))
}

/// Runs `wait` with `mask` as the blocked set (Linux: `set_user_sigmask`
/// and `restore_saved_sigmask_unless`). If it fails with `interrupted`, a
/// signal ended it: the old mask comes back after that signal's handler,
/// as with rt_sigsuspend; otherwise at once.
pub fn with_user_sigmask<T>(
    mask: Option<SigSet>,
    interrupted: Errno,
    wait: impl FnOnce() -> KResult<T>,
) -> KResult<T> {
    let Some(mask) = mask else { return wait() };
    let cur = current();
    let old = cur.thread_signal().lock().blocked;
    set_current_blocked(cur.as_ref(), mask);
    let result = wait();
    if matches!(result, Err(e) if e == interrupted) {
        cur.thread_signal().lock().saved_sigmask = Some(old);
    } else {
        set_current_blocked(cur.as_ref(), old);
    }
    result
}

/// What select(2) counts as readable, writable and exceptional (Linux:
/// `POLLIN_SET`, `POLLOUT_SET`, `POLLEX_SET`).
const POLLIN_SET: PollMask =
    uapi::POLLRDNORM | uapi::POLLRDBAND | uapi::POLLIN | uapi::POLLHUP | uapi::POLLERR;
const POLLOUT_SET: PollMask = uapi::POLLWRBAND | uapi::POLLWRNORM | uapi::POLLOUT | uapi::POLLERR;
const POLLEX_SET: PollMask = uapi::POLLPRI;

/// The three sets select(2) takes and the three it returns, as 64-bit
/// words of `n` bits, in one buffer: in, out, ex, then their results
/// (Linux: `fd_set_bits`, one allocation of six bitmaps).
struct FdSetBits {
    words: usize,
    bits: Vec<u64>,
}

/// How many set words move between user and kernel per copy.
const FDSET_CHUNK_WORDS: usize = 32;

/// Copies one user `fd_set` into `set`; NULL reads as empty (Linux:
/// `get_fd_set`).
fn get_fd_set(uset: UserAddr, set: &mut [u64]) -> KResult<()> {
    set.fill(0);
    if uset.is_null() {
        return Ok(());
    }
    let mut raw = [0u8; FDSET_CHUNK_WORDS * 8];
    for (i, words) in set.chunks_mut(FDSET_CHUNK_WORDS).enumerate() {
        let bytes = &mut raw[..words.len() * 8];
        let at = user_offset(uset, i * FDSET_CHUNK_WORDS * 8)?;
        copy_from_user(bytes, at).map_err(|_| Errno::EFAULT)?;
        for (word, b) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            *word = u64::from_ne_bytes(b.try_into().unwrap_or([0; 8]));
        }
    }
    Ok(())
}

/// Copies one result set out, unless the caller passed NULL (Linux:
/// `set_fd_set`).
fn set_fd_set(uset: UserAddr, set: &[u64]) -> KResult<()> {
    if uset.is_null() {
        return Ok(());
    }
    let mut raw = [0u8; FDSET_CHUNK_WORDS * 8];
    for (i, words) in set.chunks(FDSET_CHUNK_WORDS).enumerate() {
        let bytes = &mut raw[..words.len() * 8];
        for (b, word) in bytes.chunks_exact_mut(8).zip(words) {
            b.copy_from_slice(&word.to_ne_bytes());
        }
        let at = user_offset(uset, i * FDSET_CHUNK_WORDS * 8)?;
        copy_to_user(at, bytes).map_err(|_| Errno::EFAULT)?;
    }
    Ok(())
}

impl FdSetBits {
    /// The three sets of `n` bits copied in from `fds` (Linux: the
    /// `get_fd_set` calls of `core_sys_select`).
    fn get(n: usize, fds: &[UserAddr; 3]) -> KResult<Self> {
        let words = n.div_ceil(64);
        let mut bits = Vec::new();
        bits.try_reserve_exact(6 * words).map_err(|_| Errno::ENOMEM)?;
        bits.resize(6 * words, 0);
        for (uset, set) in fds.iter().zip(bits.chunks_mut(words.max(1))) {
            get_fd_set(*uset, set)?;
            // Bits at and past `n` in the last word are not looked at.
            if let Some(last) = set.last_mut().filter(|_| !n.is_multiple_of(64)) {
                *last &= (1 << (n % 64)) - 1;
            }
        }
        Ok(Self { words, bits })
    }

    fn set(&self, i: usize) -> &[u64] {
        &self.bits[i * self.words..(i + 1) * self.words]
    }

    /// The descriptors in any of the three sets, lowest first, as
    /// `do_select` walks them: a word at a time, skipping empty ones.
    fn wanted(&self) -> KResult<Vec<usize>> {
        let any =
            |w: usize| self.bits[w] | self.bits[self.words + w] | self.bits[2 * self.words + w];
        let count: u32 = (0..self.words).map(|w| any(w).count_ones()).sum();
        let mut fds = Vec::new();
        fds.try_reserve_exact(count as usize).map_err(|_| Errno::ENOMEM)?;
        for w in 0..self.words {
            let mut word = any(w);
            while word != 0 {
                fds.push(w * 64 + word.trailing_zeros() as usize);
                word &= word - 1;
            }
        }
        Ok(fds)
    }

    /// One pass over `wanted` with their `files` (Linux: the body of
    /// `do_select`): fills the result sets, returns how many bits it set.
    fn scan(&mut self, wanted: &[usize], files: &[Option<Arc<File>>]) -> usize {
        let words = self.words;
        let (sets, res) = self.bits.split_at_mut(3 * words);
        res.fill(0);
        let mut count = 0;
        for (&fd, file) in wanted.iter().zip(files) {
            // A descriptor closed since the check is skipped, as Linux does.
            let Some(file) = file else { continue };
            let mask = file.f_op.poll(file);
            let (w, bit) = (fd / 64, 1u64 << (fd % 64));
            for (i, want) in [POLLIN_SET, POLLOUT_SET, POLLEX_SET].into_iter().enumerate() {
                if sets[i * words + w] & bit != 0 && mask & want != 0 {
                    res[i * words + w] |= bit;
                    count += 1;
                }
            }
        }
        count
    }
}

/// The body of select(2) and pselect6(2) (Linux: `core_sys_select`):
/// `n` is clamped to the descriptor limit, the sets are copied in and
/// checked, polled until `end_ns`, and the results copied back.
fn core_sys_select(n: i32, fds: [UserAddr; 3], end_ns: Option<u64>) -> KResult<usize> {
    let table = current_files()?;
    let n = usize::try_from(n).map_err(|_| Errno::EINVAL)?.min(table.nofile());
    let mut bits = FdSetBits::get(n, &fds)?;
    let wanted = bits.wanted()?;
    // `n` is at most the descriptor limit, so every one fits an `int`.
    let fds_of = || wanted.iter().map(|&fd| i32::try_from(fd).unwrap_or(-1));
    let mut files = Vec::new();
    files.try_reserve_exact(wanted.len()).map_err(|_| Errno::ENOMEM)?;
    // Linux: `max_select_fd`, EBADF before anything is polled.
    table.fget_many(fds_of(), &mut files);
    if files.iter().any(Option::is_none) {
        return Err(Errno::EBADF);
    }
    let mut first = true;
    let count = poll_loop(end_ns, || {
        if !core::mem::take(&mut first) {
            table.fget_many(fds_of(), &mut files);
        }
        let count = bits.scan(&wanted, &files);
        files.clear();
        count
    });
    let count = match count {
        Err(Errno::EINTR) => return Err(Errno::ERESTARTNOHAND),
        other => other?,
    };
    for (i, uset) in fds.iter().enumerate() {
        set_fd_set(*uset, bits.set(3 + i))?;
    }
    Ok(count)
}

/// A timeout as select-style calls take it, made absolute: `EINVAL` for a
/// negative one (Linux: `poll_select_set_timeout`).
fn select_end_ns(sec: i64, nsec: i64) -> KResult<u64> {
    let sec = u64::try_from(sec).map_err(|_| Errno::EINVAL)?;
    let nsec = u64::try_from(nsec).ok().filter(|&ns| ns < 1_000_000_000).ok_or(Errno::EINVAL)?;
    let ns = sec.saturating_mul(1_000_000_000).saturating_add(nsec);
    Ok(ktime_get_ns().saturating_add(ns))
}

/// The time left until `end_ns`, in nanoseconds (Linux:
/// `poll_select_finish` writes it back; 0 once it has passed).
fn time_left_ns(end_ns: u64) -> u64 {
    end_ns.saturating_sub(ktime_get_ns())
}

/// select(2): a NULL `tvp` waits forever; the time left is written back
/// to `*tvp`, as Linux does (Linux: `kern_select`).
pub fn sys_select(
    n: i32,
    inp: UserAddr,
    outp: UserAddr,
    exp: UserAddr,
    tvp: UserPtr<__kernel_old_timeval>,
) -> KResult<usize> {
    let end_ns = if tvp.is_null() {
        None
    } else {
        let tv = tvp.read()?;
        if tv.tv_sec < 0 || tv.tv_usec < 0 {
            return Err(Errno::EINVAL);
        }
        let sec = tv.tv_sec.saturating_add(tv.tv_usec / 1_000_000);
        Some(select_end_ns(sec, (tv.tv_usec % 1_000_000) * 1000)?)
    };
    let result = core_sys_select(n, [inp, outp, exp], end_ns);
    if let Some(end) = end_ns {
        let left = time_left_ns(end);
        let tv = __kernel_old_timeval {
            tv_sec: i64::try_from(left / 1_000_000_000).unwrap_or(i64::MAX),
            tv_usec: i64::try_from(left % 1_000_000_000 / 1000).unwrap_or(0),
        };
        // Linux ignores a failure to report the time left.
        let _ = tvp.write(&tv);
    }
    result
}

/// pselect6(2): like select with a timespec, and a sixth argument that
/// points at `{ const sigset_t *ss; size_t ss_len; }`, the mask to wait
/// with (Linux: `do_pselect`, `get_sigset_argpack`).
pub fn sys_pselect6(
    n: i32,
    inp: UserAddr,
    outp: UserAddr,
    exp: UserAddr,
    tsp: UserPtr<__kernel_timespec>,
    sig: UserPtr<[u64; 2]>,
) -> KResult<usize> {
    let end_ns = if tsp.is_null() {
        None
    } else {
        let ts = tsp.read()?;
        Some(select_end_ns(ts.tv_sec, ts.tv_nsec)?)
    };
    let mask = if sig.is_null() {
        None
    } else {
        let [ss, ss_len] = sig.read()?;
        let ss_len = usize::try_from(ss_len).map_err(|_| Errno::EINVAL)?;
        get_user_sigmask(UserPtr::new(UserAddr::new(ss)), ss_len)?
    };
    let result = with_user_sigmask(mask, Errno::ERESTARTNOHAND, || {
        core_sys_select(n, [inp, outp, exp], end_ns)
    });
    if let Some(end) = end_ns {
        let left = time_left_ns(end);
        let ts = __kernel_timespec {
            tv_sec: i64::try_from(left / 1_000_000_000).unwrap_or(i64::MAX),
            tv_nsec: i64::try_from(left % 1_000_000_000).unwrap_or(0),
        };
        let _ = tsp.write(&ts);
    }
    result
}

crate::ktest!(poll_pipe_pollin_and_pollhup, {
    let (read, write) = super::pipe::do_pipe2(uapi::O_NONBLOCK, 0, 0).map_err(|_| "pipe2")?;
    let mut write = Some(write);
    let mut fds =
        [PollFd { fd: 0, events: 1, revents: 0 }, PollFd { fd: 7, events: 1, revents: 0 }];
    let events = |fds: &mut [PollFd], write: &Option<Arc<File>>| {
        let fget_many = |fds: &mut dyn Iterator<Item = i32>, out: &mut Vec<Option<Arc<File>>>| {
            out.clear();
            out.extend(fds.map(|fd| match fd {
                0 => Some(read.clone()),
                1 => write.clone(),
                _ => None,
            }));
        };
        do_poll(fds, Some(0), &fget_many)
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

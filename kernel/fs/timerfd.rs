//! timerfd: a timer read through a file descriptor (Linux: fs/timerfd.c).
//!
//! `timerfd_settime` arms a [`TimerFdCtx`] on its clock, one-shot or
//! periodic, relative or at an absolute time. Each expiry counts a tick;
//! `read` returns the ticks since the last read as an 8-byte count and
//! resets it, waiting for one (or `EAGAIN` on a non-blocking file). As in
//! Linux, a periodic timer is not re-armed by its expiry: the kernel timer
//! stops there, and the next `read` or `timerfd_gettime` moves the expiry
//! past now and counts the periods missed meanwhile (`hrtimer_forward`).
//! The file is readable (`POLLIN`) while ticks are waiting. It is made the
//! same way as eventfd, on the shared anonymous inode.
//!
//! The alarm clocks run as their plain clocks (no suspend here), and
//! `TFD_TIMER_CANCEL_ON_SET` is accepted but never cancels: the realtime
//! clock is never set.
//!
//! # Locking
//! `TimerFdCtx::state` is an IRQ-safe spinlock (the tick's timer function
//! takes it); under it only the kernel timer base (arming). The wait
//! queue is woken after it is dropped, and the kernel timer is deleted
//! with it dropped at release.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};

use linux_raw_sys::general as uapi;

use super::anon_inodes::anon_inode_getfile;
use super::current_files;
use super::file_table::{File, FileOps, PollMask};
use super::select::poll_wake;
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::syscall::args::UserPtr;
use crate::kernel::time::itimer::jiffies_until;
use crate::kernel::time::posix::{ClockId, clock_get_ns, ns_to_timespec, timespec_to_ns};
use crate::kernel::time::posix_timers::Itimerspec;
use crate::kernel::time::timer::TimerList;

/// Linux: `TFD_SETTIME_FLAGS` in include/linux/timerfd.h.
const TFD_SETTIME_FLAGS: u32 = uapi::TFD_TIMER_ABSTIME | uapi::TFD_TIMER_CANCEL_ON_SET;

#[derive(Default)]
struct TimerFdState {
    /// Absolute expiry on the clock; 0 is disarmed.
    expires: u64,
    /// Linux: `tintv`.
    interval: u64,
    /// Expiries not yet read (Linux: `ticks`).
    ticks: u64,
    /// The timer fired and was not forwarded since (Linux: `expired`).
    expired: bool,
    /// Its next expiry is still to be counted: false once a one-shot
    /// timer has fired (Linux: the hrtimer queued or due).
    armed: bool,
}

/// One timerfd (Linux: `struct timerfd_ctx`).
pub struct TimerFdCtx {
    clock: ClockId,
    state: SpinLock<TimerFdState>,
    timer: TimerList,
    /// Readers and pollers (Linux: `wqh`).
    wqh: WaitQueue,
}

impl TimerFdCtx {
    fn new(clock: ClockId) -> Arc<Self> {
        Arc::new_cyclic(|me: &Weak<TimerFdCtx>| {
            let me = me.clone();
            TimerFdCtx {
                clock,
                state: SpinLock::new(TimerFdState::default()),
                timer: TimerList::new(move || {
                    if let Some(ctx) = me.upgrade() {
                        ctx.timerfd_tmrproc();
                    }
                }),
                wqh: WaitQueue::new(),
            }
        })
    }

    fn now(&self) -> u64 {
        clock_get_ns(self.clock).unwrap_or(0)
    }

    /// Arms the kernel timer for `expires`; with `state` held.
    fn arm(&self, expires: u64) {
        // On ENOMEM the timer stays off; nobody to tell from the tick.
        let _ = self.timer.mod_timer(jiffies_until(expires, self.now()));
    }

    /// Counts the expiry if its time has come (Linux: `timerfd_triggered`).
    /// The kernel timer runs on the tick after the expiry; the syscalls
    /// call this too, so that they see the timer as Linux's exact hrtimer
    /// would have left it.
    fn timerfd_triggered(&self, s: &mut TimerFdState, now: u64) {
        if s.armed && !s.expired && now >= s.expires {
            s.expired = true;
            s.ticks += 1;
            s.armed = s.interval != 0;
        }
    }

    /// The kernel timer's function: one tick, no re-arming (Linux:
    /// `timerfd_tmrproc`).
    fn timerfd_tmrproc(&self) {
        let ticks = {
            let mut s = self.state.lock();
            self.timerfd_triggered(&mut s, self.now());
            if s.armed && !s.expired {
                self.arm(s.expires); // the tick came early
            }
            s.ticks
        };
        if ticks > 0 {
            self.wake();
        }
    }

    fn wake(&self) {
        self.wqh.wake_up_all();
        poll_wake();
    }

    /// Moves an expired periodic timer past now, counting the periods
    /// missed since its expiry, and re-arms it (Linux: the
    /// `hrtimer_forward_now` in `timerfd_read` and `timerfd_gettime`).
    fn forward(&self, s: &mut TimerFdState, now: u64) {
        if !s.expired || s.interval == 0 {
            return;
        }
        s.expired = false;
        let periods = now.saturating_sub(s.expires) / s.interval + 1;
        s.expires = s.expires.saturating_add(periods.saturating_mul(s.interval));
        s.ticks += periods - 1;
        self.arm(s.expires);
    }

    /// (interval, remaining), forwarding first (Linux: `timerfd_gettime`).
    /// One reading of the clock serves all three steps: a periodic timer
    /// forwarded past `now` then never shows 0 left, however slowly the
    /// emulator runs between two readings.
    fn get(&self, s: &mut TimerFdState) -> (u64, u64) {
        let now = self.now();
        self.timerfd_triggered(s, now);
        self.forward(s, now);
        let remaining = if s.expires == 0 { 0 } else { s.expires.saturating_sub(now) };
        (s.interval, remaining)
    }

    /// Takes the ticks waiting, if any (Linux: `timerfd_read`'s body).
    fn try_read(&self) -> Option<u64> {
        let mut s = self.state.lock();
        let now = self.now();
        self.timerfd_triggered(&mut s, now);
        if s.ticks == 0 {
            return None;
        }
        self.forward(&mut s, now);
        s.expired = false;
        Some(core::mem::take(&mut s.ticks))
    }

    fn read(&self, nonblock: bool) -> KResult<u64> {
        if let Some(ticks) = self.try_read() {
            return Ok(ticks);
        }
        if nonblock {
            return Err(Errno::EAGAIN);
        }
        let mut ticks = None;
        self.wqh
            .wait_event_interruptible(|| {
                ticks = self.try_read();
                ticks.is_some()
            })
            .map_err(|_| Errno::ERESTARTSYS)?;
        ticks.ok_or(Errno::EAGAIN)
    }

    /// Re-arms; returns the old (interval, remaining) (Linux:
    /// `do_timerfd_settime`, `timerfd_setup`). An absolute time already
    /// past expires at the next tick.
    fn set(&self, abs: bool, interval: u64, value: u64) -> (u64, u64) {
        let mut s = self.state.lock();
        let old = self.get(&mut s);
        self.timer.del_timer();
        *s = TimerFdState { interval, ..TimerFdState::default() };
        if value != 0 {
            s.armed = true;
            s.expires = if abs { value.max(1) } else { self.now().saturating_add(value) };
            self.arm(s.expires);
        }
        old
    }
}

/// Linux: `timerfd_fops`.
struct TimerFdFileOps;
static TIMERFD_FOPS: TimerFdFileOps = TimerFdFileOps;

fn ctx(file: &File) -> KResult<&Arc<TimerFdCtx>> {
    file.private::<Arc<TimerFdCtx>>().ok_or(Errno::EINVAL)
}

impl FileOps for TimerFdFileOps {
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        let out = buf.get_mut(..8).ok_or(Errno::EINVAL)?;
        let ticks = ctx(file)?.read(file.is_nonblocking())?;
        out.copy_from_slice(&ticks.to_ne_bytes());
        Ok(8)
    }

    /// Linux: `timerfd_poll`.
    fn poll(&self, file: &File) -> PollMask {
        match ctx(file) {
            Ok(ctx) => {
                let mut s = ctx.state.lock();
                ctx.timerfd_triggered(&mut s, ctx.now());
                if s.ticks > 0 { uapi::POLLIN | uapi::POLLRDNORM } else { 0 }
            }
            Err(_) => uapi::POLLERR,
        }
    }

    fn poll_wait_queue<'a>(&self, file: &'a File) -> &'a WaitQueue {
        match ctx(file) {
            Ok(ctx) => &ctx.wqh,
            Err(_) => super::select::poll_wait_queue(),
        }
    }

    /// Linux: `timerfd_release`.
    fn release(&self, file: &File) {
        if let Ok(ctx) = ctx(file) {
            ctx.timer.del_timer_sync();
        }
    }

    fn seekable(&self) -> bool {
        false
    }
}

/// The clock a timerfd may use; the alarm clocks need `CAP_WAKE_ALARM`
/// (Linux: the checks at the top of `timerfd_create`).
fn timerfd_clock(clockid: i32) -> KResult<ClockId> {
    let alarm = |clock| {
        if capable(uapi::CAP_WAKE_ALARM) { Ok(clock) } else { Err(Errno::EPERM) }
    };
    match u32::try_from(clockid).map_err(|_| Errno::EINVAL)? {
        uapi::CLOCK_REALTIME => Ok(ClockId::Realtime),
        uapi::CLOCK_MONOTONIC => Ok(ClockId::Monotonic),
        uapi::CLOCK_BOOTTIME => Ok(ClockId::Boottime),
        uapi::CLOCK_REALTIME_ALARM => alarm(ClockId::Realtime),
        uapi::CLOCK_BOOTTIME_ALARM => alarm(ClockId::Boottime),
        _ => Err(Errno::EINVAL),
    }
}

/// timerfd_create(2).
pub fn sys_timerfd_create(clockid: i32, flags: u32) -> KResult<i32> {
    if flags & !uapi::TFD_CREATE_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let clock = timerfd_clock(clockid)?;
    let open_flags = uapi::O_RDWR | (flags & uapi::O_NONBLOCK);
    let file = anon_inode_getfile(&TIMERFD_FOPS, Box::new(TimerFdCtx::new(clock)), open_flags)?;
    current_files()?.alloc_fd(0, file, flags & uapi::TFD_CLOEXEC != 0)
}

/// The timerfd behind `fd`: `EBADF` for no file, `EINVAL` for another
/// kind (Linux: `timerfd_fget`).
fn timerfd_fget(fd: i32) -> KResult<Arc<TimerFdCtx>> {
    let file = current_files()?.get(fd)?;
    ctx(&file).cloned()
}

fn to_itimerspec(interval: u64, value: u64) -> Itimerspec {
    let (i, v) = (ns_to_timespec(interval), ns_to_timespec(value));
    [i.tv_sec, i.tv_nsec, v.tv_sec, v.tv_nsec]
}

/// timerfd_settime(2) (Linux: `do_timerfd_settime`).
pub fn sys_timerfd_settime(
    fd: i32,
    flags: u32,
    new_value: UserPtr<Itimerspec>,
    old_value: UserPtr<Itimerspec>,
) -> KResult<()> {
    let v = new_value.read()?;
    if flags & !TFD_SETTIME_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let ts = |sec, nsec| timespec_to_ns(&uapi::__kernel_timespec { tv_sec: sec, tv_nsec: nsec });
    let (interval, value) = (ts(v[0], v[1])?, ts(v[2], v[3])?);
    let ctx = timerfd_fget(fd)?;
    let (oi, ov) = ctx.set(flags & uapi::TFD_TIMER_ABSTIME != 0, interval, value);
    if !old_value.is_null() {
        old_value.write(&to_itimerspec(oi, ov))?;
    }
    Ok(())
}

/// timerfd_gettime(2).
pub fn sys_timerfd_gettime(fd: i32, curr_value: UserPtr<Itimerspec>) -> KResult<()> {
    let ctx = timerfd_fget(fd)?;
    let (interval, value) = {
        let mut s = ctx.state.lock();
        ctx.get(&mut s)
    };
    curr_value.write(&to_itimerspec(interval, value))
}

crate::ktest!(timerfd_counts_missed_periods, {
    let ctx = TimerFdCtx::new(ClockId::Realtime);
    crate::kassert!(ctx.try_read().is_none(), "nothing before arming");
    const PERIOD: u64 = 20_000_000;
    let now = ctx.now();
    // An absolute expiry 2.5 periods ago: 3 expiries are due.
    ctx.set(true, PERIOD, now - 5 * PERIOD / 2);
    let ticks = ctx.try_read().unwrap_or(0);
    // And one more for each period since.
    let most = (ctx.now() - now) / PERIOD + 3;
    crate::kassert!((3..=most).contains(&ticks), "forwarded over the missed periods");
    let (interval, rem) = ctx.get(&mut ctx.state.lock());
    crate::kassert!(interval == PERIOD && rem > 0 && rem <= PERIOD, "re-armed ahead");
    crate::kassert!(timerfd_clock(4) == Err(Errno::EINVAL), "CLOCK_MONOTONIC_RAW");
    ctx.set(false, 0, 0);
    Ok(())
});

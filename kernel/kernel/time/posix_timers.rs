//! POSIX timers: `timer_create`, `timer_settime`, `timer_gettime`,
//! `timer_getoverrun`, `timer_delete`.
//!
//! Linux: kernel/time/posix-timers.c (`struct k_itimer`, `do_timer_create`,
//! `good_sigevent`, `posix_timer_add`, `common_timer_set`,
//! `common_timer_get`, `posix_timer_fn`, `exit_itimers`).
//!
//! A process's timers live in its thread group's [`PosixTimers`], with ids
//! from 0 up, never reused (Linux: `signal->next_posix_timer_id`). Each
//! armed timer with a signal rides a kernel timer (timer.rs) on the clock
//! it was created for; SIGEV_NONE timers are never armed and
//! `timer_gettime` works out their state from the clock.
//!
//! The signal carries `si_code = SI_TIMER`, `si_timerid`, `si_value`
//! and `si_overrun`. Linux re-arms a periodic timer only when its signal
//! is dequeued and counts the periods missed meanwhile into that signal's
//! `si_overrun`. Here the timer re-arms itself when it fires, and a firing
//! whose signal is still pending counts an overrun instead of queueing;
//! when the signal is dequeued, [`posixtimer_rearm`] moves the count into
//! its `si_overrun` and into what `timer_getoverrun` reports (Linux:
//! `it_overrun_last`), so the two agree as in Linux.
//!
//! The CPU-time clocks have no timers yet: `timer_create` on them is
//! `EINVAL`.
//!
//! # Locking
//! `PosixTimers::inner` (the id map), then a timer's `state`, then
//! `TIMER_BASE` (arming). A timer's function takes `state`, drops it, then
//! sends the signal (the signal locks). Removal `del_timer_sync`s outside
//! every lock, so a timer is never freed by its own function.
#![deny(unsafe_code)]

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};

use linux_raw_sys::general::{
    __kernel_timespec, SI_TIMER, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID,
    TIMER_ABSTIME,
};

use super::itimer::jiffies_until;
use super::ktime_get_ns;
use super::posix::{ClockId, clock_get_ns, ns_to_timespec, timespec_to_ns};
use super::timer::TimerList;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::{Task, current};
use crate::kernel::signal::{SendTo, SigFields, SigInfo, Signal, send_signal};
use crate::kernel::syscall::args::UserPtr;

/// The most timers a process may hold (Linux bounds them by the
/// preallocated `sigqueue` each needs; beyond it, `EAGAIN`).
const MAX_POSIX_TIMERS: usize = 4096;

/// `struct itimerspec` as four `timespec` words: interval, value.
pub type Itimerspec = [i64; 4];
/// `struct sigevent` (64 bytes): value, then signo and notify, then the
/// thread id.
pub type Sigevent = [u64; 8];

/// How a timer tells its expiry (Linux: `it_sigev_notify`, `it_pid`).
#[derive(Clone)]
enum Notify {
    None,
    Signal { info: SigInfo, target: Weak<Task>, to: SendTo },
}

#[derive(Default)]
struct TimerState {
    /// Absolute expiry on the timer's clock; 0 is disarmed.
    expires: u64,
    /// Linux: `it_interval`.
    interval: u64,
    /// Expiries while the last signal was still pending (Linux:
    /// `it_overrun`).
    overrun: u64,
    /// The overruns the last dequeued signal reported (Linux:
    /// `it_overrun_last`).
    overrun_last: u64,
    deleted: bool,
}

/// One POSIX timer (Linux: `struct k_itimer`).
pub struct KItimer {
    clock: ClockId,
    notify: Notify,
    state: SpinLock<TimerState>,
    timer: TimerList,
}

/// A process's POSIX timers (Linux: `signal->posix_timers`).
pub struct PosixTimers {
    inner: SpinLock<PosixTimersInner>,
}

impl Default for PosixTimers {
    fn default() -> Self {
        Self { inner: SpinLock::new(PosixTimersInner::default()) }
    }
}

#[derive(Default)]
struct PosixTimersInner {
    next_id: i32,
    timers: BTreeMap<i32, Arc<KItimer>>,
}

impl KItimer {
    /// Arms the kernel timer for `expires` on the timer's clock; with
    /// `state` held.
    fn arm(&self, expires: u64) {
        let now = clock_get_ns(self.clock).unwrap_or(0);
        // On ENOMEM the timer stays off; nobody to tell from the tick.
        let _ = self.timer.mod_timer(jiffies_until(expires, now));
    }

    /// The kernel timer's function (Linux: `posix_timer_fn`).
    fn posix_timer_fn(&self) {
        {
            let mut s = self.state.lock();
            if s.expires == 0 || s.deleted {
                return;
            }
            let now = clock_get_ns(self.clock).unwrap_or(0);
            if now < s.expires {
                self.arm(s.expires); // the tick came early
                return;
            }
            if let Some(missed) = (now - s.expires).checked_div(s.interval) {
                s.expires += (missed + 1) * s.interval;
                s.overrun += missed;
                self.arm(s.expires);
            } else {
                s.expires = 0; // one-shot
            }
        }
        self.posix_timer_event();
    }

    /// Queues the timer's signal, or counts an overrun if it is still
    /// pending (Linux: `posix_timer_event`, `send_sigqueue`).
    fn posix_timer_event(&self) {
        let Notify::Signal { info, target, to } = &self.notify else { return };
        let Some(t) = target.upgrade() else { return };
        let sig = info.signo;
        let pending = match to {
            SendTo::Thread => t.sigpending.lock().pending.contains(sig),
            SendTo::Group => {
                use crate::kernel::signal::SigTask;
                t.group_signal().lock().shared_pending.contains(sig)
            }
        };
        if pending {
            self.state.lock().overrun += 1;
            return;
        }
        send_signal(*info, &t, *to, false);
    }

    /// (interval, remaining) as `timer_gettime` reports them (Linux:
    /// `common_timer_get`): an expired, unsignalled one-shot reads 1 ns,
    /// a SIGEV_NONE one 0; a SIGEV_NONE periodic one moves on.
    fn get(&self) -> (u64, u64) {
        let mut s = self.state.lock();
        if s.expires == 0 {
            return (s.interval, 0);
        }
        let now = clock_get_ns(self.clock).unwrap_or(0);
        let sig_none = matches!(self.notify, Notify::None);
        if sig_none && s.interval != 0 && now >= s.expires {
            let missed = (now - s.expires) / s.interval + 1;
            s.expires += missed * s.interval;
            s.overrun += missed;
        }
        match s.expires.checked_sub(now).filter(|&r| r > 0) {
            Some(rem) => (s.interval, rem),
            None if sig_none => (s.interval, 0),
            None => (s.interval, 1),
        }
    }

    /// Disarms and re-arms (Linux: `common_timer_set`); returns the old
    /// (interval, remaining).
    fn set(&self, abs: bool, interval: u64, value: u64) -> KResult<(u64, u64)> {
        let old = self.get();
        let now = clock_get_ns(self.clock)?;
        let mut s = self.state.lock();
        self.timer.del_timer();
        s.overrun = 0;
        s.overrun_last = 0;
        s.interval = 0;
        s.expires = 0;
        if value == 0 {
            return Ok(old);
        }
        s.interval = interval;
        // An absolute time already past expires at once, as in Linux.
        s.expires = if abs { value.max(1) } else { now.saturating_add(value) };
        if !matches!(self.notify, Notify::None) {
            self.arm(s.expires);
        }
        Ok(old)
    }
}

/// What `sevp` asks for, checked (Linux: `good_sigevent`); `None` is the
/// default, SIGALRM to the process with the timer id as value.
fn good_sigevent(ev: Option<&Sigevent>, id: i32, tsk: &Arc<Task>) -> KResult<Notify> {
    let leader = tsk.group_leader.lock().upgrade().unwrap_or_else(|| tsk.clone());
    let process = Arc::downgrade(&leader);
    #[expect(clippy::cast_sign_loss, reason = "sival_int is the low word, as the union")]
    let Some(ev) = ev else {
        let info = timer_siginfo(Signal::SIGALRM, id, id as u32 as u64);
        return Ok(Notify::Signal { info, target: process, to: SendTo::Group });
    };
    let value = ev[0];
    let signo = ev[1] & 0xffff_ffff;
    let notify = u32::try_from(ev[1] >> 32).map_err(|_| Errno::EINVAL)?;
    let (target, to) = match notify {
        SIGEV_NONE => return Ok(Notify::None),
        SIGEV_SIGNAL | SIGEV_THREAD => (process, SendTo::Group),
        SIGEV_THREAD_ID => {
            #[expect(clippy::cast_possible_truncation, reason = "the thread id is an int")]
            let tid = ev[2] as u32 as i32;
            let t = crate::kernel::pid::find_task_by_vpid(tid).ok_or(Errno::EINVAL)?;
            if t.tgid != tsk.tgid {
                return Err(Errno::EINVAL);
            }
            (Arc::downgrade(&t), SendTo::Thread)
        }
        _ => return Err(Errno::EINVAL),
    };
    let sig = u32::try_from(signo).ok().and_then(Signal::new).ok_or(Errno::EINVAL)?;
    Ok(Notify::Signal { info: timer_siginfo(sig, id, value), target, to })
}

/// The siginfo of a timer's signal. Linux's `_timer` member (`si_tid`,
/// `si_overrun`, `si_sigval` at 16, 20, 24) has `_rt`'s layout (`si_pid`,
/// `si_uid`, `si_value`), so it is written through `SigFields::Rt`.
fn timer_siginfo(signo: Signal, id: i32, value: u64) -> SigInfo {
    // `uid` is the `si_overrun` word.
    let fields = SigFields::Rt { pid: id, uid: 0, value };
    SigInfo { signo, errno: 0, code: SI_TIMER, fields }
}

/// Takes a new id and makes the timer (Linux: `do_timer_create`,
/// `posix_timer_add`).
fn do_timer_create(clock: ClockId, ev: Option<&Sigevent>) -> KResult<(i32, Arc<KItimer>)> {
    match clock {
        ClockId::MonotonicRaw | ClockId::RealtimeCoarse | ClockId::MonotonicCoarse => {
            return Err(Errno::EOPNOTSUPP);
        }
        ClockId::ProcessCputime | ClockId::ThreadCputime => return Err(Errno::EINVAL),
        _ => {}
    }
    let tsk = current();
    let timers = &tsk.thread_group().posix_timers;
    let id = {
        let mut inner = timers.inner.lock();
        if inner.timers.len() >= MAX_POSIX_TIMERS {
            return Err(Errno::EAGAIN);
        }
        let mut id = inner.next_id;
        while inner.timers.contains_key(&id) {
            id = id.checked_add(1).unwrap_or(0);
        }
        inner.next_id = id.checked_add(1).unwrap_or(0);
        id
    };
    // As in Linux, the id is used up before the sigevent is judged; the
    // target is looked up with no timer lock held.
    let notify = good_sigevent(ev, id, &tsk)?;
    let timer = Arc::new_cyclic(|me: &Weak<KItimer>| {
        let me = me.clone();
        KItimer {
            clock,
            notify,
            state: SpinLock::new(TimerState::default()),
            timer: TimerList::new(move || {
                if let Some(t) = me.upgrade() {
                    t.posix_timer_fn();
                }
            }),
        }
    });
    // Bounded by MAX_POSIX_TIMERS entries; `next_id` has moved past `id`.
    timers.inner.lock().timers.insert(id, timer.clone());
    Ok((id, timer))
}

/// Finds timer `id` of the current process (Linux: `lock_timer`).
fn find_timer(id: i32) -> KResult<Arc<KItimer>> {
    let tsk = current();
    let inner = tsk.thread_group().posix_timers.inner.lock();
    inner.timers.get(&id).cloned().ok_or(Errno::EINVAL)
}

/// Takes timer `id` out of the process and waits out its function.
fn remove_timer(tsk: &Task, id: i32) -> KResult<()> {
    let timer = tsk.thread_group().posix_timers.inner.lock().timers.remove(&id);
    let timer = timer.ok_or(Errno::EINVAL)?;
    timer.state.lock().deleted = true;
    timer.timer.del_timer_sync();
    Ok(())
}

/// Deletes every timer of the process: at exec and when the group dies
/// (Linux: `exit_itimers`).
pub fn exit_itimers(tsk: &Task) {
    let timers = core::mem::take(&mut tsk.thread_group().posix_timers.inner.lock().timers);
    for timer in timers.values() {
        timer.state.lock().deleted = true;
        timer.timer.del_timer_sync();
    }
}

/// Called as a timer's signal is dequeued: reports the expiries missed
/// while it was pending in its `si_overrun` and to `timer_getoverrun`,
/// and starts counting afresh (Linux: `posixtimer_rearm`, from
/// `dequeue_signal`; the timer here is already re-armed). Takes the
/// timer locks, so the caller holds no signal lock.
pub fn posixtimer_rearm(info: &mut SigInfo) {
    let SigFields::Rt { pid: id, uid: overrun, .. } = &mut info.fields else { return };
    if info.code != SI_TIMER {
        return;
    }
    let Some(tsk) = crate::kernel::sched::try_current() else { return };
    let timer = tsk.thread_group().posix_timers.inner.lock().timers.get(id).cloned();
    // A siginfo the process queued itself names no timer of this signal.
    let Some(timer) = timer else { return };
    if !matches!(&timer.notify, Notify::Signal { info: i, .. } if i.signo == info.signo) {
        return;
    }
    let mut s = timer.state.lock();
    s.overrun_last = s.overrun;
    s.overrun = 0;
    let sum = s.overrun_last.saturating_add(u64::from(*overrun));
    // Linux: `timer_overrun_to_int`.
    *overrun = u32::try_from(sum.min(i32::MAX as u64)).unwrap_or(i32::MAX as u32);
}

/// timer_create(2).
pub fn sys_timer_create(
    clock: ClockId,
    sevp: UserPtr<Sigevent>,
    created_timer_id: UserPtr<i32>,
) -> KResult<()> {
    let ev = if sevp.is_null() { None } else { Some(sevp.read()?) };
    let (id, _timer) = do_timer_create(clock, ev.as_ref())?;
    if let Err(e) = created_timer_id.write(&id) {
        let _ = remove_timer(&current(), id);
        return Err(e);
    }
    Ok(())
}

fn to_itimerspec(interval: u64, value: u64) -> Itimerspec {
    let (i, v): (__kernel_timespec, __kernel_timespec) =
        (ns_to_timespec(interval), ns_to_timespec(value));
    [i.tv_sec, i.tv_nsec, v.tv_sec, v.tv_nsec]
}

/// timer_settime(2): `EINVAL` for a NULL or invalid new value, or a bad id.
pub fn sys_timer_settime(
    timer_id: i32,
    flags: i32,
    new_value: UserPtr<Itimerspec>,
    old_value: UserPtr<Itimerspec>,
) -> KResult<()> {
    if new_value.is_null() {
        return Err(Errno::EINVAL);
    }
    let v = new_value.read()?;
    let interval = timespec_to_ns(&__kernel_timespec { tv_sec: v[0], tv_nsec: v[1] })?;
    let value = timespec_to_ns(&__kernel_timespec { tv_sec: v[2], tv_nsec: v[3] })?;
    let timer = find_timer(timer_id)?;
    #[expect(clippy::cast_possible_wrap, reason = "TIMER_ABSTIME is 1")]
    let abs = flags & TIMER_ABSTIME as i32 != 0;
    let (oi, ov) = timer.set(abs, interval, value)?;
    if !old_value.is_null() {
        old_value.write(&to_itimerspec(oi, ov))?;
    }
    Ok(())
}

/// timer_gettime(2).
pub fn sys_timer_gettime(timer_id: i32, setting: UserPtr<Itimerspec>) -> KResult<()> {
    let (interval, value) = find_timer(timer_id)?.get();
    setting.write(&to_itimerspec(interval, value))
}

/// timer_getoverrun(2), clamped to `INT_MAX` (Linux: `timer_overrun_to_int`).
pub fn sys_timer_getoverrun(timer_id: i32) -> KResult<i32> {
    let overrun = find_timer(timer_id)?.state.lock().overrun_last;
    Ok(i32::try_from(overrun).unwrap_or(i32::MAX))
}

/// timer_delete(2).
pub fn sys_timer_delete(timer_id: i32) -> KResult<()> {
    remove_timer(&current(), timer_id)
}

crate::ktest!(posix_timer_fires_and_reloads, {
    let ev: Sigevent = [0, u64::from(SIGEV_NONE) << 32, 0, 0, 0, 0, 0, 0];
    let (id, t) = do_timer_create(ClockId::Monotonic, Some(&ev)).map_err(|_| "create")?;
    let start = ktime_get_ns();
    t.set(false, 1_000_000, 2_000_000).map_err(|_| "set")?;
    let (i, rem) = t.get();
    crate::kassert!(i == 1_000_000 && rem > 0 && rem <= 2_000_000, "armed");
    super::mdelay(5);
    let (_, rem) = t.get();
    crate::kassert!(rem > 0 && rem <= 1_000_000, "a SIGEV_NONE periodic timer moves on");
    crate::kassert!(t.state.lock().expires > start + 2_000_000, "forwarded");
    crate::kassert!(find_timer(id).is_ok(), "found by id");
    remove_timer(&current(), id).map_err(|_| "delete")?;
    crate::kassert!(find_timer(id).is_err(), "gone after delete");
    crate::kassert!(remove_timer(&current(), id) == Err(Errno::EINVAL), "twice is EINVAL");
    Ok(())
});

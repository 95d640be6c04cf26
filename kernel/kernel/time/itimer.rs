//! Interval timers: `getitimer`, `setitimer`, `alarm`.
//!
//! Linux: kernel/time/itimer.c (`do_setitimer`, `do_getitimer`,
//! `it_real_fn`, `alarm_setitimer`, `set_cpu_itimer`, `get_cpu_itimer`),
//! kernel/time/posix-cpu-timers.c (`check_cpu_itimer`).
//!
//! Three timers per process (Linux keeps them in `signal_struct`, here in
//! the thread group's [`Itimers`]):
//! - `ITIMER_REAL` counts wall time and sends SIGALRM from a kernel timer
//!   (Linux: the `real_timer` hrtimer). Its deadline is kept in clock
//!   nanoseconds; the kernel timer fires on the tick at or after it. As
//!   in Linux, a periodic timer stops there until its SIGALRM is dequeued
//!   ([`itimer_rearm_real`]), then moves on by whole intervals past now,
//!   skipping missed ones; meanwhile getitimer reads 0 left.
//! - `ITIMER_VIRTUAL` (SIGVTALRM) counts the group's user time and
//!   `ITIMER_PROF` (SIGPROF) its user plus system time; the tick that
//!   charges the time checks them (`check_cpu_itimers`). As in Linux, a
//!   new value gets one tick added, so it never fires early.
//!
//! Not inherited by fork (a new process gets a fresh thread group), kept
//! across execve, stopped when the group dies (`cputime::exit_cputime`).
//!
//! # Locking
//! `Itimers::inner` is an IRQ-safe spinlock taken by the syscalls, the
//! tick and the real timer's function; under it only `TIMER_BASE`
//! (arming the timer). Signals are sent after it is dropped.
#![deny(unsafe_code)]

use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicBool, Ordering};

use linux_raw_sys::general::{ITIMER_PROF, ITIMER_REAL, ITIMER_VIRTUAL};

use super::cputime::thread_group_cputime;
use super::jiffies::jiffies;
use super::ktime_get_ns;
use super::tick::TICK_NSEC;
use super::timer::TimerList;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::{Task, current};
use crate::kernel::signal::{SendTo, SigInfo, Signal, send_signal};
use crate::kernel::syscall::args::UserPtr;

const NSEC_PER_USEC: u64 = 1000;
const USEC_PER_SEC: i64 = 1_000_000;

/// `struct __kernel_old_itimerval` as four longs: interval sec, usec,
/// value sec, usec.
pub type Itimerval = [i64; 4];

/// One CPU-time itimer (Linux: `struct cpu_itimer`), in the group's
/// sampled CPU nanoseconds; `expires == 0` is off.
#[derive(Clone, Copy, Default)]
struct CpuItimer {
    expires: u64,
    incr: u64,
}

#[derive(Default)]
struct ItimersInner {
    /// `ITIMER_REAL`'s deadline on `ktime_get_ns`; 0 is off.
    real_expires: u64,
    /// Linux: `it_real_incr`.
    real_incr: u64,
    /// A periodic `ITIMER_REAL` fired and waits for its SIGALRM to be
    /// dequeued before it runs again (Linux: the hrtimer not restarted).
    real_fired: bool,
    /// `ITIMER_VIRTUAL`, `ITIMER_PROF` (Linux: `signal->it[]`).
    cpu: [CpuItimer; 2],
}

/// A process's interval timers (Linux: the itimer fields of `signal_struct`).
pub struct Itimers {
    inner: SpinLock<ItimersInner>,
    /// Made by the first `ITIMER_REAL` set, for the group's leader.
    real_timer: spin::Once<TimerList>,
    /// A CPU itimer is armed: the tick looks (Linux: `cputimer->running`).
    cpu_active: AtomicBool,
}

impl Default for Itimers {
    fn default() -> Self {
        Self {
            inner: SpinLock::new(ItimersInner::default()),
            real_timer: spin::Once::new(),
            cpu_active: AtomicBool::new(false),
        }
    }
}

/// Which timer a `which` names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Real,
    Cpu(usize, Signal),
}

fn which_from(which: i32) -> KResult<Which> {
    match u32::try_from(which) {
        Ok(ITIMER_REAL) => Ok(Which::Real),
        Ok(ITIMER_VIRTUAL) => Ok(Which::Cpu(0, Signal::SIGVTALRM)),
        Ok(ITIMER_PROF) => Ok(Which::Cpu(1, Signal::SIGPROF)),
        _ => Err(Errno::EINVAL),
    }
}

/// A `timeval` pair as nanoseconds; `EINVAL` unless 0 <= usec < 10^6 and
/// sec >= 0 (Linux: `get_itimerval`'s `timeval_valid`).
fn itimerval_to_ns(v: &Itimerval) -> KResult<(u64, u64)> {
    let one = |sec: i64, usec: i64| -> KResult<u64> {
        if !(0..USEC_PER_SEC).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        let sec = u64::try_from(sec).map_err(|_| Errno::EINVAL)?;
        let usec = u64::try_from(usec).map_err(|_| Errno::EINVAL)?;
        Ok(sec.saturating_mul(super::NSEC_PER_SEC).saturating_add(usec * NSEC_PER_USEC))
    };
    Ok((one(v[0], v[1])?, one(v[2], v[3])?))
}

/// (interval, value) in nanoseconds as an `itimerval`, microseconds
/// truncated (Linux: `put_itimerval`).
fn ns_to_itimerval(interval: u64, value: u64) -> Itimerval {
    let tv = |ns: u64| {
        let ts = super::posix::ns_to_timespec(ns);
        (ts.tv_sec, ts.tv_nsec / 1000)
    };
    let (is, iu) = tv(interval);
    let (vs, vu) = tv(value);
    [is, iu, vs, vu]
}

/// Jiffies from now until `deadline_ns` on the monotonic clock, rounded up.
pub(crate) fn jiffies_until(deadline_ns: u64, now_ns: u64) -> u64 {
    jiffies() + deadline_ns.saturating_sub(now_ns).div_ceil(TICK_NSEC)
}

impl Itimers {
    /// (interval, remaining) of `ITIMER_REAL`; an expired timer not yet
    /// reloaded reads 1 µs (Linux: `itimer_get_remtime`).
    fn get_real(s: &ItimersInner, now: u64) -> (u64, u64) {
        // A fired periodic timer is stopped until its SIGALRM is taken.
        if s.real_expires == 0 || s.real_fired {
            return (s.real_incr, 0);
        }
        let rem = s.real_expires.saturating_sub(now);
        (s.real_incr, if rem == 0 { NSEC_PER_USEC } else { rem })
    }

    /// (interval, remaining) of a CPU itimer at group time `now`
    /// (Linux: `get_cpu_itimer`).
    fn get_cpu(it: CpuItimer, now: u64) -> (u64, u64) {
        if it.expires == 0 {
            return (it.incr, 0);
        }
        (it.incr, if it.expires < now { TICK_NSEC } else { it.expires - now })
    }

    /// Arms the kernel timer for a deadline; the caller holds `inner`.
    fn arm_real(&self, deadline: u64, now: u64) {
        if let Some(timer) = self.real_timer.get() {
            // On ENOMEM the timer stays off and getitimer reports 1 µs
            // left; there is no caller to tell from the tick.
            let _ = timer.mod_timer(jiffies_until(deadline, now));
        }
    }

    /// Stops `ITIMER_REAL` (Linux: `hrtimer_cancel(&sig->real_timer)`).
    pub fn cancel_real_timer(&self) {
        let mut s = self.inner.lock();
        s.real_expires = 0;
        s.real_incr = 0;
        s.real_fired = false;
        if let Some(timer) = self.real_timer.get() {
            timer.del_timer();
        }
    }

    /// The real timer's expiry: SIGALRM to the process; a periodic timer
    /// is reloaded when that signal is dequeued (Linux: `it_real_fn`).
    fn it_real_fn(leader: &Arc<Task>) {
        let it = &leader.thread_group().itimers;
        {
            let mut s = it.inner.lock();
            if s.real_expires == 0 || s.real_fired {
                return; // cancelled while the timer ran
            }
            let now = ktime_get_ns();
            if now < s.real_expires {
                it.arm_real(s.real_expires, now); // the tick came early
                return;
            }
            if s.real_incr == 0 {
                s.real_expires = 0; // one-shot
            } else {
                s.real_fired = true; // re-armed at dequeue
            }
        }
        send_signal(SigInfo::kernel(Signal::SIGALRM), leader, SendTo::Group, false);
    }

    /// Restarts a periodic `ITIMER_REAL` that fired, past now, as its
    /// SIGALRM is dequeued (Linux: the `SIGALRM` case of
    /// `dequeue_signal`, `hrtimer_forward`). Periods missed while the
    /// signal waited are skipped, not counted.
    fn rearm_real(&self) {
        let mut s = self.inner.lock();
        if !s.real_fired || s.real_incr == 0 {
            return;
        }
        s.real_fired = false;
        let now = ktime_get_ns();
        let periods = now.saturating_sub(s.real_expires) / s.real_incr + 1;
        s.real_expires = s.real_expires.saturating_add(periods.saturating_mul(s.real_incr));
        self.arm_real(s.real_expires, now);
    }

    /// Sets `ITIMER_REAL`; returns the old (interval, remaining).
    fn set_real(&self, leader: &Arc<Task>, interval: u64, value: u64) -> (u64, u64) {
        let weak: Weak<Task> = Arc::downgrade(leader);
        let timer = self.real_timer.call_once(|| {
            TimerList::new(move || {
                if let Some(leader) = weak.upgrade() {
                    Self::it_real_fn(&leader);
                }
            })
        });
        let now = ktime_get_ns();
        let mut s = self.inner.lock();
        let old = Self::get_real(&s, now);
        timer.del_timer();
        s.real_fired = false;
        if value == 0 {
            s.real_expires = 0;
            s.real_incr = 0;
        } else {
            s.real_expires = now.saturating_add(value);
            s.real_incr = interval;
            self.arm_real(s.real_expires, now);
        }
        old
    }

    /// Sets a CPU itimer at group time `now`; returns the old value
    /// (Linux: `set_cpu_itimer`, `set_process_cpu_timer`).
    fn set_cpu(&self, idx: usize, interval: u64, value: u64, now: u64) -> (u64, u64) {
        let mut s = self.inner.lock();
        let Some(it) = s.cpu.get_mut(idx) else { return (0, 0) };
        let old = Self::get_cpu(*it, now);
        it.expires = if value == 0 { 0 } else { value.saturating_add(TICK_NSEC + now) };
        it.incr = interval;
        let active = s.cpu.iter().any(|c| c.expires != 0);
        self.cpu_active.store(active, Ordering::Relaxed);
        old
    }

    /// The tick's check of `ITIMER_VIRTUAL` against the group's user time
    /// `virt` and `ITIMER_PROF` against `prof` (Linux: `check_cpu_itimer`).
    pub fn check_cpu_itimers(&self, tsk: &Arc<Task>, virt: u64, prof: u64) {
        if !self.cpu_active.load(Ordering::Relaxed) {
            return;
        }
        let mut due = [None, None];
        {
            let mut s = self.inner.lock();
            let samples = [(virt, Signal::SIGVTALRM), (prof, Signal::SIGPROF)];
            for ((it, (now, sig)), due) in s.cpu.iter_mut().zip(samples).zip(&mut due) {
                if it.expires != 0 && now >= it.expires {
                    it.expires = if it.incr == 0 { 0 } else { it.expires + it.incr };
                    *due = Some(sig);
                }
            }
            let active = s.cpu.iter().any(|c| c.expires != 0);
            self.cpu_active.store(active, Ordering::Relaxed);
        }
        for sig in due.into_iter().flatten() {
            send_signal(SigInfo::kernel(sig), tsk, SendTo::Group, false);
        }
    }
}

/// The group's sampled CPU time for a CPU itimer: user, or user + system.
fn cpu_sample(tsk: &Arc<Task>, idx: usize) -> u64 {
    let c = thread_group_cputime(tsk);
    if idx == 0 { c.utime } else { c.utime + c.stime }
}

/// The thread group leader, whom the process's timers signal (Linux:
/// `signal->leader_pid`).
fn group_leader(tsk: &Arc<Task>) -> Arc<Task> {
    tsk.group_leader.lock().upgrade().unwrap_or_else(|| tsk.clone())
}

/// Linux: `do_setitimer`; returns the old (interval, value).
fn do_setitimer(which: Which, interval: u64, value: u64) -> (u64, u64) {
    let tsk = current();
    let it = &tsk.thread_group().itimers;
    match which {
        Which::Real => it.set_real(&group_leader(&tsk), interval, value),
        Which::Cpu(idx, _) => it.set_cpu(idx, interval, value, cpu_sample(&tsk, idx)),
    }
}

/// Called as a SIGALRM is dequeued: restarts the process's periodic
/// `ITIMER_REAL` if it fired (Linux: the `SIGALRM` case in
/// `dequeue_signal`). Takes `Itimers::inner`: no signal lock may be held.
pub fn itimer_rearm_real() {
    if let Some(tsk) = crate::kernel::sched::try_current() {
        tsk.thread_group().itimers.rearm_real();
    }
}

/// getitimer(2).
pub fn sys_getitimer(which: i32, value: UserPtr<Itimerval>) -> KResult<()> {
    let which = which_from(which)?;
    let tsk = current();
    let it = &tsk.thread_group().itimers;
    let (interval, rem) = match which {
        Which::Real => Itimers::get_real(&it.inner.lock(), ktime_get_ns()),
        Which::Cpu(idx, _) => {
            let now = cpu_sample(&tsk, idx);
            let s = it.inner.lock();
            Itimers::get_cpu(s.cpu.get(idx).copied().unwrap_or_default(), now)
        }
    };
    value.write(&ns_to_itimerval(interval, rem))
}

/// setitimer(2): a NULL `value` disarms, as Linux allows with a warning.
pub fn sys_setitimer(
    which: i32,
    value: UserPtr<Itimerval>,
    ovalue: UserPtr<Itimerval>,
) -> KResult<()> {
    let (interval, val) = if value.is_null() { (0, 0) } else { itimerval_to_ns(&value.read()?)? };
    let (old_interval, old_value) = do_setitimer(which_from(which)?, interval, val);
    if !ovalue.is_null() {
        ovalue.write(&ns_to_itimerval(old_interval, old_value))?;
    }
    Ok(())
}

/// alarm(2): `ITIMER_REAL` for `seconds`, returning the seconds the old
/// alarm had left, rounded to nearest and never 0 for a pending one
/// (Linux: `alarm_setitimer`).
pub fn sys_alarm(seconds: u32) -> KResult<u32> {
    let value = u64::from(seconds) * super::NSEC_PER_SEC;
    let (_, old) = do_setitimer(Which::Real, 0, value);
    let ts = super::posix::ns_to_timespec(old);
    let mut secs = ts.tv_sec;
    if (secs == 0 && ts.tv_nsec != 0) || ts.tv_nsec >= 500_000_000 {
        secs += 1;
    }
    Ok(u32::try_from(secs).unwrap_or(u32::MAX))
}

crate::ktest!(itimerval_validation, {
    crate::kassert!(itimerval_to_ns(&[0, 0, 1, 5]) == Ok((0, 1_000_005_000)), "value");
    crate::kassert!(itimerval_to_ns(&[0, 1_000_000, 0, 0]) == Err(Errno::EINVAL), "usec");
    crate::kassert!(itimerval_to_ns(&[0, 0, 0, -1]) == Err(Errno::EINVAL), "negative usec");
    crate::kassert!(itimerval_to_ns(&[-1, 0, 0, 0]) == Err(Errno::EINVAL), "negative sec");
    crate::kassert!(ns_to_itimerval(1_500_000_999, 7) == [1, 500_000, 0, 0], "truncates");
    crate::kassert!(which_from(3).is_err() && which_from(-1).is_err(), "bad which");
    Ok(())
});

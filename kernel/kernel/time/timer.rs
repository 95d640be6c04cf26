//! Kernel timers: run a function once jiffies reach a deadline; and the
//! sleeps with a timeout built on them.
//!
//! Linux: kernel/time/timer.c (`struct timer_list`, `timer_setup`,
//! `add_timer`, `mod_timer`, `del_timer`, `del_timer_sync`,
//! `run_timer_softirq`, `schedule_timeout`, `process_timeout`, `msleep`,
//! `msleep_interruptible`), include/linux/timer.h.
//!
//! Linux hashes timers into a wheel of buckets so that adding one is O(1)
//! with millions pending. Ferrite has few (one per task sleeping with a
//! timeout) and keeps them in one list sorted by expiry; the tick looks
//! only at the earliest deadline, an atomic, so a tick with nothing due
//! costs one load. Due timers run at the end of the tick's interrupt with
//! interrupts off (Linux runs them from `TIMER_SOFTIRQ`): their functions
//! must be short and must not sleep. Waking a task is the usual one.
//!
//! Sleeping with a timeout, as Linux's `schedule_timeout` does:
//! ```text
//! set_current_state(TASK_INTERRUPTIBLE)   the caller
//! timer = process_timeout(current) at jiffies + timeout
//! schedule()                              the timer or a wake_up ends it
//! del_timer_sync(timer); return the jiffies left
//! ```
//!
//! # Locking
//! `TIMER_BASE` (an IRQ-safe spinlock) guards the list and which timer is
//! running; under it only the allocator is taken (the list grows with
//! `try_reserve`). Timer functions run with it dropped, so they may arm
//! timers themselves; `del_timer_sync` waits for a running function.
//! One base for all CPUs for now; it becomes per-CPU with SMP bring-up.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use super::jiffies::{HZ, jiffies, msecs_to_jiffies};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::task::{
    TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_RUNNING, TASK_UNINTERRUPTIBLE, signal_pending,
};
use crate::kernel::sched::{cond_resched, current, schedule, try_to_wake_up};

/// A timeout that never ends (Linux: `MAX_SCHEDULE_TIMEOUT`, `LONG_MAX`).
pub const MAX_SCHEDULE_TIMEOUT: u64 = i64::MAX as u64;

/// What a timer runs when it fires; in interrupt context, so it must not
/// sleep.
type TimerFn = Box<dyn Fn() + Send + Sync>;

struct TimerEntry {
    /// Unique for the kernel's lifetime: the tie-breaker between equal
    /// deadlines, and how the base finds the timer.
    id: u64,
    function: TimerFn,
}

struct Pending {
    expires: u64,
    entry: Arc<TimerEntry>,
}

/// Linux: `struct timer_base`.
struct TimerBase {
    /// Sorted by (`expires`, `id`): the earliest first.
    pending: VecDeque<Pending>,
    /// The timer whose function runs now, for `del_timer_sync`.
    running: Option<u64>,
}

impl TimerBase {
    /// Takes timer `id` off the list; returns whether it was there.
    fn detach(&mut self, id: u64) -> bool {
        let Some(i) = self.pending.iter().position(|p| p.entry.id == id) else { return false };
        drop(self.pending.remove(i));
        self.update_next_expiry();
        true
    }

    fn update_next_expiry(&self) {
        let next = self.pending.front().map_or(u64::MAX, |p| p.expires);
        NEXT_EXPIRY.store(next, Ordering::Release);
    }
}

static TIMER_BASE: SpinLock<TimerBase> =
    SpinLock::new(TimerBase { pending: VecDeque::new(), running: None });
/// The earliest pending deadline, `u64::MAX` for none (Linux:
/// `base->next_expiry`).
static NEXT_EXPIRY: AtomicU64 = AtomicU64::new(u64::MAX);
static NEXT_TIMER_ID: AtomicU64 = AtomicU64::new(1);

/// A timer (Linux: `struct timer_list`). Dropping it deletes it, waiting
/// for its function if that is running (`del_timer_sync`).
pub struct TimerList {
    entry: Arc<TimerEntry>,
}

impl TimerList {
    /// A timer that will run `function` (Linux: `timer_setup`); not armed.
    pub fn new(function: impl Fn() + Send + Sync + 'static) -> Self {
        let id = NEXT_TIMER_ID.fetch_add(1, Ordering::Relaxed);
        Self { entry: Arc::new(TimerEntry { id, function: Box::new(function) }) }
    }

    /// Arms the timer, or moves it, to fire once jiffies reach `expires`;
    /// returns whether it was pending (Linux: `mod_timer`). `ENOMEM` if
    /// the list could not grow: the timer is then not pending.
    pub fn mod_timer(&self, expires: u64) -> KResult<bool> {
        let id = self.entry.id;
        let mut base = TIMER_BASE.lock();
        let was_pending = base.detach(id);
        base.pending.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        let at = base.pending.partition_point(|p| (p.expires, p.entry.id) < (expires, id));
        base.pending.insert(at, Pending { expires, entry: self.entry.clone() });
        base.update_next_expiry();
        Ok(was_pending)
    }

    /// Linux: `add_timer` (re-arms a pending timer instead of a BUG).
    pub fn add_timer(&self, expires: u64) -> KResult<()> {
        self.mod_timer(expires).map(|_| ())
    }

    /// Disarms the timer; returns whether it was pending (Linux:
    /// `del_timer`). Its function may still be running on another CPU.
    pub fn del_timer(&self) -> bool {
        TIMER_BASE.lock().detach(self.entry.id)
    }

    /// Disarms the timer and waits until its function is not running
    /// (Linux: `del_timer_sync`). Never call it from the function itself.
    pub fn del_timer_sync(&self) -> bool {
        loop {
            let mut base = TIMER_BASE.lock();
            if base.running != Some(self.entry.id) {
                return base.detach(self.entry.id);
            }
            drop(base);
            core::hint::spin_loop();
        }
    }

    /// Linux: `timer_pending`.
    pub fn pending(&self) -> bool {
        TIMER_BASE.lock().pending.iter().any(|p| p.entry.id == self.entry.id)
    }
}

impl Drop for TimerList {
    fn drop(&mut self) {
        self.del_timer_sync();
    }
}

/// Runs every timer whose deadline has come (Linux: `run_local_timers`
/// and `__run_timers`); the tick calls it with interrupts off.
pub fn run_timers() {
    let now = jiffies();
    if now < NEXT_EXPIRY.load(Ordering::Acquire) {
        return;
    }
    // Where Linux raises TIMER_SOFTIRQ; Ferrite runs the timers inline.
    crate::kernel::softirq::kstat_incr_softirqs_this_cpu(crate::kernel::softirq::SoftirqNr::Timer);
    loop {
        let entry = {
            let mut base = TIMER_BASE.lock();
            base.running = None;
            if base.pending.front().is_none_or(|p| p.expires > now) {
                base.update_next_expiry();
                return;
            }
            let Some(due) = base.pending.pop_front() else { return };
            base.running = Some(due.entry.id);
            due.entry
        };
        (entry.function)();
    }
}

/// Sleeps in the state the caller set until woken or `timeout` jiffies
/// have passed; returns the jiffies left, 0 if the time ran out (Linux:
/// `schedule_timeout`). The caller checks why it woke.
pub fn schedule_timeout(timeout: u64) -> u64 {
    if timeout >= MAX_SCHEDULE_TIMEOUT {
        schedule();
        return timeout;
    }
    let expire = jiffies().saturating_add(timeout);
    let task = current();
    let sleeper = task.clone();
    // Linux: `process_timeout`.
    let timer = TimerList::new(move || {
        try_to_wake_up(&sleeper, TASK_NORMAL);
    });
    if timer.add_timer(expire).is_err() {
        // No memory to queue the timer: do not sleep unbounded; the
        // caller's loop polls instead.
        task.set_state(TASK_RUNNING);
        cond_resched();
    } else {
        schedule();
    }
    drop(timer);
    expire.saturating_sub(jiffies())
}

/// Linux: `schedule_timeout_interruptible`: a signal ends the sleep.
pub fn schedule_timeout_interruptible(timeout: u64) -> u64 {
    current().set_state(TASK_INTERRUPTIBLE);
    schedule_timeout(timeout)
}

/// Linux: `schedule_timeout_uninterruptible`.
pub fn schedule_timeout_uninterruptible(timeout: u64) -> u64 {
    current().set_state(TASK_UNINTERRUPTIBLE);
    schedule_timeout(timeout)
}

/// Sleeps at least `msecs` milliseconds (Linux: `msleep`; the extra
/// jiffy covers the part of the current tick already gone).
pub fn msleep(msecs: u64) {
    let mut timeout = msecs_to_jiffies(msecs).saturating_add(1);
    while timeout > 0 {
        timeout = schedule_timeout_uninterruptible(timeout);
    }
}

/// Sleeps `msecs` milliseconds unless a signal comes first; returns the
/// milliseconds left (Linux: `msleep_interruptible`).
#[allow(dead_code, reason = "API for drivers and the tty's waits")]
pub fn msleep_interruptible(msecs: u64) -> u64 {
    let mut timeout = msecs_to_jiffies(msecs).saturating_add(1);
    while timeout > 0 && !signal_pending(&current()) {
        timeout = schedule_timeout_interruptible(timeout);
    }
    super::jiffies::jiffies_to_msecs(timeout)
}

crate::ktest!(timer_fires_after_its_jiffies, {
    static FIRED_AT: AtomicU64 = AtomicU64::new(0);
    FIRED_AT.store(0, Ordering::SeqCst);
    let timer = TimerList::new(|| FIRED_AT.store(jiffies(), Ordering::SeqCst));
    let cancelled = TimerList::new(|| FIRED_AT.store(u64::MAX, Ordering::SeqCst));
    let start = jiffies();
    timer.add_timer(start + 3).map_err(|_| "add_timer")?;
    // Far enough ahead that a slow host cannot let it fire before del_timer.
    cancelled.add_timer(start + HZ).map_err(|_| "add_timer")?;
    crate::kassert!(cancelled.pending() && cancelled.del_timer(), "a pending timer is deleted");
    crate::kassert!(!cancelled.pending(), "and is no longer pending");
    msleep(40);
    let fired = FIRED_AT.load(Ordering::SeqCst);
    crate::kassert!(fired != u64::MAX, "a deleted timer never fires");
    crate::kassert!(fired >= start + 3, "fired, and not before its deadline");
    crate::kassert!(!timer.pending(), "a fired timer is not pending");
    crate::kassert!(!timer.mod_timer(jiffies() + HZ).map_err(|_| "mod_timer")?, "re-armed");
    let deadline = jiffies() + 2 * HZ;
    crate::kassert!(timer.mod_timer(deadline) == Ok(true), "moved while pending");
    let id = timer.entry.id;
    drop(timer);
    // Other timers (the network engine's) may be pending: look for this one.
    let base = TIMER_BASE.lock();
    crate::kassert!(base.pending.iter().all(|p| p.entry.id != id), "dropping deletes it");
    crate::kassert!(
        base.pending.front().is_none_or(|p| p.expires == NEXT_EXPIRY.load(Ordering::SeqCst)),
        "the next expiry is the earliest pending"
    );
    Ok(())
});

crate::ktest!(schedule_timeout_sleeps_and_wakes_early, {
    static LEFT: AtomicU64 = AtomicU64::new(0);
    let start = jiffies();
    let left = schedule_timeout_uninterruptible(5);
    crate::kassert!(left == 0 && jiffies() >= start + 5, "slept at least 5 ticks");
    LEFT.store(0, Ordering::SeqCst);
    let sleeper = crate::kernel::kthread::kthread_run(
        || {
            LEFT.store(schedule_timeout_interruptible(10 * HZ), Ordering::SeqCst);
            0
        },
        "ktest-timeout",
    )
    .map_err(|_| "kthread_run")?;
    while sleeper.state() != TASK_INTERRUPTIBLE {
        crate::kernel::sched::sched_yield();
    }
    crate::kernel::sched::wake_up_process(&sleeper);
    crate::kernel::kthread::kthread_stop(&sleeper);
    let left = LEFT.load(Ordering::SeqCst);
    crate::kassert!(left > 9 * HZ && left <= 10 * HZ, "a wake_up ends the sleep early");
    Ok(())
});

//! Wait queues: where tasks sleep until an event, and how the event's
//! producer wakes them.
//!
//! Linux: kernel/sched/wait.c (`prepare_to_wait`, `finish_wait`,
//! `__wake_up_common`, `autoremove_wake_function`), include/linux/wait.h
//! (`wait_event`, `wait_event_interruptible`, `wake_up*`).
//!
//! Sleeping on a condition, as Linux's `___wait_event` does:
//!
//! ```text
//! loop {
//!     prepare_to_wait(wq, state)   // queue ourselves, then set our state
//!     if cond() { break }          // checked *after* both: no lost wake-up
//!     if signal pending { EINTR }
//!     schedule()
//! }
//! finish_wait(wq)                  // TASK_RUNNING, off the queue
//! ```
//!
//! A waker makes the condition true *before* calling `wake_up`. Either the
//! waker takes the queue lock after the sleeper queued itself (it then
//! finds the entry and `try_to_wake_up` sees the sleeping state), or
//! before (then the sleeper, taking the lock after it, sees the condition).
//! `try_to_wake_up` of a task that set its state but has not yet called
//! `schedule()` only resets the state, and `schedule()` then returns at once.
//!
//! Woken entries are removed by the waker (Linux's autoremove), so a task
//! is on a queue at most once; exclusive waiters (mutexes, completions)
//! are woken one at a time, after all non-exclusive ones.
//!
//! An entry may instead carry a wake function (Linux: a
//! `wait_queue_entry` whose `func` is not `autoremove_wake_function`, as
//! epoll's `ep_poll_callback`): [`WaitQueue::add_wait_queue`] hooks it on
//! the queue until [`WaitQueue::remove_wait_queue`]; every wake-up calls it
//! with the queue lock held and interrupts off, so it must not sleep.
//!
//! # Locking
//! The queue's spinlock (IRQ-safe: interrupt handlers wake) guards the
//! entries; `try_to_wake_up` takes the run-queue lock inside it
//! (lock order: `WaitQueue` → `RunQueue`).
#![deny(unsafe_code)]

use alloc::collections::VecDeque;
use alloc::sync::Arc;

use super::task::{
    TASK_IDLE, TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_RUNNING, TASK_UNINTERRUPTIBLE, Task,
    signal_pending,
};
use super::{current, preempt_check_resched, schedule, try_to_wake_up};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::time::timer::schedule_timeout;

/// Linux: `WQ_FLAG_EXCLUSIVE`.
const WQ_FLAG_EXCLUSIVE: u32 = 0x01;

/// A wake function (Linux: `wait_queue_func_t`), called with the wake
/// mode under the queue lock; it stays queued.
pub type WaitQueueFunc = Arc<dyn Fn(u32) + Send + Sync>;

/// Who an entry wakes.
enum Waiter {
    /// A sleeping task (Linux: `autoremove_wake_function`).
    Task(Arc<Task>),
    /// A callback (Linux: an entry with its own `func`).
    Func(WaitQueueFunc),
}

/// One sleeper (Linux: `struct wait_queue_entry`).
struct WaitQueueEntry {
    waiter: Waiter,
    flags: u32,
}

impl WaitQueueEntry {
    fn is_task(&self, task: &Arc<Task>) -> bool {
        matches!(&self.waiter, Waiter::Task(t) if Arc::ptr_eq(t, task))
    }
}

/// A list of sleeping tasks (Linux: `struct wait_queue_head`).
pub struct WaitQueue {
    head: SpinLock<VecDeque<WaitQueueEntry>>,
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitQueue {
    /// Linux: `DECLARE_WAIT_QUEUE_HEAD` / `init_waitqueue_head`.
    pub const fn new() -> Self {
        Self { head: SpinLock::new(VecDeque::new()) }
    }

    /// Queues `task` (unless queued already) and sets its state (Linux:
    /// `prepare_to_wait` / `prepare_to_wait_exclusive`). Returns false if
    /// the entry could not be allocated: the caller then polls instead.
    fn prepare_to_wait(&self, task: &Arc<Task>, state: u32, exclusive: bool) -> bool {
        let mut head = self.head.lock();
        let mut queued = head.iter().any(|e| e.is_task(task));
        if !queued && head.try_reserve(1).is_ok() {
            let entry = WaitQueueEntry {
                waiter: Waiter::Task(task.clone()),
                flags: if exclusive { WQ_FLAG_EXCLUSIVE } else { 0 },
            };
            // Exclusive waiters go at the tail, behind the others (Linux:
            // `__add_wait_queue_entry_tail`).
            if exclusive {
                head.push_back(entry);
            } else {
                head.push_front(entry);
            }
            queued = true;
        }
        task.set_state(state);
        queued
    }

    /// Back to running and off the queue (Linux: `finish_wait`).
    fn finish_wait(&self, task: &Arc<Task>) {
        task.set_state(TASK_RUNNING);
        let removed = {
            let mut head = self.head.lock();
            head.iter().position(|e| e.is_task(task)).and_then(|i| head.remove(i))
        };
        drop(removed);
    }

    /// Wakes every non-exclusive sleeper in `mode` and up to
    /// `nr_exclusive` exclusive ones (0 = all) (Linux: `__wake_up_common`).
    fn __wake_up(&self, mode: u32, nr_exclusive: usize) {
        {
            let mut head = self.head.lock();
            let mut left = nr_exclusive;
            let mut i = 0;
            while i < head.len() {
                let entry = &head[i];
                let exclusive = entry.flags & WQ_FLAG_EXCLUSIVE != 0;
                let task = match &entry.waiter {
                    Waiter::Task(task) => task,
                    Waiter::Func(func) => {
                        func(mode);
                        i += 1;
                        continue;
                    }
                };
                if try_to_wake_up(task, mode) {
                    // The run queue holds a reference now, so dropping
                    // ours here cannot free the task under the lock.
                    drop(head.remove(i));
                    if exclusive && left > 0 {
                        left -= 1;
                        if left == 0 {
                            break;
                        }
                    }
                } else {
                    i += 1;
                }
            }
        }
        preempt_check_resched();
    }

    /// Wakes all non-exclusive sleepers and one exclusive (Linux: `wake_up`).
    pub fn wake_up(&self) {
        self.__wake_up(TASK_NORMAL, 1);
    }

    /// Linux: `wake_up_all`.
    pub fn wake_up_all(&self) {
        self.__wake_up(TASK_NORMAL, 0);
    }

    /// Wakes only interruptible sleepers (Linux: `wake_up_interruptible`).
    #[allow(dead_code, reason = "API for pipes and ttys")]
    pub fn wake_up_interruptible(&self) {
        self.__wake_up(TASK_INTERRUPTIBLE, 1);
    }

    /// Linux: `wake_up_interruptible_all`.
    #[allow(dead_code, reason = "API for pipes and ttys")]
    pub fn wake_up_interruptible_all(&self) {
        self.__wake_up(TASK_INTERRUPTIBLE, 0);
    }

    /// Hooks a wake function on the queue (Linux: `add_wait_queue` of an
    /// entry made by `init_waitqueue_func_entry`).
    pub fn add_wait_queue(&self, func: WaitQueueFunc) -> KResult<()> {
        let mut head = self.head.lock();
        head.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        head.push_front(WaitQueueEntry { waiter: Waiter::Func(func), flags: 0 });
        Ok(())
    }

    /// Unhooks a wake function (Linux: `remove_wait_queue`).
    pub fn remove_wait_queue(&self, func: &WaitQueueFunc) {
        let removed = {
            let mut head = self.head.lock();
            let pos = head
                .iter()
                .position(|e| matches!(&e.waiter, Waiter::Func(f) if Arc::ptr_eq(f, func)));
            pos.and_then(|i| head.remove(i))
        };
        drop(removed);
    }

    /// Whether anyone sleeps here (Linux: `waitqueue_active`).
    #[allow(dead_code, reason = "API for pipes and ttys")]
    pub fn is_active(&self) -> bool {
        !self.head.lock().is_empty()
    }

    /// The sleep loop of the module header (Linux: `___wait_event`).
    fn wait_event_common(
        &self,
        state: u32,
        exclusive: bool,
        mut cond: impl FnMut() -> bool,
    ) -> KResult<()> {
        if cond() {
            return Ok(());
        }
        let task = current();
        let mut result = Ok(());
        loop {
            let queued = self.prepare_to_wait(&task, state, exclusive);
            if cond() {
                break;
            }
            if state & TASK_INTERRUPTIBLE != 0 && signal_pending(&task) {
                result = Err(Errno::EINTR);
                break;
            }
            if !queued {
                // Out of memory for the entry: stay runnable and retry, so
                // the condition is still checked, only less efficiently.
                task.set_state(TASK_RUNNING);
            }
            schedule();
        }
        self.finish_wait(&task);
        result
    }

    /// Sleeps uninterruptibly until `cond()` holds (Linux: `wait_event`).
    pub fn wait_event(&self, cond: impl FnMut() -> bool) {
        // An uninterruptible sleep never returns EINTR.
        let _ = self.wait_event_common(TASK_UNINTERRUPTIBLE, false, cond);
    }

    /// Sleeps until `cond()` holds or a signal arrives: `Err(EINTR)` then
    /// (Linux: `wait_event_interruptible`, which returns -ERESTARTSYS).
    pub fn wait_event_interruptible(&self, cond: impl FnMut() -> bool) -> KResult<()> {
        self.wait_event_common(TASK_INTERRUPTIBLE, false, cond)
    }

    /// Sleeps until `cond()` holds (`Ok(true)`), `timeout` jiffies pass
    /// (`Ok(false)`) or a signal arrives (`EINTR`) (Linux:
    /// `wait_event_interruptible_timeout`; a timer wakes the sleeper).
    pub fn wait_event_interruptible_timeout(
        &self,
        mut cond: impl FnMut() -> bool,
        timeout: u64,
    ) -> KResult<bool> {
        if cond() {
            return Ok(true);
        }
        let task = current();
        let mut left = timeout;
        let result = loop {
            let queued = self.prepare_to_wait(&task, TASK_INTERRUPTIBLE, false);
            if cond() {
                break Ok(true);
            }
            if signal_pending(&task) {
                break Err(Errno::EINTR);
            }
            if left == 0 {
                break Ok(false);
            }
            if !queued {
                task.set_state(TASK_RUNNING);
            }
            left = schedule_timeout(left);
        };
        self.finish_wait(&task);
        result
    }

    /// Sleeps in `TASK_IDLE` until `cond()` holds (`true`) or `timeout`
    /// jiffies pass (`false`): an idle kernel thread waiting for work,
    /// deaf to signals and not counted as load, shown as `I` by `ps`
    /// (Linux: `wait_event_idle_timeout`).
    pub fn wait_event_idle_timeout(&self, mut cond: impl FnMut() -> bool, timeout: u64) -> bool {
        if cond() {
            return true;
        }
        let task = current();
        let mut left = timeout;
        let done = loop {
            let queued = self.prepare_to_wait(&task, TASK_IDLE, false);
            if cond() {
                break true;
            }
            if left == 0 {
                break false;
            }
            if !queued {
                task.set_state(TASK_RUNNING);
            }
            left = schedule_timeout(left);
        };
        self.finish_wait(&task);
        done
    }

    /// An exclusive uninterruptible sleep: a `wake_up` wakes one such
    /// waiter (Linux: `wait_event_exclusive_cmd`-style, for mutexes and
    /// completions).
    pub fn wait_event_exclusive(&self, cond: impl FnMut() -> bool) {
        let _ = self.wait_event_common(TASK_UNINTERRUPTIBLE, true, cond);
    }
}

crate::ktest!(waitqueue_sleeper_is_woken, {
    use core::sync::atomic::{AtomicBool, Ordering};
    static WQ: WaitQueue = WaitQueue::new();
    static FLAG: AtomicBool = AtomicBool::new(false);
    static WOKE: AtomicBool = AtomicBool::new(false);
    FLAG.store(false, Ordering::SeqCst);
    WOKE.store(false, Ordering::SeqCst);
    let t = crate::kernel::kthread::kthread_run(
        || {
            WQ.wait_event(|| FLAG.load(Ordering::SeqCst));
            WOKE.store(true, Ordering::SeqCst);
            7
        },
        "ktest-sleeper",
    )
    .map_err(|_| "kthread_run")?;
    // Let it reach its sleep: it must block, not spin.
    while t.state() != TASK_UNINTERRUPTIBLE {
        super::sched_yield();
    }
    crate::kassert!(!WOKE.load(Ordering::SeqCst), "still asleep before the wake_up");
    FLAG.store(true, Ordering::SeqCst);
    WQ.wake_up();
    let ret = crate::kernel::kthread::kthread_stop(&t);
    crate::kassert!(WOKE.load(Ordering::SeqCst), "the sleeper ran on");
    crate::kassert!(ret == 7, "kthread_stop returns the thread's result");
    Ok(())
});

crate::ktest!(waitqueue_ping_pong, {
    use core::sync::atomic::{AtomicU32, Ordering};
    const ROUNDS: u32 = 1000;
    static WQ: [WaitQueue; 2] = [WaitQueue::new(), WaitQueue::new()];
    static TURN: AtomicU32 = AtomicU32::new(0);
    static COUNT: AtomicU32 = AtomicU32::new(0);
    TURN.store(0, Ordering::SeqCst);
    COUNT.store(0, Ordering::SeqCst);
    let player = |me: u32| {
        move || {
            for _ in 0..ROUNDS {
                WQ[me as usize].wait_event(|| TURN.load(Ordering::SeqCst) == me);
                COUNT.fetch_add(1, Ordering::SeqCst);
                TURN.store(1 - me, Ordering::SeqCst);
                WQ[1 - me as usize].wake_up();
            }
            0
        }
    };
    let a = crate::kernel::kthread::kthread_run(player(0), "ktest-ping").map_err(|_| "ping")?;
    let b = crate::kernel::kthread::kthread_run(player(1), "ktest-pong").map_err(|_| "pong")?;
    // Stopping a thread before it first runs would skip its function.
    while COUNT.load(Ordering::SeqCst) < 2 * ROUNDS {
        super::sched_yield();
    }
    crate::kernel::kthread::kthread_stop(&a);
    crate::kernel::kthread::kthread_stop(&b);
    crate::kassert!(COUNT.load(Ordering::SeqCst) == 2 * ROUNDS, "every round was played");
    Ok(())
});

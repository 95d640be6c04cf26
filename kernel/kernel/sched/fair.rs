//! The Completely Fair Scheduler: every runnable task gets CPU time in
//! proportion to its weight, tracked as virtual runtime.
//!
//! Linux: kernel/sched/fair.c (`update_curr`, `place_entity`,
//! `check_preempt_tick`, `check_preempt_wakeup`, `pick_next_entity`,
//! `sched_slice`), kernel/sched/core.c (`sched_prio_to_weight`).
//!
//! A running task's `vruntime` grows by its runtime scaled by
//! `NICE_0_LOAD / weight`: a nice 0 task's virtual clock runs at real
//! speed, a nice 5 task's (weight 335) about three times faster. The
//! runnable tasks sit in a tree ordered by `vruntime` (a `BTreeMap` keyed
//! by `(vruntime, serial)` stands in for Linux's red-black tree); the
//! leftmost runs next. The running task is kept out of the tree (Linux:
//! `cfs_rq->curr`), because its key changes as it runs.
//!
//! Time slices come from the latency target: within `sysctl_sched_latency`
//! (6 ms) every runnable task should run once, each for a share
//! proportional to its weight, but no less than `min_granularity` (0.75 ms),
//! the period stretching when more than 8 tasks share it. The tick
//! preempts the running task once it has had its share, or once it is more
//! than a slice ahead of the leftmost. A woken task preempts the running
//! one if its `vruntime` is behind by more than `wakeup_granularity` (1 ms,
//! scaled by the woken task's weight).
//!
//! New tasks start a slice after `min_vruntime` (START_DEBIT: a fork cannot
//! jump the queue); woken sleepers no earlier than half a latency before it
//! (GENTLE_FAIR_SLEEPERS: a long sleep earns a little credit, not a lot).
//!
//! # Locking
//! Every method runs with the CPU's run-queue lock held (interrupts off);
//! it takes one task's `sched` lock at a time, inside it.
#![deny(unsafe_code)]

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use linux_raw_sys::general::{SCHED_BATCH, SCHED_IDLE, SCHED_NORMAL};

use super::core::{DequeueFlags, EnqueueFlags, SchedClass};
use super::task::{SchedEntity, Task};
use super::{DEFAULT_PRIO, MAX_RT_PRIO};

/// Linux: `NICE_0_LOAD` (without the extra fixed-point bits of 64-bit Linux).
pub const NICE_0_LOAD: u64 = 1024;
/// SCHED_IDLE tasks weigh almost nothing (Linux: `WEIGHT_IDLEPRIO`).
pub const WEIGHT_IDLEPRIO: u64 = 3;

/// Nanoseconds (Linux: `sysctl_sched_latency` etc., for one CPU).
pub const SYSCTL_SCHED_LATENCY: u64 = 6_000_000;
pub const SYSCTL_SCHED_MIN_GRANULARITY: u64 = 750_000;
pub const SYSCTL_SCHED_WAKEUP_GRANULARITY: u64 = 1_000_000;
/// Linux: `sched_nr_latency` = latency / min_granularity.
const SCHED_NR_LATENCY: u64 = 8;

/// Weight of nice -20..19; each step is about 1.25x, so one nice level is
/// about 10% of CPU between two tasks (Linux: `sched_prio_to_weight`).
pub const SCHED_PRIO_TO_WEIGHT: [u64; 40] = [
    /* -20 */ 88761, 71755, 56483, 46273, 36291, //
    /* -15 */ 29154, 23254, 18705, 14949, 11916, //
    /* -10 */ 9548, 7620, 6100, 4904, 3906, //
    /*  -5 */ 3121, 2501, 1991, 1586, 1277, //
    /*   0 */ 1024, 820, 655, 526, 423, //
    /*   5 */ 335, 272, 215, 172, 137, //
    /*  10 */ 110, 87, 70, 56, 45, //
    /*  15 */ 36, 29, 23, 18, 15, //
];

/// The load weight of a task with `static_prio` and `policy` (Linux:
/// `set_load_weight`).
pub fn load_weight(static_prio: i32, policy: u32) -> u64 {
    if policy == SCHED_IDLE {
        return WEIGHT_IDLEPRIO;
    }
    let idx = usize::try_from(static_prio - MAX_RT_PRIO).unwrap_or(0);
    SCHED_PRIO_TO_WEIGHT.get(idx).copied().unwrap_or(NICE_0_LOAD)
}

/// `delta * NICE_0_LOAD / weight` (Linux: `calc_delta_fair`).
pub fn calc_delta_fair(delta: u64, weight: u64) -> u64 {
    if weight == NICE_0_LOAD || weight == 0 {
        return delta;
    }
    let scaled = u128::from(delta) * u128::from(NICE_0_LOAD) / u128::from(weight);
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// The span in which each of `nr_running` tasks should run once (Linux:
/// `__sched_period`).
fn sched_period(nr_running: u64) -> u64 {
    if nr_running > SCHED_NR_LATENCY {
        nr_running * SYSCTL_SCHED_MIN_GRANULARITY
    } else {
        SYSCTL_SCHED_LATENCY
    }
}

/// CFS's per-CPU run queue (Linux: `struct cfs_rq`).
pub struct CfsRunQueue {
    /// Runnable tasks but the running one, by `(vruntime, serial)`.
    tasks_timeline: BTreeMap<(u64, u64), Arc<Task>>,
    /// The running task, if it is a CFS task (Linux: `cfs_rq->curr`).
    curr: Option<Arc<Task>>,
    /// Tasks queued, the running one included, and their total weight.
    nr_running: u64,
    load: u64,
    /// Monotonic floor of the queue's virtual time (Linux: `min_vruntime`).
    min_vruntime: u64,
    /// A task that yielded: passed over by the next pick if possible.
    skip: Option<u64>,
    /// The run queue's clock, set by `RunQueue::update_rq_clock`.
    pub(super) clock: u64,
}

impl CfsRunQueue {
    pub const fn new() -> Self {
        Self {
            tasks_timeline: BTreeMap::new(),
            curr: None,
            nr_running: 0,
            load: 0,
            min_vruntime: 0,
            skip: None,
            clock: 0,
        }
    }

    /// The share of the period a task of `weight` gets (Linux: `sched_slice`).
    fn sched_slice(&self, weight: u64, on_rq: bool) -> u64 {
        let (nr, load) = if on_rq {
            (self.nr_running, self.load)
        } else {
            (self.nr_running + 1, self.load + weight)
        };
        let slice = u128::from(sched_period(nr)) * u128::from(weight) / u128::from(load.max(1));
        u64::try_from(slice).unwrap_or(u64::MAX)
    }

    /// Charges the running task for the time since it was last charged
    /// (Linux: `update_curr`).
    pub(super) fn update_curr(&mut self) {
        let Some(curr) = &self.curr else { return };
        let mut s = curr.sched.lock();
        let delta = self.clock.saturating_sub(s.se.exec_start);
        if delta == 0 {
            return;
        }
        s.se.exec_start = self.clock;
        s.se.sum_exec_runtime += delta;
        s.se.vruntime += calc_delta_fair(delta, s.se.weight);
        drop(s);
        self.update_min_vruntime();
    }

    /// Linux: `update_min_vruntime`.
    fn update_min_vruntime(&mut self) {
        let curr = self.curr.as_ref().filter(|c| c.sched.lock().on_rq);
        let curr_vr = curr.map(|c| c.sched.lock().se.vruntime);
        let left_vr = self.tasks_timeline.keys().next().map(|&(vr, _)| vr);
        let vruntime = match (curr_vr, left_vr) {
            (Some(c), Some(l)) => c.min(l),
            (Some(v), None) | (None, Some(v)) => v,
            (None, None) => return,
        };
        self.min_vruntime = self.min_vruntime.max(vruntime);
    }

    /// Where a new (`initial`) or woken task enters the timeline (Linux:
    /// `place_entity`).
    fn place_entity(&self, se: &mut SchedEntity, initial: bool) {
        let mut vruntime = self.min_vruntime;
        if initial {
            vruntime += calc_delta_fair(self.sched_slice(se.weight, false), se.weight);
        } else {
            vruntime = vruntime.saturating_sub(SYSCTL_SCHED_LATENCY / 2);
        }
        se.vruntime = se.vruntime.max(vruntime);
    }

    /// Gives a forked child its place, after charging the parent (Linux:
    /// `task_fork_fair`).
    pub(super) fn task_fork(&mut self, se: &mut SchedEntity) {
        self.update_curr();
        if let Some(curr) = &self.curr {
            se.vruntime = curr.sched.lock().se.vruntime;
        }
        self.place_entity(se, true);
    }

    fn key(task: &Task) -> (u64, u64) {
        (task.sched.lock().se.vruntime, task.serial)
    }

    fn is_curr(&self, task: &Task) -> bool {
        self.curr.as_ref().is_some_and(|c| core::ptr::eq(Arc::as_ptr(c), task))
    }

    /// Whether the running task has had its share (Linux: `check_preempt_tick`).
    fn check_preempt_tick(&self, curr: &Task) -> bool {
        let (weight, ran, vruntime) = {
            let s = curr.sched.lock();
            (s.se.weight, s.se.sum_exec_runtime - s.se.prev_sum_exec_runtime, s.se.vruntime)
        };
        let ideal_runtime = self.sched_slice(weight, true);
        if ran > ideal_runtime {
            return true;
        }
        if ran < SYSCTL_SCHED_MIN_GRANULARITY {
            return false;
        }
        self.tasks_timeline
            .keys()
            .next()
            .is_some_and(|&(left, _)| vruntime.saturating_sub(left) > ideal_runtime)
    }
}

/// What /proc/sched_debug shows of a CFS queue (Linux: `print_cfs_rq`).
pub struct CfsRqDebug {
    pub nr_running: u64,
    /// Total weight of the queued tasks, the running one included.
    pub load: u64,
    pub min_vruntime: u64,
    /// The leftmost and rightmost keys of the timeline, if any (Linux:
    /// `MIN_vruntime`, `max_vruntime`).
    pub leftmost_vruntime: Option<u64>,
    pub rightmost_vruntime: Option<u64>,
    /// Serial numbers of the queued tasks in timeline order, the one to
    /// run next first; the running task is not among them.
    pub timeline: alloc::vec::Vec<u64>,
}

impl CfsRunQueue {
    /// The queue's figures and its tree order, for /proc/sched_debug.
    pub fn debug(&self) -> CfsRqDebug {
        let mut timeline = alloc::vec::Vec::new();
        if timeline.try_reserve(self.tasks_timeline.len()).is_ok() {
            timeline.extend(self.tasks_timeline.keys().map(|&(_, serial)| serial));
        }
        CfsRqDebug {
            nr_running: self.nr_running,
            load: self.load,
            min_vruntime: self.min_vruntime,
            leftmost_vruntime: self.tasks_timeline.keys().next().map(|&(vr, _)| vr),
            rightmost_vruntime: self.tasks_timeline.keys().next_back().map(|&(vr, _)| vr),
            timeline,
        }
    }
}

impl Default for CfsRunQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl SchedClass for CfsRunQueue {
    fn enqueue_task(&mut self, task: Arc<Task>, flags: EnqueueFlags) {
        self.update_curr();
        let weight = {
            let mut s = task.sched.lock();
            if flags.contains(EnqueueFlags::WAKEUP) {
                self.place_entity(&mut s.se, false);
            }
            s.se.weight
        };
        self.nr_running += 1;
        self.load += weight;
        if !self.is_curr(&task) {
            self.tasks_timeline.insert(Self::key(&task), task);
        }
        self.update_min_vruntime();
    }

    fn dequeue_task(&mut self, task: &Task, _flags: DequeueFlags) {
        self.update_curr();
        if !self.is_curr(task) {
            self.tasks_timeline.remove(&Self::key(task));
        }
        self.nr_running = self.nr_running.saturating_sub(1);
        self.load = self.load.saturating_sub(task.sched.lock().se.weight);
        if self.skip == Some(task.serial) {
            self.skip = None;
        }
        self.update_min_vruntime();
    }

    fn put_prev_task(&mut self, prev: &Arc<Task>) {
        if !self.is_curr(prev) {
            return;
        }
        self.update_curr();
        if prev.sched.lock().on_rq {
            self.tasks_timeline.insert(Self::key(prev), prev.clone());
        }
        self.curr = None;
    }

    fn set_next_task(&mut self, task: &Arc<Task>) {
        self.tasks_timeline.remove(&Self::key(task));
        let mut s = task.sched.lock();
        s.se.exec_start = self.clock;
        s.se.prev_sum_exec_runtime = s.se.sum_exec_runtime;
        drop(s);
        self.curr = Some(task.clone());
    }

    fn pick_next_task(&mut self) -> Option<Arc<Task>> {
        let mut keys = self.tasks_timeline.keys();
        let first = *keys.next()?;
        let second = keys.next().copied();
        let key = match (self.skip.take(), second) {
            (Some(skip), Some(second)) if skip == first.1 => second,
            _ => first,
        };
        let task = self.tasks_timeline.get(&key)?.clone();
        self.set_next_task(&task);
        Some(task)
    }

    fn task_tick(&mut self, curr: &Task) -> bool {
        self.update_curr();
        self.nr_running > 1 && self.check_preempt_tick(curr)
    }

    fn yield_task(&mut self, curr: &Task) {
        if self.nr_running > 1 {
            self.update_curr();
            self.skip = Some(curr.serial);
        }
    }

    fn check_preempt_curr(&mut self, curr: &Task, woken: &Task) -> bool {
        self.update_curr();
        let (curr_policy, curr_vr) = {
            let s = curr.sched.lock();
            (s.policy, s.se.vruntime)
        };
        let (policy, vruntime, weight) = {
            let s = woken.sched.lock();
            (s.policy, s.se.vruntime, s.se.weight)
        };
        if curr_policy == SCHED_IDLE && policy != SCHED_IDLE {
            return true;
        }
        if policy != SCHED_NORMAL {
            return false; // batch and idle tasks never preempt on wakeup
        }
        let gran = calc_delta_fair(SYSCTL_SCHED_WAKEUP_GRANULARITY, weight);
        curr_vr.saturating_sub(vruntime) > gran
    }
}

/// A new task's CFS fields (Linux: `__sched_fork`'s `se` part).
pub fn init_entity(static_prio: i32, policy: u32) -> SchedEntity {
    SchedEntity { weight: load_weight(static_prio, policy), ..SchedEntity::default() }
}

const _: () = assert!(DEFAULT_PRIO - MAX_RT_PRIO == 20);
const _: () = assert!(SCHED_BATCH != SCHED_NORMAL);

crate::ktest!(cfs_weights_match_linux, {
    crate::kassert!(load_weight(DEFAULT_PRIO, SCHED_NORMAL) == 1024, "nice 0");
    crate::kassert!(load_weight(DEFAULT_PRIO + 5, SCHED_NORMAL) == 335, "nice 5");
    crate::kassert!(load_weight(MAX_RT_PRIO, SCHED_NORMAL) == 88761, "nice -20");
    crate::kassert!(load_weight(DEFAULT_PRIO, SCHED_IDLE) == 3, "SCHED_IDLE");
    crate::kassert!(calc_delta_fair(1000, 2048) == 500, "heavier runs slower in vtime");
    Ok(())
});

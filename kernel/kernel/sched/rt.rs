//! Real-time scheduling: SCHED_FIFO and SCHED_RR over 100 priority lists.
//!
//! Linux: kernel/sched/rt.c (`enqueue_task_rt`, `pick_next_task_rt`,
//! `task_tick_rt`, `requeue_task_rt`, `check_preempt_curr_rt`),
//! kernel/sched/sched.h (`struct rt_prio_array`: a bitmap and a list per
//! priority).
//!
//! The most urgent runnable RT task always runs: a bitmap with one bit per
//! non-empty list finds the highest priority in two word scans, and the
//! head of that list runs. A FIFO task runs until it blocks, yields or is
//! preempted by a more urgent one; an RR task also goes to the tail of its
//! list when its 100 ms timeslice runs out. Unlike CFS, the running task
//! stays in its list (Linux does the same).
//!
//! # Locking
//! Every method runs with the CPU's run-queue lock held (interrupts off);
//! it takes one task's `sched` lock at a time, inside it.
#![deny(unsafe_code)]

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general::SCHED_RR;

use super::MAX_RT_PRIO;
use super::core::{DequeueFlags, EnqueueFlags, SchedClass};
use super::task::Task;
use crate::kernel::time::HZ;

const NR_PRIO: usize = MAX_RT_PRIO as usize;

/// An RR task's timeslice in ticks: 100 ms (Linux: `RR_TIMESLICE`).
#[expect(clippy::cast_possible_truncation, reason = "25 ticks at HZ=250")]
pub const RR_TIMESLICE: u32 = (100 * HZ / 1000) as u32;

/// RT's per-CPU run queue (Linux: `struct rt_rq` with its `rt_prio_array`).
pub struct RtRunQueue {
    /// One list per priority; allocated at the first enqueue, so that the
    /// run queues of CPUs without RT tasks cost nothing.
    queue: Vec<VecDeque<Arc<Task>>>,
    /// Bit `p` set when `queue[p]` is not empty.
    bitmap: [u64; 2],
    nr_running: u32,
    /// The running task, if it is an RT task, for runtime accounting.
    curr: Option<Arc<Task>>,
    pub(super) clock: u64,
}

impl RtRunQueue {
    pub const fn new() -> Self {
        Self { queue: Vec::new(), bitmap: [0; 2], nr_running: 0, curr: None, clock: 0 }
    }

    /// Queued RT tasks, the running one included (Linux: `rt_nr_running`).
    pub fn nr_running(&self) -> u32 {
        self.nr_running
    }

    /// The list index of `task`: its `prio`, 0 (most urgent) .. 99.
    fn prio_of(task: &Task) -> usize {
        usize::try_from(task.sched.lock().prio).unwrap_or(0).min(NR_PRIO - 1)
    }

    /// Linux: `sched_find_first_bit`.
    fn first_prio(&self) -> Option<usize> {
        self.bitmap
            .iter()
            .enumerate()
            .find(|(_, w)| **w != 0)
            .map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
    }

    fn update_bit(&mut self, prio: usize) {
        let (word, bit) = (prio / 64, prio % 64);
        if self.queue.get(prio).is_none_or(VecDeque::is_empty) {
            self.bitmap[word] &= !(1 << bit);
        } else {
            self.bitmap[word] |= 1 << bit;
        }
    }

    /// Charges the running RT task (Linux: `update_curr_rt`).
    fn update_curr(&mut self) {
        let Some(curr) = &self.curr else { return };
        let mut s = curr.sched.lock();
        let delta = self.clock.saturating_sub(s.se.exec_start);
        s.se.exec_start = self.clock;
        s.se.sum_exec_runtime += delta;
    }

    /// Moves `task` to the tail of its list (Linux: `requeue_task_rt`).
    fn requeue(&mut self, task: &Task) {
        let Some(q) = self.queue.get_mut(Self::prio_of(task)) else { return };
        if let Some(i) = q.iter().position(|t| core::ptr::eq(Arc::as_ptr(t), task))
            && let Some(t) = q.remove(i)
        {
            q.push_back(t);
        }
    }
}

impl Default for RtRunQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl SchedClass for RtRunQueue {
    fn enqueue_task(&mut self, task: Arc<Task>, flags: EnqueueFlags) {
        let prio = Self::prio_of(&task);
        if self.queue.is_empty() {
            self.queue.resize_with(NR_PRIO, VecDeque::new);
        }
        if flags.contains(EnqueueFlags::HEAD) {
            self.queue[prio].push_front(task);
        } else {
            self.queue[prio].push_back(task);
        }
        self.update_bit(prio);
        self.nr_running += 1;
    }

    fn dequeue_task(&mut self, task: &Task, _flags: DequeueFlags) {
        if self.curr.as_ref().is_some_and(|c| core::ptr::eq(Arc::as_ptr(c), task)) {
            self.update_curr();
        }
        let prio = Self::prio_of(task);
        let Some(q) = self.queue.get_mut(prio) else { return };
        if let Some(i) = q.iter().position(|t| core::ptr::eq(Arc::as_ptr(t), task)) {
            drop(q.remove(i));
            self.nr_running -= 1;
        }
        self.update_bit(prio);
    }

    fn put_prev_task(&mut self, _prev: &Arc<Task>) {
        self.update_curr();
        self.curr = None;
    }

    fn set_next_task(&mut self, task: &Arc<Task>) {
        task.sched.lock().se.exec_start = self.clock;
        self.curr = Some(task.clone());
    }

    fn pick_next_task(&mut self) -> Option<Arc<Task>> {
        let task = self.queue.get(self.first_prio()?)?.front()?.clone();
        self.set_next_task(&task);
        Some(task)
    }

    fn task_tick(&mut self, curr: &Task) -> bool {
        self.update_curr();
        let prio = {
            let mut s = curr.sched.lock();
            if s.policy != SCHED_RR {
                return false;
            }
            s.time_slice = s.time_slice.saturating_sub(1);
            if s.time_slice > 0 {
                return false;
            }
            s.time_slice = RR_TIMESLICE;
            usize::try_from(s.prio).unwrap_or(0).min(NR_PRIO - 1)
        };
        // Requeue to the end of the list if we are not the only one there.
        if self.queue.get(prio).is_some_and(|q| q.len() > 1) {
            self.requeue(curr);
            return true;
        }
        false
    }

    fn yield_task(&mut self, curr: &Task) {
        self.requeue(curr);
    }

    fn check_preempt_curr(&mut self, curr: &Task, woken: &Task) -> bool {
        Self::prio_of(woken) < Self::prio_of(curr)
    }
}

//! The idle class and the idle loop: what a CPU runs when nothing else is
//! runnable.
//!
//! Linux: kernel/sched/idle.c (`do_idle`, `cpu_startup_entry`,
//! `pick_next_task_idle`, `check_preempt_curr_idle`), init/main.c (the boot
//! flow becoming the idle task, PID 0, `swapper/N`).
//!
//! Each CPU has one idle task, never queued anywhere: the run queue falls
//! back to it when the RT and CFS queues are empty, and any wakeup
//! preempts it. It halts with interrupts on until an interrupt makes some
//! task runnable.
//!
//! # Locking
//! The class's methods run under the run-queue lock; the idle loop itself
//! holds nothing.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use super::core::{DequeueFlags, EnqueueFlags, SchedClass};
use super::task::Task;
use crate::arch::irqflags::{local_irq_disable, local_irq_enable, safe_halt};

/// The idle class of one CPU: just its idle task (Linux: `rq->idle`).
pub struct IdleSchedClass {
    pub(super) idle: Option<Arc<Task>>,
}

impl IdleSchedClass {
    pub const fn new() -> Self {
        Self { idle: None }
    }
}

impl Default for IdleSchedClass {
    fn default() -> Self {
        Self::new()
    }
}

impl SchedClass for IdleSchedClass {
    /// The idle task is never queued (Linux: `dequeue_task_idle` is a bug).
    fn enqueue_task(&mut self, _task: Arc<Task>, _flags: EnqueueFlags) {}
    fn dequeue_task(&mut self, _task: &Task, _flags: DequeueFlags) {}
    fn put_prev_task(&mut self, _prev: &Arc<Task>) {}
    fn set_next_task(&mut self, _task: &Arc<Task>) {}

    fn pick_next_task(&mut self) -> Option<Arc<Task>> {
        self.idle.clone()
    }

    fn task_tick(&mut self, _curr: &Task) -> bool {
        false
    }

    fn yield_task(&mut self, _curr: &Task) {}

    /// Anything that wakes preempts idle (Linux: `check_preempt_curr_idle`).
    fn check_preempt_curr(&mut self, _curr: &Task, _woken: &Task) -> bool {
        true
    }
}

/// One pass of the idle loop: halt until there is work, then schedule
/// (Linux: `do_idle`). Interrupts go off between the need-resched check
/// and `hlt` (`sti; hlt` is atomic), so a wakeup in between is not slept
/// through.
fn do_idle() {
    while !super::need_resched() {
        local_irq_disable();
        if super::need_resched() {
            local_irq_enable();
            break;
        }
        safe_halt();
    }
    super::core::schedule_idle();
}

/// The boot flow's end on each CPU: it is that CPU's idle task from now on
/// (Linux: `cpu_startup_entry`).
pub fn cpu_startup_entry() -> ! {
    loop {
        do_idle();
    }
}

//! The scheduler: tasks, run queues, scheduling classes and sleeping.
//!
//! Linux: kernel/sched/ (core.c, fair.c, rt.c, idle.c, wait.c,
//! completion.c), include/linux/sched.h, include/linux/sched/prio.h.
//!
//! Each CPU has a [`RunQueue`](core::RunQueue) holding one queue per
//! scheduling class; `schedule()` asks the classes in order — real-time
//! (FIFO/RR, 100 priorities), then CFS (fair: nice levels weigh virtual
//! time), then idle — for the next task, and switches to it. The tick
//! charges the running task and may ask for a reschedule; so may a wakeup
//! of a more urgent task. The reschedule happens at the next preemption
//! point: interrupt return to a preemptible context (kernel preemption,
//! Linux's CONFIG_PREEMPT), return to user mode, `cond_resched()`, or the
//! end of a `preempt_disable()` section.
//!
//! Priorities as Linux counts them: `prio` 0..99 is real-time (lower is
//! more urgent; `prio = 99 - rt_priority`), 100..139 is nice -20..19.
//!
//! # Locking
//! Lock order (see kernel/locking/mod.rs): `WaitQueue` → `RunQueue` →
//! `Task::sched`. Every spinlock disables interrupts, so holding one also
//! keeps the holder from being preempted. Raw `spin::` locks do not: code
//! holding one may be preempted, and a contender then spins until the tick
//! runs the holder again.
#![deny(unsafe_code)]

pub mod completion;
pub mod core;
pub mod fair;
pub mod idle;
pub mod rt;
pub mod syscalls;
pub mod task;
#[cfg(not(test))]
mod tests;
pub mod wait;

#[allow(unused_imports, reason = "cond_resched, try_current: API for long loops and printk")]
pub use self::core::{
    cond_resched, current, irqentry_exit_cond_resched, need_resched, preempt_check_resched,
    preempt_disable, preempt_enable, sched_init, schedule, schedule_tail, scheduler_tick,
    try_current, try_to_wake_up, wake_up_new_task, wake_up_process,
};
pub use self::syscalls::sched_yield;
pub use self::task::Task;

/// Linux: include/linux/sched/prio.h.
pub const MAX_NICE: i32 = 19;
pub const MIN_NICE: i32 = -20;
pub const NICE_WIDTH: i32 = MAX_NICE - MIN_NICE + 1;
pub const MAX_RT_PRIO: i32 = 100;
#[allow(dead_code, reason = "Linux's prio.h, for /proc/PID/stat")]
pub const MAX_PRIO: i32 = MAX_RT_PRIO + NICE_WIDTH;
pub const DEFAULT_PRIO: i32 = MAX_RT_PRIO + NICE_WIDTH / 2;

/// Linux: `NICE_TO_PRIO`, `PRIO_TO_NICE`.
pub const fn nice_to_prio(nice: i32) -> i32 {
    nice + DEFAULT_PRIO
}

/// Whether `policy` is real-time (Linux: `rt_policy`).
pub const fn rt_policy(policy: u32) -> bool {
    matches!(policy, linux_raw_sys::general::SCHED_FIFO | linux_raw_sys::general::SCHED_RR)
}

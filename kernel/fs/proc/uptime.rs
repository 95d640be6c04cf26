//! /proc/uptime and /proc/loadavg (Linux: fs/proc/uptime.c,
//! fs/proc/loadavg.c).
//!
//! Idle time is what no task ran: the time since boot less every live
//! task's `sum_exec_runtime` (the idle task's own clock is not kept).
//! Load averages stay 0.00 until the scheduler keeps them (Linux:
//! `calc_global_load`).
//!
//! # Locking
//! Each task's `sched` lock in turn, through `for_each_process`.
#![deny(unsafe_code)]

use super::generic::SeqBuf;
use super::root::tgids;
use crate::kernel::errno::KResult;
use crate::kernel::pid::for_each_process;
use crate::kernel::sched::task::TASK_RUNNING;
use crate::kernel::time::{NSEC_PER_SEC, ktime_get_ns};

/// Nanoseconds every live process has run.
pub fn busy_ns() -> u64 {
    let mut sum = 0u64;
    for_each_process(|t| sum = sum.saturating_add(t.sum_exec_runtime()));
    sum
}

/// Nanoseconds since boot and of them idle.
pub fn uptime_and_idle_ns() -> (u64, u64) {
    let now = ktime_get_ns();
    (now, now.saturating_sub(busy_ns()))
}

/// `SEC.CC`, hundredths truncated (Linux's `%lu.%02lu`).
fn secs_centis(ns: u64) -> (u64, u64) {
    (ns / NSEC_PER_SEC, ns % NSEC_PER_SEC / (NSEC_PER_SEC / 100))
}

/// Linux: `uptime_proc_show`.
pub fn uptime_proc_show(m: &mut SeqBuf) -> KResult<()> {
    let (up, idle) = uptime_and_idle_ns();
    let ((us, uc), (is, ic)) = (secs_centis(up), secs_centis(idle));
    m.printf(format_args!("{us}.{uc:02} {is}.{ic:02}\n"))
}

/// (running, total) tasks, for loadavg and /proc/stat.
pub fn nr_running_and_total() -> (u32, u32) {
    let (mut running, mut total) = (0u32, 0u32);
    for_each_process(|t| {
        total += 1;
        if t.state() == TASK_RUNNING && t.exit_state() == 0 {
            running += 1;
        }
    });
    (running.max(1), total)
}

/// Linux: `loadavg_proc_show`; the last PID handed out is the highest
/// live one here (the allocator is cyclic, so the same until it wraps).
pub fn loadavg_proc_show(m: &mut SeqBuf) -> KResult<()> {
    let (running, total) = nr_running_and_total();
    let last_pid = tgids().last().copied().unwrap_or(0);
    m.printf(format_args!("0.00 0.00 0.00 {running}/{total} {last_pid}\n"))
}

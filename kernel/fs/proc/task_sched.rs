//! /proc/PID/sched: one task's scheduling entity, as CFS sees it (Linux:
//! kernel/sched/debug.c `proc_sched_show_task`, fs/proc/base.c `sched_show`).
//!
//! The header `comm (pid, #threads: n)`, a rule, then one `name : value`
//! line per field in Linux 6.1's order and format: times in milliseconds
//! with six decimals (`se.exec_start`, `se.vruntime`,
//! `se.sum_exec_runtime`, from the run queue's nanosecond clock), counts
//! as integers. `se.load.weight` is printed as 64-bit Linux prints it,
//! scaled by 2^10 (`scale_load`: 1048576 for nice 0); Ferrite's CFS keeps
//! the unscaled `sched_prio_to_weight` value (1024). Ferrite keeps no
//! PELT averages (`se.avg.*`), NUMA or schedstats, so those lines are
//! left out rather than printed as zeros; `se.nr_migrations` is 0 because
//! one run queue means no migrations. Writing to the file (Linux: resets
//! the schedstats Ferrite does not keep) is not offered.
//!
//! # Locking
//! The task's `sched` lock, once, to copy its entity; its thread list.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use super::generic::SeqBuf;
use crate::kernel::errno::KResult;
use crate::kernel::pid;
use crate::kernel::sched::Task;
use crate::kernel::sched::task::comm_str;
use crate::kernel::time::ktime_get_ns;

/// Linux: `SPLIT_NS`: milliseconds and the nanoseconds below them.
pub fn split_ns(ns: u64) -> (u64, u64) {
    (ns / 1_000_000, ns % 1_000_000)
}

/// The extra fixed-point bits 64-bit Linux gives load weights
/// (`SCHED_FIXEDPOINT_SHIFT`, `scale_load`).
pub const SCHED_FIXEDPOINT_SHIFT: u32 = 10;

/// Linux: `__PS`: an integer field.
fn ps(m: &mut SeqBuf, name: &str, value: i64) -> KResult<()> {
    m.printf(format_args!("{name:<45}:{value:>21}\n"))
}

/// Linux: `__PSN`: a time in nanoseconds, shown as milliseconds.
fn psn(m: &mut SeqBuf, name: &str, ns: u64) -> KResult<()> {
    let (ms, frac) = split_ns(ns);
    m.printf(format_args!("{name:<45}:{ms:>14}.{frac:06}\n"))
}

/// Linux: `proc_sched_show_task`.
pub fn proc_sched_show_task(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    let ns = m.pid_ns();
    let s = task.sched.lock().clone();
    m.printf(format_args!(
        "{} ({}, #threads: {})\n",
        comm_str(&task.comm()),
        pid::pid_nr_ns(pid::task_pid(task), &ns),
        task.threads().len()
    ))?;
    m.puts(b"-------------------------------------------------------------------\n")?;
    psn(m, "se.exec_start", s.se.exec_start)?;
    psn(m, "se.vruntime", s.se.vruntime)?;
    psn(m, "se.sum_exec_runtime", s.se.sum_exec_runtime)?;
    ps(m, "se.nr_migrations", 0)?;
    let nvcsw = task.nvcsw.load(Ordering::Relaxed);
    let nivcsw = task.nivcsw.load(Ordering::Relaxed);
    let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    ps(m, "nr_switches", signed(nvcsw.saturating_add(nivcsw)))?;
    ps(m, "nr_voluntary_switches", signed(nvcsw))?;
    ps(m, "nr_involuntary_switches", signed(nivcsw))?;
    ps(m, "se.load.weight", signed(s.se.weight << SCHED_FIXEDPOINT_SHIFT))?;
    ps(m, "policy", i64::from(s.policy))?;
    ps(m, "prio", i64::from(s.prio))?;
    // Linux: two reads of the CPU clock in a row, what a read costs.
    let t0 = ktime_get_ns();
    let t1 = ktime_get_ns();
    ps(m, "clock-delta", signed(t1.saturating_sub(t0)))
}

crate::ktest!(proc_pid_sched_format, {
    let task = crate::kernel::sched::current();
    let text = super::generic::render(|m| proc_sched_show_task(&task, m)).map_err(|_| "render")?;
    let text = core::str::from_utf8(&text).map_err(|_| "rendered text is UTF-8")?;
    let weight = text.lines().find(|l| l.starts_with("se.load.weight"));
    crate::kassert!(
        weight.is_some_and(|l| l.len() == 67 && l.ends_with(" 1048576")),
        "nice 0 weight scaled as Linux prints it"
    );
    let vr = text.lines().find(|l| l.starts_with("se.vruntime"));
    crate::kassert!(
        vr.is_some_and(|l| l.len() == 67 && l.as_bytes().get(60) == Some(&b'.')),
        "ms.ns"
    );
    Ok(())
});

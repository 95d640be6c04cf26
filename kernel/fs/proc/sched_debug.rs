//! /proc/sched_debug: every run queue's state and tasks (Linux:
//! kernel/sched/debug.c `sched_debug_header`, `print_cpu`,
//! `print_cfs_rq`, `print_rt_rq`, `print_dl_rq`, `print_rq`,
//! `print_task`).
//!
//! Linux 5.13 moved this file to debugfs (`/sys/kernel/debug/sched/debug`);
//! Ferrite keeps it at its older /proc place, which is where the course
//! notes and Love's book look, in the 6.1 text format. Per CPU: the run
//! queue (`nr_running`, `nr_switches`, `curr->pid`, `clock`), its CFS
//! queue (`min_vruntime`, the leftmost and rightmost keys of the
//! timeline as `MIN_vruntime` and `max_vruntime` — Linux's `-1`, shown as
//! `0.000001`, when the tree is empty — `nr_running`, `load`), its RT and
//! deadline queues, then "runnable tasks:" with Linux's columns: state
//! (`>R` for the running task), comm, PID, tree-key (`vruntime`),
//! switches, prio, and the times. Linux lists a CPU's tasks in process
//! list order; here the running task comes first, then the queued CFS
//! tasks in the timeline's order (the next to run first), then the RT
//! and sleeping ones, so the red-black tree's order can be read off the
//! table. Ferrite keeps no schedstats, so wait-time, sum-sleep and
//! sum-block are 0 as in a Linux built without them; it has no PELT
//! averages, cgroups or NUMA, so those lines and columns are left out.
//! `load` is scaled by 2^10 as 64-bit Linux prints it.
//!
//! # Locking
//! Each run queue's lock once, to copy it out (`rq_debug`); then the
//! process list and each task's `sched` lock, one at a time.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use super::generic::SeqBuf;
use super::task_sched::{SCHED_FIXEDPOINT_SHIFT, split_ns};
use crate::arch::percpu::NR_CPUS;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::pid::{for_each_process, init_pid_ns, pid_nr_ns, task_pid};
use crate::kernel::sched::core::{RqDebug, rq_debug};
use crate::kernel::sched::fair::{
    SYSCTL_SCHED_LATENCY, SYSCTL_SCHED_MIN_GRANULARITY, SYSCTL_SCHED_WAKEUP_GRANULARITY,
};
use crate::kernel::sched::task::comm_str;
use crate::kernel::sched::{Task, rt_policy};
use crate::kernel::time::ktime_get_ns;

/// Linux: `print_cpu`'s `P` and `PN` (`"  .%-30s: %Ld"`).
fn p(m: &mut SeqBuf, name: &str, value: u64) -> KResult<()> {
    m.printf(format_args!("  .{name:<30}: {value}\n"))
}

fn pn(m: &mut SeqBuf, name: &str, ns: u64) -> KResult<()> {
    let (ms, frac) = split_ns(ns);
    m.printf(format_args!("  .{name:<30}: {ms}.{frac:06}\n"))
}

/// A timeline key, or Linux's `-1` for an empty tree, which `SPLIT_NS`
/// renders as `0.000001`.
fn pn_or_minus_one(m: &mut SeqBuf, name: &str, ns: Option<u64>) -> KResult<()> {
    match ns {
        Some(ns) => pn(m, name, ns),
        None => m.printf(format_args!("  .{name:<30}: 0.000001\n")),
    }
}

/// Linux: `sched_debug_header`. Ferrite has one clock, the TSC-based
/// monotonic one: `ktime`, `sched_clk` and `cpu_clk` all read it.
fn sched_debug_header(m: &mut SeqBuf) -> KResult<()> {
    let version = crate::kernel::sys::UTS_VERSION;
    m.printf(format_args!(
        "Sched Debug Version: v0.11, {} {}\n",
        crate::kernel::sys::UTS_RELEASE,
        version.split(' ').next().unwrap_or(version)
    ))?;
    for name in ["ktime", "sched_clk", "cpu_clk"] {
        let (ms, frac) = split_ns(ktime_get_ns());
        m.printf(format_args!("{name:<40}: {ms}.{frac:06}\n"))?;
    }
    let jiffies = crate::kernel::time::jiffies::jiffies();
    m.printf(format_args!("{:<40}: {jiffies}\n", "jiffies"))?;
    m.printf(format_args!("{:<40}: 1\n\nsysctl_sched\n", "sched_clock_stable()"))?;
    for (name, ns) in [
        ("sysctl_sched_latency", SYSCTL_SCHED_LATENCY),
        ("sysctl_sched_min_granularity", SYSCTL_SCHED_MIN_GRANULARITY),
        ("sysctl_sched_wakeup_granularity", SYSCTL_SCHED_WAKEUP_GRANULARITY),
    ] {
        let (ms, frac) = split_ns(ns);
        m.printf(format_args!("  .{name:<40}: {ms}.{frac:06}\n"))?;
    }
    m.printf(format_args!("  .{:<40}: 0\n", "sysctl_sched_child_runs_first"))
}

/// Linux: `print_cpu`'s run-queue lines and `print_cfs_rq`, `print_rt_rq`,
/// `print_dl_rq`.
fn print_rq_fields(m: &mut SeqBuf, cpu: usize, rq: &RqDebug) -> KResult<()> {
    let khz = crate::kernel::time::tsc_khz();
    m.printf(format_args!("\ncpu#{cpu}, {}.{:03} MHz\n", khz / 1000, khz % 1000))?;
    p(m, "nr_running", u64::from(rq.nr_running))?;
    p(m, "nr_switches", rq.nr_switches)?;
    let curr = rq.curr.as_ref().map_or(0, |t| pid_nr_ns(task_pid(t), init_pid_ns()));
    m.printf(format_args!("  .{:<30}: {curr}\n", "curr->pid"))?;
    pn(m, "clock", rq.clock)?;
    let cfs = &rq.cfs;
    m.printf(format_args!("\ncfs_rq[{cpu}]:/\n"))?;
    pn_or_minus_one(m, "MIN_vruntime", cfs.leftmost_vruntime)?;
    pn(m, "min_vruntime", cfs.min_vruntime)?;
    pn_or_minus_one(m, "max_vruntime", cfs.rightmost_vruntime)?;
    let spread = match (cfs.leftmost_vruntime, cfs.rightmost_vruntime) {
        (Some(left), Some(right)) => right.saturating_sub(left),
        _ => 0,
    };
    pn(m, "spread", spread)?;
    p(m, "nr_running", cfs.nr_running)?;
    p(m, "h_nr_running", cfs.nr_running)?;
    p(m, "load", cfs.load << SCHED_FIXEDPOINT_SHIFT)?;
    m.printf(format_args!("\nrt_rq[{cpu}]:\n"))?;
    p(m, "rt_nr_running", u64::from(rq.rt_nr_running))?;
    m.printf(format_args!("\ndl_rq[{cpu}]:\n"))?;
    p(m, "dl_nr_running", 0)
}

/// Linux: `print_task`.
fn print_task(m: &mut SeqBuf, task: &Task, running: bool) -> KResult<()> {
    let s = task.sched.lock().clone();
    let switches = task.nvcsw.load(Ordering::Relaxed) + task.nivcsw.load(Ordering::Relaxed);
    if running {
        m.puts(b">R")?;
    } else {
        m.printf(format_args!(" {}", task.state_char()))?;
    }
    let (vr_ms, vr_ns) = split_ns(s.se.vruntime);
    let (ex_ms, ex_ns) = split_ns(s.se.sum_exec_runtime);
    m.printf(format_args!(
        " {:>15} {:>5} {vr_ms:>9}.{vr_ns:06} {switches:>9} {:>5} ",
        comm_str(&task.comm()),
        pid_nr_ns(task_pid(task), init_pid_ns()),
        s.prio
    ))?;
    m.printf(format_args!(
        "{:>9}.{:06} {ex_ms:>9}.{ex_ns:06} {:>9}.{:06} {:>9}.{:06}\n",
        0, 0, 0, 0, 0, 0
    ))
}

/// The tasks on `cpu`, the running one first, then the CFS timeline in
/// order, then the rest in process-list order.
fn tasks_in_order(cpu: usize, rq: &RqDebug) -> KResult<Vec<Arc<Task>>> {
    let mut all: Vec<Arc<Task>> = Vec::new();
    let mut failed = false;
    for_each_process(|leader| {
        for t in leader.threads() {
            if t.cpu() == cpu && all.try_reserve(1).is_ok() {
                all.push(t);
            } else if t.cpu() == cpu {
                failed = true;
            }
        }
    });
    if failed {
        return Err(Errno::ENOMEM);
    }
    let rank = |t: &Task| -> (u8, usize) {
        if rq.curr.as_ref().is_some_and(|c| core::ptr::eq(Arc::as_ptr(c), t)) {
            return (0, 0);
        }
        if let Some(i) = rq.cfs.timeline.iter().position(|&serial| serial == t.serial) {
            return (1, i);
        }
        (if rt_policy(t.sched.lock().policy) { 2 } else { 3 }, 0)
    };
    all.sort_by_cached_key(|t| rank(t));
    Ok(all)
}

/// Linux: `print_rq`.
fn print_rq(m: &mut SeqBuf, cpu: usize, rq: &RqDebug) -> KResult<()> {
    m.puts(b"\nrunnable tasks:\n")?;
    m.puts(b" S            task   PID         tree-key  switches  prio     wait-time             sum-exec        sum-sleep\n")?;
    m.puts(b"-------------------------------------------------------------------------------------------------------------\n")?;
    for task in tasks_in_order(cpu, rq)? {
        let running = rq.curr.as_ref().is_some_and(|c| Arc::ptr_eq(c, &task));
        print_task(m, &task, running)?;
    }
    Ok(())
}

/// /proc/sched_debug (Linux: `sched_debug_show`).
pub fn sched_debug_show(m: &mut SeqBuf) -> KResult<()> {
    sched_debug_header(m)?;
    for cpu in 0..NR_CPUS {
        let rq = rq_debug(cpu);
        if rq.curr.is_none() {
            continue; // a CPU that never ran the scheduler
        }
        print_rq_fields(m, cpu, &rq)?;
        print_rq(m, cpu, &rq)?;
    }
    Ok(())
}

crate::ktest!(proc_sched_debug_lists_current, {
    let text = super::generic::render(sched_debug_show).map_err(|_| "render")?;
    let text = core::str::from_utf8(&text).map_err(|_| "rendered text is UTF-8")?;
    kassert_lines(text)
});

fn kassert_lines(text: &str) -> Result<(), &'static str> {
    crate::kassert!(text.starts_with("Sched Debug Version: v0.11, "), "header");
    crate::kassert!(text.contains("\ncpu#0, ") && text.contains(" MHz\n  .nr_running"), "cpu#0");
    crate::kassert!(text.contains("\ncfs_rq[0]:/\n  .MIN_vruntime"), "cfs_rq block");
    let running = text.lines().filter(|l| l.starts_with(">R")).count();
    crate::kassert!(running == 1, "one running task on cpu 0");
    Ok(())
}

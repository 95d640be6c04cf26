//! Softirq numbers and their per-CPU counts (Linux: kernel/softirq.c
//! `softirq_to_name`, `kstat_incr_softirqs_this_cpu`,
//! include/linux/interrupt.h `enum { HI_SOFTIRQ, ... }`).
//!
//! Ferrite runs its deferred interrupt work inline for now: the tick's
//! expired timers run at the end of the timer interrupt rather than in a
//! `TIMER_SOFTIRQ` handler, and there is no ksoftirqd. What Linux would
//! raise is still counted where it happens, so /proc/softirqs and the
//! `softirq` line of /proc/stat show what a Linux reader expects to find:
//! `TIMER` once per tick that found a timer due (Linux's
//! `run_local_timers` raises it exactly then). The other vectors have no
//! work in Ferrite yet (no network stack, block completions run in the
//! hard interrupt, no RCU, tasklets, hrtimers or load balancing) and read
//! 0 until a subsystem counts them here.
//!
//! # Locking
//! None: the counts are per-CPU atomics.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::percpu::{NR_CPUS, this_cpu};

/// Linux: the `*_SOFTIRQ` numbers.
#[allow(dead_code, reason = "Linux's full numbering; only TIMER is raised so far")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoftirqNr {
    Hi = 0,
    Timer,
    NetTx,
    NetRx,
    Block,
    IrqPoll,
    Tasklet,
    Sched,
    Hrtimer,
    Rcu,
}

/// Linux: `NR_SOFTIRQS`.
pub const NR_SOFTIRQS: usize = 10;

/// Linux: `softirq_to_name`.
pub const SOFTIRQ_TO_NAME: [&str; NR_SOFTIRQS] =
    ["HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"];

/// Linux: `kstat_cpu(cpu).softirqs[nr]`.
static SOFTIRQS: [[AtomicU64; NR_SOFTIRQS]; NR_CPUS] =
    [const { [const { AtomicU64::new(0) }; NR_SOFTIRQS] }; NR_CPUS];

/// Counts one run of softirq `nr` on this CPU.
pub fn kstat_incr_softirqs_this_cpu(nr: SoftirqNr) {
    if let Some(cpu) = SOFTIRQS.get(this_cpu().cpu()) {
        cpu[nr as usize].fetch_add(1, Ordering::Relaxed);
    }
}

/// Linux: `kstat_softirqs_cpu`; vector numbers past the table read 0.
pub fn kstat_softirqs_cpu(nr: usize, cpu: usize) -> u64 {
    SOFTIRQS.get(cpu).and_then(|c| c.get(nr)).map_or(0, |c| c.load(Ordering::Relaxed))
}

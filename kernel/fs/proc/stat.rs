//! /proc/stat: system-wide counters (Linux: fs/proc/stat.c `show_stat`).
//!
//! CPU times in USER_HZ ticks: everything tasks ran is counted as user
//! time (Ferrite does not split user and system time yet), the rest as
//! idle. `intr` gives the total then one count per vector; `processes` is
//! the last PID handed out (forks since boot, until PIDs wrap).
//!
//! # Locking
//! The process list and each task's `sched` lock, in turn.
#![deny(unsafe_code)]

use super::array::nsec_to_clock_t;
use super::generic::SeqBuf;
use super::interrupts::irq_counts;
use super::root::tgids;
use super::uptime::{nr_running_and_total, uptime_and_idle_ns};
use crate::kernel::errno::KResult;
use crate::kernel::pid::for_each_process;
use crate::kernel::time::{NSEC_PER_SEC, posix::ktime_get_real_ns};

/// Linux: `show_stat`.
pub fn show_stat(m: &mut SeqBuf) -> KResult<()> {
    let (up, idle) = uptime_and_idle_ns();
    let (user, idle) = (nsec_to_clock_t(up - idle), nsec_to_clock_t(idle));
    for cpu in ["cpu ", "cpu0"] {
        m.printf(format_args!("{cpu} {user} 0 0 {idle} 0 0 0 0 0 0\n"))?;
    }
    let (sum, counts) = irq_counts();
    m.printf(format_args!("intr {sum}"))?;
    for count in counts {
        m.printf(format_args!(" {count}"))?;
    }
    let mut ctxt = 0u64;
    let mut blocked = 0u32;
    for_each_process(|t| {
        ctxt += t.nvcsw.load(core::sync::atomic::Ordering::Relaxed)
            + t.nivcsw.load(core::sync::atomic::Ordering::Relaxed);
        blocked += u32::from(t.state_char() == 'D');
    });
    let btime = (ktime_get_real_ns() - up.min(ktime_get_real_ns())) / NSEC_PER_SEC;
    let (running, _) = nr_running_and_total();
    let processes = tgids().last().copied().unwrap_or(0);
    m.printf(format_args!(
        "\nctxt {ctxt}\nbtime {btime}\nprocesses {processes}\nprocs_running {running}\n\
         procs_blocked {blocked}\n"
    ))?;
    super::softirqs::softirq_stat_line(m)
}

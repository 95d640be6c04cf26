//! /proc/softirqs: how often each softirq ran on each CPU (Linux:
//! fs/proc/softirqs.c `show_softirqs`).
//!
//! A header of CPU columns, then one line per softirq vector in Linux's
//! order, the name right-aligned in 12 columns. The counts are
//! kernel/softirq.rs's, which says what Ferrite counts so far (`TIMER`).
//!
//! # Locking
//! None: the counts are atomics.
#![deny(unsafe_code)]

use super::generic::SeqBuf;
use crate::kernel::errno::KResult;
use crate::kernel::softirq::{SOFTIRQ_TO_NAME, kstat_softirqs_cpu};

/// The CPUs shown: the online ones (one, until SMP bring-up).
const ONLINE_CPUS: usize = 1;

/// Linux: `show_softirqs`.
pub fn show_softirqs(m: &mut SeqBuf) -> KResult<()> {
    m.puts(b"                    ")?;
    for cpu in 0..ONLINE_CPUS {
        m.printf(format_args!("CPU{cpu:<8}"))?;
    }
    m.puts(b"\n")?;
    for (nr, name) in SOFTIRQ_TO_NAME.iter().enumerate() {
        m.printf(format_args!("{name:>12}:"))?;
        for cpu in 0..ONLINE_CPUS {
            m.printf(format_args!(" {:>10}", kstat_softirqs_cpu(nr, cpu)))?;
        }
        m.puts(b"\n")?;
    }
    Ok(())
}

/// The `softirq` line of /proc/stat: the total, then each vector's sum
/// over the CPUs (Linux: `show_stat`).
pub fn softirq_stat_line(m: &mut SeqBuf) -> KResult<()> {
    let per_vector =
        |nr: usize| (0..ONLINE_CPUS).map(|cpu| kstat_softirqs_cpu(nr, cpu)).sum::<u64>();
    let total: u64 = (0..SOFTIRQ_TO_NAME.len()).map(per_vector).sum();
    m.printf(format_args!("softirq {total}"))?;
    for nr in 0..SOFTIRQ_TO_NAME.len() {
        m.printf(format_args!(" {}", per_vector(nr)))?;
    }
    m.puts(b"\n")
}

//! Self-tests of the scheduler that need several threads: fairness, nice
//! weights, real-time before fair, and preemption by the tick.
//!
//! Linux: tools/testing/selftests/sched/ in spirit. Tolerances are wide:
//! under TCG the tick is the only preemption clock and the host steals
//! time.
//!
//! # Locking
//! None beyond what the APIs under test take.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use linux_raw_sys::general::SCHED_FIFO;

use super::syscalls::{sched_setscheduler, set_user_nice};
use super::{preempt_disable, preempt_enable, wake_up_process};
use crate::kernel::kthread::{kthread_create, kthread_run, kthread_stop};
use crate::kernel::time::{NSEC_PER_MSEC, ktime_get_ns};

/// When the busy threads of a fairness test stop.
static DEADLINE_NS: AtomicU64 = AtomicU64::new(0);
/// How many test threads have run their function to the end.
static FINISHED: AtomicU32 = AtomicU32::new(0);

fn busy_until_deadline() -> i32 {
    while ktime_get_ns() < DEADLINE_NS.load(Ordering::Relaxed) {
        core::hint::spin_loop();
    }
    FINISHED.fetch_add(1, Ordering::SeqCst);
    0
}

/// Yields until `n` test threads have finished their functions: a
/// `kthread_stop` before a thread first runs would skip its function.
fn wait_finished(n: u32) {
    while FINISHED.load(Ordering::SeqCst) < n {
        super::sched_yield();
    }
}

/// Runs two busy threads at `nice_a` and `nice_b` for `window_ms` while
/// the caller sleeps; returns their runtimes in ns.
fn run_pair(nice_a: i32, nice_b: i32, window_ms: u64) -> Result<(u64, u64), &'static str> {
    let a = kthread_create(busy_until_deadline, "ktest-cfs-a").map_err(|_| "create a")?;
    let b = kthread_create(busy_until_deadline, "ktest-cfs-b").map_err(|_| "create b")?;
    set_user_nice(&a, nice_a);
    set_user_nice(&b, nice_b);
    DEADLINE_NS.store(ktime_get_ns() + window_ms * NSEC_PER_MSEC, Ordering::Relaxed);
    FINISHED.store(0, Ordering::SeqCst);
    preempt_disable();
    wake_up_process(&a);
    wake_up_process(&b);
    preempt_enable();
    wait_finished(2);
    kthread_stop(&a);
    kthread_stop(&b);
    Ok((a.sum_exec_runtime(), b.sum_exec_runtime()))
}

crate::ktest!(cfs_equal_nice_equal_share, {
    let (a, b) = run_pair(0, 0, 300)?;
    crate::pr_info!(
        "ktest: cfs nice 0/0 runtimes {} ms / {} ms",
        a / NSEC_PER_MSEC,
        b / NSEC_PER_MSEC
    );
    crate::kassert!(a > 0 && b > 0, "both ran");
    crate::kassert!(a < 2 * b && b < 2 * a, "equal weights get about equal time");
    Ok(())
});

crate::ktest!(cfs_nice_5_gets_a_third, {
    let (a, b) = run_pair(0, 5, 500)?;
    crate::pr_info!(
        "ktest: cfs nice 0/5 runtimes {} ms / {} ms",
        a / NSEC_PER_MSEC,
        b / NSEC_PER_MSEC
    );
    // 1024:335 is 3.06:1.
    crate::kassert!(b > 0, "nice 5 still runs");
    crate::kassert!(a * 10 > b * 18 && a * 10 < b * 60, "about the 1024:335 weight ratio");
    Ok(())
});

crate::ktest!(rt_fifo_runs_before_cfs, {
    static ORDER: AtomicU32 = AtomicU32::new(0);
    static RT_AT: AtomicU32 = AtomicU32::new(0);
    static CFS_AT: AtomicU32 = AtomicU32::new(0);
    ORDER.store(0, Ordering::SeqCst);
    let cfs = kthread_create(
        || {
            CFS_AT.store(ORDER.fetch_add(1, Ordering::SeqCst), Ordering::SeqCst);
            FINISHED.fetch_add(1, Ordering::SeqCst);
            0
        },
        "ktest-cfs",
    )
    .map_err(|_| "create cfs")?;
    let rt = kthread_create(
        || {
            RT_AT.store(ORDER.fetch_add(1, Ordering::SeqCst), Ordering::SeqCst);
            FINISHED.fetch_add(1, Ordering::SeqCst);
            0
        },
        "ktest-fifo",
    )
    .map_err(|_| "create rt")?;
    sched_setscheduler(&rt, SCHED_FIFO, 50).map_err(|_| "SCHED_FIFO")?;
    FINISHED.store(0, Ordering::SeqCst);
    preempt_disable();
    wake_up_process(&cfs); // woken first, yet runs second
    wake_up_process(&rt);
    preempt_enable();
    wait_finished(2);
    kthread_stop(&cfs);
    kthread_stop(&rt);
    crate::kassert!(RT_AT.load(Ordering::SeqCst) == 0, "the FIFO thread ran first");
    crate::kassert!(CFS_AT.load(Ordering::SeqCst) == 1, "then the CFS one");
    Ok(())
});

crate::ktest!(tick_preempts_a_busy_thread, {
    static STARTED: AtomicBool = AtomicBool::new(false);
    static GO: AtomicBool = AtomicBool::new(false);
    STARTED.store(false, Ordering::SeqCst);
    GO.store(false, Ordering::SeqCst);
    let spinner = kthread_run(
        || {
            STARTED.store(true, Ordering::SeqCst);
            // Never yields: only the tick can give the CPU back.
            while !GO.load(Ordering::SeqCst) {
                core::hint::spin_loop();
            }
            0
        },
        "ktest-spinner",
    )
    .map_err(|_| "kthread_run")?;
    while !STARTED.load(Ordering::SeqCst) {
        core::hint::spin_loop();
    }
    // We run again while the spinner spins: the tick preempted it.
    GO.store(true, Ordering::SeqCst);
    kthread_stop(&spinner);
    crate::kassert!(spinner.nivcsw.load(Ordering::Relaxed) > 0, "it was preempted, not yielding");
    Ok(())
});

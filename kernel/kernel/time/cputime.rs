//! CPU-time accounting: which task the tick charges, user or system time,
//! per thread and per thread group; the times of reaped children; and
//! `RLIMIT_CPU`.
//!
//! Linux: kernel/sched/cputime.c (`account_process_tick`,
//! `account_user_time`, `account_system_time`, `thread_group_cputime`,
//! `cputime_adjust`, `task_cputime_adjusted`), kernel/exit.c (the
//! accumulation in `__exit_signal` and `wait_task_zombie`),
//! kernel/time/posix-cpu-timers.c (`check_process_timers`' RLIMIT_CPU).
//!
//! Tick-based accounting (Linux: `CONFIG_TICK_CPU_ACCOUNTING`): every tick
//! charges a whole `TICK_NSEC` to the running task, as user time if the
//! interrupt came from ring 3, else as system time. Those samples only
//! give the split; the total is the scheduler's exact `sum_exec_runtime`,
//! which `cputime_adjust` divides in the sampled ratio for getrusage and
//! times, never letting either part go backwards.
//!
//! The group's tick totals (`GroupCputime::utime_ns/stime_ns`) count every
//! thread, live or dead, so the interval timers read them without walking
//! the threads (Linux: `signal->cputimer`). A thread's exact runtime joins
//! `dead_sum_exec` when it exits (Linux: `sig->sum_sched_runtime`).
//!
//! # Locking
//! Counters are atomics. `prev` (the last adjusted split) is a leaf
//! spinlock. The tick sends SIGXCPU/SIGKILL with no lock of ours held.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use linux_raw_sys::general::RLIMIT_CPU;

use super::NSEC_PER_SEC;
use super::tick::TICK_NSEC;
use crate::kernel::locking::SpinLock;
use crate::kernel::resource::RLIM_INFINITY;
use crate::kernel::sched::task::PF_EXITING;
use crate::kernel::sched::{Task, try_current};
use crate::kernel::signal::{SendTo, SigInfo, Signal, send_signal};

/// User, system and exact run time in nanoseconds (Linux: `struct
/// task_cputime`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cputime {
    pub utime: u64,
    pub stime: u64,
    pub sum_exec_runtime: u64,
}

/// The last (user, system) split `cputime_adjust` reported (Linux:
/// `struct prev_cputime`).
struct PrevCputime(SpinLock<(u64, u64)>);

impl Default for PrevCputime {
    fn default() -> Self {
        Self(SpinLock::new((0, 0)))
    }
}

/// A thread's tick samples (Linux: `task_struct::utime`, `stime`,
/// `prev_cputime`).
#[derive(Default)]
pub struct TaskCputime {
    pub utime_ns: AtomicU64,
    pub stime_ns: AtomicU64,
    /// Exit folded this thread into its group's dead totals.
    exited: AtomicBool,
    prev: PrevCputime,
}

/// A thread group's times (Linux: the accounting fields of
/// `signal_struct`).
#[derive(Default)]
pub struct GroupCputime {
    /// Ticks of every thread, live and dead (Linux: `cputimer.cputime_atomic`).
    pub utime_ns: AtomicU64,
    pub stime_ns: AtomicU64,
    /// What exited threads leave behind (Linux: `sum_sched_runtime`,
    /// `nvcsw`, `nivcsw`, `maxrss`).
    dead_sum_exec: AtomicU64,
    dead_nvcsw: AtomicU64,
    dead_nivcsw: AtomicU64,
    /// Page faults of exited threads (Linux: `min_flt`, `maj_flt`).
    dead_min_flt: AtomicU64,
    dead_maj_flt: AtomicU64,
    pub maxrss_kib: AtomicU64,
    /// Reaped children and their reaped children (Linux: `cutime`,
    /// `cstime`, `cnvcsw`, `cnivcsw`, `cmin_flt`, `cmaj_flt`, `cmaxrss`).
    pub cutime_ns: AtomicU64,
    pub cstime_ns: AtomicU64,
    pub cnvcsw: AtomicU64,
    pub cnivcsw: AtomicU64,
    pub cmin_flt: AtomicU64,
    pub cmaj_flt: AtomicU64,
    pub cmaxrss_kib: AtomicU64,
    prev: PrevCputime,
}

/// Charges the tick to the running task (Linux: `account_process_tick`),
/// then fires what the charge makes due: the CPU interval timers and
/// `RLIMIT_CPU` (Linux: `run_posix_cpu_timers`). In the tick's interrupt.
pub fn account_process_tick(user_tick: bool) {
    let Some(tsk) = try_current() else { return };
    if tsk.is_idle() {
        return; // Linux: account_idle_time
    }
    let counter = if user_tick { &tsk.cputime.utime_ns } else { &tsk.cputime.stime_ns };
    counter.fetch_add(TICK_NSEC, Ordering::Relaxed);
    if tsk.is_kthread() {
        return; // no user space to signal
    }
    let group = tsk.thread_group();
    let g = &group.cputime;
    let counter = if user_tick { &g.utime_ns } else { &g.stime_ns };
    counter.fetch_add(TICK_NSEC, Ordering::Relaxed);
    let virt = g.utime_ns.load(Ordering::Relaxed);
    let prof = virt + g.stime_ns.load(Ordering::Relaxed);
    group.itimers.check_cpu_itimers(&tsk, virt, prof);
    check_rlimit_cpu(&tsk, prof);
}

/// SIGKILL at the hard `RLIMIT_CPU`; SIGXCPU at the soft one, which then
/// moves on a second so that the next comes a second later (Linux:
/// `check_process_timers`, `check_rlimit`).
fn check_rlimit_cpu(tsk: &Arc<Task>, prof_ns: u64) {
    let sig = {
        let mut rlim = tsk.rlim().lock();
        let Some(lim) = rlim.get_mut(RLIMIT_CPU as usize) else { return };
        if lim.cur == RLIM_INFINITY {
            return;
        }
        if lim.max != RLIM_INFINITY && prof_ns >= lim.max.saturating_mul(NSEC_PER_SEC) {
            Signal::SIGKILL
        } else if prof_ns >= lim.cur.saturating_mul(NSEC_PER_SEC) {
            lim.cur += 1;
            Signal::SIGXCPU
        } else {
            return;
        }
    };
    send_signal(SigInfo::kernel(sig), tsk, SendTo::Group, false);
}

/// Splits the exact runtime `rtime` in the ratio of the tick samples,
/// never below the previous answer (Linux: `cputime_adjust`).
fn cputime_adjust(curr: Cputime, prev: &PrevCputime) -> (u64, u64) {
    let mut prev = prev.0.lock();
    let rtime = curr.sum_exec_runtime;
    if prev.0 + prev.1 >= rtime {
        return *prev;
    }
    let mut stime = match (curr.utime, curr.stime) {
        (_, 0) => 0,
        (0, _) => rtime,
        (u, s) => {
            let scaled = u128::from(s) * u128::from(rtime) / u128::from(u + s);
            u64::try_from(scaled).unwrap_or(rtime)
        }
    };
    stime = stime.max(prev.1).min(rtime);
    let mut utime = rtime - stime;
    if utime < prev.0 {
        utime = prev.0;
        stime = rtime - utime;
    }
    *prev = (utime, stime);
    *prev
}

/// One thread's (user, system) nanoseconds (Linux: `task_cputime_adjusted`).
pub fn task_cputime_adjusted(t: &Task) -> (u64, u64) {
    let c = Cputime {
        utime: t.cputime.utime_ns.load(Ordering::Relaxed),
        stime: t.cputime.stime_ns.load(Ordering::Relaxed),
        sum_exec_runtime: t.sum_exec_runtime(),
    };
    cputime_adjust(c, &t.cputime.prev)
}

/// The live threads that have not yet folded their times into the group.
fn live_threads(t: &Arc<Task>) -> impl Iterator<Item = Arc<Task>> {
    t.threads().into_iter().filter(|t| !t.cputime.exited.load(Ordering::Relaxed))
}

/// The whole group's times, dead threads included (Linux:
/// `thread_group_cputime`).
pub fn thread_group_cputime(t: &Arc<Task>) -> Cputime {
    let g = &t.thread_group().cputime;
    let live: u64 = live_threads(t).map(|t| t.sum_exec_runtime()).sum();
    Cputime {
        utime: g.utime_ns.load(Ordering::Relaxed),
        stime: g.stime_ns.load(Ordering::Relaxed),
        sum_exec_runtime: g.dead_sum_exec.load(Ordering::Relaxed) + live,
    }
}

/// Linux: `thread_group_cputime_adjusted`.
pub fn thread_group_cputime_adjusted(t: &Arc<Task>) -> (u64, u64) {
    cputime_adjust(thread_group_cputime(t), &t.thread_group().cputime.prev)
}

/// The group's (voluntary, involuntary) context switches, dead threads
/// included.
pub fn thread_group_csw(t: &Arc<Task>) -> (u64, u64) {
    let g = &t.thread_group().cputime;
    live_threads(t).fold(
        (g.dead_nvcsw.load(Ordering::Relaxed), g.dead_nivcsw.load(Ordering::Relaxed)),
        |(v, i), t| (v + t.nvcsw.load(Ordering::Relaxed), i + t.nivcsw.load(Ordering::Relaxed)),
    )
}

/// The group's (minor, major) page faults, dead threads included (Linux:
/// the `min_flt`/`maj_flt` sums of `do_task_stat` and `getrusage`).
pub fn thread_group_faults(t: &Arc<Task>) -> (u64, u64) {
    let g = &t.thread_group().cputime;
    live_threads(t).fold(
        (g.dead_min_flt.load(Ordering::Relaxed), g.dead_maj_flt.load(Ordering::Relaxed)),
        |(mi, ma), t| {
            (mi + t.min_flt.load(Ordering::Relaxed), ma + t.maj_flt.load(Ordering::Relaxed))
        },
    )
}

/// The resident set of `t`'s address space in KiB (Linux: `get_mm_rss`
/// in `setmax_mm_hiwater_rss`; Ferrite keeps no high-water mark, so this
/// is the size now).
pub fn mm_rss_kib(t: &Task) -> u64 {
    t.mm.lock().as_ref().map_or(0, |mm| mm.rss() * 4)
}

/// The accounting part of `do_exit` for the exiting `tsk` (Linux: the
/// `group_dead` branch of `do_exit` and the sums of `__exit_signal`):
/// folds its times into its group, and when the group dies, stops its
/// timers. Call after `PF_EXITING` is set, before the mm goes.
pub fn exit_cputime(tsk: &Arc<Task>) {
    let group = tsk.thread_group();
    let g = &group.cputime;
    if !tsk.cputime.exited.swap(true, Ordering::Relaxed) {
        g.dead_sum_exec.fetch_add(tsk.sum_exec_runtime(), Ordering::Relaxed);
        g.dead_nvcsw.fetch_add(tsk.nvcsw.load(Ordering::Relaxed), Ordering::Relaxed);
        g.dead_nivcsw.fetch_add(tsk.nivcsw.load(Ordering::Relaxed), Ordering::Relaxed);
        g.dead_min_flt.fetch_add(tsk.min_flt.load(Ordering::Relaxed), Ordering::Relaxed);
        g.dead_maj_flt.fetch_add(tsk.maj_flt.load(Ordering::Relaxed), Ordering::Relaxed);
        g.maxrss_kib.fetch_max(mm_rss_kib(tsk), Ordering::Relaxed);
    }
    let group_dead =
        tsk.threads().iter().all(|t| Arc::ptr_eq(t, tsk) || t.flags() & PF_EXITING != 0);
    if group_dead {
        group.itimers.cancel_real_timer();
        super::posix_timers::exit_itimers(tsk);
    }
}

/// Adds the reaped `child`'s group times, and those of its own reaped
/// children, to the waiter's group (Linux: `wait_task_zombie`).
pub fn wait_account_child(waiter: &Task, child: &Arc<Task>) {
    let (ut, st) = thread_group_cputime_adjusted(child);
    let (nv, niv) = thread_group_csw(child);
    let (min_flt, maj_flt) = thread_group_faults(child);
    let c = &child.thread_group().cputime;
    let p = &waiter.thread_group().cputime;
    let add = |to: &AtomicU64, own: u64, theirs: &AtomicU64| {
        to.fetch_add(own + theirs.load(Ordering::Relaxed), Ordering::Relaxed);
    };
    add(&p.cutime_ns, ut, &c.cutime_ns);
    add(&p.cstime_ns, st, &c.cstime_ns);
    add(&p.cnvcsw, nv, &c.cnvcsw);
    add(&p.cnivcsw, niv, &c.cnivcsw);
    add(&p.cmin_flt, min_flt, &c.cmin_flt);
    add(&p.cmaj_flt, maj_flt, &c.cmaj_flt);
    let maxrss = c.maxrss_kib.load(Ordering::Relaxed).max(c.cmaxrss_kib.load(Ordering::Relaxed));
    p.cmaxrss_kib.fetch_max(maxrss, Ordering::Relaxed);
}

crate::ktest!(cputime_adjust_splits_runtime, {
    let prev = PrevCputime::default();
    let c = Cputime { utime: 3 * TICK_NSEC, stime: TICK_NSEC, sum_exec_runtime: 1000 };
    crate::kassert!(cputime_adjust(c, &prev) == (750, 250), "split 3:1");
    let c = Cputime { utime: 3 * TICK_NSEC, stime: 3 * TICK_NSEC, sum_exec_runtime: 1200 };
    let (u, s) = cputime_adjust(c, &prev);
    crate::kassert!(u >= 750 && s >= 250 && u + s == 1200, "never backwards");
    let c = Cputime { utime: 0, stime: 0, sum_exec_runtime: 1100 };
    crate::kassert!(cputime_adjust(c, &prev) == (u, s), "a smaller total keeps the last");
    let fresh = PrevCputime::default();
    let c = Cputime { utime: 0, stime: 0, sum_exec_runtime: 500 };
    crate::kassert!(cputime_adjust(c, &fresh) == (500, 0), "no samples: all user");
    Ok(())
});

//! Resource usage as programs read it: `getrusage` and `times`.
//!
//! Linux: kernel/sys.c (`getrusage`, `sys_getrusage`, `do_sys_times`,
//! `sys_times`), include/linux/jiffies.h (`jiffies_64_to_clock_t`,
//! `nsec_to_clock_t`), include/uapi/linux/resource.h (`struct rusage`).
//!
//! The times come from the accounting in time/cputime.rs: a thread's own,
//! its group's (dead threads included), and reaped children's. Clock ticks
//! for `times` are `USER_HZ` = 100 per second, whatever `HZ` is.
//! Page faults come from mm/memory.rs's accounting in the same three
//! ways; the I/O, IPC, signal and swap counts are not kept and read 0;
//! `ru_maxrss` is the largest resident size seen at exit or now, in KiB.
//!
//! # Locking
//! None of its own: reads atomics and the accounting's leaf locks.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use linux_raw_sys::general::{RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_THREAD};

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::{Task, current};
use crate::kernel::syscall::args::UserPtr;
use crate::kernel::time::cputime::{
    mm_rss_kib, task_cputime_adjusted, thread_group_cputime_adjusted, thread_group_csw,
    thread_group_faults,
};
use crate::kernel::time::tick::TICK_NSEC;
use crate::kernel::time::{NSEC_PER_SEC, jiffies};

/// Clock ticks per second as user space counts them (Linux: `USER_HZ`).
pub const USER_HZ: u64 = 100;

/// `struct rusage`: two timevals then 14 longs.
pub type Rusage = [i64; 18];
/// `struct tms`: utime, stime, cutime, cstime in `USER_HZ` ticks.
pub type Tms = [i64; 4];

const RU_MAXRSS: usize = 4;
const RU_MINFLT: usize = 8;
const RU_MAJFLT: usize = 9;
const RU_NVCSW: usize = 16;
const RU_NIVCSW: usize = 17;

/// Linux: `nsec_to_clock_t`.
fn nsec_to_clock_t(ns: u64) -> i64 {
    i64::try_from(ns / (NSEC_PER_SEC / USER_HZ)).unwrap_or(i64::MAX)
}

/// Linux: `jiffies_64_to_clock_t`.
fn jiffies_64_to_clock_t(j: u64) -> i64 {
    let ticks = u128::from(j) * u128::from(TICK_NSEC) / u128::from(NSEC_PER_SEC / USER_HZ);
    i64::try_from(ticks).unwrap_or(i64::MAX)
}

fn to_long(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Fills `ru_utime`/`ru_stime` from nanoseconds, microseconds truncated.
fn put_times(r: &mut Rusage, utime: u64, stime: u64) {
    let us = |ns: u64| (to_long(ns / NSEC_PER_SEC), to_long(ns % NSEC_PER_SEC / 1000));
    (r[0], r[1]) = us(utime);
    (r[2], r[3]) = us(stime);
}

/// Who getrusage(2) asks about.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RusageWho {
    SelfGroup,
    Children,
    Thread,
}

/// Linux: `getrusage(p, who, r)`.
pub fn getrusage(p: &Arc<Task>, who: RusageWho) -> Rusage {
    let mut r: Rusage = [0; 18];
    let g = &p.thread_group().cputime;
    let load = |counter: &core::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    let ((utime, stime), (nvcsw, nivcsw), (minflt, majflt), mut maxrss) = match who {
        RusageWho::Thread => (
            task_cputime_adjusted(p),
            (load(&p.nvcsw), load(&p.nivcsw)),
            (load(&p.min_flt), load(&p.maj_flt)),
            load(&g.maxrss_kib),
        ),
        RusageWho::SelfGroup => (
            thread_group_cputime_adjusted(p),
            thread_group_csw(p),
            thread_group_faults(p),
            load(&g.maxrss_kib),
        ),
        RusageWho::Children => (
            (load(&g.cutime_ns), load(&g.cstime_ns)),
            (load(&g.cnvcsw), load(&g.cnivcsw)),
            (load(&g.cmin_flt), load(&g.cmaj_flt)),
            load(&g.cmaxrss_kib),
        ),
    };
    if who != RusageWho::Children {
        maxrss = maxrss.max(mm_rss_kib(p));
    }
    put_times(&mut r, utime, stime);
    r[RU_MAXRSS] = to_long(maxrss);
    r[RU_MINFLT] = to_long(minflt);
    r[RU_MAJFLT] = to_long(majflt);
    r[RU_NVCSW] = to_long(nvcsw);
    r[RU_NIVCSW] = to_long(nivcsw);
    r
}

/// getrusage(2): `RUSAGE_SELF`, `RUSAGE_CHILDREN`, `RUSAGE_THREAD`; any
/// other `who` is `EINVAL`.
pub fn sys_getrusage(who: i32, ru: UserPtr<Rusage>) -> KResult<()> {
    let who = match who {
        RUSAGE_CHILDREN => RusageWho::Children,
        w if u32::try_from(w) == Ok(RUSAGE_SELF) => RusageWho::SelfGroup,
        w if u32::try_from(w) == Ok(RUSAGE_THREAD) => RusageWho::Thread,
        _ => return Err(Errno::EINVAL),
    };
    ru.write(&getrusage(&current(), who))
}

/// times(2): the group's and its reaped children's times in `USER_HZ`
/// ticks at `tbuf` (unless NULL); returns the tick clock (Linux:
/// `sys_times`, `do_sys_times`).
pub fn sys_times(tbuf: UserPtr<Tms>) -> KResult<i64> {
    if !tbuf.is_null() {
        let tsk = current();
        let (u, s) = thread_group_cputime_adjusted(&tsk);
        let g = &tsk.thread_group().cputime;
        let tms = [
            nsec_to_clock_t(u),
            nsec_to_clock_t(s),
            nsec_to_clock_t(g.cutime_ns.load(Ordering::Relaxed)),
            nsec_to_clock_t(g.cstime_ns.load(Ordering::Relaxed)),
        ];
        tbuf.write(&tms)?;
    }
    Ok(jiffies_64_to_clock_t(jiffies()))
}

crate::ktest!(rusage_units, {
    crate::kassert!(nsec_to_clock_t(NSEC_PER_SEC) == 100, "USER_HZ ticks a second");
    crate::kassert!(jiffies_64_to_clock_t(crate::kernel::time::HZ) == 100, "HZ jiffies");
    let mut r: Rusage = [0; 18];
    put_times(&mut r, 1_500_000_999, 2_000);
    crate::kassert!(r[..4] == [1, 500_000, 0, 2], "timevals");
    Ok(())
});

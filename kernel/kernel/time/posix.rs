//! The POSIX clocks user space reads: `clock_gettime`, `clock_getres`,
//! `gettimeofday`, `time`, and the sleeps `nanosleep`/`clock_nanosleep`.
//!
//! Linux: kernel/time/posix-timers.c (`posix_clocks`, `clock_gettime`),
//! kernel/time/posix-stubs.c, kernel/time/time.c (`gettimeofday`,
//! `time`), kernel/time/timekeeping.c (`ktime_get_real_ts64`,
//! `timekeeping_init`), kernel/time/hrtimer.c (`hrtimer_nanosleep`,
//! `do_nanosleep`: here on the tick's timers, see timer.rs).
//!
//! Every clock is the TSC clock (`ktime_get_ns`) plus an offset:
//! `CLOCK_MONOTONIC`/`_RAW`/`BOOTTIME` have none (no NTP slewing, no
//! suspend), `CLOCK_REALTIME` adds the wall-clock time at boot from the
//! CMOS RTC (Linux: `read_persistent_clock64` in `timekeeping_init`),
//! read on first use. The `_COARSE` clocks are rounded down to the tick
//! (Linux: the time of the last tick), with a tick's resolution.
//!
//! # Locking
//! `REAL_OFFSET` is made once (`spin::Once`) and then stepped atomically
//! by settimeofday and its kin (timekeeping.rs); everything else is
//! atomics.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicU64, Ordering};

use linux_raw_sys::general::{
    __kernel_old_timeval, __kernel_timespec, CLOCK_BOOTTIME, CLOCK_MONOTONIC,
    CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME,
    CLOCK_REALTIME_COARSE, CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME, timezone,
};

use super::tick::TICK_NSEC;
use super::timer::schedule_timeout_interruptible;
use super::{NSEC_PER_SEC, ktime_get_ns};
use crate::arch::uaccess::UserAddr;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;
use crate::kernel::sched::task::signal_pending;
use crate::kernel::syscall::args::{FromSyscallArg, UserPtr};

/// A clock a program may name (Linux: the `CLOCK_*` ids of `posix_clocks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockId {
    Realtime,
    Monotonic,
    ProcessCputime,
    ThreadCputime,
    MonotonicRaw,
    RealtimeCoarse,
    MonotonicCoarse,
    Boottime,
    Tai,
}

impl FromSyscallArg for ClockId {
    /// Unknown ids, the alarm clocks and the per-process CPU-clock ids
    /// (negative) are `EINVAL`.
    fn from_arg(raw: u64) -> KResult<Self> {
        Ok(match u32::from_arg(raw)? {
            CLOCK_REALTIME => Self::Realtime,
            CLOCK_MONOTONIC => Self::Monotonic,
            CLOCK_PROCESS_CPUTIME_ID => Self::ProcessCputime,
            CLOCK_THREAD_CPUTIME_ID => Self::ThreadCputime,
            CLOCK_MONOTONIC_RAW => Self::MonotonicRaw,
            CLOCK_REALTIME_COARSE => Self::RealtimeCoarse,
            CLOCK_MONOTONIC_COARSE => Self::MonotonicCoarse,
            CLOCK_BOOTTIME => Self::Boottime,
            CLOCK_TAI => Self::Tai,
            _ => return Err(Errno::EINVAL),
        })
    }
}

/// Wall-clock nanoseconds at monotonic time 0 (Linux: the inverse of
/// `wall_to_monotonic`, `offs_real`), modulo 2^64: a clock set to before
/// the boot's length past the epoch makes it "negative".
static REAL_OFFSET: spin::Once<AtomicU64> = spin::Once::new();

/// Reads the RTC once and fixes the realtime offset (Linux:
/// `timekeeping_init`).
fn real_offset() -> &'static AtomicU64 {
    REAL_OFFSET.call_once(|| {
        let mono = ktime_get_ns();
        let Some(secs) = crate::drivers::rtc::rtc_cmos::rtc_read_time() else {
            crate::pr_warn!("rtc_cmos: no valid time, the clock starts at the epoch");
            return AtomicU64::new(0);
        };
        crate::pr_info!("rtc_cmos: setting system clock to {secs} (seconds since the epoch)");
        AtomicU64::new(secs.saturating_mul(NSEC_PER_SEC).saturating_sub(mono))
    })
}

/// `CLOCK_REALTIME` in nanoseconds since the epoch (Linux: `ktime_get_real_ns`).
pub fn ktime_get_real_ns() -> u64 {
    real_offset().load(Ordering::Relaxed).wrapping_add(ktime_get_ns())
}

/// Steps `CLOCK_REALTIME` to `ns` since the epoch (Linux: the clock part
/// of `do_settimeofday64`); see timekeeping.rs for the checks.
pub fn set_real_ns(ns: u64) {
    real_offset().store(ns.wrapping_sub(ktime_get_ns()), Ordering::Relaxed);
}

/// The CPU time of the current thread, or of its whole process with the
/// dead threads (Linux: `posix_cpu_clock_get`, from `sum_exec_runtime`).
fn cpu_clock_ns(which: ClockId) -> KResult<u64> {
    let tsk = current();
    Ok(match which {
        ClockId::ProcessCputime => super::cputime::thread_group_cputime(&tsk).sum_exec_runtime,
        _ => tsk.sum_exec_runtime(),
    })
}

/// The clock's value in nanoseconds (Linux: `kc->clock_get_timespec`).
pub fn clock_get_ns(which: ClockId) -> KResult<u64> {
    let coarse = |ns: u64| ns - ns % TICK_NSEC;
    Ok(match which {
        ClockId::Realtime | ClockId::Tai => ktime_get_real_ns(),
        ClockId::RealtimeCoarse => coarse(ktime_get_real_ns()),
        ClockId::Monotonic | ClockId::MonotonicRaw | ClockId::Boottime => ktime_get_ns(),
        ClockId::MonotonicCoarse => coarse(ktime_get_ns()),
        ClockId::ProcessCputime | ClockId::ThreadCputime => cpu_clock_ns(which)?,
    })
}

/// The clock's resolution (Linux: `hrtimer_resolution` = 1 ns with high
/// resolution timers, `LOW_RES_NSEC` = a tick for the coarse clocks).
pub fn clock_getres_ns(which: ClockId) -> u64 {
    match which {
        ClockId::RealtimeCoarse | ClockId::MonotonicCoarse => TICK_NSEC,
        _ => 1,
    }
}

/// Nanoseconds as a `timespec`.
pub fn ns_to_timespec(ns: u64) -> __kernel_timespec {
    __kernel_timespec {
        tv_sec: i64::try_from(ns / NSEC_PER_SEC).unwrap_or(i64::MAX),
        tv_nsec: i64::try_from(ns % NSEC_PER_SEC).unwrap_or(0),
    }
}

/// A user `timespec` as nanoseconds: `EINVAL` for a negative second or a
/// nanosecond field outside 0..1e9 (Linux: `timespec64_valid`).
pub fn timespec_to_ns(ts: &__kernel_timespec) -> KResult<u64> {
    let sec = u64::try_from(ts.tv_sec).map_err(|_| Errno::EINVAL)?;
    let nsec = u64::try_from(ts.tv_nsec).map_err(|_| Errno::EINVAL)?;
    if nsec >= NSEC_PER_SEC {
        return Err(Errno::EINVAL);
    }
    Ok(sec.saturating_mul(NSEC_PER_SEC).saturating_add(nsec))
}

/// clock_gettime(2).
pub fn sys_clock_gettime(which: ClockId, tp: UserPtr<__kernel_timespec>) -> KResult<()> {
    tp.write(&ns_to_timespec(clock_get_ns(which)?))
}

/// clock_getres(2): a NULL `tp` only checks the id.
pub fn sys_clock_getres(which: ClockId, tp: UserPtr<__kernel_timespec>) -> KResult<()> {
    if which == ClockId::ProcessCputime || which == ClockId::ThreadCputime {
        cpu_clock_ns(which)?;
    }
    if tp.is_null() {
        return Ok(());
    }
    tp.write(&ns_to_timespec(clock_getres_ns(which)))
}

/// gettimeofday(2): the timezone is what settimeofday last set (UTC at
/// boot, as Linux's `sys_tz`); either pointer may be NULL.
pub fn sys_gettimeofday(tv: UserPtr<__kernel_old_timeval>, tz: UserPtr<timezone>) -> KResult<()> {
    if !tv.is_null() {
        let ts = ns_to_timespec(ktime_get_real_ns());
        tv.write(&__kernel_old_timeval { tv_sec: ts.tv_sec, tv_usec: ts.tv_nsec / 1000 })?;
    }
    if !tz.is_null() {
        tz.write(&super::timekeeping::sys_tz())?;
    }
    Ok(())
}

/// time(2): seconds since the epoch, also stored at `tloc` unless NULL.
pub fn sys_time(tloc: UserPtr<i64>) -> KResult<i64> {
    let now = i64::try_from(ktime_get_real_ns() / NSEC_PER_SEC).unwrap_or(i64::MAX);
    if !tloc.is_null() {
        tloc.write(&now)?;
    }
    Ok(now)
}

/// nanosleep(2) (Linux: `hrtimer_nanosleep` on `CLOCK_MONOTONIC`).
pub fn sys_nanosleep(
    rqtp: UserPtr<__kernel_timespec>,
    rmtp: UserPtr<__kernel_timespec>,
) -> KResult<()> {
    let ns = timespec_to_ns(&rqtp.read()?)?;
    do_nanosleep(ClockId::Monotonic, ktime_get_ns().saturating_add(ns), rmtp)
}

/// clock_nanosleep(2): relative, or absolute with `TIMER_ABSTIME`.
pub fn sys_clock_nanosleep(
    which: ClockId,
    flags: u32,
    rqtp: UserPtr<__kernel_timespec>,
    rmtp: UserPtr<__kernel_timespec>,
) -> KResult<()> {
    let ns = timespec_to_ns(&rqtp.read()?)?;
    // Linux: the CPU-time and coarse clocks have no `nsleep`.
    if matches!(
        which,
        ClockId::ProcessCputime
            | ClockId::ThreadCputime
            | ClockId::MonotonicCoarse
            | ClockId::RealtimeCoarse
    ) {
        return Err(Errno::EINVAL);
    }
    if flags & TIMER_ABSTIME != 0 {
        // An absolute sleep never reports a remainder.
        return do_nanosleep(which, ns, UserPtr::new(UserAddr::new(0)));
    }
    do_nanosleep(which, clock_get_ns(which)?.saturating_add(ns), rmtp)
}

/// Sleeps until `which` reads `deadline_ns` or a signal comes (Linux:
/// `do_nanosleep`). The sleep is on the tick's timers: the jiffies to
/// wait are rounded up, plus one for the part of the current tick gone,
/// so it never ends early; the clock is read again after each wake-up.
///
/// On a signal, the time left goes to `rmtp` (unless NULL) and the call
/// returns `-ERESTART_RESTARTBLOCK`: `EINTR` if a handler runs, else
/// `restart_syscall` sleeps on to the same deadline.
fn do_nanosleep(which: ClockId, deadline_ns: u64, rmtp: UserPtr<__kernel_timespec>) -> KResult<()> {
    let task = current();
    loop {
        let now = clock_get_ns(which)?;
        if now >= deadline_ns {
            return Ok(());
        }
        if signal_pending(&task) {
            if !rmtp.is_null() {
                rmtp.write(&ns_to_timespec(deadline_ns - now))?;
            }
            let restart = move || do_nanosleep(which, deadline_ns, rmtp).map(|()| 0);
            return Err(task.restart_block.set(Box::new(restart)));
        }
        let ticks = (deadline_ns - now).div_ceil(TICK_NSEC).saturating_add(1);
        schedule_timeout_interruptible(ticks);
    }
}

crate::ktest!(posix_clocks, {
    let mono = clock_get_ns(ClockId::Monotonic).map_err(|_| "monotonic")?;
    let real = clock_get_ns(ClockId::Realtime).map_err(|_| "realtime")?;
    crate::kassert!(real > mono && real / NSEC_PER_SEC > 1_577_836_800, "realtime after 2020");
    let coarse = clock_get_ns(ClockId::MonotonicCoarse).map_err(|_| "coarse")?;
    crate::kassert!(coarse <= ktime_get_ns() && coarse % TICK_NSEC == 0, "coarse on a tick");
    crate::kassert!(ClockId::from_arg(12) == Err(Errno::EINVAL), "unknown id");
    crate::kassert!(ClockId::from_arg(u64::MAX) == Err(Errno::EINVAL), "negative id");
    crate::kassert!(clock_getres_ns(ClockId::Monotonic) == 1, "hrtimer resolution");
    let bad = __kernel_timespec { tv_sec: 0, tv_nsec: 1_000_000_000 };
    crate::kassert!(timespec_to_ns(&bad) == Err(Errno::EINVAL), "tv_nsec too big");
    let neg = __kernel_timespec { tv_sec: -1, tv_nsec: 0 };
    crate::kassert!(timespec_to_ns(&neg) == Err(Errno::EINVAL), "negative seconds");
    let ts = ns_to_timespec(3 * NSEC_PER_SEC + 5);
    crate::kassert!(ts.tv_sec == 3 && ts.tv_nsec == 5, "ns_to_timespec");
    Ok(())
});

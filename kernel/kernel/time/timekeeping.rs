//! Setting the time: settimeofday(2), clock_settime(2), adjtimex(2) and
//! clock_adjtime(2), what `date -s`, `hwclock -s` and busybox `adjtimex`
//! call.
//!
//! Linux: kernel/time/time.c (`settimeofday`, `do_sys_settimeofday64`,
//! `adjtimex`), kernel/time/timekeeping.c (`do_settimeofday64`,
//! `timekeeping_inject_offset`, `timekeeping_validate_timex`,
//! `do_adjtimex`), kernel/time/ntp.c (`ntp_clear`, `__do_adjtimex`),
//! kernel/time/posix-timers.c (`clock_settime`, `clock_adjtime`).
//!
//! Setting `CLOCK_REALTIME` steps it (posix.rs `set_real_ns`); the other
//! clocks cannot be set. Ferrite has no NTP discipline: adjtimex keeps
//! and reports the NTP variables a program sets (offset, frequency,
//! status, ...) but does not slew the clock by them; `ADJ_SETOFFSET`
//! steps it. The first timezone settimeofday is given without a time
//! moves the clock by it, as Linux does for an RTC in local time
//! (`hwclock -s` sets the timezone first). Sleeps and timers on `CLOCK_REALTIME` that are already
//! waiting are not re-evaluated when the clock is stepped (Linux's
//! `clock_was_set`).
//!
//! # Locking
//! `NTP` (Linux: `tk_core.lock` around the NTP state) is a leaf spinlock;
//! `SYS_TZ` another.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicBool, Ordering};

use linux_raw_sys::general::{__kernel_old_timeval, __kernel_timespec, CAP_SYS_TIME, timezone};

use super::NSEC_PER_SEC;
use super::posix::{ClockId, ktime_get_real_ns, set_real_ns, timespec_to_ns};
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::syscall::args::UserPtr;

/// Linux: `TIME_SETTOD_SEC_MAX`, `KTIME_SEC_MAX` less 30 years.
const TIME_SETTOD_SEC_MAX: i64 = i64::MAX / 1_000_000_000 - 30 * 365 * 86_400;

/// The timezone settimeofday last set (Linux: `sys_tz`).
static SYS_TZ: SpinLock<(i32, i32)> = SpinLock::new((0, 0));

/// The timezone gettimeofday reports.
pub fn sys_tz() -> timezone {
    let (tz_minuteswest, tz_dsttime) = *SYS_TZ.lock();
    timezone { tz_minuteswest, tz_dsttime }
}

/// No settimeofday has given a timezone yet (Linux: its `firsttime`).
static FIRST_SETTOD: AtomicBool = AtomicBool::new(true);

/// The first timezone set without a time says the RTC, and so the clock
/// read from it at boot, keeps local time: move the clock to UTC (Linux:
/// `timekeeping_warp_clock`, `persistent_clock_is_local`).
fn timekeeping_warp_clock(minuteswest: i32) -> KResult<()> {
    if minuteswest == 0 {
        return Ok(());
    }
    let delta = i128::from(minuteswest) * 60 * i128::from(NSEC_PER_SEC);
    let new = u64::try_from(i128::from(ktime_get_real_ns()) + delta).map_err(|_| Errno::EINVAL)?;
    do_settimeofday64(new)
}

/// Linux: `timespec64_valid_settod`.
fn settod_ns(sec: i64, nsec: i64) -> KResult<u64> {
    if sec >= TIME_SETTOD_SEC_MAX {
        return Err(Errno::EINVAL);
    }
    timespec_to_ns(&__kernel_timespec { tv_sec: sec, tv_nsec: nsec })
}

/// Linux: `do_sys_settimeofday64`: validity first, then `CAP_SYS_TIME`.
fn do_sys_settimeofday64(ts_ns: Option<KResult<u64>>, tz: Option<timezone>) -> KResult<()> {
    let ns = ts_ns.transpose()?;
    if !capable(CAP_SYS_TIME) {
        return Err(Errno::EPERM);
    }
    if let Some(tz) = tz {
        if !(-15 * 60..=15 * 60).contains(&tz.tz_minuteswest) {
            return Err(Errno::EINVAL);
        }
        *SYS_TZ.lock() = (tz.tz_minuteswest, tz.tz_dsttime);
        if FIRST_SETTOD.swap(false, Ordering::Relaxed) && ns.is_none() {
            timekeeping_warp_clock(tz.tz_minuteswest)?;
        }
    }
    match ns {
        Some(ns) => do_settimeofday64(ns),
        None => Ok(()),
    }
}

/// Steps the clock, refusing a time before the machine booted (Linux:
/// `do_settimeofday64`'s check of `wall_to_monotonic`).
fn do_settimeofday64(ns: u64) -> KResult<()> {
    if ns < super::ktime_get_ns() {
        return Err(Errno::EINVAL);
    }
    set_real_ns(ns);
    Ok(())
}

/// settimeofday(2): either pointer may be NULL.
pub fn sys_settimeofday(tv: UserPtr<__kernel_old_timeval>, tz: UserPtr<timezone>) -> KResult<()> {
    let ts_ns = if tv.is_null() {
        None
    } else {
        let tv = tv.read()?;
        // Linux: `timeval_valid`, then microseconds to nanoseconds.
        Some(if (0..1_000_000).contains(&tv.tv_usec) {
            settod_ns(tv.tv_sec, tv.tv_usec * 1000)
        } else {
            Err(Errno::EINVAL)
        })
    };
    let tz = if tz.is_null() { None } else { Some(tz.read()?) };
    do_sys_settimeofday64(ts_ns, tz)
}

/// clock_settime(2): only `CLOCK_REALTIME` can be set; the others are
/// `EINVAL` (Linux 6.1: no `clock_set`, the CPU-time clocks included).
pub fn sys_clock_settime(which: ClockId, tp: UserPtr<__kernel_timespec>) -> KResult<()> {
    if which != ClockId::Realtime {
        return Err(Errno::EINVAL);
    }
    let ts = tp.read()?;
    do_sys_settimeofday64(Some(settod_ns(ts.tv_sec, ts.tv_nsec)), None)
}

/// The NTP variables adjtimex reports (Linux: ntp.c's `time_*`).
struct NtpState {
    offset: i64,
    freq: i64,
    maxerror: i64,
    esterror: i64,
    status: i32,
    constant: i64,
    tick_usec: i64,
    tai: i32,
}

/// Linux: `NTP_PHASE_LIMIT`, `STA_UNSYNC`, `TICK_USEC` at `USER_HZ` 100.
const NTP_PHASE_LIMIT: i64 = 16_000_000;
const STA_UNSYNC: i32 = 0x0040;
const STA_NANO: i32 = 0x2000;
const STA_RONLY: i32 = 0xff00;
const USER_HZ: i64 = 100;
/// Linux: `MAXFREQ_SCALED / PPM_SCALE`: 500 ppm in 16.16.
const NTP_TOLERANCE: i64 = 500 << 16;
const PPM_SCALE: i64 = 1 << 16;

/// Linux: `ntp_clear` at boot.
static NTP: SpinLock<NtpState> = SpinLock::new(NtpState {
    offset: 0,
    freq: 0,
    maxerror: NTP_PHASE_LIMIT,
    esterror: NTP_PHASE_LIMIT,
    status: STA_UNSYNC,
    constant: 2,
    tick_usec: 1_000_000 / USER_HZ,
    tai: 0,
});

/// Linux's `ADJ_*` bits (include/uapi/linux/timex.h); `ADJ_ADJTIME` and
/// `ADJ_OFFSET_READONLY` are the kernel's halves of the singleshot modes.
const ADJ_OFFSET: u32 = 0x0001;
const ADJ_FREQUENCY: u32 = 0x0002;
const ADJ_MAXERROR: u32 = 0x0004;
const ADJ_ESTERROR: u32 = 0x0008;
const ADJ_STATUS: u32 = 0x0010;
const ADJ_TIMECONST: u32 = 0x0020;
const ADJ_TAI: u32 = 0x0080;
const ADJ_SETOFFSET: u32 = 0x0100;
const ADJ_MICRO: u32 = 0x1000;
const ADJ_NANO: u32 = 0x2000;
const ADJ_TICK: u32 = 0x4000;
const ADJ_ADJTIME: u32 = 0x8000;
const ADJ_OFFSET_READONLY: u32 = 0x2000;
/// Linux: `TIME_ERROR`, what adjtimex returns while unsynchronised.
const TIME_OK: i32 = 0;
const TIME_ERROR: i32 = 5;

/// `struct __kernel_timex` (208 bytes) as 26 eight-byte words: the `int`
/// fields (modes, status, shift, tai) sit in the low half of their word.
type Timex = [i64; 26];
const TX_MODES: usize = 0;
const TX_OFFSET: usize = 1;
const TX_FREQ: usize = 2;
const TX_MAXERROR: usize = 3;
const TX_ESTERROR: usize = 4;
const TX_STATUS: usize = 5;
const TX_CONSTANT: usize = 6;
const TX_PRECISION: usize = 7;
const TX_TOLERANCE: usize = 8;
const TX_TIME_SEC: usize = 9;
const TX_TIME_USEC: usize = 10;
const TX_TICK: usize = 11;
const TX_TAI: usize = 20;

/// The C `int` in the low half (first four bytes) of a word.
fn int_field(tx: &Timex, i: usize) -> i32 {
    let b = tx[i].to_le_bytes();
    i32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn set_int_field(tx: &mut Timex, i: usize, v: i32) {
    let mut b = tx[i].to_le_bytes();
    b[..4].copy_from_slice(&v.to_le_bytes());
    tx[i] = i64::from_le_bytes(b);
}

/// Linux: `timekeeping_validate_timex`.
fn validate_timex(tx: &Timex, modes: u32) -> KResult<()> {
    if modes & ADJ_ADJTIME != 0 {
        if modes & ADJ_OFFSET == 0 {
            return Err(Errno::EINVAL);
        }
        if modes & ADJ_OFFSET_READONLY == 0 && !capable(CAP_SYS_TIME) {
            return Err(Errno::EPERM);
        }
    } else {
        if modes != 0 && !capable(CAP_SYS_TIME) {
            return Err(Errno::EPERM);
        }
        let tick = tx[TX_TICK];
        if modes & ADJ_TICK != 0 && !(900_000 / USER_HZ..=1_100_000 / USER_HZ).contains(&tick) {
            return Err(Errno::EINVAL);
        }
    }
    if modes & ADJ_SETOFFSET != 0 {
        if !capable(CAP_SYS_TIME) {
            return Err(Errno::EPERM);
        }
        let limit = if modes & ADJ_NANO != 0 { 1_000_000_000 } else { 1_000_000 };
        if !(0..limit).contains(&tx[TX_TIME_USEC]) {
            return Err(Errno::EINVAL);
        }
    }
    if modes & ADJ_FREQUENCY != 0
        && !(i64::MIN / PPM_SCALE..=i64::MAX / PPM_SCALE).contains(&tx[TX_FREQ])
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Steps the clock by the signed `time` of the timex (Linux:
/// `timekeeping_inject_offset`).
fn inject_offset(tx: &Timex, modes: u32) -> KResult<()> {
    let unit = if modes & ADJ_NANO != 0 { 1 } else { 1000 };
    let delta = i128::from(tx[TX_TIME_SEC]) * i128::from(NSEC_PER_SEC)
        + i128::from(tx[TX_TIME_USEC]) * unit;
    let now = i128::from(ktime_get_real_ns());
    let new = u64::try_from(now + delta).map_err(|_| Errno::EINVAL)?;
    if new / NSEC_PER_SEC >= TIME_SETTOD_SEC_MAX.unsigned_abs() {
        return Err(Errno::EINVAL);
    }
    do_settimeofday64(new)
}

/// Applies the modes and fills in the state (Linux: `__do_adjtimex`).
fn do_adjtimex(tx: &mut Timex) -> KResult<i32> {
    let modes = int_field(tx, TX_MODES).cast_unsigned();
    validate_timex(tx, modes)?;
    if modes & ADJ_SETOFFSET != 0 {
        inject_offset(tx, modes)?;
    }
    let mut ntp = NTP.lock();
    if modes & ADJ_ADJTIME != 0 {
        // adjtime(3): reports the offset left; a write starts a new one.
        let left = ntp.offset;
        if modes & ADJ_OFFSET_READONLY == 0 {
            ntp.offset = tx[TX_OFFSET];
        }
        tx[TX_OFFSET] = left;
    } else {
        if modes & ADJ_STATUS != 0 {
            ntp.status = (ntp.status & STA_RONLY) | (int_field(tx, TX_STATUS) & !STA_RONLY);
        }
        if modes & ADJ_NANO != 0 {
            ntp.status |= STA_NANO;
        }
        if modes & ADJ_MICRO != 0 {
            ntp.status &= !STA_NANO;
        }
        if modes & ADJ_FREQUENCY != 0 {
            ntp.freq = tx[TX_FREQ];
        }
        if modes & ADJ_MAXERROR != 0 {
            ntp.maxerror = tx[TX_MAXERROR];
        }
        if modes & ADJ_ESTERROR != 0 {
            ntp.esterror = tx[TX_ESTERROR];
        }
        if modes & ADJ_TIMECONST != 0 {
            ntp.constant = tx[TX_CONSTANT].clamp(0, 10);
        }
        if modes & ADJ_TAI != 0 && tx[TX_CONSTANT] >= 0 {
            ntp.tai = i32::try_from(tx[TX_CONSTANT]).unwrap_or(ntp.tai);
        }
        if modes & ADJ_OFFSET != 0 {
            ntp.offset = tx[TX_OFFSET];
        }
        if modes & ADJ_TICK != 0 {
            ntp.tick_usec = tx[TX_TICK];
        }
        tx[TX_OFFSET] = ntp.offset;
    }
    tx[TX_FREQ] = ntp.freq;
    tx[TX_MAXERROR] = ntp.maxerror;
    tx[TX_ESTERROR] = ntp.esterror;
    set_int_field(tx, TX_STATUS, ntp.status);
    tx[TX_CONSTANT] = ntp.constant;
    tx[TX_PRECISION] = 1;
    tx[TX_TOLERANCE] = NTP_TOLERANCE;
    tx[TX_TICK] = ntp.tick_usec;
    set_int_field(tx, TX_TAI, ntp.tai);
    let nano = ntp.status & STA_NANO != 0;
    let result = if ntp.status & STA_UNSYNC != 0 { TIME_ERROR } else { TIME_OK };
    drop(ntp);
    let now = ktime_get_real_ns();
    tx[TX_TIME_SEC] = i64::try_from(now / NSEC_PER_SEC).unwrap_or(i64::MAX);
    let sub = i64::try_from(now % NSEC_PER_SEC).unwrap_or(0);
    tx[TX_TIME_USEC] = if nano { sub } else { sub / 1000 };
    Ok(result)
}

/// adjtimex(2).
pub fn sys_adjtimex(txc: UserPtr<Timex>) -> KResult<i32> {
    let mut tx = txc.read()?;
    let result = do_adjtimex(&mut tx)?;
    txc.write(&tx)?;
    Ok(result)
}

/// clock_adjtime(2): only `CLOCK_REALTIME` has an adjtimex; other valid
/// clocks are `EOPNOTSUPP` (Linux: no `clock_adj`), unknown ones `EINVAL`.
pub fn sys_clock_adjtime(which: ClockId, txc: UserPtr<Timex>) -> KResult<i32> {
    if which != ClockId::Realtime {
        return Err(Errno::EOPNOTSUPP);
    }
    sys_adjtimex(txc)
}

crate::ktest!(settime_steps_realtime, {
    let before = ktime_get_real_ns();
    let target = 1_000_000_000 * NSEC_PER_SEC;
    set_real_ns(target);
    let now = ktime_get_real_ns();
    crate::kassert!(now >= target && now - target < NSEC_PER_SEC, "the clock was stepped");
    // Before the boot's length past the epoch still reads right.
    set_real_ns(1);
    let early = ktime_get_real_ns();
    crate::kassert!((1..NSEC_PER_SEC).contains(&early), "an early time");
    set_real_ns(before);
    crate::kassert!(settod_ns(0, 1_000_000_000) == Err(Errno::EINVAL), "bad nanoseconds");
    crate::kassert!(settod_ns(TIME_SETTOD_SEC_MAX, 0) == Err(Errno::EINVAL), "too late");
    let mut tx: Timex = [0; 26];
    crate::kassert!(do_adjtimex(&mut tx) == Ok(TIME_ERROR), "unsynchronised at boot");
    crate::kassert!(int_field(&tx, TX_STATUS) == STA_UNSYNC, "STA_UNSYNC");
    crate::kassert!(tx[TX_TICK] == 10_000 && tx[TX_TOLERANCE] == 32_768_000, "defaults");
    Ok(())
});

//! Broken-down RTC time and its conversions (Linux: drivers/rtc/lib.c
//! `rtc_time64_to_tm`, `rtc_valid_tm`, `rtc_month_days`;
//! include/uapi/linux/rtc.h `struct rtc_time`).
//!
//! # Locking
//! None: pure functions.
#![deny(unsafe_code)]

use crate::kernel::errno::{Errno, KResult};

/// Linux: `struct rtc_time`: `tm_mon` from 0, `tm_year` since 1900.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtcTime {
    pub sec: i32,
    pub min: i32,
    pub hour: i32,
    pub mday: i32,
    pub mon: i32,
    pub year: i32,
    pub wday: i32,
    pub yday: i32,
    pub isdst: i32,
}

impl RtcTime {
    /// The nine `int`s in the order of the C struct.
    pub fn to_raw(self) -> [i32; 9] {
        [
            self.sec, self.min, self.hour, self.mday, self.mon, self.year, self.wday, self.yday,
            self.isdst,
        ]
    }

    pub fn from_raw(r: [i32; 9]) -> Self {
        let [sec, min, hour, mday, mon, year, wday, yday, isdst] = r;
        Self { sec, min, hour, mday, mon, year, wday, yday, isdst }
    }
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in month `mon` (0..=11) of `year` (Linux: `rtc_month_days`).
pub fn rtc_month_days(mon: i32, year: i64) -> i32 {
    const DAYS: [i32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let leap = i32::from(mon == 1 && is_leap_year(year));
    usize::try_from(mon).ok().and_then(|m| DAYS.get(m)).map_or(0, |d| d + leap)
}

/// Seconds since the epoch as a date (Linux: `rtc_time64_to_tm`), by
/// Howard Hinnant's days-to-civil algorithm.
pub fn rtc_time64_to_tm(time: u64) -> RtcTime {
    let days = i64::try_from(time / 86_400).unwrap_or(i64::MAX / 2);
    let secs = i32::try_from(time % 86_400).unwrap_or(0);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let mday = doy - (153 * mp + 2) / 5 + 1;
    let mon = if mp < 10 { mp + 2 } else { mp - 10 };
    let year = yoe + era * 400 + i64::from(mon < 2);
    let yday = (0..mon)
        .map(|m| i64::from(rtc_month_days(i32::try_from(m).unwrap_or(0), year)))
        .sum::<i64>()
        + mday
        - 1;
    let to_i32 = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    RtcTime {
        sec: secs % 60,
        min: secs / 60 % 60,
        hour: secs / 3600,
        mday: to_i32(mday),
        mon: to_i32(mon),
        year: to_i32(year - 1900),
        // 1970-01-01 was a Thursday.
        wday: to_i32((days + 4).rem_euclid(7)),
        yday: to_i32(yday),
        isdst: 0,
    }
}

/// Linux: `rtc_valid_tm`: `EINVAL` for a date that does not exist or is
/// before 1970.
pub fn rtc_valid_tm(tm: &RtcTime) -> KResult<()> {
    let year = i64::from(tm.year) + 1900;
    if tm.year < 70
        || !(0..12).contains(&tm.mon)
        || tm.mday < 1
        || tm.mday > rtc_month_days(tm.mon, year)
        || !(0..24).contains(&tm.hour)
        || !(0..60).contains(&tm.min)
        || !(0..60).contains(&tm.sec)
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

crate::ktest!(rtc_lib_converts_dates, {
    let tm = rtc_time64_to_tm(0);
    crate::kassert!(tm.year == 70 && tm.mon == 0 && tm.mday == 1 && tm.wday == 4, "epoch");
    let tm = rtc_time64_to_tm(1_709_210_096);
    let want = RtcTime {
        sec: 56,
        min: 34,
        hour: 12,
        mday: 29,
        mon: 1,
        year: 124,
        wday: 4,
        yday: 59,
        isdst: 0,
    };
    crate::kassert!(tm == want, "2024-02-29 12:34:56, a Thursday, day 59");
    crate::kassert!(rtc_valid_tm(&tm).is_ok(), "valid");
    let bad = RtcTime { mday: 30, ..tm };
    crate::kassert!(rtc_valid_tm(&bad) == Err(Errno::EINVAL), "2024-02-30");
    let tm = rtc_time64_to_tm(4_102_444_799);
    crate::kassert!(tm.year == 199 && tm.mon == 11 && tm.mday == 31 && tm.yday == 364, "2099");
    Ok(())
});

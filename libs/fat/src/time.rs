//! FAT's timestamps: a date (years since 1980, month, day) and a time of
//! day in 2-second steps, local time taken as UTC, as Linux does when
//! neither `tz=` nor the kernel's time zone says otherwise (Linux:
//! fs/fat/misc.c `fat_time_fat2unix`, `fat_time_unix2fat`).
//!
//! # Locking
//! None: pure functions.
#![forbid(unsafe_code)]

/// Seconds from 1970-01-01 to 1980-01-01, FAT's first day.
const FAT_EPOCH: i64 = 315_532_800;
/// 2107-12-31 23:59:58, FAT's last representable time.
const FAT_END: i64 = 4_354_819_198;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// Unix seconds of a FAT `date` and `time`, plus `cs` hundredths (the
/// creation time's extra precision, 0..=199). Out-of-range fields are
/// taken as they come, as Linux does.
pub fn fat_to_unix(date: u16, time: u16, cs: u8) -> i64 {
    let year = 1980 + i64::from(date >> 9);
    let month = i64::from((date >> 5) & 0xF).clamp(1, 12);
    let day = i64::from(date & 0x1F).max(1);
    let secs = i64::from(time >> 11) * 3600
        + i64::from((time >> 5) & 0x3F) * 60
        + i64::from(time & 0x1F) * 2
        + i64::from(cs / 100);
    days_from_civil(year, month, day) * 86_400 + secs
}

/// The FAT `(date, time, cs)` of Unix seconds `t` with `nsec`
/// nanoseconds, clamped to 1980..=2107 (Linux: `fat_time_unix2fat`).
pub fn unix_to_fat(t: i64, nsec: u32) -> (u16, u16, u8) {
    if t < FAT_EPOCH {
        return (1 << 5 | 1, 0, 0);
    }
    let t = t.min(FAT_END);
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    #[expect(clippy::cast_possible_truncation, reason = "fields are in range by the clamp")]
    let date = (((y - 1980) << 9) | (m << 5) | d) as u16;
    #[expect(clippy::cast_possible_truncation, reason = "fields are in range by the clamp")]
    let time = (((s / 3600) << 11) | (((s / 60) % 60) << 5) | ((s % 60) / 2)) as u16;
    #[expect(clippy::cast_possible_truncation, reason = "below 200")]
    let cs = ((t & 1) * 100 + i64::from(nsec / 10_000_000)) as u8;
    (date, time, cs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // 2023-11-14 22:13:20 UTC.
        let (d, t, _) = unix_to_fat(1_700_000_000, 0);
        assert_eq!(d, ((2023 - 1980) << 9) | (11 << 5) | 14);
        assert_eq!(t, (22 << 11) | (13 << 5) | 10);
        assert_eq!(fat_to_unix(d, t, 0), 1_700_000_000);
        assert_eq!(unix_to_fat(0, 0), (33, 0, 0));
        assert_eq!(fat_to_unix(33, 0, 0), FAT_EPOCH);
    }

    #[test]
    fn round_trip_to_two_seconds() {
        for t in (FAT_EPOCH..FAT_END).step_by(9_999_991) {
            let (d, tm, cs) = unix_to_fat(t, 0);
            assert_eq!(fat_to_unix(d, tm, 0), t & !1);
            assert_eq!(fat_to_unix(d, tm, cs), t);
        }
    }
}

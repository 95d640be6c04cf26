//! The PC's CMOS real-time clock: the wall-clock time at boot.
//!
//! Linux: drivers/rtc/rtc-mc146818-lib.c (`mc146818_get_time`),
//! arch/x86/kernel/rtc.c (`mach_get_cmos_time`), kernel/time/time.c
//! (`mktime64`).
//!
//! The MC146818 keeps seconds..year in registers 0x00..0x09 (century in
//! 0x32, from the ACPI FADT's default), in BCD unless register B says
//! binary, hours in 12-hour form unless it says 24. A read can straddle
//! an update, so the time is read until two reads agree, each after the
//! update-in-progress bit clears.
//!
//! Setting the clock (Linux: `mc146818_set_time`) writes the same
//! registers in the RTC's own format with the SET bit holding the update
//! cycle off meanwhile.
//!
//! # Locking
//! `RTC_LOCK` (Linux: `rtc_lock`) serialises the index/data port pair.

use x86_64::instructions::port::Port;

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

const RTC_PORT_INDEX: u16 = 0x70;
const RTC_PORT_DATA: u16 = 0x71;
const RTC_SECONDS: u8 = 0x00;
const RTC_MINUTES: u8 = 0x02;
const RTC_HOURS: u8 = 0x04;
const RTC_DAY_OF_MONTH: u8 = 0x07;
const RTC_MONTH: u8 = 0x08;
const RTC_YEAR: u8 = 0x09;
const RTC_CENTURY: u8 = 0x32;
const RTC_FREQ_SELECT: u8 = 0x0a;
const RTC_UIP: u8 = 0x80;
const RTC_CONTROL: u8 = 0x0b;
const RTC_24H: u8 = 0x02;
const RTC_DM_BINARY: u8 = 0x04;
const RTC_PM: u8 = 0x80;
const RTC_SET: u8 = 0x80;
const RTC_DIV_RESET2: u8 = 0x60;

/// Linux: `rtc_lock`.
static RTC_LOCK: SpinLock<()> = SpinLock::new(());

/// Linux: `CMOS_READ`. Call with `RTC_LOCK` held.
fn cmos_read(reg: u8) -> u8 {
    let mut index = Port::<u8>::new(RTC_PORT_INDEX);
    let mut data = Port::<u8>::new(RTC_PORT_DATA);
    // SAFETY: ports 0x70/0x71 are the CMOS index and data registers on
    // every PC; selecting a register and reading it has no other effect,
    // and the lock keeps the pair from interleaving with another reader.
    unsafe { index.write(reg) };
    // SAFETY: as above.
    unsafe { data.read() }
}

/// Linux: `CMOS_WRITE`. Call with `RTC_LOCK` held.
fn cmos_write(reg: u8, val: u8) {
    let mut index = Port::<u8>::new(RTC_PORT_INDEX);
    let mut data = Port::<u8>::new(RTC_PORT_DATA);
    // SAFETY: ports 0x70/0x71 are the CMOS index and data registers on
    // every PC; the lock keeps the pair from interleaving with another
    // user, and the callers write only the clock's registers.
    unsafe { index.write(reg) };
    // SAFETY: as above.
    unsafe { data.write(val) };
}

fn bin2bcd(v: u8) -> u8 {
    ((v / 10) << 4) | (v % 10)
}

/// Sets the RTC to `tm`, which `rtc_valid_tm` accepted (Linux:
/// `mc146818_set_time`); `ERANGE` past what the century register holds.
pub fn rtc_set_time(tm: &super::lib::RtcTime) -> KResult<()> {
    let year = u32::try_from(tm.year).map_err(|_| Errno::EINVAL)? + 1900;
    if !(1970..=9999).contains(&year) {
        return Err(Errno::ERANGE);
    }
    let field = |v: i32| u8::try_from(v).map_err(|_| Errno::EINVAL);
    let (mon, mday) = (field(tm.mon + 1)?, field(tm.mday)?);
    let (hour, min, sec) = (field(tm.hour)?, field(tm.min)?, field(tm.sec)?);
    let byte = |v: u32| u8::try_from(v).map_err(|_| Errno::EINVAL);
    let (century, yy) = (byte(year / 100)?, byte(year % 100)?);
    let _guard = RTC_LOCK.lock();
    let control = cmos_read(RTC_CONTROL);
    let conv = |v: u8| if control & RTC_DM_BINARY != 0 { v } else { bin2bcd(v) };
    let hour = if control & RTC_24H != 0 {
        conv(hour)
    } else {
        // 12-hour form: 12 AM is 12, the PM bit above the digits.
        let h12 = if hour % 12 == 0 { 12 } else { hour % 12 };
        conv(h12) | if hour >= 12 { RTC_PM } else { 0 }
    };
    cmos_write(RTC_CONTROL, control | RTC_SET);
    let freq_select = cmos_read(RTC_FREQ_SELECT);
    cmos_write(RTC_FREQ_SELECT, freq_select | RTC_DIV_RESET2);
    cmos_write(RTC_YEAR, conv(yy));
    cmos_write(RTC_MONTH, conv(mon));
    cmos_write(RTC_DAY_OF_MONTH, conv(mday));
    cmos_write(RTC_HOURS, hour);
    cmos_write(RTC_MINUTES, conv(min));
    cmos_write(RTC_SECONDS, conv(sec));
    cmos_write(RTC_CENTURY, conv(century));
    cmos_write(RTC_CONTROL, control);
    cmos_write(RTC_FREQ_SELECT, freq_select);
    Ok(())
}

/// One broken-down reading: (sec, min, hour, mday, mon, year, century).
type RawTime = [u8; 7];

fn read_raw() -> RawTime {
    // Linux waits for UIP to clear for up to 10 ms; an emulated RTC clears
    // it promptly, so bound the spin by iterations.
    for _ in 0..1_000_000 {
        if cmos_read(RTC_FREQ_SELECT) & RTC_UIP == 0 {
            break;
        }
        core::hint::spin_loop();
    }
    [RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, RTC_CENTURY]
        .map(cmos_read)
}

fn bcd2bin(v: u8) -> u8 {
    (v & 0x0f) + (v >> 4) * 10
}

/// The RTC's time as seconds since the Unix epoch (Linux:
/// `mach_get_cmos_time`); `None` if it reads as nonsense.
pub fn rtc_read_time() -> Option<u64> {
    let (raw, control) = {
        let _guard = RTC_LOCK.lock();
        let mut raw = read_raw();
        for _ in 0..10 {
            let again = read_raw();
            if again == raw {
                break;
            }
            raw = again;
        }
        (raw, cmos_read(RTC_CONTROL))
    };
    let [sec, min, mut hour, mday, mon, year, century] = raw;
    let pm = hour & RTC_PM != 0;
    hour &= !RTC_PM;
    let conv = |v: u8| if control & RTC_DM_BINARY != 0 { v } else { bcd2bin(v) };
    let mut hour = conv(hour);
    if control & RTC_24H == 0 {
        hour = (hour % 12) + if pm { 12 } else { 0 };
    }
    let century = match conv(century) {
        19..=99 => u32::from(conv(century)),
        _ => 20,
    };
    let year = century * 100 + u32::from(conv(year));
    let (mon, mday) = (conv(mon), conv(mday));
    let (min, sec) = (conv(min), conv(sec));
    if !(1..=12).contains(&mon) || !(1..=31).contains(&mday) || hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    mktime64(year, mon.into(), mday.into(), hour.into(), min.into(), sec.into())
}

/// Seconds since 1970-01-01 00:00:00 UTC of a Gregorian date (Linux:
/// `mktime64`, Gauss's algorithm with March as the first month).
pub fn mktime64(year: u32, mon: u32, day: u32, hour: u32, min: u32, sec: u32) -> Option<u64> {
    if year < 1970 {
        return None;
    }
    let (mut year, mut mon) = (u64::from(year), i64::from(mon) - 2);
    if mon <= 0 {
        mon += 12;
        year -= 1;
    }
    let mon = u64::try_from(mon).ok()?;
    let days = year / 4 - year / 100 + year / 400 + 367 * mon / 12 + u64::from(day) + year * 365;
    let days = days.checked_sub(719_499)?;
    Some(((days * 24 + u64::from(hour)) * 60 + u64::from(min)) * 60 + u64::from(sec))
}

crate::ktest!(rtc_cmos_reads_a_plausible_date, {
    crate::kassert!(mktime64(1970, 1, 1, 0, 0, 0) == Some(0), "epoch");
    crate::kassert!(mktime64(2000, 3, 1, 0, 0, 0) == Some(951_868_800), "2000-03-01");
    crate::kassert!(mktime64(2024, 2, 29, 12, 34, 56) == Some(1_709_210_096), "leap day");
    let now = rtc_read_time().ok_or("RTC reads as a date")?;
    // After 2020-01-01 and before 2100: QEMU's RTC follows the host clock.
    crate::kassert!(now > 1_577_836_800 && now < 4_102_444_800, "plausible year");
    Ok(())
});

//! /dev/rtc0: the CMOS clock as the RTC class's character device, what
//! `hwclock` opens (Linux: drivers/rtc/dev.c `rtc_dev_fops`,
//! drivers/rtc/interface.c `rtc_read_time`, `rtc_set_time`).
//!
//! One opener at a time (`EBUSY` for a second, as Linux's
//! `RTC_DEV_BUSY`). `RTC_RD_TIME` gives the time as a `struct rtc_time`,
//! `RTC_SET_TIME` (`CAP_SYS_TIME`, else `EACCES`) checks and writes it.
//! `RTC_UIE_ON` makes a read wait for the next second's update and
//! return `(count << 8) | RTC_IRQF | RTC_UF` as an `unsigned long`, as Linux's
//! update-interrupt emulation does; here the waiting reader polls the
//! clock once a tick instead of taking the RTC's interrupt. Alarms and
//! the periodic interrupt are not provided (`ENOTTY`).
//!
//! # Locking
//! `RTC_BUSY` and the per-open `uie` flag are atomics; the CMOS ports
//! are under `rtc_cmos::RTC_LOCK`.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use linux_raw_sys::general::CAP_SYS_TIME;
use linux_raw_sys::ioctl::{RTC_RD_TIME, RTC_SET_TIME, RTC_UIE_OFF, RTC_UIE_ON};

use super::lib::{RtcTime, rtc_time64_to_tm, rtc_valid_tm};
use super::rtc_cmos::{rtc_read_time, rtc_set_time};
use crate::arch::uaccess::UserAddr;
use crate::fs::char_dev::register_chrdev_region;
use crate::fs::file_table::{File, FileOps};
use crate::fs::inode::{DevT, Inode};
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;
use crate::kernel::sched::task::signal_pending;
use crate::kernel::syscall::args::UserPtr;
use crate::kernel::time::timer::schedule_timeout_interruptible;

/// The RTC class's major: Linux allocates it dynamically, from 254 down;
/// Debian's 6.1 in the test machine, with virtio_blk at 254, gives 251.
pub const RTC_MAJOR: u32 = 251;
/// Linux: `RTC_UF` and `RTC_IRQF`, the flags in a read's data.
const RTC_UF: u64 = 0x10;
const RTC_IRQF: u64 = 0x80;

/// Linux: `RTC_DEV_BUSY`.
static RTC_BUSY: AtomicBool = AtomicBool::new(false);

/// Per-open state: whether update interrupts are on.
struct RtcOpen {
    uie: AtomicBool,
}

/// The RTC's time, `EIO` if it reads as nonsense (Linux: `rtc_read_time`).
pub fn rtc_read_tm() -> KResult<RtcTime> {
    rtc_read_time().map(rtc_time64_to_tm).ok_or(Errno::EIO)
}

pub struct RtcDevOps;
pub static RTC_DEV_OPS: RtcDevOps = RtcDevOps;

impl FileOps for RtcDevOps {
    fn open(&self, _inode: &Arc<Inode>, file: &File) -> KResult<()> {
        if RTC_BUSY.swap(true, Ordering::Acquire) {
            return Err(Errno::EBUSY);
        }
        file.set_private(Box::new(RtcOpen { uie: AtomicBool::new(false) }));
        Ok(())
    }

    /// Only the open that took the device gives it back: a refused open
    /// is released too, without the private state.
    fn release(&self, file: &File) {
        if file.private::<RtcOpen>().is_some() {
            RTC_BUSY.store(false, Ordering::Release);
        }
    }

    /// Linux: `rtc_dev_read`: waits for the next update "interrupt".
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        let out = buf.get_mut(..8).ok_or(Errno::EINVAL)?;
        let uie = file.private::<RtcOpen>().is_some_and(|o| o.uie.load(Ordering::Relaxed));
        if file.is_nonblocking() {
            return Err(Errno::EAGAIN);
        }
        let start = rtc_read_time();
        let task = current();
        loop {
            if signal_pending(&task) {
                return Err(Errno::ERESTARTSYS);
            }
            if uie && rtc_read_time() != start {
                break;
            }
            schedule_timeout_interruptible(1);
        }
        out.copy_from_slice(&((1 << 8) | RTC_IRQF | RTC_UF).to_ne_bytes());
        Ok(8)
    }

    /// Linux: `rtc_dev_ioctl`.
    fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> KResult<i64> {
        let tm_ptr = UserPtr::<[i32; 9]>::new(UserAddr::new(arg));
        match cmd {
            RTC_RD_TIME => {
                // Linux 6.1's rtc-cmos leaves the weekday and the day of
                // the year at the zero `rtc_dev_ioctl` cleared them to.
                let tm = RtcTime { wday: 0, yday: 0, ..rtc_read_tm()? };
                tm_ptr.write(&tm.to_raw())?;
            }
            RTC_SET_TIME => {
                if !capable(CAP_SYS_TIME) {
                    return Err(Errno::EACCES);
                }
                let tm = RtcTime::from_raw(tm_ptr.read()?);
                rtc_valid_tm(&tm)?;
                rtc_set_time(&tm)?;
            }
            RTC_UIE_ON | RTC_UIE_OFF => {
                let open = file.private::<RtcOpen>().ok_or(Errno::EBADF)?;
                open.uie.store(cmd == RTC_UIE_ON, Ordering::Relaxed);
            }
            _ => return Err(Errno::ENOTTY),
        }
        Ok(0)
    }

    fn seekable(&self) -> bool {
        false
    }
}

/// Registers /dev/rtc0 (Linux: `rtc_dev_prepare` + `cdev_device_add`).
pub fn rtc_dev_init() -> KResult<()> {
    register_chrdev_region(DevT::new(RTC_MAJOR, 0), 1, "rtc", &RTC_DEV_OPS)
}

/// The RTC class attributes of /sys/class/rtc/rtc0 (Linux:
/// drivers/rtc/sysfs.c `name`, `date`, `time`, `since_epoch`, `hctosys`,
/// `max_user_freq`), read from the clock at each read. The name is
/// Linux's for the PC's RTC, the PNP device `00:04` (PNP0b00).
pub fn rtc_sysfs_attrs(b: &mut crate::fs::sysfs::kernfs::KernfsBuilder, dir: &str) -> KResult<()> {
    b.attr(dir, "name", |m| m.printf(format_args!("rtc_cmos 00:04\n")))?;
    b.attr(dir, "date", |m| {
        let tm = rtc_read_tm()?;
        m.printf(format_args!("{}-{:02}-{:02}\n", tm.year + 1900, tm.mon + 1, tm.mday))
    })?;
    b.attr(dir, "time", |m| {
        let tm = rtc_read_tm()?;
        m.printf(format_args!("{:02}:{:02}:{:02}\n", tm.hour, tm.min, tm.sec))
    })?;
    b.attr(dir, "since_epoch", |m| {
        m.printf(format_args!("{}\n", rtc_read_time().ok_or(Errno::EIO)?))
    })?;
    // The system clock was set from this RTC at boot (posix.rs).
    b.attr(dir, "hctosys", |m| m.printf(format_args!("1\n")))?;
    b.attr(dir, "max_user_freq", |m| m.printf(format_args!("64\n")))
}

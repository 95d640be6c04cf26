//! The tty core: terminal objects, their drivers, and finding the tty
//! behind a device number.
//!
//! Linux: drivers/tty/tty_io.c (`struct tty_struct`, `struct tty_driver`,
//! `struct tty_operations`, `tty_register_driver`, `tty_open`,
//! `tty_hangup`), include/linux/tty.h, include/linux/tty_driver.h.
//!
//! A [`Tty`] joins three things: a driver that moves bytes to and from the
//! hardware ([`TtyOperations`]: the 8250 here, a pty master later), the
//! N_TTY line discipline that edits and echoes input (n_tty.rs), and the
//! job-control state of the session it controls (tty_jobctrl.rs). Drivers
//! register a [`TtyDriver`] with [`tty_register_driver`]; a character
//! device open (majors 4 and 5) finds the tty with [`tty_lookup`].
//!
//! # Locking
//! `TTY_DRIVERS` (the driver list), then per tty `Tty::ctrl` (session,
//! foreground group, window size) and `Tty::ldisc` (the line discipline's
//! buffers and termios). `ctrl` and `ldisc` are never held together, and
//! neither is held while calling the driver, which takes its own port lock
//! (printk's console lock is the innermost). Receive runs in the driver's
//! interrupt handler; every lock here is IRQ-safe.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use linux_raw_sys::general as uapi;
use n_tty::{NTty, Termios, Winsize};

use super::n_tty::{n_tty_poll, n_tty_read, n_tty_write};
use super::tty_ioctl::tty_ioctl;
use super::tty_jobctrl::{CurrentJobControl, JobControl, TtyCtrl, tty_open_proc_set_tty};
use crate::arch::uaccess::{UserAddr, copy_from_user, copy_to_user};
use crate::fs::char_dev::register_chrdev_region;
use crate::fs::file_table::{File, FileOps, PollMask};
use crate::fs::inode::{DevT, Inode};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueue;

/// Major of the serial ports `/dev/ttyS*` (Linux: `TTY_MAJOR`).
pub const TTY_MAJOR: u32 = 4;
/// Major of `/dev/tty` (minor 0) and `/dev/console` (minor 1) (Linux:
/// `TTYAUX_MAJOR`).
pub const TTYAUX_MAJOR: u32 = 5;

/// What a tty driver does for the tty core (Linux: `struct tty_operations`).
pub trait TtyOperations: Send + Sync {
    /// Queues `buf` for output; returns how many bytes were taken.
    fn write(&self, tty: &Tty, buf: &[u8]) -> usize;
    /// Bytes `write` would take now; the default is "no limit", as for a
    /// polled UART.
    fn write_room(&self, _tty: &Tty) -> usize {
        usize::MAX
    }
    /// The termios changed: program baud rate, parity and the like.
    fn set_termios(&self, _tty: &Tty, _old: &Termios) {}
}

/// A family of terminals with one driver (Linux: `struct tty_driver`):
/// `ttyS` is minors 64.. of major 4.
pub struct TtyDriver {
    /// Device name prefix: "ttyS".
    pub name: &'static str,
    pub major: u32,
    pub minor_start: u32,
    pub ops: &'static dyn TtyOperations,
    /// The settings each tty starts with (Linux: `init_termios`).
    pub init_termios: Termios,
    /// The ttys, by index; created on first lookup.
    ttys: SpinLock<Vec<Option<Arc<Tty>>>>,
}

impl TtyDriver {
    /// A driver for `num` ttys (Linux: `tty_alloc_driver`).
    pub fn new(
        name: &'static str,
        major: u32,
        minor_start: u32,
        num: usize,
        ops: &'static dyn TtyOperations,
    ) -> Self {
        let mut ttys = Vec::new();
        ttys.resize(num, None);
        Self {
            name,
            major,
            minor_start,
            ops,
            init_termios: Termios::default(),
            ttys: SpinLock::new(ttys),
        }
    }

    /// The tty at `index`, created on first use (Linux:
    /// `tty_driver_lookup_tty`, `tty_init_dev`).
    pub fn tty(self: &Arc<Self>, index: usize) -> KResult<Arc<Tty>> {
        let mut ttys = self.ttys.lock();
        let slot = ttys.get_mut(index).ok_or(Errno::ENXIO)?;
        if let Some(tty) = slot {
            return Ok(tty.clone());
        }
        let tty = Arc::new(Tty::new(self.clone(), index));
        *slot = Some(tty.clone());
        Ok(tty)
    }
}

/// One terminal (Linux: `struct tty_struct`).
pub struct Tty {
    pub driver: Arc<TtyDriver>,
    #[allow(dead_code, reason = "names the tty in /proc and sysfs")]
    pub index: usize,
    /// The line discipline and its termios (Linux: `tty->disc_data` and
    /// `tty->termios`).
    pub(super) ldisc: SpinLock<NTty>,
    /// Session, foreground process group and window size.
    pub(super) ctrl: SpinLock<TtyCtrl>,
    /// Readers waiting for a line or for VMIN bytes.
    pub read_wait: WaitQueue,
    /// Writers waiting for `write_room`.
    pub write_wait: WaitQueue,
    /// Opens not yet released (Linux: `tty->count`).
    pub count: AtomicUsize,
    /// The line hung up: reads see end of file, writes `EIO`.
    hung_up: AtomicBool,
}

impl Tty {
    fn new(driver: Arc<TtyDriver>, index: usize) -> Self {
        let termios = driver.init_termios;
        Self {
            driver,
            index,
            ldisc: SpinLock::new(NTty::new(termios)),
            ctrl: SpinLock::new(TtyCtrl::default()),
            read_wait: WaitQueue::new(),
            write_wait: WaitQueue::new(),
            count: AtomicUsize::new(0),
            hung_up: AtomicBool::new(false),
        }
    }

    /// The tty's settings now.
    pub fn termios(&self) -> Termios {
        *self.ldisc.lock().termios()
    }

    /// Installs new settings and tells the driver (Linux: `tty_set_termios`).
    pub fn set_termios(&self, new: Termios) {
        let old = {
            let mut ldisc = self.ldisc.lock();
            let old = *ldisc.termios();
            ldisc.set_termios(new);
            old
        };
        self.driver.ops.set_termios(self, &old);
        // A change of ICANON or VMIN can make waiting input readable.
        self.read_wait.wake_up_all();
    }

    pub fn winsize(&self) -> Winsize {
        self.ctrl.lock().winsize
    }

    /// Sets the window size; returns whether it changed, in which case the
    /// caller raises SIGWINCH (Linux: `tty_do_resize`).
    pub fn set_winsize(&self, ws: Winsize) -> bool {
        core::mem::replace(&mut self.ctrl.lock().winsize, ws) != ws
    }

    /// Writes the tty's name, "ttyS0", into `out`.
    #[allow(dead_code, reason = "for /proc/tty, ps's TTY column and ttyname")]
    pub fn name(&self, out: &mut impl core::fmt::Write) -> core::fmt::Result {
        write!(out, "{}{}", self.driver.name, self.index)
    }

    /// The device number (major, minor) of this tty.
    #[allow(dead_code, reason = "for /proc/PID/stat's tty_nr")]
    pub fn devt(&self) -> (u32, u32) {
        let index = u32::try_from(self.index).unwrap_or(u32::MAX);
        (self.driver.major, self.driver.minor_start.saturating_add(index))
    }

    pub fn is_hung_up(&self) -> bool {
        self.hung_up.load(Ordering::Acquire)
    }

    /// The carrier dropped or the session ended (Linux: `tty_vhangup`, much
    /// simplified): blocked readers and writers return.
    #[allow(dead_code, reason = "the pty driver (issue 7) and vhangup call it")]
    pub fn hangup(&self) {
        self.hung_up.store(true, Ordering::Release);
        self.read_wait.wake_up_all();
        self.write_wait.wake_up_all();
    }
}

/// Every registered tty driver (Linux: `tty_drivers`).
static TTY_DRIVERS: SpinLock<Vec<Arc<TtyDriver>>> = SpinLock::new(Vec::new());

/// The tty `/dev/console` opens (Linux: the tty of the preferred console,
/// `console_device`).
static CONSOLE_TTY: spin::Once<Arc<Tty>> = spin::Once::new();

/// Makes a driver's ttys reachable by device number (Linux:
/// `tty_register_driver`).
pub fn tty_register_driver(driver: Arc<TtyDriver>) -> KResult<()> {
    let mut drivers = TTY_DRIVERS.lock();
    if drivers.iter().any(|d| d.major == driver.major && d.minor_start == driver.minor_start) {
        return Err(Errno::EBUSY);
    }
    drivers.push(driver);
    Ok(())
}

/// Names `tty` as the console's tty, for `/dev/console`.
pub fn set_console_tty(tty: Arc<Tty>) {
    CONSOLE_TTY.call_once(|| tty);
}

pub fn console_tty() -> Option<Arc<Tty>> {
    CONSOLE_TTY.get().cloned()
}

/// The tty behind device (`major`, `minor`), without the redirections of
/// major 5 (Linux: `tty_lookup_driver`, then `tty_driver_lookup_tty`).
pub fn tty_lookup(major: u32, minor: u32) -> KResult<Arc<Tty>> {
    let driver = {
        let drivers = TTY_DRIVERS.lock();
        drivers
            .iter()
            .find(|d| d.major == major && minor >= d.minor_start)
            .cloned()
            .ok_or(Errno::ENXIO)?
    };
    let index = usize::try_from(minor - driver.minor_start).map_err(|_| Errno::ENXIO)?;
    driver.tty(index)
}

/// The tty an open of (`major`, `minor`) reaches (Linux: `tty_open_by_driver`
/// with `tty_open_current_tty` and the console redirect). `/dev/tty` is the
/// caller's controlling tty, `ENXIO` without one.
pub fn tty_open(major: u32, minor: u32, controlling: Option<Arc<Tty>>) -> KResult<Arc<Tty>> {
    let tty = match (major, minor) {
        (TTYAUX_MAJOR, 0) => controlling.ok_or(Errno::ENXIO)?,
        (TTYAUX_MAJOR, 1) => console_tty().ok_or(Errno::ENODEV)?,
        _ => tty_lookup(major, minor)?,
    };
    if tty.is_hung_up() {
        return Err(Errno::EIO);
    }
    tty.count.fetch_add(1, Ordering::AcqRel);
    Ok(tty)
}

/// The last close of an open file (Linux: `tty_release`).
pub fn tty_release(tty: &Tty) {
    tty.count.fetch_sub(1, Ordering::AcqRel);
}

/// The ioctl argument of a system call: a number or a user address.
pub struct UserIoctlArg(pub u64);

impl super::tty_ioctl::IoctlArg for UserIoctlArg {
    fn value(&self) -> u64 {
        self.0
    }
    fn read_bytes(&self, buf: &mut [u8]) -> KResult<()> {
        copy_from_user(buf, UserAddr::new(self.0)).map_err(|_| Errno::EFAULT)
    }
    fn write_bytes(&self, buf: &[u8]) -> KResult<()> {
        copy_to_user(UserAddr::new(self.0), buf).map_err(|_| Errno::EFAULT)
    }
}

/// File operations of every tty device node (Linux: `tty_fops`).
pub struct TtyFileOps;

/// The tty an open file is on.
fn file_tty(file: &File) -> KResult<&Arc<Tty>> {
    file.private::<Arc<Tty>>().ok_or(Errno::EIO)
}

impl FileOps for TtyFileOps {
    fn open(&self, inode: &Arc<Inode>, file: &File) -> KResult<()> {
        let rdev = inode.attr().rdev;
        let caller = CurrentJobControl::new();
        let tty = tty_open(rdev.major(), rdev.minor(), caller.controlling_tty())?;
        // /dev/tty and /dev/console never become anyone's controlling tty
        // (Linux: `noctty` in `tty_open`).
        let noctty = file.flags() & uapi::O_NOCTTY != 0 || rdev.major() == TTYAUX_MAJOR;
        tty_open_proc_set_tty(&tty, &caller, noctty);
        file.set_private(Box::new(tty));
        Ok(())
    }
    fn release(&self, file: &File) {
        if let Ok(tty) = file_tty(file) {
            tty_release(tty);
        }
    }
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        n_tty_read(file_tty(file)?, buf, file.is_nonblocking())
    }
    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        n_tty_write(file_tty(file)?, buf, file.is_nonblocking())
    }
    fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> KResult<i64> {
        tty_ioctl(file_tty(file)?, &CurrentJobControl::new(), cmd, &UserIoctlArg(arg))
    }
    fn poll(&self, file: &File) -> PollMask {
        file_tty(file).map_or(uapi::POLLNVAL, |tty| n_tty_poll(tty))
    }
    fn seekable(&self) -> bool {
        false
    }
}

static TTY_FOPS: TtyFileOps = TtyFileOps;

/// Registers the tty device numbers with the VFS (Linux: `tty_init` for
/// 5:0 and 5:1, `tty_register_driver` for 4:64..): `/dev/tty`,
/// `/dev/console`, `/dev/ttyS0`.
pub fn tty_chrdev_init() -> KResult<()> {
    register_chrdev_region(DevT::new(TTYAUX_MAJOR, 0), 1, "/dev/tty", &TTY_FOPS)?;
    register_chrdev_region(DevT::new(TTYAUX_MAJOR, 1), 1, "/dev/console", &TTY_FOPS)?;
    let drivers = TTY_DRIVERS.lock().clone();
    for driver in drivers {
        let count = u32::try_from(driver.ttys.lock().len()).map_err(|_| Errno::EINVAL)?;
        register_chrdev_region(
            DevT::new(driver.major, driver.minor_start),
            count,
            driver.name,
            &TTY_FOPS,
        )?;
    }
    Ok(())
}

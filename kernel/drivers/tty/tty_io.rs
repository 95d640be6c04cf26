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
//! device open (majors 4 and 5) finds the tty with [`tty_lookup`]. A pty
//! is two ttys linked to each other (`Tty::link`, pty.rs), found through
//! devpts instead of a driver table.
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
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use linux_raw_sys::general as uapi;
use n_tty::{NTty, Termios, Winsize};

use super::n_tty::{n_tty_poll, n_tty_read, n_tty_write};
use super::tty_ioctl::{IoctlArg, tty_ioctl};
use super::tty_jobctrl::{
    CurrentJobControl, JobControl, TtyCtrl, tty_open_proc_set_tty, tty_rw_job_control,
};
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
    /// A file is opening the tty; an error fails the open (Linux:
    /// `tty->ops->open`).
    fn open(&self, _tty: &Tty) -> KResult<()> {
        Ok(())
    }
    /// An open file of the tty was released and `opens_left` remain
    /// (Linux: `tty->ops->close`, which reads `tty->count` itself).
    fn close(&self, _tty: &Tty, _opens_left: usize) {}
    /// The driver's own ioctls; `None` passes `cmd` on to the tty core
    /// (Linux: `tty->ops->ioctl` returning `-ENOIOCTLCMD`).
    fn ioctl(&self, _tty: &Tty, _cmd: u32, _arg: &dyn IoctlArg) -> Option<KResult<i64>> {
        None
    }
    /// A reader emptied some of the input buffer: there is room for more
    /// (Linux: `tty->ops->unthrottle`, which a pty uses to wake its writer).
    fn unthrottle(&self, _tty: &Tty) {}
    /// Discards output not yet sent (Linux: `tty->ops->flush_buffer`).
    fn flush_buffer(&self, _tty: &Tty) {}
}

/// `Tty::flags`: the other end of a pty is closed (Linux: `TTY_OTHER_CLOSED`).
pub const TTY_OTHER_CLOSED: u32 = 1 << 2;
/// `Tty::flags`: a pty master's slave may not be opened (Linux: `TTY_PTY_LOCK`).
pub const TTY_PTY_LOCK: u32 = 1 << 16;

/// A family of terminals with one driver (Linux: `struct tty_driver`):
/// `ttyS` is minors 64.. of major 4.
pub struct TtyDriver {
    /// Device name prefix: "ttyS".
    pub name: &'static str,
    pub major: u32,
    pub minor_start: u32,
    pub ops: &'static dyn TtyOperations,
    /// Number of the first tty in device names: `tty1` is index 0 of the
    /// consoles (Linux: `name_base`).
    pub name_base: usize,
    /// The master side of a pty: termios, window-size and job-control
    /// ioctls act on its slave (Linux: `TTY_DRIVER_TYPE_PTY` with
    /// `PTY_TYPE_MASTER`).
    pub pty_master: bool,
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
            name_base: 0,
            pty_master: false,
            init_termios: Termios::default(),
            ttys: SpinLock::new(ttys),
        }
    }

    /// The tty at `index` if it was made (Linux: `tty_driver_lookup_tty`).
    pub fn lookup(&self, index: usize) -> Option<Arc<Tty>> {
        self.ttys.lock().get(index)?.clone()
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
    /// `TTY_OTHER_CLOSED`, `TTY_PTY_LOCK` (Linux: `tty->flags`).
    pub flags: AtomicU32,
    /// The other end of a pty (Linux: `tty->link`); weak, so that the
    /// pair's owner (pty.rs) decides when it goes.
    pub link: spin::Once<Weak<Tty>>,
    /// The driver's own state (Linux: `tty->driver_data`).
    pub driver_data: spin::Once<Box<dyn Any + Send + Sync>>,
    /// A pty master in packet mode (Linux: `tty->ctrl.packet`).
    pub packet: AtomicBool,
    /// `TIOCPKT_*` events for the packet-mode master, kept on its slave
    /// (Linux: `tty->ctrl.pktstatus`).
    pub pktstatus: AtomicU32,
}

impl Tty {
    /// A tty of `driver`, not yet in its table (Linux: `alloc_tty_struct`).
    pub(super) fn new(driver: Arc<TtyDriver>, index: usize) -> Self {
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
            flags: AtomicU32::new(0),
            link: spin::Once::new(),
            driver_data: spin::Once::new(),
            packet: AtomicBool::new(false),
            pktstatus: AtomicU32::new(0),
        }
    }

    pub fn test_flag(&self, flag: u32) -> bool {
        self.flags.load(Ordering::Acquire) & flag != 0
    }

    pub fn set_flag(&self, flag: u32, on: bool) {
        if on {
            self.flags.fetch_or(flag, Ordering::AcqRel);
        } else {
            self.flags.fetch_and(!flag, Ordering::AcqRel);
        }
    }

    /// The other end of a pty, while it exists.
    pub fn link(&self) -> Option<Arc<Tty>> {
        self.link.get().and_then(Weak::upgrade)
    }

    /// The tty that termios, window-size and job-control ioctls act on: a
    /// pty master's slave, else the tty itself (Linux: `tty_pair_get_tty`).
    pub fn pair_get_tty(self: &Arc<Self>) -> Arc<Tty> {
        if self.driver.pty_master {
            self.link().unwrap_or_else(|| self.clone())
        } else {
            self.clone()
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
        write!(out, "{}{}", self.driver.name, self.index + self.driver.name_base)
    }

    /// The device number (major, minor) of this tty.
    pub fn devt(&self) -> (u32, u32) {
        let index = u32::try_from(self.index).unwrap_or(u32::MAX);
        (self.driver.major, self.driver.minor_start.saturating_add(index))
    }

    pub fn is_hung_up(&self) -> bool {
        self.hung_up.load(Ordering::Acquire)
    }

    /// The carrier dropped or the session ended (Linux: `tty_vhangup`, much
    /// simplified): blocked readers and writers return.
    pub fn hangup(&self) {
        self.hung_up.store(true, Ordering::Release);
        self.read_wait.wake_up_all();
        self.write_wait.wake_up_all();
        crate::fs::select::poll_wake();
    }
}

/// Hangs `tty` up (Linux: `tty_vhangup` -> `__tty_hangup`): it forgets its
/// session and foreground group, its readers see end of file and its
/// writers `EIO`, and the leader of the session it controlled gets SIGHUP
/// and SIGCONT (Linux: `tty_signal_session_leader`).
pub fn tty_vhangup(tty: &Tty) {
    let session = {
        let mut ctrl = tty.ctrl.lock();
        ctrl.pgrp = None;
        ctrl.session.take()
    };
    tty.hangup();
    let Some(sid) = session else { return };
    let mut leaders = Vec::new();
    crate::kernel::pid::for_each_process(|t| {
        if t.tgid == sid && t.session() == sid && t.exit_state() == 0 {
            leaders.push(t.clone());
        }
    });
    use crate::kernel::signal::{SendTo, SigInfo, Signal, send_signal};
    for leader in leaders {
        for sig in [Signal::SIGHUP, Signal::SIGCONT] {
            send_signal(SigInfo::kernel(sig), &leader, SendTo::Group, true);
        }
    }
}

/// `/proc/PID/stat`'s `tty_nr` and foreground group for a process of
/// session `sid`: its controlling tty's device number as `stat` encodes
/// it, and that tty's foreground group (initial-namespace number); (0,
/// None) without one (Linux: `do_task_stat`, `tty_devnum`).
pub fn proc_tty_nr(sid: i32) -> (u64, Option<i32>) {
    let Some(tty) = super::tty_jobctrl::session_tty(sid) else { return (0, None) };
    let (major, minor) = tty.devt();
    let pgrp = tty.ctrl.lock().pgrp;
    (DevT::new(major, minor).encode(), pgrp)
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
            .find(|d| {
                let index = minor.checked_sub(d.minor_start).map(|i| i as usize);
                d.major == major && index.is_some_and(|i| i < d.ttys.lock().len())
            })
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
        (TTY_MAJOR, 0) => super::vt::vt::fg_console_tty()?,
        _ => tty_lookup(major, minor)?,
    };
    tty_reopen(&tty)?;
    Ok(tty)
}

/// Counts one more open of `tty` and lets its driver refuse it (Linux:
/// `tty_reopen` + `tty->ops->open`).
pub fn tty_reopen(tty: &Tty) -> KResult<()> {
    if tty.is_hung_up() {
        return Err(Errno::EIO);
    }
    tty.count.fetch_add(1, Ordering::AcqRel);
    if let Err(e) = tty.driver.ops.open(tty) {
        tty.count.fetch_sub(1, Ordering::AcqRel);
        return Err(e);
    }
    Ok(())
}

/// The last close of an open file (Linux: `tty_release`).
pub fn tty_release(tty: &Tty) {
    let left = tty.count.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
    tty.driver.ops.close(tty, left);
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

/// The device number `file` was opened as (`/dev/console` or the tty's own).
fn file_rdev(file: &File) -> (u32, u32) {
    let rdev = file.f_inode.attr().rdev;
    (rdev.major(), rdev.minor())
}

/// Ties an opened `tty` to `file`; a session leader without a terminal
/// takes it as its controlling tty unless `noctty` or the open is
/// write-only (Linux: the end of `tty_open`, `tty_add_file`).
pub fn tty_open_file(tty: Arc<Tty>, file: &File, caller: &CurrentJobControl, noctty: bool) {
    // A write-only open never gains the terminal's privileges (Linux:
    // the `FMODE_READ` test of `tty_open_proc_set_tty`).
    let write_only = !file.f_mode.contains(crate::fs::file_table::FMode::READ);
    let noctty = noctty || write_only || file.flags() & uapi::O_NOCTTY != 0;
    tty_open_proc_set_tty(&tty, caller, noctty);
    file.set_private(Box::new(tty));
}

impl FileOps for TtyFileOps {
    fn open(&self, inode: &Arc<Inode>, file: &File) -> KResult<()> {
        let rdev = inode.attr().rdev;
        let caller = CurrentJobControl::new();
        let tty = tty_open(rdev.major(), rdev.minor(), caller.controlling_tty())?;
        // /dev/tty, /dev/console and /dev/tty0 never become anyone's
        // controlling tty (Linux: `noctty` in `tty_open`).
        let noctty = rdev.major() == TTYAUX_MAJOR || (rdev.major(), rdev.minor()) == (TTY_MAJOR, 0);
        tty_open_file(tty, file, &caller, noctty);
        Ok(())
    }
    fn release(&self, file: &File) {
        if let Ok(tty) = file_tty(file) {
            tty_release(tty);
        }
    }
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        let tty = file_tty(file)?;
        tty_rw_job_control(tty, file_rdev(file), uapi::SIGTTIN)?;
        n_tty_read(tty, buf, file.is_nonblocking())
    }
    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        let tty = file_tty(file)?;
        tty_rw_job_control(tty, file_rdev(file), uapi::SIGTTOU)?;
        n_tty_write(tty, buf, file.is_nonblocking())
    }
    fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> KResult<i64> {
        let tty = file_tty(file)?;
        // Special because it needs the file (Linux: `tty_ioctl`).
        if cmd == linux_raw_sys::ioctl::TIOCGPTPEER {
            return super::pty::ptm_open_peer(file, tty, arg);
        }
        tty_ioctl(tty, &CurrentJobControl::new(), cmd, &UserIoctlArg(arg))
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
/// `/dev/console`, `/dev/ttyS0`; then the ptys' (pty.rs).
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
    super::pty::unix98_pty_init()
}

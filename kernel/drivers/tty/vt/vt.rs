//! Virtual terminals: `/dev/tty1`..`/dev/tty63` as ttys on one screen,
//! `/dev/tty0` for the one in front, and switching between them.
//!
//! Linux: drivers/tty/vt/vt.c (`vc_cons`, `fg_console`, `vc_allocate`,
//! `vc_deallocate`, `con_ops`, `con_install`, `con_write`, `vty_init`,
//! `show_tty_active`), drivers/tty/vt/vt_ioctl.c (`change_console`,
//! `complete_change_console`, `reset_vc`, `vt_waitactive`).
//!
//! Each console ([`VcData`]) is allocated on first open or on `VT_ACTIVATE`
//! and keeps its own [`Screen`]; the one in front (`fg_console`) is also
//! drawn on the VGA text buffer (vgacon.rs). Its tty is an ordinary tty of
//! the `tty` driver (major 4, minors 1..63) with the N_TTY line discipline,
//! as ttyS0 is; `/dev/tty0` (4:0) opens the foreground console's tty, never
//! as a controlling tty. The PC keyboard (i8042.rs) types into the one in
//! front. VTs are not the kernel console: printk stays on ttyS0.
//!
//! Switching is synchronous: `VT_ACTIVATE` returns with the new console in
//! front, unless the one in front is in `VT_PROCESS` mode, which is asked
//! with its `relsig` and answers with `VT_RELDISP` (Linux defers even an
//! automatic switch to a work item; the result is the same).
//!
//! # Locking
//! `CONSOLES` (Linux: `console_lock`) is an IRQ-safe spinlock taken with
//! no tty lock held, also from the keyboard interrupt; under it only the
//! VT driver's `TtyDriver::ttys` (to see whether a console's tty is open),
//! keyboard.rs's `KBD`, and the VGA hardware (vgacon.rs). Signals are sent
//! and `VT_EVENT_WAIT` is woken after it is dropped.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use linux_raw_sys::general as uapi;

use super::screen::{COLS, ROWS, Screen};
use super::vc_screen::VCS_MAJOR;
use super::{keyboard, vgacon};
use crate::drivers::tty::n_tty::n_tty_receive_buf;
use crate::drivers::tty::tty_io::{
    TTY_MAJOR, Tty, TtyDriver, TtyFileOps, TtyOperations, tty_register_driver,
};
use crate::drivers::tty::tty_ioctl::IoctlArg;
use crate::fs::char_dev::register_chrdev_region;
use crate::fs::inode::DevT;
use crate::fs::sysfs::devices::CharDevice;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueue;

/// vt.h: consoles 1..63; the serial lines start at minor 64.
pub const MAX_NR_CONSOLES: usize = 63;
/// kd.h: `KDSETMODE` modes.
pub const KD_TEXT: u32 = 0x00;
pub const KD_GRAPHICS: u32 = 0x01;
/// vt.h: `struct vt_mode` modes.
pub const VT_AUTO: u8 = 0x00;
pub const VT_PROCESS: u8 = 0x01;
/// vt.h: `VT_RELDISP`'s acknowledgement of an acquisition.
const VT_ACKACQ: u64 = 0x02;

/// `struct vt_mode` (vt.h): 8 bytes.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct VtMode {
    pub mode: u8,
    pub waitv: u8,
    pub relsig: i16,
    pub acqsig: i16,
    pub frsig: i16,
}

impl VtMode {
    pub const SIZE: usize = 8;

    pub fn from_bytes(b: &[u8; Self::SIZE]) -> Self {
        let half = |i: usize| i16::from_ne_bytes([b[i], b[i + 1]]);
        Self { mode: b[0], waitv: b[1], relsig: half(2), acqsig: half(4), frsig: half(6) }
    }

    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut b = [self.mode, self.waitv, 0, 0, 0, 0, 0, 0];
        b[2..4].copy_from_slice(&self.relsig.to_ne_bytes());
        b[4..6].copy_from_slice(&self.acqsig.to_ne_bytes());
        b[6..8].copy_from_slice(&self.frsig.to_ne_bytes());
        b
    }
}

/// One virtual console (Linux: `struct vc_data`).
pub struct VcData {
    pub screen: Screen,
    /// `KD_TEXT` or `KD_GRAPHICS` (Linux: `vc_mode`).
    pub vc_mode: u32,
    pub vt_mode: VtMode,
    /// The process `VT_SETMODE` named, by global PID (Linux: `vt_pid`).
    pub vt_pid: Option<i32>,
    /// A switch away waiting for `VT_RELDISP` (Linux: `vt_newvt`).
    pub vt_newvt: Option<usize>,
}

impl VcData {
    fn new() -> Self {
        Self {
            screen: Screen::new(),
            vc_mode: KD_TEXT,
            vt_mode: VtMode::default(),
            vt_pid: None,
            vt_newvt: None,
        }
    }

    /// Back to text mode and automatic switching (Linux: `reset_vc`).
    pub fn reset_vc(&mut self) {
        self.vc_mode = KD_TEXT;
        self.vt_mode = VtMode::default();
        self.vt_pid = None;
        self.vt_newvt = None;
    }
}

/// All consoles and which is in front (Linux: `vc_cons`, `fg_console`,
/// `last_console`, `vt_dont_switch`).
pub struct Consoles {
    vcs: [Option<Box<VcData>>; MAX_NR_CONSOLES],
    pub fg_console: usize,
    pub last_console: usize,
    pub dont_switch: bool,
}

pub static CONSOLES: SpinLock<Consoles> = SpinLock::new(Consoles {
    vcs: [const { None }; MAX_NR_CONSOLES],
    fg_console: 0,
    last_console: 0,
    dont_switch: false,
});

/// Woken after every switch (Linux: `vt_event_waitqueue`).
pub static VT_EVENT_WAIT: WaitQueue = WaitQueue::new();

/// The `tty` driver, minors 1..63.
static VT_DRIVER: spin::Once<Arc<TtyDriver>> = spin::Once::new();

impl Consoles {
    pub fn vc(&mut self, i: usize) -> Option<&mut VcData> {
        self.vcs.get_mut(i)?.as_deref_mut()
    }

    pub fn is_allocated(&self, i: usize) -> bool {
        self.vcs.get(i).is_some_and(Option::is_some)
    }

    /// Makes console `i` if it does not exist (Linux: `vc_allocate`).
    pub fn vc_allocate(&mut self, i: usize) -> KResult<()> {
        let slot = self.vcs.get_mut(i).ok_or(Errno::ENXIO)?;
        if slot.is_none() {
            *slot = Some(Box::new(VcData::new()));
            keyboard::vt_reset_keyboard(i);
        }
        Ok(())
    }

    /// Whether console `i` may not be freed (Linux: `vt_busy`).
    pub fn vt_busy(&self, i: usize) -> bool {
        vt_in_use(i) || i == self.fg_console
    }

    /// Frees console `i`, never the first (Linux: `vc_deallocate`).
    pub fn vc_deallocate(&mut self, i: usize) -> bool {
        i >= 1 && self.vcs.get_mut(i).and_then(Option::take).is_some()
    }

    /// Draws the foreground console whole (Linux: `redraw_screen`).
    pub fn redraw_front(&mut self) {
        self.redraw();
    }

    fn redraw(&mut self) {
        let fg = self.fg_console;
        let Some(vc) = self.vc(fg) else { return };
        vc.screen.take_dirty();
        if vc.vc_mode == KD_TEXT {
            vgacon::vgacon_putcs(0, vc.screen.cells());
            vgacon::vgacon_cursor(vc.screen.deccm.then(|| vc.screen.cursor()));
        }
    }
}

/// Whether console `i`'s tty is open (Linux: `vt_in_use`, the port's
/// reference from an installed tty).
pub fn vt_in_use(i: usize) -> bool {
    VT_DRIVER
        .get()
        .and_then(|d| d.lookup(i))
        .is_some_and(|tty| tty.count.load(Ordering::Acquire) > 0)
}

/// The foreground console's number, 0-based.
pub fn fg_console() -> usize {
    CONSOLES.lock().fg_console
}

/// Console `i`'s tty while it is open, for input (Linux: `vc->port.tty`).
pub fn vt_console_tty(i: usize) -> Option<Arc<Tty>> {
    let tty = VT_DRIVER.get()?.lookup(i)?;
    (tty.count.load(Ordering::Acquire) > 0).then_some(tty)
}

/// The tty `/dev/tty0` opens (Linux: `tty_lookup_driver` for 4:0).
pub fn fg_console_tty() -> KResult<Arc<Tty>> {
    let driver = VT_DRIVER.get().ok_or(Errno::ENODEV)?;
    driver.tty(fg_console())
}

/// Gives console `i`'s tty, if one was made, the settings a new tty has
/// (Linux frees the tty with the console and makes a new one on the next
/// open: `tty_init_dev` with `init_termios`, `con_install`'s size).
pub fn vt_tty_reset(i: usize) {
    let Some(driver) = VT_DRIVER.get() else { return };
    if let Some(tty) = driver.lookup(i) {
        tty.set_termios(driver.init_termios);
        tty.set_winsize(vt_winsize());
    }
}

/// The window size of a console's tty: the screen.
fn vt_winsize() -> n_tty::Winsize {
    let size = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
    n_tty::Winsize { ws_row: size(ROWS), ws_col: size(COLS), ..Default::default() }
}

/// A signal a switch owes a `VT_PROCESS` console's process.
struct SwitchSignal {
    console: usize,
    pid: i32,
    sig: i16,
    /// Releasing the front console (else acquiring the new one).
    release: bool,
}

/// Puts console `new` in front (Linux: `complete_change_console`).
fn complete_change_console(c: &mut Consoles, new: usize) -> Option<SwitchSignal> {
    let old_mode = c.vc(c.fg_console).map_or(KD_TEXT, |vc| vc.vc_mode);
    c.last_console = c.fg_console;
    c.fg_console = new;
    let vc = c.vc(new)?;
    let (process, pid, sig, mode) =
        (vc.vt_mode.mode == VT_PROCESS, vc.vt_pid, vc.vt_mode.acqsig, vc.vc_mode);
    if mode == KD_TEXT || old_mode != mode {
        c.redraw();
    }
    match (process, pid) {
        (true, Some(pid)) => Some(SwitchSignal { console: new, pid, sig, release: false }),
        (true, None) => {
            vc_reset(c, new);
            None
        }
        _ => None,
    }
}

/// Linux: `reset_vc`, keyboard mode included.
fn vc_reset(c: &mut Consoles, i: usize) {
    if let Some(vc) = c.vc(i) {
        vc.reset_vc();
        keyboard::vt_reset_unicode(i);
    }
}

/// Starts a switch to console `new` (Linux: `change_console`).
fn change_console(c: &mut Consoles, new: usize) -> Option<SwitchSignal> {
    if new == c.fg_console || c.dont_switch || !c.is_allocated(new) {
        return None;
    }
    let fg = c.fg_console;
    let vc = c.vc(fg)?;
    if vc.vt_mode.mode == VT_PROCESS {
        if let Some(pid) = vc.vt_pid {
            vc.vt_newvt = Some(new);
            return Some(SwitchSignal { console: fg, pid, sig: vc.vt_mode.relsig, release: true });
        }
        vc_reset(c, fg);
    }
    if c.vc(fg).is_some_and(|vc| vc.vc_mode == KD_GRAPHICS) {
        return None;
    }
    complete_change_console(c, new)
}

/// Sends `sig` to process `pid` as the kernel; false if it is gone, a
/// zombie not yet reaped still counting (Linux: `kill_pid(pid, sig, 1)`,
/// signal 0 only testing).
fn kill_pid(pid: i32, sig: i16) -> bool {
    use crate::kernel::signal::{SendTo, SigInfo, Signal, send_signal};
    let mut target = None;
    crate::kernel::pid::for_each_process(|t| {
        if t.tgid == pid {
            target = Some(t.clone());
        }
    });
    let Some(task) = target else { return false };
    if let Some(sig) = u32::try_from(sig).ok().and_then(Signal::new) {
        send_signal(SigInfo::kernel(sig), &task, SendTo::Group, true);
    }
    true
}

/// Delivers what a switch owes, then finishes it if the process is gone
/// (the `kill_pid(...) != 0` branches of `change_console` and
/// `complete_change_console`).
fn finish_switch(mut pending: Option<SwitchSignal>) {
    while let Some(s) = pending.take() {
        if kill_pid(s.pid, s.sig) {
            break;
        }
        let mut c = CONSOLES.lock();
        // The owner is gone: back to automatic switching, and the switch
        // it was asked about goes ahead.
        let new = c.vc(s.console).and_then(|vc| vc.vt_newvt.take());
        vc_reset(&mut c, s.console);
        if s.release {
            pending = new.and_then(|new| complete_change_console(&mut c, new));
        } else {
            c.redraw();
        }
    }
    VT_EVENT_WAIT.wake_up_all();
}

/// Switches to console `new`, which exists (Linux: `set_console`).
pub fn set_console(new: usize) {
    let pending = change_console(&mut CONSOLES.lock(), new);
    finish_switch(pending);
}

/// `VT_RELDISP` from the front console's process (Linux: `vt_reldisp`).
pub fn vt_reldisp(console: usize, swtch: u64) -> KResult<()> {
    let pending = {
        let mut c = CONSOLES.lock();
        let vc = c.vc(console).ok_or(Errno::ENXIO)?;
        if vc.vt_mode.mode != VT_PROCESS {
            return Err(Errno::EINVAL);
        }
        let Some(new) = vc.vt_newvt else {
            // Acknowledging an acquisition.
            return if swtch == VT_ACKACQ { Ok(()) } else { Err(Errno::EINVAL) };
        };
        vc.vt_newvt = None;
        if swtch == 0 {
            return Ok(());
        }
        c.vc_allocate(new)?;
        complete_change_console(&mut c, new)
    };
    finish_switch(pending);
    Ok(())
}

/// The `tty` driver's operations (Linux: `con_ops`).
struct ConOps;

impl TtyOperations for ConOps {
    /// Linux: `con_write` -> `do_con_write`.
    fn write(&self, tty: &Tty, buf: &[u8]) -> usize {
        let report = {
            let mut c = CONSOLES.lock();
            let front = c.fg_console == tty.index;
            let Some(vc) = c.vc(tty.index) else { return buf.len() };
            vc.screen.write(buf);
            let dirty = vc.screen.take_dirty();
            if front && vc.vc_mode == KD_TEXT {
                if let Some((from, to)) = dirty {
                    vgacon::vgacon_putcs(from, vc.screen.cells().get(from..to).unwrap_or(&[]));
                }
                vgacon::vgacon_cursor(vc.screen.deccm.then(|| vc.screen.cursor()));
            }
            core::mem::take(&mut vc.screen.report)
        };
        // Answers to ESC [ 6 n and the like come back as input
        // (Linux: `respond_string`).
        if !report.is_empty() {
            n_tty_receive_buf(tty, &report);
        }
        buf.len()
    }

    /// Linux: `con_install`: the console exists once its tty does, and the
    /// tty's window is the screen.
    fn open(&self, tty: &Tty) -> KResult<()> {
        CONSOLES.lock().vc_allocate(tty.index)?;
        if tty.winsize().ws_row == 0 {
            tty.set_winsize(vt_winsize());
        }
        Ok(())
    }

    fn ioctl(&self, tty: &Tty, cmd: u32, arg: &dyn IoctlArg) -> Option<KResult<i64>> {
        super::vt_ioctl::vt_ioctl(tty, cmd, arg)
    }
}

static CON_OPS: ConOps = ConOps;
static VT_FOPS: TtyFileOps = TtyFileOps;

/// Registers the consoles (Linux: `vty_init` + `con_init`): the `tty`
/// driver, `/dev/tty0` and `/dev/tty1..63`, console 1 in front, cleared.
pub fn vty_init() {
    if let Err(e) = try_vty_init() {
        crate::pr_err!("vt: no virtual terminals: {}", e.description());
    }
}

fn try_vty_init() -> KResult<()> {
    keyboard::kbd_init()?;
    let drawn = vgacon::vgacon_startup();
    let mut driver = TtyDriver::new("tty", TTY_MAJOR, 1, MAX_NR_CONSOLES, &CON_OPS);
    driver.name_base = 1;
    // Linux: `vty_init` with `default_utf8`.
    driver.init_termios.c_iflag |= uapi::IUTF8;
    let driver = Arc::new(driver);
    tty_register_driver(driver.clone())?;
    VT_DRIVER.call_once(|| driver);
    register_chrdev_region(DevT::new(TTY_MAJOR, 0), 1, "/dev/vc/0", &VT_FOPS)?;
    let count = u32::try_from(MAX_NR_CONSOLES).map_err(|_| Errno::EINVAL)?;
    register_chrdev_region(DevT::new(TTY_MAJOR, 1), count, "tty", &VT_FOPS)?;
    super::vc_screen::vcs_init()?;
    let mut c = CONSOLES.lock();
    c.vc_allocate(0)?;
    c.redraw();
    drop(c);
    if let Err(e) = super::i8042::i8042_init() {
        crate::pr_info!("i8042: no keyboard: {}", e.description());
    }
    crate::pr_info!(
        "Console: {} 80x25, {MAX_NR_CONSOLES} virtual consoles",
        if drawn { "colour VGA+" } else { "dummy device" }
    );
    Ok(())
}

/// `tty0`..`tty63` and console 1's `vcs` nodes for sysfs and devtmpfs,
/// once the driver is registered (Linux: `tty_register_device` for each
/// minor in `vty_init`, `vcs_make_sysfs`).
pub fn vt_char_devices() -> Vec<CharDevice> {
    static NAMES: spin::Once<Vec<&'static str>> = spin::Once::new();
    if VT_DRIVER.get().is_none() {
        return Vec::new();
    }
    let names = NAMES
        .call_once(|| (0..=MAX_NR_CONSOLES).map(|i| &*String::leak(format!("tty{i}"))).collect());
    let devt = |i: usize| DevT::new(TTY_MAJOR, u32::try_from(i).unwrap_or(0));
    // Linux makes a console's vcs nodes when it is allocated
    // (`vcs_make_sysfs`); console 1 always is.
    let vcs = [("vcs", 0), ("vcs1", 1), ("vcsa", 128), ("vcsa1", 129)].map(|(name, minor)| {
        CharDevice { class: "vc", name, devt: DevT::new(VCS_MAJOR, minor), mode: 0o600 }
    });
    names
        .iter()
        .enumerate()
        .map(|(i, &name)| CharDevice { class: "tty", name, devt: devt(i), mode: 0o600 })
        .chain(vcs)
        .collect()
}

/// `/sys/class/tty/tty0/active`: the console in front (Linux:
/// `show_tty_active`).
pub fn vt_sysfs_attrs(b: &mut crate::fs::sysfs::kernfs::KernfsBuilder) -> KResult<()> {
    if VT_DRIVER.get().is_none() {
        return Ok(());
    }
    b.attr("devices/virtual/tty/tty0", "active", |m| {
        m.printf(format_args!("tty{}\n", fg_console() + 1))
    })
}

crate::ktest!(vt_write_draws_the_front_console, {
    let driver = VT_DRIVER.get().ok_or("no VT driver")?;
    let tty1 = driver.tty(0).map_err(|_| "tty1")?;
    let tty5 = driver.tty(4).map_err(|_| "tty5")?;
    CONSOLES.lock().vc_allocate(4).map_err(|_| "allocate console 5")?;
    let drawn = vgacon::vgacon_present();
    let cell0 = || vgacon::vgacon_read(0);
    CON_OPS.write(&tty1, b"\x1b[H\x1b[2JFe");
    crate::kassert!(!drawn || cell0() == Some(0x0746), "'F' in grey at the top left");
    CON_OPS.write(&tty5, b"\x1b[H\x1b[2J\x1b[1;34mX");
    crate::kassert!(!drawn || cell0() == Some(0x0746), "a console behind is not drawn");
    set_console(4);
    crate::kassert!(fg_console() == 4, "console 5 in front");
    crate::kassert!(!drawn || cell0() == Some(0x0958), "its bright blue 'X' drawn");
    crate::kassert!(CONSOLES.lock().vt_busy(4), "the front console is busy");
    set_console(0);
    crate::kassert!(!drawn || cell0() == Some(0x0746), "console 1 drawn again");
    crate::kassert!(CONSOLES.lock().vc_deallocate(4), "console 5 freed");
    crate::kassert!(!CONSOLES.lock().vc_deallocate(0), "console 1 is never freed");
    Ok(())
});

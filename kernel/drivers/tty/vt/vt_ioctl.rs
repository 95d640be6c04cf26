//! ioctl(2) on a virtual console: switching (`VT_*`), display and
//! keyboard modes (`KD*`).
//!
//! Linux: drivers/tty/vt/vt_ioctl.c (`vt_ioctl`, `vt_k_ioctl`,
//! `vt_kdsetmode`, `vt_disallocate`, `vt_disallocate_all`,
//! `vt_setactivate`, `vt_waitactive`), include/uapi/linux/vt.h, kd.h.
//!
//! Consoles are numbered from 1 here, as user space sees them (`tty1` is
//! console 1, index 0). Commands Linux has and Ferrite lacks (fonts,
//! colour maps, Unicode maps, accent tables, key codes, `VT_RESIZE`,
//! `TIOCLINUX`) return `None`, which the tty core turns into `ENOTTY`.
//!
//! # Locking
//! vt.rs's `CONSOLES` for console state, keyboard.rs's `KBD` for keyboard
//! state, each dropped before the argument is copied to user space.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::general as uapi;
use linux_raw_sys::ioctl as cmds;

use super::keyboard;
use super::vt::{
    CONSOLES, KD_GRAPHICS, KD_TEXT, MAX_NR_CONSOLES, VT_AUTO, VT_EVENT_WAIT, VT_PROCESS, VtMode,
    fg_console, set_console, vt_in_use, vt_reldisp,
};
use crate::drivers::tty::n_tty::n_tty_flush_input;
use crate::drivers::tty::tty_io::Tty;
use crate::drivers::tty::tty_ioctl::IoctlArg;
use crate::drivers::tty::tty_jobctrl::{CurrentJobControl, JobControl};
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;

/// vt.h and kd.h values linux-raw-sys does not carry.
const VT_LOCKSWITCH: u32 = 0x560b;
const VT_UNLOCKSWITCH: u32 = 0x560c;
const VT_GETHIFONTMASK: u32 = 0x560d;
const VT_SETACTIVATE: u32 = 0x560f;
const KDMAPDISP: u32 = 0x4b3c;
const KDUNMAPDISP: u32 = 0x4b3d;
const KD_TEXT0: u32 = 0x02;
const KD_TEXT1: u32 = 0x03;
/// kd.h: "this is what we always answer".
const KB_101: u8 = 0x02;

fn put_i32(arg: &dyn IoctlArg, v: i32) -> KResult<i64> {
    arg.write_bytes(&v.to_ne_bytes()).map(|()| 0)
}

/// A user console number 1..63 as an index (Linux: the `ENXIO` checks).
fn console_arg(arg: u64) -> KResult<usize> {
    match usize::try_from(arg) {
        Ok(n @ 1..=MAX_NR_CONSOLES) => Ok(n - 1),
        _ => Err(Errno::ENXIO),
    }
}

/// Handles a console ioctl on `tty`; `None` for a command that is not one
/// (Linux: `vt_ioctl` returning `-ENOIOCTLCMD`).
pub fn vt_ioctl(tty: &Tty, cmd: u32, arg: &dyn IoctlArg) -> Option<KResult<i64>> {
    // The tty's owner or CAP_SYS_TTY_CONFIG may change things.
    let owner =
        CurrentJobControl::new().controlling_tty().is_some_and(|t| core::ptr::eq(t.as_ref(), tty));
    let perm = owner || capable(uapi::CAP_SYS_TTY_CONFIG);
    let needs_perm = matches!(
        cmd,
        cmds::KIOCSOUND
            | cmds::KDMKTONE
            | cmds::KDSETMODE
            | cmds::KDSKBMODE
            | cmds::VT_SETMODE
            | cmds::VT_ACTIVATE
            | VT_SETACTIVATE
            | cmds::VT_WAITACTIVE
            | cmds::VT_RELDISP
    );
    if needs_perm && !perm {
        return Some(Err(Errno::EPERM));
    }
    if let Some(r) = vt_k_ioctl(tty, cmd, arg, perm) {
        return Some(r);
    }
    vt_switch_ioctl(tty.index, cmd, arg)
}

/// The `KD*` commands (Linux: `vt_k_ioctl`).
fn vt_k_ioctl(tty: &Tty, cmd: u32, arg: &dyn IoctlArg, perm: bool) -> Option<KResult<i64>> {
    let console = tty.index;
    let value = arg.value();
    Some(match cmd {
        // No PC speaker driver: the tone is silently not played.
        cmds::KIOCSOUND | cmds::KDMKTONE => Ok(0),
        cmds::KDGKBTYPE => arg.write_bytes(&[KB_101]).map(|()| 0),
        cmds::KDSETMODE => vt_kdsetmode(console, value).map(|()| 0),
        cmds::KDGETMODE => {
            let mode = CONSOLES.lock().vc(console).map_or(KD_TEXT, |vc| vc.vc_mode);
            put_i32(arg, mode as i32)
        }
        KDMAPDISP | KDUNMAPDISP => Err(Errno::EINVAL),
        cmds::KDSKBMODE => keyboard::vt_do_kdskbmode(console, value).map(|()| {
            n_tty_flush_input(tty);
            0
        }),
        cmds::KDGKBMODE => put_i32(arg, keyboard::vt_do_kdgkbmode(console) as i32),
        cmds::KDSKBMETA => keyboard::vt_do_kdskbmeta(console, value).map(|()| 0),
        cmds::KDGKBMETA => put_i32(arg, keyboard::vt_do_kdgkbmeta(console) as i32),
        cmds::KDGKBENT | cmds::KDSKBENT => keyboard::vt_do_kdsk_ioctl(cmd, arg, perm, console),
        cmds::KDGKBSENT | cmds::KDSKBSENT => keyboard::vt_do_kdgkb_ioctl(cmd, arg, perm),
        // Linux drops the owner's right here: only the capability counts.
        cmds::KDGETKEYCODE | cmds::KDSETKEYCODE => {
            vt_kdkeycode(cmd, arg, capable(uapi::CAP_SYS_TTY_CONFIG))
        }
        _ => return keyboard::vt_do_kdskled(console, cmd, arg, perm),
    })
}

/// `KDGETKEYCODE`/`KDSETKEYCODE` on a `struct kbkeycode { unsigned int
/// scancode, keycode; }` (Linux: `vt_do_kdgkb_ioctl`'s neighbours in
/// vt_ioctl.c: setting takes `CAP_SYS_TTY_CONFIG`).
fn vt_kdkeycode(cmd: u32, arg: &dyn IoctlArg, perm: bool) -> KResult<i64> {
    let mut b = [0; 8];
    arg.read_bytes(&mut b)?;
    let scancode = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
    if cmd == cmds::KDGETKEYCODE {
        let keycode = super::i8042::getkeycode(scancode)?;
        b[4..].copy_from_slice(&keycode.to_ne_bytes());
        return arg.write_bytes(&b).map(|()| 0);
    }
    if !perm {
        return Err(Errno::EPERM);
    }
    super::i8042::setkeycode(scancode, u32::from_ne_bytes([b[4], b[5], b[6], b[7]])).map(|()| 0)
}

/// Linux: `vt_kdsetmode`: text or graphics; the front console is drawn
/// again when it returns to text.
fn vt_kdsetmode(console: usize, mode: u64) -> KResult<()> {
    let mode = match u32::try_from(mode) {
        Ok(KD_GRAPHICS) => KD_GRAPHICS,
        Ok(KD_TEXT | KD_TEXT0 | KD_TEXT1) => KD_TEXT,
        _ => return Err(Errno::EINVAL),
    };
    let mut c = CONSOLES.lock();
    let front = c.fg_console == console;
    let vc = c.vc(console).ok_or(Errno::ENXIO)?;
    if vc.vc_mode != mode {
        vc.vc_mode = mode;
        if front && mode == KD_TEXT {
            c.redraw_front();
        }
    }
    Ok(())
}

/// The `VT_*` commands (the second half of Linux's `vt_ioctl`).
fn vt_switch_ioctl(console: usize, cmd: u32, arg: &dyn IoctlArg) -> Option<KResult<i64>> {
    let value = arg.value();
    Some(match cmd {
        cmds::VT_SETMODE => {
            let mut b = [0; VtMode::SIZE];
            if let Err(e) = arg.read_bytes(&mut b) {
                return Some(Err(e));
            }
            vt_setmode(console, VtMode::from_bytes(&b)).map(|()| 0)
        }
        cmds::VT_GETMODE => {
            let mode = CONSOLES.lock().vc(console).map(|vc| vc.vt_mode).unwrap_or_default();
            arg.write_bytes(&mode.to_bytes()).map(|()| 0)
        }
        cmds::VT_GETSTATE => vt_getstate(arg),
        cmds::VT_OPENQRY => {
            let free = (0..MAX_NR_CONSOLES).find(|&i| !vt_in_use(i));
            put_i32(arg, free.map_or(-1, |i| i32::try_from(i + 1).unwrap_or(-1)))
        }
        cmds::VT_ACTIVATE => console_arg(value).and_then(|new| {
            CONSOLES.lock().vc_allocate(new)?;
            set_console(new);
            Ok(0)
        }),
        VT_SETACTIVATE => vt_setactivate(arg),
        cmds::VT_WAITACTIVE => console_arg(value).and_then(vt_waitactive).map(|()| 0),
        cmds::VT_RELDISP => vt_reldisp(console, value).map(|()| 0),
        cmds::VT_DISALLOCATE => vt_disallocate(value).map(|()| 0),
        VT_LOCKSWITCH | VT_UNLOCKSWITCH if !capable(uapi::CAP_SYS_TTY_CONFIG) => Err(Errno::EPERM),
        VT_LOCKSWITCH | VT_UNLOCKSWITCH => {
            CONSOLES.lock().dont_switch = cmd == VT_LOCKSWITCH;
            Ok(0)
        }
        // A VGA font has 256 glyphs: no high font bit.
        VT_GETHIFONTMASK => arg.write_bytes(&0u16.to_ne_bytes()).map(|()| 0),
        _ => return None,
    })
}

/// Linux: `VT_SETMODE`: the caller becomes the console's controlling
/// process.
fn vt_setmode(console: usize, mut mode: VtMode) -> KResult<()> {
    if mode.mode != VT_AUTO && mode.mode != VT_PROCESS {
        return Err(Errno::EINVAL);
    }
    mode.frsig = 0;
    let pid = current().tgid;
    let mut c = CONSOLES.lock();
    let vc = c.vc(console).ok_or(Errno::ENXIO)?;
    vc.vt_mode = mode;
    vc.vt_pid = Some(pid);
    vc.vt_newvt = None;
    Ok(())
}

/// Linux: `VT_GETSTATE`: the front console and a bit per open console
/// 1..15 (bit 0, `/dev/tty0`, is always set); `v_signal` is left alone.
fn vt_getstate(arg: &dyn IoctlArg) -> KResult<i64> {
    let mut b = [0u8; 6];
    arg.read_bytes(&mut b)?;
    let active = u16::try_from(fg_console() + 1).unwrap_or(0);
    let state = (0..15).filter(|&i| vt_in_use(i)).fold(1u16, |s, i| s | 2 << i);
    b[0..2].copy_from_slice(&active.to_ne_bytes());
    b[4..6].copy_from_slice(&state.to_ne_bytes());
    arg.write_bytes(&b).map(|()| 0)
}

/// Linux: `vt_setactivate`: `struct vt_setactivate { u32 console; struct
/// vt_mode mode; }`.
fn vt_setactivate(arg: &dyn IoctlArg) -> KResult<i64> {
    let mut b = [0u8; 4 + VtMode::SIZE];
    arg.read_bytes(&mut b)?;
    let new = console_arg(u64::from(u32::from_ne_bytes([b[0], b[1], b[2], b[3]])))?;
    let mut mode = [0u8; VtMode::SIZE];
    mode.copy_from_slice(&b[4..]);
    CONSOLES.lock().vc_allocate(new)?;
    vt_setmode(new, VtMode::from_bytes(&mode))?;
    set_console(new);
    Ok(0)
}

/// Linux: `vt_waitactive`: sleeps until console `n` is in front.
fn vt_waitactive(n: usize) -> KResult<()> {
    VT_EVENT_WAIT.wait_event_interruptible(|| fg_console() == n).map_err(|_| Errno::EINTR)
}

/// Linux: `VT_DISALLOCATE`: frees console `arg`, or every unused one for
/// 0; never the first, `EBUSY` for one open or in front.
fn vt_disallocate(arg: u64) -> KResult<()> {
    let freed: Vec<usize> = if arg == 0 {
        let mut c = CONSOLES.lock();
        (1..MAX_NR_CONSOLES).filter(|&i| !c.vt_busy(i) && c.vc_deallocate(i)).collect()
    } else {
        let i = console_arg(arg)?;
        let mut c = CONSOLES.lock();
        if c.vt_busy(i) {
            return Err(Errno::EBUSY);
        }
        c.vc_deallocate(i).then_some(i).into_iter().collect()
    };
    // Linux frees the tty with its console; Ferrite's driver keeps the tty
    // object, so it starts its next life with fresh settings.
    for i in freed {
        super::vt::vt_tty_reset(i);
    }
    Ok(())
}

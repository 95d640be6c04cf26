//! ioctl(2) on a terminal: termios, window size, job control, queue sizes.
//!
//! Linux: drivers/tty/tty_ioctl.c (`tty_mode_ioctl`, `set_termios`,
//! `tty_perform_flush`), drivers/tty/tty_io.c (`tty_ioctl`),
//! drivers/tty/n_tty.c (`n_tty_ioctl`).
//!
//! The argument is reached through [`IoctlArg`], so the same code serves
//! a system call (user memory, through `copy_from_user`) and a self-test
//! (a kernel buffer).
//!
//! # Locking
//! None of its own: the tty's locks are taken by the helpers it calls, and
//! never across a copy of the argument, which may fault.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use linux_raw_sys::general as uapi;
use linux_raw_sys::ioctl as cmds;
use n_tty::{TERMIOS_SIZE, Termios, WINSIZE_SIZE, Winsize};

use super::n_tty::{n_tty_flush_input, n_tty_inq};
use super::tty_io::Tty;
use super::tty_jobctrl::{
    JobControl, tiocgpgrp, tiocgsid, tiocnotty, tiocsctty, tiocspgrp, tty_check_change, tty_isig,
};
use crate::kernel::errno::{Errno, KResult};

/// An ioctl's third argument: a number, or the address of a buffer.
pub trait IoctlArg {
    fn value(&self) -> u64;
    /// Copies the buffer the argument points at into `buf`.
    fn read_bytes(&self, buf: &mut [u8]) -> KResult<()>;
    /// Copies `buf` to where the argument points.
    fn write_bytes(&self, buf: &[u8]) -> KResult<()>;
}

fn read_i32(arg: &dyn IoctlArg) -> KResult<i32> {
    let mut bytes = [0; 4];
    arg.read_bytes(&mut bytes)?;
    Ok(i32::from_ne_bytes(bytes))
}

fn write_i32(arg: &dyn IoctlArg, value: i32) -> KResult<i64> {
    arg.write_bytes(&value.to_ne_bytes())?;
    Ok(0)
}

/// Handles a terminal ioctl (Linux: `tty_ioctl`); `ENOTTY` for commands a
/// tty does not know.
pub fn tty_ioctl(
    tty: &Arc<Tty>,
    caller: &dyn JobControl,
    cmd: u32,
    arg: &dyn IoctlArg,
) -> KResult<i64> {
    // A pty master's termios, window size and job control are its slave's
    // (Linux: `tty_pair_get_tty`, the `real_tty` of `tty_mode_ioctl`).
    let real_tty = &tty.pair_get_tty();
    match cmd {
        cmds::TCGETS => {
            arg.write_bytes(&real_tty.termios().to_bytes())?;
            Ok(0)
        }
        cmds::TCSETS | cmds::TCSETSW | cmds::TCSETSF => {
            tty_check_change(real_tty, caller, uapi::SIGTTOU)?;
            set_termios(real_tty, cmd, arg)
        }
        cmds::TIOCGWINSZ => {
            arg.write_bytes(&real_tty.winsize().to_bytes())?;
            Ok(0)
        }
        cmds::TIOCSWINSZ => {
            let mut bytes = [0; WINSIZE_SIZE];
            arg.read_bytes(&mut bytes)?;
            if real_tty.set_winsize(Winsize::from_bytes(&bytes)) {
                tty_isig(real_tty, uapi::SIGWINCH);
            }
            Ok(0)
        }
        cmds::TIOCSCTTY => tiocsctty(real_tty, caller, arg.value() == 1).map(|()| 0),
        cmds::TIOCNOTTY => tiocnotty(real_tty, caller).map(|()| 0),
        // Anyone with the master may ask (Linux: `tiocgpgrp`'s `tty == real_tty` test).
        cmds::TIOCGPGRP if tty.driver.pty_master => {
            let pgrp = real_tty.ctrl.lock().pgrp;
            write_i32(arg, pgrp.map_or(0, |nr| caller.nr_to_vnr(nr)))
        }
        cmds::TIOCGPGRP => write_i32(arg, tiocgpgrp(real_tty, caller)?),
        cmds::TIOCSPGRP => tiocspgrp(real_tty, caller, read_i32(arg)?).map(|()| 0),
        cmds::TIOCGSID => write_i32(arg, tiocgsid(real_tty, caller)?),
        cmds::FIONREAD => write_i32(arg, i32::try_from(n_tty_inq(tty)).unwrap_or(i32::MAX)),
        // Output goes to the UART synchronously: nothing is ever queued.
        cmds::TIOCOUTQ => write_i32(arg, 0),
        cmds::TCFLSH => {
            tty_check_change(real_tty, caller, uapi::SIGTTOU)?;
            tty_perform_flush(tty, arg.value())
        }
        // tcdrain() and tcflow(): polled output has already drained and
        // never stops.
        cmds::TCSBRK | cmds::TCSBRKP | cmds::TCXONC => Ok(0),
        // The driver's own (a pty master's TIOCGPTN...), else unknown.
        _ => tty.driver.ops.ioctl(tty, cmd, arg).unwrap_or(Err(Errno::ENOTTY)),
    }
}

/// `TCSETS*` (Linux: `set_termios`): `TCSETSF` also discards typed input;
/// `TCSETSW` would wait for output to drain, which polled output has.
fn set_termios(tty: &Tty, cmd: u32, arg: &dyn IoctlArg) -> KResult<i64> {
    let mut bytes = [0; TERMIOS_SIZE];
    arg.read_bytes(&mut bytes)?;
    if cmd == cmds::TCSETSF {
        n_tty_flush_input(tty);
    }
    tty.set_termios(Termios::from_bytes(&bytes));
    // Turning IXON off restarts output held by VSTOP.
    tty.write_wait.wake_up_all();
    Ok(0)
}

/// `TCFLSH` (Linux: `tty_perform_flush`).
fn tty_perform_flush(tty: &Tty, how: u64) -> KResult<i64> {
    match u32::try_from(how).map_err(|_| Errno::EINVAL)? {
        uapi::TCIFLUSH => n_tty_flush_input(tty),
        uapi::TCIOFLUSH => {
            n_tty_flush_input(tty);
            tty.driver.ops.flush_buffer(tty);
        }
        uapi::TCOFLUSH => tty.driver.ops.flush_buffer(tty),
        _ => return Err(Errno::EINVAL),
    }
    Ok(0)
}

//! Job control on a terminal: the session a tty controls, its foreground
//! process group, and the signals typed at it.
//!
//! Linux: drivers/tty/tty_jobctrl.c (`tiocsctty`, `tiocgpgrp`, `tiocspgrp`,
//! `tiocgsid`, `disassociate_ctty`), drivers/tty/n_tty.c (`isig`).
//!
//! The tty keeps the session and foreground group as PID numbers
//! (Linux keeps `struct pid *`; PID namespaces will need the same here).
//! The process side (`current->signal->tty`, its session and group) is
//! reached through the [`JobControl`] trait that the caller implements for
//! the current task, so this file needs no task internals.
//!
//! Background reads and writes (SIGTTIN, SIGTTOU, `tty_check_change`) and
//! the EPERM rules that need them come with ptys and full job control
//! (issue 7).
//!
//! # Locking
//! `Tty::ctrl`, a leaf lock: never held while signalling or calling into
//! the caller's [`JobControl`].
#![deny(unsafe_code)]

use alloc::sync::Arc;

use n_tty::Winsize;

use super::tty_io::Tty;
use crate::kernel::errno::{Errno, KResult};

/// A tty's job-control state (Linux: `tty->session`, `tty->pgrp`,
/// `tty->winsize`).
#[derive(Clone, Copy, Debug, Default)]
pub struct TtyCtrl {
    /// The session this tty controls, if any.
    pub session: Option<i32>,
    /// Its foreground process group.
    pub pgrp: Option<i32>,
    pub winsize: Winsize,
}

/// What job control asks about the calling process (Linux reads it from
/// `current` and `current->signal`).
pub trait JobControl {
    fn pid(&self) -> i32;
    fn pgrp(&self) -> i32;
    fn sid(&self) -> i32;
    fn is_session_leader(&self) -> bool {
        self.sid() == self.pid()
    }
    /// `current->signal->tty`.
    fn controlling_tty(&self) -> Option<Arc<Tty>>;
    fn set_controlling_tty(&self, tty: Option<Arc<Tty>>);
    /// The session of process group `pgrp`, or `None` if no such group
    /// exists (Linux: `session_of_pgrp`).
    fn session_of_pgrp(&self, pgrp: i32) -> Option<i32>;
    fn capable_sys_admin(&self) -> bool;
}

fn is_controlling(tty: &Arc<Tty>, caller: &dyn JobControl) -> bool {
    caller.controlling_tty().is_some_and(|ctty| Arc::ptr_eq(&ctty, tty))
}

/// `TIOCSCTTY`: a session leader without a terminal takes `tty` as its
/// controlling terminal; `steal` (arg 1) lets root take it from another
/// session.
pub fn tiocsctty(tty: &Arc<Tty>, caller: &dyn JobControl, steal: bool) -> KResult<()> {
    let session = tty.ctrl.lock().session;
    if caller.is_session_leader() && session == Some(caller.sid()) {
        return Ok(());
    }
    if !caller.is_session_leader() || caller.controlling_tty().is_some() {
        return Err(Errno::EPERM);
    }
    if session.is_some() && !(steal && caller.capable_sys_admin()) {
        return Err(Errno::EPERM);
    }
    {
        let mut ctrl = tty.ctrl.lock();
        ctrl.session = Some(caller.sid());
        ctrl.pgrp = Some(caller.pgrp());
    }
    caller.set_controlling_tty(Some(tty.clone()));
    Ok(())
}

/// `TIOCNOTTY`: the caller gives up its controlling terminal; when the
/// session leader does, the tty forgets the session (Linux:
/// `disassociate_ctty`, without the SIGHUP to the foreground group yet).
pub fn tiocnotty(tty: &Arc<Tty>, caller: &dyn JobControl) -> KResult<()> {
    if !is_controlling(tty, caller) {
        return Err(Errno::ENOTTY);
    }
    if caller.is_session_leader() {
        let mut ctrl = tty.ctrl.lock();
        ctrl.session = None;
        ctrl.pgrp = None;
    }
    caller.set_controlling_tty(None);
    Ok(())
}

/// `TIOCGPGRP`: the foreground process group (0 if none).
pub fn tiocgpgrp(tty: &Arc<Tty>, caller: &dyn JobControl) -> KResult<i32> {
    if !is_controlling(tty, caller) {
        return Err(Errno::ENOTTY);
    }
    Ok(tty.ctrl.lock().pgrp.unwrap_or(0))
}

/// `TIOCSPGRP`: makes `pgrp`, a group of the caller's session, the
/// foreground group.
pub fn tiocspgrp(tty: &Arc<Tty>, caller: &dyn JobControl, pgrp: i32) -> KResult<()> {
    if !is_controlling(tty, caller) || tty.ctrl.lock().session != Some(caller.sid()) {
        return Err(Errno::ENOTTY);
    }
    if pgrp < 0 {
        return Err(Errno::EINVAL);
    }
    if caller.session_of_pgrp(pgrp).ok_or(Errno::ESRCH)? != caller.sid() {
        return Err(Errno::EPERM);
    }
    tty.ctrl.lock().pgrp = Some(pgrp);
    Ok(())
}

/// `TIOCGSID`: the session the tty controls.
pub fn tiocgsid(tty: &Arc<Tty>, caller: &dyn JobControl) -> KResult<i32> {
    if !is_controlling(tty, caller) {
        return Err(Errno::ENOTTY);
    }
    tty.ctrl.lock().session.ok_or(Errno::ENOTTY)
}

/// Sends `sig` to the tty's foreground process group (Linux: `isig` ->
/// `__isig` -> `kill_pgrp`); returns the group signalled.
pub fn tty_isig(tty: &Tty, sig: u32) -> Option<i32> {
    let pgrp = tty.ctrl.lock().pgrp?;
    kill_pgrp(pgrp, sig);
    Some(pgrp)
}

/// LEAD: call the signal engineer's `kill_pgrp(pgrp, sig, priv=1)` here
/// (Linux: `kill_pgrp(tty->pgrp, sig, 1)`); it may be called from the UART
/// interrupt with no tty lock held.
fn kill_pgrp(pgrp: i32, sig: u32) {
    crate::pr_debug!("tty: signal {sig} to process group {pgrp} (no signal delivery yet)");
}

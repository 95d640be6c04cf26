//! Job control on a terminal: the session a tty controls, its foreground
//! process group, and the signals typed at it.
//!
//! Linux: drivers/tty/tty_jobctrl.c (`tiocsctty`, `tiocgpgrp`, `tiocspgrp`,
//! `tiocgsid`, `disassociate_ctty`), drivers/tty/n_tty.c (`isig`).
//!
//! The tty keeps the session and foreground group as PID numbers of the
//! initial namespace (Linux keeps `struct pid *`); the ioctls translate
//! them to and from the caller's PID namespace, as Linux's `pid_vnr` and
//! `find_vpid` do.
//! The process side (`current->signal->tty`, its session and group) is
//! reached through the [`JobControl`] trait, so the rules can be tested
//! with a made-up caller; [`CurrentJobControl`] is the real one, the
//! calling task, whose session's controlling tty lives in `SESSION_TTYS`.
//! A session leader's first open of a tty without `O_NOCTTY` makes it the
//! controlling tty ([`tty_open_proc_set_tty`]).
//!
//! A background process group that reads its controlling tty, changes its
//! settings, or writes to it under `TOSTOP`, is stopped by SIGTTIN or
//! SIGTTOU ([`tty_check_change`]), or gets `EIO` when nobody could continue
//! it (the signal ignored or blocked, or its group orphaned).
//!
//! # Locking
//! `Tty::ctrl`, a leaf lock: never held while signalling or calling into
//! the caller's [`JobControl`]. `SESSION_TTYS` is a leaf too, never held
//! together with a `Tty::ctrl`.
#![deny(unsafe_code)]

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use linux_raw_sys::general as uapi;
use n_tty::Winsize;

use super::tty_io::{TTYAUX_MAJOR, Tty};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::pid::{find_pid_ns, for_each_process, nr_to_ns, task_active_pid_ns};
use crate::kernel::sched::{Task, current};
use crate::kernel::signal::orphan::is_pgrp_orphaned;
use crate::kernel::signal::{SigHandler, SigTask, Signal};

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
    /// Whether a live process is still in session `sid`: a tty whose
    /// session is gone is free again (Linux frees it when the session
    /// leader exits, `disassociate_ctty`; nothing calls that here yet).
    fn session_exists(&self, _sid: i32) -> bool {
        true
    }
    /// Whether `sig` is blocked or set to `SIG_IGN` by the caller (Linux:
    /// `is_ignored` in tty_jobctrl.c).
    fn is_ignored(&self, _sig: u32) -> bool {
        false
    }
    /// Whether the caller's process group has no member with a parent in
    /// another group of its session (Linux: `is_current_pgrp_orphaned`).
    fn is_pgrp_orphaned(&self) -> bool {
        false
    }
    /// The caller's number for `nr`, 0 if its namespace has none (Linux:
    /// `pid_vnr`).
    fn nr_to_vnr(&self, nr: i32) -> i32 {
        nr
    }
    /// The initial namespace's number for the caller's `vnr`, `None` if
    /// its namespace has no such number (Linux: `find_vpid`).
    fn vnr_to_nr(&self, vnr: i32) -> Option<i32> {
        Some(vnr)
    }
}

/// The controlling tty of each session, by session ID (Linux keeps it in
/// every process's `signal->tty`; here the session's processes share one
/// entry, and an entry counts only while the tty still names the session).
static SESSION_TTYS: SpinLock<BTreeMap<i32, Arc<Tty>>> = SpinLock::new(BTreeMap::new());

/// The calling task, as job control sees it (Linux: `current`,
/// `current->signal`).
pub struct CurrentJobControl(Arc<Task>);

impl CurrentJobControl {
    pub fn new() -> Self {
        Self(current())
    }
}

impl JobControl for CurrentJobControl {
    /// The process, not the thread: a session is led by a thread group.
    #[expect(clippy::misnamed_getters, reason = "job control's PID is the thread group's")]
    fn pid(&self) -> i32 {
        self.0.tgid
    }
    fn pgrp(&self) -> i32 {
        self.0.pgrp()
    }
    fn sid(&self) -> i32 {
        self.0.session()
    }
    /// Linux: `get_current_tty`.
    fn controlling_tty(&self) -> Option<Arc<Tty>> {
        let sid = self.sid();
        let tty = SESSION_TTYS.lock().get(&sid).cloned()?;
        let still_ours = tty.ctrl.lock().session == Some(sid);
        still_ours.then_some(tty)
    }
    /// Linux: `proc_set_tty`, for the whole session.
    fn set_controlling_tty(&self, tty: Option<Arc<Tty>>) {
        let sid = self.sid();
        let old = match tty {
            Some(tty) => SESSION_TTYS.lock().insert(sid, tty),
            None => SESSION_TTYS.lock().remove(&sid),
        };
        drop(old);
    }
    fn session_of_pgrp(&self, pgrp: i32) -> Option<i32> {
        let mut session = None;
        for_each_process(|t| {
            if session.is_none() && t.pgrp() == pgrp && t.exit_state() == 0 {
                session = Some(t.session());
            }
        });
        session
    }
    fn capable_sys_admin(&self) -> bool {
        self.0.cred().euid == 0
    }
    fn session_exists(&self, sid: i32) -> bool {
        let mut alive = false;
        for_each_process(|t| alive |= t.session() == sid && t.exit_state() == 0);
        alive
    }
    fn is_ignored(&self, sig: u32) -> bool {
        let Some(sig) = Signal::new(sig) else { return false };
        self.0.thread_signal().lock().blocked.contains(sig)
            || self.0.sighand().action(sig).sig_handler() == SigHandler::Ignore
    }
    fn is_pgrp_orphaned(&self) -> bool {
        is_pgrp_orphaned(self.pgrp())
    }
    fn nr_to_vnr(&self, nr: i32) -> i32 {
        nr_to_ns(nr, &task_active_pid_ns(&self.0))
    }
    fn vnr_to_nr(&self, vnr: i32) -> Option<i32> {
        let pid = find_pid_ns(vnr, &task_active_pid_ns(&self.0))?;
        Some(pid.nr())
    }
}

/// The tty session `sid` controls, if it still does (Linux: a process's
/// `signal->tty`, as /proc/PID/stat reads it).
pub fn session_tty(sid: i32) -> Option<Arc<Tty>> {
    let tty = SESSION_TTYS.lock().get(&sid).cloned()?;
    let ours = tty.ctrl.lock().session == Some(sid);
    ours.then_some(tty)
}

/// An open of `tty` by a session leader without a terminal makes it the
/// session's controlling tty, unless `noctty` or another session has it
/// (Linux: `tty_open_proc_set_tty`).
pub fn tty_open_proc_set_tty(tty: &Arc<Tty>, caller: &dyn JobControl, noctty: bool) {
    if noctty || !caller.is_session_leader() || caller.controlling_tty().is_some() {
        return;
    }
    let holder = tty.ctrl.lock().session;
    if holder.is_some_and(|s| caller.session_exists(s)) {
        return;
    }
    {
        let mut ctrl = tty.ctrl.lock();
        if ctrl.session != holder {
            return;
        }
        ctrl.session = Some(caller.sid());
        ctrl.pgrp = Some(caller.pgrp());
    }
    caller.set_controlling_tty(Some(tty.clone()));
}

fn is_controlling(tty: &Arc<Tty>, caller: &dyn JobControl) -> bool {
    caller.controlling_tty().is_some_and(|ctty| Arc::ptr_eq(&ctty, tty))
}

/// `TIOCSCTTY`: a session leader without a terminal takes `tty` as its
/// controlling terminal; `steal` (arg 1) lets root take it from another
/// session.
pub fn tiocsctty(tty: &Arc<Tty>, caller: &dyn JobControl, steal: bool) -> KResult<()> {
    let session = tty.ctrl.lock().session.filter(|&s| caller.session_exists(s));
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
    let pgrp = tty.ctrl.lock().pgrp;
    Ok(pgrp.map_or(0, |nr| caller.nr_to_vnr(nr)))
}

/// `TIOCSPGRP`: makes `pgrp`, a group of the caller's session numbered in
/// the caller's PID namespace, the foreground group.
pub fn tiocspgrp(tty: &Arc<Tty>, caller: &dyn JobControl, pgrp: i32) -> KResult<()> {
    match tty_check_change(tty, caller, uapi::SIGTTOU) {
        Err(Errno::EIO) => return Err(Errno::ENOTTY),
        other => other?,
    }
    if !is_controlling(tty, caller) || tty.ctrl.lock().session != Some(caller.sid()) {
        return Err(Errno::ENOTTY);
    }
    if pgrp < 0 {
        return Err(Errno::EINVAL);
    }
    let pgrp = caller.vnr_to_nr(pgrp).ok_or(Errno::ESRCH)?;
    if caller.session_of_pgrp(pgrp).ok_or(Errno::ESRCH)? != caller.sid() {
        return Err(Errno::EPERM);
    }
    tty.ctrl.lock().pgrp = Some(pgrp);
    Ok(())
}

/// The job-control check before a read (`sig` SIGTTIN), a change of the
/// settings or a write under `TOSTOP` (SIGTTOU): a process of a background
/// group of the session `tty` controls stops its group with `sig` and gets
/// `ERESTARTSYS`, so that the call is made again once the group is
/// continued. Where nobody could continue it, an ignored or blocked SIGTTIN
/// or an orphaned group gets `EIO`, an ignored or blocked SIGTTOU goes
/// ahead (Linux: `__tty_check_change`).
pub fn tty_check_change(tty: &Arc<Tty>, caller: &dyn JobControl, sig: u32) -> KResult<()> {
    if !is_controlling(tty, caller) {
        return Ok(());
    }
    let pgrp = caller.pgrp();
    if tty.ctrl.lock().pgrp.is_none_or(|fg| fg == pgrp) {
        return Ok(());
    }
    if caller.is_ignored(sig) {
        return if sig == uapi::SIGTTIN { Err(Errno::EIO) } else { Ok(()) };
    }
    if caller.is_pgrp_orphaned() {
        return Err(Errno::EIO);
    }
    kill_pgrp(pgrp, sig);
    Err(Errno::ERESTARTSYS)
}

/// The check at the start of a read (`sig` SIGTTIN) or of a write (SIGTTOU,
/// only under `TOSTOP`) of `tty` through a file opened as device `rdev`:
/// `/dev/console` is exempt (Linux: `job_control` in n_tty.c, the `TOSTOP`
/// test of `n_tty_write`, both skipping `redirected_tty_write` files).
pub fn tty_rw_job_control(tty: &Arc<Tty>, rdev: (u32, u32), sig: u32) -> KResult<()> {
    if rdev == (TTYAUX_MAJOR, 1) {
        return Ok(());
    }
    if sig == uapi::SIGTTOU && tty.termios().c_lflag & uapi::TOSTOP == 0 {
        return Ok(());
    }
    tty_check_change(tty, &CurrentJobControl::new(), sig)
}

/// `TIOCGSID`: the session the tty controls.
pub fn tiocgsid(tty: &Arc<Tty>, caller: &dyn JobControl) -> KResult<i32> {
    if !is_controlling(tty, caller) {
        return Err(Errno::ENOTTY);
    }
    let session = tty.ctrl.lock().session;
    session.map(|nr| caller.nr_to_vnr(nr)).ok_or(Errno::ENOTTY)
}

/// Sends `sig` to the tty's foreground process group (Linux: `isig` ->
/// `__isig` -> `kill_pgrp`); returns the group signalled.
pub fn tty_isig(tty: &Tty, sig: u32) -> Option<i32> {
    let pgrp = tty.ctrl.lock().pgrp?;
    kill_pgrp(pgrp, sig);
    Some(pgrp)
}

/// Signals the foreground group from the kernel (Linux: `kill_pgrp(tty->pgrp,
/// sig, 1)`); may run in the UART interrupt, with no tty lock held.
fn kill_pgrp(pgrp: i32, sig: u32) {
    if let Some(sig) = crate::kernel::signal::Signal::new(sig) {
        crate::kernel::signal::kill_pgrp_priv(pgrp, sig);
    }
}

//! Taking a signal on the way back to user mode: dequeue, then ignore,
//! stop, die, or hand it to the architecture to build a handler frame.
//!
//! Linux: kernel/signal.c (`dequeue_signal`, `get_signal`,
//! `do_signal_stop`, `signal_delivered`, `set_current_blocked`,
//! `sigmask_to_save`, `restore_saved_sigmask`).
//!
//! A POSIX timer's signal is completed as it is dequeued, and a periodic
//! `ITIMER_REAL` restarted by its SIGALRM, after the signal locks are
//! dropped (`posixtimer_rearm`, `itimer_rearm_real`).
//!
//! # Locking
//! `GroupSignal` then `ThreadSignal` (see `signal/mod.rs`); no lock is held
//! while the task stops, exits or touches user memory.

use super::task::{SigTask, SignalFlags, recalc_sigpending};
use super::{DefaultAction, KSigAction, SaFlags, SigHandler, SigInfo, SigSet, Signal};
use super::{do_notify_parent_cldstop, si_code, sig_default_action, w_signaled};

/// A signal to run a handler for (Linux: `struct ksignal`).
#[derive(Clone, Copy, Debug)]
pub struct KSignal {
    pub info: SigInfo,
    /// The action as it was when the signal was taken.
    pub ka: KSigAction,
}

/// Takes the next unblocked signal, the thread's own before the group's
/// (Linux: `dequeue_signal`).
pub fn dequeue_signal<T: SigTask>(t: &T) -> Option<SigInfo> {
    dequeue_signal_masked(t, None)
}

/// [`dequeue_signal`] with `mask` in place of the blocked set, as
/// `rt_sigtimedwait` takes only the signals it waits for (Linux: the
/// `mask` argument of `dequeue_signal`).
pub fn dequeue_signal_masked<T: SigTask>(t: &T, mask: Option<SigSet>) -> Option<SigInfo> {
    let mut g = t.group_signal().lock();
    let mut th = t.thread_signal().lock();
    let blocked = mask.unwrap_or(th.blocked);
    let mut info = th.pending.dequeue(blocked).or_else(|| g.shared_pending.dequeue(blocked));
    recalc_sigpending(&g, &th, t.thread_signal());
    drop(th);
    if info.is_some_and(|i| super::STOP_MASK.contains(i.signo)) {
        // Remembered so that a SIGCONT racing with the stop cancels it.
        g.flags.remove(SignalFlags::STOP_CONTINUED);
    }
    drop(g);
    if let Some(info) = info.as_mut().filter(|i| i.code == linux_raw_sys::general::SI_TIMER) {
        // A POSIX timer's signal reports its overruns (Linux: the
        // `si_sys_private` check in `dequeue_signal`).
        crate::kernel::time::posix_timers::posixtimer_rearm(info);
    }
    if info.is_some_and(|i| i.signo == Signal::SIGALRM) {
        // ITIMER_REAL runs again once its signal is taken (Linux: the
        // `SIGALRM` case of `dequeue_signal`).
        crate::kernel::time::itimer::itimer_rearm_real();
    }
    info
}

/// Finds the next signal with a user handler for the current task, acting
/// on the others here: ignore, stop, or end the group (Linux: `get_signal`).
pub fn get_signal<T: SigTask>() -> Option<KSignal> {
    match next_signal::<T>() {
        Ok(ksig) => ksig,
        // Exits from this frame, which holds no reference: the task's
        // stack is never unwound.
        Err(code) => T::do_group_exit(code),
    }
}

/// The body of `get_signal`; `Err(status)` when the group must exit.
fn next_signal<T: SigTask>() -> Result<Option<KSignal>, i32> {
    let cur = T::current();
    loop {
        report_continued(cur.as_ref());
        if let Some(code) = group_exit_code(cur.as_ref()) {
            return Err(code);
        }
        let Some(info) = dequeue_signal(cur.as_ref()) else { return Ok(None) };
        let sig = info.signo;
        let ka = cur.sighand().action(sig);
        match ka.sig_handler() {
            SigHandler::Ignore => continue,
            SigHandler::Handler(_) => {
                if ka.flags.contains(SaFlags::RESETHAND) {
                    cur.sighand().update(sig, |a| *a = KSigAction::DEFAULT);
                }
                return Ok(Some(KSignal { info, ka }));
            }
            SigHandler::Default => {}
        }
        let unkillable = cur.group_signal().lock().flags.contains(SignalFlags::UNKILLABLE);
        if unkillable && !sig.is_kernel_only() {
            continue; // init lives on
        }
        match sig_default_action(sig) {
            DefaultAction::Ignore | DefaultAction::Continue => {}
            DefaultAction::Stop => do_signal_stop(&cur, sig),
            DefaultAction::Term => return Err(w_signaled(sig, false)),
            // No core file is written, so the status has no "core dumped"
            // bit (Linux sets it only when `do_coredump` wrote one, which
            // the default RLIMIT_CORE of 0 prevents).
            DefaultAction::Core => return Err(w_signaled(sig, false)),
        }
    }
}

/// Tells the parent about a SIGCONT that resumed the group, once
/// (Linux: the `SIGNAL_CLD_MASK` check at the top of `get_signal`).
fn report_continued<T: SigTask>(cur: &T) {
    let continued = {
        let mut g = cur.group_signal().lock();
        let was = g.flags.contains(SignalFlags::CLD_CONTINUED);
        g.flags.remove(SignalFlags::CLD_CONTINUED);
        was
    };
    if continued {
        do_notify_parent_cldstop(cur, si_code::CLD_CONTINUED, Signal::SIGCONT);
    }
}

/// The status to exit with if another thread's fatal signal already doomed
/// the group (Linux: `signal_group_exit` in `get_signal`).
fn group_exit_code<T: SigTask>(cur: &T) -> Option<i32> {
    let g = cur.group_signal().lock();
    if !g.flags.contains(SignalFlags::GROUP_EXIT) {
        return None;
    }
    cur.thread_signal().lock().pending.flush(SigSet::of(Signal::SIGKILL));
    Some(g.group_exit_code)
}

/// Stops the group for job control, tells the parent, and sleeps until
/// SIGCONT or SIGKILL (Linux: `do_signal_stop`; one thread per group for now:
/// other threads join the stop in issue 5's `JOBCTL_STOP_PENDING`).
fn do_signal_stop<T: SigTask>(cur: &alloc::sync::Arc<T>, sig: Signal) {
    {
        let mut g = cur.group_signal().lock();
        if g.flags.contains(SignalFlags::GROUP_EXIT) {
            return;
        }
        g.flags.insert(SignalFlags::STOP_STOPPED);
        g.flags.remove(SignalFlags::STOP_CONTINUED);
        #[expect(clippy::cast_possible_wrap, reason = "signal numbers are below 65")]
        let signr = sig.number() as i32;
        // The stop signal, which wait4's WUNTRACED reports and consumes
        // (Linux: `sig->group_exit_code = signr`).
        g.group_exit_code = signr;
    }
    do_notify_parent_cldstop(cur.as_ref(), si_code::CLD_STOPPED, sig);
    let still_stopped = || {
        let g = cur.group_signal().lock();
        g.flags.contains(SignalFlags::STOP_STOPPED)
            && !g.flags.contains(SignalFlags::GROUP_EXIT)
            && !cur.thread_signal().fatal_signal_pending()
    };
    cur.sleep_stopped(&still_stopped);
}

/// Replaces the current blocked mask, minus SIGKILL and SIGSTOP (Linux:
/// `set_current_blocked`).
pub fn set_current_blocked<T: SigTask>(t: &T, mask: SigSet) {
    let g = t.group_signal().lock();
    let mut th = t.thread_signal().lock();
    th.blocked = mask.without_kernel_only();
    recalc_sigpending(&g, &th, t.thread_signal());
}

/// The mask a handler frame saves: the one `rt_sigsuspend` replaced, else
/// the current one (Linux: `sigmask_to_save`). Takes the saved mask.
pub fn sigmask_to_save<T: SigTask>(t: &T) -> SigSet {
    let mut th = t.thread_signal().lock();
    th.saved_sigmask.take().unwrap_or(th.blocked)
}

/// After a handler frame is built: block the action's mask and, unless
/// `SA_NODEFER`, the signal itself (Linux: `signal_delivered`).
pub fn signal_delivered<T: SigTask>(t: &T, ksig: &KSignal) {
    let mut blocked = t.thread_signal().lock().blocked.union(ksig.ka.mask);
    if !ksig.ka.flags.contains(SaFlags::NODEFER) {
        blocked.add(ksig.info.signo);
    }
    set_current_blocked(t, blocked);
}

/// With no handler to run, put back the mask `rt_sigsuspend` replaced
/// (Linux: `restore_saved_sigmask`).
pub fn restore_saved_sigmask<T: SigTask>(t: &T) {
    let saved = t.thread_signal().lock().saved_sigmask.take();
    if let Some(mask) = saved {
        set_current_blocked(t, mask);
    }
}

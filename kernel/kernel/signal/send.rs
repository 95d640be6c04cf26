//! Sending signals: to a thread, a process, a process group, everyone.
//!
//! Linux: kernel/signal.c (`prepare_signal`, `sig_ignored`,
//! `sig_task_ignored`, `send_signal_locked`,
//! `__send_signal_locked`, `complete_signal`, `signal_wake_up_state`,
//! `check_kill_permission`, `group_send_sig_info`, `__kill_pgrp_info`,
//! `kill_pid_info`, `kill_something_info`, `force_sig_info_to_task`,
//! `do_notify_parent`, `do_notify_parent_cldstop`).
//!
//! A send first settles job control (a stop signal cancels pending SIGCONT,
//! SIGCONT cancels pending stops and resumes the group), drops a signal the
//! target ignores and does not block, queues it, and wakes one thread that
//! can take it. A fatal default action short-cuts delivery: SIGKILL goes to
//! every thread at once, as Linux's `complete_signal` does.
//!
//! PID namespaces: kill(2)'s numbers are the caller's namespace's, and
//! kill(-1) reaches only what that namespace sees. A namespace's init
//! (`UNKILLABLE`) drops signals it left at `SIG_DFL`; only SIGKILL and
//! SIGSTOP from an ancestor namespace, whose sender it sees as PID 0, are
//! forced through. The global init drops even those.
//!
//! # Locking
//! Takes `GroupSignal` then `ThreadSignal` locks (see `signal/mod.rs`); the
//! wake-ups run under them and take the run-queue lock inside, as Linux
//! wakes under `siglock`.

use super::action::handler_ignored;
use super::task::{GroupSigInner, SigTask, SignalFlags, WakeState, recalc_sigpending};
use super::{DefaultAction, STOP_MASK, SaFlags, SigFields, SigHandler, SigInfo, SigSet, Signal};
use super::{cld_code_and_status, si_code, sig_default_action};
use crate::kernel::errno::{Errno, KResult};
use alloc::sync::Arc;
use alloc::vec::Vec;

/// Whether a thread or its whole group is the target (Linux: `enum pid_type`
/// as `send_signal_locked` uses it: `PIDTYPE_PID` or `PIDTYPE_TGID`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendTo {
    Thread,
    Group,
}

/// Tells `t` a signal waits; `fatal` also breaks killable sleeps and stops
/// (Linux: `signal_wake_up`).
pub fn signal_wake_up<T: SigTask>(t: &Arc<T>, fatal: bool) {
    t.thread_signal().set_sigpending(true);
    let state = if fatal {
        t.thread_signal().set_fatal();
        WakeState::INTERRUPTIBLE | WakeState::WAKEKILL
    } else {
        WakeState::INTERRUPTIBLE
    };
    t.wake_up_state(state);
}

/// The threads of `p`'s group, gathered before any signal lock is taken:
/// the task list has its own lock, which Linux takes outside `siglock`.
pub(super) fn thread_list<T: SigTask>(p: &Arc<T>) -> Vec<Arc<T>> {
    let mut threads = Vec::new();
    p.for_each_thread(&mut |t| threads.push(t.clone()));
    threads
}

/// Settles job control before `sig` is queued and says whether to queue
/// it at all (Linux: `prepare_signal`).
fn prepare_signal<T: SigTask>(sig: Signal, p: &Arc<T>, threads: &[Arc<T>], force: bool) -> bool {
    let mut g = p.group_signal().lock();
    if g.flags.contains(SignalFlags::GROUP_EXIT) {
        return false; // dying: nothing to do
    }
    if STOP_MASK.contains(sig) {
        let cont = SigSet::of(Signal::SIGCONT);
        g.shared_pending.flush(cont);
        for t in threads {
            t.thread_signal().lock().pending.flush(cont);
        }
    } else if sig == Signal::SIGCONT {
        g.shared_pending.flush(STOP_MASK);
        for t in threads {
            t.thread_signal().lock().pending.flush(STOP_MASK);
            t.wake_up_state(WakeState::STOPPED);
        }
        if g.flags.contains(SignalFlags::STOP_STOPPED) {
            g.flags.remove(SignalFlags::STOP_STOPPED);
            g.flags.insert(SignalFlags::STOP_CONTINUED | SignalFlags::CLD_CONTINUED);
            g.group_exit_code = 0;
        }
    }
    drop(g);
    !sig_ignored(p.as_ref(), sig, force)
}

/// Whether `t` would throw `sig` away now: never while blocked (the
/// handler may change before it is unblocked) (Linux: `sig_ignored`).
fn sig_ignored<T: SigTask>(t: &T, sig: Signal, force: bool) -> bool {
    let th = t.thread_signal().lock();
    if th.blocked.contains(sig) || th.real_blocked.contains(sig) {
        return false;
    }
    drop(th);
    sig_task_ignored(t, sig, force)
}

/// Whether `t`'s actions throw `sig` away. An init (`UNKILLABLE`: the
/// first process of any PID namespace) drops what it left at `SIG_DFL`,
/// except SIGKILL and SIGSTOP `force`d from an ancestor namespace; the
/// global init drops even those, as no namespace is above it (Linux:
/// `sig_task_ignored`).
fn sig_task_ignored<T: SigTask>(t: &T, sig: Signal, force: bool) -> bool {
    if t.is_global_init() && sig.is_kernel_only() {
        return true;
    }
    let handler = t.sighand().action(sig).sig_handler();
    let unkillable = t.group_signal().lock().flags.contains(SignalFlags::UNKILLABLE);
    if unkillable && handler == SigHandler::Default && !(force && sig.is_kernel_only()) {
        return true;
    }
    handler_ignored(handler, sig)
}

/// Queues `info` for `t` or its group and wakes a taker (Linux:
/// `send_signal_locked`). No permission check: the callers do that.
pub fn send_signal<T: SigTask>(info: SigInfo, t: &Arc<T>, to: SendTo, force: bool) {
    let _ = send_signal_info(info, t, to, force);
}

/// [`send_signal`], failing with `EAGAIN` when a real-time signal that
/// carries the sender's own siginfo (not kill's `SI_USER`, not the
/// kernel's) finds the queue full, rather than losing the siginfo (Linux:
/// the `TRACE_SIGNAL_OVERFLOW_FAIL` path of `__send_signal_locked`).
pub fn send_signal_info<T: SigTask>(
    info: SigInfo,
    t: &Arc<T>,
    to: SendTo,
    force: bool,
) -> KResult<()> {
    let sig = info.signo;
    let threads = thread_list(t);
    if !prepare_signal(sig, t, &threads, force) {
        return Ok(());
    }
    let mut g = t.group_signal().lock();
    let must_queue =
        sig.is_realtime() && info.code != si_code::SI_USER && info.code != si_code::SI_KERNEL;
    if must_queue && queue_full(t.as_ref(), &threads, &g) {
        return Err(Errno::EAGAIN);
    }
    let queued = match to {
        SendTo::Group => g.shared_pending.enqueue(info),
        SendTo::Thread => t.thread_signal().lock().pending.enqueue(info),
    };
    if queued {
        complete_signal(sig, t, &threads, to, &mut g);
    }
    Ok(())
}

/// Whether `t`'s group already queues as many siginfos as its
/// `RLIMIT_SIGPENDING` allows (Linux counts per user in `__sigqueue_alloc`;
/// Ferrite per thread group, and never past `SIGQUEUE_MAX` per queue).
fn queue_full<T: SigTask>(t: &T, threads: &[Arc<T>], g: &GroupSigInner) -> bool {
    let mut queued = g.shared_pending.queued();
    let mut fullest = queued;
    for th in threads {
        let n = th.thread_signal().lock().pending.queued();
        queued += n;
        fullest = fullest.max(n);
    }
    let limit = usize::try_from(t.rlimit_sigpending()).unwrap_or(usize::MAX);
    queued >= limit || fullest >= ::signal::SIGQUEUE_MAX
}

/// Whether `t` can take `sig` now (Linux: `wants_signal`).
fn wants_signal<T: SigTask>(sig: Signal, t: &T, g: &GroupSigInner) -> bool {
    if t.is_exiting() || t.thread_signal().lock().blocked.contains(sig) {
        return false;
    }
    sig == Signal::SIGKILL || !g.flags.contains(SignalFlags::STOP_STOPPED)
}

/// Picks the thread to wake for a queued `sig`; a fatal one kills the
/// whole group at once (Linux: `complete_signal`).
fn complete_signal<T: SigTask>(
    sig: Signal,
    p: &Arc<T>,
    threads: &[Arc<T>],
    to: SendTo,
    g: &mut GroupSigInner,
) {
    let mut taker = wants_signal(sig, p.as_ref(), g).then(|| p.clone());
    if taker.is_none() && to == SendTo::Group {
        taker = threads.iter().find(|t| wants_signal(sig, t.as_ref(), g)).cloned();
    }
    let Some(t) = taker else { return }; // all block it: it waits in the queue
    let fatal_default = p.sighand().action(sig).sig_handler() == SigHandler::Default
        && sig_default_action(sig) == DefaultAction::Term
        && !t.thread_signal().lock().real_blocked.contains(sig);
    if fatal_default && !g.flags.contains(SignalFlags::GROUP_EXIT) {
        g.flags.insert(SignalFlags::GROUP_EXIT);
        g.flags.remove(SignalFlags::STOP_STOPPED | SignalFlags::STOP_CONTINUED);
        g.group_exit_code = super::w_signaled(sig, false);
        for t in threads {
            t.thread_signal().lock().pending.enqueue(SigInfo::kernel(Signal::SIGKILL));
            signal_wake_up(t, true);
        }
        return;
    }
    signal_wake_up(&t, sig == Signal::SIGKILL);
}

/// Whether the current task may signal `t` (`None`: signal 0, which
/// only asks): its own process, one `kill_ok_by_cred` allows, or SIGCONT
/// within the session (Linux: `check_kill_permission`).
fn check_kill_permission<T: SigTask>(info: Option<&SigInfo>, t: &T) -> KResult<()> {
    if info.is_some_and(|i| i.code == si_code::SI_KERNEL) {
        return Ok(());
    }
    let cur = T::current();
    if cur.tgid() == t.tgid() || kill_ok_by_cred(cur.as_ref(), t) {
        return Ok(());
    }
    let sigcont = info.is_some_and(|i| i.signo == Signal::SIGCONT);
    if sigcont && t.session() == cur.session() { Ok(()) } else { Err(Errno::EPERM) }
}

/// The sender's real or effective uid is the target's real or saved
/// one, or the sender has `CAP_KILL` (Linux: `kill_ok_by_cred`).
fn kill_ok_by_cred<T: SigTask>(cur: &T, t: &T) -> bool {
    let ([uid, euid, _], [tuid, _, tsuid]) = (cur.kill_uids(), t.kill_uids());
    [uid, euid].iter().any(|id| *id == tuid || *id == tsuid) || cur.capable_kill()
}

/// What kill(2) and friends send: `Ok(None)` is signal 0 (only checks),
/// `Err(EINVAL)` a number that is no signal, reported only once a target
/// exists, as Linux's `check_kill_permission` does.
pub type KillInfo = KResult<Option<SigInfo>>;

/// Checks permission and sends to `p`'s group (Linux: `group_send_sig_info`).
pub fn group_send_sig_info<T: SigTask>(info: KillInfo, p: &Arc<T>) -> KResult<()> {
    let Some(mut info) = info? else { return check_kill_permission(None, p.as_ref()) };
    check_kill_permission(Some(&info), p.as_ref())?;
    let force = sig_info_for_ns(&mut info, p.as_ref());
    send_signal_info(info, p, SendTo::Group, force)
}

/// Fits a sent siginfo to `t`'s PID namespace and says whether to force
/// it: a kernel signal is forced; a sender `t`'s namespace cannot see is
/// named 0 there, and its SIGKILL reaches even that namespace's init
/// (Linux: the `has_si_pid_and_uid` branch of `send_signal_locked`).
fn sig_info_for_ns<T: SigTask>(info: &mut SigInfo, t: &T) -> bool {
    if info.code == si_code::SI_KERNEL {
        return true;
    }
    if T::current().tgid_nr_ns(t) != 0 {
        return false;
    }
    if let SigFields::Kill { pid, .. } | SigFields::Rt { pid, .. } = &mut info.fields {
        *pid = 0;
    }
    true
}

/// Checks permission and sends to thread `tid`, which must belong to
/// `tgid` if that is positive (Linux: `do_send_specific`).
pub fn do_send_specific<T: SigTask>(tgid: i32, tid: i32, info: KillInfo) -> KResult<()> {
    let p = T::find_task_by_vpid(tid).ok_or(Errno::ESRCH)?;
    if tgid > 0 && p.tgid_nr_ns(&T::current()) != tgid {
        return Err(Errno::ESRCH);
    }
    let Some(mut info) = info? else { return check_kill_permission(None, p.as_ref()) };
    check_kill_permission(Some(&info), p.as_ref())?;
    let force = sig_info_for_ns(&mut info, p.as_ref());
    send_signal_info(info, &p, SendTo::Thread, force)
}

/// Signals every process in group `pgrp` (Linux: `__kill_pgrp_info`).
pub fn kill_pgrp<T: SigTask>(info: KillInfo, pgrp: i32) -> KResult<()> {
    let mut result = Err(Errno::ESRCH);
    let mut success = false;
    T::for_each_process(&mut |p| {
        if p.pgrp() == pgrp {
            let r = group_send_sig_info(info, p);
            success |= r.is_ok();
            result = r;
        }
    });
    if success { Ok(()) } else { result }
}

/// Signals the process with id `pid` (Linux: `kill_pid_info`).
pub fn kill_pid_info<T: SigTask>(info: KillInfo, pid: i32) -> KResult<()> {
    let p = T::find_task_by_vpid(pid).ok_or(Errno::ESRCH)?;
    group_send_sig_info(info, &p)
}

/// kill(2)'s targets: `pid` > 0 one process, 0 the caller's process
/// group, -1 everyone but init and the caller, < -1 group `-pid`
/// (Linux: `kill_something_info`). Numbers are the caller's namespace's,
/// and -1 reaches only the processes that namespace can see, sparing
/// its own init.
pub fn kill_something_info<T: SigTask>(info: KillInfo, pid: i32) -> KResult<()> {
    if pid > 0 {
        return kill_pid_info::<T>(info, pid);
    }
    if pid == i32::MIN {
        return Err(Errno::ESRCH); // -INT_MIN does not exist
    }
    let cur = T::current();
    if pid != -1 {
        // The caller's own group, even one led from outside its namespace.
        let pgrp = if pid == 0 { Some(cur.pgrp()) } else { T::vnr_to_nr(-pid) };
        return pgrp.map_or(Err(Errno::ESRCH), |pgrp| kill_pgrp::<T>(info, pgrp));
    }
    let me = cur.tgid();
    let (mut count, mut result) = (0, Ok(()));
    T::for_each_process(&mut |p| {
        if p.tgid_nr_ns(&cur) > 1 && p.tgid() != me {
            count += 1;
            let r = group_send_sig_info(info, p);
            if r != Err(Errno::EPERM) {
                result = r;
            }
        }
    });
    if count > 0 { result } else { Err(Errno::ESRCH) }
}

/// Sends a fault signal `t` cannot refuse: a blocked or ignored one is
/// unblocked and reset to `SIG_DFL` (Linux: `force_sig_info_to_task`).
pub fn force_sig_info<T: SigTask>(info: SigInfo, t: &Arc<T>) {
    let sig = info.signo;
    let hand = t.sighand();
    let ignored = hand.action(sig).sig_handler() == SigHandler::Ignore;
    let mut blocked = false;
    {
        let mut g = t.group_signal().lock();
        let mut th = t.thread_signal().lock();
        if th.blocked.contains(sig) {
            blocked = true;
            th.blocked.remove(sig);
            recalc_sigpending(&g, &th, t.thread_signal());
        }
        if blocked || ignored {
            g.flags.remove(SignalFlags::UNKILLABLE);
        }
    }
    if blocked || ignored {
        hand.update(sig, |a| *a = super::KSigAction::DEFAULT);
    }
    send_signal(info, t, SendTo::Thread, true);
}

/// Tells the parent of the exiting group leader `tsk` with SIGCHLD (or the
/// signal it chose); returns whether `tsk` should reap itself because the
/// parent ignores SIGCHLD or set `SA_NOCLDWAIT` (Linux: `do_notify_parent`).
#[allow(dead_code, reason = "exit_notify calls it")]
pub fn do_notify_parent<T: SigTask>(
    tsk: &T,
    sig: Signal,
    exit_code: i32,
    times: (i64, i64),
) -> bool {
    let Some(parent) = tsk.parent() else { return true };
    let (code, status) = cld_code_and_status(exit_code);
    let pid = tsk.tgid_nr_ns(&parent);
    let fields = SigFields::Chld { pid, uid: tsk.uid(), status, utime: times.0, stime: times.1 };
    let info = SigInfo { signo: sig, errno: 0, code, fields };
    let action = parent.sighand().action(Signal::SIGCHLD);
    let mut autoreap = false;
    let mut send = true;
    if sig == Signal::SIGCHLD {
        let ign = action.sig_handler() == SigHandler::Ignore;
        autoreap = ign || action.flags.contains(SaFlags::NOCLDWAIT);
        send = !ign;
    }
    if send {
        send_signal(info, &parent, SendTo::Group, false);
    }
    tsk.wake_up_parent();
    autoreap
}

/// Tells the parent that `tsk`'s group stopped (`CLD_STOPPED`) or continued
/// (`CLD_CONTINUED`), unless it asked not to with `SA_NOCLDSTOP` (Linux:
/// `do_notify_parent_cldstop`).
pub fn do_notify_parent_cldstop<T: SigTask>(tsk: &T, why: i32, sig: Signal) {
    let Some(parent) = tsk.parent() else { return };
    #[expect(clippy::cast_possible_wrap, reason = "signal numbers are below 65")]
    let status = if why == si_code::CLD_CONTINUED { Signal::SIGCONT } else { sig }.number() as i32;
    let pid = tsk.tgid_nr_ns(&parent);
    let fields = SigFields::Chld { pid, uid: tsk.uid(), status, utime: 0, stime: 0 };
    let action = parent.sighand().action(Signal::SIGCHLD);
    if action.sig_handler() != SigHandler::Ignore && !action.flags.contains(SaFlags::NOCLDSTOP) {
        let info = SigInfo { signo: Signal::SIGCHLD, errno: 0, code: why, fields };
        send_signal(info, &parent, SendTo::Group, false);
    }
    tsk.wake_up_parent();
}

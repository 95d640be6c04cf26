//! The signal system calls.
//!
//! Linux: kernel/signal.c (`SYSCALL_DEFINE`s of `rt_sigaction`,
//! `rt_sigprocmask`, `rt_sigpending`, `kill`, `tgkill`, `tkill`,
//! `rt_sigsuspend`, `pause`); `rt_sigreturn` is in `arch::signal`.
//!
//! Each is generic over the task type so that the table calls
//! `sys_kill::<Task>`; no lock is held across a user copy.
//!
//! # Locking
//! Through `SigHand`, `GroupSignal`, `ThreadSignal`; see `signal/mod.rs`.

use super::action::handler_ignored;
use super::deliver::set_current_blocked;
use super::send::{KillInfo, do_send_specific, kill_something_info};
use super::task::SigTask;
use super::{KSigAction, SigInfo, SigSet, SigmaskHow, Signal, si_code};
use crate::arch::uaccess::copy_to_user;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::UserPtr;

/// Size of the kernel's `sigset_t`: the only `sigsetsize` accepted.
const SIGSET_SIZE: usize = size_of::<u64>();

/// `sig` as a signal, or `EINVAL` (Linux: `valid_signal`, without 0).
pub fn sig_from_user(sig: i32) -> KResult<Signal> {
    u32::try_from(sig).ok().and_then(Signal::new).ok_or(Errno::EINVAL)
}

/// What kill-style calls send: signal 0 checks only (Linux:
/// `prepare_kill_siginfo`).
pub fn kill_info<T: SigTask>(sig: i32, code: i32) -> KillInfo {
    if sig == 0 {
        return Ok(None);
    }
    let cur = T::current();
    // The sender as its own namespace numbers it (Linux:
    // `task_tgid_vnr(current)`); a receiver outside sees 0 instead.
    let mut info = SigInfo::user(sig_from_user(sig)?, cur.tgid_nr_ns(&cur), cur.uid());
    info.code = code;
    Ok(Some(info))
}

/// rt_sigaction(2).
pub fn sys_rt_sigaction<T: SigTask>(
    sig: i32,
    act: UserPtr<[u64; 4]>,
    oact: UserPtr<[u64; 4]>,
    sigsetsize: usize,
) -> KResult<()> {
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let sig = sig_from_user(sig)?;
    let new = if act.is_null() { None } else { Some(KSigAction::from_user_words(act.read()?)) };
    let cur = T::current();
    let old = cur.sighand().do_sigaction(sig, new)?;
    if new.is_some_and(|a| handler_ignored(a.sig_handler(), sig)) {
        // POSIX: setting a pending signal to be ignored discards it.
        flush_signal_everywhere(&cur, sig);
    }
    if !oact.is_null() {
        oact.write(&old.to_user_words())?;
    }
    Ok(())
}

/// Drops `sig` from the group's and every thread's pending sets.
fn flush_signal_everywhere<T: SigTask>(t: &alloc::sync::Arc<T>, sig: Signal) {
    let set = SigSet::of(sig);
    let threads = super::send::thread_list(t);
    let mut g = t.group_signal().lock();
    g.shared_pending.flush(set);
    for th in &threads {
        th.thread_signal().lock().pending.flush(set);
    }
}

/// rt_sigprocmask(2).
pub fn sys_rt_sigprocmask<T: SigTask>(
    how: i32,
    set: UserPtr<u64>,
    oset: UserPtr<u64>,
    sigsetsize: usize,
) -> KResult<()> {
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let cur = T::current();
    let old = cur.thread_signal().lock().blocked;
    if !set.is_null() {
        let new = SigSet::from_bits(set.read()?);
        let how = u32::try_from(how).ok().and_then(SigmaskHow::from_raw).ok_or(Errno::EINVAL)?;
        set_current_blocked(cur.as_ref(), how.apply(old, new));
    }
    if !oset.is_null() {
        oset.write(&old.bits())?;
    }
    Ok(())
}

/// rt_sigpending(2): the blocked signals waiting (Linux: `do_sigpending`).
pub fn sys_rt_sigpending<T: SigTask>(set: UserPtr<u64>, sigsetsize: usize) -> KResult<()> {
    if sigsetsize > SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let cur = T::current();
    let pending = {
        let g = cur.group_signal().lock();
        let th = cur.thread_signal().lock();
        th.pending.signal().union(g.shared_pending.signal()).intersection(th.blocked)
    };
    let bytes = pending.bits().to_ne_bytes();
    copy_to_user(set.addr(), &bytes[..sigsetsize]).map_err(|_| Errno::EFAULT)
}

/// kill(2).
pub fn sys_kill<T: SigTask>(pid: i32, sig: i32) -> KResult<()> {
    kill_something_info::<T>(kill_info::<T>(sig, si_code::SI_USER), pid)
}

/// Sends to thread `tid`, checking it belongs to `tgid` if positive
/// (Linux: `do_send_specific`).
fn do_tkill<T: SigTask>(tgid: i32, tid: i32, sig: i32) -> KResult<()> {
    do_send_specific::<T>(tgid, tid, kill_info::<T>(sig, si_code::SI_TKILL))
}

/// tgkill(2).
pub fn sys_tgkill<T: SigTask>(tgid: i32, tid: i32, sig: i32) -> KResult<()> {
    if tid <= 0 || tgid <= 0 {
        return Err(Errno::EINVAL);
    }
    do_tkill::<T>(tgid, tid, sig)
}

/// tkill(2).
pub fn sys_tkill<T: SigTask>(tid: i32, sig: i32) -> KResult<()> {
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    do_tkill::<T>(0, tid, sig)
}

/// rt_sigsuspend(2): sleep with `mask` until a signal is delivered; the old
/// mask comes back after the handler (Linux: `sigsuspend`). Never returns
/// `Ok`: `ERESTARTNOHAND` becomes `EINTR` once a handler has run.
pub fn sys_rt_sigsuspend<T: SigTask>(mask: UserPtr<u64>, sigsetsize: usize) -> KResult<()> {
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask = SigSet::from_bits(mask.read()?);
    let cur = T::current();
    let old = cur.thread_signal().lock().blocked;
    set_current_blocked(cur.as_ref(), mask);
    cur.thread_signal().lock().saved_sigmask = Some(old);
    let ts = cur.thread_signal();
    cur.schedule_interruptible(&|| ts.signal_pending());
    Err(Errno::ERESTARTNOHAND)
}

/// pause(2).
pub fn sys_pause<T: SigTask>() -> KResult<()> {
    let cur = T::current();
    let ts = cur.thread_signal();
    cur.schedule_interruptible(&|| ts.signal_pending());
    Err(Errno::ERESTARTNOHAND)
}

//! Waiting for signals synchronously and queueing them with a siginfo:
//! `rt_sigtimedwait`, `rt_sigqueueinfo`, `rt_tgsigqueueinfo`.
//!
//! Linux: kernel/signal.c (`do_sigtimedwait`,
//! `SYSCALL_DEFINE4(rt_sigtimedwait)`, `__copy_siginfo_from_user`,
//! `do_rt_sigqueueinfo`, `do_rt_tgsigqueueinfo`).
//!
//! A waiter takes a signal of its set straight from the pending queues, so
//! no handler runs for it. While it sleeps, the signals it waits for are
//! unblocked (Linux: `real_blocked`), so that a sender picks this thread
//! and wakes it; the mask is put back before the call returns.
//!
//! # Locking
//! `GroupSignal` then `ThreadSignal`, briefly (see `signal/mod.rs`); no lock
//! is held while sleeping or copying to or from user memory.

use linux_raw_sys::general::__kernel_timespec;

use super::deliver::{dequeue_signal_masked, set_current_blocked};
use super::send::{KillInfo, do_send_specific, kill_pid_info};
use super::syscalls::sig_from_user;
use super::task::SigTask;
use super::{SigFields, SigInfo, SigSet, Signal, si_code};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::task::{TASK_INTERRUPTIBLE, TASK_RUNNING, signal_pending};
use crate::kernel::sched::{self, Task};
use crate::kernel::syscall::args::UserPtr;
use crate::kernel::time::ktime_get_ns;
use crate::kernel::time::posix::timespec_to_ns;
use crate::kernel::time::tick::TICK_NSEC;
use crate::kernel::time::timer::schedule_timeout;

/// Size of the kernel's `sigset_t`: the only `sigsetsize` accepted.
const SIGSET_SIZE: usize = size_of::<u64>();

/// rt_sigtimedwait(2): the number of a signal of `uthese`, its siginfo
/// in `uinfo`; `EAGAIN` once `uts` passes (a zero timeout polls, none
/// waits for ever), `EINTR` when another signal interrupts the wait.
pub fn sys_rt_sigtimedwait(
    uthese: UserPtr<u64>,
    uinfo: UserPtr<[u8; 128]>,
    uts: UserPtr<__kernel_timespec>,
    sigsetsize: usize,
) -> KResult<u32> {
    if sigsetsize != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let these = SigSet::from_bits(uthese.read()?).without_kernel_only();
    let timeout_ns = if uts.is_null() { None } else { Some(timespec_to_ns(&uts.read()?)?) };
    let info = do_sigtimedwait(these, timeout_ns)?;
    if !uinfo.is_null() {
        uinfo.write(&info.to_bytes())?;
    }
    Ok(info.signo.number())
}

/// Takes a pending signal of `these`, sleeping up to `timeout_ns` for one
/// (Linux: `do_sigtimedwait`).
fn do_sigtimedwait(these: SigSet, timeout_ns: Option<u64>) -> KResult<SigInfo> {
    let cur = sched::current();
    let others = SigSet::FULL.difference(these);
    if let Some(info) = dequeue_signal_masked(cur.as_ref(), Some(others)) {
        return Ok(info);
    }
    if timeout_ns == Some(0) {
        return Err(Errno::EAGAIN);
    }
    let real_blocked = {
        let mut th = cur.sigpending.lock();
        th.real_blocked = th.blocked;
        th.blocked
    };
    set_current_blocked(cur.as_ref(), real_blocked.difference(these));
    let deadline = timeout_ns.map(|ns| ktime_get_ns().saturating_add(ns));
    sleep_until_signal(&cur, deadline);
    set_current_blocked(cur.as_ref(), real_blocked);
    cur.sigpending.lock().real_blocked = SigSet::EMPTY;
    if let Some(info) = dequeue_signal_masked(cur.as_ref(), Some(others)) {
        return Ok(info);
    }
    // A signal outside the set woke us: its handler runs on the way out,
    // and the wait is not restarted (Linux returns a plain -EINTR).
    if signal_pending(&cur) { Err(Errno::EINTR) } else { Err(Errno::EAGAIN) }
}

/// Sleeps interruptibly until a signal is pending or `deadline` (in
/// `ktime_get_ns` time) passes.
fn sleep_until_signal(cur: &Task, deadline: Option<u64>) {
    loop {
        cur.set_state(TASK_INTERRUPTIBLE);
        if signal_pending(cur) {
            break;
        }
        match deadline {
            None => sched::schedule(),
            Some(end) => {
                let now = ktime_get_ns();
                if now >= end {
                    break;
                }
                schedule_timeout((end - now).div_ceil(TICK_NSEC));
            }
        }
    }
    cur.set_state(TASK_RUNNING);
}

/// A siginfo from user space for signal `sig`: `si_signo` is `sig`
/// whatever the buffer says; `si_errno`, `si_code`, and the `_rt` fields
/// (`si_pid`, `si_uid`, `si_value`) are the sender's (Linux:
/// `__copy_siginfo_from_user`).
pub fn siginfo_from_user(sig: Signal, bytes: &[u8; 128]) -> SigInfo {
    let i32_at = |off: usize| {
        i32::from_ne_bytes([bytes[off], bytes[off + 1], bytes[off + 2], bytes[off + 3]])
    };
    let mut value = [0u8; 8];
    value.copy_from_slice(&bytes[24..32]);
    #[expect(clippy::cast_sign_loss, reason = "si_uid is a uid_t: the same bits")]
    let uid = i32_at(20) as u32;
    let fields = SigFields::Rt { pid: i32_at(16), uid, value: u64::from_ne_bytes(value) };
    SigInfo { signo: sig, errno: i32_at(4), code: i32_at(8), fields }
}

/// What a queueing call sends: signal 0 only checks; `EINVAL` for a
/// number that is no signal, reported once the target is found.
fn queue_info(sig: i32, uinfo: UserPtr<[u8; 128]>) -> KResult<(KillInfo, i32)> {
    let bytes = uinfo.read()?;
    let code = i32::from_ne_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    let info = match sig {
        0 => Ok(None),
        _ => sig_from_user(sig).map(|s| Some(siginfo_from_user(s, &bytes))),
    };
    Ok((info, code))
}

/// Only the kernel may send a positive `si_code`, and only tkill
/// `SI_TKILL`: user space may forge them only to itself (Linux: the
/// check in `do_rt_sigqueueinfo`).
fn check_forged_code<T: SigTask>(code: i32, pid: i32) -> KResult<()> {
    // `pid` is the caller's namespace's number (Linux: `task_pid_vnr`).
    let me = T::current();
    let to_self = T::find_task_by_vpid(pid).is_some_and(|t| alloc::sync::Arc::ptr_eq(&t, &me));
    if (code >= 0 || code == si_code::SI_TKILL) && !to_self {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// rt_sigqueueinfo(2): `sig` with the caller's siginfo to process `pid`.
pub fn sys_rt_sigqueueinfo<T: SigTask>(
    pid: i32,
    sig: i32,
    uinfo: UserPtr<[u8; 128]>,
) -> KResult<()> {
    let (info, code) = queue_info(sig, uinfo)?;
    check_forged_code::<T>(code, pid)?;
    kill_pid_info::<T>(info, pid)
}

/// rt_tgsigqueueinfo(2): the same to thread `tid` of group `tgid`.
pub fn sys_rt_tgsigqueueinfo<T: SigTask>(
    tgid: i32,
    tid: i32,
    sig: i32,
    uinfo: UserPtr<[u8; 128]>,
) -> KResult<()> {
    let (info, code) = queue_info(sig, uinfo)?;
    if tid <= 0 || tgid <= 0 {
        return Err(Errno::EINVAL);
    }
    check_forged_code::<T>(code, tid)?;
    do_send_specific::<T>(tgid, tid, info)
}

crate::ktest!(siginfo_from_user_keeps_rt_fields, {
    let mut bytes = [0u8; 128];
    bytes[0] = 10; // a different si_signo: replaced
    bytes[8..12].copy_from_slice(&(-1i32).to_ne_bytes());
    bytes[16..20].copy_from_slice(&42i32.to_ne_bytes());
    bytes[20..24].copy_from_slice(&1000u32.to_ne_bytes());
    bytes[24..32].copy_from_slice(&0x1234_5678u64.to_ne_bytes());
    let sig = Signal::new(40).ok_or("sig")?;
    let info = siginfo_from_user(sig, &bytes);
    crate::kassert!(info.signo == sig && info.code == si_code::SI_QUEUE, "signo, code");
    let want = SigFields::Rt { pid: 42, uid: 1000, value: 0x1234_5678 };
    crate::kassert!(info.fields == want, "pid, uid, value");
    crate::kassert!(info.to_bytes()[..12] != bytes[..12], "si_signo rewritten");
    crate::kassert!(info.to_bytes()[12..] == bytes[12..], "the rest as sent");
    Ok(())
});

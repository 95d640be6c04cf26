//! Waiting for children: `wait4`, `waitid`, and the `do_wait` they share.
//!
//! Linux: kernel/exit.c (`do_wait`, `wait_consider_task`,
//! `wait_task_zombie`, `wait_task_stopped`, `wait_task_continued`,
//! `kernel_wait4`, `kernel_waitid`), include/uapi/linux/wait.h.
//!
//! A parent sleeps on its group leader's `wait_chldexit` queue (any thread
//! may wait for the children of every thread of its group) until one of the
//! children it asks about has something to report: an exit (a zombie, which is
//! reaped unless `WNOWAIT`), a job-control stop (`WUNTRACED`/`WSTOPPED`)
//! or a continue (`WCONTINUED`). Children signal the queue when they exit
//! (`exit_notify`) and when they stop or continue (the signal code's
//! `do_notify_parent_cldstop`). No child that matches: `ECHILD`; with
//! `WNOHANG`, nothing to report yet: 0.
//!
//! # Locking
//! The children are scanned under `fork::TASKLIST_LOCK`; the stop and
//! continue reports take the child's `GroupSignal` lock inside it. The
//! result is copied to user space after every lock is dropped.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use bitflags::bitflags;
use linux_raw_sys::general as uapi;

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::exit::release_task;
use crate::kernel::fork::TASKLIST_LOCK;
use crate::kernel::rusage::{Rusage, RusageWho, getrusage};
use crate::kernel::sched::task::{EXIT_DEAD, EXIT_ZOMBIE};
use crate::kernel::sched::{Task, current};
use crate::kernel::signal::{SigTask, SignalFlags, cld_code_and_status, si_code};
use crate::kernel::syscall::args::UserPtr;

bitflags! {
    /// What a wait reports (Linux: the `W*` options).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct WaitOptions: u32 {
        const WNOHANG = uapi::WNOHANG;
        const WSTOPPED = uapi::WSTOPPED;
        const WEXITED = uapi::WEXITED;
        const WCONTINUED = uapi::WCONTINUED;
        const WNOWAIT = uapi::WNOWAIT;
        const WNOTHREAD = uapi::__WNOTHREAD;
        const WALL = uapi::__WALL;
        const WCLONE = uapi::__WCLONE;
    }
}

/// Which children a wait is for (Linux: `enum pid_type` + `wo_pid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitFor {
    Any,
    Pid(i32),
    Pgid(i32),
}

/// One report (Linux: the fields `wait_task_*` fill in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitResult {
    pub pid: i32,
    pub uid: u32,
    /// The `wait4` status word.
    pub status: i32,
    /// `CLD_EXITED`, `CLD_KILLED`, `CLD_DUMPED`, `CLD_STOPPED`, `CLD_CONTINUED`.
    pub code: i32,
    /// The `waitid` `si_status`: exit code or signal number.
    pub si_status: i32,
}

enum Scan {
    /// A report, the child it is about, and whether to reap it.
    Found(WaitResult, Arc<Task>, bool),
    Waiting,
    NoChild,
}

/// Linux: `eligible_pid` + `eligible_child`.
fn eligible(child: &Task, which: WaitFor, options: WaitOptions) -> bool {
    let pid_ok = match which {
        WaitFor::Any => true,
        WaitFor::Pid(pid) => child.tgid == pid,
        WaitFor::Pgid(pgid) => child.pgrp() == pgid,
    };
    let is_clone = child.exit_signal != uapi::SIGCHLD as i32;
    pid_ok
        && (options.contains(WaitOptions::WALL)
            || is_clone == options.contains(WaitOptions::WCLONE))
}

/// What `child` has to report, if anything (Linux: `wait_consider_task`).
fn consider(child: &Arc<Task>, options: WaitOptions) -> Option<(WaitResult, bool)> {
    let uid = child.cred().uid;
    let nowait = options.contains(WaitOptions::WNOWAIT);
    if child.exit_state() == EXIT_ZOMBIE && !child.delay_group_leader() {
        if !options.contains(WaitOptions::WEXITED) {
            return None;
        }
        let status = child.exit_code.load(Ordering::Relaxed);
        let (code, si_status) = cld_code_and_status(status);
        let result = WaitResult { pid: child.tgid, uid, status, code, si_status };
        return Some((result, !nowait));
    }
    let mut group = child.group_signal().lock();
    if options.contains(WaitOptions::WSTOPPED)
        && group.flags.contains(SignalFlags::STOP_STOPPED)
        && group.group_exit_code != 0
    {
        let sig = group.group_exit_code & 0x7f;
        if !nowait {
            group.group_exit_code = 0;
        }
        let status = (sig << 8) | 0x7f;
        return Some((
            WaitResult { pid: child.tgid, uid, status, code: si_code::CLD_STOPPED, si_status: sig },
            false,
        ));
    }
    if options.contains(WaitOptions::WCONTINUED)
        && group.flags.contains(SignalFlags::STOP_CONTINUED)
    {
        if !nowait {
            group.flags.remove(SignalFlags::STOP_CONTINUED);
        }
        let si_status = uapi::SIGCONT as i32;
        return Some((
            WaitResult {
                pid: child.tgid,
                uid,
                status: 0xffff,
                code: si_code::CLD_CONTINUED,
                si_status,
            },
            false,
        ));
    }
    None
}

/// Looks through `parent`'s children once (Linux: `do_wait_thread`).
fn scan_children(parent: &Task, which: WaitFor, options: WaitOptions) -> Scan {
    let _tasklist = TASKLIST_LOCK.lock();
    let children = parent.children.lock();
    let mut any = false;
    // A child that reaped itself (EXIT_DEAD) may stay on the list until
    // its `release_task`; it no longer counts, so a waiter woken by its
    // SIGCHLD gets ECHILD rather than EINTR (Linux: the `EXIT_DEAD` test
    // that leaves `notask_error` set in `wait_consider_task`).
    let live = |c: &&Arc<Task>| c.exit_state() != EXIT_DEAD;
    for child in children.iter().filter(live).filter(|c| eligible(c, which, options)) {
        any = true;
        if let Some((result, reap)) = consider(child, options) {
            return Scan::Found(result, child.clone(), reap);
        }
    }
    if any { Scan::Waiting } else { Scan::NoChild }
}

/// Looks through the children of every thread of the caller's group
/// (Linux: `do_wait`'s `while_each_thread` loop).
fn scan_group(me: &Arc<Task>, which: WaitFor, options: WaitOptions) -> Scan {
    let mut scan = Scan::NoChild;
    for t in me.threads() {
        match scan_children(&t, which, options) {
            Scan::NoChild => {}
            Scan::Waiting => scan = Scan::Waiting,
            found => return found,
        }
    }
    scan
}

/// Position of `ru_maxrss` in `struct rusage`, the one field that is a
/// maximum rather than a sum.
const RU_MAXRSS: usize = 4;

/// Waits for a child to report, with its usage (Linux: `do_wait`): `Ok(None)` with
/// `WNOHANG` if none has yet, `ECHILD` if no child matches, `EINTR` on a
/// signal.
pub fn do_wait(which: WaitFor, options: WaitOptions) -> KResult<Option<(WaitResult, Rusage)>> {
    let me = current();
    let owner = me.chldexit_owner();
    let mut found = None;
    owner.wait_chldexit.wait_event_interruptible(|| match scan_group(&me, which, options) {
        Scan::Found(result, child, reap) => {
            found = Some(Ok((result, child, reap)));
            true
        }
        Scan::NoChild => {
            found = Some(Err(Errno::ECHILD));
            true
        }
        Scan::Waiting => options.contains(WaitOptions::WNOHANG),
    })?;
    let Some((mut result, child, reap)) = found.transpose()? else { return Ok(None) };
    // The caller's namespace's number, read while the child still has it.
    result.pid = crate::kernel::pid::nr_to_vnr(result.pid);
    let rusage = rusage_both(&child);
    if reap {
        crate::kernel::time::cputime::wait_account_child(&me, &child);
        release_task(&child);
    }
    Ok(Some((result, rusage)))
}

/// What wait4 and waitid report as the child's usage: its own and its
/// reaped children's, summed (Linux: `getrusage(p, RUSAGE_BOTH, …)` in
/// `wait_task_zombie` and `wait_task_stopped`).
fn rusage_both(child: &Arc<Task>) -> Rusage {
    let own = getrusage(child, RusageWho::SelfGroup);
    let theirs = getrusage(child, RusageWho::Children);
    let mut r = own;
    for tv in [0, 2] {
        let us = (own[tv] + theirs[tv]) * 1_000_000 + own[tv + 1] + theirs[tv + 1];
        (r[tv], r[tv + 1]) = (us / 1_000_000, us % 1_000_000);
    }
    for (i, slot) in r.iter_mut().enumerate().skip(4) {
        *slot =
            if i == RU_MAXRSS { own[i].max(theirs[i]) } else { own[i].saturating_add(theirs[i]) };
    }
    r
}

/// Waits for a child to exit and reaps it: its PID and wait status
/// (Linux: `kernel_wait4` for in-kernel callers).
pub fn kernel_wait4(which: WaitFor, options: WaitOptions) -> KResult<Option<(i32, i32)>> {
    Ok(do_wait(which, options | WaitOptions::WEXITED)?.map(|(r, _)| (r.pid, r.status)))
}

/// The initial namespace's number for the caller's `nr`; -1, which no
/// child has, if the caller's namespace has no such number.
fn global_nr(nr: i32) -> i32 {
    crate::kernel::pid::vnr_to_nr(nr).unwrap_or(-1)
}

/// The `pid` argument of wait4 (Linux: the top of `kernel_wait4`).
fn wait4_target(pid: i32) -> KResult<WaitFor> {
    Ok(match pid {
        i32::MIN => return Err(Errno::ESRCH),
        -1 => WaitFor::Any,
        p if p < -1 => WaitFor::Pgid(global_nr(-p)),
        0 => WaitFor::Pgid(current().pgrp()),
        p => WaitFor::Pid(global_nr(p)),
    })
}

/// `struct rusage` as user space gets it: 18 longs on x86_64.
type UserRusage = [u64; 18];

/// Linux: `put_compat_rusage`'s native cousin, a plain copy.
fn put_rusage(ru: UserPtr<UserRusage>, r: &Rusage) -> KResult<()> {
    if ru.is_null() { Ok(()) } else { ru.write(&r.map(i64::cast_unsigned)) }
}

/// wait4(2).
pub fn sys_wait4(
    pid: i32,
    status: UserPtr<i32>,
    options: u32,
    ru: UserPtr<UserRusage>,
) -> KResult<i32> {
    let allowed = WaitOptions::WNOHANG
        | WaitOptions::WSTOPPED
        | WaitOptions::WCONTINUED
        | WaitOptions::WNOTHREAD
        | WaitOptions::WCLONE
        | WaitOptions::WALL;
    let options =
        WaitOptions::from_bits(options).filter(|o| allowed.contains(*o)).ok_or(Errno::EINVAL)?;
    let which = wait4_target(pid)?;
    let Some((result, rusage)) = do_wait(which, options | WaitOptions::WEXITED)? else {
        return Ok(0);
    };
    if !status.is_null() {
        status.write(&result.status)?;
    }
    put_rusage(ru, &rusage)?;
    Ok(result.pid)
}

/// The first 48 bytes of a `siginfo_t` for SIGCHLD, as i32 words:
/// signo, errno, code, pad, pid, uid, status, pad, utime (2), stime (2).
type ChldInfo = [i32; 12];

/// waitid(2) (Linux: `kernel_waitid`): `P_ALL`, `P_PID`, `P_PGID`,
/// `P_PIDFD`.
pub fn sys_waitid(
    which: u32,
    upid: i32,
    infop: UserPtr<ChldInfo>,
    options: u32,
    ru: UserPtr<UserRusage>,
) -> KResult<()> {
    let options = WaitOptions::from_bits(options).ok_or(Errno::EINVAL)?;
    let any = WaitOptions::WEXITED | WaitOptions::WSTOPPED | WaitOptions::WCONTINUED;
    if !options.intersects(any) {
        return Err(Errno::EINVAL);
    }
    let (target, nonblock) = match which {
        uapi::P_ALL => (WaitFor::Any, false),
        uapi::P_PID if upid > 0 => (WaitFor::Pid(global_nr(upid)), false),
        uapi::P_PGID if upid > 0 => (WaitFor::Pgid(global_nr(upid)), false),
        uapi::P_PGID if upid == 0 => (WaitFor::Pgid(current().pgrp()), false),
        uapi::P_PIDFD if upid >= 0 => crate::kernel::pidfd::pidfd_wait_target(upid)?,
        _ => return Err(Errno::EINVAL),
    };
    // A PIDFD_NONBLOCK pidfd never sleeps: EAGAIN unless WNOHANG asked
    // for a 0 (Linux: the `O_NONBLOCK` lines of `kernel_waitid`).
    let result =
        match do_wait(target, if nonblock { options | WaitOptions::WNOHANG } else { options })? {
            None if nonblock && !options.contains(WaitOptions::WNOHANG) => {
                return Err(Errno::EAGAIN);
            }
            result => result,
        };
    // Linux writes the rusage only for a report, not for WNOHANG's 0.
    if let Some((_, rusage)) = &result {
        put_rusage(ru, rusage)?;
    }
    if infop.is_null() {
        return Ok(());
    }
    let info = match result.map(|(r, _)| r) {
        #[expect(clippy::cast_possible_wrap, reason = "uids above 2^31 keep their bits")]
        Some(r) => {
            [uapi::SIGCHLD as i32, 0, r.code, 0, r.pid, r.uid as i32, r.si_status, 0, 0, 0, 0, 0]
        }
        None => [0; 12],
    };
    infop.write(&info)
}

crate::ktest!(exit_zombie_is_reaped_by_wait, {
    use crate::kernel::fork::{CloneFlags, kernel_thread};
    let flags = CloneFlags::FS | CloneFlags::FILES;
    let child = kernel_thread(|| 42 << 8, "ktest-zombie", flags).map_err(|_| "fork")?;
    let pid = child.pid;
    let reaped = kernel_wait4(WaitFor::Pid(pid), WaitOptions::empty()).map_err(|_| "wait")?;
    crate::kassert!(reaped == Some((pid, 42 << 8)), "wait returns the child's PID and status");
    crate::kassert!(child.exit_state() == crate::kernel::sched::task::EXIT_DEAD, "reaped");
    crate::kassert!(crate::kernel::pid::find_task_by_vpid(pid).is_none(), "its PID is gone");
    crate::kassert!(
        kernel_wait4(WaitFor::Any, WaitOptions::WNOHANG).err() == Some(Errno::ECHILD),
        "no children left: ECHILD"
    );
    Ok(())
});

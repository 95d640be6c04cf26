//! The signal state of a thread and of its thread group, and what signal
//! code needs from a task.
//!
//! Linux: include/linux/sched.h (`task_struct`'s `pending`, `blocked`,
//! `real_blocked`, `saved_sigmask`), include/linux/sched/signal.h
//! (`signal_struct`'s `shared_pending`, `flags`, `group_exit_code`;
//! `signal_pending`, `fatal_signal_pending`), kernel/signal.c
//! (`recalc_sigpending`).
//!
//! [`SigTask`] is the seam to the task code: `Task` implements it, and the
//! self-tests implement it for a stand-in task, so that sending and
//! delivery are tested without a scheduler.
//!
//! # Locking
//! Linux guards all of this with `sighand->siglock`. Here each piece has its
//! own IRQ-safe lock, taken in the order [`GroupSignal`] then
//! [`ThreadSignal`]; the action table's lock (`SigHand`) is never held with
//! either. `ThreadSignal::sigpending` (Linux: `TIF_SIGPENDING`) is read
//! without a lock: a stale `false` is fixed by the wake-up that follows
//! every send.

use super::altstack::SigAltStack;
use super::{SigHand, SigPending, SigSet};
use crate::kernel::locking::SpinLock;
use crate::kernel::locking::spinlock::SpinLockGuard;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

/// A thread's own signals (Linux: the signal fields of `task_struct`).
pub struct ThreadSignal {
    inner: SpinLock<ThreadSigInner>,
    /// Something may be deliverable (Linux: `TIF_SIGPENDING`).
    sigpending: AtomicBool,
    /// SIGKILL or a group exit is on its way; never cleared, since the
    /// thread is dying. Read without a lock because the scheduler asks
    /// under the run-queue lock, which nests inside the signal locks.
    fatal: AtomicBool,
}

/// The fields under [`ThreadSignal`]'s lock.
#[derive(Default)]
pub struct ThreadSigInner {
    /// Sent to this thread only (`tkill`, faults).
    pub pending: SigPending,
    /// Not delivered while in here (`rt_sigprocmask`).
    pub blocked: SigSet,
    /// The mask to restore after `rt_sigsuspend` (Linux: `saved_sigmask`
    /// with `TIF_RESTORE_SIGMASK`).
    pub saved_sigmask: Option<SigSet>,
    /// The mask `rt_sigtimedwait` replaced while it sleeps with the awaited
    /// signals unblocked; empty otherwise. A signal in it is neither
    /// discarded as ignored nor fatal at once (Linux: `real_blocked`).
    pub real_blocked: SigSet,
    /// The alternate signal stack (Linux: `sas_ss_sp`, `sas_ss_size`,
    /// `sas_ss_flags`).
    pub sas: SigAltStack,
}

bitflags::bitflags! {
    /// Thread-group job-control and exit state (Linux: `SIGNAL_*` in
    /// include/linux/sched/signal.h).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct SignalFlags: u32 {
        /// The group is stopped (`SIGNAL_STOP_STOPPED`).
        const STOP_STOPPED = 0x0000_0001;
        /// SIGCONT arrived since the last report (`SIGNAL_STOP_CONTINUED`).
        const STOP_CONTINUED = 0x0000_0002;
        /// The group is exiting (`SIGNAL_GROUP_EXIT`).
        const GROUP_EXIT = 0x0000_0004;
        /// The parent must hear CLD_CONTINUED (`SIGNAL_CLD_CONTINUED`).
        const CLD_CONTINUED = 0x0000_0020;
        /// Default-action signals are ignored: init (`SIGNAL_UNKILLABLE`).
        const UNKILLABLE = 0x0000_0040;
        /// An exec is killing the other threads: they exit alone, without
        /// starting a group exit (Linux: `signal->group_exec_task` set).
        const GROUP_EXEC = 0x0001_0000;
    }
}

/// A thread group's shared signals (Linux: the signal fields of
/// `signal_struct`, which Ferrite calls `ThreadGroup`).
pub struct GroupSignal {
    inner: SpinLock<GroupSigInner>,
}

/// The fields under [`GroupSignal`]'s lock.
#[derive(Default)]
pub struct GroupSigInner {
    /// Sent to the process (`kill`): any thread not blocking it takes it.
    pub shared_pending: SigPending,
    pub flags: SignalFlags,
    /// The wait status the group exits with once `GROUP_EXIT` is set, or
    /// the stop signal while stopped.
    pub group_exit_code: i32,
}

impl ThreadSignal {
    pub fn new() -> ThreadSignal {
        ThreadSignal {
            inner: SpinLock::new(ThreadSigInner::default()),
            sigpending: AtomicBool::new(false),
            fatal: AtomicBool::new(false),
        }
    }

    pub fn lock(&self) -> SpinLockGuard<'_, ThreadSigInner> {
        self.inner.lock()
    }

    /// A new thread takes its creator's blocked mask (Linux: `copy_process`
    /// keeps `blocked` and clears `pending`).
    pub fn inherit_blocked(&self, parent: &ThreadSignal) {
        let blocked = parent.lock().blocked;
        self.lock().blocked = blocked;
    }

    /// A forked child keeps its creator's alternate stack (Linux: the
    /// `task_struct` copy; `copy_signals` decides when not to).
    pub fn inherit_altstack(&self, parent: &ThreadSignal) {
        let sas = parent.lock().sas;
        self.lock().sas = sas;
    }

    /// Whether a signal may need delivering (Linux: `signal_pending`).
    pub fn signal_pending(&self) -> bool {
        self.sigpending.load(Ordering::Acquire)
    }

    /// Whether SIGKILL is on its way (Linux: `__fatal_signal_pending`).
    /// Lock-free: killable sleeps and the scheduler ask it.
    pub fn fatal_signal_pending(&self) -> bool {
        self.fatal.load(Ordering::Acquire)
    }

    pub(super) fn set_sigpending(&self, on: bool) {
        self.sigpending.store(on, Ordering::Release);
    }

    /// Marks SIGKILL as on its way (with `set_sigpending(true)`).
    pub(super) fn set_fatal(&self) {
        self.fatal.store(true, Ordering::Release);
    }
}

impl Default for ThreadSignal {
    fn default() -> Self {
        ThreadSignal::new()
    }
}

impl Default for GroupSignal {
    fn default() -> Self {
        GroupSignal::new()
    }
}

impl GroupSignal {
    pub fn new() -> GroupSignal {
        GroupSignal { inner: SpinLock::new(GroupSigInner::default()) }
    }

    pub fn lock(&self) -> SpinLockGuard<'_, GroupSigInner> {
        self.inner.lock()
    }

    /// Marks the group as init's: signals left at `SIG_DFL` cannot kill it.
    pub fn set_unkillable(&self) {
        self.lock().flags.insert(SignalFlags::UNKILLABLE);
    }
}

/// Recomputes `thread`'s pending flag (Linux: `recalc_sigpending_tsk`).
/// Called with both locks held, group first.
pub(super) fn recalc_sigpending(group: &GroupSigInner, thread: &ThreadSigInner, ts: &ThreadSignal) {
    let ready =
        thread.pending.signal().union(group.shared_pending.signal()).difference(thread.blocked);
    ts.set_sigpending(!ready.is_empty() || group.flags.contains(SignalFlags::GROUP_EXIT));
}

bitflags::bitflags! {
    /// Which sleeps a signal interrupts (Linux: the `state` argument of
    /// `wake_up_state`, `TASK_INTERRUPTIBLE`, `TASK_WAKEKILL`, `__TASK_STOPPED`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct WakeState: u32 {
        /// `TASK_INTERRUPTIBLE`.
        const INTERRUPTIBLE = 0x1;
        /// `__TASK_STOPPED`: a job-control stop.
        const STOPPED = 0x4;
        /// `TASK_WAKEKILL`: killable sleeps (`TASK_KILLABLE`) and stops.
        const WAKEKILL = 0x100;
    }
}

/// What signal code needs from a task (Linux reaches into `task_struct`;
/// Ferrite's `Task` implements this).
pub trait SigTask: Sized {
    /// The running task (Linux: `current`).
    fn current() -> Arc<Self>;
    /// The task whose thread id is `tid` (Linux: `find_task_by_vpid`).
    fn find_task_by_vpid(tid: i32) -> Option<Arc<Self>>;
    /// Calls `f` on every thread-group leader (Linux: `for_each_process`).
    fn for_each_process(f: &mut dyn FnMut(&Arc<Self>));

    /// Thread id (Linux: `task_pid_vnr`).
    #[allow(dead_code, reason = "for /proc and rt_tgsigqueueinfo; Task provides it")]
    fn tid(&self) -> i32;
    /// The thread is on its way out and takes no more signals (Linux:
    /// `PF_EXITING`).
    fn is_exiting(&self) -> bool {
        false
    }
    /// Thread-group id (Linux: `task_tgid_vnr`).
    fn tgid(&self) -> i32;
    /// Process-group id (Linux: `task_pgrp_vnr`).
    fn pgrp(&self) -> i32;
    /// The number `viewer`'s PID namespace gives this task's process, 0
    /// if it cannot see it (Linux: `task_tgid_nr_ns(self,
    /// task_active_pid_ns(viewer))`). Without namespaces, the tgid.
    fn tgid_nr_ns(&self, viewer: &Self) -> i32 {
        let _ = viewer;
        self.tgid()
    }
    /// The number `tgid()` and `pgrp()` compare with for what the caller
    /// calls `vnr`; `None` if its namespace has no such number (Linux:
    /// `find_vpid`).
    fn vnr_to_nr(vnr: i32) -> Option<i32> {
        Some(vnr)
    }
    /// PID 1 of the initial namespace, which not even SIGKILL reaches
    /// (Linux: `is_global_init`).
    fn is_global_init(&self) -> bool {
        false
    }
    /// Real uid, for `si_uid` and permission checks.
    fn uid(&self) -> u32;
    /// Real, effective and saved uid, for `kill_ok_by_cred`.
    fn kill_uids(&self) -> [u32; 3] {
        [self.uid(); 3]
    }
    /// Whether the task holds `CAP_KILL` (Linux: `ns_capable(…, CAP_KILL)`).
    fn capable_kill(&self) -> bool {
        self.uid() == 0
    }
    /// Session id, for SIGCONT's same-session rule (Linux: `task_session`).
    fn session(&self) -> i32 {
        0
    }
    /// How many siginfos may wait queued (Linux: `RLIMIT_SIGPENDING`).
    fn rlimit_sigpending(&self) -> u64 {
        u64::MAX
    }
    /// The parent process, if any (Linux: `real_parent`).
    fn parent(&self) -> Option<Arc<Self>>;
    /// Calls `f` on every thread of this task's group (Linux: `for_each_thread`).
    fn for_each_thread(self: &Arc<Self>, f: &mut dyn FnMut(&Arc<Self>));

    /// The action table; a handle, since exec may replace it.
    fn sighand(&self) -> Arc<SigHand>;
    fn group_signal(&self) -> &GroupSignal;
    fn thread_signal(&self) -> &ThreadSignal;

    /// Wakes the task if its sleep is one of `state`; returns whether it
    /// woke (Linux: `wake_up_state`). A running task on another CPU should
    /// be kicked to notice the signal (Linux: `kick_process`).
    fn wake_up_state(self: &Arc<Self>, state: WakeState) -> bool;
    /// Wakes the parent's `wait4` sleepers (Linux: `__wake_up_parent`).
    fn wake_up_parent(&self);
    /// Puts the current task in `TASK_STOPPED` and schedules until SIGCONT or
    /// SIGKILL wakes it; does not sleep if `still_stopped()` is false after
    /// the state is set (Linux: the tail of `do_signal_stop`).
    fn sleep_stopped(&self, still_stopped: &dyn Fn() -> bool);
    /// Sleeps in `TASK_INTERRUPTIBLE` until `until()` holds, checked after
    /// the state is set so no wake-up is lost (Linux: the loop of
    /// `sigsuspend`/`pause` around `schedule()`).
    fn schedule_interruptible(&self, until: &dyn Fn() -> bool);
    /// Ends the current thread group with wait status `code` (Linux:
    /// `do_group_exit`).
    fn do_group_exit(code: i32) -> !;
}

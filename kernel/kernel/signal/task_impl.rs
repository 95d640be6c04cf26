//! Signals for the scheduler's `Task`: the [`SigTask`] implementation, and
//! the hooks fork, exec and exit call.
//!
//! Linux: kernel/fork.c (`copy_sighand`, `copy_signal`, the
//! `SIGNAL_UNKILLABLE` line of `copy_process`), fs/exec.c (`unshare_sighand`
//! in `de_thread`), kernel/signal.c (`flush_signal_handlers`,
//! `signal_wake_up_state`, `do_signal_stop`'s sleep, `sigsuspend`),
//! kernel/exit.c (`do_group_exit`, `exit_notify`'s `do_notify_parent`).
//!
//! `for_each_thread` walks the group's `ThreadGroup` list (Linux:
//! `signal->thread_head`); processes come from `pid::for_each_process`
//! (Linux: `init_task.tasks`).
//!
//! # Locking
//! The process list is copied out before any signal lock is taken;
//! `Task::sighand`'s lock is held only to clone or swap the `Arc`.
//! `exit_notify_parent` runs under `fork::TASKLIST_LOCK`, which is outside
//! the signal locks. Wake-ups take the run-queue lock inside them.

use alloc::sync::Arc;

use super::task::{GroupSignal, SigTask, SignalFlags, ThreadSignal, WakeState};
use super::{SigHand, SigInfo, Signal};
use crate::kernel::fork::CloneFlags;
use crate::kernel::pid;
use crate::kernel::sched::task::{PF_EXITING, TASK_INTERRUPTIBLE, TASK_RUNNING, TASK_STOPPED};
use crate::kernel::sched::{self, Task};

impl SigTask for Task {
    fn current() -> Arc<Self> {
        sched::current()
    }

    fn find_task_by_vpid(tid: i32) -> Option<Arc<Self>> {
        pid::find_task_by_vpid(tid)
    }

    fn for_each_process(f: &mut dyn FnMut(&Arc<Self>)) {
        pid::for_each_process(f);
    }

    fn tid(&self) -> i32 {
        self.pid
    }

    fn tgid(&self) -> i32 {
        self.tgid
    }

    fn is_exiting(&self) -> bool {
        self.flags() & PF_EXITING != 0
    }

    fn pgrp(&self) -> i32 {
        Task::pgrp(self)
    }

    /// `tgid`, `pgrp` and kill's numbers are the initial namespace's.
    fn tgid_nr_ns(&self, viewer: &Self) -> i32 {
        pid::nr_to_ns(self.tgid, &pid::task_active_pid_ns(viewer))
    }

    fn vnr_to_nr(vnr: i32) -> Option<i32> {
        pid::vnr_to_nr(vnr)
    }

    fn is_global_init(&self) -> bool {
        self.tgid == 1
    }

    fn uid(&self) -> u32 {
        self.cred().uid
    }

    fn kill_uids(&self) -> [u32; 3] {
        let c = self.cred();
        [c.uid, c.euid, c.suid]
    }

    fn capable_kill(&self) -> bool {
        self.cred().euid == 0
    }

    fn session(&self) -> i32 {
        Task::session(self)
    }

    fn rlimit_sigpending(&self) -> u64 {
        let resource = linux_raw_sys::general::RLIMIT_SIGPENDING as usize;
        self.rlimit(resource).cur
    }

    fn parent(&self) -> Option<Arc<Self>> {
        self.real_parent.lock().upgrade()
    }

    fn for_each_thread(self: &Arc<Self>, f: &mut dyn FnMut(&Arc<Self>)) {
        for t in &self.threads() {
            f(t);
        }
    }

    fn sighand(&self) -> Arc<SigHand> {
        self.sighand.lock().clone()
    }

    fn group_signal(&self) -> &GroupSignal {
        self.signal.call_once(|| Arc::new(GroupSignal::new()))
    }

    fn thread_signal(&self) -> &ThreadSignal {
        &self.sigpending
    }

    /// `WakeState` has Linux's `TASK_*` values, which `try_to_wake_up`
    /// matches against the sleeper's state.
    fn wake_up_state(self: &Arc<Self>, state: WakeState) -> bool {
        sched::try_to_wake_up(self, state.bits())
    }

    fn wake_up_parent(&self) {
        if let Some(parent) = self.parent() {
            parent.chldexit_owner().wait_chldexit.wake_up_all();
        }
    }

    fn sleep_stopped(&self, still_stopped: &dyn Fn() -> bool) {
        self.set_state(TASK_STOPPED);
        if still_stopped() {
            sched::schedule();
        }
        self.set_state(TASK_RUNNING);
    }

    fn schedule_interruptible(&self, until: &dyn Fn() -> bool) {
        loop {
            self.set_state(TASK_INTERRUPTIBLE);
            if until() {
                break;
            }
            sched::schedule();
        }
        self.set_state(TASK_RUNNING);
    }

    fn do_group_exit(code: i32) -> ! {
        do_group_exit(code)
    }
}

/// Ends the whole thread group with wait status `code`, or with the status
/// a fatal signal already chose (Linux: `do_group_exit`). Exit-group, and
/// fatal signals from `get_signal`, end here.
pub fn do_group_exit(code: i32) -> ! {
    // In its own frame: nothing that holds a reference may stay on the
    // stack of a task that never returns.
    let code = zap_thread_group(code);
    crate::kernel::exit::do_exit(code)
}

fn zap_thread_group(code: i32) -> i32 {
    let cur = sched::current();
    {
        // Under the task-list lock, so that no thread joins the group
        // (clone checks GROUP_EXIT under it) after the walk below.
        let _tasklist = crate::kernel::fork::TASKLIST_LOCK.lock();
        let mut g = cur.group_signal().lock();
        if g.flags.contains(SignalFlags::GROUP_EXIT) {
            return g.group_exit_code;
        }
        if g.flags.contains(SignalFlags::GROUP_EXEC) {
            return code; // killed by `de_thread`: only this thread goes
        }
        g.flags.insert(SignalFlags::GROUP_EXIT);
        g.flags.remove(SignalFlags::STOP_STOPPED | SignalFlags::STOP_CONTINUED);
        g.group_exit_code = code;
    }
    zap_other_threads(&cur);
    code
}

/// SIGKILL to every other thread of the group (Linux: `zap_other_threads`).
pub fn zap_other_threads(cur: &Arc<Task>) {
    for t in cur.threads() {
        if Arc::ptr_eq(&t, cur) {
            continue;
        }
        t.sigpending.lock().pending.enqueue(SigInfo::kernel(Signal::SIGKILL));
        super::send::signal_wake_up(&t, true);
    }
}

/// The signal handlers of a child: shared with `CLONE_SIGHAND`, else a
/// copy; the thread group's signal state, shared with `CLONE_THREAD`; the
/// blocked mask, inherited; nothing pending (Linux: `copy_sighand`,
/// `copy_signal`, and the signal lines of `copy_process`). Call from
/// `copy_process` before the child can run.
pub fn copy_signals(flags: CloneFlags, parent: &Task, child: &Task) {
    let hand = parent.sighand.lock().clone();
    let hand = if flags.contains(CloneFlags::SIGHAND) { hand } else { Arc::new(hand.copy()) };
    *child.sighand.lock() = hand;
    if flags.contains(CloneFlags::THREAD) {
        let group = parent.signal.call_once(|| Arc::new(GroupSignal::new())).clone();
        child.signal.call_once(|| group);
    }
    child.sigpending.inherit_blocked(&parent.sigpending);
    // A thread sharing the memory must not share the stack (Linux: the
    // `sas_ss_reset` of `copy_process` for CLONE_VM without CLONE_VFORK).
    if !flags.contains(CloneFlags::VM) || flags.contains(CloneFlags::VFORK) {
        child.sigpending.inherit_altstack(&parent.sigpending);
    }
    // The first task of a PID namespace is its init: signals it left at
    // SIG_DFL cannot kill it (Linux: `is_child_reaper` in `copy_process`).
    if child.pid_link.is_child_reaper() {
        child.group_signal().set_unkillable();
    }
}

/// At exec: a private action table if it was shared, with caught signals
/// back to `SIG_DFL` (Linux: `unshare_sighand` in `de_thread`, then
/// `flush_signal_handlers(current, 0)`). Ignored signals stay ignored,
/// and the blocked mask and pending signals survive exec, as in Linux.
/// The alternate stack lay in the old address space: it goes.
pub fn flush_signal_handlers(t: &Task) {
    t.sigpending.lock().sas = super::altstack::SigAltStack::DISABLED;
    let mut hand = t.sighand.lock();
    if Arc::strong_count(&hand) > 1 {
        *hand = Arc::new(hand.copy());
    }
    hand.flush_signal_handlers();
}

/// Tells `tsk`'s parent that it exited, with `exit_signal` (normally
/// SIGCHLD) carrying its wait status; returns whether `tsk` should release
/// itself because nobody will wait for it: no exit signal (a thread), or
/// the parent ignores SIGCHLD or set `SA_NOCLDWAIT` (Linux: the
/// `do_notify_parent` call in `exit_notify`). `tsk.exit_code` is the wait
/// status. Pidfd pollers are woken first, as Linux's `do_notify_parent`
/// does.
pub fn exit_notify_parent(tsk: &Task) -> bool {
    crate::kernel::pidfd::do_notify_pidfd(tsk);
    let sig = u32::try_from(tsk.exit_signal).ok().and_then(Signal::new);
    let Some(sig) = sig else { return true };
    let code = tsk.exit_code.load(core::sync::atomic::Ordering::Relaxed);
    super::do_notify_parent(tsk, sig, code, (0, 0))
}

/// Sends SIGKILL from the kernel to `t`, which cannot refuse it (Linux:
/// `send_sig(SIGKILL, t, 1)`; for the OOM path).
#[allow(dead_code, reason = "the OOM path of the page-fault handler")]
pub fn send_sigkill(t: &Arc<Task>) {
    super::send_signal(SigInfo::kernel(Signal::SIGKILL), t, super::SendTo::Group, true);
}

/// Signals the process group `pgrp` from the kernel (Linux: `kill_pgrp(pgrp,
/// sig, 1)`): the tty's ^C, ^\ and ^Z. Safe from interrupt context.
pub fn kill_pgrp_priv(pgrp: i32, sig: Signal) -> bool {
    super::kill_pgrp::<Task>(Ok(Some(SigInfo::kernel(sig))), pgrp).is_ok()
}

/// Sends `sig` from the kernel to the current thread (Linux:
/// `send_sig(sig, current, 0)`; pipe's SIGPIPE). Kernel threads have no
/// user mode to take it in and ignore it, as Linux's `ignore_signals`.
pub fn send_sig_current(sig: Signal) {
    let cur = sched::current();
    if cur.is_kthread() {
        return;
    }
    super::send_signal(SigInfo::kernel(sig), &cur, super::SendTo::Thread, false);
}

crate::ktest!(signal_interrupts_a_task_sleep, {
    use crate::kernel::errno::Errno;
    use crate::kernel::sched::wait::WaitQueue;
    use core::sync::atomic::{AtomicI32, Ordering};
    static WQ: WaitQueue = WaitQueue::new();
    static RESULT: AtomicI32 = AtomicI32::new(0);
    RESULT.store(0, Ordering::SeqCst);
    let sleeper = || {
        let eintr = WQ.wait_event_interruptible(|| false) == Err(Errno::EINTR);
        RESULT.store(if eintr { 1 } else { 2 }, Ordering::SeqCst);
        0
    };
    let t = crate::kernel::kthread::kthread_run(sleeper, "ktest-sigwait").map_err(|_| "kthread")?;
    // A handler, so that the signal is not fatal: only the sleep ends.
    let catch = super::KSigAction { handler: 0x40_1000, ..super::KSigAction::DEFAULT };
    t.sighand().do_sigaction(Signal::SIGUSR1, Some(catch)).map_err(|_| "sigaction")?;
    while t.state() != TASK_INTERRUPTIBLE {
        sched::sched_yield();
    }
    crate::kassert!(!crate::kernel::sched::task::signal_pending(&t), "nothing pending yet");
    super::send_signal(SigInfo::kernel(Signal::SIGUSR1), &t, super::SendTo::Thread, false);
    crate::kassert!(crate::kernel::sched::task::signal_pending(&t), "TIF_SIGPENDING set");
    crate::kernel::kthread::kthread_stop(&t);
    crate::kassert!(RESULT.load(Ordering::SeqCst) == 1, "wait_event_interruptible gave EINTR");
    Ok(())
});

crate::ktest!(signal_state_of_a_forked_task, {
    use crate::kernel::signal::{KSigAction, SigSet};
    let me = sched::current();
    let old = me.sigpending.lock().blocked;
    me.sigpending.lock().blocked = SigSet::of(Signal::SIGUSR2);
    let catch = KSigAction { handler: 0x40_1000, ..KSigAction::DEFAULT };
    let old_act = me.sighand().do_sigaction(Signal::SIGUSR2, Some(catch)).map_err(|_| "act")?;
    let flags = CloneFlags::FS | CloneFlags::FILES;
    let child = crate::kernel::fork::kernel_thread(|| 0, "ktest-sigfork", flags);
    me.sigpending.lock().blocked = old;
    let _ = me.sighand().do_sigaction(Signal::SIGUSR2, Some(old_act));
    let child = child.map_err(|_| "kernel_thread")?;
    let blocked = child.sigpending.lock().blocked;
    let act = child.sighand().action(Signal::SIGUSR2);
    let which = crate::kernel::wait::WaitFor::Pid(child.pid);
    crate::kernel::wait::kernel_wait4(which, crate::kernel::wait::WaitOptions::WEXITED)
        .map_err(|_| "wait")?;
    crate::kassert!(blocked == SigSet::of(Signal::SIGUSR2), "the blocked mask is inherited");
    crate::kassert!(act == catch, "the actions are copied");
    crate::kassert!(
        !Arc::ptr_eq(&child.sighand(), &me.sighand()),
        "not shared without CLONE_SIGHAND"
    );
    let init = pid::init_pid_ns().child_reaper().ok_or("init exists")?;
    let unkillable = init.group_signal().lock().flags.contains(SignalFlags::UNKILLABLE);
    crate::kassert!(unkillable, "init is SIGNAL_UNKILLABLE");
    Ok(())
});

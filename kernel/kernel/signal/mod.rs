//! Signals: sending, queueing, and delivery on the way back to user mode.
//!
//! Linux: kernel/signal.c, include/linux/signal.h,
//! include/linux/signal_types.h, include/linux/sched/signal.h. The frame a
//! handler runs on is the architecture's: `arch::signal`.
//!
//! The pieces, as in Linux:
//! - `SigHand` (`sighand_struct`): the 64 actions, shared by threads
//!   (`CLONE_SIGHAND`), copied on fork, caught ones reset on exec.
//! - `GroupSignal` (the signal part of `signal_struct`, Ferrite's
//!   `ThreadGroup`): `shared_pending` for kill(2), job-control and group
//!   exit flags.
//! - `ThreadSignal` (the signal part of `task_struct`): per-thread pending
//!   (tkill, faults), the blocked mask, the mask `rt_sigsuspend` saves.
//! - `altstack` (the `sas_ss_*` fields: sigaltstack), `sigwait`
//!   (`rt_sigtimedwait`, `rt_sigqueueinfo`, `rt_tgsigqueueinfo`), `orphan`
//!   (SIGHUP and SIGCONT to a stopped group an exit orphans).
//! - Pure bookkeeping (signal sets, default actions, the pending queue,
//!   `siginfo_t`, wait statuses) is the host-tested `signal` crate.
//!
//! # Locking
//! Linux has one `siglock` per `sighand`. Ferrite has three locks, never
//! held across a user copy or a sleep:
//! 1. `GroupSignal` (shared pending, group flags), then
//! 2. `ThreadSignal` (a thread's pending and blocked; several threads' may
//!    be taken one after another under 1, never two at once);
//! 3. `SigHand::action`, a leaf: may be taken under 1 and 2, nothing under it.
//!
//! The task list (`SigTask::for_each_thread`/`for_each_process`) is walked
//! before any of these is taken, never under them, as Linux takes
//! `tasklist_lock` outside `siglock`.
//!
//! Wake-ups (`SigTask::wake_up_state`) run under 1 and 2 and take the
//! run-queue lock, which therefore comes after them.
#![deny(unsafe_code)]

pub mod action;
pub mod altstack;
pub mod deliver;
pub mod orphan;
pub mod send;
pub mod sigwait;
pub mod sys;
pub mod syscalls;
pub mod task;
pub mod task_impl;
mod tests;

#[allow(unused_imports, reason = "API for fork/exit/wait4/tty, wired by the integration step")]
pub use ::signal::{
    DefaultAction, STOP_MASK, SigFields, SigInfo, SigPending, SigSet, SigmaskHow, Signal,
    WaitStatus, cld_code_and_status, si_code, sig_default_action, w_continued, w_exitcode,
    w_signaled, w_stopcode,
};
#[allow(unused_imports, reason = "API for fork/exit/wait4/tty, wired by the integration step")]
pub use action::{KSigAction, SaFlags, SigHand, SigHandler};
#[allow(unused_imports, reason = "API for fork/exit/wait4/tty, wired by the integration step")]
pub use deliver::{KSignal, get_signal};
#[allow(unused_imports, reason = "API for fork/exit/wait4/tty, wired by the integration step")]
pub use send::{
    SendTo, do_notify_parent, do_notify_parent_cldstop, force_sig_info, kill_pgrp, kill_pid_info,
    send_signal,
};
#[allow(unused_imports, reason = "API for fork/exit/wait4/tty, wired by the integration step")]
pub use task::{GroupSignal, SigTask, SignalFlags, ThreadSignal, WakeState};
#[allow(unused_imports, reason = "send_sigkill: API for an OOM killer")]
pub use task_impl::{
    copy_signals, do_group_exit, exit_notify_parent, flush_signal_handlers, kill_pgrp_priv,
    send_sig_current, send_sigkill, zap_other_threads,
};

/// Whether `t` has a signal to deal with before it sleeps on or returns to
/// user mode (Linux: `signal_pending`); `wait_event_interruptible` checks it.
#[allow(dead_code, reason = "sched::task::signal_pending calls it once Task implements SigTask")]
pub fn signal_pending<T: SigTask>(t: &T) -> bool {
    t.thread_signal().signal_pending()
}

/// Whether SIGKILL is on its way to `t`: killable sleeps end (Linux:
/// `fatal_signal_pending`).
#[allow(dead_code, reason = "killable sleeps check it once wired")]
pub fn fatal_signal_pending<T: SigTask>(t: &T) -> bool {
    t.thread_signal().fatal_signal_pending()
}

/// Sends `sig` from the kernel to the current task, which cannot block or
/// ignore it (Linux: `force_sig`).
pub fn force_sig<T: SigTask>(sig: Signal) {
    force_sig_info(SigInfo::kernel(sig), &T::current());
}

/// A fault signal with its address to the current task (Linux:
/// `force_sig_fault`): SIGSEGV with `SEGV_MAPERR`, SIGBUS with `BUS_ADRERR`…
#[allow(dead_code, reason = "the page-fault and trap handlers send SIGSEGV/SIGBUS with it")]
pub fn force_sig_fault<T: SigTask>(sig: Signal, code: i32, addr: u64) {
    force_sig_info(SigInfo::fault(sig, code, addr), &T::current());
}

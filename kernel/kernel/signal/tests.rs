//! Self-tests of sending and delivery against stand-in tasks, so that the
//! rules are checked before the scheduler runs real ones.
//!
//! Linux: tools/testing/selftests/signal/ checks the same rules from user
//! space; these check them from inside.
//!
//! # Locking
//! `TASKS` and `CURRENT` are leaves, never held while calling signal code.

use super::send::{KillInfo, SendTo, kill_something_info, send_signal};
use super::syscalls::sig_from_user;
use super::{GroupSignal, KSigAction, SaFlags, SigHand, SigInfo, SigSet, SigTask, Signal};
use super::{SignalFlags, ThreadSignal, WakeState, get_signal};
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

/// A process of one thread, with the parts signals look at.
struct Mock {
    pid: i32,
    pgrp: i32,
    uid: u32,
    hand: Arc<SigHand>,
    group: GroupSignal,
    thread: ThreadSignal,
    /// The last `WakeState` bits it was woken with.
    woken: AtomicU32,
}

static TASKS: SpinLock<Vec<Arc<Mock>>> = SpinLock::new(Vec::new());
static CURRENT: SpinLock<Option<Arc<Mock>>> = SpinLock::new(None);

/// Replaces the task list with processes `(pid, pgrp, uid)`; the first is current.
fn world(tasks: &[(i32, i32, u32)]) -> Vec<Arc<Mock>> {
    let made: Vec<_> = tasks
        .iter()
        .map(|&(pid, pgrp, uid)| {
            Arc::new(Mock {
                pid,
                pgrp,
                uid,
                hand: Arc::new(SigHand::new()),
                group: GroupSignal::new(),
                thread: ThreadSignal::new(),
                woken: AtomicU32::new(0),
            })
        })
        .collect();
    *TASKS.lock() = made.clone();
    *CURRENT.lock() = made.first().cloned();
    made
}

impl SigTask for Mock {
    fn current() -> Arc<Self> {
        CURRENT.lock().clone().expect("tests set a current task first")
    }
    fn find_task_by_vpid(tid: i32) -> Option<Arc<Self>> {
        TASKS.lock().iter().find(|t| t.pid == tid).cloned()
    }
    fn for_each_process(f: &mut dyn FnMut(&Arc<Self>)) {
        let all = TASKS.lock().clone();
        all.iter().for_each(f);
    }
    fn tid(&self) -> i32 {
        self.pid
    }
    fn tgid(&self) -> i32 {
        self.pid
    }
    fn pgrp(&self) -> i32 {
        self.pgrp
    }
    fn uid(&self) -> u32 {
        self.uid
    }
    fn parent(&self) -> Option<Arc<Self>> {
        None
    }
    fn for_each_thread(self: &Arc<Self>, f: &mut dyn FnMut(&Arc<Self>)) {
        f(self);
    }
    fn sighand(&self) -> Arc<SigHand> {
        self.hand.clone()
    }
    fn group_signal(&self) -> &GroupSignal {
        &self.group
    }
    fn thread_signal(&self) -> &ThreadSignal {
        &self.thread
    }
    fn wake_up_state(self: &Arc<Self>, state: WakeState) -> bool {
        self.woken.store(state.bits(), Ordering::Relaxed);
        true
    }
    fn wake_up_parent(&self) {}
    fn sleep_stopped(&self, _still_stopped: &dyn Fn() -> bool) {}
    fn schedule_interruptible(&self, _until: &dyn Fn() -> bool) {}
    fn do_group_exit(_code: i32) -> ! {
        panic!("a signal self-test reached do_group_exit");
    }
}

fn user(sig: Signal) -> SigInfo {
    SigInfo::user(sig, 1, 0)
}

fn kill(pid: i32, sig: i32) -> Result<(), Errno> {
    let info: KillInfo =
        if sig == 0 { Ok(None) } else { sig_from_user(sig).map(|s| Some(user(s))) };
    kill_something_info::<Mock>(info, pid)
}

crate::ktest!(signal_send_and_dequeue, {
    let t = world(&[(10, 10, 0)]);
    let me = &t[0];
    me.thread.lock().blocked = SigSet::of(Signal::SIGUSR1);
    send_signal(user(Signal::SIGUSR1), me, SendTo::Group, false);
    crate::kassert!(!me.thread.signal_pending(), "a blocked signal does not interrupt");
    crate::kassert!(me.group.lock().shared_pending.contains(Signal::SIGUSR1), "but it is queued");
    send_signal(user(Signal::SIGSEGV), me, SendTo::Thread, false);
    crate::kassert!(me.thread.signal_pending(), "an unblocked one does");
    crate::kassert!(me.woken.load(Ordering::Relaxed) == WakeState::INTERRUPTIBLE.bits(), "woken");
    let handler = KSigAction { handler: 0x1000, flags: SaFlags::RESETHAND, ..KSigAction::DEFAULT };
    me.hand.do_sigaction(Signal::SIGSEGV, Some(handler)).map_err(|_| "sigaction")?;
    let ksig = get_signal::<Mock>().ok_or("SIGSEGV has a handler")?;
    crate::kassert!(ksig.info.signo == Signal::SIGSEGV, "the fault first");
    crate::kassert!(me.hand.action(Signal::SIGSEGV) == KSigAction::DEFAULT, "SA_RESETHAND");
    crate::kassert!(get_signal::<Mock>().is_none(), "SIGUSR1 stays blocked");
    Ok(())
});

crate::ktest!(signal_ignored_at_send, {
    let t = world(&[(10, 10, 0)]);
    let me = &t[0];
    send_signal(user(Signal::SIGCHLD), me, SendTo::Group, false);
    crate::kassert!(me.group.lock().shared_pending.signal().is_empty(), "default-ignored dropped");
    let ign = KSigAction { handler: 1, ..KSigAction::DEFAULT };
    me.hand.do_sigaction(Signal::SIGTERM, Some(ign)).map_err(|_| "sigaction")?;
    send_signal(user(Signal::SIGTERM), me, SendTo::Group, false);
    crate::kassert!(me.group.lock().shared_pending.signal().is_empty(), "SIG_IGN dropped");
    me.thread.lock().blocked = SigSet::of(Signal::SIGTERM);
    send_signal(user(Signal::SIGTERM), me, SendTo::Group, false);
    crate::kassert!(me.group.lock().shared_pending.contains(Signal::SIGTERM), "blocked: kept");
    Ok(())
});

crate::ktest!(signal_stop_and_cont_cancel, {
    let t = world(&[(10, 10, 0)]);
    let me = &t[0];
    me.thread.lock().blocked = SigSet::FULL.without_kernel_only();
    send_signal(user(Signal::SIGTSTP), me, SendTo::Group, false);
    send_signal(user(Signal::SIGCONT), me, SendTo::Group, false);
    let pending = me.group.lock().shared_pending.signal();
    crate::kassert!(!pending.contains(Signal::SIGTSTP), "SIGCONT discards a pending stop");
    crate::kassert!(me.woken.load(Ordering::Relaxed) & WakeState::STOPPED.bits() != 0, "resumed");
    send_signal(user(Signal::SIGTTIN), me, SendTo::Group, false);
    let pending = me.group.lock().shared_pending.signal();
    crate::kassert!(!pending.contains(Signal::SIGCONT), "a stop discards a pending SIGCONT");
    crate::kassert!(pending.contains(Signal::SIGTTIN), "and is queued");
    me.group.lock().flags.insert(SignalFlags::STOP_STOPPED);
    send_signal(user(Signal::SIGCONT), me, SendTo::Group, false);
    let flags = me.group.lock().flags;
    crate::kassert!(!flags.contains(SignalFlags::STOP_STOPPED), "SIGCONT continues the group");
    crate::kassert!(flags.contains(SignalFlags::CLD_CONTINUED), "and the parent will hear");
    Ok(())
});

crate::ktest!(signal_sigkill_is_fatal_at_once, {
    let t = world(&[(10, 10, 0)]);
    let me = &t[0];
    me.thread.lock().blocked = SigSet::FULL; // user space cannot, but even so
    send_signal(user(Signal::SIGKILL), me, SendTo::Group, false);
    crate::kassert!(me.group.lock().shared_pending.contains(Signal::SIGKILL), "queued");
    me.thread.lock().blocked = SigSet::EMPTY;
    send_signal(user(Signal::SIGTERM), me, SendTo::Group, false);
    let g = me.group.lock();
    crate::kassert!(
        g.flags.contains(SignalFlags::GROUP_EXIT),
        "SIGTERM at SIG_DFL kills the group"
    );
    crate::kassert!(g.group_exit_code == 15, "with the signal as status");
    drop(g);
    crate::kassert!(me.thread.fatal_signal_pending(), "every thread gets SIGKILL");
    let woken = me.woken.load(Ordering::Relaxed);
    crate::kassert!(woken & WakeState::WAKEKILL.bits() != 0, "killable sleeps end");
    Ok(())
});

crate::ktest!(signal_init_is_unkillable, {
    let t = world(&[(5, 5, 0), (1, 1, 0)]);
    t[1].group.set_unkillable();
    crate::kassert!(kill(1, 9) == Ok(()), "kill(1, SIGKILL) succeeds");
    crate::kassert!(t[1].group.lock().shared_pending.signal().is_empty(), "and does nothing");
    Ok(())
});

crate::ktest!(signal_kill_targets, {
    let t = world(&[(10, 7, 1000), (1, 1, 0), (11, 7, 1000), (12, 8, 1000), (13, 8, 0)]);
    let usr1 = Signal::SIGUSR1.number() as i32;
    let got = |i: usize| t[i].group.lock().shared_pending.contains(Signal::SIGUSR1);
    crate::kassert!(kill(99, usr1) == Err(Errno::ESRCH), "no such pid");
    crate::kassert!(kill(11, 65) == Err(Errno::EINVAL), "no such signal");
    crate::kassert!(kill(99, 65) == Err(Errno::ESRCH), "ESRCH before EINVAL, as Linux");
    crate::kassert!(kill(11, 0) == Ok(()), "signal 0 checks only");
    crate::kassert!(!got(2), "and sends nothing");
    crate::kassert!(kill(13, usr1) == Err(Errno::EPERM), "root's process");
    crate::kassert!(kill(0, usr1) == Ok(()), "own group");
    crate::kassert!(got(0) && got(2) && !got(3), "own group is 7");
    crate::kassert!(kill(-8, usr1) == Ok(()), "group 8: one of two allowed");
    crate::kassert!(got(3) && !got(4), "group 8 but not root's");
    crate::kassert!(kill(-9, usr1) == Err(Errno::ESRCH), "empty group");
    // Those SIGUSR1s were fatal: start again, as root.
    let t = world(&[(13, 8, 0), (1, 1, 0), (10, 7, 1000), (11, 7, 1000), (12, 8, 1000)]);
    let got = |i: usize| t[i].group.lock().shared_pending.contains(Signal::SIGUSR1);
    crate::kassert!(kill(-1, usr1) == Ok(()), "everyone");
    crate::kassert!(got(2) && got(3) && got(4), "others");
    crate::kassert!(!got(0) && !got(1), "but the caller and init");
    crate::kassert!(kill(i32::MIN, usr1) == Err(Errno::ESRCH), "-INT_MIN");
    Ok(())
});

//! Ending tasks: `do_exit`, `exit`/`exit_group`, zombies, reaping, and
//! orphans. Waiting for children is in wait.rs.
//!
//! Linux: kernel/exit.c (`do_exit`, `exit_notify`, `forget_original_parent`,
//! `find_child_reaper`, `find_new_reaper`, `release_task`, `mm_release`),
//! kernel/pid_namespace.c (`zap_pid_ns_processes`), fs/exec.c
//! (`de_thread`), kernel/sched/core.c (`do_task_dead`).
//!
//! An exiting task drops its address space, files and filesystem context,
//! gives its children to a new parent (another live thread of its group,
//! else the nearest child-subreaper ancestor, else its PID namespace's
//! init, the child reaper; each child that asked for a parent-death
//! signal gets it), sends
//! its parent SIGCHLD (`signal::exit_notify_parent`), then either becomes
//! a zombie (`EXIT_ZOMBIE`) for its parent to collect with
//! `wait`, or, if nobody will (its parent ignores SIGCHLD, as `kthreadd`
//! does, or it is a non-leader thread), releases itself (`EXIT_DEAD`). A
//! leader whose threads live on stays a silent zombie (`delay_group_leader`)
//! and the last thread out tells its parent; `de_thread` empties the group
//! for exec. When a PID namespace's init exits, the namespace goes with it:
//! every other process in it is killed and reaped first. The task then schedules away for good; its memory goes with
//! the last reference, dropped by the next task (arch/x86_64/switch_to.rs).
//!
//! # Locking
//! `fork::TASKLIST_LOCK` around every change to the process tree; tasks
//! taken out of a `children` list are dropped after it is released.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use crate::kernel::errno::KResult;
use crate::kernel::fork::TASKLIST_LOCK;
use crate::kernel::pid::{self, PidType};
use crate::kernel::sched::task::{EXIT_DEAD, EXIT_ZOMBIE, PF_EXITING, TASK_DEAD};
use crate::kernel::sched::{self, Task, current};
use crate::kernel::signal::w_exitcode;

/// Ends the running task with `code` (Linux: `do_exit`). `code` is stored
/// as given: the exit syscalls encode it as `wait` reports it
/// (`(status & 0xff) << 8`), signals as the signal number.
pub fn do_exit(code: i32) -> ! {
    // Everything that holds references runs in its own frame, so that none
    // is left on this stack, which is never unwound.
    exit_prepare(code);
    do_task_dead()
}

fn exit_prepare(code: i32) {
    let tsk = current();
    if tsk.is_idle() {
        panic!("Attempted to kill the idle task!");
    }
    if tsk.pid == 1 {
        panic!("Attempted to kill init! exitcode={code:#010x}");
    }
    tsk.set_flags(PF_EXITING);
    tsk.exit_code.store(code, Ordering::Relaxed);
    crate::kernel::trace::events::sched::trace_sched_process_exit(&tsk);
    crate::kernel::time::cputime::exit_cputime(&tsk);
    exit_mm_release(&tsk);
    // Linux: exit_mm, exit_files, exit_fs. Taken out under the lock,
    // dropped after it: a temporary guard in `drop(x.lock().take())` would
    // live to the end of the statement, so the last `Arc<Mm>` (freeing
    // page tables, maybe sleeping) would go under the spinlock.
    let mm = tsk.mm.lock().take();
    let files = tsk.files.lock().take();
    let fs = tsk.fs.lock().take();
    drop((mm, files, fs));
    // Linux: exit_sem, once the group's last thread goes.
    if tsk.threads().iter().all(|t| Arc::ptr_eq(t, &tsk) || t.flags() & PF_EXITING != 0) {
        crate::ipc::sem::exit_sem(tsk.tgid);
    }
    if let Some(kthread) = &tsk.kthread {
        kthread.exited(code);
    }
    exit_notify(&tsk);
}

/// Lets go of the address space as a user of it (Linux: `exit_mm_release`
/// → `mm_release`): a `vfork` parent goes on, and with `CLONE_CHILD_CLEARTID`
/// the thread ID word is zeroed for whoever shares the memory (the futex
/// wake-up Linux adds comes with futexes).
fn exit_mm_release(tsk: &Task) {
    crate::kernel::futex::exit_robust_list(tsk);
    let tid_addr = tsk.clear_child_tid.swap(0, Ordering::Relaxed);
    let shared = tsk.mm.lock().as_ref().is_some_and(|mm| Arc::strong_count(mm) > 1);
    if tid_addr != 0 && shared {
        crate::kernel::futex::clear_child_tid(tid_addr);
    }
    crate::kernel::fork::mm_release(tsk);
}

/// The last schedule of a dead task (Linux: `do_task_dead`).
fn do_task_dead() -> ! {
    crate::arch::current::with_current(|t| {
        if let Some(t) = t {
            t.set_state(TASK_DEAD);
        }
    });
    sched::schedule();
    // Nothing wakes a TASK_DEAD task (`try_to_wake_up` matches no state).
    unreachable!("a dead task ran again");
}

/// What `forget_original_parent` leaves to do once `TASKLIST_LOCK` is
/// released.
#[derive(Default)]
struct Orphans {
    /// A zombie moved: the new parent must look.
    zombie: bool,
    /// Threads that asked for a signal when their parent dies
    /// (prctl `PR_SET_PDEATHSIG`).
    pdeath: Vec<(Arc<Task>, i32)>,
}

/// Gives `father`'s children to `reaper` (Linux: `forget_original_parent`).
/// Call with `TASKLIST_LOCK`.
fn forget_original_parent(father: &Task, reaper: Option<&Arc<Task>>) -> Orphans {
    let orphans = core::mem::take(&mut *father.children.lock());
    let mut left = Orphans::default();
    let new_parent = reaper.map_or_else(alloc::sync::Weak::new, Arc::downgrade);
    let tgid = reaper.map_or(0, |r| r.tgid);
    for child in &orphans {
        for t in child.threads() {
            *t.real_parent.lock() = new_parent.clone();
            t.real_parent_tgid.store(tgid, Ordering::Relaxed);
            *t.parent.lock() = new_parent.clone();
            let sig = t.pdeath_signal.load(Ordering::Relaxed);
            if sig != 0 && left.pdeath.try_reserve(1).is_ok() {
                left.pdeath.push((t, sig));
            }
        }
        left.zombie |= child.exit_state() == EXIT_ZOMBIE;
    }
    if let Some(reaper) = reaper {
        let mut children = reaper.children.lock();
        // Orphans fit: the reaper's list only grows by what `father` had.
        if children.try_reserve(orphans.len()).is_ok() {
            children.extend(orphans);
        }
    }
    left
}

/// A thread of `p`'s group other than `not` that is not exiting (Linux:
/// `find_alive_thread`).
fn find_alive_thread(p: &Arc<Task>, not: &Task) -> Option<Arc<Task>> {
    p.threads()
        .into_iter()
        .find(|t| !core::ptr::eq(Arc::as_ptr(t), not) && t.flags() & PF_EXITING == 0)
}

/// The namespace's reaper for `father`'s orphans (Linux:
/// `find_child_reaper`). If `father` is that reaper, another thread of its
/// group takes over; if none is left, the namespace dies with it first.
fn find_child_reaper(father: &Arc<Task>) -> Option<Arc<Task>> {
    let ns = pid::task_active_pid_ns(father);
    let reaper = ns.child_reaper();
    if !reaper.as_ref().is_some_and(|r| Arc::ptr_eq(r, father)) {
        return reaper;
    }
    if let Some(thread) = find_alive_thread(father, father) {
        ns.set_child_reaper(&thread);
        return Some(thread);
    }
    if ns.level > 0 {
        zap_pid_ns_processes(&ns, father);
    }
    None
}

/// Who adopts `father`'s children (Linux: `find_new_reaper`): a live
/// thread of its group, else the nearest ancestor in its namespace that
/// is a child subreaper (prctl `PR_SET_CHILD_SUBREAPER`), else the
/// namespace's reaper. Call with `TASKLIST_LOCK`.
fn find_new_reaper(father: &Arc<Task>, child_reaper: Option<&Arc<Task>>) -> Option<Arc<Task>> {
    if let Some(thread) = find_alive_thread(father, father) {
        return Some(thread);
    }
    let level = father.pid_link.level();
    let mut up = father.real_parent.lock().upgrade();
    while let Some(p) = up.filter(|p| p.pid_link.level() == level && p.pid > 1) {
        if p.thread_group().is_child_subreaper.load(Ordering::Relaxed)
            && let Some(thread) = find_alive_thread(&p, father)
        {
            return Some(thread);
        }
        up = p.real_parent.lock().upgrade();
    }
    child_reaper.filter(|r| !Arc::ptr_eq(r, father)).cloned()
}

/// Ends a PID namespace whose init is exiting (Linux:
/// `zap_pid_ns_processes`): no new PIDs, SIGKILL to every other process
/// in it (nested namespaces included), and its init waits until all are
/// gone, reaping those that became its children. From now on its
/// children reap themselves, as if it ignored SIGCHLD.
pub fn zap_pid_ns_processes(ns: &pid::PidNamespace, me: &Arc<Task>) {
    use crate::kernel::wait::{WaitFor, WaitOptions, kernel_wait4};
    ns.disable_pid_allocation();
    me.sigchld_ignored.store(true, Ordering::Relaxed);
    // Zombie leaders too: their threads may live on.
    pid::for_each_process(|p| {
        if !Arc::ptr_eq(p, me) && pid::pid_nr_ns(&p.pid_link, ns) > 1 {
            crate::kernel::signal::send_sigkill(p);
        }
    });
    let reap = WaitOptions::WALL | WaitOptions::WNOHANG;
    loop {
        while let Ok(Some(_)) = kernel_wait4(WaitFor::Any, reap) {}
        if ns.nr_allocated() <= 1 {
            break;
        }
        // Linux sleeps until the last `free_pid` wakes it; a tick's poll
        // is simpler and this happens once per namespace.
        crate::kernel::time::timer::schedule_timeout_uninterruptible(1);
    }
    // reboot(2) in the namespace: its parent sees init killed by SIGHUP or
    // SIGINT (Linux: `group_exit_code = pid_ns->reboot`).
    if let Some(sig) = crate::kernel::signal::Signal::new(ns.reboot()) {
        use crate::kernel::signal::SigTask;
        let status = crate::kernel::signal::w_signaled(sig, false);
        me.group_signal().lock().group_exit_code = status;
        me.exit_code.store(status, Ordering::Relaxed);
    }
}

/// Tells the parent, and becomes a zombie or releases itself (Linux:
/// `exit_notify`). A thread other than the leader releases itself; the
/// last one to go tells the parent about a leader that exited before it.
/// A leader whose threads still live stays a silent zombie
/// (`delay_group_leader`) until then.
fn exit_notify(tsk: &Arc<Task>) {
    let child_reaper = find_child_reaper(tsk);
    let children = tsk.children.lock().clone();
    let (notified, orphans, reaper) = {
        let _tasklist = TASKLIST_LOCK.lock();
        let reaper = find_new_reaper(tsk, child_reaper.as_ref());
        let orphans = forget_original_parent(tsk, reaper.as_ref());
        let others_left = unlink_thread(tsk);
        let notify = if !tsk.is_group_leader() {
            tsk.set_exit_state(EXIT_DEAD);
            let leader = tsk.group_leader.lock().upgrade();
            let leader = leader.filter(|l| !others_left && l.exit_state() == EXIT_ZOMBIE);
            if let Some(l) = &leader
                && tsk.thread_group().exec_by_thread.load(Ordering::Relaxed)
            {
                l.exit_code.store(tsk.exit_code.load(Ordering::Relaxed), Ordering::Relaxed);
            }
            leader
        } else if others_left {
            tsk.set_exit_state(EXIT_ZOMBIE);
            None
        } else {
            Some(tsk.clone())
        };
        (notify.map(|who| notify_parent_locked(&who)), orphans, reaper)
    };
    let gone = notified.as_ref().map(|(who, ..)| who);
    crate::kernel::signal::orphan::exit_orphaned_pgrps(tsk, gone, &children);
    if orphans.zombie
        && let Some(reaper) = &reaper
    {
        reaper.chldexit_owner().wait_chldexit.wake_up_all();
    }
    for (t, sig) in orphans.pdeath {
        if let Some(sig) = u32::try_from(sig).ok().and_then(crate::kernel::signal::Signal::new) {
            let info = crate::kernel::signal::SigInfo::kernel(sig);
            crate::kernel::signal::send_signal(
                info,
                &t,
                crate::kernel::signal::SendTo::Group,
                false,
            );
        }
    }
    if !tsk.is_group_leader() {
        release_task(tsk);
    }
    if let Some((who, parent, autoreap)) = notified {
        if autoreap {
            release_task(&who);
        }
        // Woken either way, as Linux's `do_notify_parent` wakes it: a
        // waiter for a child that reaped itself gets ECHILD.
        if let Some(parent) = parent {
            parent.chldexit_owner().wait_chldexit.wake_up_all();
        }
    }
}

/// Takes `tsk` off its thread group's list; returns whether other threads
/// live on (Linux: `__unhash_process`'s `list_del_rcu(&p->thread_node)`
/// and `signal->live`). Call with `TASKLIST_LOCK`.
fn unlink_thread(tsk: &Task) -> bool {
    let mut threads = tsk.thread_group().threads.lock();
    threads.retain(|w| !core::ptr::eq(w.as_ptr(), tsk));
    !threads.is_empty()
}

/// SIGCHLD (or the chosen exit signal) to the parent of the group leader
/// `tsk`, which answers whether nobody will wait (SIG_IGN, SA_NOCLDWAIT,
/// no exit signal); `tsk` becomes a zombie or dead accordingly. Under
/// `TASKLIST_LOCK` with the state change, as Linux: a parent woken by it
/// finds the zombie.
fn notify_parent_locked(tsk: &Arc<Task>) -> (Arc<Task>, Option<Arc<Task>>, bool) {
    use crate::kernel::signal::{SigTask, SignalFlags};
    // After exit_group the group's status counts, whoever ended first
    // (Linux: `wait_task_zombie` reads `group_exit_code`).
    let g = tsk.group_signal().lock();
    if g.flags.contains(SignalFlags::GROUP_EXIT) {
        tsk.exit_code.store(g.group_exit_code, Ordering::Relaxed);
    }
    drop(g);
    // A process made with no exit signal (clone's CSIGNAL 0) stays a
    // zombie for a `__WALL` wait (Linux: `do_notify_parent(tsk, 0)`).
    let notified_autoreap = tsk.exit_signal > 0 && crate::kernel::signal::exit_notify_parent(tsk);
    let parent = tsk.real_parent.lock().upgrade();
    // `kthreadd` stands for a parent that ignores SIGCHLD.
    let autoreap = notified_autoreap
        || parent.as_ref().is_none_or(|p| p.sigchld_ignored.load(Ordering::Relaxed));
    tsk.set_exit_state(if autoreap { EXIT_DEAD } else { EXIT_ZOMBIE });
    (tsk.clone(), parent, autoreap)
}

/// Makes the exec'ing task the only thread of its group (Linux:
/// `de_thread`): the others get SIGKILL and exec waits until they are
/// gone. A non-leader then takes the leader's PID, as in Linux, so that
/// gettid() == getpid() and lookups of the PID find it; unlike Linux the
/// leader's zombie is not released at once but stands for the process in
/// its parent's children until this thread exits (`exec_by_thread`).
pub fn de_thread(tsk: &Arc<Task>) -> KResult<()> {
    use crate::kernel::errno::Errno;
    use crate::kernel::signal::{SigTask, SignalFlags};
    if !has_other_threads(tsk) {
        return Ok(());
    }
    {
        let _tasklist = TASKLIST_LOCK.lock();
        let mut g = tsk.group_signal().lock();
        if g.flags.intersects(SignalFlags::GROUP_EXIT | SignalFlags::GROUP_EXEC) {
            return Err(Errno::EAGAIN);
        }
        g.flags.insert(SignalFlags::GROUP_EXEC);
    }
    crate::kernel::signal::zap_other_threads(tsk);
    let mut killed = false;
    while has_other_threads(tsk) {
        if tsk.sigpending.fatal_signal_pending() {
            killed = true;
            break;
        }
        tsk.set_state(crate::kernel::sched::task::TASK_KILLABLE);
        crate::kernel::time::timer::schedule_timeout(1);
    }
    tsk.group_signal().lock().flags.remove(SignalFlags::GROUP_EXEC);
    if killed {
        return Err(Errno::EINTR);
    }
    if !tsk.is_group_leader() && tsk.exec_pid.get().is_none() {
        take_leader_pid(tsk)?;
    }
    Ok(())
}

/// The exec'ing thread becomes the process as its parent and the world
/// know it: it takes the leader's PID (so gettid() == getpid()), and the
/// leader's zombie reports its exit status to the parent (Linux: the
/// `!thread_group_leader(tsk)` half of `de_thread`).
fn take_leader_pid(tsk: &Arc<Task>) -> KResult<()> {
    let Some(leader) = tsk.group_leader.lock().upgrade() else { return Ok(()) };
    let _tasklist = TASKLIST_LOCK.lock();
    pid::exchange_tids(tsk, &leader)?;
    let leader_pid = pid::task_pid(&leader).clone();
    tsk.exec_pid.call_once(|| leader_pid);
    tsk.thread_group().exec_by_thread.store(true, Ordering::Relaxed);
    Ok(())
}

/// Whether a thread other than `tsk` lives in its group.
fn has_other_threads(tsk: &Task) -> bool {
    tsk.thread_group().threads.lock().iter().any(|w| !core::ptr::eq(w.as_ptr(), tsk))
}

/// Takes a dead task out of the process tree and frees its PID numbers
/// (Linux: `release_task`).
pub fn release_task(p: &Task) {
    let removed = {
        let _tasklist = TASKLIST_LOCK.lock();
        p.set_exit_state(EXIT_DEAD);
        let removed = p.real_parent.lock().upgrade().and_then(|parent| {
            let mut children = parent.children.lock();
            let i = children.iter().position(|c| core::ptr::eq(Arc::as_ptr(c), p))?;
            Some(children.swap_remove(i))
        });
        p.detach_pgrp_session();
        pid::detach_pid(p, &p.pid_link, PidType::Pid);
        if let Some(exec_pid) = p.exec_pid.get() {
            pid::detach_pid(p, exec_pid, PidType::Pid);
        }
        pid::remove_process(p);
        removed
    };
    drop(removed);
}

/// exit(2): ends the calling thread (Linux: `sys_exit`).
pub fn sys_exit(code: i32) -> KResult<()> {
    do_exit(w_exitcode(code))
}

/// exit_group(2): ends the whole process (Linux: `sys_exit_group` →
/// `do_group_exit`).
pub fn sys_exit_group(code: i32) -> KResult<()> {
    // The ring-3 self-test's program ends here and returns to its test.
    crate::arch::syscall_selftest::check_exit();
    crate::kernel::signal::do_group_exit(w_exitcode(code))
}

/// Children of `task`, for /proc and tests.
#[allow(dead_code, reason = "for /proc/PID/task/*/children")]
pub fn children_of(task: &Task) -> Vec<Arc<Task>> {
    task.children.lock().clone()
}

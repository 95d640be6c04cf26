//! Ending tasks: `do_exit`, `exit`/`exit_group`, zombies, reaping, and
//! orphans. Waiting for children is in wait.rs.
//!
//! Linux: kernel/exit.c (`do_exit`, `exit_notify`, `forget_original_parent`,
//! `release_task`, `mm_release`), kernel/sched/core.c
//! (`do_task_dead`).
//!
//! An exiting task drops its address space, files and filesystem context,
//! gives its children to the namespace's init (the child reaper), sends
//! its parent SIGCHLD (`signal::exit_notify_parent`), then either becomes
//! a zombie (`EXIT_ZOMBIE`) for its parent to collect with
//! `wait`, or, if nobody will (its parent ignores SIGCHLD, as `kthreadd`
//! does, or it is a non-leader thread), releases itself (`EXIT_DEAD`). A
//! leader whose threads live on stays a silent zombie (`delay_group_leader`)
//! and the last thread out tells its parent; `de_thread` empties the group
//! for exec. The task then schedules away for good; its memory goes with
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
    exit_mm_release(&tsk);
    // Linux: exit_mm, exit_files, exit_fs. Taken out under the lock,
    // dropped after it.
    drop(tsk.mm.lock().take());
    drop(tsk.files.lock().take());
    drop(tsk.fs.lock().take());
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

/// Gives `father`'s children to `reaper` (Linux: `forget_original_parent`);
/// returns whether a zombie moved, so that the reaper must be told.
fn forget_original_parent(father: &Task, reaper: Option<&Arc<Task>>) -> bool {
    let orphans = core::mem::take(&mut *father.children.lock());
    let mut zombie = false;
    for child in &orphans {
        let new_parent = reaper.map_or_else(alloc::sync::Weak::new, Arc::downgrade);
        *child.real_parent.lock() = new_parent.clone();
        let tgid = reaper.map_or(0, |r| r.tgid);
        child.real_parent_tgid.store(tgid, core::sync::atomic::Ordering::Relaxed);
        *child.parent.lock() = new_parent;
        zombie |= child.exit_state() == EXIT_ZOMBIE;
    }
    if let Some(reaper) = reaper {
        let mut children = reaper.children.lock();
        // Orphans fit: the reaper's list only grows by what `father` had.
        if children.try_reserve(orphans.len()).is_ok() {
            children.extend(orphans);
        }
    }
    zombie
}

/// Tells the parent, and becomes a zombie or releases itself (Linux:
/// `exit_notify`). A thread other than the leader releases itself; the
/// last one to go tells the parent about a leader that exited before it.
/// A leader whose threads still live stays a silent zombie
/// (`delay_group_leader`) until then.
fn exit_notify(tsk: &Arc<Task>) {
    let reaper = pid::task_active_pid_ns(tsk).child_reaper().filter(|r| !Arc::ptr_eq(r, tsk));
    let (notified, zombie_orphans) = {
        let _tasklist = TASKLIST_LOCK.lock();
        let zombie_orphans = forget_original_parent(tsk, reaper.as_ref());
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
        (notify.map(|who| notify_parent_locked(&who)), zombie_orphans)
    };
    if zombie_orphans && let Some(reaper) = &reaper {
        reaper.chldexit_owner().wait_chldexit.wake_up_all();
    }
    if !tsk.is_group_leader() {
        release_task(tsk);
    }
    if let Some((who, parent, autoreap)) = notified {
        if autoreap {
            release_task(&who);
        } else if let Some(parent) = parent {
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
    let notified_autoreap = crate::kernel::signal::exit_notify_parent(tsk);
    let parent = tsk.real_parent.lock().upgrade();
    // `kthreadd` stands for a parent that ignores SIGCHLD.
    let autoreap = notified_autoreap
        || parent.as_ref().is_none_or(|p| p.sigchld_ignored.load(Ordering::Relaxed));
    tsk.set_exit_state(if autoreap { EXIT_DEAD } else { EXIT_ZOMBIE });
    (tsk.clone(), parent, autoreap)
}

/// Makes the exec'ing task the only thread of its group (Linux:
/// `de_thread`): the others get SIGKILL and exec waits until they are
/// gone. Linux then gives a non-leader the leader's PID; Ferrite keeps
/// the thread's own TID (getpid is unchanged, gettid is not the tgid), and
/// the leader's zombie stands for the process until this thread exits.
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
    if !tsk.is_group_leader() {
        tsk.thread_group().exec_by_thread.store(true, Ordering::Relaxed);
    }
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
        pid::detach_pid(p, &p.pid_link, PidType::Pid);
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

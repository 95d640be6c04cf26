//! Ending tasks: `do_exit`, zombies, reaping, and orphans.
//!
//! Linux: kernel/exit.c (`do_exit`, `exit_notify`, `forget_original_parent`,
//! `release_task`, `do_wait`, `wait_task_zombie`), kernel/sched/core.c
//! (`do_task_dead`).
//!
//! An exiting task drops its address space, files and filesystem context,
//! gives its children to the namespace's init (the child reaper), then
//! either becomes a zombie (`EXIT_ZOMBIE`) for its parent to collect with
//! `wait`, or, if nobody will (its parent ignores SIGCHLD, as `kthreadd`
//! does, or it is a non-leader thread), releases itself (`EXIT_DEAD`). It
//! then schedules away for good; its memory goes with the last reference,
//! dropped by the next task (arch/x86_64/switch_to.rs).
//!
//! # Locking
//! `fork::TASKLIST_LOCK` around every change to the process tree; tasks
//! taken out of a `children` list are dropped after it is released.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::fork::TASKLIST_LOCK;
use crate::kernel::pid::{self, PidType};
use crate::kernel::sched::task::{EXIT_DEAD, EXIT_ZOMBIE, PF_EXITING, TASK_DEAD};
use crate::kernel::sched::{self, Task, current};

/// Linux: `WNOHANG` for `kernel_wait4`'s `options`.
pub const WNOHANG: u32 = linux_raw_sys::general::WNOHANG;

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
/// `exit_notify`).
fn exit_notify(tsk: &Arc<Task>) {
    let reaper = pid::task_active_pid_ns(tsk).child_reaper().filter(|r| !Arc::ptr_eq(r, tsk));
    let (parent, autoreap, zombie_orphans) = {
        let _tasklist = TASKLIST_LOCK.lock();
        let zombie_orphans = forget_original_parent(tsk, reaper.as_ref());
        let parent = tsk.real_parent.lock().upgrade();
        // TODO(integration): send `exit_signal` (SIGCHLD) to the parent.
        let autoreap = tsk.exit_signal < 0
            || parent.as_ref().is_none_or(|p| p.sigchld_ignored.load(Ordering::Relaxed));
        tsk.set_exit_state(if autoreap { EXIT_DEAD } else { EXIT_ZOMBIE });
        (parent, autoreap, zombie_orphans)
    };
    if zombie_orphans && let Some(reaper) = &reaper {
        reaper.wait_chldexit.wake_up_all();
    }
    if autoreap {
        release_task(tsk);
    } else if let Some(parent) = parent {
        parent.wait_chldexit.wake_up_all();
    }
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
        removed
    };
    drop(removed);
}

/// Which children a wait is for (Linux: the `pid` argument of `wait4`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitFor {
    Any,
    Pid(i32),
}

enum Found {
    Zombie(Arc<Task>),
    Waiting,
    NoChild,
}

/// Looks for a matching zombie among `parent`'s children.
fn find_zombie(parent: &Task, which: WaitFor) -> Found {
    let _tasklist = TASKLIST_LOCK.lock();
    let children = parent.children.lock();
    let mut matching =
        children.iter().filter(|c| which == WaitFor::Any || which == WaitFor::Pid(c.pid));
    let mut any = false;
    for child in &mut matching {
        any = true;
        if child.exit_state() == EXIT_ZOMBIE {
            return Found::Zombie(child.clone());
        }
    }
    if any { Found::Waiting } else { Found::NoChild }
}

/// Waits for a child to exit and reaps it: `Ok(Some((pid, exit_code)))`,
/// `Ok(None)` with `WNOHANG` if none has exited yet, `ECHILD` if there is
/// no such child, `EINTR` on a signal (Linux: `do_wait` →
/// `wait_task_zombie`, for exited children only: stopped and continued
/// ones come with signals).
pub fn kernel_wait4(which: WaitFor, options: u32) -> KResult<Option<(i32, i32)>> {
    let me = current();
    let mut found = None;
    me.wait_chldexit.wait_event_interruptible(|| match find_zombie(&me, which) {
        Found::Zombie(child) => {
            found = Some(Ok(child));
            true
        }
        Found::NoChild => {
            found = Some(Err(Errno::ECHILD));
            true
        }
        Found::Waiting => options & WNOHANG != 0,
    })?;
    let Some(child) = found.transpose()? else { return Ok(None) };
    let result = (child.pid, child.exit_code.load(Ordering::Relaxed));
    release_task(&child);
    Ok(Some(result))
}

/// Children of `task`, for /proc and tests.
#[allow(dead_code, reason = "for /proc/PID/task/*/children")]
pub fn children_of(task: &Task) -> Vec<Arc<Task>> {
    task.children.lock().clone()
}

crate::ktest!(exit_zombie_is_reaped_by_wait, {
    use crate::kernel::fork::{CloneFlags, kernel_thread};
    let flags = CloneFlags::FS | CloneFlags::FILES;
    let child = kernel_thread(|| 42, "ktest-zombie", flags).map_err(|_| "fork")?;
    let pid = child.pid;
    let reaped = kernel_wait4(WaitFor::Pid(pid), 0).map_err(|_| "wait")?;
    crate::kassert!(reaped == Some((pid, 42)), "wait returns the child's PID and code");
    crate::kassert!(child.exit_state() == EXIT_DEAD, "reaped");
    crate::kassert!(pid::find_task_by_vpid(pid).is_none(), "its PID is gone");
    crate::kassert!(
        kernel_wait4(WaitFor::Any, WNOHANG).err() == Some(Errno::ECHILD),
        "no children left: ECHILD"
    );
    Ok(())
});

//! Orphaned process groups: when an exit leaves a process group with no
//! member whose parent is in another group of the same session, nobody is
//! left to continue its stopped jobs, so each member gets SIGHUP then
//! SIGCONT (POSIX.1 "orphaned process group"; the shell's job control
//! would otherwise leave them stopped for ever).
//!
//! Linux: kernel/exit.c (`will_become_orphaned_pgrp`, `has_stopped_jobs`,
//! `kill_orphaned_pgrp`, called from `exit_notify` for the exiting
//! process's own group and from `reparent_leader` for each child's).
//!
//! # Locking
//! Runs after `exit_notify` has released `fork::TASKLIST_LOCK`: the process
//! list is copied out by `pid::for_each_process`, and the signals are sent
//! with no lock held, as `kill_pgrp` does for ^C.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::task::{SigTask, SignalFlags};
use super::{Signal, kill_pgrp_priv};
use crate::kernel::pid;
use crate::kernel::sched::Task;

/// Whether no member of process group `pgrp` other than `ignored` has a
/// parent in a different group of the same session, which would keep the
/// group attached to its job-control shell (Linux:
/// `will_become_orphaned_pgrp`). Zombies and children of init do not count.
fn will_become_orphaned_pgrp(pgrp: i32, ignored: Option<&Task>) -> bool {
    let mut orphaned = true;
    pid::for_each_process(|p| {
        if p.pgrp() != pgrp || ignored.is_some_and(|i| core::ptr::eq(i, p.as_ref())) {
            return;
        }
        let Some(parent) = p.real_parent.lock().upgrade() else { return };
        if p.exit_state() != 0 || parent.tgid == 1 {
            return;
        }
        if parent.pgrp() != pgrp && parent.session() == p.session() {
            orphaned = false;
        }
    });
    orphaned
}

/// Whether group `pgrp` is orphaned now: a background read or write of
/// its terminal gets `EIO` instead of a stop nobody would end (Linux:
/// `is_current_pgrp_orphaned`).
pub fn is_pgrp_orphaned(pgrp: i32) -> bool {
    will_become_orphaned_pgrp(pgrp, None)
}

/// Whether a process of group `pgrp` is stopped (Linux: `has_stopped_jobs`).
fn has_stopped_jobs(pgrp: i32) -> bool {
    let mut stopped = false;
    pid::for_each_process(|p| {
        if p.pgrp() == pgrp && p.group_signal().lock().flags.contains(SignalFlags::STOP_STOPPED) {
            stopped = true;
        }
    });
    stopped
}

/// SIGHUP then SIGCONT to `tsk`'s group if `parent`, in another group of
/// the same session, was its last link to the session and a member is
/// stopped (Linux: `kill_orphaned_pgrp`). `ignored` is the exiting
/// process when its own group is checked.
fn kill_orphaned_pgrp(tsk: &Task, parent: &Task, ignored: Option<&Task>) {
    let pgrp = tsk.pgrp();
    if parent.pgrp() != pgrp
        && parent.session() == tsk.session()
        && will_become_orphaned_pgrp(pgrp, ignored)
        && has_stopped_jobs(pgrp)
    {
        kill_pgrp_priv(pgrp, Signal::SIGHUP);
        kill_pgrp_priv(pgrp, Signal::SIGCONT);
    }
}

/// The orphaned-group checks of an exit: the groups of `father`'s former
/// `children` (now the reaper's), and, once the whole process `leader` is
/// gone, its own group (Linux: the `kill_orphaned_pgrp` calls of
/// `reparent_leader` and `exit_notify`).
pub fn exit_orphaned_pgrps(father: &Task, leader: Option<&Arc<Task>>, children: &[Arc<Task>]) {
    let mut seen: Vec<i32> = Vec::new();
    for child in children {
        let pgrp = child.pgrp();
        if seen.contains(&pgrp) || seen.try_reserve(1).is_err() {
            continue;
        }
        seen.push(pgrp);
        kill_orphaned_pgrp(child, father, None);
    }
    if let Some(leader) = leader
        && let Some(parent) = leader.parent()
    {
        kill_orphaned_pgrp(leader, &parent, Some(leader));
    }
}

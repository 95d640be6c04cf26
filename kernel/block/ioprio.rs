//! I/O priorities: ioprio_set(2) and ioprio_get(2), what `ionice` uses
//! (Linux: block/ioprio.c, include/uapi/linux/ioprio.h).
//!
//! A priority is a class (real-time, best-effort, idle, or none: "follow
//! the CPU nice value") in bits 13..16 and a level 0..7 below. Each task
//! keeps its own, inherited across fork (Linux: `io_context->ioprio`,
//! copied by `copy_io`); Ferrite keeps it in the task's `SchedInfo`,
//! which fork copies the same way. Nothing schedules I/O by it yet: the
//! virtio queue serves requests in order, as Linux's `none` scheduler.
//!
//! # Locking
//! A task's `sched` lock (a leaf spinlock), one task at a time.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::{Task, current};

/// include/uapi/linux/ioprio.h.
const IOPRIO_CLASS_SHIFT: u32 = 13;
const IOPRIO_PRIO_MASK: u32 = (1 << IOPRIO_CLASS_SHIFT) - 1;
const IOPRIO_CLASS_NONE: u32 = 0;
const IOPRIO_CLASS_RT: u32 = 1;
const IOPRIO_CLASS_BE: u32 = 2;
const IOPRIO_CLASS_IDLE: u32 = 3;
/// Levels per class (Linux: `IOPRIO_NR_LEVELS`).
const IOPRIO_NR_LEVELS: u32 = 8;
const IOPRIO_WHO_PROCESS: i32 = 1;
const IOPRIO_WHO_PGRP: i32 = 2;
const IOPRIO_WHO_USER: i32 = 3;

/// A task's priority before any ioprio_set (Linux: `IOPRIO_DEFAULT`,
/// class none).
pub const IOPRIO_DEFAULT: u16 = 0;

const fn prio_value(class: u32, data: u32) -> u32 {
    (class << IOPRIO_CLASS_SHIFT) | data
}

const fn prio_class(ioprio: u32) -> u32 {
    (ioprio >> IOPRIO_CLASS_SHIFT) & 0x7
}

/// Linux: `ioprio_check_cap`: a known class and level; the real-time
/// class takes `CAP_SYS_NICE` (root).
fn ioprio_check_cap(ioprio: u32) -> KResult<()> {
    let data = ioprio & IOPRIO_PRIO_MASK;
    match prio_class(ioprio) {
        IOPRIO_CLASS_RT if current().cred().euid != 0 => Err(Errno::EPERM),
        IOPRIO_CLASS_RT | IOPRIO_CLASS_BE if data >= IOPRIO_NR_LEVELS => Err(Errno::EINVAL),
        IOPRIO_CLASS_RT | IOPRIO_CLASS_BE | IOPRIO_CLASS_IDLE => Ok(()),
        IOPRIO_CLASS_NONE if data == 0 => Ok(()),
        _ => Err(Errno::EINVAL),
    }
}

/// Linux: `set_task_ioprio`: the caller owns `task` or is root.
fn set_task_ioprio(task: &Task, ioprio: u16) -> KResult<()> {
    let (me, them) = (current().cred(), task.cred());
    if them.uid != me.euid && them.uid != me.uid && me.euid != 0 {
        return Err(Errno::EPERM);
    }
    task.sched.lock().ioprio = ioprio;
    Ok(())
}

/// The tasks `which`/`who` name; `ESRCH` when there is none.
fn targets(which: i32, who: i32) -> KResult<Vec<Arc<Task>>> {
    let me = current();
    let mut found = Vec::new();
    match which {
        IOPRIO_WHO_PROCESS if who == 0 => found.push(me),
        IOPRIO_WHO_PROCESS => {
            found.push(crate::kernel::pid::find_task_by_vpid(who).ok_or(Errno::ESRCH)?);
        }
        IOPRIO_WHO_PGRP => {
            let pgrp = if who == 0 { me.pgrp() } else { who };
            crate::kernel::pid::for_each_process(|p| {
                if p.pgrp() == pgrp {
                    found.push(p.clone());
                }
            });
        }
        IOPRIO_WHO_USER => {
            let uid = if who == 0 { me.cred().uid } else { who.cast_unsigned() };
            crate::kernel::pid::for_each_process(|p| {
                if p.cred().uid == uid {
                    found.push(p.clone());
                }
            });
        }
        _ => return Err(Errno::EINVAL),
    }
    if found.is_empty() { Err(Errno::ESRCH) } else { Ok(found) }
}

/// ioprio_set(2); for a group or a user, the first error stops it, as in Linux.
pub fn sys_ioprio_set(which: i32, who: i32, ioprio: i32) -> KResult<()> {
    let ioprio = ioprio.cast_unsigned();
    ioprio_check_cap(ioprio)?;
    let value = u16::try_from(ioprio).map_err(|_| Errno::EINVAL)?;
    targets(which, who)?.iter().try_for_each(|t| set_task_ioprio(t, value))
}

/// The priority `task`'s I/O gets (Linux: `__get_task_ioprio`): class
/// none follows the CPU policy and nice value.
fn effective_ioprio(task: &Task) -> u32 {
    let sched = task.sched.lock();
    let ioprio = u32::from(sched.ioprio);
    if prio_class(ioprio) != IOPRIO_CLASS_NONE {
        return ioprio;
    }
    let class = match sched.policy {
        linux_raw_sys::general::SCHED_IDLE => IOPRIO_CLASS_IDLE,
        linux_raw_sys::general::SCHED_FIFO | linux_raw_sys::general::SCHED_RR => IOPRIO_CLASS_RT,
        _ => IOPRIO_CLASS_BE,
    };
    // Linux: `task_nice_ioprio`: (nice + 20) / 5, static_prio 100..139.
    let nice = sched.static_prio.saturating_sub(120);
    prio_value(class, u32::try_from((nice + 20) / 5).unwrap_or(0))
}

/// ioprio_get(2): a single task's own setting (class none if it made
/// none); for a group or a user the best effective priority among them
/// (Linux: `ioprio_best`: the lower class, then the lower level).
pub fn sys_ioprio_get(which: i32, who: i32) -> KResult<i32> {
    let tasks = targets(which, who)?;
    let best = if which == IOPRIO_WHO_PROCESS {
        tasks.first().map_or(0, |t| u32::from(t.sched.lock().ioprio))
    } else {
        tasks.iter().map(|t| effective_ioprio(t)).min().unwrap_or(0)
    };
    i32::try_from(best).map_err(|_| Errno::EINVAL)
}

crate::ktest!(ioprio_set_get_like_linux, {
    let me = current();
    let saved = me.sched.lock().ioprio;
    crate::kassert!(sys_ioprio_get(IOPRIO_WHO_PROCESS, 0) == Ok(i32::from(saved)), "own value");
    let idle = prio_value(IOPRIO_CLASS_IDLE, 0).cast_signed();
    crate::kassert!(sys_ioprio_set(IOPRIO_WHO_PROCESS, 0, idle).is_ok(), "set idle");
    crate::kassert!(sys_ioprio_get(IOPRIO_WHO_PROCESS, 0) == Ok(idle), "get idle");
    let be9 = prio_value(IOPRIO_CLASS_BE, 9).cast_signed();
    crate::kassert!(sys_ioprio_set(IOPRIO_WHO_PROCESS, 0, be9) == Err(Errno::EINVAL), "level 9");
    let none1 = prio_value(IOPRIO_CLASS_NONE, 1).cast_signed();
    crate::kassert!(sys_ioprio_set(1, 0, none1) == Err(Errno::EINVAL), "none with a level");
    crate::kassert!(sys_ioprio_set(7, 0, idle) == Err(Errno::EINVAL), "bad which");
    crate::kassert!(sys_ioprio_get(IOPRIO_WHO_PROCESS, 99_999) == Err(Errno::ESRCH), "no task");
    me.sched.lock().ioprio = saved;
    Ok(())
});

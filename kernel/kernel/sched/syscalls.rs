//! The scheduler's system-call layer: policies, priorities, nice values,
//! affinity and yielding, with Linux's checks and errors.
//!
//! Linux: kernel/sched/core.c (`sched_setscheduler`, `__sched_setscheduler`,
//! `set_user_nice`, `can_nice`, `do_sched_yield`, `sched_setaffinity`,
//! `sched_getaffinity`, `sched_get_priority_max`), kernel/sys.c
//! (`set_one_prio`, `getpriority`'s `nice_to_rlimit`).
//!
//! These take the target task; the syscalls find it (`find_task_by_vpid`,
//! 0 meaning the caller) and copy parameters in and out. Permission is
//! Linux's with the default `RLIMIT_NICE`/`RLIMIT_RTPRIO` of 0 and
//! `CAP_SYS_NICE` meaning root: an unprivileged task may lower its
//! priority but not raise it, may not become real-time, and may only
//! change tasks of its own user.
//!
//! # Locking
//! Changes take the target's run-queue lock (`RunQueue::change_sched`).
#![deny(unsafe_code)]

use alloc::sync::Arc;

use linux_raw_sys::general::{
    __kernel_timespec, SCHED_BATCH, SCHED_FIFO, SCHED_IDLE, SCHED_NORMAL, SCHED_RESET_ON_FORK,
    SCHED_RR,
};

use super::core::{cpu_rq, effective_prio, this_rq};
use super::fair::{SYSCTL_SCHED_LATENCY, load_weight};
use super::rt::RR_TIMESLICE;
use super::task::Task;
use super::{MAX_NICE, MAX_RT_PRIO, MIN_NICE, current, nice_to_prio, rt_policy};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::UserPtr;
use crate::kernel::time::tick::TICK_NSEC;

/// Linux: `PRIO_PROCESS`, `PRIO_PGRP`, `PRIO_USER`.
const PRIO_PROCESS: u32 = 0;
const PRIO_PGRP: u32 = 1;
const PRIO_USER: u32 = 2;

/// Whether the caller may raise priorities (Linux: `capable(CAP_SYS_NICE)`).
fn capable_sys_nice() -> bool {
    current().cred().euid == 0
}

/// Whether the caller may change `p` at all (Linux: `check_same_owner`).
fn check_same_owner(p: &Task) -> bool {
    let (me, them) = (current().cred(), p.cred());
    me.euid == 0 || me.euid == them.euid || me.euid == them.uid
}

/// Gives up the CPU to peers of the same class (Linux: `do_sched_yield`).
pub fn sched_yield() {
    {
        let mut rq = this_rq().lock();
        rq.update_rq_clock();
        if let Some(curr) = rq.curr().cloned() {
            rq.yield_curr(&curr);
        }
    }
    super::schedule();
}

/// Sets `p`'s policy and real-time priority (Linux: `sched_setscheduler`).
/// `policy` may carry `SCHED_RESET_ON_FORK`.
pub fn sched_setscheduler(p: &Arc<Task>, policy: u32, rt_priority: u32) -> KResult<()> {
    let reset_on_fork = policy & SCHED_RESET_ON_FORK != 0;
    let policy = policy & !SCHED_RESET_ON_FORK;
    if !matches!(policy, SCHED_NORMAL | SCHED_FIFO | SCHED_RR | SCHED_BATCH | SCHED_IDLE) {
        return Err(Errno::EINVAL);
    }
    // FIFO/RR take 1..99; the others take 0 (Linux: `valid_policy` checks).
    let valid = if rt_policy(policy) {
        (1..MAX_RT_PRIO as u32).contains(&rt_priority)
    } else {
        rt_priority == 0
    };
    if !valid {
        return Err(Errno::EINVAL);
    }
    if !capable_sys_nice() {
        let cur = p.sched.lock().clone();
        let raising_rt = rt_policy(policy) && rt_priority > cur.rt_priority;
        let dropping_reset = cur.reset_on_fork && !reset_on_fork;
        if raising_rt || dropping_reset || !check_same_owner(p) {
            return Err(Errno::EPERM);
        }
    }
    cpu_rq(p.cpu()).lock().change_sched(p, |s| {
        s.policy = policy;
        s.rt_priority = rt_priority;
        s.reset_on_fork = reset_on_fork;
        s.se.weight = load_weight(s.static_prio, policy);
        s.prio = effective_prio(s);
    });
    Ok(())
}

/// `p`'s policy, with `SCHED_RESET_ON_FORK` if set (Linux: `sched_getscheduler`).
pub fn sched_getscheduler(p: &Task) -> u32 {
    let s = p.sched.lock();
    s.policy | if s.reset_on_fork { SCHED_RESET_ON_FORK } else { 0 }
}

/// Changes only the real-time priority (Linux: `sched_setparam`).
pub fn sched_setparam(p: &Arc<Task>, rt_priority: u32) -> KResult<()> {
    let policy = sched_getscheduler(p);
    sched_setscheduler(p, policy, rt_priority)
}

/// Linux: `sched_getparam`.
pub fn sched_getparam(p: &Task) -> u32 {
    p.sched.lock().rt_priority
}

/// Linux: `sched_get_priority_max`.
pub fn sched_get_priority_max(policy: u32) -> KResult<u32> {
    match policy {
        SCHED_FIFO | SCHED_RR => Ok(MAX_RT_PRIO as u32 - 1),
        SCHED_NORMAL | SCHED_BATCH | SCHED_IDLE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// Linux: `sched_get_priority_min`.
pub fn sched_get_priority_min(policy: u32) -> KResult<u32> {
    match policy {
        SCHED_FIFO | SCHED_RR => Ok(1),
        SCHED_NORMAL | SCHED_BATCH | SCHED_IDLE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// The timeslice `sched_rr_get_interval` reports, in nanoseconds.
pub fn sched_rr_get_interval_ns(p: &Task) -> u64 {
    match p.policy() {
        SCHED_FIFO => 0,
        SCHED_RR => u64::from(RR_TIMESLICE) * TICK_NSEC,
        _ => SYSCTL_SCHED_LATENCY,
    }
}

/// Sets `p`'s nice value, clamped to -20..19 (Linux: `set_user_nice`).
/// No permission check: see [`set_one_prio`].
pub fn set_user_nice(p: &Arc<Task>, nice: i32) {
    let nice = nice.clamp(MIN_NICE, MAX_NICE);
    cpu_rq(p.cpu()).lock().change_sched(p, |s| {
        s.static_prio = nice_to_prio(nice);
        s.se.weight = load_weight(s.static_prio, s.policy);
        s.prio = effective_prio(s);
    });
}

/// Whether the caller may set `p`'s nice to `nice` (Linux: `can_nice`,
/// with `RLIMIT_NICE` 0: only lowering priority without the capability).
pub fn can_nice(p: &Task, nice: i32) -> bool {
    nice >= p.nice() || capable_sys_nice()
}

/// `setpriority(PRIO_PROCESS, ...)` on one task (Linux: `set_one_prio`).
pub fn set_one_prio(p: &Arc<Task>, nice: i32) -> KResult<()> {
    let nice = nice.clamp(MIN_NICE, MAX_NICE);
    if !check_same_owner(p) {
        return Err(Errno::EPERM);
    }
    if !can_nice(p, nice) {
        return Err(Errno::EACCES);
    }
    set_user_nice(p, nice);
    Ok(())
}

/// What `getpriority` returns for `p`: 20 - nice, so that it is never
/// negative (Linux: `nice_to_rlimit`); libc turns it back into nice.
pub fn getpriority_value(p: &Task) -> i32 {
    MAX_NICE - p.nice() + 1
}

/// CPUs that exist and are online: one today (Linux: `cpu_online_mask`).
fn cpu_online_mask() -> u64 {
    1
}

/// Linux: `sched_setaffinity`; `EINVAL` if `mask` names no online CPU.
pub fn sched_setaffinity(p: &Arc<Task>, mask: u64) -> KResult<()> {
    if !check_same_owner(p) {
        return Err(Errno::EPERM);
    }
    if mask & cpu_online_mask() == 0 {
        return Err(Errno::EINVAL);
    }
    p.sched.lock().cpus_allowed = mask;
    Ok(())
}

/// Linux: `sched_getaffinity`.
pub fn sched_getaffinity(p: &Task) -> u64 {
    p.sched.lock().cpus_allowed & cpu_online_mask()
}

/// The task a sched_* `pid` names: 0 is the caller (Linux:
/// `find_process_by_pid`); `EINVAL` for a negative one.
fn find_process_by_pid(pid: i32) -> KResult<Arc<Task>> {
    match pid {
        p if p < 0 => Err(Errno::EINVAL),
        0 => Ok(current()),
        p => crate::kernel::pid::find_task_by_vpid(p).ok_or(Errno::ESRCH),
    }
}

/// sched_yield(2).
pub fn sys_sched_yield() -> KResult<()> {
    sched_yield();
    Ok(())
}

/// sched_setscheduler(2); `param` is a `struct sched_param` (one int).
pub fn sys_sched_setscheduler(pid: i32, policy: i32, param: UserPtr<i32>) -> KResult<()> {
    if param.is_null() || policy < 0 {
        return Err(Errno::EINVAL);
    }
    let prio = u32::try_from(param.read()?).map_err(|_| Errno::EINVAL)?;
    let p = find_process_by_pid(pid)?;
    sched_setscheduler(&p, policy.cast_unsigned(), prio)
}

/// sched_setparam(2).
pub fn sys_sched_setparam(pid: i32, param: UserPtr<i32>) -> KResult<()> {
    if param.is_null() {
        return Err(Errno::EINVAL);
    }
    let prio = u32::try_from(param.read()?).map_err(|_| Errno::EINVAL)?;
    sched_setparam(&find_process_by_pid(pid)?, prio)
}

/// sched_getscheduler(2).
pub fn sys_sched_getscheduler(pid: i32) -> KResult<u32> {
    Ok(sched_getscheduler(&*find_process_by_pid(pid)?))
}

/// sched_getparam(2).
pub fn sys_sched_getparam(pid: i32, param: UserPtr<i32>) -> KResult<()> {
    if param.is_null() {
        return Err(Errno::EINVAL);
    }
    let prio = sched_getparam(&*find_process_by_pid(pid)?);
    param.write(&i32::try_from(prio).unwrap_or(0))
}

/// sched_get_priority_max(2).
pub fn sys_sched_get_priority_max(policy: u32) -> KResult<u32> {
    sched_get_priority_max(policy)
}

/// sched_get_priority_min(2).
pub fn sys_sched_get_priority_min(policy: u32) -> KResult<u32> {
    sched_get_priority_min(policy)
}

/// sched_rr_get_interval(2).
pub fn sys_sched_rr_get_interval(pid: i32, interval: UserPtr<__kernel_timespec>) -> KResult<()> {
    let ns = sched_rr_get_interval_ns(&*find_process_by_pid(pid)?);
    let ts = __kernel_timespec {
        tv_sec: i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX),
        tv_nsec: i64::try_from(ns % 1_000_000_000).unwrap_or(0),
    };
    interval.write(&ts)
}

/// Bytes of a CPU mask as the affinity calls copy it (Linux: `cpumask_size()`).
const CPUMASK_SIZE: usize = 8;

/// sched_setaffinity(2): the first 8 bytes of the mask matter.
pub fn sys_sched_setaffinity(pid: i32, len: usize, mask: UserPtr<u64>) -> KResult<()> {
    let bits = if len < CPUMASK_SIZE { 0 } else { mask.read()? };
    sched_setaffinity(&find_process_by_pid(pid)?, bits)
}

/// sched_getaffinity(2): returns the bytes written.
pub fn sys_sched_getaffinity(pid: i32, len: usize, mask: UserPtr<u64>) -> KResult<usize> {
    if len < CPUMASK_SIZE || !len.is_multiple_of(size_of::<u64>()) {
        return Err(Errno::EINVAL);
    }
    mask.write(&sched_getaffinity(&*find_process_by_pid(pid)?))?;
    Ok(CPUMASK_SIZE)
}

/// The tasks a getpriority/setpriority `which`/`who` pair names (Linux:
/// `PRIO_PROCESS`, `PRIO_PGRP`, `PRIO_USER`; `who` 0 is the caller's).
fn prio_targets(which: i32, who: i32) -> KResult<alloc::vec::Vec<Arc<Task>>> {
    let me = current();
    let mut targets = alloc::vec::Vec::new();
    match which.cast_unsigned() {
        PRIO_PROCESS => targets.push(find_process_by_pid(who).map_err(|_| Errno::ESRCH)?),
        PRIO_PGRP => {
            let pgrp = if who == 0 { me.pgrp() } else { who };
            crate::kernel::pid::for_each_process(|p| {
                if p.pgrp() == pgrp && !p.is_kthread() {
                    targets.push(p.clone());
                }
            });
        }
        PRIO_USER => {
            let uid = if who == 0 { me.cred().uid } else { who.cast_unsigned() };
            crate::kernel::pid::for_each_process(|p| {
                if p.cred().uid == uid && !p.is_kthread() {
                    targets.push(p.clone());
                }
            });
        }
        _ => return Err(Errno::EINVAL),
    }
    if targets.is_empty() { Err(Errno::ESRCH) } else { Ok(targets) }
}

/// getpriority(2): the highest priority among the targets, as 20 - nice.
pub fn sys_getpriority(which: i32, who: i32) -> KResult<i32> {
    Ok(prio_targets(which, who)?.iter().map(|p| getpriority_value(p)).max().unwrap_or(0))
}

/// setpriority(2): the first error wins, as Linux.
pub fn sys_setpriority(which: i32, who: i32, niceval: i32) -> KResult<()> {
    let mut result = Ok(());
    for p in prio_targets(which, who)? {
        if let Err(e) = set_one_prio(&p, niceval)
            && result.is_ok()
        {
            result = Err(e);
        }
    }
    result
}

crate::ktest!(sched_setscheduler_checks_like_linux, {
    let me = current();
    crate::kassert!(
        sched_setscheduler(&me, SCHED_FIFO, 0).err() == Some(Errno::EINVAL),
        "FIFO needs a priority"
    );
    crate::kassert!(
        sched_setscheduler(&me, SCHED_NORMAL, 5).err() == Some(Errno::EINVAL),
        "NORMAL takes priority 0"
    );
    crate::kassert!(sched_setscheduler(&me, 42, 0).err() == Some(Errno::EINVAL), "bad policy");
    crate::kassert!(sched_setaffinity(&me, 0b10).err() == Some(Errno::EINVAL), "offline CPU");
    crate::kassert!(sched_getaffinity(&me) == 1, "CPU 0");
    let old_nice = me.nice();
    set_user_nice(&me, 5);
    crate::kassert!(me.nice() == 5 && getpriority_value(&me) == 15, "nice 5 is priority 15");
    set_user_nice(&me, old_nice);
    crate::kassert!(sched_get_priority_max(SCHED_RR) == Ok(99), "RR max 99");
    Ok(())
});

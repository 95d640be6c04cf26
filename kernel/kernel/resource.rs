//! Resource limits: `getrlimit`, `setrlimit`, `prlimit64`.
//!
//! Linux: kernel/sys.c (`do_prlimit`, `prlimit64`, `getrlimit`,
//! `setrlimit`), include/asm-generic/resource.h (`INIT_RLIMITS`),
//! include/uapi/linux/resource.h.
//!
//! The limits belong to the process: `ThreadGroup::rlim` (Linux:
//! `signal_struct->rlim`), so one thread's setrlimit binds them all. A
//! child process inherits a copy at fork and keeps it across exec.
//! `RLIMIT_NOFILE` is also pushed into the task's `FdTable`, which
//! enforces it at `alloc_fd`. Changing another process's limits takes
//! its user's IDs or `CAP_SYS_RESOURCE` (`check_prlimit_permission`).
//!
//! # Locking
//! `ThreadGroup::rlim` is a leaf spinlock, never held across a user copy.
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::pid::find_task_by_vpid;
use crate::kernel::sched::{Task, current};
use crate::kernel::syscall::args::UserPtr;

/// Linux: `RLIM_NLIMITS`.
pub const RLIM_NLIMITS: usize = uapi::RLIM_NLIMITS as usize;
/// Linux: `RLIM_INFINITY` on x86_64 (`~0UL`).
pub const RLIM_INFINITY: u64 = u64::MAX;
/// The most descriptors a process may have (Linux: `sysctl_nr_open`).
pub const NR_OPEN: u64 = 1 << 20;
/// Linux: `INR_OPEN_CUR`, `INR_OPEN_MAX`.
const INR_OPEN_CUR: u64 = 1024;
const INR_OPEN_MAX: u64 = 4096;
/// init's RLIMIT_NPROC and RLIMIT_SIGPENDING (Linux: `max_threads / 2`,
/// computed from memory; the figure for a 1 GiB guest).
const INIT_NPROC: u64 = 3_800;

/// One limit (Linux: `struct rlimit64`): soft and hard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimit {
    pub cur: u64,
    pub max: u64,
}

impl Default for Rlimit {
    fn default() -> Self {
        Rlimit { cur: RLIM_INFINITY, max: RLIM_INFINITY }
    }
}

/// init's limits (Linux: `INIT_RLIMITS`).
pub fn init_rlimits() -> [Rlimit; RLIM_NLIMITS] {
    let mut rlim = [Rlimit::default(); RLIM_NLIMITS];
    let mut set = |resource: u32, cur, max| {
        if let Some(r) = rlim.get_mut(resource as usize) {
            *r = Rlimit { cur, max };
        }
    };
    set(uapi::RLIMIT_STACK, 8 << 20, RLIM_INFINITY);
    set(uapi::RLIMIT_CORE, 0, RLIM_INFINITY);
    set(uapi::RLIMIT_NPROC, INIT_NPROC, INIT_NPROC);
    set(uapi::RLIMIT_NOFILE, INR_OPEN_CUR, INR_OPEN_MAX);
    set(uapi::RLIMIT_MEMLOCK, 8 << 20, 8 << 20);
    set(uapi::RLIMIT_SIGPENDING, INIT_NPROC, INIT_NPROC);
    set(uapi::RLIMIT_MSGQUEUE, 819_200, 819_200);
    set(uapi::RLIMIT_NICE, 0, 0);
    set(uapi::RLIMIT_RTPRIO, 0, 0);
    rlim
}

/// Reads and optionally replaces one of `tsk`'s limits; returns the old
/// one (Linux: `do_prlimit`).
pub fn do_prlimit(tsk: &Task, resource: u32, new: Option<Rlimit>) -> KResult<Rlimit> {
    let index = resource as usize;
    if index >= RLIM_NLIMITS {
        return Err(Errno::EINVAL);
    }
    if let Some(new) = new {
        if new.cur > new.max {
            return Err(Errno::EINVAL);
        }
        if resource == uapi::RLIMIT_NOFILE && new.max > NR_OPEN {
            return Err(Errno::EPERM);
        }
    }
    let root = capable(uapi::CAP_SYS_RESOURCE);
    let old = {
        let mut rlim = tsk.rlim().lock();
        let old = rlim[index];
        if let Some(new) = new {
            // Raising the hard limit needs CAP_SYS_RESOURCE.
            if new.max > old.max && !root {
                return Err(Errno::EPERM);
            }
            rlim[index] = new;
        }
        old
    };
    if let Some(new) = new
        && resource == uapi::RLIMIT_NOFILE
        && let Some(files) = tsk.files.lock().clone()
    {
        files.set_nofile(usize::try_from(new.cur).unwrap_or(usize::MAX))?;
    }
    Ok(old)
}

/// The task a `pid` argument names: 0 is the caller (`ESRCH` for none,
/// a negative number included).
fn task_by_pid(pid: i32) -> KResult<alloc::sync::Arc<Task>> {
    match pid {
        0 => Ok(current()),
        p => find_task_by_vpid(p).ok_or(Errno::ESRCH),
    }
}

/// Another task's limits are the caller's business only if all its user
/// and group IDs are the caller's real ones, or with `CAP_SYS_RESOURCE`
/// (Linux: `check_prlimit_permission`).
fn check_prlimit_permission(tsk: &Task) -> KResult<()> {
    let me = current();
    if core::ptr::eq(tsk, &*me) {
        return Ok(());
    }
    let (c, t) = (me.cred(), tsk.cred());
    let id_match = [t.uid, t.euid, t.suid] == [c.uid; 3] && [t.gid, t.egid, t.sgid] == [c.gid; 3];
    if id_match || capable(uapi::CAP_SYS_RESOURCE) { Ok(()) } else { Err(Errno::EPERM) }
}

/// prlimit64(2); the limits are `{cur, max}` pairs of u64.
pub fn sys_prlimit64(
    pid: i32,
    resource: u32,
    new_rlim: UserPtr<[u64; 2]>,
    old_rlim: UserPtr<[u64; 2]>,
) -> KResult<()> {
    let new = if new_rlim.is_null() {
        None
    } else {
        let [cur, max] = new_rlim.read()?;
        Some(Rlimit { cur, max })
    };
    let tsk = task_by_pid(pid)?;
    check_prlimit_permission(&tsk)?;
    let old = do_prlimit(&tsk, resource, new)?;
    if !old_rlim.is_null() {
        old_rlim.write(&[old.cur, old.max])?;
    }
    Ok(())
}

/// getrlimit(2).
pub fn sys_getrlimit(resource: u32, rlim: UserPtr<[u64; 2]>) -> KResult<()> {
    let old = do_prlimit(&current(), resource, None)?;
    rlim.write(&[old.cur, old.max])
}

/// setrlimit(2).
pub fn sys_setrlimit(resource: u32, rlim: UserPtr<[u64; 2]>) -> KResult<()> {
    let [cur, max] = rlim.read()?;
    do_prlimit(&current(), resource, Some(Rlimit { cur, max })).map(drop)
}

crate::ktest!(rlimit_rules, {
    let me = current();
    let old = do_prlimit(&me, uapi::RLIMIT_CORE, None).map_err(|_| "get")?;
    crate::kassert!(old == Rlimit { cur: 0, max: RLIM_INFINITY }, "init's core limit");
    let bad = Rlimit { cur: 2, max: 1 };
    crate::kassert!(do_prlimit(&me, uapi::RLIMIT_CORE, Some(bad)) == Err(Errno::EINVAL), "cur>max");
    let big = Rlimit { cur: NR_OPEN + 1, max: NR_OPEN + 1 };
    crate::kassert!(
        do_prlimit(&me, uapi::RLIMIT_NOFILE, Some(big)) == Err(Errno::EPERM),
        "nr_open"
    );
    crate::kassert!(do_prlimit(&me, 99, None) == Err(Errno::EINVAL), "bad resource");
    Ok(())
});

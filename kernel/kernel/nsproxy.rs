//! unshare(2): giving the caller private copies of what it shares, and
//! new namespaces for its future children.
//!
//! Linux: kernel/fork.c (`ksys_unshare`, `check_unshare_flags`,
//! `unshare_fs`, `unshare_fd`), kernel/nsproxy.c
//! (`unshare_nsproxy_namespaces`), kernel/pid_namespace.c (`copy_pid_ns`).
//!
//! The only namespace Ferrite has is the PID namespace. `CLONE_NEWPID`
//! does not move the caller (its PID cannot change): it sets the
//! namespace its *next* child is made in, whose first child becomes that
//! namespace's PID 1. Other namespace flags give `EINVAL`, as a Linux
//! built without those namespaces does; all of them need root (`EPERM`),
//! checked first, as Linux's `ns_capable` is. `CLONE_FILES` and
//! `CLONE_FS` copy a shared descriptor table or root/cwd; `CLONE_VM`,
//! `CLONE_SIGHAND`, `CLONE_THREAD` are accepted only where there is
//! nothing to unshare.
//!
//! # Locking
//! The task's `files`/`fs`/`pid_ns_for_children` locks, one at a time,
//! each only to read or swap an `Arc`.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use linux_raw_sys::general as uapi;

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::pid;
use crate::kernel::sched::{Task, current};

/// Every flag unshare(2) knows (Linux: `check_unshare_flags`' list).
const UNSHARE_KNOWN: u32 = uapi::CLONE_THREAD
    | uapi::CLONE_FS
    | uapi::CLONE_NEWNS
    | uapi::CLONE_SIGHAND
    | uapi::CLONE_VM
    | uapi::CLONE_FILES
    | uapi::CLONE_SYSVSEM
    | uapi::CLONE_NEWUTS
    | uapi::CLONE_NEWIPC
    | uapi::CLONE_NEWNET
    | uapi::CLONE_NEWUSER
    | uapi::CLONE_NEWPID
    | uapi::CLONE_NEWCGROUP
    | uapi::CLONE_NEWTIME;

/// The namespace flags (Linux: the test at the top of
/// `unshare_nsproxy_namespaces`, plus `CLONE_NEWUSER`).
const UNSHARE_NAMESPACES: u32 = uapi::CLONE_NEWNS
    | uapi::CLONE_NEWUTS
    | uapi::CLONE_NEWIPC
    | uapi::CLONE_NEWNET
    | uapi::CLONE_NEWPID
    | uapi::CLONE_NEWCGROUP
    | uapi::CLONE_NEWTIME
    | uapi::CLONE_NEWUSER;

/// Linux: `check_unshare_flags`, after `ksys_unshare` has widened the
/// flags (VM implies SIGHAND implies THREAD; NEWNS implies FS).
fn check_unshare_flags(tsk: &Arc<Task>, flags: u32) -> KResult<()> {
    if flags & !UNSHARE_KNOWN != 0 {
        return Err(Errno::EINVAL);
    }
    let threaded = tsk.threads().len() > 1;
    if flags & (uapi::CLONE_THREAD | uapi::CLONE_SIGHAND | uapi::CLONE_VM) != 0 && threaded {
        return Err(Errno::EINVAL);
    }
    if flags & (uapi::CLONE_SIGHAND | uapi::CLONE_VM) != 0
        && Arc::strong_count(&tsk.sighand.lock()) > 1
    {
        return Err(Errno::EINVAL);
    }
    // Linux: `current_is_single_threaded`: no other process (a vfork
    // child) uses the address space. The task's own slot is one reference.
    if flags & uapi::CLONE_VM != 0
        && tsk.mm.lock().as_ref().is_some_and(|mm| Arc::strong_count(mm) > 1)
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// The namespaces part (Linux: `unshare_nsproxy_namespaces` →
/// `create_new_namespaces` → `copy_pid_ns`): checked before anything
/// changes, so a refused call leaves the caller as it was.
fn unshare_pid_ns(tsk: &Task, flags: u32) -> KResult<Option<Arc<pid::PidNamespace>>> {
    if flags & UNSHARE_NAMESPACES == 0 {
        return Ok(None);
    }
    if tsk.cred().euid != 0 {
        return Err(Errno::EPERM);
    }
    if flags & (UNSHARE_NAMESPACES & !uapi::CLONE_NEWPID) != 0 {
        return Err(Errno::EINVAL); // namespaces Ferrite does not have
    }
    // Once unshared, the children's namespace is not the caller's, and a
    // second unshare would nest from the wrong place (Linux: `copy_pid_ns`).
    if tsk.pid_ns_for_children.lock().is_some() {
        return Err(Errno::EINVAL);
    }
    pid::create_pid_namespace(&pid::task_active_pid_ns(tsk)).map(Some)
}

/// unshare(2) (Linux: `ksys_unshare`).
pub fn sys_unshare(flags: u32) -> KResult<()> {
    let tsk = current();
    let mut flags = flags;
    if flags & uapi::CLONE_NEWUSER != 0 {
        flags |= uapi::CLONE_THREAD | uapi::CLONE_FS;
    }
    if flags & uapi::CLONE_VM != 0 {
        flags |= uapi::CLONE_SIGHAND;
    }
    if flags & uapi::CLONE_SIGHAND != 0 {
        flags |= uapi::CLONE_THREAD;
    }
    if flags & uapi::CLONE_NEWNS != 0 {
        flags |= uapi::CLONE_FS;
    }
    check_unshare_flags(&tsk, flags)?;
    let new_fs = match tsk.fs.lock().clone() {
        Some(fs) if flags & uapi::CLONE_FS != 0 && Arc::strong_count(&fs) > 2 => {
            Some(Arc::new(fs.copy()))
        }
        _ => None,
    };
    let new_files = match tsk.files.lock().clone() {
        Some(files) if flags & uapi::CLONE_FILES != 0 && Arc::strong_count(&files) > 2 => {
            Some(Arc::new(files.dup_fd()?))
        }
        _ => None,
    };
    let new_pid_ns = unshare_pid_ns(&tsk, flags)?;
    // Nothing fails from here on (Linux: the `switch_task_namespaces` and
    // swaps at the end of `ksys_unshare`).
    if let Some(fs) = new_fs {
        drop(tsk.fs.lock().replace(fs));
    }
    if let Some(files) = new_files {
        drop(tsk.files.lock().replace(files));
    }
    if let Some(ns) = new_pid_ns {
        *tsk.pid_ns_for_children.lock() = Some(ns);
    }
    Ok(())
}

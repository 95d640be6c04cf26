//! A task's namespaces ([`NsProxy`]: mount and UTS), unshare(2): giving
//! the caller private copies of what it shares, and new namespaces for
//! itself or its future children, and setns(2): entering a namespace
//! named by a /proc/PID/ns file.
//!
//! Linux: kernel/nsproxy.c (`struct nsproxy`, `copy_namespaces`,
//! `create_new_namespaces`, `unshare_nsproxy_namespaces`, `setns`),
//! kernel/fork.c (`ksys_unshare`, `check_unshare_flags`, `unshare_fs`,
//! `unshare_fd`), kernel/pid_namespace.c (`copy_pid_ns`, `pidns_install`),
//! fs/namespace.c (`mntns_install`), fs/proc/generic.c (`proc_alloc_inum`).
//!
//! Ferrite has mount, UTS and PID namespaces. The first two are in the
//! task's `nsproxy` (none: the initial ones), shared by fork and copied
//! for `CLONE_NEWNS`/`CLONE_NEWUTS`; the PID namespace is the task's PID
//! and `pid_ns_for_children`. `CLONE_NEWPID` does not move the caller
//! (its PID cannot change): it sets the namespace its *next* child is
//! made in, whose first child becomes that namespace's PID 1. Other
//! namespace flags (IPC, network, user, cgroup, time) give `EINVAL`, as a
//! Linux built without those namespaces does; all of them need root
//! (`EPERM`), checked first, as Linux's `ns_capable` is. `CLONE_FILES`
//! and `CLONE_FS` copy a shared descriptor table or root/cwd; `CLONE_VM`,
//! `CLONE_SIGHAND`, `CLONE_THREAD` are accepted only where there is
//! nothing to unshare.
//!
//! # Locking
//! The task's `nsproxy`/`files`/`fs`/`pid_ns_for_children` locks, one at
//! a time, each only to read or swap an `Arc`; copying a mount namespace
//! takes `MOUNTS` with none of them held.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, Ordering};

use linux_raw_sys::general as uapi;
use spin::Once;

use crate::fs::fs_struct::FsStruct;
use crate::fs::namespace::{MntNamespace, Path, copy_mnt_ns, init_mnt_ns, lookup_mnt};
use crate::fs::nsfs::{NsCommon, ns_of_file};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::pid;
use crate::kernel::sched::{Task, current};
use crate::kernel::utsname::{UtsNamespace, copy_utsname};

/// The initial namespaces' nsfs inode numbers (Linux: include/linux/
/// proc_ns.h `PROC_*_INIT_INO`).
pub const PROC_IPC_INIT_INO: u32 = 0xEFFF_FFFF;
pub const PROC_UTS_INIT_INO: u32 = 0xEFFF_FFFE;
pub const PROC_PID_INIT_INO: u32 = 0xEFFF_FFFC;

/// Linux: `PROC_DYNAMIC_FIRST`, where `proc_alloc_inum` starts.
static NEXT_NS_INUM: AtomicU32 = AtomicU32::new(0xF000_0000);

/// An inode number for a new namespace (Linux: `proc_alloc_inum`). Never
/// reused: 2^28 namespaces would be needed to wrap.
pub fn proc_alloc_inum() -> u32 {
    NEXT_NS_INUM.fetch_add(1, Ordering::Relaxed)
}

/// The namespaces a task is in (Linux: `struct nsproxy`, the part
/// Ferrite has; the PID namespace lives in the task).
pub struct NsProxy {
    pub uts_ns: Arc<UtsNamespace>,
    pub mnt_ns: Arc<MntNamespace>,
}

static INIT_NSPROXY: Once<Arc<NsProxy>> = Once::new();

/// Linux: `init_nsproxy`.
pub fn init_nsproxy() -> Arc<NsProxy> {
    INIT_NSPROXY
        .call_once(|| {
            Arc::new(NsProxy { uts_ns: crate::kernel::sys::init_uts_ns(), mnt_ns: init_mnt_ns() })
        })
        .clone()
}

/// `task`'s namespaces (Linux: `task->nsproxy`).
pub fn task_nsproxy(task: &Task) -> Arc<NsProxy> {
    let own = task.nsproxy.lock().clone();
    own.unwrap_or_else(init_nsproxy)
}

/// New mount and UTS namespaces as `flags` ask, the rest shared; `fs`
/// (the task's own, not shared) moves into the new mount tree (Linux:
/// `create_new_namespaces`).
fn create_new_namespaces(flags: u32, old: &NsProxy, fs: Option<&FsStruct>) -> KResult<NsProxy> {
    let mnt_ns = if flags & uapi::CLONE_NEWNS != 0 {
        copy_mnt_ns(&old.mnt_ns, fs)?
    } else {
        old.mnt_ns.clone()
    };
    let uts_ns = if flags & uapi::CLONE_NEWUTS != 0 {
        copy_utsname(&old.uts_ns)
    } else {
        old.uts_ns.clone()
    };
    Ok(NsProxy { uts_ns, mnt_ns })
}

/// The child's namespaces at fork: its parent's, or new ones for
/// `CLONE_NEWNS`/`CLONE_NEWUTS`, which take `CAP_SYS_ADMIN` (Linux:
/// `copy_namespaces`). Runs after `copy_fs`: a `CLONE_NEWNS` child (never
/// `CLONE_FS`) has its own root and cwd to move.
pub fn copy_namespaces(flags: u32, parent: &Task, child: &Task) -> KResult<()> {
    let own = parent.nsproxy.lock().clone();
    if flags & (uapi::CLONE_NEWNS | uapi::CLONE_NEWUTS) == 0 {
        *child.nsproxy.lock() = own;
        return Ok(());
    }
    if parent.cred().euid != 0 {
        return Err(Errno::EPERM);
    }
    let old = own.unwrap_or_else(init_nsproxy);
    let fs = child.fs.lock().clone();
    let new = create_new_namespaces(flags, &old, fs.as_deref())?;
    *child.nsproxy.lock() = Some(Arc::new(new));
    Ok(())
}

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

/// The namespaces Ferrite has.
const SUPPORTED_NAMESPACES: u32 = uapi::CLONE_NEWNS | uapi::CLONE_NEWUTS | uapi::CLONE_NEWPID;

/// The PID namespace part (Linux: `unshare_nsproxy_namespaces` →
/// `create_new_namespaces` → `copy_pid_ns`): checked before anything
/// changes, so a refused call leaves the caller as it was.
fn unshare_pid_ns(tsk: &Task, flags: u32) -> KResult<Option<Arc<pid::PidNamespace>>> {
    if flags & UNSHARE_NAMESPACES == 0 {
        return Ok(None);
    }
    if tsk.cred().euid != 0 {
        return Err(Errno::EPERM);
    }
    if flags & (UNSHARE_NAMESPACES & !SUPPORTED_NAMESPACES) != 0 {
        return Err(Errno::EINVAL); // namespaces Ferrite does not have
    }
    if flags & uapi::CLONE_NEWPID == 0 {
        return Ok(None);
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
    // The new mount tree takes the caller's root and cwd: those of the
    // private copy if CLONE_FS made one (Linux: `unshare_nsproxy_namespaces`
    // gets `new_fs ? new_fs : current->fs`).
    let new_nsproxy = if flags & (uapi::CLONE_NEWNS | uapi::CLONE_NEWUTS) != 0 {
        let fs = new_fs.clone().or_else(|| tsk.fs.lock().clone());
        Some(Arc::new(create_new_namespaces(flags, &task_nsproxy(&tsk), fs.as_deref())?))
    } else {
        None
    };
    // Nothing fails from here on (Linux: the `switch_task_namespaces` and
    // swaps at the end of `ksys_unshare`).
    if let Some(ns) = new_nsproxy {
        drop(tsk.nsproxy.lock().replace(ns));
    }
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

/// The top of the mounts stacked on `ns`'s root: where a task entering it
/// is rooted (Linux: `vfs_path_lookup(…, "/", LOOKUP_DOWN)` in
/// `mntns_install`).
fn mnt_ns_top_root(ns: &MntNamespace) -> KResult<Path> {
    let root = ns.root().ok_or(Errno::EINVAL)?;
    let mut path = Path::new(root.clone(), root.mnt_root.clone());
    while let Some(mnt) = lookup_mnt(&path) {
        path = Path::new(mnt.clone(), mnt.mnt_root.clone());
    }
    Ok(path)
}

/// Enters `ns`: root and cwd move to its root (Linux: `mntns_install`):
/// `EINVAL` while the root and cwd are shared with another process.
fn mntns_install(tsk: &Task, ns: Arc<MntNamespace>) -> KResult<()> {
    let fs = tsk.fs.lock().clone().ok_or(Errno::EINVAL)?;
    // The task's slot and `fs` here: any other holder shares it.
    if Arc::strong_count(&fs) > 2 {
        return Err(Errno::EINVAL);
    }
    let root = mnt_ns_top_root(&ns)?;
    let old = task_nsproxy(tsk);
    let new = NsProxy { uts_ns: old.uts_ns.clone(), mnt_ns: ns };
    drop(tsk.nsproxy.lock().replace(Arc::new(new)));
    fs.set_pwd(root.clone());
    fs.set_root(root);
    Ok(())
}

/// The next children's PID namespace becomes `ns`, which must be the
/// caller's own or below it (Linux: `pidns_install`).
fn pidns_install(tsk: &Task, ns: Arc<pid::PidNamespace>) -> KResult<()> {
    let active = pid::task_active_pid_ns(tsk);
    let mut ancestor = Some(ns.clone());
    while let Some(a) = ancestor.as_ref().filter(|a| a.level > active.level) {
        ancestor = a.parent.clone();
    }
    if !ancestor.is_some_and(|a| Arc::ptr_eq(&a, &active)) {
        return Err(Errno::EINVAL);
    }
    let next = if Arc::ptr_eq(&ns, &active) { None } else { Some(ns) };
    *tsk.pid_ns_for_children.lock() = next;
    Ok(())
}

/// setns(2) with a /proc/PID/ns file (Linux: `SYSCALL_DEFINE2(setns)`,
/// `validate_ns`): `EINVAL` for another kind of file or a namespace not
/// of the `nstype` asked (0: any), then `EPERM` without `CAP_SYS_ADMIN`.
/// A pidfd (entering several namespaces at once) is `EINVAL` here.
pub fn sys_setns(fd: i32, nstype: i32) -> KResult<()> {
    let file = crate::fs::current_files()?.get(fd)?;
    let ns = ns_of_file(&file).ok_or(Errno::EINVAL)?;
    let nstype = u32::try_from(nstype).map_err(|_| Errno::EINVAL)?;
    if nstype != 0 && nstype != ns.nstype() {
        return Err(Errno::EINVAL);
    }
    let tsk = current();
    if tsk.cred().euid != 0 {
        return Err(Errno::EPERM);
    }
    match ns {
        NsCommon::Ipc => Ok(()), // the only one there is
        NsCommon::Uts(uts_ns) => {
            let old = task_nsproxy(&tsk);
            let new = NsProxy { uts_ns, mnt_ns: old.mnt_ns.clone() };
            drop(tsk.nsproxy.lock().replace(Arc::new(new)));
            Ok(())
        }
        NsCommon::Mnt(mnt_ns) => mntns_install(&tsk, mnt_ns),
        NsCommon::Pid(pid_ns) => pidns_install(&tsk, pid_ns),
    }
}

//! Creating tasks: `copy_process` and its callers.
//!
//! Linux: kernel/fork.c (`copy_process`, `kernel_clone`, `kernel_thread`,
//! `dup_task_struct`, `copy_mm`, `copy_files`, `copy_fs`), include/uapi/
//! linux/sched.h (the `CLONE_*` flags).
//!
//! `copy_process` builds the child from the caller (`current`): a new
//! kernel stack, a PID, scheduling state from `sched_fork`, the
//! architecture's thread (`copy_thread`: where it starts, with which
//! registers), then shares or copies the address space, files and
//! filesystem context as `CLONE_VM`/`CLONE_FILES`/`CLONE_FS` say (a copy
//! of the address space is copy-on-write: `Mm::dup`), the signal actions
//! (`signal::copy_signals`), limits, process group and session, and links
//! it into the process tree and the process list. `kernel_clone` then
//! lets it run (`wake_up_new_task`). Errors unwind by `Drop`: the stack,
//! the PID numbers and the half-built task go away with their owners.
//!
//! fork, vfork and clone (`user_clone`) give the child the caller's saved
//! user registers with RAX = 0, so it returns from the same system call;
//! `CLONE_VFORK` parks the caller on a `Completion` that the child's exec
//! or exit completes (`mm_release`). `CLONE_THREAD` (which needs
//! `CLONE_SIGHAND`, which needs `CLONE_VM`) adds the child to the caller's
//! thread group: same tgid, shared `GroupSignal` and `ThreadGroup` list,
//! the caller's parent. Namespaces and pidfds are refused with `EINVAL`.
//!
//! # Locking
//! `TASKLIST_LOCK` (Linux: `tasklist_lock`) serialises changes to the
//! process tree: `parent`, `real_parent`, `children`, `group_leader` of
//! every task, and the attaching of PIDs. It is outermost among the
//! scheduler's locks; under it a task's own locks are taken one at a time.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use bitflags::bitflags;
use linux_raw_sys::general as uapi;

use crate::arch::ptrace::PtRegs;
use crate::arch::switch_to::ThreadStruct;
use crate::arch::uaccess::UserAddr;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::kthread::Kthread;
use crate::kernel::locking::SpinLock;
use crate::kernel::pid::{self, PidType};
use crate::kernel::sched::completion::Completion;
use crate::kernel::sched::task::{
    PF_FORKNOEXEC, PF_KTHREAD, TASK_NEW, TaskInit, ThreadFn, comm_from,
};
use crate::kernel::sched::{self, Task, current};
use crate::kernel::syscall::args::UserPtr;
use crate::mm::kstack::KernelStack;

/// Linux: `tasklist_lock`.
pub static TASKLIST_LOCK: SpinLock<()> = SpinLock::new(());

bitflags! {
    /// What a new task shares with its creator (Linux: `CLONE_*`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct CloneFlags: u64 {
        const VM = uapi::CLONE_VM as u64;
        const FS = uapi::CLONE_FS as u64;
        const FILES = uapi::CLONE_FILES as u64;
        const SIGHAND = uapi::CLONE_SIGHAND as u64;
        const PIDFD = uapi::CLONE_PIDFD as u64;
        const PTRACE = uapi::CLONE_PTRACE as u64;
        const VFORK = uapi::CLONE_VFORK as u64;
        const PARENT = uapi::CLONE_PARENT as u64;
        const THREAD = uapi::CLONE_THREAD as u64;
        const NEWNS = uapi::CLONE_NEWNS as u64;
        const SYSVSEM = uapi::CLONE_SYSVSEM as u64;
        const SETTLS = uapi::CLONE_SETTLS as u64;
        const PARENT_SETTID = uapi::CLONE_PARENT_SETTID as u64;
        const CHILD_CLEARTID = uapi::CLONE_CHILD_CLEARTID as u64;
        const DETACHED = uapi::CLONE_DETACHED as u64;
        const UNTRACED = uapi::CLONE_UNTRACED as u64;
        const CHILD_SETTID = uapi::CLONE_CHILD_SETTID as u64;
        const NEWPID = uapi::CLONE_NEWPID as u64;
        const IO = uapi::CLONE_IO as u64;
    }
}

/// Everything `kernel_clone` needs (Linux: `struct kernel_clone_args`).
pub struct KernelCloneArgs {
    pub flags: CloneFlags,
    /// Signal for the parent at exit (Linux: `exit_signal`, `CSIGNAL` bits).
    pub exit_signal: i32,
    /// The parent's user registers, for a fork from a system call; `None`
    /// for a kernel thread.
    pub regs: Option<PtRegs>,
    /// The child's user stack pointer (0: the parent's).
    pub stack: u64,
    /// FS base for `CLONE_SETTLS`.
    pub tls: u64,
    /// User address stored as `clear_child_tid` for `CLONE_CHILD_CLEARTID`.
    pub child_tid: u64,
    /// A kernel thread's function (Linux: `fn`/`fn_arg`).
    pub threadfn: Option<ThreadFn>,
    pub kthread: Option<Arc<Kthread>>,
    /// The child's `comm`; the parent's if `None`.
    pub name: Option<&'static str>,
}

impl KernelCloneArgs {
    /// Arguments for a kernel thread running `f`.
    pub fn kernel_thread(f: ThreadFn, name: &'static str, flags: CloneFlags) -> Self {
        Self {
            flags,
            exit_signal: uapi::SIGCHLD as i32,
            regs: None,
            stack: 0,
            tls: 0,
            child_tid: 0,
            threadfn: Some(f),
            kthread: None,
            name: Some(name),
        }
    }
}

/// Linux's sanity rules for clone flags (the checks at the top of
/// `copy_process`).
fn check_clone_flags(flags: CloneFlags) -> KResult<()> {
    if flags.contains(CloneFlags::NEWNS | CloneFlags::FS) {
        return Err(Errno::EINVAL);
    }
    if flags.contains(CloneFlags::THREAD) && !flags.contains(CloneFlags::SIGHAND) {
        return Err(Errno::EINVAL);
    }
    if flags.contains(CloneFlags::SIGHAND) && !flags.contains(CloneFlags::VM) {
        return Err(Errno::EINVAL);
    }
    if flags.contains(CloneFlags::NEWPID) {
        return Err(Errno::EINVAL); // PID namespaces: not wired yet
    }
    Ok(())
}

/// The address space: shared with `CLONE_VM`, else a copy-on-write
/// duplicate (Linux: `copy_mm` → `dup_mm`).
fn copy_mm(flags: CloneFlags, parent: &Task, child: &Task) -> KResult<()> {
    let mm = parent.mm.lock().clone();
    *child.mm.lock() = match mm {
        Some(mm) if flags.contains(CloneFlags::VM) => Some(mm),
        Some(mm) => Some(mm.dup()?),
        None => None,
    };
    Ok(())
}

/// Open files: shared with `CLONE_FILES`, else copied (Linux: `copy_files`
/// → `dup_fd`).
fn copy_files(flags: CloneFlags, parent: &Task, child: &Task) -> KResult<()> {
    let files = parent.files.lock().clone();
    *child.files.lock() = match files {
        Some(files) if flags.contains(CloneFlags::FILES) => Some(files),
        Some(files) => Some(Arc::new(files.dup_fd()?)),
        None => None,
    };
    Ok(())
}

/// Root, cwd and umask: shared with `CLONE_FS`, else copied (Linux:
/// `copy_fs` → `copy_fs_struct`).
fn copy_fs(flags: CloneFlags, parent: &Task, child: &Task) -> KResult<()> {
    let fs = parent.fs.lock().clone();
    *child.fs.lock() = match fs {
        Some(fs) if flags.contains(CloneFlags::FS) => Some(fs),
        Some(fs) => Some(Arc::new(fs.copy())),
        None => None,
    };
    Ok(())
}

/// Resource limits, process group and session (Linux: `copy_signal`'s
/// `rlim` copy; the group and session come with the `signal_struct`).
fn copy_process_ids(parent: &Task, child: &Task) {
    let rlim = *parent.rlim.lock();
    *child.rlim.lock() = rlim;
    child.set_pgrp(parent.pgrp());
    child.set_session(parent.session());
}

/// RLIMIT_NPROC: a non-root user may not own more processes than its
/// limit (Linux: the `is_rlimit_overlimit(…, UCOUNT_RLIMIT_NPROC, …)`
/// check in `copy_process`).
fn check_nproc(parent: &Task) -> KResult<()> {
    let cred = parent.cred();
    if cred.uid == 0 || cred.euid == 0 {
        return Ok(());
    }
    let limit = parent.rlimit(uapi::RLIMIT_NPROC as usize).cur;
    let mut count = 0u64;
    pid::for_each_process(|p| {
        if p.cred().uid == cred.uid {
            count += 1;
        }
    });
    if count >= limit { Err(Errno::EAGAIN) } else { Ok(()) }
}

/// Creates a task from `current` without running it (Linux: `copy_process`).
pub fn copy_process(args: KernelCloneArgs) -> KResult<Arc<Task>> {
    check_clone_flags(args.flags)?;
    let parent = current();
    if args.threadfn.is_none() {
        check_nproc(&parent)?;
    }
    let stack = KernelStack::new()?;
    let pid = pid::alloc_pid(&pid::task_active_pid_ns(&parent))?;
    let tls = args.flags.contains(CloneFlags::SETTLS).then_some(args.tls);
    let thread = ThreadStruct::copy_thread(stack, args.regs.as_ref(), args.stack, tls);
    let thread_group = args.flags.contains(CloneFlags::THREAD);
    let kthread = if args.threadfn.is_some() { PF_KTHREAD } else { parent.flags() & PF_KTHREAD };
    let flags = kthread | PF_FORKNOEXEC;
    let child = Arc::new(Task::new(TaskInit {
        pid_link: pid,
        tgid: thread_group.then_some(parent.tgid),
        comm: args.name.map_or_else(|| parent.comm(), |n| comm_from(n.as_bytes())),
        state: TASK_NEW,
        flags,
        exit_signal: if thread_group { -1 } else { args.exit_signal },
        sched: sched::core::sched_fork(&parent),
        thread,
        cred: parent.cred(),
        kthread: args.kthread,
        thread_fn: args.threadfn,
    }));
    copy_mm(args.flags, &parent, &child)?;
    copy_files(args.flags, &parent, &child)?;
    copy_fs(args.flags, &parent, &child)?;
    crate::kernel::signal::copy_signals(args.flags, &parent, &child);
    copy_process_ids(&parent, &child);
    if args.flags.contains(CloneFlags::CHILD_CLEARTID) {
        child.clear_child_tid.store(args.child_tid, Ordering::Relaxed);
    }
    if args.flags.contains(CloneFlags::CHILD_SETTID) {
        child.set_child_tid.store(args.child_tid, Ordering::Relaxed);
    }
    link_process(&parent, &child, args.flags)?;
    Ok(child)
}

/// Hangs `child` into the process tree and its PID (the tail of Linux's
/// `copy_process`). `CLONE_PARENT` and threads get the caller's parent.
fn link_process(parent: &Arc<Task>, child: &Arc<Task>, flags: CloneFlags) -> KResult<()> {
    let _tasklist = TASKLIST_LOCK.lock();
    let real_parent = if flags.intersects(CloneFlags::PARENT | CloneFlags::THREAD) {
        parent.real_parent.lock().upgrade().unwrap_or_else(|| parent.clone())
    } else {
        parent.clone()
    };
    *child.real_parent.lock() = Arc::downgrade(&real_parent);
    child.real_parent_tgid.store(real_parent.tgid, core::sync::atomic::Ordering::Relaxed);
    *child.parent.lock() = Arc::downgrade(&real_parent);
    if flags.contains(CloneFlags::THREAD) {
        return link_thread(parent, child);
    }
    *child.group_leader.lock() = Arc::downgrade(child);
    // Reserve first: once the PID is attached, nothing may fail.
    real_parent.children.lock().try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    pid::reserve_process_slot()?;
    pid::attach_pid(child, &child.pid_link, PidType::Pid)?;
    real_parent.children.lock().push(child.clone());
    pid::add_process(child);
    Ok(())
}

/// Adds a `CLONE_THREAD` child to the caller's thread group (Linux: the
/// `thread_head`/`thread_node` lines of `copy_process`). Refused with
/// `EINTR` once the group is exiting, as Linux's `fatal_signal_pending`
/// check: `zap_other_threads` would miss the new thread. Call with
/// `TASKLIST_LOCK`.
fn link_thread(parent: &Arc<Task>, child: &Arc<Task>) -> KResult<()> {
    use crate::kernel::signal::{SigTask, SignalFlags};
    if parent.group_signal().lock().flags.contains(SignalFlags::GROUP_EXIT) {
        return Err(Errno::EINTR);
    }
    *child.group_leader.lock() = parent.group_leader.lock().clone();
    let group = parent.thread_group().clone();
    {
        let mut threads = group.threads.lock();
        threads.try_reserve(2).map_err(|_| Errno::ENOMEM)?;
        pid::attach_pid(child, &child.pid_link, PidType::Pid)?;
        if threads.is_empty() {
            threads.push(Arc::downgrade(parent));
        }
        threads.push(Arc::downgrade(child));
    }
    child.thread_group.call_once(|| group);
    Ok(())
}

/// Creates and starts a task; returns it (Linux: `kernel_clone`, which
/// returns the PID; `task.pid` and `pid::pid_vnr` give it). User-space
/// callers (and `CLONE_VFORK`) go through `user_clone`.
pub fn kernel_clone(args: KernelCloneArgs) -> KResult<Arc<Task>> {
    let child = copy_process(args)?;
    sched::wake_up_new_task(&child);
    Ok(child)
}

/// Lets a `vfork` parent go on: the child has given up the borrowed
/// address space by exec or exit (Linux: `mm_release` → `complete_vfork_done`).
pub fn mm_release(tsk: &Task) {
    if let Some(done) = tsk.vfork_done.lock().take() {
        done.complete_all();
    }
}

/// Starts a kernel thread running `f` as a child of the caller (Linux:
/// `kernel_thread`). Most callers want `kthread_create`, whose threads are
/// children of `kthreadd`.
pub fn kernel_thread(
    f: impl FnOnce() -> i32 + Send + 'static,
    name: &'static str,
    flags: CloneFlags,
) -> KResult<Arc<Task>> {
    kernel_clone(KernelCloneArgs::kernel_thread(Box::new(f), name, flags))
}

/// The function a new kernel thread runs, if the running task is one that
/// has not started it yet (for `ret_from_fork`).
pub fn take_thread_fn() -> Option<ThreadFn> {
    current().thread_fn.lock().take()
}

/// The `CSIGNAL` bits of clone's flags: the signal for the parent at exit.
const CSIGNAL: u64 = uapi::CSIGNAL as u64;

/// Flags Ferrite cannot honour yet; Linux would create namespaces or a
/// pidfd for them.
const CLONE_UNSUPPORTED: u64 = (uapi::CLONE_NEWNS
    | uapi::CLONE_NEWCGROUP
    | uapi::CLONE_NEWUTS
    | uapi::CLONE_NEWIPC
    | uapi::CLONE_NEWUSER
    | uapi::CLONE_NEWNET
    | uapi::CLONE_PIDFD) as u64;

/// The common tail of fork, vfork and clone: the child returns to user
/// mode with the caller's registers (RAX = 0); the caller gets its PID.
fn user_clone(
    regs: &PtRegs,
    raw_flags: u64,
    newsp: u64,
    parent_tid: UserPtr<i32>,
    child_tid: u64,
    tls: u64,
) -> KResult<i32> {
    if raw_flags & CLONE_UNSUPPORTED != 0 {
        return Err(Errno::EINVAL);
    }
    let exit_signal = i32::try_from(raw_flags & CSIGNAL).map_err(|_| Errno::EINVAL)?;
    if exit_signal > 64 {
        return Err(Errno::EINVAL);
    }
    let flags = CloneFlags::from_bits_truncate(raw_flags & !CSIGNAL);
    let args = KernelCloneArgs {
        flags,
        exit_signal: if exit_signal == 0 { -1 } else { exit_signal },
        regs: Some(*regs),
        stack: newsp,
        tls,
        child_tid,
        threadfn: None,
        kthread: None,
        name: None,
    };
    let child = copy_process(args)?;
    let nr = pid::pid_vnr(&child.pid_link);
    if flags.contains(CloneFlags::CHILD_SETTID)
        && let Some(mm) = child.mm.lock().clone()
    {
        // Written into the child's copy, before it runs (Linux does it in
        // `schedule_tail`; a fault is ignored there too).
        let _ = mm.write_remote(child_tid, &nr.to_ne_bytes());
    }
    if flags.contains(CloneFlags::PARENT_SETTID) {
        let _ = parent_tid.write(&nr);
    }
    let vfork = flags.contains(CloneFlags::VFORK);
    let vfork_done = vfork.then(|| Arc::new(Completion::new()));
    if let Some(done) = &vfork_done {
        *child.vfork_done.lock() = Some(done.clone());
    }
    sched::wake_up_new_task(&child);
    drop(child);
    if let Some(done) = vfork_done {
        done.wait_for_completion();
    }
    Ok(nr)
}

/// fork(2).
pub fn sys_fork(regs: &mut PtRegs) -> KResult<i32> {
    user_clone(regs, u64::from(uapi::SIGCHLD), 0, UserPtr::new(UserAddr::new(0)), 0, 0)
}

/// vfork(2): shares the address space, and the caller waits until the
/// child execs or exits.
pub fn sys_vfork(regs: &mut PtRegs) -> KResult<i32> {
    let flags = uapi::CLONE_VFORK | uapi::CLONE_VM | uapi::SIGCHLD;
    user_clone(regs, u64::from(flags), 0, UserPtr::new(UserAddr::new(0)), 0, 0)
}

/// clone(2), x86_64 argument order: flags, newsp, parent_tid, child_tid, tls.
pub fn sys_clone(
    regs: &mut PtRegs,
    flags: u64,
    newsp: u64,
    parent_tid: UserPtr<i32>,
    child_tid: u64,
    tls: u64,
) -> KResult<i32> {
    user_clone(regs, flags, newsp, parent_tid, child_tid, tls)
}

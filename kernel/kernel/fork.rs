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
//! filesystem context as `CLONE_VM`/`CLONE_FILES`/`CLONE_FS` say, and
//! links it into the process tree. `kernel_clone` then lets it run
//! (`wake_up_new_task`). Errors unwind by `Drop`: the stack, the PID
//! numbers and the half-built task go away with their owners.
//!
//! # Locking
//! `TASKLIST_LOCK` (Linux: `tasklist_lock`) serialises changes to the
//! process tree: `parent`, `real_parent`, `children`, `group_leader` of
//! every task, and the attaching of PIDs. It is outermost among the
//! scheduler's locks; under it a task's own locks are taken one at a time.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;

use bitflags::bitflags;
use linux_raw_sys::general as uapi;

use crate::arch::ptrace::PtRegs;
use crate::arch::switch_to::ThreadStruct;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::kthread::Kthread;
use crate::kernel::locking::SpinLock;
use crate::kernel::pid::{self, PidType};
use crate::kernel::sched::task::{PF_KTHREAD, TASK_NEW, TaskInit, ThreadFn, comm_from};
use crate::kernel::sched::{self, Task, current};
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

/// The address space: shared with `CLONE_VM`, else copied (Linux: `copy_mm`).
/// Copying (`dup_mm`, with COW) is the integration's: until then a fork
/// of a task that has one fails with `ENOSYS`.
fn copy_mm(flags: CloneFlags, parent: &Task, child: &Task) -> KResult<()> {
    let mm = parent.mm.lock().clone();
    *child.mm.lock() = match mm {
        Some(mm) if flags.contains(CloneFlags::VM) => Some(mm),
        Some(_) => return Err(Errno::ENOSYS), // TODO(integration): dup_mm
        None => None,
    };
    Ok(())
}

/// Open files: shared with `CLONE_FILES`, else copied (Linux: `copy_files`).
fn copy_files(flags: CloneFlags, parent: &Task, child: &Task) -> KResult<()> {
    let files = parent.files.lock().clone();
    *child.files.lock() = match files {
        Some(files) if flags.contains(CloneFlags::FILES) => Some(files),
        Some(_) => return Err(Errno::ENOSYS), // TODO(integration): dup_fd
        None => None,
    };
    Ok(())
}

/// Root, cwd and umask: shared with `CLONE_FS`, else copied (Linux: `copy_fs`).
fn copy_fs(flags: CloneFlags, parent: &Task, child: &Task) -> KResult<()> {
    let fs = parent.fs.lock().clone();
    *child.fs.lock() = match fs {
        Some(fs) if flags.contains(CloneFlags::FS) => Some(fs),
        Some(_) => return Err(Errno::ENOSYS), // TODO(integration): copy_fs_struct
        None => None,
    };
    Ok(())
}

/// Creates a task from `current` without running it (Linux: `copy_process`).
pub fn copy_process(args: KernelCloneArgs) -> KResult<Arc<Task>> {
    check_clone_flags(args.flags)?;
    let parent = current();
    let stack = KernelStack::new()?;
    let pid = pid::alloc_pid(&pid::task_active_pid_ns(&parent))?;
    let tls = args.flags.contains(CloneFlags::SETTLS).then_some(args.tls);
    let thread = ThreadStruct::copy_thread(stack, args.regs.as_ref(), args.stack, tls);
    let thread_group = args.flags.contains(CloneFlags::THREAD);
    let flags = if args.threadfn.is_some() { PF_KTHREAD } else { parent.flags() & PF_KTHREAD };
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
    if args.flags.contains(CloneFlags::CHILD_CLEARTID) {
        child.clear_child_tid.store(args.child_tid, core::sync::atomic::Ordering::Relaxed);
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
    *child.parent.lock() = Arc::downgrade(&real_parent);
    if flags.contains(CloneFlags::THREAD) {
        *child.group_leader.lock() = parent.group_leader.lock().clone();
        return pid::attach_pid(child, &child.pid_link, PidType::Pid);
    }
    *child.group_leader.lock() = Arc::downgrade(child);
    // Reserve first: once the PID is attached, nothing may fail.
    real_parent.children.lock().try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    pid::attach_pid(child, &child.pid_link, PidType::Pid)?;
    real_parent.children.lock().push(child.clone());
    Ok(())
}

/// Creates and starts a task; returns it (Linux: `kernel_clone`, which
/// returns the PID; `task.pid` and `pid::pid_vnr` give it).
pub fn kernel_clone(args: KernelCloneArgs) -> KResult<Arc<Task>> {
    let child = copy_process(args)?;
    sched::wake_up_new_task(&child);
    Ok(child)
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

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
//! the caller's parent. `CLONE_NEWPID` puts the child into a new PID
//! namespace as its number 1 and child reaper (root only); after
//! `unshare(CLONE_NEWPID)` the caller's next child does the same.
//! clone3 reads Linux's versioned `struct clone_args`, `set_tid` (root
//! chooses the child's PIDs) included. `CLONE_PIDFD` gives the caller a
//! pidfd for the child (`kernel::pidfd`), through clone's `parent_tid`
//! or clone3's `pidfd` field. Other namespaces and cgroups are refused
//! with `EINVAL`: Linux would create them.
//!
//! # Locking
//! `TASKLIST_LOCK` (Linux: `tasklist_lock`) serialises changes to the
//! process tree: `parent`, `real_parent`, `children`, `group_leader` of
//! every task, and the attaching of PIDs. It is outermost among the
//! scheduler's locks; under it a task's own locks are taken one at a time.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
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
        const NEWUTS = uapi::CLONE_NEWUTS as u64;
        const SYSVSEM = uapi::CLONE_SYSVSEM as u64;
        const SETTLS = uapi::CLONE_SETTLS as u64;
        const PARENT_SETTID = uapi::CLONE_PARENT_SETTID as u64;
        const CHILD_CLEARTID = uapi::CLONE_CHILD_CLEARTID as u64;
        const DETACHED = uapi::CLONE_DETACHED as u64;
        const UNTRACED = uapi::CLONE_UNTRACED as u64;
        const CHILD_SETTID = uapi::CLONE_CHILD_SETTID as u64;
        const NEWPID = uapi::CLONE_NEWPID as u64;
        const IO = uapi::CLONE_IO as u64;
        const CLEAR_SIGHAND = uapi::CLONE_CLEAR_SIGHAND;
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
    /// clone3's chosen PIDs, innermost namespace first (Linux: `set_tid`).
    pub set_tid: Vec<i32>,
    /// Where `CLONE_PIDFD` stores the pidfd, an `int` (Linux: `pidfd`).
    pub pidfd: u64,
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
            set_tid: Vec::new(),
            pidfd: 0,
        }
    }
}

/// Linux's sanity rules for clone flags (the checks at the top of
/// `copy_process`).
fn check_clone_flags(flags: CloneFlags, parent: &Task) -> KResult<()> {
    if flags.contains(CloneFlags::NEWNS | CloneFlags::FS) {
        return Err(Errno::EINVAL);
    }
    if flags.contains(CloneFlags::THREAD) && !flags.contains(CloneFlags::SIGHAND) {
        return Err(Errno::EINVAL);
    }
    if flags.contains(CloneFlags::SIGHAND) && !flags.contains(CloneFlags::VM) {
        return Err(Errno::EINVAL);
    }
    // A namespace's init may not make siblings: nobody would reap them
    // (Linux: the `SIGNAL_UNKILLABLE` test).
    if flags.contains(CloneFlags::PARENT) && parent.pid_link.is_child_reaper() {
        return Err(Errno::EINVAL);
    }
    // A pidfd names a process, never a thread; CLONE_DETACHED is kept
    // for a later meaning (Linux: the `CLONE_PIDFD` test).
    if flags.contains(CloneFlags::PIDFD)
        && flags.intersects(CloneFlags::THREAD | CloneFlags::DETACHED)
    {
        return Err(Errno::EINVAL);
    }
    // A thread shares its group's PID namespace.
    if flags.contains(CloneFlags::THREAD)
        && (flags.contains(CloneFlags::NEWPID) || parent.pid_ns_for_children.lock().is_some())
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// The namespace the child's PID comes from: a new one for
/// `CLONE_NEWPID`, which takes `CAP_SYS_ADMIN` (Linux: `copy_namespaces`
/// → `copy_pid_ns`).
fn child_pid_ns(flags: CloneFlags, parent: &Task) -> KResult<Arc<pid::PidNamespace>> {
    let ns = pid::pid_ns_for_children(parent);
    if !flags.contains(CloneFlags::NEWPID) {
        return Ok(ns);
    }
    if parent.cred().euid != 0 {
        return Err(Errno::EPERM);
    }
    // After unshare(CLONE_NEWPID) the new namespace may only be entered
    // by children, not nested from (Linux: `copy_pid_ns`).
    if parent.pid_ns_for_children.lock().is_some() {
        return Err(Errno::EINVAL);
    }
    pid::create_pid_namespace(&ns)
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

/// Process group and session (they come with Linux's `signal_struct`),
/// and the supplementary groups (with Linux's `cred`).
fn copy_process_ids(parent: &Task, child: &Arc<Task>) -> KResult<()> {
    child.set_groups(parent.groups());
    child.set_pgrp(parent.task_pgrp())?;
    child.set_session(parent.task_session())
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
    let parent = current();
    check_clone_flags(args.flags, &parent)?;
    if args.threadfn.is_none() {
        check_nproc(&parent)?;
    }
    let (pid_ns, pid) = alloc_child_pid(&args, &parent)?;
    let stack = KernelStack::new()?;
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
    let ns_flags = u32::try_from(args.flags.bits() & u64::from(u32::MAX)).unwrap_or(0);
    crate::kernel::nsproxy::copy_namespaces(ns_flags, &parent, &child)?;
    crate::kernel::signal::copy_signals(args.flags, &parent, &child);
    if args.flags.contains(CloneFlags::CLEAR_SIGHAND) {
        // The child's table is its own copy: clone3 refuses CLONE_SIGHAND
        // with it.
        child.sighand.lock().flush_signal_handlers();
    }
    copy_process_ids(&parent, &child)?;
    copy_prctl_state(&parent, &child);
    child.rseq.fork(&parent.rseq, args.flags.contains(CloneFlags::VM));
    if args.flags.contains(CloneFlags::CHILD_CLEARTID) {
        child.clear_child_tid.store(args.child_tid, Ordering::Relaxed);
    }
    if args.flags.contains(CloneFlags::CHILD_SETTID) {
        child.set_child_tid.store(args.child_tid, Ordering::Relaxed);
    }
    // After the child's table was copied: the pidfd is the parent's only.
    let pidfd = if args.flags.contains(CloneFlags::PIDFD) {
        Some(crate::kernel::pidfd::clone_pidfd(&child.pid_link, args.pidfd)?)
    } else {
        None
    };
    if !args.flags.contains(CloneFlags::THREAD) {
        // Linux: `copy_signal`'s `rlim` copy, before the child can be
        // found; a thread shares its group's (`link_thread`).
        let rlim = *parent.rlim().lock();
        *child.rlim().lock() = rlim;
    }
    link_process(&parent, &child, args.flags)?;
    if let Some(pidfd) = pidfd {
        pidfd.install();
    }
    if !args.flags.contains(CloneFlags::THREAD) {
        let dumpable = parent.thread_group().dumpable.load(Ordering::Relaxed);
        child.thread_group().dumpable.store(dumpable, Ordering::Relaxed);
    }
    if child.pid_link.is_child_reaper() {
        pid_ns.set_child_reaper(&child);
    }
    Ok(child)
}

/// The child's PID and the namespace it was made in (Linux: the
/// `alloc_pid(p->nsproxy->pid_ns_for_children, args->set_tid, …)` of
/// `copy_process`). Choosing PIDs takes privilege.
fn alloc_child_pid(
    args: &KernelCloneArgs,
    parent: &Task,
) -> KResult<(Arc<pid::PidNamespace>, Arc<pid::Pid>)> {
    let pid_ns = child_pid_ns(args.flags, parent)?;
    if !args.set_tid.is_empty() && parent.cred().euid != 0 {
        return Err(Errno::EPERM); // Linux: `checkpoint_restore_ns_capable`
    }
    let pid = pid::alloc_pid_set_tid(&pid_ns, &args.set_tid)?;
    Ok((pid_ns, pid))
}

/// What prctl and personality set that a child inherits; `pdeath_signal`
/// starts at 0 (Linux: `dup_task_struct` copies, `copy_process` clears).
fn copy_prctl_state(parent: &Task, child: &Task) {
    let nnp = parent.no_new_privs.load(Ordering::Relaxed);
    child.no_new_privs.store(nnp, Ordering::Relaxed);
    let persona = parent.personality.load(Ordering::Relaxed);
    child.personality.store(persona, Ordering::Relaxed);
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
    crate::kernel::trace::events::sched::trace_sched_process_fork(&child);
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
/// cgroup move for them.
const CLONE_UNSUPPORTED: u64 = (uapi::CLONE_NEWCGROUP
    | uapi::CLONE_NEWIPC
    | uapi::CLONE_NEWUSER
    | uapi::CLONE_NEWNET
    | uapi::CLONE_NEWTIME) as u64
    | uapi::CLONE_INTO_CGROUP;

/// clone's and clone3's arguments as user space gave them (Linux: the
/// user half of `struct kernel_clone_args`).
struct UserCloneArgs {
    /// Without the `CSIGNAL` bits.
    flags: u64,
    /// 0 for none.
    exit_signal: u64,
    stack: u64,
    parent_tid: u64,
    child_tid: u64,
    tls: u64,
    set_tid: Vec<i32>,
    /// Where `CLONE_PIDFD` stores the pidfd: clone's `parent_tid`,
    /// clone3's own field.
    pidfd: u64,
}

/// The common tail of fork, vfork, clone and clone3: the child returns to
/// user mode with the caller's registers (RAX = 0); the caller gets its
/// PID as the caller's namespace numbers it (Linux: `kernel_clone`).
fn user_clone(regs: &PtRegs, uargs: UserCloneArgs) -> KResult<i32> {
    if uargs.flags & CLONE_UNSUPPORTED != 0 || uargs.exit_signal > 64 {
        return Err(Errno::EINVAL);
    }
    let flags = CloneFlags::from_bits_truncate(uargs.flags);
    // Both would be written to one place (always, for clone(2), which
    // passes the pidfd through `parent_tid`) (Linux: `kernel_clone`).
    if flags.contains(CloneFlags::PIDFD | CloneFlags::PARENT_SETTID)
        && uargs.pidfd == uargs.parent_tid
    {
        return Err(Errno::EINVAL);
    }
    let exit_signal = i32::try_from(uargs.exit_signal).map_err(|_| Errno::EINVAL)?;
    let args = KernelCloneArgs {
        flags,
        exit_signal: if exit_signal == 0 { -1 } else { exit_signal },
        regs: Some(*regs),
        stack: uargs.stack,
        tls: uargs.tls,
        child_tid: uargs.child_tid,
        threadfn: None,
        kthread: None,
        name: None,
        set_tid: uargs.set_tid,
        pidfd: uargs.pidfd,
    };
    let child = copy_process(args)?;
    let nr = pid::pid_vnr(&child.pid_link);
    // Copied out first: an `if let` would hold the IRQ-safe `mm` lock
    // across the write, which takes the sleeping `mmap_lock`.
    let child_mm = child.mm.lock().clone();
    if flags.contains(CloneFlags::CHILD_SETTID)
        && let Some(mm) = child_mm
    {
        // Written into the child's copy, before it runs (Linux does it in
        // `schedule_tail`; a fault is ignored there too). The child sees
        // its own namespace's number.
        let own = pid::pid_nr_ns(&child.pid_link, &pid::task_active_pid_ns(&child));
        let _ = mm.write_remote(uargs.child_tid, &own.to_ne_bytes());
    }
    if flags.contains(CloneFlags::PARENT_SETTID) {
        let _ = UserPtr::<i32>::new(UserAddr::new(uargs.parent_tid)).write(&nr);
    }
    let vfork = flags.contains(CloneFlags::VFORK);
    let vfork_done = vfork.then(|| Arc::new(Completion::new()));
    if let Some(done) = &vfork_done {
        *child.vfork_done.lock() = Some(done.clone());
    }
    crate::kernel::trace::events::sched::trace_sched_process_fork(&child);
    sched::wake_up_new_task(&child);
    drop(child);
    if let Some(done) = vfork_done {
        done.wait_for_completion();
    }
    Ok(nr)
}

/// fork(2).
pub fn sys_fork(regs: &mut PtRegs) -> KResult<i32> {
    sys_clone(regs, u64::from(uapi::SIGCHLD), 0, 0, 0, 0)
}

/// vfork(2): shares the address space, and the caller waits until the
/// child execs or exits.
pub fn sys_vfork(regs: &mut PtRegs) -> KResult<i32> {
    let flags = uapi::CLONE_VFORK | uapi::CLONE_VM | uapi::SIGCHLD;
    sys_clone(regs, u64::from(flags), 0, 0, 0, 0)
}

/// clone(2), x86_64 argument order: flags, newsp, parent_tid, child_tid, tls.
pub fn sys_clone(
    regs: &mut PtRegs,
    flags: u64,
    newsp: u64,
    parent_tid: u64,
    child_tid: u64,
    tls: u64,
) -> KResult<i32> {
    // clone(2) takes only the low 32 bits of flags (Linux: `int` flags
    // in `kernel_clone_args` from `sys_clone`).
    let flags = flags & 0xffff_ffff;
    let uargs = UserCloneArgs {
        flags: flags & !CSIGNAL,
        exit_signal: flags & CSIGNAL,
        stack: newsp,
        parent_tid,
        child_tid,
        tls,
        set_tid: Vec::new(),
        pidfd: parent_tid,
    };
    user_clone(regs, uargs)
}

/// clone3(2) (Linux: `copy_clone_args_from_user` + `clone3_args_valid`).
pub fn sys_clone3(regs: &mut PtRegs, uargs: UserAddr, size: usize) -> KResult<i32> {
    let (args, set_tid) = super::clone3::copy_clone_args_from_user(uargs, size)?;
    super::clone3::clone3_args_valid(&args)?;
    let stack = if args.stack == 0 { 0 } else { args.stack.wrapping_add(args.stack_size) };
    let uargs = UserCloneArgs {
        flags: args.flags,
        exit_signal: args.exit_signal,
        stack,
        parent_tid: args.parent_tid,
        child_tid: args.child_tid,
        tls: args.tls,
        set_tid,
        pidfd: args.pidfd,
    };
    user_clone(regs, uargs)
}

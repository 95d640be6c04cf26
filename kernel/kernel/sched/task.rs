//! The task: one schedulable thread of execution, user process or kernel
//! thread (Linux: `struct task_struct`).
//!
//! Linux: include/linux/sched.h (`task_struct`, the `TASK_*`/`EXIT_*`
//! states, `PF_*` flags, `TASK_COMM_LEN`), include/linux/cred.h (`struct
//! cred`), fs/proc/array.c (`task_state_array`: `ps`'s letters).
//!
//! Tasks are shared through `Arc<Task>`: the run queue, wait queues, the
//! parent's `children` list, `Pid`s (weakly) and the per-CPU `current`
//! each hold one. A task's memory (and its kernel stack) goes when the last
//! reference does, which for a dead task is in the next task's
//! `finish_task_switch` (see arch/x86_64/switch_to.rs).
//!
//! # Locking
//! - `state`, `exit_state`, `flags`, `need_resched`, `on_cpu`, `cpu` are
//!   atomics. `state` changes to and from sleeping states follow Linux's
//!   protocol: the task itself sets a sleeping state, then checks its
//!   condition, then calls `schedule()`; a waker sets `TASK_RUNNING` under
//!   the task's run-queue lock (`try_to_wake_up`).
//! - `sched` is guarded by its own lock, taken only under the task's
//!   run-queue lock (lock order: `RunQueue` → `Task::sched`).
//! - `real_parent`, `parent`, `children`, `group_leader` change only with
//!   `fork::TASKLIST_LOCK` held (Linux: `tasklist_lock`), and each under its
//!   own lock besides; one task lock at a time.
//! - `mm`, `files`, `fs`, `cred`, `comm`: their own locks (Linux:
//!   `task_lock` for the first three).
//! - `sighand`: a leaf lock held only to clone or swap the `Arc`; `signal`
//!   is set once. What they point to has its own locks (kernel/signal/).
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};

use super::wait::WaitQueue;
use crate::arch::switch_to::ThreadStruct;
use crate::fs::fdtable::FdTable;
use crate::fs::fs_struct::FsStruct;
use crate::kernel::errno::KResult;
use crate::kernel::kthread::Kthread;
use crate::kernel::locking::SpinLock;
use crate::kernel::pid::{Pid, PidNamespace, PidType};
use crate::kernel::resource::{RLIM_NLIMITS, Rlimit, init_rlimits};
use crate::kernel::restart_block::RestartBlock;
use crate::kernel::sched::completion::Completion;
use crate::kernel::signal::{GroupSignal, SigHand, ThreadSignal};
use crate::kernel::time::cputime::{GroupCputime, TaskCputime};
use crate::kernel::time::itimer::Itimers;
use crate::kernel::time::posix_timers::PosixTimers;
use crate::mm::mm_types::Mm;

/// Task states (Linux: `task_struct::__state`), with Linux's values.
pub const TASK_RUNNING: u32 = 0x0000;
pub const TASK_INTERRUPTIBLE: u32 = 0x0001;
pub const TASK_UNINTERRUPTIBLE: u32 = 0x0002;
pub const __TASK_STOPPED: u32 = 0x0004;
pub const __TASK_TRACED: u32 = 0x0008;
/// Exit states (Linux: `task_struct::exit_state`).
pub const EXIT_DEAD: u32 = 0x0010;
pub const EXIT_ZOMBIE: u32 = 0x0020;
pub const TASK_PARKED: u32 = 0x0040;
pub const TASK_DEAD: u32 = 0x0080;
pub const TASK_WAKEKILL: u32 = 0x0100;
pub const TASK_NOLOAD: u32 = 0x0400;
pub const TASK_NEW: u32 = 0x0800;
#[allow(dead_code, reason = "killable sleeps, with signals")]
pub const TASK_KILLABLE: u32 = TASK_WAKEKILL | TASK_UNINTERRUPTIBLE;
pub const TASK_STOPPED: u32 = TASK_WAKEKILL | __TASK_STOPPED;
pub const TASK_IDLE: u32 = TASK_UNINTERRUPTIBLE | TASK_NOLOAD;
/// The states `wake_up` wakes (Linux: `TASK_NORMAL`).
pub const TASK_NORMAL: u32 = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;

/// Task flags (Linux: `PF_*`).
pub const PF_IDLE: u32 = 0x0000_0002;
pub const PF_EXITING: u32 = 0x0000_0004;
/// Forked but has not exec'd (setpgid's `EACCES` rule).
pub const PF_FORKNOEXEC: u32 = 0x0000_0040;
pub const PF_KTHREAD: u32 = 0x0020_0000;

/// Length of `comm` with its NUL (Linux: `TASK_COMM_LEN`).
pub const TASK_COMM_LEN: usize = 16;

/// Who a task acts as (Linux: `struct cred`); all zeros is root.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cred {
    pub uid: u32,
    pub gid: u32,
    pub suid: u32,
    pub sgid: u32,
    pub euid: u32,
    pub egid: u32,
    pub fsuid: u32,
    pub fsgid: u32,
}

/// The CFS part of a task's scheduling state (Linux: `struct sched_entity`).
#[derive(Clone, Debug, Default)]
pub struct SchedEntity {
    /// Linux: `load.weight`, from `sched_prio_to_weight`.
    pub weight: u64,
    /// Virtual runtime in ns: runtime scaled by NICE_0_LOAD / weight.
    pub vruntime: u64,
    /// Clock at which the current stretch of running began.
    pub exec_start: u64,
    pub sum_exec_runtime: u64,
    /// `sum_exec_runtime` when last picked (for the slice check).
    pub prev_sum_exec_runtime: u64,
}

/// A task's scheduling parameters and accounting (Linux: the `policy`,
/// `prio`, `static_prio`, `rt_priority`, `se`, `rt` and `cpus_mask` fields
/// of `task_struct`).
#[derive(Clone, Debug)]
pub struct SchedInfo {
    /// `SCHED_NORMAL`, `SCHED_FIFO`, `SCHED_RR`, `SCHED_BATCH`, `SCHED_IDLE`.
    pub policy: u32,
    /// 100..139: 120 + nice.
    pub static_prio: i32,
    /// 1..99 for FIFO/RR, 0 otherwise.
    pub rt_priority: u32,
    /// Effective priority: 0..99 for RT (lower is more urgent), else
    /// `static_prio` (Linux: `prio`, `normal_prio`).
    pub prio: i32,
    pub se: SchedEntity,
    /// Ticks left of an RR timeslice (Linux: `rt.time_slice`).
    pub time_slice: u32,
    /// CPUs the task may run on (Linux: `cpus_mask`).
    pub cpus_allowed: u64,
    /// Children start as SCHED_NORMAL, nice >= 0 (Linux: `sched_reset_on_fork`).
    pub reset_on_fork: bool,
    /// The I/O priority ioprio_set(2) gave, inherited by children
    /// (Linux: `io_context->ioprio`; block/ioprio.rs).
    pub ioprio: u16,
    /// Whether the task is in a class's queue, or running (Linux: `on_rq`).
    pub on_rq: bool,
}

/// What a kernel thread runs (Linux: `kernel_clone_args.fn`).
pub type ThreadFn = Box<dyn FnOnce() -> i32 + Send>;

/// A thread of execution (Linux: `struct task_struct`).
pub struct Task {
    /// A serial number, unique for the kernel's lifetime (not a PID): the
    /// tie-breaker in CFS's tree.
    pub(crate) serial: u64,
    /// PID and thread-group ID in the initial namespace (Linux: `pid`, `tgid`).
    pub pid: i32,
    pub tgid: i32,
    /// Linux: `thread_pid`; the number outlives nothing, the object may.
    pub pid_link: Arc<Pid>,
    comm: SpinLock<[u8; TASK_COMM_LEN]>,
    state: AtomicU32,
    exit_state: AtomicU32,
    pub exit_code: AtomicI32,
    /// Signal sent to the parent at exit; -1 for none (Linux: `exit_signal`).
    pub exit_signal: i32,
    flags: AtomicU32,
    need_resched: AtomicBool,
    /// Whether a CPU is running it or still switching away from it.
    pub(crate) on_cpu: AtomicBool,
    cpu: AtomicU32,
    pub(crate) sched: SpinLock<SchedInfo>,
    /// Voluntary and involuntary context switches (Linux: `nvcsw`, `nivcsw`).
    pub nvcsw: AtomicU64,
    pub nivcsw: AtomicU64,
    /// Page faults resolved without and with disk I/O (Linux: `min_flt`,
    /// `maj_flt`; counted by mm/memory.rs `mm_account_fault`).
    pub min_flt: AtomicU64,
    pub maj_flt: AtomicU64,
    /// User and system time from the tick (Linux: `utime`, `stime`).
    pub cputime: TaskCputime,
    /// `ktime_get_ns()` at creation (Linux: `start_time`).
    #[allow(dead_code, reason = "for /proc/PID/stat")]
    pub start_time: u64,
    pub real_parent: SpinLock<Weak<Task>>,
    /// `real_parent`'s tgid, 0 for none, kept with it (fork, reparent) so
    /// that getppid reads it without a lock (Linux reads it under RCU).
    pub real_parent_tgid: AtomicI32,
    pub parent: SpinLock<Weak<Task>>,
    pub group_leader: SpinLock<Weak<Task>>,
    /// Linux: `children`, threaded through each child's `sibling`.
    pub children: SpinLock<Vec<Arc<Task>>>,
    /// Where a parent waits for children to change state (Linux:
    /// `signal->wait_chldexit`; it moves to `ThreadGroup` with threads).
    pub wait_chldexit: WaitQueue,
    pub thread: ThreadStruct,
    pub mm: SpinLock<Option<Arc<Mm>>>,
    pub files: SpinLock<Option<Arc<FdTable>>>,
    pub fs: SpinLock<Option<Arc<FsStruct>>>,
    /// User address to clear and futex-wake at exit (Linux: `clear_child_tid`).
    pub clear_child_tid: AtomicU64,
    #[allow(dead_code, reason = "CLONE_CHILD_SETTID, wired with clone")]
    pub set_child_tid: AtomicU64,
    /// The user's robust-futex list head (Linux: `robust_list`).
    pub robust_list: AtomicU64,
    /// The rseq(2) registration (Linux: `rseq`, `rseq_len`, `rseq_sig`).
    pub rseq: crate::kernel::rseq::Rseq,
    cred: SpinLock<Cred>,
    /// Supplementary groups, sorted (Linux: `cred->group_info`); apart
    /// from `Cred` so that it stays `Copy`. Inherited at fork.
    groups: SpinLock<Arc<[u32]>>,
    /// Kernel threads made by `kthread_create` (Linux: `set_kthread_struct`).
    pub kthread: Option<Arc<Kthread>>,
    /// The function a new kernel thread runs, taken by `ret_from_fork`.
    pub(crate) thread_fn: SpinLock<Option<ThreadFn>>,
    /// Signal actions, shared with `CLONE_SIGHAND`; exec swaps in a
    /// private copy if shared (Linux: `sighand`).
    pub sighand: SpinLock<Arc<SigHand>>,
    /// The thread group's signal state (Linux: the signal part of
    /// `signal`): set once, by `copy_process` for a `CLONE_THREAD` child
    /// (shared), else made on first use; never replaced.
    pub signal: spin::Once<Arc<GroupSignal>>,
    /// The group's live threads (Linux: `signal->thread_head`): shared by
    /// `CLONE_THREAD`, made on first use, never replaced.
    pub thread_group: spin::Once<Arc<ThreadGroup>>,
    /// This thread's pending signals and masks (Linux: `pending`,
    /// `blocked`, `saved_sigmask`, `TIF_SIGPENDING`).
    pub sigpending: ThreadSignal,
    /// How `restart_syscall` continues a sleep a signal interrupted
    /// (Linux: `restart_block`).
    pub restart_block: RestartBlock,
    /// SIGCHLD's disposition is SIG_IGN, so children reap themselves.
    /// A stand-in until signals are wired (Linux: `sighand->action`).
    pub sigchld_ignored: AtomicBool,
    /// Process group and session (Linux: `signal->pids[PIDTYPE_PGID]`,
    /// `[PIDTYPE_SID]`): links to `Pid`s, so that each PID namespace reads
    /// its own number and a group outlives its leader. The task is on the
    /// `Pid`s' lists while linked (`pid::change_pid`). Inherited at fork,
    /// changed by setpgid/setsid; leaf locks.
    pgrp: SpinLock<Arc<Pid>>,
    session: SpinLock<Arc<Pid>>,
    /// Completed when a `CLONE_VFORK` child execs or exits (Linux:
    /// `vfork_done`).
    pub vfork_done: SpinLock<Option<Arc<Completion>>>,
    /// Where this task's children get their PIDs, if not where its own
    /// came from: after `unshare(CLONE_NEWPID)` (Linux:
    /// `nsproxy->pid_ns_for_children`).
    pub pid_ns_for_children: SpinLock<Option<Arc<PidNamespace>>>,
    /// Its mount and UTS namespaces, `None` for the initial ones (Linux:
    /// `nsproxy`); a leaf lock (kernel/nsproxy.rs).
    pub nsproxy: SpinLock<Option<Arc<crate::kernel::nsproxy::NsProxy>>>,
    /// Signal sent to this task when its parent thread exits (Linux:
    /// `pdeath_signal`, prctl `PR_SET_PDEATHSIG`); 0 for none.
    pub pdeath_signal: AtomicI32,
    /// prctl `PR_SET_NO_NEW_PRIVS` (Linux: `PFA_NO_NEW_PRIVS`); inherited.
    pub no_new_privs: AtomicBool,
    /// personality(2)'s execution domain (Linux: `personality`); inherited.
    pub personality: AtomicU32,
    /// The group leader's PID, taken over when this thread exec'd while
    /// another led the group: it is the TID from then on (Linux:
    /// `exchange_tids` in `de_thread`); `pid`/`pid_link` keep the old one.
    pub exec_pid: spin::Once<Arc<Pid>>,
}

/// The live threads of a thread group, leader included while it lives
/// (Linux: `signal->thread_head` and `signal->live`); empty while the
/// group never had a second thread. Changed under `fork::TASKLIST_LOCK`.
pub struct ThreadGroup {
    pub threads: SpinLock<Vec<Weak<Task>>>,
    /// A thread other than the leader has exec'd (`exit::de_thread`): the
    /// leader's zombie stands for it and reports its exit status.
    pub exec_by_thread: AtomicBool,
    /// prctl `PR_SET_CHILD_SUBREAPER`: orphaned descendants come here
    /// rather than to the namespace's init (Linux: `is_child_subreaper`).
    pub is_child_subreaper: AtomicBool,
    /// prctl `PR_SET_DUMPABLE`: 0 or 1, reset to 1 by exec (Linux: the
    /// `MMF_DUMPABLE` bits of `mm->flags`).
    pub dumpable: AtomicU32,
    /// The group's CPU times and its reaped children's (Linux: `utime`,
    /// `cutime`… of `signal_struct`).
    pub cputime: GroupCputime,
    /// `ITIMER_REAL`/`VIRTUAL`/`PROF` (Linux: `real_timer`, `it[]`).
    pub itimers: Itimers,
    /// Linux: `signal->posix_timers`.
    pub posix_timers: PosixTimers,
    /// Resource limits, one set for all threads (Linux: `signal->rlim`).
    pub rlim: SpinLock<[Rlimit; RLIM_NLIMITS]>,
}

impl Default for ThreadGroup {
    fn default() -> Self {
        Self {
            threads: SpinLock::new(Vec::new()),
            exec_by_thread: AtomicBool::new(false),
            is_child_subreaper: AtomicBool::new(false),
            dumpable: AtomicU32::new(1),
            cputime: GroupCputime::default(),
            itimers: Itimers::default(),
            posix_timers: PosixTimers::default(),
            rlim: SpinLock::new(init_rlimits()),
        }
    }
}

/// Everything `Task::new` needs that differs between tasks.
pub struct TaskInit {
    pub pid_link: Arc<Pid>,
    pub tgid: Option<i32>,
    pub comm: [u8; TASK_COMM_LEN],
    pub state: u32,
    pub flags: u32,
    pub exit_signal: i32,
    pub sched: SchedInfo,
    pub thread: ThreadStruct,
    pub cred: Cred,
    pub kthread: Option<Arc<Kthread>>,
    pub thread_fn: Option<ThreadFn>,
}

static NEXT_SERIAL: AtomicU64 = AtomicU64::new(0);

#[allow(dead_code, reason = "accessors for the syscalls and /proc, wired by the integration step")]
impl Task {
    pub fn new(init: TaskInit) -> Self {
        let pid = init.pid_link.nr();
        Self {
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
            pid,
            tgid: init.tgid.unwrap_or(pid),
            pid_link: init.pid_link,
            comm: SpinLock::new(init.comm),
            state: AtomicU32::new(init.state),
            exit_state: AtomicU32::new(0),
            exit_code: AtomicI32::new(0),
            exit_signal: init.exit_signal,
            flags: AtomicU32::new(init.flags),
            need_resched: AtomicBool::new(false),
            on_cpu: AtomicBool::new(false),
            cpu: AtomicU32::new(0),
            sched: SpinLock::new(init.sched),
            nvcsw: AtomicU64::new(0),
            nivcsw: AtomicU64::new(0),
            min_flt: AtomicU64::new(0),
            maj_flt: AtomicU64::new(0),
            cputime: TaskCputime::default(),
            start_time: crate::kernel::time::ktime_get_ns(),
            real_parent: SpinLock::new(Weak::new()),
            real_parent_tgid: AtomicI32::new(0),
            parent: SpinLock::new(Weak::new()),
            group_leader: SpinLock::new(Weak::new()),
            children: SpinLock::new(Vec::new()),
            wait_chldexit: WaitQueue::new(),
            thread: init.thread,
            mm: SpinLock::new(None),
            files: SpinLock::new(None),
            fs: SpinLock::new(None),
            clear_child_tid: AtomicU64::new(0),
            set_child_tid: AtomicU64::new(0),
            robust_list: AtomicU64::new(0),
            rseq: crate::kernel::rseq::Rseq::default(),
            cred: SpinLock::new(init.cred),
            groups: SpinLock::new(Arc::default()),
            kthread: init.kthread,
            thread_fn: SpinLock::new(init.thread_fn),
            sigchld_ignored: AtomicBool::new(false),
            restart_block: RestartBlock::new(),
            sighand: SpinLock::new(Arc::new(SigHand::new())),
            signal: spin::Once::new(),
            thread_group: spin::Once::new(),
            sigpending: ThreadSignal::new(),
            pgrp: SpinLock::new(crate::kernel::pid::init_struct_pid()),
            session: SpinLock::new(crate::kernel::pid::init_struct_pid()),
            vfork_done: SpinLock::new(None),
            pid_ns_for_children: SpinLock::new(None),
            nsproxy: SpinLock::new(None),
            pdeath_signal: AtomicI32::new(0),
            no_new_privs: AtomicBool::new(false),
            personality: AtomicU32::new(0),
            exec_pid: spin::Once::new(),
        }
    }

    /// The thread group this task belongs to.
    pub fn thread_group(&self) -> &Arc<ThreadGroup> {
        self.thread_group.call_once(|| Arc::new(ThreadGroup::default()))
    }

    /// Whether the task leads its thread group (Linux: `thread_group_leader`).
    pub fn is_group_leader(&self) -> bool {
        self.pid == self.tgid
    }

    /// Every live thread of the group; just `self` for a lone thread
    /// (Linux: `for_each_thread`). Copied out: no lock is held for the caller.
    pub fn threads(self: &Arc<Self>) -> Vec<Arc<Task>> {
        let list: Vec<Arc<Task>> =
            self.thread_group().threads.lock().iter().filter_map(Weak::upgrade).collect();
        if list.is_empty() { alloc::vec![self.clone()] } else { list }
    }

    /// Whose `wait_chldexit` the group's `wait4` sleepers use: the
    /// leader's, since any thread may wait for a child of another (Linux:
    /// one `signal->wait_chldexit` per group).
    pub fn chldexit_owner(self: &Arc<Self>) -> Arc<Task> {
        self.group_leader.lock().upgrade().unwrap_or_else(|| self.clone())
    }

    /// A leader that exited while other threads live: its parent may not
    /// reap it yet (Linux: `delay_group_leader`).
    pub fn delay_group_leader(&self) -> bool {
        self.is_group_leader()
            && self.exit_state() == EXIT_ZOMBIE
            && !self.thread_group().threads.lock().is_empty()
    }

    /// The process group ID in the initial namespace (Linux:
    /// `task_pgrp_nr`); stays valid while the group has members.
    pub fn pgrp(&self) -> i32 {
        self.pgrp.lock().nr()
    }

    /// The session ID in the initial namespace (Linux: `task_session_nr`).
    pub fn session(&self) -> i32 {
        self.session.lock().nr()
    }

    /// The process group (Linux: `task_pgrp`).
    pub fn task_pgrp(&self) -> Arc<Pid> {
        self.pgrp.lock().clone()
    }

    /// The session (Linux: `task_session`).
    pub fn task_session(&self) -> Arc<Pid> {
        self.session.lock().clone()
    }

    /// Moves the task to process group `pgrp`; call with `TASKLIST_LOCK`
    /// (Linux: `change_pid(p, PIDTYPE_PGID, pgrp)`).
    pub fn set_pgrp(self: &Arc<Self>, pgrp: Arc<Pid>) -> KResult<()> {
        crate::kernel::pid::change_pid(self, &self.pgrp, PidType::Pgid, pgrp)
    }

    /// Moves the task to session `sid`; call with `TASKLIST_LOCK`.
    pub fn set_session(self: &Arc<Self>, sid: Arc<Pid>) -> KResult<()> {
        crate::kernel::pid::change_pid(self, &self.session, PidType::Sid, sid)
    }

    /// Unlinks the process group and session of a task being released
    /// (Linux: the `detach_pid(PIDTYPE_PGID/SID)` of `__unhash_process`).
    pub fn detach_pgrp_session(&self) {
        crate::kernel::pid::detach_pid(self, &self.task_pgrp(), PidType::Pgid);
        crate::kernel::pid::detach_pid(self, &self.task_session(), PidType::Sid);
    }

    /// The process's resource limits, shared by its threads (Linux:
    /// `tsk->signal->rlim`). Not before `copy_process` has joined a new
    /// thread to its group: the first use makes the group.
    pub fn rlim(&self) -> &SpinLock<[Rlimit; RLIM_NLIMITS]> {
        &self.thread_group().rlim
    }

    /// One resource limit (Linux: `task_rlimit`).
    pub fn rlimit(&self, resource: usize) -> Rlimit {
        self.rlim().lock().get(resource).copied().unwrap_or_default()
    }

    /// Linux: `READ_ONCE(p->__state)`.
    pub fn state(&self) -> u32 {
        self.state.load(Ordering::Acquire)
    }

    /// Sets the state; SeqCst so that a sleeper's later check of its wait
    /// condition cannot move before it (Linux: `set_current_state`'s
    /// `smp_store_mb`).
    pub fn set_state(&self, state: u32) {
        self.state.store(state, Ordering::SeqCst);
    }

    pub fn exit_state(&self) -> u32 {
        self.exit_state.load(Ordering::Acquire)
    }

    pub(crate) fn set_exit_state(&self, state: u32) {
        self.exit_state.store(state, Ordering::Release);
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    pub fn set_flags(&self, set: u32) {
        self.flags.fetch_or(set, Ordering::Relaxed);
    }

    pub fn clear_flags(&self, clear: u32) {
        self.flags.fetch_and(!clear, Ordering::Relaxed);
    }

    /// Whether this is a kernel thread (no user context; Linux: `PF_KTHREAD`).
    pub fn is_kthread(&self) -> bool {
        self.flags() & PF_KTHREAD != 0
    }

    pub fn is_idle(&self) -> bool {
        self.flags() & PF_IDLE != 0
    }

    /// Linux: `test_tsk_need_resched`.
    pub fn need_resched(&self) -> bool {
        self.need_resched.load(Ordering::Relaxed)
    }

    pub(crate) fn set_need_resched(&self, on: bool) {
        self.need_resched.store(on, Ordering::Relaxed);
    }

    /// The CPU whose run queue the task belongs to (Linux: `task_cpu`).
    pub fn cpu(&self) -> usize {
        self.cpu.load(Ordering::Relaxed) as usize
    }

    /// The command name (Linux: `get_task_comm`).
    pub fn comm(&self) -> [u8; TASK_COMM_LEN] {
        *self.comm.lock()
    }

    /// [`Self::comm`] for an oops or backtrace, which must not wait on a
    /// lock the crashed code may hold: `None` if it is taken.
    pub fn try_comm(&self) -> Option<[u8; TASK_COMM_LEN]> {
        self.comm.try_lock().map(|comm| *comm)
    }

    /// Linux: `set_task_comm`; truncates to 15 bytes, as Linux does.
    pub fn set_comm(&self, name: &[u8]) {
        *self.comm.lock() = comm_from(name);
    }

    pub fn cred(&self) -> Cred {
        *self.cred.lock()
    }

    pub fn set_cred(&self, cred: Cred) {
        *self.cred.lock() = cred;
    }

    /// The supplementary group list (Linux: `current_cred()->group_info`).
    pub fn groups(&self) -> Arc<[u32]> {
        self.groups.lock().clone()
    }

    pub fn set_groups(&self, groups: Arc<[u32]>) {
        *self.groups.lock() = groups;
    }

    /// The nice value, -20..19 (Linux: `task_nice`).
    pub fn nice(&self) -> i32 {
        self.sched.lock().static_prio - super::DEFAULT_PRIO
    }

    pub fn policy(&self) -> u32 {
        self.sched.lock().policy
    }

    /// Nanoseconds the task has run (Linux: `se.sum_exec_runtime`).
    pub fn sum_exec_runtime(&self) -> u64 {
        self.sched.lock().se.sum_exec_runtime
    }

    /// `ps`'s state letter (Linux: `task_state_to_char`).
    pub fn state_char(&self) -> char {
        task_state_char(self.state(), self.exit_state())
    }

    /// The parent's PID in the initial namespace, 0 for none (Linux:
    /// `task_ppid_nr`).
    pub fn ppid(&self) -> i32 {
        self.real_parent_tgid.load(Ordering::Relaxed)
    }
}

/// Linux: fs/proc/array.c `task_state_array`, indexed as `task_state_index`.
pub fn task_state_char(state: u32, exit_state: u32) -> char {
    if exit_state & EXIT_ZOMBIE != 0 {
        return 'Z';
    }
    if exit_state & EXIT_DEAD != 0 || state & TASK_DEAD != 0 {
        return 'X';
    }
    match state {
        TASK_RUNNING => 'R',
        TASK_IDLE => 'I',
        s if s & TASK_INTERRUPTIBLE != 0 => 'S',
        s if s & TASK_UNINTERRUPTIBLE != 0 => 'D',
        s if s & __TASK_STOPPED != 0 => 'T',
        s if s & __TASK_TRACED != 0 => 't',
        s if s & TASK_PARKED != 0 => 'P',
        _ => 'R',
    }
}

/// A NUL-padded command name of at most 15 bytes.
pub fn comm_from(name: &[u8]) -> [u8; TASK_COMM_LEN] {
    let mut comm = [0u8; TASK_COMM_LEN];
    let n = name.len().min(TASK_COMM_LEN - 1);
    comm[..n].copy_from_slice(&name[..n]);
    comm
}

/// The bytes of `comm` up to its NUL, as text.
#[allow(dead_code, reason = "for /proc and oops headers")]
pub fn comm_str(comm: &[u8; TASK_COMM_LEN]) -> &str {
    let end = comm.iter().position(|&b| b == 0).unwrap_or(TASK_COMM_LEN);
    core::str::from_utf8(&comm[..end]).unwrap_or("?")
}

/// Whether `task` has a signal pending that should interrupt a sleep
/// (Linux: `signal_pending`, the `TIF_SIGPENDING` test).
pub fn signal_pending(task: &Task) -> bool {
    task.sigpending.signal_pending()
}

/// Whether a sleep in `state` is to be broken by a pending signal: any
/// signal ends an interruptible sleep, only SIGKILL a killable one or a
/// stop (Linux: `signal_pending_state`).
pub fn signal_pending_state(state: u32, task: &Task) -> bool {
    if state & (TASK_INTERRUPTIBLE | TASK_WAKEKILL) == 0 || !signal_pending(task) {
        return false;
    }
    state & TASK_INTERRUPTIBLE != 0 || task.sigpending.fatal_signal_pending()
}

crate::ktest!(task_state_letters_as_ps, {
    crate::kassert!(task_state_char(TASK_RUNNING, 0) == 'R', "R");
    crate::kassert!(task_state_char(TASK_INTERRUPTIBLE, 0) == 'S', "S");
    crate::kassert!(task_state_char(TASK_UNINTERRUPTIBLE, 0) == 'D', "D");
    crate::kassert!(task_state_char(TASK_STOPPED, 0) == 'T', "T");
    crate::kassert!(task_state_char(__TASK_TRACED, 0) == 't', "t");
    crate::kassert!(task_state_char(TASK_DEAD, EXIT_ZOMBIE) == 'Z', "Z");
    crate::kassert!(task_state_char(TASK_DEAD, EXIT_DEAD) == 'X', "X");
    crate::kassert!(task_state_char(TASK_IDLE, 0) == 'I', "I");
    Ok(())
});

//! The core scheduler: per-CPU run queues, `schedule()`, wakeups, the
//! tick, and preemption.
//!
//! Linux: kernel/sched/core.c (`__schedule`, `context_switch`,
//! `finish_task_switch`, `try_to_wake_up`, `wake_up_new_task`,
//! `scheduler_tick`, `preempt_schedule_irq`, `sched_fork`, `sched_init`,
//! `init_idle`), kernel/sched/sched.h (`struct rq`, `struct sched_class`).
//!
//! `__schedule` takes the run-queue lock, deactivates the previous task if
//! it is going to sleep (unless this is a preemption: a task preempted
//! between setting its sleeping state and calling `schedule()` stays
//! runnable, as with Linux's `SM_PREEMPT`), asks the classes for the next
//! task, and drops the lock before the switch with interrupts still off.
//! With per-CPU queues nothing else can run `prev` before the switch is
//! over: only this CPU picks from this queue. (Load balancing will need
//! `on_cpu`, set here and cleared in `finish_task_switch`, as Linux's
//! `try_to_wake_up` spins on it before migrating a task.)
//!
//! # Locking
//! Each `RunQueue` is behind an IRQ-safe spinlock; lock order
//! `WaitQueue` → `RunQueue` → `Task::sched`. No task's last reference is
//! dropped under the lock (dropping frees the stack, which takes vmalloc's
//! lock, outermost in the list): the queues hand tasks back, or the
//! per-CPU `current` keeps them alive until `finish_task_switch`.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use bitflags::bitflags;

use super::fair::{self, CfsRunQueue};
use super::idle::IdleSchedClass;
use super::rt::{RR_TIMESLICE, RtRunQueue};
use super::task::{
    Cred, PF_IDLE, PF_KTHREAD, SchedInfo, TASK_NEW, TASK_RUNNING, Task, TaskInit, comm_from,
    signal_pending_state,
};
use super::{DEFAULT_PRIO, MAX_RT_PRIO, rt_policy};
use crate::arch::irqflags::{
    IrqFlags, irqs_disabled, local_irq_enable, local_irq_restore, local_irq_save,
};
use crate::arch::percpu::{NR_CPUS, this_cpu};
use crate::arch::ptrace::PtRegs;
use crate::arch::switch_to::{ThreadStruct, switch_to, take_last_task};
use crate::kernel::locking::SpinLock;

bitflags! {
    /// Why a task is queued (Linux: `ENQUEUE_*`).
    #[derive(Clone, Copy, Debug)]
    pub struct EnqueueFlags: u32 {
        const WAKEUP = 0x01;
        const RESTORE = 0x02;
        const HEAD = 0x10;
        const INITIAL = 0x80;
    }

    /// Why a task leaves its queue (Linux: `DEQUEUE_*`).
    #[derive(Clone, Copy, Debug)]
    pub struct DequeueFlags: u32 {
        const SLEEP = 0x01;
        const SAVE = 0x02;
    }
}

/// A family of scheduling policies (Linux: `struct sched_class`).
///
/// # Locking
/// Called with the CPU's run-queue lock held and interrupts disabled.
pub trait SchedClass {
    /// Makes `task` runnable in this class.
    fn enqueue_task(&mut self, task: Arc<Task>, flags: EnqueueFlags);
    fn dequeue_task(&mut self, task: &Task, flags: DequeueFlags);
    /// The running task stops running (it may stay runnable).
    fn put_prev_task(&mut self, prev: &Arc<Task>);
    /// `task` becomes the running task of this class.
    fn set_next_task(&mut self, task: &Arc<Task>);
    /// Chooses and starts the next task, if the class has one.
    fn pick_next_task(&mut self) -> Option<Arc<Task>>;
    /// Charges one tick to `curr`; returns whether it should be preempted.
    fn task_tick(&mut self, curr: &Task) -> bool;
    /// `curr` gives up the CPU to its peers (Linux: `yield_task`).
    fn yield_task(&mut self, curr: &Task);
    /// Whether the woken `task` should preempt `curr`, both of this class.
    fn check_preempt_curr(&mut self, curr: &Task, woken: &Task) -> bool;
}

/// The classes, most urgent first (Linux: the `sched_class` link order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ClassId {
    Rt,
    Fair,
    Idle,
}

fn class_id(task: &Task) -> ClassId {
    if task.flags() & PF_IDLE != 0 {
        ClassId::Idle
    } else if rt_policy(task.sched.lock().policy) {
        ClassId::Rt
    } else {
        ClassId::Fair
    }
}

/// One CPU's run queue (Linux: `struct rq`).
pub struct RunQueue {
    nr_running: u32,
    nr_switches: u64,
    /// Nanoseconds, updated at each scheduling event (Linux: `rq->clock`).
    clock: u64,
    /// The running task, `None` before `sched_init`.
    curr: Option<Arc<Task>>,
    pub(super) cfs: CfsRunQueue,
    pub(super) rt: RtRunQueue,
    idle: IdleSchedClass,
}

static RUNQUEUES: [SpinLock<RunQueue>; NR_CPUS] =
    [const { SpinLock::new(RunQueue::new()) }; NR_CPUS];

/// Linux: `cpu_rq`.
pub(super) fn cpu_rq(cpu: usize) -> &'static SpinLock<RunQueue> {
    &RUNQUEUES[cpu.min(NR_CPUS - 1)]
}

/// Linux: `this_rq`.
pub(super) fn this_rq() -> &'static SpinLock<RunQueue> {
    cpu_rq(this_cpu().cpu())
}

impl RunQueue {
    const fn new() -> Self {
        Self {
            nr_running: 0,
            nr_switches: 0,
            clock: 0,
            curr: None,
            cfs: CfsRunQueue::new(),
            rt: RtRunQueue::new(),
            idle: IdleSchedClass::new(),
        }
    }

    fn class(&mut self, id: ClassId) -> &mut dyn SchedClass {
        match id {
            ClassId::Rt => &mut self.rt,
            ClassId::Fair => &mut self.cfs,
            ClassId::Idle => &mut self.idle,
        }
    }

    /// Linux: `update_rq_clock`.
    pub(super) fn update_rq_clock(&mut self) {
        self.clock = crate::kernel::time::ktime_get_ns().max(self.clock);
        self.cfs.clock = self.clock;
        self.rt.clock = self.clock;
    }

    pub(super) fn curr(&self) -> Option<&Arc<Task>> {
        self.curr.as_ref()
    }

    pub(super) fn is_curr(&self, task: &Task) -> bool {
        self.curr.as_ref().is_some_and(|c| core::ptr::eq(Arc::as_ptr(c), task))
    }

    /// Linux: `activate_task` → `enqueue_task`.
    pub(super) fn activate_task(&mut self, task: Arc<Task>, flags: EnqueueFlags) {
        task.sched.lock().on_rq = true;
        self.nr_running += 1;
        self.class(class_id(&task)).enqueue_task(task, flags);
    }

    /// Linux: `deactivate_task` → `dequeue_task`.
    pub(super) fn deactivate_task(&mut self, task: &Task, flags: DequeueFlags) {
        task.sched.lock().on_rq = false;
        self.nr_running = self.nr_running.saturating_sub(1);
        self.class(class_id(task)).dequeue_task(task, flags);
    }

    /// Real-time first, then CFS, then idle (Linux: `__pick_next_task`).
    fn pick_next_task(&mut self, prev: &Arc<Task>) -> Option<Arc<Task>> {
        self.class(class_id(prev)).put_prev_task(prev);
        self.rt
            .pick_next_task()
            .or_else(|| self.cfs.pick_next_task())
            .or_else(|| self.idle.pick_next_task())
    }

    /// Marks the running task for rescheduling (Linux: `resched_curr`).
    pub(super) fn resched_curr(&self) {
        if let Some(curr) = &self.curr {
            curr.set_need_resched(true);
        }
    }

    /// The running task yields to its class's peers (Linux: `yield_task`).
    pub(super) fn yield_curr(&mut self, curr: &Arc<Task>) {
        self.class(class_id(curr)).yield_task(curr);
    }

    /// Whether a woken or new `task` should preempt the running one (Linux:
    /// `check_preempt_curr`): a more urgent class always does.
    pub(super) fn check_preempt_curr(&mut self, task: &Task) {
        let Some(curr) = self.curr.clone() else { return };
        let (curr_id, id) = (class_id(&curr), class_id(task));
        let preempt = match id.cmp(&curr_id) {
            core::cmp::Ordering::Less => true,
            core::cmp::Ordering::Equal => self.class(id).check_preempt_curr(&curr, task),
            core::cmp::Ordering::Greater => false,
        };
        if preempt {
            curr.set_need_resched(true);
        }
    }

    /// Changes a task's scheduling parameters with the task off its queue
    /// and, if running, put back as running after (Linux: the
    /// `queued`/`running` dance of `__sched_setscheduler`).
    pub(super) fn change_sched(&mut self, task: &Arc<Task>, change: impl FnOnce(&mut SchedInfo)) {
        self.update_rq_clock();
        let queued = task.sched.lock().on_rq;
        let running = self.is_curr(task);
        if running {
            self.class(class_id(task)).put_prev_task(task);
        }
        if queued {
            self.deactivate_task(task, DequeueFlags::SAVE);
        }
        change(&mut task.sched.lock());
        if queued {
            self.activate_task(task.clone(), EnqueueFlags::RESTORE);
        }
        if running {
            self.class(class_id(task)).set_next_task(task);
            self.resched_curr();
        } else if queued {
            self.check_preempt_curr(task);
        }
    }
}

/// The running task (Linux: `current`). Panics before `sched_init`, which
/// runs before anything that could ask.
pub fn current() -> Arc<Task> {
    crate::arch::current::get_current().expect("current before sched_init")
}

/// The running task, or `None` before `sched_init`.
#[allow(dead_code, reason = "for printk and oops headers")]
pub fn try_current() -> Option<Arc<Task>> {
    crate::arch::current::get_current()
}

/// Whether the running task should give up the CPU (Linux: `need_resched`).
pub fn need_resched() -> bool {
    crate::arch::current::with_current(|t| t.is_some_and(Task::need_resched))
}

/// Whether the running code may be preempted now (Linux: `preemptible`).
fn preemptible() -> bool {
    this_cpu().preempt_count() == 0 && !irqs_disabled()
}

/// The heart of the scheduler (Linux: `__schedule`). `preempt` says the
/// task is being preempted rather than going to sleep.
fn __schedule(preempt: bool) {
    let flags = local_irq_save();
    let next = {
        let mut rq = this_rq().lock();
        let Some(prev) = rq.curr.clone() else {
            drop(rq);
            local_irq_restore(flags);
            return;
        };
        rq.update_rq_clock();
        prev.set_need_resched(false);
        let state = prev.state();
        let sleeping = !preempt && state != TASK_RUNNING;
        if sleeping {
            if signal_pending_state(state, &prev) {
                prev.set_state(TASK_RUNNING);
            } else {
                rq.deactivate_task(&prev, DequeueFlags::SLEEP);
            }
        }
        let next = rq.pick_next_task(&prev).unwrap_or_else(|| prev.clone());
        if Arc::ptr_eq(&next, &prev) {
            None
        } else {
            let counter = if sleeping { &prev.nvcsw } else { &prev.nivcsw };
            counter.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            // Linux: `rseq_preempt` in `prepare_task_switch`.
            prev.rseq.notify();
            rq.nr_switches += 1;
            next.on_cpu.store(true, core::sync::atomic::Ordering::Release);
            rq.curr = Some(next.clone());
            crate::kernel::trace::events::sched::trace_sched_switch(preempt, &prev, &next, state);
            Some(next)
        }
    };
    context_switch(next, flags);
}

/// Switches to `next` if any, finishes, and restores `flags` (Linux:
/// `context_switch`). `prev`'s last reference, if this was it, is dropped
/// here on `next`'s stack, with interrupts back on.
fn context_switch(next: Option<Arc<Task>>, flags: IrqFlags) {
    let last = next.and_then(|next| {
        switch_mm_for(&next);
        switch_to(next);
        finish_task_switch()
    });
    local_irq_restore(flags);
    drop(last);
}

/// Loads `next`'s address space (Linux: the `switch_mm_irqs_off` of
/// `context_switch`). A task without one (a kernel thread) gets the
/// kernel's table rather than borrowing the last one lazily, so that an
/// `Mm` is never loaded on a CPU after its owner dropped it.
fn switch_mm_for(next: &Task) {
    match next.mm.lock().as_ref() {
        Some(mm) => mm.activate(),
        None => crate::arch::mm::mmu_context::switch_to_kernel_mm(),
    }
}

/// The first thing after a switch, on the new task's stack (Linux:
/// `finish_task_switch`): `prev` is off the CPU; its reference is returned
/// to be dropped once interrupts are on again.
fn finish_task_switch() -> Option<Arc<Task>> {
    let prev = take_last_task()?;
    prev.on_cpu.store(false, core::sync::atomic::Ordering::Release);
    Some(prev)
}

/// A new task's first call, from `ret_from_fork` with interrupts off
/// (Linux: `schedule_tail`).
pub fn schedule_tail() {
    let last = finish_task_switch();
    local_irq_enable();
    drop(last);
}

/// Gives up the CPU; a task that set a sleeping state sleeps until woken
/// (Linux: `schedule`).
pub fn schedule() {
    if this_cpu().preempt_count() != 0 {
        crate::pr_err!(
            "BUG: scheduling while atomic: preempt_count {:#x}",
            this_cpu().preempt_count()
        );
    }
    __schedule(false);
}

/// The idle task's way into the scheduler (Linux: `schedule_idle`).
pub(super) fn schedule_idle() {
    __schedule(false);
}

/// Reschedules if asked to and allowed to (Linux: `preempt_schedule` at
/// the end of `preempt_enable`). Called after wakeups.
pub fn preempt_check_resched() {
    if need_resched() && preemptible() {
        __schedule(true);
    }
}

/// A voluntary preemption point in long kernel loops (Linux: `cond_resched`).
#[allow(dead_code, reason = "API for long kernel loops")]
pub fn cond_resched() {
    preempt_check_resched();
}

/// Linux: `preempt_disable`; nests.
pub fn preempt_disable() {
    this_cpu().preempt_count_add(1);
}

/// Linux: `preempt_enable`: the outermost one reschedules if needed.
pub fn preempt_enable() {
    this_cpu().preempt_count_sub(1);
    preempt_check_resched();
}

/// Preempts on the way out of an interrupt (Linux: `irqentry_exit` →
/// `preempt_schedule_irq`): only if the interrupted code had interrupts
/// on and was not in a `preempt_disable` section or another handler.
/// Called with interrupts off, after `irq_exit`; they stay off.
pub fn irqentry_exit_cond_resched(regs: &PtRegs) {
    const X86_EFLAGS_IF: u64 = 1 << 9;
    if regs.eflags & X86_EFLAGS_IF == 0 || this_cpu().preempt_count() != 0 {
        return;
    }
    while need_resched() {
        __schedule(true);
    }
}

/// Wakes `p` if its state is in `state` (Linux: `try_to_wake_up`);
/// returns whether it did. The caller runs `preempt_check_resched()`
/// once it holds no lock.
pub fn try_to_wake_up(p: &Arc<Task>, state: u32) -> bool {
    let mut rq = cpu_rq(p.cpu()).lock();
    if p.state() & state == 0 {
        return false;
    }
    p.set_state(TASK_RUNNING);
    if !p.sched.lock().on_rq {
        rq.update_rq_clock();
        rq.activate_task(p.clone(), EnqueueFlags::WAKEUP);
    }
    rq.check_preempt_curr(p);
    crate::kernel::trace::events::sched::trace_sched_wakeup(p);
    true
}

/// Wakes a sleeping task (Linux: `wake_up_process`).
pub fn wake_up_process(p: &Arc<Task>) -> bool {
    let woken = try_to_wake_up(p, super::task::TASK_NORMAL);
    preempt_check_resched();
    woken
}

/// Puts a new task on its run queue for the first time (Linux:
/// `wake_up_new_task`).
pub fn wake_up_new_task(p: &Arc<Task>) {
    {
        let mut rq = cpu_rq(p.cpu()).lock();
        if p.state() != TASK_NEW {
            return;
        }
        p.set_state(TASK_RUNNING);
        rq.update_rq_clock();
        rq.activate_task(p.clone(), EnqueueFlags::INITIAL);
        rq.check_preempt_curr(p);
        crate::kernel::trace::events::sched::trace_sched_wakeup_new(p);
    }
    preempt_check_resched();
}

/// A child's scheduling state, inherited from `parent` (Linux:
/// `sched_fork`, `task_fork_fair`).
pub fn sched_fork(parent: &Task) -> SchedInfo {
    let mut s = parent.sched.lock().clone();
    if s.reset_on_fork {
        if rt_policy(s.policy) {
            s.policy = linux_raw_sys::general::SCHED_NORMAL;
            s.rt_priority = 0;
        }
        s.static_prio = s.static_prio.max(DEFAULT_PRIO);
        s.reset_on_fork = false;
    }
    s.prio = effective_prio(&s);
    s.se = fair::init_entity(s.static_prio, s.policy);
    s.time_slice = RR_TIMESLICE;
    s.on_rq = false;
    let mut rq = this_rq().lock();
    rq.update_rq_clock();
    rq.cfs.task_fork(&mut s.se);
    s
}

/// `prio` from policy and parameters (Linux: `normal_prio`).
pub(super) fn effective_prio(s: &SchedInfo) -> i32 {
    if rt_policy(s.policy) {
        MAX_RT_PRIO - 1 - i32::try_from(s.rt_priority).unwrap_or(0)
    } else {
        s.static_prio
    }
}

/// The tick's work for the scheduler on this CPU, in interrupt context
/// (Linux: `scheduler_tick`).
pub fn scheduler_tick() {
    let mut rq = this_rq().lock();
    let Some(curr) = rq.curr.clone() else { return };
    rq.update_rq_clock();
    if rq.class(class_id(&curr)).task_tick(&curr) {
        curr.set_need_resched(true);
    }
}

/// A fresh `SchedInfo` for nice 0, SCHED_NORMAL (Linux: `init_task`'s).
fn default_sched_info() -> SchedInfo {
    SchedInfo {
        policy: linux_raw_sys::general::SCHED_NORMAL,
        static_prio: DEFAULT_PRIO,
        rt_priority: 0,
        prio: DEFAULT_PRIO,
        se: fair::init_entity(DEFAULT_PRIO, linux_raw_sys::general::SCHED_NORMAL),
        time_slice: RR_TIMESLICE,
        cpus_allowed: 1 << this_cpu().cpu(),
        reset_on_fork: false,
        ioprio: crate::block::ioprio::IOPRIO_DEFAULT,
        on_rq: false,
    }
}

/// Makes the code running on this CPU its idle task, PID 0, `swapper/N`
/// (Linux: `init_idle`).
fn init_idle(cpu: usize) -> Arc<Task> {
    let mut name = [0u8; 16];
    let mut w = crate::kernel::printk::LineBuf::<16>::new();
    let _ = core::fmt::Write::write_fmt(&mut w, format_args!("swapper/{cpu}"));
    name.copy_from_slice(&comm_from(w.as_bytes()));
    Arc::new(Task::new(TaskInit {
        pid_link: crate::kernel::pid::init_struct_pid(),
        tgid: None,
        comm: name,
        state: TASK_RUNNING,
        flags: PF_IDLE | PF_KTHREAD,
        exit_signal: -1,
        sched: default_sched_info(),
        thread: ThreadStruct::for_boot_stack(),
        cred: Cred::default(),
        kthread: None,
        thread_fn: None,
    }))
}

/// Sets up this CPU's run queue with the running code as its idle task
/// (Linux: `sched_init`). Call once, with interrupts off, after the
/// allocator and before anything sleeps or asks for `current`.
pub fn sched_init() {
    let cpu = this_cpu().cpu();
    let idle = init_idle(cpu);
    idle.on_cpu.store(true, core::sync::atomic::Ordering::Relaxed);
    {
        let mut rq = cpu_rq(cpu).lock();
        rq.idle.idle = Some(idle.clone());
        rq.curr = Some(idle.clone());
        rq.update_rq_clock();
    }
    crate::arch::current::set_initial_current(idle);
}

/// What /proc/sched_debug shows of one CPU's run queue (Linux: the
/// fields `print_cpu`, `print_cfs_rq` and `print_rt_rq` read).
pub struct RqDebug {
    pub nr_running: u32,
    pub nr_switches: u64,
    /// Nanoseconds (Linux: `rq->clock`).
    pub clock: u64,
    /// The running task, the idle task included.
    pub curr: Option<Arc<Task>>,
    pub cfs: fair::CfsRqDebug,
    pub rt_nr_running: u32,
}

/// Copies out `cpu`'s run-queue figures under its lock; the task
/// references are dropped by the caller, after the lock.
pub fn rq_debug(cpu: usize) -> RqDebug {
    let rq = cpu_rq(cpu).lock();
    RqDebug {
        nr_running: rq.nr_running,
        nr_switches: rq.nr_switches,
        clock: rq.clock,
        curr: rq.curr.clone(),
        cfs: rq.cfs.debug(),
        rt_nr_running: rq.rt.nr_running(),
    }
}

/// Counters for /proc/stat-style reporting: (running, context switches).
#[allow(dead_code, reason = "for /proc/stat and /proc/loadavg")]
pub fn nr_running_and_switches() -> (u32, u64) {
    let rq = this_rq().lock();
    (rq.nr_running, rq.nr_switches)
}

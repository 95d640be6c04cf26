//! Process identifiers: numbers handed out per PID namespace, and the
//! `Pid` objects that stand for them.
//!
//! Linux: kernel/pid.c (`alloc_pid`, `free_pid`, `attach_pid`,
//! `detach_pid`, `find_pid_ns`, `pid_task`, `find_task_by_vpid`,
//! `pid_nr_ns`), include/linux/pid.h, include/linux/pid_namespace.h,
//! kernel/pid_namespace.c.
//!
//! A `Pid` (Linux: `struct pid`) is the kernel's handle for a process ID.
//! It carries one number per namespace level, from the initial namespace
//! down to the one the task was created in, and lists the tasks that use
//! it as PID, thread-group ID, process group or session. A task holds an
//! `Arc<Pid>`; so may anything that must name a process for a while. The
//! *numbers* go back to their namespaces' IDRs when the last task detaches
//! (`free_pid`), but the object lives as long as someone holds it: a
//! reused number gets a new `Pid`, so an old holder never mistakes the new
//! process for the one it meant (the course notes' argument for `struct pid`).
//!
//! Numbers come from an IDR per namespace (libs/idr, a radix tree of
//! 64-slot nodes) with `idr_alloc_cyclic`: each new PID is the next free
//! one after the last, up to `pid_max` (32768), then the allocation wraps
//! to `RESERVED_PIDS` (300), leaving the low numbers to early daemons as
//! Linux does. When none is free, `alloc_pid` fails with `EAGAIN`, which
//! `fork` returns.
//!
//! PID namespaces nest up to `MAX_PID_NS_LEVEL` deep (`ENOSPC` past it).
//! A task's number in its own namespace is what it sees from getpid; its
//! parent sees the number one level up, and so on to the initial one
//! (`Task::pid`, `Pid::nr`). The first task made in a namespace is its
//! number 1 and its child reaper; when it dies the namespace is closed
//! (`disable_pid_allocation`: fork into it fails with `ENOMEM`) and every
//! other task in it is killed (`exit::zap_pid_ns_processes`).
//!
//! A task's process group and session are links to `Pid`s too (Linux:
//! `signal->pids[PIDTYPE_PGID]`, `[PIDTYPE_SID]`), moved by `change_pid`:
//! each namespace reads its own number of the group (`pid_nr_ns`), and
//! the group's numbers stay allocated while a member is linked, so a
//! group outlives its leader and its number is not handed out again.
//!
//! # Locking
//! Each namespace's IDR is behind its own spinlock (Linux: `pidmap_lock`,
//! global there); a `Pid`'s task lists behind the `Pid`'s. Order:
//! `Pid::tasks` → `PidNamespace::idr`; both may be taken under
//! `fork::TASKLIST_LOCK`.
#![deny(unsafe_code)]

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use idr::{Idr, IdrError};

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::Task;

/// Linux: `PID_MAX_DEFAULT`.
pub const PID_MAX_DEFAULT: u32 = 0x8000;
/// PIDs below this are skipped once the allocation has wrapped (Linux:
/// `RESERVED_PIDS`).
pub const RESERVED_PIDS: u32 = 300;
/// Linux: `MAX_PID_NS_LEVEL`.
pub const MAX_PID_NS_LEVEL: u32 = 32;

/// What a task uses a `Pid` as (Linux: `enum pid_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code, reason = "TGID links: a thread group's tasks share the leader's")]
pub enum PidType {
    Pid = 0,
    Tgid = 1,
    Pgid = 2,
    Sid = 3,
}
const PIDTYPE_MAX: usize = 4;

/// A PID namespace (Linux: `struct pid_namespace`).
pub struct PidNamespace {
    idr: SpinLock<Idr<Weak<Pid>>>,
    /// 0 for the initial namespace.
    pub level: u32,
    /// /proc/PID/ns/pid's `pid:[N]` (Linux: `ns.inum`).
    pub ns_inum: u32,
    pub parent: Option<Arc<PidNamespace>>,
    pid_max: u32,
    /// Who adopts orphans: the namespace's init (Linux: `child_reaper`).
    child_reaper: SpinLock<Weak<Task>>,
    /// New PIDs may still be made here: cleared when the namespace's init
    /// dies (Linux: the `PIDNS_ADDING` bit of `pid_allocated`).
    adding: AtomicBool,
    /// The signal its init's parent sees it killed by after a reboot(2)
    /// inside the namespace, 0 if none (Linux: `pid_namespace::reboot`).
    reboot: AtomicU32,
}

impl PidNamespace {
    fn new(parent: Option<Arc<PidNamespace>>, pid_max: u32) -> Self {
        Self {
            idr: SpinLock::new(Idr::new()),
            level: parent.as_ref().map_or(0, |p| p.level + 1),
            ns_inum: match parent {
                None => crate::kernel::nsproxy::PROC_PID_INIT_INO,
                Some(_) => crate::kernel::nsproxy::proc_alloc_inum(),
            },
            parent,
            pid_max,
            child_reaper: SpinLock::new(Weak::new()),
            adding: AtomicBool::new(true),
            reboot: AtomicU32::new(0),
        }
    }

    /// Closes the namespace to new PIDs (Linux: `disable_pid_allocation`).
    pub fn disable_pid_allocation(&self) {
        self.adding.store(false, Ordering::Release);
    }

    /// The task orphans in this namespace are given to.
    pub fn child_reaper(&self) -> Option<Arc<Task>> {
        self.child_reaper.lock().upgrade()
    }

    pub fn set_child_reaper(&self, task: &Arc<Task>) {
        *self.child_reaper.lock() = Arc::downgrade(task);
    }

    /// Records that reboot(2) ends this namespace with `sig` (Linux:
    /// `reboot_pid_ns`).
    pub fn set_reboot(&self, sig: u32) {
        self.reboot.store(sig, Ordering::Relaxed);
    }

    /// The signal set by [`Self::set_reboot`], 0 if none.
    pub fn reboot(&self) -> u32 {
        self.reboot.load(Ordering::Relaxed)
    }

    /// How many PIDs are allocated here (Linux: `pid_allocated`).
    pub fn nr_allocated(&self) -> usize {
        self.idr.lock().len()
    }

    /// The IDR's occupancy, for /sys/kernel/debug/pid_idr: IDs allocated,
    /// where the next cyclic allocation starts, the tree's shape.
    pub fn idr_stats(&self) -> (usize, u32, idr::IdrShape) {
        let idr = self.idr.lock();
        (idr.len(), idr.cursor(), idr.shape())
    }

    /// The largest PID plus one (Linux: `pid_max`).
    pub fn pid_max(&self) -> u32 {
        self.pid_max
    }
}

/// A child of `parent` for `CLONE_NEWPID` (Linux: `create_pid_namespace`).
pub fn create_pid_namespace(parent: &Arc<PidNamespace>) -> KResult<Arc<PidNamespace>> {
    if parent.level + 1 > MAX_PID_NS_LEVEL {
        return Err(Errno::ENOSPC);
    }
    Ok(Arc::new(PidNamespace::new(Some(parent.clone()), parent.pid_max)))
}

static INIT_PID_NS: spin::Lazy<Arc<PidNamespace>> =
    spin::Lazy::new(|| Arc::new(PidNamespace::new(None, PID_MAX_DEFAULT)));

/// Linux: `init_pid_ns`.
pub fn init_pid_ns() -> &'static Arc<PidNamespace> {
    &INIT_PID_NS
}

/// One number of a `Pid` (Linux: `struct upid`).
pub struct Upid {
    pub nr: i32,
    pub ns: Arc<PidNamespace>,
}

/// A process identifier (Linux: `struct pid`).
pub struct Pid {
    /// `numbers[i]` is the number in the namespace of level `i`.
    numbers: Vec<Upid>,
    tasks: SpinLock<[Vec<Weak<Task>>; PIDTYPE_MAX]>,
    /// The numbers were returned to their IDRs; the object lives on.
    freed: AtomicBool,
}

impl Pid {
    /// The number in the initial namespace (Linux: `pid_nr`).
    pub fn nr(&self) -> i32 {
        self.numbers.first().map_or(0, |u| u.nr)
    }

    /// The level of the namespace the `Pid` was made in.
    pub fn level(&self) -> u32 {
        u32::try_from(self.numbers.len().saturating_sub(1)).unwrap_or(0)
    }

    /// The namespace the `Pid` was made in (Linux: `ns_of_pid`).
    pub fn ns(&self) -> Option<&Arc<PidNamespace>> {
        self.numbers.last().map(|u| &u.ns)
    }

    /// The numbers from the initial namespace down (Linux: `numbers`).
    pub fn numbers(&self) -> &[Upid] {
        &self.numbers
    }

    /// Whether this is number 1 of its namespace: the namespace's init
    /// (Linux: `is_child_reaper`).
    pub fn is_child_reaper(&self) -> bool {
        self.numbers.last().is_some_and(|u| u.nr == 1)
    }

    /// The first task using this `Pid` as `kind` (Linux: `pid_task`).
    pub fn pid_task(&self, kind: PidType) -> Option<Arc<Task>> {
        self.tasks.lock()[kind as usize].iter().find_map(Weak::upgrade)
    }

    /// Every task using this `Pid` as `kind` (for process groups).
    #[allow(dead_code, reason = "kill(-pgrp) walks the process list today")]
    pub fn tasks(&self, kind: PidType) -> Vec<Arc<Task>> {
        self.tasks.lock()[kind as usize].iter().filter_map(Weak::upgrade).collect()
    }
}

impl Drop for Pid {
    fn drop(&mut self) {
        // Only a `Pid` never attached gets here unfreed (an error path).
        free_pid(self);
    }
}

/// The `Pid` of the idle tasks: number 0, in no IDR (Linux: `init_struct_pid`).
pub fn init_struct_pid() -> Arc<Pid> {
    static INIT_STRUCT_PID: spin::Lazy<Arc<Pid>> = spin::Lazy::new(|| {
        Arc::new(Pid {
            numbers: alloc::vec![Upid { nr: 0, ns: init_pid_ns().clone() }],
            tasks: SpinLock::new(Default::default()),
            freed: AtomicBool::new(true),
        })
    });
    INIT_STRUCT_PID.clone()
}

/// Allocates one number in `ns`: the next one cyclically, or exactly
/// `tid` (clone3's `set_tid`), `EEXIST` if that one is taken (Linux: the
/// `idr_alloc`/`idr_alloc_cyclic` part of `alloc_pid`).
fn alloc_pid_nr(ns: &PidNamespace, tid: Option<i32>) -> KResult<i32> {
    if let Some(tid) = tid {
        // Linux: a number other than 1 only where an init exists.
        let range_ok = u32::try_from(tid).is_ok_and(|t| t >= 1 && t < ns.pid_max);
        if !range_ok || (tid != 1 && ns.child_reaper().is_none()) {
            return Err(Errno::EINVAL);
        }
    }
    let mut idr = ns.idr.lock();
    let result = match tid.and_then(|t| u32::try_from(t).ok()) {
        Some(t) => idr.alloc(Weak::new(), t, t + 1).map_err(|e| match e {
            IdrError::NoSpace => Errno::EEXIST,
            IdrError::NoMemory => Errno::ENOMEM,
        }),
        None => {
            let pid_min = if idr.cursor() > RESERVED_PIDS { RESERVED_PIDS } else { 1 };
            idr.alloc_cyclic(Weak::new(), pid_min, ns.pid_max).map_err(|e| match e {
                IdrError::NoSpace => Errno::EAGAIN,
                IdrError::NoMemory => Errno::ENOMEM,
            })
        }
    };
    i32::try_from(result?).map_err(|_| Errno::EAGAIN)
}

/// A new `Pid` with a number in `ns` and each of its ancestors (Linux:
/// `alloc_pid`). `EAGAIN` when some namespace has no free number,
/// `ENOMEM` when `ns` is closed because its init has died.
pub fn alloc_pid(ns: &Arc<PidNamespace>) -> KResult<Arc<Pid>> {
    alloc_pid_set_tid(ns, &[])
}

/// `alloc_pid` with chosen numbers (clone3's `set_tid`): `set_tid[0]` in
/// `ns`, `set_tid[1]` in its parent, and so on; levels past the end get
/// the next free number. `EINVAL` for more numbers than levels.
pub fn alloc_pid_set_tid(ns: &Arc<PidNamespace>, set_tid: &[i32]) -> KResult<Arc<Pid>> {
    if !ns.adding.load(Ordering::Acquire) {
        return Err(Errno::ENOMEM);
    }
    let levels = ns.level as usize + 1;
    if set_tid.len() > levels {
        return Err(Errno::EINVAL);
    }
    let mut numbers: Vec<Upid> = Vec::new();
    numbers.try_reserve_exact(levels).map_err(|_| Errno::ENOMEM)?;
    let mut tmp = Some(ns);
    while let Some(level_ns) = tmp {
        match alloc_pid_nr(level_ns, set_tid.get(numbers.len()).copied()) {
            Ok(nr) => numbers.push(Upid { nr, ns: level_ns.clone() }),
            Err(e) => {
                for upid in &numbers {
                    upid.ns.idr.lock().remove(u32::try_from(upid.nr).unwrap_or(0));
                }
                return Err(e);
            }
        }
        tmp = level_ns.parent.as_ref();
    }
    numbers.reverse();
    let pid = Arc::new(Pid {
        numbers,
        tasks: SpinLock::new(Default::default()),
        freed: AtomicBool::new(false),
    });
    // Make the numbers findable only now that the object is complete
    // (Linux: `idr_replace` at the end of `alloc_pid`).
    for upid in &pid.numbers {
        let nr = u32::try_from(upid.nr).unwrap_or(0);
        let _ = upid.ns.idr.lock().replace(nr, Arc::downgrade(&pid));
    }
    Ok(pid)
}

/// Returns `pid`'s numbers to their namespaces; the object stays valid
/// (Linux: `free_pid`). Idempotent.
pub fn free_pid(pid: &Pid) {
    if pid.freed.swap(true, Ordering::AcqRel) {
        return;
    }
    for upid in &pid.numbers {
        upid.ns.idr.lock().remove(u32::try_from(upid.nr).unwrap_or(0));
    }
}

/// Records that `task` uses `pid` as `kind` (Linux: `attach_pid`).
pub fn attach_pid(task: &Arc<Task>, pid: &Pid, kind: PidType) -> KResult<()> {
    let mut tasks = pid.tasks.lock();
    let list = &mut tasks[kind as usize];
    list.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    list.push(Arc::downgrade(task));
    Ok(())
}

/// The PID that names `task` as a thread: its own, or its group leader's
/// after an exec from a non-leader thread (Linux: `task_pid`).
pub fn task_pid(task: &Task) -> &Arc<Pid> {
    task.exec_pid.get().unwrap_or(&task.pid_link)
}

/// Makes `leader`'s PID name `tsk`, the only thread left after its exec,
/// and frees `tsk`'s own number (Linux: `exchange_tids`, then the old
/// leader's `release_task`). `leader` stays a zombie for its parent; the
/// caller records the new PID in `tsk.exec_pid`. Call with
/// `fork::TASKLIST_LOCK`.
pub fn exchange_tids(tsk: &Arc<Task>, leader: &Task) -> KResult<()> {
    let leader_pid = task_pid(leader);
    {
        let mut tasks = leader_pid.tasks.lock();
        let list = &mut tasks[PidType::Pid as usize];
        list.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        list.retain(|w| !core::ptr::eq(w.as_ptr(), leader));
        list.insert(0, Arc::downgrade(tsk));
    }
    detach_pid(tsk, task_pid(tsk), PidType::Pid);
    Ok(())
}

/// Undoes `attach_pid`; frees the numbers once no task uses `pid` at all
/// (Linux: `detach_pid` → `__change_pid`). Links of tasks that were never
/// released (a `copy_process` that failed late) go too.
pub fn detach_pid(task: &Task, pid: &Pid, kind: PidType) {
    let unused = {
        let mut tasks = pid.tasks.lock();
        tasks[kind as usize].retain(|w| !core::ptr::eq(w.as_ptr(), task) && w.strong_count() > 0);
        tasks.iter().all(Vec::is_empty)
    };
    if unused {
        free_pid(pid);
    }
}

/// Moves `task`'s `kind` link (its process group or session) to `new`
/// (Linux: `change_pid`). The old `Pid`'s numbers are freed if nobody
/// else uses it. Call with `fork::TASKLIST_LOCK` held, or before the task
/// can be found.
pub fn change_pid(
    task: &Arc<Task>,
    link: &SpinLock<Arc<Pid>>,
    kind: PidType,
    new: Arc<Pid>,
) -> KResult<()> {
    if Arc::ptr_eq(&link.lock(), &new) {
        return Ok(());
    }
    attach_pid(task, &new, kind)?;
    let old = core::mem::replace(&mut *link.lock(), new);
    detach_pid(task, &old, kind);
    Ok(())
}

/// The `Pid` naming `task`'s process: its group leader's (Linux:
/// `task_tgid`).
pub fn task_tgid(task: &Task) -> Arc<Pid> {
    match task.group_leader.lock().upgrade() {
        Some(leader) => task_pid(&leader).clone(),
        None => task_pid(task).clone(),
    }
}

/// The ID of `task`'s parent process as `ns` numbers it, 0 if outside
/// (Linux: `task_ppid_nr_ns`).
pub fn task_ppid_nr_ns(task: &Task, ns: &PidNamespace) -> i32 {
    if ns.level == 0 {
        return task.ppid();
    }
    task.real_parent.lock().upgrade().map_or(0, |p| task_tgid_nr_ns(&p, ns))
}

/// `task`'s process ID as `ns` numbers it, 0 if outside (Linux:
/// `task_tgid_nr_ns`).
pub fn task_tgid_nr_ns(task: &Task, ns: &PidNamespace) -> i32 {
    if ns.level == 0 {
        return task.tgid;
    }
    pid_nr_ns(&task_tgid(task), ns)
}

/// Every process (thread-group leader), kernel threads included (Linux:
/// the `init_task.tasks` list). Changed under `fork::TASKLIST_LOCK`.
static PROCESSES: SpinLock<Vec<Weak<Task>>> = SpinLock::new(Vec::new());

/// Makes room for one more process, so that `add_process` cannot fail.
pub fn reserve_process_slot() -> KResult<()> {
    PROCESSES.lock().try_reserve(1).map_err(|_| Errno::ENOMEM)
}

/// Adds a new process to the list (the `list_add_tail_rcu(&p->tasks, …)`
/// of `copy_process`); call after `reserve_process_slot`.
pub fn add_process(task: &Arc<Task>) {
    PROCESSES.lock().push(Arc::downgrade(task));
}

/// Takes a released process off the list (Linux: `__unhash_process`).
pub fn remove_process(task: &Task) {
    let mut list = PROCESSES.lock();
    if let Some(i) = list.iter().position(|w| core::ptr::eq(w.as_ptr(), task)) {
        list.swap_remove(i);
    }
}

/// Calls `f` on every process, zombies included (Linux:
/// `for_each_process`). `f` runs without the list's lock held.
pub fn for_each_process(mut f: impl FnMut(&Arc<Task>)) {
    let tasks: Vec<Arc<Task>> = PROCESSES.lock().iter().filter_map(Weak::upgrade).collect();
    for task in &tasks {
        f(task);
    }
}

/// The `Pid` numbered `nr` in `ns` (Linux: `find_pid_ns`).
pub fn find_pid_ns(nr: i32, ns: &PidNamespace) -> Option<Arc<Pid>> {
    let nr = u32::try_from(nr).ok()?;
    ns.idr.lock().find(nr)?.upgrade()
}

/// The namespace `task` sees PIDs in (Linux: `task_active_pid_ns`).
pub fn task_active_pid_ns(task: &Task) -> Arc<PidNamespace> {
    task.pid_link.ns().cloned().unwrap_or_else(|| init_pid_ns().clone())
}

/// Linux: `find_task_by_pid_ns`.
pub fn find_task_by_pid_ns(nr: i32, ns: &PidNamespace) -> Option<Arc<Task>> {
    find_pid_ns(nr, ns)?.pid_task(PidType::Pid)
}

/// The task numbered `nr` as the caller sees numbers (Linux:
/// `find_task_by_vpid`).
pub fn find_task_by_vpid(nr: i32) -> Option<Arc<Task>> {
    let ns = task_active_pid_ns(&crate::kernel::sched::current());
    find_task_by_pid_ns(nr, &ns)
}

/// `pid`'s number in `ns`, 0 if it has none there (Linux: `pid_nr_ns`).
pub fn pid_nr_ns(pid: &Pid, ns: &PidNamespace) -> i32 {
    pid.numbers
        .get(ns.level as usize)
        .filter(|u| core::ptr::eq(Arc::as_ptr(&u.ns), ns))
        .map_or(0, |u| u.nr)
}

/// `pid`'s number as the caller sees it (Linux: `pid_vnr`).
pub fn pid_vnr(pid: &Pid) -> i32 {
    pid_nr_ns(pid, &task_active_pid_ns(&crate::kernel::sched::current()))
}

/// The number `ns` gives the process that is `nr` in the initial namespace
/// (a tgid, process group or session); 0 if it is not in `ns` (Linux:
/// `pid_nr_ns` of the `struct pid` behind the number).
pub fn nr_to_ns(nr: i32, ns: &PidNamespace) -> i32 {
    if ns.level == 0 || nr <= 0 {
        return nr;
    }
    find_pid_ns(nr, init_pid_ns()).map_or(0, |pid| pid_nr_ns(&pid, ns))
}

/// `nr_to_ns` for the caller's namespace.
pub fn nr_to_vnr(nr: i32) -> i32 {
    nr_to_ns(nr, &task_active_pid_ns(&crate::kernel::sched::current()))
}

/// The initial namespace's number of what the caller calls `vnr`; `None`
/// if its namespace has no such number (Linux: `find_vpid` + `pid_nr`).
pub fn vnr_to_nr(vnr: i32) -> Option<i32> {
    let ns = task_active_pid_ns(&crate::kernel::sched::current());
    if ns.level == 0 {
        return Some(vnr);
    }
    find_pid_ns(vnr, &ns).map(|pid| pid.nr())
}

/// The namespace `task`'s next children get their PIDs in (Linux:
/// `task->nsproxy->pid_ns_for_children`).
pub fn pid_ns_for_children(task: &Task) -> Arc<PidNamespace> {
    let ns = task.pid_ns_for_children.lock().clone();
    ns.unwrap_or_else(|| task_active_pid_ns(task))
}

crate::ktest!(pid_wraps_and_reuse_gets_new_pid, {
    // A namespace of its own with a small pid_max: 1..309 are usable.
    let ns = Arc::new(PidNamespace::new(None, RESERVED_PIDS + 10));
    let mut pids = Vec::new();
    for want in 1..RESERVED_PIDS as i32 + 10 {
        let pid = alloc_pid(&ns).map_err(|_| "allocation in range")?;
        crate::kassert!(pid.nr() == want, "PIDs come in order");
        pids.push(pid);
    }
    crate::kassert!(alloc_pid(&ns).err() == Some(Errno::EAGAIN), "EAGAIN when full");
    let old = pids.remove(304); // number 305
    let low = pids.remove(4); // number 5
    free_pid(&old);
    free_pid(&low);
    let new = alloc_pid(&ns).map_err(|_| "a freed number")?;
    crate::kassert!(new.nr() == 305, "wrapped to the lowest free number above RESERVED_PIDS");
    crate::kassert!(!Arc::ptr_eq(&new, &old), "a reused number is a new Pid");
    crate::kassert!(old.nr() == 305, "the old Pid lives on, number and all");
    let found = find_pid_ns(305, &ns).ok_or("305 is findable")?;
    crate::kassert!(Arc::ptr_eq(&found, &new), "the number leads to the new Pid");
    crate::kassert!(alloc_pid(&ns).err() == Some(Errno::EAGAIN), "5 is reserved after the wrap");
    drop((pids, new, old, low, found));
    crate::kassert!(ns.nr_allocated() == 0, "every number went back");
    Ok(())
});

crate::ktest!(pid_ns_nesting_numbers_and_close, {
    let root = Arc::new(PidNamespace::new(None, PID_MAX_DEFAULT));
    let child = create_pid_namespace(&root).map_err(|_| "level 1")?;
    let outer = alloc_pid(&root).map_err(|_| "outer")?;
    let init = alloc_pid(&child).map_err(|_| "ns init")?;
    crate::kassert!(init.level() == 1 && init.is_child_reaper(), "number 1 of level 1");
    crate::kassert!(init.nr() == 2 && pid_nr_ns(&init, &child) == 1, "2 outside, 1 inside");
    crate::kassert!(pid_nr_ns(&outer, &child) == 0, "the parent's PID is 0 inside");
    let mut ns = child.clone();
    while ns.level < MAX_PID_NS_LEVEL {
        ns = create_pid_namespace(&ns).map_err(|_| "up to MAX_PID_NS_LEVEL")?;
    }
    crate::kassert!(create_pid_namespace(&ns).err() == Some(Errno::ENOSPC), "ENOSPC past 32");
    child.disable_pid_allocation();
    crate::kassert!(alloc_pid(&child).err() == Some(Errno::ENOMEM), "closed: ENOMEM");
    Ok(())
});

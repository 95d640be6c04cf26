//! Restartable sequences: rseq(2) registration, the CPU number kept in the
//! registered `struct rseq`, and the abort of a critical section that was
//! preempted or interrupted by a signal.
//!
//! Linux: kernel/rseq.c (`sys_rseq`, `__rseq_handle_notify_resume`,
//! `rseq_ip_fixup`, `rseq_update_cpu_node_id`,
//! `rseq_reset_rseq_cpu_node_id`), include/linux/rseq.h (`rseq_fork`,
//! `rseq_execve`), include/uapi/linux/rseq.h (the ABI).
//!
//! As Linux does with TIF_NOTIFY_RESUME, events only mark the task
//! ([`Rseq::pending`]); the work is done on the way back to user mode
//! (`entry_common::exit_to_user_mode_loop`), where the task may fault and
//! sleep. The events, as in Linux: registration, fork of a registered
//! task, every switch away from the task (`__schedule`), a signal about to
//! be delivered (here whenever one is pending, even if it ends up
//! ignored: a spurious abort is allowed by the ABI).
//!
//! `node_id` is 0 (one NUMA node); `mm_cid` is the CPU number, which is
//! unique among the threads of an mm that run at the same time and below
//! the number of CPUs, as Linux's concurrency ID must be.
//!
//! # Locking
//! None: the fields are atomics written by the task itself (and read by
//! `fork` in the parent's own context).
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::arch::ptrace::PtRegs;
use crate::arch::uaccess::{UserAddr, access_ok, get_user, put_user};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::{Task, current};
use crate::mm::mm_types::TASK_SIZE;

/// Linux: `RSEQ_FLAG_UNREGISTER`.
const RSEQ_FLAG_UNREGISTER: i32 = 1;
/// Linux: `RSEQ_CPU_ID_UNINITIALIZED`, `cpu_id` of an unregistered area.
const RSEQ_CPU_ID_UNINITIALIZED: u32 = u32::MAX;
/// Linux: `ORIG_RSEQ_SIZE`, the size and alignment of the first ABI.
const ORIG_RSEQ_SIZE: u32 = 32;
/// `__alignof__(struct rseq)`: `aligned(4 * sizeof(__u64))`.
const RSEQ_ALIGN: u64 = 32;
/// Linux: `offsetof(struct rseq, end)`, the fields this kernel knows.
const RSEQ_END: u32 = 28;

/// Offsets in `struct rseq` (include/uapi/linux/rseq.h).
const CPU_ID_START: u64 = 0;
const CPU_ID: u64 = 4;
const RSEQ_CS: u64 = 8;
const NODE_ID: u64 = 20;
const MM_CID: u64 = 24;

/// Linux: `struct rseq_cs`, the descriptor `rseq->rseq_cs` points to:
/// `u32 version, flags; u64 start_ip, post_commit_offset, abort_ip`.
struct RseqCs {
    version: u32,
    start_ip: u64,
    post_commit_offset: u64,
    abort_ip: u64,
}

impl RseqCs {
    /// Reads the 32-byte descriptor at `ptr` as four words (the first is
    /// `version` in its low half, `flags` in its high half, unused here).
    fn read(ptr: u64) -> Result<Self, Errno> {
        let words = get_user::<[u64; 4]>(UserAddr::new(ptr)).map_err(|_| Errno::EFAULT)?;
        let [head, start_ip, post_commit_offset, abort_ip] = words;
        let version = u32::try_from(head & u64::from(u32::MAX)).unwrap_or(u32::MAX);
        Ok(Self { version, start_ip, post_commit_offset, abort_ip })
    }
}

/// A task's registration (Linux: `task_struct::rseq`, `rseq_len`,
/// `rseq_sig`, and TIF_NOTIFY_RESUME for rseq's sake).
#[derive(Default)]
pub struct Rseq {
    /// The registered `struct rseq`; 0: none.
    addr: AtomicU64,
    len: AtomicU32,
    sig: AtomicU32,
    /// Work for the return to user mode.
    pending: AtomicBool,
}

impl Rseq {
    /// Whether the return to user mode has rseq work (cheap, for the exit
    /// path's fast check).
    pub fn pending(&self) -> bool {
        self.pending.load(Ordering::Relaxed)
    }

    fn registered(&self) -> bool {
        self.addr.load(Ordering::Relaxed) != 0
    }

    fn clear(&self) {
        self.addr.store(0, Ordering::Relaxed);
        self.len.store(0, Ordering::Relaxed);
        self.sig.store(0, Ordering::Relaxed);
        self.pending.store(false, Ordering::Relaxed);
    }

    /// Marks a registered task for an update, and an abort of a critical
    /// section it is in (Linux: `rseq_preempt`, `rseq_migrate`).
    pub fn notify(&self) {
        if self.registered() {
            self.pending.store(true, Ordering::Relaxed);
        }
    }

    /// The child of `fork` keeps the registration, a thread or a
    /// `CLONE_VM` child does not (Linux: `rseq_fork`).
    pub fn fork(&self, parent: &Self, clone_vm: bool) {
        if clone_vm {
            return;
        }
        self.addr.store(parent.addr.load(Ordering::Relaxed), Ordering::Relaxed);
        self.len.store(parent.len.load(Ordering::Relaxed), Ordering::Relaxed);
        self.sig.store(parent.sig.load(Ordering::Relaxed), Ordering::Relaxed);
        self.notify();
    }

    /// The new image has not registered (Linux: `rseq_execve`).
    pub fn execve(&self) {
        self.clear();
    }
}

fn at(base: u64, offset: u64) -> UserAddr {
    UserAddr::new(base.saturating_add(offset))
}

/// rseq(2) (Linux: `sys_rseq`), with Linux's checks in Linux's order.
pub fn sys_rseq(rseq: u64, rseq_len: u32, flags: i32, sig: u32) -> KResult<()> {
    let task = current();
    let r = &task.rseq;
    let (addr, len) = (r.addr.load(Ordering::Relaxed), r.len.load(Ordering::Relaxed));
    if flags & RSEQ_FLAG_UNREGISTER != 0 {
        if flags & !RSEQ_FLAG_UNREGISTER != 0 || addr != rseq || addr == 0 || rseq_len != len {
            return Err(Errno::EINVAL);
        }
        if r.sig.load(Ordering::Relaxed) != sig {
            return Err(Errno::EPERM);
        }
        reset_cpu_node_id(rseq).map_err(|_| Errno::EFAULT)?;
        r.clear();
        return Ok(());
    }
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    if addr != 0 {
        if addr != rseq || rseq_len != len {
            return Err(Errno::EINVAL);
        }
        if r.sig.load(Ordering::Relaxed) != sig {
            return Err(Errno::EPERM);
        }
        return Err(Errno::EBUSY);
    }
    let bad_len = rseq_len < ORIG_RSEQ_SIZE
        || (rseq_len == ORIG_RSEQ_SIZE && !rseq.is_multiple_of(u64::from(ORIG_RSEQ_SIZE)))
        || (rseq_len != ORIG_RSEQ_SIZE
            && (!rseq.is_multiple_of(RSEQ_ALIGN) || rseq_len < RSEQ_END));
    if bad_len {
        return Err(Errno::EINVAL);
    }
    if !access_ok(UserAddr::new(rseq), rseq_len as usize) {
        return Err(Errno::EFAULT);
    }
    // A stale descriptor from before registration must not steer an abort.
    let cs = get_user::<u64>(at(rseq, RSEQ_CS)).map_err(|_| Errno::EFAULT)?;
    if cs != 0 {
        put_user(at(rseq, RSEQ_CS), &0u64).map_err(|_| Errno::EFAULT)?;
    }
    r.addr.store(rseq, Ordering::Relaxed);
    r.len.store(rseq_len, Ordering::Relaxed);
    r.sig.store(sig, Ordering::Relaxed);
    r.notify();
    Ok(())
}

/// Linux: `rseq_reset_rseq_cpu_node_id`.
fn reset_cpu_node_id(rseq: u64) -> Result<(), Errno> {
    let fault = |_| Errno::EFAULT;
    put_user(at(rseq, CPU_ID_START), &0u32).map_err(fault)?;
    put_user(at(rseq, CPU_ID), &RSEQ_CPU_ID_UNINITIALIZED).map_err(fault)?;
    put_user(at(rseq, NODE_ID), &0u32).map_err(fault)?;
    put_user(at(rseq, MM_CID), &0u32).map_err(fault)
}

/// Linux: `rseq_update_cpu_node_id`.
fn update_cpu_node_id(rseq: u64) -> Result<(), Errno> {
    let fault = |_| Errno::EFAULT;
    let cpu = u32::try_from(crate::arch::percpu::smp_processor_id()).unwrap_or(0);
    put_user(at(rseq, CPU_ID_START), &cpu).map_err(fault)?;
    put_user(at(rseq, CPU_ID), &cpu).map_err(fault)?;
    put_user(at(rseq, NODE_ID), &0u32).map_err(fault)?;
    put_user(at(rseq, MM_CID), &cpu).map_err(fault)
}

/// The descriptor `rseq->rseq_cs` names, checked (Linux:
/// `rseq_get_rseq_cs`); `None` when there is none.
fn get_rseq_cs(rseq: u64, sig: u32) -> Result<Option<RseqCs>, Errno> {
    let ptr = get_user::<u64>(at(rseq, RSEQ_CS)).map_err(|_| Errno::EFAULT)?;
    if ptr == 0 {
        return Ok(None);
    }
    if ptr >= TASK_SIZE {
        return Err(Errno::EINVAL);
    }
    let cs = RseqCs::read(ptr)?;
    let end = cs.start_ip.checked_add(cs.post_commit_offset).ok_or(Errno::EINVAL)?;
    if cs.start_ip >= TASK_SIZE || end >= TASK_SIZE || cs.abort_ip >= TASK_SIZE || cs.version > 0 {
        return Err(Errno::EINVAL);
    }
    // The abort handler must lie outside the critical section.
    if cs.abort_ip.wrapping_sub(cs.start_ip) < cs.post_commit_offset {
        return Err(Errno::EINVAL);
    }
    let sig_at = UserAddr::new(cs.abort_ip.checked_sub(4).ok_or(Errno::EINVAL)?);
    let usig = get_user::<u32>(sig_at).map_err(|_| Errno::EFAULT)?;
    if usig != sig {
        crate::pr_warn!(
            "Possible attack attempt. Unexpected rseq signature 0x{usig:x}, expecting 0x{sig:x} (pid={})",
            current().pid
        );
        return Err(Errno::EINVAL);
    }
    Ok(Some(cs))
}

/// Moves an interrupted critical section to its abort handler (Linux:
/// `rseq_ip_fixup`); clears `rseq_cs` either way.
fn ip_fixup(rseq: u64, sig: u32, regs: &mut PtRegs) -> Result<(), Errno> {
    let Some(cs) = get_rseq_cs(rseq, sig)? else { return Ok(()) };
    put_user(at(rseq, RSEQ_CS), &0u64).map_err(|_| Errno::EFAULT)?;
    if regs.rip.wrapping_sub(cs.start_ip) < cs.post_commit_offset {
        regs.rip = cs.abort_ip;
    }
    Ok(())
}

/// The rseq work of a return to user mode (Linux:
/// `__rseq_handle_notify_resume`): abort an interrupted critical section,
/// then publish the CPU number. A bad area or descriptor is the task's
/// SIGSEGV, as in Linux. Called with interrupts on.
pub fn handle_notify_resume(task: &Task, regs: &mut PtRegs) {
    let r = &task.rseq;
    if !r.pending.swap(false, Ordering::Relaxed) {
        return;
    }
    let (addr, sig) = (r.addr.load(Ordering::Relaxed), r.sig.load(Ordering::Relaxed));
    if addr == 0 {
        return;
    }
    if ip_fixup(addr, sig, regs).and_then(|()| update_cpu_node_id(addr)).is_err() {
        crate::kernel::signal::force_sig::<Task>(crate::kernel::signal::Signal::SIGSEGV);
    }
}

/// A signal handler is about to run: abort a critical section first, so
/// that the frame saves the abort address (Linux: `rseq_signal_deliver`).
pub fn signal_deliver(task: &Task, regs: &mut PtRegs) {
    task.rseq.notify();
    handle_notify_resume(task, regs);
}

crate::ktest!(rseq_registration_follows_fork_and_exec, {
    crate::kassert!(RSEQ_END <= ORIG_RSEQ_SIZE, "the known fields fit the first ABI");
    let r = Rseq::default();
    r.notify();
    crate::kassert!(!r.pending(), "no work for an unregistered task");
    r.addr.store(0x1000, Ordering::Relaxed);
    r.notify();
    crate::kassert!(r.pending(), "a registered task is marked");
    let child = Rseq::default();
    child.fork(&r, true);
    crate::kassert!(!child.registered(), "CLONE_VM drops the registration");
    child.fork(&r, false);
    crate::kassert!(child.registered() && child.pending(), "fork keeps it, marked");
    child.execve();
    crate::kassert!(!child.registered() && !child.pending(), "exec drops it");
    Ok(())
});

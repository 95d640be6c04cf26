//! `current`: the task this CPU runs, kept in the per-CPU area.
//!
//! Linux: arch/x86/include/asm/current.h (`get_current`, the per-CPU
//! `current_task`).
//!
//! The per-CPU slot holds an *owning* pointer, made by `Arc::into_raw`:
//! the running task cannot be freed under itself, whatever else drops its
//! references (it may be a zombie already reaped by its parent, or a dead
//! kernel thread). `switch_to` hands that ownership over (see
//! switch_to.rs); [`get_current`] gives out a new strong reference.
//!
//! # Locking
//! Only this CPU writes its slot, with interrupts off (at boot and in
//! `switch_to`); reading it needs nothing, since a task only ever reads
//! the slot while it runs, when the slot names it.

use alloc::sync::Arc;

use super::percpu::this_cpu;
use crate::kernel::sched::Task;

/// The raw, owning pointer in this CPU's slot; null before `sched_init`.
fn current_ptr() -> *const Task {
    this_cpu().current().cast_const().cast::<Task>()
}

/// The running task, or `None` before the scheduler is up (Linux:
/// `get_current`, plus `get_task_struct`).
pub fn get_current() -> Option<Arc<Task>> {
    let ptr = current_ptr();
    if ptr.is_null() {
        return None;
    }
    // SAFETY: a non-null slot came from `Arc::into_raw` and owns one strong
    // reference (module header), so the count is at least 1 here.
    unsafe { Arc::increment_strong_count(ptr) };
    // SAFETY: the reference just added is the one this `Arc` now owns.
    Some(unsafe { Arc::from_raw(ptr) })
}

/// Runs `f` on the running task without touching its reference count
/// (for hot paths such as the interrupt exit's need-resched check).
pub fn with_current<R>(f: impl FnOnce(Option<&Task>) -> R) -> R {
    let ptr = current_ptr();
    // SAFETY: the slot owns a strong reference to the task running this
    // code (module header), which therefore lives at least until this CPU
    // switches away, and `f` cannot keep the borrow past its return.
    f(unsafe { ptr.as_ref() })
}

/// Makes `task` this CPU's first `current` (Linux: `init_idle` on the boot
/// CPU: the code running now becomes the idle task). Call once per CPU
/// with interrupts off, before anything asks for `current`.
pub fn set_initial_current(task: Arc<Task>) {
    let pcpu = this_cpu();
    if pcpu.current().is_null() {
        pcpu.set_current(Arc::into_raw(task).cast_mut().cast::<()>());
    }
}

/// Installs `next` as `current` and returns the previous owning pointer;
/// only `switch_to` calls this, with interrupts off.
pub(super) fn exchange_current(next: Arc<Task>) -> *const Task {
    let pcpu = this_cpu();
    let prev = current_ptr();
    pcpu.set_current(Arc::into_raw(next).cast_mut().cast::<()>());
    prev
}

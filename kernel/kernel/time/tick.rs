//! The periodic tick: what runs HZ times a second on every CPU.
//!
//! Linux: kernel/time/tick-common.c (`tick_handle_periodic`,
//! `tick_periodic`), kernel/time/timer.c (`update_process_times`),
//! kernel/sched/core.c (`scheduler_tick`).
//!
//! The local APIC timer's interrupt handler calls [`tick_handle_periodic`].
//! One CPU, `tick_do_timer_cpu` (the boot CPU), advances jiffies; every CPU
//! charges the tick to what it runs (`update_process_times`).
//!
//! Jiffies follow the clock, not the count of interrupts (Linux:
//! `tick_do_update_jiffies64`): a tick that comes late, because interrupts
//! were off or, under an emulator, the vCPU was not running, advances
//! jiffies by every period that has passed, so no tick is lost.
//!
//! # Locking
//! Runs in interrupt context with interrupts off; touches only atomics,
//! but for due timers (`timer::run_timers` takes `TIMER_BASE`).
//! `LAST_JIFFIES_UPDATE` is written only by `tick_do_timer_cpu`.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use super::jiffies::{HZ, do_timer};
use super::{NSEC_PER_SEC, ktime_get_ns};
use crate::arch::percpu::NR_CPUS;

/// Nanoseconds per tick (Linux: `TICK_NSEC`).
pub const TICK_NSEC: u64 = NSEC_PER_SEC / HZ;

/// The clock time jiffies last stood for (Linux: `last_jiffies_update`).
static LAST_JIFFIES_UPDATE: AtomicU64 = AtomicU64::new(0);

/// The CPU that owns jiffies (Linux: `tick_do_timer_cpu`); the boot CPU.
static TICK_DO_TIMER_CPU: AtomicUsize = AtomicUsize::new(0);

/// Whether each CPU's current interrupt came from user mode (Linux:
/// `user_mode(get_irq_regs())`); set by the interrupt entry.
static IRQ_FROM_USER: [AtomicBool; NR_CPUS] = [const { AtomicBool::new(false) }; NR_CPUS];

/// Records, at interrupt entry, whether ring 3 was interrupted (Linux:
/// `set_irq_regs`, reduced to the one bit the tick reads).
pub fn set_irq_user_mode(cpu: usize, user: bool) {
    if let Some(flag) = IRQ_FROM_USER.get(cpu) {
        flag.store(user, Ordering::Relaxed);
    }
}

/// Makes `cpu` the owner of jiffies, counting from now (Linux:
/// `tick_setup_device` on the first CPU).
pub fn set_tick_do_timer_cpu(cpu: usize) {
    LAST_JIFFIES_UPDATE.store(ktime_get_ns(), Ordering::Relaxed);
    TICK_DO_TIMER_CPU.store(cpu, Ordering::Relaxed);
}

/// Advances jiffies by the whole tick periods since the last update
/// (Linux: `tick_do_update_jiffies64`).
fn tick_do_update_jiffies64(now: u64) {
    let last = LAST_JIFFIES_UPDATE.load(Ordering::Relaxed);
    let ticks = now.saturating_sub(last) / TICK_NSEC;
    if ticks > 0 {
        LAST_JIFFIES_UPDATE.store(last + ticks * TICK_NSEC, Ordering::Relaxed);
        do_timer(ticks);
    }
}

/// The periodic tick on `cpu` (Linux: `tick_handle_periodic` ->
/// `tick_periodic`).
pub fn tick_handle_periodic(cpu: usize) {
    if TICK_DO_TIMER_CPU.load(Ordering::Relaxed) == cpu {
        tick_do_update_jiffies64(ktime_get_ns());
    }
    let user_tick = IRQ_FROM_USER.get(cpu).is_some_and(|f| f.load(Ordering::Relaxed));
    update_process_times(user_tick);
}

/// Charges one tick to the running task and runs the timers that are
/// due (Linux: `update_process_times`, whose `run_local_timers` raises
/// the timer softirq).
fn update_process_times(user_tick: bool) {
    super::cputime::account_process_tick(user_tick);
    super::timer::run_timers();
    // poll's timeouts and a tty's VTIME: their sleepers share one queue
    // and their earliest deadline (fs/select.rs).
    crate::fs::select::poll_timer_tick();
    // Readers of the kernel log that a printk could not wake itself.
    crate::kernel::printk::printk_tick();
    // trace_pipe readers, which a tracepoint cannot wake itself.
    crate::kernel::trace::trace_tick();
    scheduler_tick();
}

/// The scheduler's hook in the tick (Linux: `scheduler_tick`): charges
/// the running task through its class's `task_tick`, which may set
/// need-resched; the interrupt's exit acts on it.
fn scheduler_tick() {
    crate::kernel::sched::scheduler_tick();
}

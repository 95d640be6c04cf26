//! The work between a system call (or interrupt) and the return to user
//! mode: rescheduling and signal delivery.
//!
//! Linux: kernel/entry/common.c (`exit_to_user_mode_loop`,
//! `exit_to_user_mode_prepare`), include/linux/entry-common.h.
//!
//! The order, as in Linux, on every return to ring 3:
//! 1. interrupts off (`syscall_exit_to_user_mode` in `arch::syscall`);
//! 2. loop while there is work: interrupts on, then
//!    a. `need_resched` → `schedule()`;
//!    b. a signal pending → `arch_do_signal_or_restart(regs)` (sets up
//!    the signal frame, or restarts the call);
//!    then interrupts off and look again, since a wake-up or a signal may
//!    have come meanwhile;
//! 3. return with interrupts off; the asm restores the frame.
//!
//! The four hooks below are where the scheduler and signals plug in; until
//! they exist there is never work.
//!
//! # Locking
//! Called with interrupts off and no lock held.

use crate::arch::irqflags::{local_irq_disable, local_irq_enable};
use crate::arch::ptrace::PtRegs;

/// Linux: `exit_to_user_mode_loop`. Returns with interrupts off.
pub fn exit_to_user_mode_loop(regs: &mut PtRegs) {
    while need_resched() || signal_pending() {
        local_irq_enable();
        if need_resched() {
            schedule();
        }
        if signal_pending() {
            arch_do_signal_or_restart(regs);
        }
        local_irq_disable();
    }
}

/// Integration: `crate::kernel::sched::need_resched()` (TIF_NEED_RESCHED of
/// `current`).
fn need_resched() -> bool {
    false
}

/// Integration: `crate::kernel::sched::schedule()`.
fn schedule() {}

/// Integration: whether `current` has an unblocked signal pending
/// (Linux: `signal_pending(current)`, TIF_SIGPENDING).
fn signal_pending() -> bool {
    false
}

/// Integration: deliver a signal or restart the call (Linux:
/// `arch_do_signal_or_restart`).
fn arch_do_signal_or_restart(_regs: &mut PtRegs) {}

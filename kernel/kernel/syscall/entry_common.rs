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
//!    the signal frame, or restarts the call), after an rseq critical
//!    section was aborted (kernel/rseq.rs);
//!    c. rseq work (a context switch, a registration) →
//!    `rseq::handle_notify_resume`;
//!    then interrupts off and look again, since a wake-up or a signal may
//!    have come meanwhile;
//! 3. return with interrupts off; the asm restores the frame.
//!
//! A frame built for a handler, or restored by `rt_sigreturn`, leaves
//! through `iretq`: `do_syscall_64` takes `sysretq` only when RCX and R11
//! equal RIP and RFLAGS, which such a frame does not promise.
//!
//! # Locking
//! Called with interrupts off and no lock held.

use crate::arch::irqflags::{local_irq_disable, local_irq_enable};
use crate::arch::ptrace::PtRegs;
use crate::kernel::sched::{self, Task};

/// Linux: `exit_to_user_mode_loop`. Returns with interrupts off.
pub fn exit_to_user_mode_loop(regs: &mut PtRegs) {
    while exit_work_pending() {
        local_irq_enable();
        if sched::need_resched() {
            sched::schedule();
        }
        if signal_pending() {
            crate::kernel::rseq::signal_deliver(&sched::current(), regs);
            crate::arch::signal::arch_do_signal_or_restart::<Task>(regs);
        }
        // Linux: TIF_NOTIFY_RESUME's `rseq_handle_notify_resume`.
        crate::kernel::rseq::handle_notify_resume(&sched::current(), regs);
        local_irq_disable();
    }
}

/// Whether there is any exit work (need-resched, a signal, rseq), with one
/// look at `current` on the fast path where there is none (Linux reads
/// `thread_info->flags` once for `EXIT_TO_USER_MODE_WORK`).
fn exit_work_pending() -> bool {
    crate::arch::current::with_current(|t| {
        t.is_some_and(|t| t.need_resched() || sched::task::signal_pending(t) || t.rseq.pending())
    })
}

/// Whether `current` may have a signal to take (Linux:
/// `signal_pending(current)`, TIF_SIGPENDING), without touching its
/// reference count on this hot path.
fn signal_pending() -> bool {
    crate::arch::current::with_current(|t| t.is_some_and(sched::task::signal_pending))
}

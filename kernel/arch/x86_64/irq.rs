//! External interrupts: from the entry stub to the handler and the EOI.
//!
//! Linux: arch/x86/kernel/irq.c (`common_interrupt`, `handle_irq`),
//! kernel/softirq.c (`irq_enter`, `irq_exit`).
//!
//! # Locking
//! Runs with interrupts off on the interrupted stack; the hard-IRQ count in
//! this CPU's `preempt_count` says so to anyone asking `in_hardirq()`.

use super::irq_vectors::SPURIOUS_APIC_VECTOR;
use super::percpu::{HARDIRQ_OFFSET, this_cpu};
use super::ptrace::PtRegs;

/// Called by `asm_common_interrupt` with the vector in the error-code slot
/// (Linux: `common_interrupt`).
#[unsafe(no_mangle)]
extern "C" fn common_interrupt(regs: &mut PtRegs, vector: u64) {
    let vector = (vector & 0xff) as u8;
    let pcpu = this_cpu();
    pcpu.preempt_count_add(HARDIRQ_OFFSET); // irq_enter
    crate::kernel::time::tick::set_irq_user_mode(pcpu.cpu(), regs.user_mode());
    if !crate::kernel::irq::handle_irq(vector) && vector != SPURIOUS_APIC_VECTOR {
        crate::pr_emerg!("do_IRQ: {}.{vector} No irq handler for vector", pcpu.cpu());
    }
    // The spurious vector is not in service, so it must not be EOI'd.
    if vector != SPURIOUS_APIC_VECTOR {
        super::apic::eoi();
    }
    pcpu.preempt_count_sub(HARDIRQ_OFFSET); // irq_exit
    // Linux: `irqentry_exit` → `preempt_schedule_irq` (CONFIG_PREEMPT).
    crate::kernel::sched::irqentry_exit_cond_resched(regs);
}

static KTEST_IRQ_HITS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

fn ktest_irq_handler() {
    let in_irq = super::percpu::in_hardirq();
    KTEST_IRQ_HITS.fetch_add(if in_irq { 1 } else { 100 }, core::sync::atomic::Ordering::Relaxed);
}

crate::ktest!(irq_entry_reaches_handler, {
    // 0x2f is in the unused range where the masked 8259s would deliver.
    crate::kernel::irq::request_irq(0x2f, "ktest", ktest_irq_handler)
        .map_err(|_| "vector 0x2f is free")?;
    let (a, b): (u64, u64);
    // SAFETY: `int 0x2f` enters through the external-vector stub like a
    // device interrupt; the stub saves and restores every register.
    unsafe {
        core::arch::asm!("mov r12, 0x1234", "mov r15, 0x5678", "int 0x2f", "mov {}, r12", "mov {}, r15",
                         out(reg) a, out(reg) b, out("r12") _, out("r15") _);
    }
    let hits = KTEST_IRQ_HITS.load(core::sync::atomic::Ordering::Relaxed);
    crate::kassert!(hits == 1, "the handler ran once, in hard-IRQ context");
    crate::kassert!(a == 0x1234 && b == 0x5678, "registers survive the entry");
    crate::kassert!(!super::percpu::in_hardirq(), "irq_exit balanced irq_enter");
    Ok(())
});

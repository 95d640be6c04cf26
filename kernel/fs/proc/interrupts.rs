//! /proc/interrupts (Linux: fs/proc/interrupts.c, kernel/irq/proc.c
//! `show_interrupts`, arch/x86/kernel/irq.c `arch_show_interrupts`).
//!
//! Linux's layout for one CPU: a header, one line per interrupt with a
//! handler — number, count, controller, hardware number and trigger,
//! handler name — then the architecture's per-CPU counters (`NMI`, `LOC`,
//! `SPU`, ..., `ERR`, `MIS`). Ferrite does not number IRQs apart from
//! vectors yet: an ISA interrupt routed through the IO-APIC is shown by
//! its ISA number, as Linux does (ttyS0 is 4); an MSI vector by the
//! vector itself. The local APIC timer is the `LOC` line rather than a
//! numbered one, and the spurious vector's count is `SPU`, as in Linux.
//! One CPU, no IPIs, no machine-check polling: `RES`, `CAL`, `TLB`, `MCP`
//! and the rest are 0, which is what happened.
//!
//! # Locking
//! None: the counts are atomics (`for_each_action`, `kstat_irqs`).
#![deny(unsafe_code)]

use super::generic::SeqBuf;
use crate::arch::irq_vectors::{
    FIRST_DEVICE_VECTOR, ISA_IRQ_VECTOR_BASE, LOCAL_TIMER_VECTOR, SPURIOUS_APIC_VECTOR,
};
use crate::kernel::errno::KResult;
use crate::kernel::irq::{for_each_action, kstat_irqs};

/// Linux: `show_interrupts`' `prec`, the width of an IRQ number (3 while
/// there are fewer than 1000).
const PREC: usize = 3;

/// How a vector's line is labelled: its number, the controller and the
/// hardware number.
fn irq_label(vector: u8) -> (u32, &'static str, u32) {
    if (ISA_IRQ_VECTOR_BASE..ISA_IRQ_VECTOR_BASE + 16).contains(&vector) {
        let irq = u32::from(vector - ISA_IRQ_VECTOR_BASE);
        (irq, "IO-APIC", irq)
    } else if vector >= FIRST_DEVICE_VECTOR {
        (u32::from(vector), "PCI-MSI", u32::from(vector))
    } else {
        (u32::from(vector), "APIC", u32::from(vector))
    }
}

/// Linux: `arch_show_interrupts`'s lines, in its order, with their counts.
fn arch_counters() -> [(&'static str, Option<u64>, &'static str); 19] {
    let loc = kstat_irqs(LOCAL_TIMER_VECTOR);
    let spu = kstat_irqs(SPURIOUS_APIC_VECTOR);
    [
        ("NMI", Some(0), "Non-maskable interrupts"),
        ("LOC", Some(loc), "Local timer interrupts"),
        ("SPU", Some(spu), "Spurious interrupts"),
        ("PMI", Some(0), "Performance monitoring interrupts"),
        ("IWI", Some(0), "IRQ work interrupts"),
        ("RTR", Some(0), "APIC ICR read retries"),
        ("RES", Some(0), "Rescheduling interrupts"),
        ("CAL", Some(0), "Function call interrupts"),
        ("TLB", Some(0), "TLB shootdowns"),
        ("TRM", Some(0), "Thermal event interrupts"),
        ("THR", Some(0), "Threshold APIC interrupts"),
        ("DFR", Some(0), "Deferred Error APIC interrupts"),
        ("MCE", Some(0), "Machine check exceptions"),
        ("MCP", Some(0), "Machine check polls"),
        // Linux prints these two without a description.
        ("ERR", None, ""),
        ("MIS", None, ""),
        ("PIN", Some(0), "Posted-interrupt notification event"),
        ("NPI", Some(0), "Nested posted-interrupt event"),
        ("PIW", Some(0), "Posted-interrupt wakeup event"),
    ]
}

/// Linux: `show_interrupts`.
pub fn show_interrupts(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("{:w$}CPU{:<8}\n", "", 0, w = PREC + 8))?;
    let mut result = Ok(());
    for_each_action(|vector, name, count| {
        if result.is_err() || vector == LOCAL_TIMER_VECTOR {
            return;
        }
        let (irq, chip, hwirq) = irq_label(vector);
        result = m.printf(format_args!(
            "{irq:>PREC$}: {count:>10}  {chip:>8} {hwirq:>PREC$}-{:<8}  {name}\n",
            "edge"
        ));
    });
    result?;
    for (label, count, what) in arch_counters() {
        match count {
            Some(count) => m.printf(format_args!("{label:>PREC$}: {count:>10}   {what}\n"))?,
            None => m.printf(format_args!("{label:>PREC$}: {:>10}\n", 0))?,
        }
    }
    Ok(())
}

/// The sum of all interrupt counts and each vector's, for /proc/stat.
pub fn irq_counts() -> (u64, [u64; 256]) {
    let mut counts = [0u64; 256];
    let mut sum = 0u64;
    for_each_action(|vector, _, count| {
        counts[usize::from(vector)] = count;
        sum += count;
    });
    (sum, counts)
}

crate::ktest!(proc_interrupts_layout, {
    let text = super::generic::render(show_interrupts).map_err(|_| "render")?;
    let text = core::str::from_utf8(&text).map_err(|_| "rendered text is UTF-8")?;
    crate::kassert!(text.starts_with("           CPU0       \n"), "header as Linux");
    crate::kassert!(
        text.lines().any(|l| l.starts_with("LOC: ") && l.ends_with("   Local timer interrupts")),
        "LOC line"
    );
    crate::kassert!(text.contains("\nERR:          0\nMIS:          0\n"), "ERR and MIS");
    crate::kassert!(
        text.lines()
            .any(|l| l.starts_with("  4: ") && l.ends_with("   IO-APIC   4-edge      ttyS0")),
        "ttyS0 as ISA IRQ 4"
    );
    Ok(())
});

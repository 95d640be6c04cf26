//! /proc/interrupts (Linux: fs/proc/interrupts.c, kernel/irq/proc.c
//! `show_interrupts`, arch/x86/kernel/irq.c `arch_show_interrupts`).
//!
//! One line per vector with a handler, for the one CPU: the number (the
//! IDT vector: Ferrite does not number IRQs apart from vectors yet), the
//! count, the controller and the handler's name.
//!
//! # Locking
//! None: the counts are atomics (`for_each_action`).
#![deny(unsafe_code)]

use super::generic::SeqBuf;
use crate::kernel::errno::KResult;
use crate::kernel::irq::for_each_action;

/// Linux: `show_interrupts`.
pub fn show_interrupts(m: &mut SeqBuf) -> KResult<()> {
    m.puts(b"           CPU0       \n")?;
    let mut result = Ok(());
    for_each_action(|vector, name, count| {
        if result.is_ok() {
            result = m.printf(format_args!("{vector:>3}: {count:>10}   APIC   {name}\n"));
        }
    });
    result?;
    m.puts(b"NMI:          0   Non-maskable interrupts\nERR:          0\n")
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

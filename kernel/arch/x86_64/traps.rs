//! Exceptions: the IDT and the handlers for the 32 CPU exception vectors.
//!
//! Linux: arch/x86/kernel/traps.c, idt.c.

/// Installs the GDT, TSS and IDT on the boot CPU (Linux: `trap_init`).
pub fn trap_init() {}

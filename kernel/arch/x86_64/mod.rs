//! x86_64: boot, descriptor tables, traps, interrupts controllers, page-table
//! hardware and the instructions Rust cannot express.
//!
//! Linux: arch/x86/.
//!
//! This is one of the few places where `unsafe` is allowed (DESIGN.md §3);
//! every block carries its `SAFETY:` argument.

pub mod apic;
pub mod boot;
pub mod cpu;
pub mod current;
pub mod dumpstack;
pub mod entry;
pub mod extable;
pub mod fault;
pub mod fpu;
pub mod futex;
pub mod gdt;
pub mod i8253;
pub mod i8259;
pub mod idt;
pub mod ioapic;
pub mod irq;
pub mod irq_vectors;
pub mod irqflags;
pub mod mm;
pub mod module;
pub mod page_64;
pub mod percpu;
pub mod process;
pub mod ptrace;
pub mod qemu;
pub mod reboot;
pub mod sections;
pub mod signal;
pub mod stacktrace;
pub mod switch_to;
pub mod syscall;
pub mod syscall_selftest;
pub mod traps;
pub mod tsc;
pub mod uaccess;

/// Size of a kernel stack (Linux: `THREAD_SIZE`, 16 KiB there; Rust's
/// formatting machinery needs more stack than C's `printk`).
pub const THREAD_SIZE: usize = 32 * 1024;

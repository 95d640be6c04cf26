//! Halting the system when something went fatally wrong, and the taint
//! flags an oops leaves behind.
//!
//! Linux: kernel/panic.c (`panic`, `add_taint`, `print_tainted`).
//!
//! A panic prints its message and a backtrace without taking locks (the
//! lock holder may be the CPU that panicked), then stops this CPU. After an
//! oops (taint `D`) the backtrace was already printed and is not repeated.
//! Under `ktest` (and always, for now) it ends QEMU with the failure code
//! instead, so a test run never hangs.
//!
//! # Locking
//! `IN_PANIC` lets one CPU through; `TAINTED` is an atomic bit set.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::arch::dumpstack::dump_stack;
use crate::arch::irqflags::{halt, local_irq_disable};
use crate::kernel::printk::emergency_write;

static IN_PANIC: AtomicBool = AtomicBool::new(false);

/// Linux: `TAINT_WARN` (`W`) and `TAINT_DIE` (`D`, the kernel oopsed).
pub const TAINT_WARN: u32 = 9;
pub const TAINT_DIE: u32 = 7;
static TAINTED: AtomicU32 = AtomicU32::new(0);

/// Linux: `add_taint`.
pub fn add_taint(flag: u32) {
    TAINTED.fetch_or(1 << flag, Ordering::Relaxed);
}

pub fn test_taint(flag: u32) -> bool {
    TAINTED.load(Ordering::Relaxed) & (1 << flag) != 0
}

/// "Not tainted" or "Tainted: G        W D" style text (Linux:
/// `print_tainted`, for the two flags Ferrite sets).
pub fn print_tainted() -> &'static str {
    match (test_taint(TAINT_WARN), test_taint(TAINT_DIE)) {
        (false, false) => "Not tainted",
        (true, false) => "Tainted: G        W",
        (false, true) => "Tainted: G      D",
        (true, true) => "Tainted: G      D W",
    }
}

/// Stops the kernel for good (Linux: `panic`).
pub fn panic(info: &PanicInfo<'_>) -> ! {
    local_irq_disable();
    if IN_PANIC.swap(true, Ordering::SeqCst) {
        // A panic while panicking: print nothing more, just stop.
        loop {
            halt();
        }
    }
    emergency_write(format_args!("Kernel panic - not syncing: {}", info.message()));
    if let Some(loc) = info.location() {
        emergency_write(format_args!("  at {}:{}:{}", loc.file(), loc.line(), loc.column()));
    }
    if !test_taint(TAINT_DIE) {
        dump_stack();
    }
    emergency_write(format_args!("---[ end Kernel panic - not syncing: {} ]---", info.message()));
    crate::init::on_panic();
    loop {
        halt();
    }
}

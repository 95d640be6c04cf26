//! Halting the system when something went fatally wrong.
//!
//! Linux: kernel/panic.c.
//!
//! A panic prints its message and a backtrace without taking locks (the
//! lock holder may be the CPU that panicked), then stops this CPU. Under
//! `ktest` it ends QEMU with the failure code instead, so a test run never
//! hangs.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::irqflags::{halt, local_irq_disable};
use crate::kernel::printk::emergency_write;

static IN_PANIC: AtomicBool = AtomicBool::new(false);

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
    emergency_write(format_args!("---[ end Kernel panic - not syncing ]---"));
    crate::init::on_panic();
    loop {
        halt();
    }
}

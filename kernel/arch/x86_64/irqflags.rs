//! Interrupt-flag control on the local CPU.
//!
//! Linux: arch/x86/include/asm/irqflags.h.

use core::arch::asm;

const X86_EFLAGS_IF: u64 = 1 << 9;

/// Saved interrupt state, returned by [`local_irq_save`].
#[derive(Clone, Copy, Debug)]
#[must_use = "restore the flags with local_irq_restore"]
pub struct IrqFlags(u64);

impl IrqFlags {
    pub const fn irqs_enabled(self) -> bool {
        self.0 & X86_EFLAGS_IF != 0
    }
}

fn save_flags() -> u64 {
    let flags: u64;
    // SAFETY: pushfq/pop only read RFLAGS through the stack we own.
    unsafe { asm!("pushfq", "pop {}", out(reg) flags, options(nomem, preserves_flags)) };
    flags
}

/// Disables interrupts and returns whether they were enabled.
pub fn local_irq_save() -> IrqFlags {
    let flags = IrqFlags(save_flags());
    local_irq_disable();
    flags
}

/// Re-enables interrupts if `flags` says they were enabled.
pub fn local_irq_restore(flags: IrqFlags) {
    if flags.irqs_enabled() {
        local_irq_enable();
    }
}

pub fn local_irq_disable() {
    // SAFETY: masking interrupts cannot break memory safety; code that needs
    // them on re-enables them through `local_irq_restore`.
    unsafe { asm!("cli", options(nomem, nostack)) };
}

pub fn local_irq_enable() {
    // SAFETY: interrupt handlers are installed before the first `sti`
    // (`trap_init` runs before anything enables interrupts), and they save
    // and restore all state they touch.
    unsafe { asm!("sti", options(nomem, nostack)) };
}

pub fn irqs_disabled() -> bool {
    save_flags() & X86_EFLAGS_IF == 0
}

/// Enables interrupts and halts until the next one, atomically: `sti` takes
/// effect after the following instruction, so no wake-up is lost between
/// the two (Linux: `native_safe_halt`).
pub fn safe_halt() {
    // SAFETY: as for `local_irq_enable`; `hlt` only waits.
    unsafe { asm!("sti; hlt", options(nomem, nostack)) };
}

/// Halts with interrupts as they are; with them off, forever.
pub fn halt() {
    // SAFETY: `hlt` only waits for an interrupt.
    unsafe { asm!("hlt", options(nomem, nostack)) };
}

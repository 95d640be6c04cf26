//! Turning the machine off and restarting it.
//!
//! Linux: kernel/reboot.c (`kernel_power_off`, `kernel_restart`),
//! arch/x86/kernel/reboot.c (`native_machine_emergency_restart`: try the
//! ACPI reset register, then the PCI reset port 0xcf9, then the keyboard
//! controller, then a triple fault).
//!
//! # Locking
//! None: both paths turn interrupts off and never return. Other CPUs are
//! not stopped yet (there are none running until SMP bring-up).

use core::arch::asm;

use x86_64::instructions::port::Port;

use crate::arch::irqflags::{halt, local_irq_disable};
use crate::drivers::acpi;
use crate::{pr_emerg, pr_err};

/// The PIIX/ICH reset control register: bit 1 = hard reset, bit 2 = do it.
const PCI_RESET_PORT: u16 = 0xcf9;
/// The 8042's command port; command 0xfe pulses the CPU reset line.
const KBD_CMD_PORT: u16 = 0x64;
const KBD_STATUS_IBF: u8 = 0x02;

/// Spins `n` times (the reset paths run before or without a clock).
fn short_delay(n: u32) {
    for _ in 0..n {
        core::hint::spin_loop();
    }
}

fn reset_via_cf9() {
    let mut port = Port::<u8>::new(PCI_RESET_PORT);
    // SAFETY: 0xcf9 is the chipset reset control register on PIIX and ICH;
    // writing it resets the machine or, where absent, does nothing.
    unsafe { port.write(0x02) };
    short_delay(1000);
    // SAFETY: as above; 0x06 = hard reset now.
    unsafe { port.write(0x06) };
}

fn reset_via_kbd() {
    let mut port = Port::<u8>::new(KBD_CMD_PORT);
    for _ in 0..10_000 {
        // SAFETY: reading the 8042 status register has no side effects.
        if unsafe { port.read() } & KBD_STATUS_IBF == 0 {
            break;
        }
        core::hint::spin_loop();
    }
    // SAFETY: command 0xfe pulses the reset line; writing the 8042 command
    // port touches no memory.
    unsafe { port.write(0xfe) };
}

/// Loads an empty IDT and raises an exception: with no handler for the
/// fault nor the double fault, the CPU shuts down and the board resets.
fn reset_via_triple_fault() -> ! {
    #[repr(C, packed)]
    struct DescPtr {
        limit: u16,
        base: u64,
    }
    let empty = DescPtr { limit: 0, base: 0 };
    // SAFETY: deliberately makes every interrupt unhandleable; we never
    // return, and interrupts are already off.
    unsafe { asm!("lidt [{}]", in(reg) &empty, options(readonly, nostack)) };
    // SAFETY: int3 with an empty IDT escalates to a triple fault: the reset
    // this function exists for.
    unsafe { asm!("int3", options(nomem, nostack)) };
    loop {
        halt();
    }
}

/// Stops the machine for good (Linux: `machine_halt`).
fn machine_halt() -> ! {
    local_irq_disable();
    loop {
        halt();
    }
}

/// Powers the machine off through ACPI S5 (Linux: `kernel_power_off`).
pub fn kernel_power_off() -> ! {
    pr_emerg!("reboot: Power down");
    local_irq_disable();
    if let Err(e) = acpi::acpi_power_off() {
        pr_err!("reboot: ACPI power-off failed ({}), halting", e.description());
    }
    short_delay(1_000_000);
    pr_emerg!("reboot: System halted");
    machine_halt()
}

/// Restarts the machine (Linux: `kernel_restart`, then
/// `native_machine_emergency_restart`).
pub fn kernel_restart() -> ! {
    pr_emerg!("reboot: Restarting system");
    local_irq_disable();
    if acpi::acpi_reboot().is_ok() {
        short_delay(1_000_000);
    }
    reset_via_cf9();
    short_delay(1_000_000);
    reset_via_kbd();
    short_delay(1_000_000);
    reset_via_triple_fault()
}

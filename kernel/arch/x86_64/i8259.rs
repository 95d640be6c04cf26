//! The two 8259A PICs: remapped away from the exception vectors and fully
//! masked, because the IOAPIC and local APIC deliver every interrupt.
//!
//! Linux: arch/x86/kernel/i8259.c (`init_8259A`, `legacy_pic`), and
//! `mask_8259A` when the IOAPIC takes over.
//!
//! Even masked, a PIC can raise a spurious IRQ 7 or 15 on its old vector,
//! so it is remapped to 0x20-0x2f, a range that has no other users.
//!
//! # Locking
//! `init_8259a` runs once on the boot CPU with interrupts off, before any
//! other CPU starts; nothing touches the PICs afterwards.

use x86_64::instructions::port::Port;

use crate::arch::irq_vectors::FIRST_EXTERNAL_VECTOR;

const PIC_MASTER_CMD: u16 = 0x20;
const PIC_MASTER_IMR: u16 = 0x21;
const PIC_SLAVE_CMD: u16 = 0xa0;
const PIC_SLAVE_IMR: u16 = 0xa1;
/// Linux: `PIC_CASCADE_IR`, the master input the slave hangs on.
const PIC_CASCADE_IR: u8 = 2;

/// ICW1: edge triggered, cascade mode, ICW4 needed.
const ICW1_INIT_ICW4: u8 = 0x11;
/// ICW4: 8086 mode, normal EOI.
const ICW4_8086: u8 = 0x01;

fn outb(port: u16, value: u8) {
    let mut p = Port::<u8>::new(port);
    // SAFETY: the ports are the PICs' command and mask registers, present
    // on every PC chipset; programming them touches no memory.
    unsafe { p.write(value) };
    // The 8259 needs a moment between writes; port 0x80 is the POST code
    // port Linux uses for the same delay (`outb_p`).
    let mut delay = Port::<u8>::new(0x80);
    // SAFETY: writing the POST diagnostic port has no effect but time.
    unsafe { delay.write(0) };
}

/// Remaps both PICs to vectors 0x20-0x2f and masks every line (Linux:
/// `init_8259A(0)` followed by `mask_8259A`).
pub fn init_8259a() {
    outb(PIC_MASTER_IMR, 0xff);
    outb(PIC_SLAVE_IMR, 0xff);
    outb(PIC_MASTER_CMD, ICW1_INIT_ICW4);
    outb(PIC_MASTER_IMR, FIRST_EXTERNAL_VECTOR);
    outb(PIC_MASTER_IMR, 1 << PIC_CASCADE_IR);
    outb(PIC_MASTER_IMR, ICW4_8086);
    outb(PIC_SLAVE_CMD, ICW1_INIT_ICW4);
    outb(PIC_SLAVE_IMR, FIRST_EXTERNAL_VECTOR + 8);
    outb(PIC_SLAVE_IMR, PIC_CASCADE_IR);
    outb(PIC_SLAVE_IMR, ICW4_8086);
    outb(PIC_MASTER_IMR, 0xff);
    outb(PIC_SLAVE_IMR, 0xff);
}

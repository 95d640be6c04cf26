//! The interrupt vector map.
//!
//! Linux: arch/x86/include/asm/irq_vectors.h.
//!
//! ```text
//!   0x00 - 0x1f   CPU exceptions
//!   0x20 - 0x2f   unused (where the 8259 PICs would deliver; they are masked)
//!   0x30 - 0x3f   ISA IRQs 0-15, routed through the IOAPIC
//!   0x40 - 0xeb   device interrupts (MSI, PCI)
//!   0xec          local APIC timer
//!   0xff          spurious APIC interrupt
//! ```

pub const FIRST_EXTERNAL_VECTOR: u8 = 0x20;
/// Linux: `ISA_IRQ_VECTOR(0)`.
pub const ISA_IRQ_VECTOR_BASE: u8 = 0x30;
pub const LOCAL_TIMER_VECTOR: u8 = 0xec;
pub const SPURIOUS_APIC_VECTOR: u8 = 0xff;

/// The vector ISA interrupt line `irq` (0-15) arrives on.
pub const fn isa_irq_vector(irq: u8) -> u8 {
    ISA_IRQ_VECTOR_BASE + (irq & 0xf)
}

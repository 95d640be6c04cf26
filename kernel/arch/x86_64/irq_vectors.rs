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

/// The device-interrupt range of the map above.
pub const FIRST_DEVICE_VECTOR: u8 = 0x40;
pub const LAST_DEVICE_VECTOR: u8 = 0xeb;

static NEXT_DEVICE_VECTOR: core::sync::atomic::AtomicU8 =
    core::sync::atomic::AtomicU8::new(FIRST_DEVICE_VECTOR);

/// Hands out a free device vector for an MSI/MSI-X interrupt, `None` once
/// the range is used up; vectors are never given back (Linux:
/// `irq_matrix_alloc`, without freeing or per-CPU matrices).
pub fn alloc_device_vector() -> Option<u8> {
    use core::sync::atomic::Ordering;
    NEXT_DEVICE_VECTOR
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
            (v <= LAST_DEVICE_VECTOR).then(|| v.wrapping_add(1))
        })
        .ok()
}

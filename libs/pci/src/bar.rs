//! Base address registers: what the sizing probe says about a BAR.
//!
//! Linux: drivers/pci/probe.c (`__pci_read_base`, `pci_size`,
//! `decode_bar`). The kernel writes all ones to a BAR, reads back which
//! address bits stick, restores the original value, and hands both
//! values here; a 64-bit memory BAR also hands the next BAR's pair.

use crate::regs::*;

/// The address space a BAR decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarKind {
    /// x86 I/O ports.
    Io,
    /// Memory below 4 GiB.
    Mem32,
    /// Memory anywhere; the BAR takes two slots.
    Mem64,
}

/// One decoded BAR (Linux: a `struct resource` in `pci_dev->resource[]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bar {
    pub kind: BarKind,
    pub prefetchable: bool,
    /// The base the firmware assigned (0: not assigned).
    pub addr: u64,
    /// A power of two.
    pub size: u64,
}

impl Bar {
    /// Whether this BAR maps memory (MMIO) rather than I/O ports.
    pub fn is_mem(&self) -> bool {
        self.kind != BarKind::Io
    }

    /// The last address decoded, saturating on a nonsensical BAR.
    pub fn end(&self) -> u64 {
        self.addr.saturating_add(self.size.saturating_sub(1))
    }
}

/// Whether a BAR's original value marks a 64-bit memory BAR, which also
/// uses the following slot for its upper half.
pub fn bar_is_64(orig: u32) -> bool {
    orig & PCI_BASE_ADDRESS_SPACE_IO == 0
        && orig & PCI_BASE_ADDRESS_MEM_TYPE_MASK == PCI_BASE_ADDRESS_MEM_TYPE_64
}

/// Decodes one BAR from its value before (`orig`) and after (`sized`)
/// writing all ones; `hi` is the (orig, sized) pair of the upper half of
/// a 64-bit BAR. `None` for a BAR the device does not implement, or one
/// whose report makes no sense (a 64-bit BAR without its upper half).
pub fn decode_bar(orig: u32, sized: u32, hi: Option<(u32, u32)>) -> Option<Bar> {
    if orig & PCI_BASE_ADDRESS_SPACE_IO != 0 {
        let mask = u64::from(PCI_BASE_ADDRESS_IO_MASK & 0xffff);
        let size = pci_size(u64::from(sized), mask)?;
        let addr = u64::from(orig & PCI_BASE_ADDRESS_IO_MASK);
        return Some(Bar { kind: BarKind::Io, prefetchable: false, addr, size });
    }
    let prefetchable = orig & PCI_BASE_ADDRESS_MEM_PREFETCH != 0;
    let low_mask = u64::from(PCI_BASE_ADDRESS_MEM_MASK);
    let (kind, addr, maxbase, mask) = if bar_is_64(orig) {
        let (orig_hi, sized_hi) = hi?;
        let addr = u64::from(orig & PCI_BASE_ADDRESS_MEM_MASK) | u64::from(orig_hi) << 32;
        let maxbase = u64::from(sized) | u64::from(sized_hi) << 32;
        (BarKind::Mem64, addr, maxbase, low_mask | 0xffff_ffff_0000_0000)
    } else {
        let addr = u64::from(orig & PCI_BASE_ADDRESS_MEM_MASK);
        (BarKind::Mem32, addr, u64::from(sized), low_mask)
    };
    let size = pci_size(maxbase, mask)?;
    Some(Bar { kind, prefetchable, addr, size })
}

/// The decode size: the lowest address bit that stuck to one (Linux:
/// `pci_size`). `None` when no bit stuck: the BAR is not implemented.
fn pci_size(maxbase: u64, mask: u64) -> Option<u64> {
    let bits = maxbase & mask;
    (bits != 0).then(|| bits & bits.wrapping_neg())
}

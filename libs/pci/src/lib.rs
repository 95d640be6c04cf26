//! PCI configuration space as pure logic: the type-0/1 header layout, BAR
//! decoding after the write-ones sizing probe, the capability list walk,
//! and virtio's vendor-specific capabilities.
//!
//! Linux: include/uapi/linux/pci_regs.h (register offsets and bits),
//! drivers/pci/probe.c (`__pci_read_base`, `pci_size`),
//! drivers/pci/pci.c (`__pci_find_next_cap_ttl`),
//! include/uapi/linux/virtio_pci.h (`struct virtio_pci_cap`).
//!
//! A device can report anything: every function here takes what the
//! device said and either decodes it or returns `None`; nothing indexes
//! out of bounds, loops forever or overflows. The kernel does the port or
//! MMIO accesses and hands the values (or a 256-byte snapshot of the
//! configuration space) to these functions. No locking, no allocation but
//! the capability list's `Vec`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod bar;
mod cap;
pub mod regs;

#[cfg(test)]
mod tests;

pub use bar::{Bar, BarKind, bar_is_64, decode_bar};
pub use cap::{Capability, VirtioPciCap, capabilities, virtio_pci_caps};

/// The size of the configuration space reachable through the legacy
/// 0xCF8/0xCFC ports (PCIe's extended space needs ECAM).
pub const PCI_CFG_SPACE_SIZE: usize = 256;

/// A snapshot of one function's configuration space, read as
/// little-endian values with bounds checks.
#[derive(Clone)]
pub struct ConfigSpace(pub [u8; PCI_CFG_SPACE_SIZE]);

impl ConfigSpace {
    /// The byte at `off`, or 0xff (what an absent register reads as)
    /// past the end.
    pub fn read8(&self, off: usize) -> u8 {
        self.0.get(off).copied().unwrap_or(0xff)
    }

    /// The little-endian 16-bit value at `off`.
    pub fn read16(&self, off: usize) -> u16 {
        u16::from_le_bytes([self.read8(off), self.read8(off + 1)])
    }

    /// The little-endian 32-bit value at `off`.
    pub fn read32(&self, off: usize) -> u32 {
        u32::from(self.read16(off)) | u32::from(self.read16(off + 2)) << 16
    }
}

/// Linux: `PCI_DEVFN(slot, func)`.
pub const fn pci_devfn(slot: u8, func: u8) -> u8 {
    ((slot & 0x1f) << 3) | (func & 0x07)
}

/// Linux: `PCI_SLOT(devfn)`.
pub const fn pci_slot(devfn: u8) -> u8 {
    devfn >> 3
}

/// Linux: `PCI_FUNC(devfn)`.
pub const fn pci_func(devfn: u8) -> u8 {
    devfn & 0x07
}

/// The value written to 0xCF8 to select `reg` of `bus:devfn` (Linux:
/// `PCI_CONF1_ADDRESS`); the low two bits of `reg` select a byte lane of
/// the dword at 0xCFC instead.
pub const fn pci_conf1_address(bus: u8, devfn: u8, reg: u8) -> u32 {
    0x8000_0000 | (bus as u32) << 16 | (devfn as u32) << 8 | (reg as u32 & 0xfc)
}

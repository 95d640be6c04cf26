//! PCI: enumeration at boot and the list of devices found, for drivers
//! to bind to and for a later `/sys/bus/pci/devices`.
//!
//! Linux: drivers/pci/ (probe.c, pci.c, search.c), arch/x86/pci/
//! (direct.c, init.c). Files: `access` (configuration mechanism #1,
//! ports 0xCF8/0xCFC), `probe` (bus scan, BAR sizing, capabilities),
//! `iomap` (BAR registers as `IoMem`), `dma` (`DmaCoherent` memory). The
//! pure parsing (header layout, BARs, capability walk) is libs/pci.
//!
//! Only the legacy ports are used: they reach the 256-byte configuration
//! space, which holds everything probed here (PCIe's extended space through
//! ECAM from ACPI's MCFG is for later).
//!
//! # Locking
//! `PCI_DEVICES` (Linux: `pci_bus_sem` over the bus lists) is a leaf: it is
//! held only to copy or fill the list, never across a config access.
//! `access::PCI_CONFIG_LOCK` is a leaf too.

pub mod access;
pub mod dma;
pub mod iomap;
pub mod msi;
pub mod probe;
pub mod window;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use pci::regs::{PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY};
use pci::{Bar, BarKind, Capability, ConfigSpace, pci_func, pci_slot};

use crate::kernel::locking::SpinLock;
use crate::pr_info;

/// One PCI function (Linux: `struct pci_dev`), as probed at boot.
pub struct PciDev {
    pub bus: u8,
    pub devfn: u8,
    pub vendor: u16,
    pub device: u16,
    /// Class, subclass and programming interface (Linux: `class`).
    pub class: u32,
    /// `PCI_HEADER_TYPE_*` without the multi-function bit.
    pub hdr_type: u8,
    pub multifunction: bool,
    /// The legacy interrupt pin, 1-4 for INTA-INTD, 0 for none.
    pub irq_pin: u8,
    /// Linux: `resource[0..6]`; the upper slot of a 64-bit BAR is `None`.
    pub bars: [Option<Bar>; pci::regs::PCI_STD_NUM_BARS],
    pub caps: Vec<Capability>,
    /// The configuration space as read at probe time (the static parts,
    /// such as vendor capabilities, are parsed from it).
    pub cfg: ConfigSpace,
}

impl PciDev {
    /// Linux: `pci_name()`, "0000:00:03.0".
    pub fn name(&self) -> PciName {
        PciName(self.bus, self.devfn)
    }

    /// Whether the device has a capability with `id` (Linux:
    /// `pci_find_capability`); returns its offset.
    pub fn find_capability(&self, id: u8) -> Option<u8> {
        self.caps.iter().find(|c| c.id == id).map(|c| c.offset)
    }

    /// Turns on memory decode (Linux: `pci_enable_device_mem`).
    pub fn enable_device_mem(&self) {
        self.set_command_bits(PCI_COMMAND_MEMORY);
    }

    /// Lets the device master the bus, i.e. do DMA (Linux: `pci_set_master`).
    pub fn set_master(&self) {
        self.set_command_bits(PCI_COMMAND_MASTER);
    }

    fn set_command_bits(&self, bits: u16) {
        let cmd = access::pci_conf1_read16(self.bus, self.devfn, PCI_COMMAND);
        if cmd & bits != bits {
            access::pci_conf1_write16(self.bus, self.devfn, PCI_COMMAND, cmd | bits);
        }
    }
}

/// A device's name as Linux prints it: domain, bus, slot and function.
pub struct PciName(u8, u8);

impl fmt::Display for PciName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0000:{:02x}:{:02x}.{}", self.0, pci_slot(self.1), pci_func(self.1))
    }
}

/// A BAR as Linux's `%pR` prints a resource: "[mem 0xfe000000-0xfe003fff
/// 64bit pref]".
pub struct BarFmt<'a>(pub &'a Bar);

impl fmt::Display for BarFmt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bar = self.0;
        if bar.is_mem() {
            write!(f, "[mem {:#010x}-{:#010x}", bar.addr, bar.end())?;
        } else {
            write!(f, "[io  {:#06x}-{:#06x}", bar.addr, bar.end())?;
        }
        if bar.kind == BarKind::Mem64 {
            f.write_str(" 64bit")?;
        }
        if bar.prefetchable {
            f.write_str(" pref")?;
        }
        f.write_str("]")
    }
}

/// Every function found, in scan order.
static PCI_DEVICES: SpinLock<Vec<Arc<PciDev>>> = SpinLock::new(Vec::new());

/// A copy of the device list (for drivers to bind and sysfs to show).
pub fn pci_devices() -> Vec<Arc<PciDev>> {
    PCI_DEVICES.lock().clone()
}

/// The devices matching `vendor` and one of `devices` (Linux: a driver's
/// `pci_device_id` table matched by `pci_match_id`).
pub fn pci_find_devices(vendor: u16, devices: &[u16]) -> Vec<Arc<PciDev>> {
    let list = PCI_DEVICES.lock();
    list.iter().filter(|d| d.vendor == vendor && devices.contains(&d.device)).cloned().collect()
}

/// Enumerates the PCI buses at boot (Linux: `pci_subsys_init` with
/// `pci_direct_init`), then binds the drivers we have.
pub fn pci_subsys_init() {
    if !access::pci_check_type1() {
        pr_info!("PCI: Fatal: No config space access function found");
        return;
    }
    pr_info!("PCI: Using configuration type 1 for base access");
    let found = probe::pci_scan_root_bus();
    *PCI_DEVICES.lock() = found;
    crate::drivers::block::virtio_blk::virtio_blk_init();
}

//! MSI-X: a device signals an interrupt by writing a message (an address
//! in the local APIC's window and a vector) that the driver programmed
//! into the device's MSI-X table, a BAR region the capability points at.
//!
//! Linux: drivers/pci/msi/msi.c (`msix_capability_init`,
//! `pci_msix_write_vector_ctrl`), drivers/pci/msi/irqdomain.c,
//! arch/x86/kernel/apic/msi.c (`__irq_msi_compose_msg`: address
//! 0xFEE00000 | destination APIC id << 12, data = vector, fixed delivery,
//! edge), include/uapi/linux/pci_regs.h (`PCI_MSIX_*`).
//!
//! Every entry goes to the boot CPU in physical destination mode; there is
//! no affinity and no remapping.
//!
//! # Locking
//! None: called once per device from its probe, before interrupts from it
//! are possible.

use pci::regs::{PCI_CAP_ID_MSIX, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE};

use super::PciDev;
use super::access::{pci_conf1_read16, pci_conf1_read32, pci_conf1_write16};
use super::iomap::{IoMem, pci_iomap_range};
use crate::kernel::errno::{Errno, KResult};

/// Capability registers (Linux: `PCI_MSIX_FLAGS`, `PCI_MSIX_TABLE`).
const PCI_MSIX_FLAGS: usize = 2;
const PCI_MSIX_FLAGS_QSIZE: u16 = 0x07ff;
const PCI_MSIX_FLAGS_MASKALL: u16 = 0x4000;
const PCI_MSIX_FLAGS_ENABLE: u16 = 0x8000;
const PCI_MSIX_TABLE: usize = 4;
const PCI_MSIX_TABLE_BIR: u32 = 7;
/// One table entry: address low, high, data, vector control.
const PCI_MSIX_ENTRY_SIZE: usize = 16;
const PCI_MSIX_ENTRY_DATA: usize = 8;
const PCI_MSIX_ENTRY_VECTOR_CTRL: usize = 12;
const PCI_MSIX_ENTRY_CTRL_MASKBIT: u32 = 1;
/// The local APIC's MSI window (Linux: `X86_MSI_BASE_ADDRESS_LOW`).
const MSI_ADDR_BASE_LO: u32 = 0xfee0_0000;

/// A device's MSI-X table, mapped; dropping it leaves MSI-X as it is.
pub struct MsixTable {
    table: IoMem,
    entries: u16,
}

impl MsixTable {
    /// Points entry `index` at `vector` on APIC `apic_id` and unmasks it
    /// (Linux: `__pci_write_msi_msg` + `pci_msix_unmask`).
    pub fn set_entry(&self, index: u16, vector: u8, apic_id: u32) -> KResult<()> {
        if index >= self.entries || apic_id > 0xff {
            return Err(Errno::EINVAL);
        }
        let at = usize::from(index) * PCI_MSIX_ENTRY_SIZE;
        self.table.write32(at + PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_ENTRY_CTRL_MASKBIT);
        self.table.write32(at, MSI_ADDR_BASE_LO | apic_id << 12);
        self.table.write32(at + 4, 0);
        self.table.write32(at + PCI_MSIX_ENTRY_DATA, u32::from(vector));
        self.table.write32(at + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
        Ok(())
    }
}

/// Maps `dev`'s MSI-X table and turns MSI-X on with every entry masked,
/// INTx off (Linux: `pci_alloc_irq_vectors(..., PCI_IRQ_MSIX)` without the
/// vector allocation, which the caller does). `ENODEV` without the
/// capability.
pub fn pci_enable_msix(dev: &PciDev) -> KResult<MsixTable> {
    let cap = usize::from(dev.find_capability(PCI_CAP_ID_MSIX).ok_or(Errno::ENODEV)?);
    let flags = pci_conf1_read16(dev.bus, dev.devfn, cap + PCI_MSIX_FLAGS);
    let entries = (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
    let table_reg = pci_conf1_read32(dev.bus, dev.devfn, cap + PCI_MSIX_TABLE);
    let bir = usize::try_from(table_reg & PCI_MSIX_TABLE_BIR).map_err(|_| Errno::EINVAL)?;
    let offset = u64::from(table_reg & !PCI_MSIX_TABLE_BIR);
    let len = usize::from(entries) * PCI_MSIX_ENTRY_SIZE;
    let table = pci_iomap_range(dev, bir, offset, len)?;
    dev.enable_device_mem();
    // Enabled but masked as a whole while the entries are written.
    let masked = flags | PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL;
    pci_conf1_write16(dev.bus, dev.devfn, cap + PCI_MSIX_FLAGS, masked);
    let table = MsixTable { table, entries };
    for i in 0..entries {
        let at = usize::from(i) * PCI_MSIX_ENTRY_SIZE;
        table.table.write32(at + PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_ENTRY_CTRL_MASKBIT);
    }
    let cmd = pci_conf1_read16(dev.bus, dev.devfn, PCI_COMMAND);
    pci_conf1_write16(dev.bus, dev.devfn, PCI_COMMAND, cmd | PCI_COMMAND_INTX_DISABLE);
    let enabled = (flags | PCI_MSIX_FLAGS_ENABLE) & !PCI_MSIX_FLAGS_MASKALL;
    pci_conf1_write16(dev.bus, dev.devfn, cap + PCI_MSIX_FLAGS, enabled);
    Ok(table)
}

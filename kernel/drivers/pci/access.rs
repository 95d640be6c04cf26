//! Configuration space through the legacy ports: write the address of a
//! dword to 0xCF8 (`CONFIG_ADDRESS`), then read or write it at 0xCFC
//! (`CONFIG_DATA`), a byte or word lane at 0xCFC + (reg & 3).
//!
//! Linux: arch/x86/pci/direct.c (`pci_conf1_read`, `pci_conf1_write`,
//! `pci_check_type1`), arch/x86/pci/common.c (`pci_config_lock`).
//!
//! # Locking
//! `PCI_CONFIG_LOCK` (Linux: `pci_config_lock`, a leaf) covers the
//! address/data pair: another CPU must not move 0xCF8 between our write of
//! it and our access to 0xCFC.

use pci::pci_conf1_address;
use x86_64::instructions::port::Port;

use crate::kernel::locking::SpinLock;

const PCI_CONF1_ADDRESS_PORT: u16 = 0xcf8;
const PCI_CONF1_DATA_PORT: u16 = 0xcfc;

static PCI_CONFIG_LOCK: SpinLock<()> = SpinLock::new(());

/// Selects `reg` of `bus:devfn`; the caller holds `PCI_CONFIG_LOCK`.
fn select(bus: u8, devfn: u8, reg: u8) {
    let mut addr = Port::<u32>::new(PCI_CONF1_ADDRESS_PORT);
    // SAFETY: 0xCF8 is the host bridge's configuration address register;
    // writing it selects a register and touches no memory.
    unsafe { addr.write(pci_conf1_address(bus, devfn, reg)) };
}

/// Reads the dword at `reg & !3` (Linux: `pci_conf1_read` with len 4);
/// past the 256-byte space it reads all ones, as an absent register does.
pub fn pci_conf1_read32(bus: u8, devfn: u8, reg: usize) -> u32 {
    let Ok(reg) = u8::try_from(reg) else { return !0 };
    let _guard = PCI_CONFIG_LOCK.lock();
    select(bus, devfn, reg);
    let mut data = Port::<u32>::new(PCI_CONF1_DATA_PORT);
    // SAFETY: reads the configuration register selected above; a
    // configuration read has no side effect on memory.
    unsafe { data.read() }
}

/// Reads the 16-bit register at `reg` (`reg` even).
pub fn pci_conf1_read16(bus: u8, devfn: u8, reg: usize) -> u16 {
    let dword = pci_conf1_read32(bus, devfn, reg);
    let shifted = if reg & 2 != 0 { dword >> 16 } else { dword };
    #[expect(clippy::cast_possible_truncation, reason = "the low half is the register")]
    let value = shifted as u16;
    value
}

/// Writes the dword at `reg & !3` (Linux: `pci_conf1_write` with len 4);
/// a write past the 256-byte space is dropped.
pub fn pci_conf1_write32(bus: u8, devfn: u8, reg: usize, value: u32) {
    let Ok(reg) = u8::try_from(reg) else { return };
    let _guard = PCI_CONFIG_LOCK.lock();
    select(bus, devfn, reg);
    let mut data = Port::<u32>::new(PCI_CONF1_DATA_PORT);
    // SAFETY: writes the configuration register selected above. Callers
    // write only registers whose effect they own (BAR sizing with decode
    // off, the command register); none makes the device write memory the
    // kernel has not handed it.
    unsafe { data.write(value) };
}

/// Writes the 16-bit register at `reg` (`reg` even) with a 16-bit access,
/// so that the neighbouring register (the status word beside the command
/// word, whose bits clear when written with ones) is left alone.
pub fn pci_conf1_write16(bus: u8, devfn: u8, reg: usize, value: u16) {
    let Ok(reg) = u8::try_from(reg) else { return };
    let _guard = PCI_CONFIG_LOCK.lock();
    select(bus, devfn, reg);
    let mut data = Port::<u16>::new(PCI_CONF1_DATA_PORT + u16::from(reg & 2));
    // SAFETY: as in `pci_conf1_write32`, a word lane of the data register.
    unsafe { data.write(value) };
}

/// Whether the host bridge answers configuration mechanism #1 (Linux:
/// `pci_check_type1`): the address register must keep the enable bit.
pub fn pci_check_type1() -> bool {
    let _guard = PCI_CONFIG_LOCK.lock();
    let mut addr = Port::<u32>::new(PCI_CONF1_ADDRESS_PORT);
    // SAFETY: reads the address register; no side effect.
    let saved = unsafe { addr.read() };
    // SAFETY: selects nothing in particular; restored below.
    unsafe { addr.write(0x8000_0000) };
    // SAFETY: reads back what stuck.
    let works = unsafe { addr.read() } == 0x8000_0000;
    // SAFETY: restores the previous selection.
    unsafe { addr.write(saved) };
    works
}

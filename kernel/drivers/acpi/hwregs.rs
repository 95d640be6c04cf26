//! Reading and writing ACPI fixed-hardware registers wherever the FADT
//! says they are (I/O ports, PCI configuration space).
//!
//! Linux: drivers/acpi/acpica/hwregs.c (`acpi_hw_read`, `acpi_hw_write`),
//! hwxface.c (`acpi_reset`).
//!
//! # Locking
//! None: each access is one port instruction. Callers that need a
//! read-modify-write to be atomic (PM1 control on power-off) run with
//! interrupts off on the only CPU still going.
#![deny(unsafe_code)]

use super::fadt::{
    ACPI_ADR_SPACE_PCI_CONFIG, ACPI_ADR_SPACE_SYSTEM_IO, ACPI_ADR_SPACE_SYSTEM_MEMORY,
    AcpiGenericAddress,
};
use super::osl::{acpi_os_read_port, acpi_os_write_pci_configuration_u8, acpi_os_write_port};
use crate::kernel::errno::{Errno, KResult};

/// The access width in bits: the GAS access size if given, else its bit
/// width, else `default`; always 8, 16 or 32.
fn access_bits(reg: &AcpiGenericAddress, default: u8) -> u8 {
    let bits = match reg.access_width {
        1 => 8,
        2 => 16,
        3 | 4 => 32,
        _ if reg.bit_width != 0 => reg.bit_width,
        _ => default,
    };
    match bits {
        0..=8 => 8,
        9..=16 => 16,
        _ => 32,
    }
}

/// A register's port number, if it is an I/O port (ports are 16 bits).
fn io_port(reg: &AcpiGenericAddress) -> KResult<u16> {
    if reg.space_id != ACPI_ADR_SPACE_SYSTEM_IO {
        return Err(Errno::ENXIO);
    }
    u16::try_from(reg.address).map_err(|_| Errno::EINVAL)
}

/// Reads a register (Linux: `acpi_hw_read`); only I/O space so far.
pub fn acpi_hw_read(reg: &AcpiGenericAddress, default_bits: u8) -> KResult<u32> {
    if !reg.is_present() {
        return Err(Errno::ENODEV);
    }
    Ok(acpi_os_read_port(io_port(reg)?, access_bits(reg, default_bits)))
}

/// Writes a register (Linux: `acpi_hw_write`). System-memory registers
/// need an ioremap and are refused with `ENXIO` for now.
pub fn acpi_hw_write(reg: &AcpiGenericAddress, value: u32, default_bits: u8) -> KResult<()> {
    if !reg.is_present() {
        return Err(Errno::ENODEV);
    }
    match reg.space_id {
        ACPI_ADR_SPACE_SYSTEM_IO => {
            acpi_os_write_port(io_port(reg)?, value, access_bits(reg, default_bits));
            Ok(())
        }
        ACPI_ADR_SPACE_PCI_CONFIG => {
            // GAS PCI address: device in bits 32-47, function 16-31,
            // register offset 0-15, bus 0.
            let a = reg.address.to_le_bytes();
            let (dev, func, off) = (a[4], a[2], a[0]);
            acpi_os_write_pci_configuration_u8(0, dev, func, off, value.to_le_bytes()[0]);
            Ok(())
        }
        ACPI_ADR_SPACE_SYSTEM_MEMORY => Err(Errno::ENXIO),
        _ => Err(Errno::EINVAL),
    }
}

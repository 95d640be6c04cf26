//! The FADT ("FACP"): where the ACPI fixed-hardware registers are (PM1
//! event and control blocks, PM timer, reset register), the SCI, and the
//! addresses of the DSDT and FACS.
//!
//! Linux: drivers/acpi/acpica/tbfadt.c (`acpi_tb_parse_fadt`,
//! `acpi_tb_convert_fadt`: prefer the 64-bit X_ fields, fall back to the
//! 32-bit ones), include/acpi/actbl.h (`struct acpi_table_fadt`).
//!
//! # Locking
//! None here: [`AcpiFadt`] is a plain value; `acpi_init` stores the boot
//! copy once.
#![deny(unsafe_code)]

use super::tables::{AcpiTable, get_u8, get_u16, get_u32, get_u64};

/// Linux: `ACPI_ADR_SPACE_SYSTEM_MEMORY`, `_SYSTEM_IO`, `_PCI_CONFIG`.
pub const ACPI_ADR_SPACE_SYSTEM_MEMORY: u8 = 0;
pub const ACPI_ADR_SPACE_SYSTEM_IO: u8 = 1;
pub const ACPI_ADR_SPACE_PCI_CONFIG: u8 = 2;

/// FADT flags (Linux: `ACPI_FADT_*`).
pub const ACPI_FADT_RESET_REGISTER: u32 = 1 << 10;

/// A register's location (Linux: `struct acpi_generic_address`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AcpiGenericAddress {
    pub space_id: u8,
    pub bit_width: u8,
    pub bit_offset: u8,
    pub access_width: u8,
    pub address: u64,
}

impl AcpiGenericAddress {
    fn parse(b: &[u8], off: usize) -> Option<Self> {
        Some(Self {
            space_id: get_u8(b, off)?,
            bit_width: get_u8(b, off + 1)?,
            bit_offset: get_u8(b, off + 2)?,
            access_width: get_u8(b, off + 3)?,
            address: get_u64(b, off + 4)?,
        })
    }

    /// A legacy 32-bit port block of `len` bytes, as a system-I/O address.
    fn io_block(port: u32, len: u8) -> Self {
        Self {
            space_id: ACPI_ADR_SPACE_SYSTEM_IO,
            bit_width: len.saturating_mul(8),
            bit_offset: 0,
            access_width: 0,
            address: u64::from(port),
        }
    }

    pub fn is_present(&self) -> bool {
        self.address != 0
    }
}

/// The parts of the FADT Ferrite uses (Linux: `acpi_gbl_FADT`).
#[allow(
    dead_code,
    reason = "decoded in full from the firmware table; not every field has a user yet"
)]
#[derive(Clone, Copy, Debug, Default)]
pub struct AcpiFadt {
    pub revision: u8,
    pub sci_interrupt: u16,
    pub smi_command: u32,
    pub acpi_enable: u8,
    pub pm1a_event_block: AcpiGenericAddress,
    pub pm1b_event_block: AcpiGenericAddress,
    pub pm1a_control_block: AcpiGenericAddress,
    pub pm1b_control_block: AcpiGenericAddress,
    pub pm_timer_block: AcpiGenericAddress,
    pub boot_flags: u16,
    pub flags: u32,
    pub reset_register: AcpiGenericAddress,
    pub reset_value: u8,
    pub dsdt: u64,
}

// Byte offsets in the FADT (ACPI 6.5, table 5.9).
const FIRMWARE_CTRL: usize = 36;
const DSDT: usize = 40;
const SCI_INT: usize = 46;
const SMI_CMD: usize = 48;
const ACPI_ENABLE: usize = 52;
const PM1A_EVT_BLK: usize = 56;
const PM1B_EVT_BLK: usize = 60;
const PM1A_CNT_BLK: usize = 64;
const PM1B_CNT_BLK: usize = 68;
const PM_TMR_BLK: usize = 76;
const PM1_EVT_LEN: usize = 88;
const PM1_CNT_LEN: usize = 89;
const PM_TMR_LEN: usize = 91;
const IAPC_BOOT_ARCH: usize = 109;
const FLAGS: usize = 112;
const RESET_REG: usize = 116;
const RESET_VALUE: usize = 128;
const X_FIRMWARE_CTRL: usize = 132;
const X_DSDT: usize = 140;
const X_PM1A_EVT_BLK: usize = 148;
const X_PM1B_EVT_BLK: usize = 160;
const X_PM1A_CNT_BLK: usize = 172;
const X_PM1B_CNT_BLK: usize = 184;
const X_PM_TMR_BLK: usize = 208;

/// The 64-bit X_ block at `x_off` if the table has it and it is set, else
/// the 32-bit port at `off` (Linux: `acpi_tb_convert_fadt`).
fn block(b: &[u8], x_off: usize, off: usize, len_off: usize) -> AcpiGenericAddress {
    AcpiGenericAddress::parse(b, x_off).filter(AcpiGenericAddress::is_present).unwrap_or_else(
        || {
            AcpiGenericAddress::io_block(
                get_u32(b, off).unwrap_or(0),
                get_u8(b, len_off).unwrap_or(0),
            )
        },
    )
}

/// Decodes a checked FADT; fields the table is too short to hold are 0.
pub fn acpi_tb_parse_fadt(t: &AcpiTable) -> AcpiFadt {
    let b = t.bytes;
    AcpiFadt {
        revision: t.revision(),
        sci_interrupt: get_u16(b, SCI_INT).unwrap_or(0),
        smi_command: get_u32(b, SMI_CMD).unwrap_or(0),
        acpi_enable: get_u8(b, ACPI_ENABLE).unwrap_or(0),
        pm1a_event_block: block(b, X_PM1A_EVT_BLK, PM1A_EVT_BLK, PM1_EVT_LEN),
        pm1b_event_block: block(b, X_PM1B_EVT_BLK, PM1B_EVT_BLK, PM1_EVT_LEN),
        pm1a_control_block: block(b, X_PM1A_CNT_BLK, PM1A_CNT_BLK, PM1_CNT_LEN),
        pm1b_control_block: block(b, X_PM1B_CNT_BLK, PM1B_CNT_BLK, PM1_CNT_LEN),
        pm_timer_block: block(b, X_PM_TMR_BLK, PM_TMR_BLK, PM_TMR_LEN),
        boot_flags: get_u16(b, IAPC_BOOT_ARCH).unwrap_or(0),
        flags: get_u32(b, FLAGS).unwrap_or(0),
        reset_register: AcpiGenericAddress::parse(b, RESET_REG).unwrap_or_default(),
        reset_value: get_u8(b, RESET_VALUE).unwrap_or(0),
        dsdt: dsdt_address(t).unwrap_or(0),
    }
}

/// X_DSDT if present and non-zero, else DSDT.
pub fn dsdt_address(t: &AcpiTable) -> Option<u64> {
    get_u64(t.bytes, X_DSDT)
        .filter(|&a| a != 0)
        .or_else(|| get_u32(t.bytes, DSDT).map(u64::from))
        .filter(|&a| a != 0)
}

/// X_FIRMWARE_CTRL if present and non-zero, else FIRMWARE_CTRL.
pub fn facs_address(t: &AcpiTable) -> Option<u64> {
    get_u64(t.bytes, X_FIRMWARE_CTRL)
        .filter(|&a| a != 0)
        .or_else(|| get_u32(t.bytes, FIRMWARE_CTRL).map(u64::from))
        .filter(|&a| a != 0)
}

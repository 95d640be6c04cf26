//! Power-off: the S5 sleep state, entered by writing SLP_TYP and SLP_EN to
//! the PM1 control registers.
//!
//! Linux: drivers/acpi/sleep.c (`acpi_power_off`), drivers/acpi/acpica/
//! hwsleep.c (`acpi_hw_legacy_sleep`), hwxface.c
//! (`acpi_get_sleep_type_data`).
//!
//! SLP_TYPa/b for S5 live in the DSDT as `Name (_S5, Package () {a, b, ..})`.
//! Ferrite has no AML interpreter, so [`acpi_get_sleep_type_data`] finds
//! that one object in the bytecode by pattern, with every read bounds
//! checked: NameOp (0x08), optional root prefix '\', "_S5_", PackageOp
//! (0x12), PkgLength, NumElements, then integers encoded as ZeroOp (0x00),
//! OneOp (0x01), OnesOp (0xff) or BytePrefix (0x0a) / WordPrefix (0x0b) /
//! DWordPrefix (0x0c) followed by the value.
//!
//! # Locking
//! None: power-off runs with interrupts off, as the last thing the kernel
//! does.
#![deny(unsafe_code)]

use super::fadt::AcpiFadt;
use super::hwregs::{acpi_hw_read, acpi_hw_write};
use super::tables::{ACPI_TABLE_HEADER_LEN, get_u8, get_u16, get_u32};
use crate::kernel::errno::{Errno, KResult};

const AML_NAME_OP: u8 = 0x08;
const AML_ROOT_PREFIX: u8 = b'\\';
const AML_PACKAGE_OP: u8 = 0x12;
const AML_ZERO_OP: u8 = 0x00;
const AML_ONE_OP: u8 = 0x01;
const AML_ONES_OP: u8 = 0xff;
const AML_BYTE_PREFIX: u8 = 0x0a;
const AML_WORD_PREFIX: u8 = 0x0b;
const AML_DWORD_PREFIX: u8 = 0x0c;

/// PM1 control bits (Linux: `ACPI_BITMASK_SLEEP_TYPE`, `_SLEEP_ENABLE`).
const ACPI_BITPOSITION_SLEEP_TYPE: u32 = 10;
const ACPI_BITMASK_SLEEP_TYPE: u32 = 7 << ACPI_BITPOSITION_SLEEP_TYPE;
const ACPI_BITMASK_SLEEP_ENABLE: u32 = 1 << 13;

/// Reads one AML integer constant at `*pos`, advancing past it.
fn aml_integer(aml: &[u8], pos: &mut usize) -> Option<u32> {
    let op = get_u8(aml, *pos)?;
    let (value, len) = match op {
        AML_ZERO_OP => (0, 1),
        AML_ONE_OP => (1, 1),
        AML_ONES_OP => (u32::MAX, 1),
        AML_BYTE_PREFIX => (u32::from(get_u8(aml, *pos + 1)?), 2),
        AML_WORD_PREFIX => (u32::from(get_u16(aml, *pos + 1)?), 3),
        AML_DWORD_PREFIX => (get_u32(aml, *pos + 1)?, 5),
        _ => return None,
    };
    *pos += len;
    Some(value)
}

/// Decodes the package after "_S5_" at `pos`: (SLP_TYPa, SLP_TYPb).
fn aml_s5_package(aml: &[u8], mut pos: usize) -> Option<(u8, u8)> {
    if get_u8(aml, pos)? != AML_PACKAGE_OP {
        return None;
    }
    // PkgLength: bits 7-6 of the lead byte count the bytes that follow.
    let lead = get_u8(aml, pos + 1)?;
    pos += 2 + usize::from(lead >> 6);
    let num_elements = get_u8(aml, pos)?;
    pos += 1;
    if num_elements == 0 {
        return None;
    }
    let a = aml_integer(aml, &mut pos)?;
    let b = if num_elements > 1 { aml_integer(aml, &mut pos)? } else { 0 };
    Some(((a & 7) as u8, (b & 7) as u8))
}

/// Finds `Name(_S5, Package(){a, b, ...})` in AML bytecode.
pub fn aml_find_s5(aml: &[u8]) -> Option<(u8, u8)> {
    aml.windows(4).enumerate().filter(|(_, w)| *w == b"_S5_").find_map(|(i, _)| {
        let named = (i >= 1 && aml[i - 1] == AML_NAME_OP)
            || (i >= 2 && aml[i - 2] == AML_NAME_OP && aml[i - 1] == AML_ROOT_PREFIX);
        if named { aml_s5_package(aml, i + 4) } else { None }
    })
}

/// SLP_TYPa and SLP_TYPb for S5 from a checked DSDT (Linux:
/// `acpi_get_sleep_type_data(ACPI_STATE_S5, ..)`).
pub fn acpi_get_sleep_type_data(dsdt: &[u8]) -> Option<(u8, u8)> {
    aml_find_s5(dsdt.get(ACPI_TABLE_HEADER_LEN..)?)
}

/// Writes SLP_TYP, then SLP_TYP | SLP_EN, to the PM1 control registers
/// (Linux: `acpi_hw_legacy_sleep`). Returns only if the machine did not
/// turn off.
pub fn acpi_enter_sleep_state_s5(fadt: &AcpiFadt, slp_typ: (u8, u8)) -> KResult<()> {
    if !fadt.pm1a_control_block.is_present() {
        return Err(Errno::ENODEV);
    }
    let regs = [(&fadt.pm1a_control_block, slp_typ.0), (&fadt.pm1b_control_block, slp_typ.1)];
    let mut values = [0u32; 2];
    for (value, (reg, typ)) in values.iter_mut().zip(regs) {
        if reg.is_present() {
            let cnt =
                acpi_hw_read(reg, 16)? & !(ACPI_BITMASK_SLEEP_TYPE | ACPI_BITMASK_SLEEP_ENABLE);
            *value = cnt | u32::from(typ) << ACPI_BITPOSITION_SLEEP_TYPE;
            acpi_hw_write(reg, *value, 16)?;
        }
    }
    for (value, (reg, _)) in values.iter().zip(regs) {
        if reg.is_present() {
            acpi_hw_write(reg, value | ACPI_BITMASK_SLEEP_ENABLE, 16)?;
        }
    }
    Ok(())
}

crate::ktest!(acpi_s5_from_aml, {
    // Name(\_S5, Package(0x04){Zero, Zero, Zero, Zero}) as QEMU's DSDT has it.
    let qemu = [0x10, 0x08, b'\\', b'_', b'S', b'5', b'_', 0x12, 0x06, 0x04, 0, 0, 0, 0];
    crate::kassert!(aml_find_s5(&qemu) == Some((0, 0)), "QEMU's S5 is (0, 0)");
    // Name(_S5_, Package(2){0x05, One}) with byte prefix and OneOp.
    let other = [0x08, b'_', b'S', b'5', b'_', 0x12, 0x07, 0x02, 0x0a, 0x05, 0x01];
    crate::kassert!(aml_find_s5(&other) == Some((5, 1)), "byte prefix and OneOp");
    // A "_S5_" that is not a NameOp target, then a truncated package.
    let bad = [0x70, b'_', b'S', b'5', b'_', 0x08, b'_', b'S', b'5', b'_', 0x12, 0x40];
    crate::kassert!(aml_find_s5(&bad).is_none(), "truncated packages are refused");
    Ok(())
});

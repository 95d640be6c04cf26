//! Finding ACPI tables: RSDP, then the XSDT (or RSDT), then each table by
//! its four-letter signature, each checked for length and checksum.
//!
//! Linux: drivers/acpi/tables.c (`acpi_table_init`, `acpi_table_print`),
//! drivers/acpi/acpica/tbxfroot.c, tbutils.c (`acpi_tb_parse_root_table`).
//!
//! A table that fails its checks is reported and skipped; nothing here
//! panics on what the firmware wrote. Tables are byte slices
//! ([`AcpiTable`]); fields are read with bounds-checked little-endian
//! helpers, so this file needs no `unsafe`.
//!
//! # Locking
//! `ROOT` is set once by `acpi_table_init` on the boot CPU; read-only after.
#![deny(unsafe_code)]

use super::osl::acpi_os_map_memory;
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::PhysAddr;
use crate::{pr_info, pr_warn};

/// Length of the common table header (Linux: `struct acpi_table_header`).
pub const ACPI_TABLE_HEADER_LEN: usize = 36;
const RSDP_V1_LEN: usize = 20;
const RSDP_V2_LEN: usize = 36;

/// Little-endian field readers that return `None` past the end.
pub fn get_u8(b: &[u8], off: usize) -> Option<u8> {
    b.get(off).copied()
}

pub fn get_u16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(off..off.checked_add(2)?)?.try_into().ok()?))
}

pub fn get_u32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off.checked_add(4)?)?.try_into().ok()?))
}

pub fn get_u64(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(off..off.checked_add(8)?)?.try_into().ok()?))
}

/// A mapped, checked ACPI table: header and body.
#[allow(
    dead_code,
    reason = "decoded in full from the firmware table; not every field has a user yet"
)]
#[derive(Clone, Copy)]
pub struct AcpiTable {
    pub phys: u64,
    pub bytes: &'static [u8],
}

impl AcpiTable {
    pub fn signature(&self) -> &[u8] {
        self.bytes.get(..4).unwrap_or_default()
    }

    pub fn revision(&self) -> u8 {
        get_u8(self.bytes, 8).unwrap_or(0)
    }
}

/// Printable ASCII of a fixed-width id field; anything else becomes '?'.
struct Ascii<'a>(&'a [u8]);

impl core::fmt::Display for Ascii<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for &c in self.0 {
            let c = if c == 0 {
                ' '
            } else if c.is_ascii_graphic() || c == b' ' {
                c as char
            } else {
                '?'
            };
            core::fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

/// Prints one table as Linux's `acpi_tb_print_table_header` does.
fn acpi_table_print(phys: u64, h: &[u8]) {
    let (Some(len), Some(oem_rev), Some(creator_rev)) =
        (get_u32(h, 4), get_u32(h, 24), get_u32(h, 32))
    else {
        return;
    };
    pr_info!(
        "ACPI: {} {:#018X} {:06X} (v{:02} {:<6} {:<8} {:08X} {:<4} {:08X})",
        Ascii(&h[..4]),
        phys,
        len,
        h[8],
        Ascii(&h[10..16]),
        Ascii(&h[16..24]),
        oem_rev,
        Ascii(&h[28..32]),
        creator_rev
    );
}

fn checksum_ok(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b)) == 0
}

/// Maps the table whose header is at `phys`, checking its length and
/// checksum (Linux: `acpi_tb_verify_temp_table`).
pub fn acpi_map_table(phys: u64) -> Option<AcpiTable> {
    let header = acpi_os_map_memory(phys, ACPI_TABLE_HEADER_LEN)?;
    let len = get_u32(header, 4)? as usize;
    if len < ACPI_TABLE_HEADER_LEN {
        pr_warn!("ACPI: table at {phys:#x} has a bad length {len}, ignored");
        return None;
    }
    let Some(bytes) = acpi_os_map_memory(phys, len) else {
        pr_warn!("ACPI: table at {phys:#x} ({len} bytes) cannot be mapped, ignored");
        return None;
    };
    if !checksum_ok(bytes) {
        pr_warn!(
            "ACPI BIOS Warning (bug): Incorrect checksum in table [{}], ignored",
            Ascii(&bytes[..4])
        );
        return None;
    }
    Some(AcpiTable { phys, bytes })
}

/// The root table: where the table pointers are and how wide they are.
#[derive(Clone, Copy)]
struct RootTable {
    table: AcpiTable,
    entry_size: usize,
}

impl RootTable {
    fn entries(&self) -> impl Iterator<Item = u64> + '_ {
        let body = &self.table.bytes[ACPI_TABLE_HEADER_LEN..];
        body.chunks_exact(self.entry_size).filter_map(|c| match c.len() {
            8 => get_u64(c, 0),
            _ => get_u32(c, 0).map(u64::from),
        })
    }
}

static ROOT: spin::Once<RootTable> = spin::Once::new();

/// Checks the RSDP; returns (revision, root table address, entry size).
fn acpi_parse_rsdp(rsdp: u64) -> KResult<(u8, u64, usize)> {
    let v1 = acpi_os_map_memory(rsdp, RSDP_V1_LEN).ok_or(Errno::EINVAL)?;
    if &v1[..8] != b"RSD PTR " || !checksum_ok(v1) {
        pr_warn!("ACPI: no valid RSDP at {rsdp:#x}");
        return Err(Errno::EINVAL);
    }
    let revision = v1[15];
    if revision >= 2 {
        let v2 = acpi_os_map_memory(rsdp, RSDP_V2_LEN).ok_or(Errno::EINVAL)?;
        let xsdt = get_u64(v2, 24).unwrap_or(0);
        let len = get_u32(v2, 20).unwrap_or(0) as usize;
        let ext_ok = len >= RSDP_V2_LEN && checksum_ok(&v2[..RSDP_V2_LEN]);
        pr_info!(
            "ACPI: RSDP {rsdp:#018X} {RSDP_V2_LEN:06X} (v{revision:02} {:<6})",
            Ascii(&v1[9..15])
        );
        if ext_ok && xsdt != 0 {
            return Ok((revision, xsdt, 8));
        }
    } else {
        pr_info!(
            "ACPI: RSDP {rsdp:#018X} {RSDP_V1_LEN:06X} (v{revision:02} {:<6})",
            Ascii(&v1[9..15])
        );
    }
    Ok((revision, u64::from(get_u32(v1, 16).unwrap_or(0)), 4))
}

/// Finds the root table from the RSDP and prints every table it lists, as
/// Linux does at boot (Linux: `acpi_table_init`).
pub fn acpi_table_init(rsdp: PhysAddr) -> KResult<()> {
    let (_, root_phys, entry_size) = acpi_parse_rsdp(rsdp.as_u64())?;
    let table = acpi_map_table(root_phys).ok_or(Errno::EINVAL)?;
    acpi_table_print(root_phys, table.bytes);
    let root = ROOT.call_once(|| RootTable { table, entry_size });
    for phys in root.entries() {
        match acpi_os_map_memory(phys, ACPI_TABLE_HEADER_LEN) {
            Some(h) => acpi_table_print(phys, h),
            None => pr_warn!("ACPI: table pointer {phys:#x} unreachable, ignored"),
        }
        if let Some(fadt) = acpi_os_map_memory(phys, ACPI_TABLE_HEADER_LEN)
            .filter(|h| &h[..4] == b"FACP")
            .and_then(|_| acpi_map_table(phys))
        {
            print_fadt_children(&fadt);
        }
    }
    Ok(())
}

/// The DSDT and FACS hang off the FADT; Linux lists them right after it.
fn print_fadt_children(fadt: &AcpiTable) {
    if let Some(dsdt) = super::fadt::dsdt_address(fadt)
        && let Some(h) = acpi_os_map_memory(dsdt, ACPI_TABLE_HEADER_LEN)
    {
        acpi_table_print(dsdt, h);
    }
    if let Some(facs) = super::fadt::facs_address(fadt)
        && let Some(h) = acpi_os_map_memory(facs, 8)
    {
        let len = get_u32(h, 4).unwrap_or(0);
        pr_info!("ACPI: {} {facs:#018X} {len:06X}", Ascii(&h[..4]));
    }
}

/// The `instance`-th table (from 0) with signature `sig`, checked (Linux:
/// `acpi_get_table`).
pub fn acpi_get_table(sig: &[u8; 4], instance: usize) -> Option<AcpiTable> {
    let root = ROOT.get()?;
    root.entries()
        .filter(|&phys| {
            acpi_os_map_memory(phys, ACPI_TABLE_HEADER_LEN).is_some_and(|h| &h[..4] == sig)
        })
        .filter_map(acpi_map_table)
        .nth(instance)
}

crate::ktest!(acpi_field_readers_bounds_checked, {
    let b = [1u8, 2, 3, 4, 5];
    crate::kassert!(get_u32(&b, 0) == Some(0x0403_0201), "little endian");
    crate::kassert!(get_u32(&b, 2).is_none(), "a field past the end is None");
    crate::kassert!(get_u64(&b, usize::MAX).is_none(), "an offset that overflows is None");
    Ok(())
});

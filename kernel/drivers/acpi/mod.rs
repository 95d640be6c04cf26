//! ACPI: the firmware's tables (RSDP, MADT, FADT) and power-off.
//!
//! Linux: drivers/acpi/.

use crate::mm::addr::PhysAddr;

/// Finds and checks the ACPI tables (Linux: `acpi_table_init`).
pub fn acpi_init(_rsdp: Option<PhysAddr>) {}

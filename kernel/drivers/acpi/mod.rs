//! ACPI: the firmware's tables (RSDP, XSDT, MADT, FADT, DSDT), power-off
//! and reset through the fixed hardware they describe.
//!
//! Linux: drivers/acpi/ (tables.c, sleep.c, reboot.c, osl.c),
//! arch/x86/kernel/acpi/boot.c (`acpi_boot_init`).
//!
//! Layout: `osl` maps firmware memory and does port I/O (the only `unsafe`
//! here); `tables` finds and checks tables; `madt` and `fadt` decode them;
//! `hwregs` and `sleep` drive the PM1 registers. No AML interpreter: the one
//! AML object needed, `\_S5`, is found by pattern (see `sleep`).
//!
//! # Locking
//! `ACPI` is filled once by `acpi_init` on the boot CPU (`spin::Once`) and
//! read-only afterwards, so readers take no lock.

pub mod fadt;
pub mod hwregs;
pub mod madt;
pub mod osl;
pub mod sleep;
pub mod tables;

use fadt::{ACPI_FADT_RESET_REGISTER, AcpiFadt};
use madt::MadtInfo;

use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::PhysAddr;
use crate::{pr_info, pr_warn};

/// What ACPI told us at boot.
struct AcpiInfo {
    fadt: Option<AcpiFadt>,
    madt: Option<MadtInfo>,
    /// SLP_TYPa and SLP_TYPb of S5, from the DSDT.
    s5: Option<(u8, u8)>,
}

static ACPI: spin::Once<AcpiInfo> = spin::Once::new();

/// The BIOS area searched for the RSDP when the boot loader gave none
/// (Linux: `acpi_find_root_pointer`).
const BIOS_ROM_START: u64 = 0xe0000;
const BIOS_ROM_LEN: usize = 0x20000;

fn acpi_find_root_pointer() -> Option<PhysAddr> {
    let rom = osl::acpi_os_map_memory(BIOS_ROM_START, BIOS_ROM_LEN)?;
    let off = rom.chunks(16).position(|c| c.starts_with(b"RSD PTR "))?;
    Some(PhysAddr::new(BIOS_ROM_START + off as u64 * 16))
}

/// Finds and checks the ACPI tables and decodes the MADT, FADT and `\_S5`
/// (Linux: `acpi_table_init` and `acpi_boot_init`). Without usable tables
/// the kernel goes on with the legacy defaults.
pub fn acpi_init(rsdp: Option<PhysAddr>) {
    let Some(rsdp) = rsdp.or_else(acpi_find_root_pointer) else {
        pr_warn!("ACPI: no RSDP found, running without ACPI");
        return;
    };
    if tables::acpi_table_init(rsdp).is_err() {
        pr_warn!("ACPI: unable to read the tables, running without ACPI");
        return;
    }
    let fadt = tables::acpi_get_table(b"FACP", 0).map(|t| fadt::acpi_tb_parse_fadt(&t));
    let madt = tables::acpi_get_table(b"APIC", 0).and_then(|t| madt::acpi_parse_madt(t.bytes));
    let s5 = fadt
        .and_then(|f| tables::acpi_map_table(f.dsdt))
        .filter(|t| t.signature() == b"DSDT")
        .and_then(|t| sleep::acpi_get_sleep_type_data(t.bytes));
    if let Some(m) = &madt {
        pr_info!("ACPI: Using ACPI (MADT) for SMP configuration information");
        pr_info!("smpboot: Allowing {} CPUs, {} hotplug CPUs", m.nr_cpus, m.disabled_cpus);
    }
    if let Some(f) = &fadt {
        print_fadt(f, s5.is_some());
    }
    ACPI.call_once(|| AcpiInfo { fadt, madt, s5 });
}

fn print_fadt(f: &AcpiFadt, has_s5: bool) {
    if f.pm_timer_block.is_present() {
        pr_info!("ACPI: PM-Timer IO Port: {:#x}", f.pm_timer_block.address);
    }
    pr_info!(
        "ACPI: PM1a_CNT {:#x}, SCI irq {}, reset register {:#x} (value {:#x}{})",
        f.pm1a_control_block.address,
        f.sci_interrupt,
        f.reset_register.address,
        f.reset_value,
        if f.flags & ACPI_FADT_RESET_REGISTER != 0 { "" } else { ", unsupported" }
    );
    pr_info!("ACPI: (supports S0{})", if has_s5 { " S5" } else { "" });
}

/// The MADT as decoded at boot, if there was one.
pub fn madt() -> Option<&'static MadtInfo> {
    ACPI.get()?.madt.as_ref()
}

/// The FADT as decoded at boot, if there was one.
pub fn fadt() -> Option<&'static AcpiFadt> {
    ACPI.get()?.fadt.as_ref()
}

/// Enters S5 (Linux: `acpi_power_off`). Returns only on failure.
pub fn acpi_power_off() -> KResult<()> {
    let info = ACPI.get().ok_or(Errno::ENODEV)?;
    let (fadt, s5) = (info.fadt.as_ref().ok_or(Errno::ENODEV)?, info.s5.ok_or(Errno::ENODEV)?);
    sleep::acpi_enter_sleep_state_s5(fadt, s5)
}

/// Resets through the FADT reset register (Linux: `acpi_reboot`). Returns
/// only on failure.
pub fn acpi_reboot() -> KResult<()> {
    let fadt = fadt().ok_or(Errno::ENODEV)?;
    if fadt.flags & ACPI_FADT_RESET_REGISTER == 0 {
        return Err(Errno::ENODEV);
    }
    hwregs::acpi_hw_write(&fadt.reset_register, u32::from(fadt.reset_value), 8)
}

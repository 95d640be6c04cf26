//! The MADT ("APIC"): the local APIC address, the CPUs, the IOAPICs, and
//! how ISA interrupt lines map onto IOAPIC inputs (GSIs).
//!
//! Linux: arch/x86/kernel/acpi/boot.c (`acpi_parse_madt`,
//! `acpi_parse_lapic`, `acpi_parse_ioapic`, `acpi_parse_int_src_ovr`,
//! `mp_override_legacy_irq`), include/acpi/actbl2.h.
//!
//! Entries with a bad length end the walk with a warning; the entries read
//! so far are kept.
//!
//! # Locking
//! None here: [`MadtInfo`] is a plain value; `acpi_init` stores the boot
//! copy once.
#![deny(unsafe_code)]

use super::tables::{get_u8, get_u16, get_u32, get_u64};
pub use crate::arch::percpu::NR_CPUS;
use crate::{pr_info, pr_warn};

/// Linux: `MAX_IO_APICS`.
pub const MAX_IO_APICS: usize = 8;
/// Linux: `NR_IRQS_LEGACY`.
pub const NR_IRQS_LEGACY: usize = 16;

const ACPI_MADT_TYPE_LOCAL_APIC: u8 = 0;
const ACPI_MADT_TYPE_IO_APIC: u8 = 1;
const ACPI_MADT_TYPE_INTERRUPT_OVERRIDE: u8 = 2;
const ACPI_MADT_TYPE_LOCAL_APIC_NMI: u8 = 4;
const ACPI_MADT_TYPE_LOCAL_APIC_OVERRIDE: u8 = 5;
const ACPI_MADT_TYPE_LOCAL_X2APIC: u8 = 9;
const ACPI_MADT_ENABLED: u32 = 1;
/// The MADT flag saying 8259 PICs are present too (Linux: `ACPI_MADT_PCAT_COMPAT`).
const ACPI_MADT_PCAT_COMPAT: u32 = 1;

/// One IOAPIC (Linux: `struct mpc_ioapic` plus its GSI base).
#[derive(Clone, Copy, Debug, Default)]
pub struct IoApicInfo {
    pub id: u8,
    pub address: u32,
    pub gsi_base: u32,
}

/// Where one ISA line arrives and how it signals (Linux: `mp_irqs[]`
/// entries for bus 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsaIrqRoute {
    pub gsi: u32,
    pub active_low: bool,
    pub level_triggered: bool,
    /// Whether an interrupt source override named this line.
    pub overridden: bool,
}

/// What the MADT says about the interrupt hardware.
#[allow(
    dead_code,
    reason = "decoded in full from the firmware table; not every field has a user yet"
)]
#[derive(Clone, Copy, Debug)]
pub struct MadtInfo {
    pub lapic_address: u64,
    pub pcat_compat: bool,
    /// APIC ids of the enabled CPUs, the boot CPU among them.
    pub cpu_apic_ids: [u32; NR_CPUS],
    pub nr_cpus: usize,
    /// CPUs listed but disabled: possible hot-plug slots.
    pub disabled_cpus: usize,
    pub ioapics: [IoApicInfo; MAX_IO_APICS],
    pub nr_ioapics: usize,
    /// ISA IRQ n's route; identity, active high, edge unless overridden.
    pub isa_irqs: [IsaIrqRoute; NR_IRQS_LEGACY],
}

impl MadtInfo {
    fn new(lapic_address: u64, flags: u32) -> Self {
        let identity = |irq: usize| IsaIrqRoute {
            gsi: u32::try_from(irq).unwrap_or(u32::MAX),
            active_low: false,
            level_triggered: false,
            overridden: false,
        };
        Self {
            lapic_address,
            pcat_compat: flags & ACPI_MADT_PCAT_COMPAT != 0,
            cpu_apic_ids: [0; NR_CPUS],
            nr_cpus: 0,
            disabled_cpus: 0,
            ioapics: [IoApicInfo::default(); MAX_IO_APICS],
            nr_ioapics: 0,
            isa_irqs: core::array::from_fn(identity),
        }
    }

    /// The route of ISA line `irq`, or `None` when another line's override
    /// took its pin (Linux: `mp_override_legacy_irq` then the identity
    /// mappings for the lines left).
    pub fn isa_irq_route(&self, irq: usize) -> Option<IsaIrqRoute> {
        let route = *self.isa_irqs.get(irq)?;
        let stolen = !route.overridden
            && self
                .isa_irqs
                .iter()
                .enumerate()
                .any(|(i, r)| i != irq && r.overridden && r.gsi == route.gsi);
        (!stolen).then_some(route)
    }

    fn add_cpu(&mut self, apic_id: u32, flags: u32) {
        if flags & ACPI_MADT_ENABLED == 0 {
            self.disabled_cpus += 1;
        } else if self.nr_cpus < NR_CPUS {
            self.cpu_apic_ids[self.nr_cpus] = apic_id;
            self.nr_cpus += 1;
        } else {
            pr_warn!(
                "APIC: NR_CPUS/possible_cpus limit of {NR_CPUS} reached, CPU {apic_id} ignored"
            );
        }
    }
}

/// Linux's names for the MPS INTI flag fields in `INT_SRC_OVR` lines.
const POLARITY: [&str; 4] = ["dfl", "high", "res", "low"];
const TRIGGER: [&str; 4] = ["dfl", "edge", "res", "level"];

/// Decodes an interrupt source override (bus 0 = ISA).
fn acpi_parse_int_src_ovr(info: &mut MadtInfo, e: &[u8]) -> Option<()> {
    let (bus, irq, gsi, flags) = (get_u8(e, 2)?, get_u8(e, 3)?, get_u32(e, 4)?, get_u16(e, 8)?);
    let (pol, trig) = (usize::from(flags & 3), usize::from((flags >> 2) & 3));
    pr_info!(
        "ACPI: INT_SRC_OVR (bus {bus} bus_irq {irq} global_irq {gsi} {} {})",
        POLARITY[pol],
        TRIGGER[trig]
    );
    if bus != 0 {
        return Some(());
    }
    let route = info.isa_irqs.get_mut(usize::from(irq))?;
    // "Conforms to the bus" is active high and edge for ISA.
    *route =
        IsaIrqRoute { gsi, active_low: pol == 3, level_triggered: trig == 3, overridden: true };
    Some(())
}

fn acpi_parse_ioapic(info: &mut MadtInfo, e: &[u8]) -> Option<()> {
    let ioapic =
        IoApicInfo { id: get_u8(e, 2)?, address: get_u32(e, 4)?, gsi_base: get_u32(e, 8)? };
    match info.ioapics.get_mut(info.nr_ioapics) {
        Some(slot) => {
            *slot = ioapic;
            info.nr_ioapics += 1;
        }
        None => pr_warn!("ACPI: more than {MAX_IO_APICS} IOAPICs, IOAPIC {} ignored", ioapic.id),
    }
    Some(())
}

/// Decodes one entry; `None` if it is shorter than its type requires.
fn acpi_parse_madt_entry(info: &mut MadtInfo, kind: u8, e: &[u8]) -> Option<()> {
    match kind {
        ACPI_MADT_TYPE_LOCAL_APIC => info.add_cpu(u32::from(get_u8(e, 3)?), get_u32(e, 4)?),
        ACPI_MADT_TYPE_LOCAL_X2APIC => info.add_cpu(get_u32(e, 4)?, get_u32(e, 8)?),
        ACPI_MADT_TYPE_IO_APIC => acpi_parse_ioapic(info, e)?,
        ACPI_MADT_TYPE_INTERRUPT_OVERRIDE => acpi_parse_int_src_ovr(info, e)?,
        ACPI_MADT_TYPE_LOCAL_APIC_NMI => {
            let (id, flags, lint) = (get_u8(e, 2)?, get_u16(e, 3)?, get_u8(e, 5)?);
            pr_info!(
                "ACPI: LAPIC_NMI (acpi_id[{id:#04x}] {} {} lint[{lint:#x}])",
                POLARITY[usize::from(flags & 3)],
                TRIGGER[usize::from((flags >> 2) & 3)]
            );
        }
        ACPI_MADT_TYPE_LOCAL_APIC_OVERRIDE => info.lapic_address = get_u64(e, 4)?,
        _ => {}
    }
    Some(())
}

/// Walks a checked MADT (Linux: `acpi_parse_madt` and the
/// `acpi_table_parse_madt` callbacks).
pub fn acpi_parse_madt(b: &[u8]) -> Option<MadtInfo> {
    let mut info = MadtInfo::new(u64::from(get_u32(b, 36)?), get_u32(b, 40)?);
    let mut off = 44;
    while off < b.len() {
        let (kind, len) = (get_u8(b, off)?, usize::from(get_u8(b, off + 1).unwrap_or(0)));
        let entry = b.get(off..off + len).filter(|_| len >= 2);
        match entry.and_then(|e| acpi_parse_madt_entry(&mut info, kind, e)) {
            Some(()) => off += len,
            None => {
                pr_warn!(
                    "ACPI: MADT entry at offset {off} (type {kind}, length {len}) is malformed"
                );
                break;
            }
        }
    }
    Some(info)
}

crate::ktest!(madt_overrides_and_malformed_entries, {
    // Header (36 bytes) + LAPIC address + flags, then: a CPU, an IOAPIC, an
    // override IRQ0 -> GSI2, and a truncated entry that must stop the walk.
    let mut b = [0u8; 44 + 8 + 12 + 10 + 2];
    b[36..40].copy_from_slice(&0xfee0_0000u32.to_le_bytes());
    b[40] = 1;
    b[44..52].copy_from_slice(&[0, 8, 0, 0, 1, 0, 0, 0]);
    b[52..64].copy_from_slice(&[1, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0]);
    b[64..74].copy_from_slice(&[2, 10, 0, 0, 2, 0, 0, 0, 0, 0]);
    b[74..76].copy_from_slice(&[1, 40]);
    let info = acpi_parse_madt(&b).ok_or("MADT parsed")?;
    crate::kassert!(info.nr_cpus == 1 && info.nr_ioapics == 1, "one CPU, one IOAPIC");
    crate::kassert!(info.ioapics[0].address == 0xfec0_0000, "IOAPIC address");
    crate::kassert!(info.isa_irq_route(0).map(|r| r.gsi) == Some(2), "IRQ0 goes to GSI 2");
    crate::kassert!(info.isa_irq_route(2).is_none(), "IRQ2's pin was taken by IRQ0");
    crate::kassert!(info.isa_irq_route(4).map(|r| r.gsi) == Some(4), "IRQ4 is identity mapped");
    Ok(())
});

//! The IOAPIC: routes ISA interrupt lines (and later PCI INTx) to vectors
//! on a CPU's local APIC.
//!
//! Linux: arch/x86/kernel/apic/io_apic.c (`setup_IO_APIC`,
//! `io_apic_init_mappings`, `ioapic_write_entry`, `unmask_ioapic_irq`),
//! arch/x86/include/asm/io_apic.h (`struct IO_APIC_route_entry`).
//!
//! At boot every pin is masked; ISA lines 0-15 (but the cascade, 2) get
//! their vector `isa_irq_vector(irq)`, the polarity and trigger the MADT's
//! interrupt source overrides give, and the boot CPU as destination, and
//! stay masked until a driver asks for its line with [`enable_irq`].
//!
//! # Locking
//! `IOAPICS` (Linux: `ioapic_lock`) covers the index/data register pair of
//! every IOAPIC: a select followed by a read or write must not interleave
//! with another CPU's.

use crate::arch::apic::boot_cpu_apic_id;
use crate::arch::irq_vectors::isa_irq_vector;
use crate::drivers::acpi;
use crate::drivers::acpi::madt::{IoApicInfo, IsaIrqRoute, MAX_IO_APICS, NR_IRQS_LEGACY};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::mm::addr::PhysAddr;
use crate::{pr_info, pr_warn};

const IO_APIC_DEFAULT_PHYS_BASE: u32 = 0xfec0_0000;
const IO_APIC_REGSEL: u64 = 0x00;
const IO_APIC_WINDOW: u64 = 0x10;
const IO_APIC_VERSION: u32 = 0x01;
const IO_APIC_REDTBL: u32 = 0x10;

/// Redirection entry bits (Linux: `struct IO_APIC_route_entry`).
const IOAPIC_POL_LOW: u64 = 1 << 13;
const IOAPIC_LEVEL: u64 = 1 << 15;
const IOAPIC_MASKED: u64 = 1 << 16;
/// The ISA line the slave 8259 cascades through; never routed.
const PIC_CASCADE_IR: u8 = 2;

/// One mapped IOAPIC.
#[derive(Clone, Copy)]
struct IoApic {
    base: u64,
    gsi_base: u32,
    nr_pins: u32,
}

impl IoApic {
    fn read(&self, reg: u32) -> u32 {
        let sel = (self.base + IO_APIC_REGSEL) as *mut u32;
        let win = (self.base + IO_APIC_WINDOW) as *const u32;
        // SAFETY: `base` is an uncached ioremap of this IOAPIC's register
        // page, IOREGSEL sits at offset 0 and is written with a 32-bit
        // access; the caller holds `IOAPICS`, so no other CPU moves the
        // selection between this write and the read below.
        unsafe { sel.write_volatile(reg) };
        // SAFETY: IOWIN at offset 0x10 of the same page, 32-bit access.
        unsafe { win.read_volatile() }
    }

    fn write(&self, reg: u32, value: u32) {
        let sel = (self.base + IO_APIC_REGSEL) as *mut u32;
        let win = (self.base + IO_APIC_WINDOW) as *mut u32;
        // SAFETY: as in `read`.
        unsafe { sel.write_volatile(reg) };
        // SAFETY: as in `read`; writing IOWIN programs the selected register.
        unsafe { win.write_volatile(value) };
    }

    fn read_entry(&self, pin: u32) -> u64 {
        let lo = self.read(IO_APIC_REDTBL + 2 * pin);
        let hi = self.read(IO_APIC_REDTBL + 2 * pin + 1);
        u64::from(hi) << 32 | u64::from(lo)
    }

    /// Writes the high half first, so the entry is never live with a stale
    /// destination (Linux: `__ioapic_write_entry`).
    fn write_entry(&self, pin: u32, entry: u64) {
        let [l0, l1, l2, l3, h0, h1, h2, h3] = entry.to_le_bytes();
        self.write(IO_APIC_REDTBL + 2 * pin + 1, u32::from_le_bytes([h0, h1, h2, h3]));
        self.write(IO_APIC_REDTBL + 2 * pin, u32::from_le_bytes([l0, l1, l2, l3]));
    }
}

struct IoApics {
    chips: [Option<IoApic>; MAX_IO_APICS],
    /// The route each ISA line got at setup (`None`: not routed).
    isa: [Option<IsaIrqRoute>; NR_IRQS_LEGACY],
}

static IOAPICS: SpinLock<IoApics> =
    SpinLock::new(IoApics { chips: [None; MAX_IO_APICS], isa: [None; NR_IRQS_LEGACY] });

impl IoApics {
    /// The IOAPIC and pin that input `gsi` arrives on.
    fn pin_of(&self, gsi: u32) -> Option<(IoApic, u32)> {
        self.chips.iter().flatten().find_map(|c| {
            let pin = gsi.checked_sub(c.gsi_base)?;
            (pin < c.nr_pins).then_some((*c, pin))
        })
    }
}

/// Maps one IOAPIC, prints it as Linux does and masks all its pins.
fn mp_register_ioapic(index: usize, info: &IoApicInfo) -> KResult<IoApic> {
    let va = crate::mm::ioremap(PhysAddr::new(u64::from(info.address)), 4096)?;
    let mut chip = IoApic { base: va.as_u64(), gsi_base: info.gsi_base, nr_pins: 0 };
    let ver = chip.read(IO_APIC_VERSION);
    chip.nr_pins = ((ver >> 16) & 0xff) + 1;
    pr_info!(
        "IOAPIC[{index}]: apic_id {}, version {}, address {:#x}, GSI {}-{}",
        info.id,
        ver & 0xff,
        info.address,
        info.gsi_base,
        info.gsi_base + chip.nr_pins - 1
    );
    for pin in 0..chip.nr_pins {
        chip.write_entry(pin, IOAPIC_MASKED);
    }
    Ok(chip)
}

/// The redirection entry for a route: fixed delivery, physical destination.
fn route_entry(irq: u8, route: &IsaIrqRoute) -> u64 {
    let mut entry = u64::from(isa_irq_vector(irq)) | IOAPIC_MASKED;
    if route.active_low {
        entry |= IOAPIC_POL_LOW;
    }
    if route.level_triggered {
        entry |= IOAPIC_LEVEL;
    }
    entry | u64::from(boot_cpu_apic_id() & 0xff) << 56
}

/// Maps the IOAPICs the MADT lists (or the one at the default address) and
/// routes the ISA lines, all masked (Linux: `setup_IO_APIC`).
pub fn setup_io_apic() -> KResult<()> {
    let madt = acpi::madt();
    let default = [IoApicInfo { id: 0, address: IO_APIC_DEFAULT_PHYS_BASE, gsi_base: 0 }];
    let infos = match madt {
        Some(m) if m.nr_ioapics > 0 => &m.ioapics[..m.nr_ioapics],
        _ => &default[..],
    };
    let mut ioapics = IOAPICS.lock();
    for (i, info) in infos.iter().enumerate() {
        match mp_register_ioapic(i, info) {
            Ok(chip) => ioapics.chips[i] = Some(chip),
            Err(e) => pr_warn!("IOAPIC[{i}]: cannot map {:#x}: {}", info.address, e.description()),
        }
    }
    for irq in (0u8..).take(NR_IRQS_LEGACY).filter(|&irq| irq != PIC_CASCADE_IR) {
        let identity = IsaIrqRoute {
            gsi: u32::from(irq),
            active_low: false,
            level_triggered: false,
            overridden: false,
        };
        let route = match madt {
            Some(m) => m.isa_irq_route(usize::from(irq)),
            None => Some(identity),
        };
        let Some(route) = route else { continue };
        if let Some((chip, pin)) = ioapics.pin_of(route.gsi) {
            chip.write_entry(pin, route_entry(irq, &route));
            ioapics.isa[usize::from(irq)] = Some(route);
        }
    }
    if ioapics.chips.iter().all(Option::is_none) { Err(Errno::ENODEV) } else { Ok(()) }
}

/// Sets or clears the mask bit of ISA line `irq`'s pin.
fn set_isa_irq_masked(irq: u8, masked: bool) -> KResult<()> {
    let ioapics = IOAPICS.lock();
    let route = ioapics.isa.get(usize::from(irq)).copied().flatten().ok_or(Errno::EINVAL)?;
    let (chip, pin) = ioapics.pin_of(route.gsi).ok_or(Errno::ENODEV)?;
    let entry = chip.read_entry(pin);
    chip.write_entry(pin, if masked { entry | IOAPIC_MASKED } else { entry & !IOAPIC_MASKED });
    Ok(())
}

/// Unmasks ISA line `irq` (Linux: `enable_irq` -> `unmask_ioapic_irq`);
/// request its vector with `request_irq` first.
pub fn enable_irq(irq: u8) -> KResult<()> {
    set_isa_irq_masked(irq, false)
}

/// Masks ISA line `irq` (Linux: `disable_irq` -> `mask_ioapic_irq`).
#[allow(dead_code, reason = "the counterpart of enable_irq, for free_irq")]
pub fn disable_irq(irq: u8) -> KResult<()> {
    set_isa_irq_masked(irq, true)
}

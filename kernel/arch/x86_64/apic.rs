//! The local APIC: enabling it (x2APIC through MSRs when the CPU has it,
//! else xAPIC through its MMIO page), end-of-interrupt, and its timer,
//! calibrated against the TSC and run periodic at HZ as the tick.
//!
//! Linux: arch/x86/kernel/apic/apic.c (`setup_local_APIC`,
//! `calibrate_APIC_clock`, `lapic_timer_set_periodic`,
//! `sysvec_apic_timer_interrupt`), arch/x86/kernel/apic/x2apic_phys.c,
//! arch/x86/include/asm/apicdef.h.
//!
//! # Locking
//! The access mode and MMIO base are set once on the boot CPU before
//! interrupts are enabled (atomics, read lock-free by `eoi`). Every CPU
//! programs only its own APIC, so register accesses need no lock.

use core::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};

use x86_64::registers::model_specific::Msr;

use crate::arch::cpu::{X86Feature, boot_cpu_has};
use crate::arch::irq_vectors::{LOCAL_TIMER_VECTOR, SPURIOUS_APIC_VECTOR};
use crate::arch::percpu::smp_processor_id;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::time::{self, HZ, NSEC_PER_MSEC, NSEC_PER_SEC};
use crate::mm::addr::PhysAddr;
use crate::{pr_info, pr_warn};

// Register offsets in the xAPIC page; the x2APIC MSR is 0x800 + offset/16.
const APIC_ID: u32 = 0x20;
const APIC_LVR: u32 = 0x30;
const APIC_TASKPRI: u32 = 0x80;
const APIC_EOI: u32 = 0xb0;
const APIC_SPIV: u32 = 0xf0;
const APIC_ESR: u32 = 0x280;
const APIC_LVTT: u32 = 0x320;
const APIC_LVTPC: u32 = 0x340;
const APIC_LVT0: u32 = 0x350;
const APIC_LVT1: u32 = 0x360;
const APIC_LVTERR: u32 = 0x370;
const APIC_TMICT: u32 = 0x380;
const APIC_TMCCT: u32 = 0x390;
const APIC_TDCR: u32 = 0x3e0;

const APIC_SPIV_APIC_ENABLED: u32 = 1 << 8;
const APIC_LVT_MASKED: u32 = 1 << 16;
const APIC_LVT_TIMER_PERIODIC: u32 = 1 << 17;
const APIC_DM_NMI: u32 = 0x400;
const APIC_DM_EXTINT: u32 = 0x700;
/// Timer divide configuration: divide by 16 (Linux: `APIC_TDR_DIV_16`).
const APIC_TDR_DIV_16: u32 = 0x3;

const MSR_IA32_APICBASE: u32 = 0x1b;
const MSR_IA32_APICBASE_ENABLE: u64 = 1 << 11;
const MSR_IA32_APICBASE_EXTD: u64 = 1 << 10;
const MSR_IA32_APICBASE_BASE: u64 = 0xf_ffff_f000;
const APIC_BASE_MSR: u32 = 0x800;

/// The architectural default, used when neither MSR nor MADT says.
const APIC_DEFAULT_PHYS_BASE: u64 = 0xfee0_0000;

const MODE_NONE: u8 = 0;
const MODE_XAPIC: u8 = 1;
const MODE_X2APIC: u8 = 2;

static APIC_MODE: AtomicU8 = AtomicU8::new(MODE_NONE);
/// Virtual address of the xAPIC register page.
static APIC_MMIO: AtomicU64 = AtomicU64::new(0);
/// Timer counts per tick at divide-by-16 (Linux: `lapic_timer_period`).
static LAPIC_TIMER_PERIOD: AtomicU32 = AtomicU32::new(0);
/// The boot CPU's APIC id, the IOAPIC's destination.
static BOOT_CPU_APIC_ID: AtomicU32 = AtomicU32::new(0);

fn rdmsr(msr: u32) -> u64 {
    // SAFETY: the MSRs read here (APIC base, x2APIC registers) exist on
    // every CPU this code runs on: the APIC base on all x86_64, x2APIC
    // registers only in x2APIC mode, which we check before using them.
    unsafe { Msr::new(msr).read() }
}

fn wrmsr(msr: u32, value: u64) {
    // SAFETY: as for `rdmsr`; the values written only program the local
    // APIC, which does not change memory the compiler knows about.
    unsafe { Msr::new(msr).write(value) }
}

/// Linux: `lower_32_bits`; x2APIC registers other than the ICR are 32 bits
/// wide in a 64-bit MSR.
fn lower_32_bits(v: u64) -> u32 {
    let [b0, b1, b2, b3, ..] = v.to_le_bytes();
    u32::from_le_bytes([b0, b1, b2, b3])
}

/// Reads local APIC register `reg` (Linux: `apic_read`).
fn apic_read(reg: u32) -> u32 {
    match APIC_MODE.load(Ordering::Relaxed) {
        MODE_X2APIC => lower_32_bits(rdmsr(APIC_BASE_MSR + (reg >> 4))),
        MODE_XAPIC => {
            let ptr = (APIC_MMIO.load(Ordering::Relaxed) + u64::from(reg)) as *const u32;
            // SAFETY: `APIC_MMIO` is an uncached mapping of the 4 KiB APIC
            // page (set in `apic_bsp_setup` from ioremap), `reg` is one of
            // the aligned register offsets above, and registers are read
            // with 32-bit accesses as the SDM requires.
            unsafe { ptr.read_volatile() }
        }
        _ => 0,
    }
}

/// Writes local APIC register `reg` (Linux: `apic_write`).
fn apic_write(reg: u32, value: u32) {
    match APIC_MODE.load(Ordering::Relaxed) {
        MODE_X2APIC => wrmsr(APIC_BASE_MSR + (reg >> 4), u64::from(value)),
        MODE_XAPIC => {
            let ptr = (APIC_MMIO.load(Ordering::Relaxed) + u64::from(reg)) as *mut u32;
            // SAFETY: as in `apic_read`; the page is device memory no Rust
            // object lives in.
            unsafe { ptr.write_volatile(value) }
        }
        _ => {}
    }
}

/// Signals end-of-interrupt to the local APIC (Linux: `apic_eoi`). Does
/// nothing before the APIC is set up.
pub fn eoi() {
    apic_write(APIC_EOI, 0);
}

/// This CPU's APIC id (Linux: `read_apic_id`).
pub fn read_apic_id() -> u32 {
    match APIC_MODE.load(Ordering::Relaxed) {
        MODE_X2APIC => apic_read(APIC_ID),
        _ => apic_read(APIC_ID) >> 24,
    }
}

/// The boot CPU's APIC id.
pub fn boot_cpu_apic_id() -> u32 {
    BOOT_CPU_APIC_ID.load(Ordering::Relaxed)
}

/// Turns the APIC on in x2APIC mode if the CPU has it, else maps the xAPIC
/// page (Linux: `x2apic_enable` / `register_lapic_address`).
fn apic_enable_mode(madt_base: Option<u64>) -> KResult<()> {
    let base = rdmsr(MSR_IA32_APICBASE);
    if boot_cpu_has(X86Feature::X2APIC) {
        wrmsr(MSR_IA32_APICBASE, base | MSR_IA32_APICBASE_ENABLE | MSR_IA32_APICBASE_EXTD);
        APIC_MODE.store(MODE_X2APIC, Ordering::Relaxed);
        pr_info!("x2apic enabled");
        pr_info!("APIC: Switched APIC routing to: physical x2apic");
        return Ok(());
    }
    wrmsr(MSR_IA32_APICBASE, base | MSR_IA32_APICBASE_ENABLE);
    let phys = match base & MSR_IA32_APICBASE_BASE {
        0 => madt_base.unwrap_or(APIC_DEFAULT_PHYS_BASE),
        msr_base => msr_base,
    };
    let va = crate::mm::ioremap(PhysAddr::new(phys), 4096)?;
    APIC_MMIO.store(va.as_u64(), Ordering::Relaxed);
    APIC_MODE.store(MODE_XAPIC, Ordering::Relaxed);
    pr_info!("APIC: Switched APIC routing to: physical flat");
    Ok(())
}

/// Programs this CPU's APIC: accept all priorities, local interrupt pins
/// as Linux sets them on the boot CPU, software-enable with the spurious
/// vector (Linux: `setup_local_APIC`).
fn setup_local_apic() {
    apic_write(APIC_TASKPRI, 0);
    // LINT0 would carry the 8259's ExtINT; the PICs are masked, so mask it.
    apic_write(APIC_LVT0, APIC_LVT_MASKED | APIC_DM_EXTINT);
    // LINT1 is NMI on PCs (the MADT's LAPIC_NMI entry says lint 1).
    apic_write(APIC_LVT1, APIC_DM_NMI);
    apic_write(APIC_LVTPC, APIC_LVT_MASKED);
    // No error handler yet: keep the error interrupt masked.
    apic_write(APIC_LVTERR, APIC_LVT_MASKED);
    apic_write(APIC_LVTT, APIC_LVT_MASKED);
    apic_write(APIC_SPIV, u32::from(SPURIOUS_APIC_VECTOR) | APIC_SPIV_APIC_ENABLED);
    // The ESR latches on write; two writes clear it (Linux: `apic_clear_esr`).
    apic_write(APIC_ESR, 0);
    apic_write(APIC_ESR, 0);
    eoi();
}

/// Enables the boot CPU's local APIC (Linux: `apic_bsp_setup`).
pub fn apic_bsp_setup(madt_lapic_base: Option<u64>) -> KResult<()> {
    if !boot_cpu_has(X86Feature::APIC) {
        return Err(Errno::ENODEV);
    }
    apic_enable_mode(madt_lapic_base)?;
    setup_local_apic();
    let id = read_apic_id();
    BOOT_CPU_APIC_ID.store(id, Ordering::Relaxed);
    let version = apic_read(APIC_LVR);
    pr_info!(
        "APIC: boot CPU apic_id {id}, version {:#x}, max LVT {}",
        version & 0xff,
        (version >> 16) & 0xff
    );
    Ok(())
}

/// How long `calibrate_apic_clock` lets the timer count.
const CALIBRATE_MS: u64 = 5;

/// Measures the APIC timer against the TSC (Linux: `calibrate_APIC_clock`,
/// which uses the same method once the TSC is known). The elapsed time is
/// read from the TSC around the two register accesses rather than taken as
/// the delay asked for, which an emulator overshoots.
fn calibrate_apic_clock() -> Option<u32> {
    apic_write(APIC_TDCR, APIC_TDR_DIV_16);
    apic_write(APIC_LVTT, APIC_LVT_MASKED);
    // Each register access may trap to the emulator: time both from the
    // middle of their bracketing clock reads.
    let before_start = time::ktime_get_ns();
    apic_write(APIC_TMICT, u32::MAX);
    let start_ns = before_start.midpoint(time::ktime_get_ns());
    time::ndelay(CALIBRATE_MS * NSEC_PER_MSEC);
    let before_end = time::ktime_get_ns();
    let counted = u64::from(u32::MAX - apic_read(APIC_TMCCT));
    let elapsed_ns = before_end.midpoint(time::ktime_get_ns()) - start_ns;
    apic_write(APIC_TMICT, 0);
    let period =
        u128::from(counted) * u128::from(NSEC_PER_SEC) / u128::from(elapsed_ns.max(1) * HZ);
    u32::try_from(period).ok().filter(|&p| p > 0)
}

/// The tick's interrupt handler (Linux: `sysvec_apic_timer_interrupt` ->
/// `local_apic_timer_interrupt`).
fn local_apic_timer_interrupt() {
    time::tick::tick_handle_periodic(smp_processor_id());
}

/// Starts this CPU's APIC timer periodic at HZ on `LOCAL_TIMER_VECTOR`
/// (Linux: `lapic_timer_set_periodic`).
fn lapic_timer_set_periodic() {
    let period = LAPIC_TIMER_PERIOD.load(Ordering::Relaxed);
    apic_write(APIC_TDCR, APIC_TDR_DIV_16);
    apic_write(APIC_LVTT, u32::from(LOCAL_TIMER_VECTOR) | APIC_LVT_TIMER_PERIODIC);
    apic_write(APIC_TMICT, period);
}

/// Calibrates the APIC timer and starts the tick on the boot CPU (Linux:
/// `setup_boot_APIC_clock`). Needs the TSC calibrated first.
pub fn setup_boot_apic_clock() -> KResult<()> {
    if APIC_MODE.load(Ordering::Relaxed) == MODE_NONE || time::tsc_khz() == 0 {
        return Err(Errno::ENODEV);
    }
    let Some(period) = calibrate_apic_clock() else {
        pr_warn!("APIC timer: calibration failed, no tick");
        return Err(Errno::EIO);
    };
    LAPIC_TIMER_PERIOD.store(period, Ordering::Relaxed);
    let bus_khz = u64::from(period) * 16 * HZ / 1000;
    pr_info!(
        "APIC timer: bus clock {}.{:03} MHz, {period} counts per tick",
        bus_khz / 1000,
        bus_khz % 1000
    );
    crate::kernel::irq::request_irq(LOCAL_TIMER_VECTOR, "LOC", local_apic_timer_interrupt)?;
    time::tick::set_tick_do_timer_cpu(smp_processor_id());
    lapic_timer_set_periodic();
    pr_info!("clockevents: APIC timer at {HZ} Hz (periodic)");
    Ok(())
}

/// Brings up interrupt delivery on the boot CPU: the local APIC, then the
/// IOAPIC routes (Linux: `apic_intr_mode_init` and `setup_IO_APIC`).
/// Failures are reported; the kernel then runs without those interrupts.
pub fn apic_intr_mode_init() {
    let madt = crate::drivers::acpi::madt();
    if let Err(e) = apic_bsp_setup(madt.map(|m| m.lapic_address)) {
        crate::pr_err!("APIC: cannot enable the local APIC: {}", e.description());
        return;
    }
    if let Err(e) = crate::arch::ioapic::setup_io_apic() {
        crate::pr_err!("IOAPIC: not set up: {}", e.description());
    }
}

/// Starts the tick (Linux: `x86_late_time_init` -> `setup_boot_APIC_clock`).
pub fn x86_late_time_init() {
    match setup_boot_apic_clock() {
        // The BIOS left PIT channel 0 ticking into a masked pin; stop it
        // so the emulator stops simulating it.
        Ok(()) => crate::arch::i8253::clockevent_i8253_disable(),
        Err(e) => crate::pr_err!("APIC timer: no tick: {}", e.description()),
    }
}

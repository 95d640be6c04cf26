//! The kernel's clocks: nanoseconds since boot from the TSC.
//!
//! Linux: kernel/sched/clock.c (`local_clock`), arch/x86/kernel/tsc.c
//! (`cyc2ns`: nanoseconds = cycles * mult >> 32).
//!
//! Until the TSC is calibrated the clock reads 0, as Linux's `sched_clock`
//! does before `tsc_init`; the first printk lines therefore show `0.000000`.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::tsc::rdtsc;

/// TSC frequency in kHz; 0 until calibrated.
static TSC_KHZ: AtomicU64 = AtomicU64::new(0);
/// `(10^6 << 32) / tsc_khz`: nanoseconds per cycle as a 32.32 fixed point.
static CYC2NS_MULT: AtomicU64 = AtomicU64::new(0);
/// TSC value that counts as time 0.
static BOOT_TSC: AtomicU64 = AtomicU64::new(0);

/// Marks now as time 0 of the boot clock.
pub fn init_boot_clock() {
    BOOT_TSC.store(rdtsc(), Ordering::Relaxed);
}

/// Records the calibrated TSC frequency; the clock runs from now on.
pub fn set_tsc_khz(khz: u64) {
    if khz == 0 {
        return;
    }
    CYC2NS_MULT.store((1_000_000u64 << 32) / khz, Ordering::Relaxed);
    TSC_KHZ.store(khz, Ordering::Relaxed);
}

pub fn tsc_khz() -> u64 {
    TSC_KHZ.load(Ordering::Relaxed)
}

/// Converts a cycle count to nanoseconds.
pub fn cycles_to_ns(cycles: u64) -> u64 {
    let mult = CYC2NS_MULT.load(Ordering::Relaxed);
    ((u128::from(cycles) * u128::from(mult)) >> 32) as u64
}

/// Nanoseconds since boot, monotonic on this CPU (Linux: `local_clock`).
pub fn local_clock_ns() -> u64 {
    cycles_to_ns(rdtsc().saturating_sub(BOOT_TSC.load(Ordering::Relaxed)))
}

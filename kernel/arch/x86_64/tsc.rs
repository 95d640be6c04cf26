//! The time-stamp counter: reading it, and measuring its frequency at boot.
//!
//! Linux: arch/x86/include/asm/msr.h (`rdtsc`), arch/x86/kernel/tsc.c
//! (`tsc_init`, `native_calibrate_tsc`, `pit_calibrate_tsc`).
//!
//! The frequency comes from CPUID leaf 0x15 when the CPU states it, else
//! from the PIT: the median of three 5 ms measurements. An SMI, or under
//! an emulator the host descheduling the vCPU, can land between a TSC read
//! and the PIT event it brackets and push one measurement either way; the
//! median ignores such outliers.
//!
//! # Locking
//! `tsc_init` runs once on the boot CPU with interrupts off.

use core::arch::x86_64::_rdtsc;

use raw_cpuid::CpuId;

use crate::arch::i8253::pit_calibrate_tsc;
use crate::kernel::time;
use crate::{pr_info, pr_warn};

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` only reads a counter; x86_64 always has it, and we do
    // not set CR4.TSD, so it is allowed at every privilege level.
    unsafe { _rdtsc() }
}

/// A frequency outside this range (kHz) is a failed measurement.
const TSC_KHZ_MIN: u64 = 100_000;
const TSC_KHZ_MAX: u64 = 10_000_000;
const PIT_CALIBRATE_MS: u64 = 5;
const PIT_CALIBRATE_TRIES: usize = 3;

/// The TSC frequency CPUID leaf 0x15 gives, in kHz (Linux:
/// `native_calibrate_tsc`); `None` when the leaf leaves it unstated.
pub fn native_calibrate_tsc() -> Option<u64> {
    let hz = CpuId::new().get_tsc_info()?.tsc_frequency()?;
    Some(hz / 1000).filter(|khz| (TSC_KHZ_MIN..=TSC_KHZ_MAX).contains(khz))
}

/// The median of `PIT_CALIBRATE_TRIES` PIT measurements that look sane.
fn pit_calibrate_tsc_median() -> Option<u64> {
    let mut khz = [0u64; PIT_CALIBRATE_TRIES];
    let mut n = 0;
    for _ in 0..PIT_CALIBRATE_TRIES {
        if let Some(k) =
            pit_calibrate_tsc(PIT_CALIBRATE_MS).filter(|k| (TSC_KHZ_MIN..=TSC_KHZ_MAX).contains(k))
        {
            khz[n] = k;
            n += 1;
        }
    }
    let measured = &mut khz[..n];
    measured.sort_unstable();
    measured.get(n / 2).copied()
}

/// Measures the TSC, records its frequency in `kernel::time`, and prints
/// it as Linux does (Linux: `tsc_init`).
pub fn tsc_init() {
    let khz = native_calibrate_tsc().or_else(|| {
        pr_info!("tsc: Fast TSC calibration using PIT");
        pit_calibrate_tsc_median()
    });
    let Some(khz) = khz else {
        pr_warn!("tsc: Unable to calibrate against PIT; assuming 1 GHz");
        time::set_tsc_khz(1_000_000);
        return;
    };
    time::set_tsc_khz(khz);
    pr_info!("tsc: Detected {}.{:03} MHz processor", khz / 1000, khz % 1000);
    pr_info!("clocksource: Switched to clocksource tsc");
}

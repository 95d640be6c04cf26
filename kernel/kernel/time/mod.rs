//! The kernel's clocks and the tick: nanoseconds since boot from the TSC,
//! `jiffies`, and the periodic timer interrupt that drives them.
//!
//! Linux: kernel/sched/clock.c (`local_clock`), kernel/time/timekeeping.c
//! (`ktime_get_ns`), arch/x86/kernel/tsc.c (`cyc2ns`: nanoseconds =
//! cycles * mult >> 32), kernel/time/jiffies.c, kernel/time/tick-common.c.
//!
//! Until the TSC is calibrated the clocks read 0, as Linux's `sched_clock`
//! does before `tsc_init`; the first printk lines therefore show `0.000000`.
//! Ferrite's only clocksource is the TSC, which it requires to be constant
//! rate (any CPU with `NONSTOP_TSC`, and QEMU).
//!
//! # Locking
//! Lock-free: the calibration values are atomics written once at boot
//! before the clocks are used for anything but printk timestamps.
#![deny(unsafe_code)]

pub mod cputime;
pub mod itimer;
pub mod jiffies;
pub mod posix;
pub mod posix_timers;
pub mod tick;
pub mod timekeeping;
pub mod timer;

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::tsc::rdtsc;

pub use jiffies::{HZ, jiffies};

pub const NSEC_PER_SEC: u64 = 1_000_000_000;
pub const NSEC_PER_MSEC: u64 = 1_000_000;

/// TSC frequency in kHz; 0 until calibrated (Linux: `tsc_khz`).
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

/// The calibrated TSC frequency in kHz, 0 before calibration.
pub fn tsc_khz() -> u64 {
    TSC_KHZ.load(Ordering::Relaxed)
}

/// Converts a cycle count to nanoseconds.
pub fn cycles_to_ns(cycles: u64) -> u64 {
    let mult = CYC2NS_MULT.load(Ordering::Relaxed);
    // A u64 of cycles times a 32.32 multiplier fits in u128; after the
    // shift, 2^64 ns is 584 years of uptime, so saturating cannot bite.
    u64::try_from((u128::from(cycles) * u128::from(mult)) >> 32).unwrap_or(u64::MAX)
}

/// Nanoseconds since boot, monotonic on this CPU (Linux: `local_clock`).
pub fn local_clock_ns() -> u64 {
    cycles_to_ns(rdtsc().saturating_sub(BOOT_TSC.load(Ordering::Relaxed)))
}

/// The monotonic clock in nanoseconds since boot (Linux: `ktime_get_ns`,
/// `CLOCK_MONOTONIC`). With the TSC constant-rate and synchronised across
/// CPUs, as on every CPU Ferrite supports, this is `local_clock_ns`.
pub fn ktime_get_ns() -> u64 {
    local_clock_ns()
}

/// Busy-waits for `ns` nanoseconds on the TSC (Linux: `ndelay`/`udelay`).
/// Returns at once before the TSC is calibrated.
pub fn ndelay(ns: u64) {
    if tsc_khz() == 0 {
        return;
    }
    let end = ktime_get_ns().saturating_add(ns);
    while ktime_get_ns() < end {
        core::hint::spin_loop();
    }
}

/// Busy-waits for `ms` milliseconds (Linux: `mdelay`).
pub fn mdelay(ms: u64) {
    ndelay(ms.saturating_mul(NSEC_PER_MSEC));
}

crate::ktest!(clock_is_monotonic, {
    crate::kassert!(tsc_khz() != 0, "the TSC is calibrated");
    let mut last = ktime_get_ns();
    for _ in 0..100_000 {
        let now = ktime_get_ns();
        crate::kassert!(now >= last, "ktime_get_ns never goes back");
        last = now;
    }
    Ok(())
});

crate::ktest!(jiffies_advance_with_interrupts_on, {
    crate::kassert!(!crate::arch::irqflags::irqs_disabled(), "tests run with interrupts on");
    let start = jiffies();
    mdelay(20);
    // 20 ms at HZ=250 is 5 ticks; allow slack for a slow emulator.
    crate::kassert!(jiffies() >= start + 2, "jiffies advanced over 20 ms");
    Ok(())
});

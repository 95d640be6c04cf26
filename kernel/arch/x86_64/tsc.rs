//! The time-stamp counter.
//!
//! Linux: arch/x86/include/asm/msr.h (`rdtsc`), arch/x86/kernel/tsc.c.

use core::arch::x86_64::_rdtsc;

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` only reads a counter; x86_64 always has it, and we do
    // not set CR4.TSD, so it is allowed at every privilege level.
    unsafe { _rdtsc() }
}

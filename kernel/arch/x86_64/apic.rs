//! The local APIC and its timer.
//!
//! Linux: arch/x86/kernel/apic/apic.c.

/// Signals end-of-interrupt to the local APIC.
pub fn eoi() {}

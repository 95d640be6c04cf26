//! `jiffies`: the count of timer ticks, HZ per second.
//!
//! Linux: kernel/time/jiffies.c, include/linux/jiffies.h.
//!
//! Like Linux, the count starts at [`INITIAL_JIFFIES`], five minutes before
//! the 32-bit value wraps, so code that mishandles the wrap fails in the
//! first minutes of every boot rather than after 49 days. Ticks since boot
//! are `jiffies() - INITIAL_JIFFIES`; for time since boot use
//! `ktime_get_ns`, which does not depend on the tick.
//!
//! # Locking
//! `JIFFIES_64` is an atomic written only by the tick on the CPU that owns
//! timekeeping (`tick_do_timer_cpu`) and read anywhere.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

/// Ticks per second (Linux: `CONFIG_HZ`; Debian builds with 250).
pub const HZ: u64 = 250;

/// Linux: `INITIAL_JIFFIES = (unsigned long)(unsigned int)(-300 * HZ)`.
pub const INITIAL_JIFFIES: u64 = (u32::MAX as u64 + 1) - 300 * HZ;

/// Linux: `jiffies_64`.
static JIFFIES_64: AtomicU64 = AtomicU64::new(INITIAL_JIFFIES);

/// The tick count (Linux: `get_jiffies_64`).
pub fn jiffies() -> u64 {
    JIFFIES_64.load(Ordering::Relaxed)
}

/// Advances jiffies by `ticks` (Linux: `do_timer`); only the timekeeping
/// CPU's tick calls this.
pub fn do_timer(ticks: u64) {
    JIFFIES_64.fetch_add(ticks, Ordering::Relaxed);
}

/// Linux: `jiffies_to_msecs`.
pub const fn jiffies_to_msecs(j: u64) -> u64 {
    j * (1000 / HZ)
}

/// Linux: `msecs_to_jiffies`; rounds up, so a timeout never ends early.
pub const fn msecs_to_jiffies(ms: u64) -> u64 {
    ms.div_ceil(1000 / HZ)
}

crate::ktest!(jiffies_conversions, {
    crate::kassert!(msecs_to_jiffies(1) == 1, "a partial tick rounds up");
    crate::kassert!(msecs_to_jiffies(1000) == HZ, "one second is HZ ticks");
    crate::kassert!(jiffies_to_msecs(HZ) == 1000, "HZ ticks are one second");
    crate::kassert!(
        INITIAL_JIFFIES + 300 * HZ == 1 << 32,
        "the 32-bit count wraps after 5 minutes"
    );
    crate::kassert!(jiffies() >= INITIAL_JIFFIES, "jiffies start at INITIAL_JIFFIES");
    Ok(())
});

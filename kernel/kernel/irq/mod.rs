//! Interrupt handlers: which function runs for which vector, and how often
//! each fired (for `/proc/interrupts`).
//!
//! Linux: kernel/irq/manage.c (`request_irq`), kernel/irq/irqdesc.c.
//!
//! # Locking
//! Each vector's handler is set at most once (`spin::Once`) and read without
//! a lock by the interrupt path; counts are atomics.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::irq_vectors::FIRST_EXTERNAL_VECTOR;
use crate::kernel::errno::{Errno, KResult};

/// An interrupt handler: runs with interrupts off, on the interrupted stack.
pub type IrqHandler = fn();

/// One vector's handler and statistics (Linux: `struct irq_desc`).
struct IrqDesc {
    action: spin::Once<(IrqHandler, &'static str)>,
    count: AtomicU64,
}

const NR_VECTORS: usize = 256;

static DESCS: [IrqDesc; NR_VECTORS] =
    [const { IrqDesc { action: spin::Once::new(), count: AtomicU64::new(0) } }; NR_VECTORS];

/// Installs `handler` for `vector` (Linux: `request_irq`).
///
/// Fails with `EINVAL` for a CPU exception vector and `EBUSY` if the vector
/// already has a handler.
pub fn request_irq(vector: u8, name: &'static str, handler: IrqHandler) -> KResult<()> {
    if vector < FIRST_EXTERNAL_VECTOR {
        return Err(Errno::EINVAL);
    }
    let mut installed = false;
    DESCS[usize::from(vector)].action.call_once(|| {
        installed = true;
        (handler, name)
    });
    if installed { Ok(()) } else { Err(Errno::EBUSY) }
}

/// Runs the handler for `vector`; returns false if there is none.
pub fn handle_irq(vector: u8) -> bool {
    let desc = &DESCS[usize::from(vector)];
    desc.count.fetch_add(1, Ordering::Relaxed);
    match desc.action.get() {
        Some((handler, _)) => {
            handler();
            true
        }
        None => false,
    }
}

/// How often `vector` fired, handler or not (Linux: `kstat_irqs`):
/// the spurious vector's count is read this way.
pub fn kstat_irqs(vector: u8) -> u64 {
    DESCS[usize::from(vector)].count.load(Ordering::Relaxed)
}

/// Calls `f(vector, name, count)` for each vector with a handler.
pub fn for_each_action(mut f: impl FnMut(u8, &'static str, u64)) {
    for (vector, desc) in (0..=u8::MAX).zip(&DESCS) {
        if let Some((_, name)) = desc.action.get() {
            f(vector, name, desc.count.load(Ordering::Relaxed));
        }
    }
}

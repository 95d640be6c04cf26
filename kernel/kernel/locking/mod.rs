//! Locking primitives. Linux: kernel/locking/.
//!
//! Lock order, outermost first (add to it when adding a lock):
//! 1. `printk::LOG` (the log ring)
//! 2. `uart_8250::Uart8250::port` (console output)
//! 3. `mm::page_alloc::ZONE` (the buddy allocator)

pub mod spinlock;

pub use spinlock::{SpinLock, SpinLockGuard};

//! Locking primitives. Linux: kernel/locking/.
//!
//! Lock order, outermost first (add to it when adding a lock). A lock may
//! be taken while holding only locks above it in this list.
//! 1. `mm::vmalloc::VMAP_AREAS` (the vmalloc area list)
//! 2. `mm::page_table::KERNEL_PGTABLE` (the kernel page tables)
//! 3. each `mm::slub::KmemCache`'s slab lists
//! 4. `mm::page_alloc::ZONE` (the buddy allocator)
//! 5. `mm::memblock::MEMBLOCK` (boot-time memory, before the buddy exists)
//! 6. `arch::ioapic::IOAPICS` (IOAPIC redirection entries)
//! 7. `kernel::printk::LOG` (the log ring), then the console port
//!    (`uart_8250::Uart8250::port`): printk may be called under any lock.

pub mod spinlock;

pub use spinlock::SpinLock;

//! Memory management: physical pages, the kernel's page tables, kernel
//! allocators, and (later) address spaces of user processes.
//!
//! Linux: mm/.

pub mod addr;

use crate::arch::boot::BootParams;

/// Takes physical memory over from the boot loader: the page allocator, the
/// kernel's page tables, the slab allocator (Linux: `mm_core_init`).
pub fn mem_init(_params: &BootParams) {}

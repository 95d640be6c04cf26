//! Kernel stacks in vmalloc space, each with an unmapped guard page below
//! it, so that an overflow faults at once instead of overwriting whatever
//! lies below (Linux: CONFIG_VMAP_STACK).
//!
//! Linux: kernel/fork.c (`alloc_thread_stack_node`, `free_thread_stack`).
//!
//! # Locking
//! None of its own: see `vmalloc`.
#![deny(unsafe_code)]

use crate::arch::THREAD_SIZE;
use crate::kernel::errno::KResult;
use crate::mm::addr::{PAGE_SIZE, VirtAddr};
use crate::mm::vmalloc::{VmArea, VmKind, claim_vm_area, unmap_area, vmalloc_area};

/// One kernel stack of `THREAD_SIZE` bytes; dropping it unmaps and frees
/// its pages.
pub struct KernelStack {
    area: VmArea,
}

impl KernelStack {
    /// Linux: `alloc_thread_stack_node`. The memory is not zeroed.
    pub fn new() -> KResult<Self> {
        Ok(Self { area: vmalloc_area(THREAD_SIZE, VmKind::Stack, false)? })
    }

    /// The lowest usable address.
    pub fn bottom(&self) -> VirtAddr {
        self.area.addr
    }

    /// One past the highest usable address: the initial stack pointer.
    pub fn top(&self) -> VirtAddr {
        VirtAddr::new(self.area.addr.as_u64() + THREAD_SIZE as u64)
    }

    /// The unmapped page just below [`bottom`](Self::bottom).
    pub fn guard_page(&self) -> VirtAddr {
        VirtAddr::new(self.area.addr.as_u64() - PAGE_SIZE as u64)
    }
}

impl Drop for KernelStack {
    fn drop(&mut self) {
        if let Some(area) = claim_vm_area(self.area.addr, VmKind::Stack) {
            unmap_area(&area);
        }
    }
}

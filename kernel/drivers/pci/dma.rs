//! Memory a device reads and writes by DMA, shared with the CPU:
//! physically contiguous pages from the buddy allocator, accessed through
//! the direct map with bounds-checked volatile reads and writes.
//!
//! Linux: kernel/dma/mapping.c (`dma_alloc_coherent`,
//! `dma_free_coherent`) with the direct mapping (no IOMMU: the bus
//! address is the physical address).
//!
//! x86 DMA is cache-coherent, so write-back memory serves; what matters
//! is that the compiler neither caches nor reorders these accesses, hence
//! volatile, and the caller's fences (`dma_wmb`/`dma_rmb`) where the
//! device must see one store before another.
//!
//! # Locking
//! None: a `DmaCoherent` is owned by its driver.

use core::sync::atomic::{Ordering, fence};

use crate::kernel::errno::KResult;
use crate::mm::addr::{PAGE_SIZE, Pfn, phys_to_virt};

use super::window::Window;
use crate::mm::page_alloc::{alloc_pages, clear_pages, free_pages};

/// `PAGE_SIZE << order` zeroed bytes the device may access.
pub struct DmaCoherent {
    pfn: Pfn,
    order: u8,
    window: Window,
}

impl DmaCoherent {
    /// Allocates and zeroes `1 << order` contiguous pages.
    pub fn alloc(order: u8) -> KResult<Self> {
        let pfn = alloc_pages(order)?;
        clear_pages(pfn, order);
        let len = PAGE_SIZE << order;
        // SAFETY: the pages are ours from `alloc_pages` until `drop` frees
        // them, mapped writable by the direct map, and never handed out as
        // Rust objects.
        let window = unsafe { Window::new(phys_to_virt(pfn.phys()), len) };
        Ok(DmaCoherent { pfn, order, window })
    }

    /// The bus address the device is given (Linux: `dma_addr_t`).
    pub fn dma_addr(&self) -> u64 {
        self.pfn.phys().as_u64()
    }

    pub fn len(&self) -> usize {
        PAGE_SIZE << self.order
    }

    /// Reads the little-endian 16-bit value at `off` (0 out of bounds).
    pub fn read16(&self, off: usize) -> u16 {
        self.window.read(off).unwrap_or(0)
    }

    pub fn read32(&self, off: usize) -> u32 {
        self.window.read(off).unwrap_or(0)
    }

    pub fn write16(&self, off: usize, value: u16) {
        self.window.write(off, value);
    }

    pub fn write32(&self, off: usize, value: u32) {
        self.window.write(off, value);
    }

    pub fn write64(&self, off: usize, value: u64) {
        self.window.write(off, value);
    }

    /// Copies `src` to `off`; `false` (nothing copied) if it does not fit.
    pub fn copy_in(&self, off: usize, src: &[u8]) -> bool {
        let Some(addr) = self.window.range(off, src.len()) else { return false };
        // SAFETY: `[addr, addr + src.len())` lies in pages this object
        // owns; `src` is a kernel slice that cannot overlap them (the
        // pages are not handed out as Rust objects).
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), addr as *mut u8, src.len()) };
        true
    }

    /// Copies from `off` into `dst`; `false` (nothing copied) if out of bounds.
    pub fn copy_out(&self, off: usize, dst: &mut [u8]) -> bool {
        let Some(addr) = self.window.range(off, dst.len()) else { return false };
        // SAFETY: as in `copy_in`, in the other direction; the device has
        // finished writing (the caller saw its completion after `dma_rmb`).
        unsafe { core::ptr::copy_nonoverlapping(addr as *const u8, dst.as_mut_ptr(), dst.len()) };
        true
    }
}

impl Drop for DmaCoherent {
    fn drop(&mut self) {
        free_pages(self.pfn, self.order);
    }
}

/// Orders the CPU's stores to DMA memory before a later store the device
/// acts on (Linux: `dma_wmb`, `virtio_wmb`).
pub fn dma_wmb() {
    fence(Ordering::SeqCst);
}

/// Orders a read of a device's completion before reads of the data it
/// covers (Linux: `dma_rmb`, `virtio_rmb`).
pub fn dma_rmb() {
    fence(Ordering::SeqCst);
}

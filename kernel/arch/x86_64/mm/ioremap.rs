//! Mapping device and firmware memory into vmalloc space.
//!
//! Linux: arch/x86/mm/ioremap.c (`ioremap`, `ioremap_cache`, `iounmap`).
//!
//! `ioremap` maps uncached (PCD | PWT, never executable) for MMIO registers
//! such as the local APIC and IOAPIC; `ioremap_cache` maps write-back, for
//! firmware tables in e820 "reserved" or ACPI ranges above the direct map's
//! reach. Both refuse RAM that the page allocator manages (Linux: "ioremap
//! on RAM"): mapping it uncached would alias the direct map's write-back
//! mapping with another memory type.
//!
//! # Locking
//! None of its own: see `mm::vmalloc`.

use crate::arch::mm::pgtable_types::PteFlags;
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, Pfn, PhysAddr, VirtAddr};
use crate::mm::page::{PageFlags, pfn_to_page};
use crate::mm::vmalloc::{VmKind, claim_vm_area, get_vm_area, map_area, unmap_area};

const PAGE_MASK: u64 = !(PAGE_SIZE as u64 - 1);

/// Maps `size` bytes of MMIO at `phys` uncached; returns the address of
/// `phys` itself (which need not be page aligned).
pub fn ioremap(phys: PhysAddr, size: usize) -> KResult<VirtAddr> {
    __ioremap_caller(phys, size, PteFlags::KERNEL_NOCACHE)
}

/// Maps `size` bytes at `phys` write-back (Linux: `ioremap_cache`).
pub fn ioremap_cache(phys: PhysAddr, size: usize) -> KResult<VirtAddr> {
    __ioremap_caller(phys, size, PteFlags::KERNEL)
}

fn __ioremap_caller(phys: PhysAddr, size: usize, flags: PteFlags) -> KResult<VirtAddr> {
    let last = phys.as_u64().checked_add(size as u64).filter(|_| size > 0).ok_or(Errno::EINVAL)?;
    let first_pfn = phys.as_u64() >> 12;
    let end_pfn = last.div_ceil(PAGE_SIZE as u64);
    let is_ram =
        |p: u64| pfn_to_page(Pfn(p)).is_some_and(|pg| !pg.flags().contains(PageFlags::RESERVED));
    if (first_pfn..end_pfn).any(is_ram) {
        return Err(Errno::EINVAL);
    }
    let offset = phys.as_u64() & !PAGE_MASK;
    let bytes =
        usize::try_from((end_pfn - first_pfn) * PAGE_SIZE as u64).map_err(|_| Errno::EINVAL)?;
    let area = get_vm_area(bytes, VmKind::Ioremap)?;
    if let Err(e) = map_area(&area, flags, |i| Ok(Pfn(first_pfn + i as u64))) {
        unmap_area(&area);
        return Err(e);
    }
    Ok(VirtAddr::new(area.addr.as_u64() + offset))
}

/// Undoes [`ioremap`] or [`ioremap_cache`]; `addr` is what they returned.
/// Any other address is ignored with `EINVAL`.
pub fn iounmap(addr: VirtAddr) -> KResult<()> {
    let area = claim_vm_area(VirtAddr::new(addr.as_u64() & PAGE_MASK), VmKind::Ioremap);
    unmap_area(&area.ok_or(Errno::EINVAL)?);
    Ok(())
}

//! vmalloc space: virtually contiguous kernel mappings of scattered pages
//! (`vmalloc`), of device memory (`ioremap`) and kernel stacks.
//!
//! Linux: mm/vmalloc.c (`get_vm_area`, `__vmalloc_node_range`, `vfree`,
//! `vmap_pages_range`).
//!
//! Areas are carved first-fit from `VMALLOC_START..=VMALLOC_END` and kept in
//! a sorted `Vec` (Linux: an augmented red-black tree; a tree crate can
//! replace the vector when thousands of areas make the linear scan show).
//! Every area is preceded by one unmapped guard page, so a run off either
//! end of an area hits a guard: the next area's guard above, its own below.
//! That guard is what catches kernel-stack overflows (CONFIG_VMAP_STACK).
//!
//! All mappings go into the kernel half of [`KERNEL_PGTABLE`], under PML4
//! entries that exist from boot, so every address space sees them at once.
//!
//! # Locking
//! `VMAP_AREAS` guards the area list and is never held while mapping. Lock
//! order: `VMAP_AREAS`, then slab caches and `ZONE` (the vector grows under
//! it); `KERNEL_PGTABLE`, then `ZONE`. Unmapping flushes only this CPU's
//! TLB; SMP will need `flush_tlb_kernel_range` here.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use crate::arch::mm::init_64::supported;
use crate::arch::mm::pgtable_types::PteFlags;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::mm::addr::{PAGE_SIZE, Pfn, VMALLOC_END, VMALLOC_START, VirtAddr};
use crate::mm::page_alloc::{BuddyPgtableAlloc, alloc_pages, clear_pages, free_pages};
use crate::mm::page_table::KERNEL_PGTABLE;

const PAGE: u64 = PAGE_SIZE as u64;

/// What an area maps, which decides whether its frames are freed with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmKind {
    /// Pages from the page allocator (`vmalloc`).
    Alloc,
    /// A kernel stack: pages from the page allocator.
    Stack,
    /// Device or firmware memory that is not ours to free (`ioremap`).
    Ioremap,
    /// A loaded module's image, in `MODULES_VADDR..MODULES_END`
    /// (arch/x86_64/module.rs `module_alloc`): pages from the allocator.
    Module,
}

/// One mapped range and its guard page (Linux: `struct vm_struct`).
#[derive(Clone, Copy, Debug)]
pub struct VmArea {
    /// The first mapped byte; the guard page is just below.
    pub addr: VirtAddr,
    /// Mapped bytes, a multiple of `PAGE_SIZE`.
    pub size: usize,
    pub kind: VmKind,
    /// Being unmapped; no second free may claim it.
    freeing: bool,
}

impl VmArea {
    fn start(&self) -> u64 {
        self.addr.as_u64() - PAGE
    }

    fn end(&self) -> u64 {
        self.addr.as_u64() + self.size as u64
    }

    pub fn nr_pages(&self) -> usize {
        self.size / PAGE_SIZE
    }

    fn page(&self, i: usize) -> VirtAddr {
        VirtAddr::new(self.addr.as_u64() + (i * PAGE_SIZE) as u64)
    }
}

static VMAP_AREAS: SpinLock<Vec<VmArea>> = SpinLock::new(Vec::new());

/// Reserves virtual space for `size` bytes (rounded up to pages) plus a
/// guard page (Linux: `get_vm_area`). Nothing is mapped yet.
pub fn get_vm_area(size: usize, kind: VmKind) -> KResult<VmArea> {
    get_vm_area_range(size, kind, VMALLOC_START, VMALLOC_END)
}

/// As [`get_vm_area`], in `start..=end` (Linux: `__get_vm_area_node`'s
/// range, which `module_alloc` uses for `MODULES_VADDR..MODULES_END`).
/// The list holds every range's areas, sorted; only those inside the
/// range are looked at.
pub fn get_vm_area_range(size: usize, kind: VmKind, start: u64, end: u64) -> KResult<VmArea> {
    let size = size.checked_next_multiple_of(PAGE_SIZE).filter(|&s| s > 0).ok_or(Errno::EINVAL)?;
    let need = (size as u64).checked_add(PAGE).ok_or(Errno::ENOMEM)?;
    let mut areas = VMAP_AREAS.lock();
    areas.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    let mut cursor = start;
    let mut slot = areas.partition_point(|a| a.start() < start);
    for a in &areas[slot..] {
        if a.start() > end || a.start() - cursor >= need {
            break;
        }
        cursor = a.end();
        slot += 1;
    }
    if cursor > end || (end - cursor).saturating_add(1) < need {
        return Err(Errno::ENOMEM);
    }
    let area = VmArea { addr: VirtAddr::new(cursor + PAGE), size, kind, freeing: false };
    areas.insert(slot, area);
    Ok(area)
}

/// Whether [`vmalloc`] may be entered without deadlocking on its own locks:
/// false while any CPU holds them (this one, if a heap allocation made
/// under them is what asks), so a fallback into vmalloc from the heap
/// gives up instead of spinning on itself.
pub fn vmalloc_locks_free() -> bool {
    VMAP_AREAS.try_lock().is_some() && KERNEL_PGTABLE.try_lock().is_some()
}

/// Takes the area that starts at `addr` off the list (Linux:
/// `remove_vm_area`).
fn remove_vm_area(addr: VirtAddr) -> Option<VmArea> {
    let mut areas = VMAP_AREAS.lock();
    let i = areas.binary_search_by_key(&addr.as_u64(), |a| a.addr.as_u64()).ok()?;
    Some(areas.remove(i))
}

/// Claims the area of `kind` starting at `addr` for freeing: a second
/// claim of the same area fails, so it is unmapped once, and its virtual
/// space stays taken until [`unmap_area`] has removed every mapping.
pub fn claim_vm_area(addr: VirtAddr, kind: VmKind) -> Option<VmArea> {
    let mut areas = VMAP_AREAS.lock();
    let area = areas.iter_mut().find(|a| a.addr == addr && a.kind == kind && !a.freeing)?;
    area.freeing = true;
    Some(*area)
}

/// The area holding `addr`, if any (Linux: `find_vm_area`).
pub fn find_vm_area(addr: VirtAddr) -> Option<VmArea> {
    let areas = VMAP_AREAS.lock();
    areas.iter().find(|a| a.start() <= addr.as_u64() && addr.as_u64() < a.end()).copied()
}

/// Maps page `i` of `area` to `pfn_of(i)` for every page (Linux:
/// `vmap_pages_range`). On error the pages mapped so far stay mapped; the
/// caller undoes them with [`unmap_area`].
pub fn map_area(
    area: &VmArea,
    flags: PteFlags,
    pfn_of: impl FnMut(usize) -> KResult<Pfn>,
) -> KResult<()> {
    map_area_with(area, |_| flags, pfn_of)
}

/// As [`map_area`], page `i` with `flags_of(i)`: a module's text, rodata
/// and data get different permissions in one area.
pub fn map_area_with(
    area: &VmArea,
    flags_of: impl Fn(usize) -> PteFlags,
    mut pfn_of: impl FnMut(usize) -> KResult<Pfn>,
) -> KResult<()> {
    let mut pgd = KERNEL_PGTABLE.lock();
    let pgd = pgd.as_mut().ok_or(Errno::ENOMEM)?;
    for i in 0..area.nr_pages() {
        let pfn = pfn_of(i)?;
        let flags = supported(flags_of(i));
        if let Err(e) = pgd.map_with(area.page(i), pfn, flags, 1, &mut BuddyPgtableAlloc) {
            if area.kind != VmKind::Ioremap {
                free_pages(pfn, 0);
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Unmaps every page of `area`, frees the frames it owns, and gives its
/// virtual space back (Linux: `vunmap` + `vm_remove_mappings`). The area
/// must be new (never published) or claimed with [`claim_vm_area`].
pub fn unmap_area(area: &VmArea) {
    let mut pgd = KERNEL_PGTABLE.lock();
    if let Some(pgd) = pgd.as_mut() {
        for i in 0..area.nr_pages() {
            let pfn = pgd.unmap(area.page(i));
            if let (Some(pfn), false) = (pfn, area.kind == VmKind::Ioremap) {
                free_pages(pfn, 0);
            }
        }
    }
    drop(pgd);
    remove_vm_area(area.addr);
}

/// Maps fresh pages into a new area of `kind` (Linux: `__vmalloc_node_range`).
pub fn vmalloc_area(size: usize, kind: VmKind, zero: bool) -> KResult<VmArea> {
    let area = get_vm_area(size, kind)?;
    let result = map_area(&area, PteFlags::KERNEL, |_| {
        let pfn = alloc_pages(0)?;
        if zero {
            clear_pages(pfn, 0);
        }
        Ok(pfn)
    });
    match result {
        Ok(()) => Ok(area),
        Err(e) => {
            unmap_area(&area);
            Err(e)
        }
    }
}

/// Allocates `size` bytes of virtually contiguous memory (Linux: `vmalloc`).
pub fn vmalloc(size: usize) -> KResult<VirtAddr> {
    vmalloc_area(size, VmKind::Alloc, false).map(|a| a.addr)
}

/// As [`vmalloc`], zeroed (Linux: `vzalloc`).
#[allow(dead_code, reason = "the zeroing variant of vmalloc, for the users the next issues bring")]
pub fn vzalloc(size: usize) -> KResult<VirtAddr> {
    vmalloc_area(size, VmKind::Alloc, true).map(|a| a.addr)
}

/// Frees what [`vmalloc`] returned (Linux: `vfree`); `EINVAL` for an
/// address that does not start a vmalloc area.
pub fn vfree(addr: VirtAddr) -> KResult<()> {
    let area = claim_vm_area(addr, VmKind::Alloc).ok_or(Errno::EINVAL)?;
    unmap_area(&area);
    Ok(())
}

crate::ktest!(vmalloc_maps_and_vfree_unmaps, {
    use crate::mm::page_table::kernel_translate;
    let va = vmalloc(3 * PAGE_SIZE + 1).map_err(|_| "vmalloc")?;
    let area = find_vm_area(va).ok_or("area recorded")?;
    crate::kassert!(
        area.nr_pages() == 4 && va.as_u64() >= VMALLOC_START,
        "four pages in vmalloc space"
    );
    for i in 0..4 {
        let (_, flags) = kernel_translate(area.page(i)).ok_or("mapped")?;
        crate::kassert!(flags.contains(PteFlags::RW | PteFlags::NX), "kernel data flags");
    }
    crate::kassert!(kernel_translate(VirtAddr::new(va.as_u64() - PAGE)).is_none(), "guard page");
    vfree(va).map_err(|_| "vfree")?;
    crate::kassert!(kernel_translate(va).is_none(), "unmapped after vfree");
    crate::kassert!(vfree(va) == Err(Errno::EINVAL), "double vfree refused");
    crate::kassert!(vmalloc(0) == Err(Errno::EINVAL), "empty vmalloc refused");
    Ok(())
});

crate::ktest!(kernel_stack_has_guard_page, {
    use crate::mm::kstack::KernelStack;
    use crate::mm::page_table::kernel_translate;
    let stack = KernelStack::new().map_err(|_| "KernelStack::new")?;
    let top_byte = VirtAddr::new(stack.top().as_u64() - 1);
    crate::kassert!(kernel_translate(stack.bottom()).is_some(), "bottom mapped");
    crate::kassert!(kernel_translate(top_byte).is_some(), "top mapped");
    crate::kassert!(
        stack.top().as_u64() - stack.bottom().as_u64() == crate::arch::THREAD_SIZE as u64,
        "THREAD_SIZE"
    );
    crate::kassert!(kernel_translate(stack.guard_page()).is_none(), "guard page not present");
    let bottom = stack.bottom();
    drop(stack);
    crate::kassert!(kernel_translate(bottom).is_none(), "drop unmaps");
    Ok(())
});

crate::ktest!(ioremap_maps_uncached, {
    use crate::mm::addr::PhysAddr;
    use crate::mm::page_table::kernel_translate;
    let va = crate::mm::ioremap(PhysAddr::new(0xfec0_0010), 0x20).map_err(|_| "ioremap")?;
    crate::kassert!(va.as_u64() & 0xfff == 0x10, "offset kept");
    let (pa, flags) = kernel_translate(va).ok_or("mapped")?;
    crate::kassert!(pa.as_u64() == 0xfec0_0010, "maps the device");
    crate::kassert!(flags.contains(PteFlags::PCD | PteFlags::PWT), "uncached");
    crate::mm::iounmap(va).map_err(|_| "iounmap")?;
    crate::kassert!(kernel_translate(va).is_none(), "iounmap unmaps");
    // A page the allocator manages (a fixed address could be the image's).
    let pfn = crate::mm::page_alloc::alloc_pages(0).map_err(|_| "alloc_pages")?;
    let ram = crate::mm::ioremap(pfn.phys(), 4096);
    crate::mm::page_alloc::free_pages(pfn, 0);
    crate::kassert!(ram == Err(Errno::EINVAL), "ioremap of RAM refused");
    Ok(())
});

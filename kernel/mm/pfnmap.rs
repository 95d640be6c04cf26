//! Mappings of raw page frames: device memory and firmware that no `Page`
//! reference keeps, as `/dev/mem` maps them (Linux: mm/memory.c
//! `remap_pfn_range`, `vm_normal_page`, `do_wp_page`'s `VM_PFNMAP` case,
//! `cow_user_page`; arch/x86/mm/pat/memtype.c `phys_mem_access_prot`).
//!
//! A `VM_PFNMAP` area maps frame `vm_pgoff + index` at each page, as
//! `remap_pfn_range` leaves a COW-able area in Linux (its `vm_pgoff` is
//! the first frame). Linux fills the page table at `mmap`; Ferrite fills
//! it on the first touch of each page ([`do_pfn_fault`]), which user space
//! cannot tell apart. The PTE carries `PteFlags::SPECIAL` (Linux:
//! `pte_special`), so that unmapping, fork, mprotect and smaps leave the
//! frame's (nonexistent) reference count alone. Frames outside RAM are
//! mapped uncached (UC-, `PCD`), RAM write-back, as `/dev/mem` gets from
//! x86's `phys_mem_access_prot` without `O_DSYNC`.
//!
//! A private area is copy-on-write, as in Linux: a write puts a copy of
//! the frame in a new anonymous page, an ordinary one from then on. The
//! copy reads the frame through the direct map, which covers RAM and the
//! first megabyte; a private write to other device memory gets `SIGBUS`
//! (Linux copies through the user mapping: TODO(issue 7)).
//!
//! # Locking
//! Called with `mmap_lock` held shared; takes memblock's lock (to ask
//! whether a frame is RAM) before the mm's `page_table` lock, never under it.
#![deny(unsafe_code)]

use crate::arch::mm::pgtable_types::{Pte, PteFlags};
use crate::mm::addr::{PAGE_SIZE, Pfn, VirtAddr};
use crate::mm::highmem::copy_highpage;
use crate::mm::memblock::MEMBLOCK;
use crate::mm::memory::{FaultFlags, VmFault, do_wp_page, install, mkwrite};
use crate::mm::mm_types::Mm;
use crate::mm::page_alloc::{alloc_pages, free_pages};
use crate::mm::vma::{VmFlags, Vma, linear_page_index};

/// The ISA range below 1 MiB, direct-mapped whole at boot (init_64.rs).
const ISA_END_PFN: u64 = 0x100;

/// Whether frame `pfn` is (in) usable RAM of the e820 map (Linux:
/// `page_is_ram`, "System RAM" in /proc/iomem). Memblock keeps whole
/// pages, so a page only partly RAM counts as not RAM.
pub fn page_is_ram(pfn: Pfn) -> bool {
    let Some(pa) = pfn.0.checked_mul(PAGE_SIZE as u64) else { return false };
    MEMBLOCK.lock().memory.regions().iter().any(|r| r.base <= pa && pa < r.end)
}

/// Resolves a fault in a `VM_PFNMAP` area (Linux: the PTE `remap_pfn_range`
/// wrote, or `do_wp_page` → `wp_page_copy` for a write to a private one).
pub fn do_pfn_fault(mm: &Mm, vma: &Vma, addr: u64, flags: FaultFlags) -> Result<(), VmFault> {
    let va = VirtAddr::new(addr & !(PAGE_SIZE as u64 - 1));
    let pfn = Pfn(linear_page_index(vma, va.as_u64()));
    let ram = page_is_ram(pfn);
    let write = flags.contains(FaultFlags::WRITE);
    if write && !vma.flags.contains(VmFlags::SHARED) {
        return do_pfn_cow(mm, vma, va, pfn, ram || pfn.0 < ISA_END_PFN);
    }
    let mut prot = vma.page_prot() | PteFlags::SPECIAL;
    if !ram {
        prot |= PteFlags::PCD;
    }
    let mut pt = mm.page_table();
    let pte = pt.get_pte(va);
    // Another thread mapped it, or a private copy is there already.
    if pte.is_present() && (!write || pte.flags().contains(PteFlags::RW)) {
        return Ok(());
    }
    install(&mut pt, va, Pte::new(pfn, prot))
}

/// A write to a private `VM_PFNMAP` page: the frame is copied into a new
/// anonymous page (Linux: `wp_page_copy` with no `struct page`), or, if
/// that copy exists and is shared after fork, copied again by `do_wp_page`.
fn do_pfn_cow(
    mm: &Mm,
    vma: &Vma,
    va: VirtAddr,
    pfn: Pfn,
    direct_mapped: bool,
) -> Result<(), VmFault> {
    let mut pt = mm.page_table();
    let pte = pt.get_pte(va);
    if pte.is_present() && !pte.flags().contains(PteFlags::SPECIAL) {
        if pte.flags().contains(PteFlags::RW) {
            return Ok(());
        }
        return do_wp_page(mm, &mut pt, vma, va, pte);
    }
    if !direct_mapped {
        return Err(VmFault::Sigbus);
    }
    let new = alloc_pages(0).map_err(|_| VmFault::Oom)?;
    // The frame is RAM or the ISA range: direct-mapped for good and
    // never freed, so it can be read as a page of RAM.
    copy_highpage(new, pfn);
    if let Err(e) = install(&mut pt, va, Pte::new(new, mkwrite(vma))) {
        free_pages(new, 0);
        return Err(e);
    }
    mm.add_rss(1);
    Ok(())
}

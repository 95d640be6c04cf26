//! Changing the protection of mapped memory: `mprotect`.
//!
//! Linux: mm/mprotect.c (`do_mprotect_pkey`, `mprotect_fixup`,
//! `change_protection`, `change_pte_range`).
//!
//! The range is walked VMA by VMA; each is split at the range's ends, gets
//! its new flags, has its PTEs rewritten and is merged back with its
//! neighbours where they now match. As in Linux, a hole stops the walk
//! with `ENOMEM` after the VMAs before it were changed.
//!
//! # Locking
//! `mmap_lock` exclusive, then `page_table_lock` for the PTEs.
#![deny(unsafe_code)]

use crate::arch::mm::pgtable_types::{Pte, PteFlags};
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, page_align};
use crate::mm::memory::is_zero_pfn;
use crate::mm::mm_types::{Mm, MmLayout, current_mm};
use crate::mm::mmap::{Prot, calc_vm_prot_bits};
use crate::mm::page::pfn_to_page;
use crate::mm::vma::{VmFlags, Vma};

const PAGE: u64 = PAGE_SIZE as u64;

/// Sets the protection of `[start, start + len)` to `prot` (Linux:
/// `do_mprotect_pkey` without keys).
pub fn do_mprotect(mm: &Mm, start: u64, len: u64, prot: Prot) -> KResult<()> {
    let grows = prot & (Prot::GROWSDOWN | Prot::GROWSUP);
    if grows == Prot::GROWSDOWN | Prot::GROWSUP || !start.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(());
    }
    let len = page_align(len).ok_or(Errno::ENOMEM)?;
    let end = start.checked_add(len).filter(|&end| end > start).ok_or(Errno::ENOMEM)?;
    let prot = prot - grows;
    if !(Prot::READ | Prot::WRITE | Prot::EXEC | Prot::SEM).contains(prot)
        || grows.contains(Prot::GROWSUP)
    {
        return Err(Errno::EINVAL);
    }
    let mut layout = mm.mmap_write();
    let mut start = start;
    let first = layout.vmas.find(start).ok_or(Errno::ENOMEM)?;
    if grows.contains(Prot::GROWSDOWN) {
        if !first.flags.contains(VmFlags::GROWSDOWN) {
            return Err(Errno::EINVAL);
        }
        start = start.min(first.start);
    } else if first.start > start {
        return Err(Errno::ENOMEM);
    }
    let new_bits = calc_vm_prot_bits(prot);
    let mut at = start;
    while at < end {
        let vma = layout.vmas.lookup(at).ok_or(Errno::ENOMEM)?;
        let newflags = (vma.flags - VmFlags::ACCESS) | new_bits;
        // Each of READ, WRITE, EXEC needs its MAY bit (four places up).
        let may = VmFlags::from_bits_truncate(newflags.bits() >> 4);
        if !(newflags & VmFlags::ACCESS).difference(may).is_empty() {
            return Err(Errno::EACCES);
        }
        let (next, oldflags) = (vma.end.min(end), vma.flags);
        mprotect_fixup(mm, &mut layout, (at, next), oldflags, newflags)?;
        at = next;
    }
    Ok(())
}

/// Gives `[start, end)`, which lies in one VMA with flags `oldflags`, the
/// flags `newflags` (Linux: `mprotect_fixup`). Pages that become private
/// writable memory count against `RLIMIT_DATA`: refused with `ENOMEM`
/// before anything is split.
fn mprotect_fixup(
    mm: &Mm,
    layout: &mut MmLayout,
    (start, end): (u64, u64),
    oldflags: VmFlags,
    newflags: VmFlags,
) -> KResult<()> {
    let npages = (end - start) / PAGE;
    // Only the data limit can tell the two apart: the pages already count
    // against RLIMIT_AS, so a refusal for both is not this change's doing.
    if newflags.contains(VmFlags::WRITE)
        && !layout.may_expand_vm(newflags, npages)
        && layout.may_expand_vm(oldflags, npages)
    {
        return Err(Errno::ENOMEM);
    }
    layout.vmas.split(start);
    layout.vmas.split(end);
    let Some(vma) = layout.vmas.get_mut(start) else { return Ok(()) };
    if vma.data.flags == newflags {
        return Ok(());
    }
    vma.data.flags = newflags;
    change_protection(mm, vma);
    layout.vmas.merge_around(start);
    Ok(())
}

/// Rewrites the PTEs of `vma` for its flags (Linux: `change_pte_range`).
/// A private writable page keeps write access only while this PTE alone
/// holds it; otherwise the next write goes through `do_wp_page`.
fn change_protection(mm: &Mm, vma: &Vma) {
    let prot = vma.page_prot();
    let writable = vma.flags.contains(VmFlags::WRITE);
    let cow = vma.is_cow_mapping();
    mm.page_table().update_range(vma.start, vma.end, &mut |_, pte| {
        if !pte.is_present() {
            return None;
        }
        // A PFNMAP frame keeps its mark and its caching (mm/pfnmap.rs).
        let kept = PteFlags::DIRTY | PteFlags::ACCESSED | PteFlags::SPECIAL;
        let kept = kept | PteFlags::PCD | PteFlags::PWT;
        let mut flags = prot | (pte.flags() & kept);
        let exclusive =
            !is_zero_pfn(pte.pfn()) && pfn_to_page(pte.pfn()).is_some_and(|p| p.ref_count() == 1);
        if cow && writable && exclusive && pte.flags().contains(PteFlags::DIRTY) {
            flags |= PteFlags::RW;
        }
        Some(Pte::new(pte.pfn(), flags))
    });
}

/// mprotect(2). `prot` is a C `unsigned long`: bits above the known ones,
/// high half included, are `EINVAL`.
pub fn sys_mprotect(start: u64, len: u64, prot: u64) -> KResult<()> {
    let prot = u32::try_from(prot).map(Prot::from_bits_retain).map_err(|_| Errno::EINVAL)?;
    let mm = current_mm().ok_or(Errno::ENOMEM)?;
    do_mprotect(&mm, start, len, prot)
}

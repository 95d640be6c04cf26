//! fork's half of memory management: duplicating an address space with
//! copy-on-write.
//!
//! Linux: kernel/fork.c (`dup_mm`, `dup_mmap`), mm/memory.c
//! (`copy_page_range`, `copy_present_pte`).
//!
//! The child gets a copy of every VMA (but `VM_DONTCOPY` ones) and of the
//! PTEs of private mappings: each page gains a reference, and a writable
//! one becomes read-only in both parent and child, so that whichever
//! writes first takes `do_wp_page`'s copy and the last owner left writes
//! in place. Shared anonymous VMAs share their `AnonShmem`, and file VMAs
//! their open file (the child joins the file's `i_mmap`); shared PTEs are
//! not copied but fault in again, as Linux does for shared mappings.
//!
//! # Locking
//! The parent's `mmap_lock` exclusive (no fault may run while its PTEs
//! are being write-protected), then the parent's `page_table_lock`, then
//! the child's, which nobody else can see yet.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use crate::arch::mm::pgtable_types::{Pte, PteFlags};
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::PAGE_SIZE;
use crate::mm::filemap::vma_mapping;
use crate::mm::memory::is_zero_pfn;
use crate::mm::mm_types::{Mm, MmLayout};
use crate::mm::page::pfn_to_page;
use crate::mm::page_alloc::BuddyPgtableAlloc;
use crate::mm::vma::{VmFlags, Vma};

impl Mm {
    /// A copy-on-write duplicate of this address space for a child
    /// process (Linux: `dup_mm`).
    pub fn dup(&self) -> KResult<Arc<Mm>> {
        let child = Mm::new()?;
        let old = self.mmap_write();
        let mut new = child.mmap_write();
        copy_layout(&old, &mut new);
        for vma in old.vmas.iter() {
            if vma.flags.contains(VmFlags::DONTCOPY) {
                new.total_vm -= vma.len() / PAGE_SIZE as u64;
                continue;
            }
            if let Some(mapping) = vma_mapping(vma) {
                mapping.i_mmap_insert(&child);
            }
            let copy = Vma { start: vma.start, end: vma.end, data: vma.data.clone() };
            new.vmas.insert(copy).map_err(|_| Errno::ENOMEM)?;
            // A wipe-on-fork area starts empty in the child (Linux:
            // `dup_mmap` skips `copy_page_range` for `VM_WIPEONFORK`).
            if vma.is_cow_mapping() && !vma.flags.contains(VmFlags::WIPEONFORK) {
                copy_page_range(&child, self, vma)?;
            }
        }
        drop(new);
        Ok(child)
    }
}

/// The layout fields a child inherits (Linux: the `*mm = *oldmm` copy).
fn copy_layout(old: &MmLayout, new: &mut MmLayout) {
    new.mmap_base = old.mmap_base;
    new.start_code = old.start_code;
    new.end_code = old.end_code;
    new.start_data = old.start_data;
    new.end_data = old.end_data;
    new.start_brk = old.start_brk;
    new.brk = old.brk;
    new.start_stack = old.start_stack;
    new.arg_start = old.arg_start;
    new.arg_end = old.arg_end;
    new.env_start = old.env_start;
    new.env_end = old.env_end;
    new.total_vm = old.total_vm;
    new.saved_auxv.clone_from(&old.saved_auxv);
    new.exe_file.clone_from(&old.exe_file);
}

/// Copies the PTEs of one private VMA into the child, write-protecting
/// writable pages on both sides (Linux: `copy_page_range`). On `ENOMEM`
/// the child is dropped by the caller, which gives back what was copied;
/// the parent's pages stay read-only and are claimed back on the next
/// write by `do_wp_page`'s reuse path.
fn copy_page_range(dst: &Mm, src: &Mm, vma: &Vma) -> KResult<()> {
    let mut src_pt = src.page_table();
    let mut dst_pt = dst.page_table();
    let mut result = Ok(());
    let mut copied = 0;
    src_pt.update_range(vma.start, vma.end, &mut |va, pte| {
        if result.is_err() || !pte.is_present() {
            // A swap entry would be duplicated here (Linux: `swap_duplicate`).
            return None;
        }
        let shared = Pte::new(pte.pfn(), pte.flags() - PteFlags::RW);
        let child = Pte::new(pte.pfn(), shared.flags() - PteFlags::ACCESSED);
        if let Err(e) = dst_pt.set_pte(va, child, &mut BuddyPgtableAlloc) {
            result = Err(e);
            return None;
        }
        // A PFNMAP frame (mm/pfnmap.rs) has no reference to take.
        if !is_zero_pfn(pte.pfn()) && !pte.flags().contains(PteFlags::SPECIAL) {
            if let Some(page) = pfn_to_page(pte.pfn()) {
                page.get();
            }
            copied += 1;
        }
        pte.flags().contains(PteFlags::RW).then_some(shared)
    });
    drop(dst_pt);
    dst.add_rss(copied);
    result
}

//! File-backed memory: faults on file mappings, and taking a file's pages
//! out of every address space when the file shrinks.
//!
//! Linux: mm/filemap.c (`filemap_fault`), mm/memory.c (`do_fault`,
//! `do_read_fault`, `do_cow_fault`, `do_shared_fault`,
//! `unmap_mapping_range`), mm/truncate.c (`truncate_pagecache`).
//!
//! A file VMA maps pages of its file's [`PageCache`]:
//! ```text
//! do_fault(vma, addr, flags)                  PTE none in a file VMA
//!   page = filemap_fault(vma, addr)           past EOF → SIGBUS (BUS_ADRERR)
//!   read             → do_read_fault          the cache page; read-only if private,
//!                                             and its cached neighbours (fault-around)
//!   write, private   → do_cow_fault           a private copy, writable
//!   write, shared    → do_shared_fault        the cache page, writable
//! do_wp_page on a private file VMA            copies the cache page, never reuses it
//! ```
//! A read fault first maps every page already in the cache in the 64 KiB
//! around the address (Linux: `do_fault_around` → `filemap_map_pages`,
//! `fault_around_bytes`), within the VMA and below EOF, where no PTE is:
//! one fault instead of sixteen for a file read in order. Nothing is read
//! in for it, and write faults never take this path.
//!
//! So `MAP_SHARED` writes land in the cache at once (seen by `read(2)`
//! and by every other mapper) and `MAP_PRIVATE` ones never reach it.
//! Truncation sets the size first, then zaps the PTEs past it, private
//! copies included (Linux's `even_cows`): a fault checks the size under
//! the page-table lock, so none can map a page past the new end after
//! the walk.
//!
//! # Locking
//! Faults hold `mmap_lock` shared and `page_table_lock`, then take the
//! cache's `i_pages` and the inode's `i_lock`. `unmap_mapping_range`
//! holds no lock of the file while it takes each mapper's `mmap_lock`
//! and `page_table_lock` in turn.
#![deny(unsafe_code)]

use crate::arch::mm::pgtable_types::Pte;
use crate::fs::pagecache::{PageCache, inode_mapping};
use crate::mm::addr::{PAGE_SIZE, Pfn, VirtAddr};
use crate::mm::highmem::copy_highpage;
use crate::mm::memory::{VmFault, install, mkwrite, put_page, zap_page_range};
use crate::mm::mm_types::Mm;
use crate::mm::page::pfn_to_page;
use crate::mm::page_alloc::alloc_pages;
use crate::mm::page_table::PageTable;
use crate::mm::vma::{VmFlags, Vma, linear_page_index};

const PAGE: u64 = PAGE_SIZE as u64;

/// The page cache a VMA maps, if it maps a file (Linux:
/// `vma->vm_file->f_mapping`).
pub fn vma_mapping(vma: &Vma) -> Option<&PageCache> {
    vma.file.as_ref().and_then(|file| inode_mapping(&file.f_inode))
}

/// The cache page behind `va`, with a reference for the caller; `SIGBUS`
/// for a page wholly past the end of the file (Linux: `filemap_fault`).
fn filemap_fault(vma: &Vma, va: VirtAddr) -> Result<Pfn, VmFault> {
    let file = vma.file.as_ref().ok_or(VmFault::Sigbus)?;
    let mapping = inode_mapping(&file.f_inode).ok_or(VmFault::Sigbus)?;
    let index = linear_page_index(vma, va.as_u64());
    if index >= file.f_inode.size().div_ceil(PAGE) {
        return Err(VmFault::Sigbus);
    }
    mapping.get_page(index).map_err(|_| VmFault::Oom)
}

/// How much a read fault maps around itself (Linux: `fault_around_bytes`,
/// 64 KiB by default); a power of two of pages.
const FAULT_AROUND_BYTES: u64 = 64 * 1024;

/// Maps the cached pages of the `FAULT_AROUND_BYTES` window around `va`
/// that lie inside `vma` and below EOF and have no PTE yet, each with a
/// reference, with the read fault's protection (Linux: `do_fault_around`
/// → `filemap_map_pages`). Returns whether `va` itself is now mapped.
fn do_fault_around(mm: &Mm, pt: &mut PageTable, vma: &Vma, va: VirtAddr) -> bool {
    let Some(file) = vma.file.as_ref() else { return false };
    let Some(mapping) = inode_mapping(&file.f_inode) else { return false };
    let window = va.as_u64() & !(FAULT_AROUND_BYTES - 1);
    let (start, end) = (window.max(vma.start), (window + FAULT_AROUND_BYTES).min(vma.end));
    // Read under the page-table lock: a truncation zaps after it sets
    // the size, so nothing past the new end can stay mapped.
    let max_index = file.f_inode.size().div_ceil(PAGE);
    let prot = vma.page_prot();
    let tree = mapping.lock();
    let (mut mapped, mut hit) = (0, false);
    for addr in (start..end).step_by(PAGE_SIZE) {
        let index = linear_page_index(vma, addr);
        if index >= max_index {
            break;
        }
        let at = VirtAddr::new(addr);
        let Some(pfn) = tree.find_page(index) else { continue };
        let Some(page) = pfn_to_page(pfn) else { continue };
        if !pt.get_pte(at).is_none() {
            continue;
        }
        page.get();
        if install(pt, at, Pte::new(pfn, prot)).is_err() {
            put_page(pfn);
            break;
        }
        mapped += 1;
        hit |= at == va;
    }
    drop(tree);
    mm.add_rss(mapped);
    hit
}

/// First touch of a page of a file mapping (Linux: `do_fault`, with
/// `do_read_fault`, `do_cow_fault` and `do_shared_fault` as its arms).
pub fn do_fault(
    mm: &Mm,
    pt: &mut PageTable,
    vma: &Vma,
    va: VirtAddr,
    write: bool,
) -> Result<(), VmFault> {
    // Linux: `do_read_fault` tries `do_fault_around` first.
    if !write && do_fault_around(mm, pt, vma, va) {
        return Ok(());
    }
    let page = filemap_fault(vma, va)?;
    let (pfn, prot) = if !write {
        // Private mappings get it read-only: the first write copies.
        (page, vma.page_prot())
    } else if !vma.flags.contains(VmFlags::SHARED) {
        let Ok(copy) = alloc_pages(0) else {
            put_page(page);
            return Err(VmFault::Oom);
        };
        copy_highpage(copy, page);
        put_page(page);
        (copy, mkwrite(vma))
    } else {
        (page, mkwrite(vma))
    };
    if let Err(e) = install(pt, va, Pte::new(pfn, prot)) {
        put_page(pfn);
        return Err(e);
    }
    mm.add_rss(1);
    Ok(())
}

/// Whether `pfn`, mapped at `va` in `vma`, is the file's own cache page
/// rather than a private copy: `do_wp_page` must copy it even when no one
/// else maps it (Linux: `!PageAnon`).
pub fn is_pagecache_page(vma: &Vma, va: u64, pfn: Pfn) -> bool {
    vma_mapping(vma).is_some_and(|m| m.lock().find_page(linear_page_index(vma, va)) == Some(pfn))
}

/// Zaps, in every address space mapping `mapping`, the PTEs of pages with
/// index `first` and above, private copies included (Linux:
/// `unmap_mapping_range(mapping, first << PAGE_SHIFT, 0, 1)`).
pub fn unmap_mapping_range(mapping: &PageCache, first: u64) {
    for mm in mapping.i_mmap_snapshot() {
        let layout = mm.mmap_read();
        let mut pt = mm.page_table();
        let mut freed = 0;
        for vma in layout.vmas.iter() {
            if !vma_mapping(vma).is_some_and(|m| core::ptr::eq(m, mapping)) {
                continue;
            }
            let end_index = vma.pgoff + vma.len() / PAGE;
            if first >= end_index {
                continue;
            }
            let start = vma.start + first.saturating_sub(vma.pgoff) * PAGE;
            freed += zap_page_range(&mut pt, start, vma.end);
        }
        drop(pt);
        drop(layout);
        mm.add_rss(-freed);
    }
}

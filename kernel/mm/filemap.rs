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
//!   write, shared    → do_shared_fault        the cache page, writable, marked dirty
//! do_wp_page on a private file VMA            copies the cache page, never reuses it
//! do_wp_page on a shared file VMA             makes the PTE writable, marks the page dirty
//! ```
//! A shared mapping of a file that is written back maps its pages
//! read-only until written (Linux: `vma_wants_writenotify`), so every
//! first write faults and dirties the page (`fault_dirty_shared_page`,
//! after `page_table_lock` is dropped); writeback write-protects the
//! page again before writing it (`page_mkclean`), so a later write
//! through the mapping dirties it anew instead of being lost.
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
//! Getting a page that is not cached may sleep (reading it from disk), so
//! it runs with no spinlock held, as Linux's `__do_fault` runs before the
//! PTE lock: look the PTE up and try fault-around under
//! `page_table_lock`, drop it, get the page, then retake it and install
//! only if the PTE is still none and the file still covers the page
//! (`finish_fault`); otherwise another thread or a truncation won the
//! race, the page goes back and the access simply retries.
//!
//! # Locking
//! Faults hold `mmap_lock` shared throughout (the VMA stays). Fault-around
//! and `finish_fault` take `page_table_lock`, then the cache's `i_pages`
//! and the inode's `i_lock`; `filemap_fault` runs under no spinlock.
//! `unmap_mapping_range` and `page_mkclean` hold no lock of the file
//! while they take each mapper's `mmap_lock` and `page_table_lock` in
//! turn, so they may not be called under a spinlock either.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::arch::mm::pgtable_types::{Pte, PteFlags};
use crate::fs::pagecache::{PageCache, inode_mapping};
use crate::kernel::locking::spinlock::SpinLockGuard;
use crate::mm::addr::{PAGE_SIZE, Pfn, VirtAddr};
use crate::mm::highmem::copy_highpage;
use crate::mm::memory::{Resolved, VmFault, install, mkwrite, put_page, zap_page_range};
use crate::mm::mm_types::Mm;
use crate::mm::page::pfn_to_page;
use crate::mm::page_alloc::alloc_pages;
use crate::mm::page_table::PageTable;
use crate::mm::vm_event::{VmEventItem, count_vm_event};
use crate::mm::vma::{VmFlags, Vma, linear_page_index};

const PAGE: u64 = PAGE_SIZE as u64;

/// Pages in page caches, tmpfs's and the buffer cache's included (Linux:
/// `NR_FILE_PAGES`).
static NR_FILE_PAGES: AtomicUsize = AtomicUsize::new(0);

/// Counts `n` pages added to a page cache.
pub fn account_page_cache_add(n: usize) {
    NR_FILE_PAGES.fetch_add(n, Ordering::Relaxed);
}

/// Counts `n` pages taken out of a page cache.
pub fn account_page_cache_del(n: usize) {
    if n != 0 {
        let _ = NR_FILE_PAGES
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| Some(c.saturating_sub(n)));
    }
}

/// Page-cache pages now (/proc/meminfo's `Cached` plus `Buffers`).
pub fn nr_file_pages() -> usize {
    NR_FILE_PAGES.load(Ordering::Relaxed)
}

/// The page cache a VMA maps, if it maps a file (Linux:
/// `vma->vm_file->f_mapping`).
pub fn vma_mapping(vma: &Vma) -> Option<&PageCache> {
    vma.file.as_ref().and_then(|file| inode_mapping(&file.f_inode))
}

/// The cache page behind `va`, with a reference for the caller; `SIGBUS`
/// for a page wholly past the end of the file (Linux: `filemap_fault`).
/// May sleep: the caller holds no spinlock.
fn filemap_fault(vma: &Vma, va: VirtAddr) -> Result<(Pfn, Resolved), VmFault> {
    let file = vma.file.as_ref().ok_or(VmFault::Sigbus)?;
    let mapping = inode_mapping(&file.f_inode).ok_or(VmFault::Sigbus)?;
    let index = linear_page_index(vma, va.as_u64());
    if index >= file.f_inode.size().div_ceil(PAGE) {
        return Err(VmFault::Sigbus);
    }
    // Not cached: the page comes from the disk, a major fault.
    let resolved = if mapping.has_page(index) {
        Resolved::Minor
    } else {
        count_vm_event(VmEventItem::PgMajFault);
        Resolved::Major
    };
    let pfn = mapping.get_page(index).map_err(|_| VmFault::Oom)?;
    Ok((pfn, resolved))
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
/// Called with `page_table_lock` held and the PTE at `va` none; drops the
/// lock before getting the page (see the module header).
pub fn do_fault(
    mm: &Mm,
    mut pt: SpinLockGuard<'_, PageTable>,
    vma: &Vma,
    va: VirtAddr,
    write: bool,
) -> Result<Resolved, VmFault> {
    // Linux: `do_read_fault` tries `do_fault_around` first.
    if !write && do_fault_around(mm, &mut pt, vma, va) {
        return Ok(Resolved::Minor);
    }
    drop(pt);
    let (page, resolved) = filemap_fault(vma, va)?;
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
    finish_fault(mm, vma, va, Pte::new(pfn, prot))?;
    if write && vma.flags.contains(VmFlags::SHARED) {
        fault_dirty_shared_page(vma, va);
    }
    Ok(resolved)
}

/// Marks the cache page a write fault just made writable in a shared
/// mapping dirty, so that writeback finds it (Linux:
/// `fault_dirty_shared_page`). Called with no spinlock held: it takes
/// `i_pages` and the super block's dirty list, and wakes the flusher.
pub fn fault_dirty_shared_page(vma: &Vma, va: VirtAddr) {
    if let Some(mapping) = vma_mapping(vma) {
        mapping.set_page_dirty(linear_page_index(vma, va.as_u64()));
    }
}

/// Write-protects the pages `pages` (index, frame) of `mapping` in every
/// shared mapping of it, clearing the PTEs' write and dirty bits, so that
/// the next write through a mapping faults and dirties the page again
/// (Linux: `page_mkclean`, called by `clear_page_dirty_for_io` before a
/// page is written back). Sleeps on each mapper's `mmap_lock`: call it
/// with no lock held.
pub fn page_mkclean(mapping: &PageCache, pages: &[(u64, Pfn)]) {
    for mm in mapping.i_mmap_snapshot() {
        let layout = mm.mmap_read();
        let mut pt = mm.page_table();
        for vma in layout.vmas.iter() {
            if !vma.flags.contains(VmFlags::SHARED)
                || !vma_mapping(vma).is_some_and(|m| core::ptr::eq(m, mapping))
            {
                continue;
            }
            let end_index = vma.pgoff + vma.len() / PAGE;
            for &(index, pfn) in pages.iter().filter(|&&(i, _)| (vma.pgoff..end_index).contains(&i))
            {
                let va = vma.start + (index - vma.pgoff) * PAGE;
                pt.update_range(va, va + PAGE, &mut |_, pte| {
                    let flags = pte.flags();
                    (pte.is_present() && pte.pfn() == pfn && flags.contains(PteFlags::RW))
                        .then(|| Pte::new(pfn, flags - PteFlags::RW - PteFlags::DIRTY))
                });
            }
        }
    }
}

/// Installs `pte`, which holds a page reference, at `va` unless the race
/// was lost while no lock was held: the PTE is no longer none (another
/// thread faulted it in) or the file no longer reaches the page (a
/// truncation; it zaps after setting the size, under this lock). Then
/// the reference goes back and the access retries (Linux: `finish_fault`).
fn finish_fault(mm: &Mm, vma: &Vma, va: VirtAddr, pte: Pte) -> Result<(), VmFault> {
    let file = vma.file.as_ref().ok_or(VmFault::Sigbus)?;
    let mut pt = mm.page_table();
    let beyond_eof = linear_page_index(vma, va.as_u64()) >= file.f_inode.size().div_ceil(PAGE);
    if beyond_eof || !pt.get_pte(va).is_none() {
        drop(pt);
        put_page(pte.pfn());
        return Ok(());
    }
    if let Err(e) = install(&mut pt, va, pte) {
        drop(pt);
        put_page(pte.pfn());
        return Err(e);
    }
    drop(pt);
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

crate::ktest!(filemap_finish_fault_loses_races_cleanly, {
    use linux_raw_sys::general as uapi;

    use crate::fs::open::{do_sys_ftruncate, do_sys_open};
    use crate::fs::read_write::vfs_write;
    use crate::mm::memory::{FaultFlags, handle_user_fault};
    use crate::mm::mmap::{MapFlags, Prot, do_mmap_pgoff};
    let s = crate::fs::tests::Scratch::new()?;
    let flags = uapi::O_CREAT | uapi::O_RDWR;
    let fd =
        do_sys_open(s.ctx(), crate::fs::namei::AT_FDCWD, b"f", flags, 0o644).map_err(|_| "open")?;
    let file = s.files.get(fd).map_err(|_| "fd")?;
    let data = alloc::vec![7u8; 2 * PAGE_SIZE];
    crate::kassert!(vfs_write(&file, &data) == Ok(data.len()), "two pages written");
    let mm = Mm::new().map_err(|_| "Mm::new")?;
    let rw = Prot::READ | Prot::WRITE;
    let a = do_mmap_pgoff(&mm, Some(&file), 0, 2 * PAGE, rw, MapFlags::SHARED, 0)
        .map_err(|_| "mmap")?;
    // A write fault: no fault-around, so the second page stays unmapped.
    handle_user_fault(&mm, a, FaultFlags::USER | FaultFlags::WRITE).map_err(|_| "fault")?;
    let mapped = |va: u64| mm.page_table().translate(VirtAddr::new(va)).map(|(p, _)| p.pfn());
    let pfn = mapped(a).ok_or("the fault mapped the page")?;
    let page = pfn_to_page(pfn).ok_or("a page")?;
    let rss = mm.rss();
    let layout = mm.mmap_read();
    let vma = layout.vmas.lookup(a).ok_or("vma")?;
    // Another thread mapped it while this one slept in `filemap_fault`.
    let refs = page.ref_count();
    page.get();
    crate::kassert!(
        finish_fault(&mm, vma, VirtAddr::new(a), Pte::new(pfn, vma.page_prot())).is_ok(),
        "lost race is no error"
    );
    crate::kassert!(page.ref_count() == refs && mm.rss() == rss, "its reference went back");
    // A truncation past the page while this one slept.
    let second = VirtAddr::new(a + PAGE);
    crate::kassert!(mapped(second.as_u64()).is_none(), "the second page is not mapped yet");
    let index = linear_page_index(vma, second.as_u64());
    let cache = vma_mapping(vma).ok_or("a page cache")?;
    let pfn2 = cache.get_page(index).map_err(|_| "get_page")?;
    drop(layout);
    do_sys_ftruncate(s.ctx(), fd, i64::try_from(PAGE).map_err(|_| "size")?)
        .map_err(|_| "truncate")?;
    let layout = mm.mmap_read();
    let vma = layout.vmas.lookup(a).ok_or("vma")?;
    let pte = Pte::new(pfn2, vma.page_prot());
    crate::kassert!(finish_fault(&mm, vma, second, pte).is_ok(), "a truncated page is no error");
    crate::kassert!(mapped(second.as_u64()).is_none(), "nothing mapped past the new end");
    crate::kassert!(mm.rss() == rss, "and nothing counted");
    drop(layout);
    s.files.close(fd).map_err(|_| "close")?;
    Ok(())
});

crate::ktest!(filemap_shared_write_dirties_and_mkclean_rearms, {
    use crate::fs::buffer::{counting_file, counting_writes};
    use crate::fs::pagecache::generic_perform_write;
    use crate::mm::mmap::{MapFlags, Prot, do_mmap_pgoff};
    use crate::mm::page_writeback::write_cache_pages;
    let s = crate::fs::tests::Scratch::new()?;
    let file = counting_file(s.fs.root()).map_err(|_| "file")?;
    let inode = &file.f_inode;
    let mapping = inode_mapping(inode).ok_or("a page cache")?;
    let mut pos = 0;
    let data = alloc::vec![1u8; 2 * PAGE_SIZE];
    generic_perform_write(inode, &data, &mut pos).map_err(|_| "write")?;
    write_cache_pages(mapping, 0, u64::MAX, u64::MAX, true).map_err(|_| "clean it")?;
    crate::kassert!(mapping.lock().nr_dirty() == 0, "clean before mapping");
    let mm = Mm::new().map_err(|_| "Mm::new")?;
    let rw = Prot::READ | Prot::WRITE;
    let a = do_mmap_pgoff(&mm, Some(&file), 0, 2 * PAGE, rw, MapFlags::SHARED, 0)
        .map_err(|_| "mmap")?;
    let writable = |va: u64| {
        mm.page_table().translate(VirtAddr::new(va)).is_some_and(|(_, f)| f.contains(PteFlags::RW))
    };
    let mut byte = [0u8; 1];
    mm.read_remote(a, &mut byte).map_err(|_| "read through the mapping")?;
    crate::kassert!(byte[0] == 1 && !writable(a), "a read maps the page read-only");
    crate::kassert!(mapping.lock().nr_dirty() == 0, "a read dirties nothing");
    for round in 0..2u8 {
        mm.write_remote(a + 10, &[round + 2]).map_err(|_| "write through the mapping")?;
        crate::kassert!(writable(a), "the write fault made it writable");
        crate::kassert!(mapping.lock().nr_dirty() == 1, "and marked the page dirty");
        let before = counting_writes();
        write_cache_pages(mapping, 0, u64::MAX, u64::MAX, false).map_err(|_| "writeback")?;
        crate::kassert!(counting_writes() == before + 1, "writeback wrote the page");
        crate::kassert!(!writable(a), "and write-protected it again");
        crate::kassert!(mapping.lock().nr_dirty() == 0, "clean after writeback");
    }
    let pfn = mapping.lock().find_page(0).ok_or("page 0 cached")?;
    let mut got = [0u8; 1];
    crate::mm::highmem::memcpy_from_page(pfn, 10, &mut got);
    crate::kassert!(got[0] == 3, "the cache holds the last write");
    Ok(())
});

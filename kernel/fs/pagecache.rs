//! The pages of a file's data (Linux: `struct address_space`,
//! include/linux/pagemap.h, `struct address_space_operations`,
//! mm/filemap.c `filemap_read`, `filemap_get_folio`,
//! `generic_perform_write`, mm/truncate.c `truncate_inode_pages`).
//!
//! A [`PageCache`] maps page indexes to page frames (`i_pages`) and
//! remembers which address spaces map it (`i_mmap`). Each cached page
//! holds one reference for the cache and one per PTE that maps it, so
//! `read(2)`, `write(2)` and every `MAP_SHARED` mapping see the same bytes,
//! and a page truncated away stays valid for whoever still holds it until
//! its PTE is zapped. An absent page is a hole and reads as zeros. tmpfs
//! keeps its files only here (Linux's shmem mapping); a disk file system
//! fills pages through its [`AddressSpaceOps::read_folio`] and writes them
//! back through `writepage`.
//!
//! `i_mmap` holds weak references to the `Mm`s that map the file (Linux
//! keeps the VMAs themselves in an interval tree); truncation walks them
//! to unmap what lies past the new end (`unmap_mapping_range` in
//! mm/filemap.rs). An entry outlives the mapping that added it, so a walk
//! checks each VMA's file; dead entries are pruned when one is added.
//!
//! # Locking
//! `i_pages` is taken under an `Mm`'s `page_table` lock (a fault looks its
//! page up there) and before the inode's `i_lock`; the file system holds
//! it across each read, write and truncate so that size and data change
//! together. Nothing sleeps or touches user memory under it. `i_mmap` is a
//! leaf, only held to copy or extend the list.
#![deny(unsafe_code)]

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, Ordering};

use crate::fs::file_table::File;
use crate::fs::inode::Inode;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::locking::spinlock::SpinLockGuard;
use crate::mm::addr::{PAGE_SIZE, Pfn};
use crate::mm::highmem::{memcpy_from_page, memcpy_to_page, memset_page};
use crate::mm::memory::put_page;
use crate::mm::mm_types::Mm;
use crate::mm::page::pfn_to_page;
use crate::mm::page_alloc::{alloc_pages, clear_pages};

/// How a file system fills and writes back the pages of its files
/// (Linux: `struct address_space_operations`).
pub trait AddressSpaceOps: Send + Sync {
    /// Fills `pfn`, a new zeroed page, with the file's data at page
    /// `index` (Linux: `read_folio`). A memory file system has nothing to
    /// read: its new pages are holes.
    fn read_folio(&self, index: u64, pfn: Pfn) -> KResult<()>;
    /// Writes page `index` back to the backing store (Linux:
    /// `writepage`); a memory file system has none.
    fn writepage(&self, _index: u64, _pfn: Pfn) -> KResult<()> {
        Ok(())
    }
}

/// The pages of one file by index (Linux: `mapping->i_pages`).
#[derive(Default)]
pub struct PageTree {
    pages: BTreeMap<u64, Pfn>,
}

/// The pages of one file and who maps them (Linux: `address_space`).
#[doc(alias = "address_space")]
pub struct PageCache {
    i_pages: SpinLock<PageTree>,
    i_mmap: SpinLock<Vec<Weak<Mm>>>,
    a_ops: &'static dyn AddressSpaceOps,
    /// Open files writing it if positive, programs running it if negative
    /// (Linux: `inode->i_writecount`, kept here until `Inode` has it).
    i_writecount: AtomicI32,
}

/// A new zeroed page with its first reference, for the cache.
fn new_page() -> KResult<Pfn> {
    let pfn = alloc_pages(0)?;
    clear_pages(pfn, 0);
    Ok(pfn)
}

fn split(pos: u64) -> (u64, usize) {
    let page = PAGE_SIZE as u64;
    // The remainder is below PAGE_SIZE, so it fits a usize.
    (pos / page, usize::try_from(pos % page).unwrap_or(0))
}

impl PageTree {
    /// Pages present (Linux: `nrpages`).
    pub fn nr_pages(&self) -> usize {
        self.pages.len()
    }

    /// The page at `index`, if cached (Linux: `filemap_get_folio`
    /// without `FGP_CREAT`); no reference is taken.
    pub fn find_page(&self, index: u64) -> Option<Pfn> {
        self.pages.get(&index).copied()
    }

    /// Copies from `pos` into `buf`, holes as zeros; the caller bounds the
    /// read by the file size (Linux: `filemap_read`).
    pub fn read(&self, pos: u64, buf: &mut [u8]) {
        let mut done = 0;
        while done < buf.len() {
            let (index, offset) = split(pos + done as u64);
            let n = (PAGE_SIZE - offset).min(buf.len() - done);
            let dst = &mut buf[done..done + n];
            match self.pages.get(&index) {
                Some(&pfn) => memcpy_from_page(pfn, offset, dst),
                None => dst.fill(0),
            }
            done += n;
        }
    }

    /// Copies `buf` to `pos`, allocating pages as needed; on `ENOMEM`
    /// returns what was written before (Linux: `generic_perform_write`).
    pub fn write(&mut self, pos: u64, buf: &[u8]) -> KResult<usize> {
        let mut done = 0;
        while done < buf.len() {
            let (index, offset) = split(pos + done as u64);
            let n = (PAGE_SIZE - offset).min(buf.len() - done);
            let pfn = match self.pages.get(&index) {
                Some(&pfn) => pfn,
                None => match new_page() {
                    Ok(pfn) => *self.pages.entry(index).or_insert(pfn),
                    Err(err) if done == 0 => return Err(err),
                    Err(_) => break,
                },
            };
            memcpy_to_page(pfn, offset, &buf[done..done + n]);
            done += n;
        }
        Ok(done)
    }

    /// Drops the pages wholly past `size` and zeroes the tail of the last
    /// one, so that a later extension and its mappers read zeros (Linux:
    /// `truncate_inode_pages` + `truncate_inode_partial_folio`). The
    /// caller unmaps them first; a PTE that still maps one keeps it alive.
    pub fn truncate(&mut self, size: u64) {
        let (index, offset) = split(size);
        let first_gone = if offset == 0 { index } else { index + 1 };
        for pfn in self.pages.split_off(&first_gone).into_values() {
            put_page(pfn);
        }
        if offset != 0
            && let Some(&pfn) = self.pages.get(&index)
        {
            memset_page(pfn, offset, PAGE_SIZE - offset);
        }
    }

    /// The first data byte at or after `pos` (SEEK_DATA), a page at a time.
    pub fn next_data(&self, pos: u64) -> Option<u64> {
        let (index, _) = split(pos);
        let (&i, _) = self.pages.range(index..).next()?;
        Some(if i == index { pos } else { i * PAGE_SIZE as u64 })
    }

    /// The first hole at or after `pos` (SEEK_HOLE), a page at a time; the
    /// caller caps it at the file size.
    pub fn next_hole(&self, pos: u64) -> u64 {
        let (mut index, _) = split(pos);
        let start = index;
        while self.pages.contains_key(&index) {
            index += 1;
        }
        if index == start { pos } else { index * PAGE_SIZE as u64 }
    }
}

impl Drop for PageTree {
    fn drop(&mut self) {
        for pfn in core::mem::take(&mut self.pages).into_values() {
            put_page(pfn);
        }
    }
}

impl PageCache {
    pub const fn new(a_ops: &'static dyn AddressSpaceOps) -> Self {
        Self {
            i_pages: SpinLock::new(PageTree { pages: BTreeMap::new() }),
            i_mmap: SpinLock::new(Vec::new()),
            a_ops,
            i_writecount: AtomicI32::new(0),
        }
    }

    /// Counts an open for writing; `ETXTBSY` while a program runs from
    /// the file (Linux: `get_write_access`).
    pub fn get_write_access(&self) -> KResult<()> {
        self.i_writecount
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n >= 0).then_some(n + 1))
            .map(|_| ())
            .map_err(|_| Errno::ETXTBSY)
    }

    /// Linux: `put_write_access`.
    pub fn put_write_access(&self) {
        self.i_writecount.fetch_sub(1, Ordering::AcqRel);
    }

    /// Whether a program runs from the file, so it may not be written.
    pub fn write_denied(&self) -> bool {
        self.i_writecount.load(Ordering::Acquire) < 0
    }

    /// The page tree, locked (Linux: `xa_lock(&mapping->i_pages)`).
    pub fn lock(&self) -> SpinLockGuard<'_, PageTree> {
        self.i_pages.lock()
    }

    /// The page at `index`, read in on first use, with a reference taken
    /// for the caller (Linux: `filemap_get_folio(FGP_CREAT)` + `read_folio`
    /// for a disk file, `shmem_get_folio` for tmpfs). A disk file system
    /// will want the read outside `i_pages`, as Linux's locked folio.
    pub fn get_page(&self, index: u64) -> KResult<Pfn> {
        let mut tree = self.i_pages.lock();
        let pfn = match tree.pages.get(&index) {
            Some(&pfn) => pfn,
            None => {
                let pfn = new_page()?;
                if let Err(e) = self.a_ops.read_folio(index, pfn) {
                    put_page(pfn);
                    return Err(e);
                }
                tree.pages.insert(index, pfn);
                pfn
            }
        };
        pfn_to_page(pfn).ok_or(Errno::EFAULT)?.get();
        Ok(pfn)
    }

    /// Whether page `index` is cached (Linux: `mincore_page`).
    pub fn has_page(&self, index: u64) -> bool {
        self.i_pages.lock().pages.contains_key(&index)
    }

    /// Writes back the cached pages with index in `[start, end)` (Linux:
    /// `filemap_write_and_wait_range`).
    pub fn write_range(&self, start: u64, end: u64) -> KResult<()> {
        let tree = self.i_pages.lock();
        for (&index, &pfn) in tree.pages.range(start..end) {
            self.a_ops.writepage(index, pfn)?;
        }
        Ok(())
    }

    /// Records that `mm` maps this file (Linux: `vma_interval_tree_insert`
    /// into `i_mmap`), dropping entries whose address space is gone.
    pub fn i_mmap_insert(&self, mm: &Mm) {
        let weak = mm.weak();
        let mut list = self.i_mmap.lock();
        list.retain(|w| w.strong_count() > 0);
        if !list.iter().any(|w| w.ptr_eq(&weak)) && list.try_reserve(1).is_ok() {
            list.push(weak);
        }
    }

    /// The live address spaces that may map this file.
    pub fn i_mmap_snapshot(&self) -> Vec<Arc<Mm>> {
        self.i_mmap.lock().iter().filter_map(Weak::upgrade).collect()
    }
}

/// The page cache of `inode`, if its file system can map it (Linux:
/// `inode->i_mapping` together with `f_op->mmap`). Only tmpfs regular
/// files have one yet; ext2 adds its inodes here, or `Inode` grows an
/// `i_mapping` field.
pub fn inode_mapping(inode: &Inode) -> Option<&PageCache> {
    inode.private::<crate::fs::tmpfs::file::TmpfsFile>().ok().map(|f| &f.mapping)
}

/// A program file that may not be written while this lives: exec holds
/// one for the program it loads, and the new `Mm` keeps it (Linux:
/// `deny_write_access` in `do_open_execat`, held through `mm->exe_file`).
pub struct DenyWriteAccess {
    file: Arc<File>,
}

impl DenyWriteAccess {
    /// `ETXTBSY` if `file` is open for writing (Linux: `deny_write_access`).
    /// Files without a page cache cannot be written behind exec's back
    /// through a mapping, and are not counted.
    pub fn new(file: &Arc<File>) -> KResult<Self> {
        if let Some(mapping) = inode_mapping(&file.f_inode) {
            mapping
                .i_writecount
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n <= 0).then_some(n - 1))
                .map_err(|_| Errno::ETXTBSY)?;
        }
        Ok(Self { file: file.clone() })
    }

    /// The program file.
    pub fn file(&self) -> &Arc<File> {
        &self.file
    }
}

impl Clone for DenyWriteAccess {
    /// Another holder (fork's copy of `exe_file`): the count is already
    /// negative, so it only goes further down.
    fn clone(&self) -> Self {
        if let Some(mapping) = inode_mapping(&self.file.f_inode) {
            mapping.i_writecount.fetch_sub(1, Ordering::AcqRel);
        }
        Self { file: self.file.clone() }
    }
}

impl Drop for DenyWriteAccess {
    /// Linux: `allow_write_access`.
    fn drop(&mut self) {
        if let Some(mapping) = inode_mapping(&self.file.f_inode) {
            mapping.i_writecount.fetch_add(1, Ordering::AcqRel);
        }
    }
}

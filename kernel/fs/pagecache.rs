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
//! back through `writepage`. The cache is the inode's own (`i_mapping`).
//!
//! A disk page is read with no lock held: [`PageCache::get_page`] marks
//! the index as being read (Linux: a locked, not yet uptodate folio in
//! the tree), reads, then inserts it; a second task wanting the same page
//! sleeps on `PAGE_WAIT` (Linux: `folio_wait_bit`) instead of reading it
//! again. `read(2)` of a disk file ([`generic_file_read`]) reads ahead on
//! a sequential miss: a window of 4 pages doubling up to 128 KiB (Linux:
//! mm/readahead.c; the state is per mapping here, per `File` in Linux).
//! A page written by `write(2)` ([`generic_perform_write`]) or through
//! [`PageCache::set_page_dirty`] is dirty until mm/page_writeback.rs
//! writes it; tmpfs pages are never dirty. A failed writeback sticks to
//! the mapping until the next fsync reports it (Linux: `AS_EIO`).
//!
//! Under memory pressure mm/vmscan.rs frees clean pages that only the
//! cache holds from the trees of mappings with writeback (never tmpfs's),
//! which is why `i_pages` sits behind an `Arc` the reclaim list shares;
//! such a page is simply read again on its next use.
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
//! together. Nothing sleeps or touches user memory under it; `read_folio`
//! and `writepage` are called without it. `i_mmap` and `ra` are leaves,
//! only held to copy or change them. Reclaim only `try_lock`s `i_pages`.
#![deny(unsafe_code)]

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use crate::fs::file_table::File;
use crate::fs::inode::{I_DIRTY_DATASYNC, I_DIRTY_PAGES, Inode};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::locking::spinlock::SpinLockGuard;
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::time::jiffies;
use crate::mm::addr::{PAGE_SIZE, Pfn};
use crate::mm::filemap::{account_page_cache_add, account_page_cache_del};
use crate::mm::highmem::{memcpy_from_page, memcpy_to_page, memset_page};
use crate::mm::memory::put_page;
use crate::mm::mm_types::Mm;
use crate::mm::page::pfn_to_page;
use crate::mm::page_alloc::{alloc_pages, clear_pages};
use crate::mm::page_writeback::{account_page_cleaned, account_page_dirtied};

/// How a file system fills and writes back the pages of its files
/// (Linux: `struct address_space_operations`).
///
/// Each hook is called with no lock of the cache held and may sleep.
#[allow(unused_variables, reason = "the defaults ignore their arguments")]
pub trait AddressSpaceOps: Send + Sync {
    /// Fills `pfn`, a new zeroed page, with `inode`'s data at page `index`
    /// (Linux: `read_folio`); a page past the end stays zero.
    fn read_folio(&self, inode: &Inode, index: u64, pfn: Pfn) -> KResult<()>;
    /// Fills the new zeroed pages `pfns` with pages `start..` (Linux:
    /// `readahead`); a file system that can read them in one request
    /// overrides this.
    fn readahead(&self, inode: &Inode, start: u64, pfns: &[Pfn]) -> KResult<()> {
        (start..).zip(pfns).try_for_each(|(index, &pfn)| self.read_folio(inode, index, pfn))
    }
    /// Writes page `index` back (Linux: `writepage`); a file system that
    /// allocates blocks late does it here, and its error (`ENOSPC`, `EIO`)
    /// is reported by the next `fsync`. The page may lie past a size
    /// truncation just set.
    fn writepage(&self, inode: &Inode, index: u64, pfn: Pfn) -> KResult<()> {
        Ok(())
    }
    /// Writes the consecutive pages `pfns`, from page `start` on (Linux:
    /// `writepages`); a file system that can write them in one request
    /// overrides this. Every page is tried; the first error is returned.
    fn writepages(&self, inode: &Inode, start: u64, pfns: &[Pfn]) -> KResult<()> {
        let mut result = Ok(());
        for (index, &pfn) in (start..).zip(pfns) {
            let r = self.writepage(inode, index, pfn);
            result = result.and(r);
        }
        result
    }
    /// Called before `write(2)` copies into page `index` (Linux:
    /// `write_begin`): a file system that must reserve space says
    /// `ENOSPC` here.
    fn write_begin(&self, inode: &Inode, index: u64) -> KResult<()> {
        Ok(())
    }
    /// Whether pages have a backing store to be read from and written to
    /// (Linux: `mapping_can_writeback`); false for tmpfs, whose new pages
    /// are holes and never dirty.
    fn can_writeback(&self) -> bool {
        true
    }
}

/// The pages of one file by index (Linux: `mapping->i_pages`).
#[derive(Default)]
pub struct PageTree {
    pages: BTreeMap<u64, Pfn>,
    /// Dirty pages and when each was dirtied, in jiffies (Linux:
    /// `PAGECACHE_TAG_DIRTY`, `PG_dirty`).
    dirty: BTreeMap<u64, u64>,
    /// Pages being read in, not yet in `pages` (Linux: a locked folio
    /// that is not uptodate).
    reading: BTreeSet<u64>,
}

/// Where tasks wait for a page being read (Linux: `folio_wait_table`,
/// one queue here: reads are rare next to hits).
static PAGE_WAIT: WaitQueue = WaitQueue::new();

/// Read-ahead windows, in pages (Linux: `get_init_ra_size`, and the
/// default `read_ahead_kb` of 128).
const RA_INIT_PAGES: u64 = 4;
const RA_MAX_PAGES: u64 = 32;

/// Sequential-read detection (Linux: `struct file_ra_state`): where the
/// last window ended and how large it was.
#[derive(Default)]
struct RaState {
    next: u64,
    size: u64,
}

/// The pages of one file and who maps them (Linux: `address_space`).
#[doc(alias = "address_space")]
pub struct PageCache {
    /// Shared with the reclaim list (mm/vmscan.rs) for a mapping with
    /// writeback, which frees its clean pages under memory pressure.
    i_pages: Arc<SpinLock<PageTree>>,
    i_mmap: SpinLock<Vec<Weak<Mm>>>,
    pub a_ops: &'static dyn AddressSpaceOps,
    /// The inode whose data this is (Linux: `host`).
    host: Weak<Inode>,
    /// The first writeback error since the last fsync (Linux:
    /// `AS_EIO`/`AS_ENOSPC`, `wb_err`); a leaf lock.
    wb_err: SpinLock<Option<Errno>>,
    ra: SpinLock<RaState>,
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
    /// Adds `pfn`, whose reference the cache takes over, at `index`, where
    /// no page is (Linux: `__filemap_add_folio`); returns it.
    fn insert_page(&mut self, index: u64, pfn: Pfn) -> Pfn {
        if let Some(old) = self.pages.insert(index, pfn) {
            put_page(old); // callers insert only where none is
        } else {
            account_page_cache_add(1);
        }
        pfn
    }

    /// Drops up to `max` pages that are clean and held by nothing but
    /// the cache (no PTE, no buffer, no reader), returning how many were
    /// freed (Linux: `invalidate_mapping_pages`, and the page-cache half
    /// of `shrink_page_list`). Never sleeps.
    pub fn invalidate_clean(&mut self, max: usize) -> usize {
        let mut freed = 0;
        let mut at = 0;
        while freed < max {
            let Some((&index, &pfn)) = self.pages.range(at..).next() else { break };
            let unused = pfn_to_page(pfn).is_some_and(|p| p.ref_count() == 1);
            if unused && !self.dirty.contains_key(&index) {
                self.pages.remove(&index);
                account_page_cache_del(1);
                put_page(pfn);
                freed += 1;
            }
            let Some(next) = index.checked_add(1) else { break };
            at = next;
        }
        freed
    }

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
                    Ok(pfn) => self.insert_page(index, pfn),
                    Err(err) if done == 0 => return Err(err),
                    Err(_) => break,
                },
            };
            memcpy_to_page(pfn, offset, &buf[done..done + n]);
            done += n;
        }
        Ok(done)
    }

    /// Marks page `index` dirty at `now`; false if it is not cached or
    /// was dirty already.
    pub fn set_dirty(&mut self, index: u64, now: u64) -> bool {
        if !self.pages.contains_key(&index) || self.dirty.contains_key(&index) {
            return false;
        }
        self.dirty.insert(index, now);
        account_page_dirtied(1);
        true
    }

    /// Dirty pages (Linux: `mapping_tagged(PAGECACHE_TAG_DIRTY)` counts).
    pub fn nr_dirty(&self) -> usize {
        self.dirty.len()
    }

    /// Takes the dirty marks of the pages in `[start, end)` dirtied at or
    /// before `older_than` jiffies, with a reference on each page for the
    /// writer (Linux: `clear_page_dirty_for_io` in `write_cache_pages`).
    pub fn take_dirty(&mut self, start: u64, end: u64, older_than: u64) -> Vec<(u64, Pfn)> {
        let mut out = Vec::new();
        let want: Vec<u64> = self
            .dirty
            .range(start..end)
            .filter(|&(_, &when)| when <= older_than)
            .map(|(&i, _)| i)
            .collect();
        if out.try_reserve(want.len()).is_err() {
            return out;
        }
        for index in want {
            self.dirty.remove(&index);
            account_page_cleaned(1);
            if let Some(&pfn) = self.pages.get(&index)
                && let Some(page) = pfn_to_page(pfn)
            {
                page.get();
                out.push((index, pfn));
            }
        }
        out
    }

    /// Drops the pages wholly past `size` and zeroes the tail of the last
    /// one, so that a later extension and its mappers read zeros (Linux:
    /// `truncate_inode_pages` + `truncate_inode_partial_folio`). The
    /// caller unmaps them first; a PTE that still maps one keeps it alive.
    pub fn truncate(&mut self, size: u64) {
        let (index, offset) = split(size);
        let first_gone = if offset == 0 { index } else { index + 1 };
        let gone = self.pages.split_off(&first_gone);
        account_page_cache_del(gone.len());
        for pfn in gone.into_values() {
            put_page(pfn);
        }
        account_page_cleaned(self.dirty.split_off(&first_gone).len());
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
        account_page_cleaned(self.dirty.len());
        account_page_cache_del(self.pages.len());
        for pfn in core::mem::take(&mut self.pages).into_values() {
            put_page(pfn);
        }
    }
}

impl PageCache {
    pub fn new(a_ops: &'static dyn AddressSpaceOps, host: Weak<Inode>) -> Self {
        let i_pages = Arc::new(SpinLock::new(PageTree::default()));
        if a_ops.can_writeback() {
            crate::mm::vmscan::add_reclaimable(&i_pages);
        }
        Self {
            i_pages,
            i_mmap: SpinLock::new(Vec::new()),
            a_ops,
            host,
            wb_err: SpinLock::new(None),
            ra: SpinLock::new(RaState::default()),
        }
    }

    /// The inode whose data this is; `EIO` while it is being freed.
    pub fn host(&self) -> KResult<Arc<Inode>> {
        self.host.upgrade().ok_or(Errno::EIO)
    }

    /// The page tree, locked (Linux: `xa_lock(&mapping->i_pages)`).
    pub fn lock(&self) -> SpinLockGuard<'_, PageTree> {
        self.i_pages.lock()
    }

    /// The page at `index`, read in on first use, with a reference taken
    /// for the caller (Linux: `filemap_get_folio(FGP_CREAT)` + `read_folio`
    /// for a disk file, `shmem_get_folio` for tmpfs). May sleep for a
    /// disk file: call it with no spinlock held.
    pub fn get_page(&self, index: u64) -> KResult<Pfn> {
        loop {
            let mut tree = self.i_pages.lock();
            if let Some(&pfn) = tree.pages.get(&index) {
                return get_ref(pfn);
            }
            if !self.a_ops.can_writeback() {
                // A memory file system's new page is a hole: no I/O.
                let pfn = new_page()?;
                tree.insert_page(index, pfn);
                return get_ref(pfn);
            }
            if tree.reading.contains(&index) {
                drop(tree);
                self.wait_on_read(index);
                continue;
            }
            tree.reading.insert(index);
            drop(tree);
            self.read_pages(index, 1)?;
        }
    }

    /// The page at `index` to be overwritten, without reading it: a new
    /// zeroed page if absent (Linux: `grab_cache_page_write_begin` for a
    /// write that covers the page or lies past the end).
    fn grab_cache_page(&self, index: u64) -> KResult<Pfn> {
        loop {
            let mut tree = self.i_pages.lock();
            if let Some(&pfn) = tree.pages.get(&index) {
                return get_ref(pfn);
            }
            if !tree.reading.contains(&index) {
                let pfn = new_page()?;
                tree.insert_page(index, pfn);
                return get_ref(pfn);
            }
            drop(tree);
            self.wait_on_read(index);
        }
    }

    /// Sleeps until page `index` is no longer being read.
    fn wait_on_read(&self, index: u64) {
        PAGE_WAIT.wait_event(|| !self.i_pages.lock().reading.contains(&index));
    }

    /// Reads the `count` pages from `start`, which the caller marked as
    /// being read, and inserts them; on failure none is inserted (Linux:
    /// `read_pages`, `filemap_read_folio`).
    fn read_pages(&self, start: u64, count: u64) -> KResult<()> {
        let result = self.read_new_pages(start, count);
        let mut tree = self.i_pages.lock();
        for index in start..start + count {
            tree.reading.remove(&index);
        }
        let ok = match result {
            Ok(pfns) => {
                for (index, pfn) in (start..).zip(pfns) {
                    tree.insert_page(index, pfn);
                }
                Ok(())
            }
            Err(e) => Err(e),
        };
        drop(tree);
        PAGE_WAIT.wake_up_all();
        ok
    }

    fn read_new_pages(&self, start: u64, count: u64) -> KResult<Vec<Pfn>> {
        let host = self.host()?;
        let mut pfns = Vec::new();
        pfns.try_reserve(usize::try_from(count).map_err(|_| Errno::ENOMEM)?)
            .map_err(|_| Errno::ENOMEM)?;
        let result = (0..count).try_for_each(|_| new_page().map(|pfn| pfns.push(pfn)));
        let result = result.and_then(|()| self.a_ops.readahead(&host, start, &pfns));
        if let Err(e) = result {
            pfns.into_iter().for_each(put_page);
            return Err(e);
        }
        Ok(pfns)
    }

    /// On a miss at `index`, reads the window of pages from there that
    /// are neither cached nor being read, below `end`; the window doubles
    /// while the misses are sequential (Linux: `page_cache_sync_ra`).
    pub fn readahead(&self, index: u64, end: u64) {
        let window = {
            let mut ra = self.ra.lock();
            ra.size = if index == ra.next && ra.size != 0 {
                (ra.size * 2).min(RA_MAX_PAGES)
            } else {
                RA_INIT_PAGES
            };
            ra.next = index + ra.size;
            ra.size
        };
        let mut tree = self.i_pages.lock();
        let mut count = 0;
        while count < window
            && index + count < end
            && !tree.pages.contains_key(&(index + count))
            && !tree.reading.contains(&(index + count))
        {
            tree.reading.insert(index + count);
            count += 1;
        }
        drop(tree);
        if count > 0 {
            // A failed read-ahead is retried page by page by `get_page`.
            let _ = self.read_pages(index, count);
        }
    }

    /// Whether page `index` is cached (Linux: `mincore_page`).
    pub fn has_page(&self, index: u64) -> bool {
        self.i_pages.lock().pages.contains_key(&index)
    }

    /// Marks cached page `index` dirty and its inode as having dirty pages
    /// (Linux: `filemap_dirty_folio` + `__mark_inode_dirty(I_DIRTY_PAGES)`);
    /// the fault code calls it for a write to a shared mapping. Nothing
    /// for a mapping without writeback.
    pub fn set_page_dirty(&self, index: u64) {
        if !self.a_ops.can_writeback() {
            return;
        }
        let newly = self.i_pages.lock().set_dirty(index, jiffies());
        if newly && let Some(host) = self.host.upgrade() {
            host.mark_inode_dirty(I_DIRTY_PAGES);
        }
    }

    /// Records a writeback error for the next fsync (Linux:
    /// `mapping_set_error`); the first one stays.
    pub fn set_error(&self, err: Errno) {
        self.wb_err.lock().get_or_insert(err);
    }

    /// The writeback error since the last call, cleared (Linux:
    /// `file_check_and_advance_wb_err`; one error per mapping here,
    /// not one per open file).
    pub fn take_error(&self) -> KResult<()> {
        self.wb_err.lock().take().map_or(Ok(()), Err)
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

    /// Whether some address space may map this file.
    pub fn is_mapped(&self) -> bool {
        self.i_mmap.lock().iter().any(|w| w.strong_count() > 0)
    }
}

/// Takes a reference on a cache page for the caller.
fn get_ref(pfn: Pfn) -> KResult<Pfn> {
    pfn_to_page(pfn).ok_or(Errno::EFAULT)?.get();
    Ok(pfn)
}

/// Reads from `inode`'s page cache at `*pos` into `buf`, bounded by the
/// size, reading pages in (ahead) as needed (Linux: `filemap_read`): the
/// `read` of a disk file system's regular files.
pub fn generic_file_read(inode: &Inode, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
    let mapping = inode.i_mapping().ok_or(Errno::EINVAL)?;
    let size = inode.size();
    if *pos >= size {
        return Ok(0);
    }
    let n = usize::try_from(size - *pos).map_or(buf.len(), |left| left.min(buf.len()));
    let end_index = size.div_ceil(PAGE_SIZE as u64);
    let mut done = 0;
    while done < n {
        let (index, offset) = split(*pos + done as u64);
        let len = (PAGE_SIZE - offset).min(n - done);
        if !mapping.has_page(index) {
            mapping.readahead(index, end_index);
        }
        let pfn = match mapping.get_page(index) {
            Ok(pfn) => pfn,
            Err(_) if done > 0 => break,
            Err(e) => return Err(e),
        };
        memcpy_from_page(pfn, offset, &mut buf[done..done + len]);
        put_page(pfn);
        done += len;
    }
    *pos += done as u64;
    Ok(done)
}

/// Copies `buf` into `inode`'s page cache at `*pos`, dirtying the pages
/// and growing the size (Linux: `generic_perform_write`): the `write` of
/// a disk file system's regular files, after its limit checks. The
/// caller serialises writers to one file (Linux's `i_rwsem`). Returns
/// what was written before an error, or the error.
pub fn generic_perform_write(inode: &Inode, buf: &[u8], pos: &mut u64) -> KResult<usize> {
    let mapping = inode.i_mapping().ok_or(Errno::EINVAL)?;
    let mut done = 0;
    while done < buf.len() {
        let at = pos.checked_add(done as u64).ok_or(Errno::EFBIG)?;
        let (index, offset) = split(at);
        let len = (PAGE_SIZE - offset).min(buf.len() - done);
        let page = mapping.a_ops.write_begin(inode, index).and_then(|()| {
            let size = inode.size();
            // No need to read what the write replaces or what lies past EOF.
            if len == PAGE_SIZE || index * PAGE_SIZE as u64 >= size {
                mapping.grab_cache_page(index)
            } else {
                mapping.get_page(index)
            }
        });
        let pfn = match page {
            Ok(pfn) => pfn,
            Err(_) if done > 0 => break,
            Err(e) => return Err(e),
        };
        memcpy_to_page(pfn, offset, &buf[done..done + len]);
        put_page(pfn);
        mapping.set_page_dirty(index);
        done += len;
        let end = at + len as u64;
        let grew = inode.update_attr(|a| {
            let grew = end > a.size;
            a.size = a.size.max(end);
            grew
        });
        if grew {
            inode.mark_inode_dirty(I_DIRTY_DATASYNC);
        }
    }
    *pos += done as u64;
    inode.touch_mtime();
    crate::mm::page_writeback::balance_dirty_pages_ratelimited();
    Ok(done)
}

/// The page cache of `inode`, if it has one (Linux: `inode->i_mapping`
/// together with `f_op->mmap`).
pub fn inode_mapping(inode: &Inode) -> Option<&PageCache> {
    inode.i_mapping()
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
        if file.f_inode.i_mapping().is_some() {
            file.f_inode.deny_write_access()?;
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
        if self.file.f_inode.i_mapping().is_some() {
            self.file.f_inode.put_write_access();
        }
        Self { file: self.file.clone() }
    }
}

impl Drop for DenyWriteAccess {
    /// Linux: `allow_write_access`.
    fn drop(&mut self) {
        if self.file.f_inode.i_mapping().is_some() {
            self.file.f_inode.allow_write_access();
        }
    }
}

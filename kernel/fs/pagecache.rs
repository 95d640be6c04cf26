//! The pages of a file's data (Linux: `struct address_space`,
//! include/linux/pagemap.h, mm/filemap.c `filemap_read`,
//! `generic_perform_write`, mm/truncate.c).
//!
//! A [`PageCache`] maps page indexes to pages; an absent page is a hole and
//! reads as zeros. tmpfs keeps its files only here (Linux's shmem mapping);
//! ext2 (issue 6) will fill it from disk and write dirty pages back, and
//! `mmap` of a file will map these pages, so the pages are page-sized and
//! page-aligned heap blocks (`kmalloc-4k` comes from whole buddy pages).
//!
//! # Locking
//! The owner (the inode's file system) wraps a `PageCache` in its own lock,
//! taken before the inode's `i_lock`.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::collections::BTreeMap;

use crate::kernel::errno::KResult;
use crate::mm::addr::PAGE_SIZE;
use crate::mm::slab_common::kzalloc;

/// One page of file data (Linux: a `struct folio` of order 0).
pub type PageBuf = Box<[u8]>;

/// The pages of one file (Linux: `address_space`, alias `PageCache`).
#[doc(alias = "address_space")]
#[derive(Default)]
pub struct PageCache {
    pages: BTreeMap<u64, PageBuf>,
}

fn new_page() -> KResult<PageBuf> {
    Ok(kzalloc(PAGE_SIZE)?.into_boxed_slice())
}

fn split(pos: u64) -> (u64, usize) {
    let page = PAGE_SIZE as u64;
    // The remainder is below PAGE_SIZE, so it fits a usize.
    (pos / page, usize::try_from(pos % page).unwrap_or(0))
}

impl PageCache {
    pub const fn new() -> Self {
        Self { pages: BTreeMap::new() }
    }

    /// Pages present (Linux: `nrpages`).
    pub fn nr_pages(&self) -> usize {
        self.pages.len()
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
                Some(page) => dst.copy_from_slice(&page[offset..offset + n]),
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
            let page = match self.pages.entry(index) {
                alloc::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                alloc::collections::btree_map::Entry::Vacant(e) => match new_page() {
                    Ok(p) => e.insert(p),
                    Err(err) if done == 0 => return Err(err),
                    Err(_) => break,
                },
            };
            page[offset..offset + n].copy_from_slice(&buf[done..done + n]);
            done += n;
        }
        Ok(done)
    }

    /// Drops the data at and after `size` and zeroes the tail of the last
    /// page, so a later extension reads zeros (Linux: `truncate_pagecache`).
    pub fn truncate(&mut self, size: u64) {
        let (index, offset) = split(size);
        let first_gone = if offset == 0 { index } else { index + 1 };
        drop(self.pages.split_off(&first_gone));
        if offset != 0
            && let Some(page) = self.pages.get_mut(&index)
        {
            page[offset..].fill(0);
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

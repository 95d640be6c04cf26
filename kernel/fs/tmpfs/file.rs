//! tmpfs regular files and symlinks (Linux: mm/shmem.c
//! `shmem_file_operations`, `shmem_file_read_iter`, `shmem_setattr`,
//! `shmem_symlink_inode_operations`).
//!
//! File data is the inode's [`PageCache`]; the file size is `i_size`.
//! A write past the end leaves a hole that reads as zeros; truncation
//! first unmaps the pages past the new end from every address space that
//! maps the file, then drops them and zeroes the tail of the last one
//! (Linux: `truncate_setsize` → `truncate_pagecache`). `mmap` maps the
//! same pages (mm/filemap.rs), so `read`/`write` and mappings agree.
//!
//! # Locking
//! The mapping's `i_pages` is taken before the inode's `i_lock`, and held
//! across each read, write and truncate so that size and data change
//! together; it is dropped while truncation unmaps (which takes `Mm`
//! locks, and faults take `i_pages` under those).
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::fs::file_table::{FMode, File, FileOps, Whence};
use crate::fs::inode::{Inode, InodeOps, SetAttr, current_time};
use crate::fs::pagecache::{AddressSpaceOps, PageCache};
use crate::fs::read_write::{
    MAX_LFS_FILESIZE, generic_file_llseek, generic_write_check_limits, inode_newsize_ok,
};
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, Pfn};
use crate::mm::filemap::unmap_mapping_range;
use crate::mm::slab_common::kmemdup;

/// tmpfs pages have no backing store: a new page is a hole, there is
/// nowhere to write one back, and none is ever dirty (Linux: `shmem_aops`).
pub struct ShmemAops;
pub static SHMEM_AOPS: ShmemAops = ShmemAops;

impl AddressSpaceOps for ShmemAops {
    fn read_folio(&self, _inode: &Inode, _index: u64, _pfn: Pfn) -> KResult<()> {
        Ok(())
    }
    fn can_writeback(&self) -> bool {
        false
    }
}

fn tmpfs_file(inode: &Inode) -> KResult<&PageCache> {
    inode.i_mapping().ok_or(Errno::EINVAL)
}

/// `i_blocks` for `pages` pages, in 512-byte units.
fn blocks(pages: usize) -> u64 {
    (pages * (PAGE_SIZE / 512)) as u64
}

/// Sets `i_blocks` for `pages` pages, counting them in the file system's
/// total (Linux: `shmem_recalc_inode`).
fn set_blocks(inode: &Inode, pages: usize) {
    let old = inode.update_attr(|a| core::mem::replace(&mut a.blocks, blocks(pages)));
    super::account_blocks(inode, old, blocks(pages));
}

/// Changes the size (Linux: `shmem_setattr` → `truncate_setsize`).
fn set_size(inode: &Inode, size: u64) -> KResult<()> {
    if size > MAX_LFS_FILESIZE {
        return Err(Errno::EFBIG);
    }
    let mapping = tmpfs_file(inode)?;
    // truncate(2) and O_TRUNC of a running program (Linux: the
    // `get_write_access` in `vfs_truncate` and `do_dentry_open`).
    if inode.write_denied() {
        return Err(Errno::ETXTBSY);
    }
    let now = current_time();
    let old = {
        let _pages = mapping.lock();
        inode.update_attr(|a| {
            let old = a.size;
            a.size = size;
            a.mtime = now;
            a.ctime = now;
            old
        })
    };
    if size < old {
        // Faults check the size under their page-table lock, so after
        // this walk no PTE maps a page past the new end.
        unmap_mapping_range(mapping, size.div_ceil(PAGE_SIZE as u64));
    }
    let mut pages = mapping.lock();
    // A write may have extended the file again meanwhile (Linux holds
    // `i_rwsem` across both); its data stays.
    pages.truncate(inode.size());
    set_blocks(inode, pages.nr_pages());
    Ok(())
}

/// Marks an open file counted in `i_writecount` (Linux: `FMODE_WRITER`).
struct Writer;

/// Inode operations of regular files.
pub struct TmpfsFileInodeOps;
pub static TMPFS_FILE_INODE_OPS: TmpfsFileInodeOps = TmpfsFileInodeOps;

impl InodeOps for TmpfsFileInodeOps {
    fn setattr(&self, inode: &Inode, attr: &SetAttr) -> KResult<()> {
        if let Some(size) = attr.size {
            inode_newsize_ok(inode.size(), size)?;
            set_size(inode, size)?;
        }
        inode.apply_attr(attr);
        Ok(())
    }
}

/// Operations of open regular files (Linux: `shmem_file_operations`).
pub struct TmpfsFileOps;
pub static TMPFS_FILE_OPS: TmpfsFileOps = TmpfsFileOps;

impl FileOps for TmpfsFileOps {
    /// Counts writers, refused while a program runs from the file (Linux:
    /// `get_write_access` in `do_dentry_open`).
    fn open(&self, inode: &Arc<Inode>, file: &File) -> KResult<()> {
        if file.f_mode.contains(FMode::WRITE) {
            tmpfs_file(inode)?;
            inode.get_write_access()?;
            file.set_private(Box::new(Writer));
        }
        Ok(())
    }

    /// Linux: `put_write_access` in `__fput`, for a file whose open
    /// counted it (a refused open is released too).
    fn release(&self, file: &File) {
        if file.private::<Writer>().is_some() {
            file.f_inode.put_write_access();
        }
    }

    fn read(&self, file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        let inode = &file.f_inode;
        let mapping = tmpfs_file(inode)?.lock();
        let size = inode.size();
        if *pos >= size {
            return Ok(0);
        }
        let n = usize::try_from(size - *pos).map_or(buf.len(), |left| left.min(buf.len()));
        mapping.read(*pos, &mut buf[..n]);
        *pos += n as u64;
        Ok(n)
    }

    fn write(&self, file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize> {
        let inode = &file.f_inode;
        let mut mapping = tmpfs_file(inode)?.lock();
        if file.is_append() {
            // Under the mapping lock, so concurrent appends never overlap.
            *pos = inode.size();
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let len = match generic_write_check_limits(*pos, buf.len()) {
            Ok(len) => len,
            Err(limit) => {
                drop(mapping); // SIGXFSZ takes the signal locks
                return Err(limit.report());
            }
        };
        let n = mapping.write(*pos, &buf[..len])?;
        *pos += n as u64;
        let now = current_time();
        let new_end = *pos;
        let pages = mapping.nr_pages();
        let old_blocks = inode.update_attr(|a| {
            a.size = a.size.max(new_end);
            a.mtime = now;
            a.ctime = now;
            core::mem::replace(&mut a.blocks, blocks(pages))
        });
        super::account_blocks(inode, old_blocks, blocks(pages));
        Ok(n)
    }

    fn llseek(&self, file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        let inode = &file.f_inode;
        let mapping = tmpfs_file(inode)?.lock();
        let size = inode.size();
        let start = match whence {
            Whence::Data | Whence::Hole => u64::try_from(offset).map_err(|_| Errno::ENXIO)?,
            _ => return generic_file_llseek(pos, size, offset, whence),
        };
        if start >= size {
            return Err(Errno::ENXIO);
        }
        match whence {
            Whence::Data => mapping.next_data(start).filter(|&d| d < size).ok_or(Errno::ENXIO),
            _ => Ok(mapping.next_hole(start).min(size)),
        }
    }

    fn fsync(&self, _file: &File) -> KResult<()> {
        Ok(())
    }

    fn fallocate(&self, file: &File, mode: u32, offset: u64, len: u64) -> KResult<()> {
        shmem_fallocate(file, mode, offset, len)
    }
}

/// The private part of a tmpfs symlink: its target.
pub struct TmpfsSymlink {
    target: Box<[u8]>,
}

impl TmpfsSymlink {
    pub fn new(target: &[u8]) -> KResult<Self> {
        Ok(Self { target: kmemdup(target)?.into_boxed_slice() })
    }
}

/// Linux: `shmem_symlink_inode_operations`.
pub struct TmpfsSymlinkInodeOps;
pub static TMPFS_SYMLINK_INODE_OPS: TmpfsSymlinkInodeOps = TmpfsSymlinkInodeOps;

impl InodeOps for TmpfsSymlinkInodeOps {
    fn get_link(&self, inode: &Inode) -> KResult<Vec<u8>> {
        kmemdup(&inode.private::<TmpfsSymlink>()?.target)
    }
}

/// fallocate on tmpfs (Linux: `shmem_fallocate`): mode 0 and
/// `FALLOC_FL_KEEP_SIZE` allocate zeroed pages over the range (and grow
/// the file unless told to keep its size); `PUNCH_HOLE|KEEP_SIZE` zeroes
/// the range in the pages present, which keeps them allocated where
/// Linux frees the whole ones; other modes are `EOPNOTSUPP`. The rlimit
/// applies even with `KEEP_SIZE`, as in Linux. A range larger than the
/// free memory is `ENOSPC` at once; on `ENOMEM` part-way the pages
/// already allocated stay (Linux undoes them).
fn shmem_fallocate(file: &File, mode: u32, offset: u64, len: u64) -> KResult<()> {
    use linux_raw_sys::general::{FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE};
    static ZEROS: [u8; PAGE_SIZE] = [0; PAGE_SIZE];
    let inode = &file.f_inode;
    let f = tmpfs_file(inode)?;
    if mode & !(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
    let page = PAGE_SIZE as u64;
    if mode & FALLOC_FL_PUNCH_HOLE != 0 {
        let mut tree = f.lock();
        let mut pos = offset;
        while pos < end {
            let n = (page - pos % page).min(end - pos);
            if tree.find_page(pos / page).is_some() {
                tree.write(pos, &ZEROS[..usize::try_from(n).unwrap_or(0)])?;
            }
            pos += n;
        }
        drop(tree);
        inode.touch_mtime();
        return Ok(());
    }
    inode_newsize_ok(inode.size(), end)?;
    // Fail early rather than drain memory: no range beyond the free pages
    // or tmpfs's default size, half of RAM (Linux: `shmem_inode_acct_block`).
    let (first, last) = (offset / page, end.div_ceil(page));
    let room =
        crate::mm::page_alloc::nr_free_pages().min(crate::mm::page_alloc::totalram_pages() / 2);
    if last - first > room {
        return Err(Errno::ENOSPC);
    }
    for index in first..last {
        let pfn = f.get_page(index)?;
        crate::mm::memory::put_page(pfn);
    }
    let tree = f.lock();
    let now = current_time();
    inode.update_attr(|a| {
        if mode & FALLOC_FL_KEEP_SIZE == 0 {
            a.size = a.size.max(end);
        }
        a.ctime = now;
    });
    set_blocks(inode, tree.nr_pages());
    Ok(())
}

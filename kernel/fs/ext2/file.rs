//! ext2 regular files: data through the page cache (Linux: fs/ext2/file.c
//! `ext2_file_operations`, fs/ext2/inode.c `ext2_aops`, `ext2_setsize`).
//!
//! `read`, `write` and `mmap` use the inode's page cache
//! (`generic_file_read`, `generic_perform_write`, mm/filemap.rs). The
//! address-space operations map pages to blocks with the library: a page
//! is read with `read_data` (holes read as zeros) and written back block
//! by block through `bmap`. `write(2)` allocates the blocks it covers
//! before copying (Linux: `ext2_write_begin`), so a full disk is `ENOSPC`
//! there; writeback allocates only for a shared mapping's stores into a
//! hole. A page wholly past the size is not written.
//!
//! # Locking
//! The instance mutex (mod.rs) is taken inside `read_folio` and
//! `writepage`, which the page cache calls with none of its locks held.
//! The block I/O stays under it: with no page lock to make truncation
//! wait for a page in flight, a block freed and reallocated (perhaps as
//! metadata) between mapping and I/O would be overwritten or read stale.
//! Writes only reach the buffer cache, so the disk waits under it only
//! on a buffer-cache miss.
//! Truncation sets the size and drops the pages under the mapping's lock,
//! unmaps with no lock held, then frees blocks under the mutex.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;

use super::ext2_sb;
use super::inode::{disk_ino, ext2_setattr, is_evicted};
use crate::fs::buffer::{bread, sync_blockdev};
use crate::fs::file_table::{FMode, File, FileOps, Whence};
use crate::fs::inode::{Inode, InodeOps, SetAttr, current_time};
use crate::fs::pagecache::{AddressSpaceOps, generic_file_read, generic_perform_write};
use crate::fs::read_write::{generic_file_llseek, generic_write_check_limits, inode_newsize_ok};
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, Pfn};
use crate::mm::filemap::unmap_mapping_range;
use crate::mm::highmem::{memcpy_from_page, memcpy_to_page};

const PAGE: u64 = PAGE_SIZE as u64;

/// The largest file the block map of `block_size` reaches (Linux:
/// `ext2_max_size`: 12 direct, then single, double and triple indirect
/// blocks; `i_blocks` in 512-byte units caps it at 2 TiB).
fn max_size(block_size: u32) -> u64 {
    let bs = u64::from(block_size);
    let per = bs / 4;
    let blocks = 12 + per + per * per + per * per * per;
    blocks.saturating_mul(bs).min((1u64 << 41) - bs)
}

/// Linux: `ext2_aops` (`ext2_read_folio`, `ext2_writepages`).
pub struct Ext2Aops;
pub static EXT2_AOPS: Ext2Aops = Ext2Aops;

impl AddressSpaceOps for Ext2Aops {
    fn read_folio(&self, inode: &Inode, index: u64, pfn: Pfn) -> KResult<()> {
        let info = ext2_sb(&inode.sb)?;
        let pos = index.checked_mul(PAGE).ok_or(Errno::EIO)?;
        let size = inode.size();
        if pos >= size || is_evicted(inode) {
            return Ok(());
        }
        let mut buf = vec![0u8; PAGE_SIZE];
        info.with_fs(|fs| {
            let mut di = fs.read_inode(disk_ino(inode)).map_err(|e| info.errno(e, inode.ino))?;
            // The VFS size: writes past the disk's are not written back yet.
            di.size = size;
            fs.read_data(&di, pos, &mut buf).map_err(|e| info.errno(e, inode.ino))
        })?;
        memcpy_to_page(pfn, 0, &buf);
        Ok(())
    }

    /// Writes each block of the page that lies below the size, its bytes
    /// past the end zeroed; an unmapped block is allocated unless it is
    /// all zeros (a hole stays a hole, as Linux writes only the buffers a
    /// write mapped; a shared mapping's store into a hole allocates).
    fn writepage(&self, inode: &Inode, index: u64, pfn: Pfn) -> KResult<()> {
        let info = ext2_sb(&inode.sb)?;
        if info.read_only {
            return Err(Errno::EROFS);
        }
        let pos = index.checked_mul(PAGE).ok_or(Errno::EIO)?;
        let bs = inode.sb.s_blocksize as usize;
        let mut buf = vec![0u8; PAGE_SIZE];
        memcpy_from_page(pfn, 0, &mut buf);
        let err = |e| info.errno(e, inode.ino);
        info.with_fs(|fs| {
            // Under the mutex: truncation and eviction cannot pass us.
            let size = inode.size();
            if pos >= size || is_evicted(inode) || inode.attr().nlink == 0 {
                return Ok(());
            }
            let len = usize::try_from(size - pos).map_or(PAGE_SIZE, |n| n.min(PAGE_SIZE));
            buf.get_mut(len..).unwrap_or_default().fill(0);
            let mut di = fs.read_inode(disk_ino(inode)).map_err(err)?;
            di.size = di.size.max(size);
            let first = pos / bs as u64;
            for (i, chunk) in buf.chunks(bs).take(len.div_ceil(bs)).enumerate() {
                let lblock = u32::try_from(first + i as u64).map_err(|_| Errno::EFBIG)?;
                let block = match fs.bmap(&mut di, lblock, false).map_err(err)? {
                    Some(m) => m.block,
                    None if chunk.iter().all(|&b| b == 0) => continue,
                    None => fs.bmap(&mut di, lblock, true).map_err(err)?.ok_or(Errno::EIO)?.block,
                };
                bread(&info.disk, u64::from(block), bs)?.write(chunk)?;
            }
            inode.update_attr(|a| a.blocks = u64::from(di.blocks));
            Ok(())
        })
    }
}

/// Allocates the blocks under bytes `pos..pos + len` before `write(2)`
/// copies them into the page cache, so that a full disk is `ENOSPC` there
/// as in Linux (`ext2_write_begin` → `ext2_get_block(create)`) rather
/// than a lost page at writeback. New blocks are zeroed. Returns how many
/// bytes from `pos` have blocks: fewer than `len` if the disk filled up
/// part way, `ENOSPC` if none.
fn ext2_alloc_range(inode: &Inode, pos: u64, len: usize) -> KResult<usize> {
    let info = ext2_sb(&inode.sb)?;
    let bs = u64::from(inode.sb.s_blocksize);
    let end = pos.checked_add(len as u64).ok_or(Errno::EFBIG)?;
    let zeros = vec![0u8; inode.sb.s_blocksize as usize];
    let err = |e| info.errno(e, inode.ino);
    info.with_fs(|fs| {
        let mut di = fs.read_inode(disk_ino(inode)).map_err(err)?;
        di.size = di.size.max(inode.size());
        let mut covered = end;
        for lblock in pos / bs..end.div_ceil(bs) {
            let lb = u32::try_from(lblock).map_err(|_| Errno::EFBIG)?;
            match fs.bmap(&mut di, lb, true) {
                Ok(Some(m)) if m.new => {
                    bread(&info.disk, u64::from(m.block), zeros.len())?.write(&zeros)?;
                }
                Ok(Some(_)) => {}
                Ok(None) => return Err(Errno::EIO),
                Err(ext2::Error::NoSpace) if lblock * bs > pos => {
                    covered = lblock * bs;
                    break;
                }
                Err(e) => return Err(err(e)),
            }
        }
        inode.update_attr(|a| a.blocks = u64::from(di.blocks));
        Ok(usize::try_from(covered - pos).unwrap_or(len).min(len))
    })
}

/// Frees the blocks a failed write allocated past the size (Linux:
/// `ext2_write_failed`).
fn ext2_write_failed(inode: &Inode, allocated_end: u64) -> KResult<()> {
    let info = ext2_sb(&inode.sb)?;
    info.with_fs(|fs| {
        let size = inode.size();
        if allocated_end <= size {
            return Ok(());
        }
        let mut di = fs.read_inode(disk_ino(inode)).map_err(|e| info.errno(e, inode.ino))?;
        di.size = di.size.max(allocated_end);
        fs.truncate(&mut di, size).map_err(|e| info.errno(e, inode.ino))?;
        inode.update_attr(|a| a.blocks = u64::from(di.blocks));
        Ok(())
    })
}

/// Changes a regular file's size (Linux: `ext2_setsize`): the page cache
/// first (pages past the end unmapped and dropped, the last one's tail
/// zeroed), then the blocks on the disk.
pub fn ext2_setsize(inode: &Inode, size: u64) -> KResult<()> {
    let info = ext2_sb(&inode.sb)?;
    let old_size = inode.size();
    inode_newsize_ok(old_size, size)?;
    if size > max_size(inode.sb.s_blocksize) {
        return Err(Errno::EFBIG);
    }
    if inode.write_denied() {
        return Err(Errno::ETXTBSY);
    }
    let mapping = inode.i_mapping().ok_or(Errno::EINVAL)?;
    let now = current_time();
    {
        let _pages = mapping.lock();
        inode.update_attr(|a| {
            a.size = size;
            a.mtime = now;
            a.ctime = now;
        });
    }
    if size < old_size {
        unmap_mapping_range(mapping, size.div_ceil(PAGE));
    }
    mapping.lock().truncate(inode.size());
    info.with_fs(|fs| {
        let mut di = fs.read_inode(disk_ino(inode)).map_err(|e| info.errno(e, inode.ino))?;
        // The disk's size may lag the VFS's; the library zeroes the block
        // tail at the lower of the old and new ends, so it needs the real one.
        di.size = di.size.max(old_size);
        // A write may have grown it again meanwhile; its pages stay.
        let size = inode.size();
        fs.truncate(&mut di, size).map_err(|e| info.errno(e, inode.ino))?;
        inode.update_attr(|a| a.blocks = u64::from(di.blocks));
        Ok(())
    })?;
    inode.mark_inode_dirty(crate::fs::inode::I_DIRTY_DATASYNC);
    Ok(())
}

/// Linux: `ext2_file_inode_operations`.
pub struct Ext2FileInodeOps;
pub static EXT2_FILE_INODE_OPS: Ext2FileInodeOps = Ext2FileInodeOps;

impl InodeOps for Ext2FileInodeOps {
    fn setattr(&self, inode: &Inode, attr: &SetAttr) -> KResult<()> {
        ext2_setattr(inode, attr)
    }
}

/// Marks an open file counted in `i_writecount` (Linux: `FMODE_WRITER`).
struct Writer;

/// Linux: `ext2_file_operations`.
pub struct Ext2FileOps;
pub static EXT2_FILE_OPS: Ext2FileOps = Ext2FileOps;

impl FileOps for Ext2FileOps {
    /// Refuses writing on a read-only mount and while a program runs
    /// from the file (Linux: `get_write_access` in `do_dentry_open`).
    fn open(&self, inode: &Arc<Inode>, file: &File) -> KResult<()> {
        if file.f_mode.contains(FMode::WRITE) {
            if ext2_sb(&inode.sb)?.read_only {
                return Err(Errno::EROFS);
            }
            inode.get_write_access()?;
            file.set_private(Box::new(Writer));
        }
        Ok(())
    }

    /// After the last close of an unlinked file, the flusher's next
    /// `write_inode` frees it (see mod.rs): the root directory is marked
    /// dirty to get one, when the dirty data expires, well after this
    /// `File` let go of the inode.
    fn release(&self, file: &File) {
        if file.private::<Writer>().is_some() {
            file.f_inode.put_write_access();
        }
        if file.f_inode.attr().nlink == 0
            && let Ok(info) = ext2_sb(&file.f_inode.sb)
            && let Some(root) = info.icache_get(ext2::ROOT_INO)
        {
            root.mark_inode_dirty(crate::fs::inode::I_DIRTY_SYNC);
        }
    }

    fn read(&self, file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        generic_file_read(&file.f_inode, buf, pos)
    }

    fn write(&self, file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize> {
        let inode = &file.f_inode;
        if file.is_append() {
            *pos = inode.size();
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let len = generic_write_check_limits(*pos, buf.len()).map_err(|limit| limit.report())?;
        let max = max_size(inode.sb.s_blocksize);
        if *pos >= max {
            return Err(Errno::EFBIG);
        }
        let len = usize::try_from(max - *pos).map_or(len, |room| room.min(len));
        let start = *pos;
        let len = ext2_alloc_range(inode, start, len)?;
        let written = generic_perform_write(inode, &buf[..len], pos);
        if *pos < start + len as u64 {
            ext2_write_failed(inode, start + len as u64)?;
        }
        written
    }

    fn llseek(&self, file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        generic_file_llseek(pos, file.f_inode.size(), offset, whence)
    }

    /// Linux: `ext2_fsync` → `generic_file_fsync`: the VFS wrote the pages
    /// and the inode into the buffer cache; the disk's buffers go now.
    fn fsync(&self, file: &File) -> KResult<()> {
        ext2_fsync(file)
    }
}

/// Writes the disk's dirty buffers (the file's blocks and metadata among
/// them) and reports a write error (Linux: `generic_file_fsync`'s
/// `sync_mapping_buffers` + `blkdev_issue_flush`).
pub fn ext2_fsync(file: &File) -> KResult<()> {
    let info = ext2_sb(&file.f_inode.sb)?;
    if info.read_only {
        return Ok(());
    }
    sync_blockdev(&info.disk)?;
    info.disk.flush()
}

//! ext2 regular files: data through the page cache (Linux: fs/ext2/file.c
//! `ext2_file_operations`, fs/ext2/inode.c `ext2_aops`, `ext2_setsize`).
//!
//! `read`, `write` and `mmap` use the inode's page cache
//! (`generic_file_read`, `generic_perform_write`, mm/filemap.rs). The
//! address-space operations map a page's blocks with the library's
//! `bmap` and move them by bio on the page frame itself (data.rs, Linux's
//! `mpage_readahead`/`mpage_writepages`): file data never enters the
//! disk's buffer cache, which holds metadata. Holes and blocks past the
//! size read as zeros with no I/O. `write(2)` allocates the blocks it
//! covers before copying (Linux: `ext2_write_begin`), so a full disk is
//! `ENOSPC` there; a new block needs no read (only one that fills a hole
//! inside the size is zeroed on the disk). Writeback allocates only for a
//! shared mapping's stores into a hole. A page wholly past the size is
//! not written.
//!
//! # Locking
//! The instance mutex (mod.rs) is taken inside `read_folio`, `readahead`
//! and `writepages`, which the page cache calls with none of its locks
//! held. The block I/O stays under it: with no page lock to make
//! truncation wait for a page in flight, a block freed and reallocated
//! (perhaps as metadata) between mapping and I/O would be overwritten or
//! read stale.
//! Truncation sets the size and drops the pages under the mapping's lock,
//! unmaps with no lock held, then frees blocks under the mutex. `write`
//! holds the inode's `i_rwsem` (Linux: `inode_lock`, locking/mod.rs S2a)
//! across its append position, allocation and copy; the VFS holds it
//! around a truncation (`do_truncate`), so the two are serialised too.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;

use super::data::{DataIo, is_zero, zero_block};
use super::ext2_sb;
use super::inode::{disk_ino, ext2_setattr, is_evicted};
use crate::block::bio::ReqOp;
use crate::fs::buffer::sync_blockdev;
use crate::fs::file_table::{FMode, File, FileOps, Whence};
use crate::fs::inode::{Inode, InodeOps, SetAttr, current_time};
use crate::fs::pagecache::{AddressSpaceOps, generic_file_read, generic_perform_write};
use crate::fs::read_write::{generic_file_llseek, generic_write_check_limits, inode_newsize_ok};
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, Pfn};
use crate::mm::filemap::unmap_mapping_range;
use crate::mm::highmem::memset_page;

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
        ext2_readahead(inode, index, &[pfn])
    }

    /// Linux: `ext2_readahead` → `mpage_readahead`.
    fn readahead(&self, inode: &Inode, start: u64, pfns: &[Pfn]) -> KResult<()> {
        ext2_readahead(inode, start, pfns)
    }

    fn writepage(&self, inode: &Inode, index: u64, pfn: Pfn) -> KResult<()> {
        ext2_writepages(inode, index, &[pfn])
    }

    /// Linux: `ext2_writepages` → `mpage_writepages`.
    fn writepages(&self, inode: &Inode, start: u64, pfns: &[Pfn]) -> KResult<()> {
        ext2_writepages(inode, start, pfns)
    }
}

/// Fills the new zeroed pages `pfns` from page `start` on: each block
/// below the size that is mapped is read into its page (data.rs); holes
/// and blocks past the size stay zero.
fn ext2_readahead(inode: &Inode, start: u64, pfns: &[Pfn]) -> KResult<()> {
    let info = ext2_sb(&inode.sb)?;
    let bs = inode.sb.s_blocksize as usize;
    let err = |e| info.errno(e, inode.ino);
    info.with_fs(|fs| {
        // Under the mutex: a truncation frees blocks only after its size.
        let size = inode.size();
        if is_evicted(inode) {
            return Ok(());
        }
        let mut di = fs.read_inode(disk_ino(inode)).map_err(err)?;
        let mut io = DataIo::new(&info.disk, bs, ReqOp::Read);
        let mapped = (start..).zip(pfns).try_for_each(|(index, &pfn)| {
            let pos = index.checked_mul(PAGE).ok_or(Errno::EIO)?;
            for offset in (0..PAGE_SIZE).step_by(bs) {
                let at = pos + offset as u64;
                if at >= size {
                    break;
                }
                let lblock = u32::try_from(at / bs as u64).map_err(|_| Errno::EFBIG)?;
                if let Some(m) = fs.bmap(&mut di, lblock, false).map_err(err)? {
                    io.add(m.block, pfn, offset)?;
                }
            }
            Ok(())
        });
        let done = io.finish();
        mapped.and(done)
    })?;
    // The last block's bytes past the size read as zeros whatever the
    // disk holds (Linux: `block_read_full_folio` zeroes past `i_size`).
    let size = inode.size();
    for (index, &pfn) in (start..).zip(pfns) {
        let pos = index.saturating_mul(PAGE);
        if pos < size
            && let Ok(tail) = usize::try_from(size - pos)
            && tail < PAGE_SIZE
        {
            memset_page(pfn, tail, PAGE_SIZE - tail);
        }
    }
    Ok(())
}

/// Writes each block of the pages `pfns` (from page `start`) that lies
/// below the size, a page's bytes past the end zeroed first (Linux:
/// `mpage_writepages` → `block_write_full_folio`); an unmapped block is
/// allocated unless it is all zeros (a hole stays a hole, as Linux writes
/// only the buffers a write mapped; a shared mapping's store into a hole
/// allocates).
fn ext2_writepages(inode: &Inode, start: u64, pfns: &[Pfn]) -> KResult<()> {
    let info = ext2_sb(&inode.sb)?;
    if info.read_only() {
        return Err(Errno::EROFS);
    }
    let bs = inode.sb.s_blocksize as usize;
    let err = |e| info.errno(e, inode.ino);
    info.with_fs(|fs| {
        // Under the mutex: truncation and eviction cannot pass us.
        let size = inode.size();
        if is_evicted(inode) || inode.attr().nlink == 0 {
            return Ok(());
        }
        let mut di = fs.read_inode(disk_ino(inode)).map_err(err)?;
        di.size = di.size.max(size);
        let mut io = DataIo::new(&info.disk, bs, ReqOp::Write);
        let mapped = (start..).zip(pfns).try_for_each(|(index, &pfn)| {
            let pos = index.checked_mul(PAGE).ok_or(Errno::EIO)?;
            if pos >= size {
                return Ok(());
            }
            let len = usize::try_from(size - pos).map_or(PAGE_SIZE, |n| n.min(PAGE_SIZE));
            if len < PAGE_SIZE {
                memset_page(pfn, len, PAGE_SIZE - len);
            }
            for offset in (0..len).step_by(bs) {
                let lblock =
                    u32::try_from((pos + offset as u64) / bs as u64).map_err(|_| Errno::EFBIG)?;
                let block = match fs.bmap(&mut di, lblock, false).map_err(err)? {
                    Some(m) => m.block,
                    None if is_zero(pfn, offset, bs) => continue,
                    None => fs.bmap(&mut di, lblock, true).map_err(err)?.ok_or(Errno::EIO)?.block,
                };
                io.add(block, pfn, offset)?;
            }
            Ok(())
        });
        let done = io.finish();
        inode.update_attr(|a| a.blocks = u64::from(di.blocks));
        mapped.and(done)
    })
}

/// Allocates the blocks under bytes `pos..pos + len` before `write(2)`
/// copies them into the page cache, so that a full disk is `ENOSPC` there
/// as in Linux (`ext2_write_begin` → `ext2_get_block(create)`) rather
/// than a lost page at writeback. New blocks inside the size are zeroed
/// on the disk, those past it need no I/O. Returns how many
/// bytes from `pos` have blocks: fewer than `len` if the disk filled up
/// part way, `ENOSPC` if none.
fn ext2_alloc_range(inode: &Inode, pos: u64, len: usize) -> KResult<usize> {
    let info = ext2_sb(&inode.sb)?;
    let bs = u64::from(inode.sb.s_blocksize);
    let end = pos.checked_add(len as u64).ok_or(Errno::EFBIG)?;
    let err = |e| info.errno(e, inode.ino);
    info.with_fs(|fs| {
        let size = inode.size();
        let mut di = fs.read_inode(disk_ino(inode)).map_err(err)?;
        di.size = di.size.max(size);
        let mut covered = end;
        for lblock in pos / bs..end.div_ceil(bs) {
            let lb = u32::try_from(lblock).map_err(|_| Errno::EFBIG)?;
            match fs.bmap(&mut di, lb, true) {
                // A hole inside the file: its page may be read before the
                // copy, or the copy fail, with the block then mapped (Linux
                // zeroes it in the page: `folio_zero_new_buffers`). New
                // blocks past the size read as zeros (data.rs).
                Ok(Some(m)) if m.new && lblock * bs < size => {
                    zero_block(&info.disk, m.block, inode.sb.s_blocksize as usize)?;
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
    super::xattr::ext2_xattr_ops!();
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
            if ext2_sb(&inode.sb)?.read_only() {
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
        super::direct::ext2_direct_read_prepare(file, *pos, buf.len())?;
        generic_file_read(&file.f_inode, buf, pos)
    }

    fn write(&self, file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize> {
        let inode = &file.f_inode;
        // Linux: `generic_file_write_iter`'s `inode_lock`: the append
        // position, the allocation and the copy are one step per writer.
        let _locked = inode.inode_lock();
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
        super::direct::ext2_direct_write_finish(file, start, written)
    }

    fn direct_io(&self) -> bool {
        true // Buffered underneath: see direct.rs.
    }

    fn llseek(&self, file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        generic_file_llseek(pos, file.f_inode.size(), offset, whence)
    }

    /// Linux: `ext2_fsync` → `generic_file_fsync`: the VFS wrote the pages
    /// to the disk and the inode into the buffer cache; the disk's buffers
    /// go now.
    fn fsync(&self, file: &File) -> KResult<()> {
        ext2_fsync(file)
    }

    fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> KResult<i64> {
        super::ioctl::ext2_ioctl(file, cmd, arg)
    }
}

/// Writes the disk's dirty buffers (metadata, and file blocks that share
/// a cached page with it, see data.rs) and reports a write error (Linux:
/// `generic_file_fsync`'s `sync_mapping_buffers` + `blkdev_issue_flush`).
pub fn ext2_fsync(file: &File) -> KResult<()> {
    let info = ext2_sb(&file.f_inode.sb)?;
    if info.read_only() {
        return Ok(());
    }
    sync_blockdev(&info.disk)?;
    info.disk.flush()
}

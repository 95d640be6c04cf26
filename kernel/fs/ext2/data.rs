//! ext2 file data straight between the page cache and the disk (Linux:
//! fs/mpage.c `mpage_readahead`, `mpage_writepages`, `do_mpage_readpage`,
//! fs/buffer.c `block_read_full_folio`, `clean_bdev_aliases`; the mapper
//! is the library's `bmap`, Linux's `ext2_get_block`).
//!
//! A file page's blocks are mapped with `bmap`, then moved on the page
//! frames themselves: consecutive disk blocks gather into one run of up
//! to 4 MiB handed to the driver's `rw_pages` (zero-copy DMA), which keeps
//! its pieces in flight together. (The plug of block/request.rs cuts
//! requests at 256 KiB and dispatches them one after the other, each
//! waiting for its end, so virtio-blk's slots would drain between them.)
//! Holes and blocks wholly
//! past the size read as zeros with no I/O (a block past the size may be
//! newly allocated and hold another file's old bytes). Metadata stays in
//! the disk's buffer cache (fs/buffer.rs), whose pages cover several
//! blocks.
//!
//! Aliases: a data block whose page is also in the buffer cache (a
//! neighbour is metadata, or the block was metadata before it was freed
//! and reused, or the library zeroed a tail through it) is moved through
//! that cached copy instead of the disk. The cached page is written back
//! whole, so a direct write under it would be overwritten by its stale
//! copy (Linux clears such aliases with `clean_bdev_aliases`/`bforget`
//! and writes buffers one by one; here the cached copy is kept true).
//! This holds because every buffer-cache page of a mounted disk is made
//! under the instance mutex, as is all of this I/O; a raw read of the
//! mounted disk's block device (/dev/vda) is the exception, as in Linux.
//!
//! # Locking
//! Called with the instance mutex (mod.rs) held, I/O included: the page
//! cache has no per-page lock for truncation to wait on, so a block freed
//! and reused between mapping and I/O would be read stale or overwritten.
//! Under it, the buffer cache's spinlocks and the driver's queue.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use crate::block::bio::{BioVec, ReqOp};
use crate::block::{BlockDevice, SECTOR_SIZE};
use crate::fs::buffer::find_get_block;
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::Pfn;
use crate::mm::highmem::{memcpy_from_page, memcpy_to_page};

/// Most page pieces in one transfer: 4 MiB of 4 KiB pieces.
const MAX_SEGS: usize = 1024;

/// One call's data I/O in one direction: pieces of page frames, each one
/// block, gathered into runs of consecutive sectors.
pub struct DataIo<'a> {
    disk: &'a Arc<dyn BlockDevice>,
    block_size: usize,
    op: ReqOp,
    /// The run being gathered: its first sector and pieces.
    sector: u64,
    sectors: u64,
    segs: Vec<BioVec>,
    result: KResult<()>,
}

impl<'a> DataIo<'a> {
    pub fn new(disk: &'a Arc<dyn BlockDevice>, block_size: usize, op: ReqOp) -> Self {
        let (sector, sectors, segs, result) = (0, 0, Vec::new(), Ok(()));
        Self { disk, block_size, op, sector, sectors, segs, result }
    }

    /// Moves disk block `block` to (read) or from (write) the bytes of
    /// `pfn` at `offset`, one block long. Through the buffer cache if it
    /// has the block's page (see the module header), else in a run.
    pub fn add(&mut self, block: u32, pfn: Pfn, offset: usize) -> KResult<()> {
        let bs = self.block_size;
        if let Some(bh) = find_get_block(self.disk, u64::from(block), bs) {
            let mut buf = vec![0u8; bs];
            if self.op == ReqOp::Write {
                memcpy_from_page(pfn, offset, &mut buf);
                return bh.write(&buf);
            }
            bh.read(&mut buf);
            memcpy_to_page(pfn, offset, &buf);
            return Ok(());
        }
        let per_block = (bs / SECTOR_SIZE) as u64;
        let sector = u64::from(block) * per_block;
        let follows = !self.segs.is_empty() && self.sector + self.sectors == sector;
        if !follows || self.segs.len() >= MAX_SEGS {
            self.submit();
            self.sector = sector;
        }
        self.sectors += per_block;
        // A block that continues the last piece in its page joins it.
        if let Some(last) = self.segs.last_mut()
            && last.pfn == pfn
            && last.offset + last.len == offset
        {
            last.len += bs;
            return Ok(());
        }
        self.segs.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        self.segs.push(BioVec { pfn, offset, len: bs });
        Ok(())
    }

    /// Runs the gathered run (Linux: `mpage_bio_submit`); the driver
    /// keeps its pieces in flight together.
    fn submit(&mut self) {
        if !self.segs.is_empty() {
            let r = self.disk.rw_pages(self.op, self.sector, &self.segs);
            self.result = self.result.and(r);
            self.segs.clear();
        }
        self.sectors = 0;
    }

    /// Runs what is left; the first error.
    pub fn finish(mut self) -> KResult<()> {
        self.submit();
        self.result
    }
}

/// Whether the block of `len` bytes at `offset` in `pfn` is all zeros.
pub fn is_zero(pfn: Pfn, offset: usize, len: usize) -> bool {
    let mut buf = vec![0u8; len];
    memcpy_from_page(pfn, offset, &mut buf);
    buf.iter().all(|&b| b == 0)
}

/// Zeroes disk block `block` of `block_size` bytes (a block newly
/// allocated inside the size, which a partial write does not cover:
/// Linux zeroes it in the page, `folio_zero_segments` in
/// `__block_write_begin`, and the page is read before it here).
pub fn zero_block(disk: &Arc<dyn BlockDevice>, block: u32, block_size: usize) -> KResult<()> {
    let zeros = vec![0u8; block_size];
    if let Some(bh) = find_get_block(disk, u64::from(block), block_size) {
        return bh.write(&zeros);
    }
    let sector = u64::from(block) * (block_size / SECTOR_SIZE) as u64;
    disk.write_blocks(sector, &zeros)
}

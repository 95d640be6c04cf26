//! The block map: logical file blocks to disk blocks through twelve direct
//! pointers and single, double and triple indirect blocks; allocation on
//! write, freeing on truncate, and byte-level reads and writes over it.
//!
//! Linux: fs/ext2/inode.c (`ext2_block_to_path`, `ext2_get_block`,
//! `ext2_find_near`, `ext2_truncate_blocks`, `ext2_free_branches`).
//!
//! # Locking
//! None inside; see the crate header.

use crate::inode::Inode;
use crate::layout::{rd32, wr32};
use crate::{BlockIo, Error, Ext2, Result};
use alloc::collections::BTreeSet;
use alloc::vec;
use alloc::vec::Vec;

const DIRECT: u32 = 12;

/// A mapped block: where it is and whether it was just allocated (then its
/// contents are undefined and the caller must write all of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapped {
    pub block: u32,
    pub new: bool,
}

impl<D: BlockIo> Ext2<D> {
    fn ptrs_per_block(&self) -> u64 {
        u64::from(self.sb.block_size / 4)
    }

    /// Number of logical blocks the map can reach.
    fn max_lblocks(&self) -> u64 {
        let p = self.ptrs_per_block();
        u64::from(DIRECT) + p + p * p + p * p * p
    }

    /// The pointer indices from the inode down to the data block (Linux:
    /// `ext2_block_to_path`).
    fn block_to_path(&self, lblock: u32) -> Result<Vec<usize>> {
        let p = self.ptrs_per_block();
        let mut l = u64::from(lblock);
        let us = |x: u64| usize::try_from(x).map_err(|_| Error::TooBig);
        if l < u64::from(DIRECT) {
            return Ok(vec![us(l)?]);
        }
        l -= u64::from(DIRECT);
        if l < p {
            return Ok(vec![12, us(l)?]);
        }
        l -= p;
        if l < p * p {
            return Ok(vec![13, us(l / p)?, us(l % p)?]);
        }
        l -= p * p;
        if l < p * p * p {
            return Ok(vec![14, us(l / (p * p))?, us((l / p) % p)?, us(l % p)?]);
        }
        Err(Error::TooBig)
    }

    /// A goal near where the inode's data lives: its group's first block.
    pub(crate) fn inode_goal(&self, ino: u32) -> u32 {
        let g = (ino.saturating_sub(1) / self.sb.inodes_per_group).min(self.sb.groups_count - 1);
        self.sb.group_first_block(g)
    }

    fn add_blocks(&self, inode: &mut Inode, n: u32) -> Result<()> {
        let units = (self.sb.block_size / 512).saturating_mul(n);
        inode.blocks = inode.blocks.checked_add(units).ok_or(Error::TooBig)?;
        Ok(())
    }

    /// Maps logical block `lblock` of `inode`; with `create`, allocates the
    /// data block and any missing indirect blocks near the previous block,
    /// and writes the inode if it changed (Linux: `ext2_get_block`).
    pub fn bmap(&mut self, inode: &mut Inode, lblock: u32, create: bool) -> Result<Option<Mapped>> {
        if create {
            self.check_writable()?;
        }
        if !inode.has_block_map(self.sb.block_size) {
            return Err(Error::Invalid);
        }
        let before = inode.blocks;
        let r = self.bmap_inner(inode, lblock, create);
        if inode.blocks != before {
            self.write_inode(inode)?;
        }
        r
    }

    fn bmap_inner(
        &mut self,
        inode: &mut Inode,
        lblock: u32,
        create: bool,
    ) -> Result<Option<Mapped>> {
        let path = self.block_to_path(lblock)?;
        let depth = path.len();
        let top = path.first().copied().unwrap_or(0);
        let mut ptr = inode.block.get(top).copied().unwrap_or(0);
        let mut new = false;
        if ptr == 0 {
            if !create {
                return Ok(None);
            }
            let prev = inode.block.iter().take(top).rev().find(|&&b| b != 0);
            let goal = prev.map_or_else(|| self.inode_goal(inode.ino), |b| b.saturating_add(1));
            ptr = self.alloc_block(goal)?;
            if depth > 1 {
                self.zero_block(ptr)?;
            }
            if let Some(slot) = inode.block.get_mut(top) {
                *slot = ptr;
            }
            self.add_blocks(inode, 1)?;
            new = true;
        } else {
            self.check_data_block(ptr)?;
        }
        for (level, &idx) in path.iter().enumerate().skip(1) {
            let parent = ptr;
            let mut buf = self.read_buf(parent)?;
            ptr = rd32(&buf, idx * 4);
            if ptr == 0 {
                if !create {
                    return Ok(None);
                }
                // Linux's ext2_find_near: the closest earlier pointer in this block.
                let goal =
                    (0..idx).rev().map(|i| rd32(&buf, i * 4)).find(|&b| b != 0).unwrap_or(parent);
                ptr = self.alloc_block(goal.saturating_add(1))?;
                if level + 1 < depth {
                    self.zero_block(ptr)?;
                }
                wr32(&mut buf, idx * 4, ptr);
                self.dev.write_block(parent, &buf)?;
                self.add_blocks(inode, 1)?;
                new = true;
            } else {
                new = false;
                self.check_data_block(ptr)?;
            }
        }
        Ok(Some(Mapped { block: ptr, new }))
    }

    fn zero_block(&mut self, block: u32) -> Result<()> {
        let buf = vec![0u8; self.sb.block_size as usize];
        self.dev.write_block(block, &buf)
    }

    /// Reads up to `buf.len()` bytes at `pos`, stopping at the end of file;
    /// holes read as zeros. Returns the bytes read.
    pub fn read_data(&mut self, inode: &Inode, pos: u64, buf: &mut [u8]) -> Result<usize> {
        if pos >= inode.size || !inode.has_block_map(self.sb.block_size) {
            return Ok(0);
        }
        let n = usize::try_from((inode.size - pos).min(buf.len() as u64)).unwrap_or(buf.len());
        let bs = u64::from(self.sb.block_size);
        let mut done = 0usize;
        let mut copy = inode.clone();
        while done < n {
            let at = pos + done as u64;
            let lblock = u32::try_from(at / bs).map_err(|_| Error::TooBig)?;
            let off = usize::try_from(at % bs).map_err(|_| Error::TooBig)?;
            let len = (self.sb.block_size as usize - off).min(n - done);
            let dst = buf.get_mut(done..done + len).ok_or(Error::Invalid)?;
            match self.bmap_inner(&mut copy, lblock, false)? {
                Some(m) => {
                    let blk = self.read_buf(m.block)?;
                    dst.copy_from_slice(blk.get(off..off + len).ok_or(Error::Invalid)?);
                }
                None => dst.fill(0),
            }
            done += len;
        }
        Ok(n)
    }

    /// Writes `buf` at `pos`, allocating blocks, growing the size, and
    /// writing the inode. Times are the caller's business.
    pub fn write_data(&mut self, inode: &mut Inode, pos: u64, buf: &[u8]) -> Result<usize> {
        self.check_writable()?;
        let bs = u64::from(self.sb.block_size);
        let end = pos.checked_add(buf.len() as u64).ok_or(Error::TooBig)?;
        if end.div_ceil(bs) > self.max_lblocks() {
            return Err(Error::TooBig);
        }
        // Check every existing pointer in the range before the first write.
        if !buf.is_empty() {
            let mut probe = inode.clone();
            for lblock in pos / bs..=(end - 1) / bs {
                let lblock = u32::try_from(lblock).map_err(|_| Error::TooBig)?;
                self.bmap_inner(&mut probe, lblock, false)?;
            }
        }
        let before = (inode.blocks, inode.size);
        let mut done = 0usize;
        let r = loop {
            if done == buf.len() {
                break Ok(());
            }
            let at = pos + done as u64;
            let lblock = u32::try_from(at / bs).map_err(|_| Error::TooBig)?;
            let off = usize::try_from(at % bs).map_err(|_| Error::TooBig)?;
            let len = (self.sb.block_size as usize - off).min(buf.len() - done);
            let m = match self.bmap_inner(inode, lblock, true) {
                Ok(Some(m)) => m,
                Ok(None) => break Err(Error::Corrupt("bmap returned no block")),
                Err(e) => break Err(e),
            };
            let mut blk = if m.new || len == self.sb.block_size as usize {
                vec![0u8; self.sb.block_size as usize]
            } else {
                self.read_buf(m.block)?
            };
            if let (Some(d), Some(s)) = (blk.get_mut(off..off + len), buf.get(done..done + len)) {
                d.copy_from_slice(s);
            }
            self.dev.write_block(m.block, &blk)?;
            done += len;
        };
        let written_end = pos + done as u64;
        if written_end > inode.size {
            inode.size = written_end;
        }
        if (inode.blocks, inode.size) != before {
            self.write_inode(inode)?;
        }
        r.map(|()| done)
    }

    /// Sets the size to `new_size`, freeing the data and indirect blocks
    /// wholly past it, and writes the inode (Linux: `ext2_setsize`,
    /// `ext2_truncate_blocks`). Every pointer is checked before anything is
    /// written. The on-disk block holding the lower of the old and new end
    /// gets its tail zeroed, so bytes past the end never reappear (Linux:
    /// `block_truncate_page`); a page cache above must zero its copy too.
    pub fn truncate(&mut self, inode: &mut Inode, new_size: u64) -> Result<()> {
        self.check_writable()?;
        let bs = u64::from(self.sb.block_size);
        if new_size.div_ceil(bs) > self.max_lblocks() {
            return Err(Error::TooBig);
        }
        if inode.has_block_map(self.sb.block_size) {
            let keep = new_size.div_ceil(bs);
            let mut frees = BTreeSet::new();
            let mut edits = Vec::new();
            let mut new_map = inode.block;
            for (i, slot) in new_map.iter_mut().enumerate().take(DIRECT as usize) {
                if *slot != 0 && i as u64 >= keep {
                    claim(&mut frees, self.check_data_block(*slot)?)?;
                    *slot = 0;
                }
            }
            let p = self.ptrs_per_block();
            let mut start = u64::from(DIRECT);
            for (idx, level) in [(12usize, 1u32), (13, 2), (14, 3)] {
                let span = p.pow(level);
                let ptr = new_map.get(idx).copied().unwrap_or(0);
                if ptr != 0 && start + span > keep {
                    self.collect_branch(ptr, level, start, keep, &mut frees, &mut edits)?;
                    if start >= keep
                        && let Some(s) = new_map.get_mut(idx)
                    {
                        *s = 0;
                    }
                }
                start += span;
            }
            self.zero_tail(inode, new_size.min(inode.size))?;
            for (blk, buf) in &edits {
                self.dev.write_block(*blk, buf)?;
            }
            let n = u32::try_from(frees.len()).map_err(|_| Error::Corrupt("too many blocks"))?;
            inode.blocks = inode.blocks.saturating_sub(n.saturating_mul(self.sb.block_size / 512));
            inode.block = new_map;
            self.free_blocks(frees.into_iter().collect())?;
        }
        inode.size = new_size;
        self.write_inode(inode)
    }

    /// Zeroes the bytes of the block holding offset `at` from `at` on.
    fn zero_tail(&mut self, inode: &Inode, at: u64) -> Result<()> {
        let bs = u64::from(self.sb.block_size);
        let off = usize::try_from(at % bs).map_err(|_| Error::TooBig)?;
        if off == 0 {
            return Ok(());
        }
        let lblock = u32::try_from(at / bs).map_err(|_| Error::TooBig)?;
        let mut copy = inode.clone();
        if let Some(m) = self.bmap_inner(&mut copy, lblock, false)? {
            let mut buf = self.read_buf(m.block)?;
            if let Some(t) = buf.get_mut(off..) {
                t.fill(0);
            }
            self.dev.write_block(m.block, &buf)?;
        }
        Ok(())
    }

    /// Collects, in `frees`, the blocks of the subtree under indirect block
    /// `blk` (mapping logical blocks from `start`, `level` levels deep) that
    /// lie at or past `keep`, and in `edits` the indirect blocks that keep
    /// some pointers but lose others (Linux: `ext2_free_branches`).
    fn collect_branch(
        &mut self,
        blk: u32,
        level: u32,
        start: u64,
        keep: u64,
        frees: &mut BTreeSet<u32>,
        edits: &mut Vec<(u32, Vec<u8>)>,
    ) -> Result<()> {
        self.check_data_block(blk)?;
        let mut buf = self.read_buf(blk)?;
        let p = self.ptrs_per_block();
        let child_span = p.pow(level - 1);
        let mut changed = false;
        for i in 0..p {
            let cstart = start + i * child_span;
            if cstart + child_span <= keep {
                continue;
            }
            let off = usize::try_from(i * 4).map_err(|_| Error::TooBig)?;
            let ptr = rd32(&buf, off);
            if ptr == 0 {
                continue;
            }
            if level == 1 {
                claim(frees, self.check_data_block(ptr)?)?;
            } else {
                self.collect_branch(ptr, level - 1, cstart, keep, frees, edits)?;
            }
            if cstart >= keep {
                wr32(&mut buf, off, 0);
                changed = true;
            }
        }
        if start >= keep {
            claim(frees, blk)?;
        } else if changed {
            edits.push((blk, buf));
        }
        Ok(())
    }
}

/// Records `b` as to be freed; a block reached twice means the map is not a
/// tree (and walking it could take exponential time), so the image is corrupt.
fn claim(frees: &mut BTreeSet<u32>, b: u32) -> Result<()> {
    if frees.insert(b) { Ok(()) } else { Err(Error::Corrupt("block referenced twice")) }
}

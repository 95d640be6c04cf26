//! Block and inode allocation over the per-group bitmaps, keeping the group
//! descriptors' free counts and `bg_used_dirs_count` in step with the bits.
//!
//! Policy, after Linux: a file's inode goes in its parent's group, a new
//! directory in a group with more free inodes than average and the fewest
//! directories (a simple Orlov); a block goes at or after a goal near the
//! inode's previous block.
//!
//! Linux: fs/ext2/balloc.c (`ext2_new_blocks`, `ext2_free_blocks`),
//! fs/ext2/ialloc.c (`ext2_new_inode`, `find_group_orlov`,
//! `find_group_other`, `ext2_free_inode`).
//!
//! # Locking
//! None inside; see the crate header.

use crate::{BlockIo, Error, Ext2, Result};
use alloc::vec::Vec;

/// First clear bit of `map` in `[from, to)`.
fn find_zero(map: &[u8], from: u32, to: u32) -> Option<u32> {
    (from..to).find(|&i| map.get((i / 8) as usize).is_some_and(|b| b & (1 << (i % 8)) == 0))
}

fn test_bit(map: &[u8], i: u32) -> bool {
    map.get((i / 8) as usize).is_some_and(|b| b & (1 << (i % 8)) != 0)
}

fn set_bit(map: &mut [u8], i: u32, on: bool) {
    if let Some(b) = map.get_mut((i / 8) as usize) {
        if on {
            *b |= 1 << (i % 8);
        } else {
            *b &= !(1 << (i % 8));
        }
    }
}

impl<D: BlockIo> Ext2<D> {
    /// Allocates one block, at `goal` or the first free one after it
    /// (Linux: `ext2_new_blocks`, without reservation windows).
    pub(crate) fn alloc_block(&mut self, goal: u32) -> Result<u32> {
        self.check_writable()?;
        let sb = &self.sb;
        let goal = if goal < sb.first_data_block || goal >= sb.blocks_count {
            sb.first_data_block
        } else {
            goal
        };
        let start = (goal - sb.first_data_block) / sb.blocks_per_group;
        let groups = sb.groups_count;
        for i in 0..=groups {
            let g = (start + i) % groups;
            if self.gd.free_blocks(g) == 0 {
                continue;
            }
            let n = self.sb.blocks_in_group(g);
            let mut map = self.read_buf(self.gd.block_bitmap(g))?;
            let from = if i == 0 { goal - self.sb.group_first_block(g) } else { 0 };
            let Some(bit) = find_zero(&map, from, n).or_else(|| find_zero(&map, 0, from.min(n)))
            else {
                continue;
            };
            let block = self.sb.group_first_block(g) + bit;
            self.check_data_block(block)
                .map_err(|_| Error::Corrupt("block bitmap marks metadata free"))?;
            set_bit(&mut map, bit, true);
            self.dev.write_block(self.gd.block_bitmap(g), &map)?;
            self.gd.set_free_blocks(g, self.gd.free_blocks(g).saturating_sub(1));
            self.write_group_desc(g)?;
            return Ok(block);
        }
        Err(Error::NoSpace)
    }

    /// Frees `blocks` (already checked with `check_data_block`), one bitmap
    /// write per group. A bit already clear is left alone and not counted.
    pub(crate) fn free_blocks(&mut self, mut blocks: Vec<u32>) -> Result<()> {
        blocks.sort_unstable();
        blocks.dedup();
        let mut i = 0;
        while let Some(&first) = blocks.get(i) {
            let g = (first - self.sb.first_data_block) / self.sb.blocks_per_group;
            let base = self.sb.group_first_block(g);
            let mut map = self.read_buf(self.gd.block_bitmap(g))?;
            let mut freed = 0u16;
            while let Some(&b) = blocks.get(i) {
                if b < base || b - base >= self.sb.blocks_per_group {
                    break;
                }
                if test_bit(&map, b - base) {
                    set_bit(&mut map, b - base, false);
                    freed = freed.saturating_add(1);
                }
                i += 1;
            }
            self.dev.write_block(self.gd.block_bitmap(g), &map)?;
            if freed > 0 {
                self.clear_trimmed(g);
            }
            self.gd.set_free_blocks(g, self.gd.free_blocks(g).saturating_add(freed));
            self.write_group_desc(g)?;
        }
        Ok(())
    }

    /// The group a new inode goes in (Linux: `find_group_orlov` simplified,
    /// `find_group_other`).
    fn find_group(&self, parent: u32, is_dir: bool) -> Option<u32> {
        let groups = self.sb.groups_count;
        let has_room = |g: u32| self.gd.free_inodes(g) > 0;
        if is_dir {
            let avg = (0..groups).map(|g| u32::from(self.gd.free_inodes(g))).sum::<u32>() / groups;
            let fits =
                |g: u32| u32::from(self.gd.free_inodes(g)) >= avg && self.gd.free_blocks(g) > 0;
            return (0..groups)
                .filter(|&g| has_room(g) && fits(g))
                .min_by_key(|&g| {
                    (self.gd.used_dirs(g), u32::MAX - u32::from(self.gd.free_blocks(g)))
                })
                .or_else(|| (0..groups).find(|&g| has_room(g)));
        }
        let pg = (parent.saturating_sub(1) / self.sb.inodes_per_group).min(groups - 1);
        if has_room(pg) && self.gd.free_blocks(pg) > 0 {
            return Some(pg);
        }
        let mut g = pg;
        let mut step = 1u32;
        while step < groups {
            g = (g + step) % groups;
            if has_room(g) && self.gd.free_blocks(g) > 0 {
                return Some(g);
            }
            step <<= 1;
        }
        (0..groups).map(|i| (pg + i) % groups).find(|&g| has_room(g))
    }

    /// Allocates an inode number for a child of `parent` (Linux: `ext2_new_inode`).
    pub(crate) fn alloc_inode(&mut self, parent: u32, is_dir: bool) -> Result<u32> {
        self.check_writable()?;
        let g = self.find_group(parent, is_dir).ok_or(Error::NoSpace)?;
        let mut map = self.read_buf(self.gd.inode_bitmap(g))?;
        let ipg = self.sb.inodes_per_group;
        let base = g * ipg;
        // Inodes below s_first_ino are reserved (root, journal, resize...).
        let from = self.sb.first_ino.saturating_sub(1).saturating_sub(base).min(ipg);
        let bit =
            find_zero(&map, from, ipg).ok_or(Error::Corrupt("inode bitmap full but count free"))?;
        set_bit(&mut map, bit, true);
        self.dev.write_block(self.gd.inode_bitmap(g), &map)?;
        self.gd.set_free_inodes(g, self.gd.free_inodes(g).saturating_sub(1));
        if is_dir {
            self.gd.set_used_dirs(g, self.gd.used_dirs(g).saturating_add(1));
        }
        self.write_group_desc(g)?;
        Ok(base + bit + 1)
    }

    /// Whether inode `ino`'s bit is set.
    pub(crate) fn inode_in_use(&mut self, ino: u32) -> Result<bool> {
        let g = (ino - 1) / self.sb.inodes_per_group;
        let map = self.read_buf(self.gd.inode_bitmap(g))?;
        Ok(test_bit(&map, (ino - 1) % self.sb.inodes_per_group))
    }

    /// Frees inode `ino`'s bit (Linux: `ext2_free_inode`).
    pub(crate) fn free_inode(&mut self, ino: u32, is_dir: bool) -> Result<()> {
        let g = (ino - 1) / self.sb.inodes_per_group;
        let bit = (ino - 1) % self.sb.inodes_per_group;
        let mut map = self.read_buf(self.gd.inode_bitmap(g))?;
        if !test_bit(&map, bit) {
            return Err(Error::Corrupt("freeing a free inode"));
        }
        set_bit(&mut map, bit, false);
        self.dev.write_block(self.gd.inode_bitmap(g), &map)?;
        self.gd.set_free_inodes(g, self.gd.free_inodes(g).saturating_add(1));
        if is_dir {
            self.gd.set_used_dirs(g, self.gd.used_dirs(g).saturating_sub(1));
        }
        self.write_group_desc(g)
    }
}

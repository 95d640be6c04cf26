//! The superblock and the group descriptor table as raw little-endian bytes,
//! with accessors for the fields this crate uses; unknown fields pass through
//! unchanged when written back.
//!
//! Linux: fs/ext2/ext2.h (`struct ext2_super_block`, `struct ext2_group_desc`),
//! fs/ext2/super.c (`ext2_fill_super`, `ext2_check_descriptors`).
//!
//! # Locking
//! None inside: owned by [`crate::Ext2`], which the caller serializes.

use crate::{Error, Result};
use alloc::vec::Vec;

pub(crate) const EXT2_MAGIC: u16 = 0xEF53;
/// Offset and size of the superblock, in bytes from the start of the device.
pub(crate) const SB_OFFSET: usize = 1024;
pub(crate) const SB_SIZE: usize = 1024;
pub(crate) const DESC_SIZE: usize = 32;
/// Group descriptors per byte of block, as a `u32` divisor.
pub(crate) const DESC_SIZE_U32: u32 = 32;

pub(crate) const COMPAT_RESIZE_INODE: u32 = 0x0010;
pub(crate) const INCOMPAT_FILETYPE: u32 = 0x0002;
/// Linux: `EXT2_FEATURE_INCOMPAT_SUPP` less `META_BG`, which we do not lay out.
pub(crate) const INCOMPAT_SUPP: u32 = INCOMPAT_FILETYPE;
pub(crate) const RO_COMPAT_SPARSE_SUPER: u32 = 0x0001;
pub(crate) const RO_COMPAT_LARGE_FILE: u32 = 0x0002;
/// Linux: `EXT2_FEATURE_RO_COMPAT_SUPP` (sparse_super, large_file, btree_dir).
pub(crate) const RO_COMPAT_SUPP: u32 = 0x0001 | 0x0002 | 0x0004;
pub(crate) const STATE_VALID: u16 = 0x0001;

pub(crate) fn rd16(b: &[u8], off: usize) -> u16 {
    b.get(off..off.saturating_add(2)).and_then(|s| s.try_into().ok()).map_or(0, u16::from_le_bytes)
}

pub(crate) fn rd32(b: &[u8], off: usize) -> u32 {
    b.get(off..off.saturating_add(4)).and_then(|s| s.try_into().ok()).map_or(0, u32::from_le_bytes)
}

pub(crate) fn wr16(b: &mut [u8], off: usize, v: u16) {
    if let Some(s) = b.get_mut(off..off.saturating_add(2)) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

pub(crate) fn wr32(b: &mut [u8], off: usize, v: u32) {
    if let Some(s) = b.get_mut(off..off.saturating_add(4)) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// The superblock (Linux: `struct ext2_super_block`) plus values derived
/// from it once, at mount, after validation.
pub(crate) struct Superblock {
    pub raw: Vec<u8>,
    pub block_size: u32,
    pub blocks_count: u32,
    pub first_data_block: u32,
    pub blocks_per_group: u32,
    pub inodes_per_group: u32,
    pub inodes_count: u32,
    pub inode_size: u32,
    pub first_ino: u32,
    pub groups_count: u32,
    pub desc_blocks: u32,
    pub reserved_gdt: u32,
    pub itb_per_group: u32,
}

macro_rules! field32 {
    ($get:ident, $set:ident, $off:expr) => {
        #[allow(dead_code)]
        pub fn $get(&self) -> u32 {
            rd32(&self.raw, $off)
        }
        #[allow(dead_code)]
        pub fn $set(&mut self, v: u32) {
            wr32(&mut self.raw, $off, v)
        }
    };
}

impl Superblock {
    field32!(free_blocks, set_free_blocks, 12);
    field32!(free_inodes, set_free_inodes, 16);
    field32!(r_blocks, set_r_blocks, 8);
    field32!(mtime, set_mtime, 44);
    field32!(wtime, set_wtime, 48);
    field32!(rev_level, set_rev_level, 76);
    field32!(feature_compat, set_feature_compat, 92);
    field32!(feature_incompat, set_feature_incompat, 96);
    field32!(feature_ro_compat, set_feature_ro_compat, 100);

    pub fn state(&self) -> u16 {
        rd16(&self.raw, 58)
    }
    pub fn set_state(&mut self, v: u16) {
        wr16(&mut self.raw, 58, v)
    }
    pub fn mnt_count(&self) -> u16 {
        rd16(&self.raw, 52)
    }
    pub fn set_mnt_count(&mut self, v: u16) {
        wr16(&mut self.raw, 52, v)
    }
    pub fn max_mnt_count(&self) -> u16 {
        rd16(&self.raw, 54)
    }
    pub fn set_max_mnt_count(&mut self, v: u16) {
        wr16(&mut self.raw, 54, v)
    }
    pub fn has_filetype(&self) -> bool {
        self.feature_incompat() & INCOMPAT_FILETYPE != 0
    }
    pub fn uuid(&self) -> [u8; 16] {
        let mut u = [0; 16];
        if let Some(s) = self.raw.get(104..120) {
            u.copy_from_slice(s);
        }
        u
    }

    /// Parses and validates a superblock read from byte 1024 of the device
    /// (Linux: the checks of `ext2_fill_super`).
    pub fn parse(raw: Vec<u8>) -> Result<Self> {
        if raw.len() != SB_SIZE || rd16(&raw, 56) != EXT2_MAGIC {
            return Err(Error::Corrupt("bad magic"));
        }
        let log = rd32(&raw, 24);
        if log > 2 {
            return Err(Error::Corrupt("block size not 1K, 2K or 4K"));
        }
        let block_size = 1024u32 << log;
        let rev = rd32(&raw, 76);
        let (inode_size, first_ino) = match rev {
            0 => (128, 11),
            1 => (u32::from(rd16(&raw, 88)), rd32(&raw, 84)),
            _ => return Err(Error::Unsupported("revision level above 1")),
        };
        if inode_size < 128 || !inode_size.is_power_of_two() || inode_size > block_size {
            return Err(Error::Corrupt("bad inode size"));
        }
        let blocks_count = rd32(&raw, 4);
        let inodes_count = rd32(&raw, 0);
        let first_data_block = rd32(&raw, 20);
        let bpg = rd32(&raw, 32);
        let ipg = rd32(&raw, 40);
        let bits = block_size * 8;
        if bpg == 0 || bpg > bits || ipg == 0 || ipg > bits {
            return Err(Error::Corrupt("bad blocks or inodes per group"));
        }
        if first_data_block != u32::from(block_size == 1024) || blocks_count <= first_data_block + 1
        {
            return Err(Error::Corrupt("bad first data block or block count"));
        }
        let groups_count = (blocks_count - first_data_block).div_ceil(bpg);
        if u64::from(groups_count) * u64::from(ipg) != u64::from(inodes_count) {
            return Err(Error::Corrupt("inode count does not match groups"));
        }
        if first_ino < 11 || first_ino >= inodes_count {
            return Err(Error::Corrupt("bad first inode"));
        }
        let inodes_per_block = block_size / inode_size;
        if !ipg.is_multiple_of(inodes_per_block) {
            return Err(Error::Corrupt("inodes per group not a multiple of inodes per block"));
        }
        let desc_blocks = groups_count.div_ceil(block_size / DESC_SIZE_U32);
        let reserved_gdt =
            if rd32(&raw, 92) & COMPAT_RESIZE_INODE != 0 { u32::from(rd16(&raw, 206)) } else { 0 };
        if desc_blocks.saturating_add(reserved_gdt) >= bpg {
            return Err(Error::Corrupt("group descriptors do not fit in a group"));
        }
        Ok(Superblock {
            raw,
            block_size,
            blocks_count,
            first_data_block,
            blocks_per_group: bpg,
            inodes_per_group: ipg,
            inodes_count,
            inode_size,
            first_ino,
            groups_count,
            desc_blocks,
            reserved_gdt,
            itb_per_group: ipg / inodes_per_block,
        })
    }

    /// Whether group `g` holds a superblock backup (Linux: `ext2_bg_has_super`).
    pub fn group_has_super(&self, g: u32) -> bool {
        if self.feature_ro_compat() & RO_COMPAT_SPARSE_SUPER == 0 || g <= 1 {
            return true;
        }
        [3u32, 5, 7].iter().any(|&p| {
            let mut x = p;
            while x < g {
                x = x.saturating_mul(p);
            }
            x == g
        })
    }

    /// First block of group `g`.
    pub fn group_first_block(&self, g: u32) -> u32 {
        self.first_data_block + g * self.blocks_per_group
    }

    /// Number of blocks in group `g` (the last one may be short).
    pub fn blocks_in_group(&self, g: u32) -> u32 {
        let first = self.group_first_block(g);
        (self.blocks_count - first).min(self.blocks_per_group)
    }

    /// Blocks at the start of group `g` taken by the superblock, the group
    /// descriptors and the blocks reserved for their growth.
    pub fn group_sb_blocks(&self, g: u32) -> u32 {
        if self.group_has_super(g) { 1 + self.desc_blocks + self.reserved_gdt } else { 0 }
    }
}

/// The group descriptor table (Linux: an array of `struct ext2_group_desc`),
/// kept as the raw blocks it occupies so it can be written back block-wise.
pub(crate) struct GroupDescs {
    pub raw: Vec<u8>,
}

macro_rules! gd16 {
    ($get:ident, $set:ident, $off:expr) => {
        pub fn $get(&self, g: u32) -> u16 {
            rd16(&self.raw, g as usize * DESC_SIZE + $off)
        }
        pub fn $set(&mut self, g: u32, v: u16) {
            wr16(&mut self.raw, g as usize * DESC_SIZE + $off, v)
        }
    };
}

impl GroupDescs {
    gd16!(free_blocks, set_free_blocks, 12);
    gd16!(free_inodes, set_free_inodes, 14);
    gd16!(used_dirs, set_used_dirs, 16);

    pub fn block_bitmap(&self, g: u32) -> u32 {
        rd32(&self.raw, g as usize * DESC_SIZE)
    }
    pub fn inode_bitmap(&self, g: u32) -> u32 {
        rd32(&self.raw, g as usize * DESC_SIZE + 4)
    }
    pub fn inode_table(&self, g: u32) -> u32 {
        rd32(&self.raw, g as usize * DESC_SIZE + 8)
    }

    /// Checks each group's bitmaps and inode table lie inside the group, after
    /// its superblock copy (Linux: `ext2_check_descriptors`).
    pub fn check(&self, sb: &Superblock) -> Result<()> {
        for g in 0..sb.groups_count {
            let first = sb.group_first_block(g) + sb.group_sb_blocks(g);
            let end = sb.group_first_block(g) + sb.blocks_in_group(g);
            let in_group = |b: u32| b >= first && b < end;
            let it = self.inode_table(g);
            let it_end = it.checked_add(sb.itb_per_group).ok_or(Error::Corrupt("inode table"))?;
            if !in_group(self.block_bitmap(g))
                || !in_group(self.inode_bitmap(g))
                || !in_group(it)
                || it_end > end
            {
                return Err(Error::Corrupt("group descriptor points outside its group"));
            }
            if u32::from(self.free_blocks(g)) > sb.blocks_in_group(g)
                || u32::from(self.free_inodes(g)) > sb.inodes_per_group
            {
                return Err(Error::Corrupt("group descriptor free counts"));
            }
        }
        Ok(())
    }

    /// Whether `b` is one of group `g`'s bitmaps or inode-table blocks.
    pub fn is_group_metadata(&self, sb: &Superblock, g: u32, b: u32) -> bool {
        let it = self.inode_table(g);
        b == self.block_bitmap(g)
            || b == self.inode_bitmap(g)
            || (b >= it && b - it < sb.itb_per_group)
    }
}

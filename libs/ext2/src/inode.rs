//! On-disk inodes: decoding, encoding, and reading/writing them in the inode
//! tables. Fields this crate does not interpret (the large-inode tail,
//! `osd1`, fragment bytes) are kept and written back unchanged.
//!
//! Linux: fs/ext2/inode.c (`ext2_iget`, `__ext2_write_inode`,
//! `ext2_get_inode`), fs/ext2/ext2.h (`struct ext2_inode`).
//!
//! # Locking
//! None inside; see the crate header.

use crate::layout::{RO_COMPAT_LARGE_FILE, rd16, rd32, wr16, wr32};
use crate::{BlockIo, Error, Ext2, Result};
use alloc::vec;
use alloc::vec::Vec;

pub(crate) const S_IFMT: u16 = 0o170000;
pub(crate) const S_IFSOCK: u16 = 0o140000;
pub(crate) const S_IFLNK: u16 = 0o120000;
pub(crate) const S_IFREG: u16 = 0o100000;
pub(crate) const S_IFBLK: u16 = 0o060000;
pub(crate) const S_IFDIR: u16 = 0o040000;
pub(crate) const S_IFCHR: u16 = 0o020000;
pub(crate) const S_IFIFO: u16 = 0o010000;
/// Linux: `EXT2_INDEX_FL` (alias `EXT2_BTREE_FL`), an htree directory.
pub(crate) const INDEX_FL: u32 = 0x1000;
/// Number of block pointers in an inode (Linux: `EXT2_N_BLOCKS`).
pub const N_BLOCKS: usize = 15;

/// One inode, decoded (Linux: `struct ext2_inode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inode {
    /// Its number; `write_inode` writes it back there.
    pub ino: u32,
    /// Type and permission bits, as `st_mode`.
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    /// Size in bytes (`i_size` | `i_size_high` << 32).
    pub size: u64,
    pub atime: u32,
    pub ctime: u32,
    pub mtime: u32,
    /// Deletion time; non-zero only for freed inodes.
    pub dtime: u32,
    pub links_count: u16,
    /// Allocated space in 512-byte units, indirect and xattr blocks included.
    pub blocks: u32,
    /// `EXT2_*_FL` flags.
    pub flags: u32,
    /// Block pointers, or a fast symlink's text, or a device number.
    pub block: [u32; N_BLOCKS],
    pub generation: u32,
    /// Extended-attribute block, 0 if none.
    pub file_acl: u32,
    /// The on-disk bytes this inode was read from (`inode_size` long).
    raw: Vec<u8>,
}

impl Inode {
    pub(crate) fn decode(ino: u32, raw: Vec<u8>) -> Self {
        let mut block = [0u32; N_BLOCKS];
        for (i, b) in block.iter_mut().enumerate() {
            *b = rd32(&raw, 40 + 4 * i);
        }
        Inode {
            ino,
            mode: rd16(&raw, 0),
            uid: u32::from(rd16(&raw, 2)) | (u32::from(rd16(&raw, 120)) << 16),
            size: u64::from(rd32(&raw, 4)) | (u64::from(rd32(&raw, 108)) << 32),
            atime: rd32(&raw, 8),
            ctime: rd32(&raw, 12),
            mtime: rd32(&raw, 16),
            dtime: rd32(&raw, 20),
            gid: u32::from(rd16(&raw, 24)) | (u32::from(rd16(&raw, 122)) << 16),
            links_count: rd16(&raw, 26),
            blocks: rd32(&raw, 28),
            flags: rd32(&raw, 32),
            block,
            generation: rd32(&raw, 100),
            file_acl: rd32(&raw, 104),
            raw,
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut raw = self.raw.clone();
        wr16(&mut raw, 0, self.mode);
        wr16(&mut raw, 2, (self.uid & 0xffff) as u16);
        wr16(&mut raw, 120, (self.uid >> 16) as u16);
        wr32(&mut raw, 4, (self.size & 0xffff_ffff) as u32);
        wr32(&mut raw, 108, (self.size >> 32) as u32);
        wr32(&mut raw, 8, self.atime);
        wr32(&mut raw, 12, self.ctime);
        wr32(&mut raw, 16, self.mtime);
        wr32(&mut raw, 20, self.dtime);
        wr16(&mut raw, 24, (self.gid & 0xffff) as u16);
        wr16(&mut raw, 122, (self.gid >> 16) as u16);
        wr16(&mut raw, 26, self.links_count);
        wr32(&mut raw, 28, self.blocks);
        wr32(&mut raw, 32, self.flags);
        for (i, b) in self.block.iter().enumerate() {
            wr32(&mut raw, 40 + 4 * i, *b);
        }
        wr32(&mut raw, 100, self.generation);
        wr32(&mut raw, 104, self.file_acl);
        raw
    }

    /// A fresh inode as e2fsprogs and Linux lay one out: zeroed, with
    /// `i_extra_isize` set in large inodes.
    pub(crate) fn new(ino: u32, inode_size: u32) -> Self {
        let mut raw = vec![0u8; inode_size as usize];
        if inode_size > 128 {
            wr16(&mut raw, 128, 32);
        }
        Inode::decode(ino, raw)
    }

    /// The on-disk bytes (xattr.rs reads the in-inode attributes there).
    pub(crate) fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The `S_IF*` type bits.
    pub fn file_type_bits(&self) -> u16 {
        self.mode & S_IFMT
    }
    pub fn is_dir(&self) -> bool {
        self.file_type_bits() == S_IFDIR
    }
    pub fn is_reg(&self) -> bool {
        self.file_type_bits() == S_IFREG
    }
    pub fn is_symlink(&self) -> bool {
        self.file_type_bits() == S_IFLNK
    }

    /// Whether the text of this symlink lives in `i_block` (Linux:
    /// `ext2_inode_is_fast_symlink`).
    pub fn is_fast_symlink(&self, block_size: u32) -> bool {
        let ea = if self.file_acl != 0 { block_size / 512 } else { 0 };
        self.is_symlink() && self.blocks.saturating_sub(ea) == 0
    }

    /// Whether `i_block` holds block pointers (not a device number or a
    /// fast symlink's text).
    pub(crate) fn has_block_map(&self, block_size: u32) -> bool {
        self.is_reg() || self.is_dir() || (self.is_symlink() && !self.is_fast_symlink(block_size))
    }

    /// The device number of a character or block device as (major, minor),
    /// in either of Linux's encodings (Linux: `old_decode_dev`, `new_decode_dev`).
    pub fn rdev(&self) -> (u32, u32) {
        if self.block[0] != 0 {
            let d = self.block[0];
            ((d >> 8) & 0xff, d & 0xff)
        } else {
            let d = self.block[1];
            ((d & 0xfff00) >> 8, (d & 0xff) | ((d >> 12) & 0xfff00))
        }
    }

    /// Stores a device number the way `ext2_set_inode`'s callers do: the old
    /// 16-bit form in `i_block[0]` when it fits, else the new one in `i_block[1]`.
    pub fn set_rdev(&mut self, major: u32, minor: u32) {
        if major < 256 && minor < 256 {
            self.block[0] = (major << 8) | minor;
            self.block[1] = 0;
        } else {
            self.block[0] = 0;
            self.block[1] = (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12);
        }
    }
}

impl<D: BlockIo> Ext2<D> {
    /// Block and byte offset of inode `ino` in its group's inode table.
    fn inode_location(&self, ino: u32) -> Result<(u32, usize)> {
        if ino == 0 || ino > self.sb.inodes_count {
            return Err(Error::Corrupt("inode number out of range"));
        }
        let g = (ino - 1) / self.sb.inodes_per_group;
        let index = (ino - 1) % self.sb.inodes_per_group;
        let off = u64::from(index) * u64::from(self.sb.inode_size);
        let bs = u64::from(self.sb.block_size);
        let block = u64::from(self.gd.inode_table(g)) + off / bs;
        let block = u32::try_from(block).map_err(|_| Error::Corrupt("inode table"))?;
        Ok((block, usize::try_from(off % bs).map_err(|_| Error::Corrupt("inode table"))?))
    }

    /// Sets `large_file` in the superblock, writing it at once (Linux:
    /// `ext2_update_dynamic_rev` and `EXT2_SET_RO_COMPAT_FEATURE` in
    /// `__ext2_write_inode`).
    fn need_large_file(&mut self) -> Result<()> {
        if self.sb.feature_ro_compat() & RO_COMPAT_LARGE_FILE != 0 {
            return Ok(());
        }
        if self.sb.rev_level() == 0 {
            // Revision 1 fields with revision 0's values.
            self.sb.set_rev_level(1);
            wr32(&mut self.sb.raw, 84, 11);
            wr16(&mut self.sb.raw, 88, 128);
        }
        self.sb.set_feature_ro_compat(self.sb.feature_ro_compat() | RO_COMPAT_LARGE_FILE);
        self.write_super()
    }

    /// Reads inode `ino` (Linux: `ext2_iget`).
    pub fn read_inode(&mut self, ino: u32) -> Result<Inode> {
        let (block, off) = self.inode_location(ino)?;
        let buf = self.read_buf(block)?;
        let size = self.sb.inode_size as usize;
        let raw = buf.get(off..off + size).ok_or(Error::Corrupt("inode table"))?.to_vec();
        Ok(Inode::decode(ino, raw))
    }

    /// Writes `inode` back to its slot (Linux: `__ext2_write_inode`). The
    /// first regular file past 2 GiB turns on `large_file` (upgrading a
    /// revision 0 superblock to revision 1 first), as Linux does.
    pub fn write_inode(&mut self, inode: &Inode) -> Result<()> {
        self.check_writable()?;
        if inode.is_reg() && inode.size > 0x7fff_ffff {
            self.need_large_file()?;
        }
        let (block, off) = self.inode_location(inode.ino)?;
        let mut buf = self.read_buf(block)?;
        let raw = inode.encode();
        buf.get_mut(off..off + raw.len())
            .ok_or(Error::Corrupt("inode table"))?
            .copy_from_slice(&raw);
        self.dev.write_block(block, &buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdev_round_trips_in_both_encodings() {
        let mut i = Inode::new(12, 256);
        for (major, minor, old) in
            [(1, 3, true), (255, 255, true), (300, 70000, false), (4095, 0xfffff, false)]
        {
            i.set_rdev(major, minor);
            assert_eq!(i.rdev(), (major, minor));
            assert_eq!(i.block[0] != 0, old && (major, minor) != (0, 0));
        }
        // Linux's new_encode_dev of (8, 300): minor low byte, major, minor high bits.
        i.set_rdev(8, 300);
        assert_eq!(i.block[1], (300 & 0xff) | (8 << 8) | ((300 & !0xff) << 12));
    }

    #[test]
    fn encode_keeps_unknown_bytes() {
        let mut raw = vec![0u8; 256];
        raw[130..140].fill(0x5a);
        raw[36] = 7;
        let mut i = Inode::decode(5, raw.clone());
        i.size = (1 << 32) + 5;
        i.uid = 0x1234_5678;
        let out = i.encode();
        assert_eq!(out[130..140], raw[130..140]);
        assert_eq!(out[36], 7);
        let back = Inode::decode(5, out);
        assert_eq!((back.size, back.uid), ((1 << 32) + 5, 0x1234_5678));
    }
}

//! Directories as linear lists of variable-length entries, one block at a
//! time: validation, lookup, readdir, adding, removing and retargeting
//! entries. Each block is checked whole before it is used or changed.
//!
//! Linux: fs/ext2/dir.c (`ext2_check_page`, `ext2_find_entry`,
//! `ext2_add_link`, `ext2_delete_entry`, `ext2_set_link`,
//! `ext2_empty_dir`, `ext2_readdir`).
//!
//! # Locking
//! None inside; see the crate header.

use crate::inode::{
    INDEX_FL, Inode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK,
};
use crate::layout::{rd16, rd32, wr16, wr32};
use crate::{BlockIo, Error, Ext2, NAME_LEN, Result};
use alloc::vec::Vec;

/// The type byte of a directory entry (Linux: `EXT2_FT_*`), also `DT_*` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Unknown,
    Regular,
    Dir,
    CharDev,
    BlockDev,
    Fifo,
    Socket,
    Symlink,
}

impl FileType {
    pub(crate) fn from_raw(b: u8) -> Self {
        match b {
            1 => FileType::Regular,
            2 => FileType::Dir,
            3 => FileType::CharDev,
            4 => FileType::BlockDev,
            5 => FileType::Fifo,
            6 => FileType::Socket,
            7 => FileType::Symlink,
            _ => FileType::Unknown,
        }
    }

    pub(crate) fn to_raw(self) -> u8 {
        self as u8
    }

    /// The type of an `st_mode`.
    pub fn from_mode(mode: u16) -> Self {
        match mode & crate::inode::S_IFMT {
            S_IFREG => FileType::Regular,
            S_IFDIR => FileType::Dir,
            S_IFCHR => FileType::CharDev,
            S_IFBLK => FileType::BlockDev,
            S_IFIFO => FileType::Fifo,
            S_IFSOCK => FileType::Socket,
            S_IFLNK => FileType::Symlink,
            _ => FileType::Unknown,
        }
    }

    /// The `DT_*` value for `getdents64` (Linux: `fs_ftype_to_dtype`).
    pub fn dt(self) -> u8 {
        match self {
            FileType::Unknown => 0,
            FileType::Fifo => 1,
            FileType::CharDev => 2,
            FileType::Dir => 4,
            FileType::BlockDev => 6,
            FileType::Regular => 8,
            FileType::Symlink => 10,
            FileType::Socket => 12,
        }
    }
}

/// Space an entry with a name of `len` bytes needs (Linux: `EXT2_DIR_REC_LEN`).
fn rec_len_for(len: usize) -> usize {
    (8 + len + 3) & !3
}

/// One entry, located in its block.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dirent {
    pub off: usize,
    pub ino: u32,
    pub rec_len: usize,
    pub name_len: usize,
    pub ftype: u8,
}

/// Where a found entry is: its directory block and the previous entry.
pub(crate) struct Found {
    pub block: u32,
    pub buf: Vec<u8>,
    pub de: Dirent,
    pub prev: Option<Dirent>,
}

impl<D: BlockIo> Ext2<D> {
    fn parse_dirent(&self, buf: &[u8], off: usize) -> Result<Dirent> {
        let rec_len = usize::from(rd16(buf, off + 4));
        let name_len = if self.sb.has_filetype() {
            usize::from(buf.get(off + 6).copied().unwrap_or(0))
        } else {
            usize::from(rd16(buf, off + 6))
        };
        let ftype = if self.sb.has_filetype() { buf.get(off + 7).copied().unwrap_or(0) } else { 0 };
        let ino = rd32(buf, off);
        if rec_len < 12 || rec_len % 4 != 0 || off + rec_len > buf.len() {
            return Err(Error::Corrupt("directory entry rec_len"));
        }
        if rec_len < rec_len_for(name_len) {
            return Err(Error::Corrupt("directory entry name_len"));
        }
        if ino > self.sb.inodes_count {
            return Err(Error::Corrupt("directory entry inode out of range"));
        }
        Ok(Dirent { off, ino, rec_len, name_len, ftype })
    }

    /// All entries of a directory block, or `Corrupt` if any is bad
    /// (Linux: `ext2_check_page`).
    pub(crate) fn dir_block_entries(&self, buf: &[u8]) -> Result<Vec<Dirent>> {
        let mut v = Vec::new();
        let mut off = 0;
        while off < buf.len() {
            let de = self.parse_dirent(buf, off)?;
            off += de.rec_len;
            v.push(de);
        }
        Ok(v)
    }

    /// Number of blocks of directory `dir`, checking its size.
    fn dir_blocks(&self, dir: &Inode) -> Result<u32> {
        if !dir.is_dir() {
            return Err(Error::NotDir);
        }
        let bs = u64::from(self.sb.block_size);
        if !dir.size.is_multiple_of(bs) {
            return Err(Error::Corrupt("directory size not a multiple of the block size"));
        }
        // Directories have no holes: every block is allocated, so i_blocks
        // and the device bound the walk even when i_size is damaged.
        let n = dir.size / bs;
        if n > u64::from(dir.blocks) / (bs / 512) || n > u64::from(self.sb.blocks_count) {
            return Err(Error::Corrupt("directory size beyond its blocks"));
        }
        u32::try_from(n).map_err(|_| Error::Corrupt("directory too large"))
    }

    /// Reads directory block `lblock`; a hole is corruption.
    fn read_dir_block(
        &mut self,
        dir: &mut Inode,
        lblock: u32,
    ) -> Result<(u32, Vec<u8>, Vec<Dirent>)> {
        let m = self.bmap(dir, lblock, false)?.ok_or(Error::Corrupt("hole in directory"))?;
        let buf = self.read_buf(m.block)?;
        let entries = self.dir_block_entries(&buf)?;
        Ok((m.block, buf, entries))
    }

    /// Finds `name` in `dir` (Linux: `ext2_find_entry`).
    pub(crate) fn find_entry(&mut self, dir: &mut Inode, name: &[u8]) -> Result<Option<Found>> {
        for lblock in 0..self.dir_blocks(dir)? {
            let (block, buf, entries) = self.read_dir_block(dir, lblock)?;
            let mut prev = None;
            for de in entries {
                if de.ino != 0 && buf.get(de.off + 8..de.off + 8 + de.name_len) == Some(name) {
                    return Ok(Some(Found { block, buf, de, prev }));
                }
                prev = Some(de);
            }
        }
        Ok(None)
    }

    /// Looks `name` up in directory `dir_ino`: its inode and type.
    pub fn lookup(&mut self, dir_ino: u32, name: &[u8]) -> Result<Option<(u32, FileType)>> {
        let mut dir = self.read_inode(dir_ino)?;
        let Some(f) = self.find_entry(&mut dir, name)? else { return Ok(None) };
        let mut ft = FileType::from_raw(f.de.ftype);
        if ft == FileType::Unknown {
            ft = FileType::from_mode(self.read_inode(f.de.ino)?.mode);
        }
        Ok(Some((f.de.ino, ft)))
    }

    /// Calls `f(name, ino, type, next_pos)` for each entry at or after byte
    /// `pos`, until it returns false (Linux: `ext2_readdir`). A `pos` inside
    /// an entry resumes at the next one. Types are `Unknown` without `filetype`.
    pub fn readdir(
        &mut self,
        dir_ino: u32,
        pos: u64,
        mut f: impl FnMut(&[u8], u32, FileType, u64) -> bool,
    ) -> Result<()> {
        let mut dir = self.read_inode(dir_ino)?;
        let bs = u64::from(self.sb.block_size);
        let first = u32::try_from(pos / bs).unwrap_or(u32::MAX);
        for lblock in first..self.dir_blocks(&dir)? {
            let (_, buf, entries) = self.read_dir_block(&mut dir, lblock)?;
            let base = u64::from(lblock) * bs;
            for de in entries {
                if base + (de.off as u64) < pos || de.ino == 0 {
                    continue;
                }
                let name = buf.get(de.off + 8..de.off + 8 + de.name_len).unwrap_or(&[]);
                let next = base + (de.off + de.rec_len) as u64;
                if !f(name, de.ino, FileType::from_raw(de.ftype), next) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn write_dirent(
        &self,
        buf: &mut [u8],
        off: usize,
        ino: u32,
        rec_len: usize,
        name: &[u8],
        ft: FileType,
    ) {
        wr32(buf, off, ino);
        wr16(buf, off + 4, u16::try_from(rec_len).unwrap_or(0));
        if self.sb.has_filetype() {
            if let Some(b) = buf.get_mut(off + 6) {
                *b = u8::try_from(name.len()).unwrap_or(0);
            }
            if let Some(b) = buf.get_mut(off + 7) {
                *b = ft.to_raw();
            }
        } else {
            wr16(buf, off + 6, u16::try_from(name.len()).unwrap_or(0));
        }
        if let Some(d) = buf.get_mut(off + 8..off + 8 + name.len()) {
            d.copy_from_slice(name);
        }
    }

    /// Adds entry `name` → `ino` to `dir`, in the first gap big enough or in
    /// a new block, then updates and writes `dir` (Linux: `ext2_add_link`,
    /// which also clears `EXT2_INDEX_FL`). Fails with `Exists` if present.
    pub(crate) fn add_entry(
        &mut self,
        dir: &mut Inode,
        name: &[u8],
        ino: u32,
        ft: FileType,
        now: u32,
    ) -> Result<()> {
        check_name(name)?;
        let need = rec_len_for(name.len());
        let mut slot = None;
        for lblock in 0..self.dir_blocks(dir)? {
            let (block, buf, entries) = self.read_dir_block(dir, lblock)?;
            for de in entries {
                if de.ino != 0 && buf.get(de.off + 8..de.off + 8 + de.name_len) == Some(name) {
                    return Err(Error::Exists);
                }
                let used = if de.ino == 0 { 0 } else { rec_len_for(de.name_len) };
                if slot.is_none() && de.rec_len >= used + need {
                    slot = Some((block, de, used));
                }
            }
        }
        let (block, mut buf, off, rec_len) = match slot {
            Some((block, de, used)) => {
                let mut buf = self.read_buf(block)?;
                if used > 0 {
                    wr16(&mut buf, de.off + 4, u16::try_from(used).unwrap_or(0));
                }
                (block, buf, de.off + used, de.rec_len - used)
            }
            None => {
                let lblock = self.dir_blocks(dir)?;
                let m = self.bmap(dir, lblock, true)?.ok_or(Error::Corrupt("bmap"))?;
                dir.size += u64::from(self.sb.block_size);
                let bs = self.sb.block_size as usize;
                (m.block, alloc::vec![0u8; bs], 0, bs)
            }
        };
        self.write_dirent(&mut buf, off, ino, rec_len, name, ft);
        self.dev.write_block(block, &buf)?;
        dir.mtime = now;
        dir.ctime = now;
        dir.flags &= !INDEX_FL;
        self.write_inode(dir)
    }

    /// Removes the entry found by `find_entry`, merging it into the previous
    /// one (Linux: `ext2_delete_entry`), and writes `dir`.
    pub(crate) fn delete_entry(&mut self, dir: &mut Inode, f: Found, now: u32) -> Result<()> {
        let mut buf = f.buf;
        match f.prev {
            Some(p) => {
                wr16(&mut buf, p.off + 4, u16::try_from(p.rec_len + f.de.rec_len).unwrap_or(0))
            }
            None => wr32(&mut buf, f.de.off, 0),
        }
        self.dev.write_block(f.block, &buf)?;
        dir.mtime = now;
        dir.ctime = now;
        dir.flags &= !INDEX_FL;
        self.write_inode(dir)
    }

    /// Points the found entry at `ino` (Linux: `ext2_set_link`), and writes `dir`.
    pub(crate) fn set_entry(
        &mut self,
        dir: &mut Inode,
        f: Found,
        ino: u32,
        ft: FileType,
        now: u32,
    ) -> Result<()> {
        let mut buf = f.buf;
        wr32(&mut buf, f.de.off, ino);
        if self.sb.has_filetype()
            && let Some(b) = buf.get_mut(f.de.off + 7)
        {
            *b = ft.to_raw();
        }
        self.dev.write_block(f.block, &buf)?;
        dir.mtime = now;
        dir.ctime = now;
        dir.flags &= !INDEX_FL;
        self.write_inode(dir)
    }

    /// Whether `dir` holds nothing but `.` and `..` (Linux: `ext2_empty_dir`).
    pub(crate) fn dir_is_empty(&mut self, dir: &mut Inode) -> Result<bool> {
        for lblock in 0..self.dir_blocks(dir)? {
            let (_, buf, entries) = self.read_dir_block(dir, lblock)?;
            for de in entries {
                let name = buf.get(de.off + 8..de.off + 8 + de.name_len).unwrap_or(&[]);
                if de.ino != 0 && name != b"." && name != b".." {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// A new directory's first block: `.` and `..`.
    pub(crate) fn init_dir_block(&self, ino: u32, parent: u32) -> Vec<u8> {
        let bs = self.sb.block_size as usize;
        let mut buf = alloc::vec![0u8; bs];
        self.write_dirent(&mut buf, 0, ino, 12, b".", FileType::Dir);
        self.write_dirent(&mut buf, 12, parent, bs - 12, b"..", FileType::Dir);
        buf
    }
}

/// A name may not be empty, `.`, `..`, longer than 255 bytes, or hold `/` or NUL.
pub(crate) fn check_name(name: &[u8]) -> Result<()> {
    if name.len() > NAME_LEN {
        return Err(Error::NameTooLong);
    }
    if name.is_empty() || name == b"." || name == b".." || name.iter().any(|&c| c == b'/' || c == 0)
    {
        return Err(Error::Invalid);
    }
    Ok(())
}

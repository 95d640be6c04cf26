//! File data in cluster chains: reading, writing with cluster allocation
//! (a write past the end fills the gap with zeros: FAT has no holes), and
//! changing the size (Linux: fs/fat/inode.c `fat_get_block`,
//! `fat_write_begin`, `fat_cont_expand`; fs/fat/file.c `fat_truncate_blocks`).
//!
//! A file is its first cluster and its size, both kept in its directory
//! entry by the caller: these functions take them and return the new ones.
//! The largest file is 4 GiB - 1 bytes (Linux: `s_maxbytes`); a chain
//! always has exactly the clusters its size needs, as `fsck.vfat` checks.
//!
//! # Locking
//! None: called under the caller's serialization of `&mut Fat`.
#![forbid(unsafe_code)]

use alloc::vec::Vec;

use crate::{BlockIo, Error, Fat, Result};

/// Linux: `s_maxbytes` of a FAT super block.
pub const MAX_FILE_SIZE: u64 = 0xFFFF_FFFF;

/// A file's first cluster and size after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub start: u32,
    pub size: u32,
}

impl<D: BlockIo> Fat<D> {
    /// Copies between `buf` and the file bytes `[off, off + buf.len())`,
    /// which `chain` covers; `write` says the direction.
    fn copy_data(&mut self, chain: &[u32], off: u64, buf: &mut [u8], write: bool) -> Result<()> {
        let ss = u64::from(self.geo.sector_size);
        let cs = u64::from(self.geo.cluster_size());
        let mut sector = self.sector_buf();
        let mut done = 0usize;
        while done < buf.len() {
            let p = off + done as u64;
            let c = usize::try_from(p / cs).ok().and_then(|i| chain.get(i)).ok_or(Error::Io)?;
            let s = self.geo.cluster_sector(*c) + (p % cs) / ss;
            let at = usize::try_from(p % ss).unwrap_or(0);
            let n = (sector.len() - at).min(buf.len() - done);
            if write {
                if n < sector.len() {
                    self.dev.read_sector(s, &mut sector)?;
                }
                sector[at..at + n].copy_from_slice(&buf[done..done + n]);
                self.dev.write_sector(s, &sector)?;
            } else {
                self.dev.read_sector(s, &mut sector)?;
                buf[done..done + n].copy_from_slice(&sector[at..at + n]);
            }
            done += n;
        }
        Ok(())
    }

    /// The chain of a file of `size` bytes from `start`, checked to hold
    /// exactly the clusters that size needs.
    fn file_chain(&mut self, start: u32, size: u32) -> Result<Vec<u32>> {
        let chain = self.chain(start)?;
        let need = u64::from(size).div_ceil(u64::from(self.geo.cluster_size()));
        if (chain.len() as u64) < need {
            return Err(Error::Corrupt("file size beyond its clusters"));
        }
        Ok(chain)
    }

    /// Reads file bytes at `off` into `buf`; returns how many (0 at the end).
    pub fn read(&mut self, start: u32, size: u32, off: u64, buf: &mut [u8]) -> Result<usize> {
        let left = u64::from(size).saturating_sub(off);
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        if n == 0 {
            return Ok(0);
        }
        let chain = self.file_chain(start, size)?;
        self.copy_data(&chain, off, &mut buf[..n], false)?;
        Ok(n)
    }

    /// Grows `chain` to `need` clusters; on a full disk, stops short.
    fn grow_chain(&mut self, chain: &mut Vec<u32>, need: usize) -> Result<()> {
        while chain.len() < need {
            chain.try_reserve(1).map_err(|_| Error::NoSpace)?;
            match self.alloc_cluster(chain.last().copied()) {
                Ok(c) => chain.push(c),
                Err(Error::NoSpace) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Writes `data` at `off`, allocating clusters and zero-filling a gap
    /// after the old end. Returns the new extent and the bytes written,
    /// fewer than asked when the disk fills (0: `ENOSPC`) or the write
    /// reaches the largest file size (0 at it: `EFBIG`).
    pub fn write(
        &mut self,
        start: u32,
        size: u32,
        off: u64,
        data: &[u8],
    ) -> Result<(Extent, usize)> {
        if off >= MAX_FILE_SIZE && !data.is_empty() {
            return Err(Error::TooBig);
        }
        let len = usize::try_from(MAX_FILE_SIZE - off.min(MAX_FILE_SIZE))
            .unwrap_or(usize::MAX)
            .min(data.len());
        let mut chain = self.file_chain(start, size)?;
        let cs = u64::from(self.geo.cluster_size());
        let end = off + len as u64;
        let need = usize::try_from(end.div_ceil(cs)).map_err(|_| Error::TooBig)?;
        self.grow_chain(&mut chain, need)?;
        let room = chain.len() as u64 * cs;
        let start = chain.first().copied().unwrap_or(0);
        let mut size = u64::from(size);
        // The gap between the old end and `off`, as far as it fits.
        let gap_end = off.min(room);
        while size < gap_end {
            let n = usize::try_from((gap_end - size).min(4096)).unwrap_or(4096);
            let mut zeros = [0u8; 4096];
            self.copy_data(&chain, size, &mut zeros[..n], true)?;
            size += n as u64;
        }
        let n = usize::try_from(room.saturating_sub(off)).unwrap_or(usize::MAX).min(len);
        let mut tmp = Vec::new();
        tmp.try_reserve_exact(n).map_err(|_| Error::NoSpace)?;
        tmp.extend_from_slice(&data[..n]);
        self.copy_data(&chain, off, &mut tmp, true)?;
        if n > 0 {
            size = size.max(off + n as u64);
        }
        let size = u32::try_from(size).map_err(|_| Error::TooBig)?;
        // Clusters allocated past what was written (a full disk) go back.
        let used = usize::try_from(u64::from(size).div_ceil(cs)).unwrap_or(chain.len());
        let start = self.cut_chain(&chain, used, start)?;
        Ok((Extent { start, size }, n))
    }

    /// Keeps the first `keep` clusters of `chain`, frees the rest; returns
    /// the new first cluster (0 if none kept).
    fn cut_chain(&mut self, chain: &[u32], keep: usize, start: u32) -> Result<u32> {
        if keep >= chain.len() {
            return Ok(start);
        }
        if keep > 0 {
            self.set_eof(chain[keep - 1])?;
        }
        self.free_chain_list(&chain[keep..])?;
        Ok(if keep == 0 { 0 } else { start })
    }

    /// Changes a file's size (Linux: `fat_setattr` → `fat_cont_expand` to
    /// grow with zeros, `fat_truncate_blocks` to shrink).
    pub fn truncate(&mut self, start: u32, size: u32, new_size: u64) -> Result<Extent> {
        if new_size > MAX_FILE_SIZE {
            return Err(Error::TooBig);
        }
        let new = u32::try_from(new_size).map_err(|_| Error::TooBig)?;
        if new > size {
            let (ext, _) = self.write(start, size, new_size, &[])?;
            if ext.size < new {
                // The disk filled: give back what the gap took.
                self.truncate(ext.start, ext.size, u64::from(size))?;
                return Err(Error::NoSpace);
            }
            return Ok(ext);
        }
        let chain = self.file_chain(start, size)?;
        let keep = usize::try_from(u64::from(new).div_ceil(u64::from(self.geo.cluster_size())))
            .unwrap_or(chain.len());
        let start = self.cut_chain(&chain, keep, start)?;
        Ok(Extent { start, size: new })
    }
}

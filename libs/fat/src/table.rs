//! The file allocation table: reading and writing entries of 12, 16 or
//! 28 bits, following and cutting chains, allocating and freeing
//! clusters, counting free ones (Linux: fs/fat/fatent.c `fat_ent_read`,
//! `fat_ent_write`, `fat_alloc_clusters`, `fat_free_clusters`,
//! `fat_count_free_clusters`; fs/fat/cache.c `fat_get_cluster`).
//!
//! Every FAT copy is written on each change, so the copies never differ
//! (`fsck.vfat` compares them). One sector of the first FAT is cached.
//!
//! # Locking
//! None: called under the caller's serialization of `&mut Fat`.
#![forbid(unsafe_code)]

use alloc::vec::Vec;

use crate::bpb::FAT_START_ENT;
use crate::{BlockIo, Error, Fat, Result};

/// A FAT entry's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FatEnt {
    Free,
    Next(u32),
    Eof,
    /// A bad-cluster mark or a reserved value inside a chain.
    Bad,
}

impl<D: BlockIo> Fat<D> {
    /// The sector of the first FAT holding byte `off` of the table, and
    /// the offset in it.
    fn fat_pos(&self, off: u64) -> (u64, usize) {
        let ss = u64::from(self.geo.sector_size);
        #[expect(clippy::cast_possible_truncation, reason = "below the sector size")]
        (u64::from(self.geo.fat_start) + off / ss, (off % ss) as usize)
    }

    fn fat_sector(&mut self, sector: u64) -> Result<&mut Vec<u8>> {
        if self.fat_cache.as_ref().is_none_or(|(s, _)| *s != sector) {
            let mut buf = self.sector_buf();
            self.dev.read_sector(sector, &mut buf)?;
            self.fat_cache = Some((sector, buf));
        }
        match &mut self.fat_cache {
            Some((_, buf)) => Ok(buf),
            None => Err(Error::Io),
        }
    }

    fn fat_read_bytes(&mut self, off: u64, out: &mut [u8]) -> Result<()> {
        for (i, b) in out.iter_mut().enumerate() {
            let (sector, at) = self.fat_pos(off + i as u64);
            *b = *self.fat_sector(sector)?.get(at).ok_or(Error::Io)?;
        }
        Ok(())
    }

    /// Writes `bytes` at table offset `off` in every FAT copy.
    fn fat_write_bytes(&mut self, off: u64, bytes: &[u8]) -> Result<()> {
        for (i, &b) in bytes.iter().enumerate() {
            let (sector, at) = self.fat_pos(off + i as u64);
            *self.fat_sector(sector)?.get_mut(at).ok_or(Error::Io)? = b;
            // Written out before the cache moves to another sector.
            let next = (i + 1 < bytes.len()).then(|| self.fat_pos(off + i as u64 + 1).0);
            if next != Some(sector) {
                self.flush_fat_sector(sector)?;
            }
        }
        Ok(())
    }

    fn flush_fat_sector(&mut self, sector: u64) -> Result<()> {
        let Some((s, buf)) = &self.fat_cache else { return Err(Error::Io) };
        if *s != sector {
            return Err(Error::Io);
        }
        let buf = buf.clone();
        for copy in 0..self.geo.fat_count {
            let at = sector + u64::from(copy) * u64::from(self.geo.fat_length);
            self.dev.write_sector(at, &buf)?;
        }
        Ok(())
    }

    /// The raw value of entry `c` (FAT32: the low 28 bits).
    fn ent_raw(&mut self, c: u32) -> Result<u32> {
        let c64 = u64::from(c);
        Ok(match self.geo.fat_bits {
            12 => {
                let mut b = [0u8; 2];
                self.fat_read_bytes(c64 + c64 / 2, &mut b)?;
                let v = u32::from(u16::from_le_bytes(b));
                if c & 1 == 1 { v >> 4 } else { v & 0xFFF }
            }
            16 => {
                let mut b = [0u8; 2];
                self.fat_read_bytes(c64 * 2, &mut b)?;
                u32::from(u16::from_le_bytes(b))
            }
            _ => {
                let mut b = [0u8; 4];
                self.fat_read_bytes(c64 * 4, &mut b)?;
                u32::from_le_bytes(b) & 0x0FFF_FFFF
            }
        })
    }

    /// Sets entry `c` to `v` (FAT32 keeps the top 4 bits, as the
    /// specification asks).
    fn ent_write(&mut self, c: u32, v: u32) -> Result<()> {
        let c64 = u64::from(c);
        match self.geo.fat_bits {
            12 => {
                let off = c64 + c64 / 2;
                let mut b = [0u8; 2];
                self.fat_read_bytes(off, &mut b)?;
                let old = u32::from(u16::from_le_bytes(b));
                let new = if c & 1 == 1 {
                    (old & 0x000F) | ((v & 0xFFF) << 4)
                } else {
                    (old & 0xF000) | (v & 0xFFF)
                };
                #[expect(clippy::cast_possible_truncation, reason = "16 bits by construction")]
                self.fat_write_bytes(off, &(new as u16).to_le_bytes())
            }
            #[expect(clippy::cast_possible_truncation, reason = "FAT16 values are 16 bits")]
            16 => self.fat_write_bytes(c64 * 2, &(v as u16).to_le_bytes()),
            _ => {
                let mut b = [0u8; 4];
                self.fat_read_bytes(c64 * 4, &mut b)?;
                let new = (u32::from_le_bytes(b) & 0xF000_0000) | (v & 0x0FFF_FFFF);
                self.fat_write_bytes(c64 * 4, &new.to_le_bytes())
            }
        }
    }

    /// The end-of-chain mark written (Linux: `FAT_ENT_EOF` per width).
    fn eof_mark(&self) -> u32 {
        match self.geo.fat_bits {
            12 => 0xFFF,
            16 => 0xFFFF,
            _ => 0x0FFF_FFFF,
        }
    }

    /// What entry `c` says (Linux: `fat_ent_read`).
    pub(crate) fn fat_ent_read(&mut self, c: u32) -> Result<FatEnt> {
        if !self.geo.is_data_cluster(c) {
            return Err(Error::Corrupt("cluster number out of range"));
        }
        let v = self.ent_raw(c)?;
        let eof_min = match self.geo.fat_bits {
            12 => 0xFF8,
            16 => 0xFFF8,
            _ => 0x0FFF_FFF8,
        };
        Ok(if v == 0 {
            FatEnt::Free
        } else if v >= eof_min {
            FatEnt::Eof
        } else if self.geo.is_data_cluster(v) {
            FatEnt::Next(v)
        } else {
            FatEnt::Bad
        })
    }

    /// The clusters of the chain starting at `start` (empty for 0), in
    /// order (Linux: `fat_get_cluster` walking the whole chain).
    pub fn chain(&mut self, start: u32) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        if start == 0 {
            return Ok(out);
        }
        let mut c = start;
        loop {
            if out.len() as u64 >= u64::from(self.geo.clusters) {
                return Err(Error::Corrupt("cluster chain loops"));
            }
            out.try_reserve(1).map_err(|_| Error::NoSpace)?;
            out.push(c);
            match self.fat_ent_read(c)? {
                FatEnt::Next(n) => c = n,
                FatEnt::Eof => return Ok(out),
                FatEnt::Free | FatEnt::Bad => return Err(Error::Corrupt("bad cluster chain")),
            }
        }
    }

    /// Free clusters, counted once then kept up to date (Linux:
    /// `fat_count_free_clusters`).
    pub(crate) fn free_clusters(&mut self) -> Result<u32> {
        if let Some(n) = self.free_count {
            return Ok(n);
        }
        let mut free = 0;
        for c in FAT_START_ENT..FAT_START_ENT + self.geo.clusters {
            if self.ent_raw(c)? == 0 {
                free += 1;
            }
        }
        self.free_count = Some(free);
        Ok(free)
    }

    /// Allocates one cluster, marked end of chain, linked after `prev`
    /// if given (Linux: `fat_alloc_clusters` for one). The cluster's data
    /// is not touched.
    pub(crate) fn alloc_cluster(&mut self, prev: Option<u32>) -> Result<u32> {
        if self.free_clusters()? == 0 {
            return Err(Error::NoSpace);
        }
        let n = self.geo.clusters;
        let start = self.prev_free.saturating_sub(FAT_START_ENT) % n;
        for i in 0..n {
            let c = FAT_START_ENT + (start + i) % n;
            if self.ent_raw(c)? == 0 {
                self.ent_write(c, self.eof_mark())?;
                if let Some(p) = prev {
                    self.ent_write(p, c)?;
                }
                self.prev_free = c;
                self.free_count = self.free_count.map(|f| f.saturating_sub(1));
                return Ok(c);
            }
        }
        // The count was wrong: recount next time.
        self.free_count = Some(0);
        Err(Error::NoSpace)
    }

    /// Frees the chain `clusters` (from [`chain`](Self::chain)).
    pub(crate) fn free_chain_list(&mut self, clusters: &[u32]) -> Result<()> {
        for &c in clusters {
            self.ent_write(c, 0)?;
            self.free_count = self.free_count.map(|f| f.saturating_add(1));
        }
        Ok(())
    }

    /// Frees the whole chain starting at `start` (Linux: `fat_free_clusters`).
    pub fn free_chain(&mut self, start: u32) -> Result<()> {
        let clusters = self.chain(start)?;
        self.free_chain_list(&clusters)
    }

    /// Ends a chain at `last` (Linux: `fat_ent_write(..., FAT_ENT_EOF)`).
    pub(crate) fn set_eof(&mut self, last: u32) -> Result<()> {
        self.ent_write(last, self.eof_mark())
    }

    /// Zeroes the data of cluster `c` (a new directory cluster).
    pub(crate) fn zero_cluster(&mut self, c: u32) -> Result<()> {
        let zero = self.sector_buf();
        let first = self.geo.cluster_sector(c);
        for s in 0..u64::from(self.geo.sectors_per_cluster) {
            self.dev.write_sector(first + s, &zero)?;
        }
        Ok(())
    }
}

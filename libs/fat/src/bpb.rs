//! The boot sector's BIOS parameter block: where the FATs, the root
//! directory and the data clusters lie, checked before anything is read
//! through it (Linux: fs/fat/inode.c `fat_read_bpb`, `fat_fill_super`).
//!
//! The FAT width follows Linux, not Microsoft's specification: FAT32 when
//! the 16-bit FAT length is zero and the 32-bit one is not (busybox's
//! `mkdosfs` makes FAT32 volumes of a few thousand clusters), otherwise
//! FAT16 above 4084 clusters and FAT12 below.
//!
//! # Locking
//! None: plain values, computed once at mount.
#![forbid(unsafe_code)]

use crate::{Error, Result};

/// Most clusters of a FAT12 volume (Linux: `MAX_FAT12`).
pub const MAX_FAT12: u32 = 0xFF4;
/// Most clusters of a FAT16 volume (Linux: `MAX_FAT16`).
pub const MAX_FAT16: u32 = 0xFFF4;
/// Most clusters of a FAT32 volume (Linux: `MAX_FAT32`).
pub const MAX_FAT32: u32 = 0x0FFF_FFF6;
/// The first data cluster's number (Linux: `FAT_START_ENT`).
pub const FAT_START_ENT: u32 = 2;

/// The layout of one volume, in sectors unless named otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub sector_size: u32,
    pub sectors_per_cluster: u32,
    /// 12, 16 or 32.
    pub fat_bits: u32,
    pub fat_start: u32,
    pub fat_count: u32,
    pub fat_length: u32,
    /// FAT12/16: the fixed root directory's first sector and entry count.
    pub root_start: u32,
    pub root_entries: u32,
    pub data_start: u32,
    /// Data clusters: valid cluster numbers are `2..clusters + 2`.
    pub clusters: u32,
    /// FAT32: the root directory's first cluster and the FSInfo sector.
    pub root_cluster: u32,
    pub fsinfo_sector: Option<u32>,
    pub total_sectors: u32,
    /// The volume serial number (`BS_VolID`), for `statfs`'s `f_fsid`.
    pub serial: u32,
}

fn le16(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 2).map_or(0, |s| u32::from(u16::from_le_bytes([s[0], s[1]])))
}

fn le32(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Linux: `FAT_VALID_MEDIA`.
fn valid_media(media: u8) -> bool {
    media >= 0xF8 || media == 0xF0
}

impl Geometry {
    /// Parses and checks the boot sector `bs` (at least 512 bytes); every
    /// refusal is `Corrupt` naming the field, as Linux's messages do.
    pub fn parse(bs: &[u8]) -> Result<Self> {
        if bs.len() < 512 {
            return Err(Error::Io);
        }
        let sector_size = le16(bs, 11);
        let sectors_per_cluster = u32::from(bs[13]);
        let reserved = le16(bs, 14);
        let fat_count = u32::from(bs[16]);
        let root_entries = le16(bs, 17);
        let total16 = le16(bs, 19);
        let media = bs[21];
        let fat16_length = le16(bs, 22);
        let total32 = le32(bs, 32);
        let fat32_length = le32(bs, 36);
        if reserved == 0 {
            return Err(Error::Corrupt("bogus number of reserved sectors"));
        }
        if fat_count == 0 {
            return Err(Error::Corrupt("bogus number of FAT structure"));
        }
        if !valid_media(media) {
            return Err(Error::Corrupt("invalid media value"));
        }
        if !sector_size.is_power_of_two() || !(512..=4096).contains(&sector_size) {
            return Err(Error::Corrupt("bogus logical sector size"));
        }
        if !sectors_per_cluster.is_power_of_two() {
            return Err(Error::Corrupt("bogus sectors per cluster"));
        }
        if sector_size * sectors_per_cluster > 64 * 1024 {
            return Err(Error::Unsupported("cluster size above 64 KiB"));
        }
        let total_sectors = if total16 != 0 { total16 } else { total32 };
        let fat32 = fat16_length == 0 && fat32_length != 0;
        let fat_length = if fat32 { fat32_length } else { fat16_length };
        if fat_length == 0 {
            return Err(Error::Corrupt("bogus number of FAT sectors"));
        }
        let (root_entries, root_cluster, fsinfo_sector, serial_off) = if fat32 {
            let fsinfo = le16(bs, 48);
            let fsinfo = (fsinfo != 0 && fsinfo < reserved).then_some(fsinfo);
            (0, le32(bs, 44), fsinfo, 67)
        } else {
            if root_entries == 0 || !(root_entries * 32).is_multiple_of(sector_size) {
                return Err(Error::Corrupt("bogus number of directory entries"));
            }
            (root_entries, 0, None, 39)
        };
        let root_sectors = root_entries * 32 / sector_size;
        let fat_start = reserved;
        let fats_end = fat_length
            .checked_mul(fat_count)
            .and_then(|n| n.checked_add(fat_start))
            .ok_or(Error::Corrupt("bogus number of FAT sectors"))?;
        let data_start =
            fats_end.checked_add(root_sectors).ok_or(Error::Corrupt("bogus directory entries"))?;
        if data_start >= total_sectors {
            return Err(Error::Corrupt("bogus number of total sectors"));
        }
        let mut clusters = (total_sectors - data_start) / sectors_per_cluster;
        let fat_bits = if fat32 {
            32
        } else if clusters > MAX_FAT12 {
            16
        } else {
            12
        };
        // Clusters the FAT has room for (Linux: `calc_fat_clusters`).
        let fat_entries = u64::from(fat_length) * u64::from(sector_size) * 8 / u64::from(fat_bits);
        let fat_clusters = u32::try_from(fat_entries.saturating_sub(2)).unwrap_or(u32::MAX);
        clusters = clusters.min(fat_clusters);
        let max = match fat_bits {
            12 => MAX_FAT12,
            16 => MAX_FAT16,
            _ => MAX_FAT32,
        };
        if clusters == 0 || clusters > max {
            return Err(Error::Corrupt("count of clusters too big"));
        }
        if fat32 && !(FAT_START_ENT..clusters + FAT_START_ENT).contains(&root_cluster) {
            return Err(Error::Corrupt("bogus root cluster"));
        }
        Ok(Geometry {
            sector_size,
            sectors_per_cluster,
            fat_bits,
            fat_start,
            fat_count,
            fat_length,
            root_start: fats_end,
            root_entries,
            data_start,
            clusters,
            root_cluster,
            fsinfo_sector,
            total_sectors,
            serial: le32(bs, serial_off),
        })
    }

    /// Bytes in one cluster.
    pub fn cluster_size(&self) -> u32 {
        self.sector_size * self.sectors_per_cluster
    }

    /// Whether `c` names a data cluster.
    pub fn is_data_cluster(&self, c: u32) -> bool {
        c >= FAT_START_ENT && c - FAT_START_ENT < self.clusters
    }

    /// The first sector of data cluster `c` (checked by the caller).
    pub fn cluster_sector(&self, c: u32) -> u64 {
        u64::from(self.data_start)
            + u64::from(c - FAT_START_ENT) * u64::from(self.sectors_per_cluster)
    }
}

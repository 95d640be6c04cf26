//! The FAT file system (vfat: FAT12, FAT16 and FAT32 with long names) as
//! pure logic over a sector device: boot-sector validation, the cluster
//! tables, directories with VFAT long names and 8.3 short names, file
//! data in cluster chains, producing volumes `fsck.vfat -n` accepts.
//!
//! Key types: [`Fat`] (one mounted volume), [`BlockIo`] (what the caller
//! supplies: sector reads and writes), [`DirRef`] (a directory, by its
//! first cluster), [`DirEntry`] and [`RawEntry`] (a name and its short
//! entry), [`Error`].
//!
//! Linux: fs/fat/ (inode.c, fatent.c, dir.c, namei_vfat.c, file.c,
//! misc.c). FAT has no inodes: a file is its directory entry, found again
//! by the entry's byte position on the disk ([`DirEntry::pos`], Linux's
//! `i_pos`), and its data starts at the entry's first cluster.
//!
//! Every number read from the disk is untrusted: a bad image gives
//! [`Error::Corrupt`] for the operation that met it, never a panic;
//! cluster chains are followed at most as many steps as there are
//! clusters, so a loop ends as corruption.
//!
//! # Locking
//! None inside. Every operation takes `&mut Fat`, so the caller
//! serializes them (the kernel holds one sleeping mutex per volume).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod bpb;
mod dir;
mod file;
mod name;
mod table;
mod time;

use alloc::vec;
use alloc::vec::Vec;

pub use bpb::{FAT_START_ENT, Geometry};
pub use dir::{DirEntry, DirRef, RawEntry};
pub use file::{Extent, MAX_FILE_SIZE};
pub use name::{lfn_checksum, short_name_display};
pub use time::{fat_to_unix, unix_to_fat};

/// Read-only (Linux: `ATTR_RO`).
pub const ATTR_RO: u8 = 0x01;
/// Hidden (Linux: `ATTR_HIDDEN`).
pub const ATTR_HIDDEN: u8 = 0x02;
/// System (Linux: `ATTR_SYS`).
pub const ATTR_SYS: u8 = 0x04;
/// Volume label (Linux: `ATTR_VOLUME`).
pub const ATTR_VOLUME: u8 = 0x08;
/// Directory (Linux: `ATTR_DIR`).
pub const ATTR_DIR: u8 = 0x10;
/// Archive: changed since the last backup (Linux: `ATTR_ARCH`).
pub const ATTR_ARCH: u8 = 0x20;
/// A long-name slot (Linux: `ATTR_EXT`).
pub const ATTR_EXT: u8 = 0x0F;
/// Longest long name, in UTF-16 units (Linux: `FAT_LFN_LEN`).
pub const FAT_LFN_LEN: usize = 255;

/// Whether `a` and `b` name the same entry: equal but for ASCII case and
/// trailing dots and spaces (Linux: `vfat_cmpi`).
pub fn name_matches(a: &[u8], b: &[u8]) -> bool {
    match (name::to_unicode(a), name::to_unicode(b)) {
        (Ok(x), Ok(y)) => name::eq_ignore_case(&x, &y),
        _ => a == b,
    }
}

/// Why an operation failed; each variant names the errno the kernel returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The device failed a read or write: `EIO`.
    Io,
    /// The image is inconsistent (named for the log): `EUCLEAN`, `EINVAL` at mount.
    Corrupt(&'static str),
    /// The image uses something this crate does not implement: `EINVAL` at mount.
    Unsupported(&'static str),
    /// No free cluster or directory slot: `ENOSPC`.
    NoSpace,
    /// No such name: `ENOENT`.
    NotFound,
    /// The name exists: `EEXIST`.
    Exists,
    /// The directory has entries besides `.` and `..`: `ENOTEMPTY`.
    NotEmpty,
    /// A name longer than 255 UTF-16 units: `ENAMETOOLONG`.
    NameTooLong,
    /// A name with characters FAT forbids, or not UTF-8: `EINVAL`.
    Invalid,
    /// An offset past 4 GiB - 1, FAT's largest file: `EFBIG`.
    TooBig,
}

/// Result of every fallible operation in this crate.
pub type Result<T> = core::result::Result<T, Error>;

/// Sector access supplied by the caller (the kernel: its buffer cache).
///
/// `buf.len()` is the sector size; sector `n` starts at byte
/// `n * buf.len()`. The boot sector is read with 512 bytes, everything
/// after with the volume's sector size.
pub trait BlockIo {
    /// Reads sector `sector` into `buf`.
    fn read_sector(&mut self, sector: u64, buf: &mut [u8]) -> Result<()>;
    /// Writes `buf` to sector `sector`.
    fn write_sector(&mut self, sector: u64, buf: &[u8]) -> Result<()>;
}

/// Volume totals for `statfs(2)` (Linux: `fat_statfs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatFs {
    pub cluster_size: u32,
    pub clusters: u32,
    pub free_clusters: u32,
    pub serial: u32,
}

/// One mounted volume (Linux: `struct msdos_sb_info`).
pub struct Fat<D: BlockIo> {
    dev: D,
    geo: Geometry,
    /// Free clusters, counted on first need (Linux: `free_clusters`, -1
    /// until `fat_count_free_clusters`).
    free_count: Option<u32>,
    /// Where the next allocation starts looking (Linux: `prev_free`).
    prev_free: u32,
    /// One FAT sector, written through to every FAT copy.
    fat_cache: Option<(u64, Vec<u8>)>,
}

impl<D: BlockIo> Fat<D> {
    /// Reads and checks the boot sector (Linux: `fat_fill_super`).
    pub fn mount(mut dev: D) -> Result<Self> {
        let mut bs = vec![0u8; 512];
        dev.read_sector(0, &mut bs)?;
        let geo = Geometry::parse(&bs)?;
        let mut fat = Fat { dev, geo, free_count: None, prev_free: FAT_START_ENT, fat_cache: None };
        fat.read_fsinfo()?;
        // The root's chain must be followable (Linux: `fat_read_root`).
        if geo.fat_bits == 32 {
            fat.chain(geo.root_cluster)?;
        }
        Ok(fat)
    }

    /// The volume's layout.
    pub fn geometry(&self) -> &Geometry {
        &self.geo
    }

    /// Bytes per cluster.
    pub fn cluster_size(&self) -> u32 {
        self.geo.cluster_size()
    }

    /// Writes the FSInfo sector (FAT32) with the free count (Linux:
    /// `fat_clusters_flush`); the caller then flushes its cache.
    pub fn sync(&mut self) -> Result<()> {
        let Some(sector) = self.geo.fsinfo_sector else { return Ok(()) };
        let Some(free) = self.free_count else { return Ok(()) };
        let mut buf = self.sector_buf();
        self.dev.read_sector(u64::from(sector), &mut buf)?;
        if !fsinfo_valid(&buf) {
            return Ok(());
        }
        buf[488..492].copy_from_slice(&free.to_le_bytes());
        buf[492..496].copy_from_slice(&self.prev_free.to_le_bytes());
        self.dev.write_sector(u64::from(sector), &buf)
    }

    /// Writes what is pending and returns the device.
    pub fn unmount(mut self) -> Result<D> {
        self.sync()?;
        Ok(self.dev)
    }

    /// Totals for `statfs`.
    pub fn statfs(&mut self) -> Result<StatFs> {
        let free = self.free_clusters()?;
        Ok(StatFs {
            cluster_size: self.cluster_size(),
            clusters: self.geo.clusters,
            free_clusters: free,
            serial: self.geo.serial,
        })
    }

    fn sector_buf(&self) -> Vec<u8> {
        vec![0u8; self.geo.sector_size as usize]
    }

    /// Takes the FSInfo hint of the next free cluster (Linux:
    /// `fat_fill_super` reading `struct fat_boot_fsinfo`); its free count
    /// is not trusted, it is counted again on first need.
    fn read_fsinfo(&mut self) -> Result<()> {
        let Some(sector) = self.geo.fsinfo_sector else { return Ok(()) };
        let mut buf = self.sector_buf();
        self.dev.read_sector(u64::from(sector), &mut buf)?;
        if fsinfo_valid(&buf) {
            let next = u32::from_le_bytes([buf[492], buf[493], buf[494], buf[495]]);
            if self.geo.is_data_cluster(next) {
                self.prev_free = next;
            }
        }
        Ok(())
    }
}

/// Linux: `IS_FSINFO`: both signatures present.
fn fsinfo_valid(buf: &[u8]) -> bool {
    buf.len() >= 512 && buf[0..4] == *b"RRaA" && buf[484..488] == *b"rrAa"
}

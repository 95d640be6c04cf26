//! The second extended file system (ext2) as pure logic over a block device:
//! mount-time validation, inodes, block maps with direct and indirect
//! blocks, linear directories, and block/inode allocation, producing images
//! that `e2fsck -fn` accepts, exactly as Debian's `mke2fs -t ext2` lays them
//! out (1, 2 or 4 KiB blocks; `filetype`, `sparse_super`, `large_file`,
//! `ext_attr`, `resize_inode`, `dir_index`).
//!
//! Key types: [`Ext2`] (one mounted file system), [`BlockIo`] (what the
//! caller supplies: block reads and writes), [`Inode`], [`Error`].
//!
//! Linux: fs/ext2/ (super.c, inode.c, dir.c, namei.c, balloc.c, ialloc.c).
//! Directories are always written linearly; writing into an htree
//! (`EXT2_INDEX_FL`) directory clears the flag, as Linux's ext2 does.
//!
//! Every number read from the disk is untrusted: a bad image gives
//! [`Error::Corrupt`] for the operation that met it, checked before that
//! operation writes anything, never a panic.
//!
//! # Locking
//! None inside. Every operation takes `&mut Ext2`, so the caller serializes
//! them (the kernel holds one sleeping mutex around the instance).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod alloc_bits;
mod bmap;
mod dir;
mod inode;
mod layout;
mod namei;
mod trim;
mod xattr;

use alloc::vec;
use alloc::vec::Vec;
use layout::{GroupDescs, Superblock};

pub use bmap::Mapped;
pub use dir::FileType;
pub use inode::{Inode, N_BLOCKS};
pub use namei::{Creds, SetAttr};
pub use trim::TrimRange;
pub use xattr::{XATTR_INDEX_USER, Xattr, XattrMode};

/// Inode number of the root directory (Linux: `EXT2_ROOT_INO`).
pub const ROOT_INO: u32 = 2;
/// Most hard links an inode may have (Linux: `EXT2_LINK_MAX`).
pub const LINK_MAX: u16 = 32000;
/// Longest name in a directory entry (Linux: `EXT2_NAME_LEN`).
pub const NAME_LEN: usize = 255;
/// `rename` flag: fail if the target exists (Linux: `RENAME_NOREPLACE`).
pub const RENAME_NOREPLACE: u32 = 1;

/// Why an operation failed; each variant names the errno the kernel returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The device failed a read or write: `EIO`.
    Io,
    /// The image is inconsistent (named for the log): `EUCLEAN`.
    Corrupt(&'static str),
    /// The image uses a feature this crate does not implement: `EINVAL` at mount.
    Unsupported(&'static str),
    /// No free block or inode: `ENOSPC`.
    NoSpace,
    /// No such name: `ENOENT`.
    NotFound,
    /// The name exists: `EEXIST`.
    Exists,
    /// A path component or the target is not a directory: `ENOTDIR`.
    NotDir,
    /// The operation needs a non-directory: `EISDIR`.
    IsDir,
    /// The directory has entries besides `.` and `..`: `ENOTEMPTY`.
    NotEmpty,
    /// A name longer than 255 bytes, or a symlink longer than a block: `ENAMETOOLONG`.
    NameTooLong,
    /// An offset past the largest file the block map reaches: `EFBIG`.
    TooBig,
    /// Mounted read-only: `EROFS`.
    ReadOnly,
    /// A bad argument (rename into its own subtree, unknown flags, bad name): `EINVAL`.
    Invalid,
    /// Too many hard links: `EMLINK`.
    TooManyLinks,
    /// Hard link to a directory: `EPERM`.
    NotPermitted,
}

/// Result of every fallible operation in this crate.
pub type Result<T> = core::result::Result<T, Error>;

/// Block access supplied by the caller (the kernel: its buffer cache).
///
/// `buf.len()` is the block size; block `n` starts at byte `n * buf.len()`.
/// Before the superblock is known the crate reads one 1024-byte block (the
/// superblock at byte 1024); afterwards it always uses the file system's
/// block size.
pub trait BlockIo {
    /// Reads block `block` into `buf`.
    fn read_block(&mut self, block: u32, buf: &mut [u8]) -> Result<()>;
    /// Writes `buf` to block `block`.
    fn write_block(&mut self, block: u32, buf: &[u8]) -> Result<()>;
}

/// File system totals for `statfs(2)` (Linux: `ext2_statfs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatFs {
    /// Block size in bytes.
    pub block_size: u32,
    /// Blocks less the metadata overhead, as Linux's default `bsddf` reports.
    pub blocks: u32,
    /// Free blocks.
    pub blocks_free: u32,
    /// Free blocks less those reserved for root.
    pub blocks_avail: u32,
    /// Inodes.
    pub files: u32,
    /// Free inodes.
    pub files_free: u32,
    /// Longest name.
    pub name_len: u32,
    /// Folded from the UUID, as Linux does.
    pub fsid: u64,
}

/// A mounted ext2 file system (Linux: `struct ext2_sb_info`).
pub struct Ext2<D: BlockIo> {
    dev: D,
    sb: Superblock,
    gd: GroupDescs,
    read_only: bool,
    /// Why the mount is read-only although read-write was asked, if it is.
    ro_reason: Option<&'static str>,
    /// `s_state` found at mount, restored at unmount (Linux: `s_mount_state`).
    mount_state: u16,
    /// Per group: every free block trimmed since the last free (Linux:
    /// `EXT4_GROUP_INFO_WAS_TRIMMED`); see trim.rs.
    trimmed: Vec<bool>,
    /// `minlen` of the last whole FITRIM (Linux: `s_last_trim_minblks`).
    last_trim_minlen: u32,
}

impl<D: BlockIo> Ext2<D> {
    /// Reads and validates the superblock and group descriptors. An unknown
    /// INCOMPAT feature refuses the mount; an unknown RO_COMPAT feature mounts
    /// read-only (see [`Ext2::forced_read_only`]). Read-write, it marks the
    /// file system not clean and counts the mount, as `ext2_setup_super` does.
    pub fn mount(mut dev: D, read_only: bool, now: u32) -> Result<Self> {
        let mut raw = vec![0u8; layout::SB_SIZE];
        dev.read_block(1, &mut raw)?;
        let sb = Superblock::parse(raw)?;
        if sb.feature_incompat() & !layout::INCOMPAT_SUPP != 0 {
            return Err(Error::Unsupported("unknown INCOMPAT feature"));
        }
        let bs = sb.block_size as usize;
        let mut gd = GroupDescs { raw: vec![0u8; sb.desc_blocks as usize * bs] };
        for i in 0..sb.desc_blocks {
            let start = i as usize * bs;
            let chunk = gd.raw.get_mut(start..start + bs).ok_or(Error::Corrupt("gdt"))?;
            dev.read_block(sb.first_data_block + 1 + i, chunk)?;
        }
        gd.check(&sb)?;
        let ro_reason = (sb.feature_ro_compat() & !layout::RO_COMPAT_SUPP != 0)
            .then_some("unknown RO_COMPAT feature");
        let mount_state = sb.state();
        let trimmed = vec![false; sb.groups_count as usize];
        let mut fs = Ext2 {
            dev,
            sb,
            gd,
            read_only: read_only || ro_reason.is_some(),
            ro_reason: if read_only { None } else { ro_reason },
            mount_state,
            trimmed,
            last_trim_minlen: 0,
        };
        if !fs.read_only {
            fs.setup_super(now)?;
        }
        Ok(fs)
    }

    /// Counts a read-write mount and marks the file system not clean on
    /// the disk (Linux: `ext2_setup_super`).
    fn setup_super(&mut self, now: u32) -> Result<()> {
        if self.sb.max_mnt_count() == 0 {
            self.sb.set_max_mnt_count(20);
        }
        self.sb.set_mnt_count(self.sb.mnt_count().wrapping_add(1));
        self.sb.set_mtime(now);
        self.sb.set_state(self.mount_state & !layout::STATE_VALID);
        self.sync_super(now)
    }

    /// Switches between read-only and read-write (Linux: `ext2_remount`).
    /// To read-only: writes the superblock with the state found at mount
    /// (clean if it was), as unmount does. To read-write: `Unsupported` for
    /// an unknown RO_COMPAT feature, else the state found now is kept for
    /// the next unmount and the mount is counted and marked not clean.
    pub fn remount(&mut self, read_only: bool, now: u32) -> Result<()> {
        if read_only == self.read_only {
            return Ok(());
        }
        if read_only {
            self.sb.set_state(self.mount_state);
            self.sync_super(now)?;
            self.read_only = true;
            return Ok(());
        }
        if self.sb.feature_ro_compat() & !layout::RO_COMPAT_SUPP != 0 {
            return Err(Error::Unsupported("unknown RO_COMPAT feature"));
        }
        self.mount_state = self.sb.state();
        self.read_only = false;
        self.ro_reason = None;
        let set_up = self.setup_super(now);
        if set_up.is_err() {
            self.read_only = true;
        }
        set_up
    }

    /// Whether the file system refuses writes.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Why a read-write mount became read-only, if it did (for the log).
    pub fn forced_read_only(&self) -> Option<&'static str> {
        self.ro_reason
    }

    /// Block size in bytes.
    pub fn block_size(&self) -> u32 {
        self.sb.block_size
    }

    /// Writes the group descriptors and the primary superblock with free
    /// counts summed from the descriptors (Linux: `ext2_sync_super`). Backup
    /// copies are left as they are, as Linux leaves them.
    pub fn sync_super(&mut self, now: u32) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        let (mut fb, mut fi) = (0u32, 0u32);
        for g in 0..self.sb.groups_count {
            fb = fb.saturating_add(u32::from(self.gd.free_blocks(g)));
            fi = fi.saturating_add(u32::from(self.gd.free_inodes(g)));
        }
        self.sb.set_free_blocks(fb);
        self.sb.set_free_inodes(fi);
        self.sb.set_wtime(now);
        for i in 0..self.sb.desc_blocks {
            self.write_gdt_block(i)?;
        }
        self.write_super()
    }

    /// Syncs, restores the clean state found at mount, and gives the device
    /// back (Linux: `ext2_put_super`).
    pub fn unmount(mut self, now: u32) -> Result<D> {
        if !self.read_only {
            self.sb.set_state(self.mount_state);
            self.sync_super(now)?;
        }
        Ok(self.dev)
    }

    /// File system totals (Linux: `ext2_statfs`).
    pub fn statfs(&self) -> StatFs {
        let sb = &self.sb;
        let mut overhead = sb.first_data_block;
        for g in 0..sb.groups_count {
            if sb.group_has_super(g) {
                overhead = overhead.saturating_add(1 + sb.desc_blocks);
            }
        }
        overhead = overhead.saturating_add(sb.groups_count.saturating_mul(2 + sb.itb_per_group));
        let (mut free, mut ffree) = (0u32, 0u32);
        for g in 0..sb.groups_count {
            free = free.saturating_add(u32::from(self.gd.free_blocks(g)));
            ffree = ffree.saturating_add(u32::from(self.gd.free_inodes(g)));
        }
        let u = sb.uuid();
        let lo = u64::from(
            u32::from_le_bytes([u[0], u[1], u[2], u[3]])
                ^ u32::from_le_bytes([u[8], u[9], u[10], u[11]]),
        );
        let hi = u64::from(
            u32::from_le_bytes([u[4], u[5], u[6], u[7]])
                ^ u32::from_le_bytes([u[12], u[13], u[14], u[15]]),
        );
        StatFs {
            block_size: sb.block_size,
            blocks: sb.blocks_count.saturating_sub(overhead),
            blocks_free: free,
            blocks_avail: free.saturating_sub(sb.r_blocks()),
            files: sb.inodes_count,
            files_free: ffree,
            name_len: 255,
            fsid: lo | (hi << 32),
        }
    }

    fn write_super(&mut self) -> Result<()> {
        let bs = self.sb.block_size as usize;
        let blk = u32::from(bs == layout::SB_OFFSET);
        let off = layout::SB_OFFSET % bs;
        let mut buf = self.read_buf(blk)?;
        if let Some(dst) = buf.get_mut(off..off + layout::SB_SIZE) {
            dst.copy_from_slice(&self.sb.raw);
        }
        self.dev.write_block(blk, &buf)
    }

    fn write_gdt_block(&mut self, i: u32) -> Result<()> {
        let bs = self.sb.block_size as usize;
        let start = i as usize * bs;
        let chunk = self.gd.raw.get(start..start + bs).ok_or(Error::Corrupt("gdt"))?;
        self.dev.write_block(self.sb.first_data_block + 1 + i, chunk)
    }

    /// Writes the descriptor block holding group `g`'s descriptor.
    fn write_group_desc(&mut self, g: u32) -> Result<()> {
        self.write_gdt_block(g / (self.sb.block_size / layout::DESC_SIZE_U32))
    }

    fn read_buf(&mut self, block: u32) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; self.sb.block_size as usize];
        self.dev.read_block(block, &mut buf)?;
        Ok(buf)
    }

    fn check_writable(&self) -> Result<()> {
        if self.read_only { Err(Error::ReadOnly) } else { Ok(()) }
    }

    /// Checks a block number read from the disk names a data block: inside
    /// the device and not the superblock, descriptors, bitmaps or inode
    /// tables (Linux: `ext2_data_block_valid`).
    fn check_data_block(&self, b: u32) -> Result<u32> {
        let sb = &self.sb;
        if b < sb.first_data_block || b >= sb.blocks_count {
            return Err(Error::Corrupt("block number out of range"));
        }
        let g = (b - sb.first_data_block) / sb.blocks_per_group;
        if b - sb.group_first_block(g) < sb.group_sb_blocks(g)
            || self.gd.is_group_metadata(sb, g, b)
        {
            return Err(Error::Corrupt("block pointer into metadata"));
        }
        Ok(b)
    }
}

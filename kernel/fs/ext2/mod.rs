//! ext2, the second extended file system, mounted from a disk (Linux:
//! fs/ext2/super.c `ext2_fill_super`, `ext2_put_super`, `ext2_sync_fs`,
//! `ext2_statfs`, `ext2_write_inode`, `ext2_evict_inode`).
//!
//! The on-disk logic is the `ext2` library (libs/ext2): one [`Ext2`]
//! instance per mount, reading and writing whole blocks through the
//! buffer cache (fs/buffer.rs `BufferCacheIo`). This module is the glue:
//! the `ext2` [`FileSystemType`], a [`SuperBlock`] with the disk's `s_dev`
//! and block size, the inode cache ([`Ext2Sb::icache`], one `Arc<Inode>`
//! per inode number), and the super operations. inode.rs builds VFS inodes
//! from disk inodes and writes them back, file.rs moves file data through
//! each inode's page cache, namei.rs and dir.rs are the directory
//! operations.
//!
//! Who owns what: the disk inode holds the block map, the link count and
//! `i_blocks`; the VFS inode holds a regular file's size (writes grow it in
//! memory first), its times, mode and owners, merged into the disk inode
//! by `write_inode`. After each namespace change the affected VFS inodes
//! are refreshed from the disk.
//!
//! Freeing unlinked inodes (Linux: `ext2_evict_inode` from `iput_final`)
//! cannot happen in `Inode::drop`, which may run under a spinlock. The
//! inode cache keeps a strong reference to every inode it handed out, and
//! [`prune_icache`] frees, under the instance mutex, those no one else
//! holds: unlinked ones on the disk, clean linked ones from memory. It
//! runs before each namespace change, at every `write_inode` of the
//! flusher, at `sync` and at unmount; closing the last descriptor of an
//! unlinked file dirties the root directory so the flusher gets there.
//! The cache's strong references make a cycle (inode → super block →
//! cache → inode) that the last unmount breaks (`put_super`), which then
//! drops the disk's clean cached blocks (Linux: `kill_bdev`).
//!
//! Read-only comes from the mount's `MS_RDONLY` or the "ro" option, or a
//! disk that refuses writes; a remount that changes it calls
//! `remount_fs` (Linux: `ext2_remount`), which marks the disk clean (to
//! read-only, after writing everything) or not clean (to read-write).
//!
//! # Locking
//! [`Ext2Sb::fs`] is a sleeping `Mutex` (locking/mod.rs S4): it serialises
//! every operation of the library, so metadata is never seen half
//! changed. It is taken under `f_pos` (S1), `s_vfs_rename_lock` (S2) and
//! `mmap_lock` (S3, a fault reading a page), never the other way round:
//! no page-cache truncation, unmapping or user copy happens under it.
//! Under it: the buffer cache and page-cache spinlocks, an inode's
//! `i_lock`, and [`Ext2Sb::icache`] (a leaf spinlock, held to look up,
//! insert or take out entries; inodes are dropped after it is released).
#![deny(unsafe_code)]

mod data;
pub mod dir;
mod direct;
pub mod file;
pub mod inode;
pub mod ioctl;
pub mod namei;
mod tests;
mod xattr;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use linux_raw_sys::general as uapi;

use ext2::{BlockIo, Ext2};

use super::buffer::{BufferCacheIo, bread, invalidate_bdev, sync_blockdev};
use super::inode::{DevT, Inode, current_time};
use super::statfs::KStatfs;
use super::super_block::{
    FileSystemType, SuperBlock, SuperOperations, SuperParams, register_filesystem,
};
use crate::block::BlockDevice;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::locking::mutex::Mutex;
use crate::{pr_err, pr_warn};

/// Linux: `EXT2_SUPER_MAGIC`.
pub const EXT2_SUPER_MAGIC: u64 = 0xEF53;

/// What the library reads and writes blocks through: the disk's buffer
/// cache (Linux: `sb_bread` + `mark_buffer_dirty`).
pub type BufDev = BufferCacheIo;

impl BlockIo for BufferCacheIo {
    fn read_block(&mut self, block: u32, buf: &mut [u8]) -> ext2::Result<()> {
        BufferCacheIo::read_block(self, u64::from(block), buf).map_err(|_| ext2::Error::Io)
    }

    fn write_block(&mut self, block: u32, buf: &[u8]) -> ext2::Result<()> {
        BufferCacheIo::write_block(self, u64::from(block), buf).map_err(|_| ext2::Error::Io)
    }
}

/// One mounted ext2 (Linux: `struct ext2_sb_info`), the super block's
/// `s_fs_info`.
pub struct Ext2Sb {
    /// The library's instance; `None` once unmounted.
    fs: Mutex<Option<Ext2<BufDev>>>,
    /// Inode number to its one VFS inode (Linux: the inode hash of
    /// `iget_locked`); strong, see the module header.
    icache: SpinLock<BTreeMap<u32, Arc<Inode>>>,
    pub disk: Arc<dyn BlockDevice>,
    /// The disk's name, for messages: "EXT2-fs (vda): ...".
    pub id: String,
    /// Remount changes it (`remount_fs`); read under no lock.
    read_only: AtomicBool,
}

/// The instance behind `sb`; `EIO` for another file system's.
pub fn ext2_sb(sb: &SuperBlock) -> KResult<&Ext2Sb> {
    sb.s_fs_info.downcast_ref::<Ext2Sb>().ok_or(Errno::EIO)
}

/// The current time as the disk stores it (32-bit seconds).
pub fn now_secs() -> u32 {
    u32::try_from(current_time().sec.max(0)).unwrap_or(u32::MAX)
}

impl Ext2Sb {
    /// Runs `f` on the locked instance; `EIO` after unmount.
    pub fn with_fs<R>(&self, f: impl FnOnce(&mut Ext2<BufDev>) -> KResult<R>) -> KResult<R> {
        let mut guard = self.fs.lock();
        f(guard.as_mut().ok_or(Errno::EIO)?)
    }

    /// The library's error as an errno, logging corruption as Linux's
    /// `ext2_error` does, with the inode it was met in.
    pub fn errno(&self, e: ext2::Error, ino: u64) -> Errno {
        match e {
            ext2::Error::Io => Errno::EIO,
            ext2::Error::Corrupt(what) => {
                pr_err!("EXT2-fs ({}): error: inode #{ino}: corrupted: {what}", self.id);
                Errno::EUCLEAN
            }
            ext2::Error::Unsupported(_) | ext2::Error::Invalid => Errno::EINVAL,
            ext2::Error::NoSpace => Errno::ENOSPC,
            ext2::Error::NotFound => Errno::ENOENT,
            ext2::Error::Exists => Errno::EEXIST,
            ext2::Error::NotDir => Errno::ENOTDIR,
            ext2::Error::IsDir => Errno::EISDIR,
            ext2::Error::NotEmpty => Errno::ENOTEMPTY,
            ext2::Error::NameTooLong => Errno::ENAMETOOLONG,
            ext2::Error::TooBig => Errno::EFBIG,
            ext2::Error::ReadOnly => Errno::EROFS,
            ext2::Error::TooManyLinks => Errno::EMLINK,
            ext2::Error::NotPermitted => Errno::EPERM,
        }
    }

    /// Whether writes are refused (Linux: `sb_rdonly`).
    pub fn read_only(&self) -> bool {
        self.read_only.load(Ordering::Acquire)
    }

    /// The cached inode `ino`, if any.
    pub fn icache_get(&self, ino: u32) -> Option<Arc<Inode>> {
        self.icache.lock().get(&ino).cloned()
    }
}

/// Frees the cached inodes no one else holds (Linux: `iput_final` →
/// `ext2_evict_inode` for the unlinked, `prune_icache_sb` for the
/// rest): an unlinked one loses its blocks and inode on the disk, a
/// clean linked one leaves memory. Called with the instance locked.
pub fn prune_icache(info: &Ext2Sb, fs: &mut Ext2<BufDev>) {
    let mut gone = Vec::new();
    {
        let mut cache = info.icache.lock();
        let idle: Vec<u32> = cache
            .iter()
            // The root stays until unmount: a second mount finds it here.
            .filter(|&(&ino, i)| {
                ino != ext2::ROOT_INO && Arc::strong_count(i) == 1 && inode::is_prunable(i)
            })
            .map(|(&ino, _)| ino)
            .collect();
        if gone.try_reserve(idle.len()).is_err() {
            return;
        }
        for ino in idle {
            if let Some(i) = cache.remove(&ino) {
                gone.push(i);
            }
        }
    }
    let now = now_secs();
    for i in &gone {
        inode::mark_evicted(i);
        if i.attr().nlink == 0
            && let Err(e) = fs.evict(inode::disk_ino(i), now)
        {
            info.errno(e, i.ino);
        }
    }
    // The inodes (and their pages) go here, with no spinlock held.
    drop(gone);
}

/// The `ext2` file-system type (Linux: `ext2_fs_type`).
pub struct Ext2FsType;
pub static EXT2_FS_TYPE: Ext2FsType = Ext2FsType;

impl FileSystemType for Ext2FsType {
    fn name(&self) -> &'static str {
        "ext2"
    }

    fn requires_dev(&self) -> bool {
        true
    }

    /// Linux: `ext2_mount` → `mount_bdev` → `ext2_fill_super`.
    fn mount(&'static self, source: &[u8], data: &[u8], sb_flags: u32) -> KResult<Arc<Inode>> {
        let read_only = parse_options(data)? || sb_flags & uapi::MS_RDONLY != 0;
        let disk = lookup_bdev(source)?;
        // A disk that refuses writes mounts read-only.
        let read_only = read_only || disk.read_only();
        if let Some(root) = mounted_root(&disk, read_only)? {
            return Ok(root);
        }
        ext2_fill_super(self, disk, read_only)
    }
}

/// The root of the instance already mounted from `disk`, if any: a second
/// mount of a disk shares its super block (Linux: `mount_bdev` → `sget`),
/// `EBUSY` if it asks for the other of read-only and read-write.
fn mounted_root(disk: &Arc<dyn BlockDevice>, read_only: bool) -> KResult<Option<Arc<Inode>>> {
    use super::super_block::super_blocks;
    for sb in super_blocks() {
        let Ok(info) = ext2_sb(&sb) else { continue };
        if info.disk.disk_name() != disk.disk_name() || info.fs.lock().is_none() {
            continue;
        }
        if info.read_only() != read_only {
            return Err(Errno::EBUSY);
        }
        return Ok(info.icache_get(ext2::ROOT_INO));
    }
    Ok(None)
}

/// The mount options: `ro`/`rw` and those Linux's ext2 accepts that need
/// nothing here; anything else is `EINVAL` (Linux: `parse_options`).
fn parse_options(data: &[u8]) -> KResult<bool> {
    const IGNORED: [&[u8]; 14] = [
        b"defaults",
        b"bsddf",
        b"grpid",
        b"bsdgroups",
        b"nogrpid",
        b"sysvgroups",
        b"nouid32",
        b"debug",
        b"oldalloc",
        b"orlov",
        b"nobh",
        b"user_xattr",
        b"nouser_xattr",
        b"noacl",
    ];
    let mut read_only = false;
    for opt in data.split(|&b| b == b',').filter(|o| !o.is_empty()) {
        match opt {
            b"ro" => read_only = true,
            b"rw" => read_only = false,
            o if o.starts_with(b"errors=") || IGNORED.contains(&o) => {}
            o => {
                let o = String::from_utf8_lossy(o);
                pr_err!("EXT2-fs: Unrecognized mount option \"{o}\" or missing value");
                return Err(Errno::EINVAL);
            }
        }
    }
    Ok(read_only)
}

/// The block device `source` names (Linux: `lookup_bdev`): a path to a
/// block-device node (`/dev/root`, or relative to the working directory),
/// else a disk's name with or without `/dev/` (`/dev/vda1`, `vda`).
/// `ENODEV` for a node of another kind
/// (Linux: `ENOTBLK`, which Ferrite's `Errno` lacks), `ENXIO` for a node
/// of no known disk, `ENOENT` for an unknown name.
pub(crate) fn lookup_bdev(source: &[u8]) -> KResult<Arc<dyn BlockDevice>> {
    use super::inode::FileType;
    use super::namei::{AT_FDCWD, LookupFlags, filename_lookup};
    if let Ok(cur) = super::current_fs()
        && let Ok(path) = filename_lookup(cur.ctx(), AT_FDCWD, source, LookupFlags::FOLLOW)
    {
        let inode = path.dentry.positive()?;
        if inode.file_type() != FileType::BlockDev {
            return Err(Errno::ENODEV);
        }
        let rdev: DevT = inode.attr().rdev;
        return crate::block::get_disk_by_devt(rdev).ok_or(Errno::ENXIO);
    }
    let name = source.strip_prefix(b"/dev/").unwrap_or(source);
    let name = core::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
    crate::block::get_disk(name).ok_or(Errno::ENOENT)
}

/// Superblock fields read before the library is asked, for Linux's
/// messages: magic, the INCOMPAT and RO_COMPAT feature words, and
/// `s_log_block_size`.
fn peek_super(disk: &Arc<dyn BlockDevice>) -> KResult<(u16, u32, u32, u32)> {
    let bh = bread(disk, 1, 1024)?;
    let raw = bh.data();
    let le16 = |o: usize| raw.get(o..o + 2).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
    let le32 =
        |o: usize| raw.get(o..o + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    Ok((le16(56), le32(96), le32(100), le32(24)))
}

/// Linux: `EXT2_FEATURE_INCOMPAT_SUPP` less meta_bg, which the library
/// does not lay out (so only filetype), and `EXT2_FEATURE_RO_COMPAT_SUPP`
/// (sparse_super, large_file, btree_dir).
const INCOMPAT_SUPP: u32 = 0x0002;
const RO_COMPAT_SUPP: u32 = 0x0001 | 0x0002 | 0x0004;

/// Reads and checks the superblock, makes the super block and the root
/// inode (Linux: `ext2_fill_super`), logging refusals as Linux does.
fn ext2_fill_super(
    fs_type: &'static Ext2FsType,
    disk: Arc<dyn BlockDevice>,
    read_only: bool,
) -> KResult<Arc<Inode>> {
    let id = String::from(disk.disk_name());
    let (magic, incompat, ro_compat, log_block_size) = peek_super(&disk)?;
    if u64::from(magic) != EXT2_SUPER_MAGIC {
        pr_err!("EXT2-fs ({id}): error: can't find an ext2 filesystem on dev {id}.");
        return Err(Errno::EINVAL);
    }
    // Blocks live in page-cache pages of the disk (Linux: `sb_set_blocksize`).
    if log_block_size > 2 {
        let size = 1024u64.checked_shl(log_block_size).unwrap_or(0);
        pr_err!("EXT2-fs ({id}): error: bad blocksize {size}");
        return Err(Errno::EINVAL);
    }
    if incompat & !INCOMPAT_SUPP != 0 {
        pr_err!(
            "EXT2-fs ({id}): error: couldn't mount because of unsupported optional features ({:x})",
            incompat & !INCOMPAT_SUPP
        );
        return Err(Errno::EINVAL);
    }
    if !read_only && ro_compat & !RO_COMPAT_SUPP != 0 {
        // Linux refuses the read-write mount and `mount_root` retries
        // read-only; Ferrite's mount cannot see the retry's read-only flag,
        // so the instance goes read-only here.
        pr_warn!(
            "EXT2-fs ({id}): warning: mounting read-only because of unsupported optional features ({:x})",
            ro_compat & !RO_COMPAT_SUPP
        );
    }
    let dev = BufferCacheIo { disk: disk.clone() };
    let fs = Ext2::mount(dev, read_only, now_secs()).map_err(|e| match e {
        ext2::Error::Corrupt(what) | ext2::Error::Unsupported(what) => {
            pr_err!("EXT2-fs ({id}): error: {what}");
            Errno::EINVAL
        }
        _ => Errno::EIO,
    })?;
    if !fs.is_read_only() {
        // Linux: `ext2_setup_super` writes the not-clean state at once.
        sync_blockdev(&disk)?;
    }
    let block_size = fs.block_size();
    let read_only = fs.is_read_only();
    let info = Ext2Sb {
        fs: Mutex::new(Some(fs)),
        icache: SpinLock::new(BTreeMap::new()),
        disk: disk.clone(),
        id,
        read_only: AtomicBool::new(read_only),
    };
    let params = SuperParams {
        s_dev: disk.devt(),
        s_magic: EXT2_SUPER_MAGIC,
        s_blocksize: block_size,
        s_op: &EXT2_SOPS,
        s_bdev: Some(disk),
    };
    let sb = SuperBlock::new(fs_type, params, Box::new(info));
    let info = ext2_sb(&sb)?;
    let root = info.with_fs(|fs| inode::iget(&sb, info, fs, ext2::ROOT_INO));
    match root {
        Ok(root) if root.is_dir() => Ok(root),
        other => {
            pr_err!("EXT2-fs ({}): error: get root inode failed", info.id);
            ext2_kill_sb(&sb);
            Err(other.err().unwrap_or(Errno::EUCLEAN))
        }
    }
}

/// Writes everything and marks the file system clean, then lets go of
/// every inode (Linux: `kill_block_super` → `generic_shutdown_super` →
/// `ext2_put_super`). Called once the last mount is gone (`put_super`
/// from fs/sync.rs `deactivate_super`), with no lock held. After a lazy unmount (`MNT_DETACH`) an inode may still be in use
/// (an open file, a working directory): Linux waits for the last user;
/// here the instance is only synced and stays usable, never marked clean.
pub fn ext2_kill_sb(sb: &SuperBlock) {
    let Ok(info) = ext2_sb(sb) else { return };
    let _ = super::sync::sync_filesystem(sb);
    let in_use = info
        .icache
        .lock()
        .iter()
        .any(|(&ino, i)| ino != ext2::ROOT_INO && Arc::strong_count(i) > 1);
    if in_use {
        pr_warn!("EXT2-fs ({}): busy at unmount: left mounted, not marked clean", info.id);
        return;
    }
    let mut guard = info.fs.lock();
    if let Some(fs) = guard.as_mut() {
        prune_icache(info, fs);
    }
    if let Some(fs) = guard.take()
        && fs.unmount(now_secs()).is_err()
    {
        pr_err!("EXT2-fs ({}): error: couldn't write the superblock at unmount", info.id);
    }
    drop(guard);
    let _ = sync_blockdev(&info.disk);
    // The next mount reads the disk (Linux: `kill_bdev` at the last
    // `blkdev_put`); file pages go with their inodes below.
    invalidate_bdev(&info.disk);
    // Breaks the inode → super block → inode cycle.
    let all = core::mem::take(&mut *info.icache.lock());
    for i in all.values() {
        inode::mark_evicted(i);
    }
    drop(all);
}

/// Linux: `ext2_sops`.
pub struct Ext2SuperOps;
pub static EXT2_SOPS: Ext2SuperOps = Ext2SuperOps;

impl SuperOperations for Ext2SuperOps {
    fn can_writeback(&self) -> bool {
        true
    }

    /// Linux: `ext2_freeze`: everything is written by `freeze_super`.
    fn can_freeze(&self) -> bool {
        true
    }

    fn write_inode(&self, inode: &Inode, _wait: bool) -> KResult<()> {
        inode::ext2_write_inode(inode)
    }

    /// Linux: `ext2_put_super`, from `deactivate_super` at the last
    /// unmount. The super block's `Drop` calls it again, possibly where
    /// sleeping is not allowed; by then (its inodes, which hold it, are
    /// gone only after an unmount) there is nothing left to do.
    fn put_super(&self, sb: &SuperBlock) {
        let Ok(info) = ext2_sb(sb) else { return };
        if info.fs.try_lock().is_some_and(|fs| fs.is_none()) {
            return;
        }
        ext2_kill_sb(sb);
    }

    /// Linux: `ext2_sync_fs`: frees what unlinked files left, writes the
    /// superblock and group descriptors into the buffer cache; the caller
    /// then writes the disk's buffers.
    fn sync_fs(&self, sb: &SuperBlock, _wait: bool) -> KResult<()> {
        let info = ext2_sb(sb)?;
        let synced = info.with_fs(|fs| {
            prune_icache(info, fs);
            fs.sync_super(now_secs()).map_err(|e| info.errno(e, 0))
        });
        // Unmounted meanwhile: nothing left to write.
        if synced == Err(Errno::EIO) && info.fs.lock().is_none() { Ok(()) } else { synced }
    }

    /// Linux: `ext2_remount`: to read-only, everything is written and the
    /// disk marked clean; to read-write, it is marked not clean and the
    /// mount counted. `EROFS` for a disk that refuses writes.
    fn remount_fs(&self, sb: &SuperBlock, readonly: bool) -> KResult<()> {
        let info = ext2_sb(sb)?;
        if readonly == info.read_only() {
            return Ok(());
        }
        if !readonly && info.disk.read_only() {
            return Err(Errno::EROFS);
        }
        if readonly {
            super::sync::sync_filesystem(sb)?;
        }
        info.with_fs(|fs| {
            let r = fs.remount(readonly, now_secs()).map_err(|e| info.errno(e, 0));
            info.read_only.store(fs.is_read_only(), Ordering::Release);
            r
        })?;
        sync_blockdev(&info.disk)
    }

    /// Linux: `ext2_statfs`.
    fn statfs(&self, sb: &SuperBlock) -> KResult<KStatfs> {
        let info = ext2_sb(sb)?;
        let st = info.with_fs(|fs| Ok(fs.statfs()))?;
        let bs = u64::from(st.block_size);
        #[expect(clippy::cast_possible_truncation, reason = "the two halves of fsid, as Linux")]
        let fsid = [st.fsid as u32 as i32, (st.fsid >> 32) as u32 as i32];
        Ok(KStatfs {
            f_type: EXT2_SUPER_MAGIC,
            f_bsize: bs,
            f_blocks: u64::from(st.blocks),
            f_bfree: u64::from(st.blocks_free),
            f_bavail: u64::from(st.blocks_avail),
            f_files: u64::from(st.files),
            f_ffree: u64::from(st.files_free),
            f_fsid: fsid,
            f_namelen: u64::from(st.name_len),
            f_frsize: bs,
            f_flags: 0,
        })
    }
}

/// Registers ext2 (Linux: `init_ext2_fs`).
pub fn init_ext2_fs() -> KResult<()> {
    register_filesystem(&EXT2_FS_TYPE)
}

//! vfat, the FAT file system with long names, mounted from a disk
//! (Linux: fs/fat/inode.c `fat_fill_super`, `fat_put_super`,
//! `fat_statfs`, `parse_options`; fs/fat/namei_vfat.c `vfat_fs_type`).
//!
//! The on-disk logic is the `fat` library (libs/fat): one [`Fat`]
//! instance per mount, reading and writing sectors through the buffer
//! cache. This module is the glue: the `vfat` [`FileSystemType`], the
//! mount options (`uid=`, `gid=`, `umask=`, `fmask=`, `dmask=` and those
//! that need nothing here), a [`SuperBlock`], the inode cache and the
//! super operations. inode.rs makes VFS inodes from directory entries,
//! namei.rs has the directory operations, file.rs reading, writing,
//! listing and the attribute ioctls.
//!
//! FAT has no inodes: a file is its directory entry, found by the entry's
//! position on the disk (Linux: `i_pos`), which [`FatSb::icache`] maps to
//! the one VFS inode. Inode numbers are handed out at first use, as
//! Linux's `iunique` does; the root is 1 (Linux: `MSDOS_ROOT_INO`).
//! Every change is written through to the directory entry at once (into
//! the buffer cache, written back by sync and unmount), so inodes are
//! never dirty.
//!
//! An unlinked file keeps its clusters while it is open: the cache holds
//! a strong reference to every inode, and [`prune_icache`] frees those no
//! one else holds, giving back an unlinked one's clusters; it runs before
//! each namespace change, at statfs, sync and unmount (as ext2's does, see
//! fs/ext2/mod.rs).
//!
//! Not done: the `msdos` type (8.3 names only), `mmap` of FAT files (no
//! page cache: reads and writes go through the buffer cache), the dirty
//! bit in the boot sector, code pages other than ASCII for short names.
//!
//! # Locking
//! [`FatSb::fs`] is a sleeping `Mutex` (locking/mod.rs S4, as ext2's):
//! it serialises every call into the library. It is taken under `f_pos`
//! (S1), `s_vfs_rename_lock` (S2) and an inode's `i_rwsem` (S2a). Under
//! it only spinlocks: the buffer cache's, an inode's `i_lock`, a
//! [`inode::FatInode`]'s state and [`FatSb::icache`] (leaves).
#![deny(unsafe_code)]

mod file;
mod inode;
mod namei;
mod tests;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use linux_raw_sys::general as uapi;

use fat::{BlockIo, Fat};

use super::buffer::{BufferCacheIo, invalidate_bdev, sync_blockdev};
use super::dcache::Dentry;
use super::inode::Inode;
use super::proc::generic::SeqBuf;
use super::statfs::KStatfs;
use super::super_block::{
    FileSystemType, SuperBlock, SuperOperations, SuperParams, register_filesystem,
};
use crate::block::BlockDevice;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::locking::mutex::Mutex;
use crate::{pr_err, pr_warn};

/// Linux: `MSDOS_SUPER_MAGIC`.
pub const MSDOS_SUPER_MAGIC: u64 = uapi::MSDOS_SUPER_MAGIC as u64;
/// The root directory's inode number (Linux: `MSDOS_ROOT_INO`).
pub const MSDOS_ROOT_INO: u64 = 1;

/// Sectors through the buffer cache (Linux: `sb_bread`).
pub type BufDev = BufferCacheIo;

impl BlockIo for BufferCacheIo {
    fn read_sector(&mut self, sector: u64, buf: &mut [u8]) -> fat::Result<()> {
        BufferCacheIo::read_block(self, sector, buf).map_err(|_| fat::Error::Io)
    }

    fn write_sector(&mut self, sector: u64, buf: &[u8]) -> fat::Result<()> {
        BufferCacheIo::write_block(self, sector, buf).map_err(|_| fat::Error::Io)
    }
}

/// The mount options (Linux: `struct fat_mount_options`).
#[derive(Clone, Copy, Debug)]
pub struct FatOptions {
    pub fs_uid: u32,
    pub fs_gid: u32,
    pub fs_fmask: u32,
    pub fs_dmask: u32,
    pub read_only: bool,
}

/// One mounted volume (Linux: `struct msdos_sb_info`), the super
/// block's `s_fs_info`.
pub struct FatSb {
    /// The library's instance; `None` once unmounted.
    fs: Mutex<Option<Fat<BufDev>>>,
    /// Directory-entry position to its VFS inode (the root at 0); strong,
    /// see the module header.
    icache: SpinLock<BTreeMap<u64, Arc<Inode>>>,
    pub disk: Arc<dyn BlockDevice>,
    /// The disk's name, for messages: "FAT-fs (vda1): ...".
    pub id: String,
    pub opts: FatOptions,
    /// The next inode number to hand out (Linux: `iunique`).
    next_ino: AtomicU64,
    /// Writes are refused: the mount option, or a remount (`remount_fs`).
    read_only: AtomicBool,
}

/// The instance behind `sb`; `EIO` for another file system's.
pub fn fat_sb(sb: &SuperBlock) -> KResult<&FatSb> {
    sb.s_fs_info.downcast_ref::<FatSb>().ok_or(Errno::EIO)
}

impl FatSb {
    /// Runs `f` on the locked instance; `EIO` after unmount.
    pub fn with_fs<R>(&self, f: impl FnOnce(&mut Fat<BufDev>) -> KResult<R>) -> KResult<R> {
        let mut guard = self.fs.lock();
        f(guard.as_mut().ok_or(Errno::EIO)?)
    }

    /// The library's error as an errno, logging corruption as Linux's
    /// `fat_fs_error` does.
    pub fn errno(&self, e: fat::Error) -> Errno {
        match e {
            fat::Error::Io => Errno::EIO,
            fat::Error::Corrupt(what) => {
                pr_err!("FAT-fs ({}): error: {what}", self.id);
                Errno::EUCLEAN
            }
            fat::Error::Unsupported(_) | fat::Error::Invalid => Errno::EINVAL,
            fat::Error::NoSpace => Errno::ENOSPC,
            fat::Error::NotFound => Errno::ENOENT,
            fat::Error::Exists => Errno::EEXIST,
            fat::Error::NotEmpty => Errno::ENOTEMPTY,
            fat::Error::NameTooLong => Errno::ENAMETOOLONG,
            fat::Error::TooBig => Errno::EFBIG,
        }
    }

    /// `EROFS` on a read-only mount.
    pub fn check_writable(&self) -> KResult<()> {
        if self.read_only() { Err(Errno::EROFS) } else { Ok(()) }
    }

    /// Whether writes are refused (Linux: `sb_rdonly`).
    pub fn read_only(&self) -> bool {
        self.read_only.load(Ordering::Acquire)
    }

    /// The cached inode of the entry at `pos`, if any.
    pub fn icache_get(&self, pos: u64) -> Option<Arc<Inode>> {
        self.icache.lock().get(&pos).cloned()
    }

    /// A fresh inode number.
    pub fn iunique(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed)
    }
}

/// Frees the cached inodes no one else holds (Linux: `iput_final` →
/// `fat_evict_inode` for the unlinked, whose clusters go back): called
/// with the instance locked.
pub fn prune_icache(info: &FatSb, fs: &mut Fat<BufDev>) {
    let mut gone = Vec::new();
    {
        let mut cache = info.icache.lock();
        let idle: Vec<u64> = cache
            .iter()
            .filter(|&(&pos, i)| pos != 0 && Arc::strong_count(i) == 1)
            .map(|(&pos, _)| pos)
            .collect();
        if gone.try_reserve(idle.len()).is_err() {
            return;
        }
        for pos in idle {
            if let Some(i) = cache.remove(&pos) {
                gone.push(i);
            }
        }
    }
    for i in &gone {
        inode::evict(info, fs, i);
    }
    // The inodes go here, with no spinlock held.
    drop(gone);
}

/// The `vfat` file-system type (Linux: `vfat_fs_type`).
pub struct VfatFsType;
pub static VFAT_FS_TYPE: VfatFsType = VfatFsType;

impl FileSystemType for VfatFsType {
    fn name(&self) -> &'static str {
        "vfat"
    }

    fn requires_dev(&self) -> bool {
        true
    }

    /// Linux: `vfat_mount` → `mount_bdev` → `vfat_fill_super`.
    fn mount(&'static self, source: &[u8], data: &[u8], sb_flags: u32) -> KResult<Arc<Inode>> {
        let disk = super::ext2::lookup_bdev(source)?;
        let id = String::from(disk.disk_name());
        let mut opts = parse_options(&id, data)?;
        opts.read_only |= sb_flags & uapi::MS_RDONLY != 0 || disk.read_only();
        if let Some(root) = mounted_root(&disk, opts.read_only)? {
            return Ok(root);
        }
        fat_fill_super(self, disk, id, opts)
    }

    /// Names are found without regard to case, so a dentry may stand for
    /// a name that has since changed (Linux: `vfat_revalidate_ci`, plus
    /// what `vfat_hashi`/`vfat_cmpi` give Linux and the dcache lacks here).
    fn d_revalidate(&self, dentry: &Dentry) -> bool {
        inode::fat_revalidate(dentry)
    }
}

/// The root of the instance already mounted from `disk`, if any (Linux:
/// `mount_bdev` → `sget`); `EBUSY` if it asks for the other of read-only
/// and read-write.
fn mounted_root(disk: &Arc<dyn BlockDevice>, read_only: bool) -> KResult<Option<Arc<Inode>>> {
    for sb in super::super_block::super_blocks() {
        let Ok(info) = fat_sb(&sb) else { continue };
        if info.disk.disk_name() != disk.disk_name() || info.fs.lock().is_none() {
            continue;
        }
        if info.read_only() != read_only {
            return Err(Errno::EBUSY);
        }
        return Ok(info.icache_get(0));
    }
    Ok(None)
}

/// An octal option value.
fn octal(v: &[u8]) -> Option<u32> {
    u32::from_str_radix(core::str::from_utf8(v).ok()?, 8).ok().filter(|&m| m <= 0o7777)
}

fn decimal(v: &[u8]) -> Option<u32> {
    core::str::from_utf8(v).ok()?.parse().ok()
}

/// The mount options (Linux: `parse_options` for vfat): owners and masks
/// default to the mounting task's ids and umask; options that change
/// nothing here are accepted; anything else is `EINVAL`.
fn parse_options(id: &str, data: &[u8]) -> KResult<FatOptions> {
    const IGNORED: [&[u8]; 14] = [
        b"defaults",
        b"quiet",
        b"showexec",
        b"debug",
        b"flush",
        b"usefree",
        b"nocase",
        b"utf8",
        b"uni_xlate",
        b"nonumtail",
        b"rodir",
        b"discard",
        b"dos1xfloppy",
        b"nfs",
    ];
    const IGNORED_KEYS: [&[u8]; 11] = [
        b"codepage=",
        b"iocharset=",
        b"shortname=",
        b"errors=",
        b"check=",
        b"tz=",
        b"time_offset=",
        b"allow_utime=",
        b"utf8=",
        b"conv=",
        b"nfs=",
    ];
    let task = crate::kernel::sched::current();
    let cred = task.cred();
    let umask = task.fs.lock().as_ref().map_or(0o022, |f| f.umask());
    let mut o = FatOptions {
        fs_uid: cred.uid,
        fs_gid: cred.gid,
        fs_fmask: umask,
        fs_dmask: umask,
        read_only: false,
    };
    for opt in data.split(|&b| b == b',').filter(|o| !o.is_empty()) {
        let (key, val) = match opt.iter().position(|&b| b == b'=') {
            Some(i) => (&opt[..=i], &opt[i + 1..]),
            None => (opt, &b""[..]),
        };
        let ok = match key {
            b"ro" => {
                o.read_only = true;
                true
            }
            b"rw" => {
                o.read_only = false;
                true
            }
            b"uid=" => decimal(val).map(|v| o.fs_uid = v).is_some(),
            b"gid=" => decimal(val).map(|v| o.fs_gid = v).is_some(),
            b"umask=" => octal(val).map(|v| (o.fs_fmask, o.fs_dmask) = (v, v)).is_some(),
            b"fmask=" => octal(val).map(|v| o.fs_fmask = v).is_some(),
            b"dmask=" => octal(val).map(|v| o.fs_dmask = v).is_some(),
            k => IGNORED.contains(&k) || IGNORED_KEYS.contains(&k),
        };
        if !ok {
            let opt = String::from_utf8_lossy(opt);
            pr_err!("FAT-fs ({id}): Unrecognized mount option \"{opt}\" or missing value");
            return Err(Errno::EINVAL);
        }
    }
    Ok(o)
}

/// Reads and checks the boot sector, makes the super block and the root
/// inode (Linux: `fat_fill_super`), logging refusals as Linux does.
fn fat_fill_super(
    fs_type: &'static VfatFsType,
    disk: Arc<dyn BlockDevice>,
    id: String,
    opts: FatOptions,
) -> KResult<Arc<Inode>> {
    let dev = BufferCacheIo { disk: disk.clone() };
    let fs = Fat::mount(dev).map_err(|e| {
        match e {
            fat::Error::Corrupt(what) | fat::Error::Unsupported(what) => {
                pr_err!("FAT-fs ({id}): {what}");
            }
            _ => pr_err!("FAT-fs ({id}): unable to read boot sector"),
        }
        pr_err!("FAT-fs ({id}): Can't find a valid FAT filesystem");
        if e == fat::Error::Io { Errno::EIO } else { Errno::EINVAL }
    })?;
    let sector_size = fs.geometry().sector_size;
    let info = FatSb {
        fs: Mutex::new(Some(fs)),
        icache: SpinLock::new(BTreeMap::new()),
        disk: disk.clone(),
        id,
        opts,
        next_ino: AtomicU64::new(MSDOS_ROOT_INO + 1),
        read_only: AtomicBool::new(opts.read_only),
    };
    let params = SuperParams {
        s_dev: disk.devt(),
        s_magic: MSDOS_SUPER_MAGIC,
        s_blocksize: sector_size,
        s_op: &FAT_SOPS,
        s_bdev: Some(disk),
    };
    let sb = SuperBlock::new(fs_type, params, Box::new(info));
    let info = fat_sb(&sb)?;
    match info.with_fs(|fs| inode::fat_root(&sb, info, fs)) {
        Ok(root) => Ok(root),
        Err(e) => {
            pr_err!("FAT-fs ({}): get root inode failed", info.id);
            fat_kill_sb(&sb);
            Err(e)
        }
    }
}

/// Writes everything, then lets go of every inode (Linux:
/// `kill_block_super` → `fat_put_super`). After a lazy unmount with
/// inodes still in use the instance only syncs and stays usable.
pub fn fat_kill_sb(sb: &SuperBlock) {
    let Ok(info) = fat_sb(sb) else { return };
    let _ = super::sync::sync_filesystem(sb);
    let in_use = info.icache.lock().iter().any(|(&pos, i)| pos != 0 && Arc::strong_count(i) > 1);
    if in_use {
        pr_warn!("FAT-fs ({}): busy at unmount: left mounted", info.id);
        return;
    }
    let mut guard = info.fs.lock();
    if let Some(fs) = guard.as_mut() {
        prune_icache(info, fs);
    }
    // A read-only volume is left as it was found.
    if let Some(fs) = guard.take()
        && !info.read_only()
        && fs.unmount().is_err()
    {
        pr_err!("FAT-fs ({}): couldn't write FSINFO at unmount", info.id);
    }
    drop(guard);
    let _ = sync_blockdev(&info.disk);
    // The next mount reads the disk again (Linux: `kill_bdev`).
    invalidate_bdev(&info.disk);
    // Breaks the inode → super block → inode cycle.
    let all = core::mem::take(&mut *info.icache.lock());
    drop(all);
}

/// Linux: `fat_sops`.
pub struct FatSuperOps;
pub static FAT_SOPS: FatSuperOps = FatSuperOps;

impl SuperOperations for FatSuperOps {
    /// Linux: `fat_put_super`, from `deactivate_super` at the last
    /// unmount; the super block's `Drop` calls it again, when there is
    /// nothing left to do.
    fn put_super(&self, sb: &SuperBlock) {
        let Ok(info) = fat_sb(sb) else { return };
        if info.fs.try_lock().is_some_and(|fs| fs.is_none()) {
            return;
        }
        fat_kill_sb(sb);
    }

    /// Linux: `fat_sync_fs`: frees what unlinked files left and writes
    /// FSINFO into the buffer cache; the caller then writes the disk's buffers.
    fn sync_fs(&self, sb: &SuperBlock, _wait: bool) -> KResult<()> {
        let info = fat_sb(sb)?;
        let synced = info.with_fs(|fs| {
            prune_icache(info, fs);
            if info.read_only() {
                return Ok(());
            }
            fs.sync().map_err(|e| info.errno(e))
        });
        // Unmounted meanwhile: nothing left to write.
        if synced == Err(Errno::EIO) && info.fs.lock().is_none() { Ok(()) } else { synced }
    }

    /// Linux: `fat_reconfigure`: to read-only, everything is written
    /// first; `EROFS` to read-write on a disk that refuses writes.
    fn remount_fs(&self, sb: &SuperBlock, readonly: bool) -> KResult<()> {
        let info = fat_sb(sb)?;
        if readonly == info.read_only() {
            return Ok(());
        }
        if !readonly && info.disk.read_only() {
            return Err(Errno::EROFS);
        }
        if readonly {
            super::sync::sync_filesystem(sb)?;
        }
        info.read_only.store(readonly, Ordering::Release);
        Ok(())
    }

    /// Linux: `fat_show_options`, with Debian's defaults for what is not
    /// an option here (code page 437, `iocharset=ascii` with `utf8`,
    /// `shortname=mixed`).
    fn show_options(&self, sb: &SuperBlock, m: &mut SeqBuf) -> KResult<()> {
        let o = &fat_sb(sb)?.opts;
        if o.fs_uid != 0 {
            m.printf(format_args!(",uid={}", o.fs_uid))?;
        }
        if o.fs_gid != 0 {
            m.printf(format_args!(",gid={}", o.fs_gid))?;
        }
        m.printf(format_args!(",fmask={:04o},dmask={:04o}", o.fs_fmask, o.fs_dmask))?;
        m.printf(format_args!(
            ",codepage=437,iocharset=ascii,shortname=mixed,utf8,errors=remount-ro"
        ))
    }

    /// Linux: `fat_statfs`.
    fn statfs(&self, sb: &SuperBlock) -> KResult<KStatfs> {
        let info = fat_sb(sb)?;
        // Unlinked files closed since give their clusters back first, so
        // that `df` after `rm` counts them free, as on Linux.
        let st = info.with_fs(|fs| {
            prune_icache(info, fs);
            fs.statfs().map_err(|e| info.errno(e))
        })?;
        let cs = u64::from(st.cluster_size);
        let dev = info.disk.devt().encode();
        #[expect(clippy::cast_possible_truncation, reason = "the two halves of fsid, as Linux")]
        let fsid = [dev as u32 as i32, (dev >> 32) as u32 as i32];
        Ok(KStatfs {
            f_type: MSDOS_SUPER_MAGIC,
            f_bsize: cs,
            f_blocks: u64::from(st.clusters),
            f_bfree: u64::from(st.free_clusters),
            f_bavail: u64::from(st.free_clusters),
            f_files: 0,
            f_ffree: 0,
            f_fsid: fsid,
            // Linux: FAT_LFN_LEN * NLS_MAX_CHARSET_SIZE.
            f_namelen: (fat::FAT_LFN_LEN * 6) as u64,
            f_frsize: cs,
            f_flags: 0,
        })
    }
}

/// Registers vfat (Linux: `init_vfat_fs`).
pub fn init_vfat_fs() -> KResult<()> {
    register_filesystem(&VFAT_FS_TYPE)
}

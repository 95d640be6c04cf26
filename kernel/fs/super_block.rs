//! Mounted file systems and the registry of file-system types (Linux:
//! fs/super.c, fs/filesystems.c, include/linux/fs.h `struct super_block`,
//! `struct file_system_type`).
//!
//! A file system registers a [`FileSystemType`] at boot
//! (`register_filesystem`); mounting looks it up by name (`get_fs_type`)
//! and asks it for a [`SuperBlock`] and its root inode (`mount`, Linux's
//! `get_tree`). The super block holds what is per instance: the device
//! number `st_dev` reports, the next inode number, the block size, and the
//! lock that serialises namespace changes.
//!
//! # Locking
//! `FILE_SYSTEMS` is a leaf. `s_vfs_rename_lock` is the outermost VFS lock:
//! every create, link, unlink, mkdir, rmdir and rename in this file system
//! holds it (Linux takes the parent's `i_rwsem`, and `s_vfs_rename_mutex`
//! for renames across directories); so two directories' locks are never
//! taken in conflicting orders.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::inode::{DevT, Inode};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::{SpinLock, SpinLockNoIrq};

#[allow(dead_code, reason = "requires_dev: for mount(2) of disk file systems")]
/// A kind of file system (Linux: `struct file_system_type`).
pub trait FileSystemType: Send + Sync {
    /// The name `mount -t` and /proc/filesystems use.
    fn name(&self) -> &'static str;
    /// Mounts an instance; returns its root inode, whose `sb` is the new
    /// super block (Linux: `get_tree`, `fill_super`). `source` is the
    /// device or "none"; `data` the comma-separated options.
    fn mount(&'static self, source: &[u8], data: &[u8]) -> KResult<Arc<Inode>>;
    /// Whether the file system needs a block device (Linux: `FS_REQUIRES_DEV`).
    fn requires_dev(&self) -> bool {
        false
    }
    /// Whether a cached dentry of this file system still names what it
    /// named (Linux: `s_d_op->d_revalidate`); a stale one is dropped and
    /// looked up again. Disk and memory file systems keep every dentry.
    fn d_revalidate(&self, _dentry: &super::dcache::Dentry) -> bool {
        true
    }
}

/// Registered file-system types, in registration order.
static FILE_SYSTEMS: SpinLock<Vec<&'static dyn FileSystemType>> = SpinLock::new(Vec::new());

/// Makes a file-system type mountable (Linux: `register_filesystem`);
/// `EBUSY` if the name is taken.
pub fn register_filesystem(fs: &'static dyn FileSystemType) -> KResult<()> {
    let mut list = FILE_SYSTEMS.lock();
    if list.iter().any(|f| f.name() == fs.name()) {
        return Err(Errno::EBUSY);
    }
    list.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    list.push(fs);
    Ok(())
}

/// Finds a registered type by name (Linux: `get_fs_type`).
pub fn get_fs_type(name: &[u8]) -> Option<&'static dyn FileSystemType> {
    FILE_SYSTEMS.lock().iter().copied().find(|f| f.name().as_bytes() == name)
}

/// Names of the registered types, `nodev` first as in /proc/filesystems.
pub fn filesystems() -> Vec<(&'static str, bool)> {
    FILE_SYSTEMS.lock().iter().map(|f| (f.name(), f.requires_dev())).collect()
}

/// Anonymous device numbers for file systems without a device, major 0
/// (Linux: `get_anon_bdev`).
static NEXT_ANON_DEV: AtomicU32 = AtomicU32::new(1);

#[allow(dead_code, reason = "s_type, s_magic, s_fs_info: for statfs(2) and disk file systems")]
/// One mounted instance of a file system (Linux: `struct super_block`).
pub struct SuperBlock {
    /// What `st_dev` reports (Linux: `s_dev`).
    pub s_dev: DevT,
    pub s_type: &'static dyn FileSystemType,
    /// Linux: `s_blocksize`.
    pub s_blocksize: u32,
    /// Linux: `s_magic`, as `statfs` reports it.
    pub s_magic: u64,
    /// Serialises namespace changes (see the module header).
    pub s_vfs_rename_lock: SpinLockNoIrq<()>,
    next_ino: AtomicU64,
    /// The file system's own per-instance data (Linux: `s_fs_info`).
    pub s_fs_info: alloc::boxed::Box<dyn Any + Send + Sync>,
}

impl SuperBlock {
    /// A super block with an anonymous device number (Linux: `sget_fc` +
    /// `set_anon_super`).
    pub fn new_anon(
        s_type: &'static dyn FileSystemType,
        s_magic: u64,
        s_fs_info: alloc::boxed::Box<dyn Any + Send + Sync>,
    ) -> Arc<SuperBlock> {
        let minor = NEXT_ANON_DEV.fetch_add(1, Ordering::Relaxed);
        Arc::new(SuperBlock {
            s_dev: DevT::new(0, minor),
            s_type,
            s_blocksize: 4096,
            s_magic,
            s_vfs_rename_lock: SpinLockNoIrq::new(()),
            next_ino: AtomicU64::new(1),
            s_fs_info,
        })
    }

    /// A fresh inode number in this file system (Linux: `get_next_ino`).
    pub fn get_next_ino(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed)
    }
}

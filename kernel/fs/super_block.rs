//! Mounted file systems and the registry of file-system types (Linux:
//! fs/super.c, fs/filesystems.c, include/linux/fs.h `struct super_block`,
//! `struct file_system_type`).
//!
//! A file system registers a [`FileSystemType`] at boot
//! (`register_filesystem`); mounting looks it up by name (`get_fs_type`)
//! and asks it for a [`SuperBlock`] and its root inode (`mount`, Linux's
//! `get_tree`). The super block holds what is per instance: the device
//! number `st_dev` reports, the next inode number, the block size, and the
//! lock that serialises namespace changes, the file system's
//! [`SuperOperations`] and its list of dirty inodes (Linux: `wb->b_dirty`,
//! written back by fs/fs_writeback.rs). Every live super block is on
//! `SUPER_BLOCKS` so that `sync(2)` can walk them (Linux: `super_blocks`,
//! `iterate_supers`).
//!
//! # Locking
//! `FILE_SYSTEMS`, `SUPER_BLOCKS` and a super block's `s_dirty` list are
//! leaves, held only to copy or change the list. `s_vfs_rename_lock` is
//! the outermost VFS lock: every create, link, unlink, mkdir, rmdir and rename in this file system
//! holds it, and so does a lookup that asks the file system (Linux takes
//! the parent's `i_rwsem`, and `s_vfs_rename_mutex` for renames across
//! directories); so two directories' locks are never taken in conflicting
//! orders. It is a sleeping `Mutex`: the file system may wait for its
//! disk under it, and no spinlock is held around it.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use alloc::sync::Weak;

use super::inode::{DevT, Inode};
use super::statfs::KStatfs;
use crate::block::BlockDevice;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::locking::mutex::Mutex;

#[allow(dead_code, reason = "requires_dev: for mount(2) of disk file systems")]
/// A kind of file system (Linux: `struct file_system_type`).
pub trait FileSystemType: Send + Sync {
    /// The name `mount -t` and /proc/filesystems use.
    fn name(&self) -> &'static str;
    /// Mounts an instance; returns its root inode, whose `sb` is the new
    /// super block (Linux: `get_tree`, `fill_super`). `source` is the
    /// device or "none"; `data` the comma-separated options; `sb_flags`
    /// the `MS_*` flags for the super block (`MS_RDONLY`; Linux:
    /// `fc->sb_flags`).
    fn mount(&'static self, source: &[u8], data: &[u8], sb_flags: u32) -> KResult<Arc<Inode>>;
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

/// What a mounted file system does for the VFS as a whole (Linux:
/// `struct super_operations`). The defaults suit a memory file system:
/// nothing to write, `simple_statfs`.
#[allow(unused_variables, reason = "the defaults ignore their arguments")]
pub trait SuperOperations: Send + Sync {
    /// Whether its data and inodes are written anywhere: a memory file
    /// system's pages and inodes are never dirty (Linux: a bdi without
    /// `BDI_CAP_WRITEBACK`, `noop_backing_dev_info`).
    fn can_writeback(&self) -> bool {
        false
    }
    /// Writes `inode`'s metadata (Linux: `write_inode`); `wait` asks for
    /// it to be on the disk when this returns.
    fn write_inode(&self, inode: &Inode, wait: bool) -> KResult<()> {
        Ok(())
    }
    /// Writes the file system's own metadata (Linux: `sync_fs`).
    fn sync_fs(&self, sb: &SuperBlock, wait: bool) -> KResult<()> {
        Ok(())
    }
    /// Linux: `statfs`; the default is `simple_statfs`.
    fn statfs(&self, sb: &SuperBlock) -> KResult<KStatfs> {
        Ok(KStatfs::simple(sb))
    }
    /// The super block is going away (Linux: `put_super`).
    /// Makes the file system read-only or read-write, for a remount
    /// that changes `MS_RDONLY` (Linux: `reconfigure`, ext2's
    /// `ext2_remount`). The default has nothing on a disk to change.
    fn remount_fs(&self, sb: &SuperBlock, readonly: bool) -> KResult<()> {
        Ok(())
    }
    fn put_super(&self, sb: &SuperBlock) {}
    /// Whether `FIFREEZE` may freeze it (Linux: a `freeze_fs` operation);
    /// the generic code in fs/freeze.rs does the rest.
    fn can_freeze(&self) -> bool {
        false
    }
    /// Appends the file system's own options to a /proc/mounts line,
    /// each after a comma (Linux: `show_options`).
    fn show_options(&self, sb: &SuperBlock, m: &mut super::proc::generic::SeqBuf) -> KResult<()> {
        Ok(())
    }
    /// The last reference to `inode` is gone (Linux: `evict_inode`): a
    /// disk file system frees an unlinked inode's blocks here.
    fn evict_inode(&self, inode: &Inode) {}
}

/// The operations of memory file systems (tmpfs, proc, pseudo file systems).
pub struct SimpleSuperOps;
pub static SIMPLE_SUPER_OPS: SimpleSuperOps = SimpleSuperOps;
impl SuperOperations for SimpleSuperOps {}

/// Every live super block (Linux: `super_blocks`).
static SUPER_BLOCKS: SpinLock<Vec<Weak<SuperBlock>>> = SpinLock::new(Vec::new());

/// The live super blocks, for `sync(2)` (Linux: `iterate_supers`).
pub fn super_blocks() -> Vec<Arc<SuperBlock>> {
    let mut list = SUPER_BLOCKS.lock();
    list.retain(|w| w.strong_count() > 0);
    list.iter().filter_map(Weak::upgrade).collect()
}

#[allow(dead_code, reason = "s_type, s_fs_info: for disk file systems")]
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
    pub s_vfs_rename_lock: Mutex<()>,
    next_ino: AtomicU64,
    /// The file system's own per-instance data (Linux: `s_fs_info`).
    pub s_fs_info: alloc::boxed::Box<dyn Any + Send + Sync>,
    /// Linux: `s_op`.
    pub s_op: &'static dyn SuperOperations,
    /// The disk it lives on (Linux: `s_bdev`); flushed by `sync`.
    pub s_bdev: Option<Arc<dyn BlockDevice>>,
    /// Inodes with dirty metadata or pages, oldest first (Linux:
    /// `wb->b_dirty`); an inode is on it once, while `i_state` is dirty.
    pub(super) s_dirty: SpinLock<Vec<Weak<Inode>>>,
    /// Writers in flight and the frozen state (Linux: `s_writers`;
    /// fs/freeze.rs).
    pub s_writers: super::freeze::SbWriters,
}

/// The parameters of [`SuperBlock::new`] beyond the type.
pub struct SuperParams {
    pub s_dev: DevT,
    pub s_magic: u64,
    pub s_blocksize: u32,
    pub s_op: &'static dyn SuperOperations,
    pub s_bdev: Option<Arc<dyn BlockDevice>>,
}

impl SuperBlock {
    /// A super block with an anonymous device number (Linux: `sget_fc` +
    /// `set_anon_super`).
    pub fn new_anon(
        s_type: &'static dyn FileSystemType,
        s_magic: u64,
        s_fs_info: alloc::boxed::Box<dyn Any + Send + Sync>,
    ) -> Arc<SuperBlock> {
        Self::new_anon_with_ops(s_type, s_magic, &SIMPLE_SUPER_OPS, s_fs_info)
    }

    /// An anonymous-device super block with its own operations.
    pub fn new_anon_with_ops(
        s_type: &'static dyn FileSystemType,
        s_magic: u64,
        s_op: &'static dyn SuperOperations,
        s_fs_info: alloc::boxed::Box<dyn Any + Send + Sync>,
    ) -> Arc<SuperBlock> {
        let minor = NEXT_ANON_DEV.fetch_add(1, Ordering::Relaxed);
        let params = SuperParams {
            s_dev: DevT::new(0, minor),
            s_magic,
            s_blocksize: 4096,
            s_op,
            s_bdev: None,
        };
        Self::new(s_type, params, s_fs_info)
    }

    /// A super block, put on the list `sync` walks (Linux: `alloc_super`).
    /// A disk file system passes its device number and disk.
    pub fn new(
        s_type: &'static dyn FileSystemType,
        p: SuperParams,
        s_fs_info: alloc::boxed::Box<dyn Any + Send + Sync>,
    ) -> Arc<SuperBlock> {
        let sb = Arc::new(SuperBlock {
            s_dev: p.s_dev,
            s_type,
            s_blocksize: p.s_blocksize,
            s_magic: p.s_magic,
            s_vfs_rename_lock: Mutex::new(()),
            next_ino: AtomicU64::new(1),
            s_fs_info,
            s_op: p.s_op,
            s_bdev: p.s_bdev,
            s_dirty: SpinLock::new(Vec::new()),
            s_writers: super::freeze::SbWriters::new(),
        });
        let mut list = SUPER_BLOCKS.lock();
        list.retain(|w| w.strong_count() > 0);
        // Without room the file system still works; only `sync(2)` will
        // not see it, and its own `syncfs`/`fsync` still write.
        if list.try_reserve(1).is_ok() {
            list.push(Arc::downgrade(&sb));
        }
        sb
    }

    /// A fresh inode number in this file system (Linux: `get_next_ino`).
    pub fn get_next_ino(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed)
    }
}

impl Drop for SuperBlock {
    fn drop(&mut self) {
        self.s_op.put_super(self);
    }
}

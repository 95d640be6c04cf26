//! tmpfs: a file system whose files live only in memory (Linux:
//! mm/shmem.c, fs/ramfs/inode.c, fs/libfs.c).
//!
//! The tree is held by the directories themselves ([`dir::TmpfsDir`], a
//! name → inode map with stable readdir offsets), regular files keep their
//! data in a [`PageCache`](crate::fs::pagecache::PageCache), symlinks their
//! target. The dentry cache sits above as for any file system, so ext2
//! (issue 6) plugs into the same VFS paths. An inode is freed, data and
//! all, when its last link, dentry and open file are gone.
//!
//! No `size=`/`nr_inodes=` limits yet: a tmpfs can fill memory (`ENOMEM`).
//!
//! # Locking
//! A directory's `entries` lock and a file's `mapping` lock are taken
//! before the inode's `i_lock`; namespace changes arrive with the super
//! block's `s_vfs_rename_lock` held (see super_block.rs), so two directory
//! locks are never wanted by two CPUs in opposite orders.
#![deny(unsafe_code)]

pub mod dir;
pub mod file;

use alloc::boxed::Box;
use alloc::sync::Arc;

use linux_raw_sys::general as uapi;

use super::FsCred;
use super::file_table::FileOps;
use super::inode::{DevT, FileType, Inode, InodeAttr, InodeOps};
use super::super_block::{FileSystemType, SuperBlock, register_filesystem};
use crate::kernel::errno::KResult;

/// Linux: `TMPFS_MAGIC`.
pub const TMPFS_MAGIC: u64 = 0x0102_1994;
/// What each entry adds to a directory's size (Linux: `BOGO_DIRENT_SIZE`).
pub const BOGO_DIRENT_SIZE: u64 = 20;

/// The tmpfs file-system type (Linux: `shmem_fs_type`).
pub struct Tmpfs;

/// The registered instance.
pub static TMPFS: Tmpfs = Tmpfs;

impl FileSystemType for Tmpfs {
    fn name(&self) -> &'static str {
        "tmpfs"
    }

    /// A new, empty instance: a root directory owned by root, mode 1777 as
    /// Linux's tmpfs default (Linux: `shmem_fill_super`); the rootfs gets 0755.
    fn mount(&'static self, source: &[u8], _data: &[u8]) -> KResult<Arc<Inode>> {
        let sb = SuperBlock::new_anon(self, TMPFS_MAGIC, Box::new(()));
        let perm = if source == b"rootfs" { 0o755 } else { 0o1777 };
        new_inode(sb, uapi::S_IFDIR | perm, FsCred::ROOT, DevT(0), None)
    }
}

/// Registers tmpfs (Linux: `shmem_init`).
pub fn init_tmpfs() -> KResult<()> {
    register_filesystem(&TMPFS)
}

/// Operations for inodes that are neither directories, files nor links
/// (device nodes, fifos): the generic defaults.
struct SpecialInodeOps;
impl InodeOps for SpecialInodeOps {}
/// Opens of special inodes get their driver's operations instead.
struct NoFileOps;
impl FileOps for NoFileOps {}

/// Makes an inode of `mode` in `sb` with its private part (Linux:
/// `shmem_get_inode`); `target` is a symlink's.
pub fn new_inode(
    sb: Arc<SuperBlock>,
    mode: u32,
    cred: FsCred,
    rdev: DevT,
    target: Option<&[u8]>,
) -> KResult<Arc<Inode>> {
    let mut attr = InodeAttr::new(mode, cred.fsuid, cred.fsgid);
    attr.rdev = rdev;
    let ftype = FileType::from_mode(mode).unwrap_or(FileType::Regular);
    let (i_op, i_fop, private): (
        &'static dyn InodeOps,
        &'static dyn FileOps,
        Box<dyn core::any::Any + Send + Sync>,
    ) = match ftype {
        FileType::Directory => {
            attr.size = 2 * BOGO_DIRENT_SIZE;
            (&dir::TMPFS_DIR_INODE_OPS, &dir::TMPFS_DIR_OPS, Box::new(dir::TmpfsDir::new()))
        }
        FileType::Regular => {
            (&file::TMPFS_FILE_INODE_OPS, &file::TMPFS_FILE_OPS, Box::new(file::TmpfsFile::new()))
        }
        FileType::Symlink => {
            let target = target.unwrap_or_default();
            attr.size = target.len() as u64;
            let link = file::TmpfsSymlink::new(target)?;
            (&file::TMPFS_SYMLINK_INODE_OPS, &NoFileOps, Box::new(link))
        }
        _ => (&SpecialInodeOps, &NoFileOps, Box::new(())),
    };
    Inode::new(sb, attr, i_op, i_fop, private)
}

//! Internal ("pseudo") file systems: the never-mounted homes of pipe,
//! socket and anonymous inodes (Linux: fs/libfs.c `init_pseudo`, and
//! `kern_mount`).
//!
//! A `PseudoFs` is a `FileSystemType` that refuses `mount(2)` and makes
//! its one internal mount on first use; pipefs, sockfs and anon_inodefs
//! are statics of it that differ only in name and magic number. Their
//! inodes carry no inode operations: nothing looks names up in them.
//!
//! # Locking
//! None of its own: the internal mount is made once under a `spin::Once`.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::any::Any;

use super::dcache::Dentry;
use super::file_table::FileOps;
use super::inode::{Inode, InodeAttr, InodeOps};
use super::namespace::{Path, VfsMount};
use super::super_block::{FileSystemType, SuperBlock};
use crate::kernel::errno::{Errno, KResult};

/// An internal file system (Linux: a `file_system_type` set up with
/// `init_pseudo`).
pub struct PseudoFs {
    name: &'static str,
    magic: u64,
    mnt: spin::Once<Arc<VfsMount>>,
}

struct PseudoInodeOps;
impl InodeOps for PseudoInodeOps {}
static PSEUDO_IOPS: PseudoInodeOps = PseudoInodeOps;

impl FileSystemType for PseudoFs {
    fn name(&self) -> &'static str {
        self.name
    }
    fn mount(&'static self, _source: &[u8], _data: &[u8], _sb_flags: u32) -> KResult<Arc<Inode>> {
        Err(Errno::EINVAL)
    }
}

impl PseudoFs {
    pub const fn new(name: &'static str, magic: u64) -> Self {
        PseudoFs { name, magic, mnt: spin::Once::new() }
    }

    /// The internal mount (Linux: `kern_mount`), made on first use with a
    /// root inode of `root_mode` whose files would use `root_fops`.
    pub fn kern_mount(
        &'static self,
        root_mode: u32,
        root_fops: &'static dyn FileOps,
    ) -> KResult<Arc<VfsMount>> {
        if let Some(mnt) = self.mnt.get() {
            return Ok(mnt.clone());
        }
        let sb = SuperBlock::new_anon(self, self.magic, Box::new(()));
        let attr = InodeAttr::new(root_mode, 0, 0);
        let root = Inode::new(sb.clone(), attr, &PSEUDO_IOPS, root_fops, Box::new(()))?;
        let mnt = VfsMount::new_internal(Dentry::make_root(root)?);
        Ok(self.mnt.call_once(|| Arc::new(mnt)).clone())
    }

    /// A new inode of this file system with its own unnamed dentry, and
    /// the path to open it by (Linux: `new_inode_pseudo` + `d_alloc_pseudo`).
    pub fn new_inode_path(
        &'static self,
        attr: InodeAttr,
        fops: &'static dyn FileOps,
        private: Box<dyn Any + Send + Sync>,
    ) -> KResult<(Path, Arc<Inode>)> {
        let mnt = self.kern_mount(linux_raw_sys::general::S_IFDIR | 0o755, fops)?;
        let inode = Inode::new(mnt.mnt_sb.clone(), attr, &PSEUDO_IOPS, fops, private)?;
        Ok((Path::new(mnt, Dentry::make_root(inode.clone())?), inode))
    }
}

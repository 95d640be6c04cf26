//! Files with no name and no inode of their own: eventfd, epoll (Linux:
//! fs/anon_inodes.c, `anon_inode_getfile`).
//!
//! All of them share one inode in the internal `anon_inodefs`, mode 0600
//! with no file type, as Linux's `anon_inode_inode`; what makes each file
//! what it is lies in its `FileOps` and private data.
//!
//! # Locking
//! None of its own: the shared path is made once under a `spin::Once`.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::any::Any;

use linux_raw_sys::general as uapi;

use super::dcache::Dentry;
use super::file_table::{FMode, File, FileOps};
use super::inode::{Inode, InodeAttr, InodeOps};
use super::namespace::{Path, VfsMount};
use super::super_block::{FileSystemType, SuperBlock};
use crate::kernel::errno::{Errno, KResult};

/// The internal file system the shared inode lives in (Linux:
/// `anon_inode_fs_type`).
struct AnonInodeFsType;

impl FileSystemType for AnonInodeFsType {
    fn name(&self) -> &'static str {
        "anon_inodefs"
    }
    fn mount(&'static self, _source: &[u8], _data: &[u8]) -> KResult<Arc<Inode>> {
        Err(Errno::EINVAL)
    }
}

struct AnonInodeOps;
impl InodeOps for AnonInodeOps {}

/// The shared inode's own file operations: never used, as every file
/// brings its own.
struct AnonFileOps;
impl FileOps for AnonFileOps {}

static ANON_INODE_FS: AnonInodeFsType = AnonInodeFsType;
static ANON_IOPS: AnonInodeOps = AnonInodeOps;
static ANON_FOPS: AnonFileOps = AnonFileOps;
/// Linux: `ANON_INODE_FS_MAGIC`.
const ANON_INODE_FS_MAGIC: u64 = 0x0904_1934;
static ANON_PATH: spin::Once<Path> = spin::Once::new();

/// The shared inode's path (Linux: `anon_inode_mnt` and `anon_inode_inode`).
fn anon_inode_path() -> KResult<Path> {
    if let Some(path) = ANON_PATH.get() {
        return Ok(path.clone());
    }
    let sb = SuperBlock::new_anon(&ANON_INODE_FS, ANON_INODE_FS_MAGIC, Box::new(()));
    let attr = InodeAttr::new(uapi::S_IRUSR | uapi::S_IWUSR, 0, 0);
    let inode = Inode::new(sb.clone(), attr, &ANON_IOPS, &ANON_FOPS, Box::new(()))?;
    let root = Dentry::make_root(inode)?;
    let mnt = VfsMount {
        mnt_id: 0,
        mnt_root: root.clone(),
        mnt_sb: sb,
        mnt_mountpoint: None,
        mnt_devname: Box::default(),
        mnt_flags: Default::default(),
    };
    Ok(ANON_PATH.call_once(|| Path::new(Arc::new(mnt), root)).clone())
}

/// A new open file on the shared inode with `fops` and `private` (Linux:
/// `anon_inode_getfile`); `flags` gives the access mode and O_NONBLOCK.
pub fn anon_inode_getfile(
    fops: &'static dyn FileOps,
    private: Box<dyn Any + Send + Sync>,
    flags: u32,
) -> KResult<Arc<File>> {
    let path = anon_inode_path()?;
    let inode = path.dentry.inode().ok_or(Errno::ENOENT)?;
    let mode = match flags & uapi::O_ACCMODE {
        uapi::O_RDONLY => FMode::READ,
        uapi::O_WRONLY => FMode::WRITE,
        _ => FMode::READ | FMode::WRITE,
    };
    let file = File::open(path, inode, fops, mode, flags & (uapi::O_ACCMODE | uapi::O_NONBLOCK))?;
    file.set_private(private);
    Ok(file)
}

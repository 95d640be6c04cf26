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

use super::file_table::{FMode, File, FileOps};
use super::libfs::PseudoFs;
use super::namespace::Path;
use crate::kernel::errno::{Errno, KResult};

/// The internal file system the shared inode lives in (Linux:
/// `anon_inode_fs_type`); the inode is its root.
static ANON_INODE_FS: PseudoFs = PseudoFs::new("anon_inodefs", ANON_INODE_FS_MAGIC);
/// Linux: `ANON_INODE_FS_MAGIC`.
const ANON_INODE_FS_MAGIC: u64 = 0x0904_1934;

/// The shared inode's own file operations: never used, as every file
/// brings its own.
struct AnonFileOps;
impl FileOps for AnonFileOps {}
static ANON_FOPS: AnonFileOps = AnonFileOps;

/// The shared inode's path (Linux: `anon_inode_mnt` and `anon_inode_inode`).
fn anon_inode_path() -> KResult<Path> {
    let mnt = ANON_INODE_FS.kern_mount(uapi::S_IRUSR | uapi::S_IWUSR, &ANON_FOPS)?;
    let root = mnt.mnt_root.clone();
    Ok(Path::new(mnt, root))
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

//! A process's root, working directory and umask (Linux: `struct
//! fs_struct`, fs/fs_struct.c, and the chdir/umask parts of fs/open.c).
//!
//! Threads made with CLONE_FS share one `FsStruct` (an `Arc` in the task);
//! fork without it copies it ([`FsStruct::copy`]).
//!
//! # Locking
//! `paths` is a leaf lock: `Path`s are cloned out under it. The umask is
//! atomic.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU32, Ordering};

use super::namespace::{Path, root_path};
use crate::kernel::errno::KResult;
use crate::kernel::locking::SpinLockNoIrq;

/// Linux's default umask for init (`init_fs.umask`).
pub const DEFAULT_UMASK: u32 = 0o022;

struct FsPaths {
    root: Path,
    pwd: Path,
}

/// Root, current directory and umask of a process (Linux: `fs_struct`).
pub struct FsStruct {
    paths: SpinLockNoIrq<FsPaths>,
    umask: AtomicU32,
}

impl FsStruct {
    /// Init's: root and working directory at the root of the mount tree
    /// (Linux: `init_fs` after `init_mount_tree`'s `set_fs_root`/`set_fs_pwd`).
    pub fn new_init() -> KResult<FsStruct> {
        Ok(Self::with_root(root_path()?))
    }

    /// One rooted at `root`, working directory there too (chroot-like;
    /// for kernel threads and tests with a private tree).
    pub fn with_root(root: Path) -> FsStruct {
        FsStruct {
            paths: SpinLockNoIrq::new(FsPaths { root: root.clone(), pwd: root }),
            umask: AtomicU32::new(DEFAULT_UMASK),
        }
    }

    /// A copy for fork without CLONE_FS (Linux: `copy_fs_struct`).
    pub fn copy(&self) -> FsStruct {
        let paths = self.paths.lock();
        FsStruct {
            paths: SpinLockNoIrq::new(FsPaths { root: paths.root.clone(), pwd: paths.pwd.clone() }),
            umask: AtomicU32::new(self.umask()),
        }
    }

    pub fn root(&self) -> Path {
        self.paths.lock().root.clone()
    }

    pub fn pwd(&self) -> Path {
        self.paths.lock().pwd.clone()
    }

    /// Linux: `set_fs_pwd`. The old path is dropped after the lock.
    pub fn set_pwd(&self, path: Path) {
        let old = core::mem::replace(&mut self.paths.lock().pwd, path);
        drop(old);
    }

    /// Linux: `set_fs_root` (chroot).
    pub fn set_root(&self, path: Path) {
        let old = core::mem::replace(&mut self.paths.lock().root, path);
        drop(old);
    }

    pub fn umask(&self) -> u32 {
        self.umask.load(Ordering::Relaxed)
    }

    /// umask(2): sets the mask (only the permission bits), returns the old
    /// one.
    pub fn set_umask(&self, mask: u32) -> u32 {
        self.umask.swap(mask & 0o777, Ordering::Relaxed)
    }
}

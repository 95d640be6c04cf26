//! Mounts: which file system appears where (Linux: fs/namespace.c,
//! include/linux/mount.h `struct vfsmount`, include/linux/path.h).
//!
//! A [`VfsMount`] attaches a super block's root dentry at a mountpoint, a
//! (mount, dentry) pair of the parent mount. A [`Path`] is such a pair and
//! names a place in the whole tree: the same dentry can be reached through
//! several mounts. `lookup_mnt` finds what is mounted on a path; the walk
//! in `namei` uses it to cross into mounts and `mnt_parent` to climb out of
//! them on `..`. The first mount, the root tmpfs, is made by
//! [`init_mount_tree`].
//!
//! # Locking
//! `MOUNTS` (the mount list, Linux's `mount_hash` + `namespace_sem`) is
//! taken before any dentry lock and never held while calling a file system.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Once;

use super::dcache::{Dentry, shrink_dcache_sb};
use super::super_block::{SuperBlock, get_fs_type};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

/// A place in the tree: a dentry as seen through a mount (Linux: `struct path`).
#[derive(Clone)]
pub struct Path {
    pub mnt: Arc<VfsMount>,
    pub dentry: Arc<Dentry>,
}

impl Path {
    pub fn new(mnt: Arc<VfsMount>, dentry: Arc<Dentry>) -> Self {
        Self { mnt, dentry }
    }

    /// Whether both name the same place (Linux: `path_equal`).
    pub fn same(&self, other: &Path) -> bool {
        Arc::ptr_eq(&self.mnt, &other.mnt) && Arc::ptr_eq(&self.dentry, &other.dentry)
    }
}

/// A mounted file system (Linux: `struct mount` with its `vfsmount`).
pub struct VfsMount {
    /// Linux: `mnt_id`, as /proc/self/mountinfo and statx report it.
    pub mnt_id: u64,
    pub mnt_root: Arc<Dentry>,
    pub mnt_sb: Arc<SuperBlock>,
    /// Where it is mounted; `None` for the root mount.
    pub mnt_mountpoint: Option<Path>,
}

static NEXT_MNT_ID: AtomicU64 = AtomicU64::new(1);
/// Every mount but the root one (Linux: `mount_hashtable`).
static MOUNTS: SpinLock<Vec<Arc<VfsMount>>> = SpinLock::new(Vec::new());
/// The root mount (Linux: `init_task.nsproxy->mnt_ns->root`).
static ROOT_MNT: Once<Arc<VfsMount>> = Once::new();

/// The mount on top of `path`, if any (Linux: `lookup_mnt`).
pub fn lookup_mnt(path: &Path) -> Option<Arc<VfsMount>> {
    if !path.dentry.is_mountpoint() {
        return None;
    }
    // The last mount on a place hides earlier ones, as in Linux.
    MOUNTS
        .lock()
        .iter()
        .rev()
        .find(|m| m.mnt_mountpoint.as_ref().is_some_and(|mp| mp.same(path)))
        .cloned()
}

/// The root of the mount tree.
pub fn root_path() -> KResult<Path> {
    let mnt = ROOT_MNT.get().ok_or(Errno::ENOENT)?.clone();
    Ok(Path::new(mnt.clone(), mnt.mnt_root.clone()))
}

/// Mounts a fresh instance of `fstype` attached nowhere (Linux:
/// `vfs_kern_mount`), for kernel-internal file systems and tests.
pub fn vfs_kern_mount(fstype: &[u8], source: &[u8], data: &[u8]) -> KResult<Arc<VfsMount>> {
    let fs = get_fs_type(fstype).ok_or(Errno::ENODEV)?;
    let root_inode = fs.mount(source, data)?;
    Ok(Arc::new(VfsMount {
        mnt_id: NEXT_MNT_ID.fetch_add(1, Ordering::Relaxed),
        mnt_sb: root_inode.sb.clone(),
        mnt_root: Dentry::make_root(root_inode)?,
        mnt_mountpoint: None,
    }))
}

/// Mounts a fresh instance of `fstype` on `mountpoint` (Linux:
/// `do_new_mount` → `vfs_get_tree` + `do_add_mount`).
pub fn do_new_mount(
    mountpoint: &Path,
    fstype: &[u8],
    source: &[u8],
    data: &[u8],
) -> KResult<Arc<VfsMount>> {
    let fs = get_fs_type(fstype).ok_or(Errno::ENODEV)?;
    let inode = mountpoint.dentry.positive()?;
    if !inode.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if mountpoint.dentry.is_unhashed() {
        return Err(Errno::ENOENT);
    }
    let root_inode = fs.mount(source, data)?;
    let mnt = Arc::new(VfsMount {
        mnt_id: NEXT_MNT_ID.fetch_add(1, Ordering::Relaxed),
        mnt_sb: root_inode.sb.clone(),
        mnt_root: Dentry::make_root(root_inode)?,
        mnt_mountpoint: Some(mountpoint.clone()),
    });
    let mut mounts = MOUNTS.lock();
    mounts.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    mountpoint.dentry.set_mounted(true);
    mounts.push(mnt.clone());
    Ok(mnt)
}

/// Unmounts the mount whose root `path` is (Linux: `do_umount`): `EINVAL`
/// if `path` is not a mount's root, `EBUSY` if something is mounted below
/// it or the root mount is asked for.
pub fn do_umount(path: &Path) -> KResult<()> {
    if !Arc::ptr_eq(&path.dentry, &path.mnt.mnt_root) {
        return Err(Errno::EINVAL);
    }
    let victim = {
        let mut mounts = MOUNTS.lock();
        let idx = mounts.iter().position(|m| Arc::ptr_eq(m, &path.mnt)).ok_or(Errno::EBUSY)?;
        let busy = mounts
            .iter()
            .any(|m| m.mnt_mountpoint.as_ref().is_some_and(|mp| Arc::ptr_eq(&mp.mnt, &path.mnt)));
        if busy {
            return Err(Errno::EBUSY);
        }
        mounts.remove(idx)
    };
    if let Some(mp) = &victim.mnt_mountpoint {
        mp.dentry.set_mounted(false);
    }
    shrink_dcache_sb(&victim.mnt_sb);
    Ok(())
}

#[allow(dead_code, reason = "for /proc/mounts")]
/// All mounts, root first (for /proc/mounts and umount by device).
pub fn mounts() -> Vec<Arc<VfsMount>> {
    let mut all: Vec<Arc<VfsMount>> = ROOT_MNT.get().cloned().into_iter().collect();
    all.extend(MOUNTS.lock().iter().cloned());
    all
}

/// Mounts the root file system, a tmpfs (Linux: `init_mount_tree`, with
/// the rootfs being tmpfs as with `CONFIG_TMPFS` and no `root=`).
pub fn init_mount_tree() -> KResult<()> {
    let mnt = vfs_kern_mount(b"tmpfs", b"rootfs", b"")?;
    if ROOT_MNT.get().is_some() {
        return Err(Errno::EBUSY);
    }
    ROOT_MNT.call_once(|| mnt);
    Ok(())
}

//! Mounts: which file system appears where (Linux: fs/namespace.c,
//! include/linux/mount.h `struct vfsmount`, include/linux/path.h).
//!
//! A [`VfsMount`] attaches a super block's root dentry at a mountpoint, a
//! (mount, dentry) pair of the parent mount. A [`Path`] is such a pair and
//! names a place in the whole tree: the same dentry can be reached through
//! several mounts. `lookup_mnt` finds what is mounted on a path; the walk
//! in `namei` uses it to cross into mounts and `mnt_parent` to climb out of
//! them on `..`. The first mount, the root tmpfs, is made by
//! [`init_mount_tree`]; the rest by mount(2) (`do_new_mount`, `do_loopback`
//! with `MS_REC`'s `copy_submounts`, `do_remount`, `do_move_mount`), and
//! umount2(2) takes them away (`path_umount`); the system calls themselves
//! are in `syscalls.rs`.
//!
//! The per-mount flags are enforced where Linux does: `mnt_want_write`
//! (`EROFS`) in every modifying operation, with open files counted
//! (`mnt_get_write_access`) so that a remount read-only of a mount being
//! written is `EBUSY`; `may_open_dev` (`nodev`) in open; `path_noexec`
//! (`noexec`) in execve and mmap.
//!
//! Each mount belongs to one mount namespace (`mnt_ns.rs`, Linux: `struct
//! mnt_namespace`): the list below is global, as Linux's hash is, and a
//! mount is found through its parent mount, so a copied tree is seen only
//! by the tasks whose root lies in it. A new mount joins its parent's
//! namespace. Propagation types (`MS_SHARED`...) are recorded per mount and
//! shown in mountinfo, but mount events are not propagated to peers.
//!
//! # Locking
//! `MOUNTS` (the mount list, Linux's `mount_hash` + `namespace_sem`) is
//! taken before any dentry lock and never held while calling a file system;
//! a mount's `mnt_mountpoint` is a leaf taken under it. `mnt_flags` and
//! `mnt_writers` are atomics (see `mnt_get_write_access` for their order).
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use linux_raw_sys::general as uapi;

use super::dcache::{Dentry, shrink_dcache_sb};
use super::super_block::{SuperBlock, get_fs_type};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::{SpinLock, SpinLockNoIrq};
use crate::mm::slab_common::kmemdup;

mod mnt_ns;
mod pivot_root;
mod syscalls;
pub use mnt_ns::{MntNamespace, Propagation, copy_mnt_ns, init_mnt_ns, mnt_ns_mounts};
pub use pivot_root::sys_pivot_root;
pub use syscalls::{sys_mount, sys_umount};

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
    /// Where it is mounted; `None` for the root mount, an internal mount
    /// or one taken out of the tree; `MS_MOVE` changes it (Linux:
    /// `mnt_parent` + `mnt_mountpoint`).
    mnt_mountpoint: SpinLockNoIrq<Option<Path>>,
    /// The source as mount(2) was given it, "none" or a device (Linux:
    /// `mnt_devname`), for /proc/mounts.
    pub mnt_devname: alloc::boxed::Box<[u8]>,
    /// [`MntFlags`] bits; remount changes them (Linux: `mnt_flags`).
    pub mnt_flags: AtomicU32,
    /// Open files writing through this mount (Linux: `mnt_writers`).
    mnt_writers: AtomicU32,
    /// The id of the namespace it is in, 0 once out of every tree (Linux:
    /// `mnt_ns`); set when attached.
    mnt_ns: AtomicU64,
    /// Peer group, master and unbindable bit (Linux: `mnt_share`,
    /// `mnt_master`, `MNT_SHARED`...); a leaf lock.
    mnt_propagation: SpinLockNoIrq<Propagation>,
}

bitflags::bitflags! {
    /// Per-mount flags (Linux: `MNT_NOSUID` ... in include/linux/mount.h).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct MntFlags: u32 {
        const NOSUID = 0x01;
        const NODEV = 0x02;
        const NOEXEC = 0x04;
        const NOATIME = 0x08;
        const NODIRATIME = 0x10;
        const RELATIME = 0x20;
        const READONLY = 0x40;
        const NOSYMFOLLOW = 0x80;
    }
}

impl VfsMount {
    /// A mount of `root` (in `root`'s super block) at `mountpoint`.
    fn alloc(
        root: Arc<Dentry>,
        mountpoint: Option<Path>,
        devname: &[u8],
        flags: MntFlags,
    ) -> KResult<Arc<VfsMount>> {
        let name = kmemdup(devname)?;
        Ok(Arc::new(VfsMount {
            mnt_id: NEXT_MNT_ID.fetch_add(1, Ordering::Relaxed),
            mnt_sb: root.d_sb.clone(),
            mnt_root: root,
            mnt_mountpoint: SpinLockNoIrq::new(mountpoint),
            mnt_devname: name.into_boxed_slice(),
            mnt_flags: AtomicU32::new(flags.bits()),
            mnt_writers: AtomicU32::new(0),
            mnt_ns: AtomicU64::new(0),
            mnt_propagation: SpinLockNoIrq::new(Propagation::default()),
        }))
    }

    /// An internal mount of `root`, attached nowhere, with no id (Linux:
    /// `kern_mount` of a pseudo file system).
    pub fn new_internal(root: Arc<Dentry>) -> VfsMount {
        VfsMount {
            mnt_id: 0,
            mnt_sb: root.d_sb.clone(),
            mnt_root: root,
            mnt_mountpoint: SpinLockNoIrq::new(None),
            mnt_devname: alloc::boxed::Box::default(),
            mnt_flags: AtomicU32::new(0),
            mnt_writers: AtomicU32::new(0),
            mnt_ns: AtomicU64::new(0),
            mnt_propagation: SpinLockNoIrq::new(Propagation::default()),
        }
    }

    /// The id of the namespace it is in, 0 if none.
    pub fn ns_id(&self) -> u64 {
        self.mnt_ns.load(Ordering::Acquire)
    }

    pub fn propagation(&self) -> Propagation {
        *self.mnt_propagation.lock()
    }

    pub fn flags(&self) -> MntFlags {
        MntFlags::from_bits_truncate(self.mnt_flags.load(Ordering::Relaxed))
    }

    /// Where it is mounted (Linux: `mnt_parent` and `mnt_mountpoint`).
    pub fn mountpoint(&self) -> Option<Path> {
        self.mnt_mountpoint.lock().clone()
    }

    /// Whether it is mounted on a place of `parent`.
    fn is_child_of(&self, parent: &Arc<VfsMount>) -> bool {
        self.mnt_mountpoint.lock().as_ref().is_some_and(|mp| Arc::ptr_eq(&mp.mnt, parent))
    }
}

/// `EROFS` if nothing may be changed through `mnt` (Linux:
/// `mnt_want_write` → `__mnt_is_readonly`). Called by every operation that
/// modifies a file system: create, mkdir, mknod, symlink, link, unlink,
/// rmdir, rename, open for writing or with `O_TRUNC`, truncate, chmod,
/// chown, utimes. Only open files are counted ([`mnt_get_write_access`]):
/// the other operations run to completion while a remount read-only may
/// pass them (Linux holds the count for their duration too).
pub fn mnt_want_write(mnt: &VfsMount) -> KResult<()> {
    if mnt.flags().contains(MntFlags::READONLY) { Err(Errno::EROFS) } else { Ok(()) }
}

/// Counts an open file writing through `mnt`; `EROFS` on a read-only
/// mount (Linux: `mnt_get_write_access`). The count goes up before the
/// flag is read and a remount sets the flag before reading the count
/// (both `SeqCst`), so one of the two always sees the other.
pub fn mnt_get_write_access(mnt: &VfsMount) -> KResult<()> {
    mnt.mnt_writers.fetch_add(1, Ordering::SeqCst);
    if MntFlags::from_bits_truncate(mnt.mnt_flags.load(Ordering::SeqCst))
        .contains(MntFlags::READONLY)
    {
        mnt_put_write_access(mnt);
        return Err(Errno::EROFS);
    }
    Ok(())
}

/// Linux: `mnt_put_write_access`.
pub fn mnt_put_write_access(mnt: &VfsMount) {
    mnt.mnt_writers.fetch_sub(1, Ordering::SeqCst);
}

/// Whether device nodes may be opened through `path` (Linux:
/// `may_open_dev`: not on a `nodev` mount).
pub fn may_open_dev(path: &Path) -> bool {
    !path.mnt.flags().contains(MntFlags::NODEV)
}

/// Whether programs may not run from `path` (Linux: `path_noexec`).
pub fn path_noexec(path: &Path) -> bool {
    path.mnt.flags().contains(MntFlags::NOEXEC)
}

static NEXT_MNT_ID: AtomicU64 = AtomicU64::new(1);
/// Every attached mount of every namespace but their root mounts (Linux:
/// `mount_hashtable`).
static MOUNTS: SpinLock<Vec<Arc<VfsMount>>> = SpinLock::new(Vec::new());

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
        .find(|m| m.mnt_mountpoint.lock().as_ref().is_some_and(|mp| mp.same(path)))
        .cloned()
}

/// The root of the initial mount namespace's tree.
pub fn root_path() -> KResult<Path> {
    let mnt = init_mnt_ns().root().ok_or(Errno::ENOENT)?;
    Ok(Path::new(mnt.clone(), mnt.mnt_root.clone()))
}

/// Mounts a fresh instance of `fstype` attached nowhere (Linux:
/// `vfs_kern_mount`), for kernel-internal file systems and tests.
pub fn vfs_kern_mount(fstype: &[u8], source: &[u8], data: &[u8]) -> KResult<Arc<VfsMount>> {
    let fs = get_fs_type(fstype).ok_or(Errno::ENODEV)?;
    let root_inode = fs.mount(source, data, 0)?;
    // No MNT_RELATIME: Linux's `vfs_create_mount` adds none, so the
    // rootfs shows "rw" alone.
    VfsMount::alloc(Dentry::make_root(root_inode)?, None, source, MntFlags::empty())
}

/// Mounts a fresh instance of `fstype` on `mountpoint` (Linux:
/// `do_new_mount` → `vfs_get_tree` + `do_add_mount`).
pub fn do_new_mount(
    mountpoint: &Path,
    fstype: &[u8],
    source: &[u8],
    data: &[u8],
    flags: MntFlags,
) -> KResult<Arc<VfsMount>> {
    let fs = get_fs_type(fstype).ok_or(Errno::ENODEV)?;
    check_mountpoint(mountpoint)?;
    let sb_flags = if flags.contains(MntFlags::READONLY) { uapi::MS_RDONLY } else { 0 };
    let root_inode = fs.mount(source, data, sb_flags)?;
    let root = Dentry::make_root(root_inode)?;
    do_add_mount(VfsMount::alloc(root, Some(mountpoint.clone()), source, flags)?)
}

/// `ENOTDIR`/`ENOENT` unless `path` is a live directory (Linux: the checks
/// of `lock_mount` and `graft_tree`).
fn check_mountpoint(path: &Path) -> KResult<()> {
    check_graft(path, true)
}

/// `ENOTDIR` unless `path` is a directory exactly when the root to mount
/// there is (a file is bind-mounted on a file), `ENOENT` once removed
/// (Linux: `graft_tree`, `lock_mount`).
fn check_graft(path: &Path, root_is_dir: bool) -> KResult<()> {
    if path.dentry.positive()?.is_dir() != root_is_dir {
        return Err(Errno::ENOTDIR);
    }
    if path.dentry.is_unhashed() {
        return Err(Errno::ENOENT);
    }
    Ok(())
}

/// Puts a new mount into the tree (Linux: `do_add_mount` → `graft_tree`):
/// `EBUSY` for the same file system on the same place twice.
fn do_add_mount(mnt: Arc<VfsMount>) -> KResult<Arc<VfsMount>> {
    let mp = mnt.mountpoint().ok_or(Errno::EINVAL)?;
    if Arc::ptr_eq(&mp.mnt.mnt_sb, &mnt.mnt_sb) && Arc::ptr_eq(&mp.dentry, &mp.mnt.mnt_root) {
        return Err(Errno::EBUSY);
    }
    let mut mounts = MOUNTS.lock();
    mounts.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    mp.dentry.set_mounted(true);
    mnt.mnt_ns.store(mp.mnt.ns_id(), Ordering::Release);
    mounts.push(mnt.clone());
    Ok(mnt)
}

/// Whether `mnt` is in the tree (not the root mount, not detached).
fn is_attached(mounts: &[Arc<VfsMount>], mnt: &Arc<VfsMount>) -> bool {
    mounts.iter().any(|m| Arc::ptr_eq(m, mnt))
}

/// Makes the tree (or file) at `old` appear at `mountpoint` too, with `old`'s
/// mount flags (Linux: `do_loopback` → `clone_mnt`); with `recurse`
/// (`MS_REC`) the mounts below `old` are copied too (`copy_tree`).
pub fn do_loopback(mountpoint: &Path, old: &Path, recurse: bool) -> KResult<Arc<VfsMount>> {
    check_graft(mountpoint, old.dentry.positive()?.is_dir())?;
    if old.dentry.is_unhashed() {
        return Err(Errno::ENOENT);
    }
    // Linux: `do_loopback`: an unbindable mount may not be bound.
    if old.mnt.propagation().unbindable {
        return Err(Errno::EINVAL);
    }
    let top = do_add_mount(clone_mnt(&old.mnt, &old.dentry, Some(mountpoint.clone()))?)?;
    if recurse {
        copy_submounts(&old.mnt, &old.dentry, &top, &mut Vec::new())?;
    }
    Ok(top)
}

/// A new mount of `root` (in `old`'s file system) at `at`, with `old`'s
/// flags and peer group: a bind of a shared mount is its peer (Linux:
/// `clone_mnt` without `CL_PRIVATE`).
fn clone_mnt(old: &VfsMount, root: &Arc<Dentry>, at: Option<Path>) -> KResult<Arc<VfsMount>> {
    let copy = VfsMount::alloc(root.clone(), at, &old.mnt_devname, old.flags())?;
    *copy.mnt_propagation.lock() = old.propagation();
    Ok(copy)
}

/// Copies the mounts below `src` that lie under `src_root` onto the copy
/// `dst` of `src`, and theirs below them, noting each (original, copy)
/// pair in `copies` (Linux: `copy_tree`).
fn copy_submounts(
    src: &Arc<VfsMount>,
    src_root: &Arc<Dentry>,
    dst: &Arc<VfsMount>,
    copies: &mut Vec<(Arc<VfsMount>, Arc<VfsMount>)>,
) -> KResult<()> {
    let children: Vec<Arc<VfsMount>> =
        MOUNTS.lock().iter().filter(|m| m.is_child_of(src)).cloned().collect();
    for child in children {
        let Some(mp) = child.mountpoint() else { continue };
        if !mp.dentry.is_subdir(src_root) {
            continue;
        }
        let at = Path::new(dst.clone(), mp.dentry.clone());
        let copy = do_add_mount(clone_mnt(&child, &child.mnt_root, Some(at))?)?;
        copies.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        copies.push((child.clone(), copy.clone()));
        copy_submounts(&child, &child.mnt_root, &copy, copies)?;
    }
    Ok(())
}

/// `EINVAL` unless `path` is the root of a mount (Linux: the `path->dentry
/// != path->mnt->mnt_root` test of `do_remount` and friends).
fn check_mnt_root(path: &Path) -> KResult<()> {
    if Arc::ptr_eq(&path.dentry, &path.mnt.mnt_root) { Ok(()) } else { Err(Errno::EINVAL) }
}

/// Changes the flags of the mount whose root `path` is (Linux:
/// `do_remount`, and `do_reconfigure_mnt` for `MS_REMOUNT | MS_BIND`).
/// Read-only is a per-mount flag, and unless `bind` (`MS_BIND`: this
/// mount only) the file system follows through `remount_fs` (ext2 marks
/// its disk clean or not); other mounts of it keep their flag.
pub fn do_remount(path: &Path, flags: MntFlags, bind: bool) -> KResult<()> {
    check_mnt_root(path)?;
    let old = path.mnt.mnt_flags.swap(flags.bits(), Ordering::SeqCst);
    // Linux: `mnt_make_readonly`: `EBUSY` while a file is open for writing.
    let to_ro = flags.contains(MntFlags::READONLY) && old & MntFlags::READONLY.bits() == 0;
    if to_ro && path.mnt.mnt_writers.load(Ordering::SeqCst) > 0 {
        path.mnt.mnt_flags.store(old, Ordering::SeqCst);
        return Err(Errno::EBUSY);
    }
    // The file system follows (ext2 marks its disk clean or not).
    let ro = flags.contains(MntFlags::READONLY);
    if !bind
        && ro != (old & MntFlags::READONLY.bits() != 0)
        && let Err(e) = path.mnt.mnt_sb.s_op.remount_fs(&path.mnt.mnt_sb, ro)
    {
        path.mnt.mnt_flags.store(old, Ordering::SeqCst);
        return Err(e);
    }
    Ok(())
}

/// Moves the mount whose root `old` is to `new` (Linux:
/// `do_move_mount_old` → `do_move_mount`): `EINVAL` if `old` is not a
/// mount root or is the root mount, `ELOOP` for a place below `old`
/// itself.
pub fn do_move_mount(old: &Path, new: &Path) -> KResult<()> {
    check_mnt_root(old)?;
    // Linux: `d_is_dir(new) != d_is_dir(old)` is EINVAL here, not ENOTDIR.
    let is_dir = old.dentry.positive()?.is_dir();
    check_graft(new, is_dir).map_err(|e| if e == Errno::ENOTDIR { Errno::EINVAL } else { e })?;
    let mut mounts = MOUNTS.lock();
    if !is_attached(&mounts, &old.mnt) {
        return Err(Errno::EINVAL);
    }
    let mut cur = Some(new.mnt.clone());
    while let Some(m) = cur {
        if Arc::ptr_eq(&m, &old.mnt) {
            return Err(Errno::ELOOP);
        }
        cur = m.mountpoint().map(|p| p.mnt);
    }
    // Last in the list: on top of whatever is mounted at `new`.
    let idx = mounts.iter().position(|m| Arc::ptr_eq(m, &old.mnt)).ok_or(Errno::EINVAL)?;
    let mnt = mounts.remove(idx);
    mounts.push(mnt);
    new.dentry.set_mounted(true);
    let prev = old.mnt.mnt_mountpoint.lock().replace(new.clone());
    if let Some(prev) = prev {
        prev.dentry.set_mounted(false);
    }
    Ok(())
}

/// Unmounts the mount whose root `path` is (Linux: `do_umount`): `EINVAL`
/// if `path` is not a mount's root, `EBUSY` if something is mounted below
/// it or the root mount is asked for.
pub fn do_umount(path: &Path) -> KResult<()> {
    path_umount(path, UmountFlags::empty())
}

bitflags::bitflags! {
    /// umount2(2)'s flags (Linux: `MNT_FORCE`, `MNT_DETACH`, `MNT_EXPIRE`,
    /// `UMOUNT_NOFOLLOW`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct UmountFlags: u32 {
        const FORCE = 1;
        const DETACH = 2;
        const EXPIRE = 4;
        const NOFOLLOW = 8;
    }
}

/// References to a mount that are not "in use": the tree's and the
/// caller's (Linux: the `2` of `propagate_mount_busy`'s `mnt_count` test).
const MNT_IDLE_REFS: usize = 2;

/// Unmounts the mount whose root `path` is (Linux: `path_umount` →
/// `do_umount`). `EINVAL` unless `path` is a mount's root, `EBUSY` for
/// the root mount, a mount with mounts below it, or one in use (an open
/// file, a working directory); `MNT_DETACH` takes it and every mount
/// below it out of the tree however busy (lazy unmount: users keep what
/// they hold).
pub fn path_umount(path: &Path, flags: UmountFlags) -> KResult<()> {
    check_mnt_root(path)?;
    let detach = flags.contains(UmountFlags::DETACH);
    let victims = {
        let mut mounts = MOUNTS.lock();
        let idx = mounts.iter().position(|m| Arc::ptr_eq(m, &path.mnt)).ok_or(Errno::EBUSY)?;
        if !detach {
            // The tree's reference, `path`'s, and the one `mounts` holds.
            if mounts.iter().any(|m| m.is_child_of(&path.mnt))
                || Arc::strong_count(&path.mnt) > MNT_IDLE_REFS
            {
                return Err(Errno::EBUSY);
            }
            if flags.contains(UmountFlags::EXPIRE) {
                // Linux marks it and asks again; a second call would unmount.
                return Err(Errno::EAGAIN);
            }
        }
        // The victim, then (with MNT_DETACH) everything mounted below it.
        let mut victims = alloc::vec![mounts.remove(idx)];
        let mut i = 0;
        while let Some(parent) = victims.get(i).cloned() {
            let mut j = 0;
            while let Some(m) = mounts.get(j) {
                if m.is_child_of(&parent) {
                    victims.push(mounts.remove(j));
                } else {
                    j += 1;
                }
            }
            i += 1;
        }
        victims
    };
    for victim in &victims {
        // Detached: `..` from inside stops at its root, as in Linux.
        if let Some(mp) = victim.mnt_mountpoint.lock().take() {
            mp.dentry.set_mounted(false);
        }
        victim.mnt_ns.store(0, Ordering::Release);
        if !sb_is_mounted(&victim.mnt_sb) {
            shrink_dcache_sb(&victim.mnt_sb);
            // The last mount of it: on the disk before umount returns.
            super::sync::deactivate_super(&victim.mnt_sb);
        }
    }
    Ok(())
}

/// Whether any namespace still has a mount of `sb`.
fn sb_is_mounted(sb: &Arc<SuperBlock>) -> bool {
    MOUNTS.lock().iter().any(|m| Arc::ptr_eq(&m.mnt_sb, sb))
        || mnt_ns::ns_roots().iter().any(|m| Arc::ptr_eq(&m.mnt_sb, sb))
}

/// Mounts the root file system, a tmpfs, as the root of the initial mount
/// namespace (Linux: `init_mount_tree`, with the rootfs being tmpfs as
/// with `CONFIG_TMPFS` and no `root=`).
pub fn init_mount_tree() -> KResult<()> {
    let mnt = vfs_kern_mount(b"tmpfs", b"rootfs", b"")?;
    mnt_ns::set_init_root(mnt)
}

/// Whether `mnt` is the root of its namespace's tree (Linux:
/// `mnt_has_parent` negated), for /proc/mounts's "rootfs".
pub fn is_root_mount(mnt: &Arc<VfsMount>) -> bool {
    mnt.ns_id() != 0 && mnt.mountpoint().is_none()
}

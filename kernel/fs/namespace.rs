//! Mounts: which file system appears where (Linux: fs/namespace.c,
//! include/linux/mount.h `struct vfsmount`, include/linux/path.h).
//!
//! A [`VfsMount`] attaches a super block's root dentry at a mountpoint, a
//! (mount, dentry) pair of the parent mount. A [`Path`] is such a pair and
//! names a place in the whole tree: the same dentry can be reached through
//! several mounts. `lookup_mnt` finds what is mounted on a path; the walk
//! in `namei` uses it to cross into mounts and `mnt_parent` to climb out of
//! them on `..`. The first mount, the root tmpfs, is made by
//! [`init_mount_tree`]; the rest by mount(2) (`do_new_mount`, `do_loopback`,
//! `do_remount`), and umount2(2) takes them away (`path_umount`).
//!
//! # Locking
//! `MOUNTS` (the mount list, Linux's `mount_hash` + `namespace_sem`) is
//! taken before any dentry lock and never held while calling a file system.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use spin::Once;

use linux_raw_sys::general as uapi;

use super::dcache::{Dentry, shrink_dcache_sb};
use super::namei::{AT_FDCWD, user_path_at};
use super::super_block::{SuperBlock, get_fs_type};
use super::{FsContext, current_fs};
use crate::arch::uaccess::{StrncpyError, strncpy_from_user};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::current;
use crate::kernel::syscall::args::{UserPtr, getname};
use crate::mm::addr::PAGE_SIZE;
use crate::mm::slab_common::{kmemdup, kzalloc};

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
    /// The source as mount(2) was given it, "none" or a device (Linux:
    /// `mnt_devname`), for /proc/mounts.
    pub mnt_devname: alloc::boxed::Box<[u8]>,
    /// [`MntFlags`] bits; remount changes them (Linux: `mnt_flags`).
    pub mnt_flags: AtomicU32,
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
            mnt_mountpoint: mountpoint,
            mnt_devname: name.into_boxed_slice(),
            mnt_flags: AtomicU32::new(flags.bits()),
        }))
    }

    pub fn flags(&self) -> MntFlags {
        MntFlags::from_bits_truncate(self.mnt_flags.load(Ordering::Relaxed))
    }
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
    VfsMount::alloc(Dentry::make_root(root_inode)?, None, source, MntFlags::RELATIME)
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
    let root_inode = fs.mount(source, data)?;
    let root = Dentry::make_root(root_inode)?;
    do_add_mount(VfsMount::alloc(root, Some(mountpoint.clone()), source, flags)?)
}

/// `ENOTDIR`/`ENOENT` unless `path` is a live directory (Linux: the checks
/// of `lock_mount` and `graft_tree`).
fn check_mountpoint(path: &Path) -> KResult<()> {
    if !path.dentry.positive()?.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if path.dentry.is_unhashed() {
        return Err(Errno::ENOENT);
    }
    Ok(())
}

/// Puts a new mount into the tree (Linux: `do_add_mount` → `graft_tree`).
fn do_add_mount(mnt: Arc<VfsMount>) -> KResult<Arc<VfsMount>> {
    let mp = mnt.mnt_mountpoint.as_ref().ok_or(Errno::EINVAL)?;
    let mut mounts = MOUNTS.lock();
    mounts.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    mp.dentry.set_mounted(true);
    mounts.push(mnt.clone());
    Ok(mnt)
}

/// Makes the tree at `old` appear at `mountpoint` too (Linux:
/// `do_loopback` without `MS_REC`: the mounts below `old` are not copied).
pub fn do_loopback(mountpoint: &Path, old: &Path, flags: MntFlags) -> KResult<Arc<VfsMount>> {
    check_mountpoint(mountpoint)?;
    if old.dentry.is_unhashed() {
        return Err(Errno::ENOENT);
    }
    let devname = old.mnt.mnt_devname.clone();
    do_add_mount(VfsMount::alloc(old.dentry.clone(), Some(mountpoint.clone()), &devname, flags)?)
}

/// Changes the flags of the mount whose root `path` is (Linux:
/// `do_remount` for the per-mount part); `EINVAL` elsewhere.
pub fn do_remount(path: &Path, flags: MntFlags) -> KResult<()> {
    if !Arc::ptr_eq(&path.dentry, &path.mnt.mnt_root) {
        return Err(Errno::EINVAL);
    }
    path.mnt.mnt_flags.store(flags.bits(), Ordering::Relaxed);
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
    if !Arc::ptr_eq(&path.dentry, &path.mnt.mnt_root) {
        return Err(Errno::EINVAL);
    }
    let detach = flags.contains(UmountFlags::DETACH);
    let victims = {
        let mut mounts = MOUNTS.lock();
        let idx = mounts.iter().position(|m| Arc::ptr_eq(m, &path.mnt)).ok_or(Errno::EBUSY)?;
        let is_child = |m: &Arc<VfsMount>, of: &Arc<VfsMount>| {
            m.mnt_mountpoint.as_ref().is_some_and(|mp| Arc::ptr_eq(&mp.mnt, of))
        };
        if !detach {
            // The tree's reference, `path`'s, and the one `mounts` holds.
            if mounts.iter().any(|m| is_child(m, &path.mnt))
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
        while i < victims.len() {
            let parent = victims[i].clone();
            let mut j = 0;
            while j < mounts.len() {
                if is_child(&mounts[j], &parent) {
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
        if let Some(mp) = &victim.mnt_mountpoint {
            mp.dentry.set_mounted(false);
        }
        if !mounts().iter().any(|m| Arc::ptr_eq(&m.mnt_sb, &victim.mnt_sb)) {
            shrink_dcache_sb(&victim.mnt_sb);
        }
    }
    Ok(())
}

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

/// Whether `mnt` is the root of the mount tree (Linux: `mnt_has_parent`
/// negated), for /proc/mounts's "rootfs".
pub fn is_root_mount(mnt: &Arc<VfsMount>) -> bool {
    ROOT_MNT.get().is_some_and(|root| Arc::ptr_eq(root, mnt))
}

/// A string argument of mount(2): empty for NULL (Linux:
/// `copy_mount_string`, `strndup_user(…, PATH_MAX)`; the options page of
/// `copy_mount_options` is read as a string too, as every file system
/// here takes text options).
fn copy_mount_string(ptr: UserPtr<u8>) -> KResult<Vec<u8>> {
    if ptr.is_null() {
        return Ok(Vec::new());
    }
    let mut buf = kzalloc(PAGE_SIZE)?;
    let len = strncpy_from_user(&mut buf, ptr.addr()).map_err(|e| match e {
        StrncpyError::Fault => Errno::EFAULT,
        StrncpyError::TooLong => Errno::EINVAL,
    })?;
    buf.truncate(len);
    Ok(buf)
}

/// The per-mount part of mount(2)'s flags (Linux: the `mnt_flags` of
/// `path_mount`): relatime unless noatime or strictatime is asked for.
fn ms_to_mnt_flags(ms: u32) -> MntFlags {
    let pairs = [
        (uapi::MS_NOSUID, MntFlags::NOSUID),
        (uapi::MS_NODEV, MntFlags::NODEV),
        (uapi::MS_NOEXEC, MntFlags::NOEXEC),
        (uapi::MS_NOATIME, MntFlags::NOATIME),
        (uapi::MS_NODIRATIME, MntFlags::NODIRATIME),
        (uapi::MS_RDONLY, MntFlags::READONLY),
        (uapi::MS_NOSYMFOLLOW, MntFlags::NOSYMFOLLOW),
    ];
    let mut flags = MntFlags::empty();
    for (ms_bit, mnt_bit) in pairs {
        flags.set(mnt_bit, ms & ms_bit != 0);
    }
    if ms & (uapi::MS_NOATIME | uapi::MS_STRICTATIME) == 0 {
        flags |= MntFlags::RELATIME;
    }
    flags
}

/// The work of mount(2) once the target is found (Linux: `path_mount`).
/// Propagation changes (`MS_SHARED`, `MS_PRIVATE`…) succeed without
/// effect: every mount is private here. `MS_MOVE` is not supported yet.
fn path_mount(
    ctx: FsContext<'_>,
    dev_name: &[u8],
    path: &Path,
    fstype: &[u8],
    flags: u64,
    data: &[u8],
) -> KResult<()> {
    let mut flags = u32::try_from(flags & u64::from(u32::MAX)).unwrap_or(0);
    if flags & uapi::MS_MGC_MSK == uapi::MS_MGC_VAL {
        flags &= !uapi::MS_MGC_MSK;
    }
    let mnt_flags = ms_to_mnt_flags(flags);
    let propagation = uapi::MS_SHARED | uapi::MS_PRIVATE | uapi::MS_SLAVE | uapi::MS_UNBINDABLE;
    if flags & uapi::MS_REMOUNT != 0 {
        do_remount(path, mnt_flags)
    } else if flags & uapi::MS_BIND != 0 {
        let old = user_path_at(ctx, AT_FDCWD, dev_name, 0)?;
        do_loopback(path, &old, mnt_flags).map(drop)
    } else if flags & propagation != 0 {
        Ok(())
    } else if flags & uapi::MS_MOVE != 0 || fstype.is_empty() {
        Err(Errno::EINVAL)
    } else {
        do_new_mount(path, fstype, dev_name, data, mnt_flags).map(drop)
    }
}

/// Only the superuser mounts (Linux: `may_mount`, `CAP_SYS_ADMIN`).
fn may_mount() -> KResult<()> {
    if current().cred().euid == 0 { Ok(()) } else { Err(Errno::EPERM) }
}

/// mount(2) (Linux: `SYSCALL_DEFINE5(mount)` → `do_mount`).
pub fn sys_mount(
    dev_name: UserPtr<u8>,
    dir_name: UserPtr<u8>,
    fstype: UserPtr<u8>,
    flags: u64,
    data: UserPtr<u8>,
) -> KResult<()> {
    let fstype = copy_mount_string(fstype)?;
    let dev_name = copy_mount_string(dev_name)?;
    let data = copy_mount_string(data)?;
    let dir_name = getname(dir_name)?;
    let cur = current_fs()?;
    let path = user_path_at(cur.ctx(), AT_FDCWD, &dir_name, 0)?;
    may_mount()?;
    path_mount(cur.ctx(), &dev_name, &path, &fstype, flags, &data)
}

/// umount2(2) (Linux: `SYSCALL_DEFINE2(umount)` → `ksys_umount`):
/// `EINVAL` for unknown flags or `MNT_EXPIRE` with `MNT_FORCE` or
/// `MNT_DETACH`. `MNT_FORCE` asks file systems to abort pending I/O,
/// which none here has.
pub fn sys_umount(name: UserPtr<u8>, flags: u32) -> KResult<()> {
    let flags = UmountFlags::from_bits(flags).ok_or(Errno::EINVAL)?;
    if flags.contains(UmountFlags::EXPIRE)
        && flags.intersects(UmountFlags::FORCE | UmountFlags::DETACH)
    {
        return Err(Errno::EINVAL);
    }
    let name = getname(name)?;
    let at_flags =
        if flags.contains(UmountFlags::NOFOLLOW) { uapi::AT_SYMLINK_NOFOLLOW } else { 0 };
    let path = user_path_at(current_fs()?.ctx(), AT_FDCWD, &name, at_flags)?;
    may_mount()?;
    path_umount(&path, flags)
}

//! pivot_root(2): the caller's root mount moves to `put_old` and the mount
//! at `new_root` takes its place; every task rooted or working at the old
//! root follows (Linux: fs/namespace.c `SYSCALL_DEFINE2(pivot_root)`,
//! `is_path_reachable`, fs/fs_struct.c `chroot_fs_refs`).
//!
//! # Locking
//! `MOUNTS` while the two mounts change places; each task's `fs` lock
//! afterwards, one at a time, in `chroot_fs_refs`.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use super::mnt_ns::check_mnt;
use super::{MOUNTS, Path, VfsMount};
use crate::fs::current_fs;
use crate::fs::namei::{AT_FDCWD, LookupFlags, filename_lookup};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::pid::for_each_process;
use crate::kernel::sched::current;
use crate::kernel::syscall::args::{UserPtr, getname};

/// Whether `(mnt, dentry)` is at or below `root` (Linux:
/// `is_path_reachable`).
fn is_path_reachable(
    mnt: &Arc<VfsMount>,
    dentry: &Arc<crate::fs::dcache::Dentry>,
    root: &Path,
) -> bool {
    let (mut mnt, mut dentry) = (mnt.clone(), dentry.clone());
    while !Arc::ptr_eq(&mnt, &root.mnt) {
        let Some(mp) = mnt.mountpoint() else { return false };
        (mnt, dentry) = (mp.mnt, mp.dentry);
    }
    dentry.is_subdir(&root.dentry)
}

fn is_shared(mnt: Option<&Arc<VfsMount>>) -> bool {
    mnt.is_some_and(|m| m.propagation().shared != 0)
}

/// Linux's checks, in its order: `EINVAL` for a shared mount involved, a
/// mount outside the caller's namespace, a root or `new_root` that is not
/// a mount's root or is not attached, `put_old` not under `new_root`,
/// `new_root` not under the root; `ENOENT` for a removed `new_root`;
/// `EBUSY` when `new_root` or `put_old` is on the root mount itself.
fn check_pivot(new: &Path, old: &Path, root: &Path) -> KResult<()> {
    let ex_parent = new.mnt.mountpoint().map(|p| p.mnt);
    let root_parent = root.mnt.mountpoint().map(|p| p.mnt);
    if is_shared(Some(&old.mnt)) || is_shared(ex_parent.as_ref()) || is_shared(root_parent.as_ref())
    {
        return Err(Errno::EINVAL);
    }
    if !check_mnt(&root.mnt) || !check_mnt(&new.mnt) {
        return Err(Errno::EINVAL);
    }
    if new.dentry.is_unhashed() {
        return Err(Errno::ENOENT);
    }
    if Arc::ptr_eq(&new.mnt, &root.mnt) || Arc::ptr_eq(&old.mnt, &root.mnt) {
        return Err(Errno::EBUSY);
    }
    let mounted = |p: &Path| Arc::ptr_eq(&p.dentry, &p.mnt.mnt_root);
    if !mounted(root) || root_parent.is_none() || !mounted(new) || ex_parent.is_none() {
        return Err(Errno::EINVAL);
    }
    if !is_path_reachable(&old.mnt, &old.dentry, new)
        || !is_path_reachable(&new.mnt, &new.dentry, root)
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Swaps the mounts: the root mount onto `old`, `new`'s mount where the
/// root mount was (Linux: `umount_mnt`, `unhash_mnt`, two `attach_mnt`).
fn swap_mounts(new: &Path, old: &Path, root: &Path) -> KResult<()> {
    let mut mounts = MOUNTS.lock();
    mounts.try_reserve(2).map_err(|_| Errno::ENOMEM)?;
    let new_mp = new.mnt.mnt_mountpoint.lock().take().ok_or(Errno::EINVAL)?;
    let Some(root_mp) = root.mnt.mnt_mountpoint.lock().take() else {
        *new.mnt.mnt_mountpoint.lock() = Some(new_mp);
        return Err(Errno::EINVAL);
    };
    new_mp.dentry.set_mounted(false);
    old.dentry.set_mounted(true);
    *root.mnt.mnt_mountpoint.lock() = Some(old.clone());
    *new.mnt.mnt_mountpoint.lock() = Some(root_mp);
    // Both last: on top of whatever else is mounted at their new places.
    mounts.retain(|m| !Arc::ptr_eq(m, &new.mnt) && !Arc::ptr_eq(m, &root.mnt));
    mounts.push(new.mnt.clone());
    mounts.push(root.mnt.clone());
    Ok(())
}

/// Every task rooted or working at `old_root` moves to `new_root`
/// (Linux: `chroot_fs_refs`).
fn chroot_fs_refs(old_root: &Path, new_root: &Path) {
    for_each_process(|task| {
        for thread in task.threads() {
            let Some(fs) = thread.fs.lock().clone() else { continue };
            if fs.root().same(old_root) {
                fs.set_root(new_root.clone());
            }
            if fs.pwd().same(old_root) {
                fs.set_pwd(new_root.clone());
            }
        }
    });
}

/// pivot_root(2) (Linux: `SYSCALL_DEFINE2(pivot_root)`): `EPERM` without
/// `CAP_SYS_ADMIN`, checked first; both paths must be directories.
pub fn sys_pivot_root(new_root: UserPtr<u8>, put_old: UserPtr<u8>) -> KResult<()> {
    if current().cred().euid != 0 {
        return Err(Errno::EPERM);
    }
    let new_name = getname(new_root)?;
    let old_name = getname(put_old)?;
    let cur = current_fs()?;
    let flags = LookupFlags::FOLLOW | LookupFlags::DIRECTORY;
    let new = filename_lookup(cur.ctx(), AT_FDCWD, &new_name, flags)?;
    let old = filename_lookup(cur.ctx(), AT_FDCWD, &old_name, flags)?;
    let root = cur.ctx().fs.root();
    check_pivot(&new, &old, &root)?;
    swap_mounts(&new, &old, &root)?;
    chroot_fs_refs(&root, &new);
    Ok(())
}

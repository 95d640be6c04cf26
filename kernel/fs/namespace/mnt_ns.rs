//! Mount namespaces and propagation types (Linux: fs/namespace.c
//! `alloc_mnt_ns`, `copy_mnt_ns`, `free_mnt_ns`, `do_change_type`;
//! fs/pnode.c `change_mnt_propagation`; fs/mount.h `struct mnt_namespace`).
//!
//! A [`MntNamespace`] is a root mount and every mount tagged with its id.
//! `copy_mnt_ns` (for `CLONE_NEWNS`) copies the whole tree of the old
//! namespace, and moves the caller's root and working directory onto the
//! copies, so that the caller's later walks only meet the new tree. A
//! namespace nobody uses any more takes its mounts out of the list
//! (Linux: `put_mnt_ns` → `umount_tree`); their file systems are not
//! synced there (dropping may happen anywhere), which a last mount of a
//! disk should not rely on.
//!
//! Propagation types are recorded per mount (`shared:N`, `master:N`,
//! `unbindable` in mountinfo), copied to bind mounts and namespace copies
//! as Linux's `clone_mnt` does; a mount or umount is not yet propagated to
//! peers or slaves.
//!
//! # Locking
//! `NS_ROOTS` is a leaf lock, like `MOUNTS` (never both at once here); a
//! mount's `mnt_propagation` is a leaf taken under neither.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use linux_raw_sys::general as uapi;
use spin::Once;

use super::{MOUNTS, Path, VfsMount, check_mnt_root, clone_mnt, copy_submounts};
use crate::fs::fs_struct::FsStruct;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::nsproxy::{proc_alloc_inum, task_nsproxy};
use crate::kernel::sched::current;

/// A mount tree of its own (Linux: `struct mnt_namespace`).
pub struct MntNamespace {
    /// Tags the mounts that belong here (Linux: `seq`); never 0.
    pub id: u64,
    /// Its nsfs inode number, /proc/PID/ns/mnt's `mnt:[N]` (Linux: `ns.inum`).
    pub ns_inum: u32,
    root: Once<Arc<VfsMount>>,
}

impl MntNamespace {
    /// The root mount (Linux: `ns->root`); `None` before `init_mount_tree`.
    pub fn root(&self) -> Option<Arc<VfsMount>> {
        self.root.get().cloned()
    }
}

impl Drop for MntNamespace {
    /// Linux: `put_mnt_ns` → `umount_tree`: nobody can reach these mounts.
    fn drop(&mut self) {
        let id = self.id;
        NS_ROOTS.lock().retain(|(ns, _)| *ns != id);
        // Room first, so nothing is allocated under the lock; nobody can
        // add a mount here any more (no task is in the namespace). Out of
        // memory, the mounts stay listed, unreachable.
        let count = MOUNTS.lock().iter().filter(|m| m.ns_id() == id).count();
        let mut victims: Vec<Arc<VfsMount>> = Vec::new();
        if victims.try_reserve_exact(count).is_ok() {
            let mut mounts = MOUNTS.lock();
            let mut i = 0;
            while let Some(m) = mounts.get(i) {
                if m.ns_id() == id && victims.len() < victims.capacity() {
                    victims.push(mounts.remove(i));
                } else {
                    i += 1;
                }
            }
        }
        for victim in victims.iter().chain(self.root.get()) {
            if let Some(mp) = victim.mnt_mountpoint.lock().take() {
                mp.dentry.set_mounted(false);
            }
            victim.mnt_ns.store(0, Ordering::Release);
        }
    }
}

static NEXT_NS_ID: AtomicU64 = AtomicU64::new(1);
static INIT_MNT_NS: Once<Arc<MntNamespace>> = Once::new();
/// Each live namespace's id and root mount, for `sb_is_mounted`.
static NS_ROOTS: SpinLock<Vec<(u64, Arc<VfsMount>)>> = SpinLock::new(Vec::new());

/// Linux: `alloc_mnt_ns`.
fn alloc_mnt_ns() -> MntNamespace {
    MntNamespace {
        id: NEXT_NS_ID.fetch_add(1, Ordering::Relaxed),
        ns_inum: proc_alloc_inum(),
        root: Once::new(),
    }
}

/// The initial namespace (Linux: `init_task.nsproxy->mnt_ns`).
pub fn init_mnt_ns() -> Arc<MntNamespace> {
    INIT_MNT_NS.call_once(|| Arc::new(alloc_mnt_ns())).clone()
}

/// The running task's namespace.
pub fn current_mnt_ns() -> Arc<MntNamespace> {
    task_nsproxy(&current()).mnt_ns.clone()
}

/// Makes `root` the root of `ns`'s tree.
fn set_root(ns: &MntNamespace, root: Arc<VfsMount>) -> KResult<()> {
    if ns.root.get().is_some() {
        return Err(Errno::EBUSY);
    }
    let mut roots = NS_ROOTS.lock();
    roots.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    root.mnt_ns.store(ns.id, Ordering::Release);
    roots.push((ns.id, root.clone()));
    ns.root.call_once(|| root);
    Ok(())
}

/// `init_mount_tree`'s last step.
pub(super) fn set_init_root(root: Arc<VfsMount>) -> KResult<()> {
    set_root(&init_mnt_ns(), root)
}

/// The root mounts of every namespace.
pub(super) fn ns_roots() -> Vec<Arc<VfsMount>> {
    NS_ROOTS.lock().iter().map(|(_, root)| root.clone()).collect()
}

/// The mounts of `ns`, root first, in mount order (for /proc/PID/mounts).
pub fn mnt_ns_mounts(ns: &MntNamespace) -> Vec<Arc<VfsMount>> {
    let mut all: Vec<Arc<VfsMount>> = ns.root().into_iter().collect();
    all.extend(MOUNTS.lock().iter().filter(|m| m.ns_id() == ns.id).cloned());
    all
}

/// Whether `mnt` is in the caller's namespace (Linux: `check_mnt`).
pub(super) fn check_mnt(mnt: &VfsMount) -> bool {
    mnt.ns_id() == current_mnt_ns().id
}

/// A copy of `old`'s whole tree as a new namespace; `fs`'s root and
/// working directory move to the copies of their mounts (Linux:
/// `copy_mnt_ns` with `copy_tree(…, CL_COPY_ALL)`).
pub fn copy_mnt_ns(old: &MntNamespace, fs: Option<&FsStruct>) -> KResult<Arc<MntNamespace>> {
    let old_root = old.root().ok_or(Errno::EINVAL)?;
    let ns = Arc::new(alloc_mnt_ns());
    let new_root = clone_mnt(&old_root, &old_root.mnt_root, None)?;
    // From here on, dropping `ns` on an error takes the copies away.
    set_root(&ns, new_root.clone())?;
    let mut copies = alloc::vec![(old_root.clone(), new_root.clone())];
    copy_submounts(&old_root, &old_root.mnt_root, &new_root, &mut copies)?;
    if let Some(fs) = fs {
        let moved = |p: Path| match copies.iter().find(|(orig, _)| Arc::ptr_eq(orig, &p.mnt)) {
            Some((_, copy)) => Path::new(copy.clone(), p.dentry),
            None => p,
        };
        fs.set_root(moved(fs.root()));
        fs.set_pwd(moved(fs.pwd()));
    }
    Ok(ns)
}

/// A propagation type (Linux: the `MNT_SHARED`/`MNT_UNBINDABLE` flags,
/// `mnt_group_id` and `mnt_master`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Propagation {
    /// Peer group id when shared, 0 when not (Linux: `mnt_group_id`).
    pub shared: u32,
    /// The peer group this mount is a slave of, 0 if none.
    pub master: u32,
    pub unbindable: bool,
}

/// Peer group ids, from 1 (Linux: `mnt_group_ida`).
static NEXT_GROUP_ID: AtomicU32 = AtomicU32::new(1);

/// The new type of a mount (Linux: `change_mnt_propagation`,
/// `do_make_slave`): a shared mount with peers made a slave follows its
/// old peer group; one with no peer keeps its own master, and one with no
/// master at all becomes private.
fn change_mnt_propagation(p: Propagation, ms: u32, has_peers: bool) -> Propagation {
    if ms == uapi::MS_SHARED {
        let shared =
            if p.shared != 0 { p.shared } else { NEXT_GROUP_ID.fetch_add(1, Ordering::Relaxed) };
        return Propagation { shared, master: p.master, unbindable: false };
    }
    let master = if p.shared != 0 && has_peers { p.shared } else { p.master };
    match ms {
        uapi::MS_SLAVE => Propagation { shared: 0, master, unbindable: false },
        uapi::MS_UNBINDABLE => Propagation { shared: 0, master, unbindable: true },
        _ => Propagation::default(),
    }
}

/// `MS_SHARED`, `MS_PRIVATE`, `MS_SLAVE`, `MS_UNBINDABLE`, with `MS_REC`
/// for every mount below too (Linux: `do_change_type`): `EINVAL` unless
/// `path` is a mount root of the caller's namespace and exactly one type
/// is asked for.
pub(super) fn do_change_type(path: &Path, ms: u32) -> KResult<()> {
    check_mnt_root(path)?;
    if !check_mnt(&path.mnt) {
        return Err(Errno::EINVAL);
    }
    let types = ms & (uapi::MS_SHARED | uapi::MS_PRIVATE | uapi::MS_SLAVE | uapi::MS_UNBINDABLE);
    if types.count_ones() != 1 {
        return Err(Errno::EINVAL);
    }
    let mut targets = alloc::vec![path.mnt.clone()];
    if ms & uapi::MS_REC != 0 {
        let mounts = MOUNTS.lock();
        let mut i = 0;
        while let Some(parent) = targets.get(i).cloned() {
            let below = mounts.iter().filter(|m| m.is_child_of(&parent)).cloned();
            targets.try_reserve(mounts.len()).map_err(|_| Errno::ENOMEM)?;
            targets.extend(below);
            i += 1;
        }
    }
    for mnt in targets {
        let group = mnt.propagation().shared;
        let mut all = ns_roots();
        all.extend(MOUNTS.lock().iter().cloned());
        let others = group != 0
            && all.iter().any(|m| !Arc::ptr_eq(m, &mnt) && m.propagation().shared == group);
        let mut p = mnt.mnt_propagation.lock();
        *p = change_mnt_propagation(*p, types, others);
    }
    Ok(())
}

crate::ktest!(mnt_ns_copy_and_drop, {
    let init = init_mnt_ns();
    let before = MOUNTS.lock().len();
    let orig = mnt_ns_mounts(&init);
    let copy = copy_mnt_ns(&init, None).map_err(|_| "copy_mnt_ns")?;
    let copied = mnt_ns_mounts(&copy);
    crate::kassert!(copied.len() == orig.len(), "every mount copied");
    let pairs = orig.iter().zip(&copied);
    crate::kassert!(
        pairs.clone().all(|(o, c)| !Arc::ptr_eq(o, c) && Arc::ptr_eq(&o.mnt_sb, &c.mnt_sb)),
        "copies are new mounts of the same file systems, in order"
    );
    crate::kassert!(
        copied.iter().all(|m| m.ns_id() == copy.id) && copy.ns_inum != init.ns_inum,
        "tagged with the new namespace, its own inode number"
    );
    crate::kassert!(MOUNTS.lock().len() == before + orig.len() - 1, "copies are in the list");
    drop(copied);
    drop(copy);
    crate::kassert!(MOUNTS.lock().len() == before, "a dropped namespace takes its mounts away");
    crate::kassert!(mnt_ns_mounts(&init).len() == orig.len(), "the original is untouched");
    Ok(())
});

crate::ktest!(mnt_ns_propagation_types, {
    let private = Propagation::default();
    let shared = change_mnt_propagation(private, uapi::MS_SHARED, false);
    crate::kassert!(shared.shared != 0 && shared.master == 0, "MS_SHARED makes a group");
    let again = change_mnt_propagation(shared, uapi::MS_SHARED, false);
    crate::kassert!(again.shared == shared.shared, "shared again keeps its group");
    let slave = change_mnt_propagation(shared, uapi::MS_SLAVE, true);
    crate::kassert!(slave.shared == 0 && slave.master == shared.shared, "slave of its peers");
    let alone = change_mnt_propagation(shared, uapi::MS_SLAVE, false);
    crate::kassert!(alone == private, "a slave of nothing is private");
    let unb = change_mnt_propagation(slave, uapi::MS_UNBINDABLE, false);
    crate::kassert!(unb.unbindable && unb.master == slave.master, "unbindable keeps its master");
    let back = change_mnt_propagation(unb, uapi::MS_PRIVATE, false);
    crate::kassert!(back == private, "MS_PRIVATE clears everything");
    Ok(())
});

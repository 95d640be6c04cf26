//! The dentry cache: names in directories, mapped to inodes (Linux:
//! fs/dcache.c, include/linux/dcache.h `struct dentry`).
//!
//! A [`Dentry`] is one name in one directory: its parent (`d_parent`, so
//! `..` and `getcwd` need no file-system call), its name, and its inode, or
//! none for a *negative* dentry that remembers that a name does not exist.
//! `DENTRY_HASHTABLE` maps (parent, name) to the dentry, so one name has
//! one dentry and a path walk that hits the cache never asks the file
//! system. Entries stay until the name is removed or renamed away
//! (`d_delete`, `d_move`) or the file system is unmounted; Linux also
//! trims unused ones under memory pressure (a shrinker, not yet here).
//!
//! # Locking
//! `DENTRY_HASHTABLE` before any `d_lock`; `d_lock` guards name, parent and
//! inode of one dentry and is taken last (no other VFS lock inside it).
//! Changes to which dentry a name has are made under the file system's
//! `s_vfs_rename_lock`.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use super::inode::Inode;
use super::super_block::SuperBlock;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLockNoIrq;
use crate::mm::slab_common::kmemdup;

/// Linux: `NAME_MAX`.
pub const NAME_MAX: usize = linux_raw_sys::general::NAME_MAX as usize;

struct DentryState {
    name: Box<[u8]>,
    /// `None` only for the root of a file system.
    parent: Option<Arc<Dentry>>,
    inode: Option<Arc<Inode>>,
}

/// A name in a directory (Linux: `struct dentry`).
pub struct Dentry {
    /// Key of this dentry as a parent in the hash table.
    id: u64,
    pub d_sb: Arc<SuperBlock>,
    d_lock: SpinLockNoIrq<DentryState>,
    /// How many mounts sit on this dentry (Linux: `DCACHE_MOUNTED`).
    d_mounted: AtomicU32,
    /// Removed from the namespace (Linux: `d_unhashed`, or a dead directory).
    unhashed: AtomicBool,
}

static NEXT_DENTRY_ID: AtomicU64 = AtomicU64::new(1);

/// Parent id, then name, to the dentry (Linux: `dentry_hashtable`).
type HashTable = BTreeMap<u64, BTreeMap<Box<[u8]>, Arc<Dentry>>>;
static DENTRY_HASHTABLE: SpinLockNoIrq<HashTable> = SpinLockNoIrq::new(BTreeMap::new());

/// Checks one path component (Linux: the `NAME_MAX` test of `link_path_walk`).
pub fn check_name(name: &[u8]) -> KResult<()> {
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.is_empty() || name.contains(&b'/') || name.contains(&0) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

fn boxed_name(name: &[u8]) -> KResult<Box<[u8]>> {
    Ok(kmemdup(name)?.into_boxed_slice())
}

impl Dentry {
    fn alloc(
        sb: Arc<SuperBlock>,
        name: &[u8],
        parent: Option<Arc<Dentry>>,
        inode: Option<Arc<Inode>>,
    ) -> KResult<Arc<Dentry>> {
        Ok(Arc::new(Dentry {
            id: NEXT_DENTRY_ID.fetch_add(1, Ordering::Relaxed),
            d_sb: sb,
            d_lock: SpinLockNoIrq::new(DentryState { name: boxed_name(name)?, parent, inode }),
            d_mounted: AtomicU32::new(0),
            unhashed: AtomicBool::new(false),
        }))
    }

    /// The root dentry of a new super block (Linux: `d_make_root`).
    pub fn make_root(inode: Arc<Inode>) -> KResult<Arc<Dentry>> {
        Self::alloc(inode.sb.clone(), b"/", None, Some(inode))
    }

    /// The inode, or `None` for a negative dentry.
    pub fn inode(&self) -> Option<Arc<Inode>> {
        self.d_lock.lock().inode.clone()
    }

    /// The inode of a positive dentry; `ENOENT` for a negative one.
    pub fn positive(&self) -> KResult<Arc<Inode>> {
        self.inode().ok_or(Errno::ENOENT)
    }

    pub fn is_negative(&self) -> bool {
        self.d_lock.lock().inode.is_none()
    }

    /// The parent, or `None` at the root of a file system.
    pub fn parent(&self) -> Option<Arc<Dentry>> {
        self.d_lock.lock().parent.clone()
    }

    /// A copy of the name (Linux: `d_name`, taken under `d_lock`).
    pub fn name(&self) -> Box<[u8]> {
        self.d_lock.lock().name.clone()
    }

    pub fn is_root(&self) -> bool {
        self.d_lock.lock().parent.is_none()
    }

    /// Whether the name was removed (unlink, rmdir) or renamed over.
    pub fn is_unhashed(&self) -> bool {
        self.unhashed.load(Ordering::Acquire)
    }

    /// Whether something is mounted here (Linux: `d_mountpoint`).
    pub fn is_mountpoint(&self) -> bool {
        self.d_mounted.load(Ordering::Acquire) != 0
    }

    pub(super) fn set_mounted(&self, on: bool) {
        if on {
            self.d_mounted.fetch_add(1, Ordering::AcqRel);
        } else {
            self.d_mounted.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Whether `self` is `ancestor` or below it (Linux: `is_subdir`).
    pub fn is_subdir(self: &Arc<Self>, ancestor: &Arc<Dentry>) -> bool {
        let mut cur = Some(self.clone());
        while let Some(d) = cur {
            if Arc::ptr_eq(&d, ancestor) {
                return true;
            }
            cur = d.parent();
        }
        false
    }

    /// Gives a negative dentry its new inode (Linux: `d_instantiate`).
    pub fn instantiate(&self, inode: Arc<Inode>) {
        self.d_lock.lock().inode = Some(inode);
    }
}

/// Looks `name` up in the cache under `parent` (Linux: `d_lookup`).
pub fn d_lookup(parent: &Dentry, name: &[u8]) -> Option<Arc<Dentry>> {
    DENTRY_HASHTABLE.lock().get(&parent.id)?.get(name).cloned()
}

/// Adds a dentry for `name` under `parent` with `inode` (negative if
/// `None`), or returns the one another CPU added first (Linux: `d_alloc` +
/// `d_splice_alias`).
pub fn d_add(parent: &Arc<Dentry>, name: &[u8], inode: Option<Arc<Inode>>) -> KResult<Arc<Dentry>> {
    let dentry = Dentry::alloc(parent.d_sb.clone(), name, Some(parent.clone()), inode)?;
    let key = boxed_name(name)?;
    let mut table = DENTRY_HASHTABLE.lock();
    let children = table.entry(parent.id).or_default();
    Ok(children.entry(key).or_insert(dentry).clone())
}

/// Takes a removed name out of the cache: later lookups ask the file
/// system again, while holders of the dentry keep its inode (Linux:
/// `d_delete`, `__d_drop`).
pub fn d_delete(dentry: &Arc<Dentry>) {
    dentry.unhashed.store(true, Ordering::Release);
    let Some(parent) = dentry.parent() else { return };
    let name = dentry.name();
    let mut table = DENTRY_HASHTABLE.lock();
    if let Some(children) = table.get_mut(&parent.id) {
        if children.get(&name).is_some_and(|d| Arc::ptr_eq(d, dentry)) {
            children.remove(&name);
        }
        if children.is_empty() {
            table.remove(&parent.id);
        }
    }
}

/// Drops a stale dentry and every cached name below it (Linux:
/// `d_invalidate`): procfs's entries of a process that is gone. Holders
/// keep their dentries, which now lead nowhere new.
pub fn d_invalidate(dentry: &Arc<Dentry>) {
    d_delete(dentry);
    let mut dropped = alloc::vec::Vec::new();
    let mut todo = alloc::vec![dentry.id];
    {
        let mut table = DENTRY_HASHTABLE.lock();
        while let Some(id) = todo.pop() {
            if let Some(children) = table.remove(&id) {
                for child in children.into_values() {
                    child.unhashed.store(true, Ordering::Release);
                    todo.push(child.id);
                    dropped.push(child);
                }
            }
        }
    }
    // Freed outside the lock, as in `shrink_dcache_sb`.
    drop(dropped);
}

/// Moves `dentry` to `name` under `new_parent` after a rename (Linux:
/// `d_move`): open files and working directories follow the file.
pub fn d_move(dentry: &Arc<Dentry>, new_parent: &Arc<Dentry>, name: &[u8]) -> KResult<()> {
    let new_name = boxed_name(name)?;
    let key = boxed_name(name)?;
    let mut table = DENTRY_HASHTABLE.lock();
    let (old_parent, old_name) = {
        let st = dentry.d_lock.lock();
        (st.parent.clone(), st.name.clone())
    };
    if let Some(p) = old_parent
        && let Some(children) = table.get_mut(&p.id)
        && children.get(&old_name).is_some_and(|d| Arc::ptr_eq(d, dentry))
    {
        children.remove(&old_name);
    }
    table.entry(new_parent.id).or_default().insert(key, dentry.clone());
    let mut st = dentry.d_lock.lock();
    st.name = new_name;
    st.parent = Some(new_parent.clone());
    Ok(())
}

/// Drops every cached child of the super block's dentries (Linux:
/// `shrink_dcache_for_umount`). Cheap enough for the few mounts we have.
pub fn shrink_dcache_sb(sb: &Arc<SuperBlock>) {
    let dropped: alloc::vec::Vec<Arc<Dentry>> = {
        let mut table = DENTRY_HASHTABLE.lock();
        let mut out = alloc::vec::Vec::new();
        table.retain(|_, children| {
            children.retain(|_, d| {
                let keep = !Arc::ptr_eq(&d.d_sb, sb);
                if !keep {
                    out.push(d.clone());
                }
                keep
            });
            !children.is_empty()
        });
        out
    };
    // Dentries (and the inodes they pin) are freed here, outside the lock.
    drop(dropped);
}

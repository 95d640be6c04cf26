//! vfat directory inode operations (Linux: fs/fat/namei_vfat.c
//! `vfat_dir_inode_operations`: `vfat_lookup`, `vfat_create`,
//! `vfat_unlink`, `vfat_mkdir`, `vfat_rmdir`, `vfat_rename`).
//!
//! Each operation runs the library's under the instance mutex, then
//! updates the directory's inode (size, link count, times) and its entry.
//! A removed name whose inode is cached becomes an unlinked inode: it
//! leaves the position-keyed cache for a key of its own, and its clusters
//! go when no one holds it any more ([`prune_icache`]); an uncached one's
//! clusters go at once.
//!
//! # Locking
//! Called with the super block's `s_vfs_rename_lock` held (lookup too);
//! takes the instance mutex (mod.rs) under it.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use fat::{DirEntry, DirRef, Fat};

use super::inode::{blocks_of, dir_ref, fat_setattr, iget, state, trunc_mtime, write_entry};
use super::{BufDev, FatSb, fat_sb, prune_icache};
use crate::fs::FsCred;
use crate::fs::inode::{Inode, InodeOps, RenameFlags, SetAttr, current_time};
use crate::kernel::errno::{Errno, KResult};

/// The cache key of an unlinked inode: no entry position has the top bit.
fn unlinked_key(ino: u64) -> u64 {
    (1 << 63) | ino
}

/// Runs a namespace change in `dir`: unreferenced inodes are freed first,
/// and `dir` is brought up to date after.
fn with_dir<R>(
    dir: &Inode,
    f: impl FnOnce(&FatSb, &mut Fat<BufDev>, DirRef) -> KResult<R>,
) -> KResult<R> {
    let info = fat_sb(&dir.sb)?;
    info.check_writable()?;
    info.with_fs(|fs| {
        prune_icache(info, fs);
        let d = dir_ref(fs, dir)?;
        let r = f(info, fs, d);
        refresh_dir(info, fs, dir, d)?;
        r
    })
}

/// A changed directory: its size and link count from the disk, its
/// times now (Linux: `vfat_create` ... `dir->i_mtime = ...`).
fn refresh_dir(info: &FatSb, fs: &mut Fat<BufDev>, dir: &Inode, d: DirRef) -> KResult<()> {
    let size = fs.dir_size(d).map_err(|e| info.errno(e))?;
    let subdirs = fs.subdirs(d).map_err(|e| info.errno(e))?;
    let now = trunc_mtime(current_time());
    let cs = fs.cluster_size();
    dir.update_attr(|a| {
        a.size = size;
        a.blocks = blocks_of(size, cs);
        a.nlink = subdirs.saturating_add(2);
        a.mtime = now;
        a.ctime = now;
    });
    write_entry(info, fs, dir)
}

/// A name is gone from `d`: its cached inode becomes unlinked (freed
/// later), or its clusters go now (Linux: `fat_detach` + `clear_nlink`).
fn detach(info: &FatSb, fs: &mut Fat<BufDev>, entry: &DirEntry) -> KResult<()> {
    let cached = {
        let mut cache = info.icache.lock();
        let inode = cache.remove(&entry.pos);
        if let Some(i) = &inode {
            cache.insert(unlinked_key(i.ino), i.clone());
        }
        inode
    };
    match cached {
        Some(inode) => {
            state(&inode)?.lock().unlinked = true;
            inode.update_attr(|a| {
                a.nlink = 0;
                a.ctime = current_time();
            });
            Ok(())
        }
        None => fs.free_chain(entry.raw.start).map_err(|e| info.errno(e)),
    }
}

/// The entry of `name` in `d`; `ENOENT` if none.
fn find(info: &FatSb, fs: &mut Fat<BufDev>, d: DirRef, name: &[u8]) -> KResult<DirEntry> {
    fs.lookup(d, name).map_err(|e| match e {
        fat::Error::Invalid => Errno::ENOENT,
        e => info.errno(e),
    })
}

/// Linux: `vfat_dir_inode_operations`.
pub struct VfatDirInodeOps;
pub static VFAT_DIR_INODE_OPS: VfatDirInodeOps = VfatDirInodeOps;

impl VfatDirInodeOps {
    /// Linux: `vfat_create`, `vfat_mkdir`.
    fn make(&self, dir: &Inode, name: &[u8], is_dir: bool) -> KResult<Arc<Inode>> {
        with_dir(dir, |info, fs, d| {
            let now = current_time().sec;
            let e = fs.create(d, name, is_dir, now).map_err(|e| info.errno(e))?;
            iget(&dir.sb, info, fs, &e, d)
        })
    }
}

impl InodeOps for VfatDirInodeOps {
    /// Linux: `vfat_lookup`; a name FAT cannot hold is simply absent.
    fn lookup(&self, dir: &Inode, name: &[u8]) -> KResult<Option<Arc<Inode>>> {
        let info = fat_sb(&dir.sb)?;
        info.with_fs(|fs| {
            let d = dir_ref(fs, dir)?;
            match fs.lookup(d, name) {
                Ok(e) => iget(&dir.sb, info, fs, &e, d).map(Some),
                Err(fat::Error::NotFound | fat::Error::Invalid) => Ok(None),
                Err(e) => Err(info.errno(e)),
            }
        })
    }

    fn create(&self, dir: &Inode, name: &[u8], _mode: u32, _cred: FsCred) -> KResult<Arc<Inode>> {
        self.make(dir, name, false)
    }

    fn mkdir(&self, dir: &Inode, name: &[u8], _mode: u32, _cred: FsCred) -> KResult<Arc<Inode>> {
        self.make(dir, name, true)
    }

    fn unlink(&self, dir: &Inode, name: &[u8]) -> KResult<()> {
        with_dir(dir, |info, fs, d| {
            let e = find(info, fs, d, name)?;
            if e.raw.is_dir() {
                return Err(Errno::EISDIR);
            }
            fs.remove(d, &e).map_err(|e| info.errno(e))?;
            detach(info, fs, &e)
        })
    }

    /// Linux: `vfat_rmdir`: `ENOTEMPTY` unless only `.` and `..` are left.
    fn rmdir(&self, dir: &Inode, name: &[u8]) -> KResult<()> {
        with_dir(dir, |info, fs, d| {
            let e = find(info, fs, d, name)?;
            if !e.raw.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if !fs.dir_is_empty(fs.dir_of(e.raw.start)).map_err(|e| info.errno(e))? {
                return Err(Errno::ENOTEMPTY);
            }
            fs.remove(d, &e).map_err(|e| info.errno(e))?;
            detach(info, fs, &e)
        })
    }

    /// Linux: `vfat_rename`: a target is replaced (the VFS checked the
    /// types and emptiness); `RENAME_EXCHANGE` and `RENAME_WHITEOUT` are
    /// `EINVAL`.
    fn rename(
        &self,
        old_dir: &Inode,
        old_name: &[u8],
        new_dir: &Inode,
        new_name: &[u8],
        flags: RenameFlags,
    ) -> KResult<()> {
        if flags.intersects(RenameFlags::EXCHANGE | RenameFlags::WHITEOUT) {
            return Err(Errno::EINVAL);
        }
        let info = fat_sb(&old_dir.sb)?;
        let nd = info.with_fs(|fs| dir_ref(fs, new_dir))?;
        with_dir(old_dir, |info, fs, od| {
            let e = find(info, fs, od, old_name)?;
            match fs.lookup(nd, new_name) {
                Ok(t) if t.pos != e.pos => {
                    if flags.contains(RenameFlags::NOREPLACE) {
                        return Err(Errno::EEXIST);
                    }
                    if t.raw.is_dir()
                        && !fs.dir_is_empty(fs.dir_of(t.raw.start)).map_err(|e| info.errno(e))?
                    {
                        return Err(Errno::ENOTEMPTY);
                    }
                    fs.remove(nd, &t).map_err(|e| info.errno(e))?;
                    detach(info, fs, &t)?;
                }
                Ok(_) | Err(fat::Error::NotFound) => {}
                Err(e) => return Err(info.errno(e)),
            }
            let new = fs.rename(od, &e, nd, new_name).map_err(|e| info.errno(e))?;
            let moved = {
                let mut cache = info.icache.lock();
                let inode = cache.remove(&e.pos);
                if let Some(i) = &inode {
                    cache.insert(new.pos, i.clone());
                }
                inode
            };
            if let Some(inode) = moved {
                let mut st = state(&inode)?.lock();
                st.pos = new.pos;
                st.dir = nd;
                st.name = new.name;
                drop(st);
                inode.update_attr(|a| a.ctime = current_time());
            }
            if od != nd {
                refresh_dir(info, fs, new_dir, nd)?;
            }
            Ok(())
        })
    }

    fn setattr(&self, inode: &Inode, attr: &SetAttr) -> KResult<()> {
        fat_setattr(inode, attr)
    }
}

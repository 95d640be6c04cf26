//! tmpfs directories (Linux: mm/shmem.c `shmem_dir_inode_operations`,
//! fs/libfs.c `simple_offset_*`, `dcache_readdir`).
//!
//! A directory maps names to inodes and gives each entry an offset when it
//! is added; readdir walks entries in offset order and `d_off` is the next
//! offset, so a listing resumed at any `d_off` neither repeats nor skips
//! entries that stayed, whatever was added or removed meanwhile (Linux
//! 6.6's stable tmpfs offsets). Offsets 0 and 1 are `.` and `..`.
//!
//! # Locking
//! `entries` is taken before any inode's `i_lock`; callers that change the
//! namespace hold the super block's `s_vfs_rename_lock`.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use super::{BOGO_DIRENT_SIZE, new_inode};
use crate::fs::FsCred;
use crate::fs::file_table::{File, FileOps, Whence};
use crate::fs::inode::{DevT, FileType, Inode, InodeOps, RenameFlags};
use crate::fs::readdir::DirContext;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::mm::slab_common::kmemdup;

/// First offset of a real entry, after `.` and `..`.
const FIRST_OFFSET: u64 = 2;

struct DirEntries {
    by_name: BTreeMap<Box<[u8]>, u64>,
    by_off: BTreeMap<u64, (Box<[u8]>, Arc<Inode>)>,
    next_off: u64,
}

/// The private part of a tmpfs directory inode.
pub struct TmpfsDir {
    entries: SpinLock<DirEntries>,
}

impl Default for TmpfsDir {
    fn default() -> Self {
        Self::new()
    }
}

impl TmpfsDir {
    pub fn new() -> Self {
        let entries = DirEntries {
            by_name: BTreeMap::new(),
            by_off: BTreeMap::new(),
            next_off: FIRST_OFFSET,
        };
        Self { entries: SpinLock::new(entries) }
    }

    fn get(&self, name: &[u8]) -> Option<Arc<Inode>> {
        let e = self.entries.lock();
        let off = e.by_name.get(name)?;
        e.by_off.get(off).map(|(_, inode)| inode.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.lock().by_name.is_empty()
    }

    fn add(&self, dir: &Inode, name: &[u8], inode: Arc<Inode>) -> KResult<()> {
        let (k1, k2) = (kmemdup(name)?.into_boxed_slice(), kmemdup(name)?.into_boxed_slice());
        let mut e = self.entries.lock();
        if e.by_name.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let off = e.next_off;
        e.next_off += 1;
        e.by_name.insert(k1, off);
        e.by_off.insert(off, (k2, inode));
        dir.update_attr(|a| a.size += BOGO_DIRENT_SIZE);
        Ok(())
    }

    fn remove(&self, dir: &Inode, name: &[u8]) -> KResult<Arc<Inode>> {
        let mut e = self.entries.lock();
        let off = e.by_name.remove(name).ok_or(Errno::ENOENT)?;
        let (_, inode) = e.by_off.remove(&off).ok_or(Errno::ENOENT)?;
        dir.update_attr(|a| a.size = a.size.saturating_sub(BOGO_DIRENT_SIZE));
        Ok(inode)
    }
}

fn tmpfs_dir(inode: &Inode) -> KResult<&TmpfsDir> {
    inode.private::<TmpfsDir>().map_err(|_| Errno::ENOTDIR)
}

fn add_nlink(inode: &Inode, delta: i32) {
    inode.update_attr(|a| {
        a.nlink = a.nlink.saturating_add_signed(delta);
        a.ctime = crate::fs::inode::current_time();
    });
}

/// Directory inode operations (Linux: `shmem_dir_inode_operations`).
pub struct TmpfsDirInodeOps;
pub static TMPFS_DIR_INODE_OPS: TmpfsDirInodeOps = TmpfsDirInodeOps;

impl TmpfsDirInodeOps {
    fn make(
        &self,
        dir: &Inode,
        name: &[u8],
        mode: u32,
        cred: FsCred,
        rdev: DevT,
        target: Option<&[u8]>,
    ) -> KResult<Arc<Inode>> {
        let d = tmpfs_dir(dir)?;
        let inode = new_inode(dir.sb.clone(), mode, cred, rdev, target)?;
        d.add(dir, name, inode.clone())?;
        if inode.is_dir() {
            add_nlink(dir, 1);
        }
        dir.touch_mtime();
        Ok(inode)
    }
}

impl InodeOps for TmpfsDirInodeOps {
    fn lookup(&self, dir: &Inode, name: &[u8]) -> KResult<Option<Arc<Inode>>> {
        Ok(tmpfs_dir(dir)?.get(name))
    }

    fn create(&self, dir: &Inode, name: &[u8], mode: u32, cred: FsCred) -> KResult<Arc<Inode>> {
        self.make(dir, name, mode, cred, DevT(0), None)
    }

    fn mkdir(&self, dir: &Inode, name: &[u8], mode: u32, cred: FsCred) -> KResult<Arc<Inode>> {
        self.make(dir, name, mode, cred, DevT(0), None)
    }

    fn mknod(
        &self,
        dir: &Inode,
        name: &[u8],
        mode: u32,
        rdev: DevT,
        cred: FsCred,
    ) -> KResult<Arc<Inode>> {
        self.make(dir, name, mode, cred, rdev, None)
    }

    fn symlink(
        &self,
        dir: &Inode,
        name: &[u8],
        target: &[u8],
        cred: FsCred,
    ) -> KResult<Arc<Inode>> {
        self.make(dir, name, linux_raw_sys::general::S_IFLNK | 0o777, cred, DevT(0), Some(target))
    }

    fn link(&self, inode: &Arc<Inode>, dir: &Inode, name: &[u8]) -> KResult<()> {
        tmpfs_dir(dir)?.add(dir, name, inode.clone())?;
        add_nlink(inode, 1);
        dir.touch_mtime();
        Ok(())
    }

    fn unlink(&self, dir: &Inode, name: &[u8]) -> KResult<()> {
        let inode = tmpfs_dir(dir)?.remove(dir, name)?;
        add_nlink(&inode, -1);
        Ok(())
    }

    fn rmdir(&self, dir: &Inode, name: &[u8]) -> KResult<()> {
        let d = tmpfs_dir(dir)?;
        let child = d.get(name).ok_or(Errno::ENOENT)?;
        if !tmpfs_dir(&child)?.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        d.remove(dir, name)?;
        child.update_attr(|a| a.nlink = 0);
        add_nlink(dir, -1);
        Ok(())
    }

    fn rename(
        &self,
        old_dir: &Inode,
        old_name: &[u8],
        new_dir: &Inode,
        new_name: &[u8],
        flags: RenameFlags,
    ) -> KResult<()> {
        let (od, nd) = (tmpfs_dir(old_dir)?, tmpfs_dir(new_dir)?);
        let src = od.get(old_name).ok_or(Errno::ENOENT)?;
        let dst = nd.get(new_name);
        let moves_dir = |inode: &Inode| inode.is_dir() && !core::ptr::eq(old_dir, new_dir);
        if flags.contains(RenameFlags::EXCHANGE) {
            let dst = dst.ok_or(Errno::ENOENT)?;
            od.remove(old_dir, old_name)?;
            nd.remove(new_dir, new_name)?;
            od.add(old_dir, old_name, dst.clone())?;
            nd.add(new_dir, new_name, src.clone())?;
            let delta = i32::from(moves_dir(&src)) - i32::from(moves_dir(&dst));
            add_nlink(old_dir, -delta);
            add_nlink(new_dir, delta);
            return Ok(());
        }
        if let Some(target) = &dst {
            if target.is_dir() {
                if !tmpfs_dir(target)?.is_empty() {
                    return Err(Errno::ENOTEMPTY);
                }
                target.update_attr(|a| a.nlink = 0);
                add_nlink(new_dir, -1);
            } else {
                add_nlink(target, -1);
            }
            nd.remove(new_dir, new_name)?;
        }
        od.remove(old_dir, old_name)?;
        nd.add(new_dir, new_name, src.clone())?;
        if moves_dir(&src) {
            add_nlink(old_dir, -1);
            add_nlink(new_dir, 1);
        }
        src.update_attr(|a| a.ctime = crate::fs::inode::current_time());
        Ok(())
    }
}

/// Open-directory operations (Linux: `simple_offset_dir_operations`).
pub struct TmpfsDirOps;
pub static TMPFS_DIR_OPS: TmpfsDirOps = TmpfsDirOps;

impl FileOps for TmpfsDirOps {
    fn read(&self, _file: &File, _buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }

    fn write(&self, _file: &File, _buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }

    fn llseek(&self, _file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        crate::fs::read_write::llseek_set_cur(pos, offset, whence)
    }

    fn iterate_shared(&self, file: &File, ctx: &mut DirContext<'_>) -> KResult<()> {
        let inode = &file.f_inode;
        let dtype = FileType::Directory.dtype();
        if ctx.pos == 0 && !ctx.emit(b".", inode.ino, dtype, 1) {
            return Ok(());
        }
        if ctx.pos == 1 {
            let parent =
                file.f_path.dentry.parent().and_then(|p| p.inode()).map_or(inode.ino, |p| p.ino);
            if !ctx.emit(b"..", parent, dtype, FIRST_OFFSET) {
                return Ok(());
            }
        }
        let d = tmpfs_dir(inode)?;
        let e = d.entries.lock();
        for (&off, (name, child)) in e.by_off.range(ctx.pos.max(FIRST_OFFSET)..) {
            if !ctx.emit(name, child.ino, child.file_type().dtype(), off + 1) {
                break;
            }
        }
        Ok(())
    }

    fn fsync(&self, _file: &File) -> KResult<()> {
        Ok(())
    }
}

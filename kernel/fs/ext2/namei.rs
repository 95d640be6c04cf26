//! ext2 directory inode operations (Linux: fs/ext2/namei.c
//! `ext2_dir_inode_operations`: `ext2_lookup`, `ext2_create`,
//! `ext2_mknod`, `ext2_symlink`, `ext2_link`, `ext2_unlink`,
//! `ext2_mkdir`, `ext2_rmdir`, `ext2_rename`).
//!
//! Each operation runs the library's under the instance mutex, then
//! refreshes the VFS inodes it changed (links, blocks, a directory's size)
//! from the disk, and returns new inodes through [`iget`]. Unreferenced
//! inodes left by earlier unlinks are freed first ([`prune_icache`]).
//!
//! # Locking
//! Called with the super block's `s_vfs_rename_lock` held (lookup too);
//! takes the instance mutex (mod.rs) under it.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use linux_raw_sys::general as uapi;

use super::inode::{disk_ino, ext2_setattr, iget, new_creds, refresh, refresh_ino};
use super::{BufDev, Ext2Sb, ext2_sb, now_secs, prune_icache};
use crate::fs::FsCred;
use crate::fs::inode::{DevT, Inode, InodeOps, RenameFlags, SetAttr};
use crate::kernel::errno::{Errno, KResult};
use ext2::Ext2;

/// Runs a namespace change on `dir`'s instance: unreferenced inodes are
/// freed first, and `dir` is refreshed after.
fn with_dir<R>(
    dir: &Inode,
    f: impl FnOnce(&Ext2Sb, &mut Ext2<BufDev>, u32) -> KResult<R>,
) -> KResult<R> {
    let info = ext2_sb(&dir.sb)?;
    if info.read_only() {
        return Err(Errno::EROFS);
    }
    info.with_fs(|fs| {
        prune_icache(info, fs);
        let r = f(info, fs, disk_ino(dir));
        refresh_ino(info, fs, disk_ino(dir))?;
        r
    })
}

/// The 16-bit `i_mode` of `mode`.
fn mode16(mode: u32) -> u16 {
    u16::try_from(mode & (uapi::S_IFMT | 0o7777)).unwrap_or(0)
}

/// Linux: `ext2_dir_inode_operations`.
pub struct Ext2DirInodeOps;
pub static EXT2_DIR_INODE_OPS: Ext2DirInodeOps = Ext2DirInodeOps;

impl Ext2DirInodeOps {
    /// Creates a non-directory inode (Linux: `ext2_create`, `ext2_mknod`).
    fn make_node(
        &self,
        dir: &Inode,
        name: &[u8],
        mode: u32,
        rdev: DevT,
        cred: FsCred,
    ) -> KResult<Arc<Inode>> {
        let c = new_creds(dir, cred);
        let rdev = (rdev.major(), rdev.minor());
        with_dir(dir, |info, fs, d| {
            let ino =
                fs.create(d, name, mode16(mode), rdev, c).map_err(|e| info.errno(e, dir.ino))?;
            iget(&dir.sb, info, fs, ino)
        })
    }
}

impl InodeOps for Ext2DirInodeOps {
    super::xattr::ext2_xattr_ops!();
    fn lookup(&self, dir: &Inode, name: &[u8]) -> KResult<Option<Arc<Inode>>> {
        let info = ext2_sb(&dir.sb)?;
        info.with_fs(|fs| {
            let found = fs.lookup(disk_ino(dir), name).map_err(|e| info.errno(e, dir.ino))?;
            found.map(|(ino, _)| iget(&dir.sb, info, fs, ino)).transpose()
        })
    }

    fn create(&self, dir: &Inode, name: &[u8], mode: u32, cred: FsCred) -> KResult<Arc<Inode>> {
        self.make_node(dir, name, mode, DevT(0), cred)
    }

    fn mknod(
        &self,
        dir: &Inode,
        name: &[u8],
        mode: u32,
        rdev: DevT,
        cred: FsCred,
    ) -> KResult<Arc<Inode>> {
        self.make_node(dir, name, mode, rdev, cred)
    }

    /// Linux: `ext2_mkdir`; a set-group-ID parent passes the bit on.
    fn mkdir(&self, dir: &Inode, name: &[u8], mode: u32, cred: FsCred) -> KResult<Arc<Inode>> {
        let c = new_creds(dir, cred);
        let sgid = dir.attr().mode & uapi::S_ISGID;
        let perm = u16::try_from((mode | sgid) & 0o7777).unwrap_or(0);
        with_dir(dir, |info, fs, d| {
            let ino = fs.mkdir(d, name, perm, c).map_err(|e| info.errno(e, dir.ino))?;
            iget(&dir.sb, info, fs, ino)
        })
    }

    fn symlink(
        &self,
        dir: &Inode,
        name: &[u8],
        target: &[u8],
        cred: FsCred,
    ) -> KResult<Arc<Inode>> {
        let c = new_creds(dir, cred);
        with_dir(dir, |info, fs, d| {
            let ino = fs.symlink(d, name, target, c).map_err(|e| info.errno(e, dir.ino))?;
            iget(&dir.sb, info, fs, ino)
        })
    }

    fn link(&self, inode: &Arc<Inode>, dir: &Inode, name: &[u8]) -> KResult<()> {
        with_dir(dir, |info, fs, d| {
            let ino = disk_ino(inode);
            fs.link(ino, d, name, now_secs()).map_err(|e| info.errno(e, inode.ino))?;
            refresh_ino(info, fs, ino)
        })
    }

    fn unlink(&self, dir: &Inode, name: &[u8]) -> KResult<()> {
        with_dir(dir, |info, fs, d| {
            let gone = fs.unlink(d, name, now_secs()).map_err(|e| info.errno(e, dir.ino))?;
            if let Some(inode) = info.icache_get(gone.ino) {
                refresh(&inode, &gone);
            }
            Ok(())
        })
    }

    fn rmdir(&self, dir: &Inode, name: &[u8]) -> KResult<()> {
        with_dir(dir, |info, fs, d| {
            let gone = fs.rmdir(d, name, now_secs()).map_err(|e| info.errno(e, dir.ino))?;
            if let Some(inode) = info.icache_get(gone.ino) {
                refresh(&inode, &gone);
            }
            Ok(())
        })
    }

    /// Linux: `ext2_rename`, which refuses `RENAME_EXCHANGE` and
    /// `RENAME_WHITEOUT` with `EINVAL`.
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
        let lib_flags =
            if flags.contains(RenameFlags::NOREPLACE) { ext2::RENAME_NOREPLACE } else { 0 };
        let nd = disk_ino(new_dir);
        with_dir(old_dir, |info, fs, od| {
            let now = now_secs();
            let moved = fs.lookup(od, old_name).map_err(|e| info.errno(e, old_dir.ino))?;
            let replaced = fs
                .rename(od, old_name, nd, new_name, lib_flags, now)
                .map_err(|e| info.errno(e, old_dir.ino))?;
            if let Some(gone) = replaced
                && let Some(inode) = info.icache_get(gone.ino)
            {
                refresh(&inode, &gone);
            }
            if let Some((ino, _)) = moved {
                refresh_ino(info, fs, ino)?;
            }
            refresh_ino(info, fs, nd)
        })
    }

    fn setattr(&self, inode: &Inode, attr: &SetAttr) -> KResult<()> {
        ext2_setattr(inode, attr)
    }
}

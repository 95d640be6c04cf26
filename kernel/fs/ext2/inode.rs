//! ext2 inodes in memory: made from the disk inode, written back, resized
//! (Linux: fs/ext2/inode.c `ext2_iget`, `ext2_write_inode`,
//! `ext2_setattr`, `ext2_setsize`; fs/ext2/symlink.c).
//!
//! [`iget`] returns the one VFS inode of an inode number, made on first
//! use from the disk inode with the operations of its type. The VFS
//! inode's private part, [`Ext2Inode`], only says whether the inode has
//! been freed (then nothing may be written for it). [`ext2_write_inode`]
//! merges the VFS attributes into the disk inode; [`refresh`] does the
//! reverse after the library changed links, blocks or a directory's size.
//!
//! # Locking
//! Everything that touches the disk runs under the instance mutex
//! (`Ext2Sb::with_fs`, see mod.rs); size changes unmap and truncate the
//! page cache before taking it.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use linux_raw_sys::general as uapi;

use super::{BufDev, Ext2Sb, ext2_sb, file, namei, now_secs};
use crate::fs::file_table::FileOps;
use crate::fs::inode::{DevT, FileType, Inode, InodeAttr, InodeOps, SetAttr, Timespec};
use crate::fs::pagecache::AddressSpaceOps;
use crate::fs::super_block::SuperBlock;
use crate::kernel::errno::{Errno, KResult};
use ext2::Ext2;

/// The private part of an ext2 VFS inode (Linux: `struct ext2_inode_info`,
/// whose block map stays on the disk here).
pub struct Ext2Inode {
    /// Freed on the disk, or the file system unmounted: write nothing.
    evicted: AtomicBool,
}

/// The inode's number on the disk.
pub fn disk_ino(inode: &Inode) -> u32 {
    u32::try_from(inode.ino).unwrap_or(0)
}

/// Whether nothing may be written for `inode` any more.
pub fn is_evicted(inode: &Inode) -> bool {
    inode.private::<Ext2Inode>().map_or(true, |p| p.evicted.load(Ordering::Acquire))
}

/// Records that `inode` was freed or its file system unmounted.
pub fn mark_evicted(inode: &Inode) {
    if let Ok(p) = inode.private::<Ext2Inode>() {
        p.evicted.store(true, Ordering::Release);
    }
}

/// Whether an inode no one else holds may leave the cache: unlinked (it
/// is then freed), or linked with nothing left to write.
pub fn is_prunable(inode: &Inode) -> bool {
    inode.attr().nlink == 0
        || (inode.i_state() == 0 && inode.i_mapping().is_none_or(|m| m.lock().nr_dirty() == 0))
}

fn secs(t: u32) -> Timespec {
    Timespec::from_secs(i64::from(t))
}

fn to_secs(t: Timespec) -> u32 {
    u32::try_from(t.sec.max(0)).unwrap_or(u32::MAX)
}

/// The VFS attributes of a disk inode (Linux: the body of `ext2_iget`).
fn attr_of(di: &ext2::Inode) -> InodeAttr {
    let (major, minor) = di.rdev();
    InodeAttr {
        mode: u32::from(di.mode),
        nlink: u32::from(di.links_count),
        uid: di.uid,
        gid: di.gid,
        size: di.size,
        blocks: u64::from(di.blocks),
        atime: secs(di.atime),
        mtime: secs(di.mtime),
        ctime: secs(di.ctime),
        rdev: DevT::new(major, minor),
    }
}

type Ops = (&'static dyn InodeOps, &'static dyn FileOps, Option<&'static dyn AddressSpaceOps>);

/// The operations of an inode of type `ftype` (Linux: the `i_op`/`i_fop`
/// choice in `ext2_iget`).
fn ops_of(ftype: FileType) -> Ops {
    match ftype {
        FileType::Regular => {
            (&file::EXT2_FILE_INODE_OPS, &file::EXT2_FILE_OPS, Some(&file::EXT2_AOPS))
        }
        FileType::Directory => (&namei::EXT2_DIR_INODE_OPS, &super::dir::EXT2_DIR_OPS, None),
        FileType::Symlink => (&EXT2_SYMLINK_INODE_OPS, &NO_FILE_OPS, None),
        _ => (&EXT2_SPECIAL_INODE_OPS, &NO_FILE_OPS, None),
    }
}

/// The VFS inode of `ino`, from the cache or made from the disk (Linux:
/// `ext2_iget`). A freed or typeless inode is corruption (`EUCLEAN`).
/// Called with the instance locked.
pub fn iget(
    sb: &Arc<SuperBlock>,
    info: &Ext2Sb,
    fs: &mut Ext2<BufDev>,
    ino: u32,
) -> KResult<Arc<Inode>> {
    if let Some(inode) = info.icache_get(ino) {
        return Ok(inode);
    }
    let di = fs.read_inode(ino).map_err(|e| info.errno(e, u64::from(ino)))?;
    let Some(ftype) = FileType::from_mode(u32::from(di.mode)) else {
        return Err(info.errno(ext2::Error::Corrupt("bad file type in i_mode"), u64::from(ino)));
    };
    if di.links_count == 0 {
        return Err(info.errno(ext2::Error::Corrupt("deleted inode referenced"), u64::from(ino)));
    }
    let private = Box::new(Ext2Inode { evicted: AtomicBool::new(false) });
    let inode =
        Inode::new_with_mapping(sb.clone(), u64::from(ino), attr_of(&di), ops_of(ftype), private)?;
    let mut cache = info.icache.lock();
    // Under the instance mutex nobody else can have added it meanwhile.
    Ok(cache.entry(ino).or_insert(inode).clone())
}

/// Takes the link count, `i_blocks` and change time from the disk inode
/// into the VFS one, and for non-regular files the size and mtime too
/// (the library changed them; a regular file's size is the VFS's).
pub fn refresh(inode: &Inode, di: &ext2::Inode) {
    inode.update_attr(|a| {
        a.nlink = u32::from(di.links_count);
        a.blocks = u64::from(di.blocks);
        a.ctime = a.ctime.max(secs(di.ctime));
        if a.mode & uapi::S_IFMT != uapi::S_IFREG {
            a.size = di.size;
            a.mtime = a.mtime.max(secs(di.mtime));
        }
    });
}

/// Re-reads disk inode `ino` into its cached VFS inode, if cached.
pub fn refresh_ino(info: &Ext2Sb, fs: &mut Ext2<BufDev>, ino: u32) -> KResult<()> {
    if let Some(inode) = info.icache_get(ino) {
        let di = fs.read_inode(ino).map_err(|e| info.errno(e, u64::from(ino)))?;
        refresh(&inode, &di);
    }
    Ok(())
}

/// Writes the VFS attributes into the disk inode (Linux:
/// `ext2_write_inode` → `__ext2_write_inode`), into the buffer cache.
/// Also frees what unlinked files left (the flusher calls this).
pub fn ext2_write_inode(inode: &Inode) -> KResult<()> {
    let info = ext2_sb(&inode.sb)?;
    if info.read_only() {
        return Ok(());
    }
    info.with_fs(|fs| {
        super::prune_icache(info, fs);
        if is_evicted(inode) {
            return Ok(());
        }
        let ino = disk_ino(inode);
        let mut di = fs.read_inode(ino).map_err(|e| info.errno(e, inode.ino))?;
        let a = inode.attr();
        // i_mode is 16 bits: the permission bits of the VFS, the type of the disk.
        let perm = u16::try_from(a.mode & 0o7777).unwrap_or(0);
        di.mode = (di.mode & 0o170000) | perm;
        di.uid = a.uid;
        di.gid = a.gid;
        if di.is_reg() {
            di.size = a.size;
        }
        di.atime = to_secs(a.atime);
        di.mtime = to_secs(a.mtime);
        di.ctime = to_secs(a.ctime);
        fs.write_inode(&di).map_err(|e| info.errno(e, inode.ino))
    })
}

/// Changes attributes (Linux: `ext2_setattr`): the generic ones in memory,
/// for `write_inode` to merge; a size through [`file::ext2_setsize`].
pub fn ext2_setattr(inode: &Inode, attr: &SetAttr) -> KResult<()> {
    if ext2_sb(&inode.sb)?.read_only() {
        return Err(Errno::EROFS);
    }
    if let Some(size) = attr.size {
        if inode.file_type() != FileType::Regular {
            return Err(Errno::EINVAL);
        }
        file::ext2_setsize(inode, size)?;
    }
    inode.apply_attr(attr);
    Ok(())
}

/// Operations of device nodes, FIFOs and sockets (Linux:
/// `ext2_special_inode_operations`).
pub struct Ext2SpecialInodeOps;
pub static EXT2_SPECIAL_INODE_OPS: Ext2SpecialInodeOps = Ext2SpecialInodeOps;
impl InodeOps for Ext2SpecialInodeOps {
    fn setattr(&self, inode: &Inode, attr: &SetAttr) -> KResult<()> {
        ext2_setattr(inode, attr)
    }
}

/// Opens of special inodes get their driver's operations instead; a
/// symlink is never opened for I/O.
pub struct NoFileOps;
pub static NO_FILE_OPS: NoFileOps = NoFileOps;
impl FileOps for NoFileOps {}

/// Linux: `ext2_symlink_inode_operations` and
/// `ext2_fast_symlink_inode_operations`, one table: the library tells
/// the two kinds apart.
pub struct Ext2SymlinkInodeOps;
pub static EXT2_SYMLINK_INODE_OPS: Ext2SymlinkInodeOps = Ext2SymlinkInodeOps;
impl InodeOps for Ext2SymlinkInodeOps {
    fn get_link(&self, inode: &Inode) -> KResult<Vec<u8>> {
        let info = ext2_sb(&inode.sb)?;
        info.with_fs(|fs| fs.readlink(disk_ino(inode)).map_err(|e| info.errno(e, inode.ino)))
    }

    fn setattr(&self, inode: &Inode, attr: &SetAttr) -> KResult<()> {
        ext2_setattr(inode, attr)
    }
}

/// Credentials and time of a new inode in `dir` (Linux:
/// `inode_init_owner`): the directory's group if it is set-group-ID.
pub fn new_creds(dir: &Inode, cred: crate::fs::FsCred) -> ext2::Creds {
    let a = dir.attr();
    let gid = if a.mode & uapi::S_ISGID != 0 { a.gid } else { cred.fsgid };
    ext2::Creds { uid: cred.fsuid, gid, now: now_secs() }
}

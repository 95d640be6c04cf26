//! Open FAT files and directories: reading and writing through the
//! library (no page cache: the buffer cache holds the sectors), size
//! changes, listing, and the attribute ioctls `fatattr` uses (Linux:
//! fs/fat/file.c `fat_file_operations`, `fat_ioctl_get_attributes`,
//! `fat_ioctl_set_attributes`, `fat_setattr`; fs/fat/dir.c `fat_readdir`,
//! `fat_dir_ioctl`).
//!
//! # Locking
//! A write or size change holds the inode's `i_rwsem` (S2a), then the
//! instance mutex (S4); reads and listings take the mutex alone and copy
//! into kernel buffers (no user copy under it). A listing collects the
//! entries, then emits them with no lock held.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::ioctl as cmds;

use fat::{ATTR_ARCH, ATTR_DIR, ATTR_VOLUME, Fat};

use super::inode::{
    blocks_of, dir_ref, fat_setattr, make_attrs, make_mode, sanitize_mode, save_attrs, state,
    trunc_mtime, write_entry,
};
use super::{BufDev, FatSb, MSDOS_ROOT_INO, fat_sb};
use crate::arch::uaccess::UserAddr;
use crate::fs::buffer::sync_blockdev;
use crate::fs::file_table::{FMode, File, FileOps, Whence};
use crate::fs::inode::{FileType, Inode, InodeOps, SetAttr, current_time};
use crate::fs::read_write::{dir_llseek_by_size, generic_file_llseek, generic_write_check_limits};
use crate::fs::readdir::DirContext;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::UserPtr;

/// A file's size after a change: its extent, size, blocks and times, and
/// the archive bit (Linux: `fat_setsize`, `fat_write_end`).
fn set_extent(fs: &Fat<BufDev>, inode: &Inode, ext: fat::Extent) -> KResult<()> {
    {
        let mut st = state(inode)?.lock();
        st.start = ext.start;
        st.attrs |= ATTR_ARCH;
    }
    let now = trunc_mtime(current_time());
    let cs = fs.cluster_size();
    inode.update_attr(|a| {
        a.size = u64::from(ext.size);
        a.blocks = blocks_of(a.size, cs);
        a.mtime = now;
        a.ctime = now;
    });
    Ok(())
}

/// Changes a regular file's size, freeing or zero-filling clusters
/// (Linux: `fat_setattr` → `fat_cont_expand` / `fat_truncate_blocks`).
/// Called with the instance locked; the caller writes the entry.
pub fn fat_setsize(info: &FatSb, fs: &mut Fat<BufDev>, inode: &Inode, size: u64) -> KResult<()> {
    if inode.file_type() != FileType::Regular {
        return Err(Errno::EINVAL);
    }
    let start = state(inode)?.lock().start;
    let old = u32::try_from(inode.size()).unwrap_or(u32::MAX);
    let ext = fs.truncate(start, old, size).map_err(|e| info.errno(e))?;
    set_extent(fs, inode, ext)
}

/// Linux: `fat_file_inode_operations`.
pub struct FatFileInodeOps;
pub static FAT_FILE_INODE_OPS: FatFileInodeOps = FatFileInodeOps;

impl InodeOps for FatFileInodeOps {
    fn setattr(&self, inode: &Inode, attr: &SetAttr) -> KResult<()> {
        fat_setattr(inode, attr)
    }
}

/// Linux: `fat_file_operations`.
pub struct FatFileOps;
pub static FAT_FILE_OPS: FatFileOps = FatFileOps;

impl FileOps for FatFileOps {
    fn open(&self, inode: &alloc::sync::Arc<Inode>, file: &File) -> KResult<()> {
        if file.f_mode.contains(FMode::WRITE) {
            fat_sb(&inode.sb)?.check_writable()?;
        }
        Ok(())
    }

    fn read(&self, file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        let inode = &file.f_inode;
        let info = fat_sb(&inode.sb)?;
        let n = info.with_fs(|fs| {
            let start = state(inode)?.lock().start;
            let size = u32::try_from(inode.size()).unwrap_or(u32::MAX);
            fs.read(start, size, *pos, buf).map_err(|e| info.errno(e))
        })?;
        *pos += n as u64;
        Ok(n)
    }

    /// Linux: `generic_file_write_iter` over `fat_write_begin`: clusters
    /// are allocated as the write goes; a gap before `pos` is zeroed.
    fn write(&self, file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize> {
        let inode = &file.f_inode;
        let info = fat_sb(&inode.sb)?;
        info.check_writable()?;
        let _locked = inode.inode_lock();
        if file.is_append() {
            *pos = inode.size();
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let len = generic_write_check_limits(*pos, buf.len()).map_err(|limit| limit.report())?;
        let n = info.with_fs(|fs| {
            let start = state(inode)?.lock().start;
            let size = u32::try_from(inode.size()).unwrap_or(u32::MAX);
            let (ext, n) = fs.write(start, size, *pos, &buf[..len]).map_err(|e| info.errno(e))?;
            set_extent(fs, inode, ext)?;
            write_entry(info, fs, inode)?;
            if n == 0 { Err(Errno::ENOSPC) } else { Ok(n) }
        })?;
        *pos += n as u64;
        Ok(n)
    }

    fn llseek(&self, file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        generic_file_llseek(pos, file.f_inode.size(), offset, whence)
    }

    fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> KResult<i64> {
        fat_ioctl(file, cmd, arg)
    }

    fn fsync(&self, file: &File) -> KResult<()> {
        fat_fsync(file)
    }
}

/// Linux: `fat_file_fsync`: the disk's buffers, then its cache.
fn fat_fsync(file: &File) -> KResult<()> {
    let info = fat_sb(&file.f_inode.sb)?;
    sync_blockdev(&info.disk)?;
    info.disk.flush()
}

/// Linux: `fat_generic_ioctl` and `fat_dir_ioctl` (the attribute and
/// volume-id commands; `VFAT_IOCTL_READDIR_*` are not done).
fn fat_ioctl(file: &File, cmd: u32, arg: u64) -> KResult<i64> {
    let inode = &file.f_inode;
    let info = fat_sb(&inode.sb)?;
    let user = UserPtr::<u32>::new(UserAddr::new(arg));
    match cmd {
        cmds::FAT_IOCTL_GET_ATTRIBUTES => {
            let attrs = state(inode)?.lock().attrs;
            user.write(&u32::from(make_attrs(&info.opts, inode, attrs)))?;
            Ok(0)
        }
        cmds::FAT_IOCTL_SET_ATTRIBUTES => {
            let attr = user.read()?;
            crate::fs::namespace::mnt_want_write(&file.f_path.mnt)?;
            fat_ioctl_set_attributes(info, inode, attr).map(|()| 0)
        }
        cmds::FAT_IOCTL_GET_VOLUME_ID => {
            let serial = info.with_fs(|fs| Ok(fs.geometry().serial))?;
            user.write(&serial)?;
            Ok(0)
        }
        _ => Err(Errno::ENOTTY),
    }
}

/// Linux: `fat_ioctl_set_attributes`: hidden, system, archive and
/// read-only (as a chmod) change; the volume-label and directory bits
/// stay; the root takes nothing but `ATTR_DIR` (`EINVAL`); only the
/// owner or root may (`EPERM`, from `setattr_prepare`).
fn fat_ioctl_set_attributes(info: &FatSb, inode: &Inode, attr: u32) -> KResult<()> {
    info.check_writable()?;
    let _locked = inode.inode_lock();
    let is_dir = inode.is_dir();
    let old = state(inode)?.lock().attrs;
    let attr = u8::try_from(attr & 0xFF).unwrap_or(0) & !(ATTR_VOLUME | ATTR_DIR);
    let attr = attr | (old & ATTR_VOLUME) | if is_dir { ATTR_DIR } else { 0 };
    let mode = inode.mode();
    let new_mode = if is_dir {
        make_mode(&info.opts, attr, 0o777)
    } else {
        make_mode(&info.opts, attr, 0o666 | (mode & 0o111))
    };
    if inode.ino == MSDOS_ROOT_INO && attr != ATTR_DIR {
        return Err(Errno::EINVAL);
    }
    let fsuid = crate::kernel::sched::current().cred().fsuid;
    if fsuid != 0 && fsuid != inode.attr().uid {
        return Err(Errno::EPERM);
    }
    // As `fat_setattr` does, a mode FAT cannot hold is left as it was.
    let new_mode = sanitize_mode(&info.opts, inode, new_mode).unwrap_or(mode);
    info.with_fs(|fs| {
        inode.update_attr(|a| {
            a.mode = new_mode;
            a.ctime = current_time();
        });
        let saved = save_attrs(&info.opts, inode, attr);
        state(inode)?.lock().attrs = saved;
        write_entry(info, fs, inode)
    })
}

/// Linux: `fat_dir_operations`.
pub struct FatDirOps;
pub static FAT_DIR_OPS: FatDirOps = FatDirOps;

impl FileOps for FatDirOps {
    fn read(&self, _file: &File, _buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }

    fn write(&self, _file: &File, _buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }

    fn llseek(&self, file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        dir_llseek_by_size(pos, file.f_inode.size(), offset, whence)
    }

    /// Linux: `fat_readdir`: positions are byte offsets of the entries in
    /// the directory; the root, which has no `.` and `..` on the disk,
    /// gets them at positions 0 and 1 and its entries after.
    fn iterate_shared(&self, file: &File, ctx: &mut DirContext<'_>) -> KResult<()> {
        let inode = &file.f_inode;
        let info = fat_sb(&inode.sb)?;
        let parent_ino =
            file.f_path.dentry.parent().and_then(|p| p.inode()).map_or(inode.ino, |p| p.ino);
        let dt_dir = FileType::Directory.dtype();
        let base = if inode.ino == MSDOS_ROOT_INO {
            if ctx.pos == 0 && !ctx.emit(b".", inode.ino, dt_dir, 1) {
                return Ok(());
            }
            if ctx.pos == 1 && !ctx.emit(b"..", parent_ino, dt_dir, 2) {
                return Ok(());
            }
            2
        } else {
            0
        };
        let entries: Vec<(Vec<u8>, u64, u8, u64)> = info.with_fs(|fs| {
            let d = dir_ref(fs, inode)?;
            let all = fs.read_dir(d).map_err(|e| info.errno(e))?;
            Ok(all
                .into_iter()
                .map(|e| {
                    let off = base + u64::from(e.slot) * 32;
                    let ino = match e.name.as_slice() {
                        b"." => inode.ino,
                        b".." => parent_ino,
                        _ => info.icache_get(e.pos).map_or_else(|| info.iunique(), |i| i.ino),
                    };
                    let ft = if e.raw.is_dir() { FileType::Directory } else { FileType::Regular };
                    (e.name, ino, ft.dtype(), off)
                })
                .collect())
        })?;
        for (name, ino, dtype, off) in entries {
            if off < ctx.pos {
                continue;
            }
            if !ctx.emit(&name, ino, dtype, off + 32) {
                break;
            }
        }
        Ok(())
    }

    fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> KResult<i64> {
        fat_ioctl(file, cmd, arg)
    }

    fn fsync(&self, file: &File) -> KResult<()> {
        fat_fsync(file)
    }
}

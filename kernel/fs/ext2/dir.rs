//! Open ext2 directories (Linux: fs/ext2/dir.c `ext2_dir_operations`,
//! `ext2_readdir`).
//!
//! A directory's position is a byte offset in the directory file, as in
//! Linux's ext2: each entry's `d_off` is where the next one starts, so a
//! listing resumed at any `d_off` continues after that entry, whatever was
//! added or removed elsewhere meanwhile. `.` and `..` are real entries on
//! the disk and come out as the first two.
//!
//! # Locking
//! Called under the file's `f_pos` (S1); takes the instance mutex (mod.rs)
//! for the walk. The callback fills a kernel buffer: no user copy under it.
#![deny(unsafe_code)]

use super::ext2_sb;
use super::file::ext2_fsync;
use super::inode::disk_ino;
use crate::fs::file_table::{File, FileOps, Whence};
use crate::fs::read_write::dir_llseek_by_size;
use crate::fs::readdir::DirContext;
use crate::kernel::errno::{Errno, KResult};

/// Linux: `ext2_dir_operations`.
pub struct Ext2DirOps;
pub static EXT2_DIR_OPS: Ext2DirOps = Ext2DirOps;

impl FileOps for Ext2DirOps {
    fn read(&self, _file: &File, _buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }

    fn write(&self, _file: &File, _buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }

    /// Linux: `generic_file_llseek` over the directory's size.
    fn llseek(&self, file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        dir_llseek_by_size(pos, file.f_inode.size(), offset, whence)
    }

    /// Linux: `ext2_readdir`; the entries' file types come from the
    /// `filetype` feature (`DT_UNKNOWN` without it).
    fn iterate_shared(&self, file: &File, ctx: &mut DirContext<'_>) -> KResult<()> {
        let inode = &file.f_inode;
        let info = ext2_sb(&inode.sb)?;
        let pos = ctx.pos;
        info.with_fs(|fs| {
            fs.readdir(disk_ino(inode), pos, |name, ino, ftype, next| {
                ctx.emit(name, u64::from(ino), ftype.dt(), next)
            })
            .map_err(|e| info.errno(e, inode.ino))
        })
    }

    fn fsync(&self, file: &File) -> KResult<()> {
        ext2_fsync(file)
    }

    /// `FITRIM` on the mount point, as `fstrim` asks (ioctl.rs).
    fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> KResult<i64> {
        super::ioctl::ext2_ioctl(file, cmd, arg)
    }
}

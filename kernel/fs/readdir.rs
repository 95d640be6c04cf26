//! Listing directories (Linux: fs/readdir.c `iterate_dir`, `getdents64`,
//! `filldir64`; include/linux/fs.h `struct dir_context`).
//!
//! A file system's `iterate_shared` hands entries one by one to a
//! [`DirContext`], whose actor packs them into the caller's buffer; the
//! position (`f_pos`) is the offset of the next entry, and each record's
//! `d_off` is the position after it, so `lseek(fd, d_off, SEEK_SET)`
//! resumes right after that record.
//!
//! # Locking
//! The directory's `f_pos` lock is held across the iteration (Linux holds
//! `f_pos_lock` and the inode's `i_rwsem` shared).
#![deny(unsafe_code)]

use super::fdget;
use super::file_table::{FMode, File};
use super::uio::{BOUNCE_MAX, copy_to_user_partial};
use crate::arch::uaccess::access_ok;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{Fd, UserPtr};
use crate::mm::slab_common::kzalloc;

/// Bytes before the name in a `linux_dirent64` (Linux: `offsetof(struct
/// linux_dirent64, d_name)`).
pub const DIRENT64_NAME_OFFSET: usize = 19;

/// The actor a file system calls per entry: (name, ino, d_type, next
/// position); returns false when the buffer is full.
pub type FillDir<'a> = dyn FnMut(&[u8], u64, u8, u64) -> bool + 'a;

/// Where a listing is and where entries go (Linux: `struct dir_context`).
pub struct DirContext<'a> {
    /// Offset of the next entry to emit.
    pub pos: u64,
    actor: &'a mut FillDir<'a>,
}

impl<'a> DirContext<'a> {
    pub fn new(pos: u64, actor: &'a mut FillDir<'a>) -> Self {
        Self { pos, actor }
    }

    /// Offers one entry; on acceptance the position moves to `next`
    /// (Linux: `dir_emit`).
    pub fn emit(&mut self, name: &[u8], ino: u64, dtype: u8, next: u64) -> bool {
        let ok = (self.actor)(name, ino, dtype, next);
        if ok {
            self.pos = next;
        }
        ok
    }
}

/// Runs the file system's iterator from the file position (Linux:
/// `iterate_dir`).
pub fn iterate_dir(file: &File, actor: &mut FillDir<'_>) -> KResult<()> {
    if file.f_mode.contains(FMode::PATH) {
        return Err(Errno::EBADF);
    }
    if !file.f_inode.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let mut pos = file.f_pos.lock();
    let mut ctx = DirContext::new(*pos, actor);
    let result = file.f_op.iterate_shared(file, &mut ctx);
    *pos = ctx.pos;
    result
}

/// Size of the record for a name of `len` bytes, NUL and padding included.
pub fn dirent64_reclen(len: usize) -> usize {
    (DIRENT64_NAME_OFFSET + len + 1).next_multiple_of(8)
}

/// getdents64(2) into a kernel buffer, `linux_dirent64` records; returns
/// the bytes filled, 0 at the end, `EINVAL` if not even one record fits.
pub fn do_getdents64(file: &File, buf: &mut [u8]) -> KResult<usize> {
    let mut used = 0usize;
    let mut too_small = false;
    let mut fill = |name: &[u8], ino: u64, dtype: u8, next: u64| {
        let reclen = dirent64_reclen(name.len());
        let Some(rec) = buf.get_mut(used..used + reclen) else {
            too_small = used == 0;
            return false;
        };
        rec[0..8].copy_from_slice(&ino.to_le_bytes());
        rec[8..16].copy_from_slice(&i64::try_from(next).unwrap_or(i64::MAX).to_le_bytes());
        rec[16..18].copy_from_slice(&u16::try_from(reclen).unwrap_or(u16::MAX).to_le_bytes());
        rec[18] = dtype;
        rec[19..19 + name.len()].copy_from_slice(name);
        rec[19 + name.len()..].fill(0);
        used += reclen;
        true
    };
    iterate_dir(file, &mut fill)?;
    if used == 0 && too_small {
        return Err(Errno::EINVAL);
    }
    Ok(used)
}

/// getdents64(2): records go through a kernel buffer of at most
/// `BOUNCE_MAX` bytes; if they cannot be copied out, the directory
/// position goes back to where it was, as if nothing had been read.
pub fn sys_getdents64(fd: Fd, dirent: UserPtr<u8>, count: u32) -> KResult<usize> {
    let file = fdget(fd)?;
    let count = usize::try_from(count).map_err(|_| Errno::EINVAL)?;
    if !access_ok(dirent.addr(), count) {
        return Err(Errno::EFAULT);
    }
    let mut buf = kzalloc(count.min(BOUNCE_MAX))?;
    let start = file.pos();
    let n = do_getdents64(&file, &mut buf)?;
    if copy_to_user_partial(dirent.addr(), &buf[..n]) < n {
        *file.f_pos.lock() = start;
        return Err(Errno::EFAULT);
    }
    Ok(n)
}

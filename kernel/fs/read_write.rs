//! read, write, their positioned and vectored forms, and lseek (Linux:
//! fs/read_write.c `vfs_read`, `vfs_write`, `vfs_llseek`,
//! `generic_file_llseek_size`).
//!
//! These take kernel buffers; the syscall layer copies user memory through
//! a bounce buffer around them (`MAX_RW_COUNT` at most per call, as Linux
//! caps every read and write).
//!
//! # Locking
//! For files with `FMode::ATOMIC_POS` (regular files, directories) `f_pos`
//! is held across the call into the file system; other files (devices
//! that may block) read the position, call, and store it back.
#![deny(unsafe_code)]

use super::file_table::{FMode, File, Whence};
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::PAGE_SIZE;

/// Largest file offset (Linux: `MAX_LFS_FILESIZE` on 64-bit).
pub const MAX_LFS_FILESIZE: u64 = i64::MAX as u64;
/// Most bytes one read or write moves (Linux: `MAX_RW_COUNT`).
pub const MAX_RW_COUNT: usize = (i32::MAX as usize) & !(PAGE_SIZE - 1);

/// Runs `f` on the file position, held or copied (see the module header).
fn with_pos<R>(file: &File, f: impl FnOnce(&mut u64) -> KResult<R>) -> KResult<R> {
    if file.f_mode.contains(FMode::ATOMIC_POS) {
        return f(&mut file.f_pos.lock());
    }
    let mut pos = *file.f_pos.lock();
    let result = f(&mut pos);
    if result.is_ok() {
        *file.f_pos.lock() = pos;
    }
    result
}

fn check_mode(file: &File, need: FMode) -> KResult<()> {
    if file.f_mode.contains(FMode::PATH) || !file.f_mode.contains(need) {
        return Err(Errno::EBADF);
    }
    Ok(())
}

/// read(2) on a kernel buffer (Linux: `vfs_read` at `f_pos`).
pub fn vfs_read(file: &File, buf: &mut [u8]) -> KResult<usize> {
    check_mode(file, FMode::READ)?;
    let count = buf.len().min(MAX_RW_COUNT);
    with_pos(file, |pos| file.f_op.read(file, &mut buf[..count], pos))
}

/// write(2) from a kernel buffer (Linux: `vfs_write` at `f_pos`).
pub fn vfs_write(file: &File, buf: &[u8]) -> KResult<usize> {
    check_mode(file, FMode::WRITE)?;
    let count = buf.len().min(MAX_RW_COUNT);
    with_pos(file, |pos| file.f_op.write(file, &buf[..count], pos))
}

fn check_offset(file: &File, offset: i64, need: FMode) -> KResult<u64> {
    let pos = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
    if !file.f_mode.contains(need) {
        return Err(Errno::ESPIPE);
    }
    Ok(pos)
}

/// pread64(2): reads at `offset`, leaving `f_pos` alone.
pub fn vfs_pread(file: &File, buf: &mut [u8], offset: i64) -> KResult<usize> {
    check_mode(file, FMode::READ)?;
    let mut pos = check_offset(file, offset, FMode::PREAD)?;
    let count = buf.len().min(MAX_RW_COUNT);
    file.f_op.read(file, &mut buf[..count], &mut pos)
}

#[allow(
    dead_code,
    reason = "syscall-facing API: the integration step wires it to the table and the task"
)]
/// pwrite64(2): writes at `offset` (the end, for O_APPEND files, as Linux
/// does), leaving `f_pos` alone.
pub fn vfs_pwrite(file: &File, buf: &[u8], offset: i64) -> KResult<usize> {
    check_mode(file, FMode::WRITE)?;
    let mut pos = check_offset(file, offset, FMode::PWRITE)?;
    let count = buf.len().min(MAX_RW_COUNT);
    file.f_op.write(file, &buf[..count], &mut pos)
}

#[allow(
    dead_code,
    reason = "syscall-facing API: the integration step wires it to the table and the task"
)]
/// readv(2) over kernel buffers: fills them in order and stops at the
/// first short read; an error after some data returns the data (Linux:
/// `do_iter_readv_writev` for files without `read_iter`).
pub fn vfs_readv(file: &File, bufs: &mut [&mut [u8]]) -> KResult<usize> {
    let mut total = 0usize;
    for buf in bufs.iter_mut() {
        match vfs_read(file, buf) {
            Ok(n) => {
                total += n;
                if n < buf.len() {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total)
}

#[allow(
    dead_code,
    reason = "syscall-facing API: the integration step wires it to the table and the task"
)]
/// writev(2) from kernel buffers, in order, stopping at a short write.
pub fn vfs_writev(file: &File, bufs: &[&[u8]]) -> KResult<usize> {
    let mut total = 0usize;
    for buf in bufs {
        match vfs_write(file, buf) {
            Ok(n) => {
                total += n;
                if n < buf.len() {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total)
}

/// lseek(2) (Linux: `vfs_llseek`): `EINVAL` for a bad whence or a
/// negative result, `ESPIPE` on pipes, ttys and sockets.
pub fn vfs_llseek(file: &File, offset: i64, whence: u32) -> KResult<u64> {
    let whence = Whence::from_raw(whence)?;
    if !file.f_mode.contains(FMode::LSEEK) {
        return Err(Errno::ESPIPE);
    }
    let mut pos = file.f_pos.lock();
    let new = file.f_op.llseek(file, *pos, offset, whence)?;
    *pos = new;
    Ok(new)
}

/// The usual lseek arithmetic for a file of `size` bytes (Linux:
/// `generic_file_llseek_size`, with SEEK_DATA/SEEK_HOLE treating the
/// whole file as data).
pub fn generic_file_llseek(pos: u64, size: u64, offset: i64, whence: Whence) -> KResult<u64> {
    let base = match whence {
        Whence::Set => 0,
        Whence::Cur => pos,
        Whence::End => size,
        Whence::Data | Whence::Hole => {
            let off = u64::try_from(offset).map_err(|_| Errno::ENXIO)?;
            if off >= size {
                return Err(Errno::ENXIO);
            }
            return Ok(if whence == Whence::Data { off } else { size });
        }
    };
    let new = base.checked_add_signed(offset).ok_or(Errno::EINVAL)?;
    if new > MAX_LFS_FILESIZE {
        return Err(Errno::EINVAL);
    }
    Ok(new)
}

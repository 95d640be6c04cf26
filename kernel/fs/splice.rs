//! sendfile, copy_file_range and splice: moving data between two open
//! files without a trip through user memory (Linux: fs/read_write.c
//! `do_sendfile`, `vfs_copy_file_range`, `generic_copy_file_checks`,
//! fs/splice.c `do_splice_direct`, `splice_file_to_pipe`, `do_splice`).
//! `tee` is not implemented (it needs to copy a pipe without consuming).
//!
//! Ferrite has no pipe-buffer splicing: both calls read the source at an
//! offset into a kernel bounce buffer and write it to the destination, a
//! chunk at a time, with Linux's checks and errnos in Linux's order. The
//! source position advances by what was written, so a short write leaves
//! the rest unread. Into a pipe, sendfile moves one chunk (at most the
//! default pipe size) as `splice_file_to_pipe` fills the pipe once.
//!
//! # Locking
//! None held across a chunk: each read and write takes the file system's
//! own locks, and user memory (the offset pointers) is touched before and
//! after, never under them.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use super::fdget;
use super::file_table::{FMode, File};
use super::inode::FileType;
use super::read_write::{MAX_LFS_FILESIZE, MAX_RW_COUNT, generic_write_check_limits, vfs_pread};
use super::read_write::{vfs_pwrite, vfs_write};
use super::uio::Bounce;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{Fd, UserPtr};

/// Bytes moved per step: the default pipe capacity.
const CHUNK: usize = 16 * 4096;

/// An open file usable by these calls: `O_PATH` descriptors are `EBADF`,
/// as Linux's `fdget` does not return them.
fn fdget_io(fd: Fd) -> KResult<Arc<File>> {
    let file = fdget(fd)?;
    if file.f_mode.contains(FMode::PATH) {
        return Err(Errno::EBADF);
    }
    Ok(file)
}

/// Where the destination is written: at its file position, or at an
/// explicit offset (copy_file_range with `off_out`).
#[derive(Clone, Copy)]
enum OutAt {
    Pos,
    Offset(u64),
}

/// Copies up to `count` bytes of `input` from `*pos` to `out`, advancing
/// `*pos` (and the output offset) by what was written (Linux:
/// `do_splice_direct`). `once` stops after one chunk. Errors after some
/// bytes moved end the copy with the count so far.
fn copy_range(
    input: &File,
    pos: &mut u64,
    out: &File,
    mut out_at: OutAt,
    count: usize,
    once: bool,
) -> KResult<usize> {
    let mut bounce = Bounce::new(count.min(CHUNK))?;
    let buf = bounce.buf();
    let mut done = 0;
    while done < count {
        let want = (count - done).min(buf.len());
        let at = i64::try_from(*pos).map_err(|_| Errno::EINVAL)?;
        let got = match vfs_pread(input, &mut buf[..want], at) {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if got == 0 {
            break;
        }
        let put = match out_at {
            OutAt::Pos => vfs_write(out, &buf[..got]),
            OutAt::Offset(off) => {
                vfs_pwrite(out, &buf[..got], i64::try_from(off).map_err(|_| Errno::EINVAL)?)
            }
        };
        let n = match put {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += n;
        *pos += n as u64;
        if let OutAt::Offset(off) = &mut out_at {
            *off += n as u64;
        }
        if once || n < got || got < want {
            break;
        }
    }
    Ok(done)
}

/// Linux: `rw_verify_area`'s checks on a position and a count.
fn verify_area(pos: i64, count: usize) -> KResult<u64> {
    if isize::try_from(count).is_err() {
        return Err(Errno::EINVAL);
    }
    u64::try_from(pos).map_err(|_| Errno::EINVAL)
}

/// sendfile(2) (Linux: `do_sendfile`): `in_fd` must be readable at an
/// offset (`ESPIPE` with an offset pointer, `EINVAL` without), `out_fd`
/// anything writable, not O_APPEND unless it is a pipe.
pub fn do_sendfile(
    in_fd: Fd,
    out_fd: Fd,
    ppos: Option<i64>,
    count: usize,
) -> KResult<(usize, i64)> {
    let input = fdget_io(in_fd)?;
    if !input.f_mode.contains(FMode::READ) {
        return Err(Errno::EBADF);
    }
    if ppos.is_some() && !input.f_mode.contains(FMode::PREAD) {
        return Err(Errno::ESPIPE);
    }
    let start = ppos.unwrap_or_else(|| i64::try_from(input.pos()).unwrap_or(i64::MAX));
    let mut pos = verify_area(start, count)?;
    let mut count = count.min(MAX_RW_COUNT);
    let out = fdget_io(out_fd)?;
    if !out.f_mode.contains(FMode::WRITE) {
        return Err(Errno::EBADF);
    }
    if pos >= MAX_LFS_FILESIZE {
        return Err(Errno::EOVERFLOW);
    }
    count = count.min(usize::try_from(MAX_LFS_FILESIZE - pos).unwrap_or(usize::MAX));
    let to_pipe = out.f_inode.file_type() == FileType::Fifo;
    if !to_pipe && out.is_append() {
        return Err(Errno::EINVAL);
    }
    // Only files with a page cache (Linux: a `splice_read` hook) feed it.
    if !matches!(input.f_inode.file_type(), FileType::Regular | FileType::BlockDev)
        || !input.f_mode.contains(FMode::PREAD)
    {
        return Err(Errno::EINVAL);
    }
    let done = copy_range(&input, &mut pos, &out, OutAt::Pos, count, to_pipe)?;
    let end = i64::try_from(pos).map_err(|_| Errno::EOVERFLOW)?;
    if ppos.is_none() && done > 0 {
        *input.f_pos.lock() = pos;
    }
    Ok((done, end))
}

/// sendfile(2): the new input offset goes back through `offset` when
/// one was given, even after an error in the copy (as Linux).
pub fn sys_sendfile64(out_fd: Fd, in_fd: Fd, offset: UserPtr<i64>, count: usize) -> KResult<usize> {
    if offset.is_null() {
        return do_sendfile(in_fd, out_fd, None, count).map(|(n, _)| n);
    }
    let start = offset.read()?;
    let (n, end) = do_sendfile(in_fd, out_fd, Some(start), count)?;
    offset.write(&end)?;
    Ok(n)
}

/// Linux: `generic_file_rw_checks` + `generic_copy_file_checks`: the
/// count, clamped to the source's end and the writer's limits.
fn copy_file_checks(
    input: &File,
    pos_in: i64,
    out: &File,
    pos_out: i64,
    len: usize,
) -> KResult<usize> {
    let (tin, tout) = (input.f_inode.file_type(), out.f_inode.file_type());
    if tin == FileType::Directory || tout == FileType::Directory {
        return Err(Errno::EISDIR);
    }
    if tin != FileType::Regular || tout != FileType::Regular {
        return Err(Errno::EINVAL);
    }
    if !input.f_mode.contains(FMode::READ) || !out.f_mode.contains(FMode::WRITE) || out.is_append()
    {
        return Err(Errno::EBADF);
    }
    if !Arc::ptr_eq(&input.f_inode.sb, &out.f_inode.sb) {
        return Err(Errno::EXDEV);
    }
    // Linux adds in `u64`: a negative offset wraps and overflows here.
    let count = len as u64;
    let wraps = |pos: i64| pos.cast_unsigned().checked_add(count).is_none();
    if wraps(pos_in) || wraps(pos_out) {
        return Err(Errno::EOVERFLOW);
    }
    let (pos_in, pos_out) = (verify_area(pos_in, len)?, verify_area(pos_out, len)?);
    let size_in = input.f_inode.size();
    let count = if pos_in >= size_in { 0 } else { count.min(size_in - pos_in) };
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let count = generic_write_check_limits(pos_out, count).map_err(|limit| limit.report())?;
    let (count64, same) = (count as u64, Arc::ptr_eq(&input.f_inode, &out.f_inode));
    if same && pos_out + count64 > pos_in && pos_out < pos_in + count64 {
        return Err(Errno::EINVAL);
    }
    Ok(count)
}

/// copy_file_range(2) (Linux: the syscall + `vfs_copy_file_range`,
/// 6.1's rules: same superblock or `EXDEV`, flags must be 0). Returns the
/// count and the two new offsets.
pub fn do_copy_file_range(
    fd_in: Fd,
    off_in: Option<i64>,
    fd_out: Fd,
    off_out: Option<i64>,
    len: usize,
    flags: u32,
) -> KResult<(usize, u64, u64)> {
    let input = fdget_io(fd_in)?;
    let out = fdget_io(fd_out)?;
    let start_in = off_in.unwrap_or_else(|| i64::try_from(input.pos()).unwrap_or(i64::MAX));
    let start_out = off_out.unwrap_or_else(|| i64::try_from(out.pos()).unwrap_or(i64::MAX));
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let count = copy_file_checks(&input, start_in, &out, start_out, len)?.min(MAX_RW_COUNT);
    let (mut pos_in, pos_out) = (start_in.unsigned_abs(), start_out.unsigned_abs());
    if count == 0 {
        return Ok((0, pos_in, pos_out));
    }
    let done = copy_range(&input, &mut pos_in, &out, OutAt::Offset(pos_out), count, false)?;
    let pos_out = pos_out + done as u64;
    if done > 0 {
        if off_in.is_none() {
            *input.f_pos.lock() = pos_in;
        }
        if off_out.is_none() {
            *out.f_pos.lock() = pos_out;
        }
    }
    Ok((done, pos_in, pos_out))
}

/// The `off_in`/`off_out` argument of copy_file_range and splice: `None`
/// for a null pointer, the file position then being used.
fn get_user_off(p: UserPtr<i64>) -> KResult<Option<i64>> {
    if p.is_null() { Ok(None) } else { p.read().map(Some) }
}

/// Writes an advanced offset back through `p`.
fn put_user_off(p: UserPtr<i64>, pos: u64) -> KResult<()> {
    p.write(&i64::try_from(pos).map_err(|_| Errno::EOVERFLOW)?)
}

/// copy_file_range(2): the offsets are read before anything else and
/// written back only when bytes moved.
pub fn sys_copy_file_range(
    fd_in: Fd,
    off_in: UserPtr<i64>,
    fd_out: Fd,
    off_out: UserPtr<i64>,
    len: usize,
    flags: u32,
) -> KResult<usize> {
    let (start_in, start_out) = (get_user_off(off_in)?, get_user_off(off_out)?);
    let (done, pos_in, pos_out) =
        do_copy_file_range(fd_in, start_in, fd_out, start_out, len, flags)?;
    if done > 0 {
        for (ptr, pos) in [(off_in, pos_in), (off_out, pos_out)] {
            if !ptr.is_null() {
                put_user_off(ptr, pos)?;
            }
        }
    }
    Ok(done)
}

/// The flags splice knows (Linux: `SPLICE_F_ALL`).
const SPLICE_F_ALL: u32 = linux_raw_sys::general::SPLICE_F_MOVE
    | linux_raw_sys::general::SPLICE_F_NONBLOCK
    | linux_raw_sys::general::SPLICE_F_MORE
    | linux_raw_sys::general::SPLICE_F_GIFT;

fn is_pipe(file: &File) -> bool {
    file.f_inode.file_type() == FileType::Fifo
}

/// A pipe into a file at `*pos` (or its position): one read of what the
/// pipe has (waiting as the pipe's own O_NONBLOCK says), written out
/// whole (Linux: `do_splice_from` → `iter_file_splice_write`). Into
/// another pipe at most `PIPE_BUF` bytes move, a write that waits for
/// room whole, so nothing read is dropped for want of space.
fn splice_from_pipe(input: &File, out: &File, pos: Option<u64>, len: usize) -> KResult<usize> {
    let cap = if is_pipe(out) { super::pipe::PIPE_BUF } else { CHUNK };
    let mut bounce = Bounce::new(len.min(cap))?;
    let buf = bounce.buf();
    let got = super::read_write::vfs_read(input, buf)?;
    let mut done = 0;
    while done < got {
        let n = match pos {
            Some(p) => {
                let at = i64::try_from(p + done as u64).map_err(|_| Errno::EINVAL)?;
                vfs_pwrite(out, &buf[done..got], at)
            }
            None => vfs_write(out, &buf[done..got]),
        };
        match n {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

/// splice(2) (Linux: `__do_splice`, `do_splice`): one end must be a pipe
/// (`EINVAL` otherwise), and a pipe takes no offset (`ESPIPE`). Ferrite
/// moves the bytes through a bounce buffer; `SPLICE_F_NONBLOCK` is
/// honoured only through the files' own O_NONBLOCK.
pub fn sys_splice(
    fd_in: Fd,
    off_in: UserPtr<i64>,
    fd_out: Fd,
    off_out: UserPtr<i64>,
    len: usize,
    flags: u32,
) -> KResult<usize> {
    if len == 0 {
        return Ok(0);
    }
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let input = fdget_io(fd_in)?;
    let out = fdget_io(fd_out)?;
    let (ipipe, opipe) = (is_pipe(&input), is_pipe(&out));
    if (ipipe && !off_in.is_null()) || (opipe && !off_out.is_null()) {
        return Err(Errno::ESPIPE);
    }
    let (start_in, start_out) = (get_user_off(off_in)?, get_user_off(off_out)?);
    if !input.f_mode.contains(FMode::READ) || !out.f_mode.contains(FMode::WRITE) {
        return Err(Errno::EBADF);
    }
    let len = len.min(MAX_RW_COUNT);
    if ipipe && opipe {
        if Arc::ptr_eq(&input.f_inode, &out.f_inode) {
            return Err(Errno::EINVAL);
        }
        return splice_from_pipe(&input, &out, None, len);
    }
    if ipipe {
        if start_out.is_some() && !out.f_mode.contains(FMode::PWRITE) {
            return Err(Errno::EINVAL);
        }
        if out.is_append() {
            return Err(Errno::EINVAL);
        }
        let pos = start_out.map(|p| verify_area(p, len)).transpose()?;
        let done = splice_from_pipe(&input, &out, pos, len)?;
        if let Some(p) = pos {
            put_user_off(off_out, p + done as u64)?;
        }
        return Ok(done);
    }
    if opipe {
        if start_in.is_some() && !input.f_mode.contains(FMode::PREAD) {
            return Err(Errno::EINVAL);
        }
        if !input.f_mode.contains(FMode::PREAD) {
            return Err(Errno::EINVAL); // no page cache to splice from
        }
        let start = start_in.unwrap_or_else(|| i64::try_from(input.pos()).unwrap_or(i64::MAX));
        let mut pos = verify_area(start, len)?;
        let done = copy_range(&input, &mut pos, &out, OutAt::Pos, len, true)?;
        let end = i64::try_from(pos).map_err(|_| Errno::EOVERFLOW)?;
        match start_in {
            Some(_) => off_in.write(&end)?,
            None => *input.f_pos.lock() = pos,
        }
        return Ok(done);
    }
    Err(Errno::EINVAL)
}

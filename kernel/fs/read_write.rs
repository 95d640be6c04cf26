//! read, write, their positioned and vectored forms, and lseek (Linux:
//! fs/read_write.c `vfs_read`, `vfs_write`, `vfs_llseek`,
//! `generic_file_llseek_size`, `ksys_read`, `do_readv`, ...).
//!
//! The `vfs_*` functions take kernel buffers; the `sys_*` system calls move
//! user memory through a bounce buffer around them (uio.rs), at most
//! `MAX_RW_COUNT` bytes per call, as Linux caps every read and write.
//! Regular files go round in bounce-sized steps until the count is done
//! or the file is short; a pipe or a tty is read once, since a second read
//! could block after the first returned data. `RLIMIT_FSIZE` is checked
//! by the file systems' write and truncate (`generic_write_check_limits`,
//! `inode_newsize_ok`), as in Linux.
//!
//! # Locking
//! For files with `FMode::ATOMIC_POS` (regular files, directories) `f_pos`
//! is held across the call into the file system; other files (devices
//! that may block) read the position, call, and store it back.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::fdget;
use super::file_table::{FMode, File, Whence};
use super::uio::{Bounce, IoVec, copy_from_iov, copy_to_iov, fault_in_writeable, import_iovec};
use crate::arch::uaccess::{UserAddr, access_ok};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{Fd, UserPtr};
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

/// Sends SIGXFSZ to the writer (Linux: `send_sig(SIGXFSZ, current, 0)`,
/// an `SI_USER` signal from the task itself).
fn send_sigxfsz() {
    use crate::kernel::signal::{SendTo, SigInfo, SigTask, Signal, send_signal};
    let cur = crate::kernel::sched::current();
    let info = SigInfo::user(Signal::SIGXFSZ, cur.tgid_nr_ns(&cur), cur.uid());
    send_signal(info, &cur, SendTo::Thread, false);
}

/// The process's `RLIMIT_FSIZE`.
fn rlimit_fsize() -> u64 {
    crate::mm::mm_types::rlimit(linux_raw_sys::general::RLIMIT_FSIZE).cur
}

/// Why a write may not start at its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteLimit {
    /// At or past `RLIMIT_FSIZE`.
    Fsize,
    /// At or past the largest offset (Linux: `s_maxbytes`).
    MaxBytes,
}

impl WriteLimit {
    /// The write's error, SIGXFSZ first for the rlimit. Called with no
    /// file-system lock held: sending takes the signal locks.
    pub fn report(self) -> Errno {
        if self == WriteLimit::Fsize {
            send_sigxfsz();
        }
        Errno::EFBIG
    }
}

/// How much of a `count`-byte write at `pos` may go into a regular file:
/// up to `RLIMIT_FSIZE` and up to the largest offset, none at all from
/// either on (Linux: `generic_write_check_limits`). File systems call it
/// once they know `pos`, for a non-empty write.
pub fn generic_write_check_limits(pos: u64, count: usize) -> Result<usize, WriteLimit> {
    let fsize = rlimit_fsize();
    if pos >= fsize {
        return Err(WriteLimit::Fsize);
    }
    if pos >= MAX_LFS_FILESIZE {
        return Err(WriteLimit::MaxBytes);
    }
    let left = fsize.min(MAX_LFS_FILESIZE) - pos;
    Ok(usize::try_from(left).map_or(count, |left| left.min(count)))
}

/// Whether a file of `old_size` bytes may be truncated to `new_size`:
/// growth past `RLIMIT_FSIZE` sends SIGXFSZ and fails with `EFBIG`
/// (Linux: `inode_newsize_ok`, fs/attr.c).
pub fn inode_newsize_ok(old_size: u64, new_size: u64) -> KResult<()> {
    if new_size <= old_size {
        return Ok(());
    }
    if new_size > rlimit_fsize() {
        send_sigxfsz();
        return Err(Errno::EFBIG);
    }
    if new_size > MAX_LFS_FILESIZE {
        return Err(Errno::EFBIG);
    }
    Ok(())
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
    let n = file_write(file, || with_pos(file, |pos| file.f_op.write(file, &buf[..count], pos)))?;
    super::sync::generic_write_sync(file, n)
}

/// Runs a write to `file`, which waits first while its file system is
/// frozen if it is a regular file (Linux: `file_start_write`,
/// `file_end_write`; fs/freeze.rs).
fn file_write<T>(file: &File, write: impl FnOnce() -> KResult<T>) -> KResult<T> {
    if file.f_inode.file_type() != super::inode::FileType::Regular {
        return write();
    }
    super::freeze::sb_start_write(&file.f_inode.sb);
    let result = write();
    super::freeze::sb_end_write(&file.f_inode.sb);
    result
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

/// pwrite64(2): writes at `offset` (the end, for O_APPEND files, as Linux
/// does), leaving `f_pos` alone.
pub fn vfs_pwrite(file: &File, buf: &[u8], offset: i64) -> KResult<usize> {
    check_mode(file, FMode::WRITE)?;
    let mut pos = check_offset(file, offset, FMode::PWRITE)?;
    let count = buf.len().min(MAX_RW_COUNT);
    let n = file_write(file, || file.f_op.write(file, &buf[..count], &mut pos))?;
    super::sync::generic_write_sync(file, n)
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

/// lseek from the start or the current position only, for files with no
/// meaningful end: seq files and directories (Linux: `seq_lseek`,
/// `dcache_dir_lseek`); `EINVAL` for SEEK_END and the rest.
pub fn llseek_set_cur(pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
    let base = match whence {
        Whence::Set => 0,
        Whence::Cur => pos,
        _ => return Err(Errno::EINVAL),
    };
    base.checked_add_signed(offset).ok_or(Errno::EINVAL)
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

/// lseek on a directory whose positions are byte offsets in it (ext2's,
/// FAT's): as a file of its size, but SEEK_DATA/SEEK_HOLE are `EINVAL`
/// (Linux: `generic_file_llseek` there, which directories fail for them).
pub fn dir_llseek_by_size(pos: u64, size: u64, offset: i64, whence: Whence) -> KResult<u64> {
    match whence {
        Whence::Data | Whence::Hole => Err(Errno::EINVAL),
        _ => generic_file_llseek(pos, size, offset, whence),
    }
}

/// Where a system call reads or writes: at the file position, or at an
/// offset that leaves it alone (pread64/pwrite64).
#[derive(Clone, Copy, Debug)]
enum At {
    Pos,
    Offset(i64),
}

impl At {
    /// `done` bytes further on.
    fn advanced(self, done: usize) -> KResult<At> {
        Ok(match self {
            At::Pos => At::Pos,
            At::Offset(off) => {
                let done = i64::try_from(done).map_err(|_| Errno::EINVAL)?;
                At::Offset(off.checked_add(done).ok_or(Errno::EINVAL)?)
            }
        })
    }
}

/// One user buffer as a one-segment list, after the checks `vfs_read`
/// makes before it (`EBADF` for the wrong mode, then `EFAULT` outside the
/// user half).
fn user_buf(file: &File, need: FMode, buf: UserPtr<u8>, count: usize) -> KResult<[IoVec; 1]> {
    check_mode(file, need)?;
    if !access_ok(buf.addr(), count) {
        return Err(Errno::EFAULT);
    }
    Ok([IoVec { base: buf.addr(), len: count.min(MAX_RW_COUNT) }])
}

/// A pipe or tty wait broken by a signal restarts the call if the
/// handler has `SA_RESTART` (or there is no handler: a stop and continue),
/// else fails with `EINTR` (Linux: `pipe_read`'s `-ERESTARTSYS`).
fn restart_code(e: Errno) -> Errno {
    if e == Errno::EINTR { Errno::ERESTARTSYS } else { e }
}

/// Reads `total` bytes into the user segments (Linux: `vfs_read` /
/// `vfs_iter_read` with a user `iov_iter`). Bytes the file gave but the
/// copy could not deliver are given back to a seekable file by moving its
/// position back; a stream is first checked to be writable at the start.
fn do_iter_read(file: &File, segs: &[IoVec], total: usize, at: At) -> KResult<usize> {
    if let At::Offset(off) = at {
        check_offset(file, off, FMode::PREAD)?;
    }
    let streaming = !file.f_mode.contains(FMode::LSEEK);
    if streaming {
        fault_in_writeable(segs)?;
    }
    let mut bounce = Bounce::new(total)?;
    let buf = bounce.buf();
    let mut done = 0;
    loop {
        let want = (total - done).min(buf.len());
        let step = match at.advanced(done)? {
            At::Pos => vfs_read(file, &mut buf[..want]),
            At::Offset(off) => vfs_pread(file, &mut buf[..want], off),
        };
        let n = match step {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(restart_code(e)),
            Err(_) => break,
        };
        let copied = copy_to_iov(segs, done, &buf[..n]);
        done += copied;
        if copied < n {
            if let At::Pos = at
                && !streaming
            {
                let mut pos = file.f_pos.lock();
                *pos = pos.saturating_sub(u64::try_from(n - copied).unwrap_or(0));
            }
            return if done == 0 { Err(Errno::EFAULT) } else { Ok(done) };
        }
        if n < want || streaming || done >= total {
            break;
        }
    }
    Ok(done)
}

/// Writes `total` bytes from the user segments (Linux: `vfs_write` /
/// `vfs_iter_write`); a fault part-way writes what was read before it.
fn do_iter_write(file: &File, segs: &[IoVec], total: usize, at: At) -> KResult<usize> {
    if let At::Offset(off) = at {
        check_offset(file, off, FMode::PWRITE)?;
    }
    let mut bounce = Bounce::new(total)?;
    let buf = bounce.buf();
    let mut done = 0;
    loop {
        let want = (total - done).min(buf.len());
        let got = copy_from_iov(segs, done, &mut buf[..want]);
        if got == 0 && want > 0 {
            return if done == 0 { Err(Errno::EFAULT) } else { Ok(done) };
        }
        let step = match at.advanced(done)? {
            At::Pos => vfs_write(file, &buf[..got]),
            At::Offset(off) => vfs_pwrite(file, &buf[..got], off),
        };
        let n = match step {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(restart_code(e)),
            Err(_) => break,
        };
        done += n;
        if n < got || got < want || done >= total {
            break;
        }
    }
    Ok(done)
}

/// read(2).
pub fn sys_read(fd: Fd, buf: UserPtr<u8>, count: usize) -> KResult<usize> {
    let file = fdget(fd)?;
    let seg = user_buf(&file, FMode::READ, buf, count)?;
    do_iter_read(&file, &seg, seg[0].len, At::Pos)
}

/// write(2).
pub fn sys_write(fd: Fd, buf: UserPtr<u8>, count: usize) -> KResult<usize> {
    let file = fdget(fd)?;
    let seg = user_buf(&file, FMode::WRITE, buf, count)?;
    do_iter_write(&file, &seg, seg[0].len, At::Pos)
}

/// pread64(2): `EINVAL` for a negative offset, `ESPIPE` on a stream.
pub fn sys_pread64(fd: Fd, buf: UserPtr<u8>, count: usize, pos: i64) -> KResult<usize> {
    let file = fdget(fd)?;
    let seg = user_buf(&file, FMode::READ, buf, count)?;
    do_iter_read(&file, &seg, seg[0].len, At::Offset(pos))
}

/// pwrite64(2).
pub fn sys_pwrite64(fd: Fd, buf: UserPtr<u8>, count: usize, pos: i64) -> KResult<usize> {
    let file = fdget(fd)?;
    let seg = user_buf(&file, FMode::WRITE, buf, count)?;
    do_iter_write(&file, &seg, seg[0].len, At::Offset(pos))
}

/// What readv, writev and their p-variants check before moving a byte, in
/// Linux's order (`do_readv`, `do_preadv`): `EINVAL` for an offset below
/// -1 before the descriptor is looked at, `ESPIPE` for an offset on a
/// stream, `EBADF` without `need`, then the vector. -1 is the file
/// position.
fn vec_io_prepare(
    fd: Fd,
    vec: UserAddr,
    vlen: u64,
    pos: i64,
    need: FMode,
) -> KResult<(Arc<File>, Vec<IoVec>, usize)> {
    if pos < -1 {
        return Err(Errno::EINVAL);
    }
    let file = fdget(fd)?;
    let positional = if need == FMode::READ { FMode::PREAD } else { FMode::PWRITE };
    if pos >= 0 && !file.f_mode.contains(positional) {
        return Err(Errno::ESPIPE);
    }
    check_mode(&file, need)?;
    let (segs, total) = import_iovec(vec, vlen)?;
    Ok((file, segs, total))
}

/// readv(2) (Linux: `do_readv`): one transfer over all the segments.
pub fn sys_readv(fd: Fd, vec: UserAddr, vlen: u64) -> KResult<usize> {
    let (file, segs, total) = vec_io_prepare(fd, vec, vlen, -1, FMode::READ)?;
    do_iter_read(&file, &segs, total, At::Pos)
}

/// writev(2) (Linux: `do_writev`).
pub fn sys_writev(fd: Fd, vec: UserAddr, vlen: u64) -> KResult<usize> {
    let (file, segs, total) = vec_io_prepare(fd, vec, vlen, -1, FMode::WRITE)?;
    do_iter_write(&file, &segs, total, At::Pos)
}

/// lseek(2): the new offset.
pub fn sys_lseek(fd: Fd, offset: i64, whence: u32) -> KResult<i64> {
    let file = fdget(fd)?;
    let pos = vfs_llseek(&file, offset, whence)?;
    i64::try_from(pos).map_err(|_| Errno::EOVERFLOW)
}

/// The `RWF_*` flags preadv2/pwritev2 know (Linux: `RWF_SUPPORTED`).
const RWF_SUPPORTED: u32 = linux_raw_sys::general::RWF_HIPRI
    | linux_raw_sys::general::RWF_DSYNC
    | linux_raw_sys::general::RWF_SYNC
    | linux_raw_sys::general::RWF_NOWAIT
    | linux_raw_sys::general::RWF_APPEND;

/// Linux: `kiocb_set_rw_flags`: unknown flags are `EOPNOTSUPP`, and so is
/// `RWF_NOWAIT`, since no Ferrite file can promise not to block
/// (`FMODE_NOWAIT`). `RWF_HIPRI`, `RWF_DSYNC` and `RWF_SYNC` change nothing
/// on memory-backed files. Returns whether to append (`RWF_APPEND`).
fn kiocb_set_rw_flags(flags: u32) -> KResult<bool> {
    if flags & !RWF_SUPPORTED != 0 || flags & linux_raw_sys::general::RWF_NOWAIT != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    Ok(flags & linux_raw_sys::general::RWF_APPEND != 0)
}

/// preadv2(2)/preadv(2) (Linux: `do_preadv`, and `do_readv` for an
/// offset of -1 with preadv2): `EINVAL` for another negative offset
/// before the descriptor is looked at, `ESPIPE` on a stream.
pub fn sys_preadv2(
    fd: Fd,
    vec: UserAddr,
    vlen: u64,
    pos_l: u64,
    pos_h: u64,
    flags: u32,
) -> KResult<usize> {
    let _ = pos_h; // 64-bit: the whole offset is in pos_l (Linux: `pos_from_hilo`)
    let pos = pos_l.cast_signed();
    let (file, segs, total) = vec_io_prepare(fd, vec, vlen, pos, FMode::READ)?;
    kiocb_set_rw_flags(flags)?;
    do_iter_read(&file, &segs, total, if pos == -1 { At::Pos } else { At::Offset(pos) })
}

/// preadv(2): preadv2 without -1 or flags.
pub fn sys_preadv(fd: Fd, vec: UserAddr, vlen: u64, pos_l: u64, pos_h: u64) -> KResult<usize> {
    if pos_l.cast_signed() < 0 {
        return Err(Errno::EINVAL);
    }
    sys_preadv2(fd, vec, vlen, pos_l, pos_h, 0)
}

/// pwritev2(2)/pwritev(2) (Linux: `do_pwritev`): `RWF_APPEND` writes at
/// the end, as an O_APPEND file does, leaving the offset alone.
pub fn sys_pwritev2(
    fd: Fd,
    vec: UserAddr,
    vlen: u64,
    pos_l: u64,
    pos_h: u64,
    flags: u32,
) -> KResult<usize> {
    let _ = pos_h;
    let pos = pos_l.cast_signed();
    let (file, segs, total) = vec_io_prepare(fd, vec, vlen, pos, FMode::WRITE)?;
    let at = match (kiocb_set_rw_flags(flags)?, pos) {
        // The end, read now: concurrent appenders may interleave, unlike
        // Linux's IOCB_APPEND under the inode lock.
        (true, _) if file.f_mode.contains(FMode::PWRITE) => {
            At::Offset(i64::try_from(file.f_inode.size()).map_err(|_| Errno::EFBIG)?)
        }
        (_, -1) => At::Pos,
        (_, pos) => At::Offset(pos),
    };
    do_iter_write(&file, &segs, total, at)
}

/// pwritev(2).
pub fn sys_pwritev(fd: Fd, vec: UserAddr, vlen: u64, pos_l: u64, pos_h: u64) -> KResult<usize> {
    if pos_l.cast_signed() < 0 {
        return Err(Errno::EINVAL);
    }
    sys_pwritev2(fd, vec, vlen, pos_l, pos_h, 0)
}

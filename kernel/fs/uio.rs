//! User buffers for read- and write-like calls: scatter/gather lists of
//! user segments, copies that report how far they got, and the kernel
//! bounce buffer the VFS bodies work on.
//!
//! Linux: lib/iov_iter.c (`import_iovec`, `copy_to_iter`,
//! `copy_from_iter`, `fault_in_iov_iter_writeable`), include/linux/uio.h
//! (`UIO_MAXIOV`).
//!
//! The file operations take kernel slices, so a `read(2)` is: the file
//! fills a bounce buffer, then the bytes go out to user space. A copy that
//! faults part-way reports how many bytes got through (`rep movsb` stops at
//! the first bad page), which is what Linux returns from a read into a
//! buffer that runs into an unmapped page: a short count, `EFAULT` only if
//! nothing was copied.
//!
//! # Locking
//! None. Every copy here may fault, and a fault may sleep: callers hold no
//! spinlock across them.
#![deny(unsafe_code)]

use alloc::vec::Vec;
use core::ops::Range;

use crate::arch::uaccess::{
    Efault, UserAddr, access_ok, copy_from_user, copy_to_user, get_user, put_user,
};
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::PAGE_SIZE;
use crate::mm::slab_common::kzalloc;

use super::read_write::MAX_RW_COUNT;

/// Most segments a readv/writev takes (Linux: `UIO_MAXIOV`).
pub const UIO_MAXIOV: u64 = 1024;
/// Largest bounce buffer one step of a read or write uses; longer
/// transfers on regular files go round in steps of this size.
pub const BOUNCE_MAX: usize = 64 * 1024;
/// Transfers up to this size bounce through the kernel stack.
const BOUNCE_ON_STACK: usize = 256;

/// One user segment (Linux: `struct iovec`).
#[derive(Clone, Copy, Debug)]
pub struct IoVec {
    pub base: UserAddr,
    pub len: usize,
}

/// Reads and checks a user iovec array (Linux: `import_iovec`): `EINVAL`
/// for more than `UIO_MAXIOV` segments or a negative length, `EFAULT` for
/// an unreadable array or a segment outside the user half. The total is
/// cut to `MAX_RW_COUNT` by shortening the segments past it, as Linux does.
pub fn import_iovec(uvec: UserAddr, nr_segs: u64) -> KResult<(Vec<IoVec>, usize)> {
    if nr_segs > UIO_MAXIOV {
        return Err(Errno::EINVAL);
    }
    let nr = usize::try_from(nr_segs).map_err(|_| Errno::EINVAL)?;
    let mut raw = kzalloc(nr * 16)?;
    copy_from_user(&mut raw, uvec).map_err(|_| Errno::EFAULT)?;
    let mut segs = Vec::new();
    segs.try_reserve_exact(nr).map_err(|_| Errno::ENOMEM)?;
    let mut total = 0usize;
    for entry in raw.chunks_exact(16) {
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&entry[at..at + 8]);
            u64::from_ne_bytes(b)
        };
        let base = UserAddr::new(word(0));
        // `iov_len` is a `size_t` that Linux reads as `ssize_t`.
        let len = usize::try_from(word(8)).ok().filter(|&l| isize::try_from(l).is_ok());
        let len = len.ok_or(Errno::EINVAL)?;
        if !access_ok(base, len) {
            return Err(Errno::EFAULT);
        }
        let len = len.min(MAX_RW_COUNT - total);
        total += len;
        segs.push(IoVec { base, len });
    }
    Ok((segs, total))
}

/// Copies `src` to user space at `dst`; returns how many bytes made it
/// before the first fault (Linux: `copy_to_user`'s "bytes not copied",
/// turned around).
pub fn copy_to_user_partial(dst: UserAddr, src: &[u8]) -> usize {
    copy_partial(dst, src.len(), |at, range| copy_to_user(at, &src[range]))
}

/// Copies from user space at `src` into `dst`; returns how many bytes
/// were read before the first fault.
pub fn copy_from_user_partial(dst: &mut [u8], src: UserAddr) -> usize {
    copy_partial(src, dst.len(), |at, range| copy_from_user(&mut dst[range], at))
}

/// Runs `copy(at, range)` over the `len` user bytes at `addr`: all at
/// once, or after a fault page by page from the start, to find the first
/// page that faults; returns how many bytes made it.
fn copy_partial(
    addr: UserAddr,
    len: usize,
    mut copy: impl FnMut(UserAddr, Range<usize>) -> Result<(), Efault>,
) -> usize {
    if copy(addr, 0..len).is_ok() {
        return len;
    }
    if !access_ok(addr, len) {
        return 0;
    }
    let mut done = 0;
    while done < len {
        let Some(at) = addr.checked_add(done) else { break };
        let n = page_chunk(at, len - done);
        if copy(at, done..done + n).is_err() {
            break;
        }
        done += n;
    }
    done
}

/// Bytes from `at` to the end of its page, at most `left`.
fn page_chunk(at: UserAddr, left: usize) -> usize {
    let in_page = usize::try_from(at.as_u64() % PAGE_SIZE as u64).unwrap_or(0);
    (PAGE_SIZE - in_page).min(left)
}

/// Scatters `data` over the segments, starting `skip` bytes into them;
/// returns how many bytes were copied before a fault (Linux:
/// `copy_to_iter`).
pub fn copy_to_iov(segs: &[IoVec], skip: usize, data: &[u8]) -> usize {
    let mut done = 0;
    walk_iov(segs, skip, data.len(), |at, from, len| {
        let n = copy_to_user_partial(at, &data[from..from + len]);
        done += n;
        n == len
    });
    done
}

/// Gathers from the segments, starting `skip` bytes into them, into
/// `out`; returns how many bytes were read before a fault (Linux:
/// `copy_from_iter`).
pub fn copy_from_iov(segs: &[IoVec], skip: usize, out: &mut [u8]) -> usize {
    let mut done = 0;
    let len = out.len();
    walk_iov(segs, skip, len, |at, from, len| {
        let n = copy_from_user_partial(&mut out[from..from + len], at);
        done += n;
        n == len
    });
    done
}

/// Calls `step(address, offset in the kernel buffer, length)` for each
/// piece of the `len` bytes that start `skip` bytes into the segments,
/// until `step` returns false.
fn walk_iov(
    segs: &[IoVec],
    skip: usize,
    len: usize,
    mut step: impl FnMut(UserAddr, usize, usize) -> bool,
) {
    let mut skip = skip;
    let mut done = 0;
    for seg in segs {
        if done == len {
            break;
        }
        if skip >= seg.len {
            skip -= seg.len;
            continue;
        }
        let n = (seg.len - skip).min(len - done);
        let Some(at) = seg.base.checked_add(skip) else { break };
        if !step(at, done, n) {
            break;
        }
        done += n;
        skip = 0;
    }
}

/// Makes sure the first byte of the first non-empty segment can be written
/// before a read consumes data it could not give back (a pipe's or a
/// tty's): `EFAULT` otherwise (Linux: `fault_in_iov_iter_writeable`, for
/// the first page only).
pub fn fault_in_writeable(segs: &[IoVec]) -> KResult<()> {
    let Some(seg) = segs.iter().find(|s| s.len > 0) else { return Ok(()) };
    let byte: u8 = get_user(seg.base).map_err(|_| Errno::EFAULT)?;
    put_user(seg.base, &byte).map_err(|_| Errno::EFAULT)
}

/// The kernel buffer a transfer bounces through: on the stack for short
/// ones, else up to [`BOUNCE_MAX`] bytes from the heap (`ENOMEM` if that
/// cannot be had: the size came from user space).
pub struct Bounce {
    small: [u8; BOUNCE_ON_STACK],
    big: Vec<u8>,
}

impl Bounce {
    pub fn new(total: usize) -> KResult<Self> {
        let mut big = Vec::new();
        if total > BOUNCE_ON_STACK {
            big = kzalloc(total.min(BOUNCE_MAX))?;
        }
        Ok(Self { small: [0; BOUNCE_ON_STACK], big })
    }

    pub fn buf(&mut self) -> &mut [u8] {
        if self.big.is_empty() { &mut self.small } else { &mut self.big }
    }
}

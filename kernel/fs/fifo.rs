//! Named pipes: opening a FIFO node gives a pipe shared by every open of
//! that inode (Linux: fs/pipe.c `fifo_open`, `wait_for_partner`,
//! `pipefifo_fops`).
//!
//! The pipe of a FIFO lives while any open file holds it: a global table
//! keyed like the file locks (super block, inode number) keeps a weak
//! reference, so the first open after all were closed starts an empty
//! pipe, as Linux frees `i_pipe` with the last file. An `O_RDONLY` open
//! waits for a writer to open (`O_NONBLOCK`: returns at once), an
//! `O_WRONLY` open waits for a reader (`O_NONBLOCK`: `ENXIO`), `O_RDWR`
//! never waits. Waits count opens (`r_counter`, `w_counter`) rather than
//! look at the current number of ends, so a partner that opened and
//! closed meanwhile still ends the wait; a signal ends it with
//! `ERESTARTSYS`.
//!
//! # Locking
//! `FIFOS` (noirq) guards the table and each FIFO's open counters, and is
//! held while an open checks and takes its end, so that "no reader" and a
//! reader's arrival cannot interleave; the pipe's own lock nests inside
//! it. Nothing is held while an open waits on `FifoInfo::wait`.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use super::file_table::{FMode, File, FileOps, PollMask};
use super::inode::Inode;
use super::pipe::{PipeEnd, PipeInodeInfo};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLockNoIrq;
use crate::kernel::sched::wait::WaitQueue;

/// One FIFO's pipe and its opens (the FIFO half of Linux's
/// `pipe_inode_info`).
struct FifoInfo {
    pipe: Arc<PipeInodeInfo>,
    /// Opens for reading and for writing so far, under `FIFOS`.
    counters: SpinLockNoIrq<(u64, u64)>,
    /// Where opens wait for a partner (Linux: `rd_wait` in `wait_for_partner`).
    wait: WaitQueue,
}

type InodeKey = (usize, u64);

static FIFOS: SpinLockNoIrq<Vec<(InodeKey, Weak<FifoInfo>)>> = SpinLockNoIrq::new(Vec::new());

/// What an open FIFO file holds: the FIFO and the ends it took.
struct FifoOpen {
    fifo: Arc<FifoInfo>,
    mode: FMode,
}

/// The FIFO of `inode`, made on its first open (Linux: `fifo_open`'s
/// `alloc_pipe_info`); called under `FIFOS`.
fn find_or_make(
    table: &mut Vec<(InodeKey, Weak<FifoInfo>)>,
    key: InodeKey,
) -> KResult<Arc<FifoInfo>> {
    table.retain(|(_, w)| w.strong_count() > 0);
    if let Some(fifo) = table.iter().find(|(k, _)| *k == key).and_then(|(_, w)| w.upgrade()) {
        return Ok(fifo);
    }
    let pipe = PipeInodeInfo::new();
    // A new pipe counts one reader and one writer; a FIFO starts with none.
    pipe.pipe_release(PipeEnd::Read);
    pipe.pipe_release(PipeEnd::Write);
    let fifo =
        Arc::new(FifoInfo { pipe, counters: SpinLockNoIrq::new((0, 0)), wait: WaitQueue::new() });
    table.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    table.push((key, Arc::downgrade(&fifo)));
    Ok(fifo)
}

/// Takes the ends of `mode` under `FIFOS`; returns what to wait for:
/// the partner's open count to move past the value given.
fn take_ends(fifo: &FifoInfo, mode: FMode, nonblock: bool) -> KResult<Option<(PipeEnd, u64)>> {
    let (readers, writers) = fifo.pipe.readers_writers();
    let mut counters = fifo.counters.lock();
    let wait = match (mode.contains(FMode::READ), mode.contains(FMode::WRITE)) {
        (true, true) => {
            counters.0 += 1;
            counters.1 += 1;
            fifo.pipe.pipe_get(PipeEnd::Read);
            fifo.pipe.pipe_get(PipeEnd::Write);
            None
        }
        (true, false) => {
            counters.0 += 1;
            fifo.pipe.pipe_get(PipeEnd::Read);
            (writers == 0 && !nonblock).then_some((PipeEnd::Write, counters.1))
        }
        (false, true) => {
            if nonblock && readers == 0 {
                return Err(Errno::ENXIO);
            }
            counters.1 += 1;
            fifo.pipe.pipe_get(PipeEnd::Write);
            (readers == 0).then_some((PipeEnd::Read, counters.0))
        }
        (false, false) => return Err(Errno::EINVAL),
    };
    Ok(wait)
}

/// Linux: `fifo_open`.
fn fifo_open(inode: &Inode, file: &File) -> KResult<()> {
    let key = (Arc::as_ptr(&inode.sb) as usize, inode.ino);
    let mode = file.f_mode & (FMode::READ | FMode::WRITE);
    let (fifo, wait) = {
        let mut table = FIFOS.lock();
        let fifo = find_or_make(&mut table, key)?;
        let wait = take_ends(&fifo, mode, file.is_nonblocking())?;
        (fifo, wait)
    };
    // Partners waiting for this end (Linux: `wake_up_partner`).
    fifo.wait.wake_up_all();
    if let Some((partner, seen)) = wait {
        let moved = || {
            let counters = fifo.counters.lock();
            let now = if partner == PipeEnd::Write { counters.1 } else { counters.0 };
            now != seen
        };
        if fifo.wait.wait_event_interruptible(moved).is_err() {
            let mine = if partner == PipeEnd::Write { PipeEnd::Read } else { PipeEnd::Write };
            fifo.pipe.pipe_release(mine);
            return Err(Errno::ERESTARTSYS);
        }
    }
    file.set_private(Box::new(FifoOpen { fifo, mode }));
    Ok(())
}

fn fifo_of(file: &File) -> KResult<&FifoOpen> {
    file.private::<FifoOpen>().ok_or(Errno::EBADF)
}

/// Operations of an opened FIFO node (Linux: `pipefifo_fops`).
pub struct FifoFileOps;
pub static FIFO_FOPS: FifoFileOps = FifoFileOps;

impl FileOps for FifoFileOps {
    fn open(&self, inode: &Arc<Inode>, file: &File) -> KResult<()> {
        fifo_open(inode, file)
    }

    /// Linux: `pipe_release`, for each end this open took.
    fn release(&self, file: &File) {
        if let Some(open) = file.private::<FifoOpen>() {
            for (bit, end) in [(FMode::READ, PipeEnd::Read), (FMode::WRITE, PipeEnd::Write)] {
                if open.mode.contains(bit) {
                    open.fifo.pipe.pipe_release(end);
                }
            }
        }
    }

    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        fifo_of(file)?.fifo.pipe.pipe_read(buf, file.is_nonblocking())
    }

    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        fifo_of(file)?.fifo.pipe.pipe_write(buf, file.is_nonblocking())
    }

    fn poll(&self, file: &File) -> PollMask {
        let Ok(open) = fifo_of(file) else { return uapi::POLLNVAL };
        let mut mask = 0;
        if open.mode.contains(FMode::READ) {
            mask |= open.fifo.pipe.pipe_poll(PipeEnd::Read);
        }
        if open.mode.contains(FMode::WRITE) {
            mask |= open.fifo.pipe.pipe_poll(PipeEnd::Write);
        }
        mask
    }

    fn seekable(&self) -> bool {
        false
    }
}

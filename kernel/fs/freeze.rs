//! Freezing a file system: `FIFREEZE` waits for the writes in flight,
//! writes everything to the disk and makes new writes wait until
//! `FITHAW`, so that a snapshot of the disk taken meanwhile is clean
//! (`fsfreeze --freeze`; Linux: fs/super.c `freeze_super`, `thaw_super`,
//! fs/ioctl.c `ioctl_fsfreeze`, include/linux/fs.h `sb_start_write`).
//!
//! Linux counts writers at three levels (writes, page faults, internal
//! transactions) in per-CPU rw-semaphores. Ferrite has the first level
//! only: `write(2)` and its variants on a regular file hold it
//! ([`sb_start_write`] in fs/read_write.rs). TODO(issue 7): namespace
//! changes (create, unlink, rename, setattr) and stores through a shared
//! mapping do not wait for the thaw yet.
//!
//! # Locking
//! No lock: the frozen flag and the writer count are atomics, `SeqCst` on
//! both sides (a writer counts itself before it reads the flag, a freezer
//! sets the flag before it reads the count), so one of the two always
//! sees the other; both wait on the super block's wait queue.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::super_block::SuperBlock;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;
use crate::kernel::sched::wait::WaitQueue;

/// A super block's writers and frozen state (Linux: `sb->s_writers`).
pub struct SbWriters {
    frozen: AtomicBool,
    writers: AtomicUsize,
    wait: WaitQueue,
}

impl SbWriters {
    pub const fn new() -> Self {
        SbWriters {
            frozen: AtomicBool::new(false),
            writers: AtomicUsize::new(0),
            wait: WaitQueue::new(),
        }
    }

    fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::SeqCst)
    }
}

impl Default for SbWriters {
    fn default() -> Self {
        Self::new()
    }
}

/// Enters a write to `sb`, waiting while it is frozen (Linux:
/// `sb_start_write`, which sleeps uninterruptibly too).
pub fn sb_start_write(sb: &SuperBlock) {
    let w = &sb.s_writers;
    loop {
        w.writers.fetch_add(1, Ordering::SeqCst);
        if !w.is_frozen() {
            return;
        }
        sb_end_write(sb);
        w.wait.wait_event(|| !w.is_frozen());
    }
}

/// Leaves a write (Linux: `sb_end_write`).
pub fn sb_end_write(sb: &SuperBlock) {
    let w = &sb.s_writers;
    if w.writers.fetch_sub(1, Ordering::SeqCst) == 1 {
        w.wait.wake_up_all();
    }
}

/// Linux: `freeze_super`: `EBUSY` if frozen already; waits for the writes
/// in flight, then writes everything and flushes the disk. A failed sync
/// thaws again.
pub fn freeze_super(sb: &SuperBlock) -> KResult<()> {
    let w = &sb.s_writers;
    if w.frozen.swap(true, Ordering::SeqCst) {
        return Err(Errno::EBUSY);
    }
    w.wait.wait_event(|| w.writers.load(Ordering::SeqCst) == 0);
    if let Err(e) = super::sync::sync_filesystem(sb) {
        thaw_super(sb)?;
        return Err(e);
    }
    Ok(())
}

/// Linux: `thaw_super`: `EINVAL` if not frozen; wakes the waiting writers.
pub fn thaw_super(sb: &SuperBlock) -> KResult<()> {
    let w = &sb.s_writers;
    if !w.frozen.swap(false, Ordering::SeqCst) {
        return Err(Errno::EINVAL);
    }
    w.wait.wake_up_all();
    Ok(())
}

/// `FIFREEZE` and `FITHAW` on any file of the file system (Linux:
/// `ioctl_fsfreeze`, `ioctl_fsthaw`): root only, and only for a file
/// system that can be frozen (ext2, not tmpfs: `EOPNOTSUPP`).
pub fn ioctl_freeze(sb: &SuperBlock, freeze: bool) -> KResult<i64> {
    if current().cred().euid != 0 {
        return Err(Errno::EPERM);
    }
    if !freeze {
        return thaw_super(sb).map(|()| 0);
    }
    if !sb.s_op.can_freeze() {
        return Err(Errno::EOPNOTSUPP);
    }
    freeze_super(sb).map(|()| 0)
}

crate::ktest!(freeze_super_and_thaw_like_linux, {
    let mnt = crate::fs::namespace::vfs_kern_mount(b"tmpfs", b"none", b"size=1m")
        .map_err(|_| "mount a scratch tmpfs")?;
    let sb = &mnt.mnt_sb;
    crate::kassert!(ioctl_freeze(sb, true) == Err(Errno::EOPNOTSUPP), "tmpfs cannot freeze");
    crate::kassert!(ioctl_freeze(sb, false) == Err(Errno::EINVAL), "thaw of a thawed fs");
    crate::kassert!(freeze_super(sb).is_ok(), "freeze");
    crate::kassert!(sb.s_writers.is_frozen(), "frozen");
    crate::kassert!(freeze_super(sb) == Err(Errno::EBUSY), "freeze twice");
    crate::kassert!(thaw_super(sb).is_ok(), "thaw");
    sb_start_write(sb);
    crate::kassert!(sb.s_writers.writers.load(Ordering::SeqCst) == 1, "a writer counted");
    sb_end_write(sb);
    crate::kassert!(sb.s_writers.writers.load(Ordering::SeqCst) == 0, "and gone");
    Ok(())
});

//! Writing dirty inodes back: the flusher thread and the walks `sync`
//! and `fsync` use (Linux: fs/fs-writeback.c `wb_workfn`,
//! `wb_writeback`, `writeback_sb_inodes`, `writeback_single_inode`,
//! `wakeup_flusher_threads`).
//!
//! One kernel thread, `writeback` (Linux: a `kworker/u*:*-flush-*`
//! worker per disk), wakes every `dirty_writeback_centisecs` and writes
//! the inodes dirtied more than `dirty_expire_centisecs` ago; woken early
//! (past `dirty_background_ratio`), it writes everything dirty. An inode
//! is written by writing its dirty pages through its mapping's
//! `writepage`, then its metadata through `SuperOperations::write_inode`.
//! The buffer cache's pages are those of a block-device inode
//! (fs/buffer.rs), so dirty metadata blocks go out the same way.
//!
//! # Locking
//! A super block's `s_dirty` list is taken only to swap it out or push
//! an inode back; inodes are written with no lock held.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use super::inode::{I_DIRTY, I_DIRTY_INODE, I_DIRTY_PAGES, I_DIRTY_SYNC, Inode};
use super::super_block::{SuperBlock, super_blocks};
use crate::kernel::errno::KResult;
use crate::kernel::kthread::{kthread_run, kthread_should_stop};
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::time::jiffies;
use crate::kernel::time::timer::MAX_SCHEDULE_TIMEOUT;
use crate::mm::page_writeback::{
    DIRTY_EXPIRE_CENTISECS, DIRTY_WRITEBACK_CENTISECS, centisecs_to_jiffies, write_cache_pages,
};

/// Where the flusher sleeps between rounds.
static WB_WAIT: WaitQueue = WaitQueue::new();
/// Set to ask the flusher for a full round now.
static WB_KICK: AtomicBool = AtomicBool::new(false);
/// Set when an inode is first dirtied: the flusher, idle without a
/// timer while nothing is dirty, starts its periodic rounds.
static WB_WORK: AtomicBool = AtomicBool::new(false);
static WB_STARTED: AtomicBool = AtomicBool::new(false);

/// Asks the flusher to write everything dirty now (Linux:
/// `wakeup_flusher_threads(WB_REASON_BACKGROUND)`).
pub fn wakeup_flusher_threads() {
    WB_KICK.store(true, Ordering::Release);
    WB_WAIT.wake_up();
}

/// Tells an idle flusher there is dirty data to expire (Linux:
/// `wb_wakeup_delayed` from `__mark_inode_dirty`).
pub fn wb_wakeup_delayed() {
    if !WB_WORK.swap(true, Ordering::AcqRel) {
        WB_WAIT.wake_up();
    }
}

/// Whether any super block has dirty inodes.
fn any_dirty() -> bool {
    super_blocks().iter().any(|sb| !sb.s_dirty.lock().is_empty())
}

/// Starts the flusher thread, once (Linux: `default_bdi_init`); called
/// by `kernel_init` once `kthreadd` runs.
pub fn wb_start() -> KResult<()> {
    if WB_STARTED.swap(true, Ordering::AcqRel) {
        return Ok(());
    }
    kthread_run(wb_workfn, "writeback").map(|_| ())
}

/// The flusher's loop (Linux: `wb_workfn` + the periodic
/// `wb_check_old_data_flush`).
fn wb_workfn() -> i32 {
    while !kthread_should_stop() {
        let period = DIRTY_WRITEBACK_CENTISECS.load(Ordering::Relaxed);
        WB_WORK.store(false, Ordering::Release);
        // Nothing dirty, or periodic writeback off (0): no timer, sleep
        // until kicked or until something is dirtied.
        let timeout = if period == 0 || !any_dirty() {
            MAX_SCHEDULE_TIMEOUT
        } else {
            centisecs_to_jiffies(period).max(1)
        };
        // An idle flusher is `I` in ps, as Linux's writeback kworkers are.
        let woken = WB_WAIT.wait_event_idle_timeout(
            || {
                WB_KICK.load(Ordering::Acquire)
                    || WB_WORK.load(Ordering::Acquire)
                    || kthread_should_stop()
            },
            timeout,
        );
        if kthread_should_stop() {
            break;
        }
        if WB_KICK.swap(false, Ordering::AcqRel) {
            writeback_all(u64::MAX, false);
        } else if !woken {
            let expire = centisecs_to_jiffies(DIRTY_EXPIRE_CENTISECS.load(Ordering::Relaxed));
            writeback_all(jiffies().saturating_sub(expire), false);
        }
    }
    0
}

/// Writes the inodes of every super block dirtied at or before
/// `older_than` jiffies (Linux: `wb_writeback`).
pub fn writeback_all(older_than: u64, sync: bool) {
    for sb in super_blocks() {
        if sb.s_op.can_writeback() {
            let _ = writeback_sb_inodes(&sb, older_than, sync);
        }
    }
}

/// Writes the dirty inodes of `sb` dirtied at or before `older_than`,
/// returning the first error (Linux: `writeback_sb_inodes`). The others
/// go back on the list.
pub fn writeback_sb_inodes(sb: &SuperBlock, older_than: u64, sync: bool) -> KResult<()> {
    let list = core::mem::take(&mut *sb.s_dirty.lock());
    let mut result = Ok(());
    let mut keep = Vec::new();
    for weak in list {
        let Some(inode) = weak.upgrade() else { continue };
        if inode.dirtied_when() > older_than && inode.i_state() & I_DIRTY != 0 {
            if keep.try_reserve(1).is_ok() {
                keep.push(weak);
            } else {
                inode.clear_dirty(I_DIRTY);
            }
            continue;
        }
        let r = writeback_single_inode(&inode, older_than, sync, false);
        result = result.and(r);
    }
    if !keep.is_empty() {
        let mut dirty = sb.s_dirty.lock();
        if dirty.try_reserve(keep.len()).is_ok() {
            // Older than anything dirtied meanwhile: they go first.
            keep.append(&mut dirty);
            *dirty = keep;
        }
    }
    result
}

/// Writes `inode`'s pages dirtied at or before `older_than` and, unless
/// `datasync` and only timestamps changed, its metadata (Linux:
/// `writeback_single_inode`, `__writeback_single_inode`). What stays
/// dirty re-queues the inode.
pub fn writeback_single_inode(
    inode: &Arc<Inode>,
    older_than: u64,
    sync: bool,
    datasync: bool,
) -> KResult<()> {
    let when = inode.dirtied_when();
    let skip = if datasync { I_DIRTY_SYNC } else { 0 };
    // Cleared first: a page or attribute dirtied while we write sets
    // them again and re-queues the inode.
    let flags = inode.clear_dirty(I_DIRTY & !skip);
    let mut result = Ok(());
    if let Some(mapping) = inode.i_mapping() {
        result = write_cache_pages(mapping, 0, u64::MAX, older_than, sync).map(|_| ());
    }
    if flags & I_DIRTY_INODE != 0 {
        let r = inode.sb.s_op.write_inode(inode, sync);
        if r.is_err() {
            inode.mark_inode_dirty(flags & I_DIRTY_INODE);
        }
        result = result.and(r);
    }
    if inode.i_mapping().is_some_and(|m| m.lock().nr_dirty() > 0) {
        inode.mark_inode_dirty(I_DIRTY_PAGES);
        inode.set_dirtied_when(when);
    }
    result
}

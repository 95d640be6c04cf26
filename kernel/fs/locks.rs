//! Advisory file locks: flock(2), POSIX record locks and open file
//! description (OFD) locks through fcntl(2) (Linux: fs/locks.c).
//!
//! Every lock names an owner and a byte range `start..=end` (`end` is
//! `OFFSET_MAX` for "to the end of the file, however far it grows"):
//! - flock locks cover the whole file and belong to the open file (the
//!   `File`), so `dup`ed and inherited descriptors share them; they go
//!   away on `LOCK_UN` or when the last reference to the `File` does.
//! - POSIX locks belong to the process's descriptor table (Linux's
//!   `fl_owner` is `current->files`); closing *any* descriptor of the file
//!   drops all the owner's locks on it, and so does exit. An owner's
//!   locks never overlap: a new lock merges with adjacent or overlapping
//!   ones of the same type and splits those of the other type.
//! - OFD locks are POSIX-style ranges owned by the `File`, released with
//!   it; F_GETLK reports their pid as -1.
//!
//! The lists live in a global table keyed by (super block, inode number)
//! rather than in the inode (Linux: `inode->i_flctx`), so `Inode` needs no
//! field; an inode's entry goes when its last lock does.
//!
//! A blocked F_SETLKW or flock sleeps on one global wait queue, woken by
//! every release, and retries. A POSIX waiter records the owner it waits
//! for, which is how F_SETLKW finds a cycle of waiters and fails with
//! `EDEADLK` instead of sleeping (Linux: `posix_locks_deadlock`, at most
//! `MAX_DEADLK_ITERATIONS` steps). Signals interrupt the wait (restarted
//! with `SA_RESTART`, as Linux's `-ERESTARTSYS`).
//!
//! # Locking
//! `FILE_LOCKS` is a leaf (noirq): taken with no other lock held, by the
//! fcntl and flock calls, by the close paths of `FdTable` after its own
//! lock is dropped and by `File`'s drop; never across a user copy.
//! `LOCKS_WAIT` is woken after `FILE_LOCKS` is dropped, or inside a waiter's
//! condition (the wait queue's lock is not held there).
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use super::fdtable::FdTable;
use super::file_table::{FMode, File};
use super::inode::Inode;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLockNoIrq;
use crate::kernel::sched::current;
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::syscall::args::{Fd, UserPtr};

/// The largest offset; a lock ending here reaches any end of file
/// (Linux: `OFFSET_MAX`).
const OFFSET_MAX: u64 = i64::MAX as u64;
/// How far the deadlock check follows waiters (Linux: `MAX_DEADLK_ITERATIONS`).
const MAX_DEADLK_ITERATIONS: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LockKind {
    Read,
    Write,
}

/// Who holds a lock (Linux: `fl_owner`, `fl_file`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    /// A descriptor table: POSIX record locks.
    Posix(usize),
    /// An open file: flock and OFD locks.
    File(usize),
}

/// One lock (Linux: `struct file_lock`).
#[derive(Clone, Copy, Debug)]
struct FileLock {
    owner: Owner,
    /// The thread group that set it, for F_GETLK (-1 for OFD locks).
    pid: i32,
    kind: LockKind,
    start: u64,
    end: u64,
}

impl FileLock {
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start <= end && start <= self.end
    }

    /// Linux: `posix_locks_conflict` / `flock_locks_conflict`.
    fn conflicts(&self, other: &FileLock) -> bool {
        self.owner != other.owner
            && self.overlaps(other.start, other.end)
            && (self.kind == LockKind::Write || other.kind == LockKind::Write)
    }
}

/// An inode's locks (Linux: `struct file_lock_context`).
#[derive(Default)]
struct FileLockContext {
    flc_flock: Vec<FileLock>,
    flc_posix: Vec<FileLock>,
}

type InodeKey = (usize, u64);

struct Locks {
    /// Inodes with at least one lock.
    inodes: Vec<(InodeKey, FileLockContext)>,
    /// Blocked POSIX owners and the owner each waits for (Linux:
    /// `blocked_hash`).
    blocked: Vec<(Owner, Owner)>,
}

static FILE_LOCKS: SpinLockNoIrq<Locks> =
    SpinLockNoIrq::new(Locks { inodes: Vec::new(), blocked: Vec::new() });
static LOCKS_WAIT: WaitQueue = WaitQueue::new();

fn inode_key(inode: &Inode) -> InodeKey {
    (Arc::as_ptr(&inode.sb) as usize, inode.ino)
}

fn file_owner(file: &File) -> Owner {
    Owner::File(file as *const File as usize)
}

fn posix_owner(files: &FdTable) -> Owner {
    Owner::Posix(files as *const FdTable as usize)
}

impl Locks {
    /// The context of `key`, made on first use (`ENOLCK` without memory).
    fn ctx_mut(&mut self, key: InodeKey) -> KResult<&mut FileLockContext> {
        let idx = match self.inodes.iter().position(|(k, _)| *k == key) {
            Some(idx) => idx,
            None => {
                self.inodes.try_reserve(1).map_err(|_| Errno::ENOLCK)?;
                self.inodes.push((key, FileLockContext::default()));
                self.inodes.len() - 1
            }
        };
        Ok(&mut self.inodes[idx].1)
    }

    fn ctx(&self, key: InodeKey) -> Option<&FileLockContext> {
        self.inodes.iter().find(|(k, _)| *k == key).map(|(_, c)| c)
    }

    /// Drops contexts left empty.
    fn prune(&mut self) {
        self.inodes.retain(|(_, c)| !c.flc_flock.is_empty() || !c.flc_posix.is_empty());
    }

    fn set_blocked(&mut self, waiter: Owner, blocker: Option<Owner>) {
        self.blocked.retain(|(w, _)| *w != waiter);
        if let Some(b) = blocker
            && self.blocked.try_reserve(1).is_ok()
        {
            self.blocked.push((waiter, b));
        }
    }

    /// Whether `caller` waiting for `blocker` closes a cycle (Linux:
    /// `posix_locks_deadlock`).
    fn deadlock(&self, caller: Owner, mut blocker: Owner) -> bool {
        for _ in 0..MAX_DEADLK_ITERATIONS {
            if blocker == caller {
                return true;
            }
            match self.blocked.iter().find(|(w, _)| *w == blocker) {
                Some(&(_, next)) => blocker = next,
                None => return false,
            }
        }
        false
    }
}

/// Sets or clears (`kind` None) `owner`'s range in `list`, merging and
/// splitting its own locks; the caller has checked for conflicts (Linux:
/// the second half of `posix_lock_inode`).
fn posix_apply(list: &mut Vec<FileLock>, req: FileLock, kind: Option<LockKind>) -> KResult<()> {
    let (mut start, mut end) = (req.start, req.end);
    if let Some(k) = kind {
        for l in list.iter().filter(|l| l.owner == req.owner && l.kind == k) {
            if l.start <= end.saturating_add(1) && start <= l.end.saturating_add(1) {
                start = start.min(l.start);
                end = end.max(l.end);
            }
        }
    }
    let mut out = Vec::new();
    out.try_reserve(list.len() + 2).map_err(|_| Errno::ENOLCK)?;
    for l in list.drain(..) {
        if l.owner != req.owner || !l.overlaps(start, end) {
            out.push(l);
        } else if Some(l.kind) != kind {
            if l.start < start {
                out.push(FileLock { end: start - 1, ..l });
            }
            if l.end > end {
                out.push(FileLock { start: end + 1, ..l });
            }
        }
    }
    if kind.is_some() {
        out.push(FileLock { start, end, ..req });
    }
    *list = out;
    Ok(())
}

/// What a lock attempt found.
enum Attempt {
    Done,
    Blocked(Owner),
}

/// One try at a POSIX/OFD lock (Linux: `posix_lock_inode`).
fn posix_try(key: InodeKey, req: FileLock, kind: Option<LockKind>) -> KResult<Attempt> {
    let mut locks = FILE_LOCKS.lock();
    let ctx = locks.ctx_mut(key)?;
    if kind.is_some()
        && let Some(b) = ctx.flc_posix.iter().find(|l| l.conflicts(&req))
    {
        let blocker = b.owner;
        locks.prune();
        return Ok(Attempt::Blocked(blocker));
    }
    let result = posix_apply(&mut ctx.flc_posix, req, kind);
    locks.prune();
    result.map(|()| Attempt::Done)
}

/// A POSIX or OFD lock request, waiting if `wait` (Linux:
/// `do_lock_file_wait`).
fn posix_lock_file(
    key: InodeKey,
    req: FileLock,
    kind: Option<LockKind>,
    wait: bool,
) -> KResult<()> {
    let attempt = posix_try(key, req, kind)?;
    if kind.is_none() {
        LOCKS_WAIT.wake_up_all();
    }
    let Attempt::Blocked(first) = attempt else { return Ok(()) };
    if !wait {
        return Err(Errno::EAGAIN);
    }
    let is_posix = matches!(req.owner, Owner::Posix(_));
    if is_posix && FILE_LOCKS.lock().deadlock(req.owner, first) {
        return Err(Errno::EDEADLK);
    }
    let mut result = Ok(());
    let waited = LOCKS_WAIT.wait_event_interruptible(|| match posix_try(key, req, kind) {
        Ok(Attempt::Done) => true,
        Ok(Attempt::Blocked(blocker)) if is_posix => {
            let mut locks = FILE_LOCKS.lock();
            if locks.deadlock(req.owner, blocker) {
                result = Err(Errno::EDEADLK);
                return true;
            }
            locks.set_blocked(req.owner, Some(blocker));
            false
        }
        Ok(Attempt::Blocked(_)) => false,
        Err(e) => {
            result = Err(e);
            true
        }
    });
    if is_posix {
        FILE_LOCKS.lock().set_blocked(req.owner, None);
    }
    waited.map_err(|_| Errno::ERESTARTSYS)?;
    result
}

/// Decodes `struct flock` into a lock and its type (Linux:
/// `flock64_to_posix_lock`): `EINVAL` for a bad whence, type or a range
/// starting before 0, `EOVERFLOW` past `OFFSET_MAX`.
fn flock_to_posix_lock(file: &File, raw: &[u64; 4], owner: Owner) -> KResult<(FileLock, u32)> {
    let l_type = u32::try_from(raw[0] & 0xffff).unwrap_or(u32::MAX);
    let l_whence = u32::try_from((raw[0] >> 16) & 0xffff).unwrap_or(u32::MAX);
    let (l_start, l_len) = (raw[1].cast_signed(), raw[2].cast_signed());
    let base: i64 = match l_whence {
        uapi::SEEK_SET => 0,
        uapi::SEEK_CUR => i64::try_from(file.pos()).unwrap_or(i64::MAX),
        uapi::SEEK_END => i64::try_from(file.f_inode.size()).unwrap_or(i64::MAX),
        _ => return Err(Errno::EINVAL),
    };
    let mut start = base.checked_add(l_start).ok_or(Errno::EOVERFLOW)?;
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    let end = if l_len > 0 {
        start.checked_add(l_len - 1).ok_or(Errno::EOVERFLOW)?
    } else if l_len < 0 {
        let end = start - 1;
        start = start.checked_add(l_len).filter(|s| *s >= 0).ok_or(Errno::EINVAL)?;
        end
    } else {
        i64::MAX
    };
    if !matches!(l_type, uapi::F_RDLCK | uapi::F_WRLCK | uapi::F_UNLCK) {
        return Err(Errno::EINVAL);
    }
    let pid = if matches!(owner, Owner::File(_)) { -1 } else { current().tgid };
    let (start, end) = (start.unsigned_abs(), end.unsigned_abs());
    Ok((FileLock { owner, pid, kind: LockKind::Read, start, end }, l_type))
}

/// F_GETLK/F_OFD_GETLK's answer for `conflict` (Linux: `posix_lock_to_flock`).
fn posix_lock_to_flock(conflict: &FileLock) -> [u64; 4] {
    let l_type = match conflict.kind {
        LockKind::Read => uapi::F_RDLCK,
        LockKind::Write => uapi::F_WRLCK,
    };
    let len = if conflict.end == OFFSET_MAX { 0 } else { conflict.end - conflict.start + 1 };
    let l_whence = u64::from(uapi::SEEK_SET) << 16;
    [u64::from(l_type) | l_whence, conflict.start, len, u64::from(conflict.pid.cast_unsigned())]
}

/// The fcntl lock commands (Linux: `fcntl_getlk`, `fcntl_setlk`).
pub fn fcntl_lock(files: &FdTable, file: &Arc<File>, cmd: u32, arg: u64) -> KResult<i64> {
    let ptr = UserPtr::<[u64; 4]>::new(crate::arch::uaccess::UserAddr::new(arg));
    let mut raw = ptr.read()?;
    let ofd = matches!(cmd, uapi::F_OFD_GETLK | uapi::F_OFD_SETLK | uapi::F_OFD_SETLKW);
    let owner = if ofd { file_owner(file) } else { posix_owner(files) };
    let (mut req, l_type) = flock_to_posix_lock(file, &raw, owner)?;
    if ofd && raw[3] & 0xffff_ffff != 0 {
        return Err(Errno::EINVAL); // l_pid must be 0
    }
    let kind = match l_type {
        uapi::F_RDLCK => Some(LockKind::Read),
        uapi::F_WRLCK => Some(LockKind::Write),
        _ => None,
    };
    req.kind = kind.unwrap_or(LockKind::Read);
    let key = inode_key(&file.f_inode);
    if matches!(cmd, uapi::F_GETLK | uapi::F_OFD_GETLK) {
        if kind.is_none() {
            return Err(Errno::EINVAL);
        }
        let locks = FILE_LOCKS.lock();
        let conflict = locks.ctx(key).and_then(|c| c.flc_posix.iter().find(|l| l.conflicts(&req)));
        match conflict {
            Some(c) => raw = posix_lock_to_flock(c),
            None => raw[0] = (raw[0] & !0xffff) | u64::from(uapi::F_UNLCK),
        }
        drop(locks);
        ptr.write(&raw)?;
        return Ok(0);
    }
    let need = match kind {
        Some(LockKind::Read) => FMode::READ,
        Some(LockKind::Write) => FMode::WRITE,
        None => FMode::empty(),
    };
    if !file.f_mode.contains(need) {
        return Err(Errno::EBADF);
    }
    let wait = matches!(cmd, uapi::F_SETLKW | uapi::F_OFD_SETLKW);
    posix_lock_file(key, req, kind, wait).map(|()| 0)
}

/// One try at a flock lock (Linux: `flock_lock_inode`): a conversion
/// drops the old lock first, even if the new one then cannot be had.
fn flock_try(key: InodeKey, req: FileLock, kind: Option<LockKind>) -> KResult<(bool, bool)> {
    let mut locks = FILE_LOCKS.lock();
    let ctx = locks.ctx_mut(key)?;
    let mut dropped = false;
    if let Some(i) = ctx.flc_flock.iter().position(|l| l.owner == req.owner) {
        if Some(ctx.flc_flock[i].kind) == kind {
            return Ok((true, false));
        }
        ctx.flc_flock.remove(i);
        dropped = true;
    }
    let done = match kind {
        None => true,
        Some(_) if ctx.flc_flock.iter().any(|l| l.conflicts(&req)) => false,
        Some(_) => {
            ctx.flc_flock.try_reserve(1).map_err(|_| Errno::ENOLCK)?;
            ctx.flc_flock.push(req);
            true
        }
    };
    locks.prune();
    Ok((done, dropped))
}

/// flock(2) (Linux: `SYSCALL_DEFINE2(flock)`): `LOCK_SH`, `LOCK_EX` or
/// `LOCK_UN`, with `LOCK_NB` for `EWOULDBLOCK` instead of waiting;
/// `LOCK_MAND` is ignored, as Linux 6.1 does.
pub fn sys_flock(fd: Fd, cmd: u32) -> KResult<()> {
    if cmd & uapi::LOCK_MAND != 0 {
        return Ok(());
    }
    let kind = match cmd & !uapi::LOCK_NB {
        uapi::LOCK_SH => Some(LockKind::Read),
        uapi::LOCK_EX => Some(LockKind::Write),
        uapi::LOCK_UN => None,
        _ => return Err(Errno::EINVAL),
    };
    let file = super::fdget(fd)?;
    if file.f_mode.contains(FMode::PATH)
        || (kind.is_some() && !file.f_mode.intersects(FMode::READ | FMode::WRITE))
    {
        return Err(Errno::EBADF);
    }
    let key = inode_key(&file.f_inode);
    let req = FileLock {
        owner: file_owner(&file),
        pid: current().tgid,
        kind: kind.unwrap_or(LockKind::Read),
        start: 0,
        end: OFFSET_MAX,
    };
    let (done, dropped) = flock_try(key, req, kind)?;
    if dropped {
        LOCKS_WAIT.wake_up_all();
    }
    if done {
        return Ok(());
    }
    if cmd & uapi::LOCK_NB != 0 {
        return Err(Errno::EAGAIN); // EWOULDBLOCK
    }
    let mut result = Ok(());
    let waited = LOCKS_WAIT.wait_event_interruptible(|| match flock_try(key, req, kind) {
        Ok((done, _)) => done,
        Err(e) => {
            result = Err(e);
            true
        }
    });
    waited.map_err(|_| Errno::ERESTARTSYS)?;
    result
}

/// Removes the locks of `owner` on `inode`, waking waiters if any went.
fn remove_owned(inode: &Inode, owner: Owner) {
    let key = inode_key(inode);
    let mut locks = FILE_LOCKS.lock();
    let Some(idx) = locks.inodes.iter().position(|(k, _)| *k == key) else { return };
    let ctx = &mut locks.inodes[idx].1;
    let before = ctx.flc_flock.len() + ctx.flc_posix.len();
    ctx.flc_flock.retain(|l| l.owner != owner);
    ctx.flc_posix.retain(|l| l.owner != owner);
    let removed = before != ctx.flc_flock.len() + ctx.flc_posix.len();
    locks.prune();
    drop(locks);
    if removed {
        LOCKS_WAIT.wake_up_all();
    }
}

/// A descriptor of `file` in `files` was closed: the table's POSIX locks
/// on the file go (Linux: `locks_remove_posix` from `filp_close`).
pub fn locks_remove_posix(file: &File, files: &FdTable) {
    remove_owned(&file.f_inode, posix_owner(files));
}

/// The last reference to `file` is gone: its flock and OFD locks go
/// (Linux: `locks_remove_file` from `__fput`).
pub fn locks_remove_file(file: &File) {
    remove_owned(&file.f_inode, file_owner(file));
}

crate::ktest!(posix_locks_merge_and_split, {
    let me = Owner::Posix(1);
    let other = Owner::Posix(2);
    let lock = |owner, kind, start, end| FileLock { owner, pid: 1, kind, start, end };
    let mut list = Vec::new();
    let (r, w) = (LockKind::Read, LockKind::Write);
    posix_apply(&mut list, lock(me, w, 0, 9), Some(w)).map_err(|_| "posix_apply failed")?;
    posix_apply(&mut list, lock(me, w, 10, 19), Some(w)).map_err(|_| "posix_apply failed")?;
    crate::kassert!(list.len() == 1 && list[0].start == 0 && list[0].end == 19, "adjacent merge");
    posix_apply(&mut list, lock(me, r, 5, 7), Some(r)).map_err(|_| "posix_apply failed")?;
    crate::kassert!(list.len() == 3, "a read lock in the middle splits the write lock");
    posix_apply(&mut list, lock(me, r, 0, OFFSET_MAX), None).map_err(|_| "posix_apply failed")?;
    crate::kassert!(list.is_empty(), "unlock of everything");
    posix_apply(&mut list, lock(other, w, 0, 4), Some(w)).map_err(|_| "posix_apply failed")?;
    posix_apply(&mut list, lock(me, r, 3, 8), Some(r)).map_err(|_| "posix_apply failed")?;
    crate::kassert!(list.len() == 2, "another owner's lock is left alone");
    crate::kassert!(lock(me, r, 3, 8).conflicts(&list[0]), "read conflicts with write");
    crate::kassert!(!lock(me, r, 3, 8).conflicts(&list[1]), "no conflict with oneself");
    Ok(())
});

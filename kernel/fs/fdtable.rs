//! A process's open files: descriptors to `File`s (Linux: fs/file.c,
//! include/linux/fdtable.h `struct files_struct`, `struct fdtable`).
//!
//! Descriptor `n` is slot `n` of a vector that grows as needed; a new
//! descriptor is the lowest free one (POSIX), below the `RLIMIT_NOFILE`
//! soft limit (`EMFILE`). Each slot keeps its close-on-exec bit. `fork`
//! copies the table ([`FdTable::dup_fd`]), sharing the `File`s; `exec`
//! closes the close-on-exec ones ([`FdTable::close_on_exec`]).
//!
//! # Locking
//! `FdTable::inner` is a leaf lock: `File`s are cloned out or taken out
//! under it and dropped (which may call a driver's `release`) after it is
//! released. [`fdget_current`] takes it inside the current task's `files`
//! slot lock, under which nothing else is taken.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::file_table::File;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLockNoIrq;

/// The file behind `fd` in the current task's table (Linux: `fdget`).
/// Linux takes no reference on the table, and none on the file either when
/// the table is not shared (`FDPUT_FPUT` unset); here `current` and its
/// table are borrowed for the lookup, so the file's count is the only one
/// touched, where `current_files()?.get(fd)` also counts the task and the
/// table up and down again.
pub fn fdget_current(fd: i32) -> KResult<Arc<File>> {
    crate::arch::current::with_current(|task| {
        let files = task.ok_or(Errno::EBADF)?.files.lock();
        files.as_ref().ok_or(Errno::EBADF)?.get(fd)
    })
}

/// The default `RLIMIT_NOFILE` soft limit (Linux: `INR_OPEN_CUR`).
pub const INR_OPEN_CUR: usize = 1024;
/// The hard ceiling on descriptors (Linux: `sysctl_nr_open`'s default).
pub const NR_OPEN: usize = 1 << 20;

#[derive(Clone)]
struct FdSlot {
    file: Arc<File>,
    cloexec: bool,
}

struct FdTableInner {
    fds: Vec<Option<FdSlot>>,
    /// Lowest descriptor that may be free (Linux: `next_fd`).
    next_fd: usize,
    /// The `RLIMIT_NOFILE` soft limit in force.
    nofile: usize,
}

/// Open file descriptors of a process (Linux: `files_struct`).
pub struct FdTable {
    inner: SpinLockNoIrq<FdTableInner>,
}

impl Drop for FdTable {
    /// The last user is gone (exit, exec's unshare): its POSIX locks go
    /// (Linux: `close_files` → `filp_close`).
    fn drop(&mut self) {
        let fds = core::mem::take(&mut self.inner.lock().fds);
        for slot in fds.into_iter().flatten() {
            self.filp_close(slot);
        }
    }
}

impl Default for FdTable {
    fn default() -> Self {
        Self::new()
    }
}

fn fd_index(fd: i32) -> KResult<usize> {
    usize::try_from(fd).map_err(|_| Errno::EBADF)
}

fn to_fd(index: usize) -> KResult<i32> {
    i32::try_from(index).map_err(|_| Errno::EMFILE)
}

impl FdTable {
    /// An empty table (init's, before it opens /dev/console).
    pub fn new() -> Self {
        Self {
            inner: SpinLockNoIrq::new(FdTableInner {
                fds: Vec::new(),
                next_fd: 0,
                nofile: INR_OPEN_CUR,
            }),
        }
    }

    /// The file behind `fd` (Linux: `fget`); `EBADF` if none.
    pub fn get(&self, fd: i32) -> KResult<Arc<File>> {
        let idx = fd_index(fd)?;
        let inner = self.inner.lock();
        inner.fds.get(idx).and_then(|s| s.as_ref()).map(|s| s.file.clone()).ok_or(Errno::EBADF)
    }

    /// The files behind `fds`, in order, into `out` (cleared first), with
    /// `None` for a descriptor that is not open: one lock for the whole
    /// batch where Linux's `do_select` and `do_poll` call `fdget` per
    /// descriptor, lock-free there under RCU. Reserve `out`'s capacity
    /// beforehand to keep the allocation out of the lock.
    pub fn fget_many(&self, fds: impl Iterator<Item = i32>, out: &mut Vec<Option<Arc<File>>>) {
        // The old references drop here, with no lock held.
        out.clear();
        let inner = self.inner.lock();
        out.extend(fds.map(|fd| {
            let slot = usize::try_from(fd).ok().and_then(|i| inner.fds.get(i));
            slot.and_then(Option::as_ref).map(|s| s.file.clone())
        }));
    }

    /// Installs `file` at the lowest free descriptor `>= start` (Linux:
    /// `alloc_fd` + `fd_install`).
    pub fn alloc_fd(&self, start: usize, file: Arc<File>, cloexec: bool) -> KResult<i32> {
        let mut inner = self.inner.lock();
        // Every descriptor below `next_fd` is in use.
        let from = start.max(inner.next_fd);
        let len = inner.fds.len();
        let free = (from..len).find(|&i| inner.fds[i].is_none()).unwrap_or(len.max(from));
        if free >= inner.nofile {
            return Err(Errno::EMFILE);
        }
        if free >= inner.fds.len() {
            let extra = free + 1 - inner.fds.len();
            inner.fds.try_reserve(extra.max(8)).map_err(|_| Errno::ENOMEM)?;
            inner.fds.resize(free + 1, None);
        }
        inner.fds[free] = Some(FdSlot { file, cloexec });
        if start <= inner.next_fd {
            inner.next_fd = free + 1;
        }
        to_fd(free)
    }

    /// Closes `fd` (Linux: `close_fd`); the file is released once no other
    /// descriptor or task holds it.
    pub fn close(&self, fd: i32) -> KResult<()> {
        let idx = fd_index(fd)?;
        let slot = {
            let mut inner = self.inner.lock();
            let slot = inner.fds.get_mut(idx).and_then(Option::take).ok_or(Errno::EBADF)?;
            inner.next_fd = inner.next_fd.min(idx);
            slot
        };
        self.filp_close(slot);
        Ok(())
    }

    /// dup(2): the lowest free descriptor, close-on-exec clear.
    pub fn dup(&self, fd: i32) -> KResult<i32> {
        let file = self.get(fd)?;
        self.alloc_fd(0, file, false)
    }

    /// dup2/dup3 (Linux: `do_dup2` via `replace_fd`): `newfd` now names
    /// `oldfd`'s file, whatever it named before (closed silently).
    pub fn dup3(&self, oldfd: i32, newfd: i32, cloexec: bool) -> KResult<i32> {
        let file = self.get(oldfd)?;
        let idx = fd_index(newfd)?;
        let old_slot = {
            let mut inner = self.inner.lock();
            if idx >= inner.nofile {
                return Err(Errno::EBADF);
            }
            if idx >= inner.fds.len() {
                let extra = idx + 1 - inner.fds.len();
                inner.fds.try_reserve(extra).map_err(|_| Errno::ENOMEM)?;
                inner.fds.resize(idx + 1, None);
            }
            inner.fds[idx].replace(FdSlot { file, cloexec })
        };
        if let Some(slot) = old_slot {
            self.filp_close(slot);
        }
        Ok(newfd)
    }

    /// dup2(2): like dup3 without flags, but `oldfd == newfd` is a no-op
    /// that only checks `oldfd`.
    pub fn dup2(&self, oldfd: i32, newfd: i32) -> KResult<i32> {
        if oldfd == newfd {
            return self.get(oldfd).map(|_| newfd);
        }
        self.dup3(oldfd, newfd, false)
    }

    pub fn get_cloexec(&self, fd: i32) -> KResult<bool> {
        let idx = fd_index(fd)?;
        let inner = self.inner.lock();
        inner.fds.get(idx).and_then(|s| s.as_ref()).map(|s| s.cloexec).ok_or(Errno::EBADF)
    }

    pub fn set_cloexec(&self, fd: i32, on: bool) -> KResult<()> {
        let idx = fd_index(fd)?;
        let mut inner = self.inner.lock();
        let slot = inner.fds.get_mut(idx).and_then(|s| s.as_mut()).ok_or(Errno::EBADF)?;
        slot.cloexec = on;
        Ok(())
    }

    /// Closes every close-on-exec descriptor (Linux: `do_close_on_exec`).
    pub fn close_on_exec(&self) {
        let closed: Vec<FdSlot> = {
            let mut inner = self.inner.lock();
            let mut out = Vec::new();
            for slot in inner.fds.iter_mut() {
                if slot.as_ref().is_some_and(|s| s.cloexec)
                    && let Some(s) = slot.take()
                {
                    out.push(s);
                }
            }
            inner.next_fd = inner.fds.iter().position(Option::is_none).unwrap_or(inner.fds.len());
            out
        };
        for slot in closed {
            self.filp_close(slot);
        }
    }

    #[allow(
        dead_code,
        reason = "exit drops the table instead; unshare(CLONE_FILES) and close_range use it"
    )]
    /// Closes every descriptor (exit: Linux's `put_files_struct` on the
    /// last user).
    pub fn close_all(&self) {
        let all = {
            let mut inner = self.inner.lock();
            inner.next_fd = 0;
            core::mem::take(&mut inner.fds)
        };
        for slot in all.into_iter().flatten() {
            self.filp_close(slot);
        }
    }

    /// Drops a descriptor's reference, after its table lock: the table's
    /// POSIX locks on the file go with any descriptor of it (Linux:
    /// `filp_close` → `locks_remove_posix`).
    fn filp_close(&self, slot: FdSlot) {
        super::locks::locks_remove_posix(&slot.file, self);
    }

    /// A copy for a child of fork without CLONE_FILES (Linux: `dup_fd`):
    /// same `File`s, same close-on-exec bits.
    pub fn dup_fd(&self) -> KResult<FdTable> {
        let inner = self.inner.lock();
        let mut fds = Vec::new();
        fds.try_reserve_exact(inner.fds.len()).map_err(|_| Errno::ENOMEM)?;
        fds.extend(inner.fds.iter().cloned());
        let copy = FdTableInner { fds, next_fd: inner.next_fd, nofile: inner.nofile };
        Ok(FdTable { inner: SpinLockNoIrq::new(copy) })
    }

    /// The `RLIMIT_NOFILE` soft limit (Linux keeps it in `signal_struct`;
    /// prlimit64 updates it here for now).
    pub fn nofile(&self) -> usize {
        self.inner.lock().nofile
    }

    /// Sets the soft limit; `EPERM` above [`NR_OPEN`].
    pub fn set_nofile(&self, limit: usize) -> KResult<()> {
        if limit > NR_OPEN {
            return Err(Errno::EPERM);
        }
        self.inner.lock().nofile = limit;
        Ok(())
    }

    #[allow(dead_code, reason = "for /proc/PID/fd")]
    /// Open descriptors, lowest first (for /proc/PID/fd).
    pub fn open_fds(&self) -> Vec<i32> {
        let inner = self.inner.lock();
        (0..inner.fds.len())
            .filter(|&i| inner.fds[i].is_some())
            .filter_map(|i| i32::try_from(i).ok())
            .collect()
    }
}

crate::ktest!(fdtable_fget_many_in_order, {
    let table = FdTable::new();
    let (r, w) = super::pipe::do_pipe2(0, 0, 0).map_err(|_| "pipe2")?;
    let a = table.alloc_fd(0, r.clone(), false).map_err(|_| "alloc_fd 0")?;
    let b = table.alloc_fd(5, w.clone(), false).map_err(|_| "alloc_fd 5")?;
    let mut out = Vec::new();
    table.fget_many([a, 1, -1, b, i32::MAX].into_iter(), &mut out);
    crate::kassert!(out.len() == 5, "one answer per descriptor");
    crate::kassert!(out[0].as_ref().is_some_and(|f| Arc::ptr_eq(f, &r)), "fd 0 is the read end");
    crate::kassert!(out[3].as_ref().is_some_and(|f| Arc::ptr_eq(f, &w)), "fd 5 is the write end");
    crate::kassert!(
        out[1].is_none() && out[2].is_none() && out[4].is_none(),
        "closed, negative, huge"
    );
    table.fget_many(core::iter::empty(), &mut out);
    crate::kassert!(out.is_empty(), "the old answers are dropped");
    Ok(())
});

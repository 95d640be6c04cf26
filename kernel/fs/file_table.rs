//! Open files (Linux: fs/file_table.c, include/linux/fs.h `struct file`,
//! `struct file_operations`).
//!
//! A [`File`] is one open: the path it was opened by, the inode, the
//! operations (the inode's, or a device driver's), the access mode, the
//! status flags `fcntl(F_SETFL)` may change, and the file position. Several
//! descriptors share a `File` after `dup` or `fork`; the last `Arc` to go
//! calls `release` (Linux: `fput` → `__fput`).
//!
//! # Locking
//! `f_pos` (a sleeping `Mutex`, Linux's `f_pos_lock`) is held across a
//! read or write of a file with [`FMode::ATOMIC_POS`] (regular files and
//! directories), so concurrent `read`s on one descriptor never see the
//! same bytes; the read may sleep for I/O and touch user memory under it.
//! Devices that may block do not get that mode. `f_flags` is atomic.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU32, Ordering};

use linux_raw_sys::general as uapi;
use spin::Once;

use super::eventpoll::{EpLinks, eventpoll_release};
use super::inode::Inode;
use super::namespace::Path;
use super::readdir::DirContext;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::mutex::Mutex;
use crate::kernel::sched::wait::WaitQueue;

bitflags::bitflags! {
    /// How a file is open (Linux: `fmode_t`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct FMode: u32 {
        const READ = 1 << 0;
        const WRITE = 1 << 1;
        /// `lseek` works (Linux: `FMODE_LSEEK`).
        const LSEEK = 1 << 2;
        /// `pread` works (Linux: `FMODE_PREAD`).
        const PREAD = 1 << 3;
        const PWRITE = 1 << 4;
        /// Reads and writes hold `f_pos` (Linux: `FMODE_ATOMIC_POS`).
        const ATOMIC_POS = 1 << 5;
        /// Opened with O_PATH: no I/O at all (Linux: `FMODE_PATH`).
        const PATH = 1 << 6;
        /// Holds write access to its mount, given back at the last close
        /// (Linux: `FMODE_WRITER`, `mnt_get_write_access`).
        const WRITER = 1 << 7;
    }
}

/// The status flags `F_SETFL` may change (Linux: `SETFL_MASK` without the
/// ones Ferrite does not implement; `fcntl::setfl` checks O_DIRECT and
/// O_NOATIME first).
pub const SETFL_MASK: u32 = uapi::O_APPEND | uapi::O_NONBLOCK | uapi::O_DIRECT | uapi::O_NOATIME;

/// `poll` readiness bits (Linux: `__poll_t`, `POLLIN` ...).
pub type PollMask = u32;
/// What a file that never blocks reports (Linux: `DEFAULT_POLLMASK`).
pub const DEFAULT_POLLMASK: PollMask =
    uapi::POLLIN | uapi::POLLOUT | uapi::POLLRDNORM | uapi::POLLWRNORM;

/// Where `lseek` counts from (Linux: `SEEK_SET` ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whence {
    Set,
    Cur,
    End,
    Data,
    Hole,
}

impl Whence {
    /// `EINVAL` for anything but `SEEK_SET` ... `SEEK_HOLE`.
    pub fn from_raw(raw: u32) -> KResult<Self> {
        Ok(match raw {
            uapi::SEEK_SET => Self::Set,
            uapi::SEEK_CUR => Self::Cur,
            uapi::SEEK_END => Self::End,
            uapi::SEEK_DATA => Self::Data,
            uapi::SEEK_HOLE => Self::Hole,
            _ => return Err(Errno::EINVAL),
        })
    }
}

/// What an open file can do (Linux: `struct file_operations`). The
/// defaults are Linux's for a missing hook. Buffers are kernel memory: the
/// syscall layer copies to and from user space outside every VFS lock.
#[allow(unused_variables, reason = "the defaults ignore their arguments")]
#[allow(dead_code, reason = "fsync: the fsync(2) call comes with disk file systems")]
pub trait FileOps: Send + Sync {
    /// Called once the `File` exists (Linux: `open`); a device sets up its
    /// per-open state here with [`File::set_private`].
    fn open(&self, inode: &Arc<Inode>, file: &File) -> KResult<()> {
        Ok(())
    }
    /// The last reference is gone (Linux: `release`).
    fn release(&self, file: &File) {}
    /// Reads at `*pos` and advances it.
    fn read(&self, file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }
    /// Writes at `*pos` (the end, for O_APPEND: the VFS sets it) and
    /// advances it.
    fn write(&self, file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }
    /// Computes a new position; only called for files with [`FMode::LSEEK`].
    fn llseek(&self, file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        Err(Errno::ESPIPE)
    }
    /// Lists a directory from `ctx.pos` (Linux: `iterate_shared`).
    fn iterate_shared(&self, file: &File, ctx: &mut DirContext<'_>) -> KResult<()> {
        Err(Errno::ENOTDIR)
    }
    /// Linux: `unlocked_ioctl`.
    fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> KResult<i64> {
        Err(Errno::ENOTTY)
    }
    /// Checks a mapping of `len` bytes from page `pgoff` of a file with
    /// no page cache (a device's memory) and sets the area's flags
    /// (Linux: `mmap`; `/dev/mem`'s sets `VM_PFNMAP`, mm/pfnmap.rs).
    /// `ENODEV` by default: the file cannot be mapped.
    fn mmap(
        &self,
        file: &File,
        pgoff: u64,
        len: u64,
        vm_flags: &mut crate::mm::vma::VmFlags,
    ) -> KResult<()> {
        Err(Errno::ENODEV)
    }
    /// Readiness for poll/select (Linux: `poll`, without the wait-queue
    /// registration that comes with blocking files).
    fn poll(&self, file: &File) -> PollMask {
        DEFAULT_POLLMASK
    }
    /// The queue woken when `poll`'s answer may change (Linux: the queue
    /// `poll` hands to `poll_wait`); epoll hooks its callbacks there. The
    /// default is the shared queue [`poll_wake`](super::select::poll_wake)
    /// wakes.
    fn poll_wait_queue<'a>(&self, file: &'a File) -> &'a WaitQueue {
        super::select::poll_wait_queue()
    }
    /// Linux: `fsync`; missing means `EINVAL`.
    fn fsync(&self, file: &File) -> KResult<()> {
        Err(Errno::EINVAL)
    }
    /// Allocates (or, with `FALLOC_FL_PUNCH_HOLE`, frees) the bytes in
    /// `offset..offset + len`; [`vfs_fallocate`](super::fallocate::vfs_fallocate)
    /// has checked the mode, range and file type (Linux: `fallocate`).
    fn fallocate(&self, file: &File, mode: u32, offset: u64, len: u64) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    /// Whether `lseek`, `pread` and `pwrite` make sense (false for pipes,
    /// ttys, sockets: Linux's `nonseekable_open`).
    fn seekable(&self) -> bool {
        true
    }
    /// Whether O_DIRECT may be set on the file (Linux: a mapping with
    /// `a_ops->direct_IO`, `FMODE_CAN_ODIRECT`); open and F_SETFL refuse it
    /// with `EINVAL` otherwise. Block devices and fifos pass on their type.
    fn direct_io(&self) -> bool {
        false
    }
}

/// An open file (Linux: `struct file`).
pub struct File {
    pub f_path: Path,
    pub f_inode: Arc<Inode>,
    pub f_op: &'static dyn FileOps,
    pub f_mode: FMode,
    /// O_APPEND, O_NONBLOCK and the other status flags given to open.
    f_flags: AtomicU32,
    pub(super) f_pos: Mutex<u64>,
    private_data: Once<Box<dyn Any + Send + Sync>>,
    /// The epoll entries watching this file (Linux: `f_ep`).
    pub(super) f_ep: EpLinks,
}

impl File {
    /// Makes the `File` and calls the driver's `open` (Linux:
    /// `alloc_file` + `do_dentry_open`).
    pub fn open(
        path: Path,
        inode: Arc<Inode>,
        f_op: &'static dyn FileOps,
        f_mode: FMode,
        flags: u32,
    ) -> KResult<Arc<File>> {
        let mut mode = f_mode;
        if !mode.contains(FMode::PATH) && f_op.seekable() {
            mode |= FMode::LSEEK | FMode::PREAD | FMode::PWRITE;
        }
        let file = Arc::new(File {
            f_path: path,
            f_inode: inode.clone(),
            f_op,
            f_mode: mode,
            f_flags: AtomicU32::new(
                flags & !(uapi::O_CREAT | uapi::O_EXCL | uapi::O_TRUNC | uapi::O_CLOEXEC),
            ),
            f_pos: Mutex::new(0),
            private_data: Once::new(),
            f_ep: EpLinks::default(),
        });
        if !mode.contains(FMode::PATH) {
            f_op.open(&inode, &file)?;
        }
        // The driver has seen it (a tty's open); F_GETFL does not show it.
        file.f_flags.fetch_and(!uapi::O_NOCTTY, Ordering::Relaxed);
        Ok(file)
    }

    /// The open flags as `F_GETFL` reports them (access mode included).
    pub fn flags(&self) -> u32 {
        self.f_flags.load(Ordering::Relaxed)
    }

    /// Replaces the changeable status flags (Linux: `setfl`).
    pub fn set_status_flags(&self, flags: u32) {
        let _ = self.f_flags.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
            Some((old & !SETFL_MASK) | (flags & SETFL_MASK))
        });
    }

    pub fn is_nonblocking(&self) -> bool {
        self.flags() & uapi::O_NONBLOCK != 0
    }

    pub fn is_append(&self) -> bool {
        self.flags() & uapi::O_APPEND != 0
    }

    /// The current position.
    pub fn pos(&self) -> u64 {
        *self.f_pos.lock()
    }

    /// Sets the driver's per-open state, once (Linux: `private_data`).
    pub fn set_private(&self, data: Box<dyn Any + Send + Sync>) {
        self.private_data.call_once(|| data);
    }

    /// The driver's per-open state, if it is a `T`.
    pub fn private<T: 'static>(&self) -> Option<&T> {
        self.private_data.get()?.downcast_ref::<T>()
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // Linux: `eventpoll_release` in `__fput`, before `release`.
        eventpoll_release(self);
        // Linux: `locks_remove_file`, flock and OFD locks of this open.
        super::locks::locks_remove_file(self);
        if !self.f_mode.contains(FMode::PATH) {
            self.f_op.release(self);
        }
        if self.f_mode.contains(FMode::WRITER) {
            super::namespace::mnt_put_write_access(&self.f_path.mnt);
        }
    }
}

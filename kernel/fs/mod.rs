//! The virtual file system and the file systems behind it.
//!
//! Linux: fs/.
//!
//! The objects are Linux's: a [`SuperBlock`](super_block::SuperBlock) per
//! mounted file system, an [`Inode`](inode::Inode) per file, a
//! [`Dentry`](dcache::Dentry) per name (cached, negative ones included), a
//! [`File`](file_table::File) per open, a [`VfsMount`](namespace::VfsMount)
//! per mount; a process holds an [`FdTable`](fdtable::FdTable) and an
//! [`FsStruct`](fs_struct::FsStruct). A file system supplies
//! [`InodeOps`](inode::InodeOps) and [`FileOps`](file_table::FileOps).
//!
//! System-call bodies (`do_sys_open`, `vfs_read`...) take kernel buffers
//! and a [`FsContext`] (what Linux reads from `current`). The `sys_*`
//! functions beside them are the system calls: they copy paths and
//! buffers in and out (`getname`, the bounce buffers of `uio`), never under
//! a VFS lock, and build the context from the calling task
//! ([`current_fs`], [`fdget`]).
//!
//! # Locking (outermost first; see kernel/locking/mod.rs)
//! `SuperBlock::s_vfs_rename_lock` (every namespace change in one file
//! system), `File::f_pos`, `namespace::MOUNTS`, `dcache::DENTRY_HASHTABLE`,
//! `Dentry::d_lock`, a tmpfs directory's or page cache's lock, `Inode::i_lock`,
//! then the leaf registries and per-process tables (`FILE_SYSTEMS`,
//! `CHRDEVS`, `FdTable`, `FsStruct`). The rename lock and `f_pos` are
//! sleeping `Mutex`es (Linux: `s_vfs_rename_mutex`/`i_rwsem`,
//! `f_pos_lock`): a lookup, read or write under them may wait for a disk,
//! so no spinlock is ever held around them. The rest are spinlocks; those
//! on the path walk and read/write paths (the dentry table, `d_lock`,
//! `i_lock`, `FdTable`, `FsStruct`) are `SpinLockNoIrq`s, as no interrupt
//! handler touches the VFS; the others are IRQ-safe.
#![deny(unsafe_code)]

pub mod anon_inodes;
pub mod binfmt_elf;
pub mod block_dev;
pub mod buffer;
pub mod char_dev;
pub mod chown;
pub mod d_path;
pub mod dcache;
pub mod debugfs;
pub mod devpts;
pub mod devtmpfs;
pub mod drop_caches;
pub mod eventfd;
pub mod eventpoll;
pub mod exec;
pub mod exec_stack;
pub mod ext2;
pub mod fallocate;
pub mod fat;
pub mod fcntl;
pub mod fdtable;
pub mod fifo;
pub mod file_table;
pub mod freeze;
pub mod fs_struct;
pub mod fs_writeback;
pub mod inode;
pub mod ioctl;
pub mod libfs;
pub mod locks;
pub mod namei;
pub mod namespace;
pub mod nsfs;
pub mod open;
pub mod pagecache;
pub mod pipe;
pub mod proc;
pub mod proc_namespace;
pub mod read_write;
pub mod readdir;
pub mod select;
pub mod splice;
pub mod stat;
pub mod statfs;
pub mod super_block;
pub mod sync;
pub mod sysfs;
pub mod timerfd;
pub mod tmpfs;
pub mod uio;
pub mod utimes;
pub mod xattr;

mod sys_tests;
pub(crate) mod tests;

use alloc::sync::Arc;

use fdtable::FdTable;
use file_table::File;
use fs_struct::FsStruct;

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;
use crate::kernel::syscall::args::{AtFd, Fd};

/// The credentials file access is checked against (Linux: the `fsuid`,
/// `fsgid` of `current_cred()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsCred {
    pub fsuid: u32,
    pub fsgid: u32,
}

impl FsCred {
    /// The superuser: passes every check but exec of a file with no x bit.
    pub const ROOT: FsCred = FsCred { fsuid: 0, fsgid: 0 };
}

/// What the VFS reads from `current`: its root and working directory, its
/// descriptors and its credentials (Linux: `current->fs`, `current->files`,
/// `current_cred()`).
#[derive(Clone, Copy)]
pub struct FsContext<'a> {
    pub fs: &'a FsStruct,
    pub files: &'a FdTable,
    pub cred: FsCred,
}

/// The calling task's file-system view, held by reference count so that
/// no task lock is held during a call (Linux reads `current->fs`,
/// `current->files` and `current_cred()` in place; their refcounts play
/// the same part).
pub struct CurrentFs {
    fs: Arc<FsStruct>,
    files: Arc<FdTable>,
    cred: FsCred,
}

impl CurrentFs {
    /// What the system-call bodies take.
    pub fn ctx(&self) -> FsContext<'_> {
        FsContext { fs: &self.fs, files: &self.files, cred: self.cred }
    }
}

/// The current task's root, working directory, descriptors and
/// credentials. A task without them (a kernel thread that dropped them)
/// gets `ENOENT` or `EBADF`, what a lookup in an empty view would give.
pub fn current_fs() -> KResult<CurrentFs> {
    let task = current();
    let fs = task.fs.lock().clone().ok_or(Errno::ENOENT)?;
    let files = task.files.lock().clone().ok_or(Errno::EBADF)?;
    let cred = task.cred();
    Ok(CurrentFs { fs, files, cred: FsCred { fsuid: cred.fsuid, fsgid: cred.fsgid } })
}

/// The current task's descriptor table (Linux: `current->files`).
pub fn current_files() -> KResult<Arc<FdTable>> {
    current().files.lock().clone().ok_or(Errno::EBADF)
}

/// The file behind `fd` in the current task's table (Linux: `fdget`).
pub fn fdget(fd: Fd) -> KResult<Arc<File>> {
    fdtable::fdget_current(raw_fd(fd)?)
}

/// A decoded descriptor as the `int` the VFS bodies take.
pub fn raw_fd(fd: Fd) -> KResult<i32> {
    i32::try_from(fd.as_u32()).map_err(|_| Errno::EBADF)
}

/// A decoded `*at` directory argument as the `int` the VFS bodies take.
pub fn raw_dfd(dfd: AtFd) -> KResult<i32> {
    match dfd {
        AtFd::Cwd => Ok(namei::AT_FDCWD),
        AtFd::Fd(fd) => raw_fd(fd),
    }
}

/// Registers the file systems, mounts the root tmpfs (Linux:
/// `vfs_caches_init` with `mnt_init` and `init_mount_tree`) and registers
/// the memory devices (Linux: the `chr_dev_init` fs_initcall, run here
/// until there are initcalls). Linux panics without a root; Ferrite says
/// why and goes on to the kernel monitor.
pub fn vfs_caches_init() {
    let mounted = tmpfs::init_tmpfs().and_then(|()| namespace::init_mount_tree());
    if let Err(e) = mounted {
        crate::pr_err!("VFS: Unable to mount root fs: {}", e.description());
    }
    if let Err(e) = sysfs::sysfs_init()
        .and_then(|()| devtmpfs::devtmpfs_init())
        .and_then(|()| devpts::init_devpts_fs())
    {
        crate::pr_err!("sysfs: cannot register: {}", e.description());
    }
    if let Err(e) = debugfs::debugfs_init() {
        crate::pr_err!("debugfs: cannot register: {}", e.description());
    }
    if let Err(e) = crate::kernel::trace::trace_init() {
        crate::pr_err!("tracefs: cannot register: {}", e.description());
    }
    if let Err(e) = ext2::init_ext2_fs() {
        crate::pr_err!("EXT2-fs: cannot register: {}", e.description());
    }
    if let Err(e) = fat::init_vfat_fs() {
        crate::pr_err!("FAT-fs: cannot register vfat: {}", e.description());
    }
    if let Err(e) = crate::drivers::char::mem::chr_dev_init() {
        crate::pr_err!("mem: cannot register the memory devices: {}", e.description());
    }
    if let Err(e) = crate::drivers::rtc::dev::rtc_dev_init() {
        crate::pr_err!("rtc_cmos: cannot register /dev/rtc0: {}", e.description());
    }
}

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
//! System-call bodies take kernel buffers and a [`FsContext`] (what Linux
//! reads from `current`): the syscall layer copies user memory in and out
//! around them, never under a VFS lock.
//!
//! # Locking (outermost first; see kernel/locking/mod.rs)
//! `SuperBlock::s_vfs_rename_lock` (every namespace change in one file
//! system), `File::f_pos`, `namespace::MOUNTS`, `dcache::DENTRY_HASHTABLE`,
//! `Dentry::d_lock`, a tmpfs directory's or page cache's lock, `Inode::i_lock`,
//! then the leaf registries and per-process tables (`FILE_SYSTEMS`,
//! `CHRDEVS`, `FdTable`, `FsStruct`). All are IRQ-safe spinlocks: nothing
//! here sleeps yet. Disk file systems (issue 6) need sleeping locks in place
//! of the rename lock and the page-cache lock.
#![deny(unsafe_code)]

pub mod binfmt_elf;
pub mod char_dev;
pub mod d_path;
pub mod dcache;
pub mod exec_stack;
pub mod fcntl;
pub mod fdtable;
pub mod file_table;
pub mod fs_struct;
pub mod inode;
pub mod namei;
pub mod namespace;
pub mod open;
pub mod pagecache;
pub mod pipe;
pub mod read_write;
pub mod readdir;
pub mod select;
pub mod stat;
pub mod super_block;
pub mod tmpfs;

pub(crate) mod tests;

use fdtable::FdTable;
use fs_struct::FsStruct;

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
    if let Err(e) = crate::drivers::char::mem::chr_dev_init() {
        crate::pr_err!("mem: cannot register the memory devices: {}", e.description());
    }
}

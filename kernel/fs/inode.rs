//! Inodes: one per file, whatever its name(s) (Linux: fs/inode.c,
//! include/linux/fs.h `struct inode`, `struct inode_operations`).
//!
//! An [`Inode`] carries the attributes every file system shares (`i_mode`,
//! `i_nlink`, ids, size, times, `i_rdev`) under its `i_lock`, the operation
//! tables of its file system, and that file system's private part
//! (`i_private`, reached by downcasting). File systems own their inodes'
//! lifetime: an inode lives while a directory entry, a dentry or an open
//! file holds it, so an unlinked open file keeps its data until the last
//! close; then the super block's `evict_inode` runs.
//!
//! A regular file's data lives in its own page cache, `i_mapping`
//! (Linux: `inode->i_data`), given at creation by file systems whose
//! files hold data. Dirty state (Linux: `i_state & I_DIRTY`) is kept in
//! `i_state`: [`Inode::mark_inode_dirty`] puts the inode, once, on its
//! super block's dirty list, which fs/fs_writeback.rs drains; a super
//! block without writeback (tmpfs, proc) never has dirty inodes.
//!
//! # Locking
//! `i_lock` guards the attributes; it is a leaf among the VFS locks (taken
//! under a tmpfs directory or page-cache lock, never the other way).
//! `i_state` and `i_writecount` are atomics; the super block's `s_dirty`
//! list (a leaf) is taken under `i_pages` when a page dirties its inode.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

use linux_raw_sys::general as uapi;

use super::FsCred;
use super::file_table::FileOps;
use super::pagecache::{AddressSpaceOps, PageCache};
use super::super_block::SuperBlock;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLockNoIrq;
use crate::kernel::locking::rwsem::{RwSemWriteGuard, RwSemaphore};
use crate::kernel::time;

/// An inode number (Linux: `ino_t`).
pub type Ino = u64;

/// A device number as the kernel keeps it: 12 bits of major, 20 of minor
/// (Linux: `dev_t`, `MKDEV`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct DevT(pub u32);

impl DevT {
    /// Linux: `MKDEV`.
    pub const fn new(major: u32, minor: u32) -> Self {
        Self(((major & 0xfff) << 20) | (minor & 0xfffff))
    }
    pub const fn major(self) -> u32 {
        self.0 >> 20
    }
    pub const fn minor(self) -> u32 {
        self.0 & 0xfffff
    }
    /// The encoding `stat` reports (Linux: `new_encode_dev`).
    pub const fn encode(self) -> u64 {
        let (major, minor) = (self.major() as u64, self.minor() as u64);
        (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
    }
    /// The inverse of [`encode`](Self::encode) (Linux: `new_decode_dev`).
    #[expect(clippy::cast_possible_truncation, reason = "major is 12 bits, minor 20 after masking")]
    pub const fn decode(dev: u64) -> Self {
        let major = (dev & 0xfff00) >> 8;
        let minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
        Self::new(major as u32, minor as u32)
    }
}

/// The type bits of a mode (Linux: `S_IFMT` and the `S_ISREG` family).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Regular,
    Directory,
    Symlink,
    CharDev,
    BlockDev,
    Fifo,
    Socket,
}

impl FileType {
    /// The type of `mode`; `None` for a type field Linux does not know.
    pub fn from_mode(mode: u32) -> Option<Self> {
        Some(match mode & uapi::S_IFMT {
            uapi::S_IFREG => Self::Regular,
            uapi::S_IFDIR => Self::Directory,
            uapi::S_IFLNK => Self::Symlink,
            uapi::S_IFCHR => Self::CharDev,
            uapi::S_IFBLK => Self::BlockDev,
            uapi::S_IFIFO => Self::Fifo,
            uapi::S_IFSOCK => Self::Socket,
            _ => return None,
        })
    }

    /// The `S_IFMT` bits.
    pub const fn mode_bits(self) -> u32 {
        match self {
            Self::Regular => uapi::S_IFREG,
            Self::Directory => uapi::S_IFDIR,
            Self::Symlink => uapi::S_IFLNK,
            Self::CharDev => uapi::S_IFCHR,
            Self::BlockDev => uapi::S_IFBLK,
            Self::Fifo => uapi::S_IFIFO,
            Self::Socket => uapi::S_IFSOCK,
        }
    }

    /// The `d_type` of a directory entry (Linux: `fs_umode_to_dtype`).
    #[expect(clippy::cast_possible_truncation, reason = "S_IFMT >> 12 is 4 bits")]
    pub const fn dtype(self) -> u8 {
        (self.mode_bits() >> 12) as u8
    }
}

/// Seconds and nanoseconds since the epoch (Linux: `struct timespec64`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: u32,
}

impl Timespec {
    pub const fn from_secs(sec: i64) -> Self {
        Self { sec, nsec: 0 }
    }
}

/// The time to stamp on an inode (Linux: `current_time`): the real-time
/// clock (the CMOS RTC's epoch plus the monotonic clock).
pub fn current_time() -> Timespec {
    let ns = time::posix::ktime_get_real_ns();
    let sec = i64::try_from(ns / time::NSEC_PER_SEC).unwrap_or(i64::MAX);
    let nsec = u32::try_from(ns % time::NSEC_PER_SEC).unwrap_or(0);
    Timespec { sec, nsec }
}

/// The attributes shared by all file systems (Linux: the `i_mode` ...
/// `i_ctime` fields of `struct inode`).
#[derive(Clone, Copy, Debug)]
pub struct InodeAttr {
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// 512-byte blocks in use (Linux: `i_blocks`).
    pub blocks: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    pub rdev: DevT,
}

impl InodeAttr {
    /// Fresh attributes for a new inode of `mode`, owned by `uid`/`gid`,
    /// all times now.
    pub fn new(mode: u32, uid: u32, gid: u32) -> Self {
        let now = current_time();
        let nlink = if mode & uapi::S_IFMT == uapi::S_IFDIR { 2 } else { 1 };
        Self {
            mode,
            nlink,
            uid,
            gid,
            size: 0,
            blocks: 0,
            atime: now,
            mtime: now,
            ctime: now,
            rdev: DevT(0),
        }
    }
}

/// An attribute change (Linux: `struct iattr`); `None` leaves a field.
#[derive(Clone, Copy, Debug, Default)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: Option<Timespec>,
    pub mtime: Option<Timespec>,
}

bitflags::bitflags! {
    /// Linux: `RENAME_NOREPLACE`, `RENAME_EXCHANGE`, `RENAME_WHITEOUT`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct RenameFlags: u32 {
        const NOREPLACE = uapi::RENAME_NOREPLACE;
        const EXCHANGE = uapi::RENAME_EXCHANGE;
        const WHITEOUT = uapi::RENAME_WHITEOUT;
    }
}

/// What a file system does with names in a directory and with inode
/// attributes (Linux: `struct inode_operations`). The defaults are what
/// Linux returns when the hook is missing. Names are single components,
/// already checked against `NAME_MAX`.
///
/// # Locking
/// Namespace changes are called with the file system's
/// `s_vfs_rename_lock` held; `lookup` and `get_link` without it.
#[allow(unused_variables, reason = "the defaults ignore their arguments")]
pub trait InodeOps: Send + Sync {
    /// Finds `name` in `dir`: `Ok(None)` if absent (a negative dentry).
    fn lookup(&self, dir: &Inode, name: &[u8]) -> KResult<Option<Arc<Inode>>> {
        Err(Errno::ENOTDIR)
    }
    /// Creates a regular file (open with O_CREAT, creat).
    fn create(&self, dir: &Inode, name: &[u8], mode: u32, cred: FsCred) -> KResult<Arc<Inode>> {
        Err(Errno::EACCES)
    }
    fn mkdir(&self, dir: &Inode, name: &[u8], mode: u32, cred: FsCred) -> KResult<Arc<Inode>> {
        Err(Errno::EPERM)
    }
    /// Creates a device node, fifo or socket; `mode` carries the type.
    fn mknod(
        &self,
        dir: &Inode,
        name: &[u8],
        mode: u32,
        rdev: DevT,
        cred: FsCred,
    ) -> KResult<Arc<Inode>> {
        Err(Errno::EPERM)
    }
    fn symlink(
        &self,
        dir: &Inode,
        name: &[u8],
        target: &[u8],
        cred: FsCred,
    ) -> KResult<Arc<Inode>> {
        Err(Errno::EPERM)
    }
    /// Adds `name` in `dir` for the existing `inode`.
    fn link(&self, inode: &Arc<Inode>, dir: &Inode, name: &[u8]) -> KResult<()> {
        Err(Errno::EPERM)
    }
    /// Removes the non-directory `name` from `dir`.
    fn unlink(&self, dir: &Inode, name: &[u8]) -> KResult<()> {
        Err(Errno::EPERM)
    }
    /// Removes the empty directory `name` from `dir`.
    fn rmdir(&self, dir: &Inode, name: &[u8]) -> KResult<()> {
        Err(Errno::EPERM)
    }
    /// Moves `old_name` in `old_dir` to `new_name` in `new_dir`; the VFS has
    /// checked types, emptiness and cycles.
    fn rename(
        &self,
        old_dir: &Inode,
        old_name: &[u8],
        new_dir: &Inode,
        new_name: &[u8],
        flags: RenameFlags,
    ) -> KResult<()> {
        Err(Errno::EPERM)
    }
    /// A symlink's target (Linux: `get_link`, `readlink`).
    fn get_link(&self, inode: &Inode) -> KResult<Vec<u8>> {
        Err(Errno::EINVAL)
    }
    /// Where a magic link leads when followed, instead of its text: an
    /// object with no path, as /proc/PID/ns/* (Linux: a `get_link` that
    /// calls `nd_jump_link`).
    fn get_link_jump(&self, inode: &Inode) -> KResult<Option<crate::fs::namespace::Path>> {
        Ok(None)
    }
    /// Changes attributes (Linux: `simple_setattr`): a size change needs
    /// the file system, the rest is generic.
    fn setattr(&self, inode: &Inode, attr: &SetAttr) -> KResult<()> {
        if attr.size.is_some() {
            return Err(Errno::EPERM);
        }
        inode.apply_attr(attr);
        Ok(())
    }
    /// The value of extended attribute `name` (with its prefix, e.g.
    /// `user.x`); the VFS checked permissions (Linux: the `xattr_handler`
    /// `get`s). `ENODATA` if absent; `EOPNOTSUPP` for no handler.
    fn getxattr(&self, inode: &Inode, name: &[u8]) -> KResult<Vec<u8>> {
        Err(Errno::EOPNOTSUPP)
    }
    /// Sets `name` to `value` with `XATTR_CREATE`/`XATTR_REPLACE` `flags`
    /// (Linux: the handler's `set`).
    fn setxattr(&self, inode: &Inode, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    /// The names the caller may see, each with its NUL (Linux: `listxattr`).
    fn listxattr(&self, inode: &Inode) -> KResult<Vec<u8>> {
        Ok(Vec::new())
    }
    /// Removes `name`: `ENODATA` if absent (Linux: the handler's `set`
    /// with no value).
    fn removexattr(&self, inode: &Inode, name: &[u8]) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
}

/// Metadata changed that `fsync` must write (Linux: `I_DIRTY_SYNC`).
pub const I_DIRTY_SYNC: u32 = 1 << 0;
/// Metadata changed that `fdatasync` must write too, the size (Linux:
/// `I_DIRTY_DATASYNC`).
pub const I_DIRTY_DATASYNC: u32 = 1 << 1;
/// Some page of `i_mapping` is dirty (Linux: `I_DIRTY_PAGES`).
pub const I_DIRTY_PAGES: u32 = 1 << 2;
/// Linux: `I_DIRTY_INODE`.
pub const I_DIRTY_INODE: u32 = I_DIRTY_SYNC | I_DIRTY_DATASYNC;
/// Linux: `I_DIRTY`.
pub const I_DIRTY: u32 = I_DIRTY_INODE | I_DIRTY_PAGES;

/// A file (Linux: `struct inode`).
pub struct Inode {
    pub ino: Ino,
    pub sb: Arc<SuperBlock>,
    pub i_op: &'static dyn InodeOps,
    /// The operations an open of this inode gets (Linux: `i_fop`); device
    /// nodes get their driver's through the char-device map instead.
    pub i_fop: &'static dyn FileOps,
    i_lock: SpinLockNoIrq<InodeAttr>,
    i_private: Box<dyn Any + Send + Sync>,
    /// The file's pages, for file systems whose files hold data (Linux:
    /// `i_data`, reached through `i_mapping`).
    i_mapping: Option<PageCache>,
    /// Open files writing it if positive, programs running it if negative
    /// (Linux: `i_writecount`).
    i_writecount: AtomicI32,
    /// `I_DIRTY_*` bits (Linux: `i_state`).
    i_state: AtomicU32,
    /// When it was first dirtied, in jiffies (Linux: `dirtied_when`).
    dirtied_when: AtomicU64,
    /// This inode, for its super block's dirty list.
    i_self: Weak<Inode>,
    /// Serialises changes of the file's data and size: writes, truncation
    /// (Linux: `i_rwsem`, `inode_lock`); see locking/mod.rs S2a.
    i_rwsem: RwSemaphore<()>,
}

impl Inode {
    /// A new in-memory inode (Linux: `new_inode` + filling it in).
    pub fn new(
        sb: Arc<SuperBlock>,
        attr: InodeAttr,
        i_op: &'static dyn InodeOps,
        i_fop: &'static dyn FileOps,
        private: Box<dyn Any + Send + Sync>,
    ) -> KResult<Arc<Inode>> {
        let ino = sb.get_next_ino();
        Self::new_with_mapping(sb, ino, attr, (i_op, i_fop, None), private)
    }

    /// A new inode numbered `ino` whose data lives in a page cache filled
    /// and written back by `a_ops` if given (Linux: `new_inode` or
    /// `iget_locked`, then `inode->i_mapping->a_ops = ...`).
    pub fn new_with_mapping(
        sb: Arc<SuperBlock>,
        ino: Ino,
        attr: InodeAttr,
        ops: (&'static dyn InodeOps, &'static dyn FileOps, Option<&'static dyn AddressSpaceOps>),
        private: Box<dyn Any + Send + Sync>,
    ) -> KResult<Arc<Inode>> {
        let (i_op, i_fop, a_ops) = ops;
        Ok(Arc::new_cyclic(|me| Inode {
            ino,
            sb,
            i_op,
            i_fop,
            i_lock: SpinLockNoIrq::new(attr),
            i_private: private,
            i_mapping: a_ops.map(|a_ops| PageCache::new(a_ops, me.clone())),
            i_writecount: AtomicI32::new(0),
            i_state: AtomicU32::new(0),
            dirtied_when: AtomicU64::new(0),
            i_self: me.clone(),
            i_rwsem: RwSemaphore::new(()),
        }))
    }

    /// Takes the inode's `i_rwsem` for a change of its data or size,
    /// sleeping (Linux: `inode_lock`); released when the guard drops.
    pub fn inode_lock(&self) -> RwSemWriteGuard<'_, ()> {
        self.i_rwsem.down_write()
    }

    /// The page cache of the file's data, if it has one (Linux:
    /// `inode->i_mapping`).
    pub fn i_mapping(&self) -> Option<&PageCache> {
        self.i_mapping.as_ref()
    }

    /// Counts an open for writing; `ETXTBSY` while a program runs from
    /// the file (Linux: `get_write_access`).
    pub fn get_write_access(&self) -> KResult<()> {
        self.i_writecount
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n >= 0).then_some(n + 1))
            .map(|_| ())
            .map_err(|_| Errno::ETXTBSY)
    }

    /// Linux: `put_write_access`.
    pub fn put_write_access(&self) {
        self.i_writecount.fetch_sub(1, Ordering::AcqRel);
    }

    /// Counts a program running from the file; `ETXTBSY` while it is open
    /// for writing (Linux: `deny_write_access`).
    pub fn deny_write_access(&self) -> KResult<()> {
        self.i_writecount
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n <= 0).then_some(n - 1))
            .map(|_| ())
            .map_err(|_| Errno::ETXTBSY)
    }

    /// Linux: `allow_write_access`.
    pub fn allow_write_access(&self) {
        self.i_writecount.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether a program runs from the file, so it may not be written.
    pub fn write_denied(&self) -> bool {
        self.i_writecount.load(Ordering::Acquire) < 0
    }

    /// The `I_DIRTY_*` bits.
    pub fn i_state(&self) -> u32 {
        self.i_state.load(Ordering::Acquire)
    }

    /// When the inode was first dirtied, in jiffies.
    pub fn dirtied_when(&self) -> u64 {
        self.dirtied_when.load(Ordering::Relaxed)
    }

    /// Keeps the first-dirtied time across a writeback that left pages
    /// dirty, so that they expire on time.
    pub fn set_dirtied_when(&self, when: u64) {
        self.dirtied_when.store(when, Ordering::Relaxed);
    }

    /// Records that `flags` (`I_DIRTY_*`) need writing and, on the first
    /// dirtying, queues the inode on its super block's dirty list (Linux:
    /// `__mark_inode_dirty`). A no-op where nothing is written back.
    pub fn mark_inode_dirty(&self, flags: u32) {
        if !self.sb.s_op.can_writeback() || self.i_state() & flags == flags {
            return;
        }
        let old = self.i_state.fetch_or(flags & I_DIRTY, Ordering::AcqRel);
        if old & I_DIRTY != 0 {
            return;
        }
        self.dirtied_when.store(crate::kernel::time::jiffies(), Ordering::Relaxed);
        let mut list = self.sb.s_dirty.lock();
        if list.try_reserve(1).is_ok() {
            list.push(self.i_self.clone());
            drop(list);
            super::fs_writeback::wb_wakeup_delayed();
        } else {
            // Not queued, so not dirty: the next dirtying tries again, and
            // fsync and sync write the pages regardless.
            self.i_state.fetch_and(!I_DIRTY, Ordering::AcqRel);
        }
    }

    /// Takes the `flags` bits out of `i_state`, returning which were set;
    /// the writer then writes what they stood for.
    pub fn clear_dirty(&self, flags: u32) -> u32 {
        self.i_state.fetch_and(!flags, Ordering::AcqRel) & flags
    }

    /// A copy of the attributes.
    pub fn attr(&self) -> InodeAttr {
        *self.i_lock.lock()
    }

    /// Changes attributes under `i_lock`.
    pub fn update_attr<R>(&self, f: impl FnOnce(&mut InodeAttr) -> R) -> R {
        f(&mut self.i_lock.lock())
    }

    pub fn mode(&self) -> u32 {
        self.i_lock.lock().mode
    }

    pub fn size(&self) -> u64 {
        self.i_lock.lock().size
    }

    /// The file type; a mode with an unknown type reads as a regular file.
    pub fn file_type(&self) -> FileType {
        FileType::from_mode(self.mode()).unwrap_or(FileType::Regular)
    }

    pub fn is_dir(&self) -> bool {
        self.file_type() == FileType::Directory
    }

    /// The file system's private part, if it is a `T`.
    pub fn private<T: 'static>(&self) -> KResult<&T> {
        self.i_private.downcast_ref::<T>().ok_or(Errno::EIO)
    }

    /// Applies the generic fields of `attr` and stamps ctime (Linux:
    /// `setattr_copy`).
    pub fn apply_attr(&self, attr: &SetAttr) {
        self.update_attr(|a| {
            if let Some(mode) = attr.mode {
                a.mode = (a.mode & uapi::S_IFMT) | (mode & 0o7777);
            }
            a.uid = attr.uid.unwrap_or(a.uid);
            a.gid = attr.gid.unwrap_or(a.gid);
            a.atime = attr.atime.unwrap_or(a.atime);
            a.mtime = attr.mtime.unwrap_or(a.mtime);
            a.ctime = current_time();
        });
        self.mark_inode_dirty(I_DIRTY_SYNC);
    }

    /// Marks the inode changed now: mtime and ctime, and its metadata dirty (Linux:
    /// `inode_set_mtime_to_ts(inode, inode_set_ctime_current(inode))`).
    pub fn touch_mtime(&self) {
        let now = current_time();
        self.update_attr(|a| {
            a.mtime = now;
            a.ctime = now;
        });
        self.mark_inode_dirty(I_DIRTY_SYNC);
    }
}

impl Drop for Inode {
    /// Linux: `iput_final` → `evict`.
    fn drop(&mut self) {
        self.sb.s_op.evict_inode(self);
    }
}

crate::ktest!(dev_t_encoding_matches_linux, {
    let tty = DevT::new(4, 64);
    crate::kassert!(tty.encode() == 0x440, "ttyS0 is 0x440 in st_rdev");
    crate::kassert!(DevT::decode(tty.encode()) == tty, "decode inverts encode");
    let big = DevT::new(259, 70000);
    crate::kassert!(DevT::decode(big.encode()) == big, "large minors round-trip");
    crate::kassert!(u32::from(FileType::Directory.dtype()) == uapi::DT_DIR, "DT_DIR");
    crate::kassert!(u32::from(FileType::Symlink.dtype()) == uapi::DT_LNK, "DT_LNK");
    Ok(())
});

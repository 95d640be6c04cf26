//! tmpfs: a file system whose files live only in memory (Linux:
//! mm/shmem.c, fs/ramfs/inode.c, fs/libfs.c).
//!
//! The tree is held by the directories themselves ([`dir::TmpfsDir`], a
//! name → inode map with stable readdir offsets), regular files keep their
//! data in a [`PageCache`](crate::fs::pagecache::PageCache), symlinks their
//! target. The dentry cache sits above as for any file system, so ext2
//! (issue 6) plugs into the same VFS paths. An inode is freed, data and
//! all, when its last link, dentry and open file are gone.
//!
//! `statfs` reports the `size=`/`nr_inodes=` limits of the mount options
//! ([`options`]) or Linux's defaults (half of RAM in pages, as many
//! inodes), counted against the pages and inodes in use.
//! TODO(issue 7): nothing enforces the limits yet: a tmpfs can fill
//! memory (`ENOMEM`) instead of failing with `ENOSPC`. The initramfs root reports no limits (all zero), as
//! Linux's kernel-mounted rootfs does.
//!
//! # Locking
//! A directory's `entries` lock and a file's `mapping` lock are taken
//! before the inode's `i_lock`; namespace changes arrive with the super
//! block's `s_vfs_rename_lock` held (see super_block.rs), so two directory
//! locks are never wanted by two CPUs in opposite orders.
#![deny(unsafe_code)]

pub mod dir;
pub mod file;
pub mod options;

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use linux_raw_sys::general as uapi;

use super::FsCred;
use super::file_table::FileOps;
use super::inode::{DevT, FileType, Inode, InodeAttr, InodeOps};
use super::proc::generic::SeqBuf;
use super::statfs::KStatfs;
use super::super_block::{FileSystemType, SuperBlock, SuperOperations, register_filesystem};
use crate::kernel::errno::KResult;
use crate::mm::page_alloc::totalram_pages;

/// Linux: `TMPFS_MAGIC`.
pub const TMPFS_MAGIC: u64 = 0x0102_1994;
/// What each entry adds to a directory's size (Linux: `BOGO_DIRENT_SIZE`).
pub const BOGO_DIRENT_SIZE: u64 = 20;

/// The tmpfs file-system type (Linux: `shmem_fs_type`).
pub struct Tmpfs;

/// The registered instance.
pub static TMPFS: Tmpfs = Tmpfs;

impl FileSystemType for Tmpfs {
    fn name(&self) -> &'static str {
        "tmpfs"
    }

    /// A new, empty instance: a root directory owned by root, mode 1777 as
    /// Linux's tmpfs default (Linux: `shmem_fill_super`); the rootfs gets 0755.
    fn mount(&'static self, source: &[u8], data: &[u8], _sb_flags: u32) -> KResult<Arc<Inode>> {
        let opts = options::parse_options(data, totalram_pages())?;
        let info = TmpfsSbInfo {
            limited: source != b"rootfs",
            opts,
            used_blocks: AtomicU64::new(0),
            used_inodes: AtomicU64::new(0),
        };
        let sb = SuperBlock::new_anon_with_ops(self, TMPFS_MAGIC, &TMPFS_SUPER_OPS, Box::new(info));
        let perm = if source == b"rootfs" { 0o755 } else { 0o1777 };
        let perm = opts.mode.unwrap_or(perm);
        let owner = FsCred {
            fsuid: opts.uid.unwrap_or(FsCred::ROOT.fsuid),
            fsgid: opts.gid.unwrap_or(FsCred::ROOT.fsgid),
        };
        new_inode(sb, uapi::S_IFDIR | perm, owner, DevT(0), None)
    }
}

/// Per-instance counts for `statfs` (Linux: `struct shmem_sb_info`).
struct TmpfsSbInfo {
    /// Whether it reports limits (not the rootfs).
    limited: bool,
    /// The mount options' limits, else Linux's defaults.
    opts: options::TmpfsOptions,
    /// 512-byte blocks of file data (Linux: `used_blocks`, in pages).
    used_blocks: AtomicU64,
    /// Linux: `max_inodes - free_inodes`.
    used_inodes: AtomicU64,
}

fn sb_info(sb: &SuperBlock) -> Option<&TmpfsSbInfo> {
    sb.s_fs_info.downcast_ref::<TmpfsSbInfo>()
}

/// Moves `inode`'s share of the instance's block count from `old` to
/// `new` 512-byte blocks.
pub(super) fn account_blocks(inode: &Inode, old: u64, new: u64) {
    if let Some(info) = sb_info(&inode.sb) {
        if new >= old {
            info.used_blocks.fetch_add(new - old, Ordering::Relaxed);
        } else {
            let _ = info.used_blocks.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(old - new))
            });
        }
    }
}

/// Linux: `shmem_ops`.
struct TmpfsSuperOps;
static TMPFS_SUPER_OPS: TmpfsSuperOps = TmpfsSuperOps;

impl SuperOperations for TmpfsSuperOps {
    /// Linux: `shmem_statfs`; the default size is half of RAM
    /// (`shmem_default_max_blocks`), as are the inodes
    /// (`shmem_default_max_inodes`).
    fn statfs(&self, sb: &SuperBlock) -> KResult<KStatfs> {
        let mut st = KStatfs::simple(sb);
        let Some(info) = sb_info(sb).filter(|i| i.limited) else { return Ok(st) };
        let half = totalram_pages() / 2;
        let (blocks, inodes) =
            (info.opts.max_blocks.unwrap_or(half), info.opts.max_inodes.unwrap_or(half));
        let used =
            info.used_blocks.load(Ordering::Relaxed) / (crate::mm::addr::PAGE_SIZE as u64 / 512);
        st.f_blocks = blocks;
        st.f_bfree = blocks.saturating_sub(used);
        st.f_bavail = st.f_bfree;
        st.f_files = inodes;
        st.f_ffree = inodes.saturating_sub(info.used_inodes.load(Ordering::Relaxed));
        Ok(st)
    }

    /// Linux: `shmem_show_options`: what differs from the defaults.
    fn show_options(&self, sb: &SuperBlock, m: &mut SeqBuf) -> KResult<()> {
        let Some(info) = sb_info(sb).filter(|i| i.limited) else { return Ok(()) };
        let o = &info.opts;
        let half = totalram_pages() / 2;
        if let Some(pages) = o.max_blocks.filter(|&p| p != half) {
            let kib = pages.saturating_mul(crate::mm::addr::PAGE_SIZE as u64 / 1024);
            m.printf(format_args!(",size={kib}k"))?;
        }
        if let Some(inodes) = o.max_inodes.filter(|&n| n != half) {
            m.printf(format_args!(",nr_inodes={inodes}"))?;
        }
        if let Some(mode) = o.mode.filter(|&mode| mode != 0o1777) {
            m.printf(format_args!(",mode={mode:03o}"))?;
        }
        if let Some(uid) = o.uid.filter(|&uid| uid != 0) {
            m.printf(format_args!(",uid={uid}"))?;
        }
        if let Some(gid) = o.gid.filter(|&gid| gid != 0) {
            m.printf(format_args!(",gid={gid}"))?;
        }
        Ok(())
    }

    /// Linux: `shmem_evict_inode`: its pages go with the inode.
    fn evict_inode(&self, inode: &Inode) {
        account_blocks(inode, inode.attr().blocks, 0);
        if let Some(info) = sb_info(&inode.sb) {
            let _ = info
                .used_inodes
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_sub(1)));
        }
    }
}

/// Registers tmpfs (Linux: `shmem_init`).
pub fn init_tmpfs() -> KResult<()> {
    register_filesystem(&TMPFS)
}

/// Operations for inodes that are neither directories, files nor links
/// (device nodes, fifos): the generic defaults.
struct SpecialInodeOps;
impl InodeOps for SpecialInodeOps {}
/// Opens of special inodes get their driver's operations instead.
struct NoFileOps;
impl FileOps for NoFileOps {}

/// Makes an inode of `mode` in `sb` with its private part (Linux:
/// `shmem_get_inode`); `target` is a symlink's.
pub fn new_inode(
    sb: Arc<SuperBlock>,
    mode: u32,
    cred: FsCred,
    rdev: DevT,
    target: Option<&[u8]>,
) -> KResult<Arc<Inode>> {
    let mut attr = InodeAttr::new(mode, cred.fsuid, cred.fsgid);
    attr.rdev = rdev;
    let ftype = FileType::from_mode(mode).unwrap_or(FileType::Regular);
    if ftype == FileType::Regular {
        let ino = sb.get_next_ino();
        count_inode(&sb);
        let ops = (
            &file::TMPFS_FILE_INODE_OPS as &dyn InodeOps,
            &file::TMPFS_FILE_OPS as &dyn FileOps,
            Some(&file::SHMEM_AOPS as &dyn crate::fs::pagecache::AddressSpaceOps),
        );
        return Inode::new_with_mapping(sb, ino, attr, ops, Box::new(()));
    }
    let (i_op, i_fop, private): (
        &'static dyn InodeOps,
        &'static dyn FileOps,
        Box<dyn core::any::Any + Send + Sync>,
    ) = match ftype {
        FileType::Directory => {
            attr.size = 2 * BOGO_DIRENT_SIZE;
            (&dir::TMPFS_DIR_INODE_OPS, &dir::TMPFS_DIR_OPS, Box::new(dir::TmpfsDir::new()))
        }
        FileType::Symlink => {
            let target = target.unwrap_or_default();
            attr.size = target.len() as u64;
            let link = file::TmpfsSymlink::new(target)?;
            (&file::TMPFS_SYMLINK_INODE_OPS, &NoFileOps, Box::new(link))
        }
        _ => (&SpecialInodeOps, &NoFileOps, Box::new(())),
    };
    count_inode(&sb);
    Inode::new(sb, attr, i_op, i_fop, private)
}

fn count_inode(sb: &SuperBlock) {
    if let Some(info) = sb_info(sb) {
        info.used_inodes.fetch_add(1, Ordering::Relaxed);
    }
}

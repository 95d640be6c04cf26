//! File-system statistics: `statfs(2)` and `fstatfs(2)` (Linux:
//! fs/statfs.c `vfs_statfs`, `calculate_f_flags`, fs/libfs.c
//! `simple_statfs`).
//!
//! The file system fills a [`KStatfs`] through `SuperOperations::statfs`
//! (the default is `simple_statfs`: the magic, a page-sized block, no
//! counts); the VFS adds the mount's flags (`ST_RDONLY`, `ST_NOSUID`...)
//! and copies Linux's `struct statfs` out.
//!
//! # Locking
//! None of its own; the path and file references keep the super block.
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use super::namei::{LookupFlags, filename_lookup};
use super::namespace::{MntFlags, VfsMount};
use super::super_block::SuperBlock;
use super::{current_fs, fdget};
use crate::kernel::errno::KResult;
use crate::kernel::syscall::args::{Fd, UserPtr, getname};
use crate::mm::addr::PAGE_SIZE;

/// Linux: the `ST_*` bits of include/linux/statfs.h.
pub const ST_RDONLY: u64 = 0x0001;
pub const ST_NOSUID: u64 = 0x0002;
pub const ST_NODEV: u64 = 0x0004;
pub const ST_NOEXEC: u64 = 0x0008;
pub const ST_VALID: u64 = 0x0020;
pub const ST_NOATIME: u64 = 0x0400;
pub const ST_NODIRATIME: u64 = 0x0800;
pub const ST_RELATIME: u64 = 0x1000;
pub const ST_NOSYMFOLLOW: u64 = 0x2000;

/// What a file system reports (Linux: `struct kstatfs`); counts are in
/// `f_bsize` blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KStatfs {
    pub f_type: u64,
    pub f_bsize: u64,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_fsid: [i32; 2],
    pub f_namelen: u64,
    pub f_frsize: u64,
    pub f_flags: u64,
}

impl KStatfs {
    /// Linux: `simple_statfs`: what a memory file system without limits
    /// reports.
    pub fn simple(sb: &SuperBlock) -> Self {
        Self {
            f_type: sb.s_magic,
            f_bsize: PAGE_SIZE as u64,
            f_namelen: u64::from(uapi::NAME_MAX),
            ..Self::default()
        }
    }
}

/// The `ST_*` bits of a mount (Linux: `calculate_f_flags`).
fn calculate_f_flags(mnt: &VfsMount) -> u64 {
    let flags = mnt.flags();
    let map = [
        (MntFlags::READONLY, ST_RDONLY),
        (MntFlags::NOSUID, ST_NOSUID),
        (MntFlags::NODEV, ST_NODEV),
        (MntFlags::NOEXEC, ST_NOEXEC),
        (MntFlags::NOATIME, ST_NOATIME),
        (MntFlags::NODIRATIME, ST_NODIRATIME),
        (MntFlags::RELATIME, ST_RELATIME),
        (MntFlags::NOSYMFOLLOW, ST_NOSYMFOLLOW),
    ];
    map.iter().filter(|(m, _)| flags.contains(*m)).fold(ST_VALID, |acc, (_, st)| acc | st)
}

/// Linux: `vfs_statfs` (`statfs_by_dentry` + the mount's flags).
pub fn vfs_statfs(mnt: &VfsMount, sb: &SuperBlock) -> KResult<KStatfs> {
    let mut st = sb.s_op.statfs(sb)?;
    if st.f_frsize == 0 {
        st.f_frsize = st.f_bsize;
    }
    st.f_flags |= calculate_f_flags(mnt);
    Ok(st)
}

/// Linux's `struct statfs` for x86_64 (`do_statfs_native`).
fn to_user(st: &KStatfs) -> uapi::statfs {
    let long = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    uapi::statfs {
        f_type: long(st.f_type),
        f_bsize: long(st.f_bsize),
        f_blocks: long(st.f_blocks),
        f_bfree: long(st.f_bfree),
        f_bavail: long(st.f_bavail),
        f_files: long(st.f_files),
        f_ffree: long(st.f_ffree),
        f_fsid: uapi::__kernel_fsid_t { val: st.f_fsid },
        f_namelen: long(st.f_namelen),
        f_frsize: long(st.f_frsize),
        f_flags: long(st.f_flags),
        f_spare: [0; 4],
    }
}

/// statfs(2).
pub fn sys_statfs(pathname: UserPtr<u8>, buf: UserPtr<uapi::statfs>) -> KResult<()> {
    let name = getname(pathname)?;
    let path = {
        let fs = current_fs()?;
        filename_lookup(fs.ctx(), uapi::AT_FDCWD, &name, LookupFlags::FOLLOW)?
    };
    let inode = path.dentry.positive()?;
    let st = vfs_statfs(&path.mnt, &inode.sb)?;
    buf.write(&to_user(&st))
}

/// fstatfs(2); an `O_PATH` descriptor works, as in Linux (`fdget_raw`).
pub fn sys_fstatfs(fd: Fd, buf: UserPtr<uapi::statfs>) -> KResult<()> {
    let file = fdget(fd)?;
    let st = vfs_statfs(&file.f_path.mnt, &file.f_inode.sb)?;
    buf.write(&to_user(&st))
}

//! Access checks on inodes (Linux: fs/namei.c `generic_permission`,
//! `inode_permission`, `may_create`/`may_delete`).
//!
//! The classic owner/group/other bits against the caller's fsuid and fsgid;
//! the superuser passes, except that executing needs at least one x bit
//! (directories can always be searched by root). The group class applies
//! when the file's group is the caller's fsgid or one of the calling task's
//! supplementary groups (Linux: `in_group_p`). Capabilities other than
//! "uid 0", POSIX ACLs and read-only mounts come later.
//!
//! # Locking
//! Reads the inode's attributes under its `i_lock`, then (not nested) the
//! task's `groups` leaf lock.
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use crate::fs::FsCred;
use crate::fs::inode::Inode;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;

/// Linux: `MAY_EXEC`.
pub const MAY_EXEC: u32 = 1;
/// Linux: `MAY_WRITE`.
pub const MAY_WRITE: u32 = 2;
/// Linux: `MAY_READ`.
pub const MAY_READ: u32 = 4;

/// Whether the caller is in group `gid`: its fsgid or one of the current
/// task's supplementary groups, kept sorted by setgroups (Linux:
/// `in_group_p`).
pub fn in_group_p(cred: FsCred, gid: u32) -> bool {
    gid == cred.fsgid || current().groups().binary_search(&gid).is_ok()
}

/// Checks `mask` (MAY_*) against the mode bits (Linux: `generic_permission`).
pub fn generic_permission(inode: &Inode, mask: u32, cred: FsCred) -> KResult<()> {
    let attr = inode.attr();
    let mode = attr.mode;
    if cred.fsuid == 0 {
        let is_dir = mode & uapi::S_IFMT == uapi::S_IFDIR;
        let any_x = mode & (uapi::S_IXUSR | uapi::S_IXGRP | uapi::S_IXOTH) != 0;
        if mask & MAY_EXEC == 0 || is_dir || any_x {
            return Ok(());
        }
        return Err(Errno::EACCES);
    }
    let bits = if cred.fsuid == attr.uid {
        mode >> 6
    } else if in_group_p(cred, attr.gid) {
        mode >> 3
    } else {
        mode
    };
    if mask & !bits & 7 == 0 { Ok(()) } else { Err(Errno::EACCES) }
}

/// Linux: `inode_permission` (no read-only mounts or immutable files yet).
pub fn inode_permission(inode: &Inode, mask: u32, cred: FsCred) -> KResult<()> {
    generic_permission(inode, mask, cred)
}

/// May `cred` add or remove names in `dir` (Linux: `may_create`, and the
/// directory half of `may_delete`; no sticky-bit rule yet).
pub fn may_modify_dir(dir: &Inode, cred: FsCred) -> KResult<()> {
    if dir.attr().nlink == 0 {
        // A removed directory takes no new names (Linux: `IS_DEADDIR`).
        return Err(Errno::ENOENT);
    }
    inode_permission(dir, MAY_WRITE | MAY_EXEC, cred)
}

//! ext2 extended attributes: the "user." handler over the library's EA
//! blocks (Linux: fs/ext2/xattr.c `ext2_xattr_get`, `ext2_xattr_list`,
//! `ext2_xattr_set`; fs/ext2/xattr_user.c).
//!
//! Only "user." names are handled (with the `user_xattr` behaviour Linux's
//! ext2 and ext4 have by default); "trusted.", "security." and "system."
//! are `EOPNOTSUPP`, and only "user." names are listed. The VFS
//! (fs/xattr.rs) has checked the name's namespace rules and permissions.
//! Each call is one library operation under the instance mutex; a change
//! refreshes the VFS inode's `i_blocks` and ctime from the disk inode.
//! A shared EA block is copied on write by the library.
//!
//! # Locking
//! Takes the instance mutex (mod.rs); the VFS holds the inode's
//! `i_rwsem` around set and remove (Linux: `vfs_setxattr`'s
//! `inode_lock`), which comes before it.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use super::inode::{disk_ino, refresh};
use super::{ext2_sb, now_secs};
use crate::fs::inode::Inode;
use crate::kernel::errno::{Errno, KResult};
use ext2::{XATTR_INDEX_USER, XattrMode};

const USER_PREFIX: &[u8] = b"user.";

/// The name without its "user." prefix (Linux: `xattr_resolve_name`):
/// `EOPNOTSUPP` for other namespaces, `EINVAL` for "user." alone.
fn user_name(name: &[u8]) -> KResult<&[u8]> {
    match name.strip_prefix(USER_PREFIX) {
        Some([]) => Err(Errno::EINVAL),
        Some(rest) => Ok(rest),
        None => Err(Errno::EOPNOTSUPP),
    }
}

/// The library's error for an xattr call (Linux: `ext2_xattr_get`/`set`).
fn xattr_errno(inode: &Inode, e: ext2::Error) -> Errno {
    match e {
        ext2::Error::NotFound => Errno::ENODATA,
        ext2::Error::TooBig => Errno::ERANGE,
        // An attribute in a large inode's body, which only ext4 writes.
        ext2::Error::Unsupported(_) => Errno::EOPNOTSUPP,
        e => ext2_sb(&inode.sb).map_or(Errno::EIO, |info| info.errno(e, inode.ino)),
    }
}

/// Linux: `ext2_xattr_user_get`.
pub fn ext2_getxattr(inode: &Inode, name: &[u8]) -> KResult<Vec<u8>> {
    let name = user_name(name)?;
    let info = ext2_sb(&inode.sb)?;
    let value = info.with_fs(|fs| {
        fs.get_xattr(disk_ino(inode), XATTR_INDEX_USER, name).map_err(|e| xattr_errno(inode, e))
    })?;
    value.ok_or(Errno::ENODATA)
}

/// Linux: `ext2_xattr_list` with the "user." handler's `list`.
pub fn ext2_listxattr(inode: &Inode) -> KResult<Vec<u8>> {
    let info = ext2_sb(&inode.sb)?;
    let attrs =
        info.with_fs(|fs| fs.list_xattrs(disk_ino(inode)).map_err(|e| xattr_errno(inode, e)))?;
    let mut out = Vec::new();
    for a in attrs.iter().filter(|a| a.index == XATTR_INDEX_USER) {
        out.try_reserve(USER_PREFIX.len() + a.name.len() + 1).map_err(|_| Errno::ENOMEM)?;
        out.extend_from_slice(USER_PREFIX);
        out.extend_from_slice(&a.name);
        out.push(0);
    }
    Ok(out)
}

/// Sets (`Some`) or removes (`None`) a "user." attribute (Linux:
/// `ext2_xattr_set`): `EEXIST` with `XATTR_CREATE`, `ENODATA` with
/// `XATTR_REPLACE` or for a removal, `ENOSPC` when the block is full.
pub fn ext2_setxattr(inode: &Inode, name: &[u8], value: Option<&[u8]>, flags: u32) -> KResult<()> {
    let name = user_name(name)?;
    let info = ext2_sb(&inode.sb)?;
    if info.read_only() {
        return Err(Errno::EROFS);
    }
    let create = flags & uapi::XATTR_CREATE != 0;
    let replace = flags & uapi::XATTR_REPLACE != 0;
    let ino = disk_ino(inode);
    info.with_fs(|fs| {
        let err = |e| xattr_errno(inode, e);
        let mode = match (create, replace) {
            // Both: whichever applies fails (Linux checks both).
            (true, true) => {
                let exists = fs.get_xattr(ino, XATTR_INDEX_USER, name).map_err(err)?.is_some();
                return Err(if exists { Errno::EEXIST } else { Errno::ENODATA });
            }
            (true, false) => XattrMode::Create,
            (false, true) => XattrMode::Replace,
            (false, false) => XattrMode::Any,
        };
        fs.set_xattr(ino, XATTR_INDEX_USER, name, value, mode, now_secs()).map_err(err)?;
        let di = fs.read_inode(ino).map_err(err)?;
        refresh(inode, &di);
        Ok(())
    })
}

/// The `InodeOps` xattr hooks of ext2 inodes, for their `impl` blocks.
macro_rules! ext2_xattr_ops {
    () => {
        fn getxattr(&self, inode: &Inode, name: &[u8]) -> KResult<alloc::vec::Vec<u8>> {
            super::xattr::ext2_getxattr(inode, name)
        }
        fn setxattr(&self, inode: &Inode, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
            super::xattr::ext2_setxattr(inode, name, Some(value), flags)
        }
        fn listxattr(&self, inode: &Inode) -> KResult<alloc::vec::Vec<u8>> {
            super::xattr::ext2_listxattr(inode)
        }
        fn removexattr(&self, inode: &Inode, name: &[u8]) -> KResult<()> {
            super::xattr::ext2_setxattr(inode, name, None, 0)
        }
    };
}
pub(crate) use ext2_xattr_ops;

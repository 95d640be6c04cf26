//! Turning a place in the tree back into a path name (Linux: fs/d_path.c
//! `d_path`, `prepend_path`, `getcwd`).
//!
//! Walks `d_parent` up to the mount root, then hops to the mountpoint in
//! the parent mount, until the process root; names are prepended.
//!
//! # Locking
//! Takes each dentry's `d_lock` briefly for its name and parent; a
//! concurrent rename may give a path that was valid just before.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::namespace::Path;
use super::{FsContext, current_fs};
use crate::arch::uaccess::copy_to_user;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::UserPtr;

/// The name of `path` as seen from `root`; a place outside `root` gets
/// Linux's "(unreachable)" prefix.
pub fn d_path(path: &Path, root: &Path) -> KResult<Vec<u8>> {
    let mut parts: Vec<alloc::boxed::Box<[u8]>> = Vec::new();
    let mut cur = path.clone();
    let mut reachable = true;
    loop {
        if cur.same(root) {
            break;
        }
        if Arc::ptr_eq(&cur.dentry, &cur.mnt.mnt_root) {
            match cur.mnt.mountpoint() {
                Some(mp) => {
                    cur = mp;
                    continue;
                }
                None => {
                    reachable = false;
                    break;
                }
            }
        }
        let Some(parent) = cur.dentry.parent() else {
            reachable = false;
            break;
        };
        parts.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        parts.push(cur.dentry.name());
        cur.dentry = parent;
    }
    let mut out = Vec::new();
    if !reachable {
        out.extend_from_slice(b"(unreachable)");
    }
    for part in parts.iter().rev() {
        out.try_reserve(part.len() + 1).map_err(|_| Errno::ENOMEM)?;
        out.push(b'/');
        out.extend_from_slice(part);
    }
    if parts.is_empty() {
        out.push(b'/');
    }
    Ok(out)
}

/// getcwd(2) (Linux: `SYSCALL_DEFINE2(getcwd)`): the working directory
/// with its NUL; `ENOENT` if it was removed, `ERANGE` if it does not fit
/// in `size` bytes.
pub fn do_getcwd(ctx: FsContext<'_>, size: usize) -> KResult<Vec<u8>> {
    let pwd = ctx.fs.pwd();
    if pwd.dentry.is_unhashed() {
        return Err(Errno::ENOENT);
    }
    let mut path = d_path(&pwd, &ctx.fs.root())?;
    path.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    path.push(0);
    if path.len() > size {
        return Err(Errno::ERANGE);
    }
    Ok(path)
}

/// getcwd(2): the length copied, NUL included.
pub fn sys_getcwd(buf: UserPtr<u8>, size: usize) -> KResult<usize> {
    let cwd = do_getcwd(current_fs()?.ctx(), size)?;
    copy_to_user(buf.addr(), &cwd).map_err(|_| Errno::EFAULT)?;
    Ok(cwd.len())
}

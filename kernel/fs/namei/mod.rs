//! Path-name lookup (Linux: fs/namei.c, the walk half).
//!
//! [`Nameidata`] walks a path one component at a time from the process
//! root (absolute), its working directory or a directory descriptor
//! (`*at`, `AT_FDCWD`): `.` stays, `..` climbs (out of mounts through
//! `mnt_mountpoint`, never above the process root), other names go through
//! the dentry cache ([`lookup_one`]) and into whatever is mounted on them.
//! A symbolic link pushes its target onto a stack of strings still to walk,
//! so nested links need no recursion; after [`MAXSYMLINKS`] links the walk
//! fails with `ELOOP`. [`link_path_walk`](Nameidata::link_path_walk) stops
//! before the last component, which each caller treats its own way:
//! [`filename_lookup`] resolves it, [`filename_parentat`] hands it back for
//! create, unlink and rename.
//!
//! Submodules: `permission` (`generic_permission`), `create`, `remove`,
//! `rename`, `open` (`do_filp_open`).
//!
//! # Locking
//! The walk holds no lock between components; a slow lookup (a cache miss)
//! asks the file system under its `s_vfs_rename_lock`, so that a name is
//! never cached while it is being removed.
#![deny(unsafe_code)]

pub mod create;
pub mod open;
pub mod permission;
pub mod remove;
pub mod rename;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;

use linux_raw_sys::general as uapi;

use super::FsContext;
use super::dcache::{Dentry, NAME_MAX, check_name, d_add, d_invalidate, d_lookup};
use super::inode::FileType;
use super::namespace::{Path, lookup_mnt};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{UserPtr, getname};
use crate::mm::slab_common::kmemdup;
pub use permission::{MAY_EXEC, MAY_READ, MAY_WRITE, inode_permission};

/// Most symbolic links one walk follows (Linux: `MAXSYMLINKS`).
pub const MAXSYMLINKS: u32 = 40;
/// Longest path accepted, NUL included (Linux: `PATH_MAX`).
pub const PATH_MAX: usize = uapi::PATH_MAX as usize;
/// A directory descriptor that means the working directory.
pub const AT_FDCWD: i32 = uapi::AT_FDCWD;

bitflags::bitflags! {
    /// How to walk (Linux: `LOOKUP_FOLLOW`, ...).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct LookupFlags: u32 {
        /// Follow a symlink in the last component.
        const FOLLOW = 1 << 0;
        /// The result must be a directory.
        const DIRECTORY = 1 << 1;
        /// An empty path means the starting directory (`AT_EMPTY_PATH`).
        const EMPTY = 1 << 2;
    }
}

impl LookupFlags {
    /// From `AT_SYMLINK_NOFOLLOW` / `AT_EMPTY_PATH`; `EINVAL` for others
    /// outside `allowed`.
    pub fn from_at_flags(at: u32, allowed: u32) -> KResult<Self> {
        if at & !allowed != 0 {
            return Err(Errno::EINVAL);
        }
        let mut flags = LookupFlags::empty();
        if at & uapi::AT_SYMLINK_NOFOLLOW == 0 {
            flags |= LookupFlags::FOLLOW;
        }
        if at & uapi::AT_EMPTY_PATH != 0 {
            flags |= LookupFlags::EMPTY;
        }
        Ok(flags)
    }
}

/// Copies a path argument from user space (Linux: `getname_flags`): an
/// empty string is `ENOENT` unless `empty_ok` (the `AT_EMPTY_PATH` calls,
/// Linux's `LOOKUP_EMPTY`).
pub fn getname_flags(name: UserPtr<u8>, empty_ok: bool) -> KResult<Vec<u8>> {
    match getname(name) {
        Err(Errno::ENOENT) if empty_ok => Ok(Vec::new()),
        other => other,
    }
}

/// What the last component is (Linux: `LAST_NORM`, `LAST_DOT`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LastType {
    Norm,
    Dot,
    DotDot,
    /// The path was "/" or empty: no last component.
    Root,
}

/// The last component, left for the caller.
#[derive(Debug)]
pub struct Last {
    pub name: Vec<u8>,
    pub kind: LastType,
    /// The path ended in '/': the result must be a directory.
    pub trailing_slash: bool,
}

/// The state of one walk (Linux: `struct nameidata`).
pub struct Nameidata<'a> {
    ctx: FsContext<'a>,
    /// Where the walk is.
    pub path: Path,
    root: Path,
    /// The path, borrowed from the caller's copy, and how far it is walked.
    name: &'a [u8],
    pos: usize,
    /// Targets of links being followed, innermost last, and how far each
    /// is walked; empty (no allocation) until a link is met.
    links: Vec<(Vec<u8>, usize)>,
    total_link_count: u32,
    trailing_slash: bool,
}

impl<'a> Nameidata<'a> {
    /// Picks the starting point (Linux: `path_init`).
    pub fn new(ctx: FsContext<'a>, dfd: i32, name: &'a [u8], flags: LookupFlags) -> KResult<Self> {
        if name.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let root = ctx.fs.root();
        let start = if name.first() == Some(&b'/') {
            root.clone()
        } else if dfd == AT_FDCWD {
            ctx.fs.pwd()
        } else {
            let file = ctx.files.get(dfd)?;
            if !name.is_empty() && !file.f_inode.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            file.f_path.clone()
        };
        if name.is_empty() && !flags.contains(LookupFlags::EMPTY) {
            return Err(Errno::ENOENT);
        }
        Ok(Self {
            ctx,
            path: start,
            root,
            name,
            pos: 0,
            links: Vec::new(),
            total_link_count: 0,
            trailing_slash: false,
        })
    }

    /// The string being walked: the innermost link's target, else the path.
    fn top(&self) -> &[u8] {
        self.links.last().map_or(self.name, |(s, _)| s.as_slice())
    }

    /// The next component, as a range of [`top`](Self::top) (borrowed, not
    /// copied), and whether it is the last one; `None` once the path is
    /// used up.
    fn next_component(&mut self) -> Option<(Range<usize>, bool)> {
        loop {
            let (s, pos) = match self.links.last_mut() {
                Some((s, pos)) => (s.as_slice(), pos),
                None => (self.name, &mut self.pos),
            };
            while s.get(*pos) == Some(&b'/') {
                *pos += 1;
            }
            if *pos >= s.len() {
                self.links.pop()?;
                continue;
            }
            let start = *pos;
            let end = s[start..].iter().position(|&b| b == b'/').map_or(s.len(), |i| start + i);
            *pos = end;
            let done = |s: &[u8], pos: usize| s[pos..].iter().all(|&b| b == b'/');
            let is_last =
                done(self.name, self.pos) && self.links.iter().all(|(s, pos)| done(s, *pos));
            if is_last && self.links.is_empty() && end < self.name.len() {
                self.trailing_slash = true;
            }
            return Some((start..end, is_last));
        }
    }

    /// Walks every component but the last (Linux: `link_path_walk`).
    pub fn link_path_walk(&mut self) -> KResult<Last> {
        loop {
            let Some((range, is_last)) = self.next_component() else {
                return Ok(Last {
                    name: Vec::new(),
                    kind: LastType::Root,
                    trailing_slash: self.trailing_slash,
                });
            };
            let comp = &self.top()[range];
            let kind = match comp {
                b"." => LastType::Dot,
                b".." => LastType::DotDot,
                _ => LastType::Norm,
            };
            if is_last {
                let name = kmemdup(comp)?;
                return Ok(Last { name, kind, trailing_slash: self.trailing_slash });
            }
            match kind {
                LastType::Dot => self.may_lookup()?,
                LastType::DotDot => self.follow_dotdot()?,
                _ => {
                    // On the stack rather than the heap: the walk may push
                    // a link (and so move `top`) while it uses the name.
                    let mut buf = [0u8; NAME_MAX];
                    let len = comp.len();
                    let Some(dst) = buf.get_mut(..len) else {
                        // No file system has such a name; search permission
                        // is checked first, as `walk_component` would.
                        self.may_lookup()?;
                        return Err(Errno::ENAMETOOLONG);
                    };
                    dst.copy_from_slice(comp);
                    self.walk_component(&buf[..len], true)?;
                }
            }
        }
    }

    /// The current place must be a directory we may search (Linux: `may_lookup`).
    fn may_lookup(&self) -> KResult<()> {
        let inode = self.path.dentry.positive()?;
        if !inode.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        inode_permission(&inode, MAY_EXEC, self.ctx.cred)
    }

    /// Steps to `name`; returns `true` if it was a symlink being followed
    /// (its target is now on the stack) (Linux: `walk_component`).
    fn walk_component(&mut self, name: &[u8], follow: bool) -> KResult<bool> {
        self.may_lookup()?;
        let dentry = lookup_one(&self.path.dentry, name)?;
        let inode = dentry.positive()?;
        if follow && inode.file_type() == FileType::Symlink {
            // Linux: `pick_link` refuses links on a `nosymfollow` mount.
            if self.path.mnt.flags().contains(crate::fs::namespace::MntFlags::NOSYMFOLLOW) {
                return Err(Errno::ELOOP);
            }
            if let Some(to) = inode.i_op.get_link_jump(&inode)? {
                // A magic link: the walk goes on from the object itself
                // (Linux: `nd_jump_link`).
                self.total_link_count += 1;
                if self.total_link_count > MAXSYMLINKS {
                    return Err(Errno::ELOOP);
                }
                self.path = to;
                return Ok(false);
            }
            let target = inode.i_op.get_link(&inode)?;
            self.push_link(target)?;
            return Ok(true);
        }
        // Same mount: only the dentry moves (no refcount on the mount).
        self.path.dentry = dentry;
        self.follow_mounts();
        Ok(false)
    }

    /// Queues a link's target (Linux: `pick_link`).
    fn push_link(&mut self, target: Vec<u8>) -> KResult<()> {
        self.total_link_count += 1;
        if self.total_link_count > MAXSYMLINKS {
            return Err(Errno::ELOOP);
        }
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target[0] == b'/' {
            self.path = self.root.clone();
        }
        self.links.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        self.links.push((target, 0));
        Ok(())
    }

    /// Goes into whatever is mounted here (Linux: `follow_mount`).
    fn follow_mounts(&mut self) {
        while let Some(mnt) = lookup_mnt(&self.path) {
            self.path = Path::new(mnt.clone(), mnt.mnt_root.clone());
        }
    }

    /// `..`: the parent, across mount roots, never above the process root
    /// (Linux: `follow_dotdot`).
    fn follow_dotdot(&mut self) -> KResult<()> {
        self.may_lookup()?;
        loop {
            if self.path.same(&self.root) {
                break;
            }
            if !Arc::ptr_eq(&self.path.dentry, &self.path.mnt.mnt_root) {
                if let Some(parent) = self.path.dentry.parent() {
                    self.path.dentry = parent;
                }
                break;
            }
            match self.path.mnt.mountpoint() {
                Some(mp) => self.path = mp,
                None => break,
            }
        }
        self.follow_mounts();
        Ok(())
    }

    /// Resolves the last component; `true` if a trailing link was queued
    /// and the walk must go on (Linux: `lookup_last`).
    fn lookup_last(&mut self, last: &Last, flags: LookupFlags) -> KResult<bool> {
        match last.kind {
            LastType::Root => Ok(false),
            LastType::Dot => self.may_lookup().map(|()| false),
            LastType::DotDot => self.follow_dotdot().map(|()| false),
            LastType::Norm => {
                let follow = flags.contains(LookupFlags::FOLLOW) || last.trailing_slash;
                self.walk_component(&last.name, follow)
            }
        }
    }
}

/// Finds `name` under `parent`: from the dentry cache, else from the file
/// system, caching the answer, negative or not (Linux: `lookup_fast`,
/// `lookup_slow`). The result may be negative.
pub fn lookup_one(parent: &Arc<Dentry>, name: &[u8]) -> KResult<Arc<Dentry>> {
    check_name(name)?;
    if let Some(dentry) = d_lookup_valid(parent, name) {
        return Ok(dentry);
    }
    let sb = parent.d_sb.clone();
    let _guard = sb.s_vfs_rename_lock.lock();
    lookup_one_locked(parent, name)
}

/// [`lookup_one`] for callers that hold the file system's
/// `s_vfs_rename_lock` (Linux: `lookup_one_qstr_excl`).
pub fn lookup_one_locked(parent: &Arc<Dentry>, name: &[u8]) -> KResult<Arc<Dentry>> {
    check_name(name)?;
    if let Some(dentry) = d_lookup_valid(parent, name) {
        return Ok(dentry);
    }
    let dir = parent.positive()?;
    if parent.is_unhashed() && !parent.is_root() {
        return Err(Errno::ENOENT);
    }
    let found = dir.i_op.lookup(&dir, name)?;
    d_add(parent, name, found)
}

/// A cached dentry that its file system still vouches for; a stale one is
/// invalidated, so the caller asks the file system again (Linux:
/// `lookup_dcache` with `d_revalidate`).
fn d_lookup_valid(parent: &Arc<Dentry>, name: &[u8]) -> Option<Arc<Dentry>> {
    let dentry = d_lookup(parent, name)?;
    if dentry.d_sb.s_type.d_revalidate(&dentry) {
        return Some(dentry);
    }
    d_invalidate(&dentry);
    None
}

/// Resolves a whole path (Linux: `filename_lookup` → `path_lookupat`).
pub fn filename_lookup(
    ctx: FsContext<'_>,
    dfd: i32,
    name: &[u8],
    flags: LookupFlags,
) -> KResult<Path> {
    let mut nd = Nameidata::new(ctx, dfd, name, flags)?;
    loop {
        let last = nd.link_path_walk()?;
        if !nd.lookup_last(&last, flags)? {
            let inode = nd.path.dentry.positive()?;
            let must_be_dir = flags.contains(LookupFlags::DIRECTORY) || last.trailing_slash;
            if must_be_dir && !inode.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            return Ok(nd.path);
        }
    }
}

/// Walks to the parent of the last component and returns both (Linux:
/// `filename_parentat`). The parent is a directory.
pub fn filename_parentat(ctx: FsContext<'_>, dfd: i32, name: &[u8]) -> KResult<(Path, Last)> {
    let mut nd = Nameidata::new(ctx, dfd, name, LookupFlags::empty())?;
    let last = nd.link_path_walk()?;
    if !nd.path.dentry.positive()?.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok((nd.path, last))
}

/// Like [`filename_lookup`] with the `*at` conventions: `AT_FDCWD` or a
/// directory descriptor, `AT_SYMLINK_NOFOLLOW`, `AT_EMPTY_PATH`.
pub fn user_path_at(ctx: FsContext<'_>, dfd: i32, name: &[u8], at_flags: u32) -> KResult<Path> {
    let allowed = uapi::AT_SYMLINK_NOFOLLOW | uapi::AT_EMPTY_PATH | uapi::AT_NO_AUTOMOUNT;
    filename_lookup(ctx, dfd, name, LookupFlags::from_at_flags(at_flags, allowed)?)
}

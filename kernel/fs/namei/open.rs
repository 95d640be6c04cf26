//! Opening by name (Linux: fs/namei.c `do_filp_open` → `path_openat`,
//! `open_last_lookups`, `do_open`, `may_open`; fs/open.c `vfs_open`).
//!
//! `O_CREAT` looks the last name up under the file system's rename lock and
//! creates it if absent (`O_EXCL`: it must be absent); otherwise the path
//! is resolved, following a final symlink unless `O_NOFOLLOW` (then
//! `ELOOP`, or a descriptor to the link itself with `O_PATH`). `do_open`
//! checks the type against the flags (`EISDIR`, `ENOTDIR`), the
//! permission for the access mode, truncates for `O_TRUNC`, and picks the
//! operations: the inode's, or the driver's for a device node.
//!
//! # Locking
//! `s_vfs_rename_lock` only around the `O_CREAT` lookup and create.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use linux_raw_sys::general as uapi;

use super::create::vfs_create_with;
use super::permission::{MAY_READ, MAY_WRITE, inode_permission};
use super::{LastType, LookupFlags, filename_lookup, filename_parentat, lookup_one};
use crate::fs::FsContext;
use crate::fs::char_dev::chrdev_fops;
use crate::fs::file_table::{FMode, File, FileOps};
use crate::fs::inode::{FileType, Inode, SetAttr};
use crate::fs::namespace::Path;
use crate::kernel::errno::{Errno, KResult};

/// Flags O_PATH keeps; the others are ignored with it (Linux: `O_PATH_FLAGS`).
const O_PATH_FLAGS: u32 = uapi::O_DIRECTORY | uapi::O_NOFOLLOW | uapi::O_PATH | uapi::O_CLOEXEC;

/// The access mode an open asks for (Linux: `OPEN_FMODE`).
fn open_fmode(flags: u32) -> FMode {
    match flags & uapi::O_ACCMODE {
        uapi::O_RDONLY => FMode::READ,
        uapi::O_WRONLY => FMode::WRITE,
        uapi::O_RDWR => FMode::READ | FMode::WRITE,
        _ => FMode::empty(),
    }
}

/// Opens `name` relative to `dfd` (Linux: `do_filp_open`). `mode` is used
/// when `O_CREAT` creates the file; the umask is applied here.
pub fn do_filp_open(
    ctx: FsContext<'_>,
    dfd: i32,
    name: &[u8],
    flags: u32,
    mode: u32,
) -> KResult<Arc<File>> {
    let mut flags = flags;
    if flags & uapi::O_PATH != 0 {
        flags &= O_PATH_FLAGS;
    }
    if flags & uapi::O_TMPFILE == uapi::O_TMPFILE {
        return Err(Errno::EOPNOTSUPP);
    }
    let (path, created) = if flags & uapi::O_CREAT != 0 {
        open_create(ctx, dfd, name, flags, mode)?
    } else {
        let mut how = LookupFlags::empty();
        if flags & uapi::O_NOFOLLOW == 0 {
            how |= LookupFlags::FOLLOW;
        }
        if flags & uapi::O_DIRECTORY != 0 {
            how |= LookupFlags::DIRECTORY;
        }
        (filename_lookup(ctx, dfd, name, how)?, false)
    };
    do_open(ctx, path, flags, created)
}

/// The `O_CREAT` half of `open_last_lookups`: returns the path and whether
/// the file was created by this call.
fn open_create(
    ctx: FsContext<'_>,
    dfd: i32,
    name: &[u8],
    flags: u32,
    mode: u32,
) -> KResult<(Path, bool)> {
    let (parent, last) = filename_parentat(ctx, dfd, name)?;
    if last.kind != LastType::Norm || last.trailing_slash {
        return Err(Errno::EISDIR);
    }
    let dentry = lookup_one(&parent.dentry, &last.name)?;
    if let Some(inode) = dentry.inode() {
        if flags & uapi::O_EXCL != 0 {
            return Err(Errno::EEXIST);
        }
        if inode.file_type() == FileType::Symlink {
            // Linux would create a dangling link's target; Ferrite
            // resolves the link and opens what exists.
            let mut how = LookupFlags::empty();
            if flags & uapi::O_NOFOLLOW == 0 {
                how |= LookupFlags::FOLLOW;
            }
            return Ok((filename_lookup(ctx, dfd, name, how)?, false));
        }
        return Ok((Path::new(parent.mnt.clone(), dentry), false));
    }
    let mode = uapi::S_IFREG | (mode & 0o7777 & !ctx.fs.umask());
    let made = vfs_create_with(ctx, &parent, &last.name, |dir| {
        dir.i_op.create(dir, &last.name, mode, ctx.cred)
    });
    match made {
        Ok(dentry) => Ok((Path::new(parent.mnt.clone(), dentry), true)),
        // Another open created it between our lookup and the lock.
        Err(Errno::EEXIST) if flags & uapi::O_EXCL == 0 => {
            Ok((Path::new(parent.mnt.clone(), lookup_one(&parent.dentry, &last.name)?), false))
        }
        Err(e) => Err(e),
    }
}

/// Checks the opened inode against the flags and opens it (Linux: `do_open`).
fn do_open(ctx: FsContext<'_>, path: Path, flags: u32, created: bool) -> KResult<Arc<File>> {
    let inode = path.dentry.positive()?;
    let ftype = inode.file_type();
    if flags & uapi::O_PATH != 0 {
        if flags & uapi::O_DIRECTORY != 0 && ftype != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        return File::open(path, inode.clone(), inode.i_fop, FMode::PATH, flags);
    }
    let fmode = open_fmode(flags);
    match ftype {
        FileType::Symlink => return Err(Errno::ELOOP),
        FileType::Directory if fmode.contains(FMode::WRITE) || flags & uapi::O_CREAT != 0 => {
            return Err(Errno::EISDIR);
        }
        FileType::Directory => {}
        _ if flags & uapi::O_DIRECTORY != 0 => return Err(Errno::ENOTDIR),
        _ => {}
    }
    if matches!(ftype, FileType::CharDev | FileType::BlockDev)
        && !crate::fs::namespace::may_open_dev(&path)
    {
        return Err(Errno::EACCES);
    }
    if !created {
        may_open(ctx, &inode, flags)?;
    }
    // Linux: `do_open`'s `mnt_want_write` for O_TRUNC and
    // `do_dentry_open`'s for a write open; device nodes, fifos and sockets
    // may be written on a read-only mount.
    let special = !matches!(ftype, FileType::Regular | FileType::Directory | FileType::Symlink);
    if !special && (fmode.contains(FMode::WRITE) || flags & uapi::O_TRUNC != 0) {
        crate::fs::namespace::mnt_want_write(&path.mnt)?;
    }
    let writer = !special && fmode.contains(FMode::WRITE);
    let f_op = select_fops(&inode)?;
    // Linux 6.1's tmpfs refuses it (`FMODE_CAN_ODIRECT` unset); block
    // devices and file systems that say so (ext2) take it.
    if flags & uapi::O_DIRECT != 0 && ftype != FileType::BlockDev && !f_op.direct_io() {
        return Err(Errno::EINVAL);
    }
    let mut fmode = fmode;
    if matches!(ftype, FileType::Regular | FileType::Directory) {
        fmode |= FMode::ATOMIC_POS;
    }
    // Even a read-only open truncates (Linux: `do_open`'s `do_truncate`);
    // `may_open` asked for write permission.
    let truncate = flags & uapi::O_TRUNC != 0 && ftype == FileType::Regular;
    if truncate && !created {
        let attr = SetAttr { size: Some(0), ..SetAttr::default() };
        let _locked = inode.inode_lock();
        inode.i_op.setattr(&inode, &attr)?;
    }
    if writer {
        // Given back by the `File`'s drop, even if its open fails.
        crate::fs::namespace::mnt_get_write_access(&path.mnt)?;
        fmode |= FMode::WRITER;
    }
    File::open(path, inode, f_op, fmode, flags | uapi::O_LARGEFILE)
}

/// Permission for the access mode (Linux: `may_open`); `O_TRUNC` needs
/// write permission even with O_RDONLY, `O_NOATIME` the owner.
fn may_open(ctx: FsContext<'_>, inode: &Inode, flags: u32) -> KResult<()> {
    let mut mask = 0;
    match flags & uapi::O_ACCMODE {
        uapi::O_RDONLY => mask |= MAY_READ,
        uapi::O_WRONLY => mask |= MAY_WRITE,
        _ => mask |= MAY_READ | MAY_WRITE,
    }
    if flags & uapi::O_TRUNC != 0 {
        mask |= MAY_WRITE;
    }
    inode_permission(inode, mask, ctx.cred)?;
    // Only the owner may skip atime updates (Linux: `may_open`,
    // `inode_owner_or_capable`, with CAP_FOWNER as fsuid 0).
    let owner = ctx.cred.fsuid == 0 || ctx.cred.fsuid == inode.attr().uid;
    if flags & uapi::O_NOATIME != 0 && !owner {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// The operations an open gets: a device node's come from its driver
/// (Linux: `init_special_inode` + `chrdev_open`).
fn select_fops(inode: &Inode) -> KResult<&'static dyn FileOps> {
    match inode.file_type() {
        FileType::CharDev => chrdev_fops(inode.attr().rdev),
        FileType::BlockDev => Ok(&crate::fs::block_dev::DEF_BLK_FOPS),
        FileType::Fifo => Ok(&crate::fs::fifo::FIFO_FOPS),
        FileType::Socket => Err(Errno::ENXIO),
        _ => Ok(inode.i_fop),
    }
}

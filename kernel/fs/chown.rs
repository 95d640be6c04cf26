//! chown, fchown, lchown, fchownat: who may give a file to whom.
//!
//! Linux: fs/open.c (`chown_common`, `do_fchownat`, `ksys_fchown`),
//! fs/attr.c (`chown_ok`, `chgrp_ok`, `setattr_prepare`), kernel/groups.c
//! (`in_group_p`), fs/inode.c (`should_remove_suid`).
//!
//! Without `CAP_CHOWN` (filesystem uid 0, see kernel/cred.rs) a file's
//! owner may "change" its uid only to itself and its group only to one it
//! belongs to; anyone else gets `EPERM`. `-1` leaves an ID as it is. A
//! change of a non-directory clears the set-user-ID bit, and set-group-ID
//! where it means "run as the group" (with group execute), so that giving
//! a file away cannot hand out privileges.
//!
//! # Locking
//! None of its own: the inode's `setattr` serializes the change.
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use super::file_table::FMode;
use super::inode::{FileType, Inode, SetAttr};
use super::namei::{AT_FDCWD, getname_flags, user_path_at};
use super::{FsContext, FsCred, current_fs, raw_dfd, raw_fd};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;
use crate::kernel::syscall::args::{AtFd, Fd, UserPtr, getname};

/// `-1`: leave this ID alone.
const UNCHANGED: u32 = u32::MAX;

/// Whether the caller is in group `gid`: its filesystem gid or one of its
/// supplementary groups (Linux: `in_group_p`).
fn in_group_p(cred: FsCred, gid: u32) -> bool {
    gid == cred.fsgid || current().groups().binary_search(&gid).is_ok()
}

/// Linux: `chown_ok` and `chgrp_ok`, with `CAP_CHOWN` as fsuid 0.
fn may_chown(inode: &Inode, cred: FsCred, uid: u32, gid: u32) -> bool {
    if cred.fsuid == 0 {
        return true;
    }
    let attr = inode.attr();
    let owner = attr.uid == cred.fsuid;
    let uid_ok = uid == UNCHANGED || (owner && uid == attr.uid);
    let gid_ok = gid == UNCHANGED || (owner && (gid == attr.gid || in_group_p(cred, gid)));
    uid_ok && gid_ok
}

/// Linux: `chown_common`.
fn chown_common(inode: &Inode, cred: FsCred, uid: u32, gid: u32) -> KResult<()> {
    if !may_chown(inode, cred, uid, gid) {
        return Err(Errno::EPERM);
    }
    let mut change = SetAttr {
        uid: (uid != UNCHANGED).then_some(uid),
        gid: (gid != UNCHANGED).then_some(gid),
        ..SetAttr::default()
    };
    let mode = inode.attr().mode;
    if inode.file_type() != FileType::Directory {
        let mut kill = uapi::S_ISUID;
        if mode & uapi::S_IXGRP != 0 {
            kill |= uapi::S_ISGID;
        }
        if mode & kill != 0 {
            change.mode = Some(mode & 0o7777 & !kill);
        }
    }
    inode.i_op.setattr(inode, &change)
}

/// fchownat(2) (Linux: `do_fchownat`): `AT_SYMLINK_NOFOLLOW` changes a
/// link itself, `AT_EMPTY_PATH` the file `dfd` names.
pub fn do_fchownat(
    ctx: FsContext<'_>,
    dfd: i32,
    name: &[u8],
    uid: u32,
    gid: u32,
    flags: u32,
) -> KResult<()> {
    let path = user_path_at(ctx, dfd, name, flags)?;
    crate::fs::namespace::mnt_want_write(&path.mnt)?;
    chown_common(&*path.dentry.positive()?, ctx.cred, uid, gid)
}

/// chown(2): follows symlinks.
pub fn sys_chown(filename: UserPtr<u8>, user: u32, group: u32) -> KResult<()> {
    let name = getname(filename)?;
    do_fchownat(current_fs()?.ctx(), AT_FDCWD, &name, user, group, 0)
}

/// lchown(2): the link itself.
pub fn sys_lchown(filename: UserPtr<u8>, user: u32, group: u32) -> KResult<()> {
    let name = getname(filename)?;
    let nofollow = uapi::AT_SYMLINK_NOFOLLOW;
    do_fchownat(current_fs()?.ctx(), AT_FDCWD, &name, user, group, nofollow)
}

/// fchownat(2); flags other than `AT_SYMLINK_NOFOLLOW`/`AT_EMPTY_PATH`
/// are `EINVAL`.
pub fn sys_fchownat(
    dfd: AtFd,
    filename: UserPtr<u8>,
    user: u32,
    group: u32,
    flag: u32,
) -> KResult<()> {
    if flag & !(uapi::AT_SYMLINK_NOFOLLOW | uapi::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let name = getname_flags(filename, flag & uapi::AT_EMPTY_PATH != 0)?;
    do_fchownat(current_fs()?.ctx(), raw_dfd(dfd)?, &name, user, group, flag)
}

/// fchown(2) (Linux: `ksys_fchown`): not on an `O_PATH` descriptor.
pub fn sys_fchown(fd: Fd, user: u32, group: u32) -> KResult<()> {
    let fs = current_fs()?;
    let ctx = fs.ctx();
    let file = ctx.files.get(raw_fd(fd)?)?;
    if file.f_mode.contains(FMode::PATH) {
        return Err(Errno::EBADF);
    }
    crate::fs::namespace::mnt_want_write(&file.f_path.mnt)?;
    chown_common(&file.f_inode, ctx.cred, user, group)
}

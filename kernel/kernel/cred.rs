//! User and group IDs: the `get*id`/`set*id` family.
//!
//! Linux: kernel/sys.c (`__sys_setuid`, `__sys_setreuid`,
//! `__sys_setresuid`, the gid twins, `getresuid`, `setfsuid`),
//! kernel/groups.c (`getgroups`, `setgroups`), include/linux/cred.h.
//!
//! A task has real, effective, saved and filesystem IDs (`Cred`) and a
//! sorted list of supplementary groups. Capabilities are not kept as
//! sets: a task has them all while its effective uid is 0 and none
//! otherwise, which is what Linux's `cap_emulate_setxuid` amounts to for
//! a root that is not using file capabilities or securebits. So root may
//! set any ID; anyone else may only shuffle the values it already has,
//! and once no uid is 0 there is no way back. The filesystem ID follows
//! the effective one, or is set on its own by setfsuid.
//!
//! # Locking
//! `Task::cred` and `Task::groups` are leaf locks, each read and replaced
//! whole; `update_cred` reads, checks and writes (a task changes only its
//! own credentials, so no one races it), never across a user copy.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general::{CAP_SETGID, CAP_SETUID, NGROUPS_MAX};

use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;
use crate::kernel::sched::task::Cred;
use crate::kernel::syscall::args::UserPtr;

/// `-1`: leave this ID as it is.
const UNCHANGED: u32 = u32::MAX;

/// Whether the current task holds capability `cap` (Linux: `capable`):
/// all of them with effective uid 0, none without (see the header).
pub fn capable(cap: u32) -> bool {
    let _ = cap;
    current().cred().euid == 0
}

/// Which half of `Cred` a call works on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Group,
}

/// (real, effective, saved) of `kind`.
fn ids(c: &Cred, kind: Kind) -> [u32; 3] {
    match kind {
        Kind::User => [c.uid, c.euid, c.suid],
        Kind::Group => [c.gid, c.egid, c.sgid],
    }
}

/// Stores (real, effective, saved) of `kind`; the fs ID follows the
/// effective one.
fn set_ids(c: &mut Cred, kind: Kind, [r, e, s]: [u32; 3]) {
    match kind {
        Kind::User => (c.uid, c.euid, c.suid, c.fsuid) = (r, e, s, e),
        Kind::Group => (c.gid, c.egid, c.sgid, c.fsgid) = (r, e, s, e),
    }
}

/// Applies `change` to the current task's credentials atomically.
fn update_cred(change: impl FnOnce(&mut Cred) -> KResult<()>) -> KResult<()> {
    let tsk = current();
    let mut cred = tsk.cred();
    change(&mut cred)?;
    tsk.set_cred(cred);
    Ok(())
}

/// setuid/setgid (Linux: `__sys_setuid`): root sets all three IDs, others
/// only the effective one, to their real or saved ID.
fn do_setid(kind: Kind, id: u32) -> KResult<()> {
    if id == UNCHANGED {
        return Err(Errno::EINVAL);
    }
    update_cred(|c| {
        let [r, _, s] = ids(c, kind);
        if c.euid == 0 {
            set_ids(c, kind, [id, id, id]);
        } else if id == r || id == s {
            let [r, _, s] = ids(c, kind);
            set_ids(c, kind, [r, id, s]);
        } else {
            return Err(Errno::EPERM);
        }
        Ok(())
    })
}

/// setreuid/setregid (Linux: `__sys_setreuid`).
fn do_setreid(kind: Kind, new_r: u32, new_e: u32) -> KResult<()> {
    update_cred(|c| {
        let [r, e, s] = ids(c, kind);
        let privileged = c.euid == 0;
        if new_r != UNCHANGED && !privileged && new_r != r && new_r != e {
            return Err(Errno::EPERM);
        }
        if new_e != UNCHANGED && !privileged && new_e != r && new_e != e && new_e != s {
            return Err(Errno::EPERM);
        }
        let nr = if new_r == UNCHANGED { r } else { new_r };
        let ne = if new_e == UNCHANGED { e } else { new_e };
        // The saved ID follows a change of the real ID, or of the
        // effective one to something other than the old real ID.
        let ns = if new_r != UNCHANGED || (new_e != UNCHANGED && new_e != r) { ne } else { s };
        set_ids(c, kind, [nr, ne, ns]);
        Ok(())
    })
}

/// setresuid/setresgid (Linux: `__sys_setresuid`).
fn do_setresid(kind: Kind, new: [u32; 3]) -> KResult<()> {
    update_cred(|c| {
        let old = ids(c, kind);
        let allowed = |id: u32| id == UNCHANGED || old.contains(&id);
        if c.euid != 0 && !new.iter().all(|&id| allowed(id)) {
            return Err(Errno::EPERM);
        }
        let mut next = old;
        for (slot, id) in next.iter_mut().zip(new) {
            if id != UNCHANGED {
                *slot = id;
            }
        }
        set_ids(c, kind, next);
        Ok(())
    })
}

/// getresuid/getresgid: three `put_user`s.
fn do_getresid(kind: Kind, r: UserPtr<u32>, e: UserPtr<u32>, s: UserPtr<u32>) -> KResult<()> {
    let [ri, ei, si] = ids(&current().cred(), kind);
    r.write(&ri)?;
    e.write(&ei)?;
    s.write(&si)
}

pub fn sys_getuid() -> KResult<u32> {
    Ok(current().cred().uid)
}

pub fn sys_getgid() -> KResult<u32> {
    Ok(current().cred().gid)
}

pub fn sys_geteuid() -> KResult<u32> {
    Ok(current().cred().euid)
}

pub fn sys_getegid() -> KResult<u32> {
    Ok(current().cred().egid)
}

pub fn sys_setuid(uid: u32) -> KResult<()> {
    do_setid(Kind::User, uid)
}

pub fn sys_setgid(gid: u32) -> KResult<()> {
    do_setid(Kind::Group, gid)
}

pub fn sys_setreuid(ruid: u32, euid: u32) -> KResult<()> {
    do_setreid(Kind::User, ruid, euid)
}

pub fn sys_setregid(rgid: u32, egid: u32) -> KResult<()> {
    do_setreid(Kind::Group, rgid, egid)
}

pub fn sys_setresuid(ruid: u32, euid: u32, suid: u32) -> KResult<()> {
    do_setresid(Kind::User, [ruid, euid, suid])
}

pub fn sys_setresgid(rgid: u32, egid: u32, sgid: u32) -> KResult<()> {
    do_setresid(Kind::Group, [rgid, egid, sgid])
}

pub fn sys_getresuid(r: UserPtr<u32>, e: UserPtr<u32>, s: UserPtr<u32>) -> KResult<()> {
    do_getresid(Kind::User, r, e, s)
}

pub fn sys_getresgid(r: UserPtr<u32>, e: UserPtr<u32>, s: UserPtr<u32>) -> KResult<()> {
    do_getresid(Kind::Group, r, e, s)
}

/// setfsuid/setfsgid: the filesystem ID may become any of the real,
/// effective, saved or current filesystem IDs, or anything with the
/// capability; the old one is returned whether or not it changed, and
/// `-1` only asks (Linux: `__sys_setfsuid`).
fn do_setfsid(kind: Kind, id: u32) -> u32 {
    let tsk = current();
    let mut c = tsk.cred();
    let (old, cap) = match kind {
        Kind::User => (c.fsuid, CAP_SETUID),
        Kind::Group => (c.fsgid, CAP_SETGID),
    };
    let allowed = ids(&c, kind).contains(&id) || capable(cap);
    if id != UNCHANGED && id != old && allowed {
        match kind {
            Kind::User => c.fsuid = id,
            Kind::Group => c.fsgid = id,
        }
        tsk.set_cred(c);
    }
    old
}

pub fn sys_setfsuid(uid: u32) -> KResult<u32> {
    Ok(do_setfsid(Kind::User, uid))
}

pub fn sys_setfsgid(gid: u32) -> KResult<u32> {
    Ok(do_setfsid(Kind::Group, gid))
}

/// getgroups(2): size 0 asks for the count; a smaller list than the
/// groups is `EINVAL` (Linux: `getgroups`).
pub fn sys_getgroups(size: i32, list: UserPtr<u32>) -> KResult<i32> {
    let size = usize::try_from(size).map_err(|_| Errno::EINVAL)?;
    let groups = current().groups();
    if size != 0 {
        if groups.len() > size {
            return Err(Errno::EINVAL);
        }
        let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_ne_bytes()).collect();
        copy_to_user(list.addr(), &bytes).map_err(|_| Errno::EFAULT)?;
    }
    i32::try_from(groups.len()).map_err(|_| Errno::EINVAL)
}

/// setgroups(2): `CAP_SETGID` first, then at most `NGROUPS_MAX`, kept
/// sorted (Linux: `setgroups`, `groups_sort`).
pub fn sys_setgroups(size: i32, list: UserPtr<u32>) -> KResult<()> {
    if !capable(CAP_SETGID) {
        return Err(Errno::EPERM);
    }
    let n =
        usize::try_from(size).ok().filter(|&n| n <= NGROUPS_MAX as usize).ok_or(Errno::EINVAL)?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(n * 4).map_err(|_| Errno::ENOMEM)?;
    bytes.resize(n * 4, 0u8);
    copy_from_user(&mut bytes, list.addr()).map_err(|_| Errno::EFAULT)?;
    let mut groups = Vec::new();
    groups.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
    groups.extend(bytes.chunks_exact(4).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]])));
    groups.sort_unstable();
    current().set_groups(Arc::from(groups));
    Ok(())
}

crate::ktest!(cred_setuid_rules, {
    let tsk = current();
    let saved = tsk.cred();
    let result = (|| -> Result<(), &'static str> {
        crate::kassert!(sys_setresuid(1000, 1000, 0).is_ok(), "root sets anything");
        crate::kassert!(tsk.cred().fsuid == 1000, "fsuid follows euid");
        crate::kassert!(sys_setuid(0) == Ok(()) && tsk.cred().euid == 0, "back to saved 0");
        crate::kassert!(sys_setresuid(UNCHANGED, 1000, UNCHANGED).is_ok(), "drop euid");
        crate::kassert!(sys_setuid(4321) == Err(Errno::EPERM), "non-root cannot pick a new uid");
        crate::kassert!(sys_setuid(UNCHANGED) == Err(Errno::EINVAL), "-1 is EINVAL");
        Ok(())
    })();
    tsk.set_cred(saved);
    result
});

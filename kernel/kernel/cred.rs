//! User and group IDs: the `get*id`/`set*id` family.
//!
//! Linux: kernel/sys.c (`__sys_setuid`, `__sys_setreuid`,
//! `__sys_setresuid`, the gid twins, `getresuid`, `setfsuid`),
//! kernel/groups.c (`getgroups`, `setgroups`), include/linux/cred.h.
//!
//! A task has real, effective, saved and filesystem IDs (`Cred`). Root
//! (effective uid 0, standing for `CAP_SETUID`/`CAP_SETGID`) may set any
//! of them; anyone else may only shuffle the values it already has. The
//! filesystem ID follows the effective one. Supplementary groups are
//! always empty for now.
//!
//! # Locking
//! `Task::cred` is read and replaced whole under its own lock, so a
//! change is atomic; the rule check and the write happen under one hold.
#![deny(unsafe_code)]

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;
use crate::kernel::sched::task::Cred;
use crate::kernel::syscall::args::UserPtr;

/// `-1`: leave this ID as it is.
const UNCHANGED: u32 = u32::MAX;

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

/// getgroups(2): no supplementary groups yet.
pub fn sys_getgroups(size: i32, _list: UserPtr<u32>) -> KResult<i32> {
    if size < 0 { Err(Errno::EINVAL) } else { Ok(0) }
}

/// setgroups(2): root may set them (accepted and dropped for now).
pub fn sys_setgroups(size: i32, _list: UserPtr<u32>) -> KResult<()> {
    if !(0..=65536).contains(&size) {
        return Err(Errno::EINVAL);
    }
    if current().cred().euid != 0 {
        return Err(Errno::EPERM);
    }
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

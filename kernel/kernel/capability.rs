//! capget(2): the capability sets a process holds, as Ferrite's credential
//! model defines them.
//!
//! Linux: kernel/capability.c (`SYSCALL_DEFINE2(capget)`,
//! `cap_validate_magic`), security/commoncap.c (`cap_capget`),
//! include/uapi/linux/capability.h.
//!
//! Ferrite keeps no capability bit sets: a task with effective uid 0 holds
//! every capability and any other none (`cred::capable`). capget reports
//! exactly that, the way Linux's sets look for the same credentials without
//! file capabilities: effective = permitted = all capabilities up to
//! `CAP_LAST_CAP` when the effective uid is 0, permitted also while the
//! real or saved uid is 0 (a setuid program keeps root's permitted set),
//! inheritable empty. The bounding set (prctl `PR_CAPBSET_READ`) is full
//! and the ambient set empty, as for every process Linux starts.
//!
//! # Locking
//! None: a task's credentials are read as one snapshot (`Task::cred`).
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::pid::find_task_by_vpid;
use crate::kernel::sched::current;
use crate::kernel::syscall::args::UserPtr;

/// Every capability bit Linux 6.1 defines (0..=`CAP_LAST_CAP`).
const ALL_CAPS: u64 = (1u64 << (uapi::CAP_LAST_CAP + 1)) - 1;

/// The capability sets, 64 bits each (Linux: `kernel_cap_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

/// The sets credentials with these uids hold (see the header).
pub fn cap_sets(uid: u32, euid: u32, suid: u32) -> CapSets {
    let effective = if euid == 0 { ALL_CAPS } else { 0 };
    let permitted = if uid == 0 || euid == 0 || suid == 0 { ALL_CAPS } else { 0 };
    CapSets { effective, permitted, inheritable: 0 }
}

/// Whether `cap` is a capability this kernel knows (prctl
/// `PR_CAPBSET_READ`: `cap_valid`).
pub fn cap_valid(cap: u64) -> bool {
    cap <= u64::from(uapi::CAP_LAST_CAP)
}

/// capget(2): `header` is `{ version, pid }`, `data` two
/// `__user_cap_data_struct`s (`{ effective, permitted, inheritable }` for
/// the low and the high 32 capabilities). An unknown version is answered
/// with the one this kernel prefers, written back, and `EINVAL` (0 if
/// `data` is NULL: the caller only asked), as Linux's `cap_validate_magic`.
/// Versions 2 and 3 both have two data structs; version 1 has one.
pub fn sys_capget(header: UserPtr<[u32; 2]>, data: UserPtr<[u32; 6]>) -> KResult<i32> {
    let [version, pid] = header.read()?;
    let words = match version {
        uapi::_LINUX_CAPABILITY_VERSION_1 => 1,
        uapi::_LINUX_CAPABILITY_VERSION_2 | uapi::_LINUX_CAPABILITY_VERSION_3 => 2,
        _ => {
            header.write(&[uapi::_LINUX_CAPABILITY_VERSION_3, pid])?;
            return if data.is_null() { Ok(0) } else { Err(Errno::EINVAL) };
        }
    };
    let pid = pid.cast_signed();
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let task = if pid == 0 { current() } else { find_task_by_vpid(pid).ok_or(Errno::ESRCH)? };
    if data.is_null() {
        return Ok(0);
    }
    let cred = task.cred();
    let sets = cap_sets(cred.uid, cred.euid, cred.suid);
    let lo = |v: u64| u32::try_from(v & 0xffff_ffff).unwrap_or(0);
    let hi = |v: u64| u32::try_from(v >> 32).unwrap_or(0);
    let out = [
        lo(sets.effective),
        lo(sets.permitted),
        lo(sets.inheritable),
        hi(sets.effective),
        hi(sets.permitted),
        hi(sets.inheritable),
    ];
    if words == 1 {
        let first: UserPtr<[u32; 3]> = UserPtr::new(data.addr());
        first.write(&[out[0], out[1], out[2]])?;
    } else {
        data.write(&out)?;
    }
    Ok(0)
}

crate::ktest!(capget_sets, {
    let root = cap_sets(0, 0, 0);
    crate::kassert!(root.effective == ALL_CAPS && root.permitted == ALL_CAPS, "root has all");
    crate::kassert!(ALL_CAPS >> 32 == 0x1ff, "41 capabilities in 6.1 (CAP_LAST_CAP 40)");
    let user = cap_sets(1000, 1000, 1000);
    crate::kassert!(user.effective == 0 && user.permitted == 0, "a user has none");
    let setuid = cap_sets(1000, 1000, 0);
    crate::kassert!(
        setuid.effective == 0 && setuid.permitted == ALL_CAPS,
        "saved root keeps permitted"
    );
    crate::kassert!(cap_valid(40) && !cap_valid(41), "cap_valid");
    Ok(())
});

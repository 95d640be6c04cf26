//! What the three SysV IPC kinds share: keys, IDs, permissions and the
//! `ipc64_perm` user structure (Linux: ipc/util.c `ipcget`, `ipcperms`,
//! `ipc_addid`, `ipc_checkid`, `ipc_update_perm`, `ipcctl_obtain_check`;
//! include/uapi/asm-generic/ipcbuf.h).
//!
//! Each kind keeps its objects in an [`IpcIds`]: an IDR of slots, the
//! user-visible ID being `seq * SEQ_MULTIPLIER + slot`, `seq` advancing at
//! each allocation so a stale ID of a removed object is `EINVAL`, not the
//! next object in its slot.
//!
//! # Locking
//! Each `IpcIds` sits in its kind's `SpinLock` (`shm_ids`, `sem_ids`),
//! taken before an object's own state; no allocation, sleep or user copy
//! happens under it but the IDR's own node allocation.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use idr::Idr;

use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;

/// Linux: `IPC_PRIVATE`, `IPC_CREAT`, `IPC_EXCL`, `IPC_NOWAIT`.
pub const IPC_PRIVATE: i32 = 0;
pub const IPC_CREAT: i32 = 0o1000;
pub const IPC_EXCL: i32 = 0o2000;
pub const IPC_NOWAIT: i32 = 0o4000;
/// Linux: the `*ctl` commands every kind has, and the `IPC_64` flag libcs
/// add to them.
pub const IPC_RMID: i32 = 0;
pub const IPC_SET: i32 = 1;
pub const IPC_STAT: i32 = 2;
pub const IPC_64: i32 = 0x100;
/// Linux: `IPCMNI`, `SEQ_MULTIPLIER`.
pub const IPCMNI: u32 = 32_768;

/// Linux: `struct kern_ipc_perm`, less the lock and the RCU head.
#[derive(Clone, Copy, Debug)]
pub struct KernIpcPerm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub mode: u32,
    pub seq: u32,
    pub id: i32,
}

impl KernIpcPerm {
    /// A new object's permissions: owned and created by the caller.
    pub fn new(key: i32, mode: u32) -> Self {
        let cred = current().cred();
        Self {
            key,
            uid: cred.euid,
            gid: cred.egid,
            cuid: cred.euid,
            cgid: cred.egid,
            mode: mode & 0o777,
            seq: 0,
            id: -1,
        }
    }

    /// `struct ipc64_perm` (x86_64: 48 bytes) as six words.
    pub fn to_ipc64(self) -> [u64; 6] {
        let w = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
        [
            w(self.key.cast_unsigned(), self.uid),
            w(self.gid, self.cuid),
            w(self.cgid, self.mode & 0xffff),
            u64::from(self.seq & 0xffff),
            0,
            0,
        ]
    }

    /// Whether the caller owns or made the object, or is root (Linux:
    /// `ipcctl_obtain_check`'s test for IPC_SET and IPC_RMID).
    pub fn may_change(&self) -> bool {
        let euid = current().cred().euid;
        euid == self.uid || euid == self.cuid || capable(linux_raw_sys::general::CAP_SYS_ADMIN)
    }

    /// IPC_SET: the owner and the low nine mode bits from `ipc64_perm`
    /// (Linux: `ipc_update_perm`).
    pub fn update(&mut self, words: &[u64]) {
        let word = |i: usize| words.get(i).copied().unwrap_or(0);
        let hi = |w: u64| u32::try_from(w >> 32).unwrap_or(0);
        let lo = |w: u64| u32::try_from(w & 0xffff_ffff).unwrap_or(0);
        self.uid = hi(word(0));
        self.gid = lo(word(1));
        self.mode = (self.mode & !0o777) | (hi(word(2)) & 0o777);
    }
}

/// Linux: `ipcperms`: `EACCES` unless the caller's class (owner, group,
/// others) has the `flag` bits (0o400 read, 0o200 write), or it is root.
pub fn ipcperms(perm: &KernIpcPerm, flag: u32) -> KResult<()> {
    let task = current();
    let cred = task.cred();
    let requested = ((flag >> 6) | (flag >> 3) | flag) & 0o7;
    let mut granted = perm.mode;
    if cred.euid == perm.cuid || cred.euid == perm.uid {
        granted >>= 6;
    } else if cred.egid == perm.cgid || cred.egid == perm.gid || task.groups().contains(&perm.gid) {
        granted >>= 3;
    }
    if requested & !granted & 0o7 != 0 && !capable(linux_raw_sys::general::CAP_IPC_OWNER) {
        return Err(Errno::EACCES);
    }
    Ok(())
}

/// An object kind's registry (Linux: `struct ipc_ids`).
pub struct IpcIds<T> {
    idr: Idr<Arc<T>>,
    seq: u32,
}

/// What an object exposes to the registry.
pub trait IpcObject {
    fn perm(&self) -> KernIpcPerm;
    /// Records the ID it was given.
    fn set_id(&self, id: i32);
}

impl<T: IpcObject> IpcIds<T> {
    pub const fn new() -> Self {
        Self { idr: Idr::new(), seq: 0 }
    }

    /// Adds the object `make` builds for its `seq` and gives it its ID
    /// (Linux: `ipc_addid`); `ENOSPC` past `limit` objects.
    pub fn add(&mut self, make: impl FnOnce(u32) -> Arc<T>, limit: u32) -> KResult<Arc<T>> {
        if self.idr.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            return Err(Errno::ENOSPC);
        }
        let seq = self.seq;
        let obj = make(seq);
        let idx = self.idr.alloc(obj.clone(), 0, IPCMNI).map_err(|_| Errno::ENOSPC)?;
        let id = i32::try_from(seq * IPCMNI + idx).map_err(|_| Errno::ENOSPC)?;
        obj.set_id(id);
        self.seq = (self.seq + 1) % (i32::MAX.cast_unsigned() / IPCMNI);
        Ok(obj)
    }

    /// The object of `id`, `EINVAL` if there is none or it is stale
    /// (Linux: `ipc_obtain_object_check`).
    pub fn find(&self, id: i32) -> KResult<Arc<T>> {
        let id = u32::try_from(id).map_err(|_| Errno::EINVAL)?;
        let obj = self.idr.find(id % IPCMNI).ok_or(Errno::EINVAL)?;
        if obj.perm().seq != id / IPCMNI {
            return Err(Errno::EINVAL);
        }
        Ok(obj.clone())
    }

    /// The object with `key` (Linux: `ipc_findkey`).
    pub fn find_key(&self, key: i32) -> Option<Arc<T>> {
        self.all().into_iter().find(|o| o.perm().key == key)
    }

    /// Removes `id`'s object (Linux: `ipc_rmid`).
    pub fn remove(&mut self, id: i32) -> Option<Arc<T>> {
        let id = u32::try_from(id).ok()?;
        self.idr.remove(id % IPCMNI)
    }

    /// Every object, in slot order (for /proc/sysvipc).
    pub fn all(&self) -> alloc::vec::Vec<Arc<T>> {
        let mut out = alloc::vec::Vec::new();
        let mut left = self.idr.len();
        let mut idx = 0;
        while left > 0 && idx < IPCMNI {
            if let Some(o) = self.idr.find(idx) {
                if out.try_reserve(1).is_err() {
                    break;
                }
                out.push(o.clone());
                left -= 1;
            }
            idx += 1;
        }
        out
    }
}

/// Linux: `ipcget`: a new private object, or the one of `key` (made if
/// missing with `IPC_CREAT`; `EEXIST` with `IPC_EXCL`; `ENOENT` without
/// `IPC_CREAT`), checked by `check` and the `ipcperms` of `flag`'s mode.
pub fn ipcget<T: IpcObject>(
    ids: &mut IpcIds<T>,
    key: i32,
    flag: i32,
    create: impl FnOnce(&mut IpcIds<T>) -> KResult<Arc<T>>,
    check: impl FnOnce(&T) -> KResult<()>,
) -> KResult<Arc<T>> {
    if key == IPC_PRIVATE {
        return create(ids);
    }
    match ids.find_key(key) {
        None if flag & IPC_CREAT == 0 => Err(Errno::ENOENT),
        None => create(ids),
        Some(_) if flag & IPC_CREAT != 0 && flag & IPC_EXCL != 0 => Err(Errno::EEXIST),
        Some(obj) => {
            check(&obj)?;
            ipcperms(&obj.perm(), (flag & 0o777).cast_unsigned())?;
            Ok(obj)
        }
    }
}

/// The current time in seconds, for the `*_time` fields.
pub fn ipc_now() -> i64 {
    let ns = crate::kernel::time::posix::ktime_get_real_ns();
    i64::try_from(ns / crate::kernel::time::NSEC_PER_SEC).unwrap_or(i64::MAX)
}

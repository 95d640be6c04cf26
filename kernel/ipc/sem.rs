//! SysV semaphores: semget, semop, semtimedop, semctl (Linux: ipc/sem.c).
//!
//! A set's operations apply all together or not at all (Linux:
//! `perform_atomic_semop`): they are applied in order and rolled back at
//! the first that cannot go on. One that would block fails with `EAGAIN`
//! under `IPC_NOWAIT`; otherwise the caller sleeps on the set's queue
//! until the set changes (any successful change bumps `generation` and
//! wakes everyone; each sleeper retries), a signal comes (`EINTR`), the
//! timeout of semtimedop passes (`EAGAIN`) or the set is removed
//! (`EIDRM`).
//!
//! `SEM_UNDO` adjustments are kept per process (thread group) and set
//! (Linux: `struct sem_undo`), applied when the process's last thread
//! exits (`exit_sem`), clamped to 0..=SEMVMX as Linux does. A child of
//! fork starts with none. SETVAL and SETALL clear them.
//!
//! # Locking
//! `SEM_IDS`, then a set's `state`, then `SEM_UNDOS`; all spinlocks. Sleeps
//! happen with none held, on the set's `wait` queue.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general::__kernel_timespec;

use super::util::{
    IPC_64, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, IpcIds, IpcObject, KernIpcPerm, ipc_now,
    ipcget, ipcperms,
};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::current;
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::syscall::args::{UserPtr, UserSlice, UserSliceMut};
use crate::kernel::time::posix::timespec_to_ns;
use crate::kernel::time::{jiffies, tick::TICK_NSEC};

/// Linux's defaults: `SEMMSL`, `SEMMNS`, `SEMOPM`, `SEMMNI`, `SEMVMX`.
pub const SEMMSL: usize = 32_000;
pub const SEMMNS: u64 = 1_024_000_000;
pub const SEMOPM: usize = 500;
pub const SEMMNI: u32 = 32_000;
const SEMVMX: i32 = 32_767;
/// Linux: `SEM_UNDO`.
const SEM_UNDO: i16 = 0x1000;
/// Linux: the semctl commands.
const GETPID: i32 = 11;
const GETVAL: i32 = 12;
const GETALL: i32 = 13;
const GETNCNT: i32 = 14;
const GETZCNT: i32 = 15;
const SETVAL: i32 = 16;
const SETALL: i32 = 17;

/// One semaphore (Linux: `struct sem`), with its sleepers' counts.
#[derive(Clone, Copy, Default)]
struct Sem {
    val: i32,
    pid: i32,
    ncnt: u32,
    zcnt: u32,
}

struct SemState {
    perm: KernIpcPerm,
    sems: Vec<Sem>,
    otime: i64,
    ctime: i64,
    deleted: bool,
    generation: u64,
}

/// Linux: `struct sem_array`.
pub struct SemArray {
    state: SpinLock<SemState>,
    wait: WaitQueue,
    nsems: usize,
}

impl IpcObject for SemArray {
    fn perm(&self) -> KernIpcPerm {
        self.state.lock().perm
    }
    fn set_id(&self, id: i32) {
        self.state.lock().perm.id = id;
    }
}

/// A process's adjustments to one set (Linux: `struct sem_undo`).
struct SemUndo {
    tgid: i32,
    semid: i32,
    adj: Vec<i32>,
}

static SEM_IDS: SpinLock<IpcIds<SemArray>> = SpinLock::new(IpcIds::new());
static SEM_UNDOS: SpinLock<Vec<SemUndo>> = SpinLock::new(Vec::new());

/// Linux: `newary`.
fn newary(
    ids: &mut IpcIds<SemArray>,
    key: i32,
    nsems: usize,
    semflg: i32,
) -> KResult<Arc<SemArray>> {
    if nsems == 0 {
        return Err(Errno::EINVAL);
    }
    let mut sems = Vec::new();
    sems.try_reserve_exact(nsems).map_err(|_| Errno::ENOMEM)?;
    sems.resize(nsems, Sem::default());
    let perm = KernIpcPerm::new(key, semflg.cast_unsigned());
    let ctime = ipc_now();
    ids.add(
        |seq| {
            let perm = KernIpcPerm { seq, ..perm };
            let state = SemState { perm, sems, otime: 0, ctime, deleted: false, generation: 0 };
            Arc::new(SemArray { state: SpinLock::new(state), wait: WaitQueue::new(), nsems })
        },
        SEMMNI,
    )
}

/// semget(2).
pub fn sys_semget(key: i32, nsems: i32, semflg: i32) -> KResult<i32> {
    let nsems = usize::try_from(nsems).ok().filter(|&n| n <= SEMMSL).ok_or(Errno::EINVAL)?;
    let mut ids = SEM_IDS.lock();
    let sma = ipcget(
        &mut ids,
        key,
        semflg,
        |ids| newary(ids, key, nsems, semflg),
        |sma| if nsems > sma.nsems { Err(Errno::EINVAL) } else { Ok(()) },
    )?;
    Ok(sma.perm().id)
}

/// `struct sembuf`.
#[derive(Clone, Copy)]
struct SemBuf {
    num: usize,
    op: i32,
    flg: i16,
}

/// Why an operation set could not go on.
enum Blocked {
    /// Sleep until the set changes, counted on semaphore `num` as a
    /// waiter for zero (`zero`) or for an increase.
    Wait {
        num: usize,
        zero: bool,
        nowait: bool,
    },
    Fail(Errno),
}

/// Linux: `perform_atomic_semop`: all or nothing.
fn perform_atomic_semop(st: &mut SemState, sops: &[SemBuf]) -> Result<(), Blocked> {
    for (i, sop) in sops.iter().enumerate() {
        let Some(sem) = st.sems.get_mut(sop.num) else { return Err(Blocked::Fail(Errno::EFBIG)) };
        let new = sem.val + sop.op;
        let nowait = i32::from(sop.flg) & IPC_NOWAIT != 0;
        let blocked = if sop.op == 0 && sem.val != 0 {
            Some(Blocked::Wait { num: sop.num, zero: true, nowait })
        } else if new < 0 {
            Some(Blocked::Wait { num: sop.num, zero: false, nowait })
        } else if new > SEMVMX {
            Some(Blocked::Fail(Errno::ERANGE))
        } else {
            None
        };
        if let Some(blocked) = blocked {
            for undo in sops[..i].iter().rev() {
                if let Some(s) = st.sems.get_mut(undo.num) {
                    s.val -= undo.op;
                }
            }
            return Err(blocked);
        }
        sem.val = new;
    }
    let tgid = current().tgid;
    for sop in sops {
        if let Some(s) = st.sems.get_mut(sop.num) {
            s.pid = tgid;
        }
    }
    st.otime = ipc_now();
    Ok(())
}

/// Records the SEM_UNDO adjustments of a successful operation set.
fn record_undo(semid: i32, nsems: usize, sops: &[SemBuf]) -> KResult<()> {
    if !sops.iter().any(|s| s.flg & SEM_UNDO != 0) {
        return Ok(());
    }
    let tgid = current().tgid;
    let mut undos = SEM_UNDOS.lock();
    let idx = match undos.iter().position(|u| u.tgid == tgid && u.semid == semid) {
        Some(i) => i,
        None => {
            let mut adj = Vec::new();
            adj.try_reserve_exact(nsems).map_err(|_| Errno::ENOMEM)?;
            adj.resize(nsems, 0);
            undos.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            undos.push(SemUndo { tgid, semid, adj });
            undos.len() - 1
        }
    };
    for sop in sops.iter().filter(|s| s.flg & SEM_UNDO != 0) {
        if let Some(a) = undos[idx].adj.get_mut(sop.num) {
            *a = (*a - sop.op).clamp(-SEMVMX, SEMVMX);
        }
    }
    Ok(())
}

/// Reads the user's `struct sembuf` array (6 bytes each).
fn read_sops(tsops: UserPtr<u8>, nsops: usize) -> KResult<Vec<SemBuf>> {
    let bytes = UserSlice::new(tsops, nsops * 6)?.read_to_vec()?;
    let mut sops = Vec::new();
    sops.try_reserve_exact(nsops).map_err(|_| Errno::ENOMEM)?;
    for c in bytes.chunks_exact(6) {
        let num = usize::from(u16::from_ne_bytes([c[0], c[1]]));
        let op = i32::from(i16::from_ne_bytes([c[2], c[3]]));
        sops.push(SemBuf { num, op, flg: i16::from_ne_bytes([c[4], c[5]]) });
    }
    Ok(sops)
}

/// semop(2).
pub fn sys_semop(semid: i32, tsops: UserPtr<u8>, nsops: u32) -> KResult<i32> {
    do_semtimedop(semid, tsops, nsops, None)
}

/// semtimedop(2): a NULL timeout waits for ever.
pub fn sys_semtimedop(
    semid: i32,
    tsops: UserPtr<u8>,
    nsops: u32,
    timeout: UserPtr<__kernel_timespec>,
) -> KResult<i32> {
    let timeout_ns = if timeout.is_null() { None } else { Some(timeout.read()?) };
    do_semtimedop(semid, tsops, nsops, timeout_ns)
}

/// Linux: `do_semtimedop`.
fn do_semtimedop(
    semid: i32,
    tsops: UserPtr<u8>,
    nsops: u32,
    timeout: Option<__kernel_timespec>,
) -> KResult<i32> {
    let nsops = usize::try_from(nsops).map_err(|_| Errno::EINVAL)?;
    if nsops < 1 {
        return Err(Errno::EINVAL);
    }
    if nsops > SEMOPM {
        return Err(Errno::E2BIG);
    }
    let sops = read_sops(tsops, nsops)?;
    let deadline = match timeout {
        Some(ts) => Some(jiffies().saturating_add(timespec_to_ns(&ts)?.div_ceil(TICK_NSEC))),
        None => None,
    };
    let sma = SEM_IDS.lock().find(semid)?;
    let max = sops.iter().map(|s| s.num).max().unwrap_or(0);
    if max >= sma.nsems {
        return Err(Errno::EFBIG);
    }
    let alter = sops.iter().any(|s| s.op != 0);
    ipcperms(&sma.perm(), if alter { 0o200 } else { 0o400 })?;
    loop {
        let (num, zero, seen) = {
            let mut st = sma.state.lock();
            if st.deleted {
                return Err(Errno::EIDRM);
            }
            match perform_atomic_semop(&mut st, &sops) {
                Ok(()) => {
                    if alter {
                        st.generation += 1;
                    }
                    drop(st);
                    record_undo(semid, sma.nsems, &sops)?;
                    if alter {
                        sma.wait.wake_up_all();
                    }
                    return Ok(0);
                }
                Err(Blocked::Fail(e)) => return Err(e),
                Err(Blocked::Wait { nowait: true, .. }) => return Err(Errno::EAGAIN),
                Err(Blocked::Wait { num, zero, .. }) => {
                    if let Some(s) = st.sems.get_mut(num) {
                        if zero { s.zcnt += 1 } else { s.ncnt += 1 }
                    }
                    (num, zero, st.generation)
                }
            }
        };
        let changed = || {
            let st = sma.state.lock();
            st.deleted || st.generation != seen
        };
        let waited = match deadline {
            None => sma.wait.wait_event_interruptible(changed).map(|()| true),
            Some(end) => {
                let left = end.saturating_sub(jiffies());
                sma.wait.wait_event_interruptible_timeout(changed, left)
            }
        };
        if let Some(s) = sma.state.lock().sems.get_mut(num) {
            if zero { s.zcnt -= 1 } else { s.ncnt -= 1 }
        }
        match waited {
            Err(_) => return Err(Errno::EINTR),
            Ok(false) => return Err(Errno::EAGAIN),
            Ok(true) => {}
        }
    }
}

/// Drops the SEM_UNDO adjustments of semaphore `num` of `semid` (all of
/// them with `None`), or every record of `semid` when it is removed.
fn clear_undos(semid: i32, num: Option<usize>, removed: bool) {
    let mut undos = SEM_UNDOS.lock();
    if removed {
        undos.retain(|u| u.semid != semid);
        return;
    }
    for u in undos.iter_mut().filter(|u| u.semid == semid) {
        match num.and_then(|n| u.adj.get_mut(n)) {
            Some(a) => *a = 0,
            None if num.is_none() => u.adj.fill(0),
            None => {}
        }
    }
}

/// `struct semid64_ds` (x86_64: 104 bytes) as thirteen words.
fn semid64_ds(sma: &SemArray) -> [u64; 13] {
    let st = sma.state.lock();
    let p = st.perm.to_ipc64();
    [
        p[0],
        p[1],
        p[2],
        p[3],
        p[4],
        p[5],
        st.otime.cast_unsigned(),
        0,
        st.ctime.cast_unsigned(),
        0,
        u64::try_from(sma.nsems).unwrap_or(0),
        0,
        0,
    ]
}

/// semctl(2): `arg` is the union semun, passed by value.
pub fn sys_semctl(semid: i32, semnum: i32, cmd: i32, arg: u64) -> KResult<i32> {
    let sma = SEM_IDS.lock().find(semid)?;
    let cmd = cmd & !IPC_64;
    let num = || usize::try_from(semnum).ok().filter(|&n| n < sma.nsems).ok_or(Errno::EINVAL);
    let read_perm = || ipcperms(&sma.perm(), 0o400);
    let get = |f: fn(&Sem) -> i32| -> KResult<i32> {
        let n = num()?;
        read_perm()?;
        Ok(sma.state.lock().sems.get(n).map_or(0, f))
    };
    match cmd {
        GETVAL => get(|s| s.val),
        GETPID => get(|s| s.pid),
        GETNCNT => get(|s| i32::try_from(s.ncnt).unwrap_or(i32::MAX)),
        GETZCNT => get(|s| i32::try_from(s.zcnt).unwrap_or(i32::MAX)),
        SETVAL => {
            let n = num()?;
            // The union's `int val`: the low half of the register.
            let val =
                i32::from_ne_bytes(u32::try_from(arg & 0xffff_ffff).unwrap_or(0).to_ne_bytes());
            if !(0..=SEMVMX).contains(&val) {
                return Err(Errno::ERANGE);
            }
            ipcperms(&sma.perm(), 0o200)?;
            clear_undos(semid, Some(n), false);
            set_values(&sma, |sems| {
                if let Some(s) = sems.get_mut(n) {
                    s.val = val;
                    s.pid = current().tgid;
                }
            });
            Ok(0)
        }
        GETALL => {
            read_perm()?;
            let vals: Vec<u8> = sma
                .state
                .lock()
                .sems
                .iter()
                .flat_map(|s| u16::try_from(s.val).unwrap_or(0).to_ne_bytes())
                .collect();
            let ptr = UserPtr::new(crate::arch::uaccess::UserAddr::new(arg));
            UserSliceMut::new(ptr, vals.len())?.write(&vals)?;
            Ok(0)
        }
        SETALL => {
            let ptr = UserPtr::new(crate::arch::uaccess::UserAddr::new(arg));
            let bytes = UserSlice::new(ptr, sma.nsems * 2)?.read_to_vec()?;
            let vals: Vec<i32> = bytes
                .chunks_exact(2)
                .map(|c| i32::from(u16::from_ne_bytes([c[0], c[1]])))
                .collect();
            if vals.iter().any(|&v| v > SEMVMX) {
                return Err(Errno::ERANGE);
            }
            ipcperms(&sma.perm(), 0o200)?;
            clear_undos(semid, None, false);
            let tgid = current().tgid;
            set_values(&sma, |sems| {
                for (s, &v) in sems.iter_mut().zip(&vals) {
                    s.val = v;
                    s.pid = tgid;
                }
            });
            Ok(0)
        }
        IPC_STAT => {
            read_perm()?;
            UserPtr::<[u64; 13]>::new(crate::arch::uaccess::UserAddr::new(arg))
                .write(&semid64_ds(&sma))?;
            Ok(0)
        }
        IPC_SET => {
            let ds = UserPtr::<[u64; 13]>::new(crate::arch::uaccess::UserAddr::new(arg)).read()?;
            let mut st = sma.state.lock();
            if !st.perm.may_change() {
                return Err(Errno::EPERM);
            }
            st.perm.update(&ds[..6]);
            st.ctime = ipc_now();
            Ok(0)
        }
        IPC_RMID => {
            if !sma.perm().may_change() {
                return Err(Errno::EPERM);
            }
            SEM_IDS.lock().remove(semid);
            sma.state.lock().deleted = true;
            clear_undos(semid, None, true);
            sma.wait.wake_up_all();
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// Changes values under the set's lock and wakes its sleepers.
fn set_values(sma: &SemArray, f: impl FnOnce(&mut [Sem])) {
    let mut st = sma.state.lock();
    f(&mut st.sems);
    st.ctime = ipc_now();
    st.generation += 1;
    drop(st);
    sma.wait.wake_up_all();
}

/// Applies and drops the SEM_UNDO records of process `tgid` (Linux:
/// `exit_sem`); its last thread's exit calls it.
pub fn exit_sem(tgid: i32) {
    let mine: Vec<SemUndo> = {
        let mut undos = SEM_UNDOS.lock();
        if !undos.iter().any(|u| u.tgid == tgid) {
            return;
        }
        let (mine, rest): (Vec<_>, Vec<_>) =
            core::mem::take(&mut *undos).into_iter().partition(|u| u.tgid == tgid);
        *undos = rest;
        mine
    };
    for u in mine {
        let Ok(sma) = SEM_IDS.lock().find(u.semid) else { continue };
        set_values(&sma, |sems| {
            for (s, &a) in sems.iter_mut().zip(&u.adj) {
                if a != 0 {
                    s.val = (s.val + a).clamp(0, SEMVMX);
                    s.pid = tgid;
                }
            }
        });
    }
}

/// /proc/sysvipc/sem (Linux: `sysvipc_sem_proc_show`).
pub fn sysvipc_sem_show(m: &mut crate::fs::proc::generic::SeqBuf) -> KResult<()> {
    m.puts(
        b"       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n",
    )?;
    let sets = SEM_IDS.lock().all();
    for sma in sets {
        let st = sma.state.lock();
        let p = st.perm;
        m.printf(format_args!(
            "{:10} {:10}  {:4o} {:10} {:5} {:5} {:5} {:5} {:10} {:10}\n",
            p.key, p.id, p.mode, sma.nsems, p.uid, p.gid, p.cuid, p.cgid, st.otime, st.ctime
        ))?;
    }
    Ok(())
}

//! SysV message queues: msgget, msgsnd, msgrcv, msgctl (Linux: ipc/msg.c).
//!
//! A queue holds typed messages up to `msg_qbytes` bytes of text (and as
//! many messages). msgsnd waits for room, msgrcv for a message of the
//! wanted type: the first (type 0), the first of a type (or, with
//! `MSG_EXCEPT`, of any other), or the first of the lowest type not above
//! `-msgtyp`. A longer message than the buffer is `E2BIG` and stays,
//! unless `MSG_NOERROR` cuts it. Sleepers retry whenever the queue
//! changes (`generation`), and see `EINTR` on a signal, `EIDRM` when the
//! queue is removed. `MSG_COPY` is not supported (`EINVAL`).
//!
//! # Locking
//! `MSG_IDS`, then a queue's `state`: spinlocks, released before any
//! user copy or sleep (on the queue's `wait`).
#![deny(unsafe_code)]

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::util::{
    IPC_64, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, IpcIds, IpcObject, KernIpcPerm, ipc_now,
    ipcget, ipcperms,
};
use crate::arch::uaccess::UserAddr;
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::current;
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::syscall::args::{UserPtr, UserSlice, UserSliceMut};

/// Linux's defaults: `MSGMAX`, `MSGMNB`, `MSGMNI`.
pub const MSGMAX: usize = 8192;
pub const MSGMNB: u64 = 16_384;
pub const MSGMNI: u32 = 32_000;
/// Linux: `MSG_NOERROR`, `MSG_EXCEPT`, `MSG_COPY`.
const MSG_NOERROR: i32 = 0o10000;
const MSG_EXCEPT: i32 = 0o20000;
const MSG_COPY: i32 = 0o40000;

struct Msg {
    mtype: i64,
    text: Vec<u8>,
}

struct MsgState {
    perm: KernIpcPerm,
    messages: VecDeque<Msg>,
    cbytes: u64,
    qbytes: u64,
    stime: i64,
    rtime: i64,
    ctime: i64,
    lspid: i32,
    lrpid: i32,
    deleted: bool,
    generation: u64,
}

/// Linux: `struct msg_queue`.
pub struct MsgQueue {
    state: SpinLock<MsgState>,
    wait: WaitQueue,
}

impl IpcObject for MsgQueue {
    fn perm(&self) -> KernIpcPerm {
        self.state.lock().perm
    }
    fn set_id(&self, id: i32) {
        self.state.lock().perm.id = id;
    }
}

static MSG_IDS: SpinLock<IpcIds<MsgQueue>> = SpinLock::new(IpcIds::new());

/// msgget(2) (Linux: `newque` through `ipcget`).
pub fn sys_msgget(key: i32, msgflg: i32) -> KResult<i32> {
    let mut ids = MSG_IDS.lock();
    let create = |ids: &mut IpcIds<MsgQueue>| {
        let perm = KernIpcPerm::new(key, msgflg.cast_unsigned());
        let ctime = ipc_now();
        ids.add(
            |seq| {
                let state = MsgState {
                    perm: KernIpcPerm { seq, ..perm },
                    messages: VecDeque::new(),
                    cbytes: 0,
                    qbytes: MSGMNB,
                    stime: 0,
                    rtime: 0,
                    ctime,
                    lspid: 0,
                    lrpid: 0,
                    deleted: false,
                    generation: 0,
                };
                Arc::new(MsgQueue { state: SpinLock::new(state), wait: WaitQueue::new() })
            },
            MSGMNI,
        )
    };
    let q = ipcget(&mut ids, key, msgflg, create, |_| Ok(()))?;
    Ok(q.perm().id)
}

/// Sleeps until the queue changes from `seen`: `EINTR` on a signal.
fn wait_change(q: &MsgQueue, seen: u64) -> KResult<()> {
    q.wait
        .wait_event_interruptible(|| {
            let st = q.state.lock();
            st.deleted || st.generation != seen
        })
        .map_err(|_| Errno::EINTR)
}

/// msgsnd(2) (Linux: `do_msgsnd`).
pub fn sys_msgsnd(msqid: i32, msgp: UserPtr<i64>, msgsz: usize, msgflg: i32) -> KResult<i32> {
    if msgsz > MSGMAX || isize::try_from(msgsz).is_err() {
        return Err(Errno::EINVAL);
    }
    let mtype = msgp.read()?;
    if mtype < 1 {
        return Err(Errno::EINVAL);
    }
    let text_ptr = UserPtr::new(msgp.addr().checked_add(8).ok_or(Errno::EFAULT)?);
    let text = UserSlice::new(text_ptr, msgsz)?.read_to_vec()?;
    let q = MSG_IDS.lock().find(msqid)?;
    ipcperms(&q.perm(), 0o200)?;
    let size = text.len() as u64;
    let mut msg = Some(Msg { mtype, text });
    loop {
        let seen = {
            let mut st = q.state.lock();
            if st.deleted {
                return Err(Errno::EIDRM);
            }
            let fits = st.cbytes + size <= st.qbytes && (st.messages.len() as u64) < st.qbytes;
            if fits {
                st.messages.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                if let Some(m) = msg.take() {
                    st.messages.push_back(m);
                }
                st.cbytes += size;
                st.lspid = current().tgid;
                st.stime = ipc_now();
                st.generation += 1;
                drop(st);
                q.wait.wake_up_all();
                return Ok(0);
            }
            if msgflg & IPC_NOWAIT != 0 {
                return Err(Errno::EAGAIN);
            }
            st.generation
        };
        wait_change(&q, seen)?;
    }
}

/// Which message msgrcv takes (Linux: `find_msg` with `convert_mode`).
fn find_msg(messages: &VecDeque<Msg>, msgtyp: i64, msgflg: i32) -> Option<usize> {
    if msgtyp == 0 {
        return if messages.is_empty() { None } else { Some(0) };
    }
    if msgtyp > 0 {
        let except = msgflg & MSG_EXCEPT != 0;
        return messages.iter().position(|m| (m.mtype == msgtyp) != except);
    }
    let limit = msgtyp.checked_neg().unwrap_or(i64::MAX);
    let mut best: Option<(usize, i64)> = None;
    for (i, m) in messages.iter().enumerate() {
        if m.mtype <= limit && best.is_none_or(|(_, t)| m.mtype < t) {
            best = Some((i, m.mtype));
        }
    }
    best.map(|(i, _)| i)
}

/// msgrcv(2) (Linux: `do_msgrcv`): the bytes of text copied.
pub fn sys_msgrcv(
    msqid: i32,
    msgp: UserPtr<i64>,
    msgsz: i64,
    msgtyp: i64,
    msgflg: i32,
) -> KResult<usize> {
    let msgsz = usize::try_from(msgsz).map_err(|_| Errno::EINVAL)?;
    if msgflg & MSG_COPY != 0 {
        return Err(Errno::EINVAL);
    }
    let q = MSG_IDS.lock().find(msqid)?;
    ipcperms(&q.perm(), 0o400)?;
    let msg = loop {
        let seen = {
            let mut st = q.state.lock();
            if st.deleted {
                return Err(Errno::EIDRM);
            }
            if let Some(i) = find_msg(&st.messages, msgtyp, msgflg) {
                let len = st.messages.get(i).map_or(0, |m| m.text.len());
                if len > msgsz && msgflg & MSG_NOERROR == 0 {
                    return Err(Errno::E2BIG);
                }
                if let Some(m) = st.messages.remove(i) {
                    st.cbytes -= m.text.len() as u64;
                    st.lrpid = current().tgid;
                    st.rtime = ipc_now();
                    st.generation += 1;
                    drop(st);
                    q.wait.wake_up_all();
                    break m;
                }
            }
            if msgflg & IPC_NOWAIT != 0 {
                return Err(Errno::ENOMSG);
            }
            st.generation
        };
        wait_change(&q, seen)?;
    };
    let n = msg.text.len().min(msgsz);
    msgp.write(&msg.mtype)?;
    let text_ptr = UserPtr::new(msgp.addr().checked_add(8).ok_or(Errno::EFAULT)?);
    UserSliceMut::new(text_ptr, n)?.write(&msg.text[..n])?;
    Ok(n)
}

/// `struct msqid64_ds` (x86_64: 120 bytes) as fifteen words.
fn msqid64_ds(q: &MsgQueue) -> [u64; 15] {
    let st = q.state.lock();
    let p = st.perm.to_ipc64();
    let pids = u64::from(st.lspid.cast_unsigned()) | (u64::from(st.lrpid.cast_unsigned()) << 32);
    [
        p[0],
        p[1],
        p[2],
        p[3],
        p[4],
        p[5],
        st.stime.cast_unsigned(),
        st.rtime.cast_unsigned(),
        st.ctime.cast_unsigned(),
        st.cbytes,
        st.messages.len() as u64,
        st.qbytes,
        pids,
        0,
        0,
    ]
}

/// msgctl(2): IPC_STAT, IPC_SET, IPC_RMID.
pub fn sys_msgctl(msqid: i32, cmd: i32, buf: u64) -> KResult<i32> {
    let q = MSG_IDS.lock().find(msqid)?;
    let ptr = UserPtr::<[u64; 15]>::new(UserAddr::new(buf));
    match cmd & !IPC_64 {
        IPC_STAT => {
            ipcperms(&q.perm(), 0o400)?;
            ptr.write(&msqid64_ds(&q))?;
        }
        IPC_SET => {
            let ds = ptr.read()?;
            let mut st = q.state.lock();
            if !st.perm.may_change() {
                return Err(Errno::EPERM);
            }
            let qbytes = ds[11];
            if qbytes > MSGMNB && !capable(linux_raw_sys::general::CAP_SYS_RESOURCE) {
                return Err(Errno::EPERM);
            }
            st.perm.update(&ds[..6]);
            st.qbytes = qbytes;
            st.ctime = ipc_now();
            st.generation += 1;
            drop(st);
            q.wait.wake_up_all();
        }
        IPC_RMID => {
            if !q.perm().may_change() {
                return Err(Errno::EPERM);
            }
            MSG_IDS.lock().remove(msqid);
            let mut st = q.state.lock();
            st.deleted = true;
            st.messages.clear();
            drop(st);
            q.wait.wake_up_all();
        }
        _ => return Err(Errno::EINVAL),
    }
    Ok(0)
}

/// /proc/sysvipc/msg (Linux: `sysvipc_msg_proc_show`).
pub fn sysvipc_msg_show(m: &mut crate::fs::proc::generic::SeqBuf) -> KResult<()> {
    m.puts(
        b"       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      \
stime      rtime      ctime\n",
    )?;
    let queues = MSG_IDS.lock().all();
    for q in queues {
        let st = q.state.lock();
        let p = st.perm;
        m.printf(format_args!(
            "{:10} {:10}  {:4o}  {:10} {:10} {:5} {:5} {:5} {:5} {:5} {:5} {:10} {:10} {:10}\n",
            p.key,
            p.id,
            p.mode,
            st.cbytes,
            st.messages.len(),
            st.lspid,
            st.lrpid,
            p.uid,
            p.gid,
            p.cuid,
            p.cgid,
            st.stime,
            st.rtime,
            st.ctime
        ))?;
    }
    Ok(())
}

//! System V IPC: shared memory segments and semaphore sets named by keys
//! and IDs (Linux: ipc/).
//!
//! Linux: ipc/util.c (registry, permissions), ipc/shm.c, ipc/sem.c,
//! ipc/msg.c, ipc/ipc_sysctl.c (the limits in /proc/sys/kernel, read-only
//! here). Ferrite has one IPC namespace, the initial one.
//!
//! # Locking
//! See util.rs, shm.rs and sem.rs: per kind a registry spinlock taken
//! before an object's own.
#![deny(unsafe_code)]

pub mod msg;
pub mod sem;
pub mod shm;
pub mod util;

use crate::fs::proc::generic::{ProcEntry, ProcKind, SeqBuf};
use crate::kernel::errno::KResult;

/// /proc/sys/kernel/sem: SEMMSL, SEMMNS, SEMOPM, SEMMNI, tab-separated.
pub fn proc_sem_show(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("{}\t{}\t{}\t{}\n", sem::SEMMSL, sem::SEMMNS, sem::SEMOPM, sem::SEMMNI))
}

/// /proc/sys/kernel/shmmax, shmall, shmmni (read-only here).
pub fn proc_shmmax_show(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("{}\n", shm::SHMMAX.load(core::sync::atomic::Ordering::Relaxed)))
}

pub fn proc_shmall_show(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("{}\n", shm::SHMALL.load(core::sync::atomic::Ordering::Relaxed)))
}

pub fn proc_shmmni_show(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("{}\n", shm::SHMMNI))
}

/// /proc/sysvipc (Linux: ipc/util.c `ipc_init_proc_interface`).
pub static SYSVIPC_ENTRIES: &[ProcEntry] = &[
    ProcEntry { name: "msg", kind: ProcKind::Global(msg::sysvipc_msg_show) },
    ProcEntry { name: "sem", kind: ProcKind::Global(sem::sysvipc_sem_show) },
    ProcEntry { name: "shm", kind: ProcKind::Global(shm::sysvipc_shm_show) },
];

/// /proc/sys/kernel/msgmax, msgmnb, msgmni.
pub fn proc_msgmax_show(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("{}\n", msg::MSGMAX))
}

pub fn proc_msgmnb_show(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("{}\n", msg::MSGMNB))
}

pub fn proc_msgmni_show(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("{}\n", msg::MSGMNI))
}

//! /proc/PID/ns: one magic link per namespace of the process, reading
//! `NAME:[INUM]` and opening the namespace's nsfs file (Linux:
//! fs/proc/namespaces.c `proc_ns_get_link`, `proc_ns_readlink`,
//! `ns_entries`).
//!
//! Ferrite has the IPC (one, the initial), mount, PID and UTS namespaces;
//! `pid_for_children` is where the process's next child gets its PID.
//! Following or reading a link needs the right to inspect the process
//! (Linux: `ptrace_may_access(PTRACE_MODE_READ_FSCREDS)`): root or the
//! same user, else `EACCES`.
//!
//! # Locking
//! The task's `nsproxy` and `pid_ns_for_children` locks, each only to
//! clone an `Arc`.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::generic::{ProcEntry, ProcKind, render};
use crate::fs::namespace::Path;
use crate::fs::nsfs::{NsCommon, ns_get_path};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::nsproxy::task_nsproxy;
use crate::kernel::pid;
use crate::kernel::sched::{Task, current};

/// Which link of /proc/PID/ns (Linux: the `proc_ns_operations` of each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NsType {
    Ipc,
    Mnt,
    Pid,
    PidForChildren,
    Uts,
}

/// The entries of /proc/PID/ns, in Linux's order (Linux: `ns_entries`).
pub static NS_ENTRIES: &[ProcEntry] = &[
    ProcEntry { name: "ipc", kind: ProcKind::NsLink(NsType::Ipc) },
    ProcEntry { name: "mnt", kind: ProcKind::NsLink(NsType::Mnt) },
    ProcEntry { name: "pid", kind: ProcKind::NsLink(NsType::Pid) },
    ProcEntry { name: "pid_for_children", kind: ProcKind::NsLink(NsType::PidForChildren) },
    ProcEntry { name: "uts", kind: ProcKind::NsLink(NsType::Uts) },
];

/// Root or the process's owner may look (Linux: `ptrace_may_access`).
fn may_inspect(task: &Task) -> KResult<()> {
    let me = current().cred();
    if me.euid == 0 || me.euid == task.cred().euid { Ok(()) } else { Err(Errno::EACCES) }
}

/// The namespace `which` of `task` (Linux: `ns->ops->get(task)`):
/// `ENOENT` for an exited task's mount, UTS and IPC namespaces (Linux
/// drops its `nsproxy` in `do_exit`).
fn task_ns(task: &Task, which: NsType) -> KResult<NsCommon> {
    may_inspect(task)?;
    let pid_kind = matches!(which, NsType::Pid | NsType::PidForChildren);
    if !pid_kind && task.exit_state() != 0 {
        return Err(Errno::ENOENT);
    }
    Ok(match which {
        NsType::Ipc => NsCommon::Ipc,
        NsType::Mnt => NsCommon::Mnt(task_nsproxy(task).mnt_ns.clone()),
        NsType::Uts => NsCommon::Uts(task_nsproxy(task).uts_ns.clone()),
        NsType::Pid => NsCommon::Pid(pid::task_active_pid_ns(task)),
        NsType::PidForChildren => NsCommon::Pid(pid::pid_ns_for_children(task)),
    })
}

/// readlink: `mnt:[4026531840]` (Linux: `proc_ns_readlink` → `ns_get_name`).
pub fn proc_ns_get_link(task: &Arc<Task>, which: NsType) -> KResult<Vec<u8>> {
    let ns = task_ns(task, which)?;
    render(|m| m.printf(format_args!("{}:[{}]", ns.name(), ns.inum())))
}

/// Following the link: the namespace's nsfs file (Linux:
/// `proc_ns_get_link` → `ns_get_path` + `nd_jump_link`).
pub fn proc_ns_jump(task: &Arc<Task>, which: NsType) -> KResult<Option<Path>> {
    ns_get_path(task_ns(task, which)?).map(Some)
}

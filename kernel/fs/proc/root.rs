//! The /proc directory: the fixed files, `self`, and one directory per
//! process (Linux: fs/proc/root.c, the `proc_pid_lookup` and
//! `proc_pid_readdir` of fs/proc/base.c).
//!
//! A listing gives `.` and `..`, the fixed entries at offsets 2.., then the
//! processes in PID order at `TGID_OFFSET + tgid`, so a listing resumed
//! from any `d_off` goes on from the next PID whatever died meanwhile.
//!
//! # Locking
//! The process list is copied out under its lock (`for_each_process`).
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::generic::{
    ProcEntry, ProcKind, emit_dots_and_entries, fake_ino, itoa, lookup_entry, name_to_int,
    proc_inode,
};
use super::proc_pid_ns;
use super::{
    cpuinfo, devices, interrupts, meminfo, partitions, slabinfo, stat, uptime, version, vmstat,
};
use crate::fs::file_table::File;
use crate::fs::inode::{FileType, Inode};
use crate::fs::proc_namespace;
use crate::fs::readdir::DirContext;
use crate::kernel::errno::KResult;
use crate::kernel::pid::{
    PidNamespace, PidType, find_pid_ns, for_each_process, init_pid_ns, pid_nr_ns, task_pid,
};

/// The fixed entries of /proc (Linux: those `proc_create`d at boot).
static ROOT_ENTRIES: &[ProcEntry] = &[
    ProcEntry { name: "buddyinfo", kind: ProcKind::Global(vmstat::buddyinfo_show) },
    ProcEntry { name: "cmdline", kind: ProcKind::Global(version::cmdline_proc_show) },
    ProcEntry { name: "cpuinfo", kind: ProcKind::Global(cpuinfo::show_cpuinfo) },
    ProcEntry { name: "devices", kind: ProcKind::Global(devices::devinfo_show) },
    ProcEntry { name: "diskstats", kind: ProcKind::Global(partitions::diskstats_show) },
    ProcEntry {
        name: "filesystems",
        kind: ProcKind::Global(proc_namespace::filesystems_proc_show),
    },
    ProcEntry { name: "interrupts", kind: ProcKind::Global(interrupts::show_interrupts) },
    ProcEntry { name: "kmsg", kind: ProcKind::Fops(&super::kmsg::KMSG_OPS, 0o400) },
    ProcEntry { name: "loadavg", kind: ProcKind::Global(uptime::loadavg_proc_show) },
    ProcEntry { name: "meminfo", kind: ProcKind::Global(meminfo::meminfo_proc_show) },
    ProcEntry { name: "modules", kind: ProcKind::Global(crate::kernel::module::modules_proc_show) },
    ProcEntry { name: "mounts", kind: ProcKind::StaticLink("self/mounts") },
    ProcEntry { name: "net", kind: ProcKind::StaticDir(crate::net::proc::PROC_NET_ENTRIES) },
    ProcEntry { name: "pagetypeinfo", kind: ProcKind::Global(vmstat::pagetypeinfo_show) },
    ProcEntry { name: "partitions", kind: ProcKind::Global(partitions::show_partition) },
    ProcEntry { name: "sched_debug", kind: ProcKind::Global(super::sched_debug::sched_debug_show) },
    ProcEntry { name: "self", kind: ProcKind::SelfLink },
    ProcEntry { name: "slabinfo", kind: ProcKind::Global(slabinfo::slabinfo_show) },
    ProcEntry { name: "softirqs", kind: ProcKind::Global(super::softirqs::show_softirqs) },
    ProcEntry { name: "stat", kind: ProcKind::Global(stat::show_stat) },
    ProcEntry { name: "sys", kind: ProcKind::SysDir("") },
    ProcEntry { name: "sysvipc", kind: ProcKind::StaticDir(crate::ipc::SYSVIPC_ENTRIES) },
    ProcEntry { name: "uptime", kind: ProcKind::Global(uptime::uptime_proc_show) },
    ProcEntry { name: "version", kind: ProcKind::Global(version::version_proc_show) },
    ProcEntry { name: "vmstat", kind: ProcKind::Global(vmstat::vmstat_show) },
    ProcEntry { name: "zoneinfo", kind: ProcKind::Global(vmstat::zoneinfo_show) },
];

/// Where process entries start in a listing (Linux: `FIRST_PROCESS_ENTRY`
/// + 2).
const TGID_OFFSET: u64 = 258;

/// Finds a fixed entry or a process (Linux: `proc_root_lookup`).
pub fn proc_root_lookup(dir: &Inode, name: &[u8]) -> KResult<Option<Arc<Inode>>> {
    if let Some(inode) = lookup_entry(dir, None, ROOT_ENTRIES, name)? {
        return Ok(Some(inode));
    }
    let ns = proc_pid_ns(&dir.sb);
    let Some(pid) = name_to_int(name).and_then(|nr| find_pid_ns(nr, &ns)) else {
        return Ok(None);
    };
    if pid.pid_task(PidType::Pid).is_none() {
        return Ok(None);
    }
    proc_inode(dir.sb.clone(), ProcKind::PidDir, Some(pid)).map(Some)
}

/// The thread-group IDs of the live processes as `ns` numbers them,
/// ascending; processes outside `ns` are left out (Linux: `next_tgid`'s
/// walk of `ns`'s IDR).
pub fn tgids_ns(ns: &PidNamespace) -> Vec<i32> {
    let mut tgids = Vec::new();
    for_each_process(|t| {
        let pid = task_pid(t);
        if t.tgid > 0 && pid.pid_task(PidType::Pid).is_some() {
            let nr = pid_nr_ns(pid, ns);
            if nr > 0 && tgids.try_reserve(1).is_ok() {
                tgids.push(nr);
            }
        }
    });
    tgids.sort_unstable();
    tgids
}

/// The initial namespace's view, for the system-wide counters.
pub fn tgids() -> Vec<i32> {
    tgids_ns(init_pid_ns())
}

/// Lists /proc (Linux: `proc_root_readdir` → `proc_pid_readdir`).
pub fn proc_root_readdir(file: &File, ctx: &mut DirContext<'_>) -> KResult<()> {
    if !emit_dots_and_entries(file, ctx, ROOT_ENTRIES) {
        return Ok(());
    }
    ctx.pos = ctx.pos.max(TGID_OFFSET);
    let dir = FileType::Directory.dtype();
    for tgid in tgids_ns(&proc_pid_ns(&file.f_inode.sb)) {
        let pos = TGID_OFFSET + u64::from(tgid.unsigned_abs());
        if pos < ctx.pos {
            continue;
        }
        if !ctx.emit(&itoa(tgid)?, fake_ino(pos), dir, pos + 1) {
            break;
        }
    }
    Ok(())
}

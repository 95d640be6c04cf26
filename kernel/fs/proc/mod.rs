//! procfs: processes and kernel state as files (Linux: fs/proc/).
//!
//! Nothing here is stored: every inode is made at lookup from what it
//! stands for (a [`ProcKind`](generic::ProcKind) and, below /proc/PID, the
//! process's `Pid`), and every file is rendered when it is read, into a
//! buffer that later reads at higher offsets are served from (Linux's
//! `seq_file`). The root lists the fixed files and one directory per live
//! process ([`root`]); a process's directory holds `stat`, `status`,
//! `cmdline`, `maps`, the `fd/` links... ([`base`], [`array`], [`fd`],
//! [`task_mmu`]). Cached dentries of a process that is gone are refused by
//! `d_revalidate` and dropped (Linux: `pid_revalidate`).
//!
//! Each mount shows the PID namespace of the task that mounted it (Linux:
//! `proc_fs_info->pid_ns`): only that namespace's processes, by their
//! numbers there, and /proc/self and the IDs in `stat` and `status` as
//! that namespace numbers them. Renderers find it in their [`SeqBuf`](generic::SeqBuf).
//!
//! Submodules by Linux file: `root` (root.c), `generic` (generic.c,
//! seq_file.c), `base` (base.c, with wchan and stack), `array` (array.c),
//! `fd` (fd.c), `task_mmu` (task_mmu.c: maps; `task_smaps` its smaps and
//! smaps_rollup), `task_sched` (kernel/sched/debug.c: /proc/PID/sched),
//! `sched_debug` (kernel/sched/debug.c: /proc/sched_debug), `meminfo`,
//! `stat`, `uptime` (with loadavg), `version` (with cmdline),
//! `interrupts`, `softirqs`, `cpuinfo` (arch/x86 proc.c), `devices`,
//! `slabinfo` (mm/slab_common.c), `vmstat` (mm/vmstat.c: buddyinfo,
//! pagetypeinfo, vmstat, zoneinfo), `proc_sysctl` (/proc/sys);
//! /proc/mounts and /proc/filesystems are in fs/proc_namespace.rs.
//!
//! # Locking
//! No lock of its own: renderers take the locks of what they read (task,
//! mm, fd table, mount list) one at a time, never two task locks at once.
#![deny(unsafe_code)]

pub mod array;
pub mod base;
pub mod cpuinfo;
pub mod devices;
pub mod fd;
pub mod generic;
pub mod interrupts;
pub mod kmsg;
pub mod meminfo;
pub mod namespaces;
pub mod partitions;
pub mod proc_sysctl;
pub mod root;
pub mod sched_debug;
pub mod slabinfo;
pub mod softirqs;
pub mod stat;
pub mod task_mmu;
pub mod task_sched;
pub mod task_smaps;
mod tests;
pub mod uptime;
pub mod version;
pub mod vmstat;

use alloc::boxed::Box;
use alloc::sync::Arc;

use super::dcache::Dentry;
use super::inode::Inode;
use super::super_block::{FileSystemType, SuperBlock, register_filesystem};
use crate::kernel::errno::KResult;
use crate::kernel::pid::{PidNamespace, init_pid_ns, task_active_pid_ns};
use generic::{ProcKind, proc_inode, proc_revalidate};

/// Linux: `PROC_SUPER_MAGIC`.
pub const PROC_SUPER_MAGIC: u64 = 0x9fa0;

/// The "proc" file-system type (Linux: `proc_fs_type`).
pub struct ProcFs;

pub static PROC_FS: ProcFs = ProcFs;

impl FileSystemType for ProcFs {
    fn name(&self) -> &'static str {
        "proc"
    }

    /// A fresh instance showing the mounter's PID namespace (Linux:
    /// `proc_fill_super` keeps `task_active_pid_ns(current)`).
    fn mount(&'static self, _source: &[u8], _data: &[u8], _sb_flags: u32) -> KResult<Arc<Inode>> {
        let pid_ns = task_active_pid_ns(&crate::kernel::sched::current());
        let sb = SuperBlock::new_anon(self, PROC_SUPER_MAGIC, Box::new(ProcFsInfo { pid_ns }));
        proc_inode(sb, ProcKind::Root, None)
    }

    fn d_revalidate(&self, dentry: &Dentry) -> bool {
        proc_revalidate(dentry)
    }
}

/// A procfs instance's own data (Linux: `struct proc_fs_info`).
pub struct ProcFsInfo {
    /// Whose processes it lists and how it numbers them.
    pub pid_ns: Arc<PidNamespace>,
}

/// The PID namespace a procfs instance shows (Linux: `proc_pid_ns`).
pub fn proc_pid_ns(sb: &SuperBlock) -> Arc<PidNamespace> {
    match sb.s_fs_info.downcast_ref::<ProcFsInfo>() {
        Some(info) => info.pid_ns.clone(),
        None => init_pid_ns().clone(),
    }
}

/// Registers procfs and keeps the command line for /proc/cmdline (Linux:
/// `proc_root_init`; `saved_command_line` is set by `setup_arch`).
pub fn proc_root_init(cmdline: &'static str) -> KResult<()> {
    version::set_saved_command_line(cmdline);
    register_filesystem(&PROC_FS)
}

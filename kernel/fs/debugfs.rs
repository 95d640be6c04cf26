//! debugfs: kernel internals for debugging, mounted at /sys/kernel/debug
//! (Linux: fs/debugfs/inode.c; the files are created by the subsystems
//! they show, kernel/sched/debug.c `sched_init_debug` and others).
//!
//! A fixed tree built at mount with sysfs's kernfs builder and served by
//! sysfs's inode and file operations (the same text-attribute rules), so
//! this file only says what is in it:
//! - `sched/debug`: the run queues and their tasks, where Linux 6.1 keeps
//!   them (fs/proc/sched_debug.rs renders it; /proc/sched_debug shows the
//!   same text at its pre-5.13 place);
//! - `pid_idr`: each PID namespace's ID allocator. Linux has no such file
//!   (its IDR is inspected with a debugger); Ferrite shows the course
//!   notes' radix tree here: per namespace its level, its inode number
//!   (what /proc/PID/ns/pid shows as `pid:[N]`), its init (as the initial
//!   namespace numbers it), `pid_max`, the PIDs allocated, the last one
//!   handed out (the cyclic cursor less one), and the tree's layers,
//!   nodes and leaves, with how full the leaves' 64 slots are. Namespaces
//!   are found through the live tasks' PIDs: a namespace no task is left
//!   in has no PIDs to show.
//!
//! # Locking
//! A mount's tree is immutable (as sysfs's). `pid_idr` takes the process
//! list (copied out), then each namespace's IDR lock, one at a time.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::inode::Inode;
use super::proc::generic::SeqBuf;
use super::super_block::{FileSystemType, SuperBlock, register_filesystem};
use super::sysfs::kernfs::KernfsBuilder;
use super::sysfs::sysfs_inode;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::pid::{PidNamespace, for_each_process, pid_nr_ns, task_pid};

/// Linux: `DEBUGFS_MAGIC`.
pub const DEBUGFS_MAGIC: u64 = 0x6462_6720;

/// The "debugfs" file-system type (Linux: `debug_fs_type`).
pub struct Debugfs;
pub static DEBUGFS: Debugfs = Debugfs;

impl FileSystemType for Debugfs {
    fn name(&self) -> &'static str {
        "debugfs"
    }

    fn mount(&'static self, _source: &[u8], _data: &[u8], _sb_flags: u32) -> KResult<Arc<Inode>> {
        let mut b = KernfsBuilder::new();
        b.mkdir("sched")?;
        b.attr("sched", "debug", super::proc::sched_debug::sched_debug_show)?;
        b.attr("", "pid_idr", pid_idr_show)?;
        let sb = SuperBlock::new_anon(self, DEBUGFS_MAGIC, Box::new(()));
        sysfs_inode(sb, b.finish())
    }
}

/// Registers debugfs (Linux: `debugfs_init`).
pub fn debugfs_init() -> KResult<()> {
    register_filesystem(&DEBUGFS)
}

/// Every PID namespace some live task has a number in, by level.
fn pid_namespaces() -> KResult<Vec<Arc<PidNamespace>>> {
    let mut all: Vec<Arc<PidNamespace>> = Vec::new();
    let mut failed = false;
    for_each_process(|task| {
        for upid in task_pid(task).numbers() {
            if all.iter().any(|ns| Arc::ptr_eq(ns, &upid.ns)) {
                continue;
            }
            if all.try_reserve(1).is_err() {
                failed = true;
                return;
            }
            all.push(upid.ns.clone());
        }
    });
    if failed {
        return Err(Errno::ENOMEM);
    }
    all.sort_by_key(|ns| ns.level);
    Ok(all)
}

/// /sys/kernel/debug/pid_idr (see the module header).
pub fn pid_idr_show(m: &mut SeqBuf) -> KResult<()> {
    let init = crate::kernel::pid::init_pid_ns();
    m.puts(
        b"level       inode  init  pid_max  allocated   last  layers  inner  leaves  slots  occupancy\n",
    )?;
    for ns in pid_namespaces()? {
        let (allocated, cursor, shape) = ns.idr_stats();
        let reaper = ns.child_reaper().map_or(0, |t| pid_nr_ns(task_pid(&t), init));
        let slots = shape.leaves * idr::IDR_SIZE;
        let permille = (allocated * 1000).checked_div(slots).unwrap_or(0);
        m.printf(format_args!(
            "{:>5} {:>11} {reaper:>5} {:>8} {allocated:>10} {:>6} {:>7} {:>6} {:>7} {slots:>6} {:>8}.{}%\n",
            ns.level,
            ns.ns_inum,
            ns.pid_max(),
            cursor.saturating_sub(1),
            shape.layers,
            shape.inner_nodes,
            shape.leaves,
            permille / 10,
            permille % 10,
        ))?;
    }
    Ok(())
}

crate::ktest!(debugfs_pid_idr_counts_init_ns, {
    let text = super::proc::generic::render(pid_idr_show).map_err(|_| "render")?;
    let text = core::str::from_utf8(&text).map_err(|_| "rendered text is UTF-8")?;
    let line = text.lines().nth(1).ok_or("a line for the initial namespace")?;
    let cols: Vec<&str> = line.split_whitespace().collect();
    crate::kassert!(cols.len() == 11 && cols[0] == "0", "level 0 first, eleven columns");
    crate::kassert!(cols[1] == "4026531836", "the initial namespace's inode (PROC_PID_INIT_INO)");
    crate::kassert!(cols[3] == "32768", "pid_max");
    let allocated: usize = cols[4].parse().map_err(|_| "allocated is a number")?;
    let nr = crate::kernel::pid::init_pid_ns().nr_allocated();
    crate::kassert!(allocated > 0 && allocated.abs_diff(nr) <= 2, "allocated matches the IDR");
    Ok(())
});

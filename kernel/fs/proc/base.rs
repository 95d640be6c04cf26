//! /proc/PID: a process's directory and its small files and links
//! (Linux: fs/proc/base.c: `tgid_base_stuff`, `proc_pid_cmdline_read`,
//! `comm_show`, `proc_cwd_link`, `proc_root_link`).
//!
//! The bigger renderers live in `array` (stat, status), `task_mmu` (maps)
//! and `fd` (the fd directory); /proc/PID/mounts in fs/proc_namespace.rs.
//!
//! # Locking
//! Each renderer takes the task's `mm`, `fs` or `comm` lock just long
//! enough to clone what it needs; the argument area is read through the
//! mm (`read_remote`) with no lock held.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::generic::{ProcEntry, ProcInode, ProcKind, SeqBuf, emit_dots_and_entries, lookup_entry};
use super::{array, task_mmu};
use crate::fs::current_fs;
use crate::fs::d_path::d_path;
use crate::fs::file_table::File;
use crate::fs::inode::Inode;
use crate::fs::namespace::Path;
use crate::fs::proc_namespace;
use crate::fs::readdir::DirContext;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::Task;
use crate::kernel::sched::task::comm_str;
use crate::mm::slab_common::kzalloc;

/// The entries of /proc/PID (Linux: `tgid_base_stuff`, the part Ferrite has).
static PID_ENTRIES: &[ProcEntry] = &[
    ProcEntry { name: "fd", kind: ProcKind::FdDir },
    ProcEntry { name: "cmdline", kind: ProcKind::PidFile(proc_pid_cmdline) },
    ProcEntry { name: "comm", kind: ProcKind::PidFile(comm_show) },
    ProcEntry { name: "cwd", kind: ProcKind::PidLink(proc_cwd_link) },
    ProcEntry { name: "maps", kind: ProcKind::PidFile(task_mmu::show_maps) },
    ProcEntry { name: "mounts", kind: ProcKind::PidFile(proc_namespace::show_mounts) },
    ProcEntry { name: "root", kind: ProcKind::PidLink(proc_root_link) },
    ProcEntry { name: "stat", kind: ProcKind::PidFile(array::proc_tgid_stat) },
    ProcEntry { name: "status", kind: ProcKind::PidFile(array::proc_pid_status) },
];

/// Linux: `proc_tgid_base_lookup`.
pub fn proc_pid_lookup(dir: &Inode, pi: &ProcInode, name: &[u8]) -> KResult<Option<Arc<Inode>>> {
    pi.task().map_err(|_| Errno::ENOENT)?;
    lookup_entry(dir, pi.pid.clone(), PID_ENTRIES, name)
}

/// Linux: `proc_tgid_base_readdir`.
pub fn proc_pid_readdir(file: &File, pi: &ProcInode, ctx: &mut DirContext<'_>) -> KResult<()> {
    pi.task().map_err(|_| Errno::ENOENT)?;
    emit_dots_and_entries(file, ctx, PID_ENTRIES);
    Ok(())
}

/// Longest argument area /proc/PID/cmdline shows (Linux reads it all, a
/// page at a time; the exec limits keep it far below this).
const CMDLINE_MAX: u64 = 256 << 10;

/// The argument strings, NUL-separated as they lie in the process's
/// memory; empty for a kernel thread or a process that has not exec'd
/// (Linux: `get_mm_cmdline`, without its setproctitle special case).
fn proc_pid_cmdline(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    let Some(mm) = task.mm.lock().clone() else { return Ok(()) };
    let (start, end) = {
        let layout = mm.mmap_read();
        (layout.arg_start, layout.arg_end)
    };
    let len = end.saturating_sub(start).min(CMDLINE_MAX);
    let len = usize::try_from(len).map_err(|_| Errno::EINVAL)?;
    let mut buf = kzalloc(len)?;
    if len > 0 && mm.read_remote(start, &mut buf).is_err() {
        return Ok(());
    }
    m.puts(&buf)
}

/// Linux: `comm_show`.
fn comm_show(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("{}\n", comm_str(&task.comm())))
}

/// The root paths are shown relative to: the reader's (Linux: `d_path`
/// uses `current->fs->root`), or the task's own when the reader has none.
pub fn reader_root(task: &Task) -> KResult<Path> {
    if let Ok(cur) = current_fs() {
        return Ok(cur.ctx().fs.root());
    }
    task.fs.lock().as_ref().map(|fs| fs.root()).ok_or(Errno::ENOENT)
}

/// Linux: `proc_cwd_link`.
fn proc_cwd_link(task: &Arc<Task>) -> KResult<Vec<u8>> {
    let pwd = task.fs.lock().as_ref().map(|fs| fs.pwd()).ok_or(Errno::ENOENT)?;
    d_path(&pwd, &reader_root(task)?)
}

/// Linux: `proc_root_link`.
fn proc_root_link(task: &Arc<Task>) -> KResult<Vec<u8>> {
    let root = task.fs.lock().as_ref().map(|fs| fs.root()).ok_or(Errno::ENOENT)?;
    d_path(&root, &reader_root(task)?)
}

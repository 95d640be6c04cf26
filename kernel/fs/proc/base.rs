//! /proc/PID: a process's directory and its small files and links, and
//! /proc/PID/task/TID, a thread's (Linux: fs/proc/base.c: `tgid_base_stuff`,
//! `tid_base_stuff`, `proc_task_readdir`, `proc_pid_cmdline_read`,
//! `environ_read`, `comm_show`, `proc_cwd_link`, `proc_root_link`,
//! `proc_exe_link`).
//!
//! The bigger renderers live in `array` (stat, status), `task_mmu` (maps),
//! `task_smaps` (smaps, smaps_rollup), `task_sched` (sched) and `fd` (the
//! fd directory); /proc/PID/mounts in fs/proc_namespace.rs. `wchan` and
//! `stack` unwind the task's kernel stack (arch stacktrace.rs); `wchan`
//! names the first function outside the scheduler, sleeping locks and
//! `schedule_timeout` (Linux's `__sched` functions), by its last path
//! segment, as Linux prints a C function's name.
//!
//! # Locking
//! Each renderer takes the task's `mm`, `fs` or `comm` lock just long
//! enough to clone what it needs; the argument area is read through the
//! mm (`read_remote`) with no lock held.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::generic::{
    ProcEntry, ProcInode, ProcKind, SeqBuf, emit_dots_and_entries, fake_ino, itoa, lookup_entry,
    name_to_int, proc_inode,
};
use super::{array, task_mmu, task_sched, task_smaps};
use crate::fs::current_fs;
use crate::fs::d_path::d_path;
use crate::fs::file_table::File;
use crate::fs::inode::Inode;
use crate::fs::namespace::Path;
use crate::fs::proc_namespace;
use crate::fs::readdir::DirContext;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::pid::{self, PidNamespace};
use crate::kernel::sched::Task;
use crate::kernel::sched::task::comm_str;
use crate::mm::mm_types::MmLayout;
use crate::mm::slab_common::kzalloc;

/// The entries of /proc/PID (Linux: `tgid_base_stuff`, the part Ferrite
/// has, in its order).
static PID_ENTRIES: &[ProcEntry] = &[
    ProcEntry { name: "task", kind: ProcKind::TaskDir },
    ProcEntry { name: "fd", kind: ProcKind::FdDir },
    ProcEntry { name: "fdinfo", kind: ProcKind::FdInfoDir },
    ProcEntry { name: "environ", kind: ProcKind::PidFileOwner(proc_pid_environ) },
    ProcEntry { name: "status", kind: ProcKind::PidFile(array::proc_pid_status) },
    ProcEntry { name: "comm", kind: ProcKind::PidFile(comm_show) },
    ProcEntry { name: "cmdline", kind: ProcKind::PidFile(proc_pid_cmdline) },
    ProcEntry { name: "stat", kind: ProcKind::PidFile(array::proc_tgid_stat) },
    ProcEntry { name: "statm", kind: ProcKind::PidFile(array::proc_pid_statm) },
    ProcEntry { name: "maps", kind: ProcKind::PidFile(task_mmu::show_maps) },
    ProcEntry { name: "smaps", kind: ProcKind::PidFile(task_smaps::show_smaps) },
    ProcEntry { name: "smaps_rollup", kind: ProcKind::PidFile(task_smaps::show_smaps_rollup) },
    ProcEntry { name: "sched", kind: ProcKind::PidFile(task_sched::proc_sched_show_task) },
    ProcEntry { name: "wchan", kind: ProcKind::PidFile(proc_pid_wchan) },
    ProcEntry { name: "stack", kind: ProcKind::PidFileOwner(proc_pid_stack) },
    ProcEntry { name: "cwd", kind: ProcKind::PidLink(proc_cwd_link) },
    ProcEntry { name: "root", kind: ProcKind::PidLink(proc_root_link) },
    ProcEntry { name: "exe", kind: ProcKind::PidLink(proc_exe_link) },
    ProcEntry { name: "mounts", kind: ProcKind::PidFile(proc_namespace::show_mounts) },
    ProcEntry { name: "mountinfo", kind: ProcKind::PidFile(proc_namespace::show_mountinfo) },
    ProcEntry { name: "ns", kind: ProcKind::StaticDir(super::namespaces::NS_ENTRIES) },
];

/// The entries of /proc/PID/task/TID (Linux: `tid_base_stuff`): the same
/// files about one thread; `stat` gives the thread's own ID and times.
static TID_ENTRIES: &[ProcEntry] = &[
    ProcEntry { name: "fd", kind: ProcKind::FdDir },
    ProcEntry { name: "fdinfo", kind: ProcKind::FdInfoDir },
    ProcEntry { name: "environ", kind: ProcKind::PidFileOwner(proc_pid_environ) },
    ProcEntry { name: "status", kind: ProcKind::PidFile(array::proc_pid_status) },
    ProcEntry { name: "comm", kind: ProcKind::PidFile(comm_show) },
    ProcEntry { name: "cmdline", kind: ProcKind::PidFile(proc_pid_cmdline) },
    ProcEntry { name: "stat", kind: ProcKind::PidFile(array::proc_tid_stat) },
    ProcEntry { name: "statm", kind: ProcKind::PidFile(array::proc_pid_statm) },
    ProcEntry { name: "maps", kind: ProcKind::PidFile(task_mmu::show_maps) },
    ProcEntry { name: "smaps", kind: ProcKind::PidFile(task_smaps::show_smaps) },
    ProcEntry { name: "smaps_rollup", kind: ProcKind::PidFile(task_smaps::show_smaps_rollup) },
    ProcEntry { name: "sched", kind: ProcKind::PidFile(task_sched::proc_sched_show_task) },
    ProcEntry { name: "wchan", kind: ProcKind::PidFile(proc_pid_wchan) },
    ProcEntry { name: "stack", kind: ProcKind::PidFileOwner(proc_pid_stack) },
    ProcEntry { name: "cwd", kind: ProcKind::PidLink(proc_cwd_link) },
    ProcEntry { name: "root", kind: ProcKind::PidLink(proc_root_link) },
    ProcEntry { name: "exe", kind: ProcKind::PidLink(proc_exe_link) },
    ProcEntry { name: "mounts", kind: ProcKind::PidFile(proc_namespace::show_mounts) },
    ProcEntry { name: "mountinfo", kind: ProcKind::PidFile(proc_namespace::show_mountinfo) },
    ProcEntry { name: "ns", kind: ProcKind::StaticDir(super::namespaces::NS_ENTRIES) },
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

/// Linux: `proc_tid_base_lookup`.
pub fn proc_tid_lookup(dir: &Inode, pi: &ProcInode, name: &[u8]) -> KResult<Option<Arc<Inode>>> {
    pi.task().map_err(|_| Errno::ENOENT)?;
    lookup_entry(dir, pi.pid.clone(), TID_ENTRIES, name)
}

/// Linux: `proc_tid_base_readdir`.
pub fn proc_tid_readdir(file: &File, pi: &ProcInode, ctx: &mut DirContext<'_>) -> KResult<()> {
    pi.task().map_err(|_| Errno::ENOENT)?;
    emit_dots_and_entries(file, ctx, TID_ENTRIES);
    Ok(())
}

/// The threads of the process, each with its ID as this procfs numbers
/// it, ascending; threads outside its namespace are left out.
fn thread_ids(task: &Arc<Task>, ns: &PidNamespace) -> Vec<(i32, Arc<Task>)> {
    let mut ids: Vec<(i32, Arc<Task>)> = task
        .threads()
        .into_iter()
        .map(|t| (pid::pid_nr_ns(pid::task_pid(&t), ns), t))
        .filter(|(nr, _)| *nr > 0)
        .collect();
    ids.sort_unstable_by_key(|(nr, _)| *nr);
    ids
}

/// Finds a thread of the process (Linux: `proc_task_lookup`: the TID must
/// name a thread of this group).
pub fn proc_task_lookup(dir: &Inode, pi: &ProcInode, name: &[u8]) -> KResult<Option<Arc<Inode>>> {
    let leader = pi.task().map_err(|_| Errno::ENOENT)?;
    let ns = super::proc_pid_ns(&dir.sb);
    let Some(tid) = name_to_int(name) else { return Ok(None) };
    let Some((_, thread)) = thread_ids(&leader, &ns).into_iter().find(|(nr, _)| *nr == tid) else {
        return Ok(None);
    };
    let pid = pid::task_pid(&thread).clone();
    proc_inode(dir.sb.clone(), ProcKind::TidDir, Some(pid)).map(Some)
}

/// Lists the threads: TID N at offset N + 2, as fd/ does with
/// descriptors, so a listing resumes after the last TID given (Linux:
/// `proc_task_readdir`).
pub fn proc_task_readdir(file: &File, pi: &ProcInode, ctx: &mut DirContext<'_>) -> KResult<()> {
    let leader = pi.task().map_err(|_| Errno::ENOENT)?;
    if !emit_dots_and_entries(file, ctx, &[]) {
        return Ok(());
    }
    let dir = ProcKind::TidDir.dtype();
    for (tid, _) in thread_ids(&leader, &super::proc_pid_ns(&file.f_inode.sb)) {
        let pos = u64::from(tid.unsigned_abs()) + 2;
        if pos < ctx.pos {
            continue;
        }
        if !ctx.emit(&itoa(tid)?, fake_ino(pos), dir, pos + 1) {
            break;
        }
    }
    Ok(())
}

/// Longest argument area /proc/PID/cmdline shows (Linux reads it all, a
/// page at a time; the exec limits keep it far below this).
const CMDLINE_MAX: u64 = 256 << 10;

/// The argument strings, NUL-separated as they lie in the process's
/// memory; empty for a kernel thread or a process that has not exec'd
/// (Linux: `get_mm_cmdline`, without its setproctitle special case).
fn proc_pid_cmdline(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    show_user_area(task, m, |l| (l.arg_start, l.arg_end))
}

/// The environment strings, NUL-separated as exec laid them out (Linux:
/// `environ_read`); only the owner (or root) may open it.
fn proc_pid_environ(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    show_user_area(task, m, |l| (l.env_start, l.env_end))
}

/// Copies the range `area` picks out of the task's memory.
fn show_user_area(
    task: &Arc<Task>,
    m: &mut SeqBuf,
    area: impl FnOnce(&MmLayout) -> (u64, u64),
) -> KResult<()> {
    let Some(mm) = task.mm.lock().clone() else { return Ok(()) };
    let (start, end) = area(&mm.mmap_read());
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

/// The program the process runs (Linux: `proc_exe_link`); `ENOENT` for
/// a kernel thread.
fn proc_exe_link(task: &Arc<Task>) -> KResult<Vec<u8>> {
    let exe = {
        let mm = task.mm.lock().clone().ok_or(Errno::ENOENT)?;
        let layout = mm.mmap_read();
        layout.exe_file.as_ref().map(|e| e.file().clone()).ok_or(Errno::ENOENT)?
    };
    d_path(&exe.f_path, &reader_root(task)?)
}

/// Linux: `proc_root_link`.
fn proc_root_link(task: &Arc<Task>) -> KResult<Vec<u8>> {
    let root = task.fs.lock().as_ref().map(|fs| fs.root()).ok_or(Errno::ENOENT)?;
    d_path(&root, &reader_root(task)?)
}

/// Where the scheduler's own frames are: skipped to find what a task
/// waits in (Linux: `in_sched_functions`, the `__sched` section, which
/// also holds `schedule_timeout` and the sleeping locks).
fn in_sched_functions(name: &str) -> bool {
    ["::kernel::sched::", "::switch_to::", "::kernel::locking::", "::schedule_timeout"]
        .iter()
        .any(|part| name.contains(part))
}

/// A symbol's last path segment, closures folded into their function:
/// the C-like name Linux shows (`do_wait`).
fn short_symbol_name(mut name: &str) -> &str {
    while let Some(outer) = name.strip_suffix("::{{closure}}") {
        name = outer;
    }
    name.rsplit("::").next().unwrap_or(name)
}

/// The function a sleeping task waits in, or `0` for a running one
/// (Linux: `proc_pid_wchan` over `get_wchan`).
fn proc_pid_wchan(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    use crate::arch::stacktrace::{MAX_FRAMES, stack_trace_save_tsk};
    if task.state() == crate::kernel::sched::task::TASK_RUNNING {
        return m.puts(b"0");
    }
    let mut frames = [0u64; MAX_FRAMES];
    let n = stack_trace_save_tsk(task, &mut frames);
    let waiting = frames.iter().take(n).find_map(|&ret| {
        let (name, _, _) = crate::kernel::kallsyms::lookup(ret.saturating_sub(1))?;
        (!in_sched_functions(name)).then_some(name)
    });
    match waiting {
        Some(name) => m.puts(short_symbol_name(name).as_bytes()),
        None => m.puts(b"0"),
    }
}

/// The task's kernel stack, one `[<0>] symbol+0xoff/0xsize` line per
/// frame, addresses hidden as Linux hides them; root only (Linux:
/// `proc_pid_stack`, which asks for CAP_SYS_ADMIN when read).
fn proc_pid_stack(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    use crate::arch::stacktrace::{MAX_FRAMES, stack_trace_save_tsk};
    if crate::kernel::sched::current().cred().euid != 0 {
        return Err(Errno::EACCES);
    }
    let mut frames = [0u64; MAX_FRAMES];
    let n = stack_trace_save_tsk(task, &mut frames);
    for &ret in frames.iter().take(n) {
        // A return address belongs to the call before it (Linux: `%pB`).
        match crate::kernel::kallsyms::lookup(ret.saturating_sub(1)) {
            Some((name, off, size)) => {
                m.printf(format_args!("[<0>] {name}+{:#x}/{size:#x}\n", off + 1))?
            }
            None => m.puts(b"[<0>] 0x0\n")?,
        }
    }
    Ok(())
}

//! /proc/PID/fd: one symlink per open descriptor, to the file's path, and
//! /proc/PID/fdinfo: one small file per descriptor with its position,
//! flags, mount and inode (Linux: fs/proc/fd.c `proc_readfd`,
//! `proc_lookupfd`, `proc_fd_link`, `seq_show`).
//!
//! Files outside the mount tree get their file system's name instead of
//! a path: `pipe:[INO]` for pipes (Linux: pipefs's `d_dname`).
//!
//! # Locking
//! The descriptor table's lock, briefly, through `FdTable::get` and
//! `open_fds`.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::base::reader_root;
use linux_raw_sys::general as uapi;

use super::generic::{
    ProcInode, ProcKind, SeqBuf, emit_dots_and_entries, fake_ino, itoa, name_to_int, proc_inode,
    render,
};
use crate::fs::d_path::d_path;
use crate::fs::fdtable::FdTable;
use crate::fs::file_table::File;
use crate::fs::inode::Inode;
use crate::fs::readdir::DirContext;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::Task;

fn task_files(task: &Task) -> KResult<Arc<FdTable>> {
    task.files.lock().clone().ok_or(Errno::ENOENT)
}

/// What descriptor `fd` is in `dir`: a link in fd/, a file in fdinfo/.
fn fd_kind(dir: ProcKind, fd: i32) -> ProcKind {
    match dir {
        ProcKind::FdInfoDir => ProcKind::FdInfo(fd),
        _ => ProcKind::FdLink(fd),
    }
}

/// Linux: `proc_lookupfd`, `proc_lookupfdinfo`.
pub fn proc_fd_lookup(dir: &Inode, pi: &ProcInode, name: &[u8]) -> KResult<Option<Arc<Inode>>> {
    let task = pi.task().map_err(|_| Errno::ENOENT)?;
    let Some(fd) = name_to_int(name) else { return Ok(None) };
    if task_files(&task)?.get(fd).is_err() {
        return Ok(None);
    }
    proc_inode(dir.sb.clone(), fd_kind(pi.kind, fd), pi.pid.clone()).map(Some)
}

/// Linux: `proc_readfd`, `proc_readfdinfo`: descriptor N at offset N + 2.
pub fn proc_fd_readdir(file: &File, pi: &ProcInode, ctx: &mut DirContext<'_>) -> KResult<()> {
    let task = pi.task().map_err(|_| Errno::ENOENT)?;
    if !emit_dots_and_entries(file, ctx, &[]) {
        return Ok(());
    }
    let dtype = fd_kind(pi.kind, 0).dtype();
    for fd in task_files(&task)?.open_fds() {
        let pos = u64::from(fd.unsigned_abs()) + 2;
        if pos < ctx.pos {
            continue;
        }
        if !ctx.emit(&itoa(fd)?, fake_ino(pos), dtype, pos + 1) {
            break;
        }
    }
    Ok(())
}

/// Where descriptor `fd` of `task` leads (Linux: `proc_fd_link` +
/// `d_path`).
pub fn proc_fd_link(task: &Arc<Task>, fd: i32) -> KResult<Vec<u8>> {
    let file = task_files(task)?.get(fd).map_err(|_| Errno::ENOENT)?;
    let sb = &file.f_path.mnt.mnt_sb;
    if sb.s_type.name() == "pipefs" {
        let ino = file.f_inode.ino;
        return render(|m| m.printf(format_args!("pipe:[{ino}]")));
    }
    d_path(&file.f_path, &reader_root(task)?)
}

/// /proc/PID/fdinfo/N: `pos`, `flags` in octal with `O_CLOEXEC` for a
/// close-on-exec descriptor, `mnt_id`, `ino` (Linux: `seq_show`).
pub fn proc_fdinfo_show(task: &Arc<Task>, fd: i32, m: &mut SeqBuf) -> KResult<()> {
    let files = task_files(task)?;
    let file = files.get(fd).map_err(|_| Errno::ENOENT)?;
    let mut flags = file.flags();
    if files.get_cloexec(fd).unwrap_or(false) {
        flags |= uapi::O_CLOEXEC;
    }
    m.printf(format_args!(
        "pos:\t{}\nflags:\t0{:o}\nmnt_id:\t{}\nino:\t{}\n",
        file.pos(),
        flags,
        file.f_path.mnt.mnt_id,
        file.f_inode.ino,
    ))
}

//! /proc/PID/mounts (and /proc/mounts, a link to self/mounts) and
//! /proc/filesystems (Linux: fs/proc_namespace.c `show_vfsmnt`,
//! `show_mnt_opts`; fs/filesystems.c `filesystems_proc_show`).
//!
//! A mount line is `device mountpoint type options 0 0`, with spaces,
//! tabs, newlines and backslashes in names written as octal escapes
//! (`\040`), mountpoints as seen from the process's root; mounts outside
//! that root are left out.
//!
//! # Locking
//! The mount list is copied out (`namespace::mounts`); `d_path` takes
//! dentry locks one at a time.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use super::d_path::d_path;
use super::namespace::{MntFlags, Path, VfsMount, is_root_mount, mounts};
use super::proc::base::reader_root;
use super::proc::generic::SeqBuf;
use super::super_block::filesystems;
use crate::kernel::errno::KResult;
use crate::kernel::sched::Task;

/// Writes `s` with Linux's `mangle` escapes for " \t\n\\" (Linux:
/// `seq_escape`).
fn mangle(m: &mut SeqBuf, s: &[u8]) -> KResult<()> {
    for &c in s {
        if matches!(c, b' ' | b'\t' | b'\n' | b'\\') {
            m.printf(format_args!("\\{c:03o}"))?;
        } else {
            m.puts(&[c])?;
        }
    }
    Ok(())
}

/// Linux: `show_mnt_opts` after the `ro`/`rw` of `show_sb_opts`.
fn show_mnt_opts(m: &mut SeqBuf, flags: MntFlags) -> KResult<()> {
    m.puts(if flags.contains(MntFlags::READONLY) { b"ro" } else { b"rw" })?;
    let names = [
        (MntFlags::NOSUID, ",nosuid"),
        (MntFlags::NODEV, ",nodev"),
        (MntFlags::NOEXEC, ",noexec"),
        (MntFlags::NOATIME, ",noatime"),
        (MntFlags::NODIRATIME, ",nodiratime"),
        (MntFlags::RELATIME, ",relatime"),
        (MntFlags::NOSYMFOLLOW, ",nosymfollow"),
    ];
    for (flag, name) in names {
        if flags.contains(flag) {
            m.puts(name.as_bytes())?;
        }
    }
    Ok(())
}

/// One line of /proc/mounts (Linux: `show_vfsmnt`); nothing for a mount
/// the reader's root cannot reach.
fn show_vfsmnt(m: &mut SeqBuf, mnt: &Arc<VfsMount>, root: &Path) -> KResult<()> {
    let at = d_path(&Path::new(mnt.clone(), mnt.mnt_root.clone()), root)?;
    if at.starts_with(b"(unreachable)") {
        return Ok(());
    }
    let (devname, fstype): (&[u8], &str) = if is_root_mount(mnt) {
        (b"rootfs", "rootfs")
    } else if mnt.mnt_devname.is_empty() {
        (b"none", mnt.mnt_sb.s_type.name())
    } else {
        (&mnt.mnt_devname, mnt.mnt_sb.s_type.name())
    };
    mangle(m, devname)?;
    m.puts(b" ")?;
    mangle(m, &at)?;
    m.printf(format_args!(" {fstype} "))?;
    show_mnt_opts(m, mnt.flags())?;
    m.puts(b" 0 0\n")
}

/// /proc/PID/mounts: the mounts as seen from the process's root (Linux:
/// `mounts_open_common` takes the task's root).
pub fn show_mounts(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    let own_root = task.fs.lock().as_ref().map(|fs| fs.root());
    let root = match own_root {
        Some(root) => root,
        None => reader_root(task)?,
    };
    for mnt in mounts() {
        show_vfsmnt(m, &mnt, &root)?;
    }
    Ok(())
}

/// /proc/filesystems (Linux: `filesystems_proc_show`).
pub fn filesystems_proc_show(m: &mut SeqBuf) -> KResult<()> {
    for (name, requires_dev) in filesystems() {
        let nodev = if requires_dev { "" } else { "nodev" };
        m.printf(format_args!("{nodev}\t{name}\n"))?;
    }
    Ok(())
}

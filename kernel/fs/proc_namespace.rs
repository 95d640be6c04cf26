//! /proc/PID/mounts (and /proc/mounts, a link to self/mounts),
//! /proc/PID/mountinfo and /proc/filesystems (Linux: fs/proc_namespace.c
//! `show_vfsmnt`, `show_mountinfo`, `show_mnt_opts`; fs/filesystems.c
//! `filesystems_proc_show`).
//!
//! A mount line is `device mountpoint type options 0 0`, with spaces,
//! tabs, newlines and backslashes in names written as octal escapes
//! (`\040`), mountpoints as seen from the process's root; mounts outside
//! that root are left out.
//!
//! # Locking
//! The namespace's mount list is copied out (`namespace::mnt_ns_mounts`); `d_path` takes
//! dentry locks one at a time.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::d_path::d_path;
use super::dcache::Dentry;
use super::namespace::{MntFlags, Path, VfsMount, is_root_mount, mnt_ns_mounts};
use super::proc::base::reader_root;
use super::proc::generic::SeqBuf;
use super::super_block::filesystems;
use crate::kernel::errno::{Errno, KResult};
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

/// Where `mnt` is seen from `root`, `None` for a mount the reader's root
/// cannot reach (Linux: `seq_path_root` returning `SEQ_SKIP`).
fn mount_path(mnt: &Arc<VfsMount>, root: &Path) -> KResult<Option<Vec<u8>>> {
    let at = d_path(&Path::new(mnt.clone(), mnt.mnt_root.clone()), root)?;
    Ok((!at.starts_with(b"(unreachable)")).then_some(at))
}

/// The source ("none" if the mount has none) and type both tables show;
/// the initial root is "rootfs" in both, as on Linux.
fn mount_source(mnt: &Arc<VfsMount>) -> (&[u8], &str) {
    if is_root_mount(mnt) {
        (b"rootfs", "rootfs")
    } else if mnt.mnt_devname.is_empty() {
        (b"none", mnt.mnt_sb.s_type.name())
    } else {
        (&mnt.mnt_devname, mnt.mnt_sb.s_type.name())
    }
}

/// One line of /proc/mounts (Linux: `show_vfsmnt`); nothing for a mount
/// the reader's root cannot reach.
fn show_vfsmnt(m: &mut SeqBuf, mnt: &Arc<VfsMount>, root: &Path) -> KResult<()> {
    let Some(at) = mount_path(mnt, root)? else {
        return Ok(());
    };
    let (devname, fstype) = mount_source(mnt);
    mangle(m, devname)?;
    m.puts(b" ")?;
    mangle(m, &at)?;
    m.printf(format_args!(" {fstype} "))?;
    show_mnt_opts(m, mnt.flags())?;
    mnt.mnt_sb.s_op.show_options(&mnt.mnt_sb, m)?;
    m.puts(b" 0 0\n")
}

/// The root `task` sees the tree from (Linux: `mounts_open_common`).
fn task_root(task: &Arc<Task>) -> KResult<Path> {
    let own_root = task.fs.lock().as_ref().map(|fs| fs.root());
    match own_root {
        Some(root) => Ok(root),
        None => reader_root(task),
    }
}

/// The mounts of `task`'s namespace (Linux: `p->ns = nsp->mnt_ns`).
fn task_mounts(task: &Task) -> Vec<Arc<VfsMount>> {
    mnt_ns_mounts(&crate::kernel::nsproxy::task_nsproxy(task).mnt_ns)
}

/// /proc/PID/mounts: the mounts as seen from the process's root (Linux:
/// `mounts_open_common` takes the task's root).
pub fn show_mounts(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    let root = task_root(task)?;
    for mnt in task_mounts(task) {
        show_vfsmnt(m, &mnt, &root)?;
    }
    Ok(())
}

/// The path of `dentry` inside its file system (Linux: `seq_path_root`
/// of the mount root against the super block's root), "/" for a mount of
/// the whole file system, "/sub" for a bind mount of a directory.
fn path_in_sb(dentry: &Arc<Dentry>) -> KResult<Vec<u8>> {
    let mut parts = Vec::new();
    let mut cur = dentry.clone();
    while let Some(parent) = cur.parent() {
        parts.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        parts.push(cur.name());
        cur = parent;
    }
    let mut out = Vec::new();
    for part in parts.iter().rev() {
        out.try_reserve(part.len() + 1).map_err(|_| Errno::ENOMEM)?;
        out.push(b'/');
        out.extend_from_slice(part);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    Ok(out)
}

/// One line of /proc/PID/mountinfo (Linux: `show_mountinfo`): id, parent
/// id, device, root in the file system, mountpoint, per-mount options, the
/// propagation fields (`shared:N`, `master:N`, `unbindable`), "-", type, source and the
/// super block's options. Ferrite's read-only is per mount, so the super
/// block's "ro"/"rw" repeats the mount's.
fn show_mountinfo_one(m: &mut SeqBuf, mnt: &Arc<VfsMount>, root: &Path) -> KResult<()> {
    let Some(at) = mount_path(mnt, root)? else {
        return Ok(());
    };
    let parent_id = mnt.mountpoint().map_or(mnt.mnt_id, |mp| mp.mnt.mnt_id);
    let dev = mnt.mnt_sb.s_dev;
    m.printf(format_args!("{} {parent_id} {}:{} ", mnt.mnt_id, dev.major(), dev.minor()))?;
    mangle(m, &path_in_sb(&mnt.mnt_root)?)?;
    m.puts(b" ")?;
    mangle(m, &at)?;
    m.puts(b" ")?;
    show_mnt_opts(m, mnt.flags())?;
    let prop = mnt.propagation();
    if prop.shared != 0 {
        m.printf(format_args!(" shared:{}", prop.shared))?;
    }
    if prop.master != 0 {
        m.printf(format_args!(" master:{}", prop.master))?;
    }
    if prop.unbindable {
        m.puts(b" unbindable")?;
    }
    let (devname, fstype) = mount_source(mnt);
    m.printf(format_args!(" - {fstype} "))?;
    mangle(m, devname)?;
    let ro = mnt.flags().contains(MntFlags::READONLY);
    m.puts(if ro { b" ro" } else { b" rw" })?;
    mnt.mnt_sb.s_op.show_options(&mnt.mnt_sb, m)?;
    m.puts(b"\n")
}

/// /proc/PID/mountinfo (Linux: `mountinfo_open`).
pub fn show_mountinfo(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    let root = task_root(task)?;
    for mnt in task_mounts(task) {
        show_mountinfo_one(m, &mnt, &root)?;
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

//! What every procfs inode and file shares: the kinds of entries, inode
//! creation, the rendered-buffer reads and directory listing (Linux:
//! fs/proc/generic.c, fs/proc/inode.c, fs/seq_file.c).
//!
//! An inode's private part is a [`ProcInode`]: its [`ProcKind`] and, for
//! anything under /proc/PID, the process's `Pid` (Linux: `PROC_I(inode)->pid`).
//! A regular file is rendered by its `show` function into a [`SeqBuf`]
//! when a read starts at offset 0 (or the first read comes at another
//! offset); reads are then served from that snapshot, so `cat` sees one
//! consistent text however small its buffer (Linux: `seq_read`).
//!
//! # Locking
//! A file's snapshot is under its own `SpinLock`, taken only to swap or
//! copy the buffer, never while rendering.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use linux_raw_sys::general as uapi;

use super::proc_sysctl::{CtlTable, proc_sys_show, proc_sys_write};
use crate::fs::dcache::Dentry;
use crate::fs::file_table::{File, FileOps, Whence};
use crate::fs::inode::{FileType, Inode, InodeAttr, InodeOps, SetAttr};
use crate::fs::read_write::llseek_set_cur;
use crate::fs::readdir::DirContext;
use crate::fs::super_block::SuperBlock;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::pid::{Pid, PidNamespace, PidType, init_pid_ns, task_tgid_nr_ns};
use crate::kernel::sched::Task;

/// Renders a file about the whole system.
pub type ShowFn = fn(&mut SeqBuf) -> KResult<()>;
/// Renders a file about one process.
pub type PidShowFn = fn(&Arc<Task>, &mut SeqBuf) -> KResult<()>;
/// A per-process symlink's target.
pub type LinkFn = fn(&Arc<Task>) -> KResult<Vec<u8>>;

/// What a procfs inode is (Linux: the `proc_dir_entry` or `pid_entry`
/// behind it).
#[derive(Clone, Copy)]
pub enum ProcKind {
    /// /proc itself.
    Root,
    /// /proc/self: the reader's own directory.
    SelfLink,
    /// A fixed link, as /proc/mounts → self/mounts.
    StaticLink(&'static str),
    /// A file about the system (/proc/meminfo).
    Global(ShowFn),
    /// /proc/PID.
    PidDir,
    /// A file about the process (/proc/PID/stat).
    PidFile(PidShowFn),
    /// A file about the process only its owner may read (/proc/PID/environ).
    PidFileOwner(PidShowFn),
    /// A link about the process (/proc/PID/cwd).
    PidLink(LinkFn),
    /// /proc/PID/fd.
    FdDir,
    /// /proc/PID/fd/N.
    FdLink(i32),
    /// /proc/PID/fdinfo.
    FdInfoDir,
    /// /proc/PID/fdinfo/N.
    FdInfo(i32),
    /// /proc/PID/task.
    TaskDir,
    /// /proc/PID/task/TID: a thread's own directory.
    TidDir,
    /// A directory of /proc/sys, by its path below it ("" for /proc/sys).
    SysDir(&'static str),
    /// A tunable under /proc/sys.
    SysFile(&'static CtlTable),
    /// A file with its own operations and permission bits, as /proc/kmsg
    /// (Linux: a `proc_ops` other than `seq_file`'s).
    Fops(&'static dyn FileOps, u32),
    /// A fixed directory of fixed entries, as /proc/sysvipc (Linux: a
    /// `proc_mkdir` with `proc_create`d files).
    StaticDir(&'static [ProcEntry]),
    /// /proc/PID/ns/NAME: a magic link to the namespace's nsfs file.
    NsLink(super::namespaces::NsType),
}

impl ProcKind {
    fn mode(self) -> u32 {
        match self {
            Self::Root
            | Self::PidDir
            | Self::TaskDir
            | Self::TidDir
            | Self::SysDir(_)
            | Self::StaticDir(_) => uapi::S_IFDIR | 0o555,
            Self::FdDir | Self::FdInfoDir => uapi::S_IFDIR | 0o500,
            Self::Global(_) | Self::PidFile(_) | Self::FdInfo(_) => uapi::S_IFREG | 0o444,
            Self::PidFileOwner(_) => uapi::S_IFREG | 0o400,
            Self::SysFile(table) => uapi::S_IFREG | table.mode,
            Self::Fops(_, mode) => uapi::S_IFREG | mode,
            Self::SelfLink | Self::StaticLink(_) | Self::PidLink(_) | Self::NsLink(_) => {
                uapi::S_IFLNK | 0o777
            }
            Self::FdLink(_) => uapi::S_IFLNK | 0o700,
        }
    }

    /// The `d_type` a listing gives it.
    pub fn dtype(self) -> u8 {
        FileType::from_mode(self.mode()).unwrap_or(FileType::Regular).dtype()
    }
}

/// One named entry of a fixed directory (Linux: `struct pid_entry`).
pub struct ProcEntry {
    pub name: &'static str,
    pub kind: ProcKind,
}

/// The private part of a procfs inode (Linux: `struct proc_inode`).
pub struct ProcInode {
    pub kind: ProcKind,
    /// The process, for everything under /proc/PID.
    pub pid: Option<Arc<Pid>>,
}

impl ProcInode {
    /// The process, `ESRCH` once it is gone (Linux: `get_proc_task`).
    pub fn task(&self) -> KResult<Arc<Task>> {
        self.pid.as_ref().and_then(|p| p.pid_task(PidType::Pid)).ok_or(Errno::ESRCH)
    }
}

/// The procfs part of an inode.
pub fn proc_i(inode: &Inode) -> KResult<&ProcInode> {
    inode.private::<ProcInode>()
}

/// A new inode of `kind` (Linux: `proc_pid_make_inode`, `proc_get_inode`):
/// owned by the process's effective ids below /proc/PID, else by root.
pub fn proc_inode(
    sb: Arc<SuperBlock>,
    kind: ProcKind,
    pid: Option<Arc<Pid>>,
) -> KResult<Arc<Inode>> {
    let cred = pid.as_ref().and_then(|p| p.pid_task(PidType::Pid)).map(|t| t.cred());
    let (uid, gid) = cred.map_or((0, 0), |c| (c.euid, c.egid));
    let attr = InodeAttr::new(kind.mode(), uid, gid);
    let fops: &'static dyn FileOps = match kind {
        ProcKind::Root
        | ProcKind::PidDir
        | ProcKind::FdDir
        | ProcKind::FdInfoDir
        | ProcKind::TaskDir
        | ProcKind::TidDir
        | ProcKind::SysDir(_)
        | ProcKind::StaticDir(_) => &PROC_DIR_OPS,
        ProcKind::Fops(fops, _) => fops,
        _ => &PROC_FILE_OPS,
    };
    Inode::new(sb, attr, &PROC_INODE_OPS, fops, Box::new(ProcInode { kind, pid }))
}

/// Whether a cached procfs dentry still holds (Linux: `pid_revalidate`,
/// `tid_fd_revalidate`): negative ones never do (processes come and go),
/// a process's entries while it lives, taking its current ids.
pub fn proc_revalidate(dentry: &Dentry) -> bool {
    let Some(inode) = dentry.inode() else { return false };
    let Ok(pi) = proc_i(&inode) else { return true };
    if pi.pid.is_none() {
        return true;
    }
    let Ok(task) = pi.task() else { return false };
    let cred = task.cred();
    inode.update_attr(|a| {
        a.uid = cred.euid;
        a.gid = cred.egid;
    });
    match pi.kind {
        ProcKind::FdLink(fd) | ProcKind::FdInfo(fd) => {
            task.files.lock().as_ref().is_some_and(|f| f.get(fd).is_ok())
        }
        _ => true,
    }
}

/// A rendered file (Linux: `struct seq_file`'s buffer): text appended
/// with fallible allocation.
#[derive(Default)]
pub struct SeqBuf {
    pub buf: Vec<u8>,
    /// The PID namespace of the procfs instance being read (Linux: through
    /// `m->file`'s super block); `None` renders the initial one's view.
    pub pid_ns: Option<Arc<PidNamespace>>,
}

impl SeqBuf {
    /// The namespace IDs are shown in (Linux: `proc_pid_ns`).
    pub fn pid_ns(&self) -> Arc<PidNamespace> {
        self.pid_ns.clone().unwrap_or_else(|| init_pid_ns().clone())
    }

    pub fn puts(&mut self, bytes: &[u8]) -> KResult<()> {
        self.buf.try_reserve(bytes.len()).map_err(|_| Errno::ENOMEM)?;
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Linux: `seq_printf`.
    pub fn printf(&mut self, args: fmt::Arguments<'_>) -> KResult<()> {
        fmt::Write::write_fmt(self, args).map_err(|_| Errno::ENOMEM)
    }
}

impl fmt::Write for SeqBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.puts(s.as_bytes()).map_err(|_| fmt::Error)
    }
}

/// Runs a renderer into a fresh buffer.
pub fn render(f: impl FnOnce(&mut SeqBuf) -> KResult<()>) -> KResult<Vec<u8>> {
    render_ns(None, f)
}

/// Runs a renderer with the IDs as `pid_ns` numbers them.
pub fn render_ns(
    pid_ns: Option<Arc<PidNamespace>>,
    f: impl FnOnce(&mut SeqBuf) -> KResult<()>,
) -> KResult<Vec<u8>> {
    let mut m = SeqBuf { buf: Vec::new(), pid_ns };
    f(&mut m)?;
    Ok(m.buf)
}

/// A number as text, for names and links.
pub fn itoa(n: impl fmt::Display) -> KResult<Vec<u8>> {
    render(|m| m.printf(format_args!("{n}")))
}

/// Inode operations of every procfs inode, by kind.
pub struct ProcInodeOps;
pub static PROC_INODE_OPS: ProcInodeOps = ProcInodeOps;

impl InodeOps for ProcInodeOps {
    fn lookup(&self, dir: &Inode, name: &[u8]) -> KResult<Option<Arc<Inode>>> {
        let pi = proc_i(dir)?;
        match pi.kind {
            ProcKind::Root => super::root::proc_root_lookup(dir, name),
            ProcKind::PidDir => super::base::proc_pid_lookup(dir, pi, name),
            ProcKind::FdDir | ProcKind::FdInfoDir => super::fd::proc_fd_lookup(dir, pi, name),
            ProcKind::TaskDir => super::base::proc_task_lookup(dir, pi, name),
            ProcKind::TidDir => super::base::proc_tid_lookup(dir, pi, name),
            ProcKind::SysDir(path) => match super::proc_sysctl::sysctl_lookup(path, name) {
                Some(kind) => proc_inode(dir.sb.clone(), kind, None).map(Some),
                None => Ok(None),
            },
            ProcKind::StaticDir(entries) => lookup_entry(dir, pi.pid.clone(), entries, name),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn get_link(&self, inode: &Inode) -> KResult<Vec<u8>> {
        let pi = proc_i(inode)?;
        match pi.kind {
            ProcKind::SelfLink => proc_self_get_link(inode),
            ProcKind::StaticLink(target) => Ok(target.as_bytes().to_vec()),
            ProcKind::PidLink(link) => link(&pi.task().map_err(|_| Errno::ENOENT)?),
            ProcKind::FdLink(fd) => super::fd::proc_fd_link(&pi.task()?, fd),
            ProcKind::NsLink(ns) => super::namespaces::proc_ns_get_link(&pi.task()?, ns),
            _ => Err(Errno::EINVAL),
        }
    }

    fn get_link_jump(&self, inode: &Inode) -> KResult<Option<crate::fs::namespace::Path>> {
        match proc_i(inode)?.kind {
            ProcKind::NsLink(ns) => super::namespaces::proc_ns_jump(&proc_i(inode)?.task()?, ns),
            _ => Ok(None),
        }
    }

    /// Nothing in procfs can be changed by chmod or chown; a size change
    /// (`O_TRUNC`, as `echo x > /proc/sys/...` asks) is accepted and
    /// ignored (Linux: `proc_setattr`, `proc_sys_setattr`).
    fn setattr(&self, _inode: &Inode, attr: &SetAttr) -> KResult<()> {
        if attr.mode.is_some() || attr.uid.is_some() || attr.gid.is_some() {
            return Err(Errno::EPERM);
        }
        Ok(())
    }
}

/// /proc/self's target: the reader's process number in the namespace of
/// this procfs; `ENOENT` for a reader outside it (Linux:
/// `proc_self_get_link`).
fn proc_self_get_link(inode: &Inode) -> KResult<Vec<u8>> {
    let ns = super::proc_pid_ns(&inode.sb);
    let tgid = task_tgid_nr_ns(&crate::kernel::sched::current(), &ns);
    if tgid == 0 {
        return Err(Errno::ENOENT);
    }
    itoa(tgid)
}

/// An open seq file's snapshot (Linux: the buffer of `struct seq_file`),
/// for procfs files and sysfs attributes alike.
pub struct SeqState {
    text: SpinLock<Option<Arc<Vec<u8>>>>,
}

impl Default for SeqState {
    fn default() -> Self {
        Self::new()
    }
}

impl SeqState {
    pub const fn new() -> Self {
        Self { text: SpinLock::new(None) }
    }

    /// Linux: `seq_read`: a read at offset 0 renders the text with `show`
    /// and keeps it, so the reads that continue it see one consistent
    /// copy; `show` runs without the lock.
    pub fn read(
        &self,
        buf: &mut [u8],
        pos: &mut u64,
        show: impl FnOnce() -> KResult<Vec<u8>>,
    ) -> KResult<usize> {
        let cached = if *pos == 0 { None } else { self.text.lock().clone() };
        let text = match cached {
            Some(text) => text,
            None => {
                let text = Arc::new(show()?);
                *self.text.lock() = Some(text.clone());
                text
            }
        };
        let start = usize::try_from(*pos).unwrap_or(usize::MAX).min(text.len());
        let n = buf.len().min(text.len() - start);
        buf[..n].copy_from_slice(&text[start..start + n]);
        *pos = pos.saturating_add(n as u64);
        Ok(n)
    }
}

/// Renders the file an inode stands for.
fn proc_show(inode: &Inode) -> KResult<Vec<u8>> {
    let pi = proc_i(inode)?;
    match pi.kind {
        ProcKind::Global(show) => render(show),
        ProcKind::PidFile(show) | ProcKind::PidFileOwner(show) => {
            let task = pi.task()?;
            render_ns(Some(super::proc_pid_ns(&inode.sb)), |m| show(&task, m))
        }
        ProcKind::FdInfo(fd) => render(|m| super::fd::proc_fdinfo_show(&pi.task()?, fd, m)),
        ProcKind::SysFile(table) => render(|m| proc_sys_show(table, m)),
        _ => Err(Errno::EINVAL),
    }
}

/// Operations of procfs regular files (Linux: `proc_reg_file_ops` over
/// `seq_read`, `seq_lseek`).
pub struct ProcFileOps;
pub static PROC_FILE_OPS: ProcFileOps = ProcFileOps;

impl FileOps for ProcFileOps {
    fn open(&self, _inode: &Arc<Inode>, file: &File) -> KResult<()> {
        file.set_private(Box::new(SeqState::new()));
        Ok(())
    }

    fn read(&self, file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        let state = file.private::<SeqState>().ok_or(Errno::EIO)?;
        state.read(buf, pos, || proc_show(&file.f_inode))
    }

    fn write(&self, file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize> {
        match proc_i(&file.f_inode)?.kind {
            ProcKind::SysFile(table) => {
                let n = proc_sys_write(table, buf, *pos)?;
                *pos = pos.saturating_add(n as u64);
                Ok(n)
            }
            _ => Err(Errno::EIO),
        }
    }

    fn llseek(&self, _file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        llseek_set_cur(pos, offset, whence)
    }
}

/// Operations of procfs directories (Linux: `proc_root_operations`,
/// `proc_tgid_base_operations`, `proc_fd_operations`).
pub struct ProcDirOps;
pub static PROC_DIR_OPS: ProcDirOps = ProcDirOps;

impl FileOps for ProcDirOps {
    fn read(&self, _file: &File, _buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }

    fn llseek(&self, _file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        llseek_set_cur(pos, offset, whence)
    }

    fn iterate_shared(&self, file: &File, ctx: &mut DirContext<'_>) -> KResult<()> {
        let pi = proc_i(&file.f_inode)?;
        match pi.kind {
            ProcKind::Root => super::root::proc_root_readdir(file, ctx),
            ProcKind::PidDir => super::base::proc_pid_readdir(file, pi, ctx),
            ProcKind::FdDir | ProcKind::FdInfoDir => super::fd::proc_fd_readdir(file, pi, ctx),
            ProcKind::TaskDir => super::base::proc_task_readdir(file, pi, ctx),
            ProcKind::TidDir => super::base::proc_tid_readdir(file, pi, ctx),
            ProcKind::SysDir(path) => {
                emit_dots_and_entries(file, ctx, &super::proc_sysctl::sysctl_entries(path)?);
                Ok(())
            }
            ProcKind::StaticDir(entries) => {
                emit_dots_and_entries(file, ctx, entries);
                Ok(())
            }
            _ => Err(Errno::ENOTDIR),
        }
    }
}

/// A made-up inode number for a listing (the entry's inode is only made
/// at lookup).
pub const fn fake_ino(pos: u64) -> u64 {
    0x1000_0000 + pos
}

/// Emits `.`, `..` and then `entries` from `ctx.pos` (Linux:
/// `dir_emit_dots` + `proc_pident_readdir`); false once the buffer is full.
pub fn emit_dots_and_entries(file: &File, ctx: &mut DirContext<'_>, entries: &[ProcEntry]) -> bool {
    let ino = file.f_inode.ino;
    let dir = FileType::Directory.dtype();
    if ctx.pos == 0 && !ctx.emit(b".", ino, dir, 1) {
        return false;
    }
    if ctx.pos == 1 {
        let parent = file.f_path.dentry.parent().and_then(|p| p.inode()).map_or(ino, |p| p.ino);
        if !ctx.emit(b"..", parent, dir, 2) {
            return false;
        }
    }
    for (i, entry) in entries.iter().enumerate() {
        let pos = i as u64 + 2;
        if ctx.pos > pos {
            continue;
        }
        if !ctx.emit(entry.name.as_bytes(), fake_ino(pos), entry.kind.dtype(), pos + 1) {
            return false;
        }
    }
    true
}

/// The entry of a fixed table named `name`, as a new inode.
pub fn lookup_entry(
    dir: &Inode,
    pid: Option<Arc<Pid>>,
    entries: &[ProcEntry],
    name: &[u8],
) -> KResult<Option<Arc<Inode>>> {
    match entries.iter().find(|e| e.name.as_bytes() == name) {
        Some(e) => proc_inode(dir.sb.clone(), e.kind, pid).map(Some),
        None => Ok(None),
    }
}

/// A decimal name as procfs accepts it: digits only, no leading zero
/// (Linux: `name_to_int`).
pub fn name_to_int(name: &[u8]) -> Option<i32> {
    if name.is_empty() || (name[0] == b'0' && name.len() > 1) {
        return None;
    }
    let mut n: i32 = 0;
    for &c in name {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(i32::from(c - b'0'))?;
    }
    Some(n)
}

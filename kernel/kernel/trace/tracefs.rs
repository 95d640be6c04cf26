//! tracefs: the tracing control files, mounted at `/sys/kernel/tracing`.
//!
//! Linux: fs/tracefs/inode.c (the file system), kernel/trace/trace.c
//! (`tracer_init_tracefs`: `trace`, `trace_pipe`, `tracing_on`,
//! `buffer_size_kb`, `trace_clock`, `current_tracer`,
//! `available_tracers`), kernel/trace/trace_events.c
//! (`event_trace_add_tracer`: `available_events`, `set_event`,
//! `events/enable`, `events/SYSTEM/enable`,
//! `events/SYSTEM/EVENT/{enable,id,format}`).
//!
//! The tree is fixed (the events are compiled in), so an inode is a
//! [`Node`]: its place in the tree, from which its number, mode,
//! children and file behaviour follow. What the files do is in
//! tracefs_files.rs.
//!
//! # Locking
//! None of its own for the tree. An open `trace` or `trace_pipe` keeps
//! its reading state under a sleeping `Mutex` (a leaf, taken under the
//! file's `f_pos`); a text file's snapshot is a `SeqState`.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use super::events::{EVENTS, systems};
use crate::fs::file_table::{File, FileOps, Whence};
use crate::fs::inode::{FileType, Inode, InodeAttr, InodeOps, SetAttr};
use crate::fs::readdir::DirContext;
use crate::fs::super_block::{FileSystemType, SuperBlock};
use crate::kernel::errno::{Errno, KResult};

use super::tracefs_files as files;

/// Linux: `TRACEFS_MAGIC`.
pub const TRACEFS_MAGIC: u64 = 0x7472_6163;

/// A control file (Linux: the `file_operations` each is created with).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TFile {
    Trace,
    TracePipe,
    TracingOn,
    AvailableEvents,
    SetEvent,
    BufferSizeKb,
    TraceClock,
    CurrentTracer,
    AvailableTracers,
    /// `events/enable`.
    EventsEnable,
    /// `events/SYSTEM/enable`, by system index.
    SystemEnable(usize),
    /// `events/SYSTEM/EVENT/...`, by index in `EVENTS`.
    EventEnable(usize),
    EventId(usize),
    EventFormat(usize),
}

/// What a tracefs inode is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Node {
    Root,
    Events,
    System(usize),
    Event(usize),
    File(TFile),
}

const ROOT_FILES: &[(&str, TFile)] = &[
    ("available_events", TFile::AvailableEvents),
    ("available_tracers", TFile::AvailableTracers),
    ("buffer_size_kb", TFile::BufferSizeKb),
    ("current_tracer", TFile::CurrentTracer),
    ("set_event", TFile::SetEvent),
    ("trace", TFile::Trace),
    ("trace_clock", TFile::TraceClock),
    ("trace_pipe", TFile::TracePipe),
    ("tracing_on", TFile::TracingOn),
];

/// The name of system `i`.
pub fn system_name(i: usize) -> Option<&'static str> {
    systems().nth(i)
}

impl Node {
    /// Stable inode numbers, by place in the tree.
    fn ino(self) -> u64 {
        match self {
            Node::Root => 1,
            Node::Events => 2,
            Node::System(i) => 100 + i as u64,
            Node::Event(i) => 1000 + 8 * i as u64,
            Node::File(f) => match f {
                TFile::EventsEnable => 3,
                TFile::SystemEnable(i) => 200 + i as u64,
                TFile::EventEnable(i) => 1001 + 8 * i as u64,
                TFile::EventId(i) => 1002 + 8 * i as u64,
                TFile::EventFormat(i) => 1003 + 8 * i as u64,
                other => 10 + ROOT_FILES.iter().position(|(_, f)| *f == other).unwrap_or(0) as u64,
            },
        }
    }

    /// Linux 6.1's modes: the root 0700, directories 0750, files
    /// `TRACE_MODE_WRITE` (0640) or `TRACE_MODE_READ` (0440).
    fn mode(self) -> u32 {
        match self {
            Node::Root => uapi::S_IFDIR | 0o700,
            Node::Events | Node::System(_) | Node::Event(_) => uapi::S_IFDIR | 0o750,
            Node::File(
                TFile::AvailableEvents
                | TFile::AvailableTracers
                | TFile::TracePipe
                | TFile::EventId(_)
                | TFile::EventFormat(_),
            ) => uapi::S_IFREG | 0o440,
            Node::File(_) => uapi::S_IFREG | 0o640,
        }
    }

    /// A directory's entries, in listing order.
    fn children(self) -> KResult<Vec<(&'static str, Node)>> {
        let mut out = Vec::new();
        let mut push = |name, node| -> KResult<()> {
            out.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            out.push((name, node));
            Ok(())
        };
        match self {
            Node::Root => {
                for &(name, f) in ROOT_FILES {
                    push(name, Node::File(f))?;
                }
                push("events", Node::Events)?;
            }
            Node::Events => {
                push("enable", Node::File(TFile::EventsEnable))?;
                for (i, sys) in systems().enumerate() {
                    push(sys, Node::System(i))?;
                }
            }
            Node::System(s) => {
                let sys = system_name(s).ok_or(Errno::ENOENT)?;
                push("enable", Node::File(TFile::SystemEnable(s)))?;
                for (i, ev) in EVENTS.iter().enumerate().filter(|(_, e)| e.system == sys) {
                    push(ev.name, Node::Event(i))?;
                }
            }
            Node::Event(i) => {
                push("enable", Node::File(TFile::EventEnable(i)))?;
                push("format", Node::File(TFile::EventFormat(i)))?;
                push("id", Node::File(TFile::EventId(i)))?;
            }
            Node::File(_) => return Err(Errno::ENOTDIR),
        }
        Ok(out)
    }

    fn is_dir(self) -> bool {
        !matches!(self, Node::File(_))
    }
}

/// The "tracefs" file-system type (Linux: `trace_fs_type`).
pub struct Tracefs;
pub static TRACEFS: Tracefs = Tracefs;

impl FileSystemType for Tracefs {
    fn name(&self) -> &'static str {
        "tracefs"
    }

    /// Every mount shows the one tracing instance (Linux: `trace_mount`
    /// → `mount_single`).
    fn mount(&'static self, _source: &[u8], _data: &[u8], _sb_flags: u32) -> KResult<Arc<Inode>> {
        let sb = SuperBlock::new_anon(self, TRACEFS_MAGIC, Box::new(()));
        tracefs_inode(sb, Node::Root)
    }
}

/// The private part of a tracefs inode.
struct TracefsInode(Node);

pub(super) fn node_of(inode: &Inode) -> KResult<Node> {
    inode.private::<TracefsInode>().map(|t| t.0)
}

/// The inode of `node` (Linux: `tracefs_get_inode`), owned by root.
fn tracefs_inode(sb: Arc<SuperBlock>, node: Node) -> KResult<Arc<Inode>> {
    let mut attr = InodeAttr::new(node.mode(), 0, 0);
    if node.is_dir() {
        let subdirs = node.children()?.iter().filter(|(_, c)| c.is_dir()).count();
        attr.nlink = 2u32.saturating_add(u32::try_from(subdirs).unwrap_or(u32::MAX));
    }
    let fops: &'static dyn FileOps = match node {
        Node::File(TFile::TracePipe) => &files::TRACE_PIPE_OPS,
        Node::File(_) => &files::TRACEFS_FILE_OPS,
        _ => &TRACEFS_DIR_OPS,
    };
    let ops = (&TRACEFS_INODE_OPS as &dyn InodeOps, fops, None);
    Inode::new_with_mapping(sb, node.ino(), attr, ops, Box::new(TracefsInode(node)))
}

/// Linux: `tracefs_dir_inode_operations`, `simple_setattr`.
struct TracefsInodeOps;
static TRACEFS_INODE_OPS: TracefsInodeOps = TracefsInodeOps;

impl InodeOps for TracefsInodeOps {
    fn lookup(&self, dir: &Inode, name: &[u8]) -> KResult<Option<Arc<Inode>>> {
        let node = node_of(dir)?;
        let found = node.children()?.into_iter().find(|(n, _)| n.as_bytes() == name);
        match found {
            Some((_, child)) => tracefs_inode(dir.sb.clone(), child).map(Some),
            None => Ok(None),
        }
    }

    /// `O_TRUNC` is how `> trace` clears the buffer and `> set_event`
    /// disables every event (Linux: `tracing_open`, `ftrace_event_set_open`
    /// test `O_TRUNC` on a write open; here the VFS's truncation says it).
    fn setattr(&self, inode: &Inode, attr: &SetAttr) -> KResult<()> {
        if attr.size == Some(0) {
            files::truncate(node_of(inode)?)?;
        }
        inode.apply_attr(&SetAttr { size: None, ..*attr });
        Ok(())
    }
}

/// Linux: `simple_dir_operations`.
struct TracefsDirOps;
static TRACEFS_DIR_OPS: TracefsDirOps = TracefsDirOps;

impl FileOps for TracefsDirOps {
    fn read(&self, _file: &File, _buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }

    fn llseek(&self, _file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        crate::fs::read_write::llseek_set_cur(pos, offset, whence)
    }

    fn iterate_shared(&self, file: &File, ctx: &mut DirContext<'_>) -> KResult<()> {
        let node = node_of(&file.f_inode)?;
        let dir = FileType::Directory.dtype();
        if ctx.pos == 0 && !ctx.emit(b".", node.ino(), dir, 1) {
            return Ok(());
        }
        if ctx.pos == 1 {
            let parent = file.f_path.dentry.parent().and_then(|p| p.inode());
            if !ctx.emit(b"..", parent.map_or(node.ino(), |p| p.ino), dir, 2) {
                return Ok(());
            }
        }
        for (i, (name, child)) in node.children()?.into_iter().enumerate() {
            let pos = i as u64 + 2;
            if ctx.pos > pos {
                continue;
            }
            let dtype = if child.is_dir() { dir } else { FileType::Regular.dtype() };
            if !ctx.emit(name.as_bytes(), child.ino(), dtype, pos + 1) {
                return Ok(());
            }
        }
        Ok(())
    }
}

crate::ktest!(trace_tracefs_tree, {
    let root = Node::Root.children().map_err(|_| "root")?;
    crate::kassert!(root.iter().any(|(n, _)| *n == "trace_pipe"), "trace_pipe");
    let events = Node::Events.children().map_err(|_| "events")?;
    let sched = events.iter().find(|(n, _)| *n == "sched").ok_or("events/sched")?.1;
    let evs = sched.children().map_err(|_| "sched")?;
    let switch = evs.iter().find(|(n, _)| *n == "sched_switch").ok_or("sched_switch")?.1;
    let files = switch.children().map_err(|_| "event")?;
    crate::kassert!(files.len() == 3, "enable, format, id");
    let mut inos = Vec::new();
    for (_, n) in root.iter().chain(&events).chain(&evs).chain(&files) {
        crate::kassert!(!inos.contains(&n.ino()), "unique inode numbers");
        inos.push(n.ino());
    }
    Ok(())
});

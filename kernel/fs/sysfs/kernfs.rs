//! The tree sysfs shows: directories, attribute files and symlinks
//! (Linux: fs/kernfs/dir.c `struct kernfs_node`, lib/kobject.c as far as
//! a kobject is a directory with attributes, fs/sysfs/file.c
//! `sysfs_create_file`, `sysfs_create_link`).
//!
//! A [`KernfsNode`] is a directory (its children), a text attribute
//! (`show` renders it, `store` takes a write), a binary attribute (read at
//! an offset, as PCI `config`) or a symlink (a relative target, as Linux
//! makes them). A [`KernfsBuilder`] makes the tree by path
//! (`"devices/virtual/block/vda"`), creating the directories on the way;
//! the finished tree is immutable and shared by the inodes of one mount.
//! Inode numbers are given at build time, so `stat` is stable.
//!
//! # Locking
//! None: a tree is built by one caller, then only read.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use crate::fs::proc::generic::SeqBuf;
use crate::kernel::errno::{Errno, KResult};

/// Renders a text attribute (Linux: `kobj_attribute.show`).
pub type ShowFn = Box<dyn Fn(&mut SeqBuf) -> KResult<()> + Send + Sync>;
/// Takes a write to a text attribute (Linux: `kobj_attribute.store`).
pub type StoreFn = Box<dyn Fn(&[u8]) -> KResult<()> + Send + Sync>;
/// Reads a binary attribute at an offset (Linux: `bin_attribute.read`).
pub type ReadFn = Box<dyn Fn(u64, &mut [u8]) -> KResult<usize> + Send + Sync>;

/// What a node is.
pub enum KernfsKind {
    Dir(Vec<Arc<KernfsNode>>),
    Attr { show: ShowFn, store: Option<StoreFn> },
    Bin { read: ReadFn, size: u64 },
    Link(String),
    DynDir(DynFn),
}

/// Lists a [`KernfsKind::DynDir`], a directory whose entries are listed
/// when it is read or searched, for objects that come and go after the
/// mount (Linux: kobjects added later, as network devices are): the
/// entries as they are now, each with the same inode number every time.
pub type DynFn = fn() -> KResult<Vec<Arc<KernfsNode>>>;

/// One name in sysfs (Linux: `struct kernfs_node`).
pub struct KernfsNode {
    pub name: String,
    /// Type and permission bits, as `stat` reports them.
    pub mode: u32,
    pub ino: u64,
    pub kind: KernfsKind,
}

impl KernfsNode {
    /// The child called `name` of a directory.
    pub fn child(&self, name: &[u8]) -> Option<&Arc<KernfsNode>> {
        match &self.kind {
            KernfsKind::Dir(children) => children.iter().find(|c| c.name.as_bytes() == name),
            _ => None,
        }
    }

    /// The entries of a directory, fixed or listed now; `ENOTDIR` for
    /// anything else.
    pub fn children(&self) -> KResult<Vec<Arc<KernfsNode>>> {
        match &self.kind {
            KernfsKind::Dir(children) => Ok(children.clone()),
            KernfsKind::DynDir(list) => list(),
            _ => Err(Errno::ENOTDIR),
        }
    }
}

/// Builds a tree by path (Linux: `kobject_add` + `sysfs_create_*`).
pub struct KernfsBuilder {
    root: KernfsNode,
    next_ino: u64,
}

fn try_string(s: &str) -> KResult<String> {
    let mut out = String::new();
    out.try_reserve(s.len()).map_err(|_| Errno::ENOMEM)?;
    out.push_str(s);
    Ok(out)
}

impl KernfsBuilder {
    pub fn new() -> Self {
        let root = KernfsNode {
            name: String::new(),
            mode: uapi::S_IFDIR | 0o755,
            ino: 1,
            kind: KernfsKind::Dir(Vec::new()),
        };
        KernfsBuilder { root, next_ino: 2 }
    }

    /// A builder for the entries of a [`KernfsKind::DynDir`], numbering
    /// its inodes from `base` so that they keep their numbers.
    pub fn with_ino_base(base: u64) -> Self {
        KernfsBuilder { next_ino: base, ..Self::new() }
    }

    /// A directory listed by `list` each time it is read (see
    /// [`KernfsKind::DynDir`]).
    pub fn dyn_dir(&mut self, dir: &str, name: &str, list: DynFn) -> KResult<()> {
        self.add(dir, name, uapi::S_IFDIR | 0o755, KernfsKind::DynDir(list))
    }

    /// The children of directory `path`, made (0755) where missing.
    fn dir_mut(&mut self, path: &str) -> KResult<&mut Vec<Arc<KernfsNode>>> {
        let mut node = &mut self.root;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let KernfsKind::Dir(children) = &mut node.kind else { return Err(Errno::ENOTDIR) };
            let idx = match children.iter().position(|c| c.name == part) {
                Some(i) => i,
                None => {
                    let dir = KernfsNode {
                        name: try_string(part)?,
                        mode: uapi::S_IFDIR | 0o755,
                        ino: self.next_ino,
                        kind: KernfsKind::Dir(Vec::new()),
                    };
                    self.next_ino += 1;
                    children.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                    children.push(Arc::new(dir));
                    children.len() - 1
                }
            };
            // Only the builder holds nodes until `finish`.
            node = children.get_mut(idx).and_then(Arc::get_mut).ok_or(Errno::EBUSY)?;
        }
        match &mut node.kind {
            KernfsKind::Dir(children) => Ok(children),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// Adds `name` of `kind` in directory `dir`; `EEXIST` if taken.
    fn add(&mut self, dir: &str, name: &str, mode: u32, kind: KernfsKind) -> KResult<()> {
        let ino = self.next_ino;
        let children = self.dir_mut(dir)?;
        if children.iter().any(|c| c.name == name) {
            return Err(Errno::EEXIST);
        }
        children.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        children.push(Arc::new(KernfsNode { name: try_string(name)?, mode, ino, kind }));
        self.next_ino += 1;
        Ok(())
    }

    /// Makes directory `path` and its parents (Linux: `kobject_add`).
    pub fn mkdir(&mut self, path: &str) -> KResult<()> {
        self.dir_mut(path).map(drop)
    }

    /// A read-only text attribute (Linux: `__ATTR_RO`, mode 0444).
    pub fn attr(
        &mut self,
        dir: &str,
        name: &str,
        show: impl Fn(&mut SeqBuf) -> KResult<()> + Send + Sync + 'static,
    ) -> KResult<()> {
        let kind = KernfsKind::Attr { show: Box::new(show), store: None };
        self.add(dir, name, uapi::S_IFREG | 0o444, kind)
    }

    /// A text attribute root may write (Linux: `__ATTR_RW`, mode 0644).
    pub fn attr_rw(
        &mut self,
        dir: &str,
        name: &str,
        show: impl Fn(&mut SeqBuf) -> KResult<()> + Send + Sync + 'static,
        store: impl Fn(&[u8]) -> KResult<()> + Send + Sync + 'static,
    ) -> KResult<()> {
        let kind = KernfsKind::Attr { show: Box::new(show), store: Some(Box::new(store)) };
        self.add(dir, name, uapi::S_IFREG | 0o644, kind)
    }

    /// A read-only binary attribute of `size` bytes (Linux:
    /// `sysfs_create_bin_file`).
    pub fn bin(
        &mut self,
        dir: &str,
        name: &str,
        size: u64,
        read: impl Fn(u64, &mut [u8]) -> KResult<usize> + Send + Sync + 'static,
    ) -> KResult<()> {
        let kind = KernfsKind::Bin { read: Box::new(read), size };
        self.add(dir, name, uapi::S_IFREG | 0o444, kind)
    }

    /// A symlink `dir/name` → `target`, relative as Linux makes them
    /// (Linux: `sysfs_create_link`).
    pub fn link(&mut self, dir: &str, name: &str, target: &str) -> KResult<()> {
        let kind = KernfsKind::Link(try_string(target)?);
        self.add(dir, name, uapi::S_IFLNK | 0o777, kind)
    }

    pub fn finish(self) -> Arc<KernfsNode> {
        Arc::new(self.root)
    }
}

crate::ktest!(sysfs_kernfs_builder_paths, {
    let mut b = KernfsBuilder::new();
    b.attr("class/mem/null", "dev", |m| m.puts(b"1:3\n")).map_err(|_| "attr")?;
    b.link("dev/char", "1:3", "../../devices/virtual/mem/null").map_err(|_| "link")?;
    crate::kassert!(b.attr("class/mem/null", "dev", |_| Ok(())) == Err(Errno::EEXIST), "dup");
    crate::kassert!(b.mkdir("class/mem/null/dev") == Err(Errno::ENOTDIR), "file as dir");
    b.attr_rw("kernel/mm", "knob", |m| m.puts(b"1\n"), |_| Ok(())).map_err(|_| "attr_rw")?;
    let root = b.finish();
    let knob = root.child(b"kernel").and_then(|c| c.child(b"mm")).and_then(|c| c.child(b"knob"));
    crate::kassert!(knob.is_some_and(|k| k.mode == uapi::S_IFREG | 0o644), "rw attribute");
    let null = root.child(b"class").and_then(|c| c.child(b"mem")).and_then(|c| c.child(b"null"));
    crate::kassert!(null.and_then(|n| n.child(b"dev")).is_some(), "class/mem/null/dev");
    let link = root.child(b"dev").and_then(|d| d.child(b"char")).and_then(|d| d.child(b"1:3"));
    crate::kassert!(link.is_some_and(|l| l.mode & uapi::S_IFMT == uapi::S_IFLNK), "link");
    Ok(())
});

//! sysfs: the kernel's devices, buses and classes as a tree of small
//! files (Linux: fs/sysfs/, fs/kernfs/, drivers/base/core.c).
//!
//! Each mount builds its tree ([`kernfs`]) from what the kernel knows at
//! that moment: disks and partitions ([`block`]), character devices, PCI
//! functions and `/sys/kernel` ([`devices`]); attributes are rendered
//! from live state when read. Linux adds and removes entries as devices
//! come and go (uevents); here a device that appears after the mount shows
//! in the next mount. Layout, as Linux 6.1 under QEMU:
//!
//! - `/sys/devices/pci0000:00/0000:00:0N.0/` with `vendor`, `device`,
//!   `class`, `config`... and `/sys/bus/pci/devices/*` links to them;
//! - `/sys/devices/virtual/{block,mem,tty}/NAME/` with `dev` and `uevent`,
//!   linked from `/sys/class/CLASS/NAME`, `/sys/block/NAME` and
//!   `/sys/dev/{block,char}/MAJ:MIN` (what busybox `mdev -s` walks).
//!   Linux puts a virtio disk under its PCI device and ttyS0 under
//!   `platform/serial8250`; Ferrite's drivers do not record their parent
//!   device, so these live under `virtual/` (the links' names are Linux's,
//!   their targets differ).
//!
//! # Locking
//! None of its own: a mount's tree is immutable; an open attribute keeps
//! the text rendered at offset 0 under its own `SpinLock`, as procfs does.
#![deny(unsafe_code)]

pub mod block;
pub mod devices;
pub mod kernfs;

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::file_table::{File, FileOps, Whence};
use super::inode::{FileType, Inode, InodeAttr, InodeOps, SetAttr};
use super::proc::generic::{SeqState, render};
use super::readdir::DirContext;
use super::super_block::{FileSystemType, SuperBlock, register_filesystem};
use crate::kernel::errno::{Errno, KResult};
use kernfs::{KernfsBuilder, KernfsKind, KernfsNode};

/// Linux: `SYSFS_MAGIC`.
pub const SYSFS_MAGIC: u64 = 0x6265_6572;
/// The size `stat` gives a text attribute (Linux: `PAGE_SIZE`).
const ATTR_SIZE: usize = 4096;

/// The "sysfs" file-system type (Linux: `sysfs_fs_type`).
pub struct Sysfs;
pub static SYSFS: Sysfs = Sysfs;

impl FileSystemType for Sysfs {
    fn name(&self) -> &'static str {
        "sysfs"
    }

    /// A fresh view of the devices (Linux: `sysfs_get_tree` shares one
    /// tree; see the module header).
    fn mount(&'static self, _source: &[u8], _data: &[u8], _sb_flags: u32) -> KResult<Arc<Inode>> {
        let root = build_tree()?;
        let sb = SuperBlock::new_anon(self, SYSFS_MAGIC, Box::new(()));
        sysfs_inode(sb, root)
    }

    /// Entries of a [`KernfsKind::DynDir`] hold while it still lists
    /// them under the same inode number; a negative one never does.
    fn d_revalidate(&self, dentry: &super::dcache::Dentry) -> bool {
        let Some(parent) = dentry.parent().and_then(|p| p.inode()) else { return true };
        let Ok(KernfsKind::DynDir(list)) = node_of(&parent).map(|n| &n.kind) else {
            return true;
        };
        let (Some(inode), Ok(now)) = (dentry.inode(), list()) else { return false };
        let name = dentry.name();
        now.iter().any(|c| c.name.as_bytes() == &name[..] && c.ino == inode.ino)
    }
}

/// Registers sysfs (Linux: `sysfs_init`).
pub fn sysfs_init() -> KResult<()> {
    register_filesystem(&SYSFS)
}

/// The whole tree: Linux's top-level directories, then each subsystem.
pub fn build_tree() -> KResult<Arc<KernfsNode>> {
    let mut b = KernfsBuilder::new();
    for dir in ["block", "bus", "class", "dev/block", "dev/char", "devices", "firmware", "fs"] {
        b.mkdir(dir)?;
    }
    for dir in ["kernel", "power"] {
        b.mkdir(dir)?;
    }
    crate::kernel::module::module_sysfs_add(&mut b)?;
    // tracefs's mount point (Linux: `tracefs_create_mount_point` in
    // `tracefs_init`).
    b.mkdir("kernel/tracing")?;
    // debugfs's mount point (Linux: `debugfs_init`).
    b.mkdir("kernel/debug")?;
    block::add_block_devices(&mut b)?;
    devices::add_char_devices(&mut b)?;
    devices::add_pci_devices(&mut b)?;
    devices::add_kernel(&mut b)?;
    crate::net::core::net_sysfs::netdev_sysfs_add(&mut b)?;
    crate::kernel::power::add_sysfs(&mut b)?;
    Ok(b.finish())
}

/// What a sysfs inode stands for.
struct SysfsInode(Arc<KernfsNode>);

fn node_of(inode: &Inode) -> KResult<&Arc<KernfsNode>> {
    inode.private::<SysfsInode>().map(|s| &s.0)
}

/// The inode of `node` (Linux: `kernfs_get_inode`), owned by root.
/// An inode for `node` with sysfs's operations (debugfs serves its tree
/// with them too).
pub(crate) fn sysfs_inode(sb: Arc<SuperBlock>, node: Arc<KernfsNode>) -> KResult<Arc<Inode>> {
    let mut attr = InodeAttr::new(node.mode, 0, 0);
    attr.size = match &node.kind {
        KernfsKind::Dir(_) | KernfsKind::DynDir(_) => 0,
        KernfsKind::Attr { .. } => ATTR_SIZE as u64,
        KernfsKind::Bin { size, .. } => *size,
        KernfsKind::Link(target) => target.len() as u64,
    };
    if let KernfsKind::Dir(children) = &node.kind {
        let subdirs = children.iter().filter(|c| matches!(c.kind, KernfsKind::Dir(_))).count();
        attr.nlink = 2u32.saturating_add(u32::try_from(subdirs).unwrap_or(u32::MAX));
    }
    let is_dir = matches!(node.kind, KernfsKind::Dir(_) | KernfsKind::DynDir(_));
    let fops: &'static dyn FileOps = if is_dir { &SYSFS_DIR_OPS } else { &SYSFS_FILE_OPS };
    let ops = (&SYSFS_INODE_OPS as &dyn InodeOps, fops, None);
    Inode::new_with_mapping(sb, node.ino, attr, ops, Box::new(SysfsInode(node)))
}

/// Linux: `kernfs_iops`, `kernfs_dir_iops`.
struct SysfsInodeOps;
static SYSFS_INODE_OPS: SysfsInodeOps = SysfsInodeOps;

impl InodeOps for SysfsInodeOps {
    fn lookup(&self, dir: &Inode, name: &[u8]) -> KResult<Option<Arc<Inode>>> {
        let node = node_of(dir)?;
        if let KernfsKind::DynDir(list) = &node.kind {
            let child = list()?.into_iter().find(|c| c.name.as_bytes() == name);
            return child.map(|c| sysfs_inode(dir.sb.clone(), c)).transpose();
        }
        if !matches!(node.kind, KernfsKind::Dir(_)) {
            return Err(Errno::ENOTDIR);
        }
        match node.child(name) {
            Some(child) => sysfs_inode(dir.sb.clone(), child.clone()).map(Some),
            None => Ok(None),
        }
    }

    fn get_link(&self, inode: &Inode) -> KResult<Vec<u8>> {
        match &node_of(inode)?.kind {
            KernfsKind::Link(target) => Ok(target.as_bytes().to_vec()),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Linux lets root chmod and chown sysfs files (`kernfs_iop_setattr`);
    /// `O_TRUNC` of an attribute (`echo x > file`) is accepted and ignored.
    fn setattr(&self, inode: &Inode, attr: &SetAttr) -> KResult<()> {
        let generic = SetAttr { size: None, ..*attr };
        inode.apply_attr(&generic);
        Ok(())
    }
}

/// Linux: `kernfs_file_fops`.
struct SysfsFileOps;
static SYSFS_FILE_OPS: SysfsFileOps = SysfsFileOps;

impl FileOps for SysfsFileOps {
    /// Writing needs a `store` (Linux: `kernfs_fop_open` refuses it with
    /// `EACCES` even to root).
    fn open(&self, inode: &Arc<Inode>, file: &File) -> KResult<()> {
        let writable = matches!(node_of(inode)?.kind, KernfsKind::Attr { store: Some(_), .. });
        if file.f_mode.contains(super::file_table::FMode::WRITE) && !writable {
            return Err(Errno::EACCES);
        }
        // An attribute's text is rendered when a read starts at offset 0
        // (Linux: `kernfs_seq_show` through `seq_read`).
        file.set_private(Box::new(SeqState::new()));
        Ok(())
    }

    fn read(&self, file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        let node = node_of(&file.f_inode)?;
        let show = match &node.kind {
            KernfsKind::Attr { show, .. } => show,
            KernfsKind::Bin { read, .. } => {
                let n = read(*pos, buf)?;
                *pos = pos.saturating_add(n as u64);
                return Ok(n);
            }
            _ => return Err(Errno::EINVAL),
        };
        let state = file.private::<SeqState>().ok_or(Errno::EIO)?;
        state.read(buf, pos, || render(|m| show(m)))
    }

    /// A write is one whole value, as Linux's `kernfs_fop_write_iter`
    /// hands the buffer to `store` (at most a page).
    fn write(&self, file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize> {
        let KernfsKind::Attr { store: Some(store), .. } = &node_of(&file.f_inode)?.kind else {
            return Err(Errno::EIO);
        };
        let len = buf.len().min(ATTR_SIZE);
        store(&buf[..len])?;
        *pos = pos.saturating_add(len as u64);
        Ok(len)
    }

    fn llseek(&self, file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        let size = file.f_inode.size();
        super::read_write::generic_file_llseek(pos, size, offset, whence)
    }
}

/// Linux: `kernfs_dir_fops`.
struct SysfsDirOps;
static SYSFS_DIR_OPS: SysfsDirOps = SysfsDirOps;

impl FileOps for SysfsDirOps {
    fn read(&self, _file: &File, _buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }

    fn llseek(&self, _file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        crate::fs::read_write::llseek_set_cur(pos, offset, whence)
    }

    /// `.`, `..`, then the children in the order they were added (Linux:
    /// `kernfs_fop_readdir`).
    fn iterate_shared(&self, file: &File, ctx: &mut DirContext<'_>) -> KResult<()> {
        let node = node_of(&file.f_inode)?;
        let children = node.children()?;
        let dir = FileType::Directory.dtype();
        if ctx.pos == 0 && !ctx.emit(b".", node.ino, dir, 1) {
            return Ok(());
        }
        if ctx.pos == 1 {
            let parent = file.f_path.dentry.parent().and_then(|p| p.inode());
            if !ctx.emit(b"..", parent.map_or(node.ino, |p| p.ino), dir, 2) {
                return Ok(());
            }
        }
        for (i, child) in children.iter().enumerate() {
            let pos = i as u64 + 2;
            if ctx.pos > pos {
                continue;
            }
            let dtype = FileType::from_mode(child.mode).unwrap_or(FileType::Regular).dtype();
            if !ctx.emit(child.name.as_bytes(), child.ino, dtype, pos + 1) {
                return Ok(());
            }
        }
        Ok(())
    }
}

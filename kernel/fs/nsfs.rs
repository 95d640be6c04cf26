//! nsfs: namespaces as files. Opening /proc/PID/ns/NAME gives a file on
//! an inode of this internal file system whose number is the namespace's
//! (`stat` shows it, as `ls -i` and `readlink` agree); setns(2) takes such
//! a file, and `ioctl(NS_GET_NSTYPE)` tells which kind it is (Linux:
//! fs/nsfs.c `ns_get_path`, `ns_ioctl`; include/linux/proc_ns.h).
//!
//! Each open makes a fresh inode with the namespace's number (Linux keeps
//! one per namespace in `ns->stashed`); what user space sees, the device
//! and inode numbers, is the same.
//!
//! # Locking
//! None: a file holds its namespace by reference count.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;

use linux_raw_sys::general as uapi;

use super::dcache::Dentry;
use super::file_table::{File, FileOps};
use super::inode::{Inode, InodeAttr, InodeOps};
use super::libfs::PseudoFs;
use super::namespace::{MntNamespace, Path};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::nsproxy::PROC_IPC_INIT_INO;
use crate::kernel::pid::PidNamespace;
use crate::kernel::utsname::UtsNamespace;

/// A reference to one namespace (Linux: `struct ns_common`, the part
/// Ferrite has). The IPC namespace is the one initial one.
#[derive(Clone)]
pub enum NsCommon {
    Ipc,
    Mnt(Arc<MntNamespace>),
    Pid(Arc<PidNamespace>),
    Uts(Arc<UtsNamespace>),
}

impl NsCommon {
    /// Its `CLONE_NEW*` bit (Linux: `ns->ops->type`).
    pub fn nstype(&self) -> u32 {
        match self {
            Self::Ipc => uapi::CLONE_NEWIPC,
            Self::Mnt(_) => uapi::CLONE_NEWNS,
            Self::Pid(_) => uapi::CLONE_NEWPID,
            Self::Uts(_) => uapi::CLONE_NEWUTS,
        }
    }

    /// The name in `NAME:[INUM]` (Linux: `ns->ops->name`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ipc => "ipc",
            Self::Mnt(_) => "mnt",
            Self::Pid(_) => "pid",
            Self::Uts(_) => "uts",
        }
    }

    /// Linux: `ns->inum`.
    pub fn inum(&self) -> u32 {
        match self {
            Self::Ipc => PROC_IPC_INIT_INO,
            Self::Mnt(ns) => ns.ns_inum,
            Self::Pid(ns) => ns.ns_inum,
            Self::Uts(ns) => ns.ns_inum,
        }
    }
}

/// Linux: `NSFS_MAGIC`.
const NSFS_MAGIC: u64 = 0x6e73_6673;
static NSFS: PseudoFs = PseudoFs::new("nsfs", NSFS_MAGIC);

struct NsInodeOps;
impl InodeOps for NsInodeOps {}
static NS_IOPS: NsInodeOps = NsInodeOps;

/// An open namespace file (Linux: `ns_file_operations`): no data, one
/// ioctl.
struct NsFileOps;
static NS_FOPS: NsFileOps = NsFileOps;

impl FileOps for NsFileOps {
    /// Linux: `ns_ioctl`: `NS_GET_NSTYPE`; the user-namespace and parent
    /// queries have nothing to answer here (`ENOTTY`, as for an unknown
    /// command).
    fn ioctl(&self, file: &File, cmd: u32, _arg: u64) -> KResult<i64> {
        let ns = ns_of_file(file).ok_or(Errno::ENOTTY)?;
        match cmd {
            linux_raw_sys::ioctl::NS_GET_NSTYPE => Ok(i64::from(ns.nstype())),
            _ => Err(Errno::ENOTTY),
        }
    }
}

/// The place to open for `ns` (Linux: `ns_get_path`): a regular file,
/// mode 0444, numbered `ns.inum()`.
pub fn ns_get_path(ns: NsCommon) -> KResult<Path> {
    let mnt = NSFS.kern_mount(uapi::S_IFDIR | 0o555, &NS_FOPS)?;
    let attr = InodeAttr::new(uapi::S_IFREG | 0o444, 0, 0);
    let ino = u64::from(ns.inum());
    let ops = (&NS_IOPS as &'static dyn InodeOps, &NS_FOPS as &'static dyn FileOps, None);
    let inode: Arc<Inode> =
        Inode::new_with_mapping(mnt.mnt_sb.clone(), ino, attr, ops, Box::new(ns))?;
    Ok(Path::new(mnt, Dentry::make_root(inode)?))
}

/// The namespace an open file stands for, if it is an nsfs file (only
/// those carry an `NsCommon`).
pub fn ns_of_file(file: &File) -> Option<NsCommon> {
    file.f_inode.private::<NsCommon>().ok().cloned()
}

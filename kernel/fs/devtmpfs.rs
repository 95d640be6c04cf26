//! devtmpfs: a tmpfs the kernel fills with a node per device, so that
//! `/dev` exists before any user-space helper runs (Linux:
//! drivers/base/devtmpfs.c).
//!
//! There is one instance (Linux: the `devtmpfsd` thread's private mount):
//! every `mount -t devtmpfs` shows the same tree. It is made on first use
//! with a node for each disk and partition the block layer knows
//! (`S_IFBLK`, 0600) and each well-known character device a driver
//! registered (`sysfs::devices::char_devices`, with Linux's devnode modes:
//! 0666 for null, zero, tty...). Devices that appear later are not added
//! (Linux adds them from `device_add`); none are hot-plugged here yet.
//! What user space creates in it stays, as on Linux.
//!
//! [`devtmpfs_mount`] is Linux's `CONFIG_DEVTMPFS_MOUNT`: after the kernel
//! mounts the root itself (no initramfs), it mounts devtmpfs on the root's
//! `/dev`, if that directory exists.
//!
//! # Locking
//! The instance is made once under a `spin::Once`; the nodes are added
//! with its super block's `s_vfs_rename_lock` held, as every namespace
//! change in a tmpfs is.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;

use linux_raw_sys::general as uapi;
use spin::Once;

use super::FsCred;
use super::inode::{DevT, Inode};
use super::namei::lookup_one;
use super::namespace::{MntFlags, Path, do_new_mount};
use super::super_block::{FileSystemType, SuperBlock, register_filesystem};
use super::tmpfs::{TMPFS_MAGIC, new_inode};
use crate::block::genhd::all_bdevs;
use crate::kernel::errno::{Errno, KResult};

/// The "devtmpfs" file-system type (Linux: `dev_fs_type`).
pub struct Devtmpfs;
pub static DEVTMPFS: Devtmpfs = Devtmpfs;

/// The one instance's root.
static DEVTMPFS_ROOT: Once<Arc<Inode>> = Once::new();

impl FileSystemType for Devtmpfs {
    fn name(&self) -> &'static str {
        "devtmpfs"
    }

    /// The shared instance, made and filled on the first mount (Linux:
    /// `public_dev_mount` returns the one super block).
    fn mount(&'static self, _source: &[u8], _data: &[u8], _sb_flags: u32) -> KResult<Arc<Inode>> {
        if let Some(root) = DEVTMPFS_ROOT.get() {
            return Ok(root.clone());
        }
        let sb = SuperBlock::new_anon(self, TMPFS_MAGIC, Box::new(()));
        let root = new_inode(sb, uapi::S_IFDIR | 0o755, FsCred::ROOT, DevT(0), None)?;
        populate(&root)?;
        // Two first mounts may race; both trees are equal, one is kept.
        Ok(DEVTMPFS_ROOT.call_once(|| root).clone())
    }
}

/// Linux: `devtmpfs_create_node` → `handle_create` for every device known.
fn populate(root: &Arc<Inode>) -> KResult<()> {
    let _ns = root.sb.s_vfs_rename_lock.lock();
    let mknod = |name: &str, mode: u32, devt: DevT| match root.i_op.mknod(
        root,
        name.as_bytes(),
        mode,
        devt,
        FsCred::ROOT,
    ) {
        Ok(_) | Err(Errno::EEXIST) => Ok(()),
        Err(e) => Err(e),
    };
    for dev in super::sysfs::devices::char_devices() {
        mknod(dev.name, uapi::S_IFCHR | dev.mode, dev.devt)?;
    }
    for entry in all_bdevs() {
        mknod(entry.bdev.disk_name(), uapi::S_IFBLK | 0o600, entry.bdev.devt())?;
    }
    Ok(())
}

/// Registers devtmpfs (Linux: `devtmpfs_init`).
pub fn devtmpfs_init() -> KResult<()> {
    register_filesystem(&DEVTMPFS)
}

/// Mounts devtmpfs on `root`'s `/dev` (Linux: `devtmpfs_mount`, called by
/// `prepare_namespace` after `mount_root` with `CONFIG_DEVTMPFS_MOUNT`).
/// `ENOENT` if the root has no `/dev` (Linux logs "devtmpfs: error
/// mounting -2" and goes on).
pub fn devtmpfs_mount(root: &Path) -> KResult<()> {
    let dev = lookup_one(&root.dentry, b"dev")?;
    if dev.inode().is_none() {
        return Err(Errno::ENOENT);
    }
    let dev = Path::new(root.mnt.clone(), dev);
    do_new_mount(&dev, b"devtmpfs", b"devtmpfs", b"", MntFlags::RELATIME).map(drop)
}

crate::ktest!(devtmpfs_has_memory_devices, {
    let root = DEVTMPFS.mount(b"devtmpfs", b"", 0).map_err(|_| "mount")?;
    let null = root.i_op.lookup(&root, b"null").map_err(|_| "lookup")?.ok_or("no /dev/null")?;
    let attr = null.attr();
    crate::kassert!(attr.mode == uapi::S_IFCHR | 0o666, "null is crw-rw-rw-");
    crate::kassert!(attr.rdev == DevT::new(1, 3), "null is 1:3");
    let again = DEVTMPFS.mount(b"devtmpfs", b"", 0).map_err(|_| "mount")?;
    crate::kassert!(Arc::ptr_eq(&root, &again), "one instance");
    Ok(())
});

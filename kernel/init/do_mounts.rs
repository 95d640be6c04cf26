//! Mounting the root file system from `root=` when there is no initramfs
//! to do it (Linux: init/do_mounts.c `prepare_namespace`, `mount_root`,
//! `mount_block_root`, `do_mount_root`, `name_to_dev_t`,
//! `printk_all_partitions` of block/genhd.c).
//!
//! `root=` names the device: `/dev/NAME` (a disk or partition the block
//! layer knows: `vda`, `vda1`), `MAJ:MIN`, or a hexadecimal device number
//! as Linux reads it. `rootwait` polls every 5 ms until the device exists;
//! `rootdelay=SECONDS` sleeps first. As Linux does, the device becomes the
//! node `/dev/root` in the rootfs, and each candidate file system is asked
//! to mount `/dev/root`: `rootfstype=` (a comma-separated list), else every
//! registered type that needs a device. `EACCES` and `EINVAL` (not this
//! file system) try the next; a read-write attempt that every type refused
//! is retried read-only. The root is mounted read-only unless `rw` is given;
//! `rootflags=` is the file system's option string.
//!
//! Where Linux mounts the device on `/root` of the rootfs and moves it over
//! `/` (`init_mount(".", "/", MS_MOVE)`, `init_chroot(".")`), Ferrite
//! mounts it directly on the rootfs's `/` and makes it init's root and
//! working directory: the same tree, the rootfs (tmpfs) staying underneath
//! with `/dev/root` and `/dev/console` in it.
//!
//! Failure is Linux's documented behaviour: "VFS: Cannot open root
//! device", the list of disks, and a panic "VFS: Unable to mount root fs on
//! unknown-block(MAJ,MIN)".
//!
//! Unlike Linux, with no initramfs and no `root=` nothing is mounted (the
//! caller keeps the rootfs and, failing an init, the kernel monitor).
//!
//! # Locking
//! None of its own; runs once in PID 1 before user space.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use cmdline::CmdLine;
use linux_raw_sys::general as uapi;

use crate::block::genhd::{all_bdevs, get_disk};
use crate::fs::FsContext;
use crate::fs::FsCred;
use crate::fs::inode::DevT;
use crate::fs::namei::AT_FDCWD;
use crate::fs::namei::create::do_mknodat;
use crate::fs::namespace::{MntFlags, Path, VfsMount, do_new_mount, root_path};
use crate::fs::super_block::{filesystems, get_fs_type};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;
use crate::kernel::time::timer::msleep;
use crate::{pr_info, pr_warn};

/// The node the root device gets in the rootfs (Linux: `/dev/root`).
const DEV_ROOT: &[u8] = b"/dev/root";

/// What `root=` asks for, after `name_to_dev_t`.
struct RootDev<'a> {
    /// `root=` without `/dev/`, for messages (Linux: `root_device_name`).
    name: &'a str,
    devt: DevT,
}

/// Mounts `root=` as the root and makes it init's root and working
/// directory (Linux: `prepare_namespace`); panics as Linux does when it
/// cannot. Does nothing without `root=`.
pub fn prepare_namespace(cmdline: &CmdLine<'_>) {
    let Some(root) = cmdline.root() else { return };
    if let Some(secs) = cmdline.get("rootdelay").and_then(|s| s.parse::<u64>().ok()) {
        pr_info!("Waiting {secs} sec before mounting root device...");
        msleep(secs.saturating_mul(1000));
    }
    let name = root.strip_prefix("/dev/").unwrap_or(root);
    let mut dev = RootDev { name, devt: name_to_dev_t(root) };
    if cmdline.has("rootwait") {
        pr_info!("Waiting for root device {root}...");
        while dev.devt == DevT(0) {
            msleep(5);
            dev.devt = name_to_dev_t(root);
        }
    }
    let readonly = cmdline.root_readonly();
    let data = cmdline.get("rootflags").unwrap_or("");
    mount_root(&dev, cmdline.rootfstype(), readonly, data);
    devtmpfs_mount_root();
}

/// A device number from `root=` (Linux: `name_to_dev_t`): 0 when no
/// such device is known.
fn name_to_dev_t(root: &str) -> DevT {
    if let Some(name) = root.strip_prefix("/dev/") {
        return get_disk(name).map_or(DevT(0), |d| d.devt());
    }
    if let Some((major, minor)) = root.split_once(':') {
        return match (major.parse::<u32>(), minor.parse::<u32>()) {
            (Ok(major), Ok(minor)) if major < 1 << 12 && minor < 1 << 20 => DevT::new(major, minor),
            _ => DevT(0),
        };
    }
    // Linux: `new_decode_dev(simple_strtoul(name, &p, 16))`; other forms
    // (PARTUUID=, PARTLABEL=) are not known here.
    u64::from_str_radix(root, 16).map_or(DevT(0), DevT::decode)
}

/// Linux: `mount_root` → `mount_block_root`: returns once the root is
/// mounted, panics when no file system mounts it.
fn mount_root(dev: &RootDev<'_>, rootfstype: Option<&str>, readonly: bool, data: &str) {
    let unknown = alloc::format!("unknown-block({},{})", dev.devt.major(), dev.devt.minor());
    let fs_names = fs_names(rootfstype);
    let created = create_dev(dev.devt);
    let mut readonly = readonly;
    loop {
        for fstype in &fs_names {
            let err = match created {
                Ok(()) => do_mount_root(fstype, readonly, data),
                Err(e) => Err(e),
            };
            match err {
                Ok(()) => {
                    pr_info!(
                        "VFS: Mounted root ({fstype} filesystem){} on device {}:{}.",
                        if readonly { " readonly" } else { "" },
                        dev.devt.major(),
                        dev.devt.minor()
                    );
                    return;
                }
                Err(Errno::EACCES | Errno::EINVAL) => continue,
                Err(e) => {
                    pr_warn!(
                        "VFS: Cannot open root device \"{}\" or {unknown}: error -{}",
                        dev.name,
                        e as i32
                    );
                    pr_warn!(
                        "Please append a correct \"root=\" boot option; here are the available partitions:"
                    );
                    printk_all_partitions();
                    panic!("VFS: Unable to mount root fs on {unknown}");
                }
            }
        }
        if readonly {
            break;
        }
        readonly = true;
    }
    pr_warn!("List of all partitions:");
    printk_all_partitions();
    let tried: String = fs_names.iter().map(|n| alloc::format!(" {n}")).collect();
    pr_warn!("No filesystem could mount root, tried: {tried}");
    panic!("VFS: Unable to mount root fs on {unknown}");
}

/// The candidate file systems (Linux: `get_fs_names`): `rootfstype=`'s
/// list, else every registered type that needs a device.
fn fs_names(rootfstype: Option<&str>) -> Vec<String> {
    match rootfstype {
        Some(list) => list.split(',').filter(|n| !n.is_empty()).map(String::from).collect(),
        None => filesystems().into_iter().filter(|&(_, dev)| dev).map(|(n, _)| n.into()).collect(),
    }
}

/// PID 1's file-system context (set up by `console_on_rootfs`).
fn with_ctx<R>(f: impl FnOnce(FsContext<'_>) -> KResult<R>) -> KResult<R> {
    let tsk = current();
    let fs = tsk.fs.lock().clone().ok_or(Errno::ENOENT)?;
    let files = tsk.files.lock().clone().ok_or(Errno::ENOENT)?;
    f(FsContext { fs: &fs, files: &files, cred: FsCred::ROOT })
}

/// Makes `/dev/root` in the rootfs (Linux: `create_dev`); a device that
/// does not exist is `ENXIO`, as opening its node would be.
fn create_dev(devt: DevT) -> KResult<()> {
    if devt == DevT(0) || !all_bdevs().iter().any(|b| b.bdev.devt() == devt) {
        return Err(Errno::ENXIO);
    }
    with_ctx(|ctx| {
        let mode = uapi::S_IFBLK | 0o600;
        match do_mknodat(ctx, AT_FDCWD, DEV_ROOT, mode, devt.encode()) {
            Ok(()) | Err(Errno::EEXIST) => Ok(()),
            Err(e) => Err(e),
        }
    })
}

/// Mounts `/dev/root` as `fstype` over `/` and makes it PID 1's root and
/// working directory (Linux: `do_mount_root`).
fn do_mount_root(fstype: &str, readonly: bool, data: &str) -> KResult<()> {
    get_fs_type(fstype.as_bytes()).ok_or(Errno::ENODEV)?;
    // Linux's `init_mount` goes through `path_mount`, which defaults every
    // mount to relatime: /proc/mounts says "/dev/root / ext2 rw,relatime".
    let mut flags = MntFlags::RELATIME;
    flags.set(MntFlags::READONLY, readonly);
    let rootfs = root_path()?;
    let mnt = do_new_mount(&rootfs, fstype.as_bytes(), DEV_ROOT, data.as_bytes(), flags)?;
    chroot_into(&mnt)
}

/// Mounts devtmpfs on the new root's /dev (Linux: `devtmpfs_mount()` in
/// `prepare_namespace`, CONFIG_DEVTMPFS_MOUNT); a root without /dev boots
/// on without it.
fn devtmpfs_mount_root() {
    let Some(root) = current().fs.lock().as_ref().map(|fs| fs.root()) else { return };
    match crate::fs::devtmpfs::devtmpfs_mount(&root) {
        Ok(()) => pr_info!("devtmpfs: mounted"),
        Err(e) => pr_info!("devtmpfs: error mounting -{}", e as u32),
    }
}

fn chroot_into(mnt: &Arc<VfsMount>) -> KResult<()> {
    let root = Path::new(mnt.clone(), mnt.mnt_root.clone());
    let fs = current().fs.lock().clone().ok_or(Errno::ENOENT)?;
    fs.set_pwd(root.clone());
    fs.set_root(root);
    Ok(())
}

/// Lists every disk and partition (Linux: `printk_all_partitions`):
/// device number as `bdevt_str` prints it, size in KiB, name.
fn printk_all_partitions() {
    for entry in all_bdevs() {
        let devt = entry.bdev.devt();
        let kib = entry.bdev.capacity() >> 1;
        let number = if devt.major() <= 0xff && devt.minor() <= 0xff {
            alloc::format!("{:02x}{:02x}", devt.major(), devt.minor())
        } else {
            alloc::format!("{:03x}:{:05x}", devt.major(), devt.minor())
        };
        let (indent, driver) = match entry.whole {
            Some(_) => ("  ", ""),
            None => ("", " (driver?)"),
        };
        pr_warn!("{indent}{number:<9} {kib:>10} {} {driver}", entry.bdev.disk_name());
    }
}

crate::ktest!(do_mounts_name_to_dev_t, {
    crate::kassert!(name_to_dev_t("254:1") == DevT::new(254, 1), "MAJ:MIN");
    crate::kassert!(name_to_dev_t("fe01") == DevT::new(254, 1), "hexadecimal, as Linux");
    crate::kassert!(name_to_dev_t("/dev/nosuchdisk") == DevT(0), "unknown name");
    crate::kassert!(name_to_dev_t("PARTUUID=1234-01") == DevT(0), "unsupported form");
    crate::kassert!(name_to_dev_t("4096:0") == DevT(0), "major past 12 bits");
    if let Some(vda) = get_disk("vda") {
        crate::kassert!(name_to_dev_t("/dev/vda") == vda.devt(), "vda by name");
    }
    Ok(())
});

crate::ktest!(do_mounts_fs_names, {
    crate::kassert!(fs_names(Some("ext2,,ext4")) == ["ext2", "ext4"], "rootfstype= list");
    let all = fs_names(None);
    crate::kassert!(
        !all.iter().any(|n| n == "tmpfs" || n == "proc"),
        "only types needing a device"
    );
    Ok(())
});

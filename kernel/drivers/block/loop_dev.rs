//! Loop devices: a file seen as a disk, `/dev/loop0`..`/dev/loop7`, bound
//! and unbound with ioctls (`losetup`, `mount -o loop`), and
//! `/dev/loop-control` to find a free one.
//!
//! Linux: drivers/block/loop.c (`loop_configure`, `loop_clr_fd`,
//! `loop_set_status`, `loop_get_status`, `lo_rw_aio`, `loop_control_ioctl`),
//! include/uapi/linux/loop.h (`struct loop_info64`, `struct loop_config`).
//!
//! A bound device reads and writes its backing file through the file's own
//! operations at `lo_offset + sector * 512`, so a loop device on an ext2
//! file goes through ext2's page cache, as Linux's buffered loop does;
//! a read past the file's end returns zeros. `fsync` of the device
//! (its `flush`) fsyncs the file. Binding or unbinding changes the
//! capacity and drops the device's page cache (Linux: `loop_set_size`,
//! `invalidate_bdev`).
//!
//! Differences from Linux, all at the edges: the eight devices are made at
//! boot and `LOOP_CTL_ADD`/`LOOP_CTL_REMOVE` cannot make or remove more
//! (devtmpfs does not add nodes after its first mount: fs/devtmpfs.rs), so
//! `LOOP_CTL_GET_FREE` is `ENOSPC` when all eight are bound; `LOOP_CLR_FD`
//! unbinds at once instead of deferring to the last close
//! (`LO_FLAGS_AUTOCLEAR`) while the device is open elsewhere; I/O is
//! always buffered (`LOOP_SET_DIRECT_IO` is accepted and changes nothing).
//!
//! # Locking
//! `LoopDevice::state` (an IRQ-safe spinlock, a leaf) only to read or
//! swap the binding; I/O runs with no lock held, on a clone of the
//! backing file's `Arc`, and may sleep in the backing file system.
#![deny(unsafe_code)]

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use linux_raw_sys::loop_device as lo;

use crate::arch::uaccess::{UserAddr, copy_from_user, copy_to_user};
use crate::block::stat::DiskStats;
use crate::block::{BlockDevice, SECTOR_SIZE, add_disk, check_io, get_disk_by_devt};
use crate::fs::char_dev::register_chrdev_region;
use crate::fs::file_table::{FMode, File, FileOps};
use crate::fs::inode::{DevT, FileType, Inode};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::current;

/// The block major of loop devices (Linux: `LOOP_MAJOR`).
pub const LOOP_MAJOR: u32 = 7;
/// `/dev/loop-control` is misc device 10:237 (Linux: `LOOP_CTRL_MINOR`).
const LOOP_CTRL_DEVT: DevT = DevT::new(10, 237);
/// Devices made at boot (Linux: `CONFIG_BLK_DEV_LOOP_MIN_COUNT`).
const MAX_LOOP: u32 = 8;
/// `struct loop_info64` and `struct loop_config`, in bytes.
const LOOP_INFO64_SIZE: usize = 232;
const LOOP_CONFIG_SIZE: usize = 304;
const LO_NAME_SIZE: usize = lo::LO_NAME_SIZE as usize;
/// Flags `LOOP_SET_STATUS64` may change (Linux: `LOOP_SET_STATUS_SETTABLE_FLAGS`).
const SETTABLE_FLAGS: u32 = lo::LO_FLAGS_AUTOCLEAR as u32 | lo::LO_FLAGS_PARTSCAN as u32;

/// What a device is bound to (Linux: the `lo_*` fields of `struct loop_device`).
#[derive(Clone)]
struct Binding {
    file: Arc<File>,
    offset: u64,
    sizelimit: u64,
    flags: u32,
    file_name: [u8; LO_NAME_SIZE],
}

/// One loop device (Linux: `struct loop_device`).
pub struct LoopDevice {
    number: u32,
    name: String,
    state: SpinLock<Option<Binding>>,
    /// In sectors; 0 while unbound.
    capacity: AtomicU64,
    stats: DiskStats,
}

impl LoopDevice {
    fn binding(&self) -> KResult<Binding> {
        self.state.lock().clone().ok_or(Errno::ENXIO)
    }

    /// Linux: `get_size`: what the file holds past `offset`, cut at
    /// `sizelimit`, in whole sectors.
    fn compute_capacity(b: &Binding) -> u64 {
        let mut bytes = b.file.f_inode.size().saturating_sub(b.offset);
        if b.sizelimit != 0 {
            bytes = bytes.min(b.sizelimit);
        }
        bytes / SECTOR_SIZE as u64
    }

    /// Sets the capacity and makes the device's page cache agree (Linux:
    /// `loop_set_size` → `set_capacity_and_notify`, `invalidate_bdev`).
    fn set_capacity(&self, sectors: u64) {
        self.capacity.store(sectors, Ordering::Release);
        let Some(disk) = get_disk_by_devt(self.devt()) else { return };
        if let Ok(inode) = crate::fs::buffer::bdget(&disk) {
            inode.update_attr(|a| a.size = sectors.saturating_mul(SECTOR_SIZE as u64));
            if let Some(mapping) = inode.i_mapping() {
                mapping.lock().invalidate_clean(usize::MAX);
            }
        }
    }

    /// Linux: `loop_configure`: binds `file` with the settings of `info`.
    fn configure(&self, file: Arc<File>, info: &LoopInfo64) -> KResult<()> {
        let kind = file.f_inode.file_type();
        if kind != FileType::Regular && kind != FileType::BlockDev {
            return Err(Errno::EINVAL);
        }
        if kind == FileType::BlockDev && file.f_inode.attr().rdev == self.devt() {
            return Err(Errno::EINVAL); // itself: I/O would recurse
        }
        let mut flags = info.flags & SETTABLE_FLAGS;
        if !file.f_mode.contains(FMode::WRITE) {
            flags |= lo::LO_FLAGS_READ_ONLY as u32;
        }
        let binding = Binding {
            file,
            offset: info.offset,
            sizelimit: info.sizelimit,
            flags,
            file_name: info.file_name,
        };
        let sectors = Self::compute_capacity(&binding);
        {
            let mut state = self.state.lock();
            if state.is_some() {
                return Err(Errno::EBUSY);
            }
            *state = Some(binding);
        }
        self.set_capacity(sectors);
        Ok(())
    }

    /// Linux: `loop_clr_fd` (without the deferral; see the header).
    fn clr_fd(&self) -> KResult<()> {
        let old = self.state.lock().take().ok_or(Errno::ENXIO)?;
        if let Some(disk) = get_disk_by_devt(self.devt()) {
            let _ = crate::fs::buffer::sync_blockdev(&disk);
        }
        self.set_capacity(0);
        drop(old); // the file's last reference may go here, no lock held
        Ok(())
    }

    /// Linux: `loop_set_status`: new offset, size limit, flags and name.
    fn set_status(&self, info: &LoopInfo64) -> KResult<()> {
        let sectors = {
            let mut state = self.state.lock();
            let b = state.as_mut().ok_or(Errno::ENXIO)?;
            b.offset = info.offset;
            b.sizelimit = info.sizelimit;
            b.flags = (b.flags & !SETTABLE_FLAGS) | (info.flags & SETTABLE_FLAGS);
            b.file_name = info.file_name;
            Self::compute_capacity(b)
        };
        self.set_capacity(sectors);
        Ok(())
    }

    /// Linux: `loop_get_status`.
    fn get_status(&self) -> KResult<LoopInfo64> {
        let b = self.binding()?;
        let inode: &Inode = &b.file.f_inode;
        Ok(LoopInfo64 {
            device: inode.sb.s_dev.encode(),
            inode: inode.ino,
            rdevice: inode.attr().rdev.encode(),
            offset: b.offset,
            sizelimit: b.sizelimit,
            number: self.number,
            flags: b.flags,
            file_name: b.file_name,
        })
    }

    /// Moves `buf` to or from the backing file at sector `lba` (Linux:
    /// `lo_read_simple`/`lo_write_simple`): a read short of the file's
    /// end is zero-filled, a short write is `EIO`.
    fn transfer(&self, lba: u64, buf: Io<'_>) -> KResult<()> {
        let b = self.binding().map_err(|_| Errno::EIO)?;
        let mut pos = lba
            .checked_mul(SECTOR_SIZE as u64)
            .and_then(|at| at.checked_add(b.offset))
            .ok_or(Errno::EIO)?;
        match buf {
            Io::Read(buf) => {
                let mut done = 0;
                while done < buf.len() {
                    match b.file.f_op.read(&b.file, &mut buf[done..], &mut pos)? {
                        0 => break,
                        n => done += n,
                    }
                }
                buf[done..].fill(0);
            }
            Io::Write(buf) => {
                if b.flags & lo::LO_FLAGS_READ_ONLY as u32 != 0 {
                    return Err(Errno::EROFS);
                }
                let mut done = 0;
                while done < buf.len() {
                    match b.file.f_op.write(&b.file, &buf[done..], &mut pos)? {
                        0 => return Err(Errno::EIO),
                        n => done += n,
                    }
                }
            }
        }
        Ok(())
    }
}

enum Io<'a> {
    Read(&'a mut [u8]),
    Write(&'a [u8]),
}

impl BlockDevice for LoopDevice {
    fn disk_name(&self) -> &str {
        &self.name
    }

    fn capacity(&self) -> u64 {
        self.capacity.load(Ordering::Acquire)
    }

    fn read_blocks(&self, lba: u64, buf: &mut [u8]) -> KResult<()> {
        let sectors = check_io(lba, buf.len(), self.capacity())?;
        self.stats
            .account(crate::block::bio::ReqOp::Read, sectors, || self.transfer(lba, Io::Read(buf)))
    }

    fn write_blocks(&self, lba: u64, buf: &[u8]) -> KResult<()> {
        let sectors = check_io(lba, buf.len(), self.capacity())?;
        self.stats.account(crate::block::bio::ReqOp::Write, sectors, || {
            self.transfer(lba, Io::Write(buf))
        })
    }

    fn read_only(&self) -> bool {
        self.state.lock().as_ref().is_some_and(|b| b.flags & lo::LO_FLAGS_READ_ONLY as u32 != 0)
    }

    fn devt(&self) -> DevT {
        DevT::new(LOOP_MAJOR, self.number)
    }

    /// Linux: `lo_req_flush` → `vfs_fsync` of the backing file.
    fn flush(&self) -> KResult<()> {
        match self.binding() {
            Ok(b) => crate::fs::sync::vfs_fsync(&b.file, false),
            Err(_) => Ok(()),
        }
    }

    fn stats(&self) -> Option<&DiskStats> {
        Some(&self.stats)
    }

    /// Linux: `lo_ioctl`.
    fn ioctl(&self, cmd: u32, arg: u64) -> KResult<i64> {
        match cmd {
            lo::LOOP_SET_FD => {
                let fd = i32::try_from(arg).map_err(|_| Errno::EBADF)?;
                let file = crate::fs::fdtable::fdget_current(fd)?;
                self.configure(file, &LoopInfo64::default())?;
            }
            lo::LOOP_CONFIGURE => {
                let mut raw = [0u8; LOOP_CONFIG_SIZE];
                copy_from_user(&mut raw, UserAddr::new(arg)).map_err(|_| Errno::EFAULT)?;
                let fd = i32::try_from(le_u32(&raw, 0)).map_err(|_| Errno::EBADF)?;
                let block_size = le_u32(&raw, 4);
                if block_size != 0 && !valid_block_size(block_size) {
                    return Err(Errno::EINVAL);
                }
                let info = LoopInfo64::from_bytes(&raw[8..8 + LOOP_INFO64_SIZE]);
                self.configure(crate::fs::fdtable::fdget_current(fd)?, &info)?;
            }
            lo::LOOP_CLR_FD => self.clr_fd()?,
            lo::LOOP_SET_STATUS64 => {
                let mut raw = [0u8; LOOP_INFO64_SIZE];
                copy_from_user(&mut raw, UserAddr::new(arg)).map_err(|_| Errno::EFAULT)?;
                self.set_status(&LoopInfo64::from_bytes(&raw))?;
            }
            lo::LOOP_GET_STATUS64 => {
                let info = self.get_status()?;
                copy_to_user(UserAddr::new(arg), &info.to_bytes()).map_err(|_| Errno::EFAULT)?;
            }
            lo::LOOP_SET_CAPACITY => {
                let b = self.binding()?;
                self.set_capacity(Self::compute_capacity(&b));
            }
            lo::LOOP_SET_DIRECT_IO => {
                self.binding()?;
            }
            lo::LOOP_SET_BLOCK_SIZE => {
                self.binding()?;
                if !u32::try_from(arg).is_ok_and(valid_block_size) {
                    return Err(Errno::EINVAL);
                }
            }
            _ => return Err(Errno::ENOTTY),
        }
        Ok(0)
    }
}

/// Linux: `blk_validate_block_size`: a power of two from 512 to the page size.
fn valid_block_size(size: u32) -> bool {
    size.is_power_of_two() && (512..=4096).contains(&size)
}

fn le_u32(raw: &[u8], at: usize) -> u32 {
    raw.get(at..at + 4).and_then(|b| b.try_into().ok()).map_or(0, u32::from_le_bytes)
}

fn le_u64(raw: &[u8], at: usize) -> u64 {
    raw.get(at..at + 8).and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes)
}

/// The fields of `struct loop_info64` a loop device keeps; encryption is
/// gone from Linux too (its fields read 0).
struct LoopInfo64 {
    device: u64,
    inode: u64,
    rdevice: u64,
    offset: u64,
    sizelimit: u64,
    number: u32,
    flags: u32,
    file_name: [u8; LO_NAME_SIZE],
}

impl Default for LoopInfo64 {
    fn default() -> Self {
        Self {
            device: 0,
            inode: 0,
            rdevice: 0,
            offset: 0,
            sizelimit: 0,
            number: 0,
            flags: 0,
            file_name: [0; LO_NAME_SIZE],
        }
    }
}

impl LoopInfo64 {
    fn from_bytes(raw: &[u8]) -> Self {
        let mut file_name = [0; LO_NAME_SIZE];
        if let Some(name) = raw.get(56..56 + LO_NAME_SIZE) {
            file_name.copy_from_slice(name);
        }
        // Linux: `loop_set_status_from_info` terminates the name.
        file_name[LO_NAME_SIZE - 1] = 0;
        Self {
            offset: le_u64(raw, 24),
            sizelimit: le_u64(raw, 32),
            flags: le_u32(raw, 52),
            file_name,
            ..Self::default()
        }
    }

    fn to_bytes(&self) -> [u8; LOOP_INFO64_SIZE] {
        let mut raw = [0u8; LOOP_INFO64_SIZE];
        let fields = [self.device, self.inode, self.rdevice, self.offset, self.sizelimit];
        for (i, value) in fields.into_iter().enumerate() {
            raw[i * 8..i * 8 + 8].copy_from_slice(&value.to_le_bytes());
        }
        raw[40..44].copy_from_slice(&self.number.to_le_bytes());
        raw[52..56].copy_from_slice(&self.flags.to_le_bytes());
        raw[56..56 + LO_NAME_SIZE].copy_from_slice(&self.file_name);
        raw
    }
}

/// The devices, by number.
static LOOP_DEVICES: spin::Once<Vec<Arc<LoopDevice>>> = spin::Once::new();

/// `/dev/loop-control` (Linux: `loop_ctl_fops`).
struct LoopControl;
static LOOP_CTL_FOPS: LoopControl = LoopControl;

impl FileOps for LoopControl {
    /// Linux: `loop_control_ioctl`; root only (`CAP_SYS_ADMIN`).
    fn ioctl(&self, _file: &File, cmd: u32, arg: u64) -> KResult<i64> {
        if current().cred().euid != 0 {
            return Err(Errno::EPERM);
        }
        let devices = LOOP_DEVICES.get().ok_or(Errno::ENODEV)?;
        let bound = |d: &Arc<LoopDevice>| d.state.lock().is_some();
        match cmd {
            lo::LOOP_CTL_GET_FREE => {
                devices.iter().find(|d| !bound(d)).map(|d| i64::from(d.number)).ok_or(Errno::ENOSPC)
            }
            lo::LOOP_CTL_ADD => match usize::try_from(arg).ok().and_then(|i| devices.get(i)) {
                Some(_) => Err(Errno::EEXIST),
                None => Err(Errno::ENOSPC),
            },
            lo::LOOP_CTL_REMOVE => match usize::try_from(arg).ok().and_then(|i| devices.get(i)) {
                Some(d) if bound(d) => Err(Errno::EBUSY),
                Some(_) => Err(Errno::EOPNOTSUPP),
                None => Err(Errno::ENODEV),
            },
            _ => Err(Errno::ENOTTY),
        }
    }

    fn seekable(&self) -> bool {
        false
    }
}

/// Makes loop0..loop7 and `/dev/loop-control` (Linux: `loop_init`).
pub fn loop_init() {
    let devices: Vec<Arc<LoopDevice>> = (0..MAX_LOOP)
        .map(|number| {
            Arc::new(LoopDevice {
                number,
                name: format!("loop{number}"),
                state: SpinLock::new(None),
                capacity: AtomicU64::new(0),
                stats: DiskStats::new(),
            })
        })
        .collect();
    for device in &devices {
        if let Err(e) = add_disk(device.clone()) {
            crate::pr_err!("loop: cannot add {}: -{}", device.name, e as u32);
        }
    }
    LOOP_DEVICES.call_once(|| devices);
    if let Err(e) = register_chrdev_region(LOOP_CTRL_DEVT, 1, "misc", &LOOP_CTL_FOPS) {
        crate::pr_err!("loop: cannot register loop-control: -{}", e as u32);
    }
}

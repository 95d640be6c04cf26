//! Block devices as files: `/dev/vda` and `/dev/vda1` read and written at
//! any offset and length, `lseek` to the end, `fsync`, and the `BLK*`
//! ioctls `blockdev`, `fdisk` and `mkfs` use.
//!
//! Linux: block/fops.c (`blkdev_open`, `blkdev_read_iter`,
//! `blkdev_write_iter`, `blkdev_llseek`, `blkdev_fsync`), block/ioctl.c
//! (`blkdev_ioctl`, `blkdev_common_ioctl`).
//!
//! Reads and writes go through the device's page cache, the buffer cache
//! of fs/buffer.rs (`bdget`), so a block-device file and a file system
//! mounted from the same device see the same bytes: a partial page is
//! read in first, a write dirties pages that the flusher, `fsync` or
//! `sync` write back. `fsync` writes them and flushes the disk's cache;
//! `BLKFLSBUF` does that and drops the clean pages; `BLKDISCARD` does that
//! and discards the range. `BLKROSET` marks a device read-only above what
//! the disk says (`POLICY_RO`). A partition has its own cache, apart from
//! its disk's, as in Linux. `O_DIRECT` is accepted
//! and, unlike Linux, takes the cached path too. Reads at or past the
//! end return 0 bytes; writes there fail with `ENOSPC`, as in Linux.
//!
//! # Locking
//! `POLICY_RO`, a leaf; otherwise the page cache's (fs/pagecache.rs). Two writers of
//! the same bytes race as on Linux, which holds no lock across a
//! block-device write either.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use linux_raw_sys::ioctl as cmds;

use super::buffer::{bdev_forget_partitions, bdget, sync_blockdev};
use super::file_table::{FMode, File, FileOps, Whence};
use super::inode::Inode;
use super::pagecache::{generic_file_read, generic_perform_write};
use super::read_write::generic_file_llseek;
use crate::arch::uaccess::{UserAddr, copy_from_user, copy_to_user};
use crate::block::genhd::rescan_partitions;
use crate::block::{BlockDevice, SECTOR_SIZE, get_disk_by_devt};
use crate::fs::inode::DevT;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLockNoIrq;

/// The logical and physical block size the ioctls report (Linux:
/// `bdev_logical_block_size`): 512, as for a virtio disk without
/// `VIRTIO_BLK_F_BLK_SIZE`.
const BLOCK_SIZE: u16 = 512;

/// Devices made read-only by `BLKROSET` (Linux: `bdev->bd_read_only`,
/// `set_device_ro`), by device number: a policy above the disk's own
/// `read_only`, kept while the system runs. A leaf lock.
static POLICY_RO: SpinLockNoIrq<Vec<DevT>> = SpinLockNoIrq::new(Vec::new());

/// Linux: `bdev_read_only`: the disk refuses writes, or `BLKROSET` said so.
fn bdev_read_only(dev: &dyn BlockDevice) -> bool {
    dev.read_only() || POLICY_RO.lock().contains(&dev.devt())
}

/// Linux: `blkdev_roset`: the int at `arg` makes the device read-only
/// (non-zero) or writable again; `CAP_SYS_ADMIN` (root) only.
fn blkdev_roset(dev: &dyn BlockDevice, arg: u64) -> KResult<i64> {
    if crate::kernel::sched::current().cred().euid != 0 {
        return Err(Errno::EACCES);
    }
    let mut raw = [0u8; 4];
    copy_from_user(&mut raw, UserAddr::new(arg)).map_err(|_| Errno::EFAULT)?;
    let devt = dev.devt();
    let mut set = POLICY_RO.lock();
    set.retain(|&d| d != devt);
    if i32::from_ne_bytes(raw) != 0 {
        set.push(devt);
    }
    Ok(0)
}

/// The file operations of every block-device node (Linux: `def_blk_fops`).
pub static DEF_BLK_FOPS: BlkFops = BlkFops;

pub struct BlkFops;

/// What an open block device file holds: its disk or partition.
struct BdevFile(Arc<dyn BlockDevice>);

fn bdev(file: &File) -> KResult<&Arc<dyn BlockDevice>> {
    file.private::<BdevFile>().map(|b| &b.0).ok_or(Errno::ENXIO)
}

fn size_bytes(dev: &dyn BlockDevice) -> u64 {
    dev.capacity().saturating_mul(SECTOR_SIZE as u64)
}

/// The page cache of `dev`: the buffer cache a mounted file system
/// reads and writes too (Linux: `bdev->bd_inode->i_mapping`).
fn bdev_inode(dev: &Arc<dyn BlockDevice>) -> KResult<Arc<Inode>> {
    bdget(dev)
}

/// Linux: `blkdev_read_iter` → `filemap_read`, cut at the end of the
/// device (the bdev inode's size).
fn blkdev_read(dev: &Arc<dyn BlockDevice>, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
    generic_file_read(&*bdev_inode(dev)?, buf, pos)
}

/// Linux: `blkdev_write_iter` → `generic_perform_write`: `ENOSPC` at the
/// end, a write running past it is cut short. The pages are dirty in
/// the cache; the flusher, `fsync` or `sync` writes them.
fn blkdev_write(dev: &Arc<dyn BlockDevice>, buf: &[u8], pos: &mut u64) -> KResult<usize> {
    if bdev_read_only(dev.as_ref()) {
        return Err(Errno::EPERM);
    }
    let size = size_bytes(dev.as_ref());
    if buf.is_empty() {
        return Ok(0);
    }
    if *pos >= size {
        return Err(Errno::ENOSPC);
    }
    let total = buf.len().min(usize::try_from(size - *pos).unwrap_or(usize::MAX));
    generic_perform_write(&*bdev_inode(dev)?, &buf[..total], pos)
}

/// Writes the device's dirty pages, then empties its write cache (Linux:
/// `blkdev_fsync`: `file_write_and_wait_range` + `blkdev_issue_flush`).
fn blkdev_fsync(dev: &Arc<dyn BlockDevice>) -> KResult<()> {
    sync_blockdev(dev)?;
    dev.flush()
}

/// Linux: `BLKFLSBUF` → `sync_blockdev` + `invalidate_bdev`: written,
/// flushed, and the clean pages nobody holds dropped, so the next read
/// comes from the disk.
fn blkdev_flsbuf(dev: &Arc<dyn BlockDevice>) -> KResult<()> {
    blkdev_fsync(dev)?;
    let inode = bdev_inode(dev)?;
    if let Some(mapping) = inode.i_mapping() {
        mapping.lock().invalidate_clean(usize::MAX);
    }
    Ok(())
}

/// Linux: `blk_ioctl_discard`: `{ start, len }` in bytes at `arg`, whole
/// sectors inside the device, on a device open for writing. The cached
/// pages of the device are written and dropped first (Linux:
/// `truncate_bdev_range`), so nothing stale is read or written back.
fn blk_ioctl_discard(file: &File, dev: &Arc<dyn BlockDevice>, arg: u64) -> KResult<i64> {
    if !file.f_mode.contains(FMode::WRITE) {
        return Err(Errno::EBADF);
    }
    let mut raw = [0u8; 16];
    copy_from_user(&mut raw, UserAddr::new(arg)).map_err(|_| Errno::EFAULT)?;
    let (start, len) = raw.split_at(8);
    let start = u64::from_ne_bytes(start.try_into().map_err(|_| Errno::EINVAL)?);
    let len = u64::from_ne_bytes(len.try_into().map_err(|_| Errno::EINVAL)?);
    let sector = SECTOR_SIZE as u64;
    if start % sector != 0 || len % sector != 0 {
        return Err(Errno::EINVAL);
    }
    if start.checked_add(len).is_none_or(|end| end > size_bytes(dev.as_ref())) {
        return Err(Errno::EINVAL);
    }
    blkdev_flsbuf(dev)?;
    dev.discard(start / sector, len / sector).map(|()| 0)
}

/// Stores `value`'s bytes at user address `arg`.
fn put(arg: u64, value: &[u8]) -> KResult<i64> {
    copy_to_user(UserAddr::new(arg), value).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}

impl FileOps for BlkFops {
    /// Linux: `blkdev_open`: a number without a disk is `ENXIO`.
    fn open(&self, inode: &Arc<Inode>, file: &File) -> KResult<()> {
        let dev = get_disk_by_devt(inode.attr().rdev).ok_or(Errno::ENXIO)?;
        file.set_private(Box::new(BdevFile(dev)));
        Ok(())
    }

    fn read(&self, file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        blkdev_read(bdev(file)?, buf, pos)
    }

    fn write(&self, file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize> {
        blkdev_write(bdev(file)?, buf, pos)
    }

    /// Linux: `blkdev_llseek`: the file is as long as the device.
    fn llseek(&self, file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        generic_file_llseek(pos, size_bytes(bdev(file)?.as_ref()), offset, whence)
    }

    fn fsync(&self, file: &File) -> KResult<()> {
        blkdev_fsync(bdev(file)?)
    }

    /// Linux: `blkdev_ioctl`; numbers from include/uapi/linux/fs.h.
    fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> KResult<i64> {
        let dev = bdev(file)?;
        match cmd {
            cmds::BLKGETSIZE64 => put(arg, &size_bytes(dev.as_ref()).to_ne_bytes()),
            cmds::BLKGETSIZE => put(arg, &dev.capacity().to_ne_bytes()),
            cmds::BLKSSZGET => put(arg, &i32::from(BLOCK_SIZE).to_ne_bytes()),
            cmds::BLKPBSZGET => put(arg, &u32::from(BLOCK_SIZE).to_ne_bytes()),
            cmds::BLKROGET => put(arg, &i32::from(bdev_read_only(dev.as_ref())).to_ne_bytes()),
            cmds::BLKROSET => blkdev_roset(dev.as_ref(), arg),
            cmds::BLKDISCARD => blk_ioctl_discard(file, dev, arg),
            cmds::BLKFLSBUF => blkdev_flsbuf(dev).map(|()| 0),
            cmds::BLKRRPART => {
                // The table is read from the disk itself, not through this
                // cache: a table just written here must reach it first.
                crate::fs::buffer::sync_blockdev(dev)?;
                bdev_forget_partitions(dev)?;
                rescan_partitions(dev).map(|()| 0)
            }
            _ => dev.ioctl(cmd, arg),
        }
    }
}

crate::ktest!(block_dev_partial_sectors_and_end, {
    use crate::block::get_disk;
    use crate::drivers::block::virtio_blk_test::pattern;
    // vda2 starts at disk sector 1024 of the ktest disk.
    let Some(dev) = get_disk("vda2") else {
        crate::pr_info!("ktest: no vda2; block_dev test skipped");
        return Ok(());
    };
    let dev = &dev;
    let expect = |pos: u64| pattern(1024 + pos / 512, (pos % 512) as usize);
    let (at, len) = (3 * 512 + 300, 700);
    let mut old = vec![0u8; len];
    let mut pos = at;
    crate::kassert!(blkdev_read(dev, &mut old, &mut pos) == Ok(len), "read across a sector");
    crate::kassert!(pos == at + len as u64, "the position moved");
    crate::kassert!(old.iter().zip(at..).all(|(&b, p)| b == expect(p)), "read the pattern");
    let new: Vec<u8> = (0..len).map(|i| u8::try_from(i % 7).unwrap_or(0) + 1).collect();
    let mut pos = at;
    crate::kassert!(blkdev_write(dev, &new, &mut pos) == Ok(len), "write at an odd offset");
    let mut wide = vec![0u8; len + 2];
    let mut pos = at - 1;
    crate::kassert!(blkdev_read(dev, &mut wide, &mut pos).is_ok(), "read it back");
    crate::kassert!(wide[1..=len] == new[..], "what was written is read back");
    crate::kassert!(wide[0] == expect(at - 1), "the byte before is kept");
    crate::kassert!(wide[len + 1] == expect(at + len as u64), "the byte after is kept");
    // The write is in the cache the buffer cache shares, not on the disk
    // until fsync.
    let (sector, skip) = (at / 512, (at % 512) as usize);
    let mut raw = vec![0u8; 2 * 512];
    dev.read_blocks(sector, &mut raw).map_err(|_| "read_blocks")?;
    crate::kassert!(raw[skip..skip + len] == old[..], "not on the disk before fsync");
    let bh = crate::fs::buffer::bread(dev, sector, 512).map_err(|_| "bread")?;
    crate::kassert!(bh.data()[skip..] == new[..512 - skip], "the buffer cache sees the write");
    drop(bh);
    crate::kassert!(blkdev_fsync(dev).is_ok(), "fsync");
    dev.read_blocks(sector, &mut raw).map_err(|_| "read_blocks 2")?;
    crate::kassert!(raw[skip..skip + len] == new[..], "on the disk after fsync");
    let mut pos = at;
    crate::kassert!(blkdev_write(dev, &old, &mut pos) == Ok(len), "restore");
    crate::kassert!(blkdev_flsbuf(dev).is_ok(), "BLKFLSBUF");
    let page = at / crate::mm::addr::PAGE_SIZE as u64;
    let mapping_has = bdev_inode(dev).ok().and_then(|i| i.i_mapping().map(|m| m.has_page(page)));
    crate::kassert!(mapping_has == Some(false), "BLKFLSBUF dropped the clean page");
    dev.read_blocks(sector, &mut raw).map_err(|_| "read_blocks 3")?;
    crate::kassert!(raw[skip..skip + len] == old[..], "and wrote the restore first");
    let size = size_bytes(dev.as_ref());
    let mut pos = size;
    crate::kassert!(blkdev_read(dev, &mut wide, &mut pos) == Ok(0), "a read at the end is 0");
    crate::kassert!(blkdev_write(dev, &new, &mut pos) == Err(Errno::ENOSPC), "a write there");
    let mut pos = size - 2;
    crate::kassert!(blkdev_read(dev, &mut wide, &mut pos) == Ok(2), "a read is cut at the end");
    Ok(())
});

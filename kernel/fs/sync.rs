//! The sync family: `sync`, `syncfs`, `fsync`, `fdatasync`,
//! `sync_file_range`, and `O_SYNC`/`O_DSYNC` writes (Linux: fs/sync.c,
//! `generic_write_sync` in include/linux/fs.h).
//!
//! `fsync` writes the file's dirty pages through its mapping, then its
//! inode if dirty (`fdatasync` skips a timestamp-only change), reports
//! any writeback error since the last fsync, and finally asks the file's
//! own `FileOps::fsync` (the file system's part; `EINVAL` where it has
//! none: pipes, sockets, most character devices). `sync` and `syncfs`
//! write every dirty inode of the file systems, call their `sync_fs`,
//! write the dirty buffers of their disks, and then flush each disk's
//! write cache (`VIRTIO_BLK_T_FLUSH`; Linux: `blkdev_issue_flush`), so
//! what they wrote survives a power cut. A disk file system's
//! `FileOps::fsync` flushes its disk the same way (ext2: `ext2_fsync`).
//! Writes are synchronous (a request completes before `write_blocks`
//! returns), so "and wait" is already done. [`deactivate_super`] is the
//! unmount's sync.
//!
//! # Locking
//! None of its own; called with no lock held, and sleeps in I/O.
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use super::buffer::sync_blockdev;
use super::fdget;
use super::file_table::{FMode, File};
use super::fs_writeback::{writeback_all, writeback_sb_inodes};
use super::inode::{FileType, I_DIRTY_DATASYNC, I_DIRTY_INODE};
use super::super_block::{SuperBlock, super_blocks};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::Fd;
use crate::mm::addr::PAGE_SIZE;
use crate::mm::page_writeback::filemap_write_and_wait_range;

/// Writes everything dirty of `sb` and its disk, then empties the
/// disk's write cache (Linux: `sync_filesystem` → `sync_blockdev` +
/// `blkdev_issue_flush`); returns the first error.
pub fn sync_filesystem(sb: &SuperBlock) -> KResult<()> {
    let mut result = Ok(());
    if sb.s_op.can_writeback() {
        result = writeback_sb_inodes(sb, u64::MAX, true);
    }
    result = result.and(sb.s_op.sync_fs(sb, true));
    if let Some(disk) = &sb.s_bdev {
        result = result.and(sync_blockdev(disk));
        // Only once the data and metadata were written: the flush makes
        // them durable, not what is still to come.
        result = result.and(disk.flush());
    }
    result
}

/// The last mount of `sb` is gone (Linux: `deactivate_locked_super` →
/// `kill_block_super` → `generic_shutdown_super`): writes everything to
/// the disk and flushes its cache, then lets the file system write its
/// clean state and let go (`put_super`). A write error is logged, as
/// Linux's unmount cannot fail on it either.
pub fn deactivate_super(sb: &SuperBlock) {
    if let Err(e) = sync_filesystem(sb) {
        crate::pr_warn!("VFS: {}: writeback at unmount failed: {e:?}", sb.s_type.name());
    }
    sb.s_op.put_super(sb);
}

/// sync(2) (Linux: `ksys_sync`): every file system, then every disk's
/// buffers (the block-device super block is among them). Errors are not
/// reported, as in Linux.
pub fn ksys_sync() {
    writeback_all(u64::MAX, true);
    for sb in super_blocks() {
        let _ = sync_filesystem(&sb);
    }
}

/// sync(2).
pub fn sys_sync() -> KResult<()> {
    ksys_sync();
    Ok(())
}

/// The file behind `fd` for a sync call: `EBADF` for an `O_PATH` one.
fn sync_file(fd: Fd) -> KResult<alloc::sync::Arc<File>> {
    let file = fdget(fd)?;
    if file.f_mode.contains(FMode::PATH) {
        return Err(Errno::EBADF);
    }
    Ok(file)
}

/// syncfs(2).
pub fn sys_syncfs(fd: Fd) -> KResult<()> {
    let file = sync_file(fd)?;
    sync_filesystem(&file.f_inode.sb)
}

/// Writes bytes `[start, end]` of `file` and its inode (only what reading
/// the data back needs, if `datasync`) (Linux: `vfs_fsync_range` +
/// `generic_file_fsync`), then the file system's own `fsync`.
pub fn vfs_fsync_range(file: &File, start: u64, end: u64, datasync: bool) -> KResult<()> {
    let inode = &file.f_inode;
    if let Some(mapping) = inode.i_mapping()
        && mapping.a_ops.can_writeback()
    {
        let page = PAGE_SIZE as u64;
        let last = (end / page).saturating_add(1);
        let mut result = filemap_write_and_wait_range(mapping, start / page, last);
        let want = if datasync { I_DIRTY_DATASYNC } else { I_DIRTY_INODE };
        let flags = inode.clear_dirty(want);
        if flags != 0 {
            let r = inode.sb.s_op.write_inode(inode, true);
            if r.is_err() {
                inode.mark_inode_dirty(flags);
            }
            result = result.and(r);
        }
        result?;
    }
    file.f_op.fsync(file)
}

/// Linux: `vfs_fsync`.
pub fn vfs_fsync(file: &File, datasync: bool) -> KResult<()> {
    vfs_fsync_range(file, 0, u64::MAX, datasync)
}

/// fsync(2).
pub fn sys_fsync(fd: Fd) -> KResult<()> {
    vfs_fsync(sync_file(fd)?.as_ref(), false)
}

/// fdatasync(2).
pub fn sys_fdatasync(fd: Fd) -> KResult<()> {
    vfs_fsync(sync_file(fd)?.as_ref(), true)
}

/// sync_file_range(2): writes the range's dirty pages; the waits are
/// no-ops with synchronous writes. `ESPIPE` for pipes and sockets,
/// `EINVAL` for bad flags or a negative range, as Linux.
pub fn sys_sync_file_range(fd: Fd, offset: i64, nbytes: i64, flags: u32) -> KResult<()> {
    let file = sync_file(fd)?;
    if flags & !uapi::SYNC_FILE_RANGE_WRITE_AND_WAIT != 0 {
        return Err(Errno::EINVAL);
    }
    let start = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
    let len = u64::try_from(nbytes).map_err(|_| Errno::EINVAL)?;
    let ftype = file.f_inode.file_type();
    if !matches!(
        ftype,
        FileType::Regular | FileType::Directory | FileType::BlockDev | FileType::Symlink
    ) {
        return Err(Errno::ESPIPE);
    }
    let end = if len == 0 { u64::MAX } else { start.checked_add(len - 1).ok_or(Errno::EINVAL)? };
    if flags & uapi::SYNC_FILE_RANGE_WRITE == 0 {
        return Ok(());
    }
    if let Some(mapping) = file.f_inode.i_mapping() {
        let page = PAGE_SIZE as u64;
        let last = (end / page).saturating_add(1);
        crate::mm::page_writeback::write_cache_pages(mapping, start / page, last, u64::MAX, false)?;
    }
    Ok(())
}

/// After a write of `count` bytes to a file opened `O_SYNC` or `O_DSYNC`,
/// makes it durable (Linux: `generic_write_sync`); regular files and
/// block devices only, as Linux's `write_iter`s call it.
pub fn generic_write_sync(file: &File, count: usize) -> KResult<usize> {
    let flags = file.flags();
    if count == 0
        || flags & uapi::O_DSYNC == 0
        || !matches!(file.f_inode.file_type(), FileType::Regular | FileType::BlockDev)
    {
        return Ok(count);
    }
    vfs_fsync(file, flags & uapi::__O_SYNC == 0)?;
    Ok(count)
}

crate::ktest!(sync_flushes_the_disk_after_writing_and_umount_syncs, {
    use alloc::boxed::Box;
    use alloc::sync::Arc;
    use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    use crate::block::BlockDevice;
    use crate::fs::buffer::bread;
    use crate::fs::inode::{DevT, Inode};
    use crate::fs::super_block::{FileSystemType, SuperOperations, SuperParams};

    /// A disk that counts writes and flushes, and the writes each flush
    /// came after.
    #[derive(Default)]
    struct FlushDisk {
        writes: AtomicUsize,
        flushes: AtomicUsize,
        writes_at_flush: AtomicUsize,
    }
    impl BlockDevice for FlushDisk {
        fn disk_name(&self) -> &str {
            "ktest-flush"
        }
        fn capacity(&self) -> u64 {
            64
        }
        fn read_blocks(&self, _lba: u64, buf: &mut [u8]) -> KResult<()> {
            buf.fill(0);
            Ok(())
        }
        fn write_blocks(&self, _lba: u64, _buf: &[u8]) -> KResult<()> {
            self.writes.fetch_add(1, SeqCst);
            Ok(())
        }
        fn flush(&self) -> KResult<()> {
            self.writes_at_flush.store(self.writes.load(SeqCst), SeqCst);
            self.flushes.fetch_add(1, SeqCst);
            Ok(())
        }
    }
    struct FlushFs;
    impl FileSystemType for FlushFs {
        fn name(&self) -> &'static str {
            "ktest-flushfs"
        }
        fn mount(
            &'static self,
            _source: &[u8],
            _data: &[u8],
            _sb_flags: u32,
        ) -> KResult<Arc<Inode>> {
            Err(Errno::EINVAL)
        }
    }
    static PUT_SUPER: AtomicUsize = AtomicUsize::new(0);
    struct FlushOps;
    impl SuperOperations for FlushOps {
        fn can_writeback(&self) -> bool {
            true
        }
        fn put_super(&self, _sb: &SuperBlock) {
            PUT_SUPER.fetch_add(1, SeqCst);
        }
    }
    static FS: FlushFs = FlushFs;
    static OPS: FlushOps = FlushOps;

    let counts = Arc::new(FlushDisk::default());
    let disk: Arc<dyn BlockDevice> = counts.clone();
    let params = SuperParams {
        s_dev: DevT(0),
        s_magic: 0,
        s_blocksize: 512,
        s_op: &OPS,
        s_bdev: Some(disk.clone()),
    };
    let sb = SuperBlock::new(&FS, params, Box::new(()));
    bread(&disk, 3, 512).and_then(|bh| bh.write(&[7; 512])).map_err(|_| "a dirty buffer")?;
    sync_filesystem(&sb).map_err(|_| "sync_filesystem")?;
    crate::kassert!(counts.writes.load(SeqCst) == 1, "the dirty buffer was written");
    crate::kassert!(counts.flushes.load(SeqCst) == 1, "then the disk flushed");
    crate::kassert!(counts.writes_at_flush.load(SeqCst) == 1, "after the write, not before");
    bread(&disk, 5, 512).and_then(|bh| bh.write(&[8; 512])).map_err(|_| "another")?;
    let put = PUT_SUPER.load(SeqCst);
    deactivate_super(&sb);
    crate::kassert!(counts.writes.load(SeqCst) == 2, "unmount wrote what was dirty");
    crate::kassert!(counts.writes_at_flush.load(SeqCst) == 2, "and flushed after it");
    crate::kassert!(PUT_SUPER.load(SeqCst) == put + 1, "then put_super");
    Ok(())
});

//! The buffer cache: a disk's blocks, cached in the disk's own page cache
//! (Linux: fs/buffer.c `__bread`, `mark_buffer_dirty`,
//! `sync_dirty_buffer`, block/bdev.c `bdev_cache_init`, `sync_blockdev`;
//! "the buffer cache is the block device's page cache").
//!
//! Each disk gets an inode of the internal `bdev` file system (Linux's
//! bdev pseudo file system) whose mapping reads and writes sectors through
//! `BlockDevice::read_blocks`/`write_blocks`. An inode rather than a bare
//! `PageCache` keyed by the disk, because then dirty metadata blocks ride
//! the same dirty-inode list and flusher thread as file data, and `sync`
//! finds them by walking super blocks. [`bread`] returns a [`BufferHead`]:
//! a reference on the cached page and the place of one block (1-4 KiB)
//! inside it. File systems copy in and out of it; a changed buffer is
//! marked dirty and written back with its page.
//!
//! # Locking
//! `BDEV_INODES` is a leaf. A buffer's bytes are read and changed under
//! its page cache's `i_pages` lock, so `with_data_mut` is atomic against
//! other buffers of the same page; its closure must not sleep.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use super::file_table::FileOps;
use super::inode::{Inode, InodeAttr, InodeOps};
use super::pagecache::{AddressSpaceOps, PageCache};
use super::super_block::{FileSystemType, SuperBlock, SuperOperations};
use crate::block::{BlockDevice, SECTOR_SIZE};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::mm::addr::{PAGE_SIZE, Pfn};
use crate::mm::highmem::{memcpy_from_page, memcpy_to_page};
use crate::mm::memory::put_page;
use crate::mm::page_writeback::{filemap_write_and_wait_range, write_cache_pages};

/// Linux: `BDEVFS_MAGIC`.
const BDEVFS_MAGIC: u64 = 0x6264_6576;
const PAGE: u64 = PAGE_SIZE as u64;
const SECTORS_PER_PAGE: u64 = (PAGE_SIZE / SECTOR_SIZE) as u64;

/// The internal file system of block-device inodes (Linux: `bd_type`).
struct BdevFs;
static BDEV_FS: BdevFs = BdevFs;
impl FileSystemType for BdevFs {
    fn name(&self) -> &'static str {
        "bdev"
    }
    fn mount(&'static self, _source: &[u8], _data: &[u8], _sb_flags: u32) -> KResult<Arc<Inode>> {
        Err(Errno::EINVAL)
    }
}

/// Its dirty pages are written back: the flusher walks it.
struct BdevSuperOps;
static BDEV_SUPER_OPS: BdevSuperOps = BdevSuperOps;
impl SuperOperations for BdevSuperOps {
    fn can_writeback(&self) -> bool {
        true
    }
}

struct BdevInodeOps;
impl InodeOps for BdevInodeOps {}
static BDEV_INODE_OPS: BdevInodeOps = BdevInodeOps;
struct BdevFileOps;
impl FileOps for BdevFileOps {}
static BDEV_FILE_OPS: BdevFileOps = BdevFileOps;

/// The private part of a block-device inode.
struct BdevInode {
    disk: Arc<dyn BlockDevice>,
}

/// The sectors of page `index` that lie on `disk`: first sector, count.
fn page_sectors(disk: &dyn BlockDevice, index: u64) -> KResult<(u64, usize)> {
    let lba = index.checked_mul(SECTORS_PER_PAGE).ok_or(Errno::EIO)?;
    let left = disk.capacity().checked_sub(lba).filter(|&n| n > 0).ok_or(Errno::EIO)?;
    let n = usize::try_from(left.min(SECTORS_PER_PAGE)).unwrap_or(0);
    Ok((lba, n))
}

/// Reads and writes a disk's pages (Linux: `def_blk_aops`).
struct BdevAops;
static BDEV_AOPS: BdevAops = BdevAops;
impl AddressSpaceOps for BdevAops {
    fn read_folio(&self, inode: &Inode, index: u64, pfn: Pfn) -> KResult<()> {
        let disk = &inode.private::<BdevInode>()?.disk;
        let (lba, n) = page_sectors(disk.as_ref(), index)?;
        let mut buf = vec![0u8; n * SECTOR_SIZE];
        disk.read_blocks(lba, &mut buf)?;
        memcpy_to_page(pfn, 0, &buf);
        Ok(())
    }

    fn writepage(&self, inode: &Inode, index: u64, pfn: Pfn) -> KResult<()> {
        self.writepages(inode, index, &[pfn])
    }

    /// One request for the whole run (Linux: `blkdev_writepages`).
    fn writepages(&self, inode: &Inode, start: u64, pfns: &[Pfn]) -> KResult<()> {
        let disk = &inode.private::<BdevInode>()?.disk;
        let (lba, _) = page_sectors(disk.as_ref(), start)?;
        let mut buf = Vec::new();
        buf.try_reserve(pfns.len() * PAGE_SIZE).map_err(|_| Errno::ENOMEM)?;
        for (index, &pfn) in (start..).zip(pfns) {
            let Ok((_, n)) = page_sectors(disk.as_ref(), index) else { break };
            let at = buf.len();
            buf.resize(at + n * SECTOR_SIZE, 0);
            memcpy_from_page(pfn, 0, &mut buf[at..]);
        }
        disk.write_blocks(lba, &buf)
    }
}

/// The block-device inodes made so far, and their super block.
static BDEV_INODES: SpinLock<Vec<Arc<Inode>>> = SpinLock::new(Vec::new());
static BDEV_SB: spin::Once<Arc<SuperBlock>> = spin::Once::new();

/// The inode whose page cache caches `disk` (Linux: `bdget`), made on
/// first use.
pub fn bdget(disk: &Arc<dyn BlockDevice>) -> KResult<Arc<Inode>> {
    let same = |i: &&Arc<Inode>| {
        i.private::<BdevInode>().is_ok_and(|b| b.disk.disk_name() == disk.disk_name())
    };
    if let Some(inode) = BDEV_INODES.lock().iter().find(same) {
        return Ok(inode.clone());
    }
    let sb = BDEV_SB
        .call_once(|| {
            SuperBlock::new_anon_with_ops(&BDEV_FS, BDEVFS_MAGIC, &BDEV_SUPER_OPS, Box::new(()))
        })
        .clone();
    let mut attr = InodeAttr::new(linux_raw_sys::general::S_IFBLK | 0o600, 0, 0);
    attr.size = disk.capacity().saturating_mul(SECTOR_SIZE as u64);
    let ino = sb.get_next_ino();
    let ops = (
        &BDEV_INODE_OPS as &dyn InodeOps,
        &BDEV_FILE_OPS as &dyn FileOps,
        Some(&BDEV_AOPS as &dyn AddressSpaceOps),
    );
    let inode =
        Inode::new_with_mapping(sb, ino, attr, ops, Box::new(BdevInode { disk: disk.clone() }))?;
    let mut list = BDEV_INODES.lock();
    // Another task may have made it meanwhile: theirs wins.
    if let Some(theirs) = list.iter().find(same) {
        return Ok(theirs.clone());
    }
    list.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    list.push(inode.clone());
    Ok(inode)
}

/// Before `whole`'s partition table is read again (`BLKRRPART`): writes
/// the caches of its partitions and forgets those nothing else holds, so
/// that a cache does not keep an old partition alive, which would make
/// the disk look busy (Linux: `bdev_disk_changed` → `delete_partition`,
/// with `sync_blockdev` + `invalidate_bdev` of each). A partition still
/// in use (open, mounted, a buffer held) keeps its cache.
pub fn bdev_forget_partitions(whole: &Arc<dyn BlockDevice>) -> KResult<()> {
    let (dev, minors) = (whole.devt(), whole.minors());
    let is_part = |inode: &Arc<Inode>| {
        inode.private::<BdevInode>().is_ok_and(|b| {
            let d = b.disk.devt();
            d.major() == dev.major() && d.minor() > dev.minor() && d.minor() - dev.minor() < minors
        })
    };
    let parts: Vec<Arc<Inode>> =
        BDEV_INODES.lock().iter().filter(|i| is_part(i)).cloned().collect();
    let mut result = Ok(());
    for inode in &parts {
        let m = mapping(inode)?;
        let r = write_cache_pages(m, 0, u64::MAX, u64::MAX, true).and_then(|_| m.take_error());
        result = result.and(r);
    }
    result?;
    // Unused: held by the list and `parts` only, its disk by the disk
    // list and the inode only.
    let unused = |i: &Arc<Inode>| {
        Arc::strong_count(i) == 2
            && i.private::<BdevInode>().is_ok_and(|b| Arc::strong_count(&b.disk) == 2)
    };
    BDEV_INODES.lock().retain(|i| !(parts.iter().any(|p| Arc::ptr_eq(p, i)) && unused(i)));
    Ok(())
}

/// Pages in the disks' buffer caches (Linux: `nr_blockdev_pages`,
/// /proc/meminfo's `Buffers`).
pub fn nr_blockdev_pages() -> usize {
    // Copied out: `i_pages` is not taken under the leaf `BDEV_INODES`.
    let inodes: Vec<Arc<Inode>> = BDEV_INODES.lock().clone();
    inodes.iter().filter_map(|i| i.i_mapping()).map(|m| m.lock().nr_pages()).sum()
}

fn mapping(inode: &Inode) -> KResult<&PageCache> {
    inode.i_mapping().ok_or(Errno::EIO)
}

#[allow(dead_code, reason = "API for ext2, the next round")]
/// One block of a disk in the buffer cache (Linux: `struct buffer_head`):
/// holds its page while it lives.
pub struct BufferHead {
    bdev: Arc<Inode>,
    pfn: Pfn,
    index: u64,
    offset: usize,
    size: usize,
    /// Linux: `b_blocknr`.
    pub blocknr: u64,
}

/// Block `block` of `size` bytes (512 to 4096, a power of two) of `disk`,
/// read in if not cached (Linux: `__bread`). `EINVAL` for a bad size,
/// `EIO` past the end or on a read error. Sleeps.
pub fn bread(disk: &Arc<dyn BlockDevice>, block: u64, size: usize) -> KResult<BufferHead> {
    if !size.is_power_of_two() || !(SECTOR_SIZE..=PAGE_SIZE).contains(&size) {
        return Err(Errno::EINVAL);
    }
    let byte = block.checked_mul(size as u64).ok_or(Errno::EIO)?;
    let end = byte.checked_add(size as u64).ok_or(Errno::EIO)?;
    if end > disk.capacity().saturating_mul(SECTOR_SIZE as u64) {
        return Err(Errno::EIO);
    }
    let bdev = bdget(disk)?;
    let index = byte / PAGE;
    let pfn = mapping(&bdev)?.get_page(index)?;
    let offset = usize::try_from(byte % PAGE).unwrap_or(0);
    Ok(BufferHead { bdev, pfn, index, offset, size, blocknr: block })
}

/// Block `block` of `size` bytes of `disk` if its page is in the buffer
/// cache, else `None`, with no I/O (Linux: `__find_get_block`). A file
/// system moving file data straight to the disk goes through a cached
/// copy instead, so that the copy, written back later, is never stale.
pub fn find_get_block(disk: &Arc<dyn BlockDevice>, block: u64, size: usize) -> Option<BufferHead> {
    let byte = block.checked_mul(size as u64)?;
    let bdev = bdget(disk).ok()?;
    let index = byte / PAGE;
    let pfn = {
        let tree = mapping(&bdev).ok()?.lock();
        let pfn = tree.find_page(index)?;
        crate::mm::page::pfn_to_page(pfn)?.get();
        pfn
    };
    let offset = usize::try_from(byte % PAGE).unwrap_or(0);
    Some(BufferHead { bdev, pfn, index, offset, size, blocknr: block })
}

/// Drops the clean, unused pages of `disk`'s buffer cache (Linux:
/// `invalidate_bdev`, and `kill_bdev` at the last `blkdev_put`): called
/// after the last unmount has written them, so the next mount reads the
/// disk. A page someone still holds stays.
pub fn invalidate_bdev(disk: &Arc<dyn BlockDevice>) {
    if let Ok(bdev) = bdget(disk)
        && let Ok(m) = mapping(&bdev)
    {
        m.lock().invalidate_clean(usize::MAX);
    }
}

#[allow(dead_code, reason = "API for ext2, the next round")]
impl BufferHead {
    /// Linux: `b_size`.
    pub fn size(&self) -> usize {
        self.size
    }

    /// A copy of the block's bytes.
    pub fn data(&self) -> Vec<u8> {
        let mut buf = vec![0u8; self.size];
        self.read(&mut buf);
        buf
    }

    /// Copies the block's first `buf.len()` bytes (at most its size) out.
    pub fn read(&self, buf: &mut [u8]) {
        let n = buf.len().min(self.size);
        if let Ok(m) = mapping(&self.bdev) {
            let _tree = m.lock();
            memcpy_from_page(self.pfn, self.offset, &mut buf[..n]);
        }
    }

    /// Changes the block's bytes in place and marks it dirty (Linux:
    /// changing `b_data`, then `mark_buffer_dirty`). `f` runs under the
    /// cache's spinlock: it must not sleep.
    pub fn with_data_mut<R>(&self, f: impl FnOnce(&mut [u8]) -> R) -> KResult<R> {
        let m = mapping(&self.bdev)?;
        let mut buf = vec![0u8; self.size];
        let r = {
            let _tree = m.lock();
            memcpy_from_page(self.pfn, self.offset, &mut buf);
            let r = f(&mut buf);
            memcpy_to_page(self.pfn, self.offset, &buf);
            r
        };
        self.mark_dirty();
        Ok(r)
    }

    /// Replaces the block's bytes with `data` (its size at most).
    pub fn write(&self, data: &[u8]) -> KResult<()> {
        self.with_data_mut(|buf| {
            let n = data.len().min(buf.len());
            buf[..n].copy_from_slice(&data[..n]);
        })
    }

    /// Linux: `mark_buffer_dirty`: the flusher writes it within
    /// `dirty_expire_centisecs`, `sync` at once.
    pub fn mark_dirty(&self) {
        if let Ok(m) = mapping(&self.bdev) {
            m.set_page_dirty(self.index);
        }
    }

    /// Writes the block (its page) now if dirty, and reports any write
    /// error of this disk's cache since the last report (Linux:
    /// `sync_dirty_buffer`).
    pub fn sync_dirty_buffer(&self) -> KResult<()> {
        let m = mapping(&self.bdev)?;
        filemap_write_and_wait_range(m, self.index, self.index + 1)
    }
}

impl Drop for BufferHead {
    /// Linux: `brelse`.
    fn drop(&mut self) {
        put_page(self.pfn);
    }
}

/// Writes every dirty buffer of `disk` (Linux: `sync_blockdev`).
pub fn sync_blockdev(disk: &Arc<dyn BlockDevice>) -> KResult<()> {
    let bdev = bdget(disk)?;
    let m = mapping(&bdev)?;
    write_cache_pages(m, 0, u64::MAX, u64::MAX, false)?;
    m.take_error()
}

/// Whole-block I/O through the buffer cache, the shape ext2's `BlockIo`
/// wants (`read_block`/`write_block` with the block size as the buffer
/// length); fs/ext2/mod.rs implements `BlockIo` over it.
pub struct BufferCacheIo {
    pub disk: Arc<dyn BlockDevice>,
}

impl BufferCacheIo {
    /// Reads block `block` of `buf.len()` bytes.
    pub fn read_block(&self, block: u64, buf: &mut [u8]) -> KResult<()> {
        bread(&self.disk, block, buf.len())?.read(buf);
        Ok(())
    }

    /// Writes block `block` of `buf.len()` bytes (into the cache; the
    /// flusher or a sync puts it on the disk).
    pub fn write_block(&self, block: u64, buf: &[u8]) -> KResult<()> {
        bread(&self.disk, block, buf.len())?.write(buf)
    }
}

/// A mapping over a counting fake store, for the tests: reads take 20 ms
/// so that two readers overlap.
struct CountingAops {
    reads: core::sync::atomic::AtomicUsize,
    writes: core::sync::atomic::AtomicUsize,
}
static COUNTING_AOPS: CountingAops = CountingAops {
    reads: core::sync::atomic::AtomicUsize::new(0),
    writes: core::sync::atomic::AtomicUsize::new(0),
};
impl AddressSpaceOps for CountingAops {
    fn read_folio(&self, _inode: &Inode, index: u64, pfn: Pfn) -> KResult<()> {
        self.reads.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
        crate::kernel::time::timer::msleep(20);
        memcpy_to_page(pfn, 0, &index.to_le_bytes());
        Ok(())
    }
    fn writepage(&self, _inode: &Inode, _index: u64, _pfn: Pfn) -> KResult<()> {
        self.writes.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

/// The pages `COUNTING_AOPS` has written so far, for the tests.
pub(crate) fn counting_writes() -> usize {
    COUNTING_AOPS.writes.load(core::sync::atomic::Ordering::SeqCst)
}

/// An open file, read-write, over a new [`counting_inode`] (a disk-like
/// mapping with writeback, no disk), named by `path`; for the tests.
pub(crate) fn counting_file(path: super::namespace::Path) -> KResult<Arc<super::file_table::File>> {
    use super::file_table::{FMode, File};
    let inode = counting_inode()?;
    File::open(
        path,
        inode,
        &BDEV_FILE_OPS,
        FMode::READ | FMode::WRITE,
        linux_raw_sys::general::O_RDWR,
    )
}

/// A regular file over `COUNTING_AOPS` on a fresh writeback super block.
fn counting_inode() -> KResult<Arc<Inode>> {
    let sb = SuperBlock::new_anon_with_ops(&BDEV_FS, BDEVFS_MAGIC, &BDEV_SUPER_OPS, Box::new(()));
    let attr = InodeAttr::new(linux_raw_sys::general::S_IFREG | 0o600, 0, 0);
    let ino = sb.get_next_ino();
    let ops = (
        &BDEV_INODE_OPS as &dyn InodeOps,
        &BDEV_FILE_OPS as &dyn FileOps,
        Some(&COUNTING_AOPS as &dyn AddressSpaceOps),
    );
    Inode::new_with_mapping(sb, ino, attr, ops, Box::new(()))
}

crate::ktest!(pagecache_get_page_reads_once_when_racing, {
    use core::sync::atomic::Ordering::SeqCst;
    let inode = counting_inode().map_err(|_| "inode")?;
    let before = COUNTING_AOPS.reads.load(SeqCst);
    let done = Arc::new(crate::kernel::sched::completion::Completion::new());
    let got = Arc::new(SpinLock::new(None));
    let (i2, d2, g2) = (inode.clone(), done.clone(), got.clone());
    let racer = move || {
        *g2.lock() = i2.i_mapping().and_then(|m| m.get_page(7).ok());
        d2.complete();
        0
    };
    crate::kernel::kthread::kthread_run(racer, "ktest-pgrace").map_err(|_| "kthread")?;
    let mine = inode.i_mapping().ok_or("mapping")?.get_page(7).map_err(|_| "get_page")?;
    done.wait_for_completion();
    let theirs = got.lock().take().ok_or("the racer got no page")?;
    crate::kassert!(mine == theirs, "both got the same page");
    crate::kassert!(COUNTING_AOPS.reads.load(SeqCst) == before + 1, "read from the store once");
    let mut word = [0u8; 8];
    memcpy_from_page(mine, 0, &mut word);
    crate::kassert!(u64::from_le_bytes(word) == 7, "read_folio filled it");
    put_page(mine);
    put_page(theirs);
    Ok(())
});

crate::ktest!(pagecache_dirty_tracking_and_writeback, {
    use crate::fs::inode::{I_DIRTY_DATASYNC, I_DIRTY_PAGES};
    use crate::fs::pagecache::{generic_file_read, generic_perform_write};
    use core::sync::atomic::Ordering::SeqCst;
    let inode = counting_inode().map_err(|_| "inode")?;
    let m = inode.i_mapping().ok_or("mapping")?;
    let mut pos = 100;
    let data = [0x5au8; 5000];
    let n = generic_perform_write(&inode, &data, &mut pos).map_err(|_| "write")?;
    crate::kassert!(n == 5000 && pos == 5100 && inode.size() == 5100, "write grew the file");
    crate::kassert!(m.lock().nr_dirty() == 2, "two pages dirty");
    crate::kassert!(
        inode.i_state() & (I_DIRTY_PAGES | I_DIRTY_DATASYNC) == I_DIRTY_PAGES | I_DIRTY_DATASYNC,
        "inode dirty"
    );
    crate::kassert!(inode.sb.s_dirty.lock().len() == 1, "queued on its super block once");
    let mut back = [0u8; 5000];
    let mut rpos = 100;
    crate::kassert!(generic_file_read(&inode, &mut back, &mut rpos) == Ok(5000), "read back");
    crate::kassert!(back == data, "same bytes");
    let writes = COUNTING_AOPS.writes.load(SeqCst);
    crate::fs::sync::sync_filesystem(&inode.sb).map_err(|_| "sync")?;
    crate::kassert!(COUNTING_AOPS.writes.load(SeqCst) == writes + 2, "sync wrote both pages");
    crate::kassert!(m.lock().nr_dirty() == 0 && inode.i_state() == 0, "clean after sync");
    crate::fs::sync::sync_filesystem(&inode.sb).map_err(|_| "sync 2")?;
    crate::kassert!(COUNTING_AOPS.writes.load(SeqCst) == writes + 2, "a clean sync writes nothing");
    m.set_page_dirty(0);
    crate::kassert!(m.lock().nr_dirty() == 1, "set_page_dirty marks a cached page");
    m.set_page_dirty(40);
    crate::kassert!(m.lock().nr_dirty() == 1, "an uncached page is not marked");
    m.lock().truncate(0);
    crate::kassert!(m.lock().nr_dirty() == 0, "truncation drops dirty marks");
    Ok(())
});

crate::ktest!(buffer_writeback_reaches_disk, {
    let Some(disk) = crate::block::get_disk("vda") else {
        crate::pr_info!("ktest: no vda attached; buffer cache test skipped");
        return Ok(());
    };
    // 1 KiB block 750: sectors 1500-1501, clear of sector 0 and of the
    // virtio-blk tests' last sectors.
    let bh = bread(&disk, 750, 1024).map_err(|_| "bread")?;
    let mut raw = [0u8; 1024];
    disk.read_blocks(1500, &mut raw).map_err(|_| "read_blocks")?;
    crate::kassert!(bh.data() == raw, "bread sees the disk's bytes");
    let original = bh.data();
    let pattern: Vec<u8> = (0..1024u32).map(|i| i.to_le_bytes()[0] ^ 0x3c).collect();
    bh.write(&pattern).map_err(|_| "write")?;
    disk.read_blocks(1500, &mut raw).map_err(|_| "read_blocks 2")?;
    crate::kassert!(raw[..] == original[..], "not on the disk before a sync");
    sync_blockdev(&disk).map_err(|_| "sync_blockdev")?;
    disk.read_blocks(1500, &mut raw).map_err(|_| "read_blocks 3")?;
    crate::kassert!(raw[..] == pattern[..], "on the disk after sync_blockdev");
    let again = bread(&disk, 750, 1024).map_err(|_| "bread 2")?;
    crate::kassert!(again.data() == pattern, "the cache keeps it");
    crate::kassert!(bread(&disk, 1 << 40, 1024).is_err(), "past the end is EIO");
    crate::kassert!(bread(&disk, 0, 1000).is_err(), "odd sizes are refused");
    again.write(&original).map_err(|_| "restore")?;
    again.sync_dirty_buffer().map_err(|_| "sync_dirty_buffer")?;
    disk.read_blocks(1500, &mut raw).map_err(|_| "read_blocks 4")?;
    crate::kassert!(raw[..] == original[..], "sync_dirty_buffer wrote it back");
    Ok(())
});

crate::ktest!(pagecache_writeback_expiry_and_dirty_ratio, {
    use crate::fs::fs_writeback::writeback_all;
    use crate::fs::pagecache::generic_perform_write;
    use crate::mm::page_writeback::{DIRTY_BACKGROUND_RATIO, DIRTY_RATIO, nr_file_dirty};
    use core::sync::atomic::Ordering::SeqCst;
    let inode = counting_inode().map_err(|_| "inode")?;
    let m = inode.i_mapping().ok_or("mapping")?;
    let mut pos = 0;
    generic_perform_write(&inode, &[1u8; 4096], &mut pos).map_err(|_| "write")?;
    crate::kassert!(nr_file_dirty() >= 1, "counted as dirty memory");
    let writes = COUNTING_AOPS.writes.load(SeqCst);
    // The flusher's periodic round writes only what has expired.
    let dirtied = inode.dirtied_when();
    writeback_all(dirtied.saturating_sub(1), false);
    crate::kassert!(COUNTING_AOPS.writes.load(SeqCst) == writes, "not expired, not written");
    crate::kassert!(m.lock().nr_dirty() == 1, "still dirty");
    writeback_all(dirtied, false);
    crate::kassert!(COUNTING_AOPS.writes.load(SeqCst) == writes + 1, "expired, written");
    crate::kassert!(m.lock().nr_dirty() == 0 && inode.i_state() == 0, "clean");
    // Past dirty_ratio a writer writes back before write(2) returns.
    let (bg, ratio) = (DIRTY_BACKGROUND_RATIO.load(SeqCst), DIRTY_RATIO.load(SeqCst));
    DIRTY_BACKGROUND_RATIO.store(0, SeqCst);
    DIRTY_RATIO.store(0, SeqCst);
    let r = generic_perform_write(&inode, &[2u8; 100], &mut pos);
    DIRTY_BACKGROUND_RATIO.store(bg, SeqCst);
    DIRTY_RATIO.store(ratio, SeqCst);
    crate::kassert!(r == Ok(100), "the write");
    crate::kassert!(COUNTING_AOPS.writes.load(SeqCst) == writes + 2, "throttled writer wrote back");
    crate::kassert!(m.lock().nr_dirty() == 0, "and left nothing dirty");
    Ok(())
});

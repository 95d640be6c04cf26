//! RAM disks: `/dev/ram0`.. block devices whose sectors live in memory,
//! allocated a page at a time on first write (Linux: drivers/block/brd.c).
//!
//! As with Debian's `brd` module, there are none unless asked for: the
//! command line's `brd.rd_nr=N` makes N disks of `brd.rd_size=KIB` each
//! (Linux's module parameters; the size defaults to
//! `CONFIG_BLK_DEV_RAM_SIZE`, 4096 KiB). A sector never written reads as
//! zeros. The pages stay until the system stops: `BLKFLSBUF`
//! (`freeramdisk`) writes back and drops the device's page cache, not the
//! disk's own pages, as in Linux 6.1.
//!
//! # Locking
//! `Brd::pages`, an IRQ-safe spinlock, a leaf: held to copy one page in
//! or out.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use crate::block::bio::ReqOp;
use crate::block::stat::DiskStats;
use crate::block::{BlockDevice, SECTOR_SIZE, add_disk, check_io};
use crate::fs::inode::DevT;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::mm::addr::PAGE_SIZE;

/// Linux: `RAMDISK_MAJOR`.
pub const RAMDISK_MAJOR: u32 = 1;
/// Linux: `CONFIG_BLK_DEV_RAM_SIZE`, in KiB.
const DEFAULT_RD_SIZE_KIB: u64 = 4096;
/// At most this many disks (Linux: `CONFIG_BLK_DEV_RAM_COUNT`'s default).
const MAX_RD_NR: u32 = 16;
const SECTORS_PER_PAGE: u64 = (PAGE_SIZE / SECTOR_SIZE) as u64;

/// One RAM disk (Linux: `struct brd_device`).
pub struct Brd {
    number: u32,
    name: String,
    /// Size in sectors.
    capacity: u64,
    /// Page index → its bytes; absent pages read as zeros (Linux:
    /// `brd_pages`, an xarray).
    pages: SpinLock<BTreeMap<u64, Box<[u8]>>>,
    stats: DiskStats,
}

impl Brd {
    /// Runs `f` on each page-sized piece of `len` bytes at sector `lba`:
    /// (page index, offset in the page, offset in the buffer, length).
    fn for_each_piece(lba: u64, len: usize, mut f: impl FnMut(u64, usize, usize, usize)) {
        let mut done = 0;
        while done < len {
            let sector = lba + (done / SECTOR_SIZE) as u64;
            let index = sector / SECTORS_PER_PAGE;
            let offset = (sector % SECTORS_PER_PAGE) as usize * SECTOR_SIZE;
            let n = (PAGE_SIZE - offset).min(len - done);
            f(index, offset, done, n);
            done += n;
        }
    }
}

impl BlockDevice for Brd {
    fn disk_name(&self) -> &str {
        &self.name
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Linux: `brd_do_bvec` → `copy_from_brd`.
    fn read_blocks(&self, lba: u64, buf: &mut [u8]) -> KResult<()> {
        let sectors = check_io(lba, buf.len(), self.capacity)?;
        self.stats.account(ReqOp::Read, sectors, || {
            Brd::for_each_piece(lba, buf.len(), |index, offset, at, n| {
                let pages = self.pages.lock();
                let dst = &mut buf[at..at + n];
                match pages.get(&index) {
                    Some(page) => dst.copy_from_slice(&page[offset..offset + n]),
                    None => dst.fill(0),
                }
            });
            Ok(())
        })
    }

    /// Linux: `brd_do_bvec` → `copy_to_brd_setup` + `copy_to_brd`; the page
    /// is allocated before the lock is taken.
    fn write_blocks(&self, lba: u64, buf: &[u8]) -> KResult<()> {
        let sectors = check_io(lba, buf.len(), self.capacity)?;
        self.stats.account(ReqOp::Write, sectors, || {
            let mut result = Ok(());
            Brd::for_each_piece(lba, buf.len(), |index, offset, at, n| {
                if result.is_err() {
                    return;
                }
                let fresh = if self.pages.lock().contains_key(&index) {
                    None
                } else {
                    let mut page = alloc::vec::Vec::new();
                    if page.try_reserve_exact(PAGE_SIZE).is_err() {
                        result = Err(Errno::ENOMEM);
                        return;
                    }
                    page.resize(PAGE_SIZE, 0u8);
                    Some(page.into_boxed_slice())
                };
                let mut pages = self.pages.lock();
                if let Some(page) = fresh {
                    pages.entry(index).or_insert(page);
                }
                if let Some(page) = pages.get_mut(&index) {
                    page[offset..offset + n].copy_from_slice(&buf[at..at + n]);
                }
            });
            result
        })
    }

    fn devt(&self) -> DevT {
        DevT::new(RAMDISK_MAJOR, self.number)
    }

    fn stats(&self) -> Option<&DiskStats> {
        Some(&self.stats)
    }
}

/// Makes `brd.rd_nr` RAM disks of `brd.rd_size` KiB (Linux: `brd_init`);
/// the values are the command line's, if any.
pub fn brd_init(rd_nr: Option<&str>, rd_size_kib: Option<&str>) {
    let Some(count) = rd_nr.and_then(|n| n.parse::<u32>().ok()).filter(|&n| n > 0) else {
        return;
    };
    let size_kib = rd_size_kib.and_then(|s| s.parse::<u64>().ok()).unwrap_or(DEFAULT_RD_SIZE_KIB);
    let capacity = size_kib.saturating_mul(2);
    for number in 0..count.min(MAX_RD_NR) {
        let disk = alloc::sync::Arc::new(Brd {
            number,
            name: format!("ram{number}"),
            capacity,
            pages: SpinLock::new(BTreeMap::new()),
            stats: DiskStats::new(),
        });
        if let Err(e) = add_disk(disk) {
            crate::pr_err!("brd: cannot add ram{number}: -{}", e as u32);
        }
    }
    crate::pr_info!("brd: module loaded");
}

crate::ktest!(brd_reads_zeros_and_keeps_writes, {
    let disk = Brd {
        number: 15,
        name: String::from("ramtest"),
        capacity: 64,
        pages: SpinLock::new(BTreeMap::new()),
        stats: DiskStats::new(),
    };
    let mut buf = alloc::vec![0xffu8; 2 * SECTOR_SIZE];
    crate::kassert!(disk.read_blocks(6, &mut buf).is_ok(), "read across a page boundary");
    crate::kassert!(buf.iter().all(|&b| b == 0), "never written: zeros");
    let data: alloc::vec::Vec<u8> =
        (0..3 * SECTOR_SIZE).map(|i| u8::try_from(i % 251).unwrap_or(0)).collect();
    crate::kassert!(disk.write_blocks(7, &data).is_ok(), "write across a page boundary");
    let mut back = alloc::vec![0u8; 3 * SECTOR_SIZE];
    crate::kassert!(disk.read_blocks(7, &mut back).is_ok() && back == data, "read back");
    crate::kassert!(disk.pages.lock().len() == 2, "two pages allocated");
    crate::kassert!(disk.write_blocks(63, &data).err() == Some(Errno::EIO), "past the end");
    Ok(())
});

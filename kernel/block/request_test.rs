//! Self-tests of bios, the plug's merging and dispatch, against the ktest
//! scratch disk (xtask/src/test.rs `write_ktest_disk`: byte `j` of sector
//! `s` is `(s * 31 + j) % 251` past the partition table). Booted without
//! the disk, they say so and pass.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use super::bio::{Bio, ReqOp, submit_bio_wait};
use super::request::BlkPlug;
use super::{BlockDevice, SECTOR_SIZE, get_disk};
use crate::drivers::block::virtio_blk_test::holds_pattern;
use crate::kernel::errno::Errno;
use crate::mm::addr::{PAGE_SIZE, Pfn};
use crate::mm::highmem::memcpy_from_page;
use crate::mm::page_alloc::{alloc_pages, free_pages};

/// Sectors in a page.
const PAGE_SECTORS: u64 = (PAGE_SIZE / SECTOR_SIZE) as u64;

/// Frames freed when the test ends, however it ends.
struct Pages(Vec<Pfn>);

impl Pages {
    fn alloc(n: usize) -> Result<Self, &'static str> {
        let mut pages = Self(Vec::new());
        for _ in 0..n {
            pages.0.push(alloc_pages(0).map_err(|_| "no page")?);
        }
        Ok(pages)
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        for &pfn in &self.0 {
            free_pages(pfn, 0);
        }
    }
}

/// A one-page bio at `sector` that counts its successful end in `ok`.
fn page_bio(op: ReqOp, sector: u64, pfn: Pfn, ok: &Arc<AtomicU32>) -> Result<Bio, &'static str> {
    let mut bio = Bio::new(op, sector);
    bio.add_page(pfn, 0, PAGE_SIZE).map_err(|_| "add_page")?;
    let ok = ok.clone();
    bio.set_end_io(alloc::boxed::Box::new(move |r| {
        if r.is_ok() {
            ok.fetch_add(1, Ordering::Relaxed);
        }
    }));
    Ok(bio)
}

fn page_holds_pattern(pfn: Pfn, sector: u64) -> bool {
    let mut buf = vec![0u8; PAGE_SIZE];
    memcpy_from_page(pfn, 0, &mut buf);
    holds_pattern(sector, &buf)
}

fn scratch() -> Option<Arc<dyn BlockDevice>> {
    let disk = get_disk("vda");
    if disk.is_none() {
        crate::pr_info!("ktest: no vda attached; bio test skipped");
    }
    disk
}

crate::ktest!(bio_plug_merges_adjacent_bios, {
    let Some(disk) = scratch() else { return Ok(()) };
    let pages = Pages::alloc(5)?;
    let ok = Arc::new(AtomicU32::new(0));
    let merges_before = disk.stats().map_or(0, |s| s.snapshot().merges[0]);
    let mut plug = BlkPlug::new(disk.clone());
    // Sectors 16, 24, 32 merge at the back, 8 at the front; 800 stands alone.
    for (i, sector) in [16, 24, 32, 8, 800].into_iter().enumerate() {
        plug.submit_bio(page_bio(ReqOp::Read, sector, pages.0[i], &ok)?);
    }
    crate::kassert!(plug.nr_requests() == 2, "five bios, two requests");
    crate::kassert!(plug.merges == 3, "three merges");
    plug.finish();
    crate::kassert!(ok.load(Ordering::Relaxed) == 5, "every bio ended well");
    for (i, sector) in [16, 24, 32, 8, 800].into_iter().enumerate() {
        crate::kassert!(page_holds_pattern(pages.0[i], sector), "each page got its sectors");
    }
    let merges = disk.stats().map_or(0, |s| s.snapshot().merges[0]);
    crate::kassert!(merges == merges_before + 3, "/proc/diskstats counts the merges");
    Ok(())
});

crate::ktest!(bio_merging_stops_at_the_queue_limits, {
    let Some(disk) = scratch() else { return Ok(()) };
    let pages = Pages::alloc(70)?;
    let ok = Arc::new(AtomicU32::new(0));
    let mut plug = BlkPlug::new(disk);
    for (i, &pfn) in pages.0.iter().enumerate() {
        plug.submit_bio(page_bio(ReqOp::Read, 8 + i as u64 * PAGE_SECTORS, pfn, &ok)?);
    }
    // 64 pages (512 sectors) make one request, the other 6 a second.
    crate::kassert!(plug.nr_requests() == 2, "70 pages, two requests");
    plug.finish();
    crate::kassert!(ok.load(Ordering::Relaxed) == 70, "every bio ended well");
    crate::kassert!(page_holds_pattern(pages.0[69], 8 + 69 * PAGE_SECTORS), "the last page");
    Ok(())
});

crate::ktest!(bio_write_and_errors, {
    let Some(disk) = scratch() else { return Ok(()) };
    let pages = Pages::alloc(1)?;
    let pfn = pages.0[0];
    // Read sectors 1500.. into the page, write them to 1600.., compare.
    let mut read = Bio::new(ReqOp::Read, 1500);
    read.add_page(pfn, 0, PAGE_SIZE).map_err(|_| "add_page")?;
    crate::kassert!(submit_bio_wait(&disk, read).is_ok(), "submit_bio_wait reads");
    let mut saved = vec![0u8; PAGE_SIZE];
    crate::kassert!(disk.read_blocks(1600, &mut saved).is_ok(), "save 1600..");
    let mut write = Bio::new(ReqOp::Write, 1600);
    write.add_page(pfn, 0, PAGE_SIZE).map_err(|_| "add_page")?;
    crate::kassert!(submit_bio_wait(&disk, write).is_ok(), "submit_bio_wait writes");
    let mut back = vec![0u8; PAGE_SIZE];
    crate::kassert!(disk.read_blocks(1600, &mut back).is_ok(), "read 1600..");
    crate::kassert!(holds_pattern(1500, &back), "1600.. now holds 1500..'s bytes");
    crate::kassert!(disk.write_blocks(1600, &saved).is_ok(), "restore 1600..");
    let mut past = Bio::new(ReqOp::Read, disk.capacity() - 1);
    past.add_page(pfn, 0, PAGE_SIZE).map_err(|_| "add_page")?;
    crate::kassert!(submit_bio_wait(&disk, past) == Err(Errno::EIO), "past the end is EIO");
    let mut bad = Bio::new(ReqOp::Read, 0);
    crate::kassert!(bad.add_page(pfn, 0, 100) == Err(Errno::EINVAL), "not whole sectors");
    crate::kassert!(bad.add_page(pfn, 4000, 512) == Err(Errno::EINVAL), "past the page");
    crate::kassert!(submit_bio_wait(&disk, Bio::new(ReqOp::Flush, 0)).is_ok(), "a flush completes");
    // Through a partition: vda1 starts at disk sector 64.
    let vda1 = get_disk("vda1").ok_or("vda1 was not found")?;
    let mut read = Bio::new(ReqOp::Read, 8);
    read.add_page(pfn, 0, PAGE_SIZE).map_err(|_| "add_page")?;
    crate::kassert!(submit_bio_wait(&vda1, read).is_ok(), "a bio on vda1");
    crate::kassert!(page_holds_pattern(pfn, 72), "vda1 sector 8 is disk sector 72");
    let mut past = Bio::new(ReqOp::Read, 959);
    past.add_page(pfn, 0, PAGE_SIZE).map_err(|_| "add_page")?;
    crate::kassert!(submit_bio_wait(&vda1, past) == Err(Errno::EIO), "past vda1's end");
    Ok(())
});

//! The page allocator: blocks of 2^order physical frames from the buddy
//! system, the zone that holds it, and the boot-time hand-over from
//! memblock.
//!
//! Linux: mm/page_alloc.c (`__alloc_pages`, `__free_pages`,
//! `get_zeroed_page`, `nr_free_pages`), mm/memblock.c (`memblock_free_all`).
//!
//! Ferrite has one zone (Linux: `ZONE_NORMAL`; no DMA zones, no highmem)
//! spanning frames 0 to the highest usable one. The free lists are the
//! `libs/buddy` crate's, threaded through the `Page` descriptors' `order`
//! and `lru` fields. No per-CPU page lists yet (Linux: `per_cpu_pages`).
//!
//! # Locking
//! `ZONE` is an IRQ-safe spinlock (Linux: `zone->lock`), so interrupt
//! handlers may allocate. Lock order: `KERNEL_PGTABLE`, any slab cache lock,
//! then `ZONE`; nothing is taken under `ZONE`.

use core::sync::atomic::Ordering;

use buddy::{BuddyAllocator, FrameMap, MAX_ORDER};

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::mm::addr::{PAGE_SHIFT, PAGE_SIZE, Pfn, VirtAddr, phys_to_virt};
use crate::mm::memblock::MEMBLOCK;
use crate::mm::page::{NO_PAGE, Page, PageFlags, mem_map, pfn_to_page};
use crate::mm::page_table::PgtableAlloc;
use crate::mm::vm_event::{VmEventItem, count_vm_events};
use crate::pr_err;

/// Largest order [`alloc_pages`] serves (Linux 6.1: `MAX_ORDER - 1`).
pub const MAX_PAGE_ORDER: u8 = MAX_ORDER - 1;

/// The buddy fields of `mem_map` (Linux: `zone->zone_mem_map`). A frame is
/// a free block's head iff its `BUDDY` flag is set.
struct ZoneFrames(&'static [Page]);

fn link(v: Option<usize>) -> u32 {
    v.and_then(|i| u32::try_from(i).ok()).unwrap_or(NO_PAGE)
}

fn unlink(v: u32) -> Option<usize> {
    (v != NO_PAGE).then_some(v as usize)
}

impl FrameMap for ZoneFrames {
    fn nr_frames(&self) -> usize {
        self.0.len()
    }
    fn buddy_order(&self, idx: usize) -> Option<u8> {
        let page = &self.0[idx];
        let order = page.order.load(Ordering::Relaxed);
        page.flags().contains(PageFlags::BUDDY).then(|| u8::try_from(order).ok()).flatten()
    }
    fn set_buddy_order(&mut self, idx: usize, order: Option<u8>) {
        let page = &self.0[idx];
        match order {
            Some(o) => {
                page.order.store(u32::from(o), Ordering::Relaxed);
                page.set_flags(PageFlags::BUDDY);
            }
            None => {
                page.clear_flags(PageFlags::BUDDY);
                page.order.store(NO_PAGE, Ordering::Relaxed);
            }
        }
    }
    fn buddy_prev(&self, idx: usize) -> Option<usize> {
        unlink(self.0[idx].lru_prev.load(Ordering::Relaxed))
    }
    fn set_buddy_prev(&mut self, idx: usize, prev: Option<usize>) {
        self.0[idx].lru_prev.store(link(prev), Ordering::Relaxed);
    }
    fn buddy_next(&self, idx: usize) -> Option<usize> {
        unlink(self.0[idx].lru_next.load(Ordering::Relaxed))
    }
    fn set_buddy_next(&mut self, idx: usize, next: Option<usize>) {
        self.0[idx].lru_next.store(link(next), Ordering::Relaxed);
    }
}

/// A memory zone (Linux: `struct zone`).
struct Zone {
    buddy: Option<BuddyAllocator<ZoneFrames>>,
    /// Frames given to the buddy allocator (Linux: `managed_pages`).
    managed_pages: u64,
}

static ZONE: SpinLock<Zone> = SpinLock::new(Zone { buddy: None, managed_pages: 0 });

/// Sets the zone up over `mem_map` and frees into it every range memblock
/// has not reserved (Linux: `free_area_init` + `memblock_free_all`).
/// Returns the number of pages freed.
pub fn memblock_free_all() -> KResult<u64> {
    let buddy = BuddyAllocator::new(0, ZoneFrames(mem_map())).map_err(|_| Errno::ENOMEM)?;
    let mut zone_guard = ZONE.lock();
    let zone = &mut *zone_guard;
    let buddy = zone.buddy.insert(buddy);
    let (mut freed, mut bad) = (0, None);
    MEMBLOCK.lock().for_each_free_range(|r| {
        let start = r.base.div_ceil(PAGE_SIZE as u64);
        let end = (r.end >> PAGE_SHIFT).min(buddy.end_pfn());
        if start >= end {
            return;
        }
        (start..end).filter_map(|p| pfn_to_page(Pfn(p))).for_each(|page| {
            page.clear_flags(PageFlags::RESERVED);
        });
        match buddy.add_free_range(start, end) {
            Ok(()) => freed += end - start,
            Err(e) => bad = Some((start, end, e)),
        }
    });
    zone.managed_pages = freed;
    drop(zone_guard);
    // Printed after the locks are dropped: printk's lock comes before ZONE.
    if let Some((start, end, e)) = bad {
        pr_err!("memblock_free_all: pfn {start:#x}-{end:#x}: {e}");
    }
    Ok(freed)
}

/// Gives the boot-reserved frames `[start, end)` to the page allocator once
/// their contents are no longer needed (Linux: `free_reserved_area`, used
/// by `free_initrd_mem`). Frames the zone does not cover are skipped.
/// Returns the number of frames freed.
pub fn free_reserved_area(start: Pfn, end: Pfn) -> u64 {
    let mut zone_guard = ZONE.lock();
    let zone = &mut *zone_guard;
    let Some(buddy) = zone.buddy.as_mut() else { return 0 };
    let end = end.0.min(buddy.end_pfn());
    let reserved =
        |p| pfn_to_page(Pfn(p)).is_some_and(|pg| pg.flags().contains(PageFlags::RESERVED));
    let mut freed = 0;
    let mut pfn = start.0;
    while pfn < end {
        // Runs of still-reserved frames: a frame already handed out must
        // not be freed twice.
        let run_end = (pfn..end).find(|&p| !reserved(p)).unwrap_or(end);
        for page in (pfn..run_end).filter_map(|p| pfn_to_page(Pfn(p))) {
            page.clear_flags(PageFlags::RESERVED);
        }
        if run_end > pfn && buddy.add_free_range(pfn, run_end).is_ok() {
            freed += run_end - pfn;
        }
        pfn = run_end + 1;
    }
    zone.managed_pages += freed;
    freed
}

/// Allocates 2^`order` contiguous frames (Linux: `alloc_pages`). The first
/// page holds one reference; a block of several pages is marked `HEAD`
/// with its order. When no block is large enough, clean page cache is
/// reclaimed where the caller may (mm/vmscan.rs) and the allocation
/// retried once; then `ENOMEM`.
pub fn alloc_pages(order: u8) -> KResult<Pfn> {
    if order > MAX_PAGE_ORDER {
        return Err(Errno::ENOMEM);
    }
    let rmqueue = || ZONE.lock().buddy.as_mut().and_then(|b| b.alloc(order));
    // Linux: `__alloc_pages_slowpath`: reclaim clean page cache, retry once.
    let pfn = rmqueue()
        .or_else(|| crate::mm::vmscan::alloc_reclaim(order).then(rmqueue).flatten())
        .ok_or(Errno::ENOMEM)?;
    let pfn = Pfn(pfn);
    count_vm_events(VmEventItem::PgAllocNormal, 1 << order);
    if let Some(page) = pfn_to_page(pfn) {
        page.set_ref_count(1);
        if order > 0 {
            page.order.store(u32::from(order), Ordering::Relaxed);
            page.set_flags(PageFlags::HEAD);
        }
    }
    Ok(pfn)
}

/// Frees the block of 2^`order` frames at `pfn` (Linux: `__free_pages`).
/// A bad free (wrong order, double free) is reported and the block leaked,
/// as Linux's `bad_page` does, rather than corrupting the free lists.
pub fn free_pages(pfn: Pfn, order: u8) {
    match try_free_pages(pfn, order) {
        Ok(()) => count_vm_events(VmEventItem::PgFree, 1 << order),
        Err(e) => {
            pr_err!("BUG: Bad page state: free_pages(pfn {:#x}, order {order}): {e}", pfn.0);
        }
    }
}

/// [`free_pages`] without the report: the refusal of a bad free, for the
/// self-test that makes one on purpose (a "BUG:" line on every boot would
/// hide real ones).
fn try_free_pages(pfn: Pfn, order: u8) -> Result<(), buddy::BuddyError> {
    let mut zone = ZONE.lock();
    let Some(buddy) = zone.buddy.as_mut() else { return Ok(()) };
    // A free block's head keeps its buddy fields: clearing them on a double
    // free would corrupt the free lists.
    if let Some(page) = pfn_to_page(pfn).filter(|p| !p.flags().contains(PageFlags::BUDDY)) {
        page.clear_flags(PageFlags::HEAD | PageFlags::SLAB | PageFlags::PGTABLE);
        page.order.store(NO_PAGE, Ordering::Relaxed);
        page.set_ref_count(0);
    }
    buddy.free(pfn.0, order)
}

/// Fills 2^`order` frames at `pfn` with zeros (Linux: `clear_page`).
pub fn clear_pages(pfn: Pfn, order: u8) {
    let start = phys_to_virt(pfn.phys()).as_mut_ptr::<u8>();
    for i in 0..1usize << order {
        // SAFETY:
        // 1. The caller owns the frames: they were just allocated to it, so
        //    nothing else reads or writes them.
        // 2. They lie in the direct map, which maps every RAM frame
        //    writable, page aligned; page `i` is inside the 2^order.
        unsafe { crate::arch::page_64::clear_page(start.wrapping_add(i * PAGE_SIZE)) };
    }
}

/// Allocates one zeroed page and returns its direct-map address (Linux:
/// `get_zeroed_page`).
pub fn get_zeroed_page() -> KResult<VirtAddr> {
    let pfn = alloc_pages(0)?;
    clear_pages(pfn, 0);
    Ok(phys_to_virt(pfn.phys()))
}

/// Free pages in the zone (Linux: `nr_free_pages`).
pub fn nr_free_pages() -> u64 {
    ZONE.lock().buddy.as_ref().map_or(0, BuddyAllocator::nr_free_pages)
}

/// Pages handed to the page allocator at boot (Linux: `totalram_pages`).
pub fn totalram_pages() -> u64 {
    ZONE.lock().managed_pages
}

/// Free blocks per order, for `/proc/buddyinfo`.
pub fn free_area_counts() -> [usize; MAX_ORDER as usize] {
    let zone = ZONE.lock();
    let mut counts = [0; MAX_ORDER as usize];
    if let Some(buddy) = zone.buddy.as_ref() {
        for (order, c) in (0..MAX_ORDER).zip(counts.iter_mut()) {
            *c = buddy.free_count(order);
        }
    }
    counts
}

/// Page-table frames from the page allocator.
pub struct BuddyPgtableAlloc;

impl PgtableAlloc for BuddyPgtableAlloc {
    fn alloc_table(&mut self) -> KResult<Pfn> {
        let pfn = alloc_pages(0)?;
        if let Some(page) = pfn_to_page(pfn) {
            page.set_flags(PageFlags::PGTABLE);
        }
        Ok(pfn)
    }
}

crate::ktest!(buddy_alloc_free_restores_counts, {
    crate::kassert!(!crate::arch::irqflags::irqs_disabled(), "runs with interrupts on");
    let (free, counts) = (nr_free_pages(), free_area_counts());
    let mut blocks = [(Pfn(0), 0u8); 16];
    for (i, b) in blocks.iter_mut().enumerate() {
        let order = [0, 1, 2, 3, 4][i % 5];
        *b = (alloc_pages(order).map_err(|_| "alloc_pages")?, order);
    }
    crate::kassert!(nr_free_pages() < free, "allocation takes pages");
    for &(pfn, order) in blocks.iter().rev() {
        free_pages(pfn, order);
    }
    crate::kassert!(nr_free_pages() == free, "free count restored");
    crate::kassert!(free_area_counts() == counts, "per-order counts restored");
    let pfn = alloc_pages(1).map_err(|_| "alloc_pages")?;
    free_pages(pfn, 1);
    crate::kassert!(try_free_pages(pfn, 1).is_err(), "a double free is an error");
    crate::kassert!(nr_free_pages() == free, "a double free is refused");
    Ok(())
});

crate::ktest!(buddy_exhaustion_gives_enomem, {
    use alloc::vec::Vec;
    let mut blocks = Vec::new();
    let cap = (nr_free_pages() >> MAX_PAGE_ORDER) as usize + 16;
    blocks.try_reserve_exact(cap).map_err(|_| "reserve")?;
    let free = nr_free_pages();
    // Running dry reclaims clean page cache: those pages come back free.
    let steal = crate::mm::vmscan::pgsteal();
    let result = loop {
        match alloc_pages(MAX_PAGE_ORDER) {
            Ok(pfn) if blocks.len() < cap => blocks.push(pfn),
            Ok(pfn) => {
                free_pages(pfn, MAX_PAGE_ORDER);
                break Ok(());
            }
            Err(e) => break Err(e),
        }
    };
    let exhausted = result == Err(Errno::ENOMEM) && alloc_pages(MAX_PAGE_ORDER).is_err();
    for &pfn in &blocks {
        free_pages(pfn, MAX_PAGE_ORDER);
    }
    crate::kassert!(exhausted, "running out gives ENOMEM, not a panic");
    crate::kassert!(alloc_pages(MAX_PAGE_ORDER + 1) == Err(Errno::ENOMEM), "too large an order");
    let reclaimed = (crate::mm::vmscan::pgsteal() - steal) as u64;
    crate::kassert!(nr_free_pages() == free + reclaimed, "all given back");
    Ok(())
});

crate::ktest!(get_zeroed_page_is_zero, {
    let va = get_zeroed_page().map_err(|_| "get_zeroed_page")?;
    let pa = crate::mm::addr::virt_to_phys(va).ok_or("direct map address")?;
    let ok = crate::mm::page_table::kernel_translate(va).is_some();
    // SAFETY: the page was just allocated to this test and is mapped.
    let word = unsafe { va.as_ptr::<[u64; 512]>().read() };
    free_pages(pa.pfn(), 0);
    crate::kassert!(ok && word.iter().all(|&w| w == 0), "a zeroed, mapped page");
    Ok(())
});

crate::ktest!(page_refcount_counts_sharers, {
    let pfn = alloc_pages(0).map_err(|_| "alloc_pages(0) failed")?;
    let page = pfn_to_page(pfn).ok_or("allocated page has a descriptor")?;
    crate::kassert!(page.ref_count() == 1, "a fresh page has one reference");
    page.get();
    crate::kassert!(page.ref_count() == 2, "get_page adds a sharer");
    let last = page.put_testzero();
    crate::kassert!(!last && page.ref_count() == 1, "dropping one of two is not the last");
    free_pages(pfn, 0);
    Ok(())
});

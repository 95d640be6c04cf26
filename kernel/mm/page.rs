//! Page descriptors: one [`Page`] per physical frame, in the array
//! `mem_map` indexed by page frame number.
//!
//! Linux: include/linux/mm_types.h (`struct page`), include/linux/page-flags.h,
//! mm/mm_init.c (`memmap_init`), include/asm-generic/memory_model.h
//! (`pfn_to_page` for FLATMEM).
//!
//! `mem_map` covers frames 0 up to the highest usable one, holes included
//! (FLATMEM), and is allocated from memblock once the direct map is up.
//! Every field is an atomic so that a `&'static Page` can be shared freely;
//! which lock guards a field depends on who owns the frame, as in Linux:
//! - free frames: `order` and the `lru` links belong to the buddy allocator,
//!   under `ZONE`;
//! - slab frames: `lru` links, `inuse`, `freelist`, `private` (the cache)
//!   belong to the cache, under its lock;
//! - `flags` bits are set and cleared atomically by their owner;
//! - `refcount` is atomic and lock-free (ready for shared and COW pages).
//!
//! Links are frame numbers as `u32`, so at most 2^32 - 1 frames (16 TiB).
//! The unsafe code here only turns memblock's memory into the `mem_map`
//! slice, once.

use core::sync::atomic::{AtomicU32, Ordering};

use bitflags::bitflags;
use spin::Once;

use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{Pfn, PhysAddr, VirtAddr, phys_to_virt, virt_to_phys};
use crate::mm::memblock::MEMBLOCK;

bitflags! {
    /// Linux: `enum pageflags`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct PageFlags: u32 {
        /// Never given to the page allocator (Linux: `PG_reserved`).
        const RESERVED = 1 << 0;
        /// Heads a free block of the buddy allocator (Linux: `PG_buddy`).
        const BUDDY = 1 << 1;
        /// Part of a slab (Linux: `PG_slab`).
        const SLAB = 1 << 2;
        /// Heads a multi-page allocation whose order is in `order`
        /// (Linux: `PG_head`).
        const HEAD = 1 << 3;
        /// Holds a page table (Linux: `PG_table`).
        const PGTABLE = 1 << 4;
    }
}

/// "No frame" in a link field.
pub const NO_PAGE: u32 = u32::MAX;

/// The descriptor of one physical page frame (Linux: `struct page`).
pub struct Page {
    flags: AtomicU32,
    /// Linux: `_refcount`.
    refcount: AtomicU32,
    /// Buddy order while free, allocation order while `HEAD`.
    pub(crate) order: AtomicU32,
    /// Links of whichever list owns the frame (Linux: `lru`, `buddy_list`,
    /// `slab_list`).
    pub(crate) lru_prev: AtomicU32,
    pub(crate) lru_next: AtomicU32,
    /// Slab: objects in use (Linux: `slab->inuse`).
    pub(crate) inuse: AtomicU32,
    /// Slab: offset of the first free object, or `NO_PAGE` (Linux:
    /// `slab->freelist`).
    pub(crate) freelist: AtomicU32,
    /// Slab: the owning cache's id (Linux: `slab->slab_cache`).
    pub(crate) private: AtomicU32,
}

impl Page {
    const fn new() -> Self {
        Self {
            flags: AtomicU32::new(PageFlags::RESERVED.bits()),
            refcount: AtomicU32::new(0),
            order: AtomicU32::new(NO_PAGE),
            lru_prev: AtomicU32::new(NO_PAGE),
            lru_next: AtomicU32::new(NO_PAGE),
            inuse: AtomicU32::new(0),
            freelist: AtomicU32::new(NO_PAGE),
            private: AtomicU32::new(0),
        }
    }

    pub fn flags(&self) -> PageFlags {
        PageFlags::from_bits_truncate(self.flags.load(Ordering::Acquire))
    }

    pub fn set_flags(&self, f: PageFlags) {
        self.flags.fetch_or(f.bits(), Ordering::AcqRel);
    }

    pub fn clear_flags(&self, f: PageFlags) {
        self.flags.fetch_and(!f.bits(), Ordering::AcqRel);
    }

    /// Linux: `page_ref_count`.
    pub fn ref_count(&self) -> u32 {
        self.refcount.load(Ordering::Acquire)
    }

    /// Linux: `set_page_refcounted`, done by the allocator.
    pub(crate) fn set_ref_count(&self, v: u32) {
        self.refcount.store(v, Ordering::Release);
    }

    /// Linux: `get_page`.
    pub fn get(&self) {
        self.refcount.fetch_add(1, Ordering::AcqRel);
    }

    /// Drops a reference; true if it was the last (Linux:
    /// `put_page_testzero`). The caller then frees the page.
    pub fn put_testzero(&self) -> bool {
        self.refcount.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// The order of the allocation this frame heads, if `HEAD`.
    pub fn compound_order(&self) -> Option<u8> {
        let order = self.order.load(Ordering::Relaxed);
        (self.flags().contains(PageFlags::HEAD)).then_some(order).and_then(|o| u8::try_from(o).ok())
    }
}

/// Linux: `mem_map`; set once by [`memmap_init`].
static MEM_MAP: Once<&'static [Page]> = Once::new();

/// The whole `mem_map` (empty before [`memmap_init`]).
pub fn mem_map() -> &'static [Page] {
    MEM_MAP.get().copied().unwrap_or(&[])
}

/// Linux: `pfn_to_page`; `None` beyond the highest frame.
pub fn pfn_to_page(pfn: Pfn) -> Option<&'static Page> {
    mem_map().get(usize::try_from(pfn.0).ok()?)
}

/// Linux: `page_to_pfn`.
#[allow(dead_code, reason = "the inverse of pfn_to_page, for the fault path")]
pub fn page_to_pfn(page: &Page) -> Pfn {
    let base = mem_map().as_ptr() as usize;
    Pfn(((page as *const Page as usize - base) / size_of::<Page>()) as u64)
}

/// Linux: `virt_to_page`, for direct-map and kernel-image addresses.
pub fn virt_to_page(va: VirtAddr) -> Option<&'static Page> {
    pfn_to_page(virt_to_phys(va)?.pfn())
}

/// Allocates `mem_map` for frames `0..max_pfn` from memblock, every page
/// reserved with no references (Linux: `alloc_node_mem_map` and
/// `memmap_init`). Runs once, on the direct map built by `init_64`.
pub fn memmap_init(max_pfn: u64) -> KResult<()> {
    let nr = usize::try_from(max_pfn).map_err(|_| Errno::ENOMEM)?.min(NO_PAGE as usize);
    let bytes = (nr * size_of::<Page>()) as u64;
    let pa = MEMBLOCK.lock().alloc(bytes, crate::mm::addr::PAGE_SIZE as u64)?;
    let base = phys_to_virt(PhysAddr::new(pa)).as_mut_ptr::<Page>();
    for i in 0..nr {
        let slot = base.wrapping_add(i);
        // SAFETY:
        // 1. `[pa, pa + bytes)` was just reserved in memblock for us alone
        //    and lies in the direct map, so `slot` for `i < nr` is a valid,
        //    aligned (page-aligned base, `Page` is 4-aligned), unique place
        //    for a `Page`.
        // 2. `write` does not read or drop the old bytes.
        unsafe { slot.write(Page::new()) };
    }
    // SAFETY:
    // 1. The `nr` pages were initialised just above.
    // 2. The memory stays reserved in memblock forever, so the slice may be
    //    `'static`; it is only shared (`Page` is all atomics).
    let map = unsafe { core::slice::from_raw_parts(base.cast_const(), nr) };
    MEM_MAP.call_once(|| map);
    Ok(())
}

/// A doubly linked list of pages threaded through their `lru` links
/// (Linux: a `list_head` of `page->lru`). The owner's lock guards it and
/// the links of the pages on it.
#[derive(Default)]
pub struct PageList {
    head: Option<Pfn>,
    len: usize,
}

impl PageList {
    pub const fn new() -> Self {
        Self { head: None, len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn first(&self) -> Option<Pfn> {
        self.head
    }

    fn link(pfn: Option<Pfn>) -> u32 {
        pfn.and_then(|p| u32::try_from(p.0).ok()).unwrap_or(NO_PAGE)
    }

    fn unlink(v: u32) -> Option<Pfn> {
        (v != NO_PAGE).then_some(Pfn(u64::from(v)))
    }

    pub fn push_front(&mut self, pfn: Pfn) {
        let Some(page) = pfn_to_page(pfn) else { return };
        page.lru_prev.store(NO_PAGE, Ordering::Relaxed);
        page.lru_next.store(Self::link(self.head), Ordering::Relaxed);
        if let Some(old) = self.head.and_then(pfn_to_page) {
            old.lru_prev.store(Self::link(Some(pfn)), Ordering::Relaxed);
        }
        self.head = Some(pfn);
        self.len += 1;
    }

    /// Unlinks `pfn`, which must be on this list.
    pub fn remove(&mut self, pfn: Pfn) {
        let Some(page) = pfn_to_page(pfn) else { return };
        let prev = Self::unlink(page.lru_prev.load(Ordering::Relaxed));
        let next = Self::unlink(page.lru_next.load(Ordering::Relaxed));
        match prev.and_then(pfn_to_page) {
            Some(p) => p.lru_next.store(Self::link(next), Ordering::Relaxed),
            None => self.head = next,
        }
        if let Some(n) = next.and_then(pfn_to_page) {
            n.lru_prev.store(Self::link(prev), Ordering::Relaxed);
        }
        page.lru_prev.store(NO_PAGE, Ordering::Relaxed);
        page.lru_next.store(NO_PAGE, Ordering::Relaxed);
        self.len -= 1;
    }
}

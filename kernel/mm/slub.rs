//! The slab allocator: caches of equal-sized objects carved out of page
//! allocator blocks.
//!
//! Linux: mm/slub.c (`kmem_cache_alloc`, `kmem_cache_free`, `new_slab`,
//! `discard_slab`), include/linux/slab.h.
//!
//! A slab is a block of 2^order pages; its state lives in the head page's
//! descriptor as in SLUB (`freelist`, `inuse`, `private` = the cache id, the
//! `lru` links for the cache's lists), and every page of it carries `SLAB`
//! and the cache id so `kfree` finds the cache from any object address.
//! Free objects form a list threaded through their first four bytes (an
//! offset within the slab), as SLUB's free pointer; these two accesses,
//! [`get_freepointer`] and [`set_freepointer`], are the unsafe part.
//!
//! Slabs sit on one of three lists: `partial` (some objects free), `full`
//! (none free) and `free` (all free, at most `MIN_PARTIAL` kept; others go
//! back to the page allocator). No per-CPU slabs yet (Linux:
//! `kmem_cache_cpu`).
//!
//! # Locking
//! Each cache's lists and its slabs' descriptor fields are under the cache's
//! IRQ-safe `node` lock (Linux: `kmem_cache_node->list_lock`); new slabs
//! come from the page allocator under it (order: cache lock, then `ZONE`).

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::mm::addr::{PAGE_SIZE, Pfn, VirtAddr, phys_to_virt, virt_to_phys};
use crate::mm::page::{NO_PAGE, PageFlags, PageList, pfn_to_page};
use crate::mm::page_alloc::{alloc_pages, free_pages};
use crate::pr_err;

/// Empty slabs a cache keeps rather than freeing (Linux: `min_partial`).
const MIN_PARTIAL: usize = 1;
/// Slabs hold at least this many objects, up to `MAX_SLAB_ORDER`.
pub const MIN_OBJECTS: usize = 8;
pub const MAX_SLAB_ORDER: u8 = 3;

/// Ids of caches made by `KmemCache::new` at run time start here; the
/// kmalloc caches use `0..KMALLOC_CACHES`.
static NEXT_CACHE_ID: AtomicU32 = AtomicU32::new(64);

/// The lists of one cache (Linux: `struct kmem_cache_node`).
struct KmemCacheNode {
    partial: PageList,
    full: PageList,
    free: PageList,
}

/// A cache of objects of one size (Linux: `struct kmem_cache`).
pub struct KmemCache {
    name: &'static str,
    /// Bytes per object, a multiple of 8 (Linux: `size`).
    size: usize,
    order: u8,
    /// Objects per slab (Linux: `oo_objects`).
    objects: usize,
    id: u32,
    node: SpinLock<KmemCacheNode>,
}

/// The slab order and object count for `size`-byte objects.
const fn calculate_order(size: usize) -> (u8, usize) {
    let mut order = 0;
    while order < MAX_SLAB_ORDER && (PAGE_SIZE << order) / size < MIN_OBJECTS {
        order += 1;
    }
    (order, (PAGE_SIZE << order) / size)
}

impl KmemCache {
    /// A cache with a fixed id, for statics (the kmalloc caches).
    /// `size` is rounded up to a multiple of 8 and must not exceed
    /// `PAGE_SIZE << MAX_SLAB_ORDER`.
    pub const fn new_static(name: &'static str, size: usize, id: u32) -> Self {
        let size = if size < 8 { 8 } else { size.next_multiple_of(8) };
        let (order, objects) = calculate_order(size);
        let node = KmemCacheNode {
            partial: PageList::new(),
            full: PageList::new(),
            free: PageList::new(),
        };
        Self { name, size, order, objects, id, node: SpinLock::new(node) }
    }

    /// Linux: `kmem_cache_create`. Objects are aligned to the largest
    /// power of two dividing the rounded size, at least 8.
    pub fn new(name: &'static str, size: usize) -> KResult<Self> {
        if size == 0 || size > PAGE_SIZE << MAX_SLAB_ORDER {
            return Err(Errno::EINVAL);
        }
        Ok(Self::new_static(name, size, NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed)))
    }

    #[allow(dead_code, reason = "for /proc/slabinfo")]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Bytes per object (Linux: `kmem_cache_size`).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Takes a free object (Linux: `kmem_cache_alloc`); `ENOMEM` when no
    /// slab can be had.
    pub fn alloc(&self) -> KResult<NonNull<u8>> {
        let mut node = self.node.lock();
        let pfn = match node.partial.first() {
            Some(pfn) => pfn,
            None => {
                let pfn = match node.free.first() {
                    Some(pfn) => {
                        node.free.remove(pfn);
                        pfn
                    }
                    None => self.new_slab()?,
                };
                node.partial.push_front(pfn);
                pfn
            }
        };
        let page = pfn_to_page(pfn).ok_or(Errno::ENOMEM)?;
        let offset = page.freelist.load(Ordering::Relaxed);
        let base = phys_to_virt(pfn.phys()).as_u64();
        let object = VirtAddr::new(base + u64::from(offset));
        page.freelist.store(get_freepointer(object), Ordering::Relaxed);
        page.inuse.fetch_add(1, Ordering::Relaxed);
        if page.freelist.load(Ordering::Relaxed) == NO_PAGE {
            node.partial.remove(pfn);
            node.full.push_front(pfn);
        }
        NonNull::new(object.as_mut_ptr::<u8>()).ok_or(Errno::ENOMEM)
    }

    /// Returns `object` to the cache (Linux: `kmem_cache_free`). An address
    /// that is not an object of this cache is reported and ignored.
    ///
    /// # Safety
    /// `object` came from [`KmemCache::alloc`] on this cache and is not
    /// used after this call.
    pub unsafe fn free(&self, object: NonNull<u8>) {
        let va = VirtAddr::new(object.as_ptr() as u64);
        let Some((pfn, offset)) = self.slab_of(va) else {
            pr_err!(
                "kmem_cache_free({}): {:#x} is not an object of this cache",
                self.name,
                va.as_u64()
            );
            return;
        };
        let Some(page) = pfn_to_page(pfn) else { return };
        let mut node = self.node.lock();
        if page.inuse.load(Ordering::Relaxed) == 0 {
            pr_err!("kmem_cache_free({}): double free of {:#x}", self.name, va.as_u64());
            return;
        }
        let was_full = page.freelist.load(Ordering::Relaxed) == NO_PAGE;
        set_freepointer(va, page.freelist.load(Ordering::Relaxed));
        page.freelist.store(offset, Ordering::Relaxed);
        let inuse = page.inuse.fetch_sub(1, Ordering::Relaxed) - 1;
        if was_full {
            node.full.remove(pfn);
            node.partial.push_front(pfn);
        }
        if inuse == 0 {
            node.partial.remove(pfn);
            if node.free.len() < MIN_PARTIAL {
                node.free.push_front(pfn);
            } else {
                drop(node);
                self.discard_slab(pfn);
            }
        }
    }

    /// The slab holding `va` and the object's offset in it, if `va` is the
    /// start of an object of this cache.
    fn slab_of(&self, va: VirtAddr) -> Option<(Pfn, u32)> {
        let pa = virt_to_phys(va)?;
        let head = Pfn(pa.pfn().0 & !((1u64 << self.order) - 1));
        let page = pfn_to_page(head)?;
        if !page.flags().contains(PageFlags::SLAB)
            || page.private.load(Ordering::Relaxed) != self.id
        {
            return None;
        }
        let offset = usize::try_from(pa.as_u64() - head.phys().as_u64()).ok()?;
        if offset % self.size != 0 || offset / self.size >= self.objects {
            return None;
        }
        Some((head, u32::try_from(offset).ok()?))
    }

    /// Gets a block from the page allocator and threads the free list
    /// through its objects (Linux: `new_slab`, `allocate_slab`).
    fn new_slab(&self) -> KResult<Pfn> {
        let pfn = alloc_pages(self.order)?;
        for i in 0..1u64 << self.order {
            if let Some(page) = pfn_to_page(Pfn(pfn.0 + i)) {
                page.private.store(self.id, Ordering::Relaxed);
                page.set_flags(PageFlags::SLAB);
            }
        }
        let base = phys_to_virt(pfn.phys()).as_u64();
        #[expect(clippy::cast_possible_truncation, reason = "a slab is at most 32 KiB")]
        let (size, objects) = (self.size as u32, self.objects as u32);
        for i in 0..objects {
            let next = if i + 1 < objects { (i + 1) * size } else { NO_PAGE };
            set_freepointer(VirtAddr::new(base + u64::from(i * size)), next);
        }
        let page = pfn_to_page(pfn).ok_or(Errno::ENOMEM)?;
        page.freelist.store(0, Ordering::Relaxed);
        page.inuse.store(0, Ordering::Relaxed);
        Ok(pfn)
    }

    /// Gives an empty slab back (Linux: `discard_slab`).
    fn discard_slab(&self, pfn: Pfn) {
        for i in 0..1u64 << self.order {
            if let Some(page) = pfn_to_page(Pfn(pfn.0 + i)) {
                page.clear_flags(PageFlags::SLAB);
                page.private.store(0, Ordering::Relaxed);
            }
        }
        free_pages(pfn, self.order);
    }

    /// (active objects, total objects, slabs), for `/proc/slabinfo`.
    pub fn stats(&self) -> (usize, usize, usize) {
        let node = self.node.lock();
        let slabs = node.partial.len() + node.full.len() + node.free.len();
        let mut active = node.full.len() * self.objects;
        let mut pfn = node.partial.first();
        while let Some(page) = pfn.and_then(pfn_to_page) {
            active += page.inuse.load(Ordering::Relaxed) as usize;
            let next = page.lru_next.load(Ordering::Relaxed);
            pfn = (next != NO_PAGE).then_some(Pfn(u64::from(next)));
        }
        (active, slabs * self.objects, slabs)
    }
}

impl Drop for KmemCache {
    /// Linux: `kmem_cache_destroy`. Empty slabs go back to the page
    /// allocator; slabs with live objects are reported and leaked, since
    /// freeing them would pull memory from under their users.
    fn drop(&mut self) {
        let mut node = self.node.lock();
        let busy = node.partial.len() + node.full.len();
        while let Some(pfn) = node.free.first() {
            node.free.remove(pfn);
            self.discard_slab(pfn);
        }
        if busy > 0 {
            pr_err!("kmem_cache_destroy {}: {busy} slabs still have objects", self.name);
        }
    }
}

/// Reads the free pointer stored in a free object (Linux: `get_freepointer`).
fn get_freepointer(object: VirtAddr) -> u32 {
    // SAFETY:
    // 1. `object` is a free object of a slab whose lock the caller holds: a
    //    block of direct-mapped pages the cache owns, at an 8-aligned
    //    offset, with at least 8 bytes.
    // 2. Nobody else touches a free object, and its first 4 bytes were
    //    written by `set_freepointer` when it became free.
    unsafe { object.as_ptr::<u32>().read() }
}

/// Stores the offset of the next free object in a free object (Linux:
/// `set_freepointer`).
fn set_freepointer(object: VirtAddr, next: u32) {
    // SAFETY: as in `get_freepointer`: the object belongs to a slab the
    // caller holds locked and is being made free, so its owner is done with
    // it (the `free` contract) and these 4 aligned bytes are ours.
    unsafe { object.as_mut_ptr::<u32>().write(next) };
}

crate::ktest!(slab_reuses_freed_object, {
    let cache = KmemCache::new("ktest-48", 48).map_err(|_| "kmem_cache_create")?;
    let a = cache.alloc().map_err(|_| "alloc a")?;
    let b = cache.alloc().map_err(|_| "alloc b")?;
    crate::kassert!(a != b, "two live objects differ");
    crate::kassert!((a.as_ptr() as usize).is_multiple_of(16), "objects aligned");
    // SAFETY: `a` came from this cache and is not used again.
    unsafe { cache.free(a) };
    let c = cache.alloc().map_err(|_| "alloc c")?;
    crate::kassert!(c == a, "the freed object is handed out again");
    let (active, _, slabs) = cache.stats();
    crate::kassert!(active == 2 && slabs == 1, "stats count two objects in one slab");
    // SAFETY: `b` and `c` came from this cache and are not used again.
    unsafe { cache.free(b) };
    // SAFETY: as above.
    unsafe { cache.free(c) };
    crate::kassert!(cache.stats().0 == 0, "all free");
    Ok(())
});

crate::ktest!(slab_fills_many_slabs, {
    use alloc::vec::Vec;
    let cache = KmemCache::new("ktest-1000", 1000).map_err(|_| "kmem_cache_create")?;
    let mut objs = Vec::new();
    objs.try_reserve_exact(100).map_err(|_| "reserve")?;
    for _ in 0..100 {
        objs.push(cache.alloc().map_err(|_| "alloc")?);
    }
    let (active, total, slabs) = cache.stats();
    crate::kassert!(active == 100 && total >= 100 && slabs > 1, "spread over slabs");
    for o in objs {
        // SAFETY: each object came from this cache and is freed once.
        unsafe { cache.free(o) };
    }
    crate::kassert!(cache.stats().2 == MIN_PARTIAL, "empty slabs go back but one");
    let free = crate::mm::page_alloc::nr_free_pages();
    drop(cache);
    let after = crate::mm::page_alloc::nr_free_pages();
    crate::kassert!(after == free + (1 << calculate_order(1000).0), "destroy frees the last");
    Ok(())
});

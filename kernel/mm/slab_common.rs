//! `kmalloc`: general-purpose kernel allocations from size-class caches,
//! and the Rust global allocator on top of it.
//!
//! Linux: mm/slab_common.c (`kmalloc_caches`, `kmalloc_slab`,
//! `kmalloc_large`), include/linux/slab.h (`kmalloc`, `kfree`).
//!
//! Requests up to 8 KiB go to the smallest kmalloc cache whose size fits
//! and is a multiple of the alignment (so 96 serves up to 32-byte alignment,
//! powers of two are naturally aligned); larger ones, or ones aligned beyond
//! a page, take whole buddy blocks (naturally aligned to their size).
//!
//! `alloc::` (Box, Vec, Arc, BTreeMap) uses these through
//! [`KmallocAllocator`]. A large one that the buddy allocator cannot serve
//! in one block (memory is fragmented, or small: a 2 MiB executable read
//! by execve on a 16 MiB machine) is mapped page by page with vmalloc
//! instead (Linux: `kvmalloc`). A failed allocation returns null to Rust, whose
//! infallible collections then abort: paths a user can drive must use the
//! fallible forms (`Vec::try_reserve`, `Box::try_new` once stable) and
//! return `ENOMEM`.
//!
//! # Locking
//! None of its own: each cache has its lock, the page allocator its zone.

use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{NonNull, null_mut};

use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{
    PAGE_SIZE, VMALLOC_END, VMALLOC_START, VirtAddr, phys_to_virt, virt_to_phys,
};
use crate::mm::page::{PageFlags, virt_to_page};
use crate::mm::page_alloc::{alloc_pages, free_pages};
use crate::mm::slub::KmemCache;
use crate::mm::vmalloc::{vfree, vmalloc, vmalloc_locks_free};
use crate::pr_err;

/// Linux: `kmalloc_info[]` sizes; `KMALLOC_MAX_CACHE_SIZE` is the last.
pub const KMALLOC_SIZES: [usize; 13] =
    [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];
pub const KMALLOC_MAX_CACHE_SIZE: usize = 8192;

/// Linux: `kmalloc_caches[KMALLOC_NORMAL]`; a cache's id is its index.
pub static KMALLOC_CACHES: [KmemCache; KMALLOC_SIZES.len()] = [
    KmemCache::new_static("kmalloc-8", 8, 0),
    KmemCache::new_static("kmalloc-16", 16, 1),
    KmemCache::new_static("kmalloc-32", 32, 2),
    KmemCache::new_static("kmalloc-64", 64, 3),
    KmemCache::new_static("kmalloc-96", 96, 4),
    KmemCache::new_static("kmalloc-128", 128, 5),
    KmemCache::new_static("kmalloc-192", 192, 6),
    KmemCache::new_static("kmalloc-256", 256, 7),
    KmemCache::new_static("kmalloc-512", 512, 8),
    KmemCache::new_static("kmalloc-1k", 1024, 9),
    KmemCache::new_static("kmalloc-2k", 2048, 10),
    KmemCache::new_static("kmalloc-4k", 4096, 11),
    KmemCache::new_static("kmalloc-8k", 8192, 12),
];

/// The cache for `size` bytes aligned to `align` (Linux: `kmalloc_slab`).
pub fn kmalloc_slab(size: usize, align: usize) -> Option<&'static KmemCache> {
    if size > KMALLOC_MAX_CACHE_SIZE {
        return None;
    }
    let size = size.max(1);
    let i = KMALLOC_SIZES.iter().position(|&s| s >= size && s % align == 0)?;
    KMALLOC_CACHES.get(i)
}

/// The buddy order for a large allocation.
fn large_order(size: usize, align: usize) -> u8 {
    let pages = size.max(align).div_ceil(PAGE_SIZE).next_power_of_two();
    u8::try_from(pages.trailing_zeros()).unwrap_or(u8::MAX)
}

/// Allocates `size` bytes aligned to `align` (a power of two) (Linux:
/// `kmalloc`). The memory is not zeroed.
pub fn kmalloc(size: usize, align: usize) -> KResult<NonNull<u8>> {
    if !align.is_power_of_two() {
        return Err(Errno::EINVAL);
    }
    if let Some(cache) = kmalloc_slab(size, align) {
        return cache.alloc();
    }
    // Linux: `kmalloc_large`; alloc_pages marks the head with its order.
    let pfn = alloc_pages(large_order(size, align))?;
    NonNull::new(phys_to_virt(pfn.phys()).as_mut_ptr::<u8>()).ok_or(Errno::ENOMEM)
}

/// Frees what [`kmalloc`] returned (Linux: `kfree`). Anything else is
/// reported and leaked.
///
/// # Safety
/// `ptr` came from `kmalloc` and is not used after this call.
pub unsafe fn kfree(ptr: NonNull<u8>) {
    let va = VirtAddr::new(ptr.as_ptr() as u64);
    let Some(page) = virt_to_page(va) else {
        pr_err!("kfree: {:#x} is not a kernel address", va.as_u64());
        return;
    };
    let flags = page.flags();
    if flags.contains(PageFlags::SLAB) {
        let id = page.private.load(core::sync::atomic::Ordering::Relaxed) as usize;
        match KMALLOC_CACHES.get(id) {
            // SAFETY: the page belongs to this kmalloc cache and the caller
            // promises `ptr` is a live kmalloc object it gives up.
            Some(cache) => unsafe { cache.free(ptr) },
            None => pr_err!("kfree: {:#x} belongs to a non-kmalloc cache", va.as_u64()),
        }
    } else if let (true, Some(order)) = (va.is_page_aligned(), page.compound_order()) {
        let pa = virt_to_phys(va).expect("virt_to_page succeeded");
        free_pages(pa.pfn(), order);
    } else {
        pr_err!("kfree: {:#x} was not allocated by kmalloc", va.as_u64());
    }
}

/// Bytes usable at a kmalloc'd `ptr` (Linux: `ksize`).
pub fn ksize(ptr: NonNull<u8>) -> usize {
    let Some(page) = virt_to_page(VirtAddr::new(ptr.as_ptr() as u64)) else { return 0 };
    if page.flags().contains(PageFlags::SLAB) {
        let id = page.private.load(core::sync::atomic::Ordering::Relaxed) as usize;
        KMALLOC_CACHES.get(id).map_or(0, KmemCache::size)
    } else {
        page.compound_order().map_or(0, |o| PAGE_SIZE << o)
    }
}

/// The kernel's `#[global_allocator]`: Rust's heap is kmalloc.
pub struct KmallocAllocator;

// SAFETY: `alloc` returns memory of at least `layout.size()` bytes aligned to
// `layout.align()` (see `kmalloc_slab` and `large_order`; vmalloc areas are
// whole pages, used only for alignments up to a page), owned by the caller
// until `dealloc`, or null; `dealloc` frees what `alloc` returned, telling
// the two kinds apart by address (vmalloc space is not the direct map).
unsafe impl GlobalAlloc for KmallocAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match kmalloc(layout.size(), layout.align()) {
            Ok(ptr) => ptr.as_ptr(),
            Err(_) => kvmalloc_fallback(layout),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        if is_vmalloc_addr(ptr as u64) {
            if vfree(VirtAddr::new(ptr as u64)).is_err() {
                pr_err!("BUG: heap free of {ptr:p}: not a vmalloc area");
            }
        } else if let Some(ptr) = NonNull::new(ptr) {
            // SAFETY: `GlobalAlloc::dealloc`'s contract: `ptr` came from
            // `alloc` above, i.e. from `kmalloc`, and is dead from now on.
            unsafe { kfree(ptr) };
        }
    }
}

#[global_allocator]
static ALLOCATOR: KmallocAllocator = KmallocAllocator;

/// Heap allocations at least this large fall back to vmalloc when the
/// buddy allocator has no block for them (Linux: `kvmalloc` for sizes
/// above a page; smaller blocks are rarely what fragmentation denies).
const KVMALLOC_MIN: usize = 8 * PAGE_SIZE;

/// The second half of `kvmalloc`: page-aligned virtual memory for `layout`,
/// or null. Not while vmalloc's own locks are held (the heap allocation
/// may come from under them).
fn kvmalloc_fallback(layout: Layout) -> *mut u8 {
    if layout.size() < KVMALLOC_MIN || layout.align() > PAGE_SIZE || !vmalloc_locks_free() {
        return null_mut();
    }
    vmalloc(layout.size()).map_or(null_mut(), |va| va.as_mut_ptr::<u8>())
}

fn is_vmalloc_addr(addr: u64) -> bool {
    (VMALLOC_START..=VMALLOC_END).contains(&addr)
}

/// A zeroed buffer of `len` bytes, `ENOMEM` if it cannot be had (Linux:
/// `kzalloc`): the allocation for sizes a user chose (bounce buffers,
/// arrays copied in).
pub fn kzalloc(len: usize) -> KResult<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
    v.resize(len, 0);
    Ok(v)
}

/// Copies `src` into a new vector of exactly its length, `ENOMEM` if that
/// cannot be had (Linux: `kmemdup`, mm/util.c): the copy for bytes whose
/// length a user chose (names, link targets).
pub fn kmemdup(src: &[u8]) -> KResult<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(src.len()).map_err(|_| Errno::ENOMEM)?;
    v.extend_from_slice(src);
    Ok(v)
}

crate::ktest!(kmalloc_size_classes, {
    let cases = [(1, 8), (8, 8), (9, 16), (33, 64), (65, 96), (97, 128), (129, 192), (200, 256)];
    for (size, class) in cases.into_iter().chain([(1000, 1024), (4096, 4096), (8192, 8192)]) {
        let p = kmalloc(size, 8).map_err(|_| "kmalloc")?;
        let got = ksize(p);
        // SAFETY: `p` came from kmalloc just above.
        unsafe { kfree(p) };
        crate::kassert!(got == class, "size served by its class");
    }
    let big = kmalloc(8193, 8).map_err(|_| "kmalloc large")?;
    let (got, aligned) = (ksize(big), (big.as_ptr() as usize).is_multiple_of(PAGE_SIZE));
    // SAFETY: `big` came from kmalloc just above.
    unsafe { kfree(big) };
    crate::kassert!(got == 16384 && aligned, "large sizes take whole pages");
    let p = kmalloc(8, 64).map_err(|_| "kmalloc aligned")?;
    let aligned = (p.as_ptr() as usize).is_multiple_of(64);
    // SAFETY: `p` came from kmalloc just above.
    unsafe { kfree(p) };
    crate::kassert!(aligned, "alignment honoured");
    Ok(())
});

crate::ktest!(kvmalloc_fallback_maps_and_frees, {
    use crate::mm::page_table::kernel_translate;
    let layout = Layout::from_size_align(KVMALLOC_MIN + 1, 64).map_err(|_| "layout")?;
    let p = kvmalloc_fallback(layout);
    crate::kassert!(is_vmalloc_addr(p as u64), "served from vmalloc space");
    // SAFETY: `p` is a fresh allocation of `layout.size()` writable bytes.
    unsafe { p.write_bytes(0xa5, layout.size()) };
    // SAFETY: `p` came from the allocator's fallback with `layout`; unused after.
    unsafe { ALLOCATOR.dealloc(p, layout) };
    crate::kassert!(kernel_translate(VirtAddr::new(p as u64)).is_none(), "freed by dealloc");
    let small = Layout::from_size_align(PAGE_SIZE, 8).map_err(|_| "layout")?;
    crate::kassert!(kvmalloc_fallback(small).is_null(), "small sizes stay kmalloc's");
    Ok(())
});

crate::ktest!(global_allocator_box_vec_btreemap, {
    use alloc::boxed::Box;
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;
    let b = Box::new(0x1234_u64);
    crate::kassert!(*b == 0x1234, "Box");
    let mut v: Vec<u32> = Vec::new();
    v.try_reserve(10_000).map_err(|_| "try_reserve")?;
    v.extend(0..10_000);
    crate::kassert!(v.iter().map(|&x| u64::from(x)).sum::<u64>() == 49_995_000, "Vec");
    let m: BTreeMap<u32, u32> = (0..500).map(|i| (i, i * i)).collect();
    crate::kassert!(m.get(&20) == Some(&400) && m.len() == 500, "BTreeMap");
    Ok(())
});

crate::ktest!(free_memory_returns_after_burst, {
    use crate::mm::kstack::KernelStack;
    use crate::mm::page_alloc::nr_free_pages;
    use alloc::vec::Vec;
    fn burst() -> Result<(), &'static str> {
        let mut v: Vec<NonNull<u8>> = Vec::new();
        v.try_reserve_exact(600).map_err(|_| "reserve")?;
        for i in 0..600 {
            v.push(
                kmalloc(KMALLOC_SIZES[i % KMALLOC_SIZES.len()] + i % 3, 8)
                    .map_err(|_| "kmalloc")?,
            );
        }
        let stacks = [KernelStack::new(), KernelStack::new()];
        let area = crate::mm::vmalloc(5 * PAGE_SIZE).map_err(|_| "vmalloc")?;
        crate::mm::vfree(area).map_err(|_| "vfree")?;
        drop(stacks);
        for p in v {
            // SAFETY: every pointer came from kmalloc above, freed once.
            unsafe { kfree(p) };
        }
        Ok(())
    }
    // The first burst fills caches that stay (one empty slab per cache,
    // page tables under vmalloc space); the second must give all back.
    burst()?;
    let free = nr_free_pages();
    burst()?;
    crate::kassert!(nr_free_pages() == free, "free memory back to its starting value");
    Ok(())
});

//! Page reclaim: freeing clean page-cache pages when the buddy allocator
//! runs dry (Linux: mm/vmscan.c `try_to_free_pages`, `shrink_page_list`,
//! `__alloc_pages_slowpath`'s direct reclaim; mm/truncate.c
//! `invalidate_mapping_pages`).
//!
//! Every page cache with a backing store (a disk file system's files, the
//! buffer cache of each disk) registers its page tree here when it is
//! made; tmpfs's never do, since their pages are the only copy. When an
//! allocation fails, [`try_to_free_pages`] walks the list round-robin and
//! drops pages that are clean and referenced by the cache alone: no PTE
//! maps them, no buffer head or reader holds them, no writeback has them.
//! They can be read again from the disk. Dirty pages are left to the
//! flusher, which is woken when reclaim falls short and dirty pages exist
//! (Linux: `wakeup_flusher_threads(WB_REASON_VMSCAN)`). There is no LRU
//! yet: trees are visited in turn and each from its lowest index, so a
//! hot page is as likely to go as a cold one. There is no kswapd either:
//! an allocation that may not reclaim (below) just fails, as Linux's
//! `GFP_ATOMIC` does when kswapd is behind.
//!
//! # Locking
//! The allocator may be called with any lock held, so reclaim runs only
//! where sleeping would be allowed (no spinlock held, interrupts on:
//! Linux's `__GFP_DIRECT_RECLAIM`), because freeing a page tree's nodes
//! takes the slab locks that a slab growing its cache holds when it calls
//! the allocator. Even there it never sleeps and only `try_lock`s: the
//! `RECLAIMABLE` list (a leaf; under it only 3 and 4 of
//! kernel/locking/mod.rs) and each tree's `i_pages`, skipping one that is
//! busy. `IN_RECLAIM` lets one task reclaim at a time and stops an
//! allocation made by reclaim itself from recursing.
#![deny(unsafe_code)]

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::fs::pagecache::PageTree;
use crate::kernel::locking::SpinLock;
use crate::mm::vm_event::{VmEventItem, count_vm_events, vm_event};

/// Pages one reclaim pass aims to free at least (Linux: `SWAP_CLUSTER_MAX`).
pub const SWAP_CLUSTER_MAX: usize = 32;

/// The page trees reclaim may take clean pages from (Linux: the file
/// LRU lists, per page there; per mapping here).
static RECLAIMABLE: SpinLock<Vec<Weak<SpinLock<PageTree>>>> = SpinLock::new(Vec::new());
/// Where the next pass starts in `RECLAIMABLE`, so passes take turns.
static CURSOR: AtomicUsize = AtomicUsize::new(0);
static IN_RECLAIM: AtomicBool = AtomicBool::new(false);

/// Registers the page tree of a mapping with a backing store; dead
/// entries are dropped meanwhile. Called with no lock held.
pub fn add_reclaimable(tree: &Arc<SpinLock<PageTree>>) {
    let mut list = RECLAIMABLE.lock();
    list.retain(|w| w.strong_count() > 0);
    if list.try_reserve(1).is_ok() {
        list.push(Arc::downgrade(tree));
    }
}

/// Pages reclaim could free now or once written back: those of every
/// registered tree (Linux: the file LRU lists, for `si_mem_available`).
pub fn nr_reclaimable_file_pages() -> usize {
    // Copied out: a tree's `i_pages` is not taken under the list's lock.
    let trees: Vec<Arc<SpinLock<PageTree>>> =
        RECLAIMABLE.lock().iter().filter_map(Weak::upgrade).collect();
    trees.iter().map(|t| t.lock().nr_pages()).sum()
}

/// Pages reclaim has freed since boot.
pub fn pgsteal() -> usize {
    usize::try_from(vm_event(VmEventItem::PgStealDirect)).unwrap_or(usize::MAX)
}

/// Whether this context may reclaim: no spinlock held and interrupts on
/// (Linux: `gfpflags_allow_blocking`), and a task to charge it to.
fn may_reclaim() -> bool {
    crate::arch::percpu::this_cpu().preempt_count() == 0
        && !crate::arch::irqflags::irqs_disabled()
        && crate::kernel::sched::try_current().is_some()
}

/// The allocator's slow path: an allocation of 2^`order` pages failed;
/// reclaims if this context may, and says whether a retry is worth it
/// (Linux: `__alloc_pages_direct_reclaim`).
pub fn alloc_reclaim(order: u8) -> bool {
    let want = (1usize << order.min(10)).max(SWAP_CLUSTER_MAX);
    may_reclaim() && try_to_free_pages(want) > 0
}

/// Frees up to `want` clean, unused page-cache pages and returns how many
/// went; wakes the flusher if that fell short while pages are dirty
/// (Linux: `try_to_free_pages`). Never sleeps; 0 where it may not run
/// (see the module header).
pub fn try_to_free_pages(want: usize) -> usize {
    if !may_reclaim() || IN_RECLAIM.swap(true, Ordering::Acquire) {
        return 0;
    }
    let freed = shrink_page_caches(want);
    IN_RECLAIM.store(false, Ordering::Release);
    count_vm_events(VmEventItem::PgStealDirect, freed as u64);
    if freed < want && crate::mm::page_writeback::nr_file_dirty() > 0 {
        crate::fs::fs_writeback::wakeup_flusher_threads();
    }
    freed
}

/// Drops every clean, unused page of every registered tree, waiting for
/// each tree's lock (Linux: `drop_pagecache_sb` → `invalidate_mapping_pages`
/// for each inode, from /proc/sys/vm/drop_caches). Returns the pages freed.
/// Called from a system call with no lock held.
pub fn drop_pagecache() -> usize {
    let trees: Vec<Arc<SpinLock<PageTree>>> =
        RECLAIMABLE.lock().iter().filter_map(Weak::upgrade).collect();
    trees.iter().map(|tree| tree.lock().invalidate_clean(usize::MAX)).sum()
}

/// One round-robin pass over the registered trees (Linux:
/// `shrink_node` → `shrink_page_list`, without the LRU).
fn shrink_page_caches(want: usize) -> usize {
    let Some(list) = RECLAIMABLE.try_lock() else { return 0 };
    let n = list.len();
    let start = CURSOR.load(Ordering::Relaxed);
    let mut freed = 0;
    for i in 0..n {
        let at = (start + i) % n;
        let Some(tree) = list.get(at).and_then(Weak::upgrade) else { continue };
        if let Some(mut pages) = tree.try_lock() {
            freed += pages.invalidate_clean(want - freed);
        }
        if freed >= want {
            // The next pass starts after the tree that satisfied this one.
            CURSOR.store(at + 1, Ordering::Relaxed);
            break;
        }
    }
    freed
}

crate::ktest!(vmscan_frees_clean_cache_instead_of_failing, {
    /// Reads all of `bdev` into its page cache; returns the pages cached.
    fn fill_cache(bdev: &crate::fs::inode::Inode) -> Result<usize, &'static str> {
        let mut buf = alloc::vec![0u8; 64 * 1024];
        let mut pos = 0;
        while crate::fs::pagecache::generic_file_read(bdev, &mut buf, &mut pos)
            .map_err(|_| "read")?
            > 0
        {}
        Ok(bdev.i_mapping().ok_or("mapping")?.lock().nr_pages())
    }

    /// Takes every free block, largest first, until the buddy allocator is
    /// dry; `held` has room for them (no allocation while memory is short).
    fn exhaust(held: &mut Vec<(crate::mm::addr::Pfn, u8)>) {
        use crate::mm::page_alloc::{MAX_PAGE_ORDER, alloc_pages};
        for order in (0..=MAX_PAGE_ORDER).rev() {
            while held.len() < held.capacity() {
                match alloc_pages(order) {
                    Ok(pfn) => held.push((pfn, order)),
                    Err(_) => break,
                }
            }
        }
    }

    fn give_back(held: &mut Vec<(crate::mm::addr::Pfn, u8)>) {
        for (pfn, order) in held.drain(..) {
            crate::mm::page_alloc::free_pages(pfn, order);
        }
    }

    use crate::fs::buffer::{bdget, sync_blockdev};
    use crate::fs::pagecache::generic_file_read;
    use crate::mm::memory::{FaultFlags, handle_user_fault};
    use crate::mm::mm_types::Mm;
    use crate::mm::mmap::{MapFlags, Prot, do_mmap_pgoff};
    let Some(disk) = crate::block::get_disk("vda") else {
        crate::pr_info!("ktest: no vda attached; reclaim test skipped");
        return Ok(());
    };
    sync_blockdev(&disk).map_err(|_| "sync_blockdev")?;
    let bdev = bdget(&disk).map_err(|_| "bdget")?;
    let mapping = bdev.i_mapping().ok_or("mapping")?;
    let mut held = Vec::new();
    held.try_reserve(1 << 16).map_err(|_| "room for the list")?;

    // A page fault allocates under the page-table lock, where the
    // allocator may not reclaim: the fault path reclaims and retries.
    crate::kassert!(fill_cache(&bdev)? >= 200, "the disk's pages are cached");
    let mm = Mm::new().map_err(|_| "Mm::new")?;
    let anon = MapFlags::PRIVATE | MapFlags::ANONYMOUS;
    let a =
        do_mmap_pgoff(&mm, None, 0, 4096, Prot::READ | Prot::WRITE, anon, 0).map_err(|_| "mmap")?;
    let lock = crate::kernel::locking::SpinLock::new(());
    let guard = lock.lock(); // no reclaim while memory runs out
    exhaust(&mut held);
    drop(guard);
    let steal = pgsteal();
    let fault = handle_user_fault(&mm, a, FaultFlags::USER | FaultFlags::WRITE);
    let stolen = pgsteal() - steal;
    give_back(&mut held);
    crate::kassert!(fault.is_ok(), "the fault succeeded after reclaim");
    crate::kassert!(stolen >= SWAP_CLUSTER_MAX, "by freeing cache pages");

    // Any other allocation reclaims by itself, until no clean unused
    // page is left.
    let cached = fill_cache(&bdev)?;
    let steal = pgsteal();
    exhaust(&mut held);
    let left = mapping.lock().nr_pages();
    let stolen = pgsteal() - steal;
    give_back(&mut held);
    crate::kassert!(stolen >= cached, "reclaim freed at least the disk's pages");
    crate::kassert!(left == 0, "no clean unused page of the disk is left");
    // Still readable: a dropped page is read again from the disk.
    let mut first = [0u8; 512];
    let mut raw = [0u8; 512];
    let mut pos = 0;
    generic_file_read(&bdev, &mut first, &mut pos).map_err(|_| "read again")?;
    disk.read_blocks(0, &mut raw).map_err(|_| "read_blocks")?;
    crate::kassert!(first == raw, "read back from the disk");
    Ok(())
});

//! The buddy allocator over one contiguous run of page frames: allocation
//! splits the smallest sufficient block, freeing merges a block with its
//! buddy for as long as the buddy is free.
//!
//! Linux: `mm/page_alloc.c`: `__rmqueue_smallest` and `expand` (alloc),
//! `__free_one_page`, `page_is_buddy`, `__find_buddy_pfn` and
//! `buddy_merge_likely` (free), `__free_pages_memory` (boot-time release of
//! memblock ranges), `free_pages_prepare` (the checks on free).
//!
//! Invariants, checked by [`BuddyAllocator::check_free_lists`]:
//! - a frame has an order iff it heads a free block, and that block is on the
//!   list of its order;
//! - free blocks are aligned to their size (in absolute pfns, as Linux's
//!   buddy arithmetic `pfn ^ (1 << order)` needs), lie inside the managed
//!   range, and do not overlap;
//! - no two free buddies of the same order coexist: they would have merged.
//!
//! Locking: none here; see the crate header.

use crate::frame_map::FrameMap;
use crate::free_area::FreeArea;
use crate::{BuddyError, MAX_ORDER, MAX_ORDER_NR_PAGES, Pfn};

/// The free lists of one run of page frames `[base_pfn, end_pfn)` (Linux: the
/// buddy part of `struct zone`: `free_area[MAX_ORDER]`).
///
/// Frames start out allocated (Linux: reserved by memblock); the kernel then
/// hands usable ranges to [`BuddyAllocator::add_free_range`].
#[derive(Debug)]
pub struct BuddyAllocator<M> {
    frames: M,
    base_pfn: Pfn,
    end_pfn: Pfn,
    free_area: [FreeArea; MAX_ORDER as usize],
}

/// Frames in a block of `order`.
const fn block_pages(order: u8) -> u64 {
    1 << order
}

/// The buddy of the block at `pfn` (Linux: `__find_buddy_pfn`).
const fn find_buddy_pfn(pfn: Pfn, order: u8) -> Pfn {
    pfn ^ block_pages(order)
}

impl<M: FrameMap> BuddyAllocator<M> {
    /// Manages `frames`, whose index 0 is frame `base_pfn`; every frame
    /// starts allocated. Clears each frame's buddy fields (Linux:
    /// `__init_single_page`).
    ///
    /// Fails with [`BuddyError::OutOfRange`] if the frames come within
    /// 2^`MAX_ORDER` of the largest pfn (so that buddy arithmetic never
    /// overflows; real pfns are below 2^52).
    pub fn new(base_pfn: Pfn, mut frames: M) -> Result<Self, BuddyError> {
        let nr_frames = frames.nr_frames();
        let end_pfn = u64::try_from(nr_frames)
            .ok()
            .and_then(|n| base_pfn.checked_add(n))
            .filter(|end| end.checked_add(2 * MAX_ORDER_NR_PAGES).is_some())
            .ok_or(BuddyError::OutOfRange)?;
        for idx in 0..nr_frames {
            frames.set_buddy_order(idx, None);
            frames.set_buddy_prev(idx, None);
            frames.set_buddy_next(idx, None);
        }
        Ok(Self { frames, base_pfn, end_pfn, free_area: [FreeArea::new(); MAX_ORDER as usize] })
    }

    /// The first managed frame.
    pub const fn base_pfn(&self) -> Pfn {
        self.base_pfn
    }

    /// One past the last managed frame.
    pub const fn end_pfn(&self) -> Pfn {
        self.end_pfn
    }

    /// The frame map (Linux: `zone->zone_mem_map`, in spirit).
    pub const fn frames(&self) -> &M {
        &self.frames
    }

    /// The frame map, for fields other than the buddy ones: changing those
    /// behind the allocator's back breaks it (not memory safety).
    pub const fn frames_mut(&mut self) -> &mut M {
        &mut self.frames
    }

    /// Gives the frame map back.
    pub fn into_frames(self) -> M {
        self.frames
    }

    /// The free list of `order`, or `None` for an order not below
    /// [`MAX_ORDER`].
    pub fn free_area(&self, order: u8) -> Option<&FreeArea> {
        self.free_area.get(usize::from(order))
    }

    /// Number of free blocks of `order` (Linux: `free_area[order].nr_free`).
    pub fn free_count(&self, order: u8) -> usize {
        self.free_area(order).map_or(0, FreeArea::nr_free)
    }

    /// Number of free frames (Linux: `zone_page_state(zone, NR_FREE_PAGES)`).
    pub fn nr_free_pages(&self) -> u64 {
        (0..MAX_ORDER).map(|order| self.free_count(order) as u64 * block_pages(order)).sum()
    }

    /// The first frames of the free blocks of `order`, in list order
    /// (allocation takes the first).
    pub fn free_blocks(&self, order: u8) -> impl Iterator<Item = Pfn> + '_ {
        let area = self.free_area(order).copied().unwrap_or_default();
        area.iter(&self.frames).map(|idx| self.pfn(idx))
    }

    /// Whether frame `pfn` is managed here and inside a free block.
    pub fn is_free(&self, pfn: Pfn) -> bool {
        self.free_block_containing(pfn).is_some()
    }

    /// Takes a block of 2^`order` frames and returns its first frame, or
    /// `None` if no free block is that large (Linux: `__rmqueue_smallest`).
    ///
    /// The smallest sufficient block is split; the halves not returned go
    /// back to the lower orders' lists.
    pub fn alloc(&mut self, order: u8) -> Option<Pfn> {
        for current in order..MAX_ORDER {
            let Some(idx) = self.free_area[usize::from(current)].first() else {
                continue;
            };
            let pfn = self.pfn(idx);
            self.del_page_from_free_list(pfn, current);
            self.expand(pfn, order, current);
            return Some(pfn);
        }
        None
    }

    /// Gives back the block of 2^`order` frames at `pfn`, merging it with
    /// its buddies (Linux: `__free_pages` down to `__free_one_page`).
    ///
    /// Refuses, changing nothing, a bad order, a misaligned or out-of-range
    /// block, and a block any frame of which is already free. A block freed
    /// with the wrong order whose other part is allocated cannot be told from
    /// a correct free, as in Linux.
    pub fn free(&mut self, pfn: Pfn, order: u8) -> Result<(), BuddyError> {
        self.check_block(pfn, order)?;
        self.check_not_free(pfn, order)?;
        self.free_one_page(pfn, order, false);
        Ok(())
    }

    /// Frees the frames `[start, end)`, all currently allocated, as the
    /// largest aligned blocks that fit (Linux: `__free_pages_memory`, as
    /// `memblock_free_all` calls it at boot). Blocks merge with free buddies,
    /// including ones freed by earlier calls.
    ///
    /// Checks every block before freeing any, so an error changes nothing.
    pub fn add_free_range(&mut self, start: Pfn, end: Pfn) -> Result<(), BuddyError> {
        if start > end || start < self.base_pfn || end > self.end_pfn {
            return Err(BuddyError::OutOfRange);
        }
        for (pfn, order) in aligned_blocks(start, end) {
            self.check_not_free(pfn, order)?;
        }
        for (pfn, order) in aligned_blocks(start, end) {
            // Linux: FPI_TO_TAIL, so boot memory is used in address order.
            self.free_one_page(pfn, order, true);
        }
        Ok(())
    }

    /// Checks the invariants listed in the module header, walking every
    /// list and every free frame: for tests and debug builds (Linux has
    /// scattered `VM_BUG_ON`s instead). Returns the first violation.
    pub fn check_free_lists(&self) -> Result<(), &'static str> {
        let mut heads = 0;
        for order in 0..MAX_ORDER {
            let area = &self.free_area[usize::from(order)];
            let mut count = 0;
            let mut prev = None;
            for idx in area.iter(&self.frames) {
                count += 1;
                if count > area.nr_free() {
                    return Err("free list longer than nr_free (or cyclic)");
                }
                if self.frames.buddy_prev(idx) != prev {
                    return Err("free list prev link broken");
                }
                self.check_free_block(idx, order)?;
                prev = Some(idx);
            }
            if count != area.nr_free() {
                return Err("free list shorter than nr_free");
            }
            if area.nr_free() > 0 && area.last() != prev {
                return Err("free list tail is not its last block");
            }
            heads += count;
        }
        let marked = (0..self.frames.nr_frames())
            .filter(|&idx| self.frames.buddy_order(idx).is_some())
            .count();
        if marked != heads {
            return Err("a frame has an order but is on no free list");
        }
        Ok(())
    }

    /// Checks one listed free block (see [`Self::check_free_lists`]).
    fn check_free_block(&self, idx: usize, order: u8) -> Result<(), &'static str> {
        let pfn = self.pfn(idx);
        if self.frames.buddy_order(idx) != Some(order) {
            return Err("listed block has another order");
        }
        if !pfn.is_multiple_of(block_pages(order)) {
            return Err("free block misaligned");
        }
        if pfn + block_pages(order) > self.end_pfn {
            return Err("free block runs past the end");
        }
        if (pfn + 1..pfn + block_pages(order)).any(|p| self.order_of(p).is_some()) {
            return Err("free blocks overlap");
        }
        if order < MAX_ORDER - 1 && self.page_is_buddy(find_buddy_pfn(pfn, order), order) {
            return Err("free buddies left unmerged");
        }
        Ok(())
    }

    /// Frame `pfn`'s index; `pfn` must be managed here.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "pfn - base_pfn < nr_frames(), which is a usize"
    )]
    const fn idx(&self, pfn: Pfn) -> usize {
        (pfn - self.base_pfn) as usize
    }

    /// Frame index `idx`'s pfn.
    const fn pfn(&self, idx: usize) -> Pfn {
        self.base_pfn + idx as u64
    }

    /// Frame `pfn`'s buddy order; `None` if it is not a free head or not
    /// managed here.
    fn order_of(&self, pfn: Pfn) -> Option<u8> {
        if pfn < self.base_pfn || pfn >= self.end_pfn {
            return None;
        }
        self.frames.buddy_order(self.idx(pfn))
    }

    /// Whether the block at `buddy` is a free block of exactly `order`
    /// inside the managed range (Linux: `page_is_buddy`).
    fn page_is_buddy(&self, buddy: Pfn, order: u8) -> bool {
        buddy >= self.base_pfn
            && buddy + block_pages(order) <= self.end_pfn
            && self.order_of(buddy) == Some(order)
    }

    /// The free block containing frame `pfn`, as (first frame, order).
    fn free_block_containing(&self, pfn: Pfn) -> Option<(Pfn, u8)> {
        (0..MAX_ORDER).find_map(|order| {
            let head = pfn & !(block_pages(order) - 1);
            (self.order_of(head) == Some(order)).then_some((head, order))
        })
    }

    /// Checks that `pfn`, `order` name a possible block (Linux:
    /// `free_pages_prepare`'s sanity checks, as errors instead of oopses).
    fn check_block(&self, pfn: Pfn, order: u8) -> Result<(), BuddyError> {
        if order >= MAX_ORDER {
            return Err(BuddyError::BadOrder);
        }
        if !pfn.is_multiple_of(block_pages(order)) {
            return Err(BuddyError::Misaligned);
        }
        let end = pfn.checked_add(block_pages(order)).ok_or(BuddyError::OutOfRange)?;
        if pfn < self.base_pfn || end > self.end_pfn {
            return Err(BuddyError::OutOfRange);
        }
        Ok(())
    }

    /// Checks that no frame of the valid block `pfn`, `order` is free: it
    /// is neither inside a larger free block nor contains a free block.
    fn check_not_free(&self, pfn: Pfn, order: u8) -> Result<(), BuddyError> {
        let in_larger = (order + 1..MAX_ORDER).any(|larger| {
            let head = pfn & !(block_pages(larger) - 1);
            self.order_of(head) == Some(larger)
        });
        let contains = (pfn..pfn + block_pages(order)).any(|p| self.order_of(p).is_some());
        if in_larger || contains { Err(BuddyError::AlreadyFree) } else { Ok(()) }
    }

    /// Marks the block free and lists it (Linux: `set_buddy_order` and
    /// `add_to_free_list[_tail]`).
    fn add_to_free_list(&mut self, pfn: Pfn, order: u8, to_tail: bool) {
        let idx = self.idx(pfn);
        self.frames.set_buddy_order(idx, Some(order));
        let area = &mut self.free_area[usize::from(order)];
        if to_tail {
            area.push_back(&mut self.frames, idx);
        } else {
            area.push_front(&mut self.frames, idx);
        }
    }

    /// Unlists the free block at `pfn` in O(1) and marks it allocated
    /// (Linux: `del_page_from_free_list`).
    fn del_page_from_free_list(&mut self, pfn: Pfn, order: u8) {
        let idx = self.idx(pfn);
        self.free_area[usize::from(order)].remove(&mut self.frames, idx);
        self.frames.set_buddy_order(idx, None);
    }

    /// Splits the block of order `high` at `pfn` down to order `low`,
    /// listing the upper half at each step (Linux: `expand`).
    fn expand(&mut self, pfn: Pfn, low: u8, mut high: u8) {
        while high > low {
            high -= 1;
            self.add_to_free_list(pfn + block_pages(high), high, false);
        }
    }

    /// Frees a checked block, merging while the buddy is free (Linux:
    /// `__free_one_page`).
    fn free_one_page(&mut self, mut pfn: Pfn, mut order: u8, fpi_to_tail: bool) {
        while order < MAX_ORDER - 1 {
            let buddy = find_buddy_pfn(pfn, order);
            if !self.page_is_buddy(buddy, order) {
                break;
            }
            self.del_page_from_free_list(buddy, order);
            pfn &= buddy;
            order += 1;
        }
        let to_tail = fpi_to_tail || self.buddy_merge_likely(pfn, order);
        self.add_to_free_list(pfn, order, to_tail);
    }

    /// Whether the block just freed is likely to merge soon: its buddy one
    /// order up is free, so the missing piece is probably on its way back.
    /// Such blocks go to the tail so they stay free (Linux:
    /// `buddy_merge_likely`).
    fn buddy_merge_likely(&self, pfn: Pfn, order: u8) -> bool {
        if order >= MAX_ORDER - 2 {
            return false;
        }
        let higher = pfn & !block_pages(order);
        self.page_is_buddy(find_buddy_pfn(higher, order + 1), order + 1)
    }
}

/// The largest aligned blocks covering `[start, end)`, in address order
/// (Linux: the loop of `__free_pages_memory`).
fn aligned_blocks(start: Pfn, end: Pfn) -> impl Iterator<Item = (Pfn, u8)> {
    let mut pfn = start;
    core::iter::from_fn(move || {
        if pfn >= end {
            return None;
        }
        let align = pfn.trailing_zeros().min(u32::from(MAX_ORDER - 1));
        let mut order = u8::try_from(align).unwrap_or(MAX_ORDER - 1);
        while pfn + block_pages(order) > end {
            order -= 1;
        }
        let block = (pfn, order);
        pfn += block_pages(order);
        Some(block)
    })
}

#[cfg(test)]
mod tests;

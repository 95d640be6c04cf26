//! How the allocator reaches the buddy fields of each page descriptor.
//!
//! Linux: the `struct page` fields `__free_one_page` uses: `PG_buddy` with
//! `page_private` (the order, `buddy_order()`/`set_buddy_order()`), and
//! `page->buddy_list` (a `list_head` shared with `lru`).
//!
//! Two ways in:
//! - [`BuddyPage`], for a page descriptor struct; a slice of them is a
//!   [`FrameMap`]. [`BuddyState`] is a ready-made implementation to embed.
//! - [`FrameMap`] directly, for a memory map whose buddy fields are reached
//!   some other way (atomics or cells behind a zone-lock guard, packed bits).
//!
//! Indices are frame numbers relative to the allocator's first frame.

/// The buddy fields of one page descriptor (Linux: part of `struct page`).
///
/// The allocator alone sets these, while the frame is free; an
/// implementation may reuse the storage for other purposes while the frame
/// is allocated, provided `buddy_order` then returns `None`.
pub trait BuddyPage {
    /// `Some(order)` iff this frame heads a free block of 2^order frames
    /// (Linux: `PageBuddy(page)` and `buddy_order(page)`).
    fn buddy_order(&self) -> Option<u8>;
    /// Marks this frame as the head of a free block, or not.
    fn set_buddy_order(&mut self, order: Option<u8>);
    /// The previous free block of the same order, by frame index.
    fn buddy_prev(&self) -> Option<usize>;
    /// Sets the previous link.
    fn set_buddy_prev(&mut self, prev: Option<usize>);
    /// The next free block of the same order, by frame index.
    fn buddy_next(&self) -> Option<usize>;
    /// Sets the next link.
    fn set_buddy_next(&mut self, next: Option<usize>);
}

/// The buddy fields of a run of frames, by index (Linux: `mem_map` seen
/// through `pfn_to_page`).
///
/// The allocator calls the accessors only with `idx < nr_frames()`.
pub trait FrameMap {
    /// Number of frames, from index 0.
    fn nr_frames(&self) -> usize;
    /// See [`BuddyPage::buddy_order`].
    fn buddy_order(&self, idx: usize) -> Option<u8>;
    /// See [`BuddyPage::set_buddy_order`].
    fn set_buddy_order(&mut self, idx: usize, order: Option<u8>);
    /// See [`BuddyPage::buddy_prev`].
    fn buddy_prev(&self, idx: usize) -> Option<usize>;
    /// See [`BuddyPage::set_buddy_prev`].
    fn set_buddy_prev(&mut self, idx: usize, prev: Option<usize>);
    /// See [`BuddyPage::buddy_next`].
    fn buddy_next(&self, idx: usize) -> Option<usize>;
    /// See [`BuddyPage::set_buddy_next`].
    fn set_buddy_next(&mut self, idx: usize, next: Option<usize>);
}

impl<P: BuddyPage> FrameMap for [P] {
    fn nr_frames(&self) -> usize {
        self.len()
    }
    fn buddy_order(&self, idx: usize) -> Option<u8> {
        self[idx].buddy_order()
    }
    fn set_buddy_order(&mut self, idx: usize, order: Option<u8>) {
        self[idx].set_buddy_order(order);
    }
    fn buddy_prev(&self, idx: usize) -> Option<usize> {
        self[idx].buddy_prev()
    }
    fn set_buddy_prev(&mut self, idx: usize, prev: Option<usize>) {
        self[idx].set_buddy_prev(prev);
    }
    fn buddy_next(&self, idx: usize) -> Option<usize> {
        self[idx].buddy_next()
    }
    fn set_buddy_next(&mut self, idx: usize, next: Option<usize>) {
        self[idx].set_buddy_next(next);
    }
}

impl<M: FrameMap + ?Sized> FrameMap for &mut M {
    fn nr_frames(&self) -> usize {
        (**self).nr_frames()
    }
    fn buddy_order(&self, idx: usize) -> Option<u8> {
        (**self).buddy_order(idx)
    }
    fn set_buddy_order(&mut self, idx: usize, order: Option<u8>) {
        (**self).set_buddy_order(idx, order);
    }
    fn buddy_prev(&self, idx: usize) -> Option<usize> {
        (**self).buddy_prev(idx)
    }
    fn set_buddy_prev(&mut self, idx: usize, prev: Option<usize>) {
        (**self).set_buddy_prev(idx, prev);
    }
    fn buddy_next(&self, idx: usize) -> Option<usize> {
        (**self).buddy_next(idx)
    }
    fn set_buddy_next(&mut self, idx: usize, next: Option<usize>) {
        (**self).set_buddy_next(idx, next);
    }
}

/// Ready-made buddy fields: embed one in a page descriptor and delegate
/// [`BuddyPage`] to it, or use a slice of them as the [`FrameMap`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuddyState {
    order: Option<u8>,
    prev: Option<usize>,
    next: Option<usize>,
}

impl BuddyPage for BuddyState {
    fn buddy_order(&self) -> Option<u8> {
        self.order
    }
    fn set_buddy_order(&mut self, order: Option<u8>) {
        self.order = order;
    }
    fn buddy_prev(&self) -> Option<usize> {
        self.prev
    }
    fn set_buddy_prev(&mut self, prev: Option<usize>) {
        self.prev = prev;
    }
    fn buddy_next(&self) -> Option<usize> {
        self.next
    }
    fn set_buddy_next(&mut self, next: Option<usize>) {
        self.next = next;
    }
}

//! One order's list of free blocks: a doubly linked list threaded through the
//! head frames' descriptors, with O(1) insertion at either end and O(1)
//! removal from the middle.
//!
//! Linux: `struct free_area` (`include/linux/mmzone.h`), `add_to_free_list`,
//! `add_to_free_list_tail`, `del_page_from_free_list` (`mm/page_alloc.c`).
//! Linux keeps one list per migrate type; Ferrite has one.

use crate::frame_map::FrameMap;

/// The free blocks of one order (Linux: `struct free_area`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FreeArea {
    head: Option<usize>,
    tail: Option<usize>,
    nr_free: usize,
}

impl FreeArea {
    /// An empty list.
    pub const fn new() -> Self {
        Self { head: None, tail: None, nr_free: 0 }
    }

    /// Number of blocks on the list (Linux: `nr_free`, shown per order in
    /// `/proc/buddyinfo`).
    pub const fn nr_free(&self) -> usize {
        self.nr_free
    }

    /// Whether the list is empty.
    pub const fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// The first block's frame index (Linux: `get_page_from_free_area`).
    pub(crate) const fn first(&self) -> Option<usize> {
        self.head
    }

    /// The last block's frame index.
    pub(crate) const fn last(&self) -> Option<usize> {
        self.tail
    }

    /// Puts block `idx` first (Linux: `add_to_free_list`).
    pub(crate) fn push_front<M: FrameMap + ?Sized>(&mut self, frames: &mut M, idx: usize) {
        frames.set_buddy_prev(idx, None);
        frames.set_buddy_next(idx, self.head);
        match self.head {
            Some(old) => frames.set_buddy_prev(old, Some(idx)),
            None => self.tail = Some(idx),
        }
        self.head = Some(idx);
        self.nr_free += 1;
    }

    /// Puts block `idx` last (Linux: `add_to_free_list_tail`).
    pub(crate) fn push_back<M: FrameMap + ?Sized>(&mut self, frames: &mut M, idx: usize) {
        frames.set_buddy_next(idx, None);
        frames.set_buddy_prev(idx, self.tail);
        match self.tail {
            Some(old) => frames.set_buddy_next(old, Some(idx)),
            None => self.head = Some(idx),
        }
        self.tail = Some(idx);
        self.nr_free += 1;
    }

    /// Unlinks block `idx`, which must be on this list (Linux:
    /// `del_page_from_free_list`, minus clearing the order).
    pub(crate) fn remove<M: FrameMap + ?Sized>(&mut self, frames: &mut M, idx: usize) {
        let prev = frames.buddy_prev(idx);
        let next = frames.buddy_next(idx);
        match prev {
            Some(p) => frames.set_buddy_next(p, next),
            None => self.head = next,
        }
        match next {
            Some(n) => frames.set_buddy_prev(n, prev),
            None => self.tail = prev,
        }
        frames.set_buddy_prev(idx, None);
        frames.set_buddy_next(idx, None);
        self.nr_free -= 1;
    }

    /// The blocks' frame indices, first to last.
    pub(crate) fn iter<'m, M: FrameMap + ?Sized>(
        &self,
        frames: &'m M,
    ) -> impl Iterator<Item = usize> + use<'m, M> {
        core::iter::successors(self.head, move |&idx| frames.buddy_next(idx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BuddyState;

    fn list(area: &FreeArea, frames: &[BuddyState]) -> Vec<usize> {
        area.iter(frames).collect()
    }

    fn backwards(area: &FreeArea, frames: &[BuddyState]) -> Vec<usize> {
        let mut out: Vec<usize> =
            core::iter::successors(area.tail, |&i| frames.buddy_prev(i)).collect();
        out.reverse();
        out
    }

    #[test]
    fn push_and_remove_keep_both_directions() {
        let mut frames = vec![BuddyState::default(); 8];
        let mut area = FreeArea::new();
        assert!(area.is_empty());
        area.push_back(frames.as_mut_slice(), 2);
        area.push_front(frames.as_mut_slice(), 1);
        area.push_back(frames.as_mut_slice(), 3);
        area.push_front(frames.as_mut_slice(), 0);
        assert_eq!(list(&area, &frames), [0, 1, 2, 3]);
        assert_eq!(backwards(&area, &frames), [0, 1, 2, 3]);
        assert_eq!(area.nr_free(), 4);

        area.remove(frames.as_mut_slice(), 2); // middle
        assert_eq!(list(&area, &frames), [0, 1, 3]);
        assert_eq!(backwards(&area, &frames), [0, 1, 3]);
        area.remove(frames.as_mut_slice(), 0); // head
        area.remove(frames.as_mut_slice(), 3); // tail
        assert_eq!(list(&area, &frames), [1]);
        assert_eq!(backwards(&area, &frames), [1]);
        assert_eq!(area.first(), Some(1));
        area.remove(frames.as_mut_slice(), 1);
        assert!(area.is_empty());
        assert_eq!(area.nr_free(), 0);
        assert_eq!(area, FreeArea::new());
        assert!(frames.iter().all(|f| *f == BuddyState::default()));
    }
}

//! The ordered, non-overlapping set of areas that make up a user address
//! space, and the searches the kernel runs over it.
//!
//! Linux: mm/mmap.c (`find_vma`, `find_vma_intersection`, `__split_vma`,
//! `vma_merge`, `unmapped_area`, `unmapped_area_topdown`, `vm_start_gap`),
//! lib/maple_tree.c (the structure Linux 6.1 keeps them in).
//!
//! [`VmaTree`] keeps [`Area`]s in a `BTreeMap` keyed by start address, which
//! gives the same O(log n) lookups as Linux's maple tree. What an area
//! carries besides its bounds (flags, the shared object, the file offset) is
//! the kernel's type `T`, which says through [`AreaData`] how it splits and
//! whether two neighbours may merge. Addresses are plain `u64` byte
//! addresses; the kernel keeps them page aligned.
//!
//! Locking: none inside; the kernel keeps the tree under the mm's
//! `mmap_lock`, so `&mut VmaTree` is proof it is held for writing.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// What the kernel keeps in each area besides its bounds.
pub trait AreaData: Sized {
    /// The data of the upper part when an area is cut `offset` bytes after
    /// its start (Linux: `__split_vma` copies the VMA and advances
    /// `vm_pgoff`).
    fn split_off(&self, offset: u64) -> Self;
    /// Whether an area of `len` bytes with `self` followed directly by one
    /// with `next` may become one area (Linux: `is_mergeable_vma`).
    fn can_merge(&self, len: u64, next: &Self) -> bool;
    /// How much free space must stay below this area: the stack guard gap
    /// of a grows-down stack (Linux: `vm_start_gap`).
    fn guard_gap(&self) -> u64 {
        0
    }
}

/// One area `[start, end)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Area<T> {
    pub start: u64,
    pub end: u64,
    pub data: T,
}

impl<T> Area<T> {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }
}

/// An area reads as its data: `vma.flags` rather than `vma.data.flags`.
impl<T> core::ops::Deref for Area<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

/// Why an area could not be inserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertError {
    /// Empty or reversed bounds.
    Empty,
    /// It overlaps an area already there.
    Overlap,
}

/// The areas of one address space, ordered by address.
#[derive(Debug)]
pub struct VmaTree<T> {
    areas: BTreeMap<u64, Area<T>>,
}

impl<T> Default for VmaTree<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> VmaTree<T> {
    pub const fn new() -> Self {
        Self { areas: BTreeMap::new() }
    }

    /// Linux: `mm->map_count`.
    pub fn len(&self) -> usize {
        self.areas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Area<T>> {
        self.areas.values()
    }

    /// The first area that ends above `addr`; it may start above `addr`
    /// too (Linux: `find_vma`, whose callers check `vm_start`).
    pub fn find(&self, addr: u64) -> Option<&Area<T>> {
        if let Some((_, a)) = self.areas.range(..=addr).next_back()
            && a.end > addr
        {
            return Some(a);
        }
        self.areas.range(addr.saturating_add(1)..).next().map(|(_, a)| a)
    }

    /// The area containing `addr` (Linux: `vma_lookup`).
    pub fn lookup(&self, addr: u64) -> Option<&Area<T>> {
        self.find(addr).filter(|a| a.start <= addr)
    }

    /// The last area that starts below `addr` (Linux: `find_vma_prev`'s
    /// `pprev`, the area a stack grows towards).
    pub fn prev(&self, addr: u64) -> Option<&Area<T>> {
        self.areas.range(..addr).next_back().map(|(_, a)| a)
    }

    /// The first area overlapping `[start, end)` (Linux:
    /// `find_vma_intersection`).
    pub fn find_intersection(&self, start: u64, end: u64) -> Option<&Area<T>> {
        self.find(start).filter(|a| a.start < end)
    }

    /// Every area overlapping `[start, end)`, in order.
    pub fn overlapping(&self, start: u64, end: u64) -> impl Iterator<Item = &Area<T>> {
        let first = self.find(start).map_or(u64::MAX, |a| a.start);
        self.areas.range(first..end.max(first)).map(|(_, a)| a)
    }

    /// Adds an area that overlaps none (Linux: `vma_link`); no merging.
    pub fn insert(&mut self, area: Area<T>) -> Result<(), InsertError> {
        if area.start >= area.end {
            return Err(InsertError::Empty);
        }
        if self.find_intersection(area.start, area.end).is_some() {
            return Err(InsertError::Overlap);
        }
        self.areas.insert(area.start, area);
        Ok(())
    }

    /// Takes out the area that starts exactly at `start`.
    pub fn remove(&mut self, start: u64) -> Option<Area<T>> {
        self.areas.remove(&start)
    }

    /// Mutable access to the area that starts at `start`, for changes that
    /// keep its bounds (flags, for `mprotect`).
    pub fn get_mut(&mut self, start: u64) -> Option<&mut Area<T>> {
        self.areas.get_mut(&start)
    }
}

impl<T: AreaData> VmaTree<T> {
    /// Cuts the area containing `addr` in two at `addr`, if `addr` lies
    /// strictly inside one (Linux: `split_vma`). Returns whether it cut.
    pub fn split(&mut self, addr: u64) -> bool {
        let Some(lower) = self.areas.range_mut(..addr).next_back().map(|(_, a)| a) else {
            return false;
        };
        if lower.end <= addr {
            return false;
        }
        let upper =
            Area { start: addr, end: lower.end, data: lower.data.split_off(addr - lower.start) };
        lower.end = addr;
        self.areas.insert(addr, upper);
        true
    }

    /// Removes every part of every area inside `[start, end)`, cutting
    /// the areas that straddle either bound, and returns the removed parts
    /// in order (Linux: `do_vmi_align_munmap`'s detach step).
    pub fn remove_range(&mut self, start: u64, end: u64) -> Vec<Area<T>> {
        if start >= end {
            return Vec::new();
        }
        self.split(start);
        self.split(end);
        let starts: Vec<u64> = self.areas.range(start..end).map(|(&s, _)| s).collect();
        starts.into_iter().filter_map(|s| self.areas.remove(&s)).collect()
    }

    /// Merges the area starting at `start` with its neighbours where they
    /// touch and [`AreaData::can_merge`] agrees (Linux: `vma_merge`).
    /// Returns the start of the area that now covers `start`.
    pub fn merge_around(&mut self, start: u64) -> u64 {
        let mut start = start;
        if let Some(prev) = self.prev(start).map(|p| p.start)
            && self.mergeable(prev, start)
        {
            self.absorb(prev, start);
            start = prev;
        }
        if let Some(next) = self.areas.get(&start).map(|a| a.end)
            && self.mergeable(start, next)
        {
            self.absorb(start, next);
        }
        start
    }

    fn mergeable(&self, lower: u64, upper: u64) -> bool {
        match (self.areas.get(&lower), self.areas.get(&upper)) {
            (Some(l), Some(u)) => l.end == u.start && l.data.can_merge(l.len(), &u.data),
            _ => false,
        }
    }

    fn absorb(&mut self, lower: u64, upper: u64) {
        if let Some(u) = self.areas.remove(&upper)
            && let Some(l) = self.areas.get_mut(&lower)
        {
            l.end = u.end;
        }
    }

    /// Whether `[start, end)` is free, guard gaps included.
    pub fn is_free(&self, start: u64, end: u64) -> bool {
        match self.find(start) {
            None => true,
            Some(next) => next.start.saturating_sub(next.data.guard_gap()) >= end,
        }
    }

    /// The lowest free range of `len` bytes within `[low, high)`, aligned
    /// to `align` (a power of two) (Linux: `unmapped_area`).
    pub fn unmapped_area(&self, len: u64, low: u64, high: u64, align: u64) -> Option<u64> {
        let mask = align.max(1) - 1;
        let mut cand = low.checked_add(mask)? & !mask;
        loop {
            let end = cand.checked_add(len)?;
            if end > high {
                return None;
            }
            match self.find(cand) {
                Some(a) if a.start.saturating_sub(a.data.guard_gap()) < end => {
                    cand = a.end.checked_add(mask)? & !mask;
                }
                _ => return Some(cand),
            }
        }
    }

    /// The highest free range of `len` bytes within `[low, high)`, aligned
    /// to `align`: Linux's default top-down layout, growing down from
    /// `mmap_base` (Linux: `unmapped_area_topdown`).
    pub fn unmapped_area_topdown(&self, len: u64, low: u64, high: u64, align: u64) -> Option<u64> {
        let mask = align.max(1) - 1;
        let mut top = high;
        loop {
            let cand = top.checked_sub(len)? & !mask;
            if cand < low {
                return None;
            }
            // The highest area that starts below cand + len blocks us.
            match self.areas.range(..cand + len).next_back().map(|(_, a)| a) {
                Some(a) if a.end > cand => top = a.start.saturating_sub(a.data.guard_gap()),
                _ => match self.find(cand) {
                    Some(a) if a.start.saturating_sub(a.data.guard_gap()) < cand + len => {
                        top = a.start.saturating_sub(a.data.guard_gap());
                    }
                    _ => return Some(cand),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests;

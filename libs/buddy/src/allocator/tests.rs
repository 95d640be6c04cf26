//! Unit tests of the buddy allocator: splitting, merging, exhaustion,
//! refused frees, list placement.

use super::*;
use crate::{BuddyPage, BuddyState};

/// Test frames: a `Vec` is a frame map here (the trait is local).
impl FrameMap for Vec<BuddyState> {
    fn nr_frames(&self) -> usize {
        self.as_slice().nr_frames()
    }
    fn buddy_order(&self, idx: usize) -> Option<u8> {
        self.as_slice().buddy_order(idx)
    }
    fn set_buddy_order(&mut self, idx: usize, order: Option<u8>) {
        self.as_mut_slice().set_buddy_order(idx, order);
    }
    fn buddy_prev(&self, idx: usize) -> Option<usize> {
        self.as_slice().buddy_prev(idx)
    }
    fn set_buddy_prev(&mut self, idx: usize, prev: Option<usize>) {
        self.as_mut_slice().set_buddy_prev(idx, prev);
    }
    fn buddy_next(&self, idx: usize) -> Option<usize> {
        self.as_slice().buddy_next(idx)
    }
    fn set_buddy_next(&mut self, idx: usize, next: Option<usize>) {
        self.as_mut_slice().set_buddy_next(idx, next);
    }
}

type Buddy = BuddyAllocator<Vec<BuddyState>>;

fn empty(base: Pfn, nr_frames: usize) -> Buddy {
    BuddyAllocator::new(base, vec![BuddyState::default(); nr_frames]).expect("small range")
}

fn all_free(base: Pfn, nr_frames: usize) -> Buddy {
    let mut b = empty(base, nr_frames);
    b.add_free_range(base, b.end_pfn()).expect("fresh frames are allocated");
    ok(&b);
    b
}

fn ok(b: &Buddy) {
    assert_eq!(b.check_free_lists(), Ok(()));
}

/// Free blocks as (order, first frames), for comparing whole states.
fn snapshot(b: &Buddy) -> Vec<(u8, Vec<Pfn>)> {
    (0..MAX_ORDER).map(|o| (o, b.free_blocks(o).collect())).collect()
}

fn counts(b: &Buddy) -> Vec<usize> {
    (0..MAX_ORDER).map(|o| b.free_count(o)).collect()
}

#[test]
fn starts_with_everything_allocated() {
    let mut b = empty(0, 64);
    ok(&b);
    assert_eq!(b.nr_free_pages(), 0);
    assert_eq!(b.alloc(0), None);
    assert!(!b.is_free(0));
    assert_eq!((b.base_pfn(), b.end_pfn()), (0, 64));
}

#[test]
fn add_free_range_makes_maximal_aligned_blocks() {
    let b = all_free(0, 2048);
    assert_eq!(b.free_blocks(10).collect::<Vec<_>>(), [0, 1024]);
    assert_eq!(b.nr_free_pages(), 2048);

    let mut b = empty(0, 2048);
    b.add_free_range(3, 2048).expect("allocated frames");
    ok(&b);
    assert_eq!(counts(&b), [1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    assert_eq!(b.free_blocks(0).collect::<Vec<_>>(), [3]);
    assert_eq!(b.free_blocks(2).collect::<Vec<_>>(), [4]);
    assert_eq!(b.nr_free_pages(), 2045);
    assert!(!b.is_free(2) && b.is_free(3) && b.is_free(2047));
}

#[test]
fn separate_ranges_merge_when_they_meet() {
    let mut b = empty(0, 1024);
    b.add_free_range(0, 500).expect("allocated");
    b.add_free_range(600, 1024).expect("allocated");
    ok(&b);
    assert_eq!(b.nr_free_pages(), 924);
    b.add_free_range(500, 600).expect("allocated");
    ok(&b);
    assert_eq!(snapshot(&b), snapshot(&all_free(0, 1024)));
}

#[test]
fn alloc_splits_the_smallest_sufficient_block() {
    let mut b = all_free(0, 1024);
    assert_eq!(b.alloc(0), Some(0));
    ok(&b);
    // The halves not used are left at every lower order: 1, 2, 4, ... 512.
    assert_eq!(counts(&b), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    for order in 0..10 {
        assert_eq!(b.free_blocks(order).collect::<Vec<_>>(), [1 << order]);
    }
    assert_eq!(b.nr_free_pages(), 1023);
    // An order-2 request takes the order-2 block, not a bigger one.
    assert_eq!(b.alloc(2), Some(4));
    assert_eq!(counts(&b), [1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0]);
    ok(&b);
}

#[test]
fn free_merges_back_to_the_initial_block() {
    let mut b = all_free(0, 1024);
    let initial = snapshot(&b);
    let a = b.alloc(0).expect("free memory");
    let c = b.alloc(3).expect("free memory");
    let d = b.alloc(0).expect("free memory");
    ok(&b);
    b.free(c, 3).expect("allocated");
    ok(&b);
    b.free(a, 0).expect("allocated");
    ok(&b);
    b.free(d, 0).expect("allocated");
    ok(&b);
    assert_eq!(snapshot(&b), initial);
}

#[test]
fn merging_needs_a_free_buddy_of_the_same_order() {
    let mut b = all_free(0, 1024);
    assert_eq!(b.alloc(0), Some(0));
    assert_eq!(b.alloc(1), Some(2));
    // Frame 1 is free at order 0: 0 and 1 merge to order 1, but their
    // order-1 buddy (2) is allocated, so merging stops there.
    b.free(0, 0).expect("allocated");
    ok(&b);
    assert_eq!(b.free_blocks(1).collect::<Vec<_>>(), [0]);
    assert_eq!(b.free_count(0), 0);
    b.free(2, 1).expect("allocated");
    ok(&b);
    assert_eq!(counts(&b), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
}

#[test]
fn exhaustion_returns_none() {
    let mut b = all_free(0, 1024);
    let mut got: Vec<Pfn> = (0..1024).map(|_| b.alloc(0).expect("frames left")).collect();
    assert_eq!(b.alloc(0), None);
    assert_eq!(b.nr_free_pages(), 0);
    ok(&b);
    got.sort_unstable();
    got.dedup();
    assert_eq!(got.len(), 1024, "every frame handed out once");
    for pfn in got.into_iter().rev() {
        b.free(pfn, 0).expect("allocated");
    }
    ok(&b);
    assert_eq!(counts(&b), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
}

#[test]
fn too_large_requests_fail() {
    let mut b = all_free(0, 512);
    assert_eq!(b.alloc(10), None);
    assert_eq!(b.alloc(MAX_ORDER), None);
    assert_eq!(b.alloc(u8::MAX), None);
    assert_eq!(b.alloc(9), Some(0));
    assert_eq!(b.alloc(0), None);
}

#[test]
fn buddies_outside_the_range_do_not_merge() {
    // [5, 16): 5 (order 0), 6 (order 1), 8 (order 3); 4 is not managed.
    let mut b = all_free(5, 11);
    assert_eq!(b.free_blocks(0).collect::<Vec<_>>(), [5]);
    assert_eq!(b.free_blocks(1).collect::<Vec<_>>(), [6]);
    assert_eq!(b.free_blocks(3).collect::<Vec<_>>(), [8]);
    let initial = snapshot(&b);
    assert_eq!(b.alloc(0), Some(5));
    b.free(5, 0).expect("allocated");
    ok(&b);
    assert_eq!(snapshot(&b), initial);
    assert_eq!(b.free(4, 0), Err(BuddyError::OutOfRange));
    assert_eq!(b.free(4, 2), Err(BuddyError::OutOfRange));
    assert_eq!(b.free(16, 0), Err(BuddyError::OutOfRange));

    // A range whose end cuts a block in two: [0, 3) is 0 (order 1) and 2.
    let b = all_free(0, 3);
    assert_eq!(counts(&b)[..2], [1, 1]);
}

#[test]
fn refused_frees_change_nothing() {
    let mut b = all_free(0, 1024);
    let a = b.alloc(1).expect("free memory");
    let _c = b.alloc(2).expect("free memory");
    let before = snapshot(&b);

    assert_eq!(b.free(a, MAX_ORDER), Err(BuddyError::BadOrder));
    assert_eq!(b.free(a + 1, 1), Err(BuddyError::Misaligned));
    assert_eq!(b.free(2048, 0), Err(BuddyError::OutOfRange));
    assert_eq!(b.free(u64::MAX - 1, 1), Err(BuddyError::OutOfRange));
    // Frame 512 is inside a free order-9 block.
    assert_eq!(b.free(512, 0), Err(BuddyError::AlreadyFree));
    assert_eq!(b.free(512, 9), Err(BuddyError::AlreadyFree));
    // [0, 8) holds `a`, the free order-1 block at 2 and the order-2 block.
    assert_eq!(b.free(0, 3), Err(BuddyError::AlreadyFree));
    assert_eq!(snapshot(&b), before);
    ok(&b);

    b.free(a, 1).expect("allocated");
    let after = snapshot(&b);
    assert_eq!(b.free(a, 1), Err(BuddyError::AlreadyFree), "double free");
    assert_eq!(b.free(a, 0), Err(BuddyError::AlreadyFree));
    assert_eq!(snapshot(&b), after);
    ok(&b);
}

#[test]
fn refused_ranges_change_nothing() {
    let mut b = empty(0, 64);
    b.add_free_range(8, 16).expect("allocated");
    let before = snapshot(&b);
    assert_eq!(b.add_free_range(10, 5), Err(BuddyError::OutOfRange));
    assert_eq!(b.add_free_range(0, 65), Err(BuddyError::OutOfRange));
    // Overlaps the free [8, 16) at its end: nothing of [0, 9) is freed.
    assert_eq!(b.add_free_range(0, 9), Err(BuddyError::AlreadyFree));
    assert_eq!(b.add_free_range(12, 20), Err(BuddyError::AlreadyFree));
    assert_eq!(snapshot(&b), before);
    b.add_free_range(0, 0).expect("an empty range is fine");
    b.add_free_range(16, 64).expect("allocated");
    b.add_free_range(0, 8).expect("allocated");
    ok(&b);
    assert_eq!(counts(&b)[6], 1);
}

#[test]
fn unlinks_a_buddy_from_the_middle_of_its_list() {
    let mut b = all_free(0, 64);
    let pfns: Vec<Pfn> = (0..64).map(|_| b.alloc(0).expect("frames left")).collect();
    // Free every even frame: 32 order-0 blocks, none mergeable.
    for &pfn in pfns.iter().filter(|&&p| p % 2 == 0) {
        b.free(pfn, 0).expect("allocated");
    }
    ok(&b);
    assert_eq!(b.free_count(0), 32);
    // Frame 30's buddy sits in the middle of the order-0 list.
    let list: Vec<Pfn> = b.free_blocks(0).collect();
    let pos = list.iter().position(|&p| p == 30).expect("30 is free");
    assert!(pos > 0 && pos < list.len() - 1);
    b.free(31, 0).expect("allocated");
    ok(&b);
    assert_eq!(b.free_count(0), 31);
    assert!(!b.free_blocks(0).any(|p| p == 30));
    assert!(b.free_blocks(1).any(|p| p == 30));
}

#[test]
fn blocks_likely_to_merge_go_to_the_tail() {
    let mut b = all_free(0, 32);
    assert_eq!(b.alloc(0), Some(0));
    assert_eq!(b.alloc(1), Some(2));
    assert_eq!(b.alloc(1), Some(4)); // splits [4, 8): 6 stays free
    assert_eq!(b.alloc(2), Some(8)); // splits [8, 16): 12 stays free
    assert_eq!(b.free_blocks(1).collect::<Vec<_>>(), [6]);
    // 10's buddy 8 is allocated, but [8, 12)'s buddy 12 is free: to the tail.
    b.free(10, 1).expect("allocated (part of [8, 12))");
    assert_eq!(b.free_blocks(1).collect::<Vec<_>>(), [6, 10]);
    // 2's order-2 buddy (4) is allocated: to the head.
    b.free(2, 1).expect("allocated");
    assert_eq!(b.free_blocks(1).collect::<Vec<_>>(), [2, 6, 10]);
    ok(&b);
}

#[test]
fn allocation_follows_the_list_order() {
    // Boot memory goes to the tail, so it is handed out in address order.
    let mut b = all_free(0, 4096);
    assert_eq!(b.alloc(10), Some(0));
    assert_eq!(b.alloc(10), Some(1024));
    // A freed block goes to the head and is reused first (cache-hot).
    let x = b.alloc(0).expect("free memory");
    let y = b.alloc(0).expect("free memory");
    b.free(x, 0).expect("allocated");
    assert_eq!(b.alloc(0), Some(x));
    assert_ne!(x, y);
}

#[test]
fn huge_pfns_do_not_overflow() {
    let frames = vec![BuddyState::default(); 4];
    assert_eq!(
        BuddyAllocator::new(u64::MAX - 2, frames.clone()).map(|_| ()),
        Err(BuddyError::OutOfRange)
    );
    let base = (1 << 52) - 4096;
    let mut b = all_free(base, 4096);
    assert_eq!(b.nr_free_pages(), 4096);
    assert_eq!(b.alloc(10), Some(base));
    assert_eq!(b.free(u64::MAX, 0), Err(BuddyError::OutOfRange));
    assert_eq!(b.free(u64::MAX - 1023, 10), Err(BuddyError::OutOfRange));
    assert!(!b.is_free(u64::MAX));
}

#[test]
fn works_over_a_borrowed_slice_of_page_structs() {
    #[derive(Clone, Default)]
    struct Page {
        refcount: u32,
        buddy: BuddyState,
    }
    impl BuddyPage for Page {
        fn buddy_order(&self) -> Option<u8> {
            self.buddy.buddy_order()
        }
        fn set_buddy_order(&mut self, order: Option<u8>) {
            self.buddy.set_buddy_order(order);
        }
        fn buddy_prev(&self) -> Option<usize> {
            self.buddy.buddy_prev()
        }
        fn set_buddy_prev(&mut self, prev: Option<usize>) {
            self.buddy.set_buddy_prev(prev);
        }
        fn buddy_next(&self) -> Option<usize> {
            self.buddy.buddy_next()
        }
        fn set_buddy_next(&mut self, next: Option<usize>) {
            self.buddy.set_buddy_next(next);
        }
    }
    let mut mem_map = vec![Page::default(); 16];
    let mut b = BuddyAllocator::new(100, mem_map.as_mut_slice()).expect("small range");
    b.add_free_range(100, 116).expect("allocated");
    let pfn = b.alloc(2).expect("free memory");
    let idx = usize::try_from(pfn - b.base_pfn()).expect("small index");
    b.frames_mut()[idx].refcount = 1;
    assert_eq!(b.frames()[idx].refcount, 1);
    assert_eq!(b.check_free_lists(), Ok(()));
    let frames = b.into_frames();
    assert_eq!(frames.len(), 16);
}

#[test]
fn consistency_check_catches_corruption() {
    let mut b = all_free(0, 64);
    b.frames_mut().set_buddy_order(3, Some(0));
    assert!(b.check_free_lists().is_err());

    let mut b = all_free(0, 64);
    b.frames_mut().set_buddy_order(0, Some(5));
    assert!(b.check_free_lists().is_err());

    let mut b = all_free(0, 64);
    let _ = b.alloc(0);
    b.frames_mut().set_buddy_prev(1, Some(7));
    assert!(b.check_free_lists().is_err());
}

#[test]
fn errors_display() {
    assert_eq!(BuddyError::AlreadyFree.to_string(), "block already (partly) free");
    assert_eq!(BuddyError::BadOrder.to_string(), "order too large");
}

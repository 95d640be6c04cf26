use super::*;

/// Test data: a tag that must match to merge, and an offset that moves on
/// a split, as a VMA's flags and `vm_pgoff` do.
#[derive(Clone, Debug, PartialEq, Eq)]
struct D {
    tag: u8,
    off: u64,
    gap: u64,
}

impl AreaData for D {
    fn split_off(&self, offset: u64) -> Self {
        D { off: self.off + offset, ..self.clone() }
    }
    fn can_merge(&self, len: u64, next: &Self) -> bool {
        self.tag == next.tag && self.off + len == next.off && next.gap == 0
    }
    fn guard_gap(&self) -> u64 {
        self.gap
    }
}

fn area(start: u64, end: u64, tag: u8) -> Area<D> {
    Area { start, end, data: D { tag, off: start, gap: 0 } }
}

#[test]
fn find_follows_linux_find_vma() {
    let mut t = VmaTree::new();
    t.insert(area(0x1000, 0x3000, 0)).expect("free");
    t.insert(area(0x5000, 0x6000, 0)).expect("free");
    assert_eq!(t.find(0).map(|a| a.start), Some(0x1000));
    assert_eq!(t.find(0x2fff).map(|a| a.start), Some(0x1000));
    assert_eq!(t.find(0x3000).map(|a| a.start), Some(0x5000));
    assert_eq!(t.find(0x6000), None);
    assert!(t.lookup(0x3000).is_none());
    assert_eq!(t.lookup(0x5000).map(|a| a.start), Some(0x5000));
    assert!(t.find_intersection(0x3000, 0x5000).is_none());
    assert!(t.find_intersection(0x3000, 0x5001).is_some());
    assert_eq!(t.insert(area(0x2000, 0x4000, 0)), Err(InsertError::Overlap));
    assert_eq!(t.insert(area(0x4000, 0x4000, 0)), Err(InsertError::Empty));
}

#[test]
fn remove_range_splits_both_ends() {
    let mut t = VmaTree::new();
    t.insert(area(0x1000, 0x9000, 1)).expect("free");
    let gone = t.remove_range(0x3000, 0x5000);
    assert_eq!(gone.len(), 1);
    assert_eq!((gone[0].start, gone[0].end, gone[0].data.off), (0x3000, 0x5000, 0x3000));
    let left: Vec<_> = t.iter().map(|a| (a.start, a.end, a.data.off)).collect();
    assert_eq!(left, [(0x1000, 0x3000, 0x1000), (0x5000, 0x9000, 0x5000)]);
}

#[test]
fn merge_joins_compatible_neighbours() {
    let mut t = VmaTree::new();
    t.insert(area(0x1000, 0x2000, 1)).expect("free");
    t.insert(area(0x3000, 0x4000, 1)).expect("free");
    t.insert(area(0x2000, 0x3000, 1)).expect("free");
    assert_eq!(t.merge_around(0x2000), 0x1000);
    assert_eq!(t.len(), 1);
    t.insert(area(0x4000, 0x5000, 2)).expect("free");
    assert_eq!(t.merge_around(0x4000), 0x4000);
    assert_eq!(t.len(), 2);
}

#[test]
fn topdown_search_skips_areas_and_guard_gaps() {
    let mut t = VmaTree::new();
    assert_eq!(t.unmapped_area_topdown(0x2000, 0x1000, 0x10000, 0x1000), Some(0xe000));
    t.insert(area(0xe000, 0x10000, 0)).expect("free");
    assert_eq!(t.unmapped_area_topdown(0x2000, 0x1000, 0x10000, 0x1000), Some(0xc000));
    let stack = Area { start: 0x8000, end: 0xc000, data: D { tag: 3, off: 0, gap: 0x2000 } };
    t.insert(stack).expect("free");
    assert_eq!(t.unmapped_area_topdown(0x2000, 0x1000, 0x10000, 0x1000), Some(0xc000));
    assert_eq!(t.unmapped_area_topdown(0x3000, 0x1000, 0x10000, 0x1000), Some(0x3000));
    assert_eq!(t.unmapped_area_topdown(0x6000, 0x1000, 0x10000, 0x1000), None);
    assert_eq!(t.unmapped_area(0x1000, 0x1000, 0x10000, 0x1000), Some(0x1000));
    assert!(!t.is_free(0x6000, 0x7000));
    assert!(t.is_free(0x5000, 0x6000));
}

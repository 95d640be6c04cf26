//! Random operation sequences keep the tree consistent: areas stay sorted
//! and disjoint, every address keeps its data offset, and the gap search
//! returns only free ranges.
#![allow(clippy::cast_possible_truncation, reason = "test addresses and indices are small")]
use proptest::prelude::*;
use vma_tree::{Area, AreaData, VmaTree};

#[derive(Clone, Debug, PartialEq)]
struct D {
    tag: u8,
    off: u64,
}

impl AreaData for D {
    fn split_off(&self, offset: u64) -> Self {
        D { tag: self.tag, off: self.off + offset }
    }
    fn can_merge(&self, len: u64, next: &Self) -> bool {
        self.tag == next.tag && self.off + len == next.off
    }
}

#[derive(Clone, Debug)]
enum Op {
    Insert(u64, u64, u8),
    Remove(u64, u64),
    Merge(u64),
    Search(u64, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u64..64, 1u64..8, 0u8..2).prop_map(|(s, l, t)| Op::Insert(s, s + l, t)),
        (0u64..64, 1u64..16).prop_map(|(s, l)| Op::Remove(s, s + l)),
        (0u64..64).prop_map(Op::Merge),
        (1u64..8, any::<bool>()).prop_map(|(l, d)| Op::Search(l, d)),
    ]
}

proptest! {
    #[test]
    fn operations_keep_invariants(ops in proptest::collection::vec(op(), 1..60)) {
        let mut t = VmaTree::new();
        // model[page] = Some(tag) where mapped; offsets must equal the page.
        let mut model = [None::<u8>; 80];
        for op in ops {
            match op {
                Op::Insert(s, e, tag) => {
                    let free = (s..e).all(|p| model[p as usize].is_none());
                    let r = t.insert(Area { start: s, end: e, data: D { tag, off: s } });
                    prop_assert_eq!(r.is_ok(), free);
                    if free { (s..e).for_each(|p| model[p as usize] = Some(tag)); }
                }
                Op::Remove(s, e) => {
                    let gone = t.remove_range(s, e);
                    for a in &gone { prop_assert!(a.start >= s && a.end <= e); }
                    (s..e.min(80)).for_each(|p| model[p as usize] = None);
                }
                Op::Merge(s) => { t.merge_around(s); }
                Op::Search(len, down) => {
                    let r = if down { t.unmapped_area_topdown(len, 1, 72, 1) } else { t.unmapped_area(len, 1, 72, 1) };
                    if let Some(a) = r {
                        prop_assert!(a >= 1 && a + len <= 72);
                        prop_assert!((a..a + len).all(|p| model[p as usize].is_none()));
                    } else {
                        prop_assert!(!(1..=72 - len).any(|a| (a..a + len).all(|p| model[p as usize].is_none())));
                    }
                }
            }
            let mut last_end = 0;
            for a in t.iter() {
                prop_assert!(a.start >= last_end && a.start < a.end);
                last_end = a.end;
                for p in a.start..a.end {
                    prop_assert_eq!(model[p as usize], Some(a.data.tag));
                    prop_assert_eq!(t.lookup(p).map(|x| x.data.off + (p - x.start)), Some(p));
                }
            }
            let mapped = model.iter().filter(|m| m.is_some()).count() as u64;
            prop_assert_eq!(t.iter().map(|a| a.len()).sum::<u64>(), mapped);
        }
    }
}

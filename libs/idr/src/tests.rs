//! Host tests: the IDR against a model (a sorted set of IDs in use).

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

#[test]
fn alloc_lowest_free_and_find() {
    let mut idr = Idr::new();
    assert_eq!(idr.alloc("a", 0, 100), Ok(0));
    assert_eq!(idr.alloc("b", 0, 100), Ok(1));
    assert_eq!(idr.alloc("c", 10, 100), Ok(10));
    assert_eq!(idr.find(1), Some(&"b"));
    assert_eq!(idr.remove(0), Some("a"));
    assert_eq!(idr.alloc("d", 0, 100), Ok(0));
    assert_eq!(idr.find(2), None);
    assert_eq!(idr.len(), 3);
}

#[test]
fn grows_past_one_node_and_shrinks() {
    let mut idr = Idr::new();
    for i in 0..5000u32 {
        assert_eq!(idr.alloc(i, 0, 32768), Ok(i));
    }
    assert_eq!(idr.find(4097), Some(&4097));
    assert_eq!(idr.alloc(0, 100_000, 100_001), Ok(100_000));
    for i in 0..5000u32 {
        assert_eq!(idr.remove(i), Some(i));
    }
    assert_eq!(idr.remove(100_000), Some(0));
    assert!(idr.is_empty());
    assert!(idr.root.is_none(), "empty nodes are freed");
}

#[test]
fn shape_counts_layers_and_nodes() {
    let mut idr = Idr::new();
    assert_eq!(idr.shape(), IdrShape::default());
    assert_eq!(idr.alloc((), 0, 100), Ok(0));
    assert_eq!(idr.shape(), IdrShape { layers: 1, inner_nodes: 0, leaves: 1 });
    for i in 1..5000u32 {
        assert_eq!(idr.alloc((), 0, 32768), Ok(i));
    }
    // 5000 IDs: 79 leaves of 64, two level-2 nodes of 4096 IDs, a root.
    assert_eq!(idr.shape(), IdrShape { layers: 3, inner_nodes: 3, leaves: 79 });
    for i in 64..5000u32 {
        idr.remove(i);
    }
    let shape = idr.shape();
    assert_eq!((shape.leaves, shape.inner_nodes), (1, 2), "empty nodes are freed: {shape:?}");
}

#[test]
fn cyclic_wraps_and_exhausts() {
    let mut idr = Idr::new();
    for want in 1..10 {
        assert_eq!(idr.alloc_cyclic((), 1, 10), Ok(want));
    }
    assert_eq!(idr.alloc_cyclic((), 1, 10), Err(IdrError::NoSpace));
    idr.remove(4);
    idr.remove(2);
    assert_eq!(idr.alloc_cyclic((), 1, 10), Ok(2), "wraps to the lowest free");
    assert_eq!(idr.alloc_cyclic((), 1, 10), Ok(4));
    assert_eq!(idr.cursor(), 5);
}

#[test]
fn replace_keeps_the_id() {
    let mut idr = Idr::new();
    let id = idr.alloc(1, 0, 10).expect("room");
    assert_eq!(idr.replace(id, 2), Ok(1));
    assert_eq!(idr.find(id), Some(&2));
    assert_eq!(idr.replace(7, 3), Err(3));
}

/// What `alloc_cyclic` must return, computed from the set of IDs in use.
fn model_cyclic(used: &BTreeSet<u32>, cursor: u32, start: u32, end: u32) -> Option<u32> {
    let from = start.max(cursor);
    let first_free = |lo: u32| (lo..end).find(|id| !used.contains(id));
    first_free(from).or_else(|| if from > start { first_free(start) } else { None })
}

#[derive(Clone, Debug)]
enum Op {
    Alloc,
    Remove(u32),
}

fn op(end: u32) -> impl Strategy<Value = Op> {
    prop_oneof![3 => Just(Op::Alloc), 2 => (0..end).prop_map(Op::Remove)]
}

proptest! {
    /// Every allocation returns a free ID in range, in cyclic order; running
    /// out gives `NoSpace`; a freed ID comes back only once the cursor wraps.
    #[test]
    fn cyclic_matches_model(start in 0u32..50, span in 1u32..300,
                            ops in prop::collection::vec(op(400), 1..600)) {
        let end = start + span;
        let mut idr = Idr::new();
        let mut used = BTreeSet::new();
        let mut cursor = 0;
        for op in ops {
            match op {
                Op::Alloc => {
                    let want = model_cyclic(&used, cursor, start, end);
                    let got = idr.alloc_cyclic(0u8, start, end);
                    match want {
                        Some(id) => {
                            prop_assert_eq!(got, Ok(id));
                            prop_assert!(used.insert(id), "never returns an ID in use");
                            cursor = id + 1;
                        }
                        None => prop_assert_eq!(got, Err(IdrError::NoSpace)),
                    }
                }
                Op::Remove(id) => {
                    prop_assert_eq!(idr.remove(id).is_some(), used.remove(&id));
                }
            }
            prop_assert_eq!(idr.len(), used.len());
        }
        for id in 0..end + 10 {
            prop_assert_eq!(idr.find(id).is_some(), used.contains(&id));
        }
    }

    /// Sparse, large IDs: the tree grows upwards and finds them again.
    #[test]
    fn sparse_ids(ids in prop::collection::btree_set(0u32..(1 << 24), 1..100)) {
        let mut idr = Idr::new();
        for &id in &ids {
            prop_assert_eq!(idr.alloc(id, id, id + 1), Ok(id));
        }
        for &id in &ids {
            prop_assert_eq!(idr.find(id), Some(&id));
            prop_assert_eq!(idr.alloc(0, id, id + 1), Err(IdrError::NoSpace));
        }
        let lowest_free = (0..).find(|id| !ids.contains(id)).expect("finite set");
        prop_assert_eq!(idr.alloc(0, 0, 1 << 24), Ok(lowest_free));
    }
}

//! Property tests: random alloc/free sequences over random layouts keep the
//! buddy allocator's invariants, and freeing everything restores the state
//! right after boot.

use buddy::{BuddyAllocator, BuddyError, BuddyState, MAX_ORDER, Pfn};
use proptest::prelude::*;
use proptest::sample::Index;

type Buddy<'a> = BuddyAllocator<&'a mut [BuddyState]>;

#[derive(Clone, Debug)]
enum Op {
    /// Allocate a block (orders up to `MAX_ORDER`, which must fail).
    Alloc(u8),
    /// Free one of the allocated blocks.
    Free(Index),
    /// Free again a block freed earlier, if its first frame is still free.
    DoubleFree(Index),
    /// Free a block picked at random (aligned to its order or not), if that
    /// must be refused.
    FreeBogus(Index, u8, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..=MAX_ORDER).prop_map(Op::Alloc),
        4 => any::<Index>().prop_map(Op::Free),
        1 => any::<Index>().prop_map(Op::DoubleFree),
        2 => (any::<Index>(), 0..MAX_ORDER + 2, any::<bool>())
            .prop_map(|(i, o, align)| Op::FreeBogus(i, o, align)),
    ]
}

/// A managed range `[base, base + len)` and the sub-ranges given to the
/// allocator (the gaps stay reserved).
#[derive(Clone, Debug)]
struct Layout {
    base: Pfn,
    len: usize,
    free_ranges: Vec<(Pfn, Pfn)>,
}

fn layout() -> impl Strategy<Value = Layout> {
    (0..5000u64, 1..2500usize, prop::collection::vec(any::<Index>(), 0..6), any::<bool>()).prop_map(
        |(base, len, cuts, first_free)| {
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(len + 1)).collect();
            points.extend([0, len]);
            points.sort_unstable();
            points.dedup();
            let free_ranges = points
                .windows(2)
                .enumerate()
                .filter(|(i, _)| (i % 2 == 0) == first_free)
                .map(|(_, w)| (base + w[0] as u64, base + w[1] as u64))
                .collect();
            Layout { base, len, free_ranges }
        },
    )
}

fn size(order: u8) -> u64 {
    1 << order
}

fn in_free_ranges(layout: &Layout, pfn: Pfn, order: u8) -> bool {
    layout.free_ranges.iter().any(|&(s, e)| pfn >= s && pfn + size(order) <= e)
}

/// Free blocks per order, sorted: the allocator's state up to list order.
fn free_sets(b: &Buddy<'_>) -> Vec<Vec<Pfn>> {
    (0..MAX_ORDER)
        .map(|o| {
            let mut blocks: Vec<Pfn> = b.free_blocks(o).collect();
            blocks.sort_unstable();
            blocks
        })
        .collect()
}

/// Free blocks per order, in list order: the complete visible state.
fn free_lists(b: &Buddy<'_>) -> Vec<Vec<Pfn>> {
    (0..MAX_ORDER).map(|o| b.free_blocks(o).collect()).collect()
}

fn check(b: &Buddy<'_>, layout: &Layout, allocated: &[(Pfn, u8)], total: u64) {
    assert_eq!(b.check_free_lists(), Ok(()));
    let used: u64 = allocated.iter().map(|&(_, o)| size(o)).sum();
    assert_eq!(b.nr_free_pages() + used, total, "free + allocated == total");

    // Free and allocated blocks all lie in the freed ranges, aligned, and
    // none overlaps another.
    let mut blocks: Vec<(Pfn, u8)> = allocated.to_vec();
    for order in 0..MAX_ORDER {
        blocks.extend(b.free_blocks(order).map(|pfn| (pfn, order)));
    }
    blocks.sort_unstable();
    for &(pfn, order) in &blocks {
        assert!(pfn.is_multiple_of(size(order)), "block {pfn} misaligned for order {order}");
        assert!(in_free_ranges(layout, pfn, order), "block {pfn}/{order} outside the free ranges");
    }
    for pair in blocks.windows(2) {
        let ((a, ao), (c, _)) = (pair[0], pair[1]);
        assert!(a + size(ao) <= c, "blocks {a}/{ao} and {c} overlap");
    }
    for &(pfn, order) in allocated {
        assert!(!b.is_free(pfn) && !b.is_free(pfn + size(order) - 1));
    }
}

/// Expected outcome of freeing (pfn, order), if it must be refused.
fn expected_refusal(b: &Buddy<'_>, pfn: Pfn, order: u8) -> Option<BuddyError> {
    if order >= MAX_ORDER {
        return Some(BuddyError::BadOrder);
    }
    if !pfn.is_multiple_of(size(order)) {
        return Some(BuddyError::Misaligned);
    }
    if pfn < b.base_pfn() || pfn + size(order) > b.end_pfn() {
        return Some(BuddyError::OutOfRange);
    }
    (pfn..pfn + size(order)).any(|p| b.is_free(p)).then_some(BuddyError::AlreadyFree)
}

fn run(layout: &Layout, ops: &[Op], free_order: &[Index]) {
    let mut frames = vec![BuddyState::default(); layout.len];
    let mut b = BuddyAllocator::new(layout.base, frames.as_mut_slice()).expect("small range");
    for &(start, end) in &layout.free_ranges {
        b.add_free_range(start, end).expect("reserved frames");
    }
    let total: u64 = layout.free_ranges.iter().map(|&(s, e)| e - s).sum();
    let initial = free_sets(&b);
    let mut allocated: Vec<(Pfn, u8)> = Vec::new();
    let mut freed: Vec<(Pfn, u8)> = Vec::new();
    check(&b, layout, &allocated, total);

    for op in ops {
        match *op {
            Op::Alloc(order) => {
                let possible = (order..MAX_ORDER).any(|o| b.free_count(o) > 0);
                match b.alloc(order) {
                    Some(pfn) => allocated.push((pfn, order)),
                    None => assert!(!possible, "alloc({order}) failed with memory free"),
                }
            }
            Op::Free(i) if !allocated.is_empty() => {
                let (pfn, order) = allocated.swap_remove(i.index(allocated.len()));
                b.free(pfn, order).expect("an allocated block");
                freed.push((pfn, order));
            }
            Op::DoubleFree(i) if !freed.is_empty() => {
                let (pfn, order) = freed[i.index(freed.len())];
                if b.is_free(pfn) {
                    let before = free_lists(&b);
                    assert_eq!(b.free(pfn, order), Err(BuddyError::AlreadyFree));
                    assert_eq!(free_lists(&b), before);
                }
            }
            Op::FreeBogus(i, order, align) => {
                let span = layout.len + 32;
                let mut pfn = (layout.base + i.index(span) as u64).saturating_sub(16);
                if align && order < MAX_ORDER {
                    pfn &= !(size(order) - 1);
                }
                if let Some(err) = expected_refusal(&b, pfn, order) {
                    let before = free_lists(&b);
                    assert_eq!(b.free(pfn, order), Err(err));
                    assert_eq!(free_lists(&b), before);
                }
            }
            _ => {}
        }
        check(&b, layout, &allocated, total);
    }

    // Free what is left, in a random order: the boot-time blocks come back.
    for i in free_order {
        if allocated.is_empty() {
            break;
        }
        let (pfn, order) = allocated.swap_remove(i.index(allocated.len()));
        b.free(pfn, order).expect("an allocated block");
    }
    for (pfn, order) in allocated.drain(..) {
        b.free(pfn, order).expect("an allocated block");
    }
    check(&b, layout, &allocated, total);
    assert_eq!(free_sets(&b), initial);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_alloc_free_keeps_invariants(
        layout in layout(),
        ops in prop::collection::vec(op(), 0..120),
        free_order in prop::collection::vec(any::<Index>(), 0..64),
    ) {
        run(&layout, &ops, &free_order);
    }

    #[test]
    fn exhausting_then_freeing_restores_boot_state(
        layout in layout(),
        orders in prop::collection::vec(0..MAX_ORDER, 1..8),
        free_order in prop::collection::vec(any::<Index>(), 0..64),
    ) {
        // Allocate with a cycle of orders until nothing fits, then the rest
        // page by page, then free everything.
        let mut ops: Vec<Op> = orders.iter().cycle().take(600).map(|&o| Op::Alloc(o)).collect();
        ops.extend(std::iter::repeat_n(Op::Alloc(0), 2500));
        let mut frames = vec![BuddyState::default(); layout.len];
        let mut b = BuddyAllocator::new(layout.base, frames.as_mut_slice()).expect("small range");
        for &(start, end) in &layout.free_ranges {
            b.add_free_range(start, end).expect("reserved frames");
        }
        let initial = free_sets(&b);
        let mut allocated = Vec::new();
        for op in &ops {
            if let Op::Alloc(order) = *op
                && let Some(pfn) = b.alloc(order)
            {
                allocated.push((pfn, order));
            }
        }
        prop_assert_eq!(b.nr_free_pages(), 0);
        prop_assert_eq!(b.alloc(0), None);
        prop_assert_eq!(b.check_free_lists(), Ok(()));
        for i in &free_order {
            if allocated.is_empty() {
                break;
            }
            let (pfn, order) = allocated.swap_remove(i.index(allocated.len()));
            prop_assert_eq!(b.free(pfn, order), Ok(()));
        }
        for (pfn, order) in allocated {
            prop_assert_eq!(b.free(pfn, order), Ok(()));
        }
        prop_assert_eq!(b.check_free_lists(), Ok(()));
        prop_assert_eq!(free_sets(&b), initial);
    }
}

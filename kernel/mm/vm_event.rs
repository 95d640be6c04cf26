//! VM event counters: how often the mm did something since boot — pages
//! allocated and freed, page faults, pages read and written — as
//! `/proc/vmstat` shows them below its `nr_*` gauges.
//!
//! Linux: include/linux/vm_event_item.h (`enum vm_event_item`),
//! include/linux/vmstat.h (`count_vm_event`, `count_vm_events`),
//! mm/vmstat.c (`vmstat_text`, `all_vm_events`).
//!
//! Linux keeps the counters per CPU and sums them on read; with one CPU
//! doing nearly all the work here, one relaxed atomic per event costs the
//! same and reads trivially. Only the events Ferrite has a place to count
//! are listed; the others would always read 0, and a 0 that means
//! "not counted" is worse than a missing line.
//!
//! # Locking
//! None: each counter is an atomic, counted where the event happens, even
//! in interrupt handlers and under the zone lock.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

/// The counted events, in Linux 6.1's `vmstat_text` order (Linux:
/// `enum vm_event_item`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
#[allow(clippy::enum_variant_names, reason = "Linux's names: PGPGIN, PGFAULT, PGREUSE")]
pub enum VmEventItem {
    /// KiB read from block devices (Linux counts them in `submit_bio`).
    PgPgIn,
    /// KiB written to block devices.
    PgPgOut,
    /// Allocations from the one zone, Normal, in pages.
    PgAllocNormal,
    /// Pages given back to the buddy allocator.
    PgFree,
    /// Page faults handled, resolved or not (Linux: `handle_mm_fault`).
    PgFault,
    /// Faults that had to read the page from the disk.
    PgMajFault,
    /// Copy-on-write faults that found the page no longer shared and made
    /// it writable in place instead of copying it (Linux: `do_wp_page`).
    PgReuse,
    /// Pages direct reclaim freed (mm/vmscan.rs).
    PgStealDirect,
}

/// Every item with its `/proc/vmstat` name, in order.
pub const VM_EVENT_NAMES: [(VmEventItem, &str); 8] = [
    (VmEventItem::PgPgIn, "pgpgin"),
    (VmEventItem::PgPgOut, "pgpgout"),
    (VmEventItem::PgAllocNormal, "pgalloc_normal"),
    (VmEventItem::PgFree, "pgfree"),
    (VmEventItem::PgFault, "pgfault"),
    (VmEventItem::PgMajFault, "pgmajfault"),
    (VmEventItem::PgReuse, "pgreuse"),
    (VmEventItem::PgStealDirect, "pgsteal_direct"),
];

static VM_EVENTS: [AtomicU64; VM_EVENT_NAMES.len()] =
    [const { AtomicU64::new(0) }; VM_EVENT_NAMES.len()];

/// Counts one event (Linux: `count_vm_event`).
pub fn count_vm_event(item: VmEventItem) {
    count_vm_events(item, 1);
}

/// Counts `n` events at once (Linux: `count_vm_events`).
pub fn count_vm_events(item: VmEventItem, n: u64) {
    if let Some(counter) = VM_EVENTS.get(item as usize) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The count of `item` since boot (Linux: `all_vm_events`, one item).
pub fn vm_event(item: VmEventItem) -> u64 {
    VM_EVENTS.get(item as usize).map_or(0, |c| c.load(Ordering::Relaxed))
}

crate::ktest!(vm_event_names_follow_the_enum, {
    for (i, (item, _)) in VM_EVENT_NAMES.iter().enumerate() {
        crate::kassert!(*item as usize == i, "VM_EVENT_NAMES is in enum order");
    }
    let before = vm_event(VmEventItem::PgReuse);
    count_vm_events(VmEventItem::PgReuse, 3);
    crate::kassert!(vm_event(VmEventItem::PgReuse) >= before + 3, "counted");
    Ok(())
});

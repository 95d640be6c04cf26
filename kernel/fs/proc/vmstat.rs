//! /proc/buddyinfo, /proc/vmstat and /proc/zoneinfo: the page allocator's
//! free lists and counters (Linux: mm/vmstat.c `frag_show_print`,
//! `vmstat_show`, `zoneinfo_show_print`).
//!
//! Ferrite has one node and one zone, "Normal", from frame 0 to the end
//! of RAM (see mm/page_alloc.rs). Only counters the mm keeps are shown,
//! in Linux's order (Linux: `vmstat_text`): the gauges of
//! [`VMSTAT_ITEMS`], then the event counters of mm/vm_event.rs; a
//! subsystem that starts counting adds its line to one of them. The zone keeps no watermarks (reclaim runs only when an
//! allocation fails, mm/vmscan.rs), so zoneinfo's
//! `min`, `low` and `high` are 0, which is what they are.
//!
//! # Locking
//! The zone lock inside `free_area_counts`/`nr_free_pages`, then
//! `MEMBLOCK`, never together; each slab cache's lock in turn.
#![deny(unsafe_code)]

use super::generic::SeqBuf;
use super::slabinfo::slab_pages;
use crate::kernel::errno::KResult;
use crate::mm::addr::PAGE_SHIFT;
use crate::mm::memblock::MEMBLOCK;
use crate::mm::page::mem_map;
use crate::mm::page_alloc::{free_area_counts, nr_free_pages, totalram_pages};
use crate::mm::vm_event::{VM_EVENT_NAMES, vm_event};

/// The zone's name as Linux prints it (`zone->name`).
const ZONE_NAME: &str = "Normal";

/// Linux: `frag_show_print`: "Node 0, zone   Normal" and the free block
/// count of each order, `%6lu ` each.
pub fn buddyinfo_show(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("Node 0, zone {ZONE_NAME:>8} "))?;
    for count in free_area_counts() {
        m.printf(format_args!("{count:>6} "))?;
    }
    m.puts(b"\n")
}

/// A /proc/vmstat counter: its name and how to read it, in pages.
pub type VmstatItem = (&'static str, fn() -> u64);

/// The counters Ferrite keeps, in Linux 6.1's `vmstat_text` order.
pub static VMSTAT_ITEMS: &[VmstatItem] = &[
    ("nr_free_pages", nr_free_pages),
    ("nr_slab_unreclaimable", slab_pages),
    ("nr_file_pages", || pages(crate::mm::filemap::nr_file_pages())),
    ("nr_dirty", || pages(crate::mm::page_writeback::nr_file_dirty())),
    ("nr_writeback", || pages(crate::mm::page_writeback::nr_writeback())),
];

/// A page count as /proc prints it.
fn pages(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Linux: `vmstat_show`, "name value" per line: the gauges, then the
/// event counters (mm/vm_event.rs).
pub fn vmstat_show(m: &mut SeqBuf) -> KResult<()> {
    for (name, read) in VMSTAT_ITEMS {
        m.printf(format_args!("{name} {}\n", read()))?;
    }
    for (item, name) in VM_EVENT_NAMES {
        m.printf(format_args!("{name} {}\n", vm_event(item)))?;
    }
    Ok(())
}

/// Linux: `zoneinfo_show_print` for the one zone, without the per-node
/// statistics and per-CPU page lists Ferrite does not keep.
pub fn zoneinfo_show(m: &mut SeqBuf) -> KResult<()> {
    let free = nr_free_pages();
    let present = MEMBLOCK.lock().memory.total_size() >> PAGE_SHIFT;
    m.printf(format_args!("Node 0, zone {ZONE_NAME:>8}\n  pages free     {free}\n"))?;
    let lines: [(&str, u64); 8] = [
        ("boost", 0),
        ("min", 0),
        ("low", 0),
        ("high", 0),
        ("spanned", mem_map().len() as u64),
        ("present", present),
        ("managed", totalram_pages()),
        ("cma", 0),
    ];
    for (name, value) in lines {
        m.printf(format_args!("        {name:<8} {value}\n"))?;
    }
    m.printf(format_args!(
        "        protection: (0, 0, 0, 0)\n      nr_free_pages {free}\n\
         \x20 node_unreclaimable:  0\n  start_pfn:           0\n"
    ))
}

/// Linux: `pageblock_order` (2 MiB blocks on x86-64) and the migrate
/// types of `migratetype_names` without CMA.
const PAGEBLOCK_ORDER: u32 = 9;
const MIGRATETYPE_NAMES: [&str; 5] =
    ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"];

/// /proc/pagetypeinfo (Linux: `pagetypeinfo_show`,
/// `pagetypeinfo_showfree_print`, `pagetypeinfo_showblockcount_print`).
/// Ferrite's buddy allocator keeps one free list per order, not one per
/// migrate type, and nothing it hands out can be migrated (there is no
/// compaction): every free block and every page block is counted as
/// `Unmovable`, the other types as empty.
pub fn pagetypeinfo_show(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!(
        "Page block order: {PAGEBLOCK_ORDER}\nPages per block:  {}\n\n",
        1u64 << PAGEBLOCK_ORDER
    ))?;
    let counts = free_area_counts();
    m.printf(format_args!("{:<43} ", "Free pages count per migrate type at order"))?;
    for order in 0..counts.len() {
        m.printf(format_args!("{order:>6} "))?;
    }
    m.puts(b"\n")?;
    for (i, name) in MIGRATETYPE_NAMES.iter().enumerate() {
        m.printf(format_args!("Node {:>4}, zone {ZONE_NAME:>8}, type {name:>12} ", 0))?;
        for count in counts {
            m.printf(format_args!("{:>6} ", if i == 0 { count } else { 0 }))?;
        }
        m.puts(b"\n")?;
    }
    m.printf(format_args!("\n{:<23}", "Number of blocks type "))?;
    for name in MIGRATETYPE_NAMES {
        m.printf(format_args!("{name:>12} "))?;
    }
    let blocks = (mem_map().len() as u64).div_ceil(1 << PAGEBLOCK_ORDER);
    m.printf(format_args!("\nNode 0, zone {ZONE_NAME:>8} "))?;
    for i in 0..MIGRATETYPE_NAMES.len() {
        m.printf(format_args!("{:>12} ", if i == 0 { blocks } else { 0 }))?;
    }
    m.puts(b"\n")
}

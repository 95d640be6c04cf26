//! /proc/slabinfo: the slab caches' object and slab counts, format 2.1
//! (Linux: mm/slab_common.c `slab_show`, `cache_show`, mm/slub.c
//! `get_slabinfo`).
//!
//! The caches listed are the kmalloc caches (`KMALLOC_CACHES`): caches
//! made at run time by `KmemCache::new` are not kept on a list yet
//! (Linux: `slab_caches`). As with SLUB, the tunables and the shared
//! counts are 0 and every slab counts as active. A slab's page count is
//! computed as mm/slub.rs sizes slabs (`calculate_order`).
//!
//! # Locking
//! Each cache's lock in turn, inside `KmemCache::stats`.
#![deny(unsafe_code)]

use super::generic::SeqBuf;
use crate::kernel::errno::KResult;
use crate::mm::addr::PAGE_SIZE;
use crate::mm::slab_common::KMALLOC_CACHES;
use crate::mm::slub::{KmemCache, MAX_SLAB_ORDER, MIN_OBJECTS};

/// (pages per slab, objects per slab) for `size`-byte objects, as
/// mm/slub.rs's `calculate_order` picks them.
fn slab_geometry(size: usize) -> (usize, usize) {
    let size = size.max(8);
    let mut order = 0;
    while order < MAX_SLAB_ORDER && (PAGE_SIZE << order) / size < MIN_OBJECTS {
        order += 1;
    }
    (1 << order, (PAGE_SIZE << order) / size)
}

/// Pages held by the caches' slabs (Linux: `NR_SLAB_UNRECLAIMABLE_B`,
/// shown in pages).
pub fn slab_pages() -> u64 {
    KMALLOC_CACHES
        .iter()
        .map(|c| {
            let (_, _, slabs) = c.stats();
            (slabs * slab_geometry(c.size()).0) as u64
        })
        .sum()
}

/// Linux: `cache_show`.
fn cache_show(c: &KmemCache, m: &mut SeqBuf) -> KResult<()> {
    let (active, total, slabs) = c.stats();
    let (pages, objects) = slab_geometry(c.size());
    m.printf(format_args!(
        "{:<17} {active:>6} {total:>6} {:>6} {objects:>4} {pages:>4} : tunables {z:>4} {z:>4} {z:>4} \
         : slabdata {slabs:>6} {slabs:>6} {z:>6}\n",
        c.name(),
        c.size(),
        z = 0,
    ))
}

/// Linux: `slab_show` with `print_slabinfo_header`.
pub fn slabinfo_show(m: &mut SeqBuf) -> KResult<()> {
    m.puts(
        b"slabinfo - version: 2.1\n# name            <active_objs> <num_objs> <objsize> \
          <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : \
          slabdata <active_slabs> <num_slabs> <sharedavail>\n",
    )?;
    for c in KMALLOC_CACHES.iter().rev() {
        cache_show(c, m)?;
    }
    Ok(())
}

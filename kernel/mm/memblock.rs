//! memblock: the boot-time physical memory allocator, used before the page
//! allocator exists (for the page tables and the `mem_map`), then handed
//! over to the buddy allocator by `memblock_free_all`.
//!
//! Linux: mm/memblock.c.
//!
//! Two sorted lists of disjoint ranges: `memory` (usable RAM from the e820
//! map) and `reserved` (what is in use: low memory, the kernel image, the
//! initrd, and every memblock allocation). Free memory is `memory` minus
//! `reserved`. Allocations go top-down below `current_limit`, which stays at
//! the end of the boot page tables' direct map until the real one is up.
//!
//! # Locking
//! `MEMBLOCK` is a [`SpinLock`]; it is used on the boot CPU only, during
//! `mem_init`, and read afterwards for statistics.
#![deny(unsafe_code)]

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

/// Linux: `INIT_MEMBLOCK_REGIONS`.
const MEMBLOCK_REGIONS: usize = 128;

/// A half-open range `[base, end)` of physical addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MemblockRegion {
    pub base: u64,
    pub end: u64,
}

impl MemblockRegion {
    pub const fn size(&self) -> u64 {
        self.end - self.base
    }
}

/// A sorted list of disjoint ranges (Linux: `struct memblock_type`).
pub struct MemblockType {
    regions: [MemblockRegion; MEMBLOCK_REGIONS],
    cnt: usize,
}

impl MemblockType {
    const fn new() -> Self {
        Self { regions: [MemblockRegion { base: 0, end: 0 }; MEMBLOCK_REGIONS], cnt: 0 }
    }

    pub fn regions(&self) -> &[MemblockRegion] {
        &self.regions[..self.cnt]
    }

    pub fn total_size(&self) -> u64 {
        self.regions().iter().map(MemblockRegion::size).sum()
    }

    /// Adds `[base, end)`, merging it with every range it overlaps or
    /// touches (Linux: `memblock_add_range`).
    fn add(&mut self, mut base: u64, mut end: u64) -> KResult<()> {
        if base >= end {
            return Ok(());
        }
        // Regions before `first` end below `base`; those from `last` on
        // start above `end`; the ones between merge into the new range.
        let first = self.regions().iter().position(|r| r.end >= base).unwrap_or(self.cnt);
        let last = self.regions().iter().position(|r| r.base > end).unwrap_or(self.cnt);
        if first < last {
            base = base.min(self.regions[first].base);
            end = end.max(self.regions[last - 1].end);
        }
        let merged = last - first;
        if merged == 0 && self.cnt == MEMBLOCK_REGIONS {
            return Err(Errno::ENOMEM);
        }
        // Replace regions[first..last] by the single merged range.
        self.regions.copy_within(last..self.cnt, first + 1);
        self.cnt = self.cnt + 1 - merged;
        self.regions[first] = MemblockRegion { base, end };
        Ok(())
    }

    /// Removes `[base, end)` from every range (Linux: `memblock_remove_range`).
    fn remove(&mut self, base: u64, end: u64) -> KResult<()> {
        let mut i = 0;
        while i < self.cnt {
            let r = self.regions[i];
            if r.end <= base || r.base >= end {
                i += 1;
                continue;
            }
            let (left, right) = (r.base < base, r.end > end);
            match (left, right) {
                (true, true) => {
                    if self.cnt == MEMBLOCK_REGIONS {
                        return Err(Errno::ENOMEM);
                    }
                    self.regions.copy_within(i + 1..self.cnt, i + 2);
                    self.cnt += 1;
                    self.regions[i] = MemblockRegion { base: r.base, end: base };
                    self.regions[i + 1] = MemblockRegion { base: end, end: r.end };
                    i += 2;
                }
                (true, false) => {
                    self.regions[i].end = base;
                    i += 1;
                }
                (false, true) => {
                    self.regions[i].base = end;
                    i += 1;
                }
                (false, false) => {
                    self.regions.copy_within(i + 1..self.cnt, i);
                    self.cnt -= 1;
                }
            }
        }
        Ok(())
    }
}

/// The boot allocator's state (Linux: `struct memblock`).
pub struct Memblock {
    pub memory: MemblockType,
    pub reserved: MemblockType,
    /// Allocations stay below this (Linux: `memblock.current_limit`).
    current_limit: u64,
}

pub static MEMBLOCK: SpinLock<Memblock> = SpinLock::new(Memblock::new());

impl Memblock {
    const fn new() -> Self {
        Self { memory: MemblockType::new(), reserved: MemblockType::new(), current_limit: u64::MAX }
    }

    /// Registers usable RAM (Linux: `memblock_add`).
    pub fn add(&mut self, base: u64, end: u64) -> KResult<()> {
        self.memory.add(base, end)
    }

    /// Takes memory out of the usable set for good (Linux: `memblock_remove`).
    #[allow(dead_code, reason = "memblock API: for memmap= and mem= (Linux: memblock_remove)")]
    pub fn remove(&mut self, base: u64, end: u64) -> KResult<()> {
        self.memory.remove(base, end)
    }

    /// Marks memory as in use (Linux: `memblock_reserve`).
    pub fn reserve(&mut self, base: u64, end: u64) -> KResult<()> {
        self.reserved.add(base, end)
    }

    /// Linux: `memblock_set_current_limit`.
    pub fn set_current_limit(&mut self, limit: u64) {
        self.current_limit = limit;
    }

    /// Calls `f` with each free range: memory not reserved, in address order
    /// (Linux: `for_each_free_mem_range`).
    pub fn for_each_free_range(&self, mut f: impl FnMut(MemblockRegion)) {
        for m in self.memory.regions() {
            let mut base = m.base;
            for r in self.reserved.regions().iter().filter(|r| r.end > m.base && r.base < m.end) {
                if r.base > base {
                    f(MemblockRegion { base, end: r.base });
                }
                base = base.max(r.end);
            }
            if base < m.end {
                f(MemblockRegion { base, end: m.end });
            }
        }
    }

    /// Allocates `size` bytes aligned to `align` (a power of two), as high
    /// as possible below the current limit, and reserves them (Linux:
    /// `memblock_phys_alloc`). The memory is not zeroed.
    pub fn alloc(&mut self, size: u64, align: u64) -> KResult<u64> {
        let limit = self.current_limit;
        let mut found = None;
        self.for_each_free_range(|r| {
            let end = r.end.min(limit);
            let Some(top) = end.checked_sub(size) else { return };
            let base = top & !(align - 1);
            if base >= r.base {
                found = Some(found.map_or(base, |f: u64| f.max(base)));
            }
        });
        let base = found.ok_or(Errno::ENOMEM)?;
        self.reserve(base, base + size)?;
        Ok(base)
    }

    /// The highest usable address (Linux: `memblock_end_of_DRAM`).
    pub fn end_of_dram(&self) -> u64 {
        self.memory.regions().last().map_or(0, |r| r.end)
    }
}

crate::ktest!(memblock_add_merges_and_remove_splits, {
    let mut t = MemblockType::new();
    t.add(0x3000, 0x4000).map_err(|_| "add")?;
    t.add(0x1000, 0x2000).map_err(|_| "add")?;
    t.add(0x2000, 0x3000).map_err(|_| "add")?;
    crate::kassert!(t.regions() == [MemblockRegion { base: 0x1000, end: 0x4000 }], "merged");
    t.remove(0x2000, 0x2800).map_err(|_| "remove")?;
    crate::kassert!(t.cnt == 2 && t.regions[1].base == 0x2800, "split in two");
    t.add(0x0, 0x10000).map_err(|_| "add")?;
    crate::kassert!(t.regions() == [MemblockRegion { base: 0, end: 0x10000 }], "swallowed");
    Ok(())
});

/// Page-table frames from memblock, for the kernel's tables built before
/// the page allocator runs (Linux: `alloc_low_pages`).
pub struct MemblockPgtableAlloc;

impl crate::mm::page_table::PgtableAlloc for MemblockPgtableAlloc {
    fn alloc_table(&mut self) -> KResult<crate::mm::addr::Pfn> {
        let size = crate::mm::addr::PAGE_SIZE as u64;
        let pa = MEMBLOCK.lock().alloc(size, size)?;
        Ok(crate::mm::addr::PhysAddr::new(pa).pfn())
    }
}

//! Walking the user half of a page table: read or replace one entry, visit
//! every entry of a range, and free the tables themselves.
//!
//! Linux: mm/memory.c (`set_pte_at` callers, `zap_pte_range`,
//! `copy_pte_range`, `free_pgd_range`), mm/pagewalk.c (`walk_page_range`),
//! mm/mprotect.c (`change_pte_range`).
//!
//! Entries are handled as whole [`Pte`] values: present leaves, none, and
//! non-present non-zero entries (swap entries, later) all reach the
//! callers, which decide. Missing tables are skipped whole, so a range
//! walk costs what is mapped, not what is spanned.
//!
//! # Locking
//! The owner's `&mut PageTable` (the mm's `page_table_lock`) covers every
//! change; TLB entries are dropped on this CPU when the table is loaded
//! (other CPUs: shootdown, with SMP).
#![deny(unsafe_code)]

use super::{PageTable, PgtableAlloc, TableFrame};
use crate::arch::mm::pgtable_types::{PTRS_PER_TABLE, Pte, level_size, table_index};
use crate::kernel::errno::KResult;
use crate::mm::addr::VirtAddr;
use crate::mm::page_alloc::free_pages;

/// End of the user half: PML4 entries 0..256.
const USER_HALF_END: u64 = 1 << 47;

impl PageTable {
    /// The level-1 entry for `va`; `Pte::NONE` where no table reaches it
    /// (Linux: `pte_offset_map` then `ptep_get`).
    pub fn get_pte(&self, va: VirtAddr) -> Pte {
        match self.walk_to(va, 1, None, false) {
            Ok(table) => table.get(table_index(va.as_u64(), 1)),
            Err(_) => Pte::NONE,
        }
    }

    /// Writes the level-1 entry for `va`, whatever was there, allocating
    /// the tables on the way (Linux: `set_pte_at`, with `pte_alloc`).
    pub fn set_pte(&mut self, va: VirtAddr, pte: Pte, alloc: &mut dyn PgtableAlloc) -> KResult<()> {
        let table = self.walk_to(va, 1, Some(alloc), true)?;
        table.set(table_index(va.as_u64(), 1), pte);
        self.flush_one(va);
        Ok(())
    }

    /// Calls `f` on every level-1 entry in `[start, end)` that is not
    /// none; where it returns a new entry, stores it and drops the old
    /// translation (Linux: the `*_pte_range` loops of zap, copy and
    /// mprotect).
    pub fn update_range(
        &mut self,
        start: u64,
        end: u64,
        f: &mut dyn FnMut(VirtAddr, Pte) -> Option<Pte>,
    ) {
        let end = end.min(USER_HALF_END);
        self.walk_level(self.root, 4, start, end, f);
    }

    fn walk_level(
        &self,
        table: TableFrame,
        level: u32,
        start: u64,
        end: u64,
        f: &mut dyn FnMut(VirtAddr, Pte) -> Option<Pte>,
    ) {
        let size = level_size(level);
        let mut va = start;
        while va < end {
            let index = table_index(va, level);
            let next = (va & !(size - 1)).saturating_add(size).min(end);
            let pte = table.get(index);
            if level == 1 {
                if !pte.is_none()
                    && let Some(new) = f(VirtAddr::new(va), pte)
                {
                    table.set(index, new);
                    self.flush_one(VirtAddr::new(va));
                }
            } else if pte.is_present() && !pte.is_huge() {
                self.walk_level(TableFrame(pte.pfn()), level - 1, va, next, f);
            }
            va = next;
        }
    }

    /// Frees every table under the user half and clears its PML4 entries
    /// (Linux: `free_pgtables` over the whole space at exit). The leaves
    /// must have been zapped first: their pages are not touched here.
    pub fn free_user_pgtables(&mut self) {
        for index in 0..PTRS_PER_TABLE / 2 {
            let pte = self.root.get(index);
            if pte.is_present() {
                free_table(TableFrame(pte.pfn()), 3);
                self.root.set(index, Pte::NONE);
            }
        }
    }
}

/// Frees the table at `level` and the tables below it.
fn free_table(table: TableFrame, level: u32) {
    if level > 1 {
        for index in 0..PTRS_PER_TABLE {
            let pte = table.get(index);
            if pte.is_present() && !pte.is_huge() {
                free_table(TableFrame(pte.pfn()), level - 1);
            }
        }
    }
    free_pages(table.0, 0);
}

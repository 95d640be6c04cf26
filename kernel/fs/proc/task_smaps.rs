//! /proc/PID/smaps and /proc/PID/smaps_rollup: each area's memory, counted
//! from its page-table entries (Linux: fs/proc/task_mmu.c `show_smap`,
//! `smaps_pte_entry`, `smaps_account`, `smaps_page_accumulate`,
//! `__show_smap`, `show_smap_vma_flags`, `show_smaps_rollup`).
//!
//! Each area's `maps` line, then Linux 6.1's fields in its order and
//! format ("Name:" padded to 16 columns, `%8lu kB`). The figures come from
//! a walk of the area's PTEs: a present entry adds a page to `Rss`
//! (the shared zero page excepted, as Linux's `vm_normal_page` leaves it
//! out); its map count decides `Shared_*` against `Private_*` and divides
//! its `Pss`; the PTE's dirty bit decides `*_Dirty`, its accessed bit
//! `Referenced`. A page is `Anonymous` in an anonymous area, and in a
//! private file area when it is not the file's cache page (a private
//! copy made by a write: Linux's `PageAnon`); pages of shared anonymous
//! memory count as shmem, as Linux's `MAP_SHARED|MAP_ANONYMOUS` pages do.
//!
//! Ferrite keeps no per-page map count: every PTE holds one reference on
//! its page and a file's page cache (or a shared anonymous object) one
//! more, so the map count is the reference count, less one for a cache
//! page. A reference held for a moment elsewhere (a read in progress)
//! makes a page look shared for that moment; Linux's snapshot of
//! `page_mapcount` is documented as racy too. Non-present, non-empty PTEs
//! would be swap entries; Ferrite has no swap yet, but they are counted
//! under `Swap` (and `SwapPss`, as if each slot had one user) so the
//! walk is right once it does. Ferrite has no huge user pages, `mlock`,
//! protection keys or soft-dirty tracking: those figures are 0,
//! `THPeligible` 0, and the `ProtectionKey` line and the `sd`, `lo`,
//! `ac` flags are absent.
//!
//! # Locking
//! The mm's `mmap_lock` shared for the whole walk, and under it the page
//! table lock, one area at a time; a file area's page-cache lock (`i_pages`)
//! under that for each page (the order in kernel/locking/mod.rs). Lines
//! are rendered after both are dropped, since a path walk takes VFS locks.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::base::reader_root;
use super::generic::SeqBuf;
use super::task_mmu::{MapLine, show_map_vma, vma_name};
use crate::arch::mm::pgtable_types::{Pte, PteFlags};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::Task;
use crate::mm::addr::PAGE_SIZE;
use crate::mm::filemap::vma_mapping;
use crate::mm::memory::is_zero_pfn;
use crate::mm::mm_types::Mm;
use crate::mm::page::pfn_to_page;
use crate::mm::vma::{VmFlags, Vma, linear_page_index};

/// Linux: `PSS_SHIFT`: Pss is summed in 1/4096ths of a byte.
const PSS_SHIFT: u32 = 12;
const PAGE: u64 = PAGE_SIZE as u64;

/// Linux: `struct mem_size_stats`, in bytes (`pss*` fixed-point).
#[derive(Default, Clone, Copy)]
pub struct MemSizeStats {
    resident: u64,
    shared_clean: u64,
    shared_dirty: u64,
    private_clean: u64,
    private_dirty: u64,
    referenced: u64,
    anonymous: u64,
    swap: u64,
    pss: u64,
    pss_anon: u64,
    pss_file: u64,
    pss_shmem: u64,
    pss_dirty: u64,
    swap_pss: u64,
}

impl MemSizeStats {
    fn add(&mut self, o: &Self) {
        self.resident += o.resident;
        self.shared_clean += o.shared_clean;
        self.shared_dirty += o.shared_dirty;
        self.private_clean += o.private_clean;
        self.private_dirty += o.private_dirty;
        self.referenced += o.referenced;
        self.anonymous += o.anonymous;
        self.swap += o.swap;
        self.pss += o.pss;
        self.pss_anon += o.pss_anon;
        self.pss_file += o.pss_file;
        self.pss_shmem += o.pss_shmem;
        self.pss_dirty += o.pss_dirty;
        self.swap_pss += o.swap_pss;
    }

    /// Linux: `smaps_account` + `smaps_page_accumulate` for one small page.
    fn account(&mut self, kind: PageKind, mapcount: u64, young: bool, dirty: bool) {
        self.resident += PAGE;
        if young {
            self.referenced += PAGE;
        }
        let private = mapcount < 2;
        let pss = (PAGE << PSS_SHIFT) / mapcount.max(1);
        self.pss += pss;
        match kind {
            PageKind::Anon => {
                self.anonymous += PAGE;
                self.pss_anon += pss;
            }
            PageKind::Shmem => self.pss_shmem += pss,
            PageKind::File => self.pss_file += pss,
        }
        let bucket = match (dirty, private) {
            (true, true) => &mut self.private_dirty,
            (true, false) => &mut self.shared_dirty,
            (false, true) => &mut self.private_clean,
            (false, false) => &mut self.shared_clean,
        };
        *bucket += PAGE;
        if dirty {
            self.pss_dirty += pss;
        }
    }
}

/// What a mapped page is (Linux: `PageAnon`, `PageSwapBacked`).
#[derive(Clone, Copy)]
enum PageKind {
    Anon,
    Shmem,
    File,
}

/// Linux: `smaps_pte_entry` over the area: called with the page table
/// locked.
fn smap_gather_stats(pt: &mut crate::mm::page_table::PageTable, vma: &Vma) -> MemSizeStats {
    let mut mss = MemSizeStats::default();
    let mapping = vma_mapping(vma);
    pt.update_range(vma.start, vma.end, &mut |va, pte: Pte| {
        if !pte.is_present() {
            // A swap entry, once there is swap (Linux: `is_swap_pte`).
            mss.swap += PAGE;
            mss.swap_pss += PAGE << PSS_SHIFT;
            return None;
        }
        let pfn = pte.pfn();
        // Linux: `vm_normal_page` skips the zero page and PFNMAP frames.
        let special = is_zero_pfn(pfn) || pte.flags().contains(PteFlags::SPECIAL);
        let page = pfn_to_page(pfn).filter(|_| !special)?;
        let cache_page = match mapping {
            Some(m) => m.lock().find_page(linear_page_index(vma, va.as_u64())) == Some(pfn),
            None => vma.shmem.is_some(),
        };
        let kind = match (cache_page, vma.file.is_some()) {
            (false, _) => PageKind::Anon,
            (true, true) => PageKind::File,
            (true, false) => PageKind::Shmem,
        };
        let refs = u64::from(page.ref_count());
        let mapcount = if cache_page { refs.saturating_sub(1) } else { refs };
        let flags = pte.flags();
        mss.account(
            kind,
            mapcount,
            flags.contains(PteFlags::ACCESSED),
            flags.contains(PteFlags::DIRTY),
        );
        None
    });
    mss
}

/// Every area with its figures, copied out under the mm's locks.
fn gather_all(mm: &Mm) -> KResult<Vec<(MapLine, MemSizeStats)>> {
    let layout = mm.mmap_read();
    let mut out = Vec::new();
    out.try_reserve(layout.vmas.len()).map_err(|_| Errno::ENOMEM)?;
    for vma in layout.vmas.iter() {
        let mss = smap_gather_stats(&mut mm.page_table(), vma);
        let line = MapLine {
            start: vma.start,
            end: vma.end,
            flags: vma.flags,
            pgoff: vma.pgoff,
            file: vma.file.clone(),
            name: vma_name(vma, layout.start_brk, layout.brk, layout.start_stack),
        };
        out.push((line, mss));
    }
    Ok(out)
}

/// Linux: `SEQ_PUT_DEC`: a label padded by its caller, the value in kB
/// right-aligned in 8 columns.
fn put_kb(m: &mut SeqBuf, label: &str, bytes: u64) -> KResult<()> {
    m.printf(format_args!("{label}{:>8} kB\n", bytes >> 10))
}

/// Linux: `__show_smap`; `rollup` adds the Pss breakdown.
fn show_smap_fields(m: &mut SeqBuf, s: &MemSizeStats, rollup: bool) -> KResult<()> {
    put_kb(m, "Rss:            ", s.resident)?;
    put_kb(m, "Pss:            ", s.pss >> PSS_SHIFT)?;
    put_kb(m, "Pss_Dirty:      ", s.pss_dirty >> PSS_SHIFT)?;
    if rollup {
        put_kb(m, "Pss_Anon:       ", s.pss_anon >> PSS_SHIFT)?;
        put_kb(m, "Pss_File:       ", s.pss_file >> PSS_SHIFT)?;
        put_kb(m, "Pss_Shmem:      ", s.pss_shmem >> PSS_SHIFT)?;
    }
    let lines: [(&str, u64); 12] = [
        ("Shared_Clean:   ", s.shared_clean),
        ("Shared_Dirty:   ", s.shared_dirty),
        ("Private_Clean:  ", s.private_clean),
        ("Private_Dirty:  ", s.private_dirty),
        ("Referenced:     ", s.referenced),
        ("Anonymous:      ", s.anonymous),
        ("LazyFree:       ", 0),
        ("AnonHugePages:  ", 0),
        ("ShmemPmdMapped: ", 0),
        ("FilePmdMapped:  ", 0),
        ("Shared_Hugetlb: ", 0),
        ("Private_Hugetlb: ", 0),
    ];
    for (label, bytes) in lines {
        if label.len() > 16 {
            // Linux prints this one label a column long, the value in 7.
            m.printf(format_args!("{label}{:>7} kB\n", bytes >> 10))?;
        } else {
            put_kb(m, label, bytes)?;
        }
    }
    put_kb(m, "Swap:           ", s.swap)?;
    put_kb(m, "SwapPss:        ", s.swap_pss >> PSS_SHIFT)?;
    put_kb(m, "Locked:         ", 0)
}

/// Linux: `show_smap_vma_flags`: the two-letter names of the flags set,
/// in bit order.
fn show_smap_vma_flags(m: &mut SeqBuf, flags: VmFlags) -> KResult<()> {
    const MNEMONICS: [(VmFlags, &str); 15] = [
        (VmFlags::READ, "rd"),
        (VmFlags::WRITE, "wr"),
        (VmFlags::EXEC, "ex"),
        (VmFlags::SHARED, "sh"),
        (VmFlags::MAYREAD, "mr"),
        (VmFlags::MAYWRITE, "mw"),
        (VmFlags::MAYEXEC, "me"),
        (VmFlags::MAYSHARE, "ms"),
        (VmFlags::GROWSDOWN, "gd"),
        (VmFlags::PFNMAP, "pf"),
        (VmFlags::IO, "io"),
        (VmFlags::DONTCOPY, "dc"),
        (VmFlags::DONTEXPAND, "de"),
        (VmFlags::WIPEONFORK, "wf"),
        (VmFlags::DONTDUMP, "dd"),
    ];
    m.puts(b"VmFlags: ")?;
    for (flag, name) in MNEMONICS {
        if flags.contains(flag) {
            m.printf(format_args!("{name} "))?;
        }
    }
    m.puts(b"\n")
}

/// /proc/PID/smaps (Linux: `show_smap` for every area).
pub fn show_smaps(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    let Some(mm) = task.mm.lock().clone() else { return Ok(()) };
    let areas = gather_all(&mm)?;
    let root = reader_root(task)?;
    for (line, mss) in &areas {
        show_map_vma(m, line, &root)?;
        put_kb(m, "Size:           ", line.end - line.start)?;
        put_kb(m, "KernelPageSize: ", PAGE)?;
        put_kb(m, "MMUPageSize:    ", PAGE)?;
        show_smap_fields(m, mss, false)?;
        m.puts(b"THPeligible:    0\n")?;
        show_smap_vma_flags(m, line.flags)?;
    }
    Ok(())
}

/// /proc/PID/smaps_rollup (Linux: `show_smaps_rollup`): the sums, under a
/// header spanning the first area's start to the last one's end; `ESRCH`
/// for a kernel thread, which has no address space to sum.
pub fn show_smaps_rollup(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    let Some(mm) = task.mm.lock().clone() else { return Err(Errno::ESRCH) };
    let areas = gather_all(&mm)?;
    let mut sum = MemSizeStats::default();
    for (_, mss) in &areas {
        sum.add(mss);
    }
    let start = areas.first().map_or(0, |(l, _)| l.start);
    let end = areas.last().map_or(0, |(l, _)| l.end);
    let header = MapLine {
        start,
        end,
        flags: VmFlags::empty(),
        pgoff: 0,
        file: None,
        name: Some("[rollup]"),
    };
    show_map_vma(m, &header, &reader_root(task)?)?;
    show_smap_fields(m, &sum, true)
}

crate::ktest!(smaps_account_splits_shared_pages, {
    let mut mss = MemSizeStats::default();
    mss.account(PageKind::Anon, 1, true, true);
    mss.account(PageKind::File, 2, true, false);
    mss.account(PageKind::Shmem, 4, false, true);
    crate::kassert!(mss.resident == 3 * PAGE, "three pages resident");
    crate::kassert!(mss.private_dirty == PAGE && mss.shared_clean == PAGE, "private vs shared");
    crate::kassert!(mss.shared_dirty == PAGE && mss.referenced == 2 * PAGE, "dirty and young");
    // 4096 + 2048 + 1024 bytes of Pss.
    crate::kassert!(mss.pss >> PSS_SHIFT == 7168, "Pss divides by the map count");
    crate::kassert!(mss.anonymous == PAGE && mss.pss_dirty >> PSS_SHIFT == 5120, "anon, dirty");
    Ok(())
});

//! Four-level page tables: map, unmap, change and look up one page.
//!
//! Linux: mm/memory.c (`__pte_alloc`, page walks), mm/pgtable-generic.c,
//! include/linux/pgtable.h; the entry format is in
//! `arch::mm::pgtable_types`.
//!
//! A [`PageTable`] is the frame of a PML4 (Linux: `pgd_t *mm->pgd`). Tables
//! are reached through the direct map and read and written as
//! `AtomicU64`s, because the CPU itself sets the accessed and dirty bits in
//! them at any moment. Intermediate tables come from a [`PgtableAlloc`]:
//! memblock while the kernel's tables are built, then the page allocator.
//!
//! Where later work goes: a non-present leaf that is not zero will be a
//! swap entry (`translate` reports it as unmapped, `map` refuses to
//! overwrite it); huge pages are leaves at level 2 or 3, made by
//! [`PageTable::map_with`] with `level > 1`, and a 4 KiB operation that meets
//! one fails with `EEXIST` until splitting (Linux: `split_huge_pmd`) exists.
//!
//! # Locking
//! `PageTable` methods take `&mut self` for changes; the owner supplies the
//! exclusion: [`KERNEL_PGTABLE`] for the kernel half (Linux:
//! `init_mm.page_table_lock`), the `Mm`'s lock for user halves. Lock order:
//! `KERNEL_PGTABLE`, then `ZONE` (tables are allocated under it).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::mm::pgtable_types::{PTRS_PER_TABLE, Pte, PteFlags, level_size, table_index};
use crate::arch::mm::tlb::{flush_tlb_one_kernel, read_cr3};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::mm::addr::{PAGE_SIZE, Pfn, PhysAddr, VirtAddr, phys_to_virt};

mod walk;

/// First address of the kernel half: PML4 entries 256..=511.
pub const KERNEL_HALF_START: u64 = 0xffff_8000_0000_0000;

/// Where page-table frames come from.
pub trait PgtableAlloc {
    /// A frame for a new table; its contents need not be zero.
    fn alloc_table(&mut self) -> KResult<Pfn>;
}

/// The kernel's page table (Linux: `init_mm.pgd`), set by `init_64`; its
/// kernel half is shared by every address space.
pub static KERNEL_PGTABLE: SpinLock<Option<PageTable>> = SpinLock::new(None);

/// The frame of a page table at some level. Only code in this file makes
/// one, from a frame it allocated for a table or found in a present,
/// non-huge entry of another table.
#[derive(Clone, Copy)]
struct TableFrame(Pfn);

impl TableFrame {
    /// The table's 512 entries, through the direct map.
    fn entries(self) -> &'static [AtomicU64; PTRS_PER_TABLE] {
        let ptr = phys_to_virt(self.0.phys()).as_ptr::<[AtomicU64; PTRS_PER_TABLE]>();
        // SAFETY:
        // 1. A `TableFrame` names a page-table frame (see the type), which
        //    is 4 KiB aligned and lies in the direct map.
        // 2. Page tables are only ever accessed as atomics, by us and by the
        //    CPU's page walker, so a shared reference never sees a torn or
        //    non-atomic write; the frame is not freed while tables use it.
        unsafe { &*ptr }
    }

    fn get(self, index: usize) -> Pte {
        Pte::from_raw(self.entries()[index].load(Ordering::Relaxed))
    }

    fn set(self, index: usize, pte: Pte) {
        self.entries()[index].store(pte.raw(), Ordering::Release);
    }

    /// Empties a table that is not linked into any hierarchy yet (every
    /// caller has just allocated it), so neither the page walker nor
    /// another CPU can read it meanwhile and plain stores will do.
    fn zero(self) {
        let page = phys_to_virt(self.0.phys()).as_mut_ptr::<u8>();
        // SAFETY: a fresh, unlinked table frame (see above): 4 KiB aligned,
        // in the direct map, accessed by nothing else until it is linked.
        unsafe { crate::arch::page_64::clear_page(page) };
    }
}

/// A hierarchy of tables rooted at one PML4 frame (Linux: `pgd_t *`).
pub struct PageTable {
    root: TableFrame,
}

impl PageTable {
    /// Allocates an empty PML4.
    pub fn new_with(alloc: &mut dyn PgtableAlloc) -> KResult<Self> {
        let root = TableFrame(alloc.alloc_table()?);
        root.zero();
        Ok(Self { root })
    }

    pub fn root(&self) -> Pfn {
        self.root.0
    }

    /// Whether the CPU is using this table now.
    fn is_current(&self) -> bool {
        read_cr3().pfn() == self.root.0
    }

    /// Makes sure PML4 entry `index` points to a table (Linux:
    /// `preallocate_vmalloc_pages` for the whole kernel half).
    pub fn prealloc_pgd(&mut self, index: usize, alloc: &mut dyn PgtableAlloc) -> KResult<()> {
        let Some(pte) = self.root.entries().get(index).map(|e| e.load(Ordering::Relaxed)) else {
            return Err(Errno::EINVAL);
        };
        if !Pte::from_raw(pte).is_present() {
            let table = TableFrame(alloc.alloc_table()?);
            table.zero();
            self.root.set(index, Pte::new(table.0, PteFlags::TABLE));
        }
        Ok(())
    }

    /// Copies PML4 entries 256..=511 from `other`: the kernel half, which
    /// then is the same tables in both.
    pub fn clone_kernel_half(&mut self, other: &PageTable) {
        for i in PTRS_PER_TABLE / 2..PTRS_PER_TABLE {
            self.root.set(i, other.root.get(i));
        }
    }

    /// Walks from the root down to the table at `level` that holds `va`,
    /// allocating missing tables with `alloc` when given. A huge leaf on the
    /// way gives `EEXIST`, a missing table without `alloc` `ENOENT`.
    fn walk_to(
        &self,
        va: VirtAddr,
        level: u32,
        mut alloc: Option<&mut dyn PgtableAlloc>,
        user: bool,
    ) -> KResult<TableFrame> {
        let mut table = self.root;
        for l in (level + 1..=4).rev() {
            let index = table_index(va.as_u64(), l);
            let pte = table.get(index);
            let next = if pte.is_huge() {
                return Err(Errno::EEXIST);
            } else if pte.is_present() {
                if user && !pte.flags().contains(PteFlags::USER) {
                    table.set(index, Pte::from_raw(pte.raw() | PteFlags::USER.bits()));
                }
                TableFrame(pte.pfn())
            } else if !pte.is_none() {
                return Err(Errno::EEXIST);
            } else {
                let alloc = alloc.as_deref_mut().ok_or(Errno::ENOENT)?;
                let new = TableFrame(alloc.alloc_table()?);
                new.zero();
                let flags = if user { PteFlags::USER_TABLE } else { PteFlags::TABLE };
                table.set(index, Pte::new(new.0, flags));
                new
            };
            table = next;
        }
        Ok(table)
    }

    /// Maps the page of `level` (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) at `va` to
    /// the frames from `pfn` (Linux: `set_pte_at`, `set_pmd`, `set_pud`).
    /// An address already mapped gives `EEXIST`; misalignment `EINVAL`.
    pub fn map_with(
        &mut self,
        va: VirtAddr,
        pfn: Pfn,
        flags: PteFlags,
        level: u32,
        alloc: &mut dyn PgtableAlloc,
    ) -> KResult<()> {
        let size = level_size(level);
        if !(1..=3).contains(&level)
            || !va.as_u64().is_multiple_of(size)
            || !pfn.phys().as_u64().is_multiple_of(size)
        {
            return Err(Errno::EINVAL);
        }
        let table = self.walk_to(va, level, Some(alloc), flags.contains(PteFlags::USER))?;
        let index = table_index(va.as_u64(), level);
        if !table.get(index).is_none() {
            return Err(Errno::EEXIST);
        }
        let flags = if level > 1 { flags | PteFlags::HUGE } else { flags - PteFlags::HUGE };
        table.set(index, Pte::new(pfn, flags | PteFlags::PRESENT));
        Ok(())
    }

    /// Removes the 4 KiB mapping at `va` and returns its frame; `None` if
    /// nothing (or a huge page) is mapped there. Empty tables stay.
    pub fn unmap(&mut self, va: VirtAddr) -> Option<Pfn> {
        let table = self.walk_to(va, 1, None, false).ok()?;
        let index = table_index(va.as_u64(), 1);
        let pte = table.get(index);
        if !pte.is_present() {
            return None;
        }
        table.set(index, Pte::NONE);
        self.flush_one(va);
        Some(pte.pfn())
    }

    /// Changes the flags of the page mapped at `va`, 4 KiB or huge
    /// (Linux: `change_protection` for one page). `ENOENT` if unmapped.
    pub fn protect(&mut self, va: VirtAddr, flags: PteFlags) -> KResult<()> {
        let (table, level) = self.leaf(va).ok_or(Errno::ENOENT)?;
        let index = table_index(va.as_u64(), level);
        let pte = table.get(index);
        let huge = if level > 1 { PteFlags::HUGE } else { PteFlags::empty() };
        table.set(index, Pte::new(pte.pfn(), (flags - PteFlags::HUGE) | huge | PteFlags::PRESENT));
        self.flush_one(va);
        Ok(())
    }

    /// The physical address `va` maps to and the leaf's flags (Linux:
    /// `follow_pte`, `slow_virt_to_phys`).
    pub fn translate(&self, va: VirtAddr) -> Option<(PhysAddr, PteFlags)> {
        let (table, level) = self.leaf(va)?;
        let pte = table.get(table_index(va.as_u64(), level));
        let offset = va.as_u64() & (level_size(level) - 1);
        Some((PhysAddr::new(pte.phys().as_u64() + offset), pte.flags()))
    }

    /// The table and level of the present leaf entry for `va`.
    fn leaf(&self, va: VirtAddr) -> Option<(TableFrame, u32)> {
        let mut table = self.root;
        for level in (1..=4).rev() {
            let pte = table.get(table_index(va.as_u64(), level));
            if !pte.is_present() {
                return None;
            }
            if level == 1 || (level <= 3 && pte.is_huge()) {
                return Some((table, level));
            }
            table = TableFrame(pte.pfn());
        }
        None
    }

    /// Kernel-half entries are shared by every address space, so they are
    /// flushed whichever table is loaded. Other CPUs: shootdown, later.
    fn flush_one(&self, va: VirtAddr) {
        if va.as_u64() >= KERNEL_HALF_START || self.is_current() {
            flush_tlb_one_kernel(va);
        }
    }
}

/// A new, empty address space's top-level table sharing the kernel half
/// with every other (Linux: `pgd_alloc`). Its user-half tables will be
/// freed by the `Mm` that owns it (Linux: `free_pgtables`, `pgd_free`).
pub fn pgd_alloc() -> KResult<PageTable> {
    let mut pgd = PageTable::new_with(&mut crate::mm::page_alloc::BuddyPgtableAlloc)?;
    let kernel = KERNEL_PGTABLE.lock();
    pgd.clone_kernel_half(kernel.as_ref().ok_or(Errno::ENOMEM)?);
    Ok(pgd)
}

/// Looks `va` up in the kernel's page table (Linux: `slow_virt_to_phys`,
/// `lookup_address`).
pub fn kernel_translate(va: VirtAddr) -> Option<(PhysAddr, PteFlags)> {
    KERNEL_PGTABLE.lock().as_ref()?.translate(va)
}

crate::ktest!(page_table_map_translate_unmap, {
    use crate::mm::page_alloc::{BuddyPgtableAlloc, alloc_pages, free_pages};
    use crate::mm::vmalloc::{VmKind, get_vm_area, unmap_area};
    let area = get_vm_area(PAGE_SIZE, VmKind::Ioremap).map_err(|_| "get_vm_area")?;
    let pfn = alloc_pages(0).map_err(|_| "alloc_pages")?;
    let va = area.addr;
    let mapped = KERNEL_PGTABLE.lock().as_mut().map(|pgd| {
        pgd.map_with(va, pfn, PteFlags::KERNEL - PteFlags::GLOBAL, 1, &mut BuddyPgtableAlloc)
    });
    crate::kassert!(matches!(mapped, Some(Ok(()))), "map at a vmalloc address");
    let (pa, flags) = kernel_translate(VirtAddr::new(va.as_u64() + 0x123)).ok_or("translate")?;
    crate::kassert!(pa.as_u64() == pfn.phys().as_u64() + 0x123, "translate gives the frame");
    crate::kassert!(flags.contains(PteFlags::RW | PteFlags::NX), "flags as mapped");
    let direct = phys_to_virt(pfn.phys()).as_mut_ptr::<u64>();
    // SAFETY: `va` and `direct` both map the frame just allocated for this
    // test, so the two accesses touch memory nobody else uses.
    unsafe { va.as_mut_ptr::<u64>().write_volatile(0x5eed_f00d) };
    // SAFETY: as above.
    let seen = unsafe { direct.read_volatile() };
    crate::kassert!(seen == 0x5eed_f00d, "the MMU uses the new entry");
    let ro = KERNEL_PGTABLE.lock().as_mut().map(|pgd| pgd.protect(va, PteFlags::KERNEL_RO));
    crate::kassert!(matches!(ro, Some(Ok(()))), "protect");
    let (_, flags) = kernel_translate(va).ok_or("translate after protect")?;
    crate::kassert!(!flags.contains(PteFlags::RW), "protect made it read-only");
    let unmapped = KERNEL_PGTABLE.lock().as_mut().and_then(|pgd| pgd.unmap(va));
    crate::kassert!(unmapped == Some(pfn), "unmap returns the frame");
    crate::kassert!(kernel_translate(va).is_none(), "unmapped");
    free_pages(pfn, 0);
    unmap_area(&area);
    Ok(())
});

crate::ktest!(page_table_kernel_layout, {
    use crate::arch::sections;
    let pa = PhysAddr::new(0x20_0123);
    let (got, flags) = kernel_translate(phys_to_virt(pa)).ok_or("direct map")?;
    crate::kassert!(got == pa, "the direct map maps PAGE_OFFSET + pa to pa");
    crate::kassert!(flags.contains(PteFlags::RW | PteFlags::HUGE), "direct map: writable, huge");
    let text = VirtAddr::new(sections::text().start + 0x10);
    let (got, flags) = kernel_translate(text).ok_or("kernel text")?;
    crate::kassert!(Some(got) == crate::mm::addr::virt_to_phys(text), "text at KERNEL_MAP + pa");
    crate::kassert!(!flags.intersects(PteFlags::RW | PteFlags::NX), "text: read-only, executable");
    let (_, flags) = kernel_translate(VirtAddr::new(sections::rodata().start)).ok_or("rodata")?;
    crate::kassert!(!flags.contains(PteFlags::RW), "rodata read-only");
    let (_, flags) = kernel_translate(VirtAddr::new(sections::data().start)).ok_or("data")?;
    crate::kassert!(flags.contains(PteFlags::RW), "data writable");
    let guard = crate::arch::mm::init_64::boot_stack_guard_page();
    crate::kassert!(kernel_translate(guard).is_none(), "boot stack guard page not present");
    let user = pgd_alloc().map_err(|_| "pgd_alloc")?;
    let shared = user.translate(text) == kernel_translate(text);
    let empty = user.translate(VirtAddr::new(0x40_0000)).is_none();
    crate::mm::page_alloc::free_pages(user.root(), 0);
    crate::kassert!(shared && empty, "a new pgd shares the kernel half only");
    Ok(())
});

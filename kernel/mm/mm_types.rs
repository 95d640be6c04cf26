//! A process's address space (Linux: `struct mm_struct`,
//! include/linux/mm_types.h, kernel/fork.c `mm_alloc`, `mmput`,
//! mm/mmap.c `exit_mmap`, arch/x86/mm/mmap.c `mmap_base`).
//!
//! An [`Mm`] owns a page table whose kernel half is shared with every other
//! (from `pgd_alloc`), the tree of VMAs and the layout fields (brk, stack,
//! argument area) in [`MmLayout`], and the counters. Dropping the last
//! `Arc<Mm>` frees every user page it maps (each PTE holds one page
//! reference) and its page tables (Linux: `exit_mmap`, `free_pgtables`,
//! `pgd_free`).
//!
//! Layout (Linux's default top-down layout, no randomisation yet):
//! ```text
//! 0x7ffffffff000  TASK_SIZE = STACK_TOP: the stack grows down from here
//!                 (stack rlimit 8 MiB + guard gap, at least 128 MiB)
//! 0x7ffff7fff000  mmap_base: mmap allocates downwards from here
//! 0x555555554000  ELF_ET_DYN_BASE: static-PIE programs are loaded here
//!                 brk heap: right after the program's highest segment
//! 0x10000         mmap_min_addr: nothing is mapped below
//! ```
//!
//! # Locking
//! `mmap_lock` (Linux: `mm->mmap_lock`) is a sleeping
//! [`RwSemaphore`] around [`MmLayout`]: faults and `mmap` reads take it
//! shared, changes to the VMA tree exclusive. Its holder may sleep (a
//! file fault waits for the page cache's I/O), so it is never taken under
//! a spinlock or with interrupts off; it must not touch user memory (a
//! fault would take it again, and a waiting writer makes that second
//! `down_read` wait for ever). `page_table` (Linux:
//! `mm->page_table_lock`) is an IRQ-safe spinlock taken under
//! `mmap_lock`, so that concurrent faults on one mm serialise their PTE
//! updates; nothing sleeps under it. Order: `mmap_lock`, `page_table`, an `AnonShmem`'s pages or a
//! page cache's `i_pages`, an inode's `i_lock`, then the page allocator.
//! [`MmLayout::may_expand_vm`] reads the process's rlimits (a leaf lock)
//! under `mmap_lock`.
#![deny(unsafe_code)]

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use linux_raw_sys::general::{RLIMIT_AS, RLIMIT_DATA};

use vma_tree::VmaTree;

use crate::arch::mm::mmu_context::{switch_mm, switch_to_kernel_mm};
use crate::arch::mm::tlb::read_cr3;
use crate::fs::pagecache::DenyWriteAccess;
use crate::kernel::errno::KResult;
use crate::kernel::locking::SpinLock;
use crate::kernel::locking::rwsem::{RwSemReadGuard, RwSemWriteGuard, RwSemaphore};
use crate::kernel::resource::{RLIM_INFINITY, Rlimit};
use crate::mm::addr::{PAGE_SHIFT, PAGE_SIZE, Pfn};
use crate::mm::memory::zap_page_range;
use crate::mm::page_table::{PageTable, pgd_alloc};
use crate::mm::vma::{STACK_GUARD_GAP, VmFlags, VmaData};
use crate::pr_warn;

/// Top of user space (Linux: `TASK_SIZE_MAX`, 47 bits less one page).
pub const TASK_SIZE: u64 = (1 << 47) - PAGE_SIZE as u64;
/// Where the stack starts (Linux: `STACK_TOP` without randomisation).
pub const STACK_TOP: u64 = TASK_SIZE;
/// Lowest mappable address (Linux: `vm.mmap_min_addr`, 64 KiB on Debian).
pub const MMAP_MIN_ADDR: u64 = 0x1_0000;
/// Default stack size limit (Linux: `_STK_LIM`, `RLIMIT_STACK`).
pub const RLIMIT_STACK: u64 = 8 << 20;
/// Where static-PIE programs load (Linux: `ELF_ET_DYN_BASE`, two thirds of
/// the address space).
pub const ELF_ET_DYN_BASE: u64 = (TASK_SIZE / 3 * 2) & !(PAGE_SIZE as u64 - 1);
/// Most VMAs one mm may have (Linux: `vm.max_map_count`).
pub const MAX_MAP_COUNT: usize = 65530;

/// Linux: `mmap_base` in arch/x86/mm/mmap.c: below the stack's rlimit and
/// guard gap, with at least 128 MiB left for the stack.
pub const fn mmap_base() -> u64 {
    const MIN_GAP: u64 = 128 << 20;
    let gap = RLIMIT_STACK + STACK_GUARD_GAP;
    let gap = if gap < MIN_GAP { MIN_GAP } else { gap };
    (TASK_SIZE - gap) & !(PAGE_SIZE as u64 - 1)
}

/// The fields of `mm_struct` that `mmap_lock` guards.
#[derive(Default)]
pub struct MmLayout {
    /// Linux: `mm->mm_mt`.
    pub vmas: VmaTree<VmaData>,
    pub mmap_base: u64,
    pub start_code: u64,
    pub end_code: u64,
    pub start_data: u64,
    pub end_data: u64,
    pub start_brk: u64,
    pub brk: u64,
    pub start_stack: u64,
    pub arg_start: u64,
    pub arg_end: u64,
    pub env_start: u64,
    pub env_end: u64,
    /// Pages mapped by VMAs (Linux: `total_vm`).
    pub total_vm: u64,
    /// The auxiliary vector given to the program (Linux: `saved_auxv`,
    /// read by /proc/PID/auxv).
    pub saved_auxv: Vec<(u64, u64)>,
    /// The program file, kept unwritable while this mm lives (Linux:
    /// `exe_file`).
    pub exe_file: Option<DenyWriteAccess>,
}

/// Linux's `ignore_rlimit_data` boot option, off by default: a data
/// mapping past `RLIMIT_DATA` fails rather than only warning.
const IGNORE_RLIMIT_DATA: bool = false;

/// Writable, private and not a stack: memory `RLIMIT_DATA` counts (Linux:
/// `is_data_mapping`; `VM_STACK` is `VM_GROWSDOWN` on x86).
pub fn is_data_mapping(flags: VmFlags) -> bool {
    flags & (VmFlags::WRITE | VmFlags::SHARED | VmFlags::GROWSDOWN) == VmFlags::WRITE
}

/// The current process's limit on `resource`; none for a kernel thread.
pub fn rlimit(resource: u32) -> Rlimit {
    crate::kernel::sched::try_current().map_or(Rlimit::default(), |t| t.rlimit(resource as usize))
}

impl MmLayout {
    /// Pages of data mappings (Linux: `mm->data_vm`). Counted on demand,
    /// only when an `RLIMIT_DATA` is set, so that mprotect and munmap
    /// need no bookkeeping for it.
    pub fn data_vm(&self) -> u64 {
        let data = self.vmas.iter().filter(|vma| is_data_mapping(vma.data.flags));
        data.map(|vma| vma.len() >> PAGE_SHIFT).sum()
    }

    /// Whether `npages` more pages of a `flags` mapping fit the process's
    /// `RLIMIT_AS` and, for data, `RLIMIT_DATA` (Linux: `may_expand_vm`).
    pub fn may_expand_vm(&self, flags: VmFlags, npages: u64) -> bool {
        let limit_as = rlimit(RLIMIT_AS).cur;
        if limit_as != RLIM_INFINITY && self.total_vm + npages > limit_as >> PAGE_SHIFT {
            return false;
        }
        let data = rlimit(RLIMIT_DATA);
        if data.cur == RLIM_INFINITY || !is_data_mapping(flags) {
            return true;
        }
        let data_vm = self.data_vm() + npages;
        if data_vm <= data.cur >> PAGE_SHIFT {
            return true;
        }
        // Valgrind sets a soft limit of 0 and maps up to the hard one.
        if data.cur == 0 && data_vm <= data.max >> PAGE_SHIFT {
            return true;
        }
        static WARNED: AtomicBool = AtomicBool::new(false);
        if !WARNED.swap(true, Ordering::Relaxed) {
            pr_warn!(
                "mmap: VmData {} exceed data ulimit {}. Update limits or use boot option ignore_rlimit_data.",
                data_vm << PAGE_SHIFT,
                data.cur
            );
        }
        IGNORE_RLIMIT_DATA
    }
}

/// A user address space (Linux: `struct mm_struct`).
pub struct Mm {
    mmap_lock: RwSemaphore<MmLayout>,
    /// Linux: `mm->pgd` under `mm->page_table_lock`.
    page_table: SpinLock<PageTable>,
    /// The PML4 frame, readable without a lock for `switch_mm`.
    pgd: Pfn,
    /// Resident pages (Linux: `MM_ANONPAGES` + `MM_SHMEMPAGES`).
    rss: AtomicU64,
    /// This mm, for the `i_mmap` lists of the files it maps.
    self_ref: Weak<Mm>,
}

/// `mmap_lock` held for reading (Linux: `mmap_read_lock`); the holder
/// may sleep.
pub type MmapReadGuard<'a> = RwSemReadGuard<'a, MmLayout>;

/// `mmap_lock` held for writing; `downgrade` keeps it for reading (Linux:
/// `mmap_write_downgrade`).
pub type MmapWriteGuard<'a> = RwSemWriteGuard<'a, MmLayout>;

impl Mm {
    /// A new, empty address space (Linux: `mm_alloc`).
    pub fn new() -> KResult<Arc<Self>> {
        let pgd = pgd_alloc()?;
        let layout = MmLayout { mmap_base: mmap_base(), ..MmLayout::default() };
        Ok(Arc::new_cyclic(|self_ref| Self {
            pgd: pgd.root(),
            page_table: SpinLock::new(pgd),
            mmap_lock: RwSemaphore::new(layout),
            rss: AtomicU64::new(0),
            self_ref: self_ref.clone(),
        }))
    }

    /// Linux: `mmap_read_lock`; sleeps while a writer holds or waits.
    pub fn mmap_read(&self) -> MmapReadGuard<'_> {
        self.mmap_lock.down_read()
    }

    /// Linux: `mmap_read_trylock`, for a fault that must not sleep.
    pub fn mmap_read_trylock(&self) -> Option<MmapReadGuard<'_>> {
        self.mmap_lock.try_read()
    }

    /// Linux: `mmap_write_lock`; sleeps while anyone holds it.
    pub fn mmap_write(&self) -> MmapWriteGuard<'_> {
        self.mmap_lock.down_write()
    }

    /// The page table, under `page_table_lock`.
    pub fn page_table(&self) -> crate::kernel::locking::spinlock::SpinLockGuard<'_, PageTable> {
        self.page_table.lock()
    }

    /// The top-level table's frame (Linux: `__pa(mm->pgd)`).
    pub fn pgd(&self) -> Pfn {
        self.pgd
    }

    /// A weak reference to this mm, as a file's `i_mmap` keeps it.
    pub fn weak(&self) -> Weak<Mm> {
        self.self_ref.clone()
    }

    /// Linux: `get_mm_rss`.
    pub fn rss(&self) -> u64 {
        self.rss.load(Ordering::Relaxed)
    }

    pub(crate) fn add_rss(&self, delta: i64) {
        if delta >= 0 {
            self.rss.fetch_add(delta.unsigned_abs(), Ordering::Relaxed);
        } else {
            self.rss.fetch_sub(delta.unsigned_abs(), Ordering::Relaxed);
        }
    }

    /// Loads this address space on this CPU (Linux: `activate_mm` at
    /// exec, `switch_mm` at context switch).
    pub fn activate(&self) {
        switch_mm(self);
    }
}

/// The running task's address space (Linux: `current->mm`): `None` for a
/// kernel thread, or before the scheduler runs.
pub fn current_mm() -> Option<Arc<Mm>> {
    crate::kernel::sched::try_current().and_then(|task| task.mm.lock().clone())
}

impl Drop for Mm {
    /// Linux: `exit_mmap` then `pgd_free`.
    fn drop(&mut self) {
        // Linux: `mmput`'s `might_sleep`. Tearing down an address space is
        // long work that will sleep (writeback of shared mappings): never
        // under a spinlock, such as the task's `mm` lock.
        crate::kernel::locking::might_sleep();
        // Never free the tables the CPU is walking: the scheduler keeps
        // the mm it runs on alive, but be safe about the last user.
        if read_cr3().pfn() == self.pgd {
            switch_to_kernel_mm();
        }
        let mut pt = self.page_table.lock();
        let freed = zap_page_range(&mut pt, 0, TASK_SIZE);
        pt.free_user_pgtables();
        drop(pt);
        self.add_rss(-freed);
        crate::mm::page_alloc::free_pages(self.pgd, 0);
    }
}

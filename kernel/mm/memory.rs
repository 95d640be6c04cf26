//! User page faults: demand-zero pages, copy-on-write, stack growth; and
//! taking pages out of a page table.
//!
//! Linux: mm/memory.c (`handle_mm_fault`, `do_anonymous_page`,
//! `do_wp_page`, `do_shared_fault`, `zap_page_range`, `access_remote_vm`),
//! mm/mmap.c (`expand_stack`), mm/memory.c `lock_mm_and_find_vma` (6.5).
//!
//! The course notes' fault handler, in Linux's names:
//! ```text
//! handle_user_fault(mm, addr, flags)          arch code decoded CR2 and the error code
//!   vma = lock_mm_and_find_vma(mm, addr)      none → SIGSEGV/SEGV_MAPERR (grows a stack)
//!   access_error(vma, flags)                  → SIGSEGV/SEGV_ACCERR
//!   handle_mm_fault(mm, vma, addr, flags)
//!     PTE none, file     → do_fault           the page cache's page (mm/filemap.rs)
//!     PTE none, shared   → do_shared_fault    the object's page, writable
//!     PTE none           → do_anonymous_page  zero page for a read, a new page for a write
//!     PTE not present    → swap entry         (swap-in comes later: SIGBUS)
//!     write to read-only → do_wp_page         reuse if last reference, else copy;
//!                                             a shared file page is marked dirty
//!   out of memory        → reclaim, retry     mm/vmscan.rs, with only mmap_lock held
//!     otherwise          → Ok                 another thread got there first
//! ```
//! Every PTE that maps a page holds one reference on it (the shared zero
//! page excepted), so COW's "last reference" is `ref_count() == 1`.
//!
//! # Locking
//! Faults hold `mmap_lock` (a sleeping rwsem) shared and take
//! `page_table_lock` for the PTE work, so two threads faulting on one page
//! serialise there and the second finds the work done. A file fault drops
//! `page_table_lock` while it gets the page, which may sleep for I/O, and
//! retakes it to install (mm/filemap.rs). Stack growth upgrades to
//! `mmap_lock` exclusive (drop, relock, recheck), as Linux 6.5 does.
//! A fault where sleeping is a bug (a user copy under a spinlock or with
//! interrupts off, which the lock rules forbid) is reported once and only
//! tries `mmap_lock` (Linux refuses it outright: `faulthandler_disabled`).
#![deny(unsafe_code)]

use bitflags::bitflags;
use linux_raw_sys::general::{SEGV_ACCERR, SEGV_MAPERR};
use spin::Once;

use crate::arch::mm::pgtable_types::{Pte, PteFlags};
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, Pfn, VirtAddr};
use crate::mm::filemap::{do_fault, fault_dirty_shared_page, is_pagecache_page};
use crate::mm::highmem::{copy_highpage, memcpy_from_page, memcpy_to_page};
use crate::mm::mm_types::{MMAP_MIN_ADDR, Mm, MmLayout, MmapReadGuard};
use crate::mm::page::pfn_to_page;
use crate::mm::page_alloc::{BuddyPgtableAlloc, alloc_pages, clear_pages, free_pages};
use crate::mm::page_table::PageTable;
use crate::mm::vm_event::{VmEventItem, count_vm_event};
use crate::mm::vma::{STACK_GUARD_GAP, VmFlags, Vma, linear_page_index};
use crate::mm::vmscan::SWAP_CLUSTER_MAX;
use crate::pr_warn;

bitflags! {
    /// What kind of access faulted (Linux: `FAULT_FLAG_*`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct FaultFlags: u32 {
        const WRITE = 1 << 0;
        /// An instruction fetch.
        const INSTRUCTION = 1 << 1;
        /// From user mode.
        const USER = 1 << 2;
        /// The kernel on a process's behalf, allowed to write private
        /// read-only memory by copying it (Linux: `FOLL_FORCE`, for exec,
        /// ptrace and /proc/PID/mem).
        const FORCE = 1 << 3;
    }
}

/// Why a fault could not be resolved (Linux: `vm_fault_t`'s error bits);
/// the arch code turns it into a signal or an exception fixup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmFault {
    /// SIGSEGV with `si_code` `SEGV_MAPERR` (nothing mapped) or
    /// `SEGV_ACCERR` (mapped, but not for this access).
    Sigsegv { code: u32 },
    /// SIGBUS: a page that cannot be brought in (a swap entry, for now).
    Sigbus,
    /// No memory for a page or a page table (Linux: `VM_FAULT_OOM`).
    Oom,
}

/// How a fault that succeeded was resolved (Linux: the `VM_FAULT_MAJOR`
/// bit of `vm_fault_t`): a major fault waited for the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    Minor,
    Major,
}

const MAPERR: VmFault = VmFault::Sigsegv { code: SEGV_MAPERR };
const ACCERR: VmFault = VmFault::Sigsegv { code: SEGV_ACCERR };

static ZERO_PFN: Once<Pfn> = Once::new();

/// The shared, always-zero page that read faults on fresh anonymous
/// memory map read-only (Linux: `ZERO_PAGE(0)`, `my_zero_pfn`).
pub fn zero_pfn() -> Option<Pfn> {
    ZERO_PFN
        .try_call_once(|| {
            let pfn = alloc_pages(0)?;
            clear_pages(pfn, 0);
            Ok::<Pfn, Errno>(pfn)
        })
        .ok()
        .copied()
}

/// Linux: `is_zero_pfn`.
pub fn is_zero_pfn(pfn: Pfn) -> bool {
    ZERO_PFN.get() == Some(&pfn)
}

/// Drops a PTE's reference on a page, freeing it with the last (Linux:
/// `put_page`). The zero page is never freed.
pub fn put_page(pfn: Pfn) {
    if is_zero_pfn(pfn) {
        return;
    }
    if pfn_to_page(pfn).is_some_and(|page| page.put_testzero()) {
        free_pages(pfn, 0);
    }
}

/// Resolves a user page fault at `addr` in `mm`: the arch-independent half
/// of Linux's `do_user_addr_fault`.
pub fn handle_user_fault(mm: &Mm, addr: u64, flags: FaultFlags) -> Result<(), VmFault> {
    let layout = if faulthandler_disabled(addr) {
        mm.mmap_read_trylock().ok_or(MAPERR)? // and no stack growth
    } else {
        lock_mm_and_find_vma(mm, addr)?
    };
    let vma = layout.vmas.lookup(addr).ok_or(MAPERR)?;
    access_error(vma, flags)?;
    let resolved = match handle_mm_fault(mm, vma, addr, flags) {
        // The page was wanted under `page_table_lock`, where the
        // allocator may not reclaim (Linux allocates it before taking the
        // PTE lock): reclaim here, with only `mmap_lock` held, and retry.
        Err(VmFault::Oom) if crate::mm::vmscan::try_to_free_pages(SWAP_CLUSTER_MAX) > 0 => {
            handle_mm_fault(mm, vma, addr, flags)
        }
        result => result,
    }?;
    mm_account_fault(resolved);
    Ok(())
}

/// Charges a resolved fault to the task that took it: `min_flt` or
/// `maj_flt`, which /proc/PID/stat and getrusage(2) show (Linux:
/// `mm_account_fault`; failed faults are not counted).
fn mm_account_fault(resolved: Resolved) {
    let Some(task) = crate::kernel::sched::try_current() else { return };
    let counter = match resolved {
        Resolved::Minor => &task.min_flt,
        Resolved::Major => &task.maj_flt,
    };
    counter.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
}

/// Whether this fault runs where it must not sleep: under a spinlock
/// (preemption off), with interrupts off, or in an interrupt handler
/// (Linux: `faulthandler_disabled`). Reported once, with a backtrace.
fn faulthandler_disabled(addr: u64) -> bool {
    use core::sync::atomic::{AtomicBool, Ordering};
    static WARNED: AtomicBool = AtomicBool::new(false);
    let count = crate::arch::percpu::this_cpu().preempt_count();
    if count == 0 && !crate::arch::irqflags::irqs_disabled() {
        return false;
    }
    if !WARNED.swap(true, Ordering::Relaxed) {
        crate::pr_err!(
            "BUG: page fault at {addr:#x} in atomic context (preempt_count {count:#x}, irqs {})",
            if crate::arch::irqflags::irqs_disabled() { "off" } else { "on" }
        );
        crate::arch::dumpstack::dump_stack();
    }
    true
}

/// Takes `mmap_lock` shared and makes sure a VMA covers `addr`, growing a
/// stack down to it if it lies just below one (Linux:
/// `lock_mm_and_find_vma`).
pub fn lock_mm_and_find_vma(mm: &Mm, addr: u64) -> Result<MmapReadGuard<'_>, VmFault> {
    let layout = mm.mmap_read();
    match layout.vmas.find(addr) {
        Some(vma) if vma.start <= addr => return Ok(layout),
        Some(vma) if vma.flags.contains(VmFlags::GROWSDOWN) => {}
        _ => return Err(MAPERR),
    }
    drop(layout);
    let mut layout = mm.mmap_write();
    expand_stack(&mut layout, addr).map_err(|_| MAPERR)?;
    Ok(layout.downgrade())
}

/// Grows the stack VMA above `addr` down to cover it, within the stack
/// rlimit and keeping the guard gap to the area below (Linux:
/// `expand_downwards`, `acct_stack_growth`).
pub fn expand_stack(layout: &mut MmLayout, addr: u64) -> KResult<()> {
    let addr = addr & !(PAGE_SIZE as u64 - 1);
    let vma = layout.vmas.find(addr).ok_or(Errno::ENOMEM)?;
    if vma.start <= addr {
        return Ok(()); // another thread grew it meanwhile
    }
    if !vma.flags.contains(VmFlags::GROWSDOWN) || addr < MMAP_MIN_ADDR {
        return Err(Errno::ENOMEM);
    }
    // The process's own limit, as setrlimit left it (Linux:
    // `acct_stack_growth`'s `rlimit(RLIMIT_STACK)`).
    let limit =
        crate::kernel::sched::current().rlimit(linux_raw_sys::general::RLIMIT_STACK as usize);
    if vma.end - addr > limit.cur {
        return Err(Errno::ENOMEM);
    }
    let start = vma.start;
    // Stack pages count against RLIMIT_AS like any mapping (Linux:
    // `acct_stack_growth`'s `may_expand_vm`).
    if !layout.may_expand_vm(vma.flags, (start - addr) / PAGE_SIZE as u64) {
        return Err(Errno::ENOMEM);
    }
    if let Some(prev) = layout.vmas.prev(start)
        && prev.end.saturating_add(STACK_GUARD_GAP) > addr
        && prev.is_accessible()
    {
        return Err(Errno::ENOMEM);
    }
    let mut vma = layout.vmas.remove(start).ok_or(Errno::ENOMEM)?;
    layout.total_vm += (start - addr) / PAGE_SIZE as u64;
    vma.start = addr;
    layout.vmas.insert(vma).map_err(|_| Errno::ENOMEM)
}

/// Whether the VMA allows this access (Linux: `access_error`; x86 cannot
/// express write-only or execute-only pages, so any access bit allows a
/// read).
pub fn access_error(vma: &Vma, flags: FaultFlags) -> Result<(), VmFault> {
    let ok = if flags.contains(FaultFlags::FORCE) {
        vma.is_accessible() || vma.flags.contains(VmFlags::MAYREAD)
    } else if flags.contains(FaultFlags::WRITE) {
        vma.flags.contains(VmFlags::WRITE)
    } else if flags.contains(FaultFlags::INSTRUCTION) {
        vma.flags.contains(VmFlags::EXEC)
    } else {
        vma.is_accessible()
    };
    if ok { Ok(()) } else { Err(ACCERR) }
}

/// Resolves a fault at `addr` inside `vma`, whose access has been checked
/// (Linux: `handle_mm_fault`). Holds `page_table_lock` throughout, but for
/// a file page, which `do_fault` gets without it.
pub fn handle_mm_fault(
    mm: &Mm,
    vma: &Vma,
    addr: u64,
    flags: FaultFlags,
) -> Result<Resolved, VmFault> {
    count_vm_event(VmEventItem::PgFault);
    if vma.flags.contains(VmFlags::PFNMAP) {
        return crate::mm::pfnmap::do_pfn_fault(mm, vma, addr, flags).map(|()| Resolved::Minor);
    }
    let va = VirtAddr::new(addr & !(PAGE_SIZE as u64 - 1));
    let mut pt = mm.page_table();
    let pte = pt.get_pte(va);
    let write = flags.contains(FaultFlags::WRITE);
    let minor = |result: Result<(), VmFault>| result.map(|()| Resolved::Minor);
    if pte.is_none() {
        if vma.file.is_some() {
            do_fault(mm, pt, vma, va, write)
        } else if vma.shmem.is_some() {
            minor(do_shared_fault(mm, &mut pt, vma, va))
        } else {
            minor(do_anonymous_page(mm, &mut pt, vma, va, write))
        }
    } else if !pte.is_present() {
        // A swap entry: do_swap_page arrives with swap.
        pr_warn!("handle_mm_fault: swap entry {:#x} at {:#x}, no swap yet", pte.raw(), va.as_u64());
        Err(VmFault::Sigbus)
    } else if write && !pte.flags().contains(PteFlags::RW) {
        let result = do_wp_page(mm, &mut pt, vma, va, pte);
        drop(pt);
        if result.is_ok() && vma.flags.contains(VmFlags::SHARED) {
            fault_dirty_shared_page(vma, va);
        }
        minor(result)
    } else {
        Ok(Resolved::Minor) // another thread resolved it first
    }
}

pub(crate) fn install(pt: &mut PageTable, va: VirtAddr, pte: Pte) -> Result<(), VmFault> {
    pt.set_pte(va, pte, &mut BuddyPgtableAlloc).map_err(|_| VmFault::Oom)
}

/// The PTE bits for a page this fault makes writable, if the VMA allows.
pub(crate) fn mkwrite(vma: &Vma) -> PteFlags {
    let mut prot = vma.page_prot() | PteFlags::DIRTY;
    if vma.flags.contains(VmFlags::WRITE) {
        prot |= PteFlags::RW;
    }
    prot
}

/// First touch of private anonymous memory: a read maps the zero page, a
/// write a new zeroed page (Linux: `do_anonymous_page`).
fn do_anonymous_page(
    mm: &Mm,
    pt: &mut PageTable,
    vma: &Vma,
    va: VirtAddr,
    write: bool,
) -> Result<(), VmFault> {
    if !write && let Some(zero) = zero_pfn() {
        return install(pt, va, Pte::new(zero, vma.page_prot() - PteFlags::RW));
    }
    let pfn = alloc_pages(0).map_err(|_| VmFault::Oom)?;
    clear_pages(pfn, 0);
    if let Err(e) = install(pt, va, Pte::new(pfn, mkwrite(vma))) {
        free_pages(pfn, 0);
        return Err(e);
    }
    mm.add_rss(1);
    Ok(())
}

/// First touch of shared anonymous memory: the object's page (Linux:
/// `do_shared_fault` via `shmem_fault`).
fn do_shared_fault(mm: &Mm, pt: &mut PageTable, vma: &Vma, va: VirtAddr) -> Result<(), VmFault> {
    let shmem = vma.shmem.as_ref().ok_or(VmFault::Sigbus)?;
    let pfn = shmem.get_page(linear_page_index(vma, va.as_u64())).map_err(|_| VmFault::Oom)?;
    if let Err(e) = install(pt, va, Pte::new(pfn, vma.page_prot())) {
        put_page(pfn);
        return Err(e);
    }
    mm.add_rss(1);
    Ok(())
}

/// A write to a present read-only page (Linux: `do_wp_page`): a shared
/// mapping just becomes writable; a private page this PTE alone holds is
/// reused in place (`wp_page_reuse`), unless it is a file's cache page;
/// otherwise it is copied (`wp_page_copy`) and this PTE's reference on
/// the old page dropped.
pub fn do_wp_page(
    mm: &Mm,
    pt: &mut PageTable,
    vma: &Vma,
    va: VirtAddr,
    pte: Pte,
) -> Result<(), VmFault> {
    let old = pte.pfn();
    if vma.flags.contains(VmFlags::SHARED) {
        if !vma.flags.contains(VmFlags::WRITE) {
            return Err(ACCERR);
        }
        return install(pt, va, Pte::new(old, mkwrite(vma)));
    }
    let zero = is_zero_pfn(old);
    if !zero
        && pfn_to_page(old).is_some_and(|p| p.ref_count() == 1)
        && !is_pagecache_page(vma, va.as_u64(), old)
    {
        count_vm_event(VmEventItem::PgReuse);
        return install(pt, va, Pte::new(old, mkwrite(vma)));
    }
    let new = alloc_pages(0).map_err(|_| VmFault::Oom)?;
    if zero {
        clear_pages(new, 0);
    } else {
        copy_highpage(new, old);
    }
    if let Err(e) = install(pt, va, Pte::new(new, mkwrite(vma))) {
        free_pages(new, 0);
        return Err(e);
    }
    if zero {
        mm.add_rss(1);
    } else {
        put_page(old);
    }
    Ok(())
}

/// Clears every PTE in `[start, end)` and drops the page references they
/// held (Linux: `zap_page_range`, `zap_pte_range`). Returns how many
/// resident pages were unmapped, for the rss counter.
pub fn zap_page_range(pt: &mut PageTable, start: u64, end: u64) -> i64 {
    let mut freed = 0;
    pt.update_range(start, end, &mut |_, pte| {
        // A PFNMAP frame holds no reference (mm/pfnmap.rs).
        if pte.is_present() && !pte.flags().contains(PteFlags::SPECIAL) {
            if !is_zero_pfn(pte.pfn()) {
                freed += 1;
            }
            put_page(pte.pfn());
        }
        // A swap entry would free its slot here (Linux: `free_swap_and_cache`).
        Some(Pte::NONE)
    });
    freed
}

/// The frame mapped at `va` if it can be accessed as asked without a
/// fault: present, and for a write either writable or (forced) ours alone.
fn follow_page(pt: &PageTable, va: VirtAddr, write: bool) -> Option<Pfn> {
    let pte = pt.get_pte(va);
    if !pte.is_present() {
        return None;
    }
    let pfn = pte.pfn();
    let exclusive = !is_zero_pfn(pfn) && pfn_to_page(pfn).is_some_and(|p| p.ref_count() == 1);
    (!write || pte.flags().contains(PteFlags::RW) || exclusive).then_some(pfn)
}

/// Reads or writes another address space's memory through its page
/// tables, faulting pages in with `FOLL_FORCE` rights (Linux:
/// `access_remote_vm`). `EFAULT` where nothing is mapped.
fn access_remote_vm(
    mm: &Mm,
    addr: u64,
    len: usize,
    write: bool,
    copy: &mut dyn FnMut(Pfn, usize, usize, usize),
) -> KResult<()> {
    let mut done = 0;
    while done < len {
        let at = addr.checked_add(done as u64).ok_or(Errno::EFAULT)?;
        let offset = usize::try_from(at % PAGE_SIZE as u64).map_err(|_| Errno::EFAULT)?;
        let chunk = (PAGE_SIZE - offset).min(len - done);
        let va = VirtAddr::new(at - offset as u64);
        let mut flags = FaultFlags::FORCE;
        flags.set(FaultFlags::WRITE, write);
        let layout = lock_mm_and_find_vma(mm, at).map_err(|_| Errno::EFAULT)?;
        let vma = layout.vmas.lookup(at).ok_or(Errno::EFAULT)?;
        access_error(vma, flags).map_err(|_| Errno::EFAULT)?;
        // Linux: `get_user_pages` refuses device memory (`VM_IO | VM_PFNMAP`).
        if vma.flags.intersects(VmFlags::IO | VmFlags::PFNMAP) {
            return Err(Errno::EFAULT);
        }
        let mut tries = 0;
        loop {
            // The copy runs under page_table_lock so a concurrent COW
            // cannot move the page away in between.
            if let Some(pfn) = follow_page(&mm.page_table(), va, write) {
                copy(pfn, offset, done, chunk);
                break;
            }
            tries += 1;
            if tries > 3 {
                return Err(Errno::EFAULT);
            }
            handle_mm_fault(mm, vma, at, flags).map_err(|f| match f {
                VmFault::Oom => Errno::ENOMEM,
                _ => Errno::EFAULT,
            })?;
        }
        done += chunk;
    }
    Ok(())
}

impl Mm {
    /// Copies `data` into this address space at `addr`, even into
    /// read-only private memory (exec writing segments and the stack;
    /// ptrace). Linux: `access_remote_vm(…, FOLL_WRITE | FOLL_FORCE)`.
    pub fn write_remote(&self, addr: u64, data: &[u8]) -> KResult<()> {
        access_remote_vm(self, addr, data.len(), true, &mut |pfn, off, done, n| {
            memcpy_to_page(pfn, off, &data[done..done + n]);
        })
    }

    /// Copies from this address space at `addr` into `buf` (Linux:
    /// `access_remote_vm(…, FOLL_FORCE)`, as /proc/PID/cmdline reads).
    pub fn read_remote(&self, addr: u64, buf: &mut [u8]) -> KResult<()> {
        access_remote_vm(self, addr, buf.len(), false, &mut |pfn, off, done, n| {
            memcpy_from_page(pfn, off, &mut buf[done..done + n]);
        })
    }
}

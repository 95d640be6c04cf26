//! Creating and removing mappings: `mmap`, `munmap`, `brk`.
//!
//! Linux: mm/mmap.c (`do_mmap`, `get_unmapped_area`, `mmap_region`,
//! `do_munmap`, `sys_brk`, `do_brk_flags`), mm/util.c (`vm_mmap_pgoff`),
//! arch/x86/kernel/sys_x86_64.c (`arch_get_unmapped_area_topdown`).
//!
//! Each operation takes an `&Mm`, so the syscall wrappers only decode
//! arguments and pass `current`'s mm. Only anonymous memory exists yet:
//! a file mapping gives `ENODEV` until the page cache arrives. Checks
//! follow Linux 6.1, including what it does *not* check: unknown `flags`
//! bits and unknown `prot` bits are ignored by `mmap` (only
//! `MAP_SHARED_VALIDATE` with a file rejects flags, and `mprotect`
//! rejects prot bits).
//!
//! # Locking
//! `mmap_lock` exclusive around every change of the VMA tree, then
//! `page_table_lock` to drop the PTEs of what is unmapped.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use bitflags::bitflags;
use linux_raw_sys::general as g;

use crate::fs::file_table::FMode;
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, page_align};
use crate::mm::memory::{FaultFlags, handle_user_fault, zap_page_range};
use crate::mm::mm_types::{MAX_MAP_COUNT, MMAP_MIN_ADDR, Mm, MmLayout, TASK_SIZE, current_mm};
use crate::mm::vma::{AnonShmem, VmFlags, Vma, VmaData};

bitflags! {
    /// `mmap`/`mprotect` protection (Linux: `PROT_*`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Prot: u32 {
        const READ = g::PROT_READ;
        const WRITE = g::PROT_WRITE;
        const EXEC = g::PROT_EXEC;
        const SEM = g::PROT_SEM;
        const GROWSDOWN = g::PROT_GROWSDOWN;
        const GROWSUP = g::PROT_GROWSUP;
    }

    /// `mmap` flags (Linux: `MAP_*`); decode with `from_bits_retain`,
    /// since Linux ignores bits it does not know.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct MapFlags: u32 {
        const SHARED = g::MAP_SHARED;
        const PRIVATE = g::MAP_PRIVATE;
        const SHARED_VALIDATE = g::MAP_SHARED_VALIDATE;
        const TYPE = g::MAP_TYPE;
        const FIXED = g::MAP_FIXED;
        const ANONYMOUS = g::MAP_ANONYMOUS;
        const GROWSDOWN = g::MAP_GROWSDOWN;
        const DENYWRITE = g::MAP_DENYWRITE;
        const EXECUTABLE = g::MAP_EXECUTABLE;
        const LOCKED = g::MAP_LOCKED;
        const NORESERVE = g::MAP_NORESERVE;
        const POPULATE = g::MAP_POPULATE;
        const NONBLOCK = g::MAP_NONBLOCK;
        const STACK = g::MAP_STACK;
        const HUGETLB = g::MAP_HUGETLB;
        const FIXED_NOREPLACE = g::MAP_FIXED_NOREPLACE;
        const _ = !0;
    }
}

const PAGE: u64 = PAGE_SIZE as u64;

/// The VMA bits of `prot` (Linux: `calc_vm_prot_bits`).
pub fn calc_vm_prot_bits(prot: Prot) -> VmFlags {
    let mut flags = VmFlags::empty();
    flags.set(VmFlags::READ, prot.contains(Prot::READ));
    flags.set(VmFlags::WRITE, prot.contains(Prot::WRITE));
    flags.set(VmFlags::EXEC, prot.contains(Prot::EXEC));
    flags
}

/// Maps `len` bytes of anonymous memory and returns the address (Linux:
/// `do_mmap` with `vm_mmap_pgoff`'s locking and `MAP_POPULATE`).
pub fn do_mmap(
    mm: &Mm,
    addr: u64,
    len: u64,
    prot: Prot,
    flags: MapFlags,
    pgoff: u64,
) -> KResult<u64> {
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let mut flags = flags;
    let mut addr = addr;
    if !flags.contains(MapFlags::FIXED) {
        addr = round_hint_to_min(addr);
    }
    let len = page_align(len).ok_or(Errno::ENOMEM)?;
    if pgoff.checked_add(len / PAGE).is_none() {
        return Err(Errno::EOVERFLOW);
    }
    if flags.contains(MapFlags::FIXED_NOREPLACE) {
        flags |= MapFlags::FIXED;
    }
    let mut vm_flags = calc_vm_prot_bits(prot) | VmFlags::MAY_ALL;
    if flags.contains(MapFlags::GROWSDOWN) {
        vm_flags |= VmFlags::GROWSDOWN;
    }
    if !flags.contains(MapFlags::ANONYMOUS) {
        // File mappings need the page cache (Linux: a file without `mmap`).
        return Err(Errno::ENODEV);
    }
    match flags.bits() & g::MAP_TYPE {
        g::MAP_SHARED if vm_flags.contains(VmFlags::GROWSDOWN) => return Err(Errno::EINVAL),
        g::MAP_SHARED => vm_flags |= VmFlags::SHARED | VmFlags::MAYSHARE,
        g::MAP_PRIVATE => {}
        _ => return Err(Errno::EINVAL),
    }
    let start = {
        let mut layout = mm.mmap_write();
        if layout.vmas.len() >= MAX_MAP_COUNT {
            return Err(Errno::ENOMEM);
        }
        let start = get_unmapped_area(&layout, addr, len, flags)?;
        if flags.contains(MapFlags::FIXED_NOREPLACE)
            && layout.vmas.find_intersection(start, start + len).is_some()
        {
            return Err(Errno::EEXIST);
        }
        mmap_region(mm, &mut layout, start, len, vm_flags)?;
        start
    };
    if flags.contains(MapFlags::POPULATE) {
        mm_populate(mm, start, len, vm_flags);
    }
    Ok(start)
}

/// Linux: `round_hint_to_min`.
fn round_hint_to_min(hint: u64) -> u64 {
    let hint = hint & !(PAGE - 1);
    if hint != 0 && hint < MMAP_MIN_ADDR { MMAP_MIN_ADDR } else { hint }
}

/// Chooses where `len` bytes go (Linux: `get_unmapped_area` and
/// `arch_get_unmapped_area_topdown`): `MAP_FIXED` takes `addr` as given,
/// a free hint is honoured, otherwise the highest gap below `mmap_base`,
/// then the lowest above a third of the address space.
pub fn get_unmapped_area(layout: &MmLayout, addr: u64, len: u64, flags: MapFlags) -> KResult<u64> {
    if len > TASK_SIZE {
        return Err(Errno::ENOMEM);
    }
    if flags.contains(MapFlags::FIXED) {
        if addr > TASK_SIZE - len {
            return Err(Errno::ENOMEM);
        }
        if !addr.is_multiple_of(PAGE) {
            return Err(Errno::EINVAL);
        }
        return Ok(addr);
    }
    let vmas = &layout.vmas;
    if addr != 0
        && addr <= TASK_SIZE - len
        && vmas.is_free(addr, addr + len)
        && gap_above_prev_ok(layout, addr)
    {
        return Ok(addr);
    }
    let low = MMAP_MIN_ADDR.max(PAGE);
    vmas.unmapped_area_topdown(len, low, layout.mmap_base, PAGE)
        .or_else(|| vmas.unmapped_area(len, (TASK_SIZE / 3) & !(PAGE - 1), TASK_SIZE, PAGE))
        .ok_or(Errno::ENOMEM)
}

/// The area below `addr` does not reach it (its end gap is zero on x86).
fn gap_above_prev_ok(layout: &MmLayout, addr: u64) -> bool {
    layout.vmas.prev(addr).is_none_or(|prev| prev.end <= addr)
}

/// Replaces whatever is in `[start, start + len)` by a new anonymous VMA
/// and merges it with compatible neighbours (Linux: `mmap_region`).
fn mmap_region(
    mm: &Mm,
    layout: &mut MmLayout,
    start: u64,
    len: u64,
    vm_flags: VmFlags,
) -> KResult<()> {
    unmap_vmas(mm, layout, start, start + len);
    let mut data = VmaData::anonymous(vm_flags);
    if vm_flags.contains(VmFlags::SHARED) {
        data.shmem = Some(AnonShmem::new());
    }
    layout.vmas.insert(Vma { start, end: start + len, data }).map_err(|_| Errno::ENOMEM)?;
    layout.vmas.merge_around(start);
    layout.total_vm += len / PAGE;
    Ok(())
}

/// Faults in every page of a new mapping (Linux: `mm_populate`); a
/// failure leaves the rest to demand paging, as Linux ignores it too.
fn mm_populate(mm: &Mm, start: u64, len: u64, vm_flags: VmFlags) {
    let mut flags = FaultFlags::empty();
    flags.set(FaultFlags::WRITE, vm_flags.contains(VmFlags::WRITE));
    for addr in (start..start + len).step_by(PAGE_SIZE) {
        if handle_user_fault(mm, addr, flags).is_err() {
            break;
        }
    }
}

/// Removes `[start, end)` from the tree and the page table (Linux: the
/// heart of `do_vmi_munmap`). The caller holds `mmap_lock` exclusive.
fn unmap_vmas(mm: &Mm, layout: &mut MmLayout, start: u64, end: u64) {
    let removed: Vec<Vma> = layout.vmas.remove_range(start, end);
    if removed.is_empty() {
        return;
    }
    let mut pt = mm.page_table();
    let mut freed = 0;
    for vma in &removed {
        freed += zap_page_range(&mut pt, vma.start, vma.end);
        layout.total_vm -= vma.len() / PAGE;
    }
    drop(pt);
    mm.add_rss(-freed);
    // Empty page tables stay until exit (Linux's `free_pgtables` here).
}

/// Unmaps `[start, start + len)` (Linux: `do_munmap`). Unmapping nothing
/// is not an error.
pub fn do_munmap(mm: &Mm, start: u64, len: u64) -> KResult<()> {
    if !start.is_multiple_of(PAGE) || start > TASK_SIZE {
        return Err(Errno::EINVAL);
    }
    let len = page_align(len).ok_or(Errno::EINVAL)?;
    if len == 0 || len > TASK_SIZE - start {
        return Err(Errno::EINVAL);
    }
    let mut layout = mm.mmap_write();
    unmap_vmas(mm, &mut layout, start, start + len);
    Ok(())
}

/// Sets the program break (Linux: `sys_brk`): returns the new break, or
/// the old one when the request is refused. Growth maps page-granular
/// anonymous memory after the current break, keeping a page free below
/// the next mapping; shrinking unmaps and frees.
pub fn do_brk(mm: &Mm, brk: u64) -> u64 {
    let mut layout = mm.mmap_write();
    let origbrk = layout.brk;
    if brk < layout.start_brk || brk > TASK_SIZE {
        return origbrk;
    }
    let (Some(newbrk), Some(oldbrk)) = (page_align(brk), page_align(origbrk)) else {
        return origbrk;
    };
    if newbrk == oldbrk {
        layout.brk = brk;
        return brk;
    }
    if brk <= origbrk {
        unmap_vmas(mm, &mut layout, newbrk, oldbrk);
        layout.brk = brk;
        return brk;
    }
    if let Some(next) = layout.vmas.find(oldbrk)
        && newbrk + PAGE > next.start.saturating_sub(vma_tree::AreaData::guard_gap(&next.data))
    {
        return origbrk;
    }
    let data = VmaData::anonymous(VmFlags::DATA_DEFAULT);
    if layout.vmas.insert(Vma { start: oldbrk, end: newbrk, data }).is_err() {
        return origbrk;
    }
    layout.vmas.merge_around(oldbrk);
    layout.total_vm += (newbrk - oldbrk) / PAGE;
    layout.brk = brk;
    brk
}

/// The flags `MAP_SHARED_VALIDATE` accepts for any file (Linux:
/// `LEGACY_MAP_MASK`); others need the file's `mmap_supported_flags`.
const LEGACY_MAP_MASK: u32 = g::MAP_SHARED
    | g::MAP_PRIVATE
    | g::MAP_FIXED
    | g::MAP_ANONYMOUS
    | g::MAP_DENYWRITE
    | g::MAP_EXECUTABLE
    | g::MAP_UNINITIALIZED
    | g::MAP_GROWSDOWN
    | g::MAP_LOCKED
    | g::MAP_NORESERVE
    | g::MAP_POPULATE
    | g::MAP_NONBLOCK
    | g::MAP_STACK
    | g::MAP_HUGETLB
    | (g::MAP_HUGE_MASK << g::MAP_HUGE_SHIFT);

/// The running task's mm; a kernel thread has none to map into.
fn mm_of_current() -> KResult<Arc<Mm>> {
    current_mm().ok_or(Errno::ENOMEM)
}

/// A file mapping: the descriptor is checked as Linux does, then refused
/// with `ENODEV` (no file has an `mmap` operation until the page cache
/// can back one).
fn mmap_file(fd: i32, flags: MapFlags, prot: Prot) -> KResult<i64> {
    let files = crate::kernel::sched::current().files.lock().clone().ok_or(Errno::EBADF)?;
    let file = files.get(fd)?;
    match flags.bits() & g::MAP_TYPE {
        g::MAP_SHARED_VALIDATE if flags.bits() & !LEGACY_MAP_MASK != 0 => {
            return Err(Errno::EOPNOTSUPP);
        }
        g::MAP_SHARED | g::MAP_SHARED_VALIDATE
            if prot.contains(Prot::WRITE) && !file.f_mode.contains(FMode::WRITE) =>
        {
            return Err(Errno::EACCES);
        }
        g::MAP_SHARED | g::MAP_SHARED_VALIDATE | g::MAP_PRIVATE => {}
        _ => return Err(Errno::EINVAL),
    }
    if !file.f_mode.contains(FMode::READ) {
        return Err(Errno::EACCES);
    }
    Err(Errno::ENODEV)
}

/// mmap(2) (Linux: arch/x86's `sys_mmap`, then `ksys_mmap_pgoff`).
/// Unknown `prot` and `flags` bits are ignored, as Linux does.
pub fn sys_mmap(addr: u64, len: u64, prot: u32, flags: u32, fd: i32, off: u64) -> KResult<i64> {
    if !off.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let (prot, flags) = (Prot::from_bits_retain(prot), MapFlags::from_bits_retain(flags));
    if !flags.contains(MapFlags::ANONYMOUS) {
        return mmap_file(fd, flags, prot);
    }
    let mm = mm_of_current()?;
    let start = do_mmap(&mm, addr, len, prot, flags, off / PAGE)?;
    // User addresses are below 2^47.
    i64::try_from(start).map_err(|_| Errno::ENOMEM)
}

/// munmap(2).
pub fn sys_munmap(addr: u64, len: u64) -> KResult<()> {
    let mm = mm_of_current()?;
    do_munmap(&mm, addr, len)
}

/// brk(2): the new break, or the unchanged one if the request is refused
/// (Linux's raw syscall never fails; libc's `brk` compares).
pub fn sys_brk(brk: u64) -> KResult<i64> {
    let mm = mm_of_current()?;
    i64::try_from(do_brk(&mm, brk)).map_err(|_| Errno::ENOMEM)
}

//! Creating and removing mappings: `mmap`, `munmap`, `brk`.
//!
//! Linux: mm/mmap.c (`do_mmap`, `get_unmapped_area`, `mmap_region`,
//! `do_munmap`, `sys_brk`, `do_brk_flags`), mm/util.c (`vm_mmap_pgoff`),
//! arch/x86/kernel/sys_x86_64.c (`arch_get_unmapped_area_topdown`).
//!
//! Each operation takes an `&Mm`, so the syscall wrappers only decode
//! arguments and pass `current`'s mm. A file mapping keeps the open file
//! in its VMA and maps the file's page cache (mm/filemap.rs); a file
//! without one asks its `FileOps::mmap` (`/dev/mem`: mm/pfnmap.rs), which
//! for most (pipes, directories) is `ENODEV`. Checks
//! follow Linux 6.1, including what it does *not* check: unknown `flags`
//! bits and unknown `prot` bits are ignored by `mmap` (only
//! `MAP_SHARED_VALIDATE` with a file rejects flags, and `mprotect`
//! rejects prot bits). New mappings and heap growth stay within
//! `RLIMIT_AS` and, for private writable memory, `RLIMIT_DATA`
//! (`may_expand_vm` in mm_types.rs).
//!
//! # Locking
//! `mmap_lock` exclusive around every change of the VMA tree, then
//! `page_table_lock` to drop the PTEs of what is unmapped.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use bitflags::bitflags;
use linux_raw_sys::general as g;

use crate::fs::file_table::{FMode, File};
use crate::fs::pagecache::inode_mapping;
use crate::fs::read_write::MAX_LFS_FILESIZE;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::resource::RLIM_INFINITY;
use crate::mm::addr::{PAGE_SIZE, page_align};
use crate::mm::memory::{FaultFlags, handle_user_fault, zap_page_range};
use crate::mm::mm_types::{
    MAX_MAP_COUNT, MMAP_MIN_ADDR, Mm, MmLayout, TASK_SIZE, current_mm, rlimit,
};
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
    do_mmap_pgoff(mm, None, addr, len, prot, flags, pgoff)
}

/// Maps `len` bytes of `file` from page `pgoff` on (`None`: anonymous
/// memory, whatever `MAP_ANONYMOUS` says) and returns the address (Linux:
/// `do_mmap` with `vm_mmap_pgoff`'s locking and `MAP_POPULATE`).
pub fn do_mmap_pgoff(
    mm: &Mm,
    file: Option<&Arc<File>>,
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
    // Replaced areas are dropped after `mmap_lock`: the last reference to
    // a file runs its release (Linux defers that `fput` too).
    let mut removed = Vec::new();
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
        let data = match file {
            Some(file) => {
                mmap_file_flags(file, len, pgoff, prot, flags, &mut vm_flags)?;
                VmaData::file(vm_flags, file.clone(), pgoff)
            }
            None => {
                mmap_anon_flags(flags, &mut vm_flags)?;
                VmaData::anonymous(vm_flags)
            }
        };
        mmap_region(mm, &mut layout, start, len, data, &mut removed)?;
        start
    };
    drop(removed);
    if flags.contains(MapFlags::POPULATE) {
        mm_populate(mm, start, len, vm_flags);
    }
    Ok(start)
}

/// The VMA flags of an anonymous mapping (Linux: `do_mmap`'s `else`).
fn mmap_anon_flags(flags: MapFlags, vm_flags: &mut VmFlags) -> KResult<()> {
    match flags.bits() & g::MAP_TYPE {
        g::MAP_SHARED if vm_flags.contains(VmFlags::GROWSDOWN) => Err(Errno::EINVAL),
        g::MAP_SHARED => {
            *vm_flags |= VmFlags::SHARED | VmFlags::MAYSHARE;
            Ok(())
        }
        g::MAP_PRIVATE => Ok(()),
        _ => Err(Errno::EINVAL),
    }
}

/// Checks a file mapping against the open file and sets its VMA flags
/// (Linux: `file_mmap_ok` and `do_mmap`'s `if (file)` arm). A shared
/// mapping of a file not open for writing can never become writable: it
/// loses `VM_MAYWRITE` and `VM_SHARED`, as Linux does.
fn mmap_file_flags(
    file: &File,
    len: u64,
    pgoff: u64,
    prot: Prot,
    flags: MapFlags,
    vm_flags: &mut VmFlags,
) -> KResult<()> {
    if len > MAX_LFS_FILESIZE || pgoff > (MAX_LFS_FILESIZE - len) / PAGE {
        return Err(Errno::EOVERFLOW);
    }
    match flags.bits() & g::MAP_TYPE {
        g::MAP_SHARED_VALIDATE if flags.bits() & !LEGACY_MAP_MASK != 0 => {
            return Err(Errno::EOPNOTSUPP);
        }
        g::MAP_SHARED | g::MAP_SHARED_VALIDATE => {
            let writable = file.f_mode.contains(FMode::WRITE);
            if prot.contains(Prot::WRITE) && !writable {
                return Err(Errno::EACCES);
            }
            *vm_flags |= VmFlags::SHARED | VmFlags::MAYSHARE;
            if !writable {
                *vm_flags -= VmFlags::MAYWRITE | VmFlags::SHARED;
            }
        }
        g::MAP_PRIVATE => {}
        _ => return Err(Errno::EINVAL),
    }
    if !file.f_mode.contains(FMode::READ) {
        return Err(Errno::EACCES);
    }
    if crate::fs::namespace::path_noexec(&file.f_path) {
        if prot.contains(Prot::EXEC) {
            return Err(Errno::EPERM);
        }
        *vm_flags -= VmFlags::MAYEXEC;
    }
    if inode_mapping(&file.f_inode).is_none() {
        file.f_op.mmap(file, pgoff, len, vm_flags)?;
    }
    if vm_flags.contains(VmFlags::GROWSDOWN) {
        return Err(Errno::EINVAL);
    }
    Ok(())
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

/// Replaces whatever is in `[start, start + len)` by a new VMA and merges
/// it with compatible neighbours (Linux: `mmap_region`). A file's page
/// cache learns that this mm maps it (Linux: `vma_link_file`).
fn mmap_region(
    mm: &Mm,
    layout: &mut MmLayout,
    start: u64,
    len: u64,
    mut data: VmaData,
    removed: &mut Vec<Vma>,
) -> KResult<()> {
    // What a MAP_FIXED mapping replaces is freed first, so it does not
    // count against the limits (Linux: `count_vma_pages_range`).
    if !layout.may_expand_vm(data.flags, len / PAGE) {
        let replaced: u64 = layout
            .vmas
            .overlapping(start, start + len)
            .map(|vma| vma.end.min(start + len) - vma.start.max(start))
            .sum();
        if !layout.may_expand_vm(data.flags, (len - replaced) / PAGE) {
            return Err(Errno::ENOMEM);
        }
    }
    *removed = unmap_vmas(mm, layout, start, start + len);
    if let Some(file) = &data.file {
        if let Some(mapping) = inode_mapping(&file.f_inode) {
            mapping.i_mmap_insert(mm);
        }
    } else if data.flags.contains(VmFlags::SHARED) {
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
/// heart of `do_vmi_munmap`) and returns the areas, for the caller to drop
/// once it has released `mmap_lock`, which it holds exclusive.
#[must_use]
pub(crate) fn unmap_vmas(mm: &Mm, layout: &mut MmLayout, start: u64, end: u64) -> Vec<Vma> {
    let removed: Vec<Vma> = layout.vmas.remove_range(start, end);
    if removed.is_empty() {
        return removed;
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
    removed
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
    let removed = unmap_vmas(mm, &mut layout, start, start + len);
    drop(layout);
    drop(removed);
    Ok(())
}

/// Sets the program break (Linux: `sys_brk`): returns the new break, or
/// the old one when the request is refused. Growth maps page-granular
/// anonymous memory after the current break, keeping a page free below
/// the next mapping, within `RLIMIT_DATA` and `RLIMIT_AS`; shrinking
/// unmaps and frees.
pub fn do_brk(mm: &Mm, brk: u64) -> u64 {
    let mut layout = mm.mmap_write();
    let origbrk = layout.brk;
    if brk < layout.start_brk || brk > TASK_SIZE || !check_data_rlimit(&layout, brk) {
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
        let removed = unmap_vmas(mm, &mut layout, newbrk, oldbrk);
        layout.brk = brk;
        drop(layout);
        drop(removed);
        return brk;
    }
    if let Some(next) = layout.vmas.find(oldbrk)
        && newbrk + PAGE > next.start.saturating_sub(vma_tree::AreaData::guard_gap(&next.data))
    {
        return origbrk;
    }
    if !layout.may_expand_vm(VmFlags::DATA_DEFAULT, (newbrk - oldbrk) / PAGE) {
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

/// Whether a heap ending at `brk` plus the data segment fits
/// `RLIMIT_DATA` (Linux: `check_data_rlimit`, checked even to shrink).
fn check_data_rlimit(layout: &MmLayout, brk: u64) -> bool {
    let rlim = rlimit(g::RLIMIT_DATA).cur;
    let data = layout.end_data.saturating_sub(layout.start_data);
    rlim == RLIM_INFINITY || (brk - layout.start_brk).saturating_add(data) <= rlim
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

/// mmap(2) (Linux: arch/x86's `sys_mmap`, then `ksys_mmap_pgoff`).
/// Unknown `prot` and `flags` bits are ignored, as Linux does.
pub fn sys_mmap(addr: u64, len: u64, prot: u32, flags: u32, fd: i32, off: u64) -> KResult<i64> {
    if !off.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let (prot, flags) = (Prot::from_bits_retain(prot), MapFlags::from_bits_retain(flags));
    let file = if flags.contains(MapFlags::ANONYMOUS) {
        None
    } else {
        let files = crate::kernel::sched::current().files.lock().clone().ok_or(Errno::EBADF)?;
        let file = files.get(fd)?;
        // Linux's `fget` skips O_PATH files.
        if file.f_mode.contains(crate::fs::file_table::FMode::PATH) {
            return Err(Errno::EBADF);
        }
        // No hugetlbfs: a huge page mapping of a file is refused.
        if flags.contains(MapFlags::HUGETLB) {
            return Err(Errno::EINVAL);
        }
        Some(file)
    };
    let mm = mm_of_current()?;
    let start = do_mmap_pgoff(&mm, file.as_ref(), addr, len, prot, flags, off / PAGE)?;
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

//! mremap(2): growing, shrinking and moving a mapping, pages and all.
//!
//! Linux: mm/mremap.c (`SYSCALL_DEFINE5(mremap)`, `vma_to_resize`,
//! `vma_expandable`, `move_vma`, `move_page_tables`, `mremap_to`).
//!
//! Shrinking unmaps the tail. Growing extends the area in place when the
//! addresses after it are free; otherwise, with `MREMAP_MAYMOVE`, the
//! area moves: a new VMA is made elsewhere and the page-table entries are
//! carried over one by one, so the pages themselves (private, copied on
//! write, the zero page, a file's or shared memory's) stay where they are
//! and nothing is copied — which is why musl's `realloc` of a large block
//! calls it. `MREMAP_FIXED` moves to a given address, unmapping what was
//! there; `MREMAP_DONTUNMAP` leaves the old range mapped but empty.
//!
//! Not done: an `old_len` of 0 (duplicating a shared mapping) is
//! `EINVAL` for every mapping, where Linux allows it for shared ones.
//!
//! # Locking
//! `mmap_lock` exclusive for the whole call; `page_table_lock` while the
//! entries move. What is unmapped is dropped after both are released.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::general::{MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE};

use crate::arch::mm::pgtable_types::Pte;
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, VirtAddr, page_align};
use crate::mm::mm_types::{MAX_MAP_COUNT, Mm, MmLayout, TASK_SIZE, current_mm};
use crate::mm::mmap::{MapFlags, get_unmapped_area, unmap_vmas};
use crate::mm::page_alloc::BuddyPgtableAlloc;
use crate::mm::page_table::PageTable;
use crate::mm::vma::{VmFlags, Vma};

const PAGE: u64 = PAGE_SIZE as u64;

/// What a call asks, its lengths page-aligned.
#[derive(Clone, Copy)]
struct Request {
    addr: u64,
    old_len: u64,
    new_len: u64,
    flags: u32,
    new_addr: u64,
}

/// mremap(2).
pub fn sys_mremap(
    addr: u64,
    old_len: u64,
    new_len: u64,
    flags: u32,
    new_addr: u64,
) -> KResult<i64> {
    let mm = current_mm().ok_or(Errno::EFAULT)?;
    let moved = do_mremap(&mm, addr, old_len, new_len, flags, new_addr)?;
    i64::try_from(moved).map_err(|_| Errno::ENOMEM)
}

/// Linux: the body of `SYSCALL_DEFINE5(mremap)`: the argument checks in
/// its order, then shrink, grow in place, or move.
pub fn do_mremap(
    mm: &Mm,
    addr: u64,
    old_len: u64,
    new_len: u64,
    flags: u32,
    new_addr: u64,
) -> KResult<u64> {
    let may_move = flags & MREMAP_MAYMOVE != 0;
    if flags & !(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP) != 0
        || (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 && !may_move)
        || (flags & MREMAP_DONTUNMAP != 0 && old_len != new_len)
        || !addr.is_multiple_of(PAGE)
    {
        return Err(Errno::EINVAL);
    }
    let old_len = page_align(old_len).ok_or(Errno::EINVAL)?;
    let new_len = page_align(new_len).ok_or(Errno::EINVAL)?;
    if new_len == 0 || old_len == 0 {
        return Err(Errno::EINVAL);
    }
    let req = Request { addr, old_len, new_len, flags, new_addr };
    let mut removed = Vec::new();
    let result = {
        let mut layout = mm.mmap_write();
        resize(mm, &mut layout, &req, &mut removed)
    };
    drop(removed);
    result
}

fn resize(mm: &Mm, layout: &mut MmLayout, req: &Request, removed: &mut Vec<Vma>) -> KResult<u64> {
    if req.flags & (MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 {
        return mremap_to(mm, layout, req, removed);
    }
    if req.old_len >= req.new_len {
        let tail = req.addr.checked_add(req.new_len).ok_or(Errno::EINVAL)?;
        *removed = unmap_vmas(mm, layout, tail, req.addr + req.old_len);
        return Ok(req.addr);
    }
    let vma = vma_to_resize(layout, req.addr, req.old_len, req.new_len)?;
    let new_end = req.addr + req.new_len;
    if req.addr + req.old_len == vma.end
        && new_end <= TASK_SIZE
        && layout.vmas.is_free(vma.end, new_end)
    {
        // Linux: `vma_expandable`, then `vma_adjust`.
        let start = vma.start;
        if let Some(area) = layout.vmas.get_mut(start) {
            area.end = new_end;
        }
        layout.vmas.merge_around(start);
        layout.total_vm += (req.new_len - req.old_len) / PAGE;
        return Ok(req.addr);
    }
    if req.flags & MREMAP_MAYMOVE == 0 {
        return Err(Errno::ENOMEM);
    }
    let to = unmapped_area_for(layout, &vma, req.new_len)?;
    move_vma(mm, layout, req, to)
}

/// Where a move of `vma`'s pages to a `len`-byte area goes: where `mmap`
/// would put a mapping of its kind.
fn unmapped_area_for(layout: &MmLayout, vma: &Vma, len: u64) -> KResult<u64> {
    let shared = vma.flags.contains(VmFlags::SHARED);
    let flags = if shared { MapFlags::SHARED } else { MapFlags::PRIVATE };
    get_unmapped_area(layout, 0, len, flags)
}

/// `MREMAP_FIXED` or `MREMAP_DONTUNMAP`: a move, never in place. A fixed
/// target must be aligned, inside the user half and apart from the old
/// range, and whatever is there goes first; otherwise the move goes
/// where `mmap` would put the new size (Linux: `mremap_to`).
fn mremap_to(
    mm: &Mm,
    layout: &mut MmLayout,
    req: &Request,
    removed: &mut Vec<Vma>,
) -> KResult<u64> {
    let fixed = req.flags & MREMAP_FIXED != 0;
    let to = req.new_addr;
    if fixed {
        if !to.is_multiple_of(PAGE) || req.new_len > TASK_SIZE || to > TASK_SIZE - req.new_len {
            return Err(Errno::EINVAL);
        }
        if to < req.addr.saturating_add(req.old_len) && req.addr < to + req.new_len {
            return Err(Errno::EINVAL);
        }
    }
    let vma = vma_to_resize(layout, req.addr, req.old_len, req.new_len)?;
    if req.flags & MREMAP_DONTUNMAP != 0 && !layout.may_expand_vm(vma.flags, req.old_len / PAGE) {
        return Err(Errno::ENOMEM);
    }
    if fixed {
        *removed = unmap_vmas(mm, layout, to, to + req.new_len);
    }
    let mut req = *req;
    if req.old_len > req.new_len {
        removed.extend(unmap_vmas(mm, layout, req.addr + req.new_len, req.addr + req.old_len));
        req.old_len = req.new_len;
    }
    let to = if fixed { to } else { unmapped_area_for(layout, &vma, req.new_len)? };
    move_vma(mm, layout, &req, to)
}

/// The one area holding `[addr, addr + old_len)`, and the limits a growth
/// to `new_len` must respect (Linux: `vma_to_resize`).
fn vma_to_resize(layout: &MmLayout, addr: u64, old_len: u64, new_len: u64) -> KResult<Vma> {
    let vma = layout.vmas.lookup(addr).ok_or(Errno::EFAULT)?;
    if old_len > vma.end - addr {
        return Err(Errno::EFAULT);
    }
    // Linux: a `remap_pfn_range` area cannot grow past what was checked.
    if new_len > old_len && vma.flags.contains(VmFlags::DONTEXPAND) {
        return Err(Errno::EFAULT);
    }
    if new_len > old_len && !layout.may_expand_vm(vma.flags, (new_len - old_len) / PAGE) {
        return Err(Errno::ENOMEM);
    }
    Ok(vma.clone())
}

/// Moves `[addr, addr + old_len)` to `to`, `new_len` long (Linux:
/// `move_vma`): the new area first, then the page-table entries; the old
/// range is removed, or with `MREMAP_DONTUNMAP` kept, empty.
fn move_vma(mm: &Mm, layout: &mut MmLayout, req: &Request, to: u64) -> KResult<u64> {
    if layout.vmas.len() + 2 >= MAX_MAP_COUNT {
        return Err(Errno::ENOMEM);
    }
    let (old_start, old_end) = (req.addr, req.addr + req.old_len);
    let mut old = layout.vmas.remove_range(old_start, old_end);
    let Some(piece) = old.pop().filter(|_| old.is_empty()) else {
        return Err(Errno::EFAULT); // vma_to_resize saw one area
    };
    let moved = Vma { start: to, end: to + req.new_len, data: piece.data.clone() };
    if layout.vmas.insert(moved).is_err() {
        let _ = layout.vmas.insert(piece);
        return Err(Errno::ENOMEM);
    }
    if let Err(e) = move_page_tables(&mut mm.page_table(), old_start, to, req.old_len) {
        let _ = layout.vmas.remove_range(to, to + req.new_len);
        let _ = layout.vmas.insert(piece);
        return Err(e);
    }
    if req.flags & MREMAP_DONTUNMAP != 0 {
        let _ = layout.vmas.insert(piece);
        layout.total_vm += req.new_len / PAGE;
    } else {
        layout.total_vm += (req.new_len - req.old_len) / PAGE;
    }
    layout.vmas.merge_around(to);
    Ok(to)
}

/// Carries the entries of `len` bytes at `from` over to `to` (Linux:
/// `move_page_tables` → `move_ptes`). Each new entry is written before
/// the old one is cleared; if a table for the new range cannot be
/// allocated, the entries already moved go back (their old tables are
/// still there), so a failure loses nothing.
fn move_page_tables(pt: &mut PageTable, from: u64, to: u64, len: u64) -> KResult<()> {
    let mut moved: Vec<u64> = Vec::new();
    for offset in (0..len).step_by(PAGE_SIZE) {
        let (src, dst) = (VirtAddr::new(from + offset), VirtAddr::new(to + offset));
        let pte = pt.get_pte(src);
        if pte.is_none() {
            continue;
        }
        let step = moved.try_reserve(1).map_err(|_| Errno::ENOMEM).and_then(|()| {
            pt.set_pte(dst, pte, &mut BuddyPgtableAlloc)?;
            pt.set_pte(src, Pte::NONE, &mut BuddyPgtableAlloc)
        });
        if let Err(e) = step {
            for &offset in moved.iter().rev() {
                let (src, dst) = (VirtAddr::new(from + offset), VirtAddr::new(to + offset));
                let pte = pt.get_pte(dst);
                // Both tables exist: neither write allocates.
                let _ = pt.set_pte(src, pte, &mut BuddyPgtableAlloc);
                let _ = pt.set_pte(dst, Pte::NONE, &mut BuddyPgtableAlloc);
            }
            return Err(e);
        }
        moved.push(offset);
    }
    Ok(())
}

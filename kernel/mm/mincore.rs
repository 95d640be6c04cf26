//! `mincore`: which pages of a range are resident.
//!
//! Linux: mm/mincore.c (`sys_mincore`, `do_mincore`,
//! `mincore_pte_range`).
//!
//! A page counts as resident if a PTE maps it, or for shared anonymous
//! memory or a file mapping if its object or page cache holds it. The answer is one byte per page, bit 0
//! set for resident, written in chunks of a page of bytes, as Linux does,
//! so the kernel buffer stays small whatever the length.
//!
//! # Locking
//! `mmap_lock` shared and `page_table_lock` while a chunk is computed;
//! neither is held across the copy to user space.
#![deny(unsafe_code)]

use crate::arch::uaccess::{UserAddr, access_ok, copy_to_user};
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, VirtAddr};
use crate::mm::filemap::vma_mapping;
use crate::mm::mm_types::{Mm, current_mm};
use crate::mm::vma::linear_page_index;

const PAGE: u64 = PAGE_SIZE as u64;

/// mincore(2).
pub fn sys_mincore(start: u64, len: u64, vec: UserAddr) -> KResult<()> {
    if !start.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let len_bytes = usize::try_from(len).map_err(|_| Errno::ENOMEM)?;
    if !access_ok(UserAddr::new(start), len_bytes) {
        return Err(Errno::ENOMEM);
    }
    let pages = len.div_ceil(PAGE);
    if !access_ok(vec, usize::try_from(pages).map_err(|_| Errno::EFAULT)?) {
        return Err(Errno::EFAULT);
    }
    let mm = current_mm().ok_or(Errno::ENOMEM)?;
    let mut chunk = [0u8; PAGE_SIZE];
    let mut done = 0;
    while done < pages {
        let n = (pages - done).min(PAGE);
        let part = &mut chunk[..usize::try_from(n).map_err(|_| Errno::EFAULT)?];
        do_mincore(&mm, start + done * PAGE, part)?;
        let at = vec.checked_add(usize::try_from(done).map_err(|_| Errno::EFAULT)?);
        copy_to_user(at.ok_or(Errno::EFAULT)?, part).map_err(|_| Errno::EFAULT)?;
        done += n;
    }
    Ok(())
}

/// Fills `vec` for the pages from `addr` on, which must all lie in one
/// or more adjacent VMAs: `ENOMEM` at a hole (Linux: `do_mincore`, which
/// uses `vma_lookup`).
fn do_mincore(mm: &Mm, addr: u64, vec: &mut [u8]) -> KResult<()> {
    let layout = mm.mmap_read();
    let pt = mm.page_table();
    let mut va = addr;
    for byte in vec.iter_mut() {
        let vma = layout.vmas.lookup(va).ok_or(Errno::ENOMEM)?;
        let pte = pt.get_pte(VirtAddr::new(va));
        let mapped = pte.is_present();
        let index = linear_page_index(vma, va);
        let cached = vma.shmem.as_ref().is_some_and(|s| s.has_page(index))
            || vma_mapping(vma).is_some_and(|m| m.has_page(index));
        *byte = u8::from(mapped || cached);
        va += PAGE;
    }
    Ok(())
}

//! /dev/mem (char 1:1): physical memory, read, written and mapped by root
//! (Linux: drivers/char/mem.c `open_mem`, `read_mem`, `write_mem`,
//! `mmap_mem`, `memory_lseek`; arch/x86/mm/init.c `devmem_is_allowed`).
//!
//! As Debian builds Linux (`CONFIG_STRICT_DEVMEM`), only what is not RAM
//! may be touched: a page of RAM below 1 MiB reads as zeros and ignores
//! writes (Linux: `devmem_is_allowed` returns 2), RAM above 1 MiB is
//! `EPERM`, the rest (firmware, the BIOS's ROM, device registers) is
//! allowed. Linux's `CONFIG_IO_STRICT_DEVMEM` also refuses device memory
//! a driver has claimed; Ferrite keeps no resource tree, so that is not
//! refused. `read`/`write` stop at the end of RAM (Linux: `high_memory`,
//! `valid_phys_addr_range`: `EFAULT` past it) and read non-RAM through
//! the direct map or a temporary write-back mapping (Linux:
//! `xlate_dev_mem_ptr`). `mmap` makes a `VM_PFNMAP` area that maps the
//! frames themselves (mm/pfnmap.rs), as busybox `devmem` reads them.
//!
//! # Locking
//! None of its own. `page_is_ram` takes memblock's lock briefly, the
//! direct-map check the kernel page table's, never both.
use linux_raw_sys::general::CAP_SYS_RAWIO;

use crate::arch::mm::ioremap::{ioremap_cache, iounmap};
use crate::fs::file_table::{File, FileOps, Whence};
use crate::fs::inode::Inode;
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PAGE_SIZE, Pfn, PhysAddr, phys_to_virt};
use crate::mm::memblock::MEMBLOCK;
use crate::mm::page_table::KERNEL_PGTABLE;
use crate::mm::pfnmap::page_is_ram;
use crate::mm::vma::VmFlags;

use alloc::sync::Arc;

const PAGE: u64 = PAGE_SIZE as u64;
/// The ISA range's frames (Linux: the low 1 MiB of `devmem_is_allowed`).
const ISA_END_PFN: u64 = 256;

/// What `/dev/mem` may do with a page (Linux: `devmem_is_allowed`'s 0, 1, 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevmemAccess {
    Denied,
    Allowed,
    /// Reads give zeros and writes are dropped: RAM below 1 MiB.
    Zeros,
}

/// Linux: `devmem_is_allowed` with `CONFIG_STRICT_DEVMEM` (see the header).
pub fn devmem_is_allowed(pfn: u64) -> DevmemAccess {
    match (page_is_ram(Pfn(pfn)), pfn < ISA_END_PFN) {
        (true, true) => DevmemAccess::Zeros,
        (true, false) => DevmemAccess::Denied,
        (false, _) => DevmemAccess::Allowed,
    }
}

/// Linux: `valid_phys_addr_range`: `[addr, addr + count)` below the end
/// of RAM (`__pa(high_memory)`).
fn valid_phys_addr_range(addr: u64, count: usize) -> bool {
    let high = MEMBLOCK.lock().end_of_dram();
    addr.checked_add(count as u64).is_some_and(|end| end <= high)
}

/// Whether the direct map maps the page of `pa` (always true for RAM and
/// the ISA range; firmware ranges below 1 GiB too: init_64.rs).
fn direct_mapped(pa: u64) -> bool {
    let pgtable = KERNEL_PGTABLE.lock();
    let va = phys_to_virt(PhysAddr::new(pa & !(PAGE - 1)));
    pgtable
        .as_ref()
        .and_then(|pt| pt.translate(va))
        .is_some_and(|(mapped, _)| mapped.as_u64() == pa & !(PAGE - 1))
}

/// Copies between `buf` and physical memory at `pa`, inside one page
/// (Linux: `xlate_dev_mem_ptr`, the copy, `unxlate_dev_mem_ptr`).
/// `EFAULT` if the page cannot be mapped.
fn copy_phys(pa: u64, buf: &mut [u8], to_phys: bool) -> KResult<()> {
    let len = buf.len();
    let (va, temporary) = if direct_mapped(pa) {
        (phys_to_virt(PhysAddr::new(pa)), false)
    } else {
        (ioremap_cache(PhysAddr::new(pa), len).map_err(|_| Errno::EFAULT)?, true)
    };
    let p = va.as_mut_ptr::<u8>();
    if to_phys {
        // SAFETY:
        // 1. `[pa, pa + len)` lies in one page, mapped at `va` for `len`
        //    bytes: the direct map (checked above, never torn down) or the
        //    mapping `ioremap_cache` just made, unmapped only below.
        // 2. The page is not RAM the kernel uses (`devmem_is_allowed`
        //    refused that), so no Rust reference aliases it.
        // 3. `buf` is a kernel slice distinct from that memory.
        unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), p, len) };
    } else {
        // SAFETY: as above: `va` is valid for `len` bytes of reads, and
        // `buf` is an exclusive kernel slice of `len` bytes.
        unsafe { core::ptr::copy_nonoverlapping(p.cast_const(), buf.as_mut_ptr(), len) };
    }
    if temporary {
        iounmap(va)?;
    }
    Ok(())
}

/// Splits `[pos, pos + len)` at page boundaries and calls `f` with each
/// piece's physical address and range in the buffer, stopping at its
/// first error (Linux: `size_inside_page` in the loops of `read_mem` and
/// `write_mem`).
fn for_each_page(
    pos: u64,
    len: usize,
    mut f: impl FnMut(u64, core::ops::Range<usize>) -> KResult<()>,
) -> KResult<()> {
    let mut done = 0;
    while done < len {
        let pa = pos + done as u64;
        let in_page = usize::try_from(PAGE - pa % PAGE).unwrap_or(PAGE_SIZE);
        let n = in_page.min(len - done);
        f(pa, done..done + n)?;
        done += n;
    }
    Ok(())
}

/// /dev/mem (Linux: `mem_fops`).
pub struct DevMem;
pub static DEV_MEM: DevMem = DevMem;

impl FileOps for DevMem {
    /// Linux: `open_mem`: `CAP_SYS_RAWIO` only.
    fn open(&self, _inode: &Arc<Inode>, _file: &File) -> KResult<()> {
        if !capable(CAP_SYS_RAWIO) {
            return Err(Errno::EPERM);
        }
        Ok(())
    }

    /// Linux: `read_mem`: `EPERM` at the first refused page, even after
    /// some bytes were read.
    fn read(&self, _file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        if !valid_phys_addr_range(*pos, buf.len()) {
            return Err(Errno::EFAULT);
        }
        for_each_page(*pos, buf.len(), |pa, range| {
            let piece = buf.get_mut(range).ok_or(Errno::EFAULT)?;
            match devmem_is_allowed(pa / PAGE) {
                DevmemAccess::Denied => Err(Errno::EPERM),
                DevmemAccess::Zeros => {
                    piece.fill(0);
                    Ok(())
                }
                DevmemAccess::Allowed => copy_phys(pa, piece, false),
            }
        })?;
        *pos += buf.len() as u64;
        Ok(buf.len())
    }

    /// Linux: `write_mem`: `EPERM` at a refused page, writes to low RAM
    /// dropped.
    fn write(&self, _file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize> {
        if !valid_phys_addr_range(*pos, buf.len()) {
            return Err(Errno::EFAULT);
        }
        let mut written = 0usize;
        let result = for_each_page(*pos, buf.len(), |pa, range| {
            let n = range.len();
            match devmem_is_allowed(pa / PAGE) {
                DevmemAccess::Denied => return Err(Errno::EPERM),
                DevmemAccess::Zeros => {}
                DevmemAccess::Allowed => {
                    let mut piece = buf.get(range).ok_or(Errno::EFAULT)?.to_vec();
                    copy_phys(pa, &mut piece, true)?;
                }
            }
            written += n;
            Ok(())
        });
        match result {
            // Linux returns what was written before a mapping failure.
            Err(Errno::EFAULT) if written > 0 => {}
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        *pos += written as u64;
        Ok(written)
    }

    /// Linux: `memory_lseek`: `SEEK_SET` and `SEEK_CUR` only, no size.
    fn llseek(&self, _file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        let new = match whence {
            Whence::Set => offset as u64,
            Whence::Cur => pos.wrapping_add_signed(offset),
            _ => return Err(Errno::EINVAL),
        };
        // Linux: so that user space does not take it for an errno.
        if new >= (-4095i64) as u64 {
            return Err(Errno::EOVERFLOW);
        }
        Ok(new)
    }

    /// Linux: `mmap_mem` → `remap_pfn_range`: the frames from `pgoff` on.
    fn mmap(&self, _file: &File, pgoff: u64, len: u64, vm_flags: &mut VmFlags) -> KResult<()> {
        let offset = pgoff.checked_mul(PAGE).ok_or(Errno::EINVAL)?;
        let last = offset.checked_add(len.saturating_sub(1)).ok_or(Errno::EINVAL)?;
        if !valid_mmap_phys_addr_range(last) {
            return Err(Errno::EINVAL);
        }
        if (pgoff..=last / PAGE).any(|pfn| devmem_is_allowed(pfn) == DevmemAccess::Denied) {
            return Err(Errno::EPERM);
        }
        *vm_flags |= VmFlags::IO | VmFlags::PFNMAP | VmFlags::DONTEXPAND | VmFlags::DONTDUMP;
        Ok(())
    }
}

/// Linux (x86): `valid_mmap_phys_addr_range` → `phys_addr_valid`: below
/// the CPU's physical address width (36 bits if it does not say).
fn valid_mmap_phys_addr_range(last: u64) -> bool {
    let bits = raw_cpuid::CpuId::new()
        .get_processor_capacity_feature_info()
        .map_or(36, |info| u32::from(info.physical_address_bits()));
    last.checked_shr(bits).is_none_or(|high| high == 0)
}

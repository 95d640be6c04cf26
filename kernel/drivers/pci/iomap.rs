//! A device's registers mapped from a memory BAR, read and written with
//! bounds-checked, naturally aligned volatile accesses.
//!
//! Linux: lib/pci_iomap.c (`pci_iomap_range`), include/asm-generic/io.h
//! (`ioread32`, `iowrite32`), arch/x86/mm/ioremap.c underneath.
//!
//! An access outside the mapped window or misaligned for its size does
//! not reach the bus: a read returns all ones (what a master abort reads
//! as) and a write is dropped. Drivers check their offsets against the
//! window when they map it, so this only stops a bug from becoming a wild
//! access.
//!
//! # Locking
//! None: an `IoMem` is owned by its driver, which serialises register
//! sequences under its own lock.

use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::{PhysAddr, VirtAddr};
use crate::mm::{ioremap, iounmap};

use super::PciDev;

/// `len` bytes of a device's registers, mapped uncached.
pub struct IoMem {
    base: VirtAddr,
    len: usize,
}

impl IoMem {
    /// The address of `off` if an access of `size` bytes there stays in
    /// the window and is naturally aligned.
    fn addr(&self, off: usize, size: usize) -> Option<u64> {
        let end = off.checked_add(size)?;
        (end <= self.len && off.is_multiple_of(size)).then(|| self.base.as_u64() + off as u64)
    }

    pub fn read8(&self, off: usize) -> u8 {
        let Some(addr) = self.addr(off, 1) else { return !0 };
        // SAFETY: `addr` lies in this window's uncached ioremap, which
        // lives as long as `self`; device registers are read volatile.
        unsafe { (addr as *const u8).read_volatile() }
    }

    pub fn read16(&self, off: usize) -> u16 {
        let Some(addr) = self.addr(off, 2) else { return !0 };
        // SAFETY: as in `read8`; `addr` is 2-byte aligned.
        unsafe { (addr as *const u16).read_volatile() }
    }

    pub fn read32(&self, off: usize) -> u32 {
        let Some(addr) = self.addr(off, 4) else { return !0 };
        // SAFETY: as in `read8`; `addr` is 4-byte aligned.
        unsafe { (addr as *const u32).read_volatile() }
    }

    pub fn write8(&self, off: usize, value: u8) {
        let Some(addr) = self.addr(off, 1) else { return };
        // SAFETY: as in `read8`; a register write, no kernel memory.
        unsafe { (addr as *mut u8).write_volatile(value) };
    }

    pub fn write16(&self, off: usize, value: u16) {
        let Some(addr) = self.addr(off, 2) else { return };
        // SAFETY: as in `write8`; `addr` is 2-byte aligned.
        unsafe { (addr as *mut u16).write_volatile(value) };
    }

    pub fn write32(&self, off: usize, value: u32) {
        let Some(addr) = self.addr(off, 4) else { return };
        // SAFETY: as in `write8`; `addr` is 4-byte aligned.
        unsafe { (addr as *mut u32).write_volatile(value) };
    }

    /// The window's size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }
}

impl Drop for IoMem {
    fn drop(&mut self) {
        // Only fails for an address ioremap did not return, and this one did.
        let _ = iounmap(self.base);
    }
}

/// Maps `len` bytes at `offset` into memory BAR `bar` of `dev` (Linux:
/// `pci_iomap_range`). `EINVAL` for an I/O or absent BAR, a range past the
/// BAR's end, or a BAR the firmware did not assign.
pub fn pci_iomap_range(dev: &PciDev, bar: usize, offset: u64, len: usize) -> KResult<IoMem> {
    let bar = dev.bars.get(bar).copied().flatten().ok_or(Errno::EINVAL)?;
    let end = offset.checked_add(len as u64).ok_or(Errno::EINVAL)?;
    if !bar.is_mem() || bar.addr == 0 || len == 0 || end > bar.size {
        return Err(Errno::EINVAL);
    }
    let phys = bar.addr.checked_add(offset).ok_or(Errno::EINVAL)?;
    let base = ioremap(PhysAddr::new(phys), len)?;
    Ok(IoMem { base, len })
}

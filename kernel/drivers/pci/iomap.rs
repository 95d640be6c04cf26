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
use crate::mm::addr::PhysAddr;
use crate::mm::{ioremap, iounmap};

use super::PciDev;
use super::window::Window;

/// `len` bytes of a device's registers, mapped uncached.
pub struct IoMem(Window);

impl IoMem {
    pub fn read8(&self, off: usize) -> u8 {
        self.0.read(off).unwrap_or(!0)
    }

    pub fn read16(&self, off: usize) -> u16 {
        self.0.read(off).unwrap_or(!0)
    }

    pub fn read32(&self, off: usize) -> u32 {
        self.0.read(off).unwrap_or(!0)
    }

    pub fn write8(&self, off: usize, value: u8) {
        self.0.write(off, value);
    }

    pub fn write16(&self, off: usize, value: u16) {
        self.0.write(off, value);
    }

    pub fn write32(&self, off: usize, value: u32) {
        self.0.write(off, value);
    }

    /// The window's size in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl Drop for IoMem {
    fn drop(&mut self) {
        // Only fails for an address ioremap did not return, and this one did.
        let _ = iounmap(self.0.base());
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
    // SAFETY: ioremap mapped `len` bytes at `base`, uncached and writable,
    // until `IoMem`'s drop unmaps them; device registers are never Rust
    // objects.
    Ok(IoMem(unsafe { Window::new(base, len) }))
}

//! A window of memory that a device also sees, read and written with
//! bounds-checked, naturally aligned volatile accesses: the common part of
//! register windows (`IoMem`, Linux's `ioread32`/`iowrite32`) and DMA
//! buffers (`DmaCoherent`).
//!
//! An access outside the window or misaligned for its size is refused
//! (`None` / `false`); the caller decides what a refused read returns.
//!
//! # Locking
//! None: a window belongs to one driver object, which serialises its use.

use crate::mm::addr::VirtAddr;

/// The integer widths a device register or a ring field comes in.
pub trait Scalar: Copy {}
impl Scalar for u8 {}
impl Scalar for u16 {}
impl Scalar for u32 {}
impl Scalar for u64 {}

/// `len` bytes at `base`, mapped for as long as the owner keeps them.
pub struct Window {
    base: VirtAddr,
    len: usize,
}

impl Window {
    /// # Safety
    /// `[base, base + len)` is mapped, readable and writable, for as long
    /// as the `Window` lives, and no Rust reference to it exists.
    pub const unsafe fn new(base: VirtAddr, len: usize) -> Self {
        Window { base, len }
    }

    pub fn base(&self) -> VirtAddr {
        self.base
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The address of `[off, off + len)` if it lies in the window.
    pub fn range(&self, off: usize, len: usize) -> Option<u64> {
        let end = off.checked_add(len)?;
        (end <= self.len).then(|| self.base.as_u64() + off as u64)
    }

    /// As `range`, for a `T` at `off`, which must be aligned for it.
    fn addr<T: Scalar>(&self, off: usize) -> Option<u64> {
        let size = size_of::<T>();
        self.range(off, size).filter(|_| off.is_multiple_of(size))
    }

    /// The `T` at `off`, read volatile.
    pub fn read<T: Scalar>(&self, off: usize) -> Option<T> {
        let addr = self.addr::<T>(off)?;
        // SAFETY: `addr` lies in the window (checked), which `new`'s caller
        // keeps mapped; it is aligned for `T`, an integer valid for any
        // bits; the device may change it at any time, hence volatile and
        // no reference.
        Some(unsafe { (addr as *const T).read_volatile() })
    }

    /// Writes `value` at `off` volatile; `false` if refused.
    pub fn write<T: Scalar>(&self, off: usize, value: T) -> bool {
        let Some(addr) = self.addr::<T>(off) else { return false };
        // SAFETY: as in `read`; the window is writable (see `new`).
        unsafe { (addr as *mut T).write_volatile(value) };
        true
    }
}

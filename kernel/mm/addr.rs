//! Physical and virtual addresses, page frame numbers, and the fixed parts
//! of the kernel's virtual memory layout.
//!
//! Linux: arch/x86/include/asm/page_64_types.h, page_types.h,
//! Documentation/x86/x86_64/mm.rst.
//!
//! ```text
//! 0000000000000000 - 00007fffffffffff  user space (128 TiB)
//! ffff888000000000 - ffffc87fffffffff  direct map of all physical memory (PAGE_OFFSET)
//! ffffc90000000000 - ffffe8ffffffffff  vmalloc/ioremap space, kernel stacks
//! ffffffff80000000 - ffffffff9fffffff  kernel image (__START_KERNEL_map)
//! ffffffffa0000000 - fffffffffeffffff  module mapping space (MODULES_VADDR)
//! ```
#![deny(unsafe_code)]

use core::fmt;

pub const PAGE_SHIFT: u32 = 12;
pub const PAGE_SIZE: usize = 1 << PAGE_SHIFT;
/// Linux: `__PAGE_OFFSET_BASE_L4`.
/// `len` rounded up to whole pages, `None` past the end of the address
/// space (Linux: `PAGE_ALIGN`, which wraps instead; callers turn `None`
/// into their syscall's errno).
pub const fn page_align(len: u64) -> Option<u64> {
    let page = PAGE_SIZE as u64;
    match len.checked_add(page - 1) {
        Some(up) => Some(up & !(page - 1)),
        None => None,
    }
}

pub const PAGE_OFFSET: u64 = 0xffff_8880_0000_0000;
/// Linux: `VMALLOC_START` and `VMALLOC_END` with 4-level paging.
pub const VMALLOC_START: u64 = 0xffff_c900_0000_0000;
pub const VMALLOC_END: u64 = 0xffff_e8ff_ffff_ffff;
/// Linux: `__START_KERNEL_map`.
pub const KERNEL_MAP: u64 = 0xffff_ffff_8000_0000;
/// Loadable modules, above the 512 MiB of the kernel image and within
/// 2 GiB of its text, so that modules reach it (and it them) with 32-bit
/// PC-relative and sign-extended relocations (Linux: `MODULES_VADDR`,
/// `MODULES_END` without KASLR).
pub const MODULES_VADDR: u64 = KERNEL_MAP + 0x2000_0000;
pub const MODULES_END: u64 = 0xffff_ffff_feff_ffff;
/// Where the image is linked: `__START_KERNEL_map` + 16 MiB, Linux's
/// `__START_KERNEL` with the default `CONFIG_PHYSICAL_START`, so that text
/// addresses read as in Linux oopses (`ffffffff81000000`).
pub const START_KERNEL: u64 = KERNEL_MAP + 0x100_0000;
/// Where the image is loaded: 2 MiB (Linux: `LOAD_PHYSICAL_ADDR`). Linux's
/// default, 16 MiB, would not fit in a 16 MiB machine; the bzImage relocates
/// itself wherever the loader put it, but QEMU loads our ELF at `p_paddr`
/// (see linker.ld), so the address is fixed here. 2 MiB keeps the image
/// 2 MiB-aligned, clear of the BIOS's first MiB, and far below the temporary
/// memory the firmware uses near the top of RAM before it jumps to us.
pub const LOAD_PHYSICAL_ADDR: u64 = 0x20_0000;
/// Kernel-image virtual minus physical (Linux: `__START_KERNEL_map -
/// phys_base`): as a relocated bzImage, virtual stays at `START_KERNEL`
/// while physical moved to `LOAD_PHYSICAL_ADDR`.
pub const LOAD_OFFSET: u64 = START_KERNEL - LOAD_PHYSICAL_ADDR;
/// The direct map spans 64 TiB; physical memory above that is not used.
pub const DIRECT_MAP_SIZE: u64 = 64 << 40;

/// A physical address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PhysAddr(u64);

impl PhysAddr {
    pub const fn new(addr: u64) -> Self {
        Self(addr)
    }

    pub const fn as_u64(self) -> u64 {
        self.0
    }

    pub const fn pfn(self) -> Pfn {
        Pfn(self.0 >> PAGE_SHIFT)
    }
}

impl fmt::Debug for PhysAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhysAddr({:#x})", self.0)
    }
}

/// A kernel or user virtual address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct VirtAddr(u64);

impl VirtAddr {
    pub const fn new(addr: u64) -> Self {
        Self(addr)
    }

    pub const fn as_u64(self) -> u64 {
        self.0
    }

    pub fn as_ptr<T>(self) -> *const T {
        self.0 as *const T
    }

    pub fn as_mut_ptr<T>(self) -> *mut T {
        self.0 as *mut T
    }

    pub const fn is_page_aligned(self) -> bool {
        self.0.is_multiple_of(PAGE_SIZE as u64)
    }
}

impl fmt::Debug for VirtAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VirtAddr({:#x})", self.0)
    }
}

/// A page frame number: a physical address divided by `PAGE_SIZE`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Pfn(pub u64);

impl Pfn {
    pub const fn phys(self) -> PhysAddr {
        PhysAddr(self.0 << PAGE_SHIFT)
    }
}

/// Where physical address `pa` appears in the direct map (Linux: `__va`).
pub const fn phys_to_virt(pa: PhysAddr) -> VirtAddr {
    VirtAddr(pa.0 + PAGE_OFFSET)
}

/// The physical address behind a direct-map or kernel-image address
/// (Linux: `__pa`, `__pa_symbol`); `None` for any other address.
pub const fn virt_to_phys(va: VirtAddr) -> Option<PhysAddr> {
    if va.0 >= LOAD_OFFSET {
        Some(PhysAddr(va.0 - LOAD_OFFSET))
    } else if va.0 >= PAGE_OFFSET && va.0 < PAGE_OFFSET + DIRECT_MAP_SIZE {
        Some(PhysAddr(va.0 - PAGE_OFFSET))
    } else {
        None
    }
}

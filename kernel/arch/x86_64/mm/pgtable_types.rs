//! The x86_64 page-table entry format: flag bits, the frame field, and the
//! four levels of 512 entries.
//!
//! Linux: arch/x86/include/asm/pgtable_types.h, pgtable_64_types.h.
//!
//! One entry type serves all four levels (PML4, PDPT, PD, PT), as Linux's
//! `pteval_t` does; the level decides whether `HUGE` (PSE) is meaningful.
//! A non-present entry is free for software: today it is zero, later a swap
//! entry (Linux: `swp_entry_t`, type and offset in bits 1..63 with PRESENT
//! clear) will live there, so code must test `PRESENT` rather than compare
//! with zero. No locking here: entries are plain values.
#![deny(unsafe_code)]

use bitflags::bitflags;

use crate::mm::addr::{PAGE_SHIFT, Pfn, PhysAddr};

/// Entries per table at every level (Linux: `PTRS_PER_PTE` and friends).
pub const PTRS_PER_TABLE: usize = 512;
/// Bits 12..52: the physical frame (Linux: `PTE_PFN_MASK`).
pub const PTE_PFN_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Bytes mapped by one entry at each level (Linux: `PAGE_SIZE`, `PMD_SIZE`,
/// `PUD_SIZE`, `PGDIR_SIZE`).
pub const PMD_SIZE: u64 = 1 << 21;
pub const PUD_SIZE: u64 = 1 << 30;

bitflags! {
    /// Bits of a page-table entry (Linux: `_PAGE_*`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct PteFlags: u64 {
        const PRESENT = 1 << 0;
        const RW = 1 << 1;
        const USER = 1 << 2;
        /// Write-through.
        const PWT = 1 << 3;
        /// Cache disable.
        const PCD = 1 << 4;
        const ACCESSED = 1 << 5;
        const DIRTY = 1 << 6;
        /// In a PD or PDPT entry: this entry maps a 2 MiB or 1 GiB page.
        const HUGE = 1 << 7;
        /// Kept in the TLB across CR3 loads (with CR4.PGE).
        const GLOBAL = 1 << 8;
        /// Software bit 9 (Linux: `_PAGE_SOFTW1`), free for later use.
        const SOFTW1 = 1 << 9;
        const NX = 1 << 63;
    }
}

impl PteFlags {
    /// Kernel data: present, writable, global, never executed
    /// (Linux: `PAGE_KERNEL`).
    pub const KERNEL: Self = Self::PRESENT
        .union(Self::RW)
        .union(Self::GLOBAL)
        .union(Self::NX)
        .union(Self::ACCESSED)
        .union(Self::DIRTY);
    /// Kernel text (Linux: `PAGE_KERNEL_ROX`).
    pub const KERNEL_ROX: Self = Self::PRESENT.union(Self::GLOBAL).union(Self::ACCESSED);
    /// Kernel read-only data (Linux: `PAGE_KERNEL_RO`).
    pub const KERNEL_RO: Self =
        Self::PRESENT.union(Self::GLOBAL).union(Self::NX).union(Self::ACCESSED);
    /// Device memory: uncached (Linux: `PAGE_KERNEL_IO_NOCACHE`).
    pub const KERNEL_NOCACHE: Self = Self::KERNEL.union(Self::PCD).union(Self::PWT);
    /// What a non-leaf entry carries: the leaf decides the real permissions,
    /// so the upper levels allow everything (as Linux's `_KERNPG_TABLE`).
    pub const TABLE: Self = Self::PRESENT.union(Self::RW).union(Self::ACCESSED).union(Self::DIRTY);
    /// A table that also holds user mappings (Linux: `_PAGE_TABLE`).
    pub const USER_TABLE: Self = Self::TABLE.union(Self::USER);
    /// A user PTE of a `VM_PFNMAP` area: its frame has no page reference
    /// to drop or take (Linux: `_PAGE_SPECIAL`, software bit 9).
    pub const SPECIAL: Self = Self::SOFTW1;
}

/// One page-table entry at any level (Linux: `pte_t`, `pmd_t`, `pud_t`,
/// `pgd_t`).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct Pte(u64);

impl Pte {
    pub const NONE: Self = Self(0);

    pub const fn new(pfn: Pfn, flags: PteFlags) -> Self {
        Self(((pfn.0 << PAGE_SHIFT) & PTE_PFN_MASK) | flags.bits())
    }

    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    pub const fn raw(self) -> u64 {
        self.0
    }

    /// Linux: `pte_none`: never used (a swap entry is not none).
    pub const fn is_none(self) -> bool {
        self.0 == 0
    }

    pub const fn is_present(self) -> bool {
        self.0 & PteFlags::PRESENT.bits() != 0
    }

    /// A present entry above level 1 that maps memory itself.
    pub const fn is_huge(self) -> bool {
        self.is_present() && self.0 & PteFlags::HUGE.bits() != 0
    }

    pub const fn flags(self) -> PteFlags {
        PteFlags::from_bits_truncate(self.0 & !PTE_PFN_MASK)
    }

    pub const fn phys(self) -> PhysAddr {
        PhysAddr::new(self.0 & PTE_PFN_MASK)
    }

    pub const fn pfn(self) -> Pfn {
        Pfn((self.0 & PTE_PFN_MASK) >> PAGE_SHIFT)
    }
}

impl core::fmt::Debug for Pte {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Pte({:#x}, {:?})", self.phys().as_u64(), self.flags())
    }
}

/// The index into the table at `level` (4 = PML4 … 1 = PT) for `va`
/// (Linux: `pgd_index`, `pud_index`, `pmd_index`, `pte_index`).
pub const fn table_index(va: u64, level: u32) -> usize {
    ((va >> (PAGE_SHIFT + 9 * (level - 1))) & 0x1ff) as usize
}

/// Bytes one entry at `level` maps.
pub const fn level_size(level: u32) -> u64 {
    1 << (PAGE_SHIFT + 9 * (level - 1))
}

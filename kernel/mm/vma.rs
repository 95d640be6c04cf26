//! Virtual memory areas: one contiguous range of an address space with one
//! set of permissions, and the objects behind shared anonymous memory.
//!
//! Linux: include/linux/mm_types.h (`struct vm_area_struct`),
//! include/linux/mm.h (`VM_*`, `vm_get_page_prot`, `is_cow_mapping`,
//! `linear_page_index`), mm/shmem.c (`shmem_zero_setup`: the object behind
//! `MAP_SHARED|MAP_ANONYMOUS`).
//!
//! A [`Vma`] is `vma_tree::Area<VmaData>`: bounds from the tree, flags and
//! the shared object here; it derefs to its [`VmaData`], so `vma.flags`
//! reads as in Linux. Private anonymous pages belong to the page table
//! (each PTE holds a page reference); shared anonymous pages belong to an
//! [`AnonShmem`] that every VMA mapping it (across fork) shares, so that
//! writes are seen by all and never copied. A file mapping holds the open
//! file (`vm_file`) and maps pages of its page cache (mm/filemap.rs).
//!
//! # Locking
//! VMAs live in the mm's tree under `mmap_lock`. An `AnonShmem`'s page
//! array has its own spinlock, taken under the mm's `page_table_lock`.
#![deny(unsafe_code)]

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use bitflags::bitflags;

use crate::arch::mm::pgtable_types::PteFlags;
use crate::arch::mm::tlb::cpu_has_nx;
use crate::fs::file_table::File;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::mm::addr::{PAGE_SHIFT, PAGE_SIZE, Pfn};
use crate::mm::memory::put_page;
use crate::mm::page::pfn_to_page;
use crate::mm::page_alloc::{alloc_pages, clear_pages};

bitflags! {
    /// Linux: the `VM_*` bits of `vm_flags`, with Linux's values.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct VmFlags: u64 {
        const READ = 0x1;
        const WRITE = 0x2;
        const EXEC = 0x4;
        const SHARED = 0x8;
        /// What `mprotect` may later grant (Linux: `VM_MAY*`).
        const MAYREAD = 0x10;
        const MAYWRITE = 0x20;
        const MAYEXEC = 0x40;
        const MAYSHARE = 0x80;
        /// A stack that grows down on faults below it.
        const GROWSDOWN = 0x100;
        /// Frames without page references, frame = `vm_pgoff` + index
        /// (Linux: `VM_PFNMAP` from `remap_pfn_range`; mm/pfnmap.rs).
        const PFNMAP = 0x400;
        /// Device memory (Linux: `VM_IO`).
        const IO = 0x4000;
        /// Not inherited by fork (`MADV_DONTFORK`).
        const DONTCOPY = 0x2_0000;
        /// `mremap` may not grow it (Linux: `VM_DONTEXPAND`).
        const DONTEXPAND = 0x4_0000;
        /// The child of a fork gets it zero-filled (`MADV_WIPEONFORK`).
        const WIPEONFORK = 0x200_0000;
        /// Left out of core dumps (Linux: `VM_DONTDUMP`).
        const DONTDUMP = 0x400_0000;
    }
}

impl VmFlags {
    pub const ACCESS: Self = Self::READ.union(Self::WRITE).union(Self::EXEC);
    pub const MAY_ALL: Self = Self::MAYREAD.union(Self::MAYWRITE).union(Self::MAYEXEC);
    /// A brk heap or a data segment (Linux: `VM_DATA_DEFAULT_FLAGS`).
    pub const DATA_DEFAULT: Self = Self::READ.union(Self::WRITE).union(Self::MAY_ALL);
}

/// One area of an address space (Linux: `struct vm_area_struct`).
pub type Vma = vma_tree::Area<VmaData>;

/// What a [`Vma`] carries besides its bounds.
#[derive(Clone)]
pub struct VmaData {
    pub flags: VmFlags,
    /// Page offset of `start` into the shared object (Linux: `vm_pgoff`).
    pub pgoff: u64,
    /// The pages of a shared anonymous mapping (Linux: `vm_file` on shmem).
    pub shmem: Option<Arc<AnonShmem>>,
    /// The file mapped, kept open (and its pages cached) while mapped
    /// (Linux: `vm_file`); its pages come from the file's page cache.
    pub file: Option<Arc<File>>,
}

impl VmaData {
    pub fn anonymous(flags: VmFlags) -> Self {
        Self { flags, pgoff: 0, shmem: None, file: None }
    }

    /// A mapping of `file` from page `pgoff` on.
    pub fn file(flags: VmFlags, file: Arc<File>, pgoff: u64) -> Self {
        Self { flags, pgoff, shmem: None, file: Some(file) }
    }

    /// Linux: `vma_is_anonymous` (shared anonymous memory counts as
    /// Linux's shmem file, so it is not).
    pub fn is_anonymous(&self) -> bool {
        self.file.is_none() && self.shmem.is_none()
    }

    /// Private and possibly writable: its pages are copied on write after
    /// fork (Linux: `is_cow_mapping`).
    pub fn is_cow_mapping(&self) -> bool {
        !self.flags.contains(VmFlags::SHARED) && self.flags.contains(VmFlags::MAYWRITE)
    }

    /// Whether any access is allowed (Linux: `vma_is_accessible`).
    pub fn is_accessible(&self) -> bool {
        self.flags.intersects(VmFlags::ACCESS)
    }

    /// The PTE bits for a page of this area before any write fault
    /// (Linux: `vm_get_page_prot` and x86's `protection_map`): private
    /// writable pages start read-only so that the first write can copy or
    /// claim them; `PROT_NONE` pages stay present but kernel-only.
    pub fn page_prot(&self) -> PteFlags {
        let mut prot = PteFlags::PRESENT | PteFlags::ACCESSED;
        if self.is_accessible() {
            prot |= PteFlags::USER;
        }
        if !self.flags.contains(VmFlags::EXEC) && cpu_has_nx() {
            prot |= PteFlags::NX;
        }
        if self.flags.contains(VmFlags::SHARED | VmFlags::WRITE) && !self.wants_writenotify() {
            prot |= PteFlags::RW;
        }
        prot
    }

    /// Whether writes through this shared mapping must fault first so
    /// that the page is marked dirty (Linux: `vma_wants_writenotify`):
    /// a file whose pages are written back. Its PTEs start read-only;
    /// the write fault makes them writable (`mkwrite`).
    pub fn wants_writenotify(&self) -> bool {
        self.file
            .as_ref()
            .and_then(|f| f.f_inode.i_mapping())
            .is_some_and(|m| m.a_ops.can_writeback())
    }
}

impl vma_tree::AreaData for VmaData {
    fn split_off(&self, offset: u64) -> Self {
        Self { pgoff: self.pgoff + (offset >> PAGE_SHIFT), ..self.clone() }
    }

    /// Linux's `is_mergeable_vma`: same flags, and for shared memory or
    /// a file the same object at consecutive offsets.
    fn can_merge(&self, len: u64, next: &Self) -> bool {
        let consecutive = self.pgoff + (len >> PAGE_SHIFT) == next.pgoff;
        let same_object = match (&self.shmem, &next.shmem, &self.file, &next.file) {
            (None, None, None, None) => true,
            (Some(a), Some(b), None, None) => Arc::ptr_eq(a, b) && consecutive,
            (None, None, Some(a), Some(b)) => Arc::ptr_eq(a, b) && consecutive,
            _ => false,
        };
        self.flags == next.flags && same_object
    }

    /// Linux: `stack_guard_gap`, kept free below a grows-down stack.
    fn guard_gap(&self) -> u64 {
        if self.flags.contains(VmFlags::GROWSDOWN) { STACK_GUARD_GAP } else { 0 }
    }
}

/// Free space kept below a stack (Linux: `stack_guard_gap`, 256 pages).
pub const STACK_GUARD_GAP: u64 = 256 * PAGE_SIZE as u64;

/// The page index of `addr` in the object `vma` maps (Linux:
/// `linear_page_index`).
pub fn linear_page_index(vma: &Vma, addr: u64) -> u64 {
    ((addr - vma.start) >> PAGE_SHIFT) + vma.pgoff
}

/// The memory behind a `MAP_SHARED|MAP_ANONYMOUS` mapping (Linux: the
/// shmem file `shmem_zero_setup` creates): pages by index, allocated on
/// first touch, shared by every VMA that maps it. Each page holds one
/// reference for the object and one per PTE mapping it.
#[doc(alias = "shmem_zero_setup")]
pub struct AnonShmem {
    pages: SpinLock<BTreeMap<u64, Pfn>>,
}

impl AnonShmem {
    pub fn new() -> Arc<Self> {
        Arc::new(Self { pages: SpinLock::new(BTreeMap::new()) })
    }

    /// The page at `index`, allocated zeroed on first use, with a
    /// reference taken for the caller's PTE (Linux: `shmem_get_folio`).
    pub fn get_page(&self, index: u64) -> KResult<Pfn> {
        let mut pages = self.pages.lock();
        let pfn = match pages.get(&index) {
            Some(&pfn) => pfn,
            None => {
                let pfn = alloc_pages(0)?;
                clear_pages(pfn, 0);
                pages.insert(index, pfn);
                pfn
            }
        };
        pfn_to_page(pfn).ok_or(Errno::EFAULT)?.get();
        Ok(pfn)
    }

    /// Frees the object's pages with index in `[start, end)`; whoever
    /// maps them keeps the page until its PTE goes (Linux:
    /// `shmem_fallocate(FALLOC_FL_PUNCH_HOLE)` for `MADV_REMOVE`).
    pub fn punch_hole(&self, start: u64, end: u64) {
        let removed = {
            let mut pages = self.pages.lock();
            let mut removed = pages.split_off(&start);
            let mut rest = removed.split_off(&end);
            pages.append(&mut rest);
            removed
        };
        for pfn in removed.into_values() {
            put_page(pfn);
        }
    }

    /// Whether the page at `index` exists (Linux: `mincore_page`).
    pub fn has_page(&self, index: u64) -> bool {
        self.pages.lock().contains_key(&index)
    }

    /// Pages allocated so far (Linux: `shmem_inode_info->alloced`).
    #[allow(dead_code, reason = "for /proc/meminfo's Shmem line")]
    pub fn nr_pages(&self) -> usize {
        self.pages.lock().len()
    }
}

impl Drop for AnonShmem {
    fn drop(&mut self) {
        for (_, pfn) in core::mem::take(&mut *self.pages.lock()) {
            put_page(pfn);
        }
    }
}

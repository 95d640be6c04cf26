//! Memory management: physical pages, the kernel's page tables, kernel
//! allocators, and (later) address spaces of user processes.
//!
//! Linux: mm/, arch/x86/kernel/setup.c (the boot reservations).
//!
//! `mem_init` brings memory up in Linux's order: memblock from the e820 map
//! (`e820__memblock_setup`) with the boot reservations; the kernel page
//! tables (`init_mem_mapping`), allocated from memblock below the boot
//! tables' 1 GiB; the `mem_map`; the buddy allocator, fed with what memblock
//! left free (`memblock_free_all`). Slab (`kmalloc`, the Rust heap) and
//! vmalloc (`vmalloc`, `ioremap`, `KernelStack`) need no init step: they
//! work from the moment the page allocator does.
//!
//! Files, lowest layer first: `addr` (address types, layout), `memblock`,
//! `page` (`Page`, `mem_map`), `page_alloc` (buddy zone), `page_table`
//! (`PageTable`; entry format and CR3/TLB in `arch::mm`), `slub` and
//! `slab_common` (`KmemCache`, `kmalloc`), `vmalloc`, `kstack`. User
//! address spaces: `mm_types` (`Mm`), `vma` (`Vma`), `memory` (page
//! faults, COW), `filemap` (faults on file mappings, truncation), `pfnmap`
//! (device memory, `VM_PFNMAP`), `mmap` (with the `mmap`/`munmap`/`brk`
//! syscalls), `mremap`, `mprotect`, `madvise`,
//! `msync`, `mincore`, `fork_mm` (`dup_mmap`), `highmem` (frame contents)
//! and `page_table/walk` (PTE ranges).
//! Only `page`, `page_alloc`, `page_table`, `slub`, `slab_common` and `highmem` use
//! `unsafe`, each for a handful of commented raw-memory accesses.
//!
//! # Lock order (outermost first)
//! `VMAP_AREAS`, `KERNEL_PGTABLE`, a `KmemCache`'s lock, `ZONE`, then
//! `MEMBLOCK` (boot only; taken under `ZONE` at the hand-over). Every one is an IRQ-safe spinlock, so all
//! of mm may be called from interrupt handlers, but not while holding a
//! lock of its own.

pub mod addr;
pub mod filemap;
pub mod fork_mm;
pub mod highmem;
pub mod kstack;
pub mod madvise;
pub mod memblock;
pub mod memory;
pub mod mincore;
pub mod mm_types;
pub mod mmap;
pub mod mprotect;
pub mod mremap;
pub mod msync;
pub mod page;
pub mod page_alloc;
pub mod page_table;
pub mod page_writeback;
pub mod pfnmap;
pub mod slab_common;
pub mod slub;
mod tests;
pub mod vm_event;
pub mod vma;
pub mod vmalloc;
pub mod vmscan;

// The mm API other subsystems call as `mm::name`, as in Linux's headers;
// some have no caller yet.
#[allow(unused_imports)]
pub use crate::arch::mm::ioremap::{ioremap, ioremap_cache, iounmap};
#[allow(unused_imports)]
pub use kstack::KernelStack;
#[allow(unused_imports)]
pub use page_alloc::{alloc_pages, free_pages, get_zeroed_page, nr_free_pages};
#[allow(unused_imports)]
pub use slab_common::{kfree, kmalloc};
#[allow(unused_imports)]
pub use vmalloc::{vfree, vmalloc, vzalloc};

use crate::arch::boot::{BootParams, PhysRange};
use crate::arch::mm::init_64;
use crate::arch::sections;
use crate::kernel::errno::KResult;
use crate::mm::addr::{PAGE_SHIFT, PAGE_SIZE, PhysAddr, VirtAddr, virt_to_phys};
use crate::mm::memblock::{MEMBLOCK, Memblock};
use crate::{pr_err, pr_info, pr_warn};

/// The boot page tables map the first GiB only (head.rs).
const EARLY_MAPPED: u64 = 1 << 30;
/// Linux reserves the first MiB for the BIOS (`reserve_real_mode`,
/// `trim_low_memory_range`, `CONFIG_X86_RESERVE_LOW`).
const LOW_RESERVE: u64 = 1 << 20;

/// Memory figures for the boot banner and `sysinfo` (Linux: `struct sysinfo`).
#[derive(Clone, Copy, Debug)]
pub struct MemInfo {
    pub total_ram_pages: u64,
    pub free_ram_pages: u64,
}

/// Linux: `si_meminfo`.
pub fn si_meminfo() -> MemInfo {
    MemInfo {
        total_ram_pages: page_alloc::totalram_pages(),
        free_ram_pages: page_alloc::nr_free_pages(),
    }
}

/// Takes physical memory over from the boot loader: the page allocator, the
/// kernel's page tables, the slab allocator (Linux: `mm_core_init`).
/// Returns the initrd if it is usable (see [`reserve_initrd`]).
///
/// # Panics
/// If there is too little memory to build the page tables and `mem_map`:
/// nothing can run then.
pub fn mem_init(params: &BootParams) -> Option<PhysRange> {
    let initrd = memblock_setup(params).expect("memblock has room for the e820 map");
    init_64::init_mem_mapping(params).expect("enough memory for the kernel page tables");
    MEMBLOCK.lock().set_current_limit(u64::MAX);
    let max_pfn = MEMBLOCK.lock().end_of_dram() >> PAGE_SHIFT;
    page::memmap_init(max_pfn).expect("enough memory for mem_map");
    let freed = page_alloc::memblock_free_all().expect("page allocator set up");
    print_memory_summary(freed);
    pr_info!(
        "SLUB: HWalign=64, Order=0-{}, MinObjects={}, Nodes=1",
        slub::MAX_SLAB_ORDER,
        slub::MIN_OBJECTS
    );
    initrd
}

/// Fills memblock from the e820 map and reserves what is in use (Linux:
/// `e820__memblock_setup` and the `memblock_reserve` calls of `setup_arch`).
/// Returns the initrd if it is usable.
fn memblock_setup(params: &BootParams) -> KResult<Option<PhysRange>> {
    let mut mb = MEMBLOCK.lock();
    let page_mask = PAGE_SIZE as u64 - 1;
    for r in params.e820.ram() {
        // Only whole pages are usable.
        mb.add((r.start + page_mask) & !page_mask, r.end & !page_mask)?;
    }
    mb.reserve(0, LOW_RESERVE)?;
    let image = sections::kernel_image();
    let phys = |va| virt_to_phys(VirtAddr::new(va)).map_or(0, |pa| pa.as_u64());
    let (image_start, image_end) = (phys(image.start), phys(image.end));
    if mb.memory.regions().iter().all(|r| r.base > image_start || r.end < image_end) {
        // QEMU loaded us there all the same; nothing we allocate is safe.
        panic!("the kernel image [mem {image_start:#x}-{image_end:#x}] is not in usable RAM");
    }
    mb.reserve(image_start, image_end)?;
    let initrd = params.initrd.and_then(|r| reserve_initrd(&mut mb, r, (image_start, image_end)));
    mb.set_current_limit(EARLY_MAPPED);
    pr_info!("Early memory node ranges");
    for r in mb.memory.regions() {
        pr_info!("  node   0: [mem {:#018x}-{:#018x}]", r.base, r.end - 1);
    }
    if mb.memory.total_size() == 0 {
        pr_warn!("memblock: no usable RAM in the e820 map");
    }
    Ok(initrd)
}

/// Keeps the page allocator off the initrd until it is unpacked (Linux:
/// `reserve_initrd`). QEMU puts it at the top of RAM without looking at
/// our bss: one that overlaps the image was wiped by head.rs zeroing bss,
/// and one outside RAM cannot be trusted, so either is dropped, as Linux
/// drops an initrd it cannot place ("disabling initrd").
fn reserve_initrd(mb: &mut Memblock, initrd: PhysRange, image: (u64, u64)) -> Option<PhysRange> {
    let page_mask = PAGE_SIZE as u64 - 1;
    let (start, end) =
        (initrd.start & !page_mask, initrd.end.saturating_add(page_mask) & !page_mask);
    let in_ram = mb.memory.regions().iter().any(|r| r.base <= start && end <= r.end);
    let on_image = start < image.1 && image.0 < end;
    if !in_ram || on_image || mb.reserve(start, end).is_err() {
        pr_err!(
            "initrd: [mem {:#010x}-{:#010x}] {} - disabling initrd",
            initrd.start,
            initrd.end.saturating_sub(1),
            if on_image { "overlaps the kernel image" } else { "is not in usable RAM" }
        );
        return None;
    }
    Some(initrd)
}

/// Gives the initrd's pages to the page allocator once it is unpacked
/// (Linux: `free_initrd_mem`, arch/x86/mm/init.c). The caller must hold no
/// slice of it any more (`drivers::char::mem::initrd_bytes`).
pub fn free_initrd_mem(initrd: PhysRange) {
    let page_mask = PAGE_SIZE as u64 - 1;
    let start = PhysAddr::new(initrd.start & !page_mask).pfn();
    let end = PhysAddr::new(initrd.end.saturating_add(page_mask) & !page_mask).pfn();
    let freed = page_alloc::free_reserved_area(start, end);
    pr_info!("Freeing initrd memory: {}K", (freed * PAGE_SIZE as u64) >> 10);
}

/// Prints Linux's "Memory: …K/…K available (…)" line (Linux: `mem_init_print_info`).
fn print_memory_summary(freed: u64) {
    let kib = |bytes: u64| bytes >> 10;
    let size = |s: sections::Section| s.end - s.start;
    let physpages = MEMBLOCK.lock().memory.total_size() >> PAGE_SHIFT;
    let (text, rodata, bss) = (sections::text(), sections::rodata(), sections::bss());
    let data = size(sections::data()) - size(bss);
    let image = size(text) + size(rodata) + size(sections::data());
    let reserved = (physpages - freed) * PAGE_SIZE as u64;
    pr_info!(
        "Memory: {}K/{}K available ({}K kernel code, {}K rwdata, {}K rodata, {}K bss, {}K reserved)",
        kib(freed * PAGE_SIZE as u64),
        kib(physpages * PAGE_SIZE as u64),
        kib(size(text)),
        kib(data),
        kib(size(rodata)),
        kib(size(bss)),
        kib(reserved.saturating_sub(image)),
    );
}

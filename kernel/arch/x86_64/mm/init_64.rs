//! Builds the kernel's page tables at boot and switches to them.
//!
//! Linux: arch/x86/mm/init_64.c (`kernel_physical_mapping_init`,
//! `preallocate_vmalloc_pages`, `mark_rodata_ro`), arch/x86/mm/init.c
//! (`init_mem_mapping`).
//!
//! The new PML4 holds:
//! - the direct map at `PAGE_OFFSET` of the first MiB (as Linux, so BIOS
//!   tables such as the RSDP are readable) and of every RAM, ACPI and
//!   ACPI-NVS range of the e820 map, with the largest pages that fit: 1 GiB
//!   where the CPU has them, else 2 MiB, 4 KiB at unaligned edges; global
//!   and never executable. Holes (MMIO, "reserved") are left out so that
//!   nothing maps device memory as cacheable; `ioremap` maps them on demand.
//!   Exception: "reserved" ranges below 1 GiB, firmware memory where QEMU
//!   keeps the ACPI tables (see `LOW_FIRMWARE_END`);
//! - the kernel image at `__START_KERNEL_map` in 4 KiB pages: text read-only
//!   and executable, rodata read-only, data and bss writable, the last two
//!   never executable; the page `boot_stack_guard` below the boot stack is
//!   left out so that a boot-stack overflow faults instead of corrupting bss;
//! - every kernel-half PML4 entry that can ever gain a mapping, pointing at
//!   (possibly empty) PDPTs: those of the vmalloc space and of the kernel
//!   image; the direct map's are filled by mapping RAM.
//!
//! Why the last point: "Linux strives on family values". Every process gets
//! its own PML4 whose upper half is copied from its parent's, all the way
//! back to this one. If a kernel PML4 entry could appear later (a vmalloc
//! area in a new 512 GiB slot), every PML4 in the system would have to be
//! found and patched. With the entries filled now and never changed,
//! copying them shares the same PDPTs, so a kernel mapping made later under
//! any of them is at once visible in every address space. The cost is one
//! page per entry: 64 for the 32 TiB of vmalloc space, 256 KiB (Linux:
//! `preallocate_vmalloc_pages`); the other kernel-half slots (Linux's
//! vmemmap, cpu_entry_area, LDT remap) are unused in Ferrite and stay
//! empty, which saves 768 KiB that small machines need.
//!
//! Runs once on the boot CPU, on the boot page tables, which map only the
//! first GiB: memblock's limit keeps the new tables inside it.

use crate::arch::boot::{BootParams, E820_MAX_ENTRIES, E820Type};
use crate::arch::mm::pgtable_types::{PMD_SIZE, PTRS_PER_TABLE, PUD_SIZE, PteFlags, level_size};
use crate::arch::mm::tlb;
use crate::arch::sections;
use crate::kernel::errno::KResult;
use crate::mm::addr::{
    DIRECT_MAP_SIZE, KERNEL_MAP, PAGE_OFFSET, PAGE_SIZE, PhysAddr, VMALLOC_END, VMALLOC_START,
    VirtAddr, virt_to_phys,
};
use crate::mm::memblock::MemblockPgtableAlloc;
use crate::mm::page_table::{KERNEL_PGTABLE, PageTable};
use crate::pr_info;

unsafe extern "C" {
    /// The page below the boot stack (head.rs).
    static boot_stack_guard: u8;
}

const ISA_END_ADDRESS: u64 = 0x10_0000;
/// "Reserved" e820 ranges below this are firmware memory, not MMIO (on PCs
/// the device holes start above 1 GiB), and QEMU's PVH boot puts the ACPI
/// tables there as "reserved": they are direct-mapped, as the boot tables
/// did, so `drivers::acpi` may read them through `phys_to_virt`.
const LOW_FIRMWARE_END: u64 = 1 << 30;

/// The address of the boot stack's guard page.
pub fn boot_stack_guard_page() -> VirtAddr {
    VirtAddr::new((&raw const boot_stack_guard) as u64)
}

/// Builds the kernel page tables and loads them (Linux: `init_mem_mapping`
/// and `paging_init`). Failure here means too little memory to boot.
pub fn init_mem_mapping(params: &BootParams) -> KResult<()> {
    tlb::probe_paging_features();
    let alloc = &mut MemblockPgtableAlloc;
    let mut pgd = PageTable::new_with(alloc)?;
    for index in pgd_index(VMALLOC_START)..=pgd_index(VMALLOC_END) {
        pgd.prealloc_pgd(index, alloc)?;
    }
    pgd.prealloc_pgd(pgd_index(KERNEL_MAP), alloc)?;
    let mut ranges = DirectMapRanges::new();
    ranges.add(0, ISA_END_ADDRESS);
    for e in params.e820.entries() {
        let firmware_low = e.kind == E820Type::Reserved && e.range.end <= LOW_FIRMWARE_END;
        if matches!(e.kind, E820Type::Ram | E820Type::Acpi | E820Type::Nvs) || firmware_low {
            ranges.add(e.range.start, e.range.end);
        }
    }
    for &(start, end) in ranges.merged() {
        pr_info!("init_memory_mapping: [mem {:#010x}-{:#010x}]", start, end - 1);
        kernel_physical_mapping_init(&mut pgd, start, end)?;
    }
    map_kernel_image(&mut pgd)?;

    tlb::enable_paging_features();
    // SAFETY: `pgd` maps the kernel image (code, data, the boot stack but
    // for its guard page) where it is linked, and the direct map of all
    // RAM; nothing the kernel touches from here on lies elsewhere (the
    // boot information was copied into `BootParams`).
    unsafe { tlb::write_cr3(PhysAddr::new(pgd.root().phys().as_u64())) };
    tlb::flush_tlb_all();
    *KERNEL_PGTABLE.lock() = Some(pgd);
    Ok(())
}

/// The PML4 slot of `va` (Linux: `pgd_index`).
const fn pgd_index(va: u64) -> usize {
    // 9 bits: the cast cannot truncate.
    ((va >> 39) & (PTRS_PER_TABLE as u64 - 1)) as usize
}

/// Direct-maps `[start, end)` with the largest pages that fit (Linux:
/// `kernel_physical_mapping_init`).
fn kernel_physical_mapping_init(pgd: &mut PageTable, start: u64, end: u64) -> KResult<()> {
    let end = end.min(DIRECT_MAP_SIZE);
    let gbpages = tlb::cpu_has_gbpages();
    let mut pa = start;
    while pa < end {
        let fits = |size: u64| pa.is_multiple_of(size) && pa + size <= end;
        let level = if gbpages && fits(PUD_SIZE) {
            3
        } else if fits(PMD_SIZE) {
            2
        } else {
            1
        };
        let va = VirtAddr::new(PAGE_OFFSET + pa);
        pgd.map_with(
            va,
            PhysAddr::new(pa).pfn(),
            kernel_flags(),
            level,
            &mut MemblockPgtableAlloc,
        )?;
        pa += level_size(level);
    }
    Ok(())
}

/// `PAGE_KERNEL`, without the bits the CPU lacks.
fn kernel_flags() -> PteFlags {
    supported(PteFlags::KERNEL)
}

/// Drops NX and GLOBAL when the CPU does not have them: NX would then be a
/// reserved bit and fault.
pub fn supported(mut flags: PteFlags) -> PteFlags {
    if !tlb::cpu_has_nx() {
        flags -= PteFlags::NX;
    }
    if !tlb::cpu_has_pge() {
        flags -= PteFlags::GLOBAL;
    }
    flags
}

/// Maps the image page by page with its section's permissions (Linux:
/// the kernel mapping plus `mark_rodata_ro` and `mark_nxdata_nx`).
fn map_kernel_image(pgd: &mut PageTable) -> KResult<()> {
    let image = sections::kernel_image();
    let (rodata, data) = (sections::rodata(), sections::data());
    let guard = boot_stack_guard_page().as_u64();
    let mut va = image.start & !(PAGE_SIZE as u64 - 1);
    while va < image.end {
        let flags = if va < rodata.start {
            PteFlags::KERNEL_ROX
        } else if va < data.start {
            PteFlags::KERNEL_RO
        } else {
            PteFlags::KERNEL
        };
        let pa = virt_to_phys(VirtAddr::new(va)).expect("the image is in the kernel map");
        if va != guard {
            pgd.map_with(
                VirtAddr::new(va),
                pa.pfn(),
                supported(flags),
                1,
                &mut MemblockPgtableAlloc,
            )?;
        }
        va += PAGE_SIZE as u64;
    }
    let kib = |s: sections::Section| (s.end - s.start) >> 10;
    pr_info!(
        "Write protecting the kernel read-only data: {}k text, {}k rodata",
        kib(sections::text()),
        kib(rodata)
    );
    Ok(())
}

/// The ranges to direct-map, page-aligned outwards, sorted and merged.
struct DirectMapRanges {
    ranges: [(u64, u64); E820_MAX_ENTRIES + 1],
    len: usize,
}

impl DirectMapRanges {
    fn new() -> Self {
        Self { ranges: [(0, 0); E820_MAX_ENTRIES + 1], len: 0 }
    }

    fn add(&mut self, start: u64, end: u64) {
        let mask = PAGE_SIZE as u64 - 1;
        let (start, end) = (start & !mask, end.saturating_add(mask) & !mask);
        if start < end && self.len < self.ranges.len() {
            self.ranges[self.len] = (start, end);
            self.len += 1;
        }
    }

    fn merged(&mut self) -> &[(u64, u64)] {
        let ranges = &mut self.ranges[..self.len];
        ranges.sort_unstable();
        let mut out = 0;
        for i in 0..ranges.len() {
            let (start, end) = ranges[i];
            if out > 0 && start <= ranges[out - 1].1 {
                ranges[out - 1].1 = ranges[out - 1].1.max(end);
            } else {
                ranges[out] = (start, end);
                out += 1;
            }
        }
        &self.ranges[..out]
    }
}

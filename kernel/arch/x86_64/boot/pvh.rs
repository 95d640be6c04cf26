//! Reads what QEMU hands over at a PVH boot: the command line, the memory
//! map, the initrd module and the ACPI RSDP.
//!
//! Linux: arch/x86/platform/pvh/enlighten.c (`pvh_start_info`), and the layout
//! of `struct hvm_start_info` in xen/include/public/arch-x86/hvm/start_info.h.
//!
//! Runs once on the boot CPU, on the early page tables, before anything else:
//! the information is copied into [`BootParams`] so that the pages QEMU wrote it
//! to can be handed to the page allocator.

use super::{BootParams, E820Entry, E820Type, PhysRange};
use crate::mm::addr::{PhysAddr, phys_to_virt};

const HVM_START_MAGIC: u32 = 0x336e_c578;

#[repr(C)]
#[derive(Clone, Copy)]
struct HvmStartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    // Version 1 and later.
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct HvmModlistEntry {
    paddr: u64,
    size: u64,
    cmdline_paddr: u64,
    reserved: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct HvmMemmapEntry {
    addr: u64,
    size: u64,
    kind: u32,
    reserved: u32,
}

/// Only the first GiB is mapped this early (see `head.rs`); QEMU puts the
/// start info, the command line and the memory map far below that.
const EARLY_MAPPED: u64 = 1 << 30;

/// Reads a `T` at physical address `pa` through the early direct map.
fn read_early<T: Copy>(pa: u64) -> Option<T> {
    let end = pa.checked_add(size_of::<T>() as u64)?;
    if end > EARLY_MAPPED || !pa.is_multiple_of(align_of::<T>() as u64) {
        return None;
    }
    let ptr = phys_to_virt(PhysAddr::new(pa)).as_ptr::<T>();
    // SAFETY:
    // 1. `[pa, end)` lies in the first GiB, which the early page tables map
    //    at `PAGE_OFFSET`, and the pointer is aligned for `T`.
    // 2. QEMU wrote these bytes before jumping to us and nothing writes them
    //    until the page allocator takes the memory over, after this returns.
    // 3. `T` is plain old data (`Copy`, integers only), valid for any bits.
    Some(unsafe { ptr.read() })
}

/// Copies the boot information QEMU left at physical address `start_info`.
///
/// # Panics
/// If the PVH magic is wrong: no boot loader we support would do that, and
/// without a memory map there is nothing sensible to run.
pub fn parse(start_info: u64) -> BootParams {
    let info: HvmStartInfo = read_early(start_info).expect("hvm_start_info is readable");
    assert_eq!(info.magic, HVM_START_MAGIC, "not booted through PVH");

    let mut params = BootParams::empty();
    params.set_cmdline(|i| read_early::<u8>(info.cmdline_paddr + i as u64));
    if info.rsdp_paddr != 0 {
        params.rsdp = Some(PhysAddr::new(info.rsdp_paddr));
    }
    if info.nr_modules > 0
        && let Some(module) = read_early::<HvmModlistEntry>(info.modlist_paddr)
    {
        params.initrd = Some(PhysRange::new(module.paddr, module.size));
    }
    if info.version >= 1 {
        for i in 0..u64::from(info.memmap_entries) {
            let pa = info.memmap_paddr + i * size_of::<HvmMemmapEntry>() as u64;
            let Some(e) = read_early::<HvmMemmapEntry>(pa) else {
                break;
            };
            params.e820.push(E820Entry {
                range: PhysRange::new(e.addr, e.size),
                kind: E820Type::from_raw(e.kind),
            });
        }
    }
    params
}

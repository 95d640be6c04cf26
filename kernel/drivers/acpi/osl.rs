//! The OS services layer: how ACPI code reaches firmware memory and I/O
//! ports.
//!
//! Linux: drivers/acpi/osl.c (`acpi_os_map_memory`, `acpi_os_read_port`,
//! `acpi_os_write_port`).
//!
//! Tables are handed out as `&'static [u8]`: firmware tables sit in memory
//! the firmware reserved for them and nobody writes them after boot, so a
//! shared slice is an honest description. Everything above this file parses
//! those slices with bounds checks and no `unsafe`.
//!
//! Mappings are never removed: tables are read at boot, a handful of times,
//! and those outside the direct map cost one small vmalloc area each.
//!
//! # Locking
//! None of its own (`KERNEL_PGTABLE` is taken briefly to ask whether a
//! range is direct-mapped); port accesses are single instructions.

use x86_64::instructions::port::Port;

use crate::mm::addr::{PAGE_SIZE, PhysAddr, phys_to_virt};
use crate::mm::ioremap_cache;
use crate::mm::page_table::KERNEL_PGTABLE;

/// The longest table we agree to map: a length field above this is a
/// corrupt table, not a big one (real DSDTs are at most a few hundred KiB).
pub const ACPI_MAX_TABLE_LEN: usize = 16 << 20;

/// What the early page tables map at `PAGE_OFFSET`: the first GiB.
const EARLY_DIRECT_MAP_END: u64 = 1 << 30;

/// Whether every page of `[phys, end)` is reachable at `phys_to_virt`.
/// Before `mem_init` the early tables map the first GiB; after it the
/// direct map covers RAM only, so we ask the kernel page table.
fn direct_mapped(phys: u64, end: u64) -> bool {
    let pgtable = KERNEL_PGTABLE.lock();
    let Some(pgtable) = pgtable.as_ref() else {
        return end <= EARLY_DIRECT_MAP_END;
    };
    let first = phys & !(PAGE_SIZE as u64 - 1);
    (first..end).step_by(PAGE_SIZE).all(|pa| {
        let va = phys_to_virt(PhysAddr::new(pa));
        pgtable.translate(va).is_some_and(|(mapped, _)| mapped.as_u64() == pa)
    })
}

/// Maps `len` bytes of firmware memory at `phys` for reading
/// (Linux: `acpi_os_map_memory`). `None` if the range is empty, too long,
/// wraps, or is not reachable.
pub fn acpi_os_map_memory(phys: u64, len: usize) -> Option<&'static [u8]> {
    if len == 0 || len > ACPI_MAX_TABLE_LEN {
        return None;
    }
    let end = phys.checked_add(len as u64)?;
    let va = if direct_mapped(phys, end) {
        phys_to_virt(PhysAddr::new(phys))
    } else {
        // Reserved or ACPI ranges outside the direct map (above 1 GiB of
        // RAM, say) get a write-back mapping of their own, kept for good.
        ioremap_cache(PhysAddr::new(phys), len).ok()?
    };
    // SAFETY:
    // 1. `[va, va + len)` maps `[phys, end)`: through the direct map
    //    (checked above) or a fresh `ioremap_cache` of exactly that range;
    //    neither is ever torn down, so the pointer is valid for `len` bytes
    //    of reads and never dangles.
    // 2. Firmware tables are not written by anyone once the OS runs, so no
    //    `&mut` to these bytes exists or will exist.
    // 3. `u8` has no alignment or validity requirements.
    Some(unsafe { core::slice::from_raw_parts(va.as_ptr::<u8>(), len) })
}

/// Reads an I/O port of `width` bits (8, 16 or 32) (Linux:
/// `acpi_os_read_port`); other widths read as 0.
pub fn acpi_os_read_port(port: u16, width: u8) -> u32 {
    match width {
        8 => {
            let mut p = Port::<u8>::new(port);
            // SAFETY: the port comes from the FADT, which names it as an ACPI
            // fixed-hardware register; reading it has no memory effects.
            u32::from(unsafe { p.read() })
        }
        16 => {
            let mut p = Port::<u16>::new(port);
            // SAFETY: as above.
            u32::from(unsafe { p.read() })
        }
        32 => {
            let mut p = Port::<u32>::new(port);
            // SAFETY: as above.
            unsafe { p.read() }
        }
        _ => 0,
    }
}

/// Writes the low `width` bits (8, 16 or 32) of `value` to an I/O port
/// (Linux: `acpi_os_write_port`); other widths write nothing.
pub fn acpi_os_write_port(port: u16, value: u32, width: u8) {
    match width {
        8 => {
            let mut p = Port::<u8>::new(port);
            // SAFETY: the port is an ACPI register named by the FADT; writing
            // it programs chipset hardware and touches no memory we own.
            unsafe { p.write(value.to_le_bytes()[0]) }
        }
        16 => {
            let mut p = Port::<u16>::new(port);
            let [b0, b1, ..] = value.to_le_bytes();
            // SAFETY: as above.
            unsafe { p.write(u16::from_le_bytes([b0, b1])) }
        }
        32 => {
            let mut p = Port::<u32>::new(port);
            // SAFETY: as above.
            unsafe { p.write(value) }
        }
        _ => {}
    }
}

const PCI_CONFIG_ADDRESS: u16 = 0xcf8;
const PCI_CONFIG_DATA: u16 = 0xcfc;

/// Writes one byte of PCI configuration space on segment 0 through the
/// 0xcf8/0xcfc mechanism (Linux: `acpi_os_write_pci_configuration`); used
/// for a FADT reset register in PCI space.
pub fn acpi_os_write_pci_configuration_u8(bus: u8, dev: u8, func: u8, reg: u8, value: u8) {
    let address = 0x8000_0000
        | u32::from(bus) << 16
        | u32::from(dev & 0x1f) << 11
        | u32::from(func & 7) << 8
        | u32::from(reg & 0xfc);
    let mut addr_port = Port::<u32>::new(PCI_CONFIG_ADDRESS);
    // SAFETY: 0xcf8 is the PCI host bridge's configuration address
    // register on every PC; selecting a register has no memory effects.
    unsafe { addr_port.write(address) };
    let mut data_port = Port::<u8>::new(PCI_CONFIG_DATA + u16::from(reg & 3));
    // SAFETY: writes the selected configuration byte, which the firmware
    // named as its reset register; no memory we own is touched.
    unsafe { data_port.write(value) };
}

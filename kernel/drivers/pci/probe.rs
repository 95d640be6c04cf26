//! Bus enumeration: find every function on bus 0 and the buses behind its
//! bridges, size its BARs, walk its capability list, and keep a `PciDev`
//! for each.
//!
//! Linux: drivers/pci/probe.c (`pci_scan_root_bus`, `pci_scan_child_bus`,
//! `pci_scan_slot`, `pci_scan_device`, `pci_setup_device`,
//! `pci_read_bases`, `__pci_read_base`).
//!
//! Nothing a device reports is trusted: vendor 0xffff means nothing is
//! there, the capability walk is bounded (libs/pci), a BAR that makes no
//! sense is left out, and a bridge that names a bus already scanned (or
//! bus 0 again) is not followed.
//!
//! # Locking
//! Runs at boot before anything else touches PCI; config accesses take
//! `access::PCI_CONFIG_LOCK` one at a time.

use alloc::sync::Arc;
use alloc::vec::Vec;

use pci::regs::*;
use pci::{Bar, ConfigSpace, PCI_CFG_SPACE_SIZE, bar_is_64, capabilities, decode_bar, pci_devfn};

use super::PciDev;
use super::access::{pci_conf1_read16, pci_conf1_read32, pci_conf1_write16, pci_conf1_write32};
use crate::pr_info;

/// Reads a function's whole 256-byte configuration space.
fn read_config_space(bus: u8, devfn: u8) -> ConfigSpace {
    let mut cfg = ConfigSpace([0; PCI_CFG_SPACE_SIZE]);
    for (reg, dword) in (0..PCI_CFG_SPACE_SIZE).step_by(4).zip(cfg.0.chunks_exact_mut(4)) {
        dword.copy_from_slice(&pci_conf1_read32(bus, devfn, reg).to_le_bytes());
    }
    cfg
}

/// Whether a function answers (Linux: `pci_bus_read_dev_vendor_id`).
fn pci_dev_present(bus: u8, devfn: u8) -> bool {
    let id = pci_conf1_read32(bus, devfn, 0);
    !matches!(id, 0xffff_ffff | 0 | 0x0000_ffff | 0xffff_0000)
}

/// Sizes one BAR register: write all ones, read back which bits stuck,
/// restore (Linux: the middle of `__pci_read_base`). Decode is off.
fn size_bar_reg(bus: u8, devfn: u8, reg: usize) -> (u32, u32) {
    let orig = pci_conf1_read32(bus, devfn, reg);
    pci_conf1_write32(bus, devfn, reg, !0);
    let sized = pci_conf1_read32(bus, devfn, reg);
    pci_conf1_write32(bus, devfn, reg, orig);
    (orig, sized)
}

/// Decodes the first `nr` BARs (Linux: `pci_read_bases`). I/O and memory
/// decode are switched off while the BARs hold all ones, so that the
/// device does not claim addresses it was never given.
fn pci_read_bases(bus: u8, devfn: u8, nr: usize) -> [Option<Bar>; PCI_STD_NUM_BARS] {
    let mut bars = [None; PCI_STD_NUM_BARS];
    let cmd = pci_conf1_read16(bus, devfn, PCI_COMMAND);
    let decode = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
    if cmd & decode != 0 {
        pci_conf1_write16(bus, devfn, PCI_COMMAND, cmd & !decode);
    }
    let mut i = 0;
    while i < nr {
        let reg = bar_reg(i);
        let (orig, sized) = size_bar_reg(bus, devfn, reg);
        let hi = (bar_is_64(orig) && i + 1 < nr).then(|| size_bar_reg(bus, devfn, reg + 4));
        bars[i] = decode_bar(orig, sized, hi);
        i += if bar_is_64(orig) { 2 } else { 1 };
    }
    if cmd & decode != 0 {
        pci_conf1_write16(bus, devfn, PCI_COMMAND, cmd);
    }
    bars
}

/// The configuration offset of BAR `i`.
fn bar_reg(i: usize) -> usize {
    PCI_BASE_ADDRESS_0 + 4 * i
}

/// Reads one function into a `PciDev` (Linux: `pci_scan_device` and
/// `pci_setup_device`), printing it as Linux does.
fn pci_scan_device(bus: u8, devfn: u8) -> PciDev {
    let cfg = read_config_space(bus, devfn);
    let hdr = cfg.read8(PCI_HEADER_TYPE);
    let hdr_type = hdr & PCI_HEADER_TYPE_MASK;
    let nr_bars = match hdr_type {
        PCI_HEADER_TYPE_NORMAL => PCI_STD_NUM_BARS,
        PCI_HEADER_TYPE_BRIDGE => PCI_BRIDGE_NUM_BARS,
        _ => 0,
    };
    let dev = PciDev {
        bus,
        devfn,
        vendor: cfg.read16(PCI_VENDOR_ID),
        device: cfg.read16(PCI_DEVICE_ID),
        class: cfg.read32(PCI_CLASS_REVISION) >> 8,
        hdr_type,
        multifunction: hdr & PCI_HEADER_TYPE_MFD != 0,
        irq_pin: cfg.read8(PCI_INTERRUPT_PIN),
        bars: pci_read_bases(bus, devfn, nr_bars),
        caps: capabilities(&cfg),
        cfg,
    };
    pr_info!(
        "pci {}: [{:04x}:{:04x}] type {:02x} class {:#08x}",
        dev.name(),
        dev.vendor,
        dev.device,
        dev.hdr_type,
        dev.class
    );
    for (i, bar) in dev.bars.iter().enumerate() {
        if let Some(bar) = bar {
            pr_info!("pci {}: reg {:#x}: {}", dev.name(), bar_reg(i), super::BarFmt(bar));
        }
    }
    dev
}

/// Scans the functions of one slot (Linux: `pci_scan_slot`): function 0,
/// and 1-7 only if function 0 says it is a multi-function device.
fn pci_scan_slot(bus: u8, slot: u8, found: &mut Vec<Arc<PciDev>>) {
    for func in 0..8 {
        let devfn = pci_devfn(slot, func);
        if !pci_dev_present(bus, devfn) {
            if func == 0 {
                return;
            }
            continue;
        }
        let dev = pci_scan_device(bus, devfn);
        let single = func == 0 && !dev.multifunction;
        found.push(Arc::new(dev));
        if single {
            return;
        }
    }
}

/// Scans bus 0, then every bus behind a bridge found on it (Linux:
/// `pci_scan_child_bus` and `pci_scan_bridge`, without reassigning bus
/// numbers: the firmware has numbered them).
pub fn pci_scan_root_bus() -> Vec<Arc<PciDev>> {
    let mut found = Vec::new();
    let mut scanned = [false; 256];
    let mut pending = alloc::vec![0u8];
    while let Some(bus) = pending.pop() {
        if core::mem::replace(&mut scanned[usize::from(bus)], true) {
            continue;
        }
        if bus == 0 {
            pr_info!("PCI host bridge to bus 0000:00");
        }
        let first = found.len();
        for slot in 0..32 {
            pci_scan_slot(bus, slot, &mut found);
        }
        for dev in &found[first..] {
            let secondary = dev.cfg.read8(PCI_SECONDARY_BUS);
            if dev.hdr_type == PCI_HEADER_TYPE_BRIDGE && secondary != 0 {
                pending.push(secondary);
            }
        }
    }
    found
}

crate::ktest!(pci_finds_host_bridge, {
    let devices = super::pci_devices();
    let host = devices.iter().find(|d| d.bus == 0 && d.devfn == 0);
    crate::kassert!(host.is_some(), "a function at 0000:00:00.0");
    let host = host.map_or(0, |d| d.class);
    // PCI_CLASS_BRIDGE_HOST, programming interface 0.
    crate::kassert!(host == 0x06_0000, "00:00.0 is the host bridge");
    crate::kassert!(devices.iter().all(|d| d.vendor != 0xffff), "no absent function listed");
    Ok(())
});

crate::ktest!(pci_finds_virtio_blk, {
    let found = super::pci_find_devices(PCI_VENDOR_ID_REDHAT_QUMRANET, &[0x1001, 0x1042]);
    let Some(dev) = found.first() else {
        crate::pr_info!("ktest: no virtio-blk device; test skipped");
        return Ok(());
    };
    // PCI_CLASS_STORAGE_SCSI, as QEMU's virtio-blk-pci reports.
    crate::kassert!(dev.class == 0x01_0000, "mass storage class");
    crate::kassert!(dev.irq_pin == 1, "INTA");
    crate::kassert!(dev.find_capability(PCI_CAP_ID_MSIX).is_some(), "an MSI-X capability");
    crate::kassert!(dev.find_capability(PCI_CAP_ID_VNDR).is_some(), "virtio vendor capabilities");
    let mem64 = dev.bars.iter().flatten().find(|b| b.kind == pci::BarKind::Mem64);
    crate::kassert!(
        mem64.is_some_and(|b| b.addr != 0 && b.size >= 0x4000),
        "the modern 64-bit BAR"
    );
    crate::kassert!(dev.bars.iter().flatten().any(|b| !b.is_mem()), "the legacy I/O BAR");
    Ok(())
});

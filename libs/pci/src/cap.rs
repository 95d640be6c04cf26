//! The capability list and virtio's vendor-specific capabilities.
//!
//! Linux: drivers/pci/pci.c (`__pci_find_next_cap_ttl`),
//! drivers/virtio/virtio_pci_modern_dev.c (`virtio_pci_find_capability`).

use alloc::vec::Vec;

use crate::ConfigSpace;
use crate::regs::*;

/// One entry of the capability list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    /// `PCI_CAP_ID_*`.
    pub id: u8,
    /// Where it sits in configuration space (at least 0x40, dword aligned).
    pub offset: u8,
}

/// Walks the capability list of `cfg`, as Linux does: pointers are
/// masked to dwords, a pointer into the standard header ends the list,
/// an ID of 0xff (an absent device) ends it, and a looping list stops
/// after `PCI_FIND_CAP_TTL` entries.
pub fn capabilities(cfg: &ConfigSpace) -> Vec<Capability> {
    let mut caps = Vec::new();
    if cfg.read16(PCI_STATUS) & PCI_STATUS_CAP_LIST == 0 {
        return caps;
    }
    let mut pos = cfg.read8(PCI_CAPABILITY_LIST);
    for _ in 0..PCI_FIND_CAP_TTL {
        pos &= !3;
        if pos < PCI_STD_HEADER_SIZEOF {
            break;
        }
        let id = cfg.read8(usize::from(pos));
        if id == 0xff {
            break;
        }
        caps.push(Capability { id, offset: pos });
        pos = cfg.read8(usize::from(pos) + 1);
    }
    caps
}

/// A virtio structure a vendor capability points at (Linux:
/// `struct virtio_pci_cap`): `length` bytes at `offset` into BAR `bar`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtioPciCap {
    /// `VIRTIO_PCI_CAP_*_CFG`.
    pub cfg_type: u8,
    pub bar: u8,
    pub offset: u32,
    pub length: u32,
    /// Only for the notify capability: queue `q`'s doorbell is at
    /// `queue_notify_off(q) * notify_off_multiplier`.
    pub notify_off_multiplier: u32,
}

/// The virtio structures `cfg` advertises, first of each type kept (the
/// specification lets a device list alternatives in order of preference).
/// A capability too short for its type, or naming a BAR past the sixth,
/// is skipped, as Linux skips it.
pub fn virtio_pci_caps(cfg: &ConfigSpace) -> Vec<VirtioPciCap> {
    let mut found: Vec<VirtioPciCap> = Vec::new();
    for cap in capabilities(cfg).iter().filter(|c| c.id == PCI_CAP_ID_VNDR) {
        let at = usize::from(cap.offset);
        let cap_len = usize::from(cfg.read8(at + 2));
        let cfg_type = cfg.read8(at + VIRTIO_PCI_CAP_CFG_TYPE);
        let bar = cfg.read8(at + VIRTIO_PCI_CAP_BAR);
        let needed = if cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG { 20 } else { 16 };
        if cap_len < needed || usize::from(bar) >= PCI_STD_NUM_BARS {
            continue;
        }
        if found.iter().any(|f| f.cfg_type == cfg_type) {
            continue;
        }
        let notify_off_multiplier = if cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG {
            cfg.read32(at + VIRTIO_PCI_NOTIFY_CAP_MULT)
        } else {
            0
        };
        found.push(VirtioPciCap {
            cfg_type,
            bar,
            offset: cfg.read32(at + VIRTIO_PCI_CAP_OFFSET),
            length: cfg.read32(at + VIRTIO_PCI_CAP_LENGTH),
            notify_off_multiplier,
        });
    }
    found
}

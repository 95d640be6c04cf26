//! The virtio 1.x PCI transport: vendor capabilities point at the common
//! configuration, notification, ISR and device-specific structures inside
//! the device's BARs; the driver maps them and talks through registers.
//!
//! Linux: drivers/virtio/virtio_pci_modern_dev.c (`vp_modern_probe`,
//! `vp_modern_get_features`, `vp_modern_set_status`,
//! `vp_modern_queue_address`, `vp_modern_get_queue_notify_off`),
//! drivers/virtio/virtio_pci_modern.c (`vp_reset`, `vp_notify`),
//! include/uapi/linux/virtio_pci.h (`VIRTIO_PCI_COMMON_*` offsets).
//!
//! # Locking
//! None: the owning driver serialises calls (queue_select and the
//! feature-select registers are a select-then-access pair).

use pci::regs::*;
use pci::{VirtioPciCap, virtio_pci_caps};

use super::VIRTIO_CONFIG_S_FAILED;
use crate::drivers::pci::PciDev;
use crate::drivers::pci::iomap::{IoMem, pci_iomap_range};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::time::ktime_get_ns;

/// `struct virtio_pci_common_cfg` register offsets.
const VIRTIO_PCI_COMMON_DFSELECT: usize = 0;
const VIRTIO_PCI_COMMON_DF: usize = 4;
const VIRTIO_PCI_COMMON_GFSELECT: usize = 8;
const VIRTIO_PCI_COMMON_GF: usize = 12;
const VIRTIO_PCI_COMMON_MSIX: usize = 16;
const VIRTIO_PCI_COMMON_STATUS: usize = 20;
const VIRTIO_PCI_COMMON_CFGGENERATION: usize = 21;
const VIRTIO_PCI_COMMON_Q_SELECT: usize = 22;
const VIRTIO_PCI_COMMON_Q_SIZE: usize = 24;
const VIRTIO_PCI_COMMON_Q_MSIX: usize = 26;
const VIRTIO_PCI_COMMON_Q_ENABLE: usize = 28;
const VIRTIO_PCI_COMMON_Q_NOFF: usize = 30;
const VIRTIO_PCI_COMMON_Q_DESCLO: usize = 32;
const VIRTIO_PCI_COMMON_Q_AVAILLO: usize = 40;
const VIRTIO_PCI_COMMON_Q_USEDLO: usize = 48;
/// `sizeof(struct virtio_pci_common_cfg)` in virtio 1.0.
const VIRTIO_PCI_COMMON_CFG_SIZE: usize = 56;

/// No structure needs more than this; a device claiming more is not
/// believed (it would only cost vmalloc space).
const MAX_STRUCT_MAP: u32 = 0x1_0000;
/// How long a reset may take before the device is declared broken.
const RESET_TIMEOUT_NS: u64 = 1_000_000_000;

/// A modern virtio PCI device (Linux: `struct virtio_pci_modern_device`).
pub struct VirtioPciModernDevice {
    common: IoMem,
    notify: IoMem,
    notify_off_multiplier: u32,
    /// Reading it acknowledges an INTx interrupt; unused with MSI-X.
    _isr: IoMem,
    device: Option<IoMem>,
}

/// Maps the structure `cap` describes, at least `min_len` bytes of it.
fn map_cap(pci: &PciDev, cap: Option<&VirtioPciCap>, min_len: usize) -> KResult<IoMem> {
    let cap = cap.ok_or(Errno::ENODEV)?;
    let len = usize::try_from(cap.length.min(MAX_STRUCT_MAP)).map_err(|_| Errno::EINVAL)?;
    if len < min_len {
        return Err(Errno::ENODEV);
    }
    pci_iomap_range(pci, usize::from(cap.bar), u64::from(cap.offset), len)
}

impl VirtioPciModernDevice {
    /// Finds and maps the virtio structures of `pci` (Linux:
    /// `vp_modern_probe`); `ENODEV` if a required one is missing.
    pub fn probe(pci: &PciDev) -> KResult<Self> {
        let caps = virtio_pci_caps(&pci.cfg);
        let find = |t| caps.iter().find(|c: &&VirtioPciCap| c.cfg_type == t);
        let common = map_cap(pci, find(VIRTIO_PCI_CAP_COMMON_CFG), VIRTIO_PCI_COMMON_CFG_SIZE)?;
        let notify_cap = find(VIRTIO_PCI_CAP_NOTIFY_CFG);
        let notify = map_cap(pci, notify_cap, 2)?;
        let notify_off_multiplier = notify_cap.map_or(0, |c| c.notify_off_multiplier);
        let isr = map_cap(pci, find(VIRTIO_PCI_CAP_ISR_CFG), 1)?;
        let device = map_cap(pci, find(VIRTIO_PCI_CAP_DEVICE_CFG), 1).ok();
        pci.enable_device_mem();
        pci.set_master();
        Ok(Self { common, notify, notify_off_multiplier, _isr: isr, device })
    }

    pub fn get_status(&self) -> u8 {
        self.common.read8(VIRTIO_PCI_COMMON_STATUS)
    }

    /// Adds `bits` to the device status (Linux: `virtio_add_status`).
    pub fn add_status(&self, bits: u8) {
        self.common.write8(VIRTIO_PCI_COMMON_STATUS, self.get_status() | bits);
    }

    /// Marks the device failed, so it stops using our memory.
    pub fn fail(&self) {
        self.add_status(VIRTIO_CONFIG_S_FAILED);
    }

    /// Resets the device and waits until it says so (Linux: `vp_reset`):
    /// only then has it forgotten the queues and stopped DMA.
    pub fn reset(&self) -> KResult<()> {
        self.common.write8(VIRTIO_PCI_COMMON_STATUS, 0);
        let deadline = ktime_get_ns() + RESET_TIMEOUT_NS;
        while self.get_status() != 0 {
            if ktime_get_ns() > deadline {
                return Err(Errno::EIO);
            }
            core::hint::spin_loop();
        }
        Ok(())
    }

    /// The 64 feature bits the device offers (Linux: `vp_modern_get_features`).
    pub fn get_features(&self) -> u64 {
        self.common.write32(VIRTIO_PCI_COMMON_DFSELECT, 0);
        let low = self.common.read32(VIRTIO_PCI_COMMON_DF);
        self.common.write32(VIRTIO_PCI_COMMON_DFSELECT, 1);
        let high = self.common.read32(VIRTIO_PCI_COMMON_DF);
        u64::from(high) << 32 | u64::from(low)
    }

    /// Tells the device which features the driver uses.
    pub fn set_features(&self, features: u64) {
        let [low, high] = split_u64(features);
        self.common.write32(VIRTIO_PCI_COMMON_GFSELECT, 0);
        self.common.write32(VIRTIO_PCI_COMMON_GF, low);
        self.common.write32(VIRTIO_PCI_COMMON_GFSELECT, 1);
        self.common.write32(VIRTIO_PCI_COMMON_GF, high);
    }

    /// The largest size queue `index` may have; 0 if it does not exist.
    pub fn max_queue_size(&self, index: u16) -> u16 {
        self.common.write16(VIRTIO_PCI_COMMON_Q_SELECT, index);
        self.common.read16(VIRTIO_PCI_COMMON_Q_SIZE)
    }

    /// Gives queue `index` its size and ring addresses and enables it
    /// (Linux: `vp_modern_queue_address` + `vp_modern_set_queue_enable`);
    /// returns the doorbell offset in the notify structure.
    pub fn setup_queue(&self, index: u16, size: u16, rings: [u64; 3]) -> KResult<usize> {
        self.common.write16(VIRTIO_PCI_COMMON_Q_SELECT, index);
        self.common.write16(VIRTIO_PCI_COMMON_Q_SIZE, size);
        let regs =
            [VIRTIO_PCI_COMMON_Q_DESCLO, VIRTIO_PCI_COMMON_Q_AVAILLO, VIRTIO_PCI_COMMON_Q_USEDLO];
        for (reg, addr) in regs.into_iter().zip(rings) {
            let [low, high] = split_u64(addr);
            self.common.write32(reg, low);
            self.common.write32(reg + 4, high);
        }
        let off = usize::from(self.common.read16(VIRTIO_PCI_COMMON_Q_NOFF));
        let mult = usize::try_from(self.notify_off_multiplier).map_err(|_| Errno::EINVAL)?;
        let doorbell = off.checked_mul(mult).ok_or(Errno::EINVAL)?;
        if doorbell.checked_add(2).is_none_or(|end| end > self.notify.len()) {
            return Err(Errno::ENODEV);
        }
        self.common.write16(VIRTIO_PCI_COMMON_Q_ENABLE, 1);
        Ok(doorbell)
    }

    /// Sends configuration-change interrupts to MSI-X entry `entry`
    /// (`VIRTIO_MSI_NO_VECTOR` for none); returns what the device took,
    /// `VIRTIO_MSI_NO_VECTOR` if it refused (Linux: `vp_modern_config_vector`).
    pub fn config_vector(&self, entry: u16) -> u16 {
        self.common.write16(VIRTIO_PCI_COMMON_MSIX, entry);
        self.common.read16(VIRTIO_PCI_COMMON_MSIX)
    }

    /// Sends queue `index`'s interrupts to MSI-X entry `entry`, before the
    /// queue is enabled; returns what the device took (Linux:
    /// `vp_modern_queue_vector`).
    pub fn queue_vector(&self, index: u16, entry: u16) -> u16 {
        self.common.write16(VIRTIO_PCI_COMMON_Q_SELECT, index);
        self.common.write16(VIRTIO_PCI_COMMON_Q_MSIX, entry);
        self.common.read16(VIRTIO_PCI_COMMON_Q_MSIX)
    }

    /// Rings queue `index`'s doorbell (Linux: `vp_notify`).
    pub fn notify(&self, index: u16, doorbell: usize) {
        self.notify.write16(doorbell, index);
    }

    /// Reads a 64-bit little-endian device-config field consistently:
    /// retries while the config generation changes under us (Linux:
    /// `virtio_cread64` with `vp_generation`).
    pub fn config_read64(&self, off: usize) -> KResult<u64> {
        let device = self.device.as_ref().ok_or(Errno::ENODEV)?;
        for _ in 0..16 {
            let generation = self.common.read8(VIRTIO_PCI_COMMON_CFGGENERATION);
            let low = device.read32(off);
            let high = device.read32(off + 4);
            if self.common.read8(VIRTIO_PCI_COMMON_CFGGENERATION) == generation {
                return Ok(u64::from(high) << 32 | u64::from(low));
            }
        }
        Err(Errno::EIO)
    }
}

/// The low and high halves of a 64-bit register value.
fn split_u64(value: u64) -> [u32; 2] {
    let [a, b, c, d, e, f, g, h] = value.to_le_bytes();
    [u32::from_le_bytes([a, b, c, d]), u32::from_le_bytes([e, f, g, h])]
}

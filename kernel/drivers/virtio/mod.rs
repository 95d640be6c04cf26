//! Virtio: the device status handshake, feature bits, the modern PCI
//! transport and split virtqueues, for virtio-blk and (later) virtio-net.
//!
//! Linux: drivers/virtio/ (virtio.c, virtio_pci_modern.c,
//! virtio_pci_modern_dev.c, virtio_ring.c), include/uapi/linux/
//! virtio_config.h for the values below.
//!
//! Files: `pci_modern` (`VirtioPciModernDevice`: the capabilities, the
//! common configuration registers, doorbells), `ring` (`Virtqueue`: the
//! split ring in DMA memory). All register and DMA accesses go through the
//! bounds-checked `IoMem` and `DmaCoherent` of drivers/pci, so this
//! directory needs no `unsafe`.
//!
//! # Locking
//! None of its own: a driver owns its device and queues and serialises
//! them under its lock (see drivers/block/virtio_blk.rs).
#![deny(unsafe_code)]

pub mod pci_modern;
pub mod ring;

use core::sync::atomic::{AtomicU32, Ordering};

/// Device status bits (Linux: `VIRTIO_CONFIG_S_*`).
pub const VIRTIO_CONFIG_S_ACKNOWLEDGE: u8 = 1;
pub const VIRTIO_CONFIG_S_DRIVER: u8 = 2;
pub const VIRTIO_CONFIG_S_DRIVER_OK: u8 = 4;
pub const VIRTIO_CONFIG_S_FEATURES_OK: u8 = 8;
pub const VIRTIO_CONFIG_S_FAILED: u8 = 0x80;

/// The device follows virtio 1.0 or later (Linux: `VIRTIO_F_VERSION_1`);
/// the modern transport requires it.
pub const VIRTIO_F_VERSION_1: u32 = 32;

/// "No MSI-X entry" in the vector registers (Linux: `VIRTIO_MSI_NO_VECTOR`).
pub const VIRTIO_MSI_NO_VECTOR: u16 = 0xffff;

/// The virtio index of the next device (Linux: `virtio_index_ida`), for
/// names like "virtio0".
static VIRTIO_INDEX: AtomicU32 = AtomicU32::new(0);

/// Gives a new device its index.
pub fn virtio_alloc_index() -> u32 {
    VIRTIO_INDEX.fetch_add(1, Ordering::Relaxed)
}

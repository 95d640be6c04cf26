//! virtio-blk: a disk behind a virtio PCI device, one request queue,
//! synchronous polled requests of whole sectors.
//!
//! Linux: drivers/block/virtio_blk.c (`virtblk_probe`, `virtblk_setup_cmd`,
//! `virtblk_name_format`, `virtblk_update_capacity`),
//! include/uapi/linux/virtio_blk.h (`struct virtio_blk_outhdr`, the
//! request types and status values).
//!
//! A request is three descriptors: the header (type, sector), the data,
//! and one status byte the device writes. Data goes through a bounce
//! buffer the driver owns, so callers may pass any kernel buffer (a stack
//! in vmalloc space has no single bus address); large transfers are cut
//! into bounce-sized requests. The driver waits for each completion by
//! polling the used ring, with a deadline: a device that does not answer
//! is marked failed and every later request gets `EIO`. Interrupts and
//! several requests in flight come with the request queue.
//!
//! # Locking
//! `VirtioBlk::inner` (an IRQ-safe spinlock, a leaf) is held for a whole
//! request, polling included: one request at a time per disk.
#![deny(unsafe_code)]

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use pci::regs::PCI_VENDOR_ID_REDHAT_QUMRANET;

use crate::block::{BlockDevice, SECTOR_SIZE, SizeFmt, add_disk, check_io};
use crate::drivers::pci::dma::DmaCoherent;
use crate::drivers::pci::{PciDev, pci_find_devices};
use crate::drivers::virtio::pci_modern::VirtioPciModernDevice;
use crate::drivers::virtio::ring::{VIRTQUEUE_MAX_SIZE, VirtqBuf, Virtqueue};
use crate::drivers::virtio::*;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::time::ktime_get_ns;
use crate::{pr_err, pr_info};

/// PCI device IDs: transitional (0x1000 + 1) and modern (0x1040 +
/// `VIRTIO_ID_BLOCK`).
const VIRTIO_BLK_PCI_IDS: [u16; 2] = [0x1001, 0x1042];
/// `struct virtio_blk_outhdr` types.
const VIRTIO_BLK_T_IN: u32 = 0;
const VIRTIO_BLK_T_OUT: u32 = 1;
const VIRTIO_BLK_S_OK: u8 = 0;
/// Feature: the disk is read-only.
const VIRTIO_BLK_F_RO: u32 = 5;
/// `struct virtio_blk_config`: capacity in sectors, at offset 0.
const VIRTIO_BLK_CFG_CAPACITY: usize = 0;
/// The header takes 16 bytes of the request page, the status byte follows.
const REQ_HDR_LEN: u32 = 16;
const REQ_STATUS_OFF: usize = 16;
/// 32 KiB of bounce buffer: the most one request moves.
const BOUNCE_ORDER: u8 = 3;
/// How long a request may take under TCG before the device is failed.
const REQUEST_TIMEOUT_NS: u64 = 10_000_000_000;

/// One virtio disk (Linux: `struct virtio_blk` with its `gendisk`).
pub struct VirtioBlk {
    name: String,
    capacity: u64,
    read_only: bool,
    inner: SpinLock<VirtioBlkInner>,
}

struct VirtioBlkInner {
    vdev: VirtioPciModernDevice,
    vq: Virtqueue,
    /// The request header and status byte.
    req: DmaCoherent,
    bounce: DmaCoherent,
    /// The device missed a deadline or broke the protocol.
    broken: bool,
}

impl VirtioBlkInner {
    /// Runs one request of `len` bytes (already in, or to land in, the
    /// bounce buffer) and waits for it (Linux: `virtblk_setup_cmd`,
    /// `virtio_queue_rq`, then the completion path polled).
    fn do_req(&mut self, kind: u32, sector: u64, len: usize) -> KResult<()> {
        if self.broken {
            return Err(Errno::EIO);
        }
        let data_len = u32::try_from(len).map_err(|_| Errno::EINVAL)?;
        self.req.write32(0, kind);
        self.req.write32(4, 0);
        self.req.write64(8, sector);
        self.req.write16(REQ_STATUS_OFF, 0xffff);
        let req = self.req.dma_addr();
        let bufs = [
            VirtqBuf { addr: req, len: REQ_HDR_LEN, device_writes: false },
            VirtqBuf {
                addr: self.bounce.dma_addr(),
                len: data_len,
                device_writes: kind == VIRTIO_BLK_T_IN,
            },
            VirtqBuf { addr: req + REQ_STATUS_OFF as u64, len: 1, device_writes: true },
        ];
        let head = self.vq.add_buf(&bufs)?;
        self.vdev.notify(self.vq.index, self.vq.doorbell);
        let result = self.wait_for(head);
        if result.is_err() {
            self.broken = true;
            self.vdev.fail();
        }
        result?;
        let [status, _] = self.req.read16(REQ_STATUS_OFF).to_le_bytes();
        if status == VIRTIO_BLK_S_OK { Ok(()) } else { Err(Errno::EIO) }
    }

    /// Polls the used ring until request `head` completes.
    fn wait_for(&mut self, head: u16) -> KResult<()> {
        let deadline = ktime_get_ns().saturating_add(REQUEST_TIMEOUT_NS);
        loop {
            match self.vq.get_buf()? {
                Some((done, _)) if done == head => return Ok(()),
                Some(_) => return Err(Errno::EIO),
                None if ktime_get_ns() > deadline => return Err(Errno::EIO),
                None => core::hint::spin_loop(),
            }
        }
    }
}

impl BlockDevice for VirtioBlk {
    fn disk_name(&self) -> &str {
        &self.name
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read_blocks(&self, lba: u64, buf: &mut [u8]) -> KResult<()> {
        check_io(lba, buf.len(), self.capacity)?;
        let mut inner = self.inner.lock();
        let chunk = inner.bounce.len();
        for (i, part) in buf.chunks_mut(chunk).enumerate() {
            inner.do_req(VIRTIO_BLK_T_IN, chunk_lba(lba, i, chunk), part.len())?;
            if !inner.bounce.copy_out(0, part) {
                return Err(Errno::EIO);
            }
        }
        Ok(())
    }

    fn write_blocks(&self, lba: u64, buf: &[u8]) -> KResult<()> {
        check_io(lba, buf.len(), self.capacity)?;
        if self.read_only {
            return Err(Errno::EROFS);
        }
        let mut inner = self.inner.lock();
        let chunk = inner.bounce.len();
        for (i, part) in buf.chunks(chunk).enumerate() {
            if !inner.bounce.copy_in(0, part) {
                return Err(Errno::EIO);
            }
            inner.do_req(VIRTIO_BLK_T_OUT, chunk_lba(lba, i, chunk), part.len())?;
        }
        Ok(())
    }
}

/// The first sector of the `i`th bounce-sized piece of a transfer at `lba`
/// (check_io has bounded the sum by the capacity).
fn chunk_lba(lba: u64, i: usize, chunk: usize) -> u64 {
    lba + (i * (chunk / SECTOR_SIZE)) as u64
}

/// "vda", "vdz", "vdaa"… (Linux: `virtblk_name_format`).
fn virtblk_name_format(prefix: &str, mut index: u32) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'a' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    let mut name = String::from(prefix);
    name.extend(letters.into_iter().map(char::from));
    name
}

/// Negotiates features and sets up the request queue; the device is
/// left with `DRIVER_OK` (Linux: `virtio_dev_probe` + `virtblk_probe`).
fn virtblk_setup(vdev: &VirtioPciModernDevice) -> KResult<(Virtqueue, bool)> {
    vdev.reset()?;
    vdev.add_status(VIRTIO_CONFIG_S_ACKNOWLEDGE);
    vdev.add_status(VIRTIO_CONFIG_S_DRIVER);
    let offered = vdev.get_features();
    if offered & 1 << VIRTIO_F_VERSION_1 == 0 {
        return Err(Errno::ENODEV);
    }
    let features = offered & (1 << VIRTIO_F_VERSION_1 | 1 << VIRTIO_BLK_F_RO);
    vdev.set_features(features);
    vdev.add_status(VIRTIO_CONFIG_S_FEATURES_OK);
    if vdev.get_status() & VIRTIO_CONFIG_S_FEATURES_OK == 0 {
        return Err(Errno::ENODEV);
    }
    let max = vdev.max_queue_size(0).min(VIRTQUEUE_MAX_SIZE);
    if max == 0 {
        return Err(Errno::ENODEV);
    }
    // A split ring's size is a power of two.
    let num = 1 << (15 - max.leading_zeros());
    let mut vq = Virtqueue::new(0, num)?;
    vq.doorbell = vdev.setup_queue(0, num, vq.ring_addrs())?;
    vdev.add_status(VIRTIO_CONFIG_S_DRIVER_OK);
    Ok((vq, features & 1 << VIRTIO_BLK_F_RO != 0))
}

/// Binds one device and adds its disk.
fn virtblk_probe(pci: Arc<PciDev>, index: u32) -> KResult<Arc<VirtioBlk>> {
    let vdev = VirtioPciModernDevice::probe(&pci)?;
    let (vq, read_only) = match virtblk_setup(&vdev) {
        Ok(setup) => setup,
        Err(e) => {
            // Reset, so that the device forgets rings we are about to free.
            let _ = vdev.reset();
            vdev.fail();
            return Err(e);
        }
    };
    let capacity = vdev.config_read64(VIRTIO_BLK_CFG_CAPACITY)?;
    let inner = VirtioBlkInner {
        vdev,
        vq,
        req: DmaCoherent::alloc(0)?,
        bounce: DmaCoherent::alloc(BOUNCE_ORDER)?,
        broken: false,
    };
    let name = virtblk_name_format("vd", index);
    let disk = Arc::new(VirtioBlk { name, capacity, read_only, inner: SpinLock::new(inner) });
    add_disk(disk.clone())?;
    Ok(disk)
}

/// Binds every virtio-blk PCI device (Linux: `virtio_blk_init` and the
/// virtio-pci driver's probe for each matching device).
pub fn virtio_blk_init() {
    let mut disk_index = 0;
    for pci in pci_find_devices(PCI_VENDOR_ID_REDHAT_QUMRANET, &VIRTIO_BLK_PCI_IDS) {
        let virtio = virtio_alloc_index();
        match virtblk_probe(pci, disk_index) {
            Ok(disk) => {
                disk_index += 1;
                let bytes = disk.capacity.saturating_mul(SECTOR_SIZE as u64);
                pr_info!(
                    "virtio_blk virtio{virtio}: [{}] {} 512-byte logical blocks ({}/{})",
                    disk.name,
                    disk.capacity,
                    SizeFmt { bytes, base: 1000 },
                    SizeFmt { bytes, base: 1024 }
                );
            }
            Err(e) => {
                pr_err!("virtio_blk: probe of virtio{virtio} failed with error -{}", e as u32)
            }
        }
    }
}

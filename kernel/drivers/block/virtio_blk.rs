//! virtio-blk: a disk behind a virtio PCI device, one request queue,
//! several requests in flight, completed by an MSI-X interrupt.
//!
//! Linux: drivers/block/virtio_blk.c (`virtblk_probe`, `virtblk_setup_cmd`,
//! `virtio_queue_rq`, `virtblk_done`, `virtblk_name_format`),
//! include/uapi/linux/virtio_blk.h (`struct virtio_blk_outhdr`, the
//! request types and status values).
//!
//! Requests live in `NR_SLOTS` slots (virtio_blk_rq.rs): a call's
//! transfer is cut into pieces that are all queued at once, as many as
//! there are free slots and descriptors; kernel buffers go through the
//! slots' bounce buffers, page pieces from the bio layer straight to the
//! device.
//!
//! Completion: the device raises its MSI-X vector when it puts requests on
//! the used ring; the handler reaps them ([`VirtioBlkInner::virtblk_done`])
//! and wakes the submitters, who sleep on [`VirtioBlk::wq`]. A submitter
//! that must not sleep (interrupts off, preemption off because it holds a
//! spinlock, the boot task probing the disk, or no MSI-X) polls the used
//! ring instead; so does a sleeper every [`POLL_MS`] in case an interrupt
//! is lost. Each transfer has a deadline: a device that does not answer is
//! marked failed and every later request gets `EIO`.
//!
//! A flush (`VIRTIO_BLK_T_FLUSH`) is sent when the device offers
//! `VIRTIO_BLK_F_FLUSH`, i.e. has a write cache; a discard
//! (`VIRTIO_BLK_T_DISCARD`, for `BLKDISCARD`) when it offers
//! `VIRTIO_BLK_F_DISCARD`.
//!
//! # Locking
//! `VIRTBLK_DISKS` (the interrupt handler's list) → `VirtioBlk::inner`
//! (IRQ-safe spinlock: the ring, the slots; held to queue or reap, never
//! while waiting) → the wait queue's lock (woken after `inner` is dropped).
#![deny(unsafe_code)]

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use pci::regs::PCI_VENDOR_ID_REDHAT_QUMRANET;

use crate::arch::apic::boot_cpu_apic_id;
use crate::arch::irq_vectors::alloc_device_vector;
use crate::block::bio::{BioVec, ReqOp};
use crate::block::stat::DiskStats;
use crate::block::{BlockDevice, SECTOR_SIZE, SizeFmt, add_disk, check_io};
use crate::drivers::pci::msi::{MsixTable, pci_enable_msix};
use crate::drivers::pci::{PciDev, pci_find_devices};
use crate::drivers::virtio::pci_modern::VirtioPciModernDevice;
use crate::drivers::virtio::ring::{VIRTQUEUE_MAX_SIZE, Virtqueue};
use crate::drivers::virtio::*;
use crate::fs::inode::DevT;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::time::jiffies::msecs_to_jiffies;
use crate::kernel::time::ktime_get_ns;
use crate::kernel::trace::events::block::traced_io;
use crate::mm::addr::PAGE_SIZE;
use crate::{pr_err, pr_info, pr_warn};

use super::virtio_blk_rq::{
    Data, Transfer, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VirtioBlkInner,
    alloc_slots,
};

/// PCI device IDs: transitional (0x1000 + 1) and modern (0x1040 +
/// `VIRTIO_ID_BLOCK`).
const VIRTIO_BLK_PCI_IDS: [u16; 2] = [0x1001, 0x1042];
/// Feature: the disk is read-only.
const VIRTIO_BLK_F_RO: u32 = 5;
/// Feature: the disk has a write cache that `VIRTIO_BLK_T_FLUSH` empties.
const VIRTIO_BLK_F_FLUSH: u32 = 9;
/// Feature: the disk takes `VIRTIO_BLK_T_DISCARD` (unused sectors).
const VIRTIO_BLK_F_DISCARD: u32 = 13;
/// Request type: discard the sectors one `virtio_blk_discard_write_zeroes`
/// names (Linux: `REQ_OP_DISCARD`).
const VIRTIO_BLK_T_DISCARD: u32 = 11;
/// `struct virtio_blk_config`: 64 bits at 32 hold `max_discard_sectors`
/// in their high half (offset 36).
const VIRTIO_BLK_CFG_WRITEBACK_QUEUES_DISCARD: usize = 32;
/// The block major Linux's `virtblk` gets on Debian (dynamic, the first
/// free from 254 down), and the minors per disk (Linux: `PART_BITS = 4`).
pub const VIRTBLK_MAJOR: u32 = 254;
const VIRTBLK_MINORS: u32 = 16;
/// `struct virtio_blk_config`: capacity in sectors, at offset 0.
const VIRTIO_BLK_CFG_CAPACITY: usize = 0;
/// How long a transfer may take under TCG before the device is failed.
const REQUEST_TIMEOUT_NS: u64 = 10_000_000_000;
/// A sleeper looks at the ring this often even without an interrupt.
const POLL_MS: u64 = 100;

/// One virtio disk (Linux: `struct virtio_blk` with its `gendisk`).
pub struct VirtioBlk {
    name: String,
    capacity: u64,
    read_only: bool,
    /// The device has a write cache to flush.
    flush: bool,
    /// The longest discard it takes, in sectors; 0 without discard.
    max_discard_sectors: u32,
    devt: DevT,
    /// The MSI-X vector completions arrive on; `None`: polled only.
    vector: Option<u8>,
    inner: SpinLock<VirtioBlkInner>,
    /// Submitters sleep here until `completions` moves.
    wq: WaitQueue,
    /// Bumped whenever requests are reaped (by the interrupt or a poller).
    completions: AtomicU64,
    /// Interrupts handled, and the most requests seen in flight at once.
    irqs: AtomicU64,
    max_in_flight: AtomicUsize,
    stats: DiskStats,
}

impl VirtioBlk {
    /// Whether the caller may sleep for a completion: an interrupt will
    /// come, and nothing forbids scheduling (Linux: the blk-mq path always
    /// sleeps; this kernel still has callers under spinlocks).
    fn can_sleep(&self) -> bool {
        use crate::arch::{irqflags::irqs_disabled, percpu::this_cpu};
        self.vector.is_some()
            && this_cpu().preempt_count() == 0
            && !irqs_disabled()
            && crate::kernel::sched::try_current().is_some_and(|t| t.pid != 0)
    }

    /// Reaps under the lock, then wakes sleepers if anything completed.
    fn reap(&self) {
        let reaped = self.inner.lock().virtblk_done();
        if reaped > 0 {
            self.completions.fetch_add(1, Ordering::AcqRel);
            self.wq.wake_up_all();
        }
    }

    /// Waits until the completion count moves past `seen`, or a while.
    fn wait_for_completions(&self, seen: u64) {
        if !self.can_sleep() {
            core::hint::spin_loop();
            return;
        }
        let moved = || self.completions.load(Ordering::Acquire) != seen;
        let woke = self.wq.wait_event_interruptible_timeout(moved, msecs_to_jiffies(POLL_MS));
        if woke.is_err() {
            // A pending signal does not abort block I/O: poll instead.
            crate::kernel::sched::cond_resched();
        }
    }

    /// Runs `kind` over `len` bytes at `sector`: queues the pieces as
    /// slots free up, copies each in or out of its slot, waits for all
    /// (Linux: `blk_mq_submit_bio` → `virtio_queue_rq`, then the
    /// completions).
    fn transfer(&self, kind: u32, sector: u64, data: Data<'_>, len: usize) -> KResult<()> {
        let mut t = Transfer::new(kind, sector, data, len)?;
        let deadline = ktime_get_ns().saturating_add(REQUEST_TIMEOUT_NS);
        loop {
            let seen = self.completions.load(Ordering::Acquire);
            self.reap();
            let mut inner = self.inner.lock();
            if inner.broken {
                return Err(Errno::EIO);
            }
            t.complete_done(&mut inner);
            if t.queue_pieces(&mut inner) {
                inner.vdev.notify(inner.vq.index, inner.vq.doorbell);
                self.max_in_flight.fetch_max(inner.in_flight(), Ordering::Relaxed);
            }
            if t.finished() {
                return t.result;
            }
            if ktime_get_ns() > deadline {
                pr_err!("{}: request timed out; the device is marked failed", self.name);
                inner.fail();
                return Err(Errno::EIO);
            }
            drop(inner);
            self.wait_for_completions(seen);
        }
    }

    /// The interrupt path for this disk (Linux: `vp_vring_interrupt` →
    /// `virtblk_done`).
    fn interrupt(&self) {
        self.irqs.fetch_add(1, Ordering::Relaxed);
        self.reap();
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

    fn devt(&self) -> DevT {
        self.devt
    }

    fn minors(&self) -> u32 {
        VIRTBLK_MINORS
    }

    fn read_blocks(&self, lba: u64, buf: &mut [u8]) -> KResult<()> {
        check_io(lba, buf.len(), self.capacity)?;
        let len = buf.len();
        let sectors = (len / SECTOR_SIZE) as u64;
        let io = || self.transfer(VIRTIO_BLK_T_IN, lba, Data::Read(buf), len);
        traced_io(self.devt, ReqOp::Read, lba, sectors, || {
            self.stats.account(ReqOp::Read, sectors, io)
        })
    }

    fn write_blocks(&self, lba: u64, buf: &[u8]) -> KResult<()> {
        check_io(lba, buf.len(), self.capacity)?;
        if self.read_only {
            return Err(Errno::EROFS);
        }
        let sectors = (buf.len() / SECTOR_SIZE) as u64;
        let io = || self.transfer(VIRTIO_BLK_T_OUT, lba, Data::Write(buf), buf.len());
        traced_io(self.devt, ReqOp::Write, lba, sectors, || {
            self.stats.account(ReqOp::Write, sectors, io)
        })
    }

    /// Linux: `virtblk_setup_cmd` with `REQ_OP_FLUSH`; a disk without a
    /// write cache has nothing to flush.
    fn flush(&self) -> KResult<()> {
        if !self.flush {
            return Ok(());
        }
        let io = || self.transfer(VIRTIO_BLK_T_FLUSH, 0, Data::None, 0);
        traced_io(self.devt, ReqOp::Flush, 0, 0, || self.stats.account(ReqOp::Flush, 0, io))
    }

    /// Linux: `virtblk_setup_discard_write_zeroes_erase`: one
    /// `{ sector, num_sectors, flags }` segment per request, at most
    /// `max_discard_sectors` each.
    fn discard(&self, lba: u64, sectors: u64) -> KResult<()> {
        if self.max_discard_sectors == 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let end = lba.checked_add(sectors).filter(|&e| e <= self.capacity).ok_or(Errno::EIO)?;
        let mut at = lba;
        while at < end {
            let n = (end - at).min(u64::from(self.max_discard_sectors));
            let mut seg = [0u8; 16];
            seg[..8].copy_from_slice(&at.to_le_bytes());
            seg[8..12].copy_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
            self.transfer(VIRTIO_BLK_T_DISCARD, 0, Data::Write(&seg), seg.len())?;
            at += n;
        }
        Ok(())
    }

    fn max_discard_sectors(&self) -> u64 {
        u64::from(self.max_discard_sectors)
    }

    fn stats(&self) -> Option<&DiskStats> {
        Some(&self.stats)
    }

    /// DMA straight into the pages, no bounce buffer.
    fn rw_pages(&self, op: ReqOp, lba: u64, segs: &[BioVec]) -> KResult<()> {
        let len = segs.iter().map(|v| v.len).sum();
        let kind = match op {
            ReqOp::Flush => return self.flush(),
            ReqOp::Read => VIRTIO_BLK_T_IN,
            ReqOp::Write if self.read_only => return Err(Errno::EROFS),
            ReqOp::Write => VIRTIO_BLK_T_OUT,
        };
        let in_page = |v: &BioVec| {
            v.len.is_multiple_of(SECTOR_SIZE)
                && v.offset.checked_add(v.len).is_some_and(|e| e <= PAGE_SIZE)
        };
        if !segs.iter().all(in_page) {
            return Err(Errno::EINVAL);
        }
        check_io(lba, len, self.capacity)?;
        let sectors = (len / SECTOR_SIZE) as u64;
        let io = || self.transfer(kind, lba, Data::Pages(segs), len);
        traced_io(self.devt, op, lba, sectors, || self.stats.account(op, sectors, io))
    }
}

/// The disks the interrupt handler serves (they share one vector).
static VIRTBLK_DISKS: SpinLock<Vec<Arc<VirtioBlk>>> = SpinLock::new(Vec::new());
/// The vector every virtio-blk queue interrupts on.
static VIRTBLK_VECTOR: spin::Once<Option<u8>> = spin::Once::new();

/// Linux: `vp_interrupt` for MSI-X queue vectors.
fn virtblk_interrupt() {
    for disk in VIRTBLK_DISKS.lock().iter() {
        disk.interrupt();
    }
}

/// The shared vector, allocated and hooked on first use; `None` if none
/// is left or it cannot be hooked (the disks then poll).
fn virtblk_vector() -> Option<u8> {
    *VIRTBLK_VECTOR.call_once(|| {
        let vector = alloc_device_vector()?;
        crate::kernel::irq::request_irq(vector, "virtio_blk", virtblk_interrupt).ok()?;
        Some(vector)
    })
}

/// Statistics for the self-tests: (interrupts, most requests in flight).
pub(crate) fn virtblk_stats(name: &str) -> Option<(u64, usize)> {
    let disks = VIRTBLK_DISKS.lock();
    let disk = disks.iter().find(|d| d.name == name)?;
    Some((disk.irqs.load(Ordering::Relaxed), disk.max_in_flight.load(Ordering::Relaxed)))
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

/// Routes queue 0's interrupts to `vector` through MSI-X entry 0 (Linux:
/// `vp_find_vqs_msix`, with one vector for the queue and none for config
/// changes). `None` if the device has no MSI-X or refuses.
fn virtblk_setup_msix(pci: &PciDev, vdev: &VirtioPciModernDevice) -> Option<MsixTable> {
    let vector = virtblk_vector()?;
    let table = pci_enable_msix(pci).ok()?;
    table.set_entry(0, vector, boot_cpu_apic_id()).ok()?;
    vdev.config_vector(VIRTIO_MSI_NO_VECTOR);
    (vdev.queue_vector(0, 0) == 0).then_some(table)
}

/// Negotiates features and sets up the request queue; the device is
/// left with `DRIVER_OK` (Linux: `virtio_dev_probe` + `virtblk_probe`).
fn virtblk_setup(
    pci: &PciDev,
    vdev: &VirtioPciModernDevice,
) -> KResult<(Virtqueue, u64, Option<MsixTable>)> {
    vdev.reset()?;
    vdev.add_status(VIRTIO_CONFIG_S_ACKNOWLEDGE);
    vdev.add_status(VIRTIO_CONFIG_S_DRIVER);
    let offered = vdev.get_features();
    if offered & 1 << VIRTIO_F_VERSION_1 == 0 {
        return Err(Errno::ENODEV);
    }
    let wanted = 1 << VIRTIO_F_VERSION_1
        | 1 << VIRTIO_BLK_F_RO
        | 1 << VIRTIO_BLK_F_FLUSH
        | 1 << VIRTIO_BLK_F_DISCARD;
    let features = offered & wanted;
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
    let msix = virtblk_setup_msix(pci, vdev);
    vq.doorbell = vdev.setup_queue(0, num, vq.ring_addrs())?;
    vdev.add_status(VIRTIO_CONFIG_S_DRIVER_OK);
    Ok((vq, features, msix))
}

/// Binds one device and makes its disk.
fn virtblk_probe(pci: Arc<PciDev>, index: u32) -> KResult<Arc<VirtioBlk>> {
    let vdev = VirtioPciModernDevice::probe(&pci)?;
    let (vq, features, msix) = match virtblk_setup(&pci, &vdev) {
        Ok(setup) => setup,
        Err(e) => {
            // Reset, so that the device forgets rings we are about to free.
            let _ = vdev.reset();
            vdev.fail();
            return Err(e);
        }
    };
    let capacity = vdev.config_read64(VIRTIO_BLK_CFG_CAPACITY)?;
    let max_discard_sectors = if features & 1 << VIRTIO_BLK_F_DISCARD != 0 {
        (vdev.config_read64(VIRTIO_BLK_CFG_WRITEBACK_QUEUES_DISCARD)? >> 32) as u32
    } else {
        0
    };
    let vector = if msix.is_some() { virtblk_vector() } else { None };
    let slots = alloc_slots(vq.num())?;
    let inner = VirtioBlkInner { vdev, vq, slots, _msix: msix, broken: false };
    let disk = Arc::new(VirtioBlk {
        name: virtblk_name_format("vd", index),
        capacity,
        read_only: features & 1 << VIRTIO_BLK_F_RO != 0,
        flush: features & 1 << VIRTIO_BLK_F_FLUSH != 0,
        max_discard_sectors,
        devt: DevT::new(VIRTBLK_MAJOR, index.saturating_mul(VIRTBLK_MINORS)),
        vector,
        inner: SpinLock::new(inner),
        wq: WaitQueue::new(),
        completions: AtomicU64::new(0),
        irqs: AtomicU64::new(0),
        max_in_flight: AtomicUsize::new(0),
        stats: DiskStats::new(),
    });
    let mut disks = VIRTBLK_DISKS.lock();
    disks.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    disks.push(disk.clone());
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
                if disk.vector.is_none() {
                    pr_warn!("virtio_blk virtio{virtio}: no MSI-X; completions are polled");
                }
                // After the capacity line, as Linux prints " vda: vda1 vda2".
                if let Err(e) = add_disk(disk) {
                    pr_err!("virtio_blk virtio{virtio}: cannot add disk: -{}", e as u32);
                }
            }
            Err(e) => {
                pr_err!("virtio_blk: probe of virtio{virtio} failed with error -{}", e as u32)
            }
        }
    }
}

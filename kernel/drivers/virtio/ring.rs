//! The split virtqueue: a descriptor table, the driver's "available" ring
//! and the device's "used" ring, here all in one DMA page.
//!
//! Linux: drivers/virtio/virtio_ring.c (`vring_create_virtqueue_split`,
//! `virtqueue_add_split`, `virtqueue_kick_prepare_split`,
//! `virtqueue_get_buf_ctx_split`, `detach_buf_split`),
//! include/uapi/linux/virtio_ring.h (the layout).
//!
//! The driver chains descriptors for a request, publishes the head in
//! the available ring, and rings the doorbell; the device writes the head
//! back into the used ring when done. What the device writes is checked:
//! a used entry naming a descriptor that is not the head of a request in
//! flight is refused, and the descriptors are freed from the driver's own
//! shadow of the chains (Linux: `desc_extra`), never from the table the
//! device can see.
//!
//! # Locking
//! None: the owning driver holds its lock around every call.

use alloc::vec::Vec;

use crate::drivers::pci::dma::{DmaCoherent, dma_rmb, dma_wmb};
use crate::kernel::errno::{Errno, KResult};

/// `struct vring_desc` flags.
const VRING_DESC_F_NEXT: u16 = 1;
const VRING_DESC_F_WRITE: u16 = 2;
const DESC_SIZE: usize = 16;
/// `struct vring_used_elem`.
const USED_ELEM_SIZE: usize = 8;
/// Enough for a few requests of three descriptors in flight, and the
/// three rings fit one page: 64 * 16 + (6 + 2 * 64) + (6 + 8 * 64).
pub const VIRTQUEUE_MAX_SIZE: u16 = 64;

/// One buffer of a request: its bus address, length, and whether the
/// device writes it.
#[derive(Clone, Copy)]
pub struct VirtqBuf {
    pub addr: u64,
    pub len: u32,
    pub device_writes: bool,
}

/// A split virtqueue (Linux: `struct vring_virtqueue`).
pub struct Virtqueue {
    pub index: u16,
    num: u16,
    ring: DmaCoherent,
    /// Free descriptors, a stack.
    free: Vec<u16>,
    /// The driver's copy of each chain: `chain[head]` is the descriptors
    /// of the request whose head is `head`, empty if none is in flight.
    chain: Vec<Vec<u16>>,
    /// Our next index into the available ring (Linux: `avail_idx_shadow`).
    avail_idx: u16,
    /// The used-ring index we have consumed up to.
    last_used_idx: u16,
    /// Where this queue's doorbell is in the notify structure.
    pub doorbell: usize,
}

impl Virtqueue {
    /// Allocates a queue of `num` entries (a power of two, at most
    /// `VIRTQUEUE_MAX_SIZE`) in one zeroed DMA page.
    pub fn new(index: u16, num: u16) -> KResult<Self> {
        if !num.is_power_of_two() || num > VIRTQUEUE_MAX_SIZE {
            return Err(Errno::EINVAL);
        }
        let mut free = Vec::new();
        free.try_reserve_exact(usize::from(num)).map_err(|_| Errno::ENOMEM)?;
        free.extend((0..num).rev());
        let mut chain = Vec::new();
        chain.try_reserve_exact(usize::from(num)).map_err(|_| Errno::ENOMEM)?;
        chain.resize_with(usize::from(num), Vec::new);
        let ring = DmaCoherent::alloc(0)?;
        Ok(Self { index, num, ring, free, chain, avail_idx: 0, last_used_idx: 0, doorbell: 0 })
    }

    /// The number of descriptors (the ring size).
    pub fn num(&self) -> u16 {
        self.num
    }

    fn avail_off(&self) -> usize {
        DESC_SIZE * usize::from(self.num)
    }

    fn used_off(&self) -> usize {
        (self.avail_off() + 6 + 2 * usize::from(self.num)).next_multiple_of(4)
    }

    /// Bus addresses of the descriptor table, available and used rings,
    /// for `VirtioPciModernDevice::setup_queue`.
    pub fn ring_addrs(&self) -> [u64; 3] {
        let base = self.ring.dma_addr();
        [base, base + self.avail_off() as u64, base + self.used_off() as u64]
    }

    /// Chains `bufs` (device-readable ones first, as the specification
    /// requires) and makes the chain available (Linux:
    /// `virtqueue_add_sgs`); returns the head, the request's token.
    /// `ENOSPC` when too few descriptors are free.
    pub fn add_buf(&mut self, bufs: &[VirtqBuf]) -> KResult<u16> {
        if bufs.is_empty() || bufs.len() > self.free.len() {
            return Err(Errno::ENOSPC);
        }
        let mut ids = Vec::new();
        ids.try_reserve_exact(bufs.len()).map_err(|_| Errno::ENOMEM)?;
        for _ in bufs {
            ids.extend(self.free.pop());
        }
        for (i, (buf, &id)) in bufs.iter().zip(&ids).enumerate() {
            let next = ids.get(i + 1).copied();
            let mut flags = if next.is_some() { VRING_DESC_F_NEXT } else { 0 };
            if buf.device_writes {
                flags |= VRING_DESC_F_WRITE;
            }
            let at = DESC_SIZE * usize::from(id);
            self.ring.write64(at, buf.addr);
            self.ring.write32(at + 8, buf.len);
            self.ring.write16(at + 12, flags);
            self.ring.write16(at + 14, next.unwrap_or(0));
        }
        let Some(&head) = ids.first() else { return Err(Errno::ENOSPC) };
        self.chain[usize::from(head)] = ids;
        let slot = usize::from(self.avail_idx % self.num);
        self.ring.write16(self.avail_off() + 4 + 2 * slot, head);
        // The device must see the descriptors and the ring entry before
        // the index that publishes them.
        dma_wmb();
        self.avail_idx = self.avail_idx.wrapping_add(1);
        self.ring.write16(self.avail_off() + 2, self.avail_idx);
        dma_wmb();
        Ok(head)
    }

    /// Takes one completed request off the used ring (Linux:
    /// `virtqueue_get_buf`): `Ok(None)` if none is done yet, `Ok(Some((head,
    /// written)))` for a completion, `EIO` if the device named something
    /// that is not in flight.
    pub fn get_buf(&mut self) -> KResult<Option<(u16, u32)>> {
        let used_idx = self.ring.read16(self.used_off() + 2);
        if used_idx == self.last_used_idx {
            return Ok(None);
        }
        // Read the entry only after seeing the index that covers it.
        dma_rmb();
        let slot = usize::from(self.last_used_idx % self.num);
        let elem = self.used_off() + 4 + USED_ELEM_SIZE * slot;
        let id = self.ring.read32(elem);
        let written = self.ring.read32(elem + 4);
        self.last_used_idx = self.last_used_idx.wrapping_add(1);
        let head = u16::try_from(id).ok().filter(|&h| h < self.num).ok_or(Errno::EIO)?;
        let ids = core::mem::take(&mut self.chain[usize::from(head)]);
        if ids.is_empty() {
            return Err(Errno::EIO);
        }
        self.free.extend(ids);
        Ok(Some((head, written)))
    }
}

//! virtio-blk's requests: the slots a request lives in while the device
//! has it, queuing them on the ring, reaping them off the used ring, and
//! one call's transfer cut into pieces that are in flight together.
//!
//! Linux: drivers/block/virtio_blk.c (`struct virtblk_req`,
//! `virtblk_setup_cmd`, `virtblk_add_req`, `virtio_queue_rq`,
//! `virtblk_done`, `virtblk_request_done`).
//!
//! A request is the header (type, sector), the data, and one status byte
//! the device writes. Each slot owns its header and a bounce buffer: a
//! kernel buffer (any buffer: a vmalloc stack has no single bus address)
//! goes in `SLOT_BYTES` pieces through the bounce buffers; page pieces
//! ([`BioVec`]s from the bio layer) are given to the device as they are,
//! up to [`MAX_SEGS`] a request, no copy.
//!
//! # Locking
//! Everything here runs under the disk's `VirtioBlk::inner` lock.

use alloc::vec::Vec;

use crate::block::SECTOR_SIZE;
use crate::block::bio::BioVec;
use crate::drivers::pci::dma::DmaCoherent;
use crate::drivers::virtio::pci_modern::VirtioPciModernDevice;
use crate::drivers::virtio::ring::{VirtqBuf, Virtqueue};
use crate::kernel::errno::{Errno, KResult};

/// `struct virtio_blk_outhdr` types and the status that means success.
pub const VIRTIO_BLK_T_IN: u32 = 0;
pub const VIRTIO_BLK_T_OUT: u32 = 1;
pub const VIRTIO_BLK_T_FLUSH: u32 = 4;
const VIRTIO_BLK_S_OK: u8 = 0;
/// The header takes 16 bytes of a slot's request page, the status follows.
const REQ_HDR_LEN: u32 = 16;
const REQ_STATUS_OFF: usize = 16;
/// 32 KiB of bounce buffer a slot: the most one buffered request moves.
pub const BOUNCE_ORDER: u8 = 3;
pub const SLOT_BYTES: usize = 4096 << BOUNCE_ORDER;
/// Requests in flight at most (each takes three descriptors, or two plus
/// one a page).
pub const NR_SLOTS: usize = 8;
/// Page pieces one request carries at most (Linux: `seg_max`; QEMU offers
/// 126, the 64-entry ring bounds it here).
pub const MAX_SEGS: usize = 16;

/// Where a request slot is in its life.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Free,
    /// Queued; the device owns the buffers. The head descriptor.
    InFlight(u16),
    /// Reaped, with the status byte; the submitter has not looked yet.
    Done(u8),
}

/// One request's DMA memory (Linux: `struct virtblk_req`).
pub struct Slot {
    /// The header, then the status byte.
    req: DmaCoherent,
    bounce: DmaCoherent,
    state: SlotState,
}

/// Allocates the request slots a queue of `num` descriptors can carry.
pub fn alloc_slots(num: u16) -> KResult<Vec<Slot>> {
    let count = NR_SLOTS.min(usize::from(num) / 3).max(1);
    let mut slots = Vec::new();
    slots.try_reserve_exact(count).map_err(|_| Errno::ENOMEM)?;
    for _ in 0..count {
        let req = DmaCoherent::alloc(0)?;
        let bounce = DmaCoherent::alloc(BOUNCE_ORDER)?;
        // A piece is `SLOT_BYTES`: the bounce buffer must hold one.
        if bounce.len() < SLOT_BYTES {
            return Err(Errno::ENOMEM);
        }
        slots.push(Slot { req, bounce, state: SlotState::Free });
    }
    Ok(slots)
}

/// The device and its queue, under the disk's lock.
pub struct VirtioBlkInner {
    pub vdev: VirtioPciModernDevice,
    pub vq: Virtqueue,
    pub slots: Vec<Slot>,
    /// Kept mapped while MSI-X is on.
    pub _msix: Option<crate::drivers::pci::msi::MsixTable>,
    /// The device missed a deadline or broke the protocol.
    pub broken: bool,
}

impl VirtioBlkInner {
    fn free_slot(&self) -> Option<usize> {
        self.slots.iter().position(|s| s.state == SlotState::Free)
    }

    pub fn in_flight(&self) -> usize {
        self.slots.iter().filter(|s| matches!(s.state, SlotState::InFlight(_))).count()
    }

    /// Queues the request in slot `i` with `data` between header and
    /// status (Linux: `virtblk_setup_cmd` + `virtblk_add_req`); the caller
    /// rings the doorbell. `ENOSPC` when the ring lacks descriptors now.
    fn queue_rq(&mut self, i: usize, kind: u32, sector: u64, data: &[VirtqBuf]) -> KResult<()> {
        let slot = self.slots.get_mut(i).ok_or(Errno::EINVAL)?;
        slot.req.write32(0, kind);
        slot.req.write32(4, 0);
        slot.req.write64(8, sector);
        slot.req.write16(REQ_STATUS_OFF, 0xffff);
        let req = slot.req.dma_addr();
        let mut bufs = Vec::new();
        bufs.try_reserve_exact(data.len() + 2).map_err(|_| Errno::ENOMEM)?;
        bufs.push(VirtqBuf { addr: req, len: REQ_HDR_LEN, device_writes: false });
        bufs.extend_from_slice(data);
        bufs.push(VirtqBuf { addr: req + REQ_STATUS_OFF as u64, len: 1, device_writes: true });
        let head = self.vq.add_buf(&bufs)?;
        slot.state = SlotState::InFlight(head);
        Ok(())
    }

    /// Takes every completed request off the used ring (Linux:
    /// `virtblk_done`); returns how many. A used entry that is no request
    /// of ours breaks the device.
    pub fn virtblk_done(&mut self) -> usize {
        let mut reaped = 0;
        while !self.broken {
            let head = match self.vq.get_buf() {
                Ok(Some((head, _))) => head,
                Ok(None) => break,
                Err(_) => {
                    self.fail();
                    break;
                }
            };
            let slot = self.slots.iter_mut().find(|s| s.state == SlotState::InFlight(head));
            let Some(slot) = slot else {
                self.fail();
                break;
            };
            let [status, _] = slot.req.read16(REQ_STATUS_OFF).to_le_bytes();
            slot.state = SlotState::Done(status);
            reaped += 1;
        }
        reaped
    }

    /// Gives up on the device: a reset stops its DMA before the pages
    /// of abandoned requests go back to their owners (Linux:
    /// `virtio_break_device` + the reset on removal).
    pub fn fail(&mut self) {
        self.broken = true;
        let _ = self.vdev.reset();
        self.vdev.fail();
    }
}

/// What a transfer moves: a kernel buffer, cut in `SLOT_BYTES` pieces
/// that go through the slots' bounce buffers, or page pieces the device
/// reaches directly, up to `MAX_SEGS` a request.
pub enum Data<'a> {
    Read(&'a mut [u8]),
    Write(&'a [u8]),
    Pages(&'a [BioVec]),
    None,
}

/// One call's I/O while it is in flight: `len` bytes at `sector`.
pub struct Transfer<'a> {
    kind: u32,
    sector: u64,
    len: usize,
    data: Data<'a>,
    pieces: usize,
    /// The next piece to queue.
    next: usize,
    /// (slot, piece) of each queued piece not yet completed.
    mine: Vec<(usize, usize)>,
    pub result: KResult<()>,
}

impl<'a> Transfer<'a> {
    pub fn new(kind: u32, sector: u64, data: Data<'a>, len: usize) -> KResult<Self> {
        let pieces = match &data {
            Data::Pages(segs) => segs.len().div_ceil(MAX_SEGS).max(1),
            _ => len.div_ceil(SLOT_BYTES).max(1),
        };
        let mut mine = Vec::new();
        mine.try_reserve(NR_SLOTS).map_err(|_| Errno::ENOMEM)?;
        Ok(Self { kind, sector, len, data, pieces, next: 0, mine, result: Ok(()) })
    }

    /// Every piece is queued (or an error stopped queuing) and completed.
    pub fn finished(&self) -> bool {
        self.mine.is_empty() && (self.next == self.pieces || self.result.is_err())
    }

    /// Frees this transfer's completed slots, copying reads out of the
    /// bounce buffers (Linux: `virtblk_request_done`).
    pub fn complete_done(&mut self, inner: &mut VirtioBlkInner) {
        let (data, result) = (&mut self.data, &mut self.result);
        self.mine.retain(|&(slot, piece)| {
            let Some(s) = inner.slots.get_mut(slot) else { return false };
            let SlotState::Done(status) = s.state else { return true };
            if status != VIRTIO_BLK_S_OK {
                *result = Err(Errno::EIO);
            } else if let Data::Read(buf) = data {
                let part = buf.chunks_mut(SLOT_BYTES).nth(piece).unwrap_or_default();
                if !s.bounce.copy_out(0, part) {
                    *result = Err(Errno::EIO);
                }
            }
            s.state = SlotState::Free;
            false
        });
    }

    /// Queues pieces while slots and descriptors last (Linux:
    /// `virtio_queue_rq`); returns whether any was queued.
    pub fn queue_pieces(&mut self, inner: &mut VirtioBlkInner) -> bool {
        let mut queued = false;
        while self.next < self.pieces && self.result.is_ok() {
            let Some(slot) = inner.free_slot() else { break };
            let mut bufs = [VirtqBuf { addr: 0, len: 0, device_writes: false }; MAX_SEGS];
            let (sector, nr) = match self.piece_bufs(&inner.slots[slot], &mut bufs) {
                Ok(piece) => piece,
                Err(e) => {
                    self.result = Err(e);
                    break;
                }
            };
            match inner.queue_rq(slot, self.kind, sector, &bufs[..nr]) {
                Ok(()) => {}
                // The ring is full of others' requests: wait for them.
                Err(Errno::ENOSPC) if inner.in_flight() > 0 => break,
                Err(e) => {
                    self.result = Err(e);
                    break;
                }
            }
            self.mine.push((slot, self.next));
            self.next += 1;
            queued = true;
        }
        queued
    }

    /// The data descriptors of the next piece, its bytes copied into
    /// `slot`'s bounce buffer for a buffered write; returns the piece's
    /// first sector and how many of `bufs` it fills.
    fn piece_bufs(&self, slot: &Slot, bufs: &mut [VirtqBuf; MAX_SEGS]) -> KResult<(u64, usize)> {
        let device_writes = self.kind == VIRTIO_BLK_T_IN;
        let i = self.next;
        match &self.data {
            Data::None => Ok((self.sector, 0)),
            Data::Pages(segs) => {
                let before: usize = segs.iter().take(i * MAX_SEGS).map(|v| v.len).sum();
                let group = segs.chunks(MAX_SEGS).nth(i).unwrap_or_default();
                for (b, v) in bufs.iter_mut().zip(group) {
                    let addr = v.pfn.phys().as_u64() + v.offset as u64;
                    // The caller checked that each piece fits its page.
                    let len = u32::try_from(v.len).map_err(|_| Errno::EINVAL)?;
                    *b = VirtqBuf { addr, len, device_writes };
                }
                Ok((self.sector + (before / SECTOR_SIZE) as u64, group.len()))
            }
            Data::Read(_) | Data::Write(_) => {
                if let Data::Write(buf) = &self.data {
                    let part = buf.chunks(SLOT_BYTES).nth(i).unwrap_or_default();
                    if !slot.bounce.copy_in(0, part) {
                        return Err(Errno::EIO);
                    }
                }
                let piece_len = self.len.saturating_sub(i * SLOT_BYTES).min(SLOT_BYTES);
                let len = u32::try_from(piece_len).map_err(|_| Errno::EINVAL)?;
                bufs[0] = VirtqBuf { addr: slot.bounce.dma_addr(), len, device_writes };
                Ok((self.sector + (i * (SLOT_BYTES / SECTOR_SIZE)) as u64, 1))
            }
        }
    }
}

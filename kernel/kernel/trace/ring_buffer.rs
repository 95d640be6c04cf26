//! The per-CPU trace ring buffers: binary event records, oldest
//! overwritten first, consumed by `trace_pipe` or copied for `trace`.
//!
//! Linux: kernel/trace/ring_buffer.c (`ring_buffer_lock_reserve`,
//! `ring_buffer_unlock_commit`, `ring_buffer_consume`,
//! `rb_handle_head_page`'s overwrite, `ring_buffer_overrun_cpu`,
//! `ring_buffer_reset_cpu`, `ring_buffer_resize`).
//!
//! Linux keeps a lock-free list of pages per CPU; Ferrite keeps one byte
//! ring per CPU under a spinlock. A record is `[len: u16][ts_ns: u64]
//! [comm: 16 bytes][payload]`, `len` counting all of it; records wrap
//! around the end of the ring. The payload is the event in Linux's layout
//! (the common fields, then the event's), as its `format` file says; the
//! writer's `comm` rides along so that output needs no saved-cmdlines
//! table (Linux: `tracing_record_cmdline`).
//!
//! When a record does not fit, the oldest records are dropped and counted
//! as overrun (Linux's default overwrite mode); a consuming read reports
//! how many were lost since the last one, as `trace_pipe` prints them.
//!
//! # Locking
//! Positions are `usize` byte counts that never wrap in a machine's life.
//! Each CPU's ring is a `SpinLock` (interrupts off), a leaf: tracepoints
//! write under any lock, the run-queue lock included, and in interrupt
//! handlers. The writer takes its own CPU's ring; readers take one ring
//! at a time and copy out. Nothing is allocated under it.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use crate::arch::percpu::NR_CPUS;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

/// `len`, `ts_ns` and `comm` before the payload.
pub const RECORD_HEADER: usize = 2 + 8 + 16;

/// One record copied out of a ring.
#[derive(Clone, Copy)]
pub struct RecordRef<'a> {
    pub ts_ns: u64,
    pub comm: &'a [u8],
    pub payload: &'a [u8],
}

/// Splits a record in linear memory.
pub fn parse_record(raw: &[u8]) -> Option<RecordRef<'_>> {
    let ts = raw.get(2..10)?;
    let ts_ns = u64::from_le_bytes(ts.try_into().ok()?);
    Some(RecordRef { ts_ns, comm: raw.get(10..RECORD_HEADER)?, payload: raw.get(RECORD_HEADER..)? })
}

/// One CPU's ring (Linux: `struct ring_buffer_per_cpu`).
pub struct RingBuffer {
    buf: Vec<u8>,
    /// Byte positions ever written: `head` is the oldest record, `tail`
    /// where the next goes; `pos % buf.len()` is the place in `buf`.
    head: usize,
    tail: usize,
    /// Records in the ring now (Linux: `rb_num_of_entries`).
    entries: u64,
    /// Records ever written since the last reset (Linux: `entries` +
    /// `overrun`, "entries-written").
    written: u64,
    /// Records overwritten since the last consuming read.
    lost: u64,
}

impl RingBuffer {
    const fn new() -> Self {
        Self { buf: Vec::new(), head: 0, tail: 0, entries: 0, written: 0, lost: 0 }
    }

    fn byte_at(&self, pos: usize) -> u8 {
        let len = self.buf.len();
        if len == 0 {
            return 0;
        }
        self.buf.get(pos % len).copied().unwrap_or(0)
    }

    fn put_at(&mut self, pos: usize, bytes: &[u8]) {
        let len = self.buf.len();
        if len == 0 {
            return;
        }
        for (i, &b) in bytes.iter().enumerate() {
            let at = pos.wrapping_add(i) % len;
            if let Some(slot) = self.buf.get_mut(at) {
                *slot = b;
            }
        }
    }

    fn len_at(&self, pos: usize) -> usize {
        usize::from(u16::from_le_bytes([self.byte_at(pos), self.byte_at(pos + 1)]))
    }

    /// Drops the oldest record (Linux: the head page moving on in
    /// overwrite mode).
    fn drop_oldest(&mut self) {
        let len = self.len_at(self.head).max(1);
        self.head = (self.head + len).min(self.tail);
        self.entries = self.entries.saturating_sub(1);
        self.lost = self.lost.saturating_add(1);
    }

    /// Appends one record, overwriting the oldest ones to make room;
    /// a record larger than the ring (or a ring not yet allocated) is
    /// dropped.
    pub fn write(&mut self, ts_ns: u64, comm: &[u8; 16], payload: &[u8]) {
        let size = RECORD_HEADER + payload.len();
        let Ok(len16) = u16::try_from(size) else { return };
        if size > self.buf.len() {
            return;
        }
        while self.tail - self.head + size > self.buf.len() {
            self.drop_oldest();
        }
        let tail = self.tail;
        self.put_at(tail, &len16.to_le_bytes());
        self.put_at(tail + 2, &ts_ns.to_le_bytes());
        self.put_at(tail + 10, comm);
        self.put_at(tail + RECORD_HEADER, payload);
        self.tail += size;
        self.entries += 1;
        self.written += 1;
    }

    /// The oldest record's timestamp, if any.
    pub fn peek_ts(&self) -> Option<u64> {
        if self.head == self.tail {
            return None;
        }
        let mut ts = [0u8; 8];
        for (i, b) in ts.iter_mut().enumerate() {
            *b = self.byte_at(self.head + 2 + i);
        }
        Some(u64::from_le_bytes(ts))
    }

    /// Moves the oldest record into `out` (cleared first) and returns
    /// the records lost before it since the last consuming read (Linux:
    /// `ring_buffer_consume`'s `lost_events`).
    pub fn consume(&mut self, out: &mut Vec<u8>) -> Option<u64> {
        if self.head == self.tail {
            return None;
        }
        let len = self.len_at(self.head);
        out.clear();
        if out.capacity() < len {
            // The caller sized `out` for the largest record; a larger one
            // is corrupt: drop it rather than allocate here.
            self.drop_oldest();
            return None;
        }
        out.extend((0..len).map(|i| self.byte_at(self.head + i)));
        self.head += len;
        self.entries = self.entries.saturating_sub(1);
        Some(core::mem::take(&mut self.lost))
    }

    /// Copies every record, oldest first, into `out` (which the caller
    /// sized with [`RingBuffer::size`]); `out` gets what fits.
    pub fn copy_to(&self, out: &mut Vec<u8>) {
        let n = (self.tail - self.head).min(out.capacity() - out.len());
        out.extend((0..n).map(|i| self.byte_at(self.head + i)));
    }

    /// Empties the ring and its counters (Linux: `ring_buffer_reset_cpu`).
    pub fn reset(&mut self) {
        self.head = self.tail;
        self.entries = 0;
        self.written = 0;
        self.lost = 0;
    }

    pub fn size(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    /// (entries in the buffer, entries written).
    pub fn counts(&self) -> (u64, u64) {
        (self.entries, self.written)
    }
}

/// Every CPU's ring (Linux: `buffer->buffers[cpu]`).
static RINGS: [SpinLock<RingBuffer>; NR_CPUS] =
    [const { SpinLock::new(RingBuffer::new()) }; NR_CPUS];

/// The CPUs tracing covers: the boot CPU, until CPUs are brought up
/// (Linux: `for_each_tracing_cpu`).
pub fn nr_tracing_cpus() -> usize {
    1
}

/// CPU `cpu`'s ring.
pub fn ring(cpu: usize) -> Option<&'static SpinLock<RingBuffer>> {
    RINGS.get(cpu)
}

/// Gives every tracing CPU a ring of `bytes`, emptied (Linux:
/// `ring_buffer_resize`, which keeps the data; here a resize clears it).
/// The memory is allocated before any ring lock is taken.
pub fn resize(bytes: usize) -> KResult<()> {
    for ring in RINGS.iter().take(nr_tracing_cpus()) {
        let mut fresh = Vec::new();
        fresh.try_reserve_exact(bytes).map_err(|_| Errno::ENOMEM)?;
        fresh.resize(bytes, 0);
        let old = {
            let mut rb = ring.lock();
            rb.reset();
            rb.head = 0;
            rb.tail = 0;
            core::mem::replace(&mut rb.buf, fresh)
        };
        drop(old);
    }
    Ok(())
}

/// Empties every ring (Linux: `tracing_reset_online_cpus`).
pub fn reset_all() {
    for ring in RINGS.iter().take(nr_tracing_cpus()) {
        ring.lock().reset();
    }
}

crate::ktest!(trace_ring_buffer_overwrites_oldest, {
    let mut rb = RingBuffer::new();
    rb.buf.resize(3 * (RECORD_HEADER + 8), 0);
    let comm = [b'x'; 16];
    for i in 0..5u64 {
        rb.write(i, &comm, &i.to_le_bytes());
    }
    crate::kassert!(rb.counts() == (3, 5), "three kept of five written");
    let mut out = Vec::new();
    out.try_reserve(64).map_err(|_| "alloc")?;
    crate::kassert!(rb.consume(&mut out) == Some(2), "two lost before the first kept");
    let rec = parse_record(&out).ok_or("parse")?;
    crate::kassert!(rec.ts_ns == 2 && rec.payload == 2u64.to_le_bytes(), "oldest kept is #2");
    crate::kassert!(rb.consume(&mut out) == Some(0), "nothing lost since");
    rb.reset();
    crate::kassert!(rb.is_empty() && rb.counts() == (0, 0), "reset empties");
    Ok(())
});

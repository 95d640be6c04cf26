//! The kernel log: a ring of records, each with its level and timestamp.
//! The oldest records are overwritten once the ring is full.
//!
//! Linux: kernel/printk/printk_ringbuffer.c (much simplified: one writer at
//! a time, under `printk::LOG`).
#![deny(unsafe_code)]

/// A record's header, stored before its text.
const HEADER_LEN: usize = 2 + 1 + 8;

/// One record as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub seq: u64,
    pub level: u8,
    pub ts_ns: u64,
    pub text: &'a [u8],
}

/// A byte ring of `N` bytes holding variable-length records.
///
/// Positions (`head`, `tail`) count bytes ever written; a position's place
/// in `buf` is `pos % N`, so records wrap around the end transparently.
pub struct RingBuf<const N: usize> {
    buf: [u8; N],
    head: u64,
    tail: u64,
    first_seq: u64,
    next_seq: u64,
}

impl<const N: usize> RingBuf<N> {
    pub const fn new() -> Self {
        Self { buf: [0; N], head: 0, tail: 0, first_seq: 0, next_seq: 0 }
    }

    /// Appends a record, dropping the oldest until it fits. Text longer
    /// than the ring (or than `u16::MAX`) is cut.
    pub fn push(&mut self, level: u8, ts_ns: u64, text: &[u8]) {
        let max = (N - HEADER_LEN).min(usize::from(u16::MAX));
        let text = &text[..text.len().min(max)];
        let size = (HEADER_LEN + text.len()) as u64;
        while self.tail + size - self.head > N as u64 {
            let oldest = self.len_at(self.head);
            self.head += (HEADER_LEN + oldest) as u64;
            self.first_seq += 1;
        }
        let len = (text.len() as u16).to_le_bytes();
        let mut pos = self.tail;
        for &b in len.iter().chain(&[level]).chain(&ts_ns.to_le_bytes()).chain(text) {
            self.buf[(pos % N as u64) as usize] = b;
            pos += 1;
        }
        self.tail = pos;
        self.next_seq += 1;
    }

    fn byte(&self, pos: u64) -> u8 {
        self.buf[(pos % N as u64) as usize]
    }

    fn len_at(&self, pos: u64) -> usize {
        usize::from(u16::from_le_bytes([self.byte(pos), self.byte(pos + 1)]))
    }

    /// Calls `f` with each record, oldest first. The text is handed over in
    /// a scratch buffer because a record may wrap around the ring's end.
    pub fn for_each(&self, scratch: &mut [u8], mut f: impl FnMut(Record<'_>)) {
        let (mut pos, mut seq) = (self.head, self.first_seq);
        while pos < self.tail {
            let len = self.len_at(pos);
            let level = self.byte(pos + 2);
            let mut ts = [0u8; 8];
            for (i, b) in ts.iter_mut().enumerate() {
                *b = self.byte(pos + 3 + i as u64);
            }
            let text_start = pos + HEADER_LEN as u64;
            let n = len.min(scratch.len());
            for (i, b) in scratch[..n].iter_mut().enumerate() {
                *b = self.byte(text_start + i as u64);
            }
            f(Record { seq, level, ts_ns: u64::from_le_bytes(ts), text: &scratch[..n] });
            pos = text_start + len as u64;
            seq += 1;
        }
    }

    /// Sequence number of the oldest record still held.
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// Sequence number the next record will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

impl<const N: usize> Default for RingBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

//! The kernel log: a ring of records, each with its level and timestamp.
//! The oldest records are overwritten once the ring is full.
//!
//! Linux: kernel/printk/printk_ringbuffer.c (much simplified: one writer at
//! a time, under `printk::LOG`).
#![deny(unsafe_code)]

/// A record's header, stored before its text: length, level, facility,
/// timestamp.
const HEADER_LEN: usize = 2 + 1 + 1 + 8;

/// One record as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub seq: u64,
    pub level: u8,
    /// 0 for the kernel's own messages, `LOG_USER` (1) and up for those
    /// written to /dev/kmsg (Linux: `printk_info::facility`).
    pub facility: u8,
    pub ts_ns: u64,
    pub text: &'a [u8],
}

/// A byte ring of `N` bytes holding variable-length records.
///
/// Positions (`head`, `tail`) count bytes ever written (a `usize` does not
/// wrap in the life of a machine); a position's place
/// in `buf` is `pos % N`, so records wrap around the end transparently.
pub struct RingBuf<const N: usize> {
    buf: [u8; N],
    head: usize,
    tail: usize,
    first_seq: u64,
    next_seq: u64,
}

impl<const N: usize> RingBuf<N> {
    pub const fn new() -> Self {
        Self { buf: [0; N], head: 0, tail: 0, first_seq: 0, next_seq: 0 }
    }

    /// Appends a record, dropping the oldest until it fits. Text longer
    /// than the ring (or than `u16::MAX`) is cut.
    pub fn push(&mut self, level: u8, facility: u8, ts_ns: u64, text: &[u8]) {
        let max = (N - HEADER_LEN).min(usize::from(u16::MAX));
        let text = &text[..text.len().min(max)];
        let size = HEADER_LEN + text.len();
        while self.tail + size - self.head > N {
            let oldest = self.len_at(self.head);
            self.head += HEADER_LEN + oldest;
            self.first_seq += 1;
        }
        let len = u16::try_from(text.len()).unwrap_or(u16::MAX).to_le_bytes();
        let mut pos = self.tail;
        let (lf, ts) = ([level, facility], ts_ns.to_le_bytes());
        for &b in len.iter().chain(&lf).chain(&ts).chain(text) {
            self.buf[pos % N] = b;
            pos += 1;
        }
        self.tail = pos;
        self.next_seq += 1;
    }

    fn byte(&self, pos: usize) -> u8 {
        self.buf[pos % N]
    }

    fn len_at(&self, pos: usize) -> usize {
        usize::from(u16::from_le_bytes([self.byte(pos), self.byte(pos + 1)]))
    }

    /// The sequence number of the oldest record kept (Linux:
    /// `prb_first_valid_seq`).
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// The sequence number the next record will get (Linux: `prb_next_seq`).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Calls `f` with each record, oldest first. The text is handed over in
    /// a scratch buffer because a record may wrap around the ring's end.
    pub fn for_each(&self, scratch: &mut [u8], mut f: impl FnMut(Record<'_>)) {
        self.for_each_from(0, scratch, |rec| {
            f(rec);
            true
        });
    }

    /// Calls `f` with each record from sequence number `from` on (or the
    /// oldest kept, if `from` was overwritten) until it returns false.
    pub fn for_each_from(
        &self,
        from: u64,
        scratch: &mut [u8],
        mut f: impl FnMut(Record<'_>) -> bool,
    ) {
        let (mut pos, mut seq) = (self.head, self.first_seq);
        while pos < self.tail {
            let len = self.len_at(pos);
            let text_start = pos + HEADER_LEN;
            if seq >= from {
                let mut ts = [0u8; 8];
                for (i, b) in ts.iter_mut().enumerate() {
                    *b = self.byte(pos + 4 + i);
                }
                let n = len.min(scratch.len());
                for (i, b) in scratch[..n].iter_mut().enumerate() {
                    *b = self.byte(text_start + i);
                }
                let rec = Record {
                    seq,
                    level: self.byte(pos + 2),
                    facility: self.byte(pos + 3),
                    ts_ns: u64::from_le_bytes(ts),
                    text: &scratch[..n],
                };
                if !f(rec) {
                    return;
                }
            }
            pos = text_start + len;
            seq += 1;
        }
    }
}

impl<const N: usize> Default for RingBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

crate::ktest!(printk_ring_drops_oldest_and_wraps, {
    let mut ring = RingBuf::<64>::new();
    for i in 0..20u8 {
        ring.push(6, 0, u64::from(i), &[b'a' + i; 10]);
    }
    let (mut count, mut last) = (0, None);
    let mut scratch = [0u8; 64];
    let mut intact = true;
    ring.for_each(&mut scratch, |rec| {
        count += 1;
        intact &= rec.text.len() == 10 && rec.text.iter().all(|&b| b == rec.text[0]);
        intact &= u64::from(rec.text[0] - b'a') == rec.ts_ns && rec.seq == rec.ts_ns;
        last = Some(rec.ts_ns);
    });
    // 22-byte records in a 64-byte ring: the newest two survive.
    crate::kassert!(count == 2, "only the newest records are kept");
    crate::kassert!(ring.first_seq() == 18 && ring.next_seq() == 20, "sequence numbers");
    let mut from = None;
    ring.for_each_from(19, &mut scratch, |rec| {
        from = Some(rec.seq);
        false
    });
    crate::kassert!(from == Some(19), "for_each_from starts at the asked record");
    crate::kassert!(last == Some(19), "the newest record is last");
    crate::kassert!(intact, "records that wrap the ring's end read back intact");
    Ok(())
});

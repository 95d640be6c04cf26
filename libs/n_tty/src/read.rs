//! The read side: canonical lines, VMIN/VTIME, FIONREAD and poll.
//!
//! Linux: drivers/tty/n_tty.c (`n_tty_read`, `canon_copy_from_read_buf`,
//! `copy_from_read_buf`, `input_available_p`, `inq_canon`).

use linux_raw_sys::general as g;

use crate::{MASK, Mark, N_TTY_BUF_SIZE, NTty, span};

/// What a reader does after one pass over the input buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadStep {
    /// The read is over: `n` more bytes were copied (0 with nothing
    /// copied before is end of file).
    Done(usize),
    /// `copied` bytes were copied and the reader must wait for more: until
    /// input arrives, or for `timeout_ds` tenths of a second (VTIME) after
    /// which it returns what it has.
    Wait { copied: usize, timeout_ds: Option<u8> },
}

impl NTty {
    /// Copies readable input into `out` and says whether the read is done
    /// (Linux: `n_tty_read`). `copied_before` counts what earlier passes of
    /// the same read(2) already returned; the user's request is
    /// `copied_before + out.len()`.
    pub fn read(&mut self, out: &mut [u8], copied_before: usize) -> ReadStep {
        if out.is_empty() {
            return ReadStep::Done(0);
        }
        if self.termios.lflag(g::ICANON) {
            self.canon_read(out)
        } else {
            self.raw_read(out, copied_before)
        }
    }

    /// One line, or as much of it as fits; the rest stays for the next read.
    fn canon_read(&mut self, out: &mut [u8]) -> ReadStep {
        if self.canon_head == self.read_tail {
            return ReadStep::Wait { copied: 0, timeout_ds: None };
        }
        let mut n = 0;
        while self.read_tail != self.canon_head && n < out.len() {
            let i = self.read_tail & MASK;
            self.read_tail = self.read_tail.wrapping_add(1);
            match self.marks[i] {
                Mark::Eof => break,
                mark => {
                    out[n] = self.buf[i];
                    n += 1;
                    if mark == Mark::Eol {
                        break;
                    }
                }
            }
        }
        ReadStep::Done(n)
    }

    /// Non-canonical: VMIN bytes (at most what was asked), with VTIME as an
    /// overall timeout when VMIN is 0 and an inter-byte timeout otherwise.
    fn raw_read(&mut self, out: &mut [u8], copied_before: usize) -> ReadStep {
        let n = self.read_cnt().min(out.len());
        for (k, dst) in out[..n].iter_mut().enumerate() {
            *dst = self.buf[self.read_tail.wrapping_add(k) & MASK];
        }
        self.read_tail = self.read_tail.wrapping_add(n);
        let total = copied_before + n;
        let (min, time) = (usize::from(self.termios.cc(g::VMIN)), self.termios.cc(g::VTIME));
        let timeout_ds = (time > 0).then_some(time);
        if min == 0 {
            if total > 0 || time == 0 {
                return ReadStep::Done(n);
            }
            return ReadStep::Wait { copied: n, timeout_ds };
        }
        if total >= min.min(copied_before + out.len()) {
            return ReadStep::Done(n);
        }
        // The VTIME timer only runs once the first byte has arrived.
        ReadStep::Wait { copied: n, timeout_ds: if total > 0 { timeout_ds } else { None } }
    }

    /// Whether a read would find data (Linux: `input_available_p`). For
    /// poll, non-canonical mode with VTIME 0 wants VMIN bytes.
    pub fn input_available(&self, for_poll: bool) -> bool {
        if self.termios.lflag(g::ICANON) {
            return self.canon_head != self.read_tail;
        }
        let (min, time) = (self.termios.cc(g::VMIN), self.termios.cc(g::VTIME));
        let amount = if for_poll && time == 0 && min > 0 { usize::from(min) } else { 1 };
        self.read_cnt() >= amount
    }

    /// Bytes the input buffer takes now from a driver that can wait, a
    /// pty (Linux: the `room` of `n_tty_receive_buf_common`): one slot is
    /// kept free, and a canonical line that fills the buffer still takes
    /// one byte at a time, so that its newline can end it.
    pub fn receive_room(&self) -> usize {
        let room = N_TTY_BUF_SIZE.saturating_sub(self.read_cnt() + 1);
        let overflow = self.termios.lflag(g::ICANON) && self.canon_head == self.read_tail;
        if room == 0 && overflow { 1 } else { room }
    }

    /// Bytes a read could return now, for `FIONREAD` (Linux: `inq_canon`).
    pub fn inq(&self) -> usize {
        if !self.termios.lflag(g::ICANON) {
            return self.read_cnt();
        }
        span(self.read_tail, self.canon_head).filter(|&i| self.marks[i & MASK] != Mark::Eof).count()
    }
}

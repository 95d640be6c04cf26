//! The N_TTY line discipline as pure logic: what a terminal does with the
//! bytes typed at it and the bytes written to it.
//!
//! Linux: drivers/tty/n_tty.c (`struct n_tty_data`), with the termios
//! layout of include/uapi/asm-generic/termbits.h.
//!
//! [`NTty`] holds the input buffer and the termios that governs it. The
//! receive side ([`NTty::receive_buf`]) applies input processing (ICRNL,
//! INLCR, IGNCR, ISTRIP, IUCLC, IXON), canonical editing (VERASE, VKILL,
//! VWERASE, VLNEXT, VREPRINT, VEOF, VEOL, VEOL2) and ISIG, and returns the
//! signals to raise instead of raising them; echo goes into an echo buffer
//! that the tty layer drains with [`NTty::take_echoes`] and writes to its
//! driver. The read side ([`NTty::read`]) hands out complete lines
//! (canonical) or bytes under the VMIN/VTIME rules, and says whether the
//! reader must wait and for how long. [`NTty::process_output`] is OPOST.
//!
//! Nothing here sleeps or locks, and only `new` allocates: the kernel wraps an `NTty` in
//! its own lock and does the waiting.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod input;
mod output;
mod read;
mod termios;

#[cfg(test)]
mod tests;

use alloc::boxed::Box;
use alloc::vec;

pub use input::Received;
pub use read::ReadStep;
pub use termios::{NCCS, TERMIOS_SIZE, Termios, WINSIZE_SIZE, Winsize};

/// Size of the input buffer (Linux: `N_TTY_BUF_SIZE`); a power of two.
pub const N_TTY_BUF_SIZE: usize = 4096;
const MASK: usize = N_TTY_BUF_SIZE - 1;

/// Size of the buffer of echoes not yet written to the driver.
pub const ECHO_BUF_SIZE: usize = 512;

/// The positions `from..to` of the free-running counters, across a wrap.
fn span(from: usize, to: usize) -> impl Iterator<Item = usize> {
    (0..to.wrapping_sub(from)).map(move |k| from.wrapping_add(k))
}

/// What a byte in the input buffer ends, if anything (Linux: `read_flags`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    None,
    /// A line delimiter that readers receive: `\n`, VEOL, VEOL2.
    Eol,
    /// VEOF: ends the line and is itself not read.
    Eof,
}

/// One terminal's line discipline state (Linux: `struct n_tty_data`).
///
/// The input buffer is a ring indexed by free-running counters:
/// `read_tail <= canon_head <= read_head`. Readers take from `read_tail`;
/// in canonical mode only up to `canon_head`, the end of the last complete
/// line; the bytes from `canon_head` to `read_head` are the line being
/// edited.
pub struct NTty {
    termios: Termios,
    /// On the heap, so that an `NTty` is small enough to build on a
    /// kernel stack.
    buf: Box<[u8]>,
    marks: Box<[Mark]>,
    read_tail: usize,
    canon_head: usize,
    read_head: usize,
    /// Output column, for erasing tabs and for ONOCR.
    column: usize,
    /// The column where the line being edited began.
    canon_column: usize,
    /// The previous byte was VLNEXT: take this one literally.
    lnext: bool,
    /// Inside an ECHOPRT `\...` erase sequence.
    erasing: bool,
    /// Output stopped by VSTOP (IXON).
    stopped: bool,
    echo: [u8; ECHO_BUF_SIZE],
    echo_len: usize,
}

impl Default for NTty {
    fn default() -> Self {
        Self::new(Termios::default())
    }
}

impl NTty {
    /// A line discipline with an empty buffer (Linux: `n_tty_open`).
    pub fn new(termios: Termios) -> Self {
        Self {
            termios,
            buf: vec![0; N_TTY_BUF_SIZE].into_boxed_slice(),
            marks: vec![Mark::None; N_TTY_BUF_SIZE].into_boxed_slice(),
            read_tail: 0,
            canon_head: 0,
            read_head: 0,
            column: 0,
            canon_column: 0,
            lnext: false,
            erasing: false,
            stopped: false,
            echo: [0; ECHO_BUF_SIZE],
            echo_len: 0,
        }
    }

    pub fn termios(&self) -> &Termios {
        &self.termios
    }

    /// Installs new settings (Linux: `n_tty_set_termios`). Switching into
    /// canonical mode turns pending raw input into one readable line, as
    /// Linux does, so no typed byte is lost.
    pub fn set_termios(&mut self, new: Termios) {
        let old = core::mem::replace(&mut self.termios, new);
        if (old.c_lflag ^ new.c_lflag) & linux_raw_sys::general::ICANON != 0 {
            for i in span(self.read_tail, self.read_head) {
                self.marks[i & MASK] = Mark::None;
            }
            if !new.lflag(linux_raw_sys::general::ICANON) || self.read_cnt() == 0 {
                self.canon_head = self.read_tail;
            } else {
                self.marks[self.read_head.wrapping_sub(1) & MASK] = Mark::Eol;
                self.canon_head = self.read_head;
            }
            self.erasing = false;
            self.lnext = false;
        }
        if !new.iflag(linux_raw_sys::general::IXON) {
            self.stopped = false;
        }
    }

    /// Discards all input, typed and pending (Linux: `n_tty_flush_buffer`,
    /// `TCFLSH` with `TCIFLUSH`), and echoes not yet written.
    pub fn flush_input(&mut self) {
        self.read_tail = self.read_head;
        self.canon_head = self.read_head;
        self.lnext = false;
        self.erasing = false;
        self.echo_len = 0;
    }

    /// Whether VSTOP has stopped output (IXON).
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Bytes in the input buffer, complete or not (Linux: `read_cnt`).
    fn read_cnt(&self) -> usize {
        self.read_head.wrapping_sub(self.read_tail)
    }
}

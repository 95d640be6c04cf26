//! The receive side: input processing, canonical editing, ISIG and echo.
//!
//! Linux: drivers/tty/n_tty.c (`n_tty_receive_buf_common`,
//! `n_tty_receive_char_special`, `eraser`, `isig`, `echo_char`).

use linux_raw_sys::general as g;

use crate::{MASK, Mark, N_TTY_BUF_SIZE, NTty, span};

/// What receiving input asks of the tty layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Signals for the foreground process group: bit `n` is signal `n`.
    pub signals: u64,
    /// Readers may now find data: wake the tty's read wait queue.
    pub wake_readers: bool,
}

impl Received {
    /// The signal numbers to raise, lowest first.
    pub fn signals(&self) -> impl Iterator<Item = u32> + '_ {
        (0..64).filter(|&sig| self.signals & (1 << sig) != 0)
    }
}

/// Which kind of erase an editing character asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kill {
    Erase,
    WordErase,
    Line,
}

fn is_cntrl(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}

impl NTty {
    /// Processes bytes that arrived from the driver (Linux:
    /// `n_tty_receive_buf`). Echoes land in the echo buffer.
    pub fn receive_buf(&mut self, bytes: &[u8]) -> Received {
        let mut out = Received::default();
        for &c in bytes {
            self.receive_char(c, &mut out);
        }
        out
    }

    fn receive_char(&mut self, mut c: u8, out: &mut Received) {
        let t = self.termios;
        if t.iflag(g::ISTRIP) {
            c &= 0x7f;
        }
        if t.iflag(g::IUCLC) && t.lflag(g::IEXTEN) {
            c = c.to_ascii_lowercase();
        }
        if core::mem::take(&mut self.lnext) {
            return self.put_ordinary(c, out);
        }
        if t.iflag(g::IXON) && self.receive_flow_char(c) {
            return;
        }
        if t.lflag(g::ISIG) {
            for (index, signal) in
                [(g::VINTR, g::SIGINT), (g::VQUIT, g::SIGQUIT), (g::VSUSP, g::SIGTSTP)]
            {
                if t.is_cc(c, index) {
                    return self.receive_signal_char(c, signal, out);
                }
            }
        }
        if c == b'\r' {
            if t.iflag(g::IGNCR) {
                return;
            }
            if t.iflag(g::ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && t.iflag(g::INLCR) {
            c = b'\r';
        }
        if t.lflag(g::ICANON) && self.receive_canon_special(c, out) {
            return;
        }
        self.put_ordinary(c, out);
    }

    /// VSTOP/VSTART; returns whether `c` was one of them. With IXANY any
    /// other byte restarts output too (and is still received).
    fn receive_flow_char(&mut self, c: u8) -> bool {
        if self.termios.is_cc(c, g::VSTOP) {
            self.stopped = true;
            return true;
        }
        if self.termios.is_cc(c, g::VSTART) {
            self.stopped = false;
            return true;
        }
        if self.termios.iflag(g::IXANY) {
            self.stopped = false;
        }
        false
    }

    /// VINTR, VQUIT, VSUSP (Linux: `n_tty_receive_signal_char`): the line
    /// is thrown away unless NOFLSH, then the character is echoed as `^C`.
    fn receive_signal_char(&mut self, c: u8, signal: u32, out: &mut Received) {
        if !self.termios.lflag(g::NOFLSH) {
            self.flush_input();
        }
        self.stopped = false;
        if self.termios.lflag(g::ECHO) {
            self.echo_char(c);
        }
        out.signals |= 1 << signal;
    }

    /// The characters canonical mode gives meaning to; returns whether `c`
    /// was one of them.
    fn receive_canon_special(&mut self, c: u8, out: &mut Received) -> bool {
        let t = self.termios;
        let iexten = t.lflag(g::IEXTEN);
        let echo = t.lflag(g::ECHO);
        if t.is_cc(c, g::VERASE) || t.is_cc(c, g::VKILL) || (iexten && t.is_cc(c, g::VWERASE)) {
            self.eraser(c);
        } else if iexten && t.is_cc(c, g::VLNEXT) {
            self.lnext = true;
            if echo {
                self.finish_erasing();
                if t.lflag(g::ECHOCTL) {
                    self.echo_bytes(b"^\x08");
                }
            }
        } else if iexten && echo && t.is_cc(c, g::VREPRINT) {
            self.reprint(c);
        } else if c == b'\n' {
            if echo || t.lflag(g::ECHONL) {
                self.finish_erasing();
                self.echo_bytes(b"\n");
            }
            self.put_delimiter(c, Mark::Eol, out);
        } else if t.is_cc(c, g::VEOF) {
            // The EOF character ends the line but is never read.
            self.put_delimiter(0, Mark::Eof, out);
        } else if t.is_cc(c, g::VEOL) || (iexten && t.is_cc(c, g::VEOL2)) {
            if echo {
                self.mark_line_start();
                self.echo_char(c);
            }
            self.put_delimiter(c, Mark::Eol, out);
        } else {
            return false;
        }
        true
    }

    /// VREPRINT: echoes `^R`, a newline and the line being edited.
    fn reprint(&mut self, c: u8) {
        self.finish_erasing();
        self.echo_char(c);
        self.echo_bytes(b"\n");
        for i in span(self.canon_head, self.read_head) {
            self.echo_char(self.buf[i & MASK]);
        }
    }

    /// Whether a byte fits. In canonical mode the last slot is kept for a
    /// delimiter, so a full line can still be ended and read.
    fn has_room(&self, delimiter: bool) -> bool {
        let reserve = usize::from(self.termios.lflag(g::ICANON) && !delimiter);
        self.read_cnt() + reserve < N_TTY_BUF_SIZE
    }

    fn put(&mut self, c: u8, mark: Mark) {
        self.buf[self.read_head & MASK] = c;
        self.marks[self.read_head & MASK] = mark;
        self.read_head = self.read_head.wrapping_add(1);
    }

    /// A byte that is data: echoed and queued (Linux: `n_tty_receive_char`).
    fn put_ordinary(&mut self, c: u8, out: &mut Received) {
        if !self.has_room(false) {
            return;
        }
        if self.termios.lflag(g::ECHO) {
            self.finish_erasing();
            self.mark_line_start();
            self.echo_char(c);
        }
        self.put(c, Mark::None);
        if !self.termios.lflag(g::ICANON) {
            out.wake_readers = true;
        }
    }

    /// Ends the line: what was typed becomes readable (Linux:
    /// `n_tty_receive_handle_newline`).
    fn put_delimiter(&mut self, c: u8, mark: Mark, out: &mut Received) {
        if !self.has_room(true) {
            return;
        }
        self.put(c, mark);
        self.canon_head = self.read_head;
        out.wake_readers = true;
    }

    /// Remembers the column a line starts at, for erasing tabs.
    fn mark_line_start(&mut self) {
        if self.canon_head == self.read_head {
            self.canon_column = self.column;
        }
    }

    /// VERASE, VWERASE, VKILL (Linux: `eraser`).
    fn eraser(&mut self, c: u8) {
        let t = self.termios;
        if self.read_head == self.canon_head {
            return;
        }
        let kill = if t.is_cc(c, g::VERASE) {
            Kill::Erase
        } else if t.is_cc(c, g::VWERASE) {
            Kill::WordErase
        } else {
            Kill::Line
        };
        if kill == Kill::Line
            && !(t.lflag(g::ECHO) && t.lflag(g::ECHOK) && t.lflag(g::ECHOKE) && t.lflag(g::ECHOE))
        {
            // Without ECHOKE the line vanishes at once and the kill
            // character is echoed instead of rubbing each byte out.
            self.read_head = self.canon_head;
            if t.lflag(g::ECHO) {
                self.finish_erasing();
                self.echo_char(c);
                if t.lflag(g::ECHOK) {
                    self.echo_bytes(b"\n");
                }
            }
            return;
        }
        let mut seen_alnums = false;
        while self.read_head != self.canon_head {
            let Some(head) = self.char_start() else { break };
            let ch = self.buf[head & MASK];
            if kill == Kill::WordErase {
                if ch.is_ascii_alphanumeric() || ch == b'_' {
                    seen_alnums = true;
                } else if seen_alnums {
                    break;
                }
            }
            let old_head = core::mem::replace(&mut self.read_head, head);
            if t.lflag(g::ECHO) {
                self.echo_erase(c, kill, head, old_head);
            }
            if kill == Kill::Erase {
                break;
            }
        }
        if self.read_head == self.canon_head && t.lflag(g::ECHO) {
            self.finish_erasing();
        }
    }

    /// Where the last character of the line starts: with IUTF8, the lead
    /// byte of a multi-byte character. None if no lead byte is found.
    fn char_start(&self) -> Option<usize> {
        let utf8 = self.termios.iflag(g::IUTF8);
        let is_continuation = |c: u8| utf8 && c & 0xc0 == 0x80;
        let mut head = self.read_head;
        loop {
            head = head.wrapping_sub(1);
            let c = self.buf[head & MASK];
            if !is_continuation(c) {
                return Some(head);
            }
            if head == self.canon_head {
                return None;
            }
        }
    }

    /// Echoes the erasure of the character at `head..old_head`.
    fn echo_erase(&mut self, c: u8, kill: Kill, head: usize, old_head: usize) {
        let t = self.termios;
        let ch = self.buf[head & MASK];
        if t.lflag(g::ECHOPRT) {
            if !self.erasing {
                self.echo_bytes(b"\\");
                self.erasing = true;
            }
            for i in span(head, old_head) {
                self.echo_char(self.buf[i & MASK]);
            }
        } else if kill == Kill::Erase && !t.lflag(g::ECHOE) {
            self.echo_char(c);
        } else if ch == b'\t' {
            let backspaces = 8 - (self.column_at(head) & 7);
            for _ in 0..backspaces {
                self.echo_bytes(b"\x08");
            }
        } else {
            // `^X` took two columns.
            if is_cntrl(ch) && t.lflag(g::ECHOCTL) {
                self.echo_bytes(b"\x08 \x08");
            }
            if !is_cntrl(ch) || t.lflag(g::ECHOCTL) {
                self.echo_bytes(b"\x08 \x08");
            }
        }
    }

    /// The echo column of input position `pos` of the line being edited.
    fn column_at(&self, pos: usize) -> usize {
        let t = self.termios;
        let mut col = self.canon_column;
        for i in span(self.canon_head, pos) {
            let c = self.buf[i & MASK];
            if c == b'\t' {
                col = (col | 7) + 1;
            } else if is_cntrl(c) {
                col += if t.lflag(g::ECHOCTL) { 2 } else { 0 };
            } else if !(t.iflag(g::IUTF8) && c & 0xc0 == 0x80) {
                col += 1;
            }
        }
        col
    }

    fn finish_erasing(&mut self) {
        if core::mem::take(&mut self.erasing) {
            self.echo_bytes(b"/");
        }
    }

    /// Echoes a typed byte; with ECHOCTL a control byte shows as `^X`.
    fn echo_char(&mut self, c: u8) {
        if self.termios.lflag(g::ECHOCTL) && is_cntrl(c) && c != b'\t' {
            self.echo_bytes(&[b'^', c ^ 0o100]);
        } else {
            self.echo_bytes(&[c]);
        }
    }
}

//! The write side: output processing (OPOST) and the echo buffer.
//!
//! Linux: drivers/tty/n_tty.c (`do_output_char`, `process_output_block`,
//! `process_echoes`).

use linux_raw_sys::general as g;

use crate::{ECHO_BUF_SIZE, NTty};

/// The most bytes one input byte becomes: a tab expanded to spaces.
const MAX_EXPANSION: usize = 8;

impl NTty {
    /// Output-processes `c` from column `column` (Linux: `do_output_char`):
    /// the bytes to send, how many, and the column after them.
    fn do_output_char(&self, c: u8, column: usize) -> ([u8; MAX_EXPANSION], usize, usize) {
        let t = &self.termios;
        let mut out = [c; MAX_EXPANSION];
        if !t.oflag(g::OPOST) {
            return (out, 1, column);
        }
        match c {
            b'\n' if t.oflag(g::ONLCR) => {
                out[0] = b'\r';
                (out, 2, 0)
            }
            b'\n' => (out, 1, if t.oflag(g::ONLRET) { 0 } else { column }),
            b'\r' if t.oflag(g::ONOCR) && column == 0 => (out, 0, column),
            b'\r' if t.oflag(g::OCRNL) => {
                out[0] = b'\n';
                (out, 1, if t.oflag(g::ONLRET) { 0 } else { column })
            }
            b'\r' => (out, 1, 0),
            b'\t' => {
                let spaces = 8 - (column & 7);
                if t.c_oflag & g::TABDLY == g::XTABS {
                    out = [b' '; MAX_EXPANSION];
                    (out, spaces, column + spaces)
                } else {
                    (out, 1, column + spaces)
                }
            }
            0x08 => (out, 1, column.saturating_sub(1)),
            _ if c < 0x20 || c == 0x7f => (out, 1, column),
            _ => {
                if t.oflag(g::OLCUC) {
                    out[0] = c.to_ascii_uppercase();
                }
                // A UTF-8 continuation byte does not move the cursor.
                let width = usize::from(!(t.iflag(g::IUTF8) && c & 0xc0 == 0x80));
                (out, 1, column + width)
            }
        }
    }

    /// Output-processes `input` into `out` (Linux: `process_output_block`).
    /// Returns (bytes of `input` consumed, bytes of `out` filled); a byte
    /// whose expansion does not fit is left for the next call.
    pub fn process_output(&mut self, input: &[u8], out: &mut [u8]) -> (usize, usize) {
        let mut filled = 0;
        for (consumed, &c) in input.iter().enumerate() {
            let (bytes, n, column) = self.do_output_char(c, self.column);
            let Some(dst) = out.get_mut(filled..filled + n) else {
                return (consumed, filled);
            };
            dst.copy_from_slice(&bytes[..n]);
            filled += n;
            self.column = column;
        }
        (input.len(), filled)
    }

    /// Queues `bytes` as echo, output-processed as writes are. A byte that
    /// no longer fits is dropped, as Linux drops echoes it has no room for.
    pub(crate) fn echo_bytes(&mut self, bytes: &[u8]) {
        for &c in bytes {
            let (out, n, column) = self.do_output_char(c, self.column);
            let Some(dst) = self.echo.get_mut(self.echo_len..self.echo_len + n) else {
                return;
            };
            dst.copy_from_slice(&out[..n]);
            self.echo_len += n;
            self.column = column;
        }
    }

    /// Moves pending echoes, ready for the driver, into `out`; returns how
    /// many (Linux: `process_echoes`).
    pub fn take_echoes(&mut self, out: &mut [u8]) -> usize {
        let n = self.echo_len.min(out.len());
        out[..n].copy_from_slice(&self.echo[..n]);
        self.echo.copy_within(n..self.echo_len, 0);
        self.echo_len -= n;
        n
    }

    /// Whether echoes wait to be written.
    pub fn has_echoes(&self) -> bool {
        self.echo_len > 0
    }
}

const _: () = assert!(ECHO_BUF_SIZE >= 2 * MAX_EXPANSION);

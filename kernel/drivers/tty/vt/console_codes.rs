//! The escape-sequence parser of a virtual console: the subset of
//! console_codes(4) that full-screen programs (busybox `vi`, `less`,
//! `top`, `clear`, `reset`) use, drawing on the console's [`Screen`].
//!
//! Linux: drivers/tty/vt/vt.c (`do_con_write`, `do_con_trol`, `set_mode`,
//! `csi_*` dispatch, `respond_string`, `cursor_report`, `status_report`).
//!
//! Input is UTF-8 (Linux's `vt.default_utf8=1`), drawn with the font's
//! code page 437 glyphs (consolemap.rs), U+FFFD's for what it lacks.
//! Answers to queries (`ESC [ 6 n`, `ESC [ c`) collect in
//! [`Screen::report`] for the caller to feed to the tty's input. Not
//! handled: character sets (`ESC (`, SO/SI: the font is the only one),
//! the inverted screen (`ESC [ ? 5 h`), `setterm`'s `ESC [ ... ]`, the
//! palette (`ESC ] P` is read and dropped). The system test vt.c checks a
//! screen drawn by these sequences against Linux's, cell by cell.
//!
//! # Locking
//! None of its own: see screen.rs.
#![deny(unsafe_code)]

use super::consolemap::{Glyph, conv_uni_to_pc, is_double_width};
use super::screen::{COLS, NPAR, ROWS, Screen};

/// What a console answers to `ESC [ c` and `ESC Z` (Linux: `VT102ID`).
const VT102_ID: &[u8] = b"\x1b[?6c";

/// The parser's state (Linux: `enum vc_state`, `ESnormal`...).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum EscState {
    Normal,
    Esc,
    Square,
    GetPars,
    FuncKey,
    Hash,
    SetG0,
    SetG1,
    Percent,
    /// After `ESC ]` (Linux: `ESnonstd`).
    NonStd,
    /// `ESC ] P` and the hex digits of a palette entry still to come.
    Palette(u8),
    /// An operating-system command, up to BEL (Linux: `ESosc`).
    Osc,
}

/// What a byte does to a UTF-8 sequence (Linux: `vc_translate_unicode`).
enum Utf8 {
    /// More bytes are needed.
    More,
    /// A character (U+FFFD for a broken or overlong one).
    Char(u32),
    /// A sequence broken by this byte: U+FFFD, then the byte again.
    Rescan,
}

/// The largest code point each sequence length may carry (Linux:
/// `utf8_length_changes`): a smaller one is overlong.
const UTF8_LENGTH_CHANGES: [u32; 6] = [0x7f, 0x7ff, 0xffff, 0x1f_ffff, 0x3ff_ffff, 0x7fff_ffff];

impl Screen {
    /// Writes `buf` to the console (Linux: `do_con_write`).
    pub fn write(&mut self, buf: &[u8]) {
        for &b in buf {
            // At most twice: a byte that broke a sequence is read again.
            for _ in 0..2 {
                let (c, rescan) = if self.state != EscState::Normal {
                    (u32::from(b), false)
                } else {
                    match self.utf8(b) {
                        Utf8::More => break,
                        Utf8::Char(c) => (c, false),
                        Utf8::Rescan => (0xfffd, true),
                    }
                };
                // Linux: `vc_is_control`, in UTF-8 mode.
                if self.state != EscState::Normal || c < 0x20 || c == 0x7f || c == 0x9b {
                    self.do_con_trol(b);
                    break;
                }
                self.con_write_normal(c);
                if !rescan {
                    break;
                }
            }
        }
    }

    /// Linux: `vc_translate_unicode`.
    fn utf8(&mut self, b: u8) -> Utf8 {
        if b & 0xc0 == 0x80 {
            if self.utf_count == 0 {
                return Utf8::Char(0xfffd);
            }
            self.utf_char = self.utf_char << 6 | u32::from(b & 0x3f);
            self.utf_npar += 1;
            self.utf_count -= 1;
            if self.utf_count > 0 {
                return Utf8::More;
            }
            let c = self.utf_char;
            let n = self.utf_npar;
            let overlong = UTF8_LENGTH_CHANGES.get(n - 1).is_none_or(|&min| c <= min)
                || UTF8_LENGTH_CHANGES.get(n).is_none_or(|&max| c > max);
            let invalid = (0xd800..=0xdfff).contains(&c) || c == 0xfffe || c == 0xffff;
            return Utf8::Char(if overlong || invalid { 0xfffd } else { c });
        }
        if self.utf_count > 0 {
            self.utf_count = 0;
            return Utf8::Rescan;
        }
        let (count, bits) = match b {
            0x00..=0x7f => return Utf8::Char(u32::from(b)),
            0xc0..=0xdf => (1, b & 0x1f),
            0xe0..=0xef => (2, b & 0x0f),
            0xf0..=0xf7 => (3, b & 0x07),
            0xf8..=0xfb => (4, b & 0x03),
            0xfc..=0xfd => (5, b & 0x01),
            _ => return Utf8::Char(0xfffd),
        };
        (self.utf_count, self.utf_char, self.utf_npar) = (count, u32::from(bits), 0);
        Utf8::More
    }

    /// Draws character `c` (Linux: `vc_con_write_normal`): its glyph, the
    /// substitute for one the font lacks, two columns for a wide one.
    fn con_write_normal(&mut self, c: u32) {
        let glyph = match conv_uni_to_pc(c) {
            Glyph::Pos(g) => g,
            Glyph::Nothing => return,
            Glyph::NotFound => match conv_uni_to_pc(0xfffd) {
                Glyph::Pos(g) => g,
                _ => b'?',
            },
        };
        self.put_glyph(glyph);
        if is_double_width(c) {
            self.put_glyph(b' ');
        }
    }

    /// Control characters act in every state; any other byte goes to the
    /// escape sequence under way (Linux: `do_con_trol`).
    pub(super) fn do_con_trol(&mut self, b: u8) {
        match b {
            0x00 => {}
            0x07 if self.state == EscState::Osc => self.state = EscState::Normal,
            // The bell: no PC speaker driver.
            0x07 => {}
            0x08 if self.x > 0 => {
                self.x -= 1;
                self.need_wrap = false;
            }
            0x08 => {}
            0x09 => {
                let next = (self.x + 1..COLS - 1).find(|&c| self.tab_stop & 1 << c != 0);
                // A pending wrap stays pending (Linux leaves `vc_need_wrap`).
                self.x = next.unwrap_or(COLS - 1);
            }
            0x0a..=0x0c => {
                self.lf();
                if self.lnm {
                    self.cr();
                }
            }
            0x0d => self.cr(),
            // Shift Out and In pick the G1 and G0 character sets, which
            // are both the font here.
            0x0e | 0x0f => {}
            0x18 | 0x1a => self.state = EscState::Normal,
            0x1b => self.state = EscState::Esc,
            0x7f => {}
            0x9b => self.state = EscState::Square,
            _ => self.do_con_trol_state(b),
        }
    }

    /// A byte of an escape sequence (Linux: the state switch of
    /// `do_con_trol`).
    fn do_con_trol_state(&mut self, b: u8) {
        let state = self.state;
        self.state = EscState::Normal;
        match state {
            EscState::Esc => self.do_esc(b),
            EscState::Square => {
                self.par = [0; NPAR];
                self.npar = 0;
                self.priv_ = 0;
                if b == b'[' {
                    self.state = EscState::FuncKey;
                } else if matches!(b, b'?' | b'>' | b'=' | b'<') {
                    self.priv_ = b;
                    self.state = EscState::GetPars;
                } else {
                    self.state = EscState::GetPars;
                    self.do_con_trol_state(b);
                }
            }
            EscState::GetPars => self.getpars(b),
            EscState::NonStd => {
                self.state = match b {
                    b'P' => EscState::Palette(7),
                    b'0'..=b'9' => EscState::Osc,
                    _ => EscState::Normal,
                };
            }
            // The palette is not programmed: its digits are consumed.
            EscState::Palette(left) if b.is_ascii_hexdigit() && left > 1 => {
                self.state = EscState::Palette(left - 1);
            }
            EscState::Palette(_) => {}
            EscState::Osc => self.state = EscState::Osc,
            EscState::FuncKey
            | EscState::Hash
            | EscState::SetG0
            | EscState::SetG1
            | EscState::Percent
            | EscState::Normal => {}
        }
    }

    pub(super) fn do_esc(&mut self, b: u8) {
        match b {
            b'[' => self.state = EscState::Square,
            b']' => self.state = EscState::NonStd,
            b'%' => self.state = EscState::Percent,
            b'(' => self.state = EscState::SetG0,
            b')' => self.state = EscState::SetG1,
            b'#' => self.state = EscState::Hash,
            b'E' => {
                self.cr();
                self.lf();
            }
            b'M' => self.ri(),
            b'D' => self.lf(),
            b'H' => self.tab_stop |= 1 << self.x,
            b'Z' => self.report.extend_from_slice(VT102_ID),
            b'7' => self.save_cur(),
            b'8' => self.restore_cur(),
            b'c' => self.reset_terminal(),
            _ => {}
        }
    }

    pub(super) fn getpars(&mut self, b: u8) {
        match b {
            b';' if self.npar < NPAR - 1 => {
                self.npar += 1;
                self.state = EscState::GetPars;
            }
            b'0'..=b'9' => {
                let p = &mut self.par[self.npar];
                *p = p.saturating_mul(10).saturating_add(u32::from(b - b'0'));
                self.state = EscState::GetPars;
            }
            b';' => self.state = EscState::GetPars,
            _ if self.priv_ == b'?' => {
                if matches!(b, b'h' | b'l') {
                    self.set_mode(b == b'h');
                }
            }
            _ if self.priv_ != 0 => {}
            _ => self.csi(b),
        }
    }

    /// Linux: `set_mode`, for `ESC [ h`/`l` and their `?` forms.
    pub(super) fn set_mode(&mut self, on: bool) {
        for i in 0..=self.npar {
            match (self.priv_ == b'?', self.par[i]) {
                (true, 1) => self.decckm = on,
                (true, 6) => {
                    self.decom = on;
                    self.gotoxay(0, 0);
                }
                (true, 7) => self.decawm = on,
                (true, 25) => self.deccm = on,
                (false, 4) => self.decim = on,
                (false, 20) => self.lnm = on,
                _ => {}
            }
        }
    }

    /// The final byte of a CSI sequence without a private prefix.
    pub(super) fn csi(&mut self, b: u8) {
        let p0 = i64::from(self.par[0]);
        let n = p0.max(1);
        let (x, y) = (self.x as i64, self.y as i64);
        match b {
            b'h' | b'l' => self.set_mode(b == b'h'),
            b'G' | b'`' => self.gotoxy(n - 1, y),
            b'A' => self.gotoxy(x, y - n),
            b'B' | b'e' => self.gotoxy(x, y + n),
            b'C' | b'a' => self.gotoxy(x + n, y),
            b'D' => self.gotoxy(x - n, y),
            b'E' => self.gotoxy(0, y + n),
            b'F' => self.gotoxy(0, y - n),
            b'd' => self.gotoxay(x, n - 1),
            b'H' | b'f' => self.gotoxay(i64::from(self.par[1]).max(1) - 1, n - 1),
            b'J' => self.csi_j(self.par[0]),
            b'K' => self.csi_k(self.par[0]),
            b'L' | b'M' => {
                let nr = usize::try_from(n).unwrap_or(ROWS).min(ROWS - self.y);
                self.scroll(self.y, self.bottom, b == b'M', nr);
                self.need_wrap = false;
            }
            b'P' | b'@' => self.shift_chars(usize::try_from(n).unwrap_or(COLS), b == b'@'),
            b'X' => {
                let pos = self.cursor();
                let nr = usize::try_from(n).unwrap_or(COLS).min(COLS - self.x);
                self.fill(pos, pos + nr);
                self.need_wrap = false;
            }
            b'c' if p0 == 0 => self.report.extend_from_slice(VT102_ID),
            b'g' if p0 == 0 => self.tab_stop &= !(1 << self.x),
            b'g' if p0 == 3 => self.tab_stop = 0,
            b'm' => self.csi_m(),
            b'n' => self.status_report(p0),
            b'r' => {
                let top = self.par[0].max(1) as usize;
                let bottom = if self.par[1] == 0 { ROWS } else { self.par[1] as usize };
                if top < bottom && bottom <= ROWS {
                    (self.top, self.bottom) = (top - 1, bottom);
                    self.gotoxay(0, 0);
                }
            }
            b's' => self.save_cur(),
            b'u' => self.restore_cur(),
            _ => {}
        }
    }

    /// `ESC [ 5 n` and `ESC [ 6 n` (Linux: `status_report`, `cursor_report`).
    pub(super) fn status_report(&mut self, which: i64) {
        if which == 5 {
            self.report.extend_from_slice(b"\x1b[0n");
        } else if which == 6 {
            let row = (self.y + 1).saturating_sub(if self.decom { self.top } else { 0 });
            let s = alloc::format!("\x1b[{};{}R", row, self.x + 1);
            self.report.extend_from_slice(s.as_bytes());
        }
    }
}

crate::ktest!(vt_screen_escape_codes, {
    let mut s = Screen::new();
    s.write(b"ab\x1b[31mc\r\nd");
    let cell = |s: &Screen, x: usize, y: usize| s.cells()[y * COLS + x];
    crate::kassert!(cell(&s, 0, 0) == 0x0761, "'a' in grey on black");
    crate::kassert!(cell(&s, 2, 0) == 0x0463, "SGR 31 draws red (VGA 4)");
    crate::kassert!(cell(&s, 0, 1) == 0x0464 && s.cursor() == COLS + 1, "CR LF");
    s.write(b"\x1b[5;10H\x1b[6n");
    crate::kassert!(s.report == b"\x1b[5;10R", "the cursor report is 1-based");
    s.write(b"\x1b[2J\x1b[H");
    crate::kassert!(cell(&s, 0, 0) == 0x0420 && s.cursor() == 0, "erase keeps the colour");
    for _ in 0..ROWS {
        s.write(b"\x1b[0mx\r\n");
    }
    crate::kassert!(cell(&s, 0, ROWS - 2) == 0x0778, "the screen scrolled up one line");
    s.write(b"\x1b[H\tq\x1b[7mr\x1b[K");
    crate::kassert!(cell(&s, 8, 0) == 0x0771, "TAB moves to column 8");
    crate::kassert!(cell(&s, 9, 0) == 0x7072, "SGR 7 reverses");
    crate::kassert!(cell(&s, 10, 0) == 0x0720, "EL erases unreversed");
    s.write("\u{e9}".as_bytes());
    crate::kassert!(cell(&s, 10, 0) == 0x7082, "e acute is CP437's 0x82");
    // U+4E00 (wide, no glyph), U+200B (zero width), a stray 0xff.
    s.write(b"\xe4\xb8\x80\xe2\x80\x8b\xffz");
    crate::kassert!(cell(&s, 11, 0) == 0x70fe, "a character without a glyph shows the substitute");
    crate::kassert!(cell(&s, 12, 0) == 0x7020, "a wide character takes two columns");
    crate::kassert!(cell(&s, 13, 0) == 0x70fe && cell(&s, 14, 0) == 0x707a, "a bad byte too");
    Ok(())
});

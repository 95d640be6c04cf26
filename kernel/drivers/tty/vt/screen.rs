//! A virtual console's screen: its cells, cursor, scrolling region and
//! rendition, and the operations the escape sequences perform on them.
//!
//! Linux: drivers/tty/vt/vt.c (`struct vc_data`'s screen half, `lf`, `ri`,
//! `cr`, `csi_J`, `csi_K`, `csi_m`, `insert_char`, `delete_char`,
//! `con_scroll`, `save_cur`, `restore_cur`, `reset_terminal`, `gotoxy`,
//! `vc_t416_color`), drivers/video/console/vgacon.c (`vgacon_build_attr`).
//!
//! A [`Screen`] is 80x25 cells in VGA text format (glyph in the low byte,
//! attribute in the high byte), kept for every allocated console whether
//! or not it is in front; vt.rs copies the cells [`Screen::take_dirty`]
//! names to the VGA buffer when the console is the foreground one. The
//! parser that drives it is console_codes.rs.
//!
//! # Locking
//! None of its own: a `Screen` lives in its console, under vt.rs's
//! `CONSOLES`.
#![deny(unsafe_code)]

use alloc::vec;
use alloc::vec::Vec;

use super::console_codes::EscState;

/// The VGA text mode every console has (Linux: vgacon's `vc_cols`, `vc_rows`).
pub const COLS: usize = 80;
pub const ROWS: usize = 25;
/// Most numeric parameters of one sequence (Linux: `NPAR`).
pub(super) const NPAR: usize = 16;
/// The colour a console starts with: grey on black (Linux: `def_color`).
const DEF_COLOR: u8 = 0x07;
/// Linux's `default_underline_color`, `default_italic_color`, `halfcolor`.
const UL_COLOR: u8 = 0x03;
const IT_COLOR: u8 = 0x02;
const HALF_COLOR: u8 = 0x08;
/// ANSI colour number to VGA colour (Linux: `color_table`).
const COLOR_TABLE: [u8; 16] = [0, 4, 2, 6, 1, 5, 3, 7, 8, 12, 10, 14, 9, 13, 11, 15];

/// Intensity (Linux: `enum vc_intensity`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Intensity {
    Half,
    Normal,
    Bold,
}

/// The rendition and position that `ESC 7` saves (Linux: `vc_saved_*`).
#[derive(Clone, Copy)]
pub(super) struct Rendition {
    x: usize,
    y: usize,
    color: u8,
    intensity: Intensity,
    italic: bool,
    underline: bool,
    blink: bool,
    reverse: bool,
}

/// One console's cells, cursor, modes and parser (Linux: the screen half
/// of `struct vc_data`).
pub struct Screen {
    pub(super) cells: Vec<u16>,
    pub(super) x: usize,
    pub(super) y: usize,
    /// The scrolling region, rows `top..bottom` (Linux: `vc_top`, `vc_bottom`).
    pub(super) top: usize,
    pub(super) bottom: usize,
    /// The last column was written: the next glyph wraps first.
    pub(super) need_wrap: bool,
    pub(super) decawm: bool,
    pub(super) decom: bool,
    pub(super) decim: bool,
    /// Line feed also returns the carriage (mode 20, LNM).
    pub(super) lnm: bool,
    /// The cursor shows (`ESC [ ? 25 h`).
    pub deccm: bool,
    /// Cursor keys send `ESC O x` (`ESC [ ? 1 h`); read by the keyboard.
    pub decckm: bool,
    pub(super) r: Rendition,
    pub(super) saved: Rendition,
    pub(super) attr: u8,
    pub(super) erase_char: u16,
    pub(super) tab_stop: u128,
    pub(super) state: EscState,
    pub(super) par: [u32; NPAR],
    pub(super) npar: usize,
    /// The private-parameter prefix of a CSI sequence (`?`, `>`, `=`, `<`).
    pub(super) priv_: u8,
    pub(super) utf_count: u32,
    pub(super) utf_char: u32,
    /// Continuation bytes of the sequence so far (Linux: `vc_npar`, reused).
    pub(super) utf_npar: usize,
    /// Cells changed since the last [`Screen::take_dirty`], as a range.
    pub(super) dirty: Option<(usize, usize)>,
    /// Bytes the terminal answers with, for the tty's input.
    pub report: Vec<u8>,
}

impl Screen {
    /// A cleared console (Linux: `vc_init` -> `reset_terminal(vc, 1)`).
    pub fn new() -> Self {
        let r = Rendition {
            x: 0,
            y: 0,
            color: DEF_COLOR,
            intensity: Intensity::Normal,
            italic: false,
            underline: false,
            blink: false,
            reverse: false,
        };
        let mut s = Self {
            cells: vec![0x0720; COLS * ROWS],
            x: 0,
            y: 0,
            top: 0,
            bottom: ROWS,
            need_wrap: false,
            decawm: true,
            decom: false,
            decim: false,
            lnm: false,
            deccm: true,
            decckm: false,
            r,
            saved: r,
            attr: DEF_COLOR,
            erase_char: 0x0720,
            tab_stop: 0,
            state: EscState::Normal,
            par: [0; NPAR],
            npar: 0,
            priv_: 0,
            utf_count: 0,
            utf_char: 0,
            utf_npar: 0,
            dirty: None,
            report: Vec::new(),
        };
        s.reset_terminal();
        s
    }

    /// All cells, row by row.
    pub fn cells(&self) -> &[u16] {
        &self.cells
    }

    /// The cursor's cell index.
    pub fn cursor(&self) -> usize {
        self.y * COLS + self.x
    }

    /// The changed cells since the last call, as an index range.
    pub fn take_dirty(&mut self) -> Option<(usize, usize)> {
        self.dirty.take()
    }

    pub(super) fn mark(&mut self, from: usize, to: usize) {
        let (a, b) = self.dirty.map_or((from, to), |(a, b)| (a.min(from), b.max(to)));
        self.dirty = Some((a, b.min(self.cells.len())));
    }

    pub(super) fn fill(&mut self, from: usize, to: usize) {
        let to = to.min(self.cells.len());
        if from < to {
            let erase = self.erase_char;
            self.cells[from..to].fill(erase);
            self.mark(from, to);
        }
    }

    /// Linux: `reset_terminal`, clearing the screen.
    pub(super) fn reset_terminal(&mut self) {
        self.top = 0;
        self.bottom = ROWS;
        self.state = EscState::Normal;
        self.priv_ = 0;
        (self.decawm, self.deccm, self.decom, self.decim, self.lnm) =
            (true, true, false, false, false);
        self.decckm = false;
        self.utf_count = 0;
        // A stop every eight columns (Linux: `vc_tab_stop`, 0x0101...).
        self.tab_stop = (0..COLS).step_by(8).fold(0, |m, c| m | 1 << c);
        self.default_attr();
        self.update_attr();
        self.gotoxy(0, 0);
        self.save_cur();
        self.csi_j(2);
    }

    pub(super) fn default_attr(&mut self) {
        let r = &mut self.r;
        (r.intensity, r.italic, r.underline, r.blink, r.reverse) =
            (Intensity::Normal, false, false, false, false);
        r.color = DEF_COLOR;
    }

    /// An attribute byte for a colour adapter (Linux: `build_attr`, as
    /// vgacon's `vgacon_build_attr` computes it too).
    fn build_attr(
        color: u8,
        intensity: Intensity,
        r: &Rendition,
        underline: bool,
        italic: bool,
    ) -> u8 {
        let mut a = color;
        if italic {
            a = (a & 0xf0) | IT_COLOR;
        } else if underline {
            a = (a & 0xf0) | UL_COLOR;
        } else if intensity == Intensity::Half {
            a = (a & 0xf0) | HALF_COLOR;
        }
        if r.reverse {
            a = (a & 0x88) | (a.rotate_left(4) & 0x77);
        }
        if r.blink {
            a ^= 0x80;
        }
        if intensity == Intensity::Bold {
            a ^= 0x08;
        }
        a
    }

    /// Linux: `update_attr`: the drawing attribute, and the erase cell,
    /// which keeps the colour and blink but not the other renditions.
    pub(super) fn update_attr(&mut self) {
        let r = self.r;
        self.attr = Self::build_attr(r.color, r.intensity, &r, r.underline, r.italic);
        let plain = Rendition { reverse: false, ..r };
        let erase = Self::build_attr(r.color, Intensity::Normal, &plain, false, false);
        self.erase_char = u16::from(erase) << 8 | u16::from(b' ');
    }

    /// Linux: `gotoxy`: clamps to the screen, or to the region in origin mode.
    pub(super) fn gotoxy(&mut self, x: i64, y: i64) {
        let (min_y, max_y) = if self.decom { (self.top, self.bottom) } else { (0, ROWS) };
        self.x = usize::try_from(x.clamp(0, COLS as i64 - 1)).unwrap_or(0);
        self.y = usize::try_from(y.clamp(min_y as i64, max_y as i64 - 1)).unwrap_or(0);
        self.need_wrap = false;
    }

    /// Linux: `gotoxay`: `y` counts from the region's top in origin mode.
    pub(super) fn gotoxay(&mut self, x: i64, y: i64) {
        let base = if self.decom { self.top as i64 } else { 0 };
        self.gotoxy(x, base.saturating_add(y));
    }

    /// Moves rows `top..bottom` up (`up`) or down by `nr`, blanking the rows
    /// that open up (Linux: `con_scroll`).
    pub(super) fn scroll(&mut self, top: usize, bottom: usize, up: bool, nr: usize) {
        let bottom = bottom.min(ROWS);
        if top >= bottom {
            return;
        }
        // Linux: `con_scroll` keeps at least one line of the region.
        let nr = nr.min(bottom - top - 1);
        if nr == 0 {
            return;
        }
        let (start, end) = (top * COLS, bottom * COLS);
        if up {
            self.cells.copy_within(start + nr * COLS..end, start);
            self.fill(end - nr * COLS, end);
        } else {
            self.cells.copy_within(start..end - nr * COLS, start + nr * COLS);
            self.fill(start, start + nr * COLS);
        }
        self.mark(start, end);
    }

    /// Linux: `lf`.
    pub(super) fn lf(&mut self) {
        if self.y + 1 == self.bottom {
            self.scroll(self.top, self.bottom, true, 1);
        } else if self.y < ROWS - 1 {
            self.y += 1;
        }
        self.need_wrap = false;
    }

    /// Linux: `ri`, reverse line feed.
    pub(super) fn ri(&mut self) {
        if self.y == self.top {
            self.scroll(self.top, self.bottom, false, 1);
        } else if self.y > 0 {
            self.y -= 1;
        }
        self.need_wrap = false;
    }

    pub(super) fn cr(&mut self) {
        self.x = 0;
        self.need_wrap = false;
    }

    pub(super) fn save_cur(&mut self) {
        self.saved = Rendition { x: self.x, y: self.y, ..self.r };
    }

    pub(super) fn restore_cur(&mut self) {
        self.r = self.saved;
        self.gotoxy(self.saved.x as i64, self.saved.y as i64);
        self.update_attr();
    }

    /// Linux: `csi_J`: erase in display.
    pub(super) fn csi_j(&mut self, vpar: u32) {
        let pos = self.cursor();
        match vpar {
            0 => self.fill(pos, COLS * ROWS),
            1 => self.fill(0, pos + 1),
            2 | 3 => self.fill(0, COLS * ROWS),
            _ => return,
        }
        self.need_wrap = false;
    }

    /// Linux: `csi_K`: erase in line.
    pub(super) fn csi_k(&mut self, vpar: u32) {
        let (row, pos) = (self.y * COLS, self.cursor());
        match vpar {
            0 => self.fill(pos, row + COLS),
            1 => self.fill(row, pos + 1),
            2 => self.fill(row, row + COLS),
            _ => return,
        }
        self.need_wrap = false;
    }

    /// Inserts (`insert`) or deletes `nr` cells at the cursor, shifting the
    /// rest of the line (Linux: `insert_char`, `delete_char`).
    pub(super) fn shift_chars(&mut self, nr: usize, insert: bool) {
        let (pos, end) = (self.cursor(), self.y * COLS + COLS);
        let nr = nr.clamp(1, end - pos);
        if insert {
            self.cells.copy_within(pos..end - nr, pos + nr);
            self.fill(pos, pos + nr);
        } else {
            self.cells.copy_within(pos + nr..end, pos);
            self.fill(end - nr, end);
        }
        self.mark(pos, end);
        self.need_wrap = false;
    }

    /// Draws one glyph at the cursor and advances it, wrapping first if
    /// the last column was written (Linux: the glyph half of `do_con_write`).
    pub(super) fn put_glyph(&mut self, glyph: u8) {
        if self.need_wrap {
            self.cr();
            self.lf();
        }
        if self.decim {
            self.shift_chars(1, true);
        }
        let pos = self.cursor();
        self.cells[pos] = u16::from(self.attr) << 8 | u16::from(glyph);
        self.mark(pos, pos + 1);
        if self.x == COLS - 1 {
            self.need_wrap = self.decawm;
        } else {
            self.x += 1;
        }
    }

    /// Linux: `csi_m`: select graphic rendition.
    pub(super) fn csi_m(&mut self) {
        let mut i = 0;
        while i <= self.npar {
            let p = self.par[i];
            let r = &mut self.r;
            match p {
                0 => self.default_attr(),
                1 => r.intensity = Intensity::Bold,
                2 => r.intensity = Intensity::Half,
                3 => r.italic = true,
                4 | 21 => r.underline = true,
                5 => r.blink = true,
                7 => r.reverse = true,
                22 => r.intensity = Intensity::Normal,
                23 => r.italic = false,
                24 => r.underline = false,
                25 => r.blink = false,
                27 => r.reverse = false,
                30..=37 => r.color = (r.color & 0xf0) | COLOR_TABLE[(p - 30) as usize],
                40..=47 => r.color = (r.color & 0x0f) | COLOR_TABLE[(p - 40) as usize] << 4,
                // Bright foregrounds are bold; backgrounds stay dark.
                90..=97 => {
                    r.intensity = Intensity::Bold;
                    r.color = (r.color & 0xf0) | COLOR_TABLE[(p - 90) as usize];
                }
                100..=107 => r.color = (r.color & 0x0f) | COLOR_TABLE[(p - 100) as usize] << 4,
                38 | 48 => i += self.t416_color(i, p == 38),
                39 => r.color = (DEF_COLOR & 0x0f) | (r.color & 0xf0),
                49 => r.color = (DEF_COLOR & 0xf0) | (r.color & 0x0f),
                _ => {}
            }
            i += 1;
        }
        self.update_attr();
    }

    /// `38;5;N` and `38;2;R;G;B` (and 48 for the background), brought down
    /// to the sixteen VGA colours; returns how many parameters it used,
    /// at least the one after 38 (Linux: `vc_t416_color`).
    pub(super) fn t416_color(&mut self, i: usize, fg: bool) -> usize {
        let get = |k: usize| self.par.get(i + k).copied().unwrap_or(0);
        let (used, rgb) = match get(1) {
            5 if i + 2 <= self.npar => (2, rgb_from_256(get(2))),
            // Linux keeps each component in a `u8`.
            2 if i + 4 <= self.npar => (4, [get(2), get(3), get(4)].map(|c| (c & 0xff) as u8)),
            _ => return 1,
        };
        if fg {
            self.rgb_foreground(rgb);
        } else {
            // Linux: `rgb_background`: "err on the dark side".
            let [r, g, b] = rgb;
            self.r.color =
                (self.r.color & 0x0f) | (r & 0x80) >> 1 | (g & 0x80) >> 2 | (b & 0x80) >> 3;
        }
        used
    }

    /// Linux: `rgb_foreground`: the nearest of the eight hues, bright ones
    /// as bold.
    fn rgb_foreground(&mut self, [r, g, b]: [u8; 3]) {
        let max = r.max(g).max(b);
        // VGA bit order: red 4, green 2, blue 1.
        let mut hue =
            u8::from(r > max / 2) << 2 | u8::from(g > max / 2) << 1 | u8::from(b > max / 2);
        if hue == 7 && max <= 0x55 {
            hue = 0;
            self.r.intensity = Intensity::Bold;
        } else if max > 0xaa {
            self.r.intensity = Intensity::Bold;
        } else {
            self.r.intensity = Intensity::Normal;
        }
        self.r.color = (self.r.color & 0xf0) | hue;
    }
}

/// A 256-colour index as RGB (Linux: `rgb_from_256`, whose `u8`s keep
/// the low byte of what is stored in them).
fn rgb_from_256(i: u32) -> [u8; 3] {
    let rgb = match i {
        0..=15 => {
            let (lo, hi) = if i & 8 != 0 { (0x55, 0xff) } else { (0, 0xaa) };
            [1, 2, 4].map(|bit| if i & bit != 0 { hi } else { lo })
        }
        16..=231 => {
            let k = i - 16;
            [k / 36 * 85 / 2, k / 6 % 6 * 85 / 2, k % 6 * 85 / 2]
        }
        _ => [i.wrapping_mul(10).wrapping_sub(2312); 3],
    };
    rgb.map(|c| (c & 0xff) as u8)
}

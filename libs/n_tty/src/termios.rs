//! Terminal settings in Linux's layout: `struct termios` and `struct winsize`.
//!
//! Linux: include/uapi/asm-generic/termbits.h, drivers/tty/tty_io.c
//! (`tty_std_termios`).

use linux_raw_sys::general as g;

/// Number of control characters (Linux: `NCCS`).
pub const NCCS: usize = g::NCCS as usize;

/// Terminal settings (Linux: `struct termios`, the 36-byte kernel layout
/// that `TCGETS`/`TCSETS` copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Termios {
    pub c_iflag: u32,
    pub c_oflag: u32,
    pub c_cflag: u32,
    pub c_lflag: u32,
    pub c_line: u8,
    pub c_cc: [u8; NCCS],
}

/// Size of [`Termios`] as user space sees it.
pub const TERMIOS_SIZE: usize = 36;

/// Linux's `INIT_C_CC`: ^C ^\ DEL ^U ^D, TIME 0, MIN 1, ^Q ^S ^Z, ^R ^O ^W ^V.
const INIT_C_CC: [u8; NCCS] = [
    0o003, 0o034, 0o177, 0o025, 0o004, 0, 1, 0, 0o021, 0o023, 0o032, 0, 0o022, 0o017, 0o027, 0o026,
    0, 0, 0,
];

impl Default for Termios {
    /// Linux's `tty_std_termios`: a cooked 38400-baud 8-bit line.
    fn default() -> Self {
        Self {
            c_iflag: g::ICRNL | g::IXON,
            c_oflag: g::OPOST | g::ONLCR,
            c_cflag: g::B38400 | g::CS8 | g::CREAD | g::HUPCL,
            c_lflag: g::ISIG
                | g::ICANON
                | g::ECHO
                | g::ECHOE
                | g::ECHOK
                | g::ECHOCTL
                | g::ECHOKE
                | g::IEXTEN,
            c_line: 0,
            c_cc: INIT_C_CC,
        }
    }
}

impl Termios {
    /// Whether `flag` (an `I*` constant) is set in `c_iflag`.
    pub fn iflag(&self, flag: u32) -> bool {
        self.c_iflag & flag != 0
    }

    /// Whether `flag` (an `O*` constant) is set in `c_oflag`.
    pub fn oflag(&self, flag: u32) -> bool {
        self.c_oflag & flag != 0
    }

    /// Whether `flag` (an `L*` constant such as `ICANON`) is set in `c_lflag`.
    pub fn lflag(&self, flag: u32) -> bool {
        self.c_lflag & flag != 0
    }

    /// Control character `index` (a `V*` constant).
    pub fn cc(&self, index: u32) -> u8 {
        self.c_cc.get(index as usize).copied().unwrap_or(0)
    }

    /// Whether `c` is control character `index` and that character is not
    /// disabled (`_POSIX_VDISABLE`, 0 on Linux).
    pub fn is_cc(&self, c: u8, index: u32) -> bool {
        let cc = self.cc(index);
        cc != 0 && cc == c
    }

    /// The bytes user space exchanges through `TCGETS`/`TCSETS`.
    pub fn to_bytes(&self) -> [u8; TERMIOS_SIZE] {
        let mut out = [0; TERMIOS_SIZE];
        let flags = [self.c_iflag, self.c_oflag, self.c_cflag, self.c_lflag];
        for (chunk, flag) in out.chunks_exact_mut(4).zip(flags) {
            chunk.copy_from_slice(&flag.to_ne_bytes());
        }
        out[16] = self.c_line;
        out[17..17 + NCCS].copy_from_slice(&self.c_cc);
        out
    }

    /// The inverse of [`Termios::to_bytes`].
    pub fn from_bytes(bytes: &[u8; TERMIOS_SIZE]) -> Self {
        let word =
            |i: usize| u32::from_ne_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let mut c_cc = [0; NCCS];
        c_cc.copy_from_slice(&bytes[17..17 + NCCS]);
        Self {
            c_iflag: word(0),
            c_oflag: word(4),
            c_cflag: word(8),
            c_lflag: word(12),
            c_line: bytes[16],
            c_cc,
        }
    }
}

/// A terminal's size (Linux: `struct winsize`), kept for `TIOCGWINSZ`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Winsize {
    pub ws_row: u16,
    pub ws_col: u16,
    pub ws_xpixel: u16,
    pub ws_ypixel: u16,
}

/// Size of [`Winsize`] as user space sees it.
pub const WINSIZE_SIZE: usize = 8;

impl Winsize {
    pub fn to_bytes(&self) -> [u8; WINSIZE_SIZE] {
        let mut out = [0; WINSIZE_SIZE];
        let fields = [self.ws_row, self.ws_col, self.ws_xpixel, self.ws_ypixel];
        for (chunk, field) in out.chunks_exact_mut(2).zip(fields) {
            chunk.copy_from_slice(&field.to_ne_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8; WINSIZE_SIZE]) -> Self {
        let half = |i: usize| u16::from_ne_bytes([bytes[i], bytes[i + 1]]);
        Self { ws_row: half(0), ws_col: half(2), ws_xpixel: half(4), ws_ypixel: half(6) }
    }
}

const _: () = assert!(core::mem::size_of::<Termios>() == TERMIOS_SIZE);
const _: () = assert!(core::mem::size_of::<g::termios>() == TERMIOS_SIZE);
const _: () = assert!(core::mem::size_of::<Winsize>() == WINSIZE_SIZE);
const _: () = assert!(core::mem::size_of::<g::winsize>() == WINSIZE_SIZE);

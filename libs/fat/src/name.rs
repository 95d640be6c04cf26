//! Names: checking a long name, comparing names without regard to ASCII
//! case, making the 8.3 short name that goes with a long one, showing a
//! short name, and the long-name checksum (Linux: fs/fat/namei_vfat.c
//! `vfat_valid_longname`, `vfat_create_shortname`, `vfat_striptail_len`;
//! fs/fat/dir.c `fat_parse_short`; fs/fat/fat.h `fat_checksum`).
//!
//! Long names are UTF-16 on the disk and UTF-8 to the caller (Linux's
//! `iocharset=utf8`); case is folded for ASCII letters only. Short names
//! are made as Linux's default `shortname=mixed` does: a name that is
//! already an upper-case 8.3 name is stored alone; any other gets a long
//! entry and a short one derived from it, with a `~N` tail when the plain
//! form is lossy or taken. Characters outside ASCII become `_` in the
//! short name (Linux maps them through codepage 437 where it can).
//!
//! # Locking
//! None: pure functions.
#![forbid(unsafe_code)]

use alloc::vec::Vec;

use crate::{Error, FAT_LFN_LEN, Result};

/// A short name as stored: 8 bytes of base, 3 of extension, space-padded.
pub type ShortName = [u8; 11];

/// Lower-case base when shown (Linux: `CASE_LOWER_BASE`).
pub const CASE_LOWER_BASE: u8 = 0x08;
/// Lower-case extension when shown (Linux: `CASE_LOWER_EXT`).
pub const CASE_LOWER_EXT: u8 = 0x10;

/// The long-name checksum of a short name (Linux: `fat_checksum`).
pub fn lfn_checksum(name: &ShortName) -> u8 {
    name.iter().fold(0u8, |s, &c| ((s & 1) << 7).wrapping_add(s >> 1).wrapping_add(c))
}

/// Linux: `vfat_bad_char`.
fn bad_char(w: u16) -> bool {
    w < 0x20 || matches!(w, 0x2A | 0x3F | 0x3C | 0x3E | 0x7C | 0x22 | 0x3A | 0x2F | 0x5C)
}

/// The UTF-16 of a name given in UTF-8, trailing dots and spaces dropped
/// (Linux: `vfat_striptail_len`, `xlate_to_uni`). `NotFound` if nothing
/// is left (Linux: `ENOENT`), `Invalid` for a forbidden character or bad
/// UTF-8, `NameTooLong` past 255 units.
pub fn to_unicode(name: &[u8]) -> Result<Vec<u16>> {
    let s = core::str::from_utf8(name).map_err(|_| Error::Invalid)?;
    let s = s.trim_end_matches(['.', ' ']);
    if s.is_empty() {
        return Err(Error::NotFound);
    }
    let mut out = Vec::new();
    for w in s.encode_utf16() {
        if bad_char(w) {
            return Err(Error::Invalid);
        }
        if out.len() >= FAT_LFN_LEN {
            return Err(Error::NameTooLong);
        }
        out.try_reserve(1).map_err(|_| Error::NoSpace)?;
        out.push(w);
    }
    Ok(out)
}

/// The UTF-8 of a long name (unpaired surrogates become U+FFFD).
pub fn to_utf8(name: &[u16]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in char::decode_utf16(name.iter().copied()) {
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut b = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    }
    out
}

fn fold(w: u16) -> u16 {
    if (0x41..=0x5A).contains(&w) { w + 0x20 } else { w }
}

/// Whether two names are equal but for ASCII case (Linux: `vfat_cmpi`).
pub fn eq_ignore_case(a: &[u16], b: &[u16]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| fold(x) == fold(y))
}

/// A short name as shown, its case flags applied (Linux:
/// `fat_parse_short` under `shortname=mixed`), as UTF-16.
pub fn short_to_unicode(raw: &ShortName, lcase: u8) -> Vec<u16> {
    let mut out = Vec::new();
    let base = raw[..8].iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
    let ext = raw[8..].iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
    let show = |c: u8, lower: bool| u16::from(if lower { c.to_ascii_lowercase() } else { c });
    for (i, &c) in raw[..base].iter().enumerate() {
        // A name starting with 0xE5 is stored with 0x05 (0xE5 marks a free slot).
        let c = if i == 0 && c == 0x05 { 0xE5 } else { c };
        out.push(show(c, lcase & CASE_LOWER_BASE != 0));
    }
    if ext > 0 {
        out.push(u16::from(b'.'));
        for &c in &raw[8..8 + ext] {
            out.push(show(c, lcase & CASE_LOWER_EXT != 0));
        }
    }
    out
}

/// A short name as shown, in UTF-8 (bytes above 0x7F as Latin-1).
pub fn short_name_display(raw: &ShortName, lcase: u8) -> Vec<u8> {
    to_utf8(&short_to_unicode(raw, lcase))
}

/// Linux: `vfat_replace_char`.
fn replaced(w: u16) -> bool {
    matches!(w, 0x2B | 0x2C | 0x3B | 0x3D | 0x5B | 0x5D)
}

/// One long-name character in a short name: `None` if dropped; the bool
/// says whether the conversion was exact.
fn short_char(w: u16) -> Option<(u8, bool)> {
    if w == u16::from(b'.') || w == u16::from(b' ') {
        return None;
    }
    match u8::try_from(w) {
        Ok(c) if c.is_ascii_graphic() && !replaced(w) => Some((c.to_ascii_uppercase(), true)),
        _ => Some((b'_', false)),
    }
}

/// The basis of a short name (Linux: the first half of
/// `vfat_create_shortname`): base, extension, and whether it is an exact
/// 8.3 form of the long name (no tail needed).
fn basis(long: &[u16]) -> (Vec<u8>, Vec<u8>, bool) {
    let dot = long.iter().rposition(|&w| w == u16::from(b'.'));
    // A name of only dots and spaces before its last dot has no extension.
    let dot = dot.filter(|&d| long[..d].iter().any(|&w| short_char(w).is_some()));
    let (base_part, ext_part) = match dot {
        Some(d) => (&long[..d], &long[d + 1..]),
        None => (long, &[][..]),
    };
    let mut exact = true;
    let mut convert = |part: &[u16], max: usize| {
        let mut out = Vec::new();
        for &w in part {
            match short_char(w) {
                None => exact = false,
                Some((c, ok)) => {
                    exact &= ok;
                    if out.len() < max {
                        out.push(c);
                    } else {
                        exact = false;
                    }
                }
            }
        }
        out
    };
    let mut base = convert(base_part, 8);
    let ext = convert(ext_part, 3);
    if base.is_empty() {
        base.push(b'_');
        exact = false;
    }
    if base[0] == 0xE5 {
        base[0] = 0x05;
    }
    (base, ext, exact)
}

fn pack(base: &[u8], ext: &[u8]) -> ShortName {
    let mut out = [b' '; 11];
    out[..base.len().min(8)].copy_from_slice(&base[..base.len().min(8)]);
    out[8..8 + ext.len().min(3)].copy_from_slice(&ext[..ext.len().min(3)]);
    out
}

/// The short name for `long` in a directory whose short names are
/// `taken`, and whether `long` needs long-name slots (Linux:
/// `vfat_create_shortname` with `shortname=mixed`, numeric tails).
pub fn make_short_name(long: &[u16], taken: &[ShortName]) -> Result<(ShortName, bool)> {
    let (base, ext, exact) = basis(long);
    let plain = pack(&base, &ext);
    if exact && !taken.contains(&plain) {
        let needs_lfn = short_to_unicode(&plain, 0) != long;
        return Ok((plain, needs_lfn));
    }
    if exact && short_to_unicode(&plain, 0) == long {
        return Err(Error::Exists);
    }
    let mut digits = [0u8; 7];
    for n in 1u32..=999_999 {
        let mut len = 0;
        let mut v = n;
        while v > 0 {
            let d = u8::try_from(v % 10).unwrap_or(0);
            digits[len] = b'0' + d;
            len += 1;
            v /= 10;
        }
        let keep = base.len().min(8 - 1 - len);
        let mut b = Vec::with_capacity(8);
        b.extend_from_slice(&base[..keep]);
        b.push(b'~');
        b.extend(digits[..len].iter().rev());
        let name = pack(&b, &ext);
        if !taken.contains(&name) {
            return Ok((name, true));
        }
    }
    Err(Error::Exists)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn short_names() {
        assert_eq!(make_short_name(&u("FOO.TXT"), &[]), Ok((*b"FOO     TXT", false)));
        assert_eq!(make_short_name(&u("foo.txt"), &[]), Ok((*b"FOO     TXT", true)));
        assert_eq!(make_short_name(&u("f"), &[]), Ok((*b"F          ", true)));
        assert_eq!(make_short_name(&u("long file name.html"), &[]), Ok((*b"LONGFI~1HTM", true)));
        assert_eq!(make_short_name(&u(".bashrc"), &[]), Ok((*b"BASHRC~1   ", true)));
        assert_eq!(make_short_name(&u("a+b"), &[]), Ok((*b"A_B~1      ", true)));
        let taken = [*b"FOO     TXT", *b"FOO~1   TXT"];
        assert_eq!(make_short_name(&u("foo.txt"), &taken), Ok((*b"FOO~2   TXT", true)));
        assert_eq!(make_short_name(&u("FOO.TXT"), &taken), Err(Error::Exists));
    }

    #[test]
    fn checksum_matches_linux() {
        // From a mkfs.vfat + mcopy image: "README  TXT".
        let mut s = 0u8;
        for &c in b"README  TXT" {
            s = ((s & 1) << 7).wrapping_add(s >> 1).wrapping_add(c);
        }
        assert_eq!(lfn_checksum(b"README  TXT"), s);
    }

    #[test]
    fn long_names() {
        assert_eq!(to_unicode(b"a.b. . "), Ok(u("a.b")));
        assert_eq!(to_unicode(b"..."), Err(Error::NotFound));
        assert_eq!(to_unicode(b"a:b"), Err(Error::Invalid));
        assert_eq!(to_unicode(&[b'x'; 256]), Err(Error::NameTooLong));
        assert!(eq_ignore_case(&u("Hello.TXT"), &u("hello.txt")));
        assert_eq!(short_name_display(b"FOO     TXT", CASE_LOWER_BASE), b"foo.TXT");
    }
}

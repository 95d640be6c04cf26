//! One gzip member (RFC 1952), inflated with `miniz_oxide`
//! (Linux: lib/decompress_inflate.c `gunzip`).
//!
//! Unlike a whole-buffer inflate, [`gunzip`] reports how many input bytes
//! the member used, because an initramfs may continue after it with
//! another (compressed or plain) archive.

use alloc::boxed::Box;
use alloc::vec::Vec;

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

use crate::Error;

/// The two bytes that open a gzip member.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

const FHCRC: u8 = 1 << 1;
const FEXTRA: u8 = 1 << 2;
const FNAME: u8 = 1 << 3;
const FCOMMENT: u8 = 1 << 4;

/// Whether `buf` starts with a gzip member.
pub fn is_gzip(buf: &[u8]) -> bool {
    buf.starts_with(&GZIP_MAGIC)
}

/// Inflates the gzip member at the start of `buf` into at most `limit`
/// bytes; returns the data and the number of input bytes consumed.
pub fn gunzip(buf: &[u8], limit: usize) -> Result<(Vec<u8>, usize), Error> {
    let start = header_len(buf)?;
    let body = buf.get(start..).ok_or(Error::Decompress)?;
    let (out, used) = inflate(body, limit)?;
    let trailer_at = start.checked_add(used).ok_or(Error::Decompress)?;
    let trailer = buf.get(trailer_at..trailer_at + 8).ok_or(Error::Decompress)?;
    let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let isize = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    // ISIZE is the length modulo 2^32.
    if crc != crc32(&out) || isize != u32::try_from(out.len() & 0xffff_ffff).unwrap_or(0) {
        return Err(Error::Decompress);
    }
    Ok((out, trailer_at + 8))
}

/// Length of the member header: 10 bytes and the optional fields.
fn header_len(buf: &[u8]) -> Result<usize, Error> {
    let fixed = buf.get(..10).ok_or(Error::Decompress)?;
    if !is_gzip(fixed) || fixed[2] != 8 {
        return Err(Error::Decompress);
    }
    let flags = fixed[3];
    let mut pos = 10usize;
    if flags & FEXTRA != 0 {
        let len = buf.get(pos..pos + 2).ok_or(Error::Decompress)?;
        pos += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let rest = buf.get(pos..).ok_or(Error::Decompress)?;
            pos += rest.iter().position(|&b| b == 0).ok_or(Error::Decompress)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    if pos > buf.len() {
        return Err(Error::Decompress);
    }
    Ok(pos)
}

/// Raw-deflate inflation into a growing buffer; returns the output and the
/// input bytes used.
fn inflate(input: &[u8], limit: usize) -> Result<(Vec<u8>, usize), Error> {
    let mut state = Box::<DecompressorOxide>::default();
    let mut out: Vec<u8> = Vec::new();
    let (mut in_pos, mut out_pos) = (0usize, 0usize);
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    loop {
        if out_pos == out.len() {
            let grow = out.len().max(64 * 1024);
            let new_len = out.len().saturating_add(grow).min(limit.max(1));
            if new_len <= out.len() {
                return Err(Error::OutOfMemory);
            }
            out.try_reserve_exact(new_len - out.len()).map_err(|_| Error::OutOfMemory)?;
            out.resize(new_len, 0);
        }
        let rest = input.get(in_pos..).unwrap_or_default();
        let (status, used, written) = decompress(&mut state, rest, &mut out, out_pos, flags);
        in_pos += used;
        out_pos += written;
        match status {
            TINFLStatus::Done => {
                out.truncate(out_pos);
                return Ok((out, in_pos));
            }
            TINFLStatus::HasMoreOutput => {}
            _ => return Err(Error::Decompress),
        }
    }
}

/// CRC-32 (IEEE 802.3), bit by bit: the initramfs is inflated once.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Wraps `data` in a gzip member of stored (uncompressed) deflate blocks:
/// a valid image for tests and tools that need no compressor, and no
/// compressor state on a small kernel stack.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = alloc::vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    let mut chunks = data.chunks(0xffff).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let len = u16::try_from(chunk.len()).unwrap_or(u16::MAX);
        out.push(u8::from(chunks.peek().is_none()));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    trailer(&mut out, data);
    out
}

fn trailer(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&u32::try_from(data.len() & 0xffff_ffff).unwrap_or(0).to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A compressed member (level 6), as `gzip` makes.
    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut out = alloc::vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(data, 6));
        trailer(&mut out, data);
        out
    }

    #[test]
    fn stored_members_inflate() {
        for len in [0usize, 1, 65_535, 65_536, 200_000] {
            let data: Vec<u8> = (0..len).map(|i| u8::try_from(i % 7).unwrap_or(0)).collect();
            let member = gzip_stored(&data);
            assert_eq!(gunzip(&member, 1 << 20), Ok((data, member.len())));
        }
    }

    #[test]
    fn round_trip_and_consumed_length() {
        let data: Vec<u8> = (0..200_000u32).map(|i| u8::try_from(i % 251).unwrap_or(0)).collect();
        let mut member = gzip(&data);
        let len = member.len();
        member.extend_from_slice(b"070701 after");
        let (out, used) = gunzip(&member, 1 << 20).expect("valid member");
        assert_eq!(out, data);
        assert_eq!(used, len);
    }

    #[test]
    fn limit_and_corruption() {
        let member = gzip(&[0u8; 100_000]);
        assert_eq!(gunzip(&member, 1000), Err(Error::OutOfMemory));
        let mut bad = member.clone();
        let n = bad.len();
        bad[n - 5] ^= 1;
        assert_eq!(gunzip(&bad, 1 << 20), Err(Error::Decompress));
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    proptest! {
        #[test]
        fn never_panics(mut bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if bytes.len() > 3 { bytes[0] = 0x1f; bytes[1] = 0x8b; bytes[2] = 8; }
            let _ = gunzip(&bytes, 1 << 16);
        }
    }
}

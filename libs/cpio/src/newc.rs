//! The "new ASCII" cpio format (magic 070701, or 070702 with a checksum).
//!
//! A header is 110 ASCII bytes: the magic and 13 eight-digit hex fields;
//! the NUL-terminated name follows, padded so that the data starts on a
//! 4-byte boundary, and the data is padded to 4 bytes as well. An entry
//! named `TRAILER!!!` ends the archive.

/// Length of a newc header.
pub const HEADER_LEN: usize = 110;
/// The name of the entry that ends an archive.
pub const TRAILER: &[u8] = b"TRAILER!!!";
/// Linux's `PATH_MAX`: longer names are refused, as `do_header` does.
const PATH_MAX: usize = 4096;

/// Why an archive cannot be read; `message` gives Linux's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Neither 070701 nor 070702 at a header.
    NoMagic,
    /// The old portable format (070707), which Linux refuses.
    OldFormat,
    /// The archive stops inside a header, name or data.
    Truncated,
    /// A header field is not hexadecimal.
    BadHeader,
    /// Non-zero bytes where padding between archives must be.
    BadPadding,
    /// A 070702 entry whose data does not add up to its checksum.
    BadChecksum,
    /// A name that is empty, not NUL-terminated or longer than `PATH_MAX`.
    BadName,
    /// A gzip member that cannot be inflated.
    Decompress,
    /// Inflating would take more memory than allowed.
    OutOfMemory,
}

impl Error {
    /// The message Linux prints after "Initramfs unpacking failed: ".
    pub const fn message(self) -> &'static str {
        match self {
            Error::NoMagic => "no cpio magic",
            Error::OldFormat => "incorrect cpio method used: use -H newc option",
            Error::Truncated => "junk at the end of the archive",
            Error::BadHeader => "broken header",
            Error::BadPadding => "broken padding",
            Error::BadChecksum => "bad data checksum",
            Error::BadName => "bad file name",
            Error::Decompress => "decompressor failed",
            Error::OutOfMemory => "out of memory",
        }
    }
}

/// One archive member; `name` and `data` borrow from the archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Inode number in the archive: equal (ino, dev) pairs are hard links.
    pub ino: u32,
    /// `st_mode`: file type and permissions.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Link count.
    pub nlink: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u32,
    /// Device of the archived file (major).
    pub dev_major: u32,
    /// Device of the archived file (minor).
    pub dev_minor: u32,
    /// Device number of a device node (major).
    pub rdev_major: u32,
    /// Device number of a device node (minor).
    pub rdev_minor: u32,
    /// The path, without its NUL.
    pub name: &'a [u8],
    /// File contents, or a symlink's target.
    pub data: &'a [u8],
}

impl Entry<'_> {
    /// Whether this is the entry that ends the archive.
    pub fn is_trailer(&self) -> bool {
        self.name == TRAILER
    }
}

/// Walks the entries of one archive (Linux: the `do_header`, `do_name`,
/// `do_copy` states).
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading an archive at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// How many bytes have been consumed, padding included.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// The next entry, the trailer included; `Ok(None)` at the end of the
    /// buffer exactly on an entry boundary.
    pub fn next_entry(&mut self) -> Result<Option<Entry<'a>>, Error> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            return Ok(None);
        }
        let header = rest.get(..HEADER_LEN).ok_or(Error::Truncated)?;
        let checked = match &header[..6] {
            b"070701" => false,
            b"070702" => true,
            b"070707" => return Err(Error::OldFormat),
            _ => return Err(Error::NoMagic),
        };
        let mut fields = [0u32; 13];
        for (i, field) in fields.iter_mut().enumerate() {
            *field = parse_hex(&header[6 + 8 * i..14 + 8 * i])?;
        }
        let [
            ino,
            mode,
            uid,
            gid,
            nlink,
            mtime,
            size,
            dev_major,
            dev_minor,
            rdev_major,
            rdev_minor,
            namesize,
            check,
        ] = fields;
        let namesize = namesize as usize;
        if namesize == 0 || namesize > PATH_MAX {
            return Err(Error::BadName);
        }
        let name_end = HEADER_LEN.checked_add(namesize).ok_or(Error::Truncated)?;
        let name = rest.get(HEADER_LEN..name_end).ok_or(Error::Truncated)?;
        let (last, name) = name.split_last().ok_or(Error::BadName)?;
        if *last != 0 {
            return Err(Error::BadName);
        }
        let data_start = align4(name_end).ok_or(Error::Truncated)?;
        let data_end = data_start.checked_add(size as usize).ok_or(Error::Truncated)?;
        let data = rest.get(data_start..data_end).ok_or(Error::Truncated)?;
        if checked && mode & 0o170000 == 0o100000 && checksum(data) != check {
            return Err(Error::BadChecksum);
        }
        // The last entry may end without its data padding.
        let next = align4(data_end).ok_or(Error::Truncated)?.min(rest.len());
        self.pos += next;
        let entry = Entry {
            ino,
            mode,
            uid,
            gid,
            nlink,
            mtime,
            dev_major,
            dev_minor,
            rdev_major,
            rdev_minor,
            name,
            data,
        };
        Ok(Some(entry))
    }
}

/// Skips the zero padding Linux allows between concatenated archives
/// (Linux: `do_reset`): returns how many bytes to skip, or `BadPadding`
/// if the zeros end off a 4-byte boundary (`offset` is the position of
/// `buf` in the whole image).
pub fn skip_padding(buf: &[u8], offset: usize) -> Result<usize, Error> {
    let zeros = buf.iter().take_while(|&&b| b == 0).count();
    if zeros < buf.len() && !(offset.wrapping_add(zeros)).is_multiple_of(4) {
        return Err(Error::BadPadding);
    }
    Ok(zeros)
}

fn align4(n: usize) -> Option<usize> {
    n.checked_add(3).map(|n| n & !3)
}

/// The 070702 checksum: the sum of the data bytes, modulo 2^32.
fn checksum(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |sum, &b| sum.wrapping_add(u32::from(b)))
}

fn parse_hex(field: &[u8]) -> Result<u32, Error> {
    field.iter().try_fold(0u32, |acc, &c| {
        let digit = char::from(c).to_digit(16).ok_or(Error::BadHeader)?;
        Ok((acc << 4) | digit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Writer;
    use proptest::prelude::*;

    #[test]
    fn reads_back_what_the_writer_wrote() {
        let mut w = Writer::new();
        w.dir(b"dev", 0o755);
        w.file(b"init", 0o755, b"#!/bin/sh\necho hi\n");
        w.symlink(b"bin/sh", b"busybox");
        w.node(b"dev/console", 0o020600, 5, 1);
        let bytes = w.finish();
        let mut r = Reader::new(&bytes);
        let mut names = Vec::new();
        while let Some(e) = r.next_entry().expect("valid archive") {
            names.push((e.name.to_vec(), e.mode, e.data.to_vec(), e.rdev_major, e.rdev_minor));
        }
        assert_eq!(names.len(), 5);
        assert_eq!(names[1].0, b"init");
        assert_eq!(names[1].2, b"#!/bin/sh\necho hi\n");
        assert_eq!(names[2].1 & 0o170000, 0o120000);
        assert_eq!(names[2].2, b"busybox");
        assert_eq!((names[3].3, names[3].4), (5, 1));
        assert_eq!(names[4].0, TRAILER);
        assert_eq!(r.offset() % 4, 0);
    }

    #[test]
    fn refuses_bad_magic_and_old_format() {
        assert_eq!(Reader::new(b"hello").next_entry(), Err(Error::Truncated));
        assert_eq!(Reader::new(&[b'x'; 200]).next_entry(), Err(Error::NoMagic));
        let mut old = [b'0'; 200];
        old[..6].copy_from_slice(b"070707");
        assert_eq!(Reader::new(&old).next_entry(), Err(Error::OldFormat));
    }

    #[test]
    fn checks_the_crc_format() {
        let mut w = Writer::new();
        w.file(b"a", 0o644, b"abc");
        let mut bytes = w.finish();
        bytes[5] = b'2';
        // Checksum field is the 13th: "00000000", wrong for "abc".
        assert_eq!(Reader::new(&bytes).next_entry(), Err(Error::BadChecksum));
        let sum = format!("{:08X}", u32::from(b'a') + u32::from(b'b') + u32::from(b'c'));
        bytes[102..110].copy_from_slice(sum.as_bytes());
        assert!(Reader::new(&bytes).next_entry().is_ok());
    }

    #[test]
    fn truncated_data_is_an_error() {
        let mut w = Writer::new();
        w.file(b"a", 0o644, &[7; 100]);
        let bytes = w.finish();
        assert_eq!(Reader::new(&bytes[..150]).next_entry(), Err(Error::Truncated));
    }

    #[test]
    fn padding_between_archives() {
        assert_eq!(skip_padding(&[0, 0, 0, 0, b'0'], 0), Ok(4));
        assert_eq!(skip_padding(&[0, 0, b'0'], 0), Err(Error::BadPadding));
        assert_eq!(skip_padding(&[0, 0], 0), Ok(2));
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut r = Reader::new(&bytes);
            for _ in 0..50 {
                match r.next_entry() {
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
            let _ = skip_padding(&bytes, 1);
        }

        #[test]
        fn never_panics_after_a_valid_header(tail in proptest::collection::vec(any::<u8>(), 0..300), cut in 0usize..400) {
            let mut w = Writer::new();
            w.file(b"some/file", 0o644, &tail);
            let mut bytes = w.finish();
            bytes.truncate(cut);
            bytes.extend_from_slice(&tail);
            let mut r = Reader::new(&bytes);
            while let Ok(Some(_)) = r.next_entry() {}
        }
    }
}

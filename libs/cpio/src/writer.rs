//! Builds newc archives: used by tests and tools that make an initramfs
//! (Linux: usr/gen_init_cpio.c).

use alloc::vec::Vec;
use core::fmt::Write as _;

/// An archive under construction; inode numbers are given in order.
#[derive(Default)]
pub struct Writer {
    out: Vec<u8>,
    next_ino: u32,
}

impl Writer {
    /// An empty archive.
    pub fn new() -> Self {
        Self { out: Vec::new(), next_ino: 1 }
    }

    /// Adds a directory.
    pub fn dir(&mut self, name: &[u8], perm: u32) {
        self.entry(name, 0o040000 | perm, 2, (0, 0), &[]);
    }

    /// Adds a regular file.
    pub fn file(&mut self, name: &[u8], perm: u32, data: &[u8]) {
        self.entry(name, 0o100000 | perm, 1, (0, 0), data);
    }

    /// Adds a symbolic link to `target`.
    pub fn symlink(&mut self, name: &[u8], target: &[u8]) {
        self.entry(name, 0o120777, 1, (0, 0), target);
    }

    /// Adds a device node; `mode` carries the type (S_IFCHR or S_IFBLK).
    pub fn node(&mut self, name: &[u8], mode: u32, major: u32, minor: u32) {
        self.entry(name, mode, 1, (major, minor), &[]);
    }

    /// Adds one regular file under several names (hard links): one inode
    /// number, `nlink` = the number of names, data on the last name only,
    /// as gen_init_cpio does.
    pub fn linked_file(&mut self, names: &[&[u8]], perm: u32, data: &[u8]) {
        let nlink = u32::try_from(names.len()).unwrap_or(u32::MAX);
        for (i, name) in names.iter().enumerate() {
            let last = i + 1 == names.len();
            self.entry(name, 0o100000 | perm, nlink, (0, 0), if last { data } else { &[] });
            if !last {
                self.next_ino -= 1;
            }
        }
    }

    /// Ends the archive with its trailer and returns the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.next_ino = 0;
        self.entry(crate::TRAILER, 0, 1, (0, 0), &[]);
        self.out
    }

    fn entry(&mut self, name: &[u8], mode: u32, nlink: u32, rdev: (u32, u32), data: &[u8]) {
        let mut header = alloc::string::String::new();
        let namesize = name.len() + 1;
        let size = data.len();
        let size = u32::try_from(size).unwrap_or(u32::MAX);
        let fields = [self.next_ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev.0, rdev.1];
        let _ = write!(header, "070701");
        for f in fields {
            let _ = write!(header, "{f:08X}");
        }
        let _ = write!(header, "{:08X}{:08X}", u32::try_from(namesize).unwrap_or(u32::MAX), 0);
        self.next_ino += 1;
        self.out.extend_from_slice(header.as_bytes());
        self.out.extend_from_slice(name);
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }
}

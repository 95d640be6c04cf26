//! Initramfs archives for QEMU's `-initrd`: newc cpio written in Rust, so
//! that device nodes and symlinks need neither root nor `cpio(1)`.
//!
//! The newc format (Linux: Documentation/driver-api/early-userspace/
//! buffer-format.rst, usr/gen_init_cpio.c): per entry a 110-byte ASCII header
//! "070701" + 13 fields of 8 hex digits, the NUL-terminated name, the data,
//! each padded to 4 bytes; the archive ends with an entry "TRAILER!!!".
//! A symlink's data is its target. Every entry is owned by root, mtime 0, so
//! the same inputs give the same bytes.
//!
//! Users: the benchmark's power-off initramfs (bench/initramfs.rs) and the
//! system tests (systest/build.rs).

use std::path::Path;

const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

/// One file in the archive.
struct Entry {
    name: String,
    mode: u32,
    /// Major and minor of a device node.
    rdev: (u32, u32),
    data: Vec<u8>,
}

/// An archive being put together, entry by entry, in the order unpacked
/// (a directory must come before what it holds).
#[derive(Default)]
pub struct Archive {
    entries: Vec<Entry>,
}

impl Archive {
    pub fn new() -> Self {
        Archive::default()
    }

    /// A directory (no leading `/`: "dev", "usr/bin").
    pub fn dir(&mut self, name: &str, perm: u32) -> &mut Self {
        self.push(name, S_IFDIR | perm, (0, 0), Vec::new())
    }

    /// A regular file with `data`.
    pub fn file(&mut self, name: &str, perm: u32, data: Vec<u8>) -> &mut Self {
        self.push(name, S_IFREG | perm, (0, 0), data)
    }

    /// A regular file with the contents of `source` on the host.
    pub fn file_from(&mut self, name: &str, perm: u32, source: &Path) -> Result<&mut Self, String> {
        let data = std::fs::read(source).map_err(|e| format!("{}: {e}", source.display()))?;
        Ok(self.file(name, perm, data))
    }

    /// A symbolic link `name` -> `target`.
    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.push(name, S_IFLNK | 0o777, (0, 0), target.as_bytes().to_vec())
    }

    /// A character device node.
    pub fn char_dev(&mut self, name: &str, perm: u32, major: u32, minor: u32) -> &mut Self {
        self.push(name, S_IFCHR | perm, (major, minor), Vec::new())
    }

    /// The device nodes a console program needs before any devtmpfs:
    /// `/dev/console` (which the kernel opens for init), `null`, `zero`,
    /// `urandom`, `tty` and `ttyS0`, with Linux's numbers (Documentation/
    /// admin-guide/devices.txt).
    pub fn dev_nodes(&mut self) -> &mut Self {
        self.dir("dev", 0o755)
            .char_dev("dev/console", 0o600, 5, 1)
            .char_dev("dev/null", 0o666, 1, 3)
            .char_dev("dev/zero", 0o666, 1, 5)
            .char_dev("dev/urandom", 0o666, 1, 9)
            .char_dev("dev/tty", 0o666, 5, 0)
            .char_dev("dev/ttyS0", 0o600, 4, 64)
    }

    fn push(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: Vec<u8>) -> &mut Self {
        let name = name.trim_start_matches('/').to_string();
        self.entries.push(Entry { name, mode, rdev, data });
        self
    }

    /// The newc bytes of the archive, with its trailer.
    pub fn to_newc(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (ino, entry) in (1..).zip(&self.entries) {
            push_entry(&mut out, ino, entry);
        }
        let trailer = Entry { name: "TRAILER!!!".into(), mode: 0, rdev: (0, 0), data: Vec::new() };
        push_entry(&mut out, 0, &trailer);
        out
    }

    /// Writes the archive to `path` (through a temporary file, so that a
    /// reader never sees half an archive).
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, self.to_newc()).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn push_entry(out: &mut Vec<u8>, ino: u32, entry: &Entry) {
    let nlink = if entry.mode & S_IFMT == S_IFDIR { 2 } else { 1 };
    let fields = [
        ino,
        entry.mode,
        0, // uid
        0, // gid
        nlink,
        0, // mtime
        u32::try_from(entry.data.len()).unwrap_or(u32::MAX),
        0, // devmajor
        0, // devminor
        entry.rdev.0,
        entry.rdev.1,
        u32::try_from(entry.name.len() + 1).unwrap_or(u32::MAX),
        0, // check
    ];
    out.extend_from_slice(b"070701");
    for field in fields {
        out.extend_from_slice(format!("{field:08x}").as_bytes());
    }
    out.extend_from_slice(entry.name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(&entry.data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    out.resize(out.len().next_multiple_of(4), 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_headers_and_padding() {
        let mut archive = Archive::new();
        archive.file("/init", 0o755, b"abc".to_vec());
        let bytes = archive.to_newc();
        assert!(bytes.starts_with(b"070701"));
        assert_eq!(bytes.len() % 4, 0);
        // Header 110 + "init\0" = 115, padded to 116; data 3, padded to 4.
        assert_eq!(&bytes[110..115], b"init\0");
        assert_eq!(&bytes[116..119], b"abc");
        assert_eq!(&bytes[120..126], b"070701");
        assert_eq!(&bytes[120 + 110..120 + 121], b"TRAILER!!!\0");
    }

    #[test]
    fn symlink_and_device_fields() {
        let mut archive = Archive::new();
        archive.symlink("bin/sh", "busybox").char_dev("dev/null", 0o666, 1, 3);
        let bytes = archive.to_newc();
        let field = |entry: usize, n: usize| {
            let text = std::str::from_utf8(&bytes[entry + 6 + 8 * n..entry + 14 + 8 * n])
                .expect("hex digits");
            u32::from_str_radix(text, 16).expect("a hex field")
        };
        // Entry 1: mode, file size = target length, then the target.
        assert_eq!(field(0, 1), S_IFLNK | 0o777);
        assert_eq!(field(0, 6), 7);
        assert_eq!(&bytes[120..127], b"busybox"); // 110 + "bin/sh\0" = 117 -> 120
        // Entry 2 starts at 128: rdevmajor, rdevminor.
        assert_eq!(field(128, 1), S_IFCHR | 0o666);
        assert_eq!((field(128, 9), field(128, 10)), (1, 3));
    }
}

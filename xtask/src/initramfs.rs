//! Initramfs archives for QEMU's `-initrd`, so that device nodes and
//! symlinks need neither root nor `cpio(1)`. The newc encoding is the
//! kernel's own `libs/cpio` (its `Writer`, Linux: usr/gen_init_cpio.c);
//! this adds host conveniences: paths as `&str`, files read from the host,
//! the /dev nodes a console program needs. Every entry is owned by root,
//! mtime 0, so the same inputs give the same bytes.
//!
//! Users: the benchmarks (bench/initramfs.rs), the system tests
//! (systest/build.rs) and `cargo xtask run --busybox` (qemu.rs).

use std::path::Path;

const S_IFCHR: u32 = 0o020_000;

/// One file in the archive.
enum Entry {
    Dir { name: String, perm: u32 },
    File { name: String, perm: u32, data: Vec<u8> },
    Symlink { name: String, target: String },
    CharDev { name: String, perm: u32, major: u32, minor: u32 },
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
        self.entries.push(Entry::Dir { name: clean(name), perm });
        self
    }

    /// A regular file with `data`.
    pub fn file(&mut self, name: &str, perm: u32, data: Vec<u8>) -> &mut Self {
        self.entries.push(Entry::File { name: clean(name), perm, data });
        self
    }

    /// A regular file with the contents of `source` on the host.
    pub fn file_from(&mut self, name: &str, perm: u32, source: &Path) -> Result<&mut Self, String> {
        let data = std::fs::read(source).map_err(|e| format!("{}: {e}", source.display()))?;
        Ok(self.file(name, perm, data))
    }

    /// A symbolic link `name` -> `target`.
    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.entries.push(Entry::Symlink { name: clean(name), target: target.to_string() });
        self
    }

    /// A character device node.
    pub fn char_dev(&mut self, name: &str, perm: u32, major: u32, minor: u32) -> &mut Self {
        self.entries.push(Entry::CharDev { name: clean(name), perm, major, minor });
        self
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

    /// The newc bytes of the archive, with its trailer.
    pub fn to_newc(&self) -> Vec<u8> {
        let mut out = cpio::Writer::new();
        for entry in &self.entries {
            match entry {
                Entry::Dir { name, perm } => out.dir(name.as_bytes(), *perm),
                Entry::File { name, perm, data } => out.file(name.as_bytes(), *perm, data),
                Entry::Symlink { name, target } => out.symlink(name.as_bytes(), target.as_bytes()),
                Entry::CharDev { name, perm, major, minor } => {
                    out.node(name.as_bytes(), S_IFCHR | perm, *major, *minor)
                }
            }
        }
        out.finish()
    }

    /// Writes the archive to `path` (through a temporary file, so that a
    /// reader never sees half an archive).
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, self.to_newc()).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Archive names have no leading `/`.
fn clean(name: &str) -> String {
    name.trim_start_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of entry reads back through the kernel's own parser.
    #[test]
    fn entries_read_back_through_the_kernel_parser() {
        let mut archive = Archive::new();
        archive.dir("/bin", 0o755).file("init", 0o755, b"abc".to_vec());
        archive.symlink("bin/sh", "busybox").char_dev("dev/null", 0o666, 1, 3);
        let bytes = archive.to_newc();
        let mut reader = cpio::Reader::new(&bytes);
        let mut seen = Vec::new();
        while let Some(e) = reader.next_entry().expect("a well-formed archive") {
            if e.is_trailer() {
                break;
            }
            seen.push((e.name.to_vec(), e.mode, e.data.to_vec(), (e.rdev_major, e.rdev_minor)));
        }
        assert_eq!(
            seen,
            vec![
                (b"bin".to_vec(), 0o040_755, vec![], (0, 0)),
                (b"init".to_vec(), 0o100_755, b"abc".to_vec(), (0, 0)),
                (b"bin/sh".to_vec(), 0o120_777, b"busybox".to_vec(), (0, 0)),
                (b"dev/null".to_vec(), S_IFCHR | 0o666, vec![], (1, 3)),
            ]
        );
    }
}

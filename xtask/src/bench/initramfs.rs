//! The benchmark's initramfs: a newc cpio archive whose `/init` powers the
//! machine off at once (user/bench/poweroff.c, static musl), so that Linux
//! boots to user space and QEMU ends.
//!
//! The newc format (Linux: Documentation/driver-api/early-userspace/
//! buffer-format.rst, usr/gen_init_cpio.c): per entry a 110-byte ASCII header
//! "070701" + 13 fields of 8 hex digits, the NUL-terminated name, the data,
//! each padded to 4 bytes; the archive ends with an entry "TRAILER!!!".

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::deps::{self, Tool};
use crate::{run_checked, workspace_root};

const MUSL_GCC: Tool = Tool { program: "musl-gcc", package: "musl-tools" };

const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFCHR: u32 = 0o020_000;

/// One file in the archive.
struct Entry<'a> {
    name: &'a str,
    mode: u32,
    /// Major and minor of a device node.
    rdev: (u32, u32),
    data: &'a [u8],
}

/// Builds `target/bench/poweroff.cpio` (and the program in it) if it is
/// missing or older than its source, and returns its path.
pub fn poweroff_initramfs() -> Result<PathBuf, String> {
    let root = workspace_root();
    let source = root.join("user/bench/poweroff.c");
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let archive = dir.join("poweroff.cpio");
    if is_newer(&archive, &source) {
        return Ok(archive);
    }
    let program = dir.join("poweroff");
    deps::ensure(&[MUSL_GCC])?;
    run_checked(
        Command::new(MUSL_GCC.program)
            .args(["-static", "-Os", "-s", "-o"])
            .arg(&program)
            .arg(&source),
    )?;
    let init = std::fs::read(&program).map_err(|e| format!("{}: {e}", program.display()))?;
    let entries = [
        Entry { name: "dev", mode: S_IFDIR | 0o755, rdev: (0, 0), data: &[] },
        Entry { name: "dev/console", mode: S_IFCHR | 0o600, rdev: (5, 1), data: &[] },
        Entry { name: "init", mode: S_IFREG | 0o755, rdev: (0, 0), data: &init },
    ];
    std::fs::write(&archive, newc(&entries)).map_err(|e| format!("{}: {e}", archive.display()))?;
    Ok(archive)
}

/// Does `path` exist and is it at least as new as `source`?
fn is_newer(path: &Path, source: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(path), modified(source)) {
        (Some(built), Some(source)) => built >= source,
        _ => false,
    }
}

/// The newc archive of `entries`, owned by root, with mtime 0.
fn newc(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for (ino, entry) in (1..).zip(entries) {
        push_entry(&mut out, ino, entry);
    }
    let trailer = Entry { name: "TRAILER!!!", mode: 0, rdev: (0, 0), data: &[] };
    push_entry(&mut out, 0, &trailer);
    out
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
    out.extend_from_slice(entry.data);
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
        let entries = [Entry { name: "init", mode: S_IFREG | 0o755, rdev: (0, 0), data: b"abc" }];
        let archive = newc(&entries);
        assert!(archive.starts_with(b"070701"));
        assert_eq!(archive.len() % 4, 0);
        // Header 110 + "init\0" = 115, padded to 116; data 3, padded to 4.
        assert_eq!(&archive[110..115], b"init\0");
        assert_eq!(&archive[116..119], b"abc");
        assert_eq!(&archive[120..126], b"070701");
        assert_eq!(&archive[120 + 110..120 + 121], b"TRAILER!!!\0");
    }
}

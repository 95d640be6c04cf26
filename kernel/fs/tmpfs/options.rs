//! tmpfs mount options: `size=`, `nr_blocks=`, `nr_inodes=`, `mode=`,
//! `uid=`, `gid=` (Linux: mm/shmem.c, `shmem_parse_one` with
//! `memparse` of lib/cmdline.c).
//!
//! `size=` takes a byte count with an optional `k`/`m`/`g`/`t`/`p`/`e`
//! suffix, or a percentage of RAM (`size=10%`), rounded up to pages;
//! `nr_blocks=` counts pages, `nr_inodes=` inodes (both with suffixes).
//! Linux's `huge=`, `mpol=`, `inode32` and `inode64` are accepted and have
//! no effect here; any other option is `EINVAL`, as in Linux.
//!
//! # Locking
//! None: pure parsing, before the super block exists.
#![deny(unsafe_code)]

use crate::kernel::errno::{Errno, KResult};
use crate::mm::addr::PAGE_SIZE;

/// What a mount's options ask for; `None` keeps Linux's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TmpfsOptions {
    /// The size limit in pages (Linux: `sbinfo->max_blocks`).
    pub max_blocks: Option<u64>,
    /// Linux: `sbinfo->max_inodes`.
    pub max_inodes: Option<u64>,
    /// The root directory's permission bits, owner and group.
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// Parses the comma-separated `data` of mount(2); `total_pages` is RAM's
/// size for `size=N%`.
pub fn parse_options(data: &[u8], total_pages: u64) -> KResult<TmpfsOptions> {
    let mut opts = TmpfsOptions::default();
    // The data may end in a NUL (busybox passes a C string).
    let data = data.split(|&b| b == 0).next().unwrap_or_default();
    for opt in data.split(|&b| b == b',').filter(|o| !o.is_empty()) {
        let (key, value) = match opt.iter().position(|&b| b == b'=') {
            Some(at) => (&opt[..at], Some(&opt[at + 1..])),
            None => (opt, None),
        };
        match (key, value) {
            (b"size", Some(v)) => opts.max_blocks = Some(size_pages(v, total_pages)?),
            (b"nr_blocks", Some(v)) => opts.max_blocks = Some(memparse(v)?),
            (b"nr_inodes", Some(v)) => opts.max_inodes = Some(memparse(v)?),
            (b"mode", Some(v)) => opts.mode = Some(parse_id_radix(v, 8)? & 0o7777),
            (b"uid", Some(v)) => opts.uid = Some(parse_id(v)?),
            (b"gid", Some(v)) => opts.gid = Some(parse_id(v)?),
            (b"huge" | b"mpol", Some(_)) | (b"inode32" | b"inode64", None) => {}
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(opts)
}

/// `size=`: bytes (rounded up to pages) or a percentage of RAM.
fn size_pages(v: &[u8], total_pages: u64) -> KResult<u64> {
    if let Some(percent) = v.strip_suffix(b"%") {
        let percent = parse_radix(percent, 10)?;
        return Ok(total_pages.saturating_mul(percent) / 100);
    }
    let bytes = memparse(v)?;
    Ok(bytes.div_ceil(PAGE_SIZE as u64))
}

/// A number with an optional binary suffix (Linux: `memparse`).
fn memparse(v: &[u8]) -> KResult<u64> {
    let (digits, shift) = match v.last() {
        Some(b'k' | b'K') => (&v[..v.len() - 1], 10),
        Some(b'm' | b'M') => (&v[..v.len() - 1], 20),
        Some(b'g' | b'G') => (&v[..v.len() - 1], 30),
        Some(b't' | b'T') => (&v[..v.len() - 1], 40),
        Some(b'p' | b'P') => (&v[..v.len() - 1], 50),
        Some(b'e' | b'E') => (&v[..v.len() - 1], 60),
        _ => (v, 0),
    };
    let n = parse_radix(digits, 10)?;
    n.checked_mul(1u64 << shift).ok_or(Errno::EINVAL)
}

fn parse_id(v: &[u8]) -> KResult<u32> {
    parse_id_radix(v, 10)
}

/// A 32-bit value, as Linux's `fsparam_u32` and `fsparam_u32oct`.
fn parse_id_radix(v: &[u8], radix: u32) -> KResult<u32> {
    u32::try_from(parse_radix(v, radix)?).map_err(|_| Errno::EINVAL)
}

fn parse_radix(v: &[u8], radix: u32) -> KResult<u64> {
    let text = core::str::from_utf8(v).map_err(|_| Errno::EINVAL)?;
    if text.is_empty() {
        return Err(Errno::EINVAL);
    }
    u64::from_str_radix(text, radix).map_err(|_| Errno::EINVAL)
}

crate::ktest!(tmpfs_mount_options, {
    let all =
        parse_options(b"size=1m,nr_inodes=2k,mode=755,uid=5,gid=6", 1000).map_err(|_| "parse")?;
    crate::kassert!(all.max_blocks == Some(256), "size=1m is 256 pages");
    crate::kassert!(all.max_inodes == Some(2048), "nr_inodes=2k");
    crate::kassert!(all.mode == Some(0o755) && all.uid == Some(5) && all.gid == Some(6), "ids");
    let some = parse_options(b"size=10%,inode64\0", 1000).map_err(|_| "percent")?;
    crate::kassert!(some.max_blocks == Some(100), "size=10% of 1000 pages");
    crate::kassert!(
        parse_options(b"size=1", 1000)
            == Ok(TmpfsOptions { max_blocks: Some(1), ..TmpfsOptions::default() }),
        "one byte takes a page"
    );
    crate::kassert!(parse_options(b"bogus=1", 1000) == Err(Errno::EINVAL), "unknown option");
    crate::kassert!(parse_options(b"size=99999999999999e", 1000).is_err(), "overflow");
    crate::kassert!(parse_options(b"", 1000) == Ok(TmpfsOptions::default()), "none");
    Ok(())
});

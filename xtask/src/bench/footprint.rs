//! The size rows of `cargo xtask bench`: how big each kernel's image is, and
//! the smallest memory (`-m`) at which it boots to a busybox shell that runs
//! the test script.
//!
//! - Image sizes: the file QEMU is given (Ferrite's ELF, Linux's vmlinux,
//!   and Debian's bzImage, XZ-compressed), and what the image occupies once
//!   loaded: the sum of its ELF `PT_LOAD` segments' memory sizes (code, data
//!   and bss; for Linux also its init sections, freed after boot).
//! - Smallest memory: the initramfs `target/bench/minmem.cpio` holds
//!   Debian's busybox and, as /init, user/init/minmem.sh, which mounts /proc
//!   and /tmp, runs the issue-3 busybox script (user/scripts/
//!   busybox_basics.sh) with its output compared byte for byte to the one
//!   recorded on Linux, and powers off. A boot "works" when the script's
//!   output matched and QEMU powered off; the search halves the interval
//!   between a failing and a working size down to 1 MiB, so about eight
//!   boots per kernel. A size that works while a larger one fails would
//!   fool it; we have not seen it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::table::{Cell, Row, Unit};
use crate::initramfs::Archive;
use crate::qemu::{Boot, Machine};
use crate::systest::FATAL;
use crate::systest::build::busybox_root;
use crate::workspace_root;

/// The search's bounds, MiB: a size taken to fail without trying it (QEMU
/// itself needs more) and one that must work.
const MIN_MIB: u32 = 2;
const MAX_MIB: u32 = 512;
/// A boot that neither works nor fails within this is a failure (a
/// kernel short of memory may thrash instead of panicking).
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);
const OK_LINE: &str = "# minmem: ok";

/// The image-size rows: Ferrite's `ferrite` against Linux's `vmlinux` and
/// `bzimage`; `columns` cells per row.
pub fn image_rows(ferrite: &Path, vmlinux: &Path, bzimage: &Path, columns: usize) -> Vec<Row> {
    let row = |figure: &str, f: Option<u64>, l: Option<u64>| {
        let kib =
            |bytes: Option<u64>| bytes.map_or(Cell::Failed, |b| Cell::once(b as f64 / 1024.0));
        let mut cells = vec![kib(f), kib(l)];
        cells.resize(columns, Cell::None);
        Row::new(figure, Unit::Size, cells)
    };
    let size = |path: &Path| std::fs::metadata(path).ok().map(|m| m.len());
    let loaded = |path: &Path| std::fs::read(path).ok().and_then(|elf| loaded_size(&elf));
    vec![
        row("kernel image file (Linux: vmlinux)", size(ferrite), size(vmlinux)),
        row("kernel image file (Linux: bzImage)", size(ferrite), size(bzimage)),
        row("kernel loaded in memory (PT_LOAD)", loaded(ferrite), loaded(vmlinux)),
    ]
}

/// Sum of the memory sizes of an ELF64 little-endian file's `PT_LOAD`
/// program headers, or `None` if it is not one.
fn loaded_size(elf: &[u8]) -> Option<u64> {
    const PT_LOAD: u32 = 1;
    let u16_at = |at: usize| Some(u16::from_le_bytes(elf.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?));
    let u64_at = |at: usize| Some(u64::from_le_bytes(elf.get(at..at + 8)?.try_into().ok()?));
    if elf.get(..5)? != b"\x7fELF\x02" {
        return None;
    }
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let (phentsize, phnum) = (usize::from(u16_at(0x36)?), usize::from(u16_at(0x38)?));
    let mut total = 0;
    for i in 0..phnum {
        let header = phoff.checked_add(i.checked_mul(phentsize)?)?;
        if u32_at(header)? == PT_LOAD {
            total += u64_at(header + 0x28)?;
        }
    }
    Some(total)
}

/// Builds `target/bench/minmem.cpio` and returns its path.
pub fn minmem_initramfs() -> Result<PathBuf, String> {
    let root = workspace_root();
    let mut cpio = Archive::new();
    busybox_root(&mut cpio)?;
    cpio.dir("scripts", 0o755);
    for file in ["busybox_basics.sh", "busybox_basics.expected"] {
        cpio.file_from(&format!("scripts/{file}"), 0o644, &root.join("user/scripts").join(file))?;
    }
    cpio.file_from("init", 0o755, &root.join("user/init/minmem.sh"))?;
    let archive = root.join("target/bench/minmem.cpio");
    cpio.write(&archive)?;
    Ok(archive)
}

/// The smallest-memory row: for each machine (Ferrite first; its `-m` is
/// changed), the smallest size that works, in KiB, or why there is none.
pub fn minmem_row(machines: &mut [(&str, Machine)], columns: usize) -> Row {
    let mut cells: Vec<Cell> = machines
        .iter_mut()
        .map(|(kernel, machine)| match smallest_memory(machine) {
            Ok(mib) => {
                eprintln!("xtask: {kernel}: smallest -m for the busybox script: {mib} MiB");
                Cell::once(f64::from(mib) * 1024.0)
            }
            Err(why) => {
                eprintln!("xtask: {kernel}: smallest -m: {why}");
                Cell::Text(why)
            }
        })
        .collect();
    cells.resize(columns, Cell::None);
    Row::new("smallest -m for a busybox shell + script", Unit::Size, cells)
}

/// Halves [fails, works] down to one MiB; returns the size that works.
fn smallest_memory(machine: &mut Machine) -> Result<u32, String> {
    let (mut fails, mut works) = (MIN_MIB, MAX_MIB);
    if !works_with(machine, works) {
        return Err(format!("> {MAX_MIB} MiB"));
    }
    while works - fails > 1 {
        let middle = fails + (works - fails) / 2;
        if works_with(machine, middle) { works = middle } else { fails = middle }
    }
    Ok(works)
}

/// Does `machine` run the script and power off with `mib` MiB?
fn works_with(machine: &mut Machine, mib: u32) -> bool {
    machine.memory_mib = mib;
    let Ok(mut qemu) = Boot::start(machine) else { return false };
    let stop = |l: &str| l.starts_with("# minmem: ") || FATAL.iter().any(|f| l.contains(f));
    let seen = qemu.wait_for(stop, PROBE_TIMEOUT);
    let ok = seen.is_some() && qemu.console.last().is_some_and(|l| l == OK_LINE);
    let powered_off = ok && matches!(qemu.wait_exit(Duration::from_secs(20)), Some((0, _)));
    eprintln!("xtask:   -m {mib}: {}", if powered_off { "works" } else { "fails" });
    powered_off
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_load_segments() {
        let mut elf = vec![0u8; 0x40 + 3 * 0x38];
        elf[..5].copy_from_slice(b"\x7fELF\x02");
        elf[0x20..0x28].copy_from_slice(&0x40u64.to_le_bytes());
        elf[0x36..0x38].copy_from_slice(&0x38u16.to_le_bytes());
        elf[0x38..0x3a].copy_from_slice(&3u16.to_le_bytes());
        for (i, (kind, memsz)) in [(1u32, 0x1000u64), (4, 0x50), (1, 0x2000)].iter().enumerate() {
            let at = 0x40 + i * 0x38;
            elf[at..at + 4].copy_from_slice(&kind.to_le_bytes());
            elf[at + 0x28..at + 0x30].copy_from_slice(&memsz.to_le_bytes());
        }
        assert_eq!(loaded_size(&elf), Some(0x3000));
        assert_eq!(loaded_size(&elf[..0x40 + 0x38]), None);
        assert_eq!(loaded_size(b"not an elf"), None);
    }
}

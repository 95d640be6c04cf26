//! The scratch disk every system-test boot gets as `vda` (Ferrite and
//! Linux alike), for `user/tests/blockdev.c`: 4 MiB with a DOS partition
//! table of two partitions, and a marker at the start of each, rewritten
//! before every boot so that a test's writes never carry over.
//!
//! Debian's Linux has virtio_blk as a module: [`LINUX_DISK_MODULES`] go
//! into the initramfs under `/lib/modules/` and `user/init/systest.sh`
//! loads them when the command line says `systest_modules=1` (Linux's
//! boot only; Ferrite has the driver built in).

use std::path::{Path, PathBuf};

use crate::initramfs::Archive;

/// 8192 sectors of 512 bytes.
pub const SECTORS: u32 = 8192;
/// `(start, sectors)` of vda1 and vda2, type 0x83; blockdev.c knows them.
pub const PARTITIONS: [(u32, u32); 2] = [(2048, 2048), (4096, 4096)];
/// Where each partition starts: "vdaN start\n" then zeros.
const MARKER: &str = "ferrite-systest vda";

/// virtio_blk and what it needs, in load order (`modinfo -F depends`).
pub const LINUX_DISK_MODULES: [&str; 6] = [
    "virtio_ring",
    "virtio",
    "virtio_pci_legacy_dev",
    "virtio_pci_modern_dev",
    "virtio_pci",
    "virtio_blk",
];

/// The disk's bytes: sector `s` filled with `s % 251` (so any sector is
/// recognisable), the MBR in sector 0, the markers at the partitions.
pub fn image() -> Vec<u8> {
    let mut disk = Vec::with_capacity(SECTORS as usize * 512);
    for s in 0..SECTORS {
        disk.extend(std::iter::repeat_n((s % 251) as u8, 512));
    }
    let mbr = &mut disk[..512];
    mbr[446..510].fill(0);
    for (i, &(start, len)) in PARTITIONS.iter().enumerate() {
        let entry = &mut mbr[446 + 16 * i..446 + 16 * (i + 1)];
        entry[4] = 0x83;
        entry[8..12].copy_from_slice(&start.to_le_bytes());
        entry[12..16].copy_from_slice(&len.to_le_bytes());
    }
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    for (i, &(start, _)) in PARTITIONS.iter().enumerate() {
        let at = start as usize * 512;
        let text = format!("{MARKER}{}\n", i + 1);
        disk[at..at + 512].fill(0);
        disk[at..at + text.len()].copy_from_slice(text.as_bytes());
    }
    disk
}

/// Writes a fresh scratch disk at `path`.
pub fn write(path: &Path) -> Result<PathBuf, String> {
    std::fs::write(path, image()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path.to_path_buf())
}

/// Modules some system tests need besides the disk's (loop.c: Debian
/// builds loop devices as a module; vfat.c: FAT and its code pages;
/// fitrim.c: ext2, which Debian serves with ext4), loaded after them.
const LINUX_SYSTEST_MODULES: [&str; 12] = [
    "loop",
    "fat",
    "vfat",
    "nls_cp437",
    "nls_utf8",
    "nls_iso8859-1",
    "nls_ascii",
    "crc16",
    "mbcache",
    "jbd2",
    "crc32c_generic",
    "ext4",
];

/// Packs Linux's disk modules and [`LINUX_SYSTEST_MODULES`] as `/lib/modules/NAME.ko`, with
/// `/lib/modules/modules.order` naming them in load order. Without them
/// (no Debian kernel package to take them from) the archive still serves
/// Ferrite, and Linux's disk tests fail loudly: a warning, not an error.
pub fn pack_linux_modules(cpio: &mut Archive) -> Result<(), String> {
    let names: Vec<&str> =
        LINUX_DISK_MODULES.iter().chain(&LINUX_SYSTEST_MODULES).copied().collect();
    let modules = match crate::linux::linux_modules(&names) {
        Ok(modules) => modules,
        Err(e) => {
            eprintln!("xtask: warning: no Linux disk modules in the initramfs: {e}");
            return Ok(());
        }
    };
    cpio.dir("lib", 0o755).dir("lib/modules", 0o755);
    let mut order = String::new();
    for (name, bytes) in modules {
        cpio.file(&format!("lib/modules/{name}.ko"), 0o644, bytes);
        order += &format!("{name}\n");
    }
    cpio.file("lib/modules/modules.order", 0o644, order.into_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_has_a_table_and_markers() {
        let disk = image();
        assert_eq!(disk.len(), SECTORS as usize * 512);
        assert_eq!(&disk[510..512], &[0x55, 0xaa]);
        assert_eq!(&disk[446 + 8..446 + 12], &2048u32.to_le_bytes());
        assert!(disk[2048 * 512..].starts_with(b"ferrite-systest vda1\n"));
        assert!(disk[4096 * 512..].starts_with(b"ferrite-systest vda2\n"));
        assert_eq!(disk[4096 * 512 - 1], (4095 % 251) as u8);
    }
}

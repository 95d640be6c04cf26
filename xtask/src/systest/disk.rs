//! `cargo xtask systest --disk [--linux] [--ferrite] [--bless]`: the disk
//! tier. Each kernel boots with `root=/dev/vda rw` on a fresh copy of the
//! root image (xtask/src/image.rs), runs a script from `user/disk/` as its
//! rcS (`disk_test=NAME`, see user/init/disk/etc/init.d/rcS), syncs and
//! powers off; then the host checks the image.
//!
//! The asymmetry: Ferrite mounts the root itself (kernel/init/do_mounts.rs)
//! and boots with no initramfs. Debian's kernel has virtio_pci, virtio_blk
//! and ext4 as modules, so it gets a small initramfs, the "shim"
//! (user/init/disk/linux-shim.sh with the modules from the kernel's .deb),
//! that loads them, mounts the same `root=` with the same ro/rw, and
//! `switch_root`s to the image's `/sbin/init`. From init on both run the
//! same bytes.
//!
//! Results, per kernel K:
//! - `K::disk::workload/STEP`: each step the workload script reports;
//!   `K::disk::workload`: the script ran to its end (`…_boot` fails too
//!   if the boot did not end with `sync` and a power-off);
//! - `K::disk::e2fsck`: `e2fsck -fn` finds the image clean;
//! - `K::disk::listing`: debugfs's view of `/data` (systest/listing.rs)
//!   equals the expected one. For Linux that is `user/disk/workload.expected`
//!   (`--bless` rewrites it from Linux's image); for Ferrite, the listing of
//!   Linux's image from the same run (the file when Linux did not run);
//! - `K::disk::persist/…`, `K::disk::persist`, `K::disk::e2fsck_after_persist`:
//!   a second boot of the same image reads what the first wrote;
//! - `K::disk::corrupt_magic`, `K::disk::corrupt_incompat`: a bad superblock
//!   magic, an unknown incompatible feature: the root mount is refused by
//!   the file system (Ferrite: Linux's "VFS: Unable to mount root fs" panic;
//!   Linux: the shim's mount fails), and nothing else goes wrong;
//! - `K::disk::corrupt/…`, `K::disk::corrupt`: a directory entry whose
//!   rec_len runs off its block, a block pointer past the disk: mount
//!   succeeds, reading them fails, the kernel stays up.
//!
//! Images and consoles stay in `target/disk/run-PID/` for a look afterwards.
//!
//! Ferrite mounts ext2 (kernel/fs/ext2/), so [`FERRITE_MOUNTS_EXT2`] is set
//! and `cargo xtask test` runs both halves; `--linux`/`--ferrite` pick one.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use super::listing;
use super::{FATAL, Kernel, Outcome, parse, wait_end};
use crate::image::{E2FSCK, build_image};
use crate::initramfs::Archive;
use crate::qemu::{Boot, Machine};
use crate::test::tail;
use crate::{deps, linux, workspace_root};

/// Set once Ferrite mounts ext2 root: then `cargo xtask test` runs its half.
pub const FERRITE_MOUNTS_EXT2: bool = true;

/// Setting this environment variable to 1 runs Ferrite's half anyway.
const FERRITE_ENV: &str = "FERRITE_DISK";

/// The default console loglevel: the refusal messages are warnings.
const CMDLINE: &str = "console=ttyS0 root=/dev/vda rw";

/// One boot, workload included.
const BOOT_TIMEOUT: Duration = Duration::from_secs(180);

/// What a refused root mount prints: Ferrite (as Linux without an
/// initramfs) and the shim.
const ROOT_REFUSED: [&str; 2] =
    ["VFS: Unable to mount root fs", "shim: VFS: Unable to mount root fs"];

/// The Linux modules the shim loads, in dependency order (each one's
/// `depends=` in its .modinfo: ext4 needs jbd2, mbcache, crc16; virtio_pci
/// needs virtio, virtio_ring and the two virtio_pci_*_dev; crc32c for
/// ext4's checksums); loop for the system test loop.c and FAT with its
/// code pages for vfat.c, as a Debian system loads them on first use.
const SHIM_MODULES: [&str; 18] = [
    "virtio_ring",
    "virtio",
    "virtio_pci_modern_dev",
    "virtio_pci_legacy_dev",
    "virtio_pci",
    "virtio_blk",
    "crc16",
    "mbcache",
    "jbd2",
    "crc32c_generic",
    "ext4",
    "loop",
    "fat",
    "vfat",
    "nls_cp437",
    "nls_utf8",
    "nls_iso8859-1",
    "nls_ascii",
];

fn ferrite_enabled() -> bool {
    FERRITE_MOUNTS_EXT2 || std::env::var(FERRITE_ENV).is_ok_and(|v| v == "1")
}

/// `cargo xtask systest --disk …` (the caller saw `--disk`).
pub fn cmd_disk(args: &[String]) -> Result<ExitCode, String> {
    let (mut kernels, mut bless) = (Vec::new(), false);
    for arg in args {
        match arg.as_str() {
            "--disk" => {}
            "--linux" => kernels.push(Kernel::Linux),
            "--ferrite" => kernels.push(Kernel::Ferrite),
            "--bless" => bless = true,
            other => {
                return Err(format!(
                    "systest --disk: unknown argument `{other}`; usage: systest --disk [--linux] [--ferrite] [--bless]"
                ));
            }
        }
    }
    if kernels.is_empty() {
        kernels.push(Kernel::Linux);
        if ferrite_enabled() {
            kernels.push(Kernel::Ferrite);
        }
    }
    if bless && !kernels.contains(&Kernel::Linux) {
        return Err("--bless records Linux's listing: it needs the Linux run".into());
    }
    let outcomes = run(&kernels, bless)?;
    Ok(super::report(&outcomes))
}

/// The tier in `cargo xtask test`: Linux always, Ferrite once enabled.
pub fn tier() -> Result<Vec<Outcome>, String> {
    println!("== disk tier (root=/dev/vda on ext2, Linux as the oracle)");
    let mut kernels = vec![Kernel::Linux];
    if ferrite_enabled() {
        kernels.push(Kernel::Ferrite);
    } else {
        println!("(Ferrite's half is off until it mounts ext2: {FERRITE_ENV}=1 forces it)");
    }
    run(&kernels, false)
}

/// `target/disk/run-PID/`: concurrent runs each get their own images.
/// Directories of runs whose process is gone are removed first, so only
/// the latest finished run's images stay for a look afterwards.
pub(super) fn out_dir() -> Result<PathBuf, String> {
    let top = workspace_root().join("target/disk");
    let pid = std::process::id();
    if let Ok(entries) = std::fs::read_dir(&top) {
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(other) = name.strip_prefix("run-") else { continue };
            if other != pid.to_string() && !Path::new("/proc").join(other).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = top.join(format!("run-{pid}"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

fn run(kernels: &[Kernel], bless: bool) -> Result<Vec<Outcome>, String> {
    deps::ensure(&[deps::QEMU, E2FSCK])?;
    let dir = out_dir()?;
    let base = dir.join("base.ext2");
    build_image(&base)?;
    let expected_path = workspace_root().join("user/disk/workload.expected");
    let mut expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    let mut outcomes = Vec::new();
    for &kernel in kernels {
        let started = Instant::now();
        let mut results = Vec::new();
        // Built once: another build in between could change it mid-tier.
        let image = kernel.image()?;
        let boot = |img: &Path, script: &str| boot(kernel, &image, img, script);
        let listing = run_kernel(kernel, &boot, &base, &dir, &mut results)?;
        let k = kernel.prefix();
        match (kernel, listing) {
            (_, Err(why)) => results.push(fail(k, "listing", why)),
            (Kernel::Linux, Ok(listing)) if bless => {
                std::fs::write(&expected_path, &listing)
                    .map_err(|e| format!("{}: {e}", expected_path.display()))?;
                eprintln!("xtask: blessed {}", expected_path.display());
                results.push(result(k, "listing", Ok(())));
                expected = listing;
            }
            (_, Ok(listing)) => {
                let compared = if expected.is_empty() {
                    Err(format!("no {} yet: run with --bless", expected_path.display()))
                } else {
                    listing::compare(&expected, &listing)
                };
                results.push(result(k, "listing", compared));
                if kernel == Kernel::Linux {
                    // Ferrite is compared with what Linux did in this run.
                    expected = listing;
                }
            }
        }
        results.extend(corruption(kernel, &boot, &base, &dir)?);
        let failed = results.iter().filter(|o| !o.ok).count();
        eprintln!(
            "xtask: {k} disk: {} passed, {failed} failed in {:.1} s",
            results.len() - failed,
            started.elapsed().as_secs_f64()
        );
        outcomes.append(&mut results);
    }
    Ok(outcomes)
}

/// The workload boot, its checks, and the second boot; returns the
/// listing of the image after the first boot.
fn run_kernel(
    kernel: Kernel,
    boot: &Booter<'_>,
    base: &Path,
    dir: &Path,
    results: &mut Vec<Outcome>,
) -> Result<Result<String, String>, String> {
    let k = kernel.prefix();
    let img = dir.join(format!("{k}.ext2"));
    copy(base, &img)?;
    let first = boot(&img, "workload")?;
    results.extend(script_outcomes(k, "workload", &first));
    results.push(result(k, "e2fsck", e2fsck(&img)));
    let listing = listing::listing(&img, "/data");
    let second = boot(&img, "persist")?;
    results.extend(script_outcomes(k, "persist", &second));
    results.push(result(k, "e2fsck_after_persist", e2fsck(&img)));
    Ok(listing)
}

/// The corruption set, each on its own copy of the base image.
fn corruption(
    kernel: Kernel,
    boot: &Booter<'_>,
    base: &Path,
    dir: &Path,
) -> Result<Vec<Outcome>, String> {
    let k = kernel.prefix();
    let mut results = Vec::new();
    for (name, damage) in [
        ("corrupt_magic", corrupt::bad_magic as fn(&Path) -> Result<(), String>),
        ("corrupt_incompat", corrupt::unknown_incompat),
    ] {
        let img = dir.join(format!("{k}-{name}.ext2"));
        copy(base, &img)?;
        damage(&img)?;
        let console = boot(&img, "workload")?;
        results.push(result(k, name, refused_cleanly(kernel, &console)));
    }
    let img = dir.join(format!("{k}-corrupt.ext2"));
    copy(base, &img)?;
    corrupt::bad_dir_entry(&img, "/corrupt/dir")?;
    corrupt::bad_block_pointer(&img, "/corrupt/file")?;
    let console = boot(&img, "corrupt")?;
    results.extend(script_outcomes(k, "corrupt", &console));
    Ok(results)
}

/// A refused root: the refusal line, then nothing but Linux's panic for
/// it (Ferrite) or the shim's power-off (Linux).
fn refused_cleanly(kernel: Kernel, console: &Console) -> Result<(), String> {
    let refused = console.lines.iter().position(|l| ROOT_REFUSED.iter().any(|r| l.contains(r)));
    let Some(at) = refused else {
        return Err(format!(
            "no \"VFS: Unable to mount root fs\"; last lines:\n{}",
            tail(&console.lines)
        ));
    };
    let before = &console.lines[..at];
    if let Some(bad) = before.iter().find(|l| FATAL.iter().any(|f| l.contains(f))) {
        return Err(format!("the kernel failed before refusing the root: {bad}"));
    }
    // Refused for want of a driver is not refused for the damage.
    let no_driver = |l: &&String| l.contains("error -19") || l.trim_end().ends_with("tried:");
    if let Some(line) = before.iter().find(no_driver) {
        return Err(format!("no file system driver tried the image: {line}"));
    }
    if kernel == Kernel::Linux && console.lines.iter().any(|l| l.contains("# disk: run")) {
        return Err("init ran on a root the shim could not mount".into());
    }
    Ok(())
}

/// The boot's check lines as `K::disk::NAME/CHECK` results, and
/// `K::disk::NAME` for the script's run.
fn script_outcomes(k: &str, name: &str, console: &Console) -> Vec<Outcome> {
    let prefix = format!("{k}::disk");
    let mut lines: Vec<String> = console.lines.clone();
    // rcS brackets the script as the systest /init does, with "# disk:".
    for line in &mut lines {
        if let Some(rest) = line.strip_prefix("# disk: ") {
            *line = format!("# {rest}");
        }
    }
    let ended = console.ended_badly.as_deref().unwrap_or("the boot ended first");
    let mut outcomes = parse(&lines, &prefix, &[name.to_string()], ended);
    if let Some(why) = &console.ended_badly {
        outcomes.push(fail(k, &format!("{name}_boot"), why.clone()));
    }
    outcomes
}

fn result(k: &str, name: &str, r: Result<(), String>) -> Outcome {
    match r {
        Ok(()) => Outcome { name: format!("{k}::disk::{name}"), ok: true, why: String::new() },
        Err(why) => fail(k, name, why),
    }
}

fn fail(k: &str, name: &str, why: String) -> Outcome {
    Outcome { name: format!("{k}::disk::{name}"), ok: false, why }
}

/// `e2fsck -fn`: exit 0 is a clean file system.
pub(super) fn e2fsck(img: &Path) -> Result<(), String> {
    let out = Command::new(E2FSCK.program)
        .arg("-fn")
        .arg(img)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run e2fsck: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    let lines: Vec<String> = text.lines().map(String::from).collect();
    Err(format!("e2fsck -fn: {} on {}:\n{}", out.status, img.display(), tail(&lines)))
}

pub(super) fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

/// Boots one image with one script (`boot` with the kernel fixed).
type Booter<'a> = dyn Fn(&Path, &str) -> Result<Console, String> + 'a;

/// What one boot printed.
pub(super) struct Console {
    pub lines: Vec<String>,
    /// Why it did not end with its end line and a power-off.
    pub ended_badly: Option<String>,
}

/// Boots `kernel` on `img` running `/disk/SCRIPT.sh`; keeps its console in
/// `console-IMG-SCRIPT.log` beside the image.
fn boot(kernel: Kernel, image: &Path, img: &Path, script: &str) -> Result<Console, String> {
    let args = format!("disk_test={script}");
    boot_root(kernel, image, img, &args, "# disk: end", BOOT_TIMEOUT)
}

/// Boots `kernel` (built at `image`) with `root=/dev/vda rw` on `img` and
/// `args` (`disk_test=SCRIPT ...`) on its command line, until the line
/// `end`; keeps its console in `console-IMG-SCRIPT.log` beside the image.
pub(super) fn boot_root(
    kernel: Kernel,
    image: &Path,
    img: &Path,
    args: &str,
    end: &str,
    timeout: Duration,
) -> Result<Console, String> {
    let mut machine = Machine::new(image, &format!("{CMDLINE} {args}"));
    machine.disk = Some(img.to_path_buf());
    if kernel == Kernel::Linux {
        machine.initrd = Some(linux_shim()?);
    }
    let script = args.split_whitespace().find_map(|w| w.strip_prefix("disk_test="));
    let script = script.unwrap_or("boot");
    eprintln!("xtask: booting {} on {} ({script})", kernel.prefix(), img.display());
    let mut qemu = Boot::start(&machine)?;
    let refused = |l: &str| l.starts_with(ROOT_REFUSED[1]);
    let ended_badly = wait_end(&mut qemu, end, &refused, timeout);
    qemu.kill();
    let stem = img.file_stem().and_then(|s| s.to_str()).unwrap_or("disk");
    let log = img.with_file_name(format!("console-{stem}-{script}.log"));
    let _ = std::fs::write(&log, qemu.console.join("\n") + "\n");
    Ok(Console { lines: std::mem::take(&mut qemu.console), ended_badly })
}

/// The shim initramfs for Linux: busybox, the modules, linux-shim.sh as
/// /init. Rebuilt each run (milliseconds); the modules are cached.
pub(super) fn linux_shim() -> Result<PathBuf, String> {
    let root = workspace_root();
    let mut cpio = Archive::new();
    super::build::busybox_root(&mut cpio)?;
    cpio.dir("lib", 0o755).dir("lib/modules", 0o755).dir("newroot", 0o755);
    for (name, bytes) in linux::linux_modules(&SHIM_MODULES)? {
        cpio.file(&format!("lib/modules/{name}.ko"), 0o644, bytes);
    }
    // The shim loads them in this order.
    cpio.file("lib/modules/modules.order", 0o644, (SHIM_MODULES.join("\n") + "\n").into_bytes());
    cpio.file_from("init", 0o755, &root.join("user/init/disk/linux-shim.sh"))?;
    let path = out_dir()?.join("linux-shim.cpio");
    cpio.write(&path)?;
    Ok(path)
}

mod corrupt {
    //! The host's damage to copies of the image (ext2 on-disk layout:
    //! the superblock at byte 1024, `s_magic` at +56, `s_feature_incompat`
    //! at +96; directory entries `inode u32, rec_len u16, name_len u8,
    //! file_type u8, name`).

    use std::path::Path;

    use crate::image::debugfs_write;

    const SUPERBLOCK: u64 = 1024;
    const S_MAGIC: usize = 56;
    const S_FEATURE_INCOMPAT: usize = 96;
    const S_LOG_BLOCK_SIZE: usize = 24;
    /// An incompatible feature bit no ext2/3/4 defines.
    const UNKNOWN_INCOMPAT: u32 = 0x0800_0000;

    fn patch(img: &Path, offset: u64, bytes: &[u8]) -> Result<(), String> {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(img)
            .map_err(|e| format!("{}: {e}", img.display()))?;
        f.seek(SeekFrom::Start(offset)).map_err(|e| format!("{}: {e}", img.display()))?;
        f.write_all(bytes).map_err(|e| format!("{}: {e}", img.display()))
    }

    fn read(img: &Path, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(img).map_err(|e| format!("{}: {e}", img.display()))?;
        f.seek(SeekFrom::Start(offset)).map_err(|e| format!("{}: {e}", img.display()))?;
        let mut buf = vec![0; len];
        f.read_exact(&mut buf).map_err(|e| format!("{}: {e}", img.display()))?;
        Ok(buf)
    }

    fn u32_at(buf: &[u8], at: usize) -> u32 {
        buf.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn bad_magic(img: &Path) -> Result<(), String> {
        patch(img, SUPERBLOCK + S_MAGIC as u64, &[0x00, 0x00])
    }

    pub fn unknown_incompat(img: &Path) -> Result<(), String> {
        let sb = read(img, SUPERBLOCK, 1024)?;
        let incompat = u32_at(&sb, S_FEATURE_INCOMPAT) | UNKNOWN_INCOMPAT;
        patch(img, SUPERBLOCK + S_FEATURE_INCOMPAT as u64, &incompat.to_le_bytes())
    }

    /// The first block of `dir`: its last entry's rec_len made to run 512
    /// bytes past the block's end.
    pub fn bad_dir_entry(img: &Path, dir: &str) -> Result<(), String> {
        let sb = read(img, SUPERBLOCK, 1024)?;
        let block_size = 1024usize << u32_at(&sb, S_LOG_BLOCK_SIZE).min(6);
        let block = first_block(img, dir)?;
        let offset = block * block_size as u64;
        let data = read(img, offset, block_size)?;
        let last =
            last_entry(&data).ok_or(format!("{dir}: no valid entries in its first block"))?;
        let rec_len = u16::try_from(data.len() - last + 512).map_err(|_| "block too large")?;
        patch(img, offset + last as u64 + 4, &rec_len.to_le_bytes())
    }

    /// The offset of the last entry of a directory block.
    pub fn last_entry(block: &[u8]) -> Option<usize> {
        let mut at = 0usize;
        loop {
            let rec_len = block.get(at + 4..at + 6).map(|b| u16::from_le_bytes([b[0], b[1]]))?;
            let next = at.checked_add(usize::from(rec_len))?;
            if rec_len < 12 || next > block.len() {
                return None;
            }
            if next == block.len() {
                return Some(at);
            }
            at = next;
        }
    }

    /// `file`'s first block pointer set past the end of the disk.
    pub fn bad_block_pointer(img: &Path, file: &str) -> Result<(), String> {
        debugfs_write(img, &format!("sif {file} block[0] 0x7ffffff0\n"))
    }

    fn first_block(img: &Path, path: &str) -> Result<u64, String> {
        let out = std::process::Command::new(crate::image::DEBUGFS.program)
            .args(["-R", &format!("bmap {path} 0")])
            .arg(img)
            .output()
            .map_err(|e| format!("cannot run debugfs: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim().parse().map_err(|_| format!("debugfs bmap {path} 0 said {text:?}"))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn finds_the_last_entry() {
            let mut block = vec![0u8; 64];
            // ".": rec_len 12; "..": rec_len 12; "bad": the rest (40).
            block[4] = 12;
            block[16] = 12;
            block[28] = 40;
            assert_eq!(super::last_entry(&block), Some(24));
            block[28] = 30;
            assert_eq!(super::last_entry(&block), None, "ends short of the block");
            block[28] = 0;
            assert_eq!(super::last_entry(&block), None, "zero rec_len");
        }
    }
}

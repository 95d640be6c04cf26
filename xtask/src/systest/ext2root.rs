//! `cargo xtask systest --ext2root [--linux] [--ferrite] [FILTER]`: the
//! system-test suite on an ext2 root. Each kernel boots as in the disk tier
//! (disk.rs: `root=/dev/vda rw` on a fresh copy of the root image, Linux
//! through the module shim) with `disk_test=suite`: `user/disk/suite.sh`
//! unmounts rcS's tmpfs `/tmp` and hands over to the test initramfs's own
//! /init (`user/init/systest.sh`, staged in the image), so the same tests
//! run with their working directory (`/`) and `/tmp` on ext2. Afterwards
//! the host runs `e2fsck -fn` on the image.
//!
//! Results, per kernel K: `K::ext2root::NAME/CHECK` and `K::ext2root::NAME`
//! as in systest.rs; `K::ext2root::suite/on_ext2:DIR` (the tests really
//! run on ext2); `K::ext2root::boot` (the boot ended with the suite and a
//! power-off); `K::ext2root::e2fsck`. Images and consoles stay in
//! `target/disk/run-PID/` (`ext2root-K.ext2`, `console-ext2root-K-suite.log`).
//!
//! [`SKIPPED`] lists the tests that do not run here. Both halves run in
//! `cargo xtask test` ([`FERRITE_PASSES`]); `--linux`/`--ferrite` pick one
//! by hand.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::disk::{boot_root, copy, e2fsck, out_dir};
use super::{Kernel, Outcome, build, parse};
use crate::deps;
use crate::image::{E2FSCK, build_image};

/// Ferrite passes the whole suite on ext2, so `cargo xtask test` runs its
/// half (clear it to take a regressed half out while it is mended).
pub const FERRITE_PASSES: bool = true;

/// Setting this environment variable to 1 runs Ferrite's half anyway.
const FERRITE_ENV: &str = "FERRITE_EXT2ROOT";

/// The tests that do not run on the ext2 root, and why.
pub const SKIPPED: [(&str, &str); 6] = [
    ("blockdev", "writes the scratch disk's partitions: here vda is the root"),
    ("devtmpfs", "expects the scratch disk's partitions vda1 and vda2"),
    ("fitrim", "makes a file system on the scratch disk's vda2: here vda is the root"),
    ("module", "loads the modules the test initramfs packs in /lib/modules"),
    ("power", "writes swap headers on the scratch disk's vda1: here vda is the root"),
    ("sysfs", "expects the scratch disk's size and partitions in /sys/block"),
];

/// The whole suite in one boot (each test also has /init's own timeout).
const BOOT_TIMEOUT: Duration = Duration::from_secs(400);

fn ferrite_enabled() -> bool {
    FERRITE_PASSES || std::env::var(FERRITE_ENV).is_ok_and(|v| v == "1")
}

/// `cargo xtask systest --ext2root …` (the caller saw `--ext2root`).
pub fn cmd_ext2root(args: &[String]) -> Result<ExitCode, String> {
    let (mut kernels, mut filter) = (Vec::new(), None);
    for arg in args {
        match arg.as_str() {
            "--ext2root" => {}
            "--linux" => kernels.push(Kernel::Linux),
            "--ferrite" => kernels.push(Kernel::Ferrite),
            flag if flag.starts_with('-') => {
                return Err(format!(
                    "systest --ext2root: unknown flag `{flag}`; usage: systest --ext2root [--linux] [--ferrite] [FILTER]"
                ));
            }
            word => filter = Some(word.to_string()),
        }
    }
    if kernels.is_empty() {
        kernels.push(Kernel::Linux);
        if ferrite_enabled() {
            kernels.push(Kernel::Ferrite);
        }
    }
    let outcomes = run(&kernels, filter.as_deref())?;
    Ok(super::report(&outcomes))
}

/// The tier in `cargo xtask test`: Linux always, Ferrite once it passes.
pub fn tier() -> Result<Vec<Outcome>, String> {
    println!("== system tests on an ext2 root (root=/dev/vda, e2fsck afterwards)");
    let mut kernels = vec![Kernel::Linux];
    if ferrite_enabled() {
        kernels.push(Kernel::Ferrite);
    } else {
        println!("(Ferrite's half is off until it passes: {FERRITE_ENV}=1 forces it)");
    }
    run(&kernels, None)
}

fn run(kernels: &[Kernel], filter: Option<&str>) -> Result<Vec<Outcome>, String> {
    deps::ensure(&[deps::QEMU, E2FSCK])?;
    let dir = out_dir()?;
    let base = dir.join("ext2root-base.ext2");
    build_image(&base)?;
    // The names the image's tests have (build_image built them all).
    let tests: Vec<String> =
        build::build(filter)?.tests.into_iter().filter(|t| skip_reason(t).is_none()).collect();
    for (name, why) in SKIPPED {
        eprintln!("xtask: ext2root: skipping {name}: {why}");
    }
    let mut args = format!("disk_test=suite systest_skip={}", SKIPPED.map(|(n, _)| n).join(","));
    if let Some(filter) = filter {
        args += &format!(" systest_filter={filter}");
    }
    let mut outcomes = Vec::new();
    for &kernel in kernels {
        let started = Instant::now();
        let k = kernel.prefix();
        let img = dir.join(format!("ext2root-{k}.ext2"));
        copy(&base, &img)?;
        // A copy: another build in the shared tree may replace the kernel
        // before QEMU loads it.
        let kernel_copy = dir.join(format!("ext2root-{k}.kernel"));
        copy(&kernel.image()?, &kernel_copy)?;
        let console = boot_root(kernel, &kernel_copy, &img, &args, "# systest: end", BOOT_TIMEOUT)?;
        let prefix = format!("{k}::ext2root");
        let ended = console.ended_badly.as_deref().unwrap_or("the boot ended first");
        let mut results = parse(&console.lines, &prefix, &tests, ended);
        results.push(outcome(&prefix, "boot", console.ended_badly.clone().map_or(Ok(()), Err)));
        results.push(outcome(&prefix, "e2fsck", e2fsck(&img)));
        let failed = results.iter().filter(|o| !o.ok).count();
        eprintln!(
            "xtask: {prefix}: {} passed, {failed} failed in {:.1} s ({})",
            results.len() - failed,
            started.elapsed().as_secs_f64(),
            log_of(&img).display()
        );
        outcomes.append(&mut results);
    }
    Ok(outcomes)
}

fn skip_reason(test: &str) -> Option<&'static str> {
    SKIPPED.iter().find(|(name, _)| *name == test).map(|&(_, why)| why)
}

/// Where disk.rs keeps the console of the suite's boot on `img`.
fn log_of(img: &Path) -> std::path::PathBuf {
    let stem = img.file_stem().and_then(|s| s.to_str()).unwrap_or("disk");
    img.with_file_name(format!("console-{stem}-suite.log"))
}

fn outcome(prefix: &str, name: &str, result: Result<(), String>) -> Outcome {
    let name = format!("{prefix}::{name}");
    match result {
        Ok(()) => Outcome { name, ok: true, why: String::new() },
        Err(why) => Outcome { name, ok: false, why },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_tests_exist() {
        // A renamed test would otherwise run again, unnoticed, on the root.
        let tests = crate::workspace_root().join("user/tests");
        for (name, _) in SKIPPED {
            assert!(tests.join(format!("{name}.c")).is_file(), "{name} is no test");
        }
        assert_eq!(skip_reason("blockdev"), Some(SKIPPED[0].1));
        assert_eq!(skip_reason("open"), None);
    }
}

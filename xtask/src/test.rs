//! `cargo xtask test`: every test tier, then one summary line.
//!
//! 1. Host: `cargo test` over the host crates (libs/*, xtask).
//! 2. Kernel self-tests: boot with `ktest`; one `ktest: NAME ... ok` line
//!    per test, and QEMU's exit status says whether all passed.
//! 3. Boot checks: boot as a user would and check what the console shows,
//!    including the oops reports of deliberate crashes (`lkdtm=`).
//!
//! The last line is `N passed, N failed`.

use std::process::{Command, ExitCode};
use std::time::Duration;

use crate::build::{Profile, build_kernel};
use crate::qemu::{Boot, EXIT_FAILURE, EXIT_SUCCESS, Machine};
use crate::{deps, workspace_root};

/// Passed and failed counts, with the names of what failed.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: Vec<String>,
}

impl Tally {
    fn record(&mut self, name: &str, ok: bool, why: &str) {
        if ok {
            self.passed += 1;
            println!("test {name} ... ok");
        } else {
            println!("test {name} ... FAILED: {why}");
            self.failed.push(name.to_string());
        }
    }
}

pub fn cmd_test(_args: &[String]) -> Result<ExitCode, String> {
    // libs/ext2's host tests build and check images with e2fsprogs,
    // libs/fat's with dosfstools and mtools.
    deps::ensure(&[
        deps::QEMU,
        crate::image::MKE2FS,
        crate::image::DEBUGFS,
        deps::MKFS_VFAT,
        deps::MTOOLS,
    ])?;
    let mut tally = Tally::default();
    lints(&mut tally)?;
    host_tests(&mut tally)?;
    let image = build_kernel(Profile::Release)?;
    ktests(&image, &mut tally)?;
    for check in crate::boot_checks::CHECKS {
        let (ok, why) = crate::boot_checks::run(check, &image)?;
        tally.record(check.name, ok, &why);
    }
    for outcome in crate::systest::tier()? {
        tally.record(&outcome.name, outcome.ok, &outcome.why);
    }
    for outcome in crate::systest::disk::tier()? {
        tally.record(&outcome.name, outcome.ok, &outcome.why);
    }
    for outcome in crate::systest::ext2root::tier()? {
        tally.record(&outcome.name, outcome.ok, &outcome.why);
    }
    for outcome in crate::systest::terminal::tier()? {
        tally.record(&outcome.name, outcome.ok, &outcome.why);
    }
    for outcome in crate::systest::applets::tier()? {
        tally.record(&outcome.name, outcome.ok, &outcome.why);
    }
    for name in &tally.failed {
        println!("failed: {name}");
    }
    println!("{} passed, {} failed", tally.passed, tally.failed.len());
    Ok(if tally.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// rustfmt and clippy over the host crates and the kernel: a warning is a
/// failed test, so the tree stays clean.
fn lints(tally: &mut Tally) -> Result<(), String> {
    println!("== lints (rustfmt, clippy)");
    let kernel = ["--package", "ferrite", "--target", crate::build::TARGET, "--release"];
    let runs: [(&str, Vec<&str>); 3] = [
        ("lint::rustfmt", vec!["fmt", "--all", "--check"]),
        ("lint::clippy_host", vec!["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"]),
        (
            "lint::clippy_kernel",
            [&["clippy", "--quiet"], &kernel[..], &["--", "-D", "warnings"]].concat(),
        ),
    ];
    for (name, args) in runs {
        let out = cargo().args(&args).output().map_err(|e| format!("cannot run cargo: {e}"))?;
        let why = String::from_utf8_lossy(&out.stderr);
        let why: String = why.lines().take(30).collect::<Vec<_>>().join("\n");
        tally.record(name, out.status.success(), &why);
    }
    Ok(())
}

/// `cargo` in the workspace root.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

/// Runs `cargo test` on the host crates and adds up its result lines.
fn host_tests(tally: &mut Tally) -> Result<(), String> {
    println!("== host tests (cargo test)");
    let out = cargo()
        .args(["test", "--quiet"])
        .output()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    let (mut passed, mut failed) = (0, 0);
    for line in stdout.lines().filter(|l| l.starts_with("test result:")) {
        passed += count_before(line, " passed");
        failed += count_before(line, " failed");
    }
    tally.passed += passed;
    for i in 0..failed {
        tally.failed.push(format!("host test #{i}"));
    }
    if !out.status.success() && failed == 0 {
        tally.record("host tests build", false, "cargo test failed");
    }
    Ok(())
}

/// The number just before `word` in a cargo `test result:` line.
fn count_before(line: &str, word: &str) -> usize {
    line.find(word)
        .and_then(|end| line[..end].rsplit(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Boots with `ktest` and records one result per self-test line.
fn ktests(image: &std::path::Path, tally: &mut Tally) -> Result<(), String> {
    println!("== kernel self-tests (ktest)");
    let mut machine = Machine::new(image, "console=ttyS0 ktest");
    machine.disk = Some(write_ktest_disk()?);
    let mut boot = Boot::start(&machine)?;
    let status = boot.wait_exit(Duration::from_secs(120)).map(|(code, _)| code);
    let probed = boot.console.iter().any(|l| l.contains(KTEST_DISK_PROBED));
    tally.record("ktest disk probed as vda", probed, "no virtio_blk line for the scratch disk");
    let mut seen = 0;
    for line in &boot.console {
        let Some(rest) = line.split("ktest: ").nth(1) else { continue };
        if let Some(name) = rest.strip_suffix(" ... ok") {
            seen += 1;
            tally.record(&format!("ktest::{name}"), true, "");
        } else if let Some((name, why)) = rest.split_once(" ... FAILED: ") {
            seen += 1;
            tally.record(&format!("ktest::{name}"), false, why);
        }
    }
    let whole = match status {
        Some(EXIT_SUCCESS) => (true, String::new()),
        Some(EXIT_FAILURE) => (false, "QEMU exit status 35".into()),
        other => {
            (false, format!("QEMU ended with {other:?}; last lines:\n{}", tail(&boot.console)))
        }
    };
    tally.record("ktest run completes", whole.0 && seen > 0, &whole.1);
    // A "BUG:" line (might_sleep, bad page state, ...) is a failure even
    // when every self-test passed.
    let bug = boot.console.iter().find(|l| l.contains("BUG"));
    tally.record("ktest boot shows no BUG line", bug.is_none(), bug.map_or("", String::as_str));
    Ok(())
}

/// Sectors in the ktest scratch disk (1 MiB).
const KTEST_DISK_SECTORS: usize = 2048;
/// What the kernel prints when it finds the scratch disk.
const KTEST_DISK_PROBED: &str = "[vda] 2048 512-byte logical blocks (1.05 MB/1.00 MiB)";

/// Writes the scratch disk the ktest boot gets as vda: byte `j` of sector
/// `s` is `(s * 31 + j) % 251` (but for the partition table at the end of
/// sector 0), which the kernel's virtio_blk self-tests
/// check (kernel/drivers/block/virtio_blk_test.rs). Rewritten on every
/// run, so the tests' writes never carry over.
fn write_ktest_disk() -> Result<std::path::PathBuf, String> {
    let path = workspace_root().join("target/ktest-disk.img");
    let mut image = Vec::with_capacity(KTEST_DISK_SECTORS * 512);
    for sector in 0..KTEST_DISK_SECTORS {
        image.extend((0..512).map(|j| u8::try_from((sector * 31 + j) % 251).expect("below 251")));
    }
    // A DOS table over the pattern's last 66 bytes of sector 0: vda1 =
    // sectors 64..1024, vda2 = 1024..2048 (kernel/block/partitions_test.rs).
    image[446..510].fill(0);
    for (i, (start, len)) in [(64u32, 960u32), (1024, 1024)].into_iter().enumerate() {
        let entry = &mut image[446 + 16 * i..446 + 16 * (i + 1)];
        entry[4] = 0x83;
        entry[8..12].copy_from_slice(&start.to_le_bytes());
        entry[12..16].copy_from_slice(&len.to_le_bytes());
    }
    image[510..512].copy_from_slice(&[0x55, 0xaa]);
    std::fs::write(&path, image).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// The last lines of a console, for a failure report.
pub fn tail(console: &[String]) -> String {
    console[console.len().saturating_sub(15)..].join("\n")
}

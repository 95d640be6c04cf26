//! `cargo xtask bench [--runs N]`: Ferrite and Debian's Linux side by side in
//! the same QEMU machine (`qemu::Machine`, same flags for both), each figure
//! with the ratio Ferrite/Linux. Under TCG absolute times mean little; the
//! ratio is the result (DESIGN.md §4).
//!
//! Figures:
//! - boot to end of kernel init: from the spawn of QEMU to the console line
//!   that ends kernel initialisation, "Kernel initialisation done" for
//!   Ferrite (end of `start_kernel`) and "Run /init as init process" for
//!   Linux (`kernel_init`, right before it execs init). Linux is booted as an
//!   uncompressed vmlinux through PVH, as Ferrite is, so that XZ
//!   decompression is not counted.
//! - QEMU start to exit, Linux only: its /init powers off at once.
//! - latency and bandwidth, lmbench style (bench/latency.rs): system calls,
//!   signals, process creation, pipes and context switches, page faults,
//!   mmap, file creation and tmpfs bandwidth, timed inside the guest by the
//!   programs of user/bench/ in one more boot per kernel and run; figures
//!   Ferrite cannot run yet get a row saying what it lacks.
//!
//! Runs alternate between the kernels, so that a busy moment of the host hits
//! both alike; each figure is the median of N runs (default 5) and the minimum.
//! A benchmark that fails on a kernel in any run shows "failed" in its cell
//! (the reason and its console lines go to stderr) and makes the command
//! fail, after the whole table. The table is also written as Markdown to
//! `target/bench/bench.md`, with the date and the QEMU command lines.

mod initramfs;
mod latency;
mod table;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::build::{Profile, build_kernel};
use crate::qemu::{Boot, Machine};
use crate::test::tail;
use crate::{deps, linux, workspace_root};
use table::{Row, markdown_table, print_table};

const CMDLINE: &str = "console=ttyS0";
const FERRITE_MARKER: &str = "Kernel initialisation done";
const LINUX_MARKER: &str = "Run /init as init process";
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_RUNS: usize = 5;

/// `cargo xtask bench`.
pub fn cmd_bench(args: &[String]) -> Result<ExitCode, String> {
    let runs = parse_runs(args)?;
    deps::ensure(&[deps::QEMU])?;
    let ferrite = Machine::new(&build_kernel(Profile::Release)?, CMDLINE);
    let mut linux = Machine::new(&linux::linux_vmlinux()?, CMDLINE);
    linux.initrd = Some(initramfs::poweroff_initramfs()?);
    let latency_initrd = initramfs::latency_initramfs(&latency::names())?;
    let mut ferrite_latency = Machine::new(&ferrite.kernel, latency::CMDLINE);
    ferrite_latency.initrd = Some(latency_initrd.clone());
    let mut linux_latency = Machine::new(&linux.kernel, latency::CMDLINE);
    linux_latency.initrd = Some(latency_initrd);
    let samples = measure(&ferrite, &linux, runs)?;
    let latency = latency::measure(&ferrite_latency, &linux_latency, runs);
    print_header(&ferrite, &linux, runs);
    let linux_label = format!("Linux {}", linux_version(&linux.kernel));
    let mut rows = vec![
        Row::new("boot to end of kernel init", &samples.ferrite_init, &samples.linux_init),
        Row::new(
            "  the kernel's own clock then",
            &samples.ferrite_init_printk,
            &samples.linux_init_printk,
        ),
        Row::new("QEMU start to exit (Linux)", &[], &samples.linux_exit),
    ];
    rows.extend(latency.rows());
    print_table(&linux_label, &rows);
    let markdown = write_markdown(&ferrite, &linux, runs, &linux_label, &rows)?;
    println!();
    println!("The table as Markdown: {}", markdown.display());
    let failed = rows.iter().filter(|r| r.failed()).count();
    if failed > 0 {
        eprintln!("xtask: {failed} benchmark(s) failed on a kernel; see above for why");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_runs(args: &[String]) -> Result<usize, String> {
    let mut runs = DEFAULT_RUNS;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let value = match arg.strip_prefix("--runs=") {
            Some(value) => Some(value),
            None if arg == "--runs" => rest.next().map(String::as_str),
            None => {
                return Err(format!("bench: unknown argument `{arg}`; usage: bench [--runs N]"));
            }
        };
        runs = value.and_then(|n| n.parse().ok()).filter(|&n| n > 0).ok_or("--runs needs N > 0")?;
    }
    Ok(runs)
}

/// Every run's times, in seconds from the spawn of QEMU.
#[derive(Default)]
struct Samples {
    ferrite_init: Vec<Duration>,
    linux_init: Vec<Duration>,
    /// The printk timestamp on the marker line: the kernel's own count of
    /// its initialisation, without QEMU's and the firmware's start-up.
    ferrite_init_printk: Vec<Duration>,
    linux_init_printk: Vec<Duration>,
    linux_exit: Vec<Duration>,
}

fn measure(ferrite: &Machine, linux: &Machine, runs: usize) -> Result<Samples, String> {
    let mut samples = Samples::default();
    for run in 1..=runs {
        let f = boot(ferrite, FERRITE_MARKER, Ending::Kill)
            .map_err(|e| format!("Ferrite, run {run}: {e}"))?;
        let l = boot(linux, LINUX_MARKER, Ending::PowerOff)
            .map_err(|e| format!("Linux, run {run}: {e}"))?;
        let exit = l.exit.unwrap_or_default();
        eprintln!(
            "xtask: run {run}/{runs}: end of init: Ferrite {:.3} s, Linux {:.3} s (exit {:.3} s)",
            f.init.as_secs_f64(),
            l.init.as_secs_f64(),
            exit.as_secs_f64()
        );
        samples.ferrite_init.push(f.init);
        samples.linux_init.push(l.init);
        samples.ferrite_init_printk.extend(f.init_printk);
        samples.linux_init_printk.extend(l.init_printk);
        samples.linux_exit.push(exit);
    }
    Ok(samples)
}

/// How a boot ends once its marker is seen.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// We end QEMU ourselves.
    Kill,
    /// The guest powers off; QEMU's exit is timed too.
    PowerOff,
}

/// One boot's times from the spawn of QEMU.
struct Times {
    init: Duration,
    init_printk: Option<Duration>,
    exit: Option<Duration>,
}

/// Boots `machine` once, timing the console line containing `marker`.
fn boot(machine: &Machine, marker: &str, ending: Ending) -> Result<Times, String> {
    let mut qemu = Boot::start(machine)?;
    let Some(init) = qemu.wait_for(|line| line.contains(marker), RUN_TIMEOUT) else {
        return Err(format!(
            "no \"{marker}\" within {RUN_TIMEOUT:?}; last console lines:\n{}",
            tail(&qemu.console)
        ));
    };
    let init_printk = qemu.console.last().and_then(|line| printk_timestamp(line));
    let exit = match ending {
        Ending::Kill => None,
        Ending::PowerOff => match qemu.wait_exit(RUN_TIMEOUT) {
            Some((0, at)) => Some(at),
            other => return Err(format!("QEMU did not power off cleanly: {other:?}")),
        },
    };
    Ok(Times { init, init_printk, exit })
}

/// The `[    1.234567]` timestamp that starts a printk line.
fn printk_timestamp(line: &str) -> Option<Duration> {
    let inside = line.trim_start().strip_prefix('[')?.split(']').next()?;
    let (secs, micros) = inside.trim().split_once('.')?;
    let micros: u64 = micros.parse().ok()?;
    Some(Duration::from_secs(secs.parse().ok()?) + Duration::from_micros(micros))
}

fn print_header(ferrite: &Machine, linux: &Machine, runs: usize) {
    println!();
    println!("Ferrite: {}", ferrite.kernel.display());
    println!("Linux:   {} (Debian's, uncompressed, booted through PVH)", linux.kernel.display());
    println!(
        "QEMU: q35, TCG, -cpu max, {} vCPU, {} MiB, -append \"{CMDLINE}\"; median of {runs} runs, minimum in brackets",
        ferrite.smp, ferrite.memory_mib
    );
    println!(
        "Latency rows: user/bench/ (static musl) timed in the guest, one boot per kernel and run, -append \"{}\"",
        latency::CMDLINE
    );
    println!();
}

/// Writes `target/bench/bench.md`: the date, the machines and the table.
fn write_markdown(
    ferrite: &Machine,
    linux: &Machine,
    runs: usize,
    linux_label: &str,
    rows: &[Row],
) -> Result<PathBuf, String> {
    let flags = |machine: &Machine| {
        let command = machine.command();
        let args = command.get_args().map(|a| a.to_string_lossy().into_owned());
        std::iter::once(command.get_program().to_string_lossy().into_owned())
            .chain(args)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let text = format!(
        "# `cargo xtask bench`, {date} (UTC)\n\n\
         Ferrite against {linux_label} (Debian's, uncompressed, booted through PVH) in the \
         same QEMU machine. Each cell: the median of {runs} runs and, in brackets, the best \
         run. Ratio: Ferrite/Linux of the medians (latencies: below 1 is better; \
         bandwidths, in MiB/s: above 1 is better). Spread: (max - min) / median of the runs \
         on Ferrite and on Linux; \"noisy\" past 10%.\n\n\
         Boot rows, Ferrite: `{ferrite_flags}`\n\n\
         Boot rows, Linux: `{linux_flags}`\n\n\
         Latency rows: the same flags with `-append \"{latency_cmdline}\"` and the initramfs \
         `target/bench/latency.cpio` (user/bench/, static musl; /init is user/init/bench.sh).\n\n\
         {table}",
        date = utc_date_time(std::time::SystemTime::now()),
        ferrite_flags = flags(ferrite),
        linux_flags = flags(linux),
        latency_cmdline = latency::CMDLINE,
        table = markdown_table(linux_label, rows),
    );
    let path = workspace_root().join("target/bench/bench.md");
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// "2026-12-07 00:12" from a time, in UTC (civil-from-days, after Howard
/// Hinnant's algorithm), so that xtask needs no date crate.
fn utc_date_time(now: std::time::SystemTime) -> String {
    let secs = now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year}-{month:02}-{day:02} {:02}:{:02}", rest / 3600, rest % 3600 / 60)
}

/// "6.1.0-57" from `target/linux/linux-image-6.1.0-57-amd64/vmlinux`.
fn linux_version(vmlinux: &Path) -> String {
    let package = vmlinux.parent().and_then(Path::file_name).and_then(|n| n.to_str());
    let version = package.and_then(|p| p.strip_prefix("linux-image-"));
    version.map(|v| v.trim_end_matches("-amd64")).unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_printk_timestamps() {
        let at = printk_timestamp("[    2.870123] Run /init as init process");
        assert_eq!(at, Some(Duration::from_micros(2_870_123)));
        assert_eq!(printk_timestamp("no timestamp here"), None);
        assert_eq!(printk_timestamp("[ bad.x] text"), None);
    }

    #[test]
    fn formats_utc_dates() {
        let at = |secs| utc_date_time(std::time::UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01 00:00");
        assert_eq!(at(951_782_400 + 3_600 + 120), "2000-02-29 01:02");
        assert_eq!(at(1_796_601_600), "2026-12-07 00:00");
    }

    #[test]
    fn runs_argument() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_runs(&args(&[])), Ok(DEFAULT_RUNS));
        assert_eq!(parse_runs(&args(&["--runs", "3"])), Ok(3));
        assert_eq!(parse_runs(&args(&["--runs=7"])), Ok(7));
        assert!(parse_runs(&args(&["--runs", "0"])).is_err());
        assert!(parse_runs(&args(&["--fast"])).is_err());
    }
}

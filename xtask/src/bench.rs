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
//!
//! Runs alternate between the kernels, so that a busy moment of the host hits
//! both alike; each figure is the median of N runs (default 5) and the minimum.

mod initramfs;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::build::{Profile, build_kernel};
use crate::qemu::Machine;
use crate::{deps, linux};

const CMDLINE: &str = "console=ttyS0";
const FERRITE_MARKER: &str = "Kernel initialisation done";
const LINUX_MARKER: &str = "Run /init as init process";
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_RUNS: usize = 5;
/// Console lines kept to explain a failed run.
const TAIL_LINES: usize = 15;

/// `cargo xtask bench`.
pub fn cmd_bench(args: &[String]) -> Result<ExitCode, String> {
    let runs = parse_runs(args)?;
    deps::ensure(&[deps::QEMU])?;
    let ferrite = Machine::new(&build_kernel(Profile::Release)?, CMDLINE);
    let mut linux = Machine::new(&linux::linux_vmlinux()?, CMDLINE);
    linux.initrd = Some(initramfs::poweroff_initramfs()?);
    let samples = measure(&ferrite, &linux, runs)?;
    print_header(&ferrite, &linux, runs);
    let linux_label = format!("Linux {}", linux_version(&linux.kernel));
    print_table(
        &linux_label,
        &[
            Row::new("boot to end of kernel init", &samples.ferrite_init, &samples.linux_init),
            Row::new("QEMU start to exit (Linux)", &[], &samples.linux_exit),
        ],
    );
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
struct Boot {
    init: Duration,
    exit: Option<Duration>,
}

/// A QEMU we started: killed and reaped when dropped, so that no run, even a
/// failed one, leaves it running.
struct Qemu(Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// A console line and when it was read.
type Line = (Duration, String);

/// Boots `machine` once, timing the console line containing `marker`.
fn boot(machine: &Machine, marker: &str, ending: Ending) -> Result<Boot, String> {
    let mut command = machine.command();
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    let start = Instant::now();
    let mut qemu = Qemu(command.spawn().map_err(|e| format!("cannot start QEMU: {e}"))?);
    let stdout = qemu.0.stdout.take().ok_or("QEMU has no stdout")?;
    let lines = read_lines(stdout, start);
    let deadline = start + RUN_TIMEOUT;
    let init = wait_for_marker(&lines, marker, deadline)?;
    let exit = match ending {
        Ending::Kill => None,
        Ending::PowerOff => Some(wait_for_exit(&mut qemu, &lines, start, deadline)?),
    };
    Ok(Boot { init, exit })
}

/// Reads QEMU's serial output line by line on a thread, stamping each line
/// as it arrives. The channel closes when QEMU closes its stdout.
fn read_lines(stdout: ChildStdout, start: Instant) -> Receiver<Line> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let text = String::from_utf8_lossy(&line).trim_end().to_string();
            if send.send((start.elapsed(), text)).is_err() {
                break;
            }
            line.clear();
        }
    });
    receive
}

fn wait_for_marker(
    lines: &Receiver<Line>,
    marker: &str,
    deadline: Instant,
) -> Result<Duration, String> {
    let mut tail = VecDeque::with_capacity(TAIL_LINES);
    loop {
        let why = match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((at, line)) if line.contains(marker) => return Ok(at),
            Ok((_, line)) => {
                if tail.len() == TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
                continue;
            }
            Err(RecvTimeoutError::Timeout) => format!("timed out after {RUN_TIMEOUT:?}"),
            Err(RecvTimeoutError::Disconnected) => "QEMU ended".to_string(),
        };
        let tail = Vec::from(tail).join("\n    ");
        return Err(format!("{why} before printing \"{marker}\"; last console lines:\n    {tail}"));
    }
}

/// Waits for the guest to power QEMU off; the time is from spawn to exit.
fn wait_for_exit(
    qemu: &mut Qemu,
    lines: &Receiver<Line>,
    start: Instant,
    deadline: Instant,
) -> Result<Duration, String> {
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(_) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!("QEMU still running {RUN_TIMEOUT:?} after start"));
            }
        }
    }
    let status = qemu.0.wait().map_err(|e| format!("waiting for QEMU: {e}"))?;
    let exit = start.elapsed();
    if status.success() { Ok(exit) } else { Err(format!("QEMU exited with {status}")) }
}

/// Median and minimum of a figure's samples.
#[derive(Clone, Copy)]
struct Stats {
    median: Duration,
    min: Duration,
}

impl Stats {
    fn of(samples: &[Duration]) -> Option<Stats> {
        let mut sorted = samples.to_vec();
        sorted.sort();
        let n = sorted.len();
        let min = *sorted.first()?;
        let median =
            if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2 };
        Some(Stats { median, min })
    }

    fn cell(stats: Option<Stats>) -> String {
        match stats {
            Some(s) => format!("{:.3} s ({:.3})", s.median.as_secs_f64(), s.min.as_secs_f64()),
            None => "-".to_string(),
        }
    }
}

/// One line of the table.
struct Row {
    figure: &'static str,
    ferrite: Option<Stats>,
    linux: Option<Stats>,
}

impl Row {
    fn new(figure: &'static str, ferrite: &[Duration], linux: &[Duration]) -> Row {
        Row { figure, ferrite: Stats::of(ferrite), linux: Stats::of(linux) }
    }

    fn ratio(&self) -> String {
        match (self.ferrite, self.linux) {
            (Some(f), Some(l)) if !l.median.is_zero() => {
                format!("{:.3}", f.median.as_secs_f64() / l.median.as_secs_f64())
            }
            _ => "-".to_string(),
        }
    }
}

fn print_header(ferrite: &Machine, linux: &Machine, runs: usize) {
    println!();
    println!("Ferrite: {}", ferrite.kernel.display());
    println!("Linux:   {} (Debian's, uncompressed, booted through PVH)", linux.kernel.display());
    println!(
        "QEMU: q35, TCG, -cpu max, {} vCPU, {} MiB, -append \"{CMDLINE}\"; median of {runs} runs, minimum in brackets",
        ferrite.smp, ferrite.memory_mib
    );
    println!();
}

fn print_table(linux_label: &str, rows: &[Row]) {
    println!("{:<30} {:<18} {linux_label:<18} ratio", "figure", "Ferrite");
    for row in rows {
        let ferrite = Stats::cell(row.ferrite);
        let linux = Stats::cell(row.linux);
        println!("{:<30} {ferrite:<18} {linux:<18} {}", row.figure, row.ratio());
    }
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
    fn median_and_min() {
        let ms = Duration::from_millis;
        let stats = Stats::of(&[ms(30), ms(10), ms(20), ms(40)]).expect("samples");
        assert_eq!((stats.median, stats.min), (ms(25), ms(10)));
        assert!(Stats::of(&[]).is_none());
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

//! The latency rows of `cargo xtask bench`: lmbench-style figures from the
//! programs of `user/bench/`, run by the /init of the latency initramfs
//! (`user/init/bench.sh`, packed by bench/initramfs.rs) in one boot per
//! kernel. Each program times its operation with CLOCK_MONOTONIC inside the
//! guest and prints one line, `bench NAME ns_per_op=X iters=N`, or
//! `bench NAME failed: why`; /init brackets it with `# run NAME` and
//! `# exit NAME STATUS`, as the system tests' /init does.
//!
//! A benchmark that fails, crashes or runs past /init's timeout has an
//! error instead of a figure; the others still count. A boot that panics or
//! hangs (`BOOT_TIMEOUT`) fails the benchmarks it had not finished, and its
//! last console lines are printed. QEMU is killed when a boot ends early
//! (`qemu::Boot` kills it when dropped).

use std::time::Duration;

use super::table::{Cell, Figure, Row, Unit};
use crate::qemu::{Boot, Machine};
use crate::systest::{FATAL, test_lines};
use crate::test::tail;

/// One benchmark: its program (`user/bench/NAME.c`) and its row's label.
pub struct Benchmark {
    pub name: &'static str,
    pub figure: &'static str,
}

/// The benchmarks, in the table's order.
pub const BENCHMARKS: [Benchmark; 7] = [
    Benchmark { name: "null_syscall", figure: "null syscall (getppid)" },
    Benchmark { name: "write_null", figure: "write 1 byte to /dev/null" },
    Benchmark { name: "open_close", figure: "open + close" },
    Benchmark { name: "fork_exit", figure: "fork + exit + wait" },
    Benchmark { name: "fork_exec", figure: "fork + execve + wait" },
    Benchmark { name: "pipe_rtt", figure: "pipe round trip" },
    Benchmark { name: "page_fault", figure: "anonymous page fault, per page" },
];

/// The names of [`BENCHMARKS`], for the initramfs.
pub fn names() -> Vec<&'static str> {
    BENCHMARKS.iter().map(|b| b.name).collect()
}

/// The latency boots' command line: quiet, so that the console holds the
/// results; the same words for both kernels.
pub const CMDLINE: &str = "console=ttyS0 quiet";

/// The whole boot. Linux needs about 5 s; /init kills a benchmark after 30 s.
const BOOT_TIMEOUT: Duration = Duration::from_secs(240);

/// The line /init prints before powering off.
const END: &str = "# bench: end";

/// One boot's outcome per benchmark, in [`BENCHMARKS`] order: the time per
/// operation, or why there is none (with the benchmark's console lines).
pub type Results = Vec<Result<Duration, String>>;

/// Every run's latency figures, per kernel and benchmark (in
/// [`BENCHMARKS`] order), and how many runs failed each.
pub struct Samples {
    ferrite: Vec<Figure>,
    linux: Vec<Figure>,
}

impl Samples {
    pub fn rows(&self) -> Vec<Row> {
        let figures = self.ferrite.iter().zip(&self.linux);
        BENCHMARKS
            .iter()
            .zip(figures)
            .map(|(bench, (f, l))| Row {
                figure: bench.figure,
                unit: Unit::Latency,
                ferrite: Cell::of(f),
                linux: Cell::of(l),
            })
            .collect()
    }
}

/// Boots each kernel `runs` times with the latency initramfs, alternating.
/// Failures are reported here and counted; they do not stop the runs.
pub fn measure(ferrite: &Machine, linux: &Machine, runs: usize) -> Samples {
    let empty = vec![Figure::default(); BENCHMARKS.len()];
    let mut samples = Samples { ferrite: empty.clone(), linux: empty };
    for run in 1..=runs {
        let mut summary = Vec::new();
        for (kernel, machine, figures) in
            [("Ferrite", ferrite, &mut samples.ferrite), ("Linux", linux, &mut samples.linux)]
        {
            let started = std::time::Instant::now();
            let results = boot(machine, &format!("{kernel}, latency run {run}"));
            for ((bench, result), figure) in BENCHMARKS.iter().zip(results).zip(figures) {
                match result {
                    Ok(per_op) => figure.ok.push(per_op),
                    Err(why) => {
                        eprintln!(
                            "xtask: {kernel}, latency run {run}: {} failed: {why}",
                            bench.name
                        );
                        figure.failed += 1;
                    }
                }
            }
            summary.push(format!("{kernel} {:.1} s", started.elapsed().as_secs_f64()));
        }
        eprintln!("xtask: run {run}/{runs}: latency boots: {}", summary.join(", "));
    }
    samples
}

/// Boots `machine` (with the latency initramfs) once and reads the results.
/// `kernel` names it in the messages.
pub fn boot(machine: &Machine, kernel: &str) -> Results {
    let mut qemu = match Boot::start(machine) {
        Ok(qemu) => qemu,
        Err(e) => return BENCHMARKS.iter().map(|_| Err(e.clone())).collect(),
    };
    let stop = |line: &str| line == END || FATAL.iter().any(|f| line.contains(f));
    let seen = qemu.wait_for(stop, BOOT_TIMEOUT);
    let last = qemu.console.last().cloned().unwrap_or_default();
    let ended_badly = match seen {
        None => Some(format!("no \"{END}\" within {BOOT_TIMEOUT:?}, or QEMU ended")),
        Some(_) if last != END => {
            // Read on a little, for the rest of a panic report.
            qemu.wait_for(|_| false, Duration::from_secs(2));
            Some(format!("the kernel stopped: \"{last}\""))
        }
        Some(_) => match qemu.wait_exit(Duration::from_secs(20)) {
            Some((0, _)) => None,
            other => Some(format!("no clean power-off after the benchmarks: {other:?}")),
        },
    };
    if let Some(why) = &ended_badly {
        eprintln!("xtask: {kernel}: {why}; last console lines:\n{}", tail(&qemu.console));
    }
    qemu.kill();
    parse(&qemu.console, ended_badly.as_deref().unwrap_or("the boot ended first"))
}

/// Reads each benchmark's result from the console; `ended` says why one
/// that never finished did not.
fn parse(lines: &[String], ended: &str) -> Results {
    BENCHMARKS.iter().map(|b| result_of(lines, b.name, ended)).collect()
}

fn result_of(lines: &[String], name: &str, ended: &str) -> Result<Duration, String> {
    let report = format!("bench {name} ");
    let with_lines = |why: String| format!("{why}\n{}", test_lines(lines, name));
    if let Some(rest) = lines.iter().find_map(|l| l.trim_start().strip_prefix(&report)) {
        if let Some(why) = rest.strip_prefix("failed: ") {
            return Err(with_lines(why.to_string()));
        }
        return ns_per_op(rest).ok_or_else(|| with_lines(format!("unreadable report `{rest}`")));
    }
    let exit = format!("# exit {name} ");
    let status = lines.iter().find_map(|l| l.strip_prefix(&exit));
    let started = lines.iter().any(|l| *l == format!("# run {name}"));
    Err(match status {
        Some("137") => with_lines("killed: it ran past /init's timeout".to_string()),
        Some(status) => with_lines(format!("exit status {status} without a result")),
        None if started => with_lines(format!("it never finished: {ended}")),
        None => format!("it never ran: {ended}"),
    })
}

/// The `ns_per_op=X` field of a report, as a duration.
fn ns_per_op(fields: &str) -> Option<Duration> {
    let value = fields.split_whitespace().find_map(|f| f.strip_prefix("ns_per_op="))?;
    let ns: f64 = value.parse().ok()?;
    (ns.is_finite() && ns > 0.0).then(|| Duration::from_secs_f64(ns / 1e9))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn reads_reports_and_failures() {
        let console = lines(
            "# bench: start\n# run null_syscall\nbench null_syscall ns_per_op=512.0 iters=100000\n\
             # exit null_syscall 0\n# run write_null\nbench write_null failed: open (errno 2)\n\
             # exit write_null 1\n# run open_close\n# exit open_close 137\n# run fork_exit\n\
             # exit fork_exit 139\n# run fork_exec\n[   3.0] Kernel panic - not syncing\n",
        );
        let results = parse(&console, "the kernel stopped");
        assert_eq!(results.len(), BENCHMARKS.len());
        assert_eq!(results[0], Ok(Duration::from_nanos(512)));
        let err = |i: usize| results[i].clone().expect_err("a failure");
        assert!(err(1).starts_with("open (errno 2)\n# run write_null"));
        assert!(err(2).starts_with("killed: it ran past"));
        assert!(err(3).starts_with("exit status 139 without a result"));
        assert!(err(4).starts_with("it never finished: the kernel stopped\n"));
        assert!(err(4).contains("Kernel panic"));
        assert_eq!(err(5), "it never ran: the kernel stopped");
    }

    #[test]
    fn reads_ns_per_op() {
        assert_eq!(ns_per_op("ns_per_op=1300000 iters=200"), Some(Duration::from_micros(1300)));
        assert_eq!(ns_per_op("iters=200 ns_per_op=70.0"), Some(Duration::from_nanos(70)));
        assert_eq!(ns_per_op("ns_per_op=nan iters=1"), None);
        assert_eq!(ns_per_op("ns_per_op=0.0 iters=1"), None);
        assert_eq!(ns_per_op("iters=1"), None);
    }
}

//! The latency rows of `cargo xtask bench`: lmbench-style figures from the
//! programs of `user/bench/`, run by the /init of the latency initramfs
//! (`user/init/bench.sh`, packed by bench/initramfs.rs) in one boot per
//! kernel. Each program times its operation with CLOCK_MONOTONIC inside the
//! guest and prints one line per figure, `bench NAME ns_per_op=X iters=N`
//! (bandwidths: ns per MiB), or `bench NAME failed: why`; /init brackets
//! the program with `# run PROGRAM` and `# exit PROGRAM STATUS`, as the
//! system tests' /init does. Figures Ferrite cannot run yet ([`NOT_YET`])
//! still get a row that says what it lacks.
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

/// One figure: the program that measures it (`user/bench/PROGRAM.c`), the
/// NAME of its `bench NAME` line, its row's label and how it is shown.
pub struct Benchmark {
    pub program: &'static str,
    pub name: &'static str,
    pub figure: &'static str,
    pub unit: Unit,
}

/// The program's only figure, a latency, under the program's name.
const fn latency(name: &'static str, figure: &'static str) -> Benchmark {
    Benchmark { program: name, name, figure, unit: Unit::Latency }
}

/// One of several figures `program` measures.
const fn part(
    program: &'static str,
    name: &'static str,
    figure: &'static str,
    unit: Unit,
) -> Benchmark {
    Benchmark { program, name, figure, unit }
}

/// The benchmarks, in the table's order.
pub const BENCHMARKS: [Benchmark; 33] = [
    latency("null_syscall", "null syscall (getppid)"),
    latency("read_zero", "read 1 byte from /dev/zero"),
    latency("write_null", "write 1 byte to /dev/null"),
    latency("open_close", "open + close"),
    latency("stat", "stat"),
    latency("fstat", "fstat"),
    part("signal", "sig_install", "signal handler install", Unit::Latency),
    part("signal", "sig_catch", "signal delivery to a handler", Unit::Latency),
    latency("fork_exit", "fork + exit + wait"),
    latency("fork_exec", "fork + execve + wait"),
    latency("vfork_exec", "vfork + execve + wait"),
    part("thread", "thread_create", "thread create + join", Unit::Latency),
    part("thread", "futex_rtt", "futex wake round trip (2 threads)", Unit::Latency),
    latency("pipe_rtt", "pipe round trip"),
    part("ctx", "ctx_2", "context switch, 2 processes", Unit::Latency),
    part("ctx", "ctx_8", "context switch, 8 processes", Unit::Latency),
    part("ctx", "ctx_32", "context switch, 32 processes", Unit::Latency),
    part("ctx", "ctx_64", "context switch, 64 processes", Unit::Latency),
    part("pipe_bw", "pipe_bw", "pipe bandwidth, 64 KiB writes", Unit::Bandwidth),
    part("pipe_bw", "unix_bw", "AF_UNIX stream bandwidth, 64 KiB writes", Unit::Bandwidth),
    part("page_fault", "page_fault", "anonymous page fault, per page", Unit::Latency),
    part("page_fault", "file_fault", "shared file page fault, per page (cached)", Unit::Latency),
    part("mmap_munmap", "mmap_1m", "mmap + munmap 1 MiB", Unit::Latency),
    part("mmap_munmap", "mmap_64m", "mmap + munmap 64 MiB", Unit::Latency),
    part("create_delete", "create_0k", "create a 0 KiB file", Unit::Latency),
    part("create_delete", "delete_0k", "delete a 0 KiB file", Unit::Latency),
    part("create_delete", "create_10k", "create a 10 KiB file", Unit::Latency),
    part("create_delete", "delete_10k", "delete a 10 KiB file", Unit::Latency),
    part("file_rw", "file_write", "tmpfs file write, 16 MiB", Unit::Bandwidth),
    part("file_rw", "file_read", "tmpfs file read, 16 MiB", Unit::Bandwidth),
    part("select", "select_100", "select on 100 fds, 1 ready", Unit::Latency),
    part("select", "poll_100", "poll on 100 fds, 1 ready", Unit::Latency),
    part("select", "epoll_100", "epoll_wait on 100 fds, 1 ready", Unit::Latency),
];

/// Figures issue 4 asks for that Ferrite cannot run yet, with what it
/// lacks: rows that say so rather than vanish. Move one into
/// [`BENCHMARKS`], with its program, once the feature lands.
pub const NOT_YET: [(&str, &str); 0] = [];

/// The programs of [`BENCHMARKS`], each once, for the initramfs.
pub fn names() -> Vec<&'static str> {
    let mut programs: Vec<&'static str> = Vec::new();
    for bench in &BENCHMARKS {
        if !programs.contains(&bench.program) {
            programs.push(bench.program);
        }
    }
    programs
}

/// The latency boots' command line: quiet, so that the console holds the
/// results; the same words for both kernels.
pub const CMDLINE: &str = "console=ttyS0 quiet";

/// The whole boot. Linux needs about 5 s; /init kills a benchmark after 30 s.
const BOOT_TIMEOUT: Duration = Duration::from_secs(240);

/// The line /init prints before powering off.
const END: &str = "# bench: end";

/// One boot's outcome per benchmark, in [`BENCHMARKS`] order: the time per
/// operation in seconds, or why there is none (with the benchmark's console
/// lines).
pub type Results = Vec<Result<f64, String>>;

/// Every run's latency figures, per kernel (in the order of the machines
/// given to [`measure`], Ferrite first) and benchmark (in [`BENCHMARKS`]
/// order).
pub struct Samples {
    kernels: Vec<Vec<Figure>>,
}

impl Samples {
    /// One row per benchmark, one cell per kernel; then the [`NOT_YET`] rows.
    pub fn rows(&self) -> Vec<Row> {
        let measured = BENCHMARKS.iter().enumerate().map(|(i, bench)| {
            let figures: Vec<&Figure> = self.kernels.iter().map(|k| &k[i]).collect();
            Row::of(bench.figure, bench.unit, &figures)
        });
        let not_yet = NOT_YET.iter().map(|&(figure, lacks)| {
            let mut cells = vec![Cell::NotYet(lacks)];
            cells.resize(self.kernels.len(), Cell::None);
            Row::new(figure, Unit::Latency, cells)
        });
        measured.chain(not_yet).collect()
    }
}

/// Boots each of `machines` (a label and the machine, with the latency
/// initramfs) `runs` times, taking turns. Failures are reported here and
/// counted; they do not stop the runs.
pub fn measure(machines: &[(&str, &Machine)], runs: usize) -> Samples {
    let empty = vec![Figure::default(); BENCHMARKS.len()];
    let mut samples = Samples { kernels: vec![empty; machines.len()] };
    for run in 1..=runs {
        let mut summary = Vec::new();
        for (&(kernel, machine), figures) in machines.iter().zip(&mut samples.kernels) {
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
    match run(machine, kernel) {
        Ok((console, ended)) => parse(&console, ended.as_deref().unwrap_or("the boot ended first")),
        Err(e) => BENCHMARKS.iter().map(|_| Err(e.clone())).collect(),
    }
}

/// Boots `machine`, which runs user/init/bench.sh, until its end line and
/// power-off: the console lines, and why the boot ended badly if it did
/// (then printed with the last lines). Also used by the storage rows.
pub fn run(machine: &Machine, kernel: &str) -> Result<(Vec<String>, Option<String>), String> {
    let mut qemu = Boot::start(machine)?;
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
    Ok((std::mem::take(&mut qemu.console), ended_badly))
}

/// Reads each benchmark's result from the console; `ended` says why one
/// that never finished did not.
fn parse(lines: &[String], ended: &str) -> Results {
    BENCHMARKS.iter().map(|b| result_of(lines, b, ended)).collect()
}

/// `bench`'s figure from its `bench NAME` line, or why there is none from
/// its program's `# exit` line and console lines.
pub fn result_of(lines: &[String], bench: &Benchmark, ended: &str) -> Result<f64, String> {
    let (name, program) = (bench.name, bench.program);
    let report = format!("bench {name} ");
    let with_lines = |why: String| format!("{why}\n{}", test_lines(lines, program));
    if let Some(rest) = lines.iter().find_map(|l| l.trim_start().strip_prefix(&report)) {
        if let Some(why) = rest.strip_prefix("failed: ") {
            return Err(with_lines(why.to_string()));
        }
        return ns_per_op(rest).ok_or_else(|| with_lines(format!("unreadable report `{rest}`")));
    }
    let exit = format!("# exit {program} ");
    let status = lines.iter().find_map(|l| l.strip_prefix(&exit));
    let started = lines.iter().any(|l| *l == format!("# run {program}"));
    Err(match status {
        Some("137") => with_lines("killed: it ran past /init's timeout".to_string()),
        Some(status) => with_lines(format!("exit status {status} without a result")),
        None if started => with_lines(format!("it never finished: {ended}")),
        None => format!("it never ran: {ended}"),
    })
}

/// The `ns_per_op=X` field of a report, in seconds.
fn ns_per_op(fields: &str) -> Option<f64> {
    let value = fields.split_whitespace().find_map(|f| f.strip_prefix("ns_per_op="))?;
    let ns: f64 = value.parse().ok()?;
    (ns.is_finite() && ns > 0.0).then_some(ns / 1e9)
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
             # exit fork_exit 139\n# run ctx\nbench ctx_2 ns_per_op=2000.0 iters=4000\n\
             # exit ctx 1\n# run fork_exec\n[   3.0] Kernel panic - not syncing\n",
        );
        let results = parse(&console, "the kernel stopped");
        assert_eq!(results.len(), BENCHMARKS.len());
        let at = |name: &str| {
            let i = BENCHMARKS.iter().position(|b| b.name == name).expect("a benchmark");
            results[i].clone()
        };
        let err = |name: &str| at(name).expect_err("a failure");
        assert_eq!(at("null_syscall"), Ok(512e-9));
        assert!(err("write_null").starts_with("open (errno 2)\n# run write_null"));
        assert!(err("open_close").starts_with("killed: it ran past"));
        assert!(err("fork_exit").starts_with("exit status 139 without a result"));
        assert_eq!(at("ctx_2"), Ok(2e-6));
        assert!(err("ctx_8").starts_with("exit status 1 without a result\n# run ctx"));
        assert!(err("fork_exec").starts_with("it never finished: the kernel stopped\n"));
        assert!(err("fork_exec").contains("Kernel panic"));
        assert_eq!(err("pipe_rtt"), "it never ran: the kernel stopped");
    }

    #[test]
    fn reads_ns_per_op() {
        assert_eq!(ns_per_op("ns_per_op=1300000 iters=200"), Some(1.3e-3));
        assert_eq!(ns_per_op("iters=200 ns_per_op=70.0"), Some(70e-9));
        assert_eq!(ns_per_op("ns_per_op=nan iters=1"), None);
        assert_eq!(ns_per_op("ns_per_op=0.0 iters=1"), None);
        assert_eq!(ns_per_op("iters=1"), None);
    }
}

//! `cargo xtask systest [--linux] [--ferrite] [--bless] [FILTER]`: the
//! system tests, run on Debian's Linux (the specification) and on Ferrite in
//! the same QEMU machine (`qemu::Machine`) with the same initramfs.
//!
//! The initramfs (systest/build.rs) holds Debian's static busybox, the C
//! tests of `user/tests/` and the scripts of `user/scripts/`; its `/init`
//! (`user/init/systest.sh`) runs each under a timeout and powers off, so one
//! boot runs them all. Each test prints one line per check, `ok - NAME/CHECK`
//! or `not ok - NAME/CHECK: why`, and /init brackets it with `# run NAME` and
//! `# exit NAME STATUS`. Results, per kernel K (`linux`, `ferrite`):
//! - `K::NAME/CHECK` for every check line;
//! - `K::NAME`: the test ran to its end (exit 0, or 1 having reported a
//!   failed check); a crash, a timeout or a missing report fails it.
//!
//! Scripts with a `NAME.expected` beside them have their whole output
//! compared byte for byte (in the guest, with `cmp`); `--bless` rewrites
//! those files from a Linux run.
//!
//! Each boot's console is kept in `target/systest/console-K.log` (a
//! filtered run's in `console-K-FILTER.log`, beside its own archive).
//!
//! A login session typed through a host pty is the terminal tier
//! (`--terminal`, systest/terminal.rs).
//!
//! The same /init runs the same tests from an ext2 root in the ext2-root
//! tier (`--ext2root`, systest/ext2root.rs), booted as the disk tier boots
//! (`--disk`, systest/disk.rs).
//!
//! Ferrite runs when asked (`--ferrite`, or `FERRITE_SYSTEST=1` for
//! `cargo xtask test`) until it runs user space, then always: flip
//! [`FERRITE_RUNS_USER_SPACE`].

pub(crate) mod applets;
pub(crate) mod build;
pub(crate) mod disk;
pub(crate) mod ext2root;
mod listing;
pub(crate) mod scratch;
pub(crate) mod terminal;
mod tour;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::build::{Profile, build_kernel};
use crate::qemu::{Boot, Machine};
use crate::test::tail;
use crate::{deps, linux, workspace_root};

/// Set once Ferrite runs /init: then `cargo xtask test` and `cargo xtask
/// systest` boot Ferrite too, without being asked.
pub const FERRITE_RUNS_USER_SPACE: bool = true;

/// Setting this environment variable to 1 runs the Ferrite side anyway.
const FERRITE_ENV: &str = "FERRITE_SYSTEST";

/// The kernel command line: quiet, so that the console holds the results.
const CMDLINE: &str = "console=ttyS0 quiet loglevel=3";

/// The whole boot, all tests included (each also has /init's own timeout).
const BOOT_TIMEOUT: Duration = Duration::from_secs(300);

/// Console lines that end a boot early: the kernel cannot run the tests
/// (nor the benchmarks, bench/latency.rs).
pub(crate) const FATAL: [&str; 3] =
    ["Kernel panic", "No init to run yet", "Attempted to kill init"];

/// One result, named as `cargo xtask test` records it.
pub struct Outcome {
    pub name: String,
    pub ok: bool,
    pub why: String,
}

/// The kernels the tests boot.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kernel {
    Linux,
    Ferrite,
}

impl Kernel {
    fn prefix(self) -> &'static str {
        match self {
            Kernel::Linux => "linux",
            Kernel::Ferrite => "ferrite",
        }
    }

    fn image(self) -> Result<PathBuf, String> {
        match self {
            Kernel::Linux => linux::linux_vmlinux(),
            Kernel::Ferrite => build_kernel(Profile::Release),
        }
    }
}

fn ferrite_enabled() -> bool {
    FERRITE_RUNS_USER_SPACE || std::env::var(FERRITE_ENV).is_ok_and(|v| v == "1")
}

/// `cargo xtask systest`.
pub fn cmd_systest(args: &[String]) -> Result<ExitCode, String> {
    if args.iter().any(|a| a == "--disk") {
        return disk::cmd_disk(args);
    }
    if args.iter().any(|a| a == "--ext2root") {
        return ext2root::cmd_ext2root(args);
    }
    if args.iter().any(|a| a == "--terminal") {
        return terminal::cmd_terminal(args);
    }
    let (mut kernels, mut bless, mut filter) = (Vec::new(), false, None);
    for arg in args {
        match arg.as_str() {
            "--linux" => kernels.push(Kernel::Linux),
            "--ferrite" => kernels.push(Kernel::Ferrite),
            "--bless" => bless = true,
            flag if flag.starts_with('-') => {
                return Err(format!(
                    "systest: unknown flag `{flag}`; usage: systest [--linux] [--ferrite] [--bless] [FILTER]"
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
    if bless && !kernels.contains(&Kernel::Linux) {
        return Err("--bless records Linux's output: it needs the Linux run".into());
    }
    let outcomes = run_kernels(&kernels, filter.as_deref(), bless)?;
    Ok(report(&outcomes))
}

/// Prints one line per result, the failures again, and the totals.
pub(crate) fn report(outcomes: &[Outcome]) -> ExitCode {
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok).collect();
    for outcome in outcomes {
        if outcome.ok {
            println!("test {} ... ok", outcome.name);
        } else {
            println!("test {} ... FAILED: {}", outcome.name, outcome.why);
        }
    }
    for outcome in &failed {
        println!("failed: {}", outcome.name);
    }
    println!("{} passed, {} failed", outcomes.len() - failed.len(), failed.len());
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// The tier in `cargo xtask test`: Linux always, Ferrite once enabled.
pub fn tier() -> Result<Vec<Outcome>, String> {
    println!("== system tests (user/ in QEMU, Linux as the oracle)");
    let mut kernels = vec![Kernel::Linux];
    if ferrite_enabled() {
        kernels.push(Kernel::Ferrite);
    } else {
        println!("(Ferrite's run is off until it runs user space: {FERRITE_ENV}=1 forces it)");
    }
    run_kernels(&kernels, None, false)
}

fn run_kernels(
    kernels: &[Kernel],
    filter: Option<&str>,
    bless: bool,
) -> Result<Vec<Outcome>, String> {
    deps::ensure(&[deps::QEMU])?;
    let built = build::build(filter)?;
    let mut outcomes = Vec::new();
    for &kernel in kernels {
        let started = Instant::now();
        let console = boot(kernel, &built, bless)?;
        if bless && kernel == Kernel::Linux {
            bless_outputs(&console.lines, &built.compared)?;
        }
        let ended = console.ended_badly.as_deref().unwrap_or("the boot ended first");
        let mut results = parse(&console.lines, kernel.prefix(), &built.tests, ended);
        let failed = results.iter().filter(|o| !o.ok).count();
        eprintln!(
            "xtask: {}: {} passed, {failed} failed in {:.1} s",
            kernel.prefix(),
            results.len() - failed,
            started.elapsed().as_secs_f64()
        );
        outcomes.append(&mut results);
    }
    Ok(outcomes)
}

/// What one boot printed.
struct Console {
    lines: Vec<String>,
    /// Why the boot did not end with "# systest: end" and a power-off.
    ended_badly: Option<String>,
}

/// Boots `kernel` with the test initramfs and collects its console.
fn boot(kernel: Kernel, built: &Built, bless: bool) -> Result<Console, String> {
    let image = kernel.image()?;
    let mut cmdline = CMDLINE.to_string();
    if bless {
        cmdline += " systest_bless=1";
    }
    if kernel == Kernel::Linux {
        // Debian's virtio_blk is a module: /init loads it (scratch.rs).
        cmdline += " systest_modules=1";
    }
    let mut machine = Machine::new(&image, &cmdline);
    machine.initrd = Some(built.archive.clone());
    // One disk per run: QEMU locks its image, and runs go on side by side.
    let name = format!("scratch-{}-{}.img", kernel.prefix(), std::process::id());
    let disk = scratch::write(&built.archive.with_file_name(name))?;
    machine.disk = Some(disk.clone());
    eprintln!("xtask: booting {} with {} system test(s)", kernel.prefix(), built.tests.len());
    let mut qemu = Boot::start(&machine)?;
    let ended_badly = wait_end(&mut qemu, "# systest: end", &|_| false, BOOT_TIMEOUT);
    if let Some(why) = &ended_badly {
        eprintln!(
            "xtask: {}: {why}; last console lines:\n{}",
            kernel.prefix(),
            tail(&qemu.console)
        );
    }
    // "systest-FILTER.cpio" → "console-K-FILTER.log": one log per filter too.
    let stem = built.archive.file_stem().and_then(|s| s.to_str()).unwrap_or("systest");
    let filtered = stem.strip_prefix("systest").unwrap_or("");
    let log = built.archive.with_file_name(format!("console-{}{filtered}.log", kernel.prefix()));
    let _ = std::fs::write(&log, qemu.console.join("\n") + "\n");
    let lines = std::mem::take(&mut qemu.console);
    drop(qemu);
    let _ = std::fs::remove_file(&disk);
    Ok(Console { lines, ended_badly })
}

use build::Built;

/// Reads the console until the line `end` (or a [`FATAL`] line, or one
/// `stop` accepts) and then waits for the power-off; says why the boot did
/// not end that way, if it did not.
pub(crate) fn wait_end(
    qemu: &mut Boot,
    end: &str,
    stop: &dyn Fn(&str) -> bool,
    timeout: Duration,
) -> Option<String> {
    let seen =
        qemu.wait_for(|l| l == end || FATAL.iter().any(|f| l.contains(f)) || stop(l), timeout);
    let last = qemu.console.last().cloned().unwrap_or_default();
    match seen {
        None => Some(format!("no \"{end}\" within {timeout:?} or QEMU ended")),
        Some(_) if last != end => {
            // Read on a little, for the rest of a panic report.
            qemu.wait_for(|_| false, Duration::from_secs(2));
            Some(format!("the kernel stopped: \"{last}\""))
        }
        Some(_) => match qemu.wait_exit(Duration::from_secs(20)) {
            Some((0, _)) => None,
            other => Some(format!("no clean power-off after \"{end}\": {other:?}")),
        },
    }
}

/// Turns console lines into results named `PREFIX::NAME/CHECK` and
/// `PREFIX::NAME`, one of the latter for each of `tests`; `ended` says why
/// a test that never finished did not.
fn parse(lines: &[String], prefix: &str, tests: &[String], ended: &str) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    // Per test: its exit status, whether a check failed, its last lines.
    let mut exits: Vec<(String, i32)> = Vec::new();
    let mut failed_checks: Vec<String> = Vec::new();
    for line in lines {
        if let Some(check) = line.strip_prefix("ok - ") {
            outcomes.push(Outcome {
                name: format!("{prefix}::{check}"),
                ok: true,
                why: String::new(),
            });
        } else if let Some(rest) = line.strip_prefix("not ok - ") {
            let (check, why) = rest.split_once(": ").unwrap_or((rest, "failed"));
            let test = check.split('/').next().unwrap_or(check).to_string();
            failed_checks.push(test);
            outcomes.push(Outcome {
                name: format!("{prefix}::{check}"),
                ok: false,
                why: why.into(),
            });
        } else if let Some(rest) = line.strip_prefix("# exit ") {
            let mut words = rest.split_whitespace();
            if let (Some(name), Some(status)) = (words.next(), words.next()) {
                exits.push((name.to_string(), status.parse().unwrap_or(-1)));
            }
        }
    }
    for test in tests {
        let status = exits.iter().find(|(name, _)| name == test).map(|&(_, s)| s);
        let any_failed = failed_checks.iter().any(|t| t == test);
        let reported = outcomes.iter().any(|o| o.name.starts_with(&format!("{prefix}::{test}/")));
        let (ok, why) = match status {
            None => (false, format!("no report, it never finished: {ended}")),
            Some(0) if reported => (true, String::new()),
            Some(0) => (false, "exited 0 without reporting a check".to_string()),
            Some(1) if any_failed => (true, String::new()),
            Some(137) => (false, "killed: it ran past its timeout".to_string()),
            Some(s) if s > 128 => (false, format!("killed by signal {}", s - 128)),
            Some(s) => (false, format!("exit status {s} without a failed check")),
        };
        let why = if ok { why } else { format!("{why}\n{}", test_lines(lines, test)) };
        outcomes.push(Outcome { name: format!("{prefix}::{test}"), ok, why });
    }
    outcomes
}

/// The last console lines between `# run NAME` and the next `# run` (the
/// benchmark's /init brackets its programs the same way).
pub(crate) fn test_lines(lines: &[String], test: &str) -> String {
    let start = lines.iter().position(|l| *l == format!("# run {test}"));
    let Some(start) = start else { return "(it never started)".into() };
    let end =
        lines[start + 1..].iter().position(|l| l.starts_with("# run ")).map(|i| start + 1 + i);
    tail(&lines[start..end.unwrap_or(lines.len())])
}

/// Writes `user/scripts/NAME.expected` from the `# output NAME` block of
/// each compared script.
fn bless_outputs(lines: &[String], compared: &[String]) -> Result<(), String> {
    for name in compared {
        let begin = format!("# output {name} begin");
        let end = format!("# output {name} end");
        let Some(start) = lines.iter().position(|l| *l == begin) else {
            return Err(format!("--bless: Linux printed no output for {name}"));
        };
        let Some(len) = lines[start + 1..].iter().position(|l| *l == end) else {
            return Err(format!("--bless: the output of {name} is cut short"));
        };
        let mut text = lines[start + 1..start + 1 + len].join("\n");
        text.push('\n');
        let path = workspace_root().join(format!("user/scripts/{name}.expected"));
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("xtask: blessed {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn parses_checks_and_completion() {
        let console = lines(
            "[    1.0] noise\n# run pid\nok - pid/getpid\n# pid: 1 passed, 0 failed\n# exit pid 0\n\
             # run pipe\nok - pipe/a\nnot ok - pipe/b: returned 3 (errno EFAULT)\n# exit pipe 1\n\
             # run mmap\nok - mmap/x\n# exit mmap 139\n# run brk\n",
        );
        let tests: Vec<String> = ["pid", "pipe", "mmap", "brk"].map(String::from).to_vec();
        let outcomes = parse(&console, "linux", &tests, "QEMU ended");
        let get = |name: &str| outcomes.iter().find(|o| o.name == name).expect(name);
        assert!(get("linux::pid/getpid").ok);
        assert!(get("linux::pid").ok);
        assert!(!get("linux::pipe/b").ok);
        assert_eq!(get("linux::pipe/b").why, "returned 3 (errno EFAULT)");
        assert!(get("linux::pipe").ok, "a failed check is not also a failed run");
        assert!(get("linux::mmap").why.starts_with("killed by signal 11"));
        assert!(get("linux::brk").why.starts_with("no report, it never finished: QEMU ended"));
        assert_eq!(outcomes.len(), 8);
    }

    #[test]
    fn silent_success_and_timeout_fail() {
        let console = lines("# run a\n# exit a 0\n# run b\nok - b/x\n# exit b 137\n");
        let tests: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let outcomes = parse(&console, "ferrite", &tests, "QEMU ended");
        let a = outcomes.iter().find(|o| o.name == "ferrite::a").expect("a");
        let b = outcomes.iter().find(|o| o.name == "ferrite::b").expect("b");
        assert!(!a.ok && a.why.starts_with("exited 0 without"));
        assert!(!b.ok && b.why.starts_with("killed: it ran past"));
    }
}

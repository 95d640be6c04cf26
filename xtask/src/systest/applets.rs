//! `cargo xtask applets [--linux] [--ferrite] [--write] [PATTERN]`: the
//! busybox applet matrix, one scripted case per applet of `busybox --list`
//! (`user/applets/`), run on Debian's Linux and on Ferrite in the same QEMU
//! machine, and the table of their results, `docs/applets.md`.
//!
//! One boot per kernel: an initramfs with Debian's static busybox, its
//! applet links, the Linux modules the cases need and `user/applets/` as
//! `/applets/`,
//! booted with `rdinit=/applets/run.sh`; the runner prints one line per
//! applet (`ok - applets/NAME`, `ok - applets/NAME # SKIP why`, `not ok -
//! applets/NAME: why`) and powers off. The scratch disk of the system tests
//! is the guest's vda.
//!
//! `--write` turns a full run on both kernels into `docs/applets.md`: one row
//! per applet with its status on each kernel, the share of the applets that
//! work on Linux which also work on Ferrite, and Ferrite's failures.
//!
//! In `cargo xtask test` ([`tier`]) each kernel's results must match the
//! table's column: `linux::applets/NAME` and `ferrite::applets/NAME` fail on
//! a new failure, and also on a new success (the table must be regenerated
//! to stay true).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::{Kernel, Outcome, build::busybox_root, ferrite_enabled, report, scratch, wait_end};
use crate::deps;
use crate::initramfs::Archive;
use crate::linux::linux_modules;
use crate::qemu::{Boot, Machine};
use crate::test::tail;
use crate::workspace_root;

/// The table, relative to the workspace root.
const TABLE: &str = "docs/applets.md";

/// The runner's last line before it powers off.
const END: &str = "# applets: end";

/// The whole boot: 269 cases, each normally well under a second.
const BOOT_TIMEOUT: Duration = Duration::from_secs(900);

/// What one applet's case said on one kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    Skip(String),
    Fail(String),
}

impl Status {
    fn kind(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Skip(_) => "skip",
            Status::Fail(_) => "fail",
        }
    }

    /// The table cell: `ok`, `skip: why`, `fail: why`.
    fn cell(&self) -> String {
        match self {
            Status::Ok => "ok".into(),
            Status::Skip(why) => format!("skip: {}", escape(why)),
            Status::Fail(why) => format!("fail: {}", escape(why)),
        }
    }

    fn from_cell(cell: &str) -> Option<Status> {
        let cell = cell.trim();
        let why = |prefix: &str| cell.strip_prefix(prefix).map(|w| w.trim().replace("\\|", "|"));
        if cell == "ok" {
            Some(Status::Ok)
        } else if let Some(why) = why("skip:") {
            Some(Status::Skip(why))
        } else {
            why("fail:").map(Status::Fail)
        }
    }
}

/// A reason made safe for a table cell.
fn escape(why: &str) -> String {
    why.replace('|', "\\|").replace('`', "'")
}

/// `cargo xtask applets`.
pub fn cmd_applets(args: &[String]) -> Result<ExitCode, String> {
    let (mut kernels, mut write, mut filter) = (Vec::new(), false, None);
    for arg in args {
        match arg.as_str() {
            "--linux" => kernels.push(Kernel::Linux),
            "--ferrite" => kernels.push(Kernel::Ferrite),
            "--write" => write = true,
            flag if flag.starts_with("--") => {
                return Err(format!(
                    "applets: unknown flag `{flag}`; usage: applets [--linux] [--ferrite] [--write] [PATTERN]"
                ));
            }
            word => filter = Some(word.to_string()),
        }
    }
    if kernels.is_empty() {
        kernels = vec![Kernel::Linux, Kernel::Ferrite];
    }
    if write && (filter.is_some() || kernels.len() != 2) {
        return Err(
            "--write needs a whole run on both kernels (no PATTERN, no --linux/--ferrite)".into()
        );
    }
    let applets = applet_list()?;
    let mut columns = Vec::new();
    for &kernel in &kernels {
        let results = run(kernel, filter.as_deref(), &applets)?;
        for (name, status) in results.iter().filter(|(_, s)| *s != Status::Ok) {
            println!("{}: {name}: {}", kernel.prefix(), status.cell());
        }
        columns.push(results);
    }
    if write {
        let text = table(&applets, &columns[0], &columns[1]);
        let path = workspace_root().join(TABLE);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("xtask: wrote {}", path.display());
    }
    for (results, kernel) in columns.iter().zip(&kernels) {
        let ok = results.iter().filter(|(_, s)| *s == Status::Ok).count();
        println!("{}: {ok} of {} applets ok", kernel.prefix(), results.len());
    }
    if write {
        return Ok(ExitCode::SUCCESS);
    }
    // Without --write: what changed since the table was made.
    let Ok(text) = std::fs::read_to_string(workspace_root().join(TABLE)) else {
        return Ok(ExitCode::SUCCESS);
    };
    let recorded = parse_table(&text);
    let outcomes: Vec<Outcome> = columns
        .iter()
        .zip(&kernels)
        .flat_map(|(results, &kernel)| compare(kernel, &recorded, results))
        .collect();
    Ok(report(&outcomes))
}

/// The tier in `cargo xtask test`: each kernel's results against the table.
pub fn tier() -> Result<Vec<Outcome>, String> {
    println!("== busybox applets (user/applets/ against {TABLE})");
    let path = workspace_root().join(TABLE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        let why = format!("no {TABLE}: make it with `cargo xtask applets --write`");
        return Ok(vec![Outcome { name: "applets table".into(), ok: false, why }]);
    };
    let recorded = parse_table(&text);
    let applets = applet_list()?;
    let mut kernels = vec![Kernel::Linux];
    if ferrite_enabled() {
        kernels.push(Kernel::Ferrite);
    }
    let mut outcomes = Vec::new();
    for kernel in kernels {
        let results = run(kernel, None, &applets)?;
        outcomes.extend(compare(kernel, &recorded, &results));
    }
    Ok(outcomes)
}

/// One outcome per applet: `results` against the table's column.
fn compare(
    kernel: Kernel,
    recorded: &[(String, Status, Status)],
    results: &[(String, Status)],
) -> Vec<Outcome> {
    let regenerate = "regenerate docs/applets.md with `cargo xtask applets --write`";
    let mut outcomes = Vec::new();
    for (name, now) in results {
        let row = recorded.iter().find(|(n, _, _)| n == name);
        let then =
            row.map(|(_, linux, ferrite)| if kernel == Kernel::Linux { linux } else { ferrite });
        let (ok, why) = match then {
            None => (false, format!("not in the table: {regenerate}")),
            Some(then) if then.kind() == now.kind() => (true, String::new()),
            Some(Status::Ok) => (false, format!("worked, now {}", now.cell())),
            Some(then) => {
                (false, format!("the table says {}, now {}: {regenerate}", then.cell(), now.cell()))
            }
        };
        outcomes.push(Outcome { name: format!("{}::applets/{name}", kernel.prefix()), ok, why });
    }
    outcomes
}

/// The applets of the busybox the initramfs packs, sorted as the runner
/// sorts them.
fn applet_list() -> Result<Vec<String>, String> {
    deps::ensure(&[deps::BUSYBOX])?;
    let out = std::process::Command::new(deps::BUSYBOX.program)
        .arg("--list")
        .output()
        .map_err(|e| format!("cannot run busybox: {e}"))?;
    let mut names: Vec<String> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().to_string()).collect();
    names.retain(|n| !n.is_empty());
    names.sort();
    Ok(names)
}

/// Boots `kernel` with the applet runner; one status per applet it was
/// asked to run (those matching `filter`, a shell pattern, or all), in the
/// runner's order. An applet without a line (the boot ended early) fails.
fn run(
    kernel: Kernel,
    filter: Option<&str>,
    applets: &[String],
) -> Result<Vec<(String, Status)>, String> {
    deps::ensure(&[deps::QEMU])?;
    let archive = pack(kernel)?;
    let image = kernel.image()?;
    // Sixteen RAM disks, as Debian's brd module makes (Ferrite's built-in
    // brd makes none unless asked).
    let mut cmdline = format!("{} rdinit=/applets/run.sh brd.rd_nr=16", super::CMDLINE);
    if let Some(f) = filter {
        cmdline += &format!(" applets_filter={f}");
    }
    if kernel == Kernel::Linux {
        cmdline += " applets_modules=1";
    }
    let mut machine = Machine::new(&image, &cmdline);
    machine.initrd = Some(archive.clone());
    let name = format!("scratch-applets-{}-{}.img", kernel.prefix(), std::process::id());
    let disk = scratch::write(&archive.with_file_name(name))?;
    machine.disk = Some(disk.clone());
    eprintln!("xtask: booting {} with the applet runner", kernel.prefix());
    let started = Instant::now();
    let mut qemu = Boot::start(&machine)?;
    let ended = wait_end(&mut qemu, END, &|_| false, BOOT_TIMEOUT);
    if let Some(why) = &ended {
        eprintln!(
            "xtask: {}: {why}; last console lines:\n{}",
            kernel.prefix(),
            tail(&qemu.console)
        );
    }
    // One log per kernel and filter: runs with different filters go on side by side.
    let safe: String = filter
        .unwrap_or("")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let suffix = if filter.is_some() { format!("-{safe}") } else { String::new() };
    let log = archive.with_file_name(format!("console-applets-{}{suffix}.log", kernel.prefix()));
    let _ = std::fs::write(&log, qemu.console.join("\n") + "\n");
    let lines = std::mem::take(&mut qemu.console);
    drop(qemu);
    let _ = std::fs::remove_file(&disk);
    eprintln!(
        "xtask: {}: applets done in {:.1} s (console in {})",
        kernel.prefix(),
        started.elapsed().as_secs_f64(),
        log.display()
    );
    let seen = parse_lines(&lines);
    let ended = ended.unwrap_or_else(|| "the runner skipped it".into());
    let wanted: Vec<&String> = if filter.is_some() {
        // The guest applied the pattern: what it reported is what it ran.
        applets.iter().filter(|a| seen.iter().any(|(n, _)| n == *a)).collect()
    } else {
        applets.iter().collect()
    };
    Ok(wanted
        .into_iter()
        .map(|a| {
            let status = seen.iter().find(|(n, _)| n == a).map(|(_, s)| s.clone());
            (a.clone(), status.unwrap_or_else(|| Status::Fail(format!("no result: {ended}"))))
        })
        .collect())
}

/// Packs `target/systest/applets-KERNEL.cpio`: the busybox root,
/// `user/applets/` as `/applets/`, Linux's disk modules and the module
/// applets' crc7.ko of `kernel` (each kernel loads only its own modules).
fn pack(kernel: Kernel) -> Result<PathBuf, String> {
    let root = workspace_root();
    let out = root.join("target/systest");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut cpio = Archive::new();
    busybox_root(&mut cpio)?;
    cpio.dir("applets", 0o755);
    for name in ["run.sh", "cases_a_k.sh", "cases_l_z.sh"] {
        let source = root.join("user/applets").join(name);
        if source.is_file() {
            cpio.file_from(&format!("applets/{name}"), 0o755, &source)?;
        }
    }
    pack_linux_modules(&mut cpio, kernel)?;
    let archive = out.join(format!("applets-{}.cpio", kernel.prefix()));
    cpio.write(&archive)?;
    Ok(archive)
}

/// Modules of Debian's Linux the applets need, in load order (`modinfo -F
/// depends`): the disk, ext2 (ext4), FAT, loop and RAM disks, tun, bridges.
/// Ferrite has these built in.
const LINUX_LOADED: [&str; 17] = [
    "crc16",
    "mbcache",
    "jbd2",
    "crc32c_generic",
    "ext4",
    "fat",
    "vfat",
    "nls_cp437",
    "nls_utf8",
    "nls_iso8859-1",
    "nls_ascii",
    "loop",
    "brd",
    "tun",
    "llc",
    "stp",
    "bridge",
];

/// Linux modules packed but not loaded, in `/lib/modules/extra/`: for the
/// module applets (insmod, rmmod, modprobe, modinfo) to load and unload.
const LINUX_EXTRA: [&str; 1] = ["crc7"];

/// Packs Linux's modules as `/lib/modules/NAME.ko`, `modules.order` listing
/// those the runner loads at boot (`applets_modules=1`, Linux's boot only),
/// and `kernel`'s own [`LINUX_EXTRA`] in `/lib/modules/extra/`: Ferrite's
/// are built from `modules/` (xtask/src/modules.rs).
/// Without Debian's kernel package, a warning: Linux's cases then fail.
fn pack_linux_modules(cpio: &mut Archive, kernel: Kernel) -> Result<(), String> {
    let loaded: Vec<&str> =
        scratch::LINUX_DISK_MODULES.iter().chain(&LINUX_LOADED).copied().collect();
    let (modules, extra) = match (linux_modules(&loaded), linux_modules(&LINUX_EXTRA)) {
        (Ok(m), Ok(e)) => (m, e),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("xtask: warning: no Linux modules in the applet initramfs: {e}");
            return Ok(());
        }
    };
    cpio.dir("lib", 0o755).dir("lib/modules", 0o755).dir("lib/modules/extra", 0o755);
    let mut order = String::new();
    for (name, bytes) in modules {
        cpio.file(&format!("lib/modules/{name}.ko"), 0o644, bytes);
        order += &format!("{name}\n");
    }
    cpio.file("lib/modules/modules.order", 0o644, order.into_bytes());
    for (name, bytes) in extra {
        let bytes = match kernel {
            Kernel::Linux => bytes,
            Kernel::Ferrite => crate::modules::module_bytes(&name)?,
        };
        cpio.file(&format!("lib/modules/extra/{name}.ko"), 0o644, bytes);
    }
    Ok(())
}

/// The runner's result lines, as (applet, status).
fn parse_lines(lines: &[String]) -> Vec<(String, Status)> {
    let mut seen = Vec::new();
    for line in lines {
        let line = line.trim_end();
        if let Some(rest) = line.strip_prefix("ok - applets/") {
            match rest.split_once(" # SKIP") {
                Some((name, why)) => seen.push((name.to_string(), Status::Skip(why.trim().into()))),
                None => seen.push((rest.to_string(), Status::Ok)),
            }
        } else if let Some(rest) = line.strip_prefix("not ok - applets/") {
            let (name, why) = rest.split_once(": ").unwrap_or((rest, "failed"));
            seen.push((name.to_string(), Status::Fail(why.to_string())));
        }
    }
    seen
}

/// The text of `docs/applets.md`.
fn table(applets: &[String], linux: &[(String, Status)], ferrite: &[(String, Status)]) -> String {
    let get = |results: &[(String, Status)], name: &str| {
        results
            .iter()
            .find(|(n, _)| n == name)
            .map_or(Status::Fail("not run".into()), |(_, s)| s.clone())
    };
    let rows: Vec<(&String, Status, Status)> =
        applets.iter().map(|a| (a, get(linux, a), get(ferrite, a))).collect();
    let on_linux: Vec<_> = rows.iter().filter(|(_, l, _)| *l == Status::Ok).collect();
    let both = on_linux.iter().filter(|(_, _, f)| *f == Status::Ok).count();
    let percent =
        if on_linux.is_empty() { 0.0 } else { 100.0 * both as f64 / on_linux.len() as f64 };
    let mut text = String::from(
        "# Busybox applets on Linux and on Ferrite\n\n\
         <!-- Generated by `cargo xtask applets --write` (xtask/src/systest/applets.rs)\n\
         from the cases in user/applets/. Do not edit by hand: regenerate it. -->\n\n\
         Each applet of Debian's static busybox (`busybox --list`) has a scripted case in\n\
         `user/applets/` (`case_NAME` in `cases_a_k.sh` or `cases_l_z.sh`), run by\n\
         `user/applets/run.sh` as PID 1 of the same initramfs on Debian's Linux and on Ferrite\n\
         in the same QEMU machine. `skip` means the machine has no such hardware or the applet\n\
         cannot run unattended on either kernel. `cargo xtask test` checks that both kernels\n\
         still give these results.\n\n",
    );
    text += &format!(
        "**{both} of {} applets that work on Linux work on Ferrite ({percent:.1}%).**\n\n",
        on_linux.len()
    );
    text += "| Applet | Linux | Ferrite |\n|---|---|---|\n";
    for (name, l, f) in &rows {
        text += &format!("| `{name}` | {} | {} |\n", l.cell(), f.cell());
    }
    text += "\n## Applets that work on Linux and not on Ferrite\n\n";
    for (name, _, f) in on_linux.iter().filter(|(_, _, f)| *f != Status::Ok) {
        text += &format!("- `{name}`: {}\n", f.cell());
    }
    let linux_fails: Vec<_> =
        rows.iter().filter(|(_, l, _)| matches!(l, Status::Fail(_))).collect();
    if !linux_fails.is_empty() {
        text += "\n## Applets that fail on Linux too (not counted)\n\n";
        for (name, l, _) in linux_fails {
            text += &format!("- `{name}`: {}\n", l.cell());
        }
    }
    text
}

/// The rows of `docs/applets.md`: (applet, Linux, Ferrite).
fn parse_table(text: &str) -> Vec<(String, Status, Status)> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("| `") else { continue };
        let Some((name, rest)) = rest.split_once("` |") else { continue };
        let cells = split_cells(rest);
        if let [linux, ferrite, ..] = &cells[..]
            && let (Some(l), Some(f)) = (Status::from_cell(linux), Status::from_cell(ferrite))
        {
            rows.push((name.to_string(), l, f));
        }
    }
    rows
}

/// Splits a row's rest at the `|` that are not escaped as `\|`.
fn split_cells(rest: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut escaped = false;
    for c in rest.chars() {
        match c {
            '|' if !escaped => cells.push(String::new()),
            _ => {
                if let Some(cell) = cells.last_mut() {
                    cell.push(c);
                }
            }
        }
        escaped = c == '\\';
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn parses_the_runner_lines() {
        let seen = parse_lines(&lines(
            "# applets: start\nok - applets/[\nnot ok - applets/ip: ip: socket: x: y\n\
             ok - applets/i2cget # SKIP no i2c bus\n# | noise\nnot ok - applets/nc\n",
        ));
        assert_eq!(seen[0], ("[".to_string(), Status::Ok));
        assert_eq!(seen[1], ("ip".to_string(), Status::Fail("ip: socket: x: y".into())));
        assert_eq!(seen[2], ("i2cget".to_string(), Status::Skip("no i2c bus".into())));
        assert_eq!(seen[3], ("nc".to_string(), Status::Fail("failed".into())));
        assert_eq!(seen.len(), 4);
    }

    #[test]
    fn the_table_round_trips_and_counts() {
        let applets: Vec<String> = ["[", "awk", "ip", "wall"].map(String::from).to_vec();
        let linux = vec![
            ("[".to_string(), Status::Ok),
            ("awk".to_string(), Status::Ok),
            ("ip".to_string(), Status::Ok),
            ("wall".to_string(), Status::Fail("no utmp".into())),
        ];
        let ferrite = vec![
            ("[".to_string(), Status::Ok),
            ("awk".to_string(), Status::Ok),
            ("ip".to_string(), Status::Fail("socket | AF_INET: `x`".into())),
            ("wall".to_string(), Status::Skip("n/a".into())),
        ];
        let text = table(&applets, &linux, &ferrite);
        assert!(text.contains("2 of 3 applets that work on Linux work on Ferrite (66.7%)"));
        assert!(text.contains("- `ip`: fail: socket \\| AF_INET: 'x'"));
        let rows = parse_table(&text);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[2].2, Status::Fail("socket | AF_INET: 'x'".into()));
        assert_eq!(rows[3].1, Status::Fail("no utmp".into()));
        assert_eq!(rows[3].2, Status::Skip("n/a".into()));
    }

    #[test]
    fn a_change_either_way_fails_the_tier() {
        let recorded = vec![
            ("a".to_string(), Status::Ok, Status::Ok),
            ("b".to_string(), Status::Ok, Status::Fail("x".into())),
            ("c".to_string(), Status::Ok, Status::Fail("x".into())),
        ];
        let now = vec![
            ("a".to_string(), Status::Fail("broke".into())),
            ("b".to_string(), Status::Ok),
            ("c".to_string(), Status::Fail("other reason".into())),
            ("d".to_string(), Status::Ok),
        ];
        let outcomes = compare(Kernel::Ferrite, &recorded, &now);
        let ok: Vec<bool> = outcomes.iter().map(|o| o.ok).collect();
        assert_eq!(ok, [false, false, true, false]);
        assert_eq!(outcomes[0].name, "ferrite::applets/a");
        assert!(outcomes[1].why.contains("regenerate"));
        assert!(outcomes[3].why.contains("not in the table"));
    }
}

//! The boot rows of `cargo xtask bench`: each kernel boots with the
//! boot-time initramfs, whose /init (user/bench/poweroff.c) prints a first
//! line, the memory in use from /proc/meminfo, and powers off. Timed from the
//! spawn of QEMU:
//! - to init's first line ("boot to init's first line"), the figure issue 4
//!   asks for;
//! - to the console line that ends the kernel's own initialisation,
//!   "Kernel initialisation done" for Ferrite (end of `start_kernel`) and
//!   "Run /init as init process" for Linux (`kernel_init`, right before it
//!   execs init), and the printk timestamp on that line, the kernel's own
//!   count without QEMU's and the firmware's start-up;
//! - to QEMU's exit after the power-off.
//!
//! Memory in use after boot is the machine's RAM (`-m`) less MemFree from
//! /proc/meminfo as init sees it: everything not free, the kernel's image,
//! its page descriptors and reserved ranges included (MemTotal leaves
//! those out, differently on each kernel), and the firmware's holes, the
//! same on both.

use std::time::Duration;

use super::table::{Cell, Figure, Row, Unit};
use crate::qemu::{Boot, Machine};
use crate::systest::FATAL;
use crate::test::tail;

const FERRITE_MARKER: &str = "Kernel initialisation done";
const LINUX_MARKER: &str = "Run /init as init process";
const FIRST_LINE: &str = "# init: first line";
/// Linux as a bzImage decompresses itself first: about 5 s under TCG.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// One kernel's boot figures over the runs, in seconds (memory in KiB).
#[derive(Default, Clone)]
pub struct BootFigures {
    pub first_line: Figure,
    pub kernel_init: Figure,
    pub kernel_init_printk: Figure,
    pub exit: Figure,
    pub memory_used: Figure,
}

/// One boot's figures.
struct Times {
    first_line: f64,
    kernel_init: Option<f64>,
    kernel_init_printk: Option<f64>,
    exit: f64,
    memory_used: Option<f64>,
}

/// Boots each of `machines` (label, machine, is it Ferrite) `runs` times,
/// taking turns; a failed boot is reported and counted, as the latency
/// rows' are.
pub fn measure(machines: &[(&str, &Machine, bool)], runs: usize) -> Vec<BootFigures> {
    let mut figures = vec![BootFigures::default(); machines.len()];
    for run in 1..=runs {
        let mut summary = Vec::new();
        for (&(kernel, machine, ferrite), figures) in machines.iter().zip(&mut figures) {
            match boot(machine, if ferrite { FERRITE_MARKER } else { LINUX_MARKER }) {
                Ok(t) => {
                    summary.push(format!("{kernel} {:.3} s", t.first_line));
                    figures.first_line.ok.push(t.first_line);
                    figures.exit.ok.push(t.exit);
                    figures.kernel_init.ok.extend(t.kernel_init);
                    figures.kernel_init_printk.ok.extend(t.kernel_init_printk);
                    figures.memory_used.ok.extend(t.memory_used);
                }
                Err(why) => {
                    eprintln!("xtask: {kernel}, boot run {run}: {why}");
                    summary.push(format!("{kernel} failed"));
                    for figure in [&mut figures.first_line, &mut figures.exit] {
                        figure.failed += 1;
                    }
                }
            }
        }
        eprintln!("xtask: run {run}/{runs}: boot to init's first line: {}", summary.join(", "));
    }
    figures
}

impl BootFigures {
    /// The rows for Ferrite (`self`) against `others`, each row's cells in
    /// that order.
    pub fn rows(&self, others: &[&BootFigures]) -> Vec<Row> {
        let row = |figure: &str, unit, pick: fn(&BootFigures) -> &Figure| {
            let mut figures = vec![pick(self)];
            figures.extend(others.iter().map(|o| pick(o)));
            Row::of(figure, unit, &figures)
        };
        vec![
            row("boot to init's first line", Unit::Seconds, |b| &b.first_line),
            row("boot to end of kernel init", Unit::Seconds, |b| &b.kernel_init),
            row("  the kernel's own clock then", Unit::Seconds, |b| &b.kernel_init_printk),
            row("QEMU start to exit after power-off", Unit::Seconds, |b| &b.exit),
            row("memory in use after boot", Unit::Size, |b| &b.memory_used),
        ]
    }

    /// The first-line row against Linux booted another way (the bzImage):
    /// Ferrite's cell, that kernel's, and `-` for the other columns.
    pub fn first_line_row(&self, label: &str, other: &BootFigures, columns: usize) -> Row {
        let mut cells = vec![Cell::of(&self.first_line), Cell::of(&other.first_line)];
        cells.resize(columns, Cell::None);
        Row::new(label, Unit::Seconds, cells)
    }
}

/// Boots `machine` once: times init's first line, `marker`, and QEMU's exit.
fn boot(machine: &Machine, marker: &str) -> Result<Times, String> {
    let mut qemu = Boot::start(machine)?;
    let fatal = |line: &str| FATAL.iter().any(|f| line.contains(f));
    let mut kernel_init = None;
    let mut kernel_init_printk = None;
    let first_line = loop {
        let Some(at) =
            qemu.wait_for(|l| l.contains(marker) || l == FIRST_LINE || fatal(l), RUN_TIMEOUT)
        else {
            return Err(format!(
                "no \"{FIRST_LINE}\" within {RUN_TIMEOUT:?}; last console lines:\n{}",
                tail(&qemu.console)
            ));
        };
        let line = qemu.console.last().cloned().unwrap_or_default();
        if line == FIRST_LINE {
            break at.as_secs_f64();
        }
        if fatal(&line) {
            qemu.wait_for(|_| false, Duration::from_secs(2));
            return Err(format!(
                "the kernel stopped; last console lines:\n{}",
                tail(&qemu.console)
            ));
        }
        kernel_init = Some(at.as_secs_f64());
        kernel_init_printk = printk_timestamp(&line);
    };
    let exit = match qemu.wait_exit(RUN_TIMEOUT) {
        Some((0, at)) => at.as_secs_f64(),
        other => return Err(format!("QEMU did not power off cleanly: {other:?}")),
    };
    Ok(Times {
        first_line,
        kernel_init,
        kernel_init_printk,
        exit,
        memory_used: memory_used(&qemu.console, machine.memory_mib),
    })
}

/// `ram_mib` less MemFree, in KiB, from init's `# meminfo` lines.
fn memory_used(console: &[String], ram_mib: u32) -> Option<f64> {
    let field = |name: &str| {
        console.iter().find_map(|line| {
            let rest = line.strip_prefix("# meminfo ")?.strip_prefix(name)?;
            rest.trim().strip_suffix("kB")?.trim().parse::<f64>().ok()
        })
    };
    Some(f64::from(ram_mib) * 1024.0 - field("MemFree:")?)
}

/// The `[    1.234567]` timestamp that starts a printk line, in seconds.
fn printk_timestamp(line: &str) -> Option<f64> {
    let inside = line.trim_start().strip_prefix('[')?.split(']').next()?;
    let (secs, micros) = inside.trim().split_once('.')?;
    let micros: u64 = micros.parse().ok()?;
    let secs: u64 = secs.parse().ok()?;
    Some((Duration::from_secs(secs) + Duration::from_micros(micros)).as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_printk_timestamps() {
        assert_eq!(printk_timestamp("[    2.870123] Run /init as init process"), Some(2.870123));
        assert_eq!(printk_timestamp("no timestamp here"), None);
        assert_eq!(printk_timestamp("[ bad.x] text"), None);
    }

    #[test]
    fn reads_memory_in_use() {
        let console: Vec<String> =
            ["# init: first line", "# meminfo MemTotal:  1000 kB", "# meminfo MemFree: 250 kB"]
                .map(String::from)
                .to_vec();
        assert_eq!(memory_used(&console, 1), Some(774.0));
        assert_eq!(memory_used(&console[..2], 1), None);
    }
}

//! `cargo xtask bench [--runs N]`: Ferrite and Debian's Linux side by side in
//! the same QEMU machine (`qemu::Machine`, same flags for all), each figure
//! with the ratio of Ferrite's to Linux's. Under TCG absolute times mean
//! little; the ratio is the result (DESIGN.md §4).
//!
//! Linux runs three ways: as Debian ships it, uncompressed (the vmlinux
//! from its bzImage, booted through PVH as Ferrite is); the same with
//! `mitigations=off`, so that the comparison is honest in both directions;
//! and, for the boot row only, as Debian's bzImage itself.
//!
//! Three tables, each also drawn in the plot:
//! - boot and size (bench/boot.rs, bench/footprint.rs): QEMU's start to
//!   init's first line, to the end of the kernel's initialisation, to
//!   QEMU's exit; memory in use after boot; image sizes; the smallest `-m`
//!   that runs a busybox shell and the test script;
//! - latency and bandwidth with 1 vCPU (bench/latency.rs): lmbench-style
//!   figures timed inside the guest by the programs of user/bench/; figures
//!   Ferrite cannot run yet get a row that says what it lacks;
//! - the same with 2 vCPUs, Ferrite against Linux as shipped;
//! - storage (bench/storage.rs): page-cache and disk bandwidth, cold and
//!   mmap reads, create/delete and fsync on a fresh ext2 virtio disk per
//!   boot, Ferrite against Linux as shipped (`--storage`: only these rows).
//!
//! Runs take turns between the kernels, so that a busy moment of the host
//! hits all alike; each figure is the median of N runs (default 6) and the
//! minimum. A benchmark that fails on a kernel in any run shows "failed" in
//! its cell (the reason and its console lines go to stderr) and makes the
//! command fail, after the whole table. The tables are also written as
//! Markdown to `target/bench/bench.md`, with the date and the QEMU command
//! lines, and plotted in `target/bench/bench.svg`.

mod boot;
mod footprint;
mod initramfs;
mod latency;
mod plot;
mod storage;
mod table;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::build::{Profile, build_kernel};
use crate::qemu::Machine;
use crate::{deps, linux, workspace_root};
use table::Table;

const CMDLINE: &str = "console=ttyS0";
const MITIGATIONS_OFF: &str = "mitigations=off";
const DEFAULT_RUNS: usize = 6;
/// The vCPUs of the second latency table.
const SMP: u32 = 2;

/// The kernel images compared.
struct Images {
    ferrite: PathBuf,
    vmlinux: PathBuf,
    bzimage: PathBuf,
}

/// `cargo xtask bench`.
pub fn cmd_bench(args: &[String]) -> Result<ExitCode, String> {
    let (runs, only_storage) = parse_args(args)?;
    deps::ensure(&[deps::QEMU])?;
    let images = Images {
        ferrite: build_kernel(Profile::Release)?,
        vmlinux: linux::linux_vmlinux()?,
        bzimage: linux::linux_bzimage()?,
    };
    let linux = format!("Linux {}", linux_version(&images.vmlinux));
    let columns = vec![
        ("Ferrite".to_string(), "F".to_string()),
        (linux.clone(), "L".to_string()),
        (format!("{linux} {MITIGATIONS_OFF}"), "L off".to_string()),
    ];
    let mut owned = Vec::new();
    if !only_storage {
        owned.push(boot_and_size(&images, &columns, runs)?);
        let (latency_table, smp_table) = latency_tables(&images, &columns, runs)?;
        owned.extend([latency_table, smp_table]);
    }
    owned.push(storage_table(&images, &columns, runs)?);
    let tables: Vec<&Table> = owned.iter().collect();
    print_header(&images, runs);
    for table in &tables {
        table.print();
    }
    let (markdown, svg) = write_outputs(&images, runs, &tables)?;
    println!("The tables as Markdown: {}", markdown.display());
    println!("The plot: {}", svg.display());
    let failed = tables.iter().flat_map(|t| &t.rows).filter(|r| r.failed()).count();
    if failed > 0 {
        eprintln!("xtask: {failed} benchmark(s) failed on a kernel; see above for why");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// A machine booting `kernel` with `initrd`, `cmdline` and `smp` vCPUs.
fn machine(kernel: &Path, cmdline: &str, initrd: &Path, smp: u32) -> Machine {
    let mut machine = Machine::new(kernel, cmdline);
    machine.initrd = Some(initrd.to_path_buf());
    machine.smp = smp;
    machine
}

/// The boot and size table: boots of all three kernels (and the bzImage),
/// image sizes, the smallest memory.
fn boot_and_size(
    images: &Images,
    columns: &[(String, String)],
    runs: usize,
) -> Result<Table, String> {
    let initrd = initramfs::poweroff_initramfs()?;
    let off = format!("{CMDLINE} {MITIGATIONS_OFF}");
    let ferrite = machine(&images.ferrite, CMDLINE, &initrd, 1);
    let vmlinux = machine(&images.vmlinux, CMDLINE, &initrd, 1);
    let vmlinux_off = machine(&images.vmlinux, &off, &initrd, 1);
    let bzimage = machine(&images.bzimage, CMDLINE, &initrd, 1);
    let figures = boot::measure(
        &[
            ("Ferrite", &ferrite, true),
            ("Linux", &vmlinux, false),
            ("Linux mitigations=off", &vmlinux_off, false),
            ("Linux bzImage", &bzimage, false),
        ],
        runs,
    );
    let [f, l, l_off, l_bz] = &figures[..] else { unreachable!("four kernels were booted") };
    let mut rows = f.rows(&[l, l_off]);
    let bz_label = "boot to init's first line, Linux as bzImage";
    rows.insert(1, f.first_line_row(bz_label, l_bz, columns.len()));
    rows.extend(footprint::image_rows(
        &images.ferrite,
        &images.vmlinux,
        &images.bzimage,
        columns.len(),
    ));
    let minmem = footprint::minmem_initramfs()?;
    let mut probes = [
        ("Ferrite", machine(&images.ferrite, CMDLINE, &minmem, 1)),
        ("Linux", machine(&images.vmlinux, CMDLINE, &minmem, 1)),
    ];
    rows.push(footprint::minmem_row(&mut probes, columns.len()));
    let title = format!("Boot and size, 1 vCPU, -m {} (smallest -m: searched)", ferrite.memory_mib);
    Ok(Table { title, columns: columns.to_vec(), rows })
}

/// The latency tables: 1 vCPU with all three kernels, then [`SMP`] vCPUs
/// with Ferrite and Linux as shipped.
fn latency_tables(
    images: &Images,
    columns: &[(String, String)],
    runs: usize,
) -> Result<(Table, Table), String> {
    let initrd = initramfs::latency_initramfs(&latency::names())?;
    let off = format!("{} {MITIGATIONS_OFF}", latency::CMDLINE);
    let ferrite = machine(&images.ferrite, latency::CMDLINE, &initrd, 1);
    let linux = machine(&images.vmlinux, latency::CMDLINE, &initrd, 1);
    let linux_off = machine(&images.vmlinux, &off, &initrd, 1);
    let one = latency::measure(
        &[("Ferrite", &ferrite), ("Linux", &linux), ("Linux mitigations=off", &linux_off)],
        runs,
    );
    let ferrite_smp = machine(&images.ferrite, latency::CMDLINE, &initrd, SMP);
    let linux_smp = machine(&images.vmlinux, latency::CMDLINE, &initrd, SMP);
    let smp = latency::measure(
        &[
            (&format!("Ferrite, {SMP} vCPUs"), &ferrite_smp),
            (&format!("Linux, {SMP} vCPUs"), &linux_smp),
        ],
        runs,
    );
    let one = Table {
        title: "Latency and bandwidth, 1 vCPU".to_string(),
        columns: columns.to_vec(),
        rows: one.rows(),
    };
    let smp = Table {
        title: format!(
            "Latency and bandwidth, {SMP} vCPUs (Ferrite does not bring up the second CPU yet)"
        ),
        columns: columns[..2].to_vec(),
        rows: smp.rows(),
    };
    Ok((one, smp))
}

/// The storage table (bench/storage.rs): Ferrite and Linux as shipped,
/// each boot on a fresh ext2 disk.
fn storage_table(
    images: &Images,
    columns: &[(String, String)],
    runs: usize,
) -> Result<Table, String> {
    let [ferrite, linux] = storage::machines(&images.ferrite, &images.vmlinux)?;
    let samples = storage::measure(&[("Ferrite", &ferrite), ("Linux", &linux)], runs);
    Ok(Table {
        title: "Storage (ext2 on virtio-blk), 1 vCPU".to_string(),
        columns: columns[..2].to_vec(),
        rows: samples.rows(),
    })
}

/// `[--runs N] [--storage]`: the runs per figure, and whether to measure
/// the storage rows only.
fn parse_args(args: &[String]) -> Result<(usize, bool), String> {
    let (mut runs, mut only_storage) = (DEFAULT_RUNS, false);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let value = match arg.strip_prefix("--runs=") {
            Some(value) => Some(value),
            None if arg == "--runs" => rest.next().map(String::as_str),
            None if arg == "--storage" => {
                only_storage = true;
                continue;
            }
            None => {
                return Err(format!(
                    "bench: unknown argument `{arg}`; usage: bench [--runs N] [--storage]"
                ));
            }
        };
        runs = value.and_then(|n| n.parse().ok()).filter(|&n| n > 0).ok_or("--runs needs N > 0")?;
    }
    Ok((runs, only_storage))
}

fn print_header(images: &Images, runs: usize) {
    println!();
    println!("Ferrite: {}", images.ferrite.display());
    println!("Linux:   {} (Debian's, uncompressed, booted through PVH)", images.vmlinux.display());
    println!("         {} (Debian's bzImage, first boot row only)", images.bzimage.display());
    println!(
        "QEMU: q35, TCG, -cpu max, 1 GiB, -append \"{CMDLINE}\" (latency rows: \"{}\"); \
         median of {runs} runs, minimum in brackets",
        latency::CMDLINE
    );
    println!();
}

/// Writes `target/bench/bench.md` (the date, the machines and the tables)
/// and `target/bench/bench.svg` (the plot).
fn write_outputs(
    images: &Images,
    runs: usize,
    tables: &[&Table],
) -> Result<(PathBuf, PathBuf), String> {
    let command = |kernel: &Path, cmdline: &str| {
        let machine = Machine::new(kernel, cmdline);
        let command = machine.command();
        let args = command.get_args().map(|a| a.to_string_lossy().into_owned());
        std::iter::once(command.get_program().to_string_lossy().into_owned())
            .chain(args)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut text = format!(
        "# `cargo xtask bench`, {date} (UTC)\n\n\
         Ferrite against Debian's Linux in the same QEMU machine; Linux uncompressed and \
         booted through PVH as Ferrite is, as shipped and with `{MITIGATIONS_OFF}` (and as \
         a bzImage in one boot row). Each cell: the median of {runs} runs and, in brackets, \
         the best run. Ratio: Ferrite/Linux of the medians (times and sizes: below 1 is \
         better; bandwidths, in MiB/s: above 1 is better). Halves differ: how far apart the \
         medians of the odd-numbered and the even-numbered runs are on each kernel, a \
         stand-in for two runs of the command; \"noisy\" past 10%. Plot: `bench.svg`.\n\n\
         Ferrite: `{ferrite}`\n\n\
         Linux: `{linux}` (with `-initrd`; the boot rows' /init is user/bench/poweroff.c, \
         the latency rows' user/init/bench.sh with `-append \"{latency}\"`, the smallest-memory \
         rows' user/init/minmem.sh; -smp {SMP} for the 2-vCPU table; the storage rows' \
         bench.sh with `-append \"{storage}\"` (Linux: and `bench_modules=1`) and a fresh \
         {image_mib} MiB ext2 image as a virtio-blk disk per boot)\n\n",
        date = utc_date_time(std::time::SystemTime::now()),
        ferrite = command(&images.ferrite, CMDLINE),
        linux = command(&images.vmlinux, CMDLINE),
        latency = latency::CMDLINE,
        storage = storage::CMDLINE,
        image_mib = storage::IMAGE_MIB,
    );
    for table in tables {
        text.push_str(&table.markdown());
        text.push('\n');
    }
    let dir = workspace_root().join("target/bench");
    let (markdown, svg) = (dir.join("bench.md"), dir.join("bench.svg"));
    std::fs::write(&markdown, text).map_err(|e| format!("{}: {e}", markdown.display()))?;
    std::fs::write(&svg, plot::svg(tables)).map_err(|e| format!("{}: {e}", svg.display()))?;
    Ok((markdown, svg))
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
    use std::time::Duration;

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
        assert_eq!(parse_args(&args(&[])), Ok((DEFAULT_RUNS, false)));
        assert_eq!(parse_args(&args(&["--runs", "3"])), Ok((3, false)));
        assert_eq!(parse_args(&args(&["--runs=7", "--storage"])), Ok((7, true)));
        assert!(parse_args(&args(&["--runs", "0"])).is_err());
        assert!(parse_args(&args(&["--fast"])).is_err());
    }
}

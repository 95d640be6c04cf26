//! The storage rows of `cargo xtask bench` (issue 6): page-cache and disk
//! bandwidth, cold reads, mmap reads, file create/delete and fsync latency
//! on an ext2 file system on a virtio-blk disk, measured by
//! `user/bench/fs_bench.c` in one boot per kernel per run.
//!
//! Each boot gets a fresh image, `mke2fs -t ext2 -b 4096 -O ^dir_index`
//! of [`IMAGE_MIB`] MiB (4 KiB blocks as on any disk of today; no hashed
//! directories, which Ferrite's ext2 and Linux's own ext2 driver do not
//! keep, as in image.rs), attached as `vda`. The bench /init
//! (user/init/bench.sh with `bench_disk=1`) mounts it on /mnt and runs
//! fs_bench; Debian's Linux first loads virtio_blk and ext4 from the
//! initramfs (`bench_modules=1` on its command line only: Ferrite has the
//! drivers built in). When the mount fails, /init says why on a
//! `# bench: disk:` line: on Ferrite every row then says what it lacks
//! ("not yet"), on Linux they fail. A figure that finds the kernel unable
//! to give it its meaning prints `bench NAME lacks: what` (fs_read_cold,
//! when umount leaves the file cached): the same, for that row.
//!
//! Two columns only, Ferrite and Linux as shipped, to keep the rows' time
//! down (a boot each, plus the image).

use std::path::Path;
use std::process::Command;

use super::latency::{self, Benchmark};
use super::table::{Cell, Figure, Row, Unit};
use crate::deps::{self, MKE2FS};
use crate::qemu::Machine;
use crate::systest::scratch::LINUX_DISK_MODULES;
use crate::{linux, run_checked, workspace_root};

/// The program and its figures, in the table's order.
pub const BENCHMARKS: [Benchmark; 7] = [
    fs("fs_write_cached", "write 16 MiB, page cache (no sync)", Unit::Bandwidth),
    fs("fs_write_fsync", "write 16 MiB + fsync, to the disk", Unit::Bandwidth),
    fs("fs_read_cached", "read 16 MiB, cached", Unit::Bandwidth),
    fs("fs_read_cold", "read 16 MiB after umount + mount (cold)", Unit::Bandwidth),
    fs("fs_mmap_read", "mmap read 16 MiB, cached", Unit::Bandwidth),
    fs("fs_create_delete", "create + delete an empty file (1000 in a dir)", Unit::Rate),
    fs("fs_fsync_4k", "overwrite 4 KiB + fsync", Unit::Latency),
];

const fn fs(name: &'static str, figure: &'static str, unit: Unit) -> Benchmark {
    Benchmark { program: PROGRAM, name, figure, unit }
}

const PROGRAM: &str = "fs_bench";

/// What Ferrite's cells say it lacks when /init cannot mount the disk.
const LACKS: &str = "ext2";

/// The Linux modules ext2 needs after virtio_blk's (`modinfo -F depends`:
/// ext4, which mounts ext2 on Debian, needs jbd2, mbcache and crc16;
/// crc32c for its checksums).
const LINUX_EXT2_MODULES: [&str; 5] = ["crc16", "mbcache", "jbd2", "crc32c_generic", "ext4"];

/// The image's size; the file system holds a 16 MiB file, a 256 KiB one
/// and 1000 empty ones at a time.
pub const IMAGE_MIB: u32 = 256;

/// Both kernels' command line; Linux's adds `bench_modules=1`.
pub const CMDLINE: &str = "console=ttyS0 quiet bench_disk=1";

/// The line /init prints when the disk does not mount.
const DISK_FAILED: &str = "# bench: disk: ";

/// The machines the rows boot: Ferrite and Linux, each with the storage
/// initramfs and its own image file (rewritten before each boot, removed
/// by [`measure`] at the end).
pub fn machines(ferrite: &Path, vmlinux: &Path) -> Result<[Machine; 2], String> {
    let mut names: Vec<&str> = LINUX_DISK_MODULES.to_vec();
    names.extend(LINUX_EXT2_MODULES);
    let modules = linux::linux_modules(&names)?;
    let initrd = super::initramfs::storage_initramfs(&[PROGRAM], &modules)?;
    let dir = workspace_root().join("target/bench");
    // Per process: QEMU locks its image, and two benches may run at once.
    let pid = std::process::id();
    let machine = |kernel: &Path, cmdline: &str, image: &str| {
        let mut machine = super::machine(kernel, cmdline, &initrd, 1);
        machine.disk = Some(dir.join(image));
        machine
    };
    Ok([
        machine(ferrite, CMDLINE, &format!("storage-ferrite-{pid}.ext2")),
        machine(
            vmlinux,
            &format!("{CMDLINE} bench_modules=1"),
            &format!("storage-linux-{pid}.ext2"),
        ),
    ])
}

/// Writes a fresh, empty ext2 file system of [`IMAGE_MIB`] MiB at `path`.
fn fresh_image(path: &Path) -> Result<(), String> {
    deps::ensure(&[MKE2FS])?;
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    file.set_len(u64::from(IMAGE_MIB) << 20).map_err(|e| format!("{}: {e}", path.display()))?;
    run_checked(
        Command::new(MKE2FS.program)
            .args(["-q", "-F", "-t", "ext2", "-b", "4096", "-O", "^dir_index", "-L", "bench"])
            .arg(path),
    )
}

/// Every run's figures per kernel (Ferrite first) and benchmark, how many
/// of each kernel's boots could not mount the disk, and how many times
/// each figure said the kernel lacks something for it (and what).
pub struct Samples {
    kernels: Vec<Vec<Figure>>,
    unmounted: Vec<usize>,
    lacks: Vec<Vec<(usize, String)>>,
    runs: usize,
}

impl Samples {
    fn new(kernels: usize, runs: usize) -> Samples {
        Samples {
            kernels: vec![vec![Figure::default(); BENCHMARKS.len()]; kernels],
            unmounted: vec![0; kernels],
            lacks: vec![vec![(0, String::new()); BENCHMARKS.len()]; kernels],
            runs,
        }
    }

    /// One row per benchmark. Ferrite's cells say "not yet" when none of
    /// its boots could mount the disk, or when the figure said in every
    /// run what Ferrite lacks for it; any other failure is a failure.
    pub fn rows(&self) -> Vec<Row> {
        let lacks_ext2 = self.unmounted.first() == Some(&self.runs);
        BENCHMARKS
            .iter()
            .enumerate()
            .map(|(i, bench)| {
                let mut cells: Vec<Cell> = self.kernels.iter().map(|k| Cell::of(&k[i])).collect();
                let lacks = self.lacks.first().and_then(|l| l.get(i));
                if let Some(first) = cells.first_mut() {
                    match lacks {
                        _ if lacks_ext2 => *first = Cell::NotYet(LACKS),
                        Some((n, what)) if *n == self.runs => {
                            *first = Cell::Text(format!("not yet (Ferrite lacks {what})"));
                        }
                        _ => {}
                    }
                }
                Row::new(bench.figure, bench.unit, cells)
            })
            .collect()
    }
}

/// Boots each of `machines` (label, machine from [`machines`]) `runs`
/// times, taking turns, each on a fresh image.
pub fn measure(machines: &[(&str, &Machine)], runs: usize) -> Samples {
    let mut samples = Samples::new(machines.len(), runs);
    for run in 1..=runs {
        let mut summary = Vec::new();
        for (k, &(kernel, machine)) in machines.iter().enumerate() {
            let started = std::time::Instant::now();
            let label = format!("{kernel}, storage run {run}");
            let boot = boot(machine, &label);
            if boot.unmounted.is_some() {
                samples.unmounted[k] += 1;
            }
            let outcomes = boot.results.into_iter().zip(boot.lacks);
            let figures = samples.kernels[k].iter_mut().zip(&mut samples.lacks[k]);
            for ((bench, outcome), (figure, lacked)) in BENCHMARKS.iter().zip(outcomes).zip(figures)
            {
                match outcome {
                    (Ok(per_op), _) => figure.ok.push(per_op),
                    (Err(_), Some(what)) => {
                        eprintln!("xtask: {label}: {}: the kernel lacks {what}", bench.name);
                        figure.failed += 1;
                        *lacked = (lacked.0 + 1, what);
                    }
                    (Err(why), None) => {
                        eprintln!("xtask: {label}: {} failed: {why}", bench.name);
                        figure.failed += 1;
                    }
                }
            }
            summary.push(format!("{kernel} {:.1} s", started.elapsed().as_secs_f64()));
        }
        eprintln!("xtask: run {run}/{runs}: storage boots: {}", summary.join(", "));
    }
    for disk in machines.iter().filter_map(|(_, m)| m.disk.as_ref()) {
        let _ = std::fs::remove_file(disk);
    }
    samples
}

/// What one boot measured.
struct BootResults {
    /// Per benchmark, in [`BENCHMARKS`] order: the time per operation or
    /// MiB, or why there is none.
    results: latency::Results,
    /// Per benchmark: what the kernel lacks for it, from fs_bench's
    /// `bench NAME lacks: what; details` line.
    lacks: Vec<Option<String>>,
    /// /init's reason when the disk did not mount.
    unmounted: Option<String>,
}

/// One boot on a fresh image.
fn boot(machine: &Machine, label: &str) -> BootResults {
    let fail_all = |why: &str| BootResults {
        results: BENCHMARKS.iter().map(|_| Err(why.to_string())).collect(),
        lacks: vec![None; BENCHMARKS.len()],
        unmounted: None,
    };
    let Some(image) = &machine.disk else {
        return fail_all("the machine has no disk");
    };
    if let Err(e) = fresh_image(image) {
        return fail_all(&e);
    }
    let (console, ended) = match latency::run(machine, label) {
        Ok(outcome) => outcome,
        Err(e) => return fail_all(&e),
    };
    let boot = read_console(&console, ended.as_deref());
    if let Some(why) = &boot.unmounted {
        eprintln!("xtask: {label}: no ext2 disk: {why}");
    }
    boot
}

/// The results on a boot's console; `ended` says why the boot ended badly,
/// if it did.
fn read_console(console: &[String], ended: Option<&str>) -> BootResults {
    let unmounted = console.iter().find_map(|l| l.strip_prefix(DISK_FAILED)).map(String::from);
    let ended = ended.unwrap_or("the boot ended first");
    let results = BENCHMARKS.iter().map(|b| latency::result_of(console, b, ended)).collect();
    let lacks = BENCHMARKS
        .iter()
        .map(|b| {
            let prefix = format!("bench {} lacks: ", b.name);
            let line = console.iter().find_map(|l| l.trim_start().strip_prefix(&prefix))?;
            Some(line.split("; ").next().unwrap_or(line).to_string())
        })
        .collect();
    BootResults { results, lacks, unmounted }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two runs; Ferrite could not mount the disk `unmounted` times and
    /// lacks `failed` figures of each benchmark; Linux ran everything.
    fn samples(unmounted: usize, failed: usize) -> Samples {
        let mut samples = Samples::new(2, 2);
        samples.kernels[0].fill(Figure { ok: vec![1e-3; 2 - failed], failed });
        samples.kernels[1].fill(Figure { ok: vec![1e-3; 2], failed: 0 });
        samples.unmounted[0] = unmounted;
        samples
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn ferrite_lacks_ext2_only_when_no_boot_mounted_it() {
        let rows = samples(2, 2).rows();
        assert_eq!(rows.len(), BENCHMARKS.len());
        assert!(rows.iter().all(|r| matches!(r.cells[0], Cell::NotYet(LACKS))));
        assert!(rows.iter().all(|r| !r.failed()));
        // One boot mounted it: the other boot's missing figures are failures.
        let rows = samples(1, 1).rows();
        assert!(rows.iter().all(|r| r.failed()));
        assert!(samples(0, 0).rows().iter().all(|r| matches!(r.cells[0], Cell::Stats(_))));
    }

    #[test]
    fn ferrite_lacks_what_a_figure_says_in_every_run() {
        let mut lacking = samples(0, 2);
        lacking.lacks[0][3] = (2, "a disk cache that umount drops".to_string());
        let rows = lacking.rows();
        let Cell::Text(text) = &rows[3].cells[0] else { panic!("a text cell") };
        assert_eq!(text, "not yet (Ferrite lacks a disk cache that umount drops)");
        assert!(!rows[3].failed());
        assert!(rows[2].failed());
        // In one run of two: a failure.
        lacking.lacks[0][3].0 = 1;
        assert!(lacking.rows()[3].failed());
    }

    #[test]
    fn reads_figures_and_what_is_lacking() {
        let boot = read_console(
            &lines(
                "# bench: start\n# run fs_bench\nbench fs_write_cached ns_per_op=2000000.0 iters=48\n\
                 bench fs_read_cold lacks: a disk cache that umount drops; /proc/diskstats: 0 of \
                 16384 KiB\nbench fs_fsync_4k ns_per_op=600000.0 iters=100\n# exit fs_bench 1\n\
                 # bench: end",
            ),
            None,
        );
        let BootResults { results, lacks, unmounted } = boot;
        assert_eq!(unmounted, None);
        assert_eq!(results[0], Ok(2e-3));
        assert_eq!(results[6], Ok(6e-4));
        assert!(results[3].is_err());
        assert_eq!(lacks[3].as_deref(), Some("a disk cache that umount drops"));
        assert_eq!(lacks.iter().flatten().count(), 1);
        assert!(results[1].as_ref().is_err_and(|e| e.starts_with("exit status 1 without")));
    }

    #[test]
    fn reads_the_mount_failure() {
        let boot = read_console(
            &lines(
                "# bench: start\n# bench: disk: mount -t ext2 /dev/vda /mnt failed: Invalid \
                 argument\n# run fs_bench\nbench fs_bench failed: no ext2 file system on /mnt\n\
                 # exit fs_bench 1\n# bench: end",
            ),
            None,
        );
        let why = boot.unmounted.as_deref();
        assert_eq!(why, Some("mount -t ext2 /dev/vda /mnt failed: Invalid argument"));
        assert!(boot.results.iter().all(Result::is_err));
    }

    #[test]
    fn one_program_names_every_figure() {
        assert!(BENCHMARKS.iter().all(|b| b.program == PROGRAM && b.name.starts_with("fs_")));
        let source = std::fs::read_to_string(workspace_root().join("user/bench/fs_bench.c"))
            .expect("user/bench/fs_bench.c is readable");
        for bench in &BENCHMARKS {
            assert!(
                source.contains(&format!("\"{}\"", bench.name)),
                "{} in fs_bench.c",
                bench.name
            );
        }
    }
}

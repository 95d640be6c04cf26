//! The benchmark's initramfs archives, written by the shared newc writer
//! (crate::initramfs):
//! - `poweroff.cpio` for the boot rows: `/init` (user/bench/poweroff.c,
//!   static musl) prints its first line and /proc/meminfo's free memory and
//!   powers the machine off;
//! - `latency.cpio` for the latency rows: the programs of `user/bench/`
//!   (static musl, built as the system tests are), Debian's busybox, and
//!   `user/init/bench.sh` as `/init`, which runs them and powers off.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::deps::{self, MUSL_GCC};
use crate::initramfs::Archive;
use crate::systest::build::{busybox_root, compile_all};
use crate::{run_checked, workspace_root};

/// The program fork_exec execs and open_close opens (`BENCH_EXEC_TARGET` in
/// user/bench/bench.h): packed beside the benchmarks, not run as one.
const EXEC_TARGET: (&str, &str) = ("exec_target", "usr/lib/bench/exec_target");

/// Builds `target/bench/latency.cpio` with `benchmarks` (stems of
/// `user/bench/*.c`) in `/bench`, and returns its path. Programs are
/// recompiled only when their source changes; the archive is rewritten on
/// each call, which takes milliseconds.
pub fn latency_initramfs(benchmarks: &[&str]) -> Result<PathBuf, String> {
    deps::ensure(&[MUSL_GCC])?;
    let root = workspace_root();
    let bin = root.join("target/bench/bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    let mut programs: Vec<String> = benchmarks.iter().map(|b| b.to_string()).collect();
    programs.push(EXEC_TARGET.0.to_string());
    compile_all(&root.join("user/bench"), "bench.h", &bin, &programs)?;

    let mut cpio = Archive::new();
    busybox_root(&mut cpio)?;
    cpio.dir("usr/lib", 0o755).dir("usr/lib/bench", 0o755).dir("bench", 0o755);
    cpio.file_from(EXEC_TARGET.1, 0o755, &bin.join(EXEC_TARGET.0))?;
    for name in benchmarks {
        cpio.file_from(&format!("bench/{name}"), 0o755, &bin.join(name))?;
    }
    cpio.file_from("init", 0o755, &root.join("user/init/bench.sh"))?;
    let archive = root.join("target/bench/latency.cpio");
    cpio.write(&archive)?;
    Ok(archive)
}

/// Builds `target/bench/poweroff.cpio` (and the program in it) if it is
/// missing or older than its source, and returns its path.
pub fn poweroff_initramfs() -> Result<PathBuf, String> {
    let root = workspace_root();
    let source = root.join("user/bench/poweroff.c");
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let archive = dir.join("poweroff.cpio");
    if is_newer(&archive, &source) {
        return Ok(archive);
    }
    let program = dir.join("poweroff");
    deps::ensure(&[MUSL_GCC])?;
    run_checked(
        Command::new(MUSL_GCC.program)
            .args(["-static", "-Os", "-s", "-o"])
            .arg(&program)
            .arg(&source),
    )?;
    let mut cpio = Archive::new();
    cpio.dir("dev", 0o755).char_dev("dev/console", 0o600, 5, 1).dir("proc", 0o755);
    cpio.file_from("init", 0o755, &program)?;
    cpio.write(&archive)?;
    Ok(archive)
}

/// Does `path` exist and is it at least as new as `source`?
fn is_newer(path: &Path, source: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(path), modified(source)) {
        (Some(built), Some(source)) => built >= source,
        _ => false,
    }
}

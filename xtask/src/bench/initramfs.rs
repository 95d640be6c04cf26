//! The benchmark's initramfs archives, written by the shared newc writer
//! (crate::initramfs):
//! - `poweroff.cpio` for the boot rows: `/init` (user/bench/poweroff.c,
//!   static musl) prints its first line and /proc/meminfo's free memory and
//!   powers the machine off;
//! - `latency.cpio` for the latency rows: the programs of `user/bench/`
//!   (static musl, built as the system tests are), Debian's busybox, and
//!   `user/init/bench.sh` as `/init`, which runs them and powers off;
//! - `storage.cpio` for the storage rows: the same with only
//!   `user/bench/fs_bench.c`, and the Linux modules a disk and ext2 need
//!   (bench/storage.rs), which bench.sh loads when told to.

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
    let root = workspace_root();
    let mut programs = benchmarks.to_vec();
    programs.push(EXEC_TARGET.0);
    let bin = compile(&programs)?;

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

/// Builds `target/bench/storage.cpio`: `benchmarks` as in
/// [`latency_initramfs`], and `modules` (name, bytes) in `/lib/modules`
/// with `/lib/modules/modules.order` giving their load order.
pub fn storage_initramfs(
    benchmarks: &[&str],
    modules: &[(String, Vec<u8>)],
) -> Result<PathBuf, String> {
    let root = workspace_root();
    let bin = compile(benchmarks)?;
    let mut cpio = Archive::new();
    busybox_root(&mut cpio)?;
    cpio.dir("bench", 0o755).dir("mnt", 0o755).dir("lib", 0o755).dir("lib/modules", 0o755);
    for name in benchmarks {
        cpio.file_from(&format!("bench/{name}"), 0o755, &bin.join(name))?;
    }
    let mut order = String::new();
    for (name, bytes) in modules {
        cpio.file(&format!("lib/modules/{name}.ko"), 0o644, bytes.clone());
        order += &format!("{name}\n");
    }
    cpio.file("lib/modules/modules.order", 0o644, order.into_bytes());
    cpio.file_from("init", 0o755, &root.join("user/init/bench.sh"))?;
    let archive = root.join("target/bench/storage.cpio");
    cpio.write(&archive)?;
    Ok(archive)
}

/// Compiles `programs` (stems of `user/bench/*.c`) into
/// `target/bench/bin`, those whose source changed; returns that directory.
fn compile(programs: &[&str]) -> Result<PathBuf, String> {
    deps::ensure(&[MUSL_GCC])?;
    let root = workspace_root();
    let bin = root.join("target/bench/bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    let programs: Vec<String> = programs.iter().map(|p| p.to_string()).collect();
    compile_all(&root.join("user/bench"), "bench.h", &bin, &programs)?;
    Ok(bin)
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

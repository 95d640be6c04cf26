//! The benchmark's initramfs: `/init` powers the machine off at once
//! (user/bench/poweroff.c, static musl), so that Linux boots to user space
//! and QEMU ends. The archive is written by the shared newc writer
//! (crate::initramfs).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::deps::{self, MUSL_GCC};
use crate::initramfs::Archive;
use crate::{run_checked, workspace_root};

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
    cpio.dir("dev", 0o755).char_dev("dev/console", 0o600, 5, 1);
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

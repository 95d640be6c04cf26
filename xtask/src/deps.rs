//! Installs what the commands need on a Debian machine, or says what to
//! install where we cannot.

use std::path::Path;
use std::process::Command;
use std::sync::Once;

/// A program we run, and the Debian package that provides it.
#[derive(Clone, Copy)]
pub struct Tool {
    pub program: &'static str,
    pub package: &'static str,
}

pub const QEMU: Tool = Tool { program: "qemu-system-x86_64", package: "qemu-system-x86" };
/// The C compiler for user programs: static binaries against musl.
pub const MUSL_GCC: Tool = Tool { program: "musl-gcc", package: "musl-tools" };
/// Debian's static busybox, the user space of the system tests.
pub const BUSYBOX: Tool = Tool { program: "/bin/busybox", package: "busybox-static" };
/// e2fsprogs: the ext2 root image is made, checked and read with these.
pub const MKE2FS: Tool = Tool { program: "mke2fs", package: "e2fsprogs" };
pub const DEBUGFS: Tool = Tool { program: "debugfs", package: "e2fsprogs" };
pub const E2FSCK: Tool = Tool { program: "e2fsck", package: "e2fsprogs" };
/// dosfstools and mtools: libs/fat's host tests make, check and read FAT images.
pub const MKFS_VFAT: Tool = Tool { program: "mkfs.vfat", package: "dosfstools" };
pub const MTOOLS: Tool = Tool { program: "mcopy", package: "mtools" };

fn have(program: &str) -> bool {
    if program.contains('/') {
        return Path::new(program).exists();
    }
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.trim_ascii() == b"0").unwrap_or(false)
}

/// Makes sure every tool is present, installing the missing ones with apt
/// when we are root.
pub fn ensure(tools: &[Tool]) -> Result<(), String> {
    let missing: Vec<&str> = tools.iter().filter(|t| !have(t.program)).map(|t| t.package).collect();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)?;
    match tools.iter().find(|t| !have(t.program)) {
        Some(t) => Err(format!("{} is still missing after installing {}", t.program, t.package)),
        None => Ok(()),
    }
}

/// Installs Debian packages (without recommends), running `apt-get update`
/// once per process first.
pub fn apt_install(packages: &[&str]) -> Result<(), String> {
    if !is_root() || !have("apt-get") {
        return Err(format!(
            "missing packages; install them with: sudo apt-get install {}",
            packages.join(" ")
        ));
    }
    apt_update();
    eprintln!("xtask: installing {}", packages.join(" "));
    crate::run_checked(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Runs `apt-get update` once per process (it needs root; without it this
/// does nothing), so that apt knows the current package versions.
pub fn apt_update() {
    static UPDATE: Once = Once::new();
    UPDATE.call_once(|| {
        if is_root() && have("apt-get") {
            eprintln!("xtask: apt-get update");
            let _ = Command::new("apt-get").args(["update", "-qq"]).status();
        }
    });
}

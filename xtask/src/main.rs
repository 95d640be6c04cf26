//! `cargo xtask`: build, run, test and benchmark Ferrite.
//!
//! ```text
//! cargo xtask build [--debug]                 build the kernel, print its path last
//! cargo xtask run [--busybox|--monitor] [--fresh] [--kvm] [--gdb] [--debug] [--smp N] [WORD...]
//!                                             boot it in QEMU, serial on this terminal:
//!                                             root=/dev/vda rw on target/rootfs.ext2,
//!                                             kept across boots (--fresh rebuilds it);
//!                                             --busybox: an initramfs with a busybox shell;
//!                                             --monitor: no root at all, the kernel monitor;
//!                                             WORDs are added to the kernel command line
//! cargo xtask test                            every test tier; ends with "N passed, N failed"
//! cargo xtask bench [--runs N]                Ferrite and Linux side by side, with ratios
//! cargo xtask systest [--linux] [--ferrite] [--bless] [FILTER]
//!                                             the user-space tests on Linux (and Ferrite)
//! cargo xtask systest --disk [--linux] [--ferrite] [--bless]
//!                                             the disk tier: root=/dev/vda on an ext2 image
//! cargo xtask systest --ext2root [--linux] [--ferrite] [FILTER]
//!                                             the user-space tests with / and /tmp on ext2
//! cargo xtask systest --terminal [--linux] [--ferrite]
//!                                             a login session typed through a host pty
//! cargo xtask applets [--linux] [--ferrite] [--write] [PATTERN]
//!                                             the busybox applet matrix on both kernels;
//!                                             --write regenerates docs/applets.md
//! cargo xtask image [--out PATH]              the ext2 root image (target/rootfs.ext2)
//! cargo xtask modules                         the C modules of modules/ (target/modules/*.ko)
//! ```

mod bench;
mod boot_checks;
mod build;
mod deps;
mod image;
mod initramfs;
mod kallsyms;
mod linux;
mod modules;
mod qemu;
mod systest;
mod test;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("usage: cargo xtask build|run|test|bench|systest|image [options]");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "build" => build::cmd_build(rest),
        "run" => qemu::cmd_run(rest),
        "test" => test::cmd_test(rest),
        "bench" => bench::cmd_bench(rest),
        "systest" => systest::cmd_systest(rest),
        "applets" => systest::applets::cmd_applets(rest),
        "image" => image::cmd_image(rest),
        "modules" => modules::cmd_modules(rest),
        other => {
            Err(format!("unknown command `{other}`; try build, run, test, bench, systest or image"))
        }
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().expect("xtask is inside the workspace").to_path_buf()
}

/// Runs a command to completion, failing with its name if it fails.
pub fn run_checked(cmd: &mut std::process::Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} failed ({status})", cmd.get_program()))
    }
}

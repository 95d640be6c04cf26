//! Starting user space: PID 1's files and console, then the search for a
//! program to run as init.
//!
//! Linux: init/main.c (`kernel_init`, `console_on_rootfs`,
//! `run_init_process`, `try_to_run_init_process`, `argv_init`,
//! `envp_init`), init/do_mounts.c (the `init_eaccess` check of
//! `rdinit=`; without that init, `prepare_namespace` mounts `root=`,
//! see do_mounts.rs).
//!
//! Init gets `/dev/console` as descriptors 0, 1 and 2, its root and
//! working directory at `/`, argv = [path, the command line's unknown bare
//! words] and envp = ["HOME=/", "TERM=linux", its unknown `key=value`
//! words]. The candidates, in Linux's order: `rdinit=` or `/init` from the
//! initramfs, then `init=`, `/sbin/init`, `/etc/init`, `/bin/init`,
//! `/bin/sh`. A candidate that does not exist is skipped quietly; one that
//! exists but fails is reported. Linux panics when none runs; Ferrite
//! falls back to its kernel monitor (the caller).
//!
//! # Locking
//! None: runs once, in PID 1 before it has user space.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use cmdline::{CmdLine, KNOWN_PARAMS};
use linux_raw_sys::general as uapi;

use crate::fs::exec::kernel_execve;
use crate::fs::fdtable::FdTable;
use crate::fs::fs_struct::FsStruct;
use crate::fs::namei::LookupFlags;
use crate::fs::namei::open::do_filp_open;
use crate::fs::{FsContext, FsCred};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;
use crate::{pr_err, pr_info};

/// The programs tried when neither `rdinit=` nor `init=` runs.
const DEFAULT_INITS: [&str; 4] = ["/sbin/init", "/etc/init", "/bin/init", "/bin/sh"];

/// Gives PID 1 its root, working directory and descriptor table, with
/// `/dev/console` on 0, 1 and 2 (Linux: `init_fs`, `console_on_rootfs`).
fn console_on_rootfs() -> KResult<()> {
    let tsk = current();
    let fs = Arc::new(FsStruct::new_init()?);
    let files = Arc::new(FdTable::new());
    *tsk.fs.lock() = Some(fs.clone());
    *tsk.files.lock() = Some(files.clone());
    let ctx = FsContext { fs: &fs, files: &files, cred: FsCred::ROOT };
    let console = do_filp_open(ctx, uapi::AT_FDCWD, b"/dev/console", uapi::O_RDWR, 0);
    let Ok(console) = console else {
        pr_err!("Warning: unable to open an initial console.");
        return Ok(());
    };
    files.alloc_fd(0, console, false)?;
    files.dup(0)?;
    files.dup(0)?;
    Ok(())
}

/// Execs `path` with init's arguments (Linux: `run_init_process`).
fn run_init_process(path: &str, argv: &[String], envp: &[String]) -> KResult<()> {
    pr_info!("Run {path} as init process");
    let mut args: Vec<&[u8]> = Vec::new();
    args.try_reserve(argv.len() + 1).map_err(|_| Errno::ENOMEM)?;
    args.push(path.as_bytes());
    args.extend(argv.iter().map(|s| s.as_bytes()));
    let env: Vec<&[u8]> = envp.iter().map(|s| s.as_bytes()).collect();
    kernel_execve(path.as_bytes(), &args, &env)
}

/// Linux: `try_to_run_init_process`: a missing file is not worth a line.
fn try_to_run_init_process(path: &str, argv: &[String], envp: &[String]) -> bool {
    match run_init_process(path, argv, envp) {
        Ok(()) => true,
        Err(Errno::ENOENT) => false,
        Err(e) => {
            pr_err!("Starting init: {path} exists but couldn't execute it (error -{})", e as i32);
            false
        }
    }
}

/// Whether `path` names something in the tree (Linux: `init_eaccess`).
fn exists(path: &str) -> bool {
    let tsk = current();
    let (Some(fs), Some(files)) = (tsk.fs.lock().clone(), tsk.files.lock().clone()) else {
        return false;
    };
    let ctx = FsContext { fs: &fs, files: &files, cred: FsCred::ROOT };
    crate::fs::namei::filename_lookup(ctx, uapi::AT_FDCWD, path.as_bytes(), LookupFlags::FOLLOW)
        .is_ok()
}

/// Finds and execs init (Linux: the second half of `kernel_init`);
/// returns whether one runs now. PID 1 then returns to user mode.
pub fn run_init(cmdline: &CmdLine<'_>) -> bool {
    if let Err(e) = console_on_rootfs() {
        pr_err!("init: no file system context for init (error -{})", e as i32);
        return false;
    }
    let argv: Vec<String> = cmdline.init_argv(KNOWN_PARAMS).map(|p| p.to_string()).collect();
    let mut envp: Vec<String> = ["HOME=/", "TERM=linux"].map(String::from).to_vec();
    envp.extend(cmdline.init_envp(KNOWN_PARAMS).map(|p| p.to_string()));
    let ramdisk = cmdline.rdinit().unwrap_or("/init");
    if exists(ramdisk) {
        match run_init_process(ramdisk, &argv, &envp) {
            Ok(()) => return true,
            Err(e) => pr_err!("Failed to execute {ramdisk} (error -{})", e as i32),
        }
    } else {
        // No initramfs init: mount `root=` (Linux: `prepare_namespace`).
        super::do_mounts::prepare_namespace(cmdline);
    }
    if let Some(init) = cmdline.init() {
        match run_init_process(init, &argv, &envp) {
            Ok(()) => return true,
            Err(e) => pr_err!("Requested init {init} failed (error -{}).", e as i32),
        }
    }
    if DEFAULT_INITS.iter().any(|path| try_to_run_init_process(path, &argv, &envp)) {
        return true;
    }
    pr_err!("No working init found.  Try passing init= option to kernel.");
    // Linux panics here; Ferrite's caller starts its monitor, which reads
    // the serial port itself once nothing holds the console open.
    if let Some(files) = current().files.lock().take() {
        files.close_all();
    }
    false
}

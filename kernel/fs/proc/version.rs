//! /proc/version and /proc/cmdline (Linux: fs/proc/version.c,
//! fs/proc/cmdline.c, init/version.c `linux_proc_banner`).
//!
//! # Locking
//! The command line is set once at boot (`spin::Once`).
#![deny(unsafe_code)]

use super::generic::SeqBuf;
use crate::kernel::errno::KResult;
use crate::kernel::sys::{UTS_RELEASE, UTS_SYSNAME, UTS_VERSION};

/// The boot command line (Linux: `saved_command_line`).
static SAVED_COMMAND_LINE: spin::Once<&'static str> = spin::Once::new();

pub fn set_saved_command_line(cmdline: &'static str) {
    SAVED_COMMAND_LINE.call_once(|| cmdline);
}

/// Linux: `version_proc_show` with `linux_proc_banner`: "%s version %s
/// (builder@host) (compiler) %s".
pub fn version_proc_show(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!(
        "{UTS_SYSNAME} version {UTS_RELEASE} (ferrite@ferrite) (rustc; Ferrite {}, a \
         Linux-compatible kernel in Rust) {UTS_VERSION}\n",
        env!("CARGO_PKG_VERSION"),
    ))
}

/// Linux: `cmdline_proc_show`.
pub fn cmdline_proc_show(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("{}\n", SAVED_COMMAND_LINE.get().copied().unwrap_or("")))
}

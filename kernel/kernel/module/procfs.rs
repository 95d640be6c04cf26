//! /proc/modules (Linux: kernel/module/procfs.c `m_show`,
//! kernel/module/main.c `print_unload_info`).
//!
//! One line per module, newest first: `name size refcount users state
//! address`, with `users` the modules using it, each followed by a comma,
//! "[permanent]," for one that cannot be unloaded, or "-"; the address is
//! shown only to a reader with `CAP_SYSLOG` (Linux: `kallsyms_show_value`).
//!
//! # Locking
//! The list is copied out under `MODULES` (see mod.rs).
#![deny(unsafe_code)]

use super::{ModuleState, modules, users_of};
use crate::fs::proc::generic::SeqBuf;
use crate::kernel::errno::KResult;

/// Linux: `m_show`.
pub fn modules_proc_show(m: &mut SeqBuf) -> KResult<()> {
    let show_addr = crate::kernel::cred::capable(linux_raw_sys::general::CAP_SYSLOG);
    for module in modules() {
        let users = users_of(&module);
        m.printf(format_args!("{} {} {} ", module.name, module.size(), users.len()))?;
        for user in &users {
            m.printf(format_args!("{},", user.name))?;
        }
        let permanent = module.has_init && module.exit.is_none();
        if permanent {
            m.puts(b"[permanent],")?;
        }
        if users.is_empty() && !permanent {
            m.puts(b"-")?;
        }
        let state = match module.state() {
            ModuleState::Live => "Live",
            ModuleState::Coming => "Loading",
            ModuleState::Going => "Unloading",
        };
        let addr = if show_addr { module.mem.base() } else { 0 };
        m.printf(format_args!(" {state} 0x{addr:016x}\n"))?;
    }
    Ok(())
}

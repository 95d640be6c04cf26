//! Power management as user space sees it: the `/sys/power` directory
//! (Linux: kernel/power/main.c `power_attr`s, `state_show`,
//! kernel/power/hibernate.c `disk_show`, `resume_show`, `resume_offset_show`).
//!
//! Ferrite can neither suspend nor hibernate yet, so it lists no sleep
//! state: `state` reads empty (Linux prints only the states it supports,
//! and nothing at all when there are none) and refuses every write with
//! `EINVAL`; `disk` reads `[disabled]` and refuses writes with `EPERM`, as
//! Linux does when `hibernation_available()` is false. What does work is
//! the resume side: `resume` and `resume_offset` name where a hibernation
//! image would be, and writing `resume` looks for one (hibernate.rs).
//!
//! # Locking
//! None here; see hibernate.rs.
#![deny(unsafe_code)]

pub mod hibernate;

use crate::fs::sysfs::kernfs::KernfsBuilder;
use crate::kernel::errno::{Errno, KResult};

/// Linux: `state_store` → `decode_state`: no state is supported.
fn state_store(_buf: &[u8]) -> KResult<()> {
    Err(Errno::EINVAL)
}

/// Linux: `disk_store` without `hibernation_available()`.
fn disk_store(_buf: &[u8]) -> KResult<()> {
    Err(Errno::EPERM)
}

/// Adds `/sys/power` and its attributes (Linux: `pm_init` →
/// `kobject_create_and_add("power", NULL)` + `sysfs_create_groups`).
pub fn add_sysfs(b: &mut KernfsBuilder) -> KResult<()> {
    b.attr_rw("power", "state", |_| Ok(()), state_store)?;
    b.attr_rw("power", "disk", |m| m.puts(b"[disabled]\n"), disk_store)?;
    b.attr_rw("power", "resume", hibernate::resume_show, hibernate::resume_store)?;
    b.attr_rw(
        "power",
        "resume_offset",
        hibernate::resume_offset_show,
        hibernate::resume_offset_store,
    )
}

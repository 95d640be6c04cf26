//! /proc/sys: the kernel's tunables as files (Linux: fs/proc/proc_sysctl.c,
//! kernel/sysctl.c `proc_dointvec_minmax` and `proc_dostring`,
//! kernel/utsname_sysctl.c).
//!
//! One flat table, [`SYSCTL_TABLE`], names each entry by its path under
//! /proc/sys; the directories are those paths' prefixes, so adding a
//! tunable is adding a line:
//!
//! ```text
//! CtlTable::int("vm/dirty_ratio", &mm::VM_DIRTY_RATIO, 0, 100),
//! ```
//!
//! Writes follow Linux's `sysctl_perm`: the owner's bits for root (euid
//! 0), the others' bits for anyone else, so a 0644 entry is `EACCES` to
//! users at open and again at write. A number outside `min..=max`, or
//! text that is not one number, is `EINVAL` and changes nothing. As with
//! Linux's default `sysctl_writes_strict`, only a write at offset 0 sets
//! a value; later writes of the same open are accepted and ignored.
//!
//! # Locking
//! None of its own: integer entries are atomics, the strings belong to
//! their owners (the UTS names' leaf lock in kernel/sys.rs).
#![deny(unsafe_code)]

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use super::generic::{ProcEntry, ProcKind, SeqBuf};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::pid::PID_MAX_DEFAULT;
use crate::kernel::printk;
use crate::kernel::sched::current;
use crate::kernel::sys::{self, UTS_RELEASE, UTS_SYSNAME, UTS_VERSION, UtsName};
use crate::mm::page_writeback as pw;

/// Sets a string entry from the bytes written (its newline cut off).
pub type StrSetFn = fn(&[u8]) -> KResult<()>;

/// What an entry holds and how it is read and written (Linux: a
/// `ctl_table`'s `data` with its `proc_handler`).
pub enum CtlData {
    /// One number in `min..=max` (Linux: `proc_dointvec_minmax`), and
    /// what to do once it is written (Linux: a handler that calls
    /// `proc_dointvec_minmax` first, as `drop_caches_sysctl_handler`).
    Int { data: &'static AtomicU32, min: u32, max: u32, written: Option<fn(u32)> },
    /// A string read and set through its owner (Linux: `proc_dostring`);
    /// no setter makes it read-only.
    Str { get: fn() -> Vec<u8>, set: Option<StrSetFn> },
    /// Text rendered on read, never written.
    Show(fn(&mut SeqBuf) -> KResult<()>),
}

/// One tunable (Linux: `struct ctl_table`).
pub struct CtlTable {
    /// The path below /proc/sys, '/'-separated.
    pub procname: &'static str,
    /// Permission bits (Linux: `mode`).
    pub mode: u32,
    pub data: CtlData,
}

impl CtlTable {
    /// A number root may set within `min..=max`.
    pub const fn int(procname: &'static str, data: &'static AtomicU32, min: u32, max: u32) -> Self {
        Self { procname, mode: 0o644, data: CtlData::Int { data, min, max, written: None } }
    }

    /// A number root may set, which `written` acts on; `mode` 0o200 makes
    /// it write-only, as drop_caches is.
    pub const fn int_action(
        procname: &'static str,
        mode: u32,
        data: &'static AtomicU32,
        (min, max): (u32, u32),
        written: fn(u32),
    ) -> Self {
        Self { procname, mode, data: CtlData::Int { data, min, max, written: Some(written) } }
    }

    /// A string root may set through `set`.
    pub const fn string(procname: &'static str, get: fn() -> Vec<u8>, set: StrSetFn) -> Self {
        Self { procname, mode: 0o644, data: CtlData::Str { get, set: Some(set) } }
    }

    /// A read-only entry.
    pub const fn show(procname: &'static str, show: fn(&mut SeqBuf) -> KResult<()>) -> Self {
        Self { procname, mode: 0o444, data: CtlData::Show(show) }
    }
}

/// Every tunable, in any order (listings sort by name).
pub static SYSCTL_TABLE: &[CtlTable] = &[
    CtlTable::string("kernel/domainname", domainname, set_domainname),
    CtlTable::string("kernel/hostname", hostname, set_hostname),
    CtlTable::int("kernel/dmesg_restrict", &printk::syslog::DMESG_RESTRICT, 0, 1),
    CtlTable::show("kernel/msgmax", crate::ipc::proc_msgmax_show),
    CtlTable::show("kernel/msgmnb", crate::ipc::proc_msgmnb_show),
    CtlTable::show("kernel/msgmni", crate::ipc::proc_msgmni_show),
    CtlTable::show("kernel/ngroups_max", |m| m.printf(format_args!("{}\n", NGROUPS_MAX))),
    CtlTable::show("kernel/osrelease", |m| m.printf(format_args!("{UTS_RELEASE}\n"))),
    CtlTable::show("kernel/ostype", |m| m.printf(format_args!("{UTS_SYSNAME}\n"))),
    CtlTable::show("kernel/sem", crate::ipc::proc_sem_show),
    CtlTable::show("kernel/shmall", crate::ipc::proc_shmall_show),
    CtlTable::show("kernel/shmmax", crate::ipc::proc_shmmax_show),
    CtlTable::show("kernel/shmmni", crate::ipc::proc_shmmni_show),
    CtlTable::string(
        "kernel/printk",
        printk::syslog::proc_printk_get,
        printk::syslog::proc_printk_set,
    ),
    // Read-only here: the PID allocator's limit is fixed per namespace.
    CtlTable::show("kernel/pid_max", |m| m.printf(format_args!("{PID_MAX_DEFAULT}\n"))),
    CtlTable::int("kernel/pty/max", &crate::fs::devpts::PTY_LIMIT, 0, i32::MAX as u32),
    CtlTable::show("kernel/pty/nr", |m| {
        m.printf(format_args!("{}\n", crate::fs::devpts::PTY_COUNT.load(Ordering::Relaxed)))
    }),
    CtlTable::show("kernel/random/boot_id", boot_id_show),
    CtlTable::show("kernel/version", |m| m.printf(format_args!("{UTS_VERSION}\n"))),
    CtlTable::show("net/core/somaxconn", crate::net::core::net_procfs::somaxconn_show),
    CtlTable::show("net/ipv4/ip_forward", |m| m.puts(b"0\n")),
    CtlTable::show("net/ipv4/ip_local_port_range", crate::net::core::net_procfs::port_range_show),
    // Read-only here: no group may open ping sockets (net/inet/raw.rs).
    CtlTable::show("net/ipv4/ping_group_range", |m| m.puts(b"1\t0\n")),
    CtlTable::int("vm/dirty_background_ratio", &pw::DIRTY_BACKGROUND_RATIO, 0, 100),
    CtlTable::int("vm/dirty_expire_centisecs", &pw::DIRTY_EXPIRE_CENTISECS, 0, i32::MAX as u32),
    CtlTable::int("vm/dirty_ratio", &pw::DIRTY_RATIO, 0, 100),
    CtlTable::int_action(
        "vm/drop_caches",
        0o200,
        &crate::fs::drop_caches::SYSCTL_DROP_CACHES,
        (1, 4),
        crate::fs::drop_caches::drop_caches_sysctl_handler,
    ),
    CtlTable::int(
        "vm/dirty_writeback_centisecs",
        &pw::DIRTY_WRITEBACK_CENTISECS,
        0,
        i32::MAX as u32,
    ),
];

/// Linux: `NGROUPS_MAX`.
const NGROUPS_MAX: u32 = linux_raw_sys::general::NGROUPS_MAX;

fn hostname() -> Vec<u8> {
    sys::uts_name(UtsName::Node)
}

fn domainname() -> Vec<u8> {
    sys::uts_name(UtsName::Domain)
}

/// Linux's `proc_do_uts_string` keeps at most 64 bytes, silently.
fn set_hostname(name: &[u8]) -> KResult<()> {
    sys::set_uts_name(UtsName::Node, name.get(..64).unwrap_or(name))
}

fn set_domainname(name: &[u8]) -> KResult<()> {
    sys::set_uts_name(UtsName::Domain, name.get(..64).unwrap_or(name))
}

/// A random version-4 UUID drawn at first read and kept until reboot
/// (Linux: `proc_do_uuid` on `sysctl_bootid`).
fn boot_id_show(m: &mut SeqBuf) -> KResult<()> {
    static BOOT_ID: spin::Once<[u8; 16]> = spin::Once::new();
    let u = BOOT_ID.call_once(|| {
        let mut u = [0u8; 16];
        crate::drivers::char::random::get_random_bytes(&mut u);
        u[6] = (u[6] & 0x0f) | 0x40;
        u[8] = (u[8] & 0x3f) | 0x80;
        u
    });
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            m.puts(b"-")?;
        }
        m.printf(format_args!("{b:02x}"))?;
    }
    m.puts(b"\n")
}

/// What follows `dir/` in `path` (everything, for the root "").
fn below(path: &'static str, dir: &str) -> Option<&'static str> {
    if dir.is_empty() {
        return Some(path);
    }
    path.strip_prefix(dir)?.strip_prefix('/')
}

/// `dir`'s child `name`: an entry (a file) or a prefix of some (a
/// directory).
fn child(dir: &str, name: &[u8]) -> Option<ProcKind> {
    SYSCTL_TABLE.iter().find_map(|e| {
        let rest = below(e.procname, dir)?;
        match rest.split_once('/') {
            None if rest.as_bytes() == name => Some(ProcKind::SysFile(e)),
            Some((first, _)) if first.as_bytes() == name => {
                let end = e.procname.len() - rest.len() + first.len();
                e.procname.get(..end).map(ProcKind::SysDir)
            }
            _ => None,
        }
    })
}

/// Looks a name up in a /proc/sys directory (Linux: `proc_sys_lookup`).
pub fn sysctl_lookup(dir: &'static str, name: &[u8]) -> Option<ProcKind> {
    child(dir, name)
}

/// A /proc/sys directory's entries, sorted by name (Linux lists its
/// rbtree in order: `proc_sys_readdir`).
pub fn sysctl_entries(dir: &'static str) -> KResult<Vec<ProcEntry>> {
    let mut entries: Vec<ProcEntry> = Vec::new();
    for e in SYSCTL_TABLE {
        let Some(rest) = below(e.procname, dir) else { continue };
        let name = rest.split_once('/').map_or(rest, |(first, _)| first);
        if entries.iter().any(|x| x.name == name) {
            continue;
        }
        let Some(kind) = child(dir, name.as_bytes()) else { continue };
        entries.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        entries.push(ProcEntry { name, kind });
    }
    entries.sort_unstable_by(|a, b| a.name.cmp(b.name));
    Ok(entries)
}

/// An entry's text (Linux: the handler's read half).
pub fn proc_sys_show(table: &CtlTable, m: &mut SeqBuf) -> KResult<()> {
    match &table.data {
        CtlData::Int { data, .. } => m.printf(format_args!("{}\n", data.load(Ordering::Relaxed))),
        CtlData::Str { get, .. } => {
            m.puts(&get())?;
            m.puts(b"\n")
        }
        CtlData::Show(show) => show(m),
    }
}

/// Linux: `sysctl_perm` for writing.
fn may_write(table: &CtlTable) -> KResult<()> {
    let bits = if current().cred().euid == 0 { table.mode >> 6 } else { table.mode };
    if bits & 0o2 == 0 { Err(Errno::EACCES) } else { Ok(()) }
}

/// One decimal number with optional blanks around it (Linux:
/// `proc_get_long` with its whitespace separators), `EINVAL` otherwise.
fn parse_int(buf: &[u8]) -> KResult<i64> {
    let text = core::str::from_utf8(buf).map_err(|_| Errno::EINVAL)?;
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\0');
    text.parse::<i64>().map_err(|_| Errno::EINVAL)
}

/// Writes an entry (Linux: `proc_sys_write` → the handler's write half).
pub fn proc_sys_write(table: &CtlTable, buf: &[u8], pos: u64) -> KResult<usize> {
    may_write(table)?;
    if pos != 0 {
        return Ok(buf.len());
    }
    match &table.data {
        CtlData::Int { data, min, max, written } => {
            let v = parse_int(buf)?;
            let v =
                u32::try_from(v).ok().filter(|v| (*min..=*max).contains(v)).ok_or(Errno::EINVAL)?;
            data.store(v, Ordering::Relaxed);
            if let Some(written) = written {
                written(v);
            }
        }
        CtlData::Str { set: Some(set), .. } => {
            let end = buf.iter().position(|&c| c == b'\n' || c == 0).unwrap_or(buf.len());
            set(&buf[..end])?;
        }
        CtlData::Str { set: None, .. } | CtlData::Show(_) => return Err(Errno::EACCES),
    }
    Ok(buf.len())
}

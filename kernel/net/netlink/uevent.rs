//! Device events to user space over `NETLINK_KOBJECT_UEVENT` (Linux:
//! lib/kobject_uevent.c `kobject_uevent_env`, `kobject_synth_uevent`,
//! `uevent_net_broadcast`).
//!
//! An event is one datagram to multicast group 1 from the kernel (port
//! 0): `ACTION@DEVPATH\0` then `KEY=value\0` pairs: `ACTION`, `DEVPATH`,
//! `SUBSYSTEM`, the caller's own, the device's (`MAJOR`, `MINOR`,
//! `DEVNAME`...), and `SEQNUM`, the count of events so far. Writing an
//! action to a device's sysfs `uevent` file makes a "synthetic" event
//! ([`kobject_synth_uevent`]), which is how `mdev -s`, `udevadm trigger`
//! and busybox's `uevent` are driven. Nothing calls `/sbin/hotplug`
//! (Linux's `uevent_helper` is empty by default too).
//!
//! # Locking
//! `UEVENT_SEQNUM` is an atomic; delivery is
//! [`super::af_netlink::netlink_broadcast`]'s.
#![deny(unsafe_code)]

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use linux_raw_sys::netlink as nl;

use super::af_netlink::{NetlinkSock, netlink_broadcast};
use crate::kernel::errno::{Errno, KResult};

/// The events sent so far (Linux: `uevent_seqnum`, also
/// /sys/kernel/uevent_seqnum).
static UEVENT_SEQNUM: AtomicU64 = AtomicU64::new(0);
/// The group every event goes to (Linux: `1` in `uevent_net_broadcast`).
const UEVENT_GROUP: u32 = 1;

/// Linux: `kobject_actions[]`, in `enum kobject_action` order.
const KOBJECT_ACTIONS: [&str; 8] =
    ["add", "remove", "change", "move", "online", "offline", "bind", "unbind"];

/// Linux: `uevent_seqnum`.
pub fn uevent_seqnum() -> u64 {
    UEVENT_SEQNUM.load(Ordering::Relaxed)
}

/// Sends an event (Linux: `kobject_uevent_env`): `devpath` is the
/// device's directory under /sys (`/devices/virtual/mem/null`); `extra`
/// the caller's variables, then `dev_env` the device's.
pub fn kobject_uevent_env(
    action: &str,
    devpath: &str,
    subsystem: &str,
    extra: &[String],
    dev_env: &[String],
) -> KResult<()> {
    let seqnum = UEVENT_SEQNUM.fetch_add(1, Ordering::Relaxed) + 1;
    let mut msg: Vec<u8> = Vec::new();
    msg.try_reserve(512).map_err(|_| Errno::ENOMEM)?;
    let mut add = |s: &str| {
        msg.extend_from_slice(s.as_bytes());
        msg.push(0);
    };
    add(&format!("{action}@{devpath}"));
    add(&format!("ACTION={action}"));
    add(&format!("DEVPATH={devpath}"));
    add(&format!("SUBSYSTEM={subsystem}"));
    for v in extra.iter().chain(dev_env) {
        add(v);
    }
    add(&format!("SEQNUM={seqnum}"));
    netlink_broadcast(nl::NETLINK_KOBJECT_UEVENT, 0, UEVENT_GROUP, &msg, None);
    Ok(())
}

/// A UUID as `kobject_synth_uevent` wants it: 36 characters, hex digits
/// with dashes at 8, 13, 18 and 23 (Linux: `uuid_is_valid`).
fn uuid_is_valid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, &c)| {
            if matches!(i, 8 | 13 | 18 | 23) { c == b'-' } else { c.is_ascii_hexdigit() }
        })
}

/// The variables of a synthetic event's arguments, `UUID [KEY=value
/// ...]` (Linux: `kobject_action_args`): `SYNTH_UUID=...` and
/// `SYNTH_ARG_KEY=value`, keys alphanumeric.
fn kobject_action_args(args: &[u8]) -> KResult<Vec<String>> {
    let mut words = args.split(|&c| c == b' ').filter(|w| !w.is_empty());
    let uuid = words.next().ok_or(Errno::EINVAL)?;
    if !uuid_is_valid(uuid) {
        return Err(Errno::EINVAL);
    }
    let text = |b: &[u8]| core::str::from_utf8(b).map(String::from).map_err(|_| Errno::EINVAL);
    let mut env = alloc::vec![format!("SYNTH_UUID={}", text(uuid)?)];
    for w in words {
        let eq = w.iter().position(|&c| c == b'=').ok_or(Errno::EINVAL)?;
        let (key, val) = (&w[..eq], &w[eq + 1..]);
        if key.is_empty() || !key.iter().all(u8::is_ascii_alphanumeric) {
            return Err(Errno::EINVAL);
        }
        env.push(format!("SYNTH_ARG_{}={}", text(key)?, text(val)?));
    }
    Ok(env)
}

/// An event asked for by writing `buf` to a `uevent` file (Linux:
/// `uevent_store` → `kobject_synth_uevent`): an action, optionally a
/// UUID and arguments; `EINVAL` for anything else. Without arguments the
/// event carries `SYNTH_UUID=0`.
pub fn kobject_synth_uevent(
    buf: &[u8],
    devpath: &str,
    subsystem: &str,
    dev_env: &[String],
) -> KResult<()> {
    let mut buf = buf;
    if let [head @ .., b'\n' | 0] = buf {
        buf = head;
    }
    if buf.is_empty() {
        return Err(Errno::EINVAL);
    }
    let (word, args) = match buf.iter().position(|&c| c == b' ') {
        Some(sp) => (&buf[..sp], Some(&buf[sp + 1..])),
        None => (buf, None),
    };
    let action = KOBJECT_ACTIONS.iter().find(|a| a.as_bytes() == word).ok_or(Errno::EINVAL)?;
    let extra = match args {
        None => alloc::vec![String::from("SYNTH_UUID=0")],
        Some(args) => kobject_action_args(args)?,
    };
    kobject_uevent_env(action, devpath, subsystem, &extra, dev_env)
}

/// Messages to the kernel's port of `NETLINK_KOBJECT_UEVENT` (Linux:
/// `uevent_net_rcv`): only a privileged sender in a child user namespace
/// may forward events; here there is one namespace, so a request gets
/// `EPERM`.
pub fn uevent_net_rcv(nlk: &Arc<NetlinkSock>, data: &[u8]) {
    super::rtnetlink::netlink_rcv_skb(nlk, data, |_| Err(Errno::EPERM));
}

crate::ktest!(uevent_synth_parse, {
    let env = [String::from("MAJOR=1")];
    let ok = |b: &[u8]| kobject_synth_uevent(b, "/devices/virtual/mem/null", "mem", &env);
    let before = uevent_seqnum();
    crate::kassert!(ok(b"add\n").is_ok(), "add");
    crate::kassert!(ok(b"change").is_ok(), "change");
    crate::kassert!(uevent_seqnum() == before + 2, "seqnum counts events");
    crate::kassert!(ok(b"bogus\n") == Err(Errno::EINVAL), "unknown action");
    crate::kassert!(ok(b"ad") == Err(Errno::EINVAL), "a prefix is no action");
    crate::kassert!(ok(b"\n") == Err(Errno::EINVAL), "empty");
    let uuid = b"add 01234567-89ab-cdef-0123-456789abcdef A=1";
    crate::kassert!(ok(uuid).is_ok(), "uuid and argument");
    crate::kassert!(ok(b"add 0123") == Err(Errno::EINVAL), "bad uuid");
    let args = kobject_action_args(&uuid[4..]).map_err(|_| "args")?;
    crate::kassert!(args.get(1).is_some_and(|a| a == "SYNTH_ARG_A=1"), "arg variable");
    Ok(())
});

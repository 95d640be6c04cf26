//! `/sys/class/net/NAME`: each interface's attributes and counters
//! (Linux: net/core/net-sysfs.c `net_class_attrs`, `netstat_attrs`,
//! `netdev_uevent`).
//!
//! A device lives at `/sys/devices/virtual/net/NAME` (Linux puts virtual
//! devices such as `lo` there too), linked from `/sys/class/net/NAME`.
//! Both directories are listed when read (a kernfs `DynDir`), so a
//! device shows as soon as it is registered and goes when it is removed
//! (`brctl addbr`/`delbr`); each entry keeps its inode number, derived
//! from the interface index. Attributes read the device's live state.
//!
//! # Locking
//! The device list's leaf lock while listing; the attributes read
//! atomics.
#![deny(unsafe_code)]

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::fs::proc::generic::SeqBuf;
use crate::fs::sysfs::kernfs::{KernfsBuilder, KernfsNode};
use crate::kernel::errno::{Errno, KResult};
use crate::net::core::dev::{NetDevice, NetDeviceStats, for_each_netdev};

/// Where the listed entries' inode numbers start, past the fixed tree's.
const CLASS_NET_INO: u64 = 1 << 32;
const VIRTUAL_NET_INO: u64 = 1 << 33;

/// Adds `/sys/class/net` and `/sys/devices/virtual/net` (Linux: the
/// `net` class, each device's `netdev_register_kobject`).
pub fn netdev_sysfs_add(b: &mut KernfsBuilder) -> KResult<()> {
    b.dyn_dir("class", "net", class_net_list)?;
    b.dyn_dir("devices/virtual", "net", virtual_net_list)
}

/// `/sys/class/net`: a link per interface.
fn class_net_list() -> KResult<Vec<Arc<KernfsNode>>> {
    let mut out = Vec::new();
    for dev in for_each_netdev() {
        let mut b = KernfsBuilder::with_ino_base(CLASS_NET_INO + u64::from(dev.ifindex));
        b.link("", &dev.name, &format!("../../devices/virtual/net/{}", dev.name))?;
        out.extend(b.finish().children()?);
    }
    Ok(out)
}

/// The names `/sys/class/net` lists now (for self-tests).
pub fn class_net_names() -> KResult<Vec<alloc::string::String>> {
    Ok(class_net_list()?.iter().map(|n| n.name.clone()).collect())
}

/// `/sys/devices/virtual/net`: a directory per interface.
fn virtual_net_list() -> KResult<Vec<Arc<KernfsNode>>> {
    let mut out = Vec::new();
    for dev in for_each_netdev() {
        let mut b = KernfsBuilder::with_ino_base(VIRTUAL_NET_INO + (u64::from(dev.ifindex) << 12));
        netdev_register_kobject(&mut b, &dev)?;
        out.extend(b.finish().children()?);
    }
    Ok(out)
}

/// `aa:bb:cc:dd:ee:ff` (Linux: `sysfs_format_mac`).
fn format_mac(m: &mut SeqBuf, addr: &[u8]) -> KResult<()> {
    for (i, b) in addr.iter().enumerate() {
        let sep = if i + 1 == addr.len() { "\n" } else { ":" };
        m.printf(format_args!("{b:02x}{sep}"))?;
    }
    Ok(())
}

/// Renders an attribute from the device.
type DevShow = fn(&NetDevice, &mut SeqBuf) -> KResult<()>;

/// Adds a read-only attribute that renders from the device.
fn dev_attr(
    b: &mut KernfsBuilder,
    dir: &str,
    name: &str,
    dev: &Arc<NetDevice>,
    show: DevShow,
) -> KResult<()> {
    let dev = dev.clone();
    b.attr(dir, name, move |m| show(&dev, m))
}

fn netdev_register_kobject(b: &mut KernfsBuilder, dev: &Arc<NetDevice>) -> KResult<()> {
    let dir = dev.name.clone();
    let attrs: &[(&str, DevShow)] = &[
        ("ifindex", |d, m| m.printf(format_args!("{}\n", d.ifindex))),
        ("iflink", |d, m| m.printf(format_args!("{}\n", d.ifindex))),
        ("type", |d, m| m.printf(format_args!("{}\n", d.dev_type))),
        ("flags", |d, m| m.printf(format_args!("{:#x}\n", d.flags()))),
        ("mtu", |d, m| m.printf(format_args!("{}\n", d.mtu()))),
        ("addr_len", |d, m| m.printf(format_args!("{}\n", d.addr_len))),
        ("addr_assign_type", |_, m| m.puts(b"0\n")),
        ("address", |d, m| format_mac(m, &d.dev_addr[..usize::from(d.addr_len).min(6)])),
        ("broadcast", |d, m| format_mac(m, &d.broadcast[..usize::from(d.addr_len).min(6)])),
        ("dev_id", |_, m| m.puts(b"0x0\n")),
        ("dev_port", |_, m| m.puts(b"0\n")),
        ("link_mode", |_, m| m.puts(b"0\n")),
        ("dormant", |_, m| m.puts(b"0\n")),
        ("ifalias", |_, m| m.puts(b"")),
        ("tx_queue_len", |d, m| {
            m.printf(format_args!("{}\n", d.tx_queue_len.load(Ordering::Relaxed)))
        }),
        ("operstate", |d, m| m.puts(operstate_name(d.operstate()))),
        // Linux: `carrier_show` is `EINVAL` while the device is down.
        ("carrier", |d, m| if d.is_up() { m.puts(b"1\n") } else { Err(Errno::EINVAL) }),
        ("uevent", |d, m| m.printf(format_args!("INTERFACE={}\nIFINDEX={}\n", d.name, d.ifindex))),
    ];
    for &(name, show) in attrs {
        dev_attr(b, &dir, name, dev, show)?;
    }
    netstat_attrs(b, &format!("{dir}/statistics"), dev)?;
    if crate::net::bridge::netif_is_bridge_master(dev) {
        bridge_attrs(b, &format!("{dir}/bridge"), dev)?;
        b.mkdir(&format!("{dir}/brif"))?;
    }
    b.link(&dir, "subsystem", "../../../../class/net")
}

/// `bridge/*` of a bridge with its defaults (Linux: br_sysfs_br.c; the
/// times in hundredths of a second, as `brctl showstp` reads them).
fn bridge_attrs(b: &mut KernfsBuilder, dir: &str, dev: &Arc<NetDevice>) -> KResult<()> {
    let fixed: &[(&str, &'static [u8])] = &[
        ("stp_state", b"0\n"),
        ("priority", b"32768\n"),
        ("forward_delay", b"1500\n"),
        ("hello_time", b"200\n"),
        ("max_age", b"2000\n"),
        ("ageing_time", b"30000\n"),
    ];
    for &(name, text) in fixed {
        b.attr(dir, name, move |m| m.puts(text))?;
    }
    let addr = dev.dev_addr;
    b.attr(dir, "bridge_id", move |m| {
        m.puts(b"8000.")?;
        addr.iter().try_for_each(|x| m.printf(format_args!("{x:02x}")))?;
        m.puts(b"\n")
    })
}

/// `IF_OPER_*` as text (Linux: `operstates[]`).
fn operstate_name(state: u8) -> &'static [u8] {
    match state {
        2 => b"down\n",
        6 => b"up\n",
        3 => b"lowerlayerdown\n",
        5 => b"dormant\n",
        _ => b"unknown\n",
    }
}

/// `statistics/*` (Linux: `netstat_attrs`): counters Ferrite does not
/// keep read 0, as a Linux driver that never counts them shows.
fn netstat_attrs(b: &mut KernfsBuilder, dir: &str, dev: &Arc<NetDevice>) -> KResult<()> {
    type Get = fn(&NetDeviceStats) -> &AtomicU64;
    let kept: &[(&str, Get)] = &[
        ("rx_packets", |s| &s.rx_packets),
        ("tx_packets", |s| &s.tx_packets),
        ("rx_bytes", |s| &s.rx_bytes),
        ("tx_bytes", |s| &s.tx_bytes),
        ("rx_errors", |s| &s.rx_errors),
        ("tx_errors", |s| &s.tx_errors),
        ("rx_dropped", |s| &s.rx_dropped),
        ("tx_dropped", |s| &s.tx_dropped),
        ("multicast", |s| &s.multicast),
    ];
    for &(name, get) in kept {
        let dev = dev.clone();
        b.attr(dir, name, move |m| {
            m.printf(format_args!("{}\n", get(&dev.stats).load(Ordering::Relaxed)))
        })?;
    }
    for name in [
        "collisions",
        "rx_length_errors",
        "rx_over_errors",
        "rx_crc_errors",
        "rx_frame_errors",
        "rx_fifo_errors",
        "rx_missed_errors",
        "tx_aborted_errors",
        "tx_carrier_errors",
        "tx_fifo_errors",
        "tx_heartbeat_errors",
        "tx_window_errors",
        "rx_compressed",
        "tx_compressed",
        "rx_nohandler",
    ] {
        b.attr(dir, name, |m| m.puts(b"0\n"))?;
    }
    Ok(())
}

//! Links over rtnetlink: `RTM_GETLINK` (one or a dump), `RTM_NEWLINK` /
//! `RTM_SETLINK` on an existing device (flags, MTU, queue length) and
//! the `RTM_NEWLINK` message itself (Linux: net/core/rtnetlink.c
//! `rtnl_fill_ifinfo`, `rtnl_getlink`, `rtnl_dump_ifinfo`,
//! `rtnl_setlink`, `rtnl_newlink`, `do_setlink`).
//!
//! The attributes follow `rtnl_fill_ifinfo`'s order for a device without
//! `rtnl_link_ops` (loopback). Not yet: `IFLA_AF_SPEC` (the per-family
//! configuration), `IFLA_XDP` beyond "not attached", renaming, changing
//! the hardware address, creating or deleting links.
//!
//! # Locking
//! Changes run under `rtnl_lock`; the message is built from the device's
//! atomics with no lock held.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use linux_raw_sys::netlink as nl;

use super::attr::NlBuf;
use super::attr::consts::NLM_F_MULTI;
use super::rtnetlink::{
    AF_UNSPEC, Handled, RTM_NEWLINK, Req, attrs_after, fixed_header, send_dump, send_reply,
};
use crate::kernel::errno::{Errno, KResult};
use crate::net::core::dev::{
    IFF_ALLMULTI, IFF_PROMISC, NetDevice, dev_change_flags, dev_get_by_index, dev_get_by_name,
    dev_set_mtu, for_each_netdev, rtnl_lock,
};

/// `sizeof(struct ifinfomsg)`.
const IFINFOMSG_SIZE: usize = 16;
/// `IFLA_*` as `u16`s.
const IFLA_ADDRESS: u16 = nl::IFLA_ADDRESS as u16;
const IFLA_BROADCAST: u16 = nl::IFLA_BROADCAST as u16;
const IFLA_IFNAME: u16 = nl::IFLA_IFNAME as u16;
const IFLA_MTU: u16 = nl::IFLA_MTU as u16;
const IFLA_QDISC: u16 = nl::IFLA_QDISC as u16;
const IFLA_STATS: u16 = nl::IFLA_STATS as u16;
const IFLA_TXQLEN: u16 = nl::IFLA_TXQLEN as u16;
const IFLA_MAP: u16 = nl::IFLA_MAP as u16;
const IFLA_OPERSTATE: u16 = nl::IFLA_OPERSTATE as u16;
const IFLA_LINKMODE: u16 = nl::IFLA_LINKMODE as u16;
const IFLA_LINKINFO: u16 = nl::IFLA_LINKINFO as u16;
const IFLA_STATS64: u16 = nl::IFLA_STATS64 as u16;
const IFLA_GROUP: u16 = nl::IFLA_GROUP as u16;
const IFLA_PROMISCUITY: u16 = nl::IFLA_PROMISCUITY as u16;
const IFLA_NUM_TX_QUEUES: u16 = nl::IFLA_NUM_TX_QUEUES as u16;
const IFLA_NUM_RX_QUEUES: u16 = nl::IFLA_NUM_RX_QUEUES as u16;
const IFLA_CARRIER: u16 = nl::IFLA_CARRIER as u16;
const IFLA_CARRIER_CHANGES: u16 = nl::IFLA_CARRIER_CHANGES as u16;
const IFLA_PROTO_DOWN: u16 = nl::IFLA_PROTO_DOWN as u16;
const IFLA_GSO_MAX_SEGS: u16 = nl::IFLA_GSO_MAX_SEGS as u16;
const IFLA_GSO_MAX_SIZE: u16 = nl::IFLA_GSO_MAX_SIZE as u16;
const IFLA_XDP: u16 = nl::IFLA_XDP as u16;
const IFLA_CARRIER_UP_COUNT: u16 = nl::IFLA_CARRIER_UP_COUNT as u16;
const IFLA_CARRIER_DOWN_COUNT: u16 = nl::IFLA_CARRIER_DOWN_COUNT as u16;
const IFLA_MIN_MTU: u16 = nl::IFLA_MIN_MTU as u16;
const IFLA_MAX_MTU: u16 = nl::IFLA_MAX_MTU as u16;
const IFLA_GRO_MAX_SIZE: u16 = nl::IFLA_GRO_MAX_SIZE as u16;
const IFLA_TSO_MAX_SIZE: u16 = nl::IFLA_TSO_MAX_SIZE as u16;
const IFLA_TSO_MAX_SEGS: u16 = nl::IFLA_TSO_MAX_SEGS as u16;
const IFLA_ALT_IFNAME: u16 = nl::IFLA_ALT_IFNAME as u16;
const IFLA_ALLMULTI: u16 = nl::IFLA_ALLMULTI as u16;
/// The fields of Linux 6.1's `struct rtnl_link_stats` (through
/// `rx_nohandler`).
const RTNL_LINK_STATS_FIELDS: usize = 24;
/// Linux: `IFLA_XDP_ATTACHED`, `XDP_ATTACHED_NONE`.
const IFLA_XDP_ATTACHED: u16 = 2;
/// Linux: `GSO_MAX_SEGS`, `GSO_LEGACY_MAX_SIZE`, `GRO_LEGACY_MAX_SIZE`,
/// and loopback's `tso_max_size` (`GSO_MAX_SIZE` less a frame's slack).
const GSO_MAX_SEGS: u32 = 65535;
const GSO_LEGACY_MAX_SIZE: u32 = 65536;
const LOOPBACK_TSO_MAX_SIZE: u32 = 524_280;
/// `sizeof(struct rtnl_link_ifmap)`: three u64, u16, two u8, padding.
const IFMAP_SIZE: usize = 32;

/// The queueing discipline `IFLA_QDISC` names: a device without a queue
/// gets `noqueue` when it comes up, and is on the built-in `noop` while
/// down (Linux: `dev_activate`, `dev_deactivate`).
pub fn qdisc_kind(dev: &NetDevice) -> &'static str {
    if dev.is_up() { "noqueue" } else { "noop" }
}

/// The counters in `struct rtnl_link_stats64` order; `rtnl_link_stats`
/// has the same fields in 32 bits.
fn stats_fields(dev: &NetDevice) -> Vec<u64> {
    let s = &dev.stats;
    let head = [
        &s.rx_packets,
        &s.tx_packets,
        &s.rx_bytes,
        &s.tx_bytes,
        &s.rx_errors,
        &s.tx_errors,
        &s.rx_dropped,
        &s.tx_dropped,
        &s.multicast,
    ];
    let n = core::mem::size_of::<nl::rtnl_link_stats64>() / 8;
    let mut v: Vec<u64> = head.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    v.resize(n, 0);
    v
}

/// An `RTM_NEWLINK` (or `RTM_DELLINK`) message for `dev` (Linux:
/// `rtnl_fill_ifinfo`).
pub fn ifinfo_msg(dev: &NetDevice, ty: u16, flags: u16, seq: u32, pid: u32, change: u32) -> NlBuf {
    let mut b = NlBuf::new();
    let at = b.begin(ty, flags, seq, pid);
    let mut ifi = [0u8; IFINFOMSG_SIZE];
    ifi[0] = AF_UNSPEC;
    ifi[2..4].copy_from_slice(&dev.dev_type.to_ne_bytes());
    ifi[4..8].copy_from_slice(&dev.ifindex.to_ne_bytes());
    ifi[8..12].copy_from_slice(&dev.dev_get_flags().to_ne_bytes());
    ifi[12..16].copy_from_slice(&change.to_ne_bytes());
    b.put(&ifi);
    b.attr_str(IFLA_IFNAME, &dev.name);
    b.attr_u32(IFLA_TXQLEN, dev.tx_queue_len.load(Ordering::Relaxed));
    b.attr_u8(IFLA_OPERSTATE, dev.operstate());
    b.attr_u8(IFLA_LINKMODE, 0);
    b.attr_u32(IFLA_MTU, dev.mtu());
    b.attr_u32(IFLA_MIN_MTU, dev.min_mtu);
    // No upper bound is 0 to Linux (`dev_validate_mtu`).
    b.attr_u32(IFLA_MAX_MTU, if dev.max_mtu == u32::MAX { 0 } else { dev.max_mtu });
    b.attr_u32(IFLA_GROUP, 0);
    b.attr_u32(IFLA_PROMISCUITY, u32::from(dev.flags() & IFF_PROMISC != 0));
    b.attr_u32(IFLA_ALLMULTI, u32::from(dev.flags() & IFF_ALLMULTI != 0));
    b.attr_u32(IFLA_NUM_TX_QUEUES, 1);
    b.attr_u32(IFLA_GSO_MAX_SEGS, GSO_MAX_SEGS);
    b.attr_u32(IFLA_GSO_MAX_SIZE, GSO_LEGACY_MAX_SIZE);
    b.attr_u32(IFLA_GRO_MAX_SIZE, GSO_LEGACY_MAX_SIZE);
    let tso = if dev.is_loopback() { LOOPBACK_TSO_MAX_SIZE } else { GSO_LEGACY_MAX_SIZE };
    b.attr_u32(IFLA_TSO_MAX_SIZE, tso);
    b.attr_u32(IFLA_TSO_MAX_SEGS, GSO_MAX_SEGS);
    b.attr_u32(IFLA_NUM_RX_QUEUES, 1);
    // Virtual devices always have carrier (Linux: `netif_carrier_ok`).
    b.attr_u8(IFLA_CARRIER, 1);
    b.attr_str(IFLA_QDISC, qdisc_kind(dev));
    b.attr_u32(IFLA_CARRIER_CHANGES, 0);
    b.attr_u32(IFLA_CARRIER_UP_COUNT, 0);
    b.attr_u32(IFLA_CARRIER_DOWN_COUNT, 0);
    b.attr_u8(IFLA_PROTO_DOWN, 0);
    // 64-bit attributes go unpadded: x86-64 has efficient unaligned
    // access (Linux: `nla_need_padding_for_64bit`).
    b.attr(IFLA_MAP, &[0; IFMAP_SIZE]);
    if dev.addr_len > 0 {
        let len = usize::from(dev.addr_len).min(dev.dev_addr.len());
        b.attr(IFLA_ADDRESS, &dev.dev_addr[..len]);
        b.attr(IFLA_BROADCAST, &dev.broadcast[..len]);
    }
    let stats = stats_fields(dev);
    let s64: Vec<u8> = stats.iter().flat_map(|v| v.to_ne_bytes()).collect();
    b.attr(IFLA_STATS64, &s64);
    #[expect(clippy::cast_possible_truncation, reason = "rtnl_link_stats is the 32-bit view")]
    let s32: Vec<u8> =
        stats.iter().take(RTNL_LINK_STATS_FIELDS).flat_map(|v| (*v as u32).to_ne_bytes()).collect();
    b.attr(IFLA_STATS, &s32);
    let xdp = b.nest_start(IFLA_XDP, false);
    b.attr_u8(IFLA_XDP_ATTACHED, 0);
    b.nest_end(xdp);
    b.end(at);
    b
}

/// Linux: `rtnl_dump_ifinfo`.
pub fn rtnl_dump_ifinfo(req: &Req<'_>) -> KResult<Handled> {
    let (seq, pid, multi) = (req.hdr.seq, req.nlk.portid(), NLM_F_MULTI);
    let devs = for_each_netdev();
    let msgs = devs.iter().map(|d| ifinfo_msg(d, RTM_NEWLINK, multi, seq, pid, 0)).collect();
    send_dump(req, alloc::vec![msgs])
}

/// The device a link request names: by `ifi_index`, else by
/// `IFLA_IFNAME`/`IFLA_ALT_IFNAME`; `EINVAL` with neither, `ENODEV` if
/// none matches (Linux: `rtnl_getlink`'s and `rtnl_setlink`'s lookup).
fn link_dev(req: &Req<'_>) -> KResult<Arc<NetDevice>> {
    let ifi = fixed_header::<IFINFOMSG_SIZE>(req)?;
    let index = i32::from_ne_bytes([ifi[4], ifi[5], ifi[6], ifi[7]]);
    if index > 0 {
        return dev_get_by_index(index as u32).ok_or(Errno::ENODEV);
    }
    let attrs = attrs_after(req, IFINFOMSG_SIZE);
    let name =
        attrs.str(IFLA_IFNAME).or_else(|| attrs.str(IFLA_ALT_IFNAME)).ok_or(Errno::EINVAL)?;
    let name = core::str::from_utf8(name).map_err(|_| Errno::ENODEV)?;
    dev_get_by_name(name).ok_or(Errno::ENODEV)
}

/// Linux: `rtnl_getlink`.
pub fn rtnl_getlink(req: &Req<'_>) -> KResult<Handled> {
    let dev = link_dev(req)?;
    send_reply(req, ifinfo_msg(&dev, RTM_NEWLINK, 0, req.hdr.seq, req.nlk.portid(), 0));
    Ok(Handled::Done)
}

/// Applies a link request to `dev` (Linux: `do_setlink`): the MTU, the
/// queue length, then the flags as `ifi_flags` under the `ifi_change`
/// mask (`rtnl_dev_combine_flags`).
fn do_setlink(req: &Req<'_>, dev: &Arc<NetDevice>) -> KResult<()> {
    let ifi = fixed_header::<IFINFOMSG_SIZE>(req)?;
    let attrs = attrs_after(req, IFINFOMSG_SIZE);
    if attrs.get(IFLA_ADDRESS).is_some() || attrs.get(IFLA_LINKINFO).is_some() {
        // TODO(issue 7): hardware address changes and link kinds.
        return Err(Errno::EOPNOTSUPP);
    }
    if let Some(name) = attrs.str(IFLA_IFNAME)
        && name != dev.name.as_bytes()
    {
        // TODO(issue 7): renaming a link.
        return Err(Errno::EOPNOTSUPP);
    }
    let _rtnl = rtnl_lock();
    if let Some(mtu) = attrs.u32(IFLA_MTU) {
        dev_set_mtu(dev, mtu)?;
    }
    if let Some(qlen) = attrs.u32(IFLA_TXQLEN) {
        dev.tx_queue_len.store(qlen, Ordering::Relaxed);
    }
    let flags = u32::from_ne_bytes([ifi[8], ifi[9], ifi[10], ifi[11]]);
    let change = u32::from_ne_bytes([ifi[12], ifi[13], ifi[14], ifi[15]]);
    if flags != 0 || change != 0 {
        let flags = if change != 0 { (flags & change) | (dev.flags() & !change) } else { flags };
        dev_change_flags(dev, flags)?;
    }
    Ok(())
}

/// Linux: `rtnl_setlink`.
pub fn rtnl_setlink(req: &Req<'_>) -> KResult<Handled> {
    let dev = link_dev(req)?;
    do_setlink(req, &dev)?;
    Ok(Handled::Done)
}

/// Linux: `rtnl_newlink` for an existing device: `EEXIST` with
/// `NLM_F_EXCL`, `EOPNOTSUPP` with `NLM_F_REPLACE`, else a setlink; a
/// new device needs a link kind, and none can be made (`EOPNOTSUPP`;
/// `ENODEV` without `NLM_F_CREATE`).
pub fn rtnl_newlink(req: &Req<'_>) -> KResult<Handled> {
    let flags = u32::from(req.hdr.flags);
    match link_dev(req) {
        Ok(dev) => {
            if flags & nl::NLM_F_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            if flags & nl::NLM_F_REPLACE != 0 {
                return Err(Errno::EOPNOTSUPP);
            }
            do_setlink(req, &dev)?;
            Ok(Handled::Done)
        }
        Err(Errno::ENODEV | Errno::EINVAL) if flags & nl::NLM_F_CREATE == 0 => Err(Errno::ENODEV),
        Err(Errno::ENODEV | Errno::EINVAL) => Err(Errno::EOPNOTSUPP),
        Err(e) => Err(e),
    }
}

/// Linux: `rtnl_dellink`: only devices of a link kind can go; loopback
/// and the others here cannot (`EOPNOTSUPP`).
pub fn rtnl_dellink(req: &Req<'_>) -> KResult<Handled> {
    link_dev(req)?;
    Err(Errno::EOPNOTSUPP)
}

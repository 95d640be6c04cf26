//! Dumps of what rtnetlink derives: routes, neighbours and queueing
//! disciplines (Linux: net/ipv4/fib_frontend.c `fib_add_ifaddr`,
//! `inet_dump_fib`; net/ipv4/fib_semantics.c `fib_dump_info`;
//! net/ipv6/route.c `rt6_fill_node`, `inet6_dump_fib`;
//! net/core/neighbour.c `neigh_dump_info`; net/sched/sch_api.c
//! `tc_dump_qdisc`, `tc_fill_qdisc`).
//!
//! There is no routing table to configure yet: the routes are those Linux
//! makes by itself for the addresses of the devices that are up
//! (`fib_add_ifaddr`'s local, prefix and broadcast routes; IPv6's local
//! and prefix routes of each address), in Linux's dump order (the main
//! table, then local, each by destination). The neighbour tables are
//! empty (no device does ARP or NDP). A device that is up has the
//! `noqueue` discipline; a device that is down has the built-in `noop`,
//! which dumps skip, as Linux does.
//!
//! # Locking
//! None of its own: the address lists are copied out.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::netlink as nl;

use super::attr::NlBuf;
use super::attr::consts::{NLM_F_MULTI, RTPROT_KERNEL};
use super::rtnetlink::{AF_INET, AF_INET6, Handled, RTM_NEWQDISC, RTM_NEWROUTE, Req, send_dump};
use crate::kernel::errno::KResult;
use crate::net::core::dev::{InIfaddr, NetDevice, for_each_netdev};
use crate::net::ipv4::devinet::{
    IFA_F_SECONDARY, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, same_subnet,
};

const RT_TABLE_MAIN: u8 = 254;
const RT_TABLE_LOCAL: u8 = 255;
const RTN_UNICAST: u8 = nl::RTN_UNICAST as u8;
const RTN_LOCAL: u8 = nl::RTN_LOCAL as u8;
const RTN_BROADCAST: u8 = nl::RTN_BROADCAST as u8;
const RTA_DST: u16 = nl::rtattr_type_t::RTA_DST as u16;
const RTA_OIF: u16 = nl::rtattr_type_t::RTA_OIF as u16;
const RTA_PRIORITY: u16 = nl::rtattr_type_t::RTA_PRIORITY as u16;
const RTA_PREFSRC: u16 = nl::rtattr_type_t::RTA_PREFSRC as u16;
const RTA_CACHEINFO: u16 = nl::rtattr_type_t::RTA_CACHEINFO as u16;
const RTA_TABLE: u16 = nl::rtattr_type_t::RTA_TABLE as u16;
const RTA_PREF: u16 = nl::rtattr_type_t::RTA_PREF as u16;
/// Linux: `IFA_F_NOPREFIXROUTE`.
const IFA_F_NOPREFIXROUTE: u32 = nl::IFA_F_NOPREFIXROUTE;
/// Metrics IPv6 gives its kernel routes (Linux: `IP6_RT_PRIO_KERN`).
const IP6_RT_PRIO_KERN: u32 = 256;
/// `ICMPV6_ROUTER_PREF_MEDIUM`.
const ICMPV6_ROUTER_PREF_MEDIUM: u8 = 0;

/// One derived route.
#[derive(Clone, PartialEq, Eq)]
struct Route {
    family: u8,
    table: u8,
    ty: u8,
    scope: u8,
    dst: [u8; 16],
    dst_len: u8,
    prefsrc: Option<[u8; 4]>,
    priority: u32,
    oif: u32,
}

impl Route {
    /// Dump order: the main table before local (Linux walks its table
    /// hash by id), then by destination, longer prefixes first.
    fn key(&self) -> (u8, [u8; 16], core::cmp::Reverse<u8>) {
        (self.table, self.dst, core::cmp::Reverse(self.dst_len))
    }
}

fn v4(a: [u8; 4]) -> [u8; 16] {
    let mut d = [0; 16];
    d[..4].copy_from_slice(&a);
    d
}

/// The routes `fib_add_ifaddr` adds for one address of an up device.
fn fib_add_ifaddr(dev: &NetDevice, ifa: &InIfaddr, prim: &InIfaddr, out: &mut Vec<Route>) {
    let mut route = |table, ty, dst: [u8; 4], dst_len| {
        let scope = if ty == RTN_LOCAL { RT_SCOPE_HOST } else { RT_SCOPE_LINK };
        let r = Route {
            family: AF_INET,
            table,
            ty,
            scope,
            dst: v4(dst),
            dst_len,
            prefsrc: Some(prim.local),
            priority: 0,
            oif: dev.ifindex,
        };
        if !out.contains(&r) {
            out.push(r);
        }
    };
    route(RT_TABLE_LOCAL, RTN_LOCAL, ifa.local, 32);
    if ifa.broadcast != [0; 4] && ifa.broadcast != [255; 4] {
        route(RT_TABLE_LOCAL, RTN_BROADCAST, ifa.broadcast, 32);
    }
    let mask = u32::from_be_bytes(ifa.mask());
    let prefix = u32::from_be_bytes(ifa.local) & mask;
    let zeronet = prefix >> 24 == 0;
    if !zeronet
        && ifa.flags & IFA_F_SECONDARY == 0
        && (prefix != u32::from_be_bytes(ifa.local) || ifa.prefixlen < 32)
    {
        if ifa.flags & IFA_F_NOPREFIXROUTE == 0 {
            let (table, ty) = if dev.is_loopback() {
                (RT_TABLE_LOCAL, RTN_LOCAL)
            } else {
                (RT_TABLE_MAIN, RTN_UNICAST)
            };
            route(table, ty, prefix.to_be_bytes(), ifa.prefixlen);
        }
        if ifa.prefixlen < 31 {
            route(RT_TABLE_LOCAL, RTN_BROADCAST, (prefix | !mask).to_be_bytes(), 32);
        }
    }
}

/// The IPv4 routes of every device that is up.
fn inet_routes() -> Vec<Route> {
    let mut out = Vec::new();
    for dev in for_each_netdev().iter().filter(|d| d.is_up()) {
        let list = dev.ip_ptr.lock().clone();
        for ifa in &list {
            // A secondary's routes take their source from its primary.
            let prim = list
                .iter()
                .find(|p| {
                    p.flags & IFA_F_SECONDARY == 0
                        && p.prefixlen == ifa.prefixlen
                        && same_subnet(p.local, ifa.local, ifa.prefixlen)
                })
                .unwrap_or(ifa);
            fib_add_ifaddr(dev, ifa, prim, &mut out);
        }
    }
    out.sort_by_key(Route::key);
    out
}

/// The IPv6 routes of every device that is up: each address's own
/// (local table) and its prefix (main table; Linux:
/// `addrconf_prefix_route`, `addrconf_f6i_alloc` for the local one),
/// but for loopback's own `::1`, which has no prefix route.
fn inet6_routes() -> Vec<Route> {
    let mut out = Vec::new();
    for dev in for_each_netdev().iter().filter(|d| d.is_up()) {
        for ifa in dev.ip6_ptr.lock().clone() {
            let base = Route {
                family: AF_INET6,
                table: RT_TABLE_LOCAL,
                ty: RTN_LOCAL,
                scope: RT_SCOPE_UNIVERSE,
                dst: ifa.addr,
                dst_len: 128,
                prefsrc: None,
                priority: 0,
                oif: dev.ifindex,
            };
            if ifa.flags & IFA_F_NOPREFIXROUTE == 0 && !super::addr::is_kernel_lo6(dev, &ifa) {
                let mut prefix = ifa.addr;
                for (i, b) in prefix.iter_mut().enumerate() {
                    let done = u32::try_from(i * 8).unwrap_or(u32::MAX);
                    let keep = u32::from(ifa.prefixlen).saturating_sub(done).min(8);
                    *b &= 0xffu8.checked_shl(8 - keep).unwrap_or(0);
                }
                let main = Route {
                    table: RT_TABLE_MAIN,
                    ty: RTN_UNICAST,
                    dst: prefix,
                    dst_len: ifa.prefixlen,
                    priority: IP6_RT_PRIO_KERN,
                    ..base.clone()
                };
                if !out.contains(&main) {
                    out.push(main);
                }
            }
            if !out.contains(&base) {
                out.push(base);
            }
        }
    }
    out.sort_by_key(Route::key);
    out
}

/// A route message (Linux: `fib_dump_info` for IPv4, `rt6_fill_node`
/// for IPv6, with their attribute orders).
fn route_msg(r: &Route, req: &Req<'_>) -> NlBuf {
    let mut b = NlBuf::new();
    let at = req.reply(&mut b, RTM_NEWROUTE, NLM_F_MULTI);
    let rtm = [r.family, r.dst_len, 0, 0, r.table, RTPROT_KERNEL, r.scope, r.ty];
    b.put(&rtm);
    b.put(&0u32.to_ne_bytes());
    b.attr_u32(RTA_TABLE, u32::from(r.table));
    let alen = if r.family == AF_INET { 4 } else { 16 };
    if r.dst_len > 0 {
        b.attr(RTA_DST, &r.dst[..alen]);
    }
    if r.family == AF_INET {
        if r.priority != 0 {
            b.attr_u32(RTA_PRIORITY, r.priority);
        }
        if let Some(src) = r.prefsrc {
            b.attr(RTA_PREFSRC, &src);
        }
        b.attr_u32(RTA_OIF, r.oif);
    } else {
        b.attr_u32(RTA_PRIORITY, r.priority);
        b.attr_u32(RTA_OIF, r.oif);
        // struct rta_cacheinfo: nothing used, no expiry, no error.
        b.attr(RTA_CACHEINFO, &[0; 32]);
        b.attr_u8(RTA_PREF, ICMPV6_ROUTER_PREF_MEDIUM);
    }
    b.end(at);
    b
}

/// Linux: `inet_dump_fib`.
pub fn inet_dump_fib(req: &Req<'_>) -> KResult<Handled> {
    send_dump(req, alloc::vec![inet_routes().iter().map(|r| route_msg(r, req)).collect()])
}

/// Linux: `inet6_dump_fib`.
pub fn inet6_dump_fib(req: &Req<'_>) -> KResult<Handled> {
    send_dump(req, alloc::vec![inet6_routes().iter().map(|r| route_msg(r, req)).collect()])
}

/// Every family's routes, IPv4 first (Linux: `rtnl_dump_all`).
pub fn rtnl_dump_all_route(req: &Req<'_>) -> KResult<Handled> {
    let v4 = inet_routes().iter().map(|r| route_msg(r, req)).collect();
    let v6 = inet6_routes().iter().map(|r| route_msg(r, req)).collect();
    send_dump(req, alloc::vec![v4, v6])
}

/// Linux: `neigh_dump_info`: the ARP and NDP tables, empty here.
pub fn neigh_dump_info(req: &Req<'_>) -> KResult<Handled> {
    send_dump(req, Vec::new())
}

/// `TCA_*` and `TCA_STATS_*` (Linux: include/uapi/linux/rtnetlink.h,
/// gen_stats.h).
const TCA_KIND: u16 = 1;
const TCA_STATS: u16 = 3;
const TCA_STATS2: u16 = 7;
const TCA_HW_OFFLOAD: u16 = 12;
const TCA_STATS_BASIC: u16 = 1;
const TCA_STATS_QUEUE: u16 = 3;
/// Linux: `TC_H_ROOT`.
const TC_H_ROOT: u32 = 0xffff_ffff;
/// The root qdisc's reference count as Linux reports it (the device's
/// and its queue's).
const ROOT_QDISC_REFCNT: u32 = 2;

/// The root `noqueue` qdisc of an up device (Linux: `tc_fill_qdisc`).
fn qdisc_msg(dev: &NetDevice, req: &Req<'_>) -> NlBuf {
    let mut b = NlBuf::new();
    let at = req.reply(&mut b, RTM_NEWQDISC, NLM_F_MULTI);
    let mut tcm = [0u8; 20];
    tcm[4..8].copy_from_slice(&dev.ifindex.to_ne_bytes());
    tcm[12..16].copy_from_slice(&TC_H_ROOT.to_ne_bytes());
    tcm[16..20].copy_from_slice(&ROOT_QDISC_REFCNT.to_ne_bytes());
    b.put(&tcm);
    b.attr_str(TCA_KIND, super::link::qdisc_kind(dev));
    b.attr_u8(TCA_HW_OFFLOAD, 0);
    let st = b.nest_start(TCA_STATS2, false);
    // struct gnet_stats_basic (bytes, packets) and gnet_stats_queue.
    b.attr(TCA_STATS_BASIC, &[0; 16]);
    b.attr(TCA_STATS_QUEUE, &[0; 20]);
    b.nest_end(st);
    // The legacy struct tc_stats.
    b.attr(TCA_STATS, &[0; 40]);
    b.end(at);
    b
}

/// Linux: `tc_dump_qdisc`.
pub fn tc_dump_qdisc(req: &Req<'_>) -> KResult<Handled> {
    let devs = for_each_netdev();
    send_dump(
        req,
        alloc::vec![devs.iter().filter(|d| d.is_up()).map(|d| qdisc_msg(d, req)).collect()],
    )
}

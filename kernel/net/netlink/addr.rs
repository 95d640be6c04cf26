//! Interface addresses over rtnetlink: `RTM_GETADDR` dumps and
//! `RTM_NEWADDR`/`RTM_DELADDR` for IPv4 and IPv6 (Linux:
//! net/ipv4/devinet.c `inet_fill_ifaddr`, `inet_dump_ifaddr`,
//! `inet_rtm_newaddr`, `inet_rtm_deladdr`; net/ipv6/addrconf.c
//! `inet6_fill_ifaddr`, `inet6_dump_ifaddr`, `inet6_rtm_newaddr`,
//! `inet6_rtm_deladdr`; net/core/rtnetlink.c `rtnl_dump_all`).
//!
//! Every address is permanent (no lifetimes are kept), so
//! `IFA_CACHEINFO` shows infinite lifetimes; its creation and update
//! stamps are 0 (not recorded yet).
//!
//! # Locking
//! Changes run under `rtnl_lock`; the address lists (leaf spinlocks) are
//! copied out before messages are built.
#![deny(unsafe_code)]

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::netlink as nl;

use super::attr::NlBuf;
use super::attr::consts::{IFAPROT_KERNEL_LO, NLM_F_MULTI};
use super::rtnetlink::{
    AF_INET, AF_INET6, Handled, RTM_NEWADDR, Req, attrs_after, fixed_header, send_dump,
};
use crate::kernel::errno::{Errno, KResult};
use crate::net::core::dev::{
    InIfaddr, Inet6Ifaddr, NetDevice, dev_get_by_index, for_each_netdev, rtnl_lock,
};
use crate::net::ipv4::devinet::{IFA_F_PERMANENT, inet_del_ifa, inet_insert_ifa, same_subnet};
use crate::net::ipv6::addrconf::{IN6ADDR_LOOPBACK, inet6_addr_del, ipv6_add_addr};

/// `sizeof(struct ifaddrmsg)`.
const IFADDRMSG_SIZE: usize = 8;
const IFA_ADDRESS: u16 = nl::IFA_ADDRESS as u16;
const IFA_LOCAL: u16 = nl::IFA_LOCAL as u16;
const IFA_LABEL: u16 = nl::IFA_LABEL as u16;
const IFA_BROADCAST: u16 = nl::IFA_BROADCAST as u16;
const IFA_CACHEINFO: u16 = nl::IFA_CACHEINFO as u16;
const IFA_FLAGS: u16 = nl::IFA_FLAGS as u16;
const IFA_PROTO: u16 = nl::IFA_PROTO as u16;
/// Linux: `INFINITY_LIFE_TIME`.
const INFINITY_LIFE_TIME: u32 = u32::MAX;
/// Linux: `RT_SCOPE_SITE`, and the host and link scopes.
const RT_SCOPE_SITE: u8 = 200;
use crate::net::ipv4::devinet::{RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE};

/// `struct ifaddrmsg`.
fn ifaddrmsg(family: u8, prefixlen: u8, flags: u32, scope: u8, index: u32) -> [u8; 8] {
    let mut m = [0u8; IFADDRMSG_SIZE];
    #[expect(clippy::cast_possible_truncation, reason = "ifa_flags has the low 8 flags")]
    let low = flags as u8;
    m[..4].copy_from_slice(&[family, prefixlen, low, scope]);
    m[4..].copy_from_slice(&index.to_ne_bytes());
    m
}

/// `IFA_CACHEINFO` of a permanent address (Linux: `put_cacheinfo`).
fn put_cacheinfo(b: &mut NlBuf) {
    let mut ci = [0u8; 16];
    ci[..4].copy_from_slice(&INFINITY_LIFE_TIME.to_ne_bytes());
    ci[4..8].copy_from_slice(&INFINITY_LIFE_TIME.to_ne_bytes());
    b.attr(IFA_CACHEINFO, &ci);
}

/// An IPv4 address message (Linux: `inet_fill_ifaddr`).
pub fn inet_ifaddr_msg(
    dev: &NetDevice,
    ifa: &InIfaddr,
    ty: u16,
    flags: u16,
    seq: u32,
    pid: u32,
) -> NlBuf {
    let mut b = NlBuf::new();
    let at = b.begin(ty, flags, seq, pid);
    b.put(&ifaddrmsg(AF_INET, ifa.prefixlen, ifa.flags, ifa.scope, dev.ifindex));
    if ifa.address != [0; 4] {
        b.attr(IFA_ADDRESS, &ifa.address);
    }
    if ifa.local != [0; 4] {
        b.attr(IFA_LOCAL, &ifa.local);
    }
    if ifa.broadcast != [0; 4] {
        b.attr(IFA_BROADCAST, &ifa.broadcast);
    }
    if !ifa.label.is_empty() {
        b.attr_str(IFA_LABEL, &ifa.label);
    }
    b.attr_u32(IFA_FLAGS, ifa.flags);
    put_cacheinfo(&mut b);
    b.end(at);
    b
}

/// Whether `ifa` is the `::1` loopback got when it came up (Linux:
/// `init_loopback`, which marks it `IFAPROT_KERNEL_LO` and gives it no
/// prefix route). The origin is not recorded: a `::1/128` put back by
/// hand passes for it.
pub fn is_kernel_lo6(dev: &NetDevice, ifa: &Inet6Ifaddr) -> bool {
    dev.is_loopback() && ifa.addr == IN6ADDR_LOOPBACK && ifa.prefixlen == 128
}

/// An IPv6 address message (Linux: `inet6_fill_ifaddr`).
pub fn inet6_ifaddr_msg(
    dev: &NetDevice,
    ifa: &Inet6Ifaddr,
    ty: u16,
    flags: u16,
    seq: u32,
    pid: u32,
) -> NlBuf {
    let mut b = NlBuf::new();
    let at = b.begin(ty, flags, seq, pid);
    b.put(&ifaddrmsg(AF_INET6, ifa.prefixlen, ifa.flags, ifa.scope, dev.ifindex));
    b.attr(IFA_ADDRESS, &ifa.addr);
    put_cacheinfo(&mut b);
    b.attr_u32(IFA_FLAGS, ifa.flags);
    if is_kernel_lo6(dev, ifa) {
        b.attr_u8(IFA_PROTO, IFAPROT_KERNEL_LO);
    }
    b.end(at);
    b
}

fn inet_msgs(req: &Req<'_>) -> Vec<NlBuf> {
    let (seq, pid, multi) = (req.hdr.seq, req.nlk.portid(), NLM_F_MULTI);
    let mut out = Vec::new();
    for dev in for_each_netdev() {
        let list = dev.ip_ptr.lock().clone();
        out.extend(list.iter().map(|a| inet_ifaddr_msg(&dev, a, RTM_NEWADDR, multi, seq, pid)));
    }
    out
}

fn inet6_msgs(req: &Req<'_>) -> Vec<NlBuf> {
    let (seq, pid, multi) = (req.hdr.seq, req.nlk.portid(), NLM_F_MULTI);
    let mut out = Vec::new();
    for dev in for_each_netdev() {
        let list = dev.ip6_ptr.lock().clone();
        out.extend(list.iter().map(|a| inet6_ifaddr_msg(&dev, a, RTM_NEWADDR, multi, seq, pid)));
    }
    out
}

/// Linux: `inet_dump_ifaddr`.
pub fn inet_dump_ifaddr(req: &Req<'_>) -> KResult<Handled> {
    send_dump(req, alloc::vec![inet_msgs(req)])
}

/// Linux: `inet6_dump_ifaddr`.
pub fn inet6_dump_ifaddr(req: &Req<'_>) -> KResult<Handled> {
    send_dump(req, alloc::vec![inet6_msgs(req)])
}

/// Every family's addresses, IPv4 first, each family's in datagrams of
/// its own (Linux: `rtnl_dump_all` walks the families in number order
/// and ends a datagram after a family that filled some).
pub fn rtnl_dump_all_addr(req: &Req<'_>) -> KResult<Handled> {
    send_dump(req, alloc::vec![inet_msgs(req), inet6_msgs(req)])
}

/// The request's `ifaddrmsg`: (prefix length, flags, scope, device).
fn ifaddr_req(req: &Req<'_>) -> KResult<(u8, u8, u8, Arc<NetDevice>)> {
    let m = fixed_header::<IFADDRMSG_SIZE>(req)?;
    let index = u32::from_ne_bytes([m[4], m[5], m[6], m[7]]);
    Ok((m[1], m[2], m[3], dev_get_by_index(index).ok_or(Errno::ENODEV)?))
}

/// Linux: `inet_rtm_newaddr` (`rtm_to_ifaddr` + `__inet_insert_ifa`):
/// `IFA_LOCAL` is needed; an address already there is `EEXIST` unless
/// `NLM_F_REPLACE` without `NLM_F_EXCL` replaces it.
pub fn inet_rtm_newaddr(req: &Req<'_>) -> KResult<Handled> {
    let attrs = attrs_after(req, IFADDRMSG_SIZE);
    let (prefixlen, ifa_flags, scope, dev) = {
        let m = fixed_header::<IFADDRMSG_SIZE>(req)?;
        if m[1] > 32 || attrs.get(IFA_LOCAL).is_none() {
            return Err(Errno::EINVAL);
        }
        ifaddr_req(req)?
    };
    let local = attrs.addr::<4>(IFA_LOCAL).ok_or(Errno::EINVAL)?;
    let label = match attrs.str(IFA_LABEL) {
        Some(l) => String::from(core::str::from_utf8(l).map_err(|_| Errno::EINVAL)?),
        None => dev.name.clone(),
    };
    let ifa = InIfaddr {
        local,
        address: attrs.addr::<4>(IFA_ADDRESS).unwrap_or(local),
        prefixlen,
        broadcast: attrs.addr::<4>(IFA_BROADCAST).unwrap_or([0; 4]),
        scope,
        // No IFA_CACHEINFO lifetimes: the address is permanent.
        flags: (attrs.u32(IFA_FLAGS).unwrap_or(u32::from(ifa_flags)) | IFA_F_PERMANENT)
            & !crate::net::ipv4::devinet::IFA_F_SECONDARY,
        label,
    };
    let flags = u32::from(req.hdr.flags);
    let _rtnl = rtnl_lock();
    let exists = dev.ip_ptr.lock().iter().any(|a| a.local == local && a.prefixlen == prefixlen);
    if exists {
        if flags & nl::NLM_F_EXCL != 0 || flags & nl::NLM_F_REPLACE == 0 {
            return Err(Errno::EEXIST);
        }
        inet_del_ifa(&dev, local, prefixlen)?;
    }
    inet_insert_ifa(&dev, ifa)?;
    Ok(Handled::Done)
}

/// Linux: `inet_rtm_deladdr`: the first address matching what the
/// request gives (local address, label, prefix of `IFA_ADDRESS`);
/// `EADDRNOTAVAIL` if none.
pub fn inet_rtm_deladdr(req: &Req<'_>) -> KResult<Handled> {
    let attrs = attrs_after(req, IFADDRMSG_SIZE);
    let (prefixlen, _, _, dev) = ifaddr_req(req)?;
    let local = attrs.addr::<4>(IFA_LOCAL);
    let label = attrs.str(IFA_LABEL);
    let address = attrs.addr::<4>(IFA_ADDRESS);
    let _rtnl = rtnl_lock();
    let found = dev
        .ip_ptr
        .lock()
        .iter()
        .find(|a| {
            local.is_none_or(|l| l == a.local)
                && label.is_none_or(|l| l == a.label.as_bytes())
                && address.is_none_or(|p| {
                    prefixlen == a.prefixlen && same_subnet(p, a.address, a.prefixlen)
                })
        })
        .cloned();
    let ifa = found.ok_or(Errno::EADDRNOTAVAIL)?;
    inet_del_ifa(&dev, ifa.local, ifa.prefixlen)?;
    Ok(Handled::Done)
}

/// The prefix address of an IPv6 request: `IFA_ADDRESS`, else
/// `IFA_LOCAL` (Linux: `extract_addr`); `EINVAL` with neither.
fn inet6_req_addr(req: &Req<'_>) -> KResult<[u8; 16]> {
    let attrs = attrs_after(req, IFADDRMSG_SIZE);
    attrs.addr::<16>(IFA_ADDRESS).or_else(|| attrs.addr::<16>(IFA_LOCAL)).ok_or(Errno::EINVAL)
}

/// The scope of an IPv6 unicast address (Linux: `ipv6_addr_scope` as
/// `rt_scope` shows it).
fn ipv6_addr_scope(a: &[u8; 16]) -> u8 {
    let mut loopback = [0u8; 16];
    loopback[15] = 1;
    match (a[0], a[1] & 0xc0) {
        _ if *a == loopback => RT_SCOPE_HOST,
        (0xfe, 0x80) => RT_SCOPE_LINK,
        (0xfe, 0xc0) => RT_SCOPE_SITE,
        _ => RT_SCOPE_UNIVERSE,
    }
}

/// Linux: `inet6_rtm_newaddr` → `inet6_addr_add`: the scope comes from
/// the address; flags are those a user may set, and the address is
/// permanent and, on these devices without DAD, not tentative.
pub fn inet6_rtm_newaddr(req: &Req<'_>) -> KResult<Handled> {
    let addr = inet6_req_addr(req)?;
    let (prefixlen, ifa_flags, _, dev) = ifaddr_req(req)?;
    if prefixlen > 128 {
        return Err(Errno::EINVAL);
    }
    let attrs = attrs_after(req, IFADDRMSG_SIZE);
    const USER_FLAGS: u32 = nl::IFA_F_NODAD
        | nl::IFA_F_HOMEADDRESS
        | nl::IFA_F_MANAGETEMPADDR
        | nl::IFA_F_NOPREFIXROUTE
        | nl::IFA_F_MCAUTOJOIN
        | nl::IFA_F_OPTIMISTIC;
    let flags = attrs.u32(IFA_FLAGS).unwrap_or(u32::from(ifa_flags)) & USER_FLAGS;
    let ifa = Inet6Ifaddr {
        addr,
        prefixlen,
        scope: ipv6_addr_scope(&addr),
        flags: flags | IFA_F_PERMANENT,
    };
    let _rtnl = rtnl_lock();
    ipv6_add_addr(&dev, ifa)?;
    Ok(Handled::Done)
}

/// Linux: `inet6_rtm_deladdr` → `inet6_addr_del`.
pub fn inet6_rtm_deladdr(req: &Req<'_>) -> KResult<Handled> {
    let addr = inet6_req_addr(req)?;
    let (prefixlen, _, _, dev) = ifaddr_req(req)?;
    let _rtnl = rtnl_lock();
    inet6_addr_del(&dev, addr, prefixlen)?;
    Ok(Handled::Done)
}

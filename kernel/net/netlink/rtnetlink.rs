//! The routing netlink protocol's kernel side: requests in, replies,
//! dumps, acknowledgements and change notifications out (Linux:
//! net/core/rtnetlink.c `rtnetlink_rcv_msg`, `rtnl_dump_all`,
//! `rtnl_notify`; net/netlink/af_netlink.c `netlink_rcv_skb`,
//! `netlink_ack`, `netlink_dump`).
//!
//! A request names an `RTM_*` type; its family (the first payload byte)
//! picks the handler, falling back to the family-less one as Linux does.
//! A `GET` with `NLM_F_DUMP` dumps: the messages, each `NLM_F_MULTI`,
//! packed into datagrams of at most [`NLMSG_GOODSIZE`], then a datagram
//! with `NLMSG_DONE` alone. Other requests answer with `NLMSG_ERROR`
//! when they fail or the sender asked for `NLM_F_ACK`. Changes need
//! `CAP_NET_ADMIN` and run under `rtnl_lock`.
//!
//! The handlers live in [`super::link`] (links), [`super::addr`]
//! (addresses), [`super::route`] (routes, neighbours, qdiscs).
//!
//! # Locking
//! Handlers take `rtnl_lock` (a sleeping mutex) around changes; replies
//! are queued with no lock held. Notifications come from the netdevice
//! notifier chain, which runs with no spinlock held.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general::CAP_NET_ADMIN;
use linux_raw_sys::netlink as nl;

use super::af_netlink::{NetlinkSock, netlink_broadcast, netlink_has_listeners};
use super::attr::{NLMSG_HDRLEN, NlBuf, NlMsgHdr, nlmsg_iter};
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::net::core::dev::{IFF_UP, NetDevice, NetdevEvent};

/// The most a dump datagram holds (Linux: `NLMSG_GOODSIZE` with 4 KiB
/// pages: a page less the `skb_shared_info`).
pub const NLMSG_GOODSIZE: usize = 3776;

/// `RTM_*` as `u16`s.
pub const RTM_NEWLINK: u16 = nl::RTM_NEWLINK as u16;
pub const RTM_DELLINK: u16 = nl::RTM_DELLINK as u16;
pub const RTM_GETLINK: u16 = nl::RTM_GETLINK as u16;
pub const RTM_SETLINK: u16 = nl::RTM_SETLINK as u16;
pub const RTM_NEWADDR: u16 = nl::RTM_NEWADDR as u16;
pub const RTM_DELADDR: u16 = nl::RTM_DELADDR as u16;
pub const RTM_GETADDR: u16 = nl::RTM_GETADDR as u16;
pub const RTM_NEWROUTE: u16 = nl::RTM_NEWROUTE as u16;
pub const RTM_GETROUTE: u16 = nl::RTM_GETROUTE as u16;
pub const RTM_GETNEIGH: u16 = nl::RTM_GETNEIGH as u16;
pub const RTM_NEWQDISC: u16 = nl::RTM_NEWQDISC as u16;
pub const RTM_GETQDISC: u16 = nl::RTM_GETQDISC as u16;
const RTM_BASE: u16 = RTM_NEWLINK;
/// Linux: `RTM_MAX`, the last type of the last group of four.
const RTM_MAX: u16 = ((nl::__RTM_MAX as u16 + 3) & !3) - 1;
/// Linux: `RTNLGRP_LINK`, `RTNLGRP_IPV4_IFADDR`, `RTNLGRP_IPV6_IFADDR`.
const RTNLGRP_LINK: u32 = nl::rtnetlink_groups::RTNLGRP_LINK as u32;
const RTNLGRP_IPV4_IFADDR: u32 = nl::rtnetlink_groups::RTNLGRP_IPV4_IFADDR as u32;
const RTNLGRP_IPV6_IFADDR: u32 = nl::rtnetlink_groups::RTNLGRP_IPV6_IFADDR as u32;

pub use super::attr::consts::{AF_INET, AF_INET6, AF_UNSPEC};
use super::attr::consts::{
    NLM_F_ACK, NLM_F_CAPPED, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_MIN_TYPE,
};

/// One request as a handler sees it.
pub struct Req<'a> {
    pub nlk: &'a Arc<NetlinkSock>,
    pub hdr: NlMsgHdr,
    /// What follows the header.
    pub payload: &'a [u8],
}

impl Req<'_> {
    /// The family byte (Linux: `rtgen_family`).
    pub fn family(&self) -> u8 {
        self.payload.first().copied().unwrap_or(AF_UNSPEC)
    }

    /// Starts a reply message to the requester.
    pub fn reply(&self, b: &mut NlBuf, ty: u16, flags: u16) -> usize {
        b.begin(ty, flags, self.hdr.seq, self.nlk.portid())
    }
}

/// How a request was handled.
pub enum Handled {
    /// Done: acknowledge if asked.
    Done,
    /// A dump was sent: no acknowledgement (Linux: `netlink_dump_start`
    /// returns `-EINTR` for that).
    Dump,
}

/// A message handler (Linux: `rtnl_doit_func` / `rtnl_dumpit_func`).
pub type Handler = fn(&Req<'_>) -> KResult<Handled>;

/// Walks the messages of one datagram (Linux: `netlink_rcv_skb`): only
/// requests of a protocol type go to `cb`; each error, and each success
/// asked for with `NLM_F_ACK`, is answered.
pub fn netlink_rcv_skb(nlk: &Arc<NetlinkSock>, data: &[u8], cb: Handler) {
    for (hdr, payload) in nlmsg_iter(data) {
        let r = if hdr.flags & NLM_F_REQUEST == 0 || hdr.ty < NLMSG_MIN_TYPE {
            Ok(Handled::Done)
        } else {
            cb(&Req { nlk, hdr, payload })
        };
        let err = match r {
            Ok(Handled::Dump) => continue,
            Ok(Handled::Done) => 0,
            Err(e) => -(e as i32),
        };
        if hdr.flags & NLM_F_ACK != 0 || err != 0 {
            netlink_ack(nlk, &hdr, payload, err);
        }
    }
}

/// Sends `NLMSG_ERROR` for a request (Linux: `netlink_ack`): the error
/// (0 for success) and the request's header; a failed request's whole
/// message unless `NETLINK_CAP_ACK`; `NLM_F_CAPPED` when cut.
pub fn netlink_ack(nlk: &Arc<NetlinkSock>, hdr: &NlMsgHdr, payload: &[u8], err: i32) {
    let capped = err == 0 || nlk.cap_ack();
    let flags = if capped { NLM_F_CAPPED } else { 0 };
    let mut b = NlBuf::new();
    let at = b.begin(NLMSG_ERROR, flags, hdr.seq, nlk.portid());
    b.buf.extend_from_slice(&err.to_ne_bytes());
    b.buf.extend_from_slice(&hdr.to_bytes());
    if !capped {
        b.buf.extend_from_slice(payload);
    }
    b.end(at);
    nlk.kernel_unicast(b.buf, false);
}

/// Sends a dump's messages and its `NLMSG_DONE` (Linux: `netlink_dump`,
/// `netlink_dump_done`); `EBUSY` while the socket's previous dump is
/// unread. `parts` are what each family's dump made: a
/// part that made something ends its datagram (`rtnl_dump_all`).
pub fn send_dump(req: &Req<'_>, parts: Vec<Vec<NlBuf>>) -> KResult<Handled> {
    req.nlk.dump_start()?;
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let mut chunk: Vec<u8> = Vec::new();
    for part in parts {
        for m in part.into_iter().filter(|m| !m.is_empty()) {
            if !chunk.is_empty() && chunk.len() + m.len() > NLMSG_GOODSIZE {
                chunks.push(core::mem::take(&mut chunk));
            }
            chunk.extend_from_slice(&m.buf);
        }
        if !chunk.is_empty() {
            chunks.push(core::mem::take(&mut chunk));
        }
    }
    let mut done = NlBuf::new();
    let at = req.reply(&mut done, NLMSG_DONE, NLM_F_MULTI);
    done.buf.extend_from_slice(&0i32.to_ne_bytes());
    done.end(at);
    req.nlk.dump_queue(chunks, done.buf);
    Ok(Handled::Dump)
}

/// Sends one reply message, built by the handler (Linux: `rtnl_unicast`).
pub fn send_reply(req: &Req<'_>, msg: NlBuf) {
    req.nlk.kernel_unicast(msg.buf, false);
}

/// The payload's fixed header of `N` bytes, `EINVAL` if short (Linux:
/// `nlmsg_len(nlh) < sizeof(*ifm)` checks).
pub fn fixed_header<const N: usize>(req: &Req<'_>) -> KResult<[u8; N]> {
    req.payload.get(..N).and_then(|b| b.try_into().ok()).ok_or(Errno::EINVAL)
}

/// The attributes after a fixed header of `n` bytes (aligned).
pub fn attrs_after<'a>(req: &Req<'a>, n: usize) -> super::attr::Attrs<'a> {
    let off = super::attr::nlmsg_align(n);
    super::attr::Attrs::parse(req.payload.get(off..).unwrap_or_default())
}

/// The handler of `(family, type)`, as `rtnl_register` would have made
/// it: `(doit, dumpit)`.
fn rtnl_get_link(family: u8, ty: u16) -> (Option<Handler>, Option<Handler>) {
    use super::{addr, link, route};
    match (family, ty) {
        (AF_UNSPEC, RTM_GETLINK) => (Some(link::rtnl_getlink), Some(link::rtnl_dump_ifinfo)),
        (AF_UNSPEC, RTM_NEWLINK) => (Some(link::rtnl_newlink), None),
        (AF_UNSPEC, RTM_SETLINK) => (Some(link::rtnl_setlink), None),
        (AF_UNSPEC, RTM_DELLINK) => (Some(link::rtnl_dellink), None),
        (AF_UNSPEC, RTM_GETADDR) => (None, Some(addr::rtnl_dump_all_addr)),
        (AF_INET, RTM_GETADDR) => (None, Some(addr::inet_dump_ifaddr)),
        (AF_INET6, RTM_GETADDR) => (None, Some(addr::inet6_dump_ifaddr)),
        (AF_INET, RTM_NEWADDR) => (Some(addr::inet_rtm_newaddr), None),
        (AF_INET, RTM_DELADDR) => (Some(addr::inet_rtm_deladdr), None),
        (AF_INET6, RTM_NEWADDR) => (Some(addr::inet6_rtm_newaddr), None),
        (AF_INET6, RTM_DELADDR) => (Some(addr::inet6_rtm_deladdr), None),
        (AF_UNSPEC, RTM_GETROUTE) => (None, Some(route::rtnl_dump_all_route)),
        (AF_INET, RTM_GETROUTE) => (None, Some(route::inet_dump_fib)),
        (AF_INET6, RTM_GETROUTE) => (None, Some(route::inet6_dump_fib)),
        (AF_UNSPEC, RTM_GETNEIGH) => (None, Some(route::neigh_dump_info)),
        (AF_UNSPEC, RTM_GETQDISC) => (None, Some(route::tc_dump_qdisc)),
        _ => (None, None),
    }
}

/// One request (Linux: `rtnetlink_rcv_msg`).
fn rtnetlink_rcv_msg(req: &Req<'_>) -> KResult<Handled> {
    let ty = req.hdr.ty;
    if ty > RTM_MAX {
        return Err(Errno::EOPNOTSUPP);
    }
    // Every message has at least its family byte.
    if req.payload.is_empty() {
        return Ok(Handled::Done);
    }
    let is_get = (ty - RTM_BASE) & 3 == 2;
    if !is_get && !capable(CAP_NET_ADMIN) {
        return Err(Errno::EPERM);
    }
    let family = req.family();
    // Either bit of NLM_F_DUMP makes a dump, as on Linux.
    let dump = is_get && u32::from(req.hdr.flags) & nl::NLM_F_DUMP != 0;
    let pick =
        |(doit, dumpit): (Option<Handler>, Option<Handler>)| if dump { dumpit } else { doit };
    let handler = pick(rtnl_get_link(family, ty)).or_else(|| pick(rtnl_get_link(AF_UNSPEC, ty)));
    handler.ok_or(Errno::EOPNOTSUPP)?(req)
}

/// Linux: `rtnetlink_rcv`: the kernel's end of `NETLINK_ROUTE`.
pub fn rtnetlink_rcv(nlk: &Arc<NetlinkSock>, data: &[u8]) {
    if data.len() < NLMSG_HDRLEN {
        return;
    }
    netlink_rcv_skb(nlk, data, rtnetlink_rcv_msg);
}

/// Multicasts a notification (Linux: `rtnl_notify`).
fn rtnl_notify(group: u32, msg: NlBuf) {
    netlink_broadcast(nl::NETLINK_ROUTE, 0, group, &msg.buf, None);
}

/// Tells listeners about links and addresses (Linux: `rtnetlink_event`,
/// `__dev_notify_flags` → `rtmsg_ifinfo`; devinet's `rtmsg_ifa`;
/// addrconf's `inet6_ifa_notify`).
fn rtnetlink_event(event: &NetdevEvent, dev: &Arc<NetDevice>) {
    let (group, msg) = match event {
        // `ifi_change` is what `dev_change_flags` changed in `dev->flags`:
        // `IFF_UP` for up and down (other flag changes are not told apart).
        NetdevEvent::Up | NetdevEvent::Down => {
            (RTNLGRP_LINK, super::link::ifinfo_msg(dev, RTM_NEWLINK, 0, 0, 0, IFF_UP))
        }
        NetdevEvent::Register | NetdevEvent::Change | NetdevEvent::ChangeMtu => {
            (RTNLGRP_LINK, super::link::ifinfo_msg(dev, RTM_NEWLINK, 0, 0, 0, 0))
        }
        NetdevEvent::NewAddr(ifa) => {
            (RTNLGRP_IPV4_IFADDR, super::addr::inet_ifaddr_msg(dev, ifa, RTM_NEWADDR, 0, 0, 0))
        }
        NetdevEvent::DelAddr(ifa) => {
            (RTNLGRP_IPV4_IFADDR, super::addr::inet_ifaddr_msg(dev, ifa, RTM_DELADDR, 0, 0, 0))
        }
        NetdevEvent::NewAddr6(ifa) => {
            (RTNLGRP_IPV6_IFADDR, super::addr::inet6_ifaddr_msg(dev, ifa, RTM_NEWADDR, 0, 0, 0))
        }
        NetdevEvent::DelAddr6(ifa) => {
            (RTNLGRP_IPV6_IFADDR, super::addr::inet6_ifaddr_msg(dev, ifa, RTM_DELADDR, 0, 0, 0))
        }
    };
    if netlink_has_listeners(nl::NETLINK_ROUTE, group) {
        rtnl_notify(group, msg);
    }
}

/// Linux: `rtnetlink_init`.
pub fn rtnetlink_init() {
    crate::net::core::dev::register_netdevice_notifier(rtnetlink_event);
}

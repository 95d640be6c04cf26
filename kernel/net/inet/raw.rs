//! Raw and ping sockets (Linux: net/ipv4/raw.c, net/ipv6/raw.c,
//! net/ipv4/ping.c).
//!
//! A raw socket sees every received packet of its protocol addressed to
//! this host (icmp.rs hands them over, [`raw_rcv`]): an IPv4 one with its
//! IP header, an IPv6 one without, filtered by `ICMP_FILTER` or
//! `ICMP6_FILTER`, the bound address, the connected peer and
//! `SO_BINDTODEVICE`. It sends by building the IP header itself (unless
//! `IP_HDRINCL`, where it only completes the user's) and handing the
//! packet to the device the route names; on loopback the engine then
//! answers an echo request as Linux's ICMP does. ICMPv6 checksums are the
//! kernel's (`IPV6_CHECKSUM` at offset 2, forced as on Linux). Headers
//! are built in ip_output.rs; the options of the raw levels live in
//! raw_opts.rs.
//!
//! Ping sockets (`SOCK_DGRAM`, `IPPROTO_ICMP`) are refused with `EACCES`:
//! that is Linux's answer under its default `net.ipv4.ping_group_range`
//! of "1 0", which /proc/sys/net/ipv4/ping_group_range shows and
//! Ferrite does not let anyone change.
//!
//! # Locking
//! `RAW_TABLE` then one socket's `inner`: leaves, never under `STACK`
//! (delivery runs after the engine let it go).
#![deny(unsafe_code)]

use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use linux_raw_sys::general as uapi;
use linux_raw_sys::net as uapi_net;
use smoltcp::wire::{IpAddress, Ipv4Address, Ipv6Address};

use super::af_inet::{
    IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_RAW, RCV_SHUTDOWN, SEND_SHUTDOWN, datagram_poll_state,
    datagram_recv_flags, shutdown_bits,
};
use super::inet_opts::{InetOpts, OptCtx, RecvInfo};
use super::inet_proc::{DgramRow, IPV6_SEQ_DGRAM_HEADER, dgram_row};
use super::ip_output::{IPV6_HDR_LEN, IpHeader, ip_build_v4, ip_hdrinc_v4, ip6_build};
use super::route::{Route, ip_route_output, is_local_addr};
use super::sockaddr::{decode, encode, is_unspec};
use crate::fs::file_table::PollMask;
use crate::fs::select::poll_wake;
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::mm::slab_common::kmemdup;
use crate::net::core::dev::{dev_get_by_index, for_each_netdev};
use crate::net::msg::{RecvMsg, SendMsg};
use crate::net::sock::{Sock, SockType};
use crate::net::socket::ProtoOps;

/// Linux: `IPPROTO_MAX` (one past `IPPROTO_MPTCP`).
const IPPROTO_MAX: u32 = 263;

/// A received packet waiting for `recvmsg`.
pub(super) struct RawPacket {
    data: Vec<u8>,
    src: IpAddress,
    info: RecvInfo,
}

#[derive(Default)]
pub(super) struct RawState {
    /// Linux: `inet_rcv_saddr`.
    pub(super) rcv_saddr: Option<IpAddress>,
    pub(super) peer: Option<IpAddress>,
    pub(super) queue: VecDeque<RawPacket>,
    pub(super) queued_bytes: usize,
    pub(super) shutdown: u8,
    /// `ICMP_FILTER`: the ICMP types not wanted (Linux: `raw_sock.filter`).
    pub(super) icmp_filter: u32,
    /// `ICMP6_FILTER`: blocked types, one bit each (Linux:
    /// `raw6_sock.filter`).
    pub(super) icmp6_filter: [u32; 8],
    /// `IPV6_CHECKSUM`'s offset (Linux: `raw6_sock.checksum/offset`).
    pub(super) checksum: Option<usize>,
}

/// A raw socket (Linux: `struct raw_sock`, `struct raw6_sock`).
pub struct RawSock {
    sk: Sock,
    family: u32,
    /// The IP protocol it carries (Linux: `inet_num`).
    pub(super) protocol: u32,
    pub opts: InetOpts,
    /// The creator's file-system uid (Linux: `sock_i_uid`).
    uid: u32,
    pub(super) inner: SpinLock<RawState>,
}

/// Every raw socket (Linux: `raw_v4_hashinfo`, `raw_v6_hashinfo`).
static RAW_TABLE: SpinLock<Vec<Weak<RawSock>>> = SpinLock::new(Vec::new());
static RAW_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Whether received packets need copying for raw sockets.
pub fn raw_sockets_exist() -> bool {
    RAW_COUNT.load(Ordering::Relaxed) > 0
}

/// Linux: `inet_create`/`inet6_create` for `SOCK_RAW`: `EINVAL` past
/// `IPPROTO_MAX`, `EPROTONOSUPPORT` for protocol 0, `EPERM` without
/// CAP_NET_RAW. `IPPROTO_RAW` implies `IP_HDRINCL`.
pub fn raw_create(family: u32, protocol: u32) -> KResult<Arc<dyn ProtoOps>> {
    if protocol >= IPPROTO_MAX {
        return Err(Errno::EINVAL);
    }
    if protocol == 0 {
        return Err(Errno::EPROTONOSUPPORT);
    }
    if !capable(uapi::CAP_NET_RAW) {
        return Err(Errno::EPERM);
    }
    let state = RawState {
        checksum: (family == uapi_net::AF_INET6 && protocol == IPPROTO_ICMPV6).then_some(2),
        ..RawState::default()
    };
    let opts = InetOpts::new();
    opts.inner.lock().hdrincl = protocol == IPPROTO_RAW;
    super::icmp::icmp_tap_init();
    let uid = crate::kernel::sched::current().cred().fsuid;
    let inner = SpinLock::new(state);
    let sock =
        Arc::new(RawSock { sk: Sock::new(SockType::Raw), family, protocol, opts, uid, inner });
    RAW_TABLE.lock().push(Arc::downgrade(&sock));
    RAW_COUNT.fetch_add(1, Ordering::Relaxed);
    Ok(sock)
}

/// Linux: `inet_create` finding `ping_prot` (ICMP over IPv4, ICMPv6
/// over IPv6, else `EPROTONOSUPPORT`), then `ping_init_sock`: the
/// caller's group is outside `ping_group_range`, whose "1 0" admits no
/// one.
pub fn ping_create(family: u32, protocol: u32) -> KResult<Arc<dyn ProtoOps>> {
    let want = if family == uapi_net::AF_INET6 { IPPROTO_ICMPV6 } else { IPPROTO_ICMP };
    if protocol != want {
        return Err(Errno::EPROTONOSUPPORT);
    }
    Err(Errno::EACCES)
}

impl RawSock {
    fn wake(&self) {
        self.sk.wq.wake_up_all();
        poll_wake();
    }

    /// The protocol as the IP header's field holds it: Linux stores
    /// `inet_num` there, so protocols past 255 wrap.
    fn proto_byte(&self) -> u8 {
        self.protocol.to_le_bytes()[0]
    }

    pub(super) fn v6(&self) -> bool {
        self.family == uapi_net::AF_INET6
    }

    fn ctx(&self) -> OptCtx {
        OptCtx { family: self.family, sk_type: SockType::Raw, bound: true }
    }

    /// Whether a received packet is for this socket (Linux:
    /// `raw_v4_match`, `raw_v6_match` and the ICMP filters).
    fn wants(
        &self,
        st: &RawState,
        proto: u8,
        src: IpAddress,
        dst: IpAddress,
        ifindex: u32,
        body: &[u8],
    ) -> bool {
        if u32::from(proto) != self.protocol {
            return false;
        }
        let dev = self.sk.bound_dev_if.load(Ordering::Relaxed);
        if st.rcv_saddr.is_some_and(|a| a != dst)
            || st.peer.is_some_and(|p| p != src)
            || dev != 0 && dev != ifindex
        {
            return false;
        }
        let type_ = body.first().copied().unwrap_or(0);
        if self.v6() {
            let word = st.icmp6_filter[usize::from(type_ >> 5)];
            !(self.protocol == IPPROTO_ICMPV6 && word & (1 << (type_ & 31)) != 0)
        } else {
            !(self.protocol == IPPROTO_ICMP && type_ < 32 && st.icmp_filter & (1 << type_) != 0)
        }
    }

    fn deliver(&self, data: &[u8], src: IpAddress, info: RecvInfo, body: &[u8], proto: u8) {
        let mut st = self.inner.lock();
        if !self.wants(&st, proto, src, info.dst, info.ifindex, body) {
            return;
        }
        // Linux: `sock_queue_rcv_skb` drops once the receive buffer is full.
        if st.queued_bytes + data.len() > self.sk.sk_rcvbuf.load(Ordering::Relaxed) as usize {
            return;
        }
        let Ok(copy) = kmemdup(data) else { return };
        st.queued_bytes += copy.len();
        st.queue.push_back(RawPacket { data: copy, src, info });
        drop(st);
        self.wake();
    }

    /// The route, with a raw socket's checks (Linux: `raw_sendmsg`).
    fn route(&self, dst: IpAddress) -> KResult<Route> {
        let rt = ip_route_output(dst, self.sk.bound_dev_if.load(Ordering::Relaxed))?;
        if rt.broadcast && !self.sk.broadcast.load(Ordering::Relaxed) {
            return Err(Errno::EACCES);
        }
        Ok(rt)
    }

    /// The packet to send (Linux: `raw_sendmsg`, `rawv6_sendmsg`): the
    /// user's own IPv4 header under `IP_HDRINCL`, else a new one; the
    /// hop limit is the multicast one for a multicast destination.
    fn build(&self, data: &[u8], src: IpAddress, dst: IpAddress) -> KResult<Vec<u8>> {
        let o = self.opts.get();
        let mut h =
            IpHeader { protocol: self.proto_byte(), ttl: self.opts.ttl(self.v6()), tos: o.tos };
        match (src, dst) {
            (IpAddress::Ipv4(s), IpAddress::Ipv4(_)) if o.hdrincl && !self.v6() => {
                ip_hdrinc_v4(s, data)
            }
            (IpAddress::Ipv4(s), IpAddress::Ipv4(d)) if !self.v6() => {
                if d.is_multicast() {
                    h.ttl = o.mc_ttl;
                }
                ip_build_v4(h, s, d, data)
            }
            (IpAddress::Ipv6(_), IpAddress::Ipv6(_)) if o.hdrincl => kmemdup(data),
            (IpAddress::Ipv6(s), IpAddress::Ipv6(d)) => {
                h.tos = o.tclass;
                if d.is_multicast() {
                    h.ttl = u8::try_from(o.mcast_hops).unwrap_or(1);
                }
                let csum = self.inner.lock().checksum;
                ip6_build(h, s, d, data, csum)
            }
            _ => Err(Errno::ENETUNREACH),
        }
    }

    fn do_sendmsg(&self, msg: SendMsg<'_>, flags: u32) -> KResult<usize> {
        if flags & uapi_net::MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        if msg.data.len() > 0xffff {
            return Err(Errno::EMSGSIZE);
        }
        let dst = match msg.name {
            Some(name) => decode(self.family, name)?.addr,
            None => Some(self.inner.lock().peer.ok_or(Errno::EDESTADDRREQ)?),
        };
        let dst = dst.unwrap_or(if self.v6() {
            IpAddress::Ipv6(Ipv6Address::LOCALHOST)
        } else {
            IpAddress::Ipv4(Ipv4Address::new(127, 0, 0, 1))
        });
        if let Some(e) = self.sk.sock_error() {
            return Err(e);
        }
        if self.inner.lock().shutdown & SEND_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        let rt = self.route(dst)?;
        let src = self.inner.lock().rcv_saddr.unwrap_or(rt.src);
        let pkt = self.build(msg.data, src, dst)?;
        // Local traffic goes through loopback, whichever device holds the
        // address (Linux: `RTCF_LOCAL` routes use `loopback_dev`).
        let dev = if rt.local {
            for_each_netdev().into_iter().find(|d| d.is_loopback()).unwrap_or(rt.dev)
        } else {
            rt.dev
        };
        if pkt.len() > dev.mtu() as usize {
            return Err(Errno::EMSGSIZE);
        }
        dev.dev_queue_xmit(pkt)?;
        super::stack::net_rx_action();
        Ok(msg.data.len())
    }

    fn do_recvmsg(&self, buf: &mut [u8], flags: u32, nonblock: bool) -> KResult<RecvMsg> {
        let peek = datagram_recv_flags(flags)?;
        loop {
            if let Some(e) = self.sk.sock_error() {
                return Err(e);
            }
            let got = {
                let mut st = self.inner.lock();
                if peek {
                    st.queue.front().map(|p| {
                        (
                            p.data.len(),
                            p.src,
                            p.info,
                            p.data[..p.data.len().min(buf.len())].to_vec(),
                        )
                    })
                } else {
                    st.queue.pop_front().map(|p| {
                        st.queued_bytes -= p.data.len();
                        let n = p.data.len().min(buf.len());
                        (p.data.len(), p.src, p.info, p.data[..n].to_vec())
                    })
                }
            };
            if let Some((full_len, src, info, data)) = got {
                buf[..data.len()].copy_from_slice(&data);
                return Ok(RecvMsg {
                    len: data.len(),
                    full_len,
                    name: Some(encode(self.family, Some(src), 0)),
                    cmsgs: self.opts.recv_cmsgs(self.family, &info),
                    ..RecvMsg::default()
                });
            }
            if self.inner.lock().shutdown & RCV_SHUTDOWN != 0 {
                return Ok(RecvMsg::default());
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            self.wait_readable()?;
        }
    }

    fn wait_readable(&self) -> KResult<()> {
        let cond = || {
            let st = self.inner.lock();
            !st.queue.is_empty() || st.shutdown & RCV_SHUTDOWN != 0 || self.sk.has_err()
        };
        let timeo_ns = self.sk.rcvtimeo_ns.load(Ordering::Relaxed);
        if timeo_ns == 0 {
            return self.sk.wq.wait_event_interruptible(cond);
        }
        let tick_ns = 1_000_000_000 / crate::kernel::time::HZ;
        let ticks = timeo_ns.div_ceil(tick_ns).max(1);
        if self.sk.wq.wait_event_interruptible_timeout(cond, ticks)? {
            Ok(())
        } else {
            Err(Errno::EAGAIN)
        }
    }

    /// Linux: `raw_bind` / `rawv6_bind`: a local (or broadcast, multicast)
    /// address; the port is ignored.
    fn do_bind(&self, addr: &[u8]) -> KResult<()> {
        let a = decode(self.family, addr)?;
        if let Some(ip) = a.addr {
            if self.v6() && matches!(ip, IpAddress::Ipv4(_)) {
                return Err(Errno::EADDRNOTAVAIL);
            }
            let special = match ip {
                IpAddress::Ipv4(v) => v.is_broadcast() || v.is_multicast(),
                IpAddress::Ipv6(v) => v.is_multicast(),
            };
            if !special && !is_local_addr(ip) {
                return Err(Errno::EADDRNOTAVAIL);
            }
        }
        self.inner.lock().rcv_saddr = a.addr;
        Ok(())
    }

    /// Linux: `ip4_datagram_connect`, `ip6_datagram_connect_v6_only`.
    fn do_connect(&self, addr: &[u8]) -> KResult<()> {
        if is_unspec(addr) {
            self.inner.lock().peer = None;
            return Ok(());
        }
        let a = decode(self.family, addr)?;
        let dst = a.addr.unwrap_or(if self.v6() {
            IpAddress::Ipv6(Ipv6Address::LOCALHOST)
        } else {
            IpAddress::Ipv4(Ipv4Address::new(127, 0, 0, 1))
        });
        let rt = self.route(dst)?;
        let mut st = self.inner.lock();
        st.rcv_saddr.get_or_insert(rt.src);
        st.peer = Some(dst);
        Ok(())
    }
}

impl ProtoOps for RawSock {
    fn sk(&self) -> &Sock {
        &self.sk
    }
    fn family(&self) -> u32 {
        self.family
    }
    fn protocol(&self) -> u32 {
        self.protocol
    }
    fn bind(&self, addr: &[u8]) -> KResult<()> {
        self.do_bind(addr)
    }
    fn connect(&self, addr: &[u8], _nonblock: bool) -> KResult<()> {
        self.do_connect(addr)
    }
    /// Linux: `inet_getname`: the port of a raw socket is its protocol.
    fn getname(&self, peer: bool) -> KResult<Vec<u8>> {
        let st = self.inner.lock();
        let port = u16::try_from(self.protocol).unwrap_or(0);
        if peer {
            let p = st.peer.ok_or(Errno::ENOTCONN)?;
            return Ok(encode(self.family, Some(p), port));
        }
        Ok(encode(self.family, st.rcv_saddr, port))
    }
    /// Linux: `datagram_poll`: always writable.
    fn poll(&self) -> PollMask {
        let st = self.inner.lock();
        let mut mask = uapi::POLLOUT | uapi::POLLWRNORM | uapi::POLLWRBAND;
        if !st.queue.is_empty() {
            mask |= uapi::POLLIN | uapi::POLLRDNORM;
        }
        mask | datagram_poll_state(st.shutdown, self.sk.has_err())
    }
    fn shutdown(&self, how: u32) -> KResult<()> {
        let mode = shutdown_bits(how);
        let connected = {
            let mut st = self.inner.lock();
            st.shutdown |= mode;
            st.peer.is_some()
        };
        self.wake();
        if connected { Ok(()) } else { Err(Errno::ENOTCONN) }
    }
    fn sendmsg(&self, msg: SendMsg<'_>, flags: u32, _nonblock: bool) -> KResult<usize> {
        self.do_sendmsg(msg, flags)
    }
    fn recvmsg(&self, buf: &mut [u8], flags: u32, nonblock: bool) -> KResult<RecvMsg> {
        self.do_recvmsg(buf, flags, nonblock)
    }
    /// Linux: `raw_ioctl` `SIOCINQ`: the next packet's length.
    fn inq_len(&self) -> KResult<usize> {
        Ok(self.inner.lock().queue.front().map_or(0, |p| p.data.len()))
    }
    fn setsockopt(&self, level: u32, optname: u32, optval: &[u8]) -> KResult<()> {
        if let Some(r) = self.raw_setsockopt(level, optname, optval) {
            return r;
        }
        // Linux: an IPv6 raw socket takes no `IPPROTO_IP` options.
        if self.v6() && level == super::af_inet::IPPROTO_IP {
            return Err(Errno::ENOPROTOOPT);
        }
        self.opts.setsockopt(&self.ctx(), level, optname, optval)
    }
    fn getsockopt(&self, level: u32, optname: u32, len: usize) -> KResult<Vec<u8>> {
        if let Some(r) = self.raw_getsockopt(level, optname, len) {
            return r;
        }
        if self.v6() && level == super::af_inet::IPPROTO_IP {
            return Err(Errno::ENOPROTOOPT);
        }
        self.opts.getsockopt(&self.ctx(), level, optname, len)
    }
    fn release(&self) {
        let mut table = RAW_TABLE.lock();
        let before = table.len();
        table.retain(|w| w.strong_count() > 0 && !core::ptr::eq(w.as_ptr(), self));
        let gone = before - table.len();
        drop(table);
        RAW_COUNT.fetch_sub(gone.min(RAW_COUNT.load(Ordering::Relaxed)), Ordering::Relaxed);
        let mut st = self.inner.lock();
        st.queue.clear();
        st.queued_bytes = 0;
    }
}

/// A received packet, parsed: (protocol, source, destination, hop
/// limit, tos, where the transport starts).
fn parse_ip(pkt: &[u8]) -> Option<(u8, IpAddress, IpAddress, u8, u8, usize)> {
    match pkt.first()? >> 4 {
        4 => {
            let ihl = usize::from(pkt[0] & 0xf) * 4;
            let src: [u8; 4] = pkt.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = pkt.get(16..20)?.try_into().ok()?;
            let (s, d) =
                (IpAddress::Ipv4(Ipv4Address::from(src)), IpAddress::Ipv4(Ipv4Address::from(dst)));
            (pkt.len() >= ihl).then_some((*pkt.get(9)?, s, d, *pkt.get(8)?, *pkt.get(1)?, ihl))
        }
        6 => {
            let src: [u8; 16] = pkt.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = pkt.get(24..40)?.try_into().ok()?;
            let (s, d) =
                (IpAddress::Ipv6(Ipv6Address::from(src)), IpAddress::Ipv6(Ipv6Address::from(dst)));
            let tclass = (pkt[0] << 4) | (pkt[1] >> 4);
            Some((*pkt.get(6)?, s, d, *pkt.get(7)?, tclass, IPV6_HDR_LEN))
        }
        _ => None,
    }
}

/// Gives a received packet to the raw sockets that want it (Linux:
/// `raw_local_deliver`, `ipv6_raw_deliver`): IPv4 ones get it whole,
/// IPv6 ones from the transport header on. Only packets for this host.
pub fn raw_rcv(ifindex: u32, pkt: &[u8]) {
    if !raw_sockets_exist() {
        return;
    }
    let Some((proto, src, dst, ttl, tos, off)) = parse_ip(pkt) else { return };
    let for_us = match dst {
        IpAddress::Ipv4(d) => d.is_broadcast() || d.is_multicast() || is_local_addr(dst),
        IpAddress::Ipv6(d) => d.is_multicast() || is_local_addr(dst),
    };
    if !for_us || dev_get_by_index(ifindex).is_none() {
        return;
    }
    let v6 = matches!(dst, IpAddress::Ipv6(_));
    let body = &pkt[off..];
    let data = if v6 { body } else { pkt };
    let info = RecvInfo { dst, ttl: Some(ttl), tos: Some(tos), ifindex };
    let socks: Vec<Arc<RawSock>> = RAW_TABLE.lock().iter().filter_map(Weak::upgrade).collect();
    for s in socks.iter().filter(|s| s.v6() == v6) {
        s.deliver(data, src, info, body, proto);
    }
}

/// /proc/net/raw and raw6 (Linux: `raw_seq_show`, `raw6_seq_show`):
/// one line per socket of the family, the protocol as its port.
pub fn raw_seq_show(out: &mut crate::fs::proc::generic::SeqBuf, v6: bool) -> KResult<()> {
    if v6 {
        out.puts(IPV6_SEQ_DGRAM_HEADER)?;
    } else {
        out.puts(b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n")?;
    }
    let socks: Vec<Arc<RawSock>> = RAW_TABLE.lock().iter().filter_map(Weak::upgrade).collect();
    for s in socks.iter().filter(|s| s.v6() == v6) {
        let row = {
            let st = s.inner.lock();
            DgramRow {
                bucket: s.protocol % 256,
                local: st.rcv_saddr,
                local_port: u16::try_from(s.protocol).unwrap_or(0),
                remote: st.peer,
                remote_port: 0,
                rx_queue: st.queued_bytes,
                uid: s.uid,
                ino: s.sk.ino.load(Ordering::Relaxed),
            }
        };
        dgram_row(out, v6, 4, false, &row)?;
    }
    Ok(())
}

//! UDP sockets (Linux: net/ipv4/udp.c, net/ipv6/udp.c, `inet_dgram_ops`,
//! net/ipv4/datagram.c `ip4_datagram_connect`).
//!
//! Each [`UdpSock`] drives a smoltcp UDP socket, which moves the
//! datagrams; this file gives it Linux's rules: ports from the port table
//! (bind, `EADDRINUSE`, `SO_REUSEADDR`, autobind on connect or first
//! send), routes and source addresses from route.rs (`ENETUNREACH`,
//! `EACCES` for a broadcast without `SO_BROADCAST`), a connected peer
//! that filters what is received, `EMSGSIZE` past a datagram's limit,
//! `MSG_PEEK`/`MSG_TRUNC`, the pending error an ICMP message reports
//! ([`udp_err`], called by icmp.rs), and /proc/net/udp.
//!
//! What smoltcp cannot do is left out, not faked: its buffers are sized
//! once, at creation, from the buffer sizes then in force (a later
//! `SO_RCVBUF` is reported but does not resize them); `IP_TOS` is kept
//! but not put on the wire; a received datagram's hop limit is unknown,
//! so `IP_RECVTTL` and `IPV6_RECVHOPLIMIT` add no control message.
//!
//! # Locking
//! `UDP_TABLE` is a leaf. A socket's `inner` may be held while `STACK`
//! (binding the engine's socket) or `PORTS` is taken, never the other way
//! round, and never across a sleep, a user copy or a wake-up.
#![deny(unsafe_code)]

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use linux_raw_sys::general as uapi;
use linux_raw_sys::net as uapi_net;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::udp::{self, PacketBuffer, PacketMetadata, UdpMetadata};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint, Ipv4Address, Ipv6Address};

use super::af_inet::{
    RCV_SHUTDOWN, SEND_SHUTDOWN, datagram_poll_state, datagram_recv_flags, shutdown_bits,
};
use super::inet_opts::{InetOpts, OptCtx, RecvInfo};
use super::inet_proc::{DgramRow, IPV6_SEQ_DGRAM_HEADER, dgram_row};
use super::port::{PortBinding, Proto, get_port};
use super::route::{Route, ip_route_output, is_local_addr};
use super::sockaddr::{decode, encode, is_unspec};
use super::stack::{self, StackWaiter, with_socket, with_stack};
use crate::fs::file_table::PollMask;
use crate::fs::proc::generic::SeqBuf;
use crate::fs::select::poll_wake;
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::signal::Signal;
use crate::kernel::signal::task_impl::send_sig_current;
use crate::net::core::dev::for_each_netdev;
use crate::net::msg::{RecvMsg, SendMsg};
use crate::net::sock::{Sock, SockType};
use crate::net::socket::ProtoOps;

/// The largest payloads (Linux: 0xFFFF less the IPv4 and UDP headers;
/// `IPV6_MAXPLEN` less the UDP header).
const UDP4_MAX_PAYLOAD: usize = 65507;
const UDP6_MAX_PAYLOAD: usize = 65527;
/// Datagrams a socket queues each way (smoltcp's metadata slots).
const UDP_QUEUE_SLOTS: usize = 256;
/// Linux: `PROT_SOCK`, below which binding needs CAP_NET_BIND_SERVICE.
const PROT_SOCK: u16 = 1024;

/// What `bind` and `connect` set (Linux: fields of `inet_sock`).
#[derive(Default)]
struct UdpState {
    binding: Option<PortBinding>,
    /// Linux: `inet_rcv_saddr`: the bound address, or the source
    /// `connect` chose.
    rcv_saddr: Option<IpAddress>,
    /// The address was given to `bind` (Linux: `SOCK_BINDADDR_LOCK`), as
    /// was the port (`SOCK_BINDPORT_LOCK`).
    addr_locked: bool,
    port_locked: bool,
    peer: Option<IpEndpoint>,
    shutdown: u8,
}

/// A UDP socket (Linux: `struct udp_sock`).
pub struct UdpSock {
    sk: Sock,
    family: u32,
    handle: SocketHandle,
    /// The engine's socket is gone (`release`); set under `STACK`, so a
    /// reader of /proc or an ICMP error racing the close never uses a
    /// handle smoltcp may have given to another socket.
    dead: AtomicBool,
    pub opts: InetOpts,
    /// The creator's file-system uid (Linux: `sock_i_uid`).
    uid: u32,
    inner: SpinLock<UdpState>,
}

/// Every UDP socket, for ICMP errors and /proc/net/udp (Linux:
/// `udp_table`).
static UDP_TABLE: SpinLock<Vec<Weak<UdpSock>>> = SpinLock::new(Vec::new());

/// Linux: `udp_init_sock` via `inet_create`.
pub fn udp_create(family: u32) -> KResult<Arc<dyn ProtoOps>> {
    let sk = Sock::new(SockType::Dgram);
    let rx = sk.sk_rcvbuf.load(Ordering::Relaxed) as usize;
    let tx = UDP6_MAX_PAYLOAD.max(sk.sndbuf() / 2);
    // A user may open many sockets: running out of memory is ENOMEM.
    let buffer = |bytes: usize| -> KResult<PacketBuffer<'static>> {
        let mut meta = Vec::new();
        meta.try_reserve_exact(UDP_QUEUE_SLOTS).map_err(|_| Errno::ENOMEM)?;
        meta.resize(UDP_QUEUE_SLOTS, PacketMetadata::EMPTY);
        Ok(PacketBuffer::new(meta, crate::mm::slab_common::kzalloc(bytes)?))
    };
    let handle = stack::add_socket(udp::Socket::new(buffer(rx)?, buffer(tx)?))?;
    super::icmp::icmp_tap_init();
    let uid = crate::kernel::sched::current().cred().fsuid;
    let inner = SpinLock::new(UdpState::default());
    let sock = Arc::new(UdpSock {
        sk,
        family,
        handle,
        dead: AtomicBool::new(false),
        opts: InetOpts::new(),
        uid,
        inner,
    });
    let weak: Weak<UdpSock> = Arc::downgrade(&sock);
    stack::register_waiter(weak.clone());
    UDP_TABLE.lock().push(weak);
    Ok(sock)
}

impl StackWaiter for UdpSock {
    fn stack_changed(&self) {
        self.wake();
    }
}

/// The address a wildcard destination means (Linux: `INADDR_ANY` is
/// routed to loopback).
fn any_to_loopback(family: u32, addr: Option<IpAddress>) -> IpAddress {
    addr.unwrap_or(if family == uapi_net::AF_INET {
        IpAddress::Ipv4(Ipv4Address::new(127, 0, 0, 1))
    } else {
        IpAddress::Ipv6(Ipv6Address::LOCALHOST)
    })
}

impl UdpSock {
    fn wake(&self) {
        self.sk.wq.wake_up_all();
        poll_wake();
    }

    /// Runs `f` on the engine's socket under `STACK`; `EBADF` once
    /// released.
    fn with_udp<R>(&self, f: impl FnOnce(&mut udp::Socket<'static>) -> R) -> KResult<R> {
        with_stack(|s| {
            if self.dead.load(Ordering::SeqCst) {
                return Err(Errno::EBADF);
            }
            Ok(f(s.sockets.get_mut::<udp::Socket>(self.handle)))
        })?
    }

    fn ctx(&self) -> OptCtx {
        OptCtx {
            family: self.family,
            sk_type: SockType::Dgram,
            bound: self.inner.lock().binding.is_some(),
        }
    }

    fn v6only(&self) -> bool {
        self.opts.get().v6only
    }

    /// Claims `port` at `addr` and binds the engine's socket there.
    fn do_bind_port(&self, st: &mut UdpState, addr: Option<IpAddress>, port: u16) -> KResult<()> {
        let binding = get_port(Proto::Udp, addr, port, self.sk.reuse())?;
        let endpoint = IpListenEndpoint { addr, port: binding.port };
        self.with_udp(|s| s.bind(endpoint))?.map_err(|_| Errno::EINVAL)?;
        st.binding = Some(binding);
        st.rcv_saddr = addr;
        Ok(())
    }

    /// Linux: `inet_autobind`: an ephemeral port on every address.
    fn autobind(&self, st: &mut UdpState) -> KResult<()> {
        if st.binding.is_some() {
            return Ok(());
        }
        self.do_bind_port(st, None, 0).map_err(|_| Errno::EAGAIN)
    }

    /// Linux: `udp_disconnect`: forgets the peer, and the address and
    /// port `connect` chose.
    fn disconnect(&self) {
        let mut st = self.inner.lock();
        st.peer = None;
        if !st.addr_locked {
            st.rcv_saddr = None;
        }
        if !st.port_locked {
            let old = st.binding.take();
            drop(st);
            drop(old);
            let _ = self.with_udp(|s| s.close());
        }
    }

    /// The route to `dst` with Linux's checks (Linux: the part of
    /// `udp_sendmsg` and `ip4_datagram_connect` after `ip_route_output`).
    fn route(&self, dst: IpAddress) -> KResult<Route> {
        if self.v6only() && matches!(dst, IpAddress::Ipv4(_)) {
            return Err(Errno::ENETUNREACH);
        }
        let rt = ip_route_output(dst, self.sk.bound_dev_if.load(Ordering::Relaxed))?;
        if rt.broadcast && !self.sk.broadcast.load(Ordering::Relaxed) {
            return Err(Errno::EACCES);
        }
        Ok(rt)
    }

    /// Linux: `__ip4_datagram_connect` / `__ip6_datagram_connect`.
    fn do_connect(&self, addr: &[u8]) -> KResult<()> {
        if is_unspec(addr) {
            self.disconnect();
            return Ok(());
        }
        let a = decode(self.family, addr)?;
        let dst = any_to_loopback(self.family, a.addr);
        let rt = self.route(dst)?;
        let mut st = self.inner.lock();
        self.autobind(&mut st)?;
        if st.rcv_saddr.is_none() {
            st.rcv_saddr = Some(rt.src);
        }
        st.peer = Some(IpEndpoint::new(dst, a.port));
        Ok(())
    }

    /// Linux: `__inet_bind` / `__inet6_bind`.
    fn do_bind(&self, addr: &[u8]) -> KResult<()> {
        let a = decode(self.family, addr)?;
        if let Some(ip) = a.addr {
            let v4 = matches!(ip, IpAddress::Ipv4(_));
            if self.family == uapi_net::AF_INET6 && v4 && self.v6only() {
                return Err(Errno::EINVAL);
            }
            let special = match ip {
                IpAddress::Ipv4(v) => v.is_broadcast() || v.is_multicast(),
                IpAddress::Ipv6(v) => v.is_multicast(),
            };
            if !special && !is_local_addr(ip) {
                return Err(Errno::EADDRNOTAVAIL);
            }
        }
        if a.port != 0 && a.port < PROT_SOCK && !capable(uapi::CAP_NET_BIND_SERVICE) {
            return Err(Errno::EACCES);
        }
        let mut st = self.inner.lock();
        if st.binding.is_some() {
            return Err(Errno::EINVAL);
        }
        self.do_bind_port(&mut st, a.addr, a.port)?;
        st.addr_locked = a.addr.is_some();
        st.port_locked = a.port != 0;
        Ok(())
    }

    /// Linux: `udp_sendmsg` / `udpv6_sendmsg`.
    fn do_sendmsg(&self, msg: SendMsg<'_>, flags: u32, nonblock: bool) -> KResult<usize> {
        if flags & uapi_net::MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let max =
            if self.family == uapi_net::AF_INET { UDP4_MAX_PAYLOAD } else { UDP6_MAX_PAYLOAD };
        if msg.data.len() > max {
            return Err(Errno::EMSGSIZE);
        }
        let dst = match msg.name {
            Some(name) => {
                let a = decode(self.family, name)?;
                if a.port == 0 {
                    return Err(Errno::EINVAL);
                }
                IpEndpoint::new(any_to_loopback(self.family, a.addr), a.port)
            }
            None => self.inner.lock().peer.ok_or(Errno::EDESTADDRREQ)?,
        };
        if let Some(e) = self.sk.sock_error() {
            return Err(e);
        }
        if self.inner.lock().shutdown & SEND_SHUTDOWN != 0 {
            if flags & uapi_net::MSG_NOSIGNAL == 0 {
                send_sig_current(Signal::SIGPIPE);
            }
            return Err(Errno::EPIPE);
        }
        let rt = self.route(dst.addr)?;
        let src = {
            let mut st = self.inner.lock();
            self.autobind(&mut st)?;
            st.rcv_saddr.filter(|a| !is_broadcast_or_multicast(*a)).unwrap_or(rt.src)
        };
        // A socket bound to one family's address cannot send to the other's
        // (Linux: `ip6_dst_lookup_tail`'s EAFNOSUPPORT for a mapped source,
        // `udpv6_sendmsg`'s ENETUNREACH for a mapped destination); the
        // engine would not build such a packet.
        match (src, dst.addr) {
            (IpAddress::Ipv4(_), IpAddress::Ipv6(_)) => return Err(Errno::EAFNOSUPPORT),
            (IpAddress::Ipv6(_), IpAddress::Ipv4(_)) => return Err(Errno::ENETUNREACH),
            _ => {}
        }
        let meta =
            UdpMetadata { endpoint: dst, local_address: Some(src), meta: Default::default() };
        let ttl = self.opts.ttl(matches!(dst.addr, IpAddress::Ipv6(_))).max(1);
        loop {
            // The caller's file keeps the socket from `release`: the
            // handle is live.
            let sent = with_socket(self.handle, |s: &mut udp::Socket| {
                s.set_hop_limit(Some(ttl));
                match s.send_slice(msg.data, meta) {
                    Ok(()) => Ok(true),
                    Err(udp::SendError::BufferFull) => Ok(false),
                    Err(udp::SendError::Unaddressable) => Err(Errno::EINVAL),
                }
            })??;
            if sent {
                return Ok(msg.data.len());
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            self.sk.wq.wait_event_interruptible(|| {
                self.sk.has_err() || self.with_udp(|s| s.can_send()).unwrap_or(true)
            })?;
        }
    }

    /// Takes (or peeks at) the next datagram the socket accepts into
    /// `buf`; datagrams from elsewhere than a connected peer, or IPv6 ones
    /// on an IPv4 socket, are dropped (Linux never queues them).
    fn dequeue(&self, buf: &mut [u8], peek: bool) -> KResult<Option<(usize, UdpMetadata)>> {
        let peer = self.inner.lock().peer;
        let v4_only = self.family == uapi_net::AF_INET;
        self.with_udp(|sock| {
            loop {
                let Ok((data, meta)) = sock.peek() else { return None };
                let wrong_family = v4_only && matches!(meta.endpoint.addr, IpAddress::Ipv6(_));
                if wrong_family || peer.is_some_and(|p| p != meta.endpoint) {
                    let _ = sock.recv();
                    continue;
                }
                let (len, meta) = (data.len(), *meta);
                let n = len.min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                if !peek {
                    let _ = sock.recv();
                }
                return Some((len, meta));
            }
        })
    }

    fn can_recv(&self) -> bool {
        self.with_udp(|s| s.can_recv()).unwrap_or(false)
    }

    /// Linux: `udp_recvmsg`: the pending error first, then a datagram;
    /// 0 once shut down for reading.
    fn do_recvmsg(&self, buf: &mut [u8], flags: u32, nonblock: bool) -> KResult<RecvMsg> {
        let peek = datagram_recv_flags(flags)?;
        loop {
            if let Some(e) = self.sk.sock_error() {
                return Err(e);
            }
            if let Some((full_len, meta)) = self.dequeue(buf, peek)? {
                return Ok(self.recv_result(buf.len(), full_len, &meta));
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

    /// Sleeps until a datagram, an error or a shutdown, at most
    /// `SO_RCVTIMEO` (then `EAGAIN`).
    fn wait_readable(&self) -> KResult<()> {
        let cond = || {
            self.can_recv() || self.sk.has_err() || self.inner.lock().shutdown & RCV_SHUTDOWN != 0
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

    fn recv_result(&self, cap: usize, full_len: usize, meta: &UdpMetadata) -> RecvMsg {
        let name = encode(self.family, Some(meta.endpoint.addr), meta.endpoint.port);
        // Every datagram comes in through loopback: no NIC is driven yet.
        let ifindex = for_each_netdev().iter().find(|d| d.is_loopback()).map_or(0, |d| d.ifindex);
        let info = RecvInfo {
            dst: meta.local_address.unwrap_or(meta.endpoint.addr),
            ttl: None,
            tos: None,
            ifindex,
        };
        RecvMsg {
            len: full_len.min(cap),
            full_len,
            name: Some(name),
            cmsgs: self.opts.recv_cmsgs(self.family, &info),
            ..RecvMsg::default()
        }
    }

    /// The next datagram's length (Linux: `first_packet_length`).
    fn first_packet_length(&self) -> usize {
        let peer = self.inner.lock().peer;
        self.with_udp(|sock| {
            while let Ok((data, meta)) = sock.peek() {
                if peer.is_some_and(|p| p != meta.endpoint) {
                    let _ = sock.recv();
                    continue;
                }
                return data.len();
            }
            0
        })
        .unwrap_or(0)
    }
}

fn is_broadcast_or_multicast(a: IpAddress) -> bool {
    match a {
        IpAddress::Ipv4(v) => v.is_broadcast() || v.is_multicast(),
        IpAddress::Ipv6(v) => v.is_multicast(),
    }
}

impl ProtoOps for UdpSock {
    fn sk(&self) -> &Sock {
        &self.sk
    }
    fn family(&self) -> u32 {
        self.family
    }
    fn protocol(&self) -> u32 {
        super::af_inet::IPPROTO_UDP
    }
    fn bind(&self, addr: &[u8]) -> KResult<()> {
        self.do_bind(addr)
    }
    fn connect(&self, addr: &[u8], _nonblock: bool) -> KResult<()> {
        self.do_connect(addr)
    }
    /// Linux: `inet_getname`: `ENOTCONN` for the peer of an unconnected
    /// socket.
    fn getname(&self, peer: bool) -> KResult<Vec<u8>> {
        let st = self.inner.lock();
        if peer {
            let p = st.peer.ok_or(Errno::ENOTCONN)?;
            return Ok(encode(self.family, Some(p.addr), p.port));
        }
        let port = st.binding.as_ref().map_or(0, |b| b.port);
        Ok(encode(self.family, st.rcv_saddr, port))
    }
    /// Linux: `udp_poll` → `datagram_poll`.
    fn poll(&self) -> PollMask {
        let shutdown = self.inner.lock().shutdown;
        let mut mask = datagram_poll_state(shutdown, self.sk.has_err());
        if self.first_packet_length() > 0 || self.can_recv() {
            mask |= uapi::POLLIN | uapi::POLLRDNORM;
        }
        let writable = self.with_udp(|s| s.can_send()).unwrap_or(false);
        if writable {
            mask |= uapi::POLLOUT | uapi::POLLWRNORM | uapi::POLLWRBAND;
        }
        mask
    }
    /// Linux: `inet_shutdown`: `ENOTCONN` unless connected, though the
    /// flags are set all the same.
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
    fn sendmsg(&self, msg: SendMsg<'_>, flags: u32, nonblock: bool) -> KResult<usize> {
        self.do_sendmsg(msg, flags, nonblock)
    }
    fn recvmsg(&self, buf: &mut [u8], flags: u32, nonblock: bool) -> KResult<RecvMsg> {
        self.do_recvmsg(buf, flags, nonblock)
    }
    fn inq_len(&self) -> KResult<usize> {
        Ok(self.first_packet_length())
    }
    /// Linux: `udp_ioctl`: `SIOCOUTQ` is 0 (a datagram leaves at once on
    /// loopback); `SIOCINQ` is `FIONREAD`, handled by the socket layer.
    fn ioctl(&self, cmd: u32, arg: u64) -> Option<KResult<i64>> {
        if cmd != linux_raw_sys::ioctl::TIOCOUTQ {
            return None;
        }
        let put = crate::arch::uaccess::copy_to_user(
            crate::arch::uaccess::UserAddr::new(arg),
            &0i32.to_ne_bytes(),
        );
        Some(put.map(|()| 0).map_err(|_| Errno::EFAULT))
    }
    fn setsockopt(&self, level: u32, optname: u32, optval: &[u8]) -> KResult<()> {
        self.opts.setsockopt(&self.ctx(), level, optname, optval)
    }
    fn getsockopt(&self, level: u32, optname: u32, len: usize) -> KResult<Vec<u8>> {
        self.opts.getsockopt(&self.ctx(), level, optname, len)
    }
    /// Linux: `udp_lib_close`: the port goes at once.
    fn release(&self) {
        let old = {
            let mut st = self.inner.lock();
            st.peer = None;
            st.binding.take()
        };
        drop(old);
        // Every use of the handle checks `dead` under `STACK`, which the
        // removal takes: none can follow it.
        if !self.dead.swap(true, Ordering::SeqCst) {
            stack::remove_socket(self.handle);
        }
        UDP_TABLE.lock().retain(|w| w.strong_count() > 0 && !core::ptr::eq(w.as_ptr(), self));
    }
}

/// An ICMP error about a datagram we sent from `(saddr, sport)` to
/// `(daddr, dport)` (Linux: `__udp4_lib_err`, `__udp6_lib_err`): the
/// socket gets `err` if it asked for every error (`IP_RECVERR`), or if
/// it is connected to that peer and the error is hard.
pub fn udp_err(
    saddr: IpAddress,
    sport: u16,
    daddr: IpAddress,
    dport: u16,
    err: Errno,
    harderr: bool,
) {
    let socks: Vec<Arc<UdpSock>> = UDP_TABLE.lock().iter().filter_map(Weak::upgrade).collect();
    let found = socks.into_iter().filter_map(|s| {
        let st = s.inner.lock();
        let port = st.binding.as_ref().map(|b| b.port)?;
        let addr_ok = st.rcv_saddr.is_none_or(|a| a == saddr);
        let peer_ok = st.peer.is_none_or(|p| p == IpEndpoint::new(daddr, dport));
        let connected = st.peer.is_some();
        drop(st);
        (port == sport && addr_ok && peer_ok).then_some((connected, s))
    });
    // Linux's lookup prefers the connected socket, the most specific.
    let Some((connected, sock)) = found.max_by_key(|(c, _)| *c) else { return };
    let o = sock.opts.get();
    let recverr = if matches!(saddr, IpAddress::Ipv6(_)) { o.recverr6 } else { o.recverr };
    if recverr || (harderr && connected) {
        sock.sk.set_err(err);
        sock.wake();
    }
}

/// /proc/net/udp (`v6` false) and /proc/net/udp6 (Linux: `udp4_seq_show`,
/// `udp6_seq_show`): one line per bound socket of the family, 127 columns
/// for IPv4 as Linux pads them.
pub fn udp4_seq_show(out: &mut SeqBuf, v6: bool) -> KResult<()> {
    if v6 {
        out.puts(IPV6_SEQ_DGRAM_HEADER)?;
    } else {
        let header = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops";
        out.printf(format_args!("{header:<127}\n"))?;
    }
    let want = if v6 { uapi_net::AF_INET6 } else { uapi_net::AF_INET };
    let socks: Vec<Arc<UdpSock>> = UDP_TABLE.lock().iter().filter_map(Weak::upgrade).collect();
    for s in socks.iter().filter(|s| s.family == want) {
        let (port, local, peer) = {
            let st = s.inner.lock();
            let Some(port) = st.binding.as_ref().map(|b| b.port) else { continue };
            (port, st.rcv_saddr, st.peer)
        };
        let row = DgramRow {
            bucket: u32::from(port % 128),
            local,
            local_port: port,
            remote: peer.map(|p| p.addr),
            remote_port: peer.map_or(0, |p| p.port),
            rx_queue: s.first_packet_length(),
            uid: s.uid,
            ino: s.sk.ino.load(Ordering::Relaxed),
        };
        dgram_row(out, v6, 5, !v6, &row)?;
    }
    Ok(())
}

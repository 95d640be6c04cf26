//! TCP sockets: creating, binding, listening, accepting and connecting
//! (Linux: net/ipv4/af_inet.c `inet_bind`, `inet_listen`, `inet_accept`,
//! `__inet_stream_connect`; net/ipv4/tcp.c; `inet_stream_ops`).
//!
//! A [`TcpSock`] is the socket layer's view (Linux's `sock->state`:
//! unconnected, connecting, connected, listening) over one smoltcp TCP
//! socket, or over a listener's pool (tcp_listen.rs). The TCP state
//! itself is smoltcp's; what Linux keeps beside it for user space — the
//! pending error, the shutdown bits, the port owned — lives here. The
//! data path, poll, shutdown and close are in tcp_io.rs, options and
//! ioctls in tcp_opts.rs, /proc/net/tcp in tcp_proc.rs.
//!
//! A reset is seen as smoltcp reaching CLOSED without our FIN: the
//! socket then holds `ECONNREFUSED` (never connected) or `ECONNRESET`
//! for the next call, as Linux's `tcp_reset` does.
//!
//! # Locking
//! `inner` is a spinlock taken before `STACK` (stack.rs) and `PORTS`
//! (port.rs), never across a sleep, a user copy or
//! [`net_rx_action`]. `TCP_SOCKS` is a leaf.
#![deny(unsafe_code)]

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use linux_raw_sys::general::CAP_NET_BIND_SERVICE;
use linux_raw_sys::net as uapi_net;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, State};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint, Ipv4Address, Ipv6Address};

use super::port::{PortBinding, Proto, get_port};
use super::sockaddr::{self, InetAddr};
use super::stack::{StackWaiter, net_rx_action, register_waiter, with_stack};
use super::tcp_listen::{self, tcp_socket};
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::current;
use crate::net::sock::{Sock, SockType};
use crate::net::socket::ProtoOps;

/// Linux: `PROT_SOCK`, the first port anyone may bind.
const PROT_SOCK: u16 = 1024;

/// The socket layer's state (Linux: `socket_state`, `SS_*`, with
/// listening apart as `TCP_LISTEN` is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SsState {
    Unconnected,
    Connecting,
    Connected,
    Listening,
}

/// What a TCP socket keeps beside smoltcp's state.
pub(super) struct TcpInner {
    pub ss: SsState,
    /// The connection's smoltcp socket.
    pub handle: Option<SocketHandle>,
    pub port: Option<PortBinding>,
    /// The bound address (None: the wildcard) and port, 0 before bind.
    pub local_addr: Option<IpAddress>,
    pub local_port: u16,
    /// `bind` chose the port: a failed connect keeps it (Linux:
    /// `SOCK_BINDPORT_LOCK`).
    pub user_bound: bool,
    /// Linux: `sk_shutdown`'s `RCV_SHUTDOWN` and `SEND_SHUTDOWN`.
    pub rcv_shutdown: bool,
    pub snd_shutdown: bool,
    /// We sent our FIN (close or SHUT_WR): a later CLOSED is no reset.
    pub fin_sent: bool,
    /// The connection reached ESTABLISHED once.
    pub established: bool,
    /// The peer's FIN arrived (Linux: `SOCK_DONE`): reads end there,
    /// before any later error.
    pub fin_rcvd: bool,
    /// The state last seen, to name a reset as Linux's `tcp_reset` does.
    pub last_state: Option<State>,
    /// smoltcp's CLOSED has been accounted for.
    pub closed_seen: bool,
    /// The `SO_KEEPALIVE` smoltcp was last given (the generic
    /// `setsockopt` does not tell the family).
    pub keepalive_applied: bool,
    pub opts: super::tcp_opts::TcpOpts,
}

/// A TCP socket (Linux: `struct tcp_sock` with its `struct socket`).
pub struct TcpSock {
    pub(super) sk: Sock,
    pub(super) family: u32,
    /// Owner, for /proc/net/tcp (Linux: `sock_i_uid`).
    pub(super) uid: u32,
    /// Names this socket's listener in the engine.
    pub(super) id: u64,
    /// `IPPROTO_IP`/`IPPROTO_IPV6` options (Linux: `inet_sock`,
    /// `ipv6_pinfo`).
    pub(super) ip_opts: super::inet_opts::InetOpts,
    pub(super) inner: SpinLock<TcpInner>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Every open TCP socket, for /proc/net/tcp (Linux: the listening and
/// established hash tables).
static TCP_SOCKS: SpinLock<Vec<Weak<TcpSock>>> = SpinLock::new(Vec::new());

/// Linux: `tcp_v4_init_sock` via `inet_create`.
pub fn tcp_create(family: u32) -> KResult<Arc<dyn ProtoOps>> {
    Ok(TcpSock::new(family, None))
}

impl TcpSock {
    fn new(family: u32, handle: Option<SocketHandle>) -> Arc<Self> {
        let inner = TcpInner {
            ss: if handle.is_some() { SsState::Connected } else { SsState::Unconnected },
            handle,
            port: None,
            local_addr: None,
            local_port: 0,
            user_bound: false,
            rcv_shutdown: false,
            snd_shutdown: false,
            fin_sent: false,
            established: handle.is_some(),
            fin_rcvd: false,
            last_state: None,
            closed_seen: false,
            keepalive_applied: false,
            opts: Default::default(),
        };
        let sock = Arc::new(Self {
            sk: Sock::new(SockType::Stream),
            family,
            uid: current().cred().fsuid,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            ip_opts: super::inet_opts::InetOpts::new(),
            inner: SpinLock::new(inner),
        });
        let weak: Weak<dyn StackWaiter> = Arc::downgrade(&sock) as Weak<dyn StackWaiter>;
        register_waiter(weak);
        let mut all = TCP_SOCKS.lock();
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&sock));
        sock
    }

    /// Every live TCP socket.
    pub(super) fn all() -> Vec<Arc<TcpSock>> {
        TCP_SOCKS.lock().iter().filter_map(Weak::upgrade).collect()
    }

    /// The loopback address of the socket's family: where a connect to
    /// the wildcard goes (Linux: `ip_route_connect` with no destination).
    fn loopback(&self) -> IpAddress {
        if self.family == uapi_net::AF_INET {
            IpAddress::Ipv4(Ipv4Address::new(127, 0, 0, 1))
        } else {
            IpAddress::Ipv6(Ipv6Address::LOCALHOST)
        }
    }

    /// smoltcp's state of our connection, accounting for a reset or a
    /// refused connect the first time CLOSED is seen (Linux: `tcp_reset`,
    /// `tcp_done`). None without a connection.
    pub(super) fn tcp_state(&self, st: &mut TcpInner) -> Option<State> {
        let h = st.handle?;
        let keepalive = self.sk.keepalive.load(Ordering::Relaxed);
        let sync = (keepalive != st.keepalive_applied).then(|| st.opts.clone());
        st.keepalive_applied = keepalive;
        let state = with_stack(|s| {
            let t = s.socket_mut::<tcp::Socket<'static>>(h)?;
            if let Some(opts) = &sync {
                opts.apply(t, keepalive);
            }
            Some(t.state())
        })
        .ok()
        .flatten()
        .unwrap_or(State::Closed);
        match state {
            State::Closed if !st.closed_seen => {
                st.closed_seen = true;
                if !st.fin_sent {
                    let e = match st.last_state {
                        Some(State::CloseWait) => Errno::EPIPE,
                        _ if st.established => Errno::ECONNRESET,
                        _ => Errno::ECONNREFUSED,
                    };
                    self.sk.set_err(e);
                }
                st.rcv_shutdown = true;
                st.snd_shutdown = true;
            }
            State::Listen | State::SynSent | State::SynReceived | State::Closed => {}
            State::CloseWait | State::LastAck | State::Closing | State::TimeWait => {
                st.established = true;
                st.fin_rcvd = true;
            }
            _ => st.established = true,
        }
        st.last_state = Some(state);
        Some(state)
    }

    /// Whether `addr` is one of ours (Linux: `inet_addr_type` is
    /// `RTN_LOCAL`); the wildcard always is.
    fn is_local(addr: Option<IpAddress>) -> KResult<bool> {
        let Some(addr) = addr else { return Ok(true) };
        with_stack(|s| s.iface.has_ip_addr(addr))
    }

    /// Linux: `inet_bind` / `inet6_bind` for TCP.
    fn do_bind(&self, addr: &[u8]) -> KResult<()> {
        let a = sockaddr::decode(self.family, addr)?;
        if !Self::is_local(a.addr)? {
            return Err(Errno::EADDRNOTAVAIL);
        }
        if a.port != 0 && a.port < PROT_SOCK && !capable(CAP_NET_BIND_SERVICE) {
            return Err(Errno::EACCES);
        }
        let mut st = self.inner.lock();
        if st.port.is_some() || st.ss != SsState::Unconnected {
            return Err(Errno::EINVAL);
        }
        let binding = get_port(Proto::Tcp, a.addr, a.port, self.sk.reuse())?;
        st.local_addr = a.addr;
        st.local_port = binding.port;
        st.port = Some(binding);
        st.user_bound = true;
        Ok(())
    }

    /// Takes an ephemeral port if the socket has none (Linux:
    /// `inet_autobind`, `inet_hash_connect`).
    fn autobind(&self, st: &mut TcpInner) -> KResult<()> {
        if st.port.is_none() {
            let binding = get_port(Proto::Tcp, st.local_addr, 0, self.sk.reuse())?;
            st.local_port = binding.port;
            st.port = Some(binding);
        }
        Ok(())
    }

    /// Linux: `inet_listen`: an unconnected socket; listening again only
    /// changes the backlog.
    fn do_listen(&self, backlog: u32) -> KResult<()> {
        let mut st = self.inner.lock();
        match st.ss {
            SsState::Unconnected | SsState::Listening => {}
            _ => return Err(Errno::EINVAL),
        }
        self.autobind(&mut st)?;
        if st.ss == SsState::Unconnected {
            if let Some(p) = &st.port {
                p.set_listening(st.local_addr)?;
            }
            st.ss = SsState::Listening;
        }
        let endpoint = IpListenEndpoint { addr: st.local_addr, port: st.local_port };
        with_stack(|s| tcp_listen::listen_start(s, self.id, endpoint, backlog as usize))?;
        drop(st);
        net_rx_action();
        Ok(())
    }

    /// Linux: `inet_accept` → `inet_csk_accept`: `EINVAL` unless
    /// listening; waits up to `SO_RCVTIMEO`.
    fn do_accept(&self, nonblock: bool) -> KResult<Arc<TcpSock>> {
        loop {
            let got = {
                let st = self.inner.lock();
                if st.ss != SsState::Listening {
                    return Err(Errno::EINVAL);
                }
                let got = with_stack(|s| tcp_listen::accept_dequeue(s, self.id))?;
                got.map(|h| (h, st.port.as_ref().map(PortBinding::inherit), st.opts.clone()))
            };
            if let Some((h, port, opts)) = got {
                return Ok(self.accept_child(h, port, opts));
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            self.wait(true, || {
                let st = self.inner.lock();
                st.ss != SsState::Listening
                    || with_stack(|s| {
                        s.tcp.listeners.get(&self.id).is_some_and(|l| !l.queue.is_empty())
                    })
                    .unwrap_or(true)
            })?;
        }
    }

    /// The socket for an accepted connection: the listener's family,
    /// options and port (Linux: `tcp_create_openreq_child`).
    fn accept_child(
        &self,
        h: SocketHandle,
        port: Option<PortBinding>,
        opts: super::tcp_opts::TcpOpts,
    ) -> Arc<TcpSock> {
        let child = TcpSock::new(self.family, Some(h));
        let keepalive = self.sk.keepalive.load(Ordering::Relaxed);
        child.sk.keepalive.store(keepalive, Ordering::Relaxed);
        {
            let mut st = child.inner.lock();
            st.local_port = port.as_ref().map_or(0, |p| p.port);
            st.port = port;
            st.opts = opts;
            let _ = with_stack(|s| {
                if let Some(t) = s.socket_mut::<tcp::Socket<'static>>(h) {
                    st.local_addr = t.local_endpoint().map(|e| e.addr);
                    st.opts.apply(t, keepalive);
                }
            });
        }
        child
    }

    /// Sleeps on the socket's queue until `cond`, for at most the
    /// receive (`rcv`) or send timeout: `EAGAIN` when it runs out.
    pub(super) fn wait(&self, rcv: bool, cond: impl FnMut() -> bool) -> KResult<()> {
        let ns = if rcv { &self.sk.rcvtimeo_ns } else { &self.sk.sndtimeo_ns };
        let ns = ns.load(Ordering::Relaxed);
        if ns == 0 {
            return self.sk.wq.wait_event_interruptible(cond);
        }
        let hz = crate::kernel::time::HZ;
        let jiffies = ns.div_ceil(1_000_000_000 / hz).max(1);
        match self.sk.wq.wait_event_interruptible_timeout(cond, jiffies)? {
            true => Ok(()),
            false => Err(Errno::EAGAIN),
        }
    }

    /// Starts a connection to `a` (Linux: `tcp_v4_connect`):
    /// `ENETUNREACH` for an address that is not ours (only `lo` exists).
    fn connect_start(&self, a: InetAddr) -> KResult<()> {
        let remote = a.addr.unwrap_or_else(|| self.loopback());
        if a.port == 0 {
            return Err(Errno::ECONNREFUSED);
        }
        if !with_stack(|s| s.iface.has_ip_addr(remote))? {
            return Err(Errno::ENETUNREACH);
        }
        let mut st = self.inner.lock();
        self.autobind(&mut st).map_err(|_| Errno::EADDRNOTAVAIL)?;
        let local = IpListenEndpoint { addr: st.local_addr, port: st.local_port };
        let mut sock = tcp_socket();
        let keepalive = self.sk.keepalive.load(Ordering::Relaxed);
        st.opts.apply(&mut sock, keepalive);
        let h = with_stack(|s| {
            sock.connect(s.iface.context(), IpEndpoint::new(remote, a.port), local)
                .map(|()| s.sockets.add(sock))
        })?
        .map_err(|_| Errno::ENETUNREACH)?;
        st.handle = Some(h);
        st.ss = SsState::Connecting;
        st.rcv_shutdown = false;
        st.snd_shutdown = false;
        st.fin_sent = false;
        st.established = false;
        st.fin_rcvd = false;
        st.last_state = None;
        st.closed_seen = false;
        Ok(())
    }

    /// A failed connection: forget it, and the port unless `bind` chose
    /// it (Linux: the `sock_error` exit of `__inet_stream_connect`, then
    /// `tcp_disconnect`).
    fn connect_failed(&self, st: &mut TcpInner) -> Errno {
        let e = self.sk.sock_error().unwrap_or(Errno::ECONNABORTED);
        if let Some(h) = st.handle.take() {
            let _ = with_stack(|s| {
                s.sockets.remove(h);
            });
        }
        if !st.user_bound {
            st.port = None;
            st.local_port = 0;
        }
        st.ss = SsState::Unconnected;
        st.rcv_shutdown = false;
        st.snd_shutdown = false;
        e
    }

    /// Linux: `__inet_stream_connect`.
    fn do_connect(&self, addr: &[u8], nonblock: bool) -> KResult<()> {
        let a = sockaddr::decode(self.family, addr)?;
        let ss = self.inner.lock().ss;
        match ss {
            SsState::Connected | SsState::Listening => return Err(Errno::EISCONN),
            SsState::Unconnected => {
                self.connect_start(a)?;
                net_rx_action();
                if nonblock {
                    return Err(Errno::EINPROGRESS);
                }
            }
            SsState::Connecting => {}
        }
        let connecting = || {
            let mut st = self.inner.lock();
            matches!(self.tcp_state(&mut st), Some(State::SynSent | State::SynReceived))
        };
        if connecting() {
            if nonblock {
                return Err(Errno::EALREADY);
            }
            self.wait(false, || !connecting()).map_err(|e| match e {
                Errno::EAGAIN => Errno::EINPROGRESS,
                e => e,
            })?;
        }
        let mut st = self.inner.lock();
        match self.tcp_state(&mut st) {
            Some(State::Closed) | None => Err(self.connect_failed(&mut st)),
            Some(_) => {
                st.ss = SsState::Connected;
                Ok(())
            }
        }
    }

    /// Linux: `inet_getname`: the peer only while connected.
    fn do_getname(&self, peer: bool) -> KResult<Vec<u8>> {
        let mut st = self.inner.lock();
        let state = self.tcp_state(&mut st);
        let ends = st.handle.and_then(|h| {
            with_stack(|s| {
                s.socket_mut::<tcp::Socket<'static>>(h)
                    .map(|t| (t.local_endpoint(), t.remote_endpoint()))
            })
            .ok()
            .flatten()
        });
        if peer {
            if matches!(state, None | Some(State::Closed | State::SynSent)) {
                return Err(Errno::ENOTCONN);
            }
            let r = ends.and_then(|e| e.1).ok_or(Errno::ENOTCONN)?;
            return Ok(sockaddr::encode(self.family, Some(r.addr), r.port));
        }
        match ends.and_then(|e| e.0) {
            Some(l) => Ok(sockaddr::encode(self.family, Some(l.addr), l.port)),
            None => Ok(sockaddr::encode(self.family, st.local_addr, st.local_port)),
        }
    }
}

impl StackWaiter for TcpSock {
    fn stack_changed(&self) {
        self.sk.wq.wake_up_interruptible_all();
    }
}

impl ProtoOps for TcpSock {
    fn sk(&self) -> &Sock {
        &self.sk
    }
    fn family(&self) -> u32 {
        self.family
    }
    fn protocol(&self) -> u32 {
        super::af_inet::IPPROTO_TCP
    }
    fn bind(&self, addr: &[u8]) -> KResult<()> {
        self.do_bind(addr)
    }
    fn connect(&self, addr: &[u8], nonblock: bool) -> KResult<()> {
        self.do_connect(addr, nonblock)
    }
    fn listen(&self, backlog: u32) -> KResult<()> {
        self.do_listen(backlog)
    }
    fn is_listening(&self) -> bool {
        self.inner.lock().ss == SsState::Listening
    }
    fn accept(&self, nonblock: bool) -> KResult<Arc<dyn ProtoOps>> {
        Ok(self.do_accept(nonblock)?)
    }
    fn getname(&self, peer: bool) -> KResult<Vec<u8>> {
        self.do_getname(peer)
    }
    fn poll(&self) -> crate::fs::file_table::PollMask {
        self.tcp_poll()
    }
    fn shutdown(&self, how: u32) -> KResult<()> {
        self.inet_shutdown(how)
    }
    fn sendmsg(
        &self,
        msg: crate::net::msg::SendMsg<'_>,
        flags: u32,
        nonblock: bool,
    ) -> KResult<usize> {
        self.tcp_sendmsg(msg.data, flags, nonblock)
    }
    fn recvmsg(
        &self,
        buf: &mut [u8],
        flags: u32,
        nonblock: bool,
    ) -> KResult<crate::net::msg::RecvMsg> {
        self.tcp_recvmsg(buf, flags, nonblock)
    }
    fn inq_len(&self) -> KResult<usize> {
        self.tcp_inq()
    }
    fn release(&self) {
        self.tcp_close();
    }
    fn setsockopt(&self, level: u32, optname: u32, optval: &[u8]) -> KResult<()> {
        self.tcp_setsockopt(level, optname, optval)
    }
    fn getsockopt(&self, level: u32, optname: u32, len: usize) -> KResult<Vec<u8>> {
        self.tcp_getsockopt(level, optname, len)
    }
    fn ioctl(&self, cmd: u32, arg: u64) -> Option<KResult<i64>> {
        self.tcp_ioctl(cmd, arg)
    }
}

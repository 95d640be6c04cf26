//! The engine's side of TCP sockets: listeners' pools and accept queues,
//! and orphans, connections whose file is closed but whose FIN, data in
//! flight or TIME-WAIT is not done (Linux: net/ipv4/inet_connection_sock.c
//! `inet_csk_listen_start`, `inet_csk_accept`'s queue,
//! `inet_csk_destroy_sock`; net/ipv4/tcp.c `tcp_close` leaving an orphan).
//!
//! A smoltcp socket takes one connection: a listener is a pool of sockets
//! in LISTEN on its port. After every round of the engine,
//! [`tcp_housekeeping`] moves the pool's sockets that reached ESTABLISHED
//! (or beyond: a quick client may have sent its FIN) to the accept queue
//! and puts fresh listening sockets in their place, up to the backlog, so
//! a burst of SYNs finds sockets to take them. An orphan stays in the
//! engine, holding its port, until smoltcp reaches CLOSED.
//!
//! # Locking
//! Everything here lives in [`InetStack`] and runs under `STACK`.
#![deny(unsafe_code)]

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, State};
use smoltcp::wire::IpListenEndpoint;

use super::port::PortBinding;
use super::stack::InetStack;

/// Bytes of each smoltcp ring buffer, each way (Linux starts at
/// `tcp_rmem[1]` = 128 KiB and grows; a fixed 64 KiB keeps loopback fast
/// without Linux's autotuning).
pub const TCP_BUF: usize = 64 * 1024;
/// Most sockets a listener keeps in LISTEN at once, whatever its
/// backlog: each costs two buffers.
const POOL_MAX: usize = 8;

/// A new smoltcp TCP socket with Ferrite's buffers.
pub fn tcp_socket() -> tcp::Socket<'static> {
    let rx = tcp::SocketBuffer::new(alloc::vec![0; TCP_BUF]);
    let tx = tcp::SocketBuffer::new(alloc::vec![0; TCP_BUF]);
    tcp::Socket::new(rx, tx)
}

/// A listening socket's engine state (Linux: the listener's
/// `icsk_accept_queue` and its request socks).
pub struct Listener {
    pub endpoint: IpListenEndpoint,
    /// Sockets in LISTEN or SYN-RECEIVED.
    pub pool: Vec<SocketHandle>,
    /// Connections ready for `accept` (Linux: `rskq_accept_head`).
    pub queue: VecDeque<SocketHandle>,
    /// Linux: `sk_max_ack_backlog`.
    pub backlog: usize,
}

/// A closed socket's connection finishing on its own (Linux: an orphan
/// or a `tcp_timewait_sock`).
pub struct Orphan {
    pub handle: SocketHandle,
    /// Keeps the port taken until the connection is gone.
    pub _port: Option<PortBinding>,
    pub uid: u32,
    pub v6: bool,
}

/// TCP's tables inside the engine.
#[derive(Default)]
pub struct TcpTables {
    pub listeners: BTreeMap<u64, Listener>,
    pub orphans: Vec<Orphan>,
}

fn tcp_mut(stack: &mut InetStack, h: SocketHandle) -> Option<&mut tcp::Socket<'static>> {
    stack.socket_mut::<tcp::Socket<'static>>(h)
}

/// Whether a pool socket has a connection `accept` may hand out.
fn is_acceptable(state: State) -> bool {
    !matches!(state, State::Listen | State::SynReceived | State::Closed)
}

/// Moves connected sockets to accept queues, refills pools, resets
/// orphans that received data and drops those that are done. Returns
/// whether anything changed (the engine then runs again).
pub fn tcp_housekeeping(stack: &mut InetStack) -> bool {
    let mut grew = false;
    let ids: Vec<u64> = stack.tcp.listeners.keys().copied().collect();
    for id in ids {
        grew |= refill_listener(stack, id);
    }
    set_syn_budget(stack);
    let orphans = core::mem::take(&mut stack.tcp.orphans);
    for o in orphans {
        match tcp_mut(stack, o.handle) {
            None => continue,
            Some(s) if s.state() == State::Closed => {
                stack.sockets.remove(o.handle);
                continue;
            }
            // Nobody will read it: data for a closed socket resets the
            // connection (Linux: `tcp_rcv_state_process` once
            // `RCV_SHUTDOWN` is set by `tcp_close`).
            Some(s) if s.recv_queue() > 0 => {
                s.abort();
                grew = true;
            }
            Some(_) => {}
        }
        stack.tcp.orphans.push(o);
    }
    grew
}

/// How many SYNs each listening port can take before the next round:
/// its sockets still in LISTEN.
fn set_syn_budget(stack: &mut InetStack) {
    let mut budget = BTreeMap::new();
    let pools: Vec<(u16, Vec<SocketHandle>)> =
        stack.tcp.listeners.values().map(|l| (l.endpoint.port, l.pool.clone())).collect();
    for (port, pool) in pools {
        let free =
            pool.iter().filter(|h| tcp_mut(stack, **h).is_some_and(|s| s.is_listening())).count();
        *budget.entry(port).or_insert(0) += free;
    }
    stack.set_syn_budget(budget);
}

fn refill_listener(stack: &mut InetStack, id: u64) -> bool {
    let Some(mut l) = stack.tcp.listeners.remove(&id) else { return false };
    let mut grew = false;
    let mut keep = Vec::new();
    for h in core::mem::take(&mut l.pool) {
        let state = tcp_mut(stack, h).map(|s| s.state());
        match state {
            Some(s) if is_acceptable(s) => {
                l.queue.push_back(h);
                grew = true;
            }
            Some(State::Closed) => {
                // A handshake that failed: listen again.
                if let Some(s) = tcp_mut(stack, h)
                    && s.listen(l.endpoint).is_ok()
                {
                    keep.push(h);
                } else {
                    stack.sockets.remove(h);
                }
            }
            Some(_) => keep.push(h),
            None => {}
        }
    }
    l.pool = keep;
    // Linux takes up to backlog + 1 connections before dropping SYNs.
    let room = (l.backlog + 1).saturating_sub(l.queue.len()).min(POOL_MAX);
    while l.pool.len() < room {
        let mut s = tcp_socket();
        if s.listen(l.endpoint).is_err() {
            break;
        }
        l.pool.push(stack.sockets.add(s));
    }
    stack.tcp.listeners.insert(id, l);
    grew
}

/// Starts listening under `id` on `endpoint` (Linux:
/// `inet_csk_listen_start`); `listen` again only changes the backlog.
pub fn listen_start(stack: &mut InetStack, id: u64, endpoint: IpListenEndpoint, backlog: usize) {
    if let Some(l) = stack.tcp.listeners.get_mut(&id) {
        l.backlog = backlog;
    } else {
        let l = Listener { endpoint, pool: Vec::new(), queue: VecDeque::new(), backlog };
        stack.tcp.listeners.insert(id, l);
    }
    refill_listener(stack, id);
    set_syn_budget(stack);
}

/// Stops a listener: its pool goes, and connections never accepted are
/// reset (Linux: `inet_csk_listen_stop`).
pub fn listen_stop(stack: &mut InetStack, id: u64, uid: u32, v6: bool) {
    let Some(l) = stack.tcp.listeners.remove(&id) else { return };
    for h in l.pool {
        stack.sockets.remove(h);
    }
    for h in l.queue {
        if let Some(s) = tcp_mut(stack, h) {
            s.abort();
        }
        // Kept until the engine has sent the RST.
        stack.tcp.orphans.push(Orphan { handle: h, _port: None, uid, v6 });
    }
    set_syn_budget(stack);
}

/// The next connection of listener `id`, if any (Linux:
/// `reqsk_queue_remove`).
pub fn accept_dequeue(stack: &mut InetStack, id: u64) -> Option<SocketHandle> {
    let h = stack.tcp.listeners.get_mut(&id)?.queue.pop_front();
    if h.is_some() {
        refill_listener(stack, id);
        set_syn_budget(stack);
    }
    h
}

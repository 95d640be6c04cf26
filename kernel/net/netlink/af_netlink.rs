//! AF_NETLINK sockets (Linux: net/netlink/af_netlink.c).
//!
//! A [`NetlinkSock`] is a datagram endpoint named by a port id (`nl_pid`)
//! within its protocol: bound explicitly, or on first use ("autobind":
//! the process's tgid for its first socket, then negative ids, as Linux
//! does). The kernel is port 0 of every protocol: a message sent there is
//! handed to the protocol's input ([`super::rtnetlink::rtnetlink_rcv`]
//! for `NETLINK_ROUTE`), which answers on the sender's queue before the
//! send returns. Multicast groups (bits of `nl_groups` or
//! `NETLINK_ADD_MEMBERSHIP`) receive [`netlink_broadcast`]s; a listener
//! whose queue holds more than its receive buffer loses the message and
//! gets `ENOBUFS` once (Linux: `netlink_overrun`).
//!
//! Queued bytes are counted with a per-message overhead ([`SKB_OVERHEAD`])
//! standing for Linux's `skb->truesize`, so that a receive buffer holds
//! about as many messages as on Linux.
//!
//! A dump is made whole when asked for (Linux makes it as the reader
//! drains its queue); as on Linux a socket runs one dump at a time
//! (`EBUSY`), and the dump's `NLMSG_DONE` is queued once its last data is
//! reached by a read.
//!
//! The socket calls themselves are in [`ops`] (Linux: `netlink_ops`).
//!
//! Not yet: `NETLINK_PKTINFO` control messages (the option is accepted
//! and remembered), `NETLINK_LIST_MEMBERSHIPS`, memory-mapped rings.
//!
//! # Locking
//! `NL_TABLE` (every socket, with its protocol) is taken before a socket's
//! `inner`; both are spinlocks, never held across a user copy, a sleep, a
//! wake or a protocol's input. Delivery copies the list of sockets out and
//! locks one socket at a time.
#![deny(unsafe_code)]

use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use linux_raw_sys::net as uapi_net;
use linux_raw_sys::netlink as nl;

use crate::fs::select::poll_wake;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::current;
use crate::net::sock::{Sock, SockType};
use crate::net::socket::ProtoOps;

mod ops;

/// `sizeof(struct sockaddr_nl)`.
pub const SOCKADDR_NL_SIZE: usize = 12;
/// Bytes charged per queued message besides its data (Linux: the
/// `sk_buff` and `skb_shared_info` in `truesize`).
pub const SKB_OVERHEAD: usize = 576;
/// Linux: `MAX_LINKS`, the protocol numbers.
const MAX_LINKS: i32 = 32;
/// The first port id autobind tries after the tgid (Linux: `rover`).
const ROVER_START: i32 = -4096;

/// What a protocol allows (Linux: `struct netlink_kernel_cfg.flags` and
/// `groups`).
struct NlProto {
    /// Multicast groups (Linux: `ngroups`).
    groups: u32,
    /// Anyone may send to a port or a group, not just `CAP_NET_ADMIN`
    /// (Linux: `NL_CFG_F_NONROOT_SEND`). Every protocol here lets anyone
    /// listen (`NL_CFG_F_NONROOT_RECV`).
    nonroot_send: bool,
}

/// The protocols that exist (Linux: `netlink_kernel_create` callers).
fn nl_proto(protocol: u32) -> Option<NlProto> {
    match protocol {
        nl::NETLINK_ROUTE => Some(NlProto { groups: 40, nonroot_send: false }),
        nl::NETLINK_USERSOCK => Some(NlProto { groups: 32, nonroot_send: true }),
        nl::NETLINK_KOBJECT_UEVENT => Some(NlProto { groups: 1, nonroot_send: false }),
        _ => None,
    }
}

/// One queued message (Linux: an `sk_buff` with its `netlink_skb_parms`).
pub struct NlSkb {
    pub data: Vec<u8>,
    /// The sender's port (0: the kernel).
    pub portid: u32,
    /// The group it was sent to, 0 for unicast.
    pub dst_group: u32,
    /// The last data of a dump: reading it ends the dump.
    pub ends_dump: bool,
}

/// Options (Linux: `NETLINK_F_*` bits of `nlk->flags`).
#[derive(Clone, Copy, Default)]
struct NlFlags {
    pktinfo: bool,
    broadcast_error: bool,
    no_enobufs: bool,
    listen_all_nsid: bool,
    cap_ack: bool,
    ext_ack: bool,
    strict_chk: bool,
}

/// The state under `NetlinkSock::inner`.
struct NlState {
    /// Subscribed groups: bit `g - 1` for group `g` (Linux: `groups`).
    groups: u64,
    /// `connect`'s destination (Linux: `dst_portid`, `dst_group`).
    dst_portid: u32,
    dst_group: u32,
    queue: VecDeque<NlSkb>,
    /// Bytes charged to the receive buffer (Linux: `sk_rmem_alloc`).
    rmem: usize,
    flags: NlFlags,
    /// A dump's data waits to be read (Linux: `cb_running`).
    dump_running: bool,
    /// The running dump's `NLMSG_DONE`, queued once its last data is
    /// read, as Linux makes it then (`netlink_recvmsg` → `netlink_dump`).
    dump_done: Option<Vec<u8>>,
    dead: bool,
}

/// A netlink socket (Linux: `struct netlink_sock`).
pub struct NetlinkSock {
    pub sk: Sock,
    pub protocol: u32,
    /// Port id, valid once `bound` (Linux: `portid`, `bound`); written
    /// only under `NL_TABLE`.
    portid: AtomicU32,
    bound: core::sync::atomic::AtomicBool,
    me: Weak<NetlinkSock>,
    inner: SpinLock<NlState>,
}

/// Every open netlink socket (Linux: `nl_table[].hash` and `mc_list`).
static NL_TABLE: SpinLock<Vec<Weak<NetlinkSock>>> = SpinLock::new(Vec::new());
/// Linux: the static `rover` of `netlink_autobind`.
static ROVER: AtomicI32 = AtomicI32::new(ROVER_START);

/// Linux: `netlink_create`: `SOCK_RAW` or `SOCK_DGRAM` of a protocol that
/// exists.
pub fn netlink_create(type_: u32, protocol: i32) -> KResult<Arc<dyn ProtoOps>> {
    let sk_type = match type_ {
        uapi_net::SOCK_RAW => SockType::Raw,
        uapi_net::SOCK_DGRAM => SockType::Dgram,
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    };
    if !(0..MAX_LINKS).contains(&protocol) {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let protocol = protocol as u32;
    nl_proto(protocol).ok_or(Errno::EPROTONOSUPPORT)?;
    let state = NlState {
        groups: 0,
        dst_portid: 0,
        dst_group: 0,
        queue: VecDeque::new(),
        rmem: 0,
        flags: NlFlags::default(),
        dump_running: false,
        dump_done: None,
        dead: false,
    };
    let nlk = Arc::new_cyclic(|me| NetlinkSock {
        sk: Sock::new(sk_type),
        protocol,
        portid: AtomicU32::new(0),
        bound: core::sync::atomic::AtomicBool::new(false),
        me: me.clone(),
        inner: SpinLock::new(state),
    });
    let mut table = NL_TABLE.lock();
    table.retain(|w| w.strong_count() > 0);
    table.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    table.push(Arc::downgrade(&nlk));
    drop(table);
    Ok(nlk)
}

/// Live sockets of `protocol` (a copy: nothing is locked after).
fn sockets_of(protocol: u32) -> Vec<Arc<NetlinkSock>> {
    let table = NL_TABLE.lock();
    table.iter().filter_map(Weak::upgrade).filter(|s| s.protocol == protocol).collect()
}

/// The bound socket at `portid` (Linux: `netlink_lookup`).
fn netlink_lookup(protocol: u32, portid: u32) -> Option<Arc<NetlinkSock>> {
    sockets_of(protocol).into_iter().find(|s| s.is_bound() && s.portid() == portid)
}

/// `1 << (group - 1)`, 0 for none (Linux: `netlink_group_mask`).
fn group_mask(group: u32) -> u32 {
    if group == 0 { 0 } else { 1u32.checked_shl(group - 1).unwrap_or(0) }
}

/// Linux: `ffs`: the lowest set bit, numbered from 1.
fn ffs(x: u32) -> u32 {
    if x == 0 { 0 } else { x.trailing_zeros() + 1 }
}

/// A `sockaddr_nl` (Linux: `struct sockaddr_nl`).
pub fn sockaddr_nl(portid: u32, groups: u32) -> Vec<u8> {
    let mut b = alloc::vec![0u8; SOCKADDR_NL_SIZE];
    b[..2].copy_from_slice(&super::attr::consts::AF_NETLINK.to_ne_bytes());
    b[4..8].copy_from_slice(&portid.to_ne_bytes());
    b[8..12].copy_from_slice(&groups.to_ne_bytes());
    b
}

/// Decodes a `sockaddr_nl`: `(nl_pid, nl_groups)`; `EINVAL` if short or
/// of another family.
fn parse_sockaddr_nl(addr: &[u8]) -> KResult<(u32, u32)> {
    let a = addr.get(..SOCKADDR_NL_SIZE).ok_or(Errno::EINVAL)?;
    if u32::from(u16::from_ne_bytes([a[0], a[1]])) != uapi_net::AF_NETLINK {
        return Err(Errno::EINVAL);
    }
    let pid = u32::from_ne_bytes([a[4], a[5], a[6], a[7]]);
    let groups = u32::from_ne_bytes([a[8], a[9], a[10], a[11]]);
    Ok((pid, groups))
}

impl NetlinkSock {
    pub fn portid(&self) -> u32 {
        self.portid.load(Ordering::Acquire)
    }

    fn is_bound(&self) -> bool {
        self.bound.load(Ordering::Acquire)
    }

    fn proto(&self) -> NlProto {
        nl_proto(self.protocol).unwrap_or(NlProto { groups: 0, nonroot_send: false })
    }

    /// Whether `NETLINK_EXT_ACK`, `NETLINK_CAP_ACK` are on (for acks).
    pub fn cap_ack(&self) -> bool {
        self.inner.lock().flags.cap_ack
    }

    /// Wakes readers, writers and pollers.
    fn wake(&self) {
        self.sk.wq.wake_up_all();
        poll_wake();
    }

    /// Takes `portid` (Linux: `netlink_insert`): `EADDRINUSE` if another
    /// socket of the protocol has it; `EINVAL` if this one is bound to
    /// another.
    fn netlink_insert(&self, portid: u32) -> KResult<()> {
        let table = NL_TABLE.lock();
        if self.is_bound() {
            return if self.portid() == portid { Ok(()) } else { Err(Errno::EINVAL) };
        }
        let taken = table
            .iter()
            .filter_map(Weak::upgrade)
            .any(|s| s.protocol == self.protocol && s.is_bound() && s.portid() == portid);
        if taken {
            return Err(Errno::EADDRINUSE);
        }
        self.portid.store(portid, Ordering::Release);
        self.bound.store(true, Ordering::Release);
        Ok(())
    }

    /// Picks a port id (Linux: `netlink_autobind`): the tgid, as the
    /// calling process sees it, then negative numbers from -4096 down.
    fn netlink_autobind(&self) -> KResult<()> {
        if self.is_bound() {
            return Ok(());
        }
        let mut portid = crate::kernel::pid::nr_to_vnr(current().tgid);
        for _ in 0..1024 {
            match self.netlink_insert(portid as u32) {
                Err(Errno::EADDRINUSE) => {}
                r => return r,
            }
            portid = ROVER.fetch_sub(1, Ordering::Relaxed);
            if portid > ROVER_START {
                ROVER.store(ROVER_START - 1, Ordering::Relaxed);
                portid = ROVER_START;
            }
        }
        Err(Errno::EADDRINUSE)
    }

    /// Queues a message unless the receive buffer is full (Linux:
    /// `__netlink_sendskb` after `netlink_attachskb`'s check).
    /// `force` skips the check: dump replies, which Linux produces
    /// lazily as the reader drains its queue.
    fn queue_skb(&self, skb: NlSkb, force: bool) -> KResult<()> {
        let cost = skb.data.len() + SKB_OVERHEAD;
        let rcvbuf = self.sk.sk_rcvbuf.load(Ordering::Relaxed) as usize;
        {
            let mut st = self.inner.lock();
            if st.dead {
                return Err(Errno::ECONNREFUSED);
            }
            if !force && st.rmem > rcvbuf {
                return Err(Errno::ENOBUFS);
            }
            st.queue.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            st.rmem += cost;
            st.queue.push_back(skb);
        }
        self.wake();
        Ok(())
    }

    /// A message from the kernel to this socket (Linux: `netlink_unicast`
    /// from a kernel socket): a full queue drops it and reports
    /// `ENOBUFS` to the reader (`netlink_overrun`).
    pub fn kernel_unicast(&self, data: Vec<u8>, force: bool) {
        let skb = NlSkb { data, portid: 0, dst_group: 0, ends_dump: false };
        if self.queue_skb(skb, force) == Err(Errno::ENOBUFS) {
            self.netlink_overrun();
        }
    }

    /// Starts a dump: `EBUSY` while the last one's data is unread
    /// (Linux: `__netlink_dump_start` with `cb_running`). Dumps are made
    /// whole at once, so this is what bounds what a socket can queue.
    pub fn dump_start(&self) -> KResult<()> {
        let mut st = self.inner.lock();
        if st.dump_running {
            return Err(Errno::EBUSY);
        }
        st.dump_running = true;
        Ok(())
    }

    /// Queues the datagrams of a dump; its `NLMSG_DONE` follows the
    /// last one once that is read, or comes at once after no data.
    pub fn dump_queue(&self, chunks: Vec<Vec<u8>>, done: Vec<u8>) {
        let n = chunks.len();
        if n > 0 {
            self.inner.lock().dump_done = Some(done);
            for (i, data) in chunks.into_iter().enumerate() {
                let skb = NlSkb { data, portid: 0, dst_group: 0, ends_dump: i + 1 == n };
                if self.queue_skb(skb, true).is_err() {
                    break;
                }
            }
        } else {
            self.inner.lock().dump_running = false;
            self.kernel_unicast(done, true);
        }
    }

    /// The last data of a dump was read: its `NLMSG_DONE` goes on the
    /// queue and another dump may start.
    fn dump_finish(st: &mut NlState) {
        st.dump_running = false;
        if let Some(data) = st.dump_done.take()
            && st.queue.try_reserve(1).is_ok()
        {
            st.rmem += data.len() + SKB_OVERHEAD;
            st.queue.push_back(NlSkb { data, portid: 0, dst_group: 0, ends_dump: false });
        }
    }

    /// Linux: `netlink_overrun`.
    fn netlink_overrun(&self) {
        if !self.inner.lock().flags.no_enobufs {
            self.sk.set_err(Errno::ENOBUFS);
            self.wake();
        }
    }

    /// Unicast from a user socket (Linux: `netlink_unicast` to a user
    /// socket): `ECONNREFUSED` without a receiver, or if the receiver is
    /// connected to another port; a full receiver makes the sender wait.
    fn user_unicast(&self, dst: &NetlinkSock, data: &[u8], nonblock: bool) -> KResult<()> {
        let dst_peer = dst.inner.lock().dst_portid;
        if dst_peer != 0 && dst_peer != self.portid() {
            return Err(Errno::ECONNREFUSED);
        }
        loop {
            let skb = NlSkb {
                data: crate::mm::slab_common::kmemdup(data)?,
                portid: self.portid(),
                dst_group: 0,
                ends_dump: false,
            };
            match dst.queue_skb(skb, false) {
                Err(Errno::ENOBUFS) if nonblock => return Err(Errno::EAGAIN),
                Err(Errno::ENOBUFS) => {
                    let rcvbuf = dst.sk.sk_rcvbuf.load(Ordering::Relaxed) as usize;
                    dst.sk.wq.wait_event_interruptible(|| {
                        let st = dst.inner.lock();
                        st.dead || st.rmem <= rcvbuf
                    })?;
                }
                r => return r,
            }
        }
    }
}

/// Sends `data` to every socket of `protocol` in `group` but the port
/// `exclude` (Linux: `netlink_broadcast`); a listener with a full queue
/// gets `ENOBUFS` instead. `portid` is the sender (0: the kernel).
pub fn netlink_broadcast(
    protocol: u32,
    portid: u32,
    group: u32,
    data: &[u8],
    exclude: Option<u32>,
) {
    let bit = match group.checked_sub(1) {
        Some(b) if b < 64 => 1u64 << b,
        _ => return,
    };
    for s in sockets_of(protocol) {
        if exclude.is_some_and(|p| s.is_bound() && s.portid() == p) {
            continue;
        }
        if s.inner.lock().groups & bit == 0 {
            continue;
        }
        let Ok(copy) = crate::mm::slab_common::kmemdup(data) else {
            s.netlink_overrun();
            continue;
        };
        let skb = NlSkb { data: copy, portid, dst_group: group, ends_dump: false };
        if s.queue_skb(skb, false) == Err(Errno::ENOBUFS) {
            s.netlink_overrun();
        }
    }
}

/// Whether anyone of `protocol` listens to `group` (Linux:
/// `netlink_has_listeners`).
pub fn netlink_has_listeners(protocol: u32, group: u32) -> bool {
    let Some(bit) = group.checked_sub(1).filter(|b| *b < 64).map(|b| 1u64 << b) else {
        return false;
    };
    sockets_of(protocol).iter().any(|s| s.inner.lock().groups & bit != 0)
}

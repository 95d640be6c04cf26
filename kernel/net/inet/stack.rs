//! The TCP/IP engine: smoltcp's interface and sockets over Ferrite's
//! network devices (Linux: what net/ipv4/ip_input.c, ip_output.c, tcp_*.c,
//! udp.c, icmp.c and their IPv6 twins do; `net_rx_action` drives them).
//!
//! The protocols themselves are smoltcp's (DESIGN.md: not what the course
//! teaches); Ferrite's part is everything user space sees: the socket
//! calls and their errors (af_inet.rs, tcp.rs, udp.rs, raw.rs), port
//! ownership ([`PortTable`]), devices and addresses (net/core/). One
//! [`InetStack`] runs over `lo`: its smoltcp device takes packets from the
//! receive backlog and sends through [`NetDevice::dev_queue_xmit`], so
//! packet taps and counters see them as on Linux. Its addresses follow the
//! device's (`NETDEV_UP`, `NewAddr`...): none while the device is down.
//!
//! [`net_rx_action`] runs the engine until it has nothing left to do —
//! a packet looped back is processed in the same call — then arms a timer
//! for smoltcp's next deadline (retransmissions, delayed ACKs,
//! TIME-WAIT), and wakes the sockets' sleepers when anything changed.
//!
//! # Locking
//! `STACK` is a spinlock (timers run the engine): never held across a
//! user copy, a sleep or a wake-up. Under it only the device layer's leaf
//! locks (the backlog, `DEV_BASE`, the taps list; the taps run under it).
//! `WAITERS` and `PORTS` are leaves.
#![deny(unsafe_code)]

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use smoltcp::iface::{Config, Interface, PollResult, SocketHandle, SocketSet};
use smoltcp::phy::{self, Checksum, ChecksumCapabilities, DeviceCapabilities, Medium};
use smoltcp::socket::AnySocket;
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, Ipv4Address, Ipv6Address};

use super::tcp_listen::TcpTables;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::time::timer::TimerList;
use crate::net::core::dev::{
    NetDevice, NetdevEvent, backlog_dequeue, dev_get_by_name, register_netdevice_notifier,
};

/// The engine and its sockets (one per network namespace on Linux; one
/// here).
pub struct InetStack {
    pub iface: Interface,
    pub sockets: SocketSet<'static>,
    phy: DevPhy,
    /// TCP listeners and orphans (tcp_listen.rs).
    pub tcp: TcpTables,
}

impl InetStack {
    /// Sets how many connection requests each listening port takes
    /// before the engine next looks at its listeners (tcp_listen.rs).
    pub fn set_syn_budget(&mut self, budget: BTreeMap<u16, usize>) {
        self.phy.syn_budget = budget;
    }

    /// The socket behind `h`, if it is one of type `T` (smoltcp's own
    /// `get_mut` panics on a stale handle).
    pub fn socket_mut<T: AnySocket<'static>>(&mut self, h: SocketHandle) -> Option<&mut T> {
        self.sockets.iter_mut().find(|(x, _)| *x == h).and_then(|(_, s)| T::downcast_mut(s))
    }
}

/// smoltcp's view of `lo`: receive from the backlog, send through the
/// device.
struct DevPhy {
    dev: Arc<NetDevice>,
    /// SYNs each listening port may still take in this round (tcp_listen.rs
    /// fills it): past that, a SYN is dropped as Linux drops one to a
    /// full accept queue, and the client retries, where smoltcp would
    /// answer RST.
    syn_budget: BTreeMap<u16, usize>,
}

impl DevPhy {
    /// Whether `pkt` is a SYN for a listening port with no room left.
    fn syn_overflows(&mut self, pkt: &[u8]) -> bool {
        let Some(port) = tcp_syn_port(pkt) else { return false };
        match self.syn_budget.get_mut(&port) {
            Some(0) => true,
            Some(n) => {
                *n -= 1;
                false
            }
            None => false,
        }
    }
}

/// The destination port of a connection request (SYN without ACK) in an
/// IPv4 or IPv6 packet, if it is one.
pub(super) fn tcp_syn_port(pkt: &[u8]) -> Option<u16> {
    let first = *pkt.first()?;
    let off = match first >> 4 {
        4 if *pkt.get(9)? == 6 => usize::from(first & 0xf) * 4,
        6 if *pkt.get(6)? == 6 => 40,
        _ => return None,
    };
    let tcp = pkt.get(off..off.checked_add(14)?)?;
    let flags = tcp[13];
    (flags & 0x12 == 0x02).then(|| u16::from_be_bytes([tcp[2], tcp[3]]))
}

impl phy::Device for DevPhy {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken, TxToken<'_>)> {
        loop {
            let (_dev, pkt) = backlog_dequeue()?;
            if !self.syn_overflows(&pkt) {
                return Some((RxToken(pkt), TxToken(&self.dev)));
            }
        }
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        Some(TxToken(&self.dev))
    }

    /// Checksums are computed on the way out and trusted on the way in:
    /// a looped-back packet cannot be damaged (Linux:
    /// `CHECKSUM_UNNECESSARY` on loopback).
    fn capabilities(&self) -> DeviceCapabilities {
        let mut checksum = ChecksumCapabilities::default();
        checksum.ipv4 = Checksum::Tx;
        checksum.udp = Checksum::Tx;
        checksum.tcp = Checksum::Tx;
        checksum.icmpv4 = Checksum::Tx;
        checksum.icmpv6 = Checksum::Tx;
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = usize::try_from(self.dev.mtu()).unwrap_or(65535).min(65535);
        caps.checksum = checksum;
        caps
    }
}

struct RxToken(Vec<u8>);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

struct TxToken<'a>(&'a Arc<NetDevice>);

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut pkt = alloc::vec![0; len];
        let r = f(&mut pkt);
        // A device that is down drops it; TCP retransmits later.
        let _ = self.0.dev_queue_xmit(pkt);
        r
    }
}

static STACK: SpinLock<Option<InetStack>> = SpinLock::new(None);

/// smoltcp's clock: the monotonic clock.
pub fn now() -> Instant {
    Instant::from_micros(
        i64::try_from(crate::kernel::time::ktime_get_ns() / 1000).unwrap_or(i64::MAX),
    )
}

/// Runs `f` on the engine, without running it afterwards: for reads of
/// socket state. `ENETDOWN` before [`inet_stack_init`].
pub fn with_stack<R>(f: impl FnOnce(&mut InetStack) -> R) -> KResult<R> {
    let mut guard = STACK.lock();
    let stack = guard.as_mut().ok_or(Errno::ENETDOWN)?;
    Ok(f(stack))
}

/// Runs `f` on one smoltcp socket, then the engine, so that what `f`
/// queued goes out (and, on loopback, comes back in) at once. `EBADF`
/// for a handle that is not a `T`.
pub fn with_socket<T: AnySocket<'static>, R>(
    h: SocketHandle,
    f: impl FnOnce(&mut T) -> R,
) -> KResult<R> {
    let r = with_stack(|s| s.socket_mut::<T>(h).map(f))?.ok_or(Errno::EBADF)?;
    net_rx_action();
    Ok(r)
}

/// Adds a smoltcp socket (Linux: the `sk_alloc` half of `inet_create`).
pub fn add_socket<T: AnySocket<'static>>(sock: T) -> KResult<SocketHandle> {
    with_stack(|s| s.sockets.add(sock))
}

/// Removes a smoltcp socket (the engine forgets it: a TCP connection
/// still open is not closed gracefully; call `close` and let it finish
/// first where that matters).
pub fn remove_socket(h: SocketHandle) {
    let _ = with_stack(|s| {
        s.sockets.remove(h);
    });
}

/// Something to wake when sockets may have changed (a socket's wait
/// queue).
pub trait StackWaiter: Send + Sync {
    fn stack_changed(&self);
}

static WAITERS: SpinLock<Vec<Weak<dyn StackWaiter>>> = SpinLock::new(Vec::new());

/// Registers a socket to be woken whenever the engine reports a change;
/// it is forgotten once dropped.
pub fn register_waiter(w: Weak<dyn StackWaiter>) {
    WAITERS.lock().push(w);
}

/// Wakes every live waiter (Linux wakes only the socket a segment was
/// for, `sk_data_ready`; smoltcp does not say which changed), and the
/// poll(2)/select(2) sleepers, who wait on one queue for every file.
fn wake_waiters() {
    let live: Vec<Arc<dyn StackWaiter>> = {
        let mut list = WAITERS.lock();
        list.retain(|w| w.strong_count() > 0);
        list.iter().filter_map(Weak::upgrade).collect()
    };
    for w in live {
        w.stack_changed();
    }
    crate::fs::select::poll_wake();
}

/// Runs the engine until nothing is left to send or receive, re-arms
/// the timer for its next deadline and wakes sleepers if sockets changed
/// (Linux: `net_rx_action` and the protocol timers).
pub fn net_rx_action() {
    let changed = {
        let mut guard = STACK.lock();
        let Some(stack) = guard.as_mut() else { return };
        let mut changed = false;
        // Each round's output is the next round's input on loopback.
        for _ in 0..1024 {
            let r = stack.iface.poll(now(), &mut stack.phy, &mut stack.sockets);
            let more = crate::net::core::dev::backlog_pending();
            changed |= r == PollResult::SocketStateChanged;
            let tcp_changed = super::tcp_listen::tcp_housekeeping(stack);
            changed |= tcp_changed;
            if r == PollResult::None && !more && !tcp_changed {
                break;
            }
        }
        let delay = stack.iface.poll_delay(now(), &stack.sockets);
        drop(guard);
        arm_timer(delay);
        changed
    };
    // ICMP errors and raw sockets' copies, kept by icmp.rs's tap.
    super::icmp::icmp_rcv_deferred();
    if changed {
        wake_waiters();
    }
}

/// The engine's timer (Linux: the TCP retransmit, delayed-ACK and
/// TIME-WAIT timers, all in one).
static POLL_TIMER: spin::Lazy<TimerList> = spin::Lazy::new(|| TimerList::new(net_rx_action));

fn arm_timer(delay: Option<smoltcp::time::Duration>) {
    let Some(delay) = delay else {
        POLL_TIMER.del_timer();
        return;
    };
    let tick_us = 1_000_000 / crate::kernel::time::HZ;
    let ticks = delay.total_micros().div_ceil(tick_us).max(1);
    let _ = POLL_TIMER.mod_timer(crate::kernel::time::jiffies() + ticks);
}

/// Keeps the engine's addresses those of `lo` while it is up.
fn stack_netdev_event(event: &NetdevEvent, dev: &Arc<NetDevice>) {
    if !dev.is_loopback() || matches!(event, NetdevEvent::Register | NetdevEvent::ChangeMtu) {
        return;
    }
    let mut cidrs: Vec<IpCidr> = Vec::new();
    if dev.is_up() {
        for a in dev.ip_ptr.lock().iter() {
            cidrs.push(IpCidr::new(IpAddress::Ipv4(Ipv4Address::from(a.local)), a.prefixlen));
        }
        for a in dev.ip6_ptr.lock().iter() {
            cidrs.push(IpCidr::new(IpAddress::Ipv6(Ipv6Address::from(a.addr)), a.prefixlen));
        }
    }
    let _ = with_stack(|s| {
        s.iface.update_ip_addrs(|addrs| {
            addrs.clear();
            for c in cidrs {
                // The engine holds a few; more are kept by the device only.
                let _ = addrs.push(c);
            }
        })
    });
    net_rx_action();
}

/// Starts the engine over `lo` (Linux: `inet_init`, `ipv6_init`).
pub fn inet_stack_init() -> KResult<()> {
    let dev = dev_get_by_name("lo").ok_or(Errno::ENODEV)?;
    let mut config = Config::new(HardwareAddress::Ip);
    let mut seed = [0; 8];
    crate::drivers::char::random::get_random_bytes(&mut seed);
    config.random_seed = u64::from_ne_bytes(seed);
    let mut phy = DevPhy { dev, syn_budget: BTreeMap::new() };
    let iface = Interface::new(config, &mut phy, now());
    let sockets = SocketSet::new(Vec::new());
    *STACK.lock() = Some(InetStack { iface, sockets, phy, tcp: TcpTables::default() });
    register_netdevice_notifier(stack_netdev_event);
    Ok(())
}

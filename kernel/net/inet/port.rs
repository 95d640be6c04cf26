//! Who owns which local port (Linux: net/ipv4/inet_connection_sock.c
//! `inet_csk_get_port`, `inet_csk_bind_conflict`; net/ipv4/udp.c
//! `udp_lib_get_port`; `net.ipv4.ip_local_port_range`).
//!
//! smoltcp lets any number of sockets claim a port; Linux does not. Each
//! bound TCP, UDP or raw socket holds a [`PortBinding`] here; it is
//! released when dropped. Two bindings of a port conflict when their
//! addresses overlap (equal, or either is the wildcard) unless both set
//! `SO_REUSEADDR` and neither listens (TCP), or both set it (UDP).
//! IPv4 and IPv6 share the space, as a dual-stack Linux socket would.
//!
//! # Locking
//! `PORTS` is a leaf spinlock.
#![deny(unsafe_code)]

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use smoltcp::wire::IpAddress;

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

/// The transport a port belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

/// Linux's default `ip_local_port_range`.
pub const EPHEMERAL: core::ops::RangeInclusive<u16> = 32768..=60999;

struct Entry {
    id: u64,
    addr: Option<IpAddress>,
    reuse: bool,
    listening: bool,
}

static PORTS: SpinLock<BTreeMap<(Proto, u16), Vec<Entry>>> = SpinLock::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Where the ephemeral search starts next (Linux hashes; a rotor spreads
/// ports as well for a test to see).
static ROTOR: AtomicU64 = AtomicU64::new(0);

/// A port held by one socket; dropping it lets the port go.
#[derive(Debug)]
pub struct PortBinding {
    pub proto: Proto,
    pub port: u16,
    id: u64,
}

fn overlaps(a: Option<IpAddress>, b: Option<IpAddress>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}

fn conflicts(proto: Proto, list: &[Entry], addr: Option<IpAddress>, reuse: bool) -> bool {
    list.iter().any(|e| {
        overlaps(e.addr, addr) && !(reuse && e.reuse && (proto == Proto::Udp || !e.listening))
    })
}

/// Claims `port` (0: a free ephemeral one) for `addr` (None: every
/// address). `EADDRINUSE` on a conflict; `EADDRINUSE` too when no
/// ephemeral port is free (Linux says so for bind; connect says
/// `EADDRNOTAVAIL`, which the caller maps).
pub fn get_port(
    proto: Proto,
    addr: Option<IpAddress>,
    port: u16,
    reuse: bool,
) -> KResult<PortBinding> {
    let mut ports = PORTS.lock();
    let port = if port != 0 {
        if ports.get(&(proto, port)).is_some_and(|l| conflicts(proto, l, addr, reuse)) {
            return Err(Errno::EADDRINUSE);
        }
        port
    } else {
        let span = u64::from(EPHEMERAL.end() - EPHEMERAL.start()) + 1;
        let start = ROTOR.fetch_add(1, Ordering::Relaxed);
        (0..span)
            .map(|i| EPHEMERAL.start() + u16::try_from((start + i) % span).unwrap_or(0))
            .find(|p| !ports.contains_key(&(proto, *p)))
            .ok_or(Errno::EADDRINUSE)?
    };
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    ports.entry((proto, port)).or_default().push(Entry { id, addr, reuse, listening: false });
    Ok(PortBinding { proto, port, id })
}

impl PortBinding {
    /// Marks the binding as a listener (TCP `listen`): `EADDRINUSE` if
    /// another socket listens on an overlapping address (Linux:
    /// `inet_csk_get_port` run again from `inet_csk_listen_start`).
    pub fn set_listening(&self, addr: Option<IpAddress>) -> KResult<()> {
        let mut ports = PORTS.lock();
        let list = ports.get_mut(&(self.proto, self.port)).ok_or(Errno::EINVAL)?;
        if list.iter().any(|e| e.id != self.id && e.listening && overlaps(e.addr, addr)) {
            return Err(Errno::EADDRINUSE);
        }
        for e in list.iter_mut().filter(|e| e.id == self.id) {
            e.listening = true;
        }
        Ok(())
    }
}

impl PortBinding {
    /// The same port for a connection accepted on this listener, never
    /// listening itself (Linux: `__inet_inherit_port`): it keeps the port
    /// taken while the connection lives, as Linux's children do.
    pub fn inherit(&self) -> PortBinding {
        let mut ports = PORTS.lock();
        let list = ports.entry((self.proto, self.port)).or_default();
        let (addr, reuse) =
            list.iter().find(|e| e.id == self.id).map_or((None, false), |e| (e.addr, e.reuse));
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        list.push(Entry { id, addr, reuse, listening: false });
        PortBinding { proto: self.proto, port: self.port, id }
    }
}

impl Drop for PortBinding {
    fn drop(&mut self) {
        let mut ports = PORTS.lock();
        if let Some(list) = ports.get_mut(&(self.proto, self.port)) {
            list.retain(|e| e.id != self.id);
            if list.is_empty() {
                ports.remove(&(self.proto, self.port));
            }
        }
    }
}

crate::ktest!(port_table_conflicts, {
    let bind = |proto, port| get_port(proto, None, port, false).map_err(|_| "bind failed");
    let a = bind(Proto::Udp, 40999)?;
    crate::kassert!(bind(Proto::Udp, 40999).is_err(), "a second wildcard bind conflicts");
    crate::kassert!(bind(Proto::Tcp, 40999).is_ok(), "TCP and UDP ports are apart");
    drop(a);
    let b = bind(Proto::Udp, 40999)?;
    let e = bind(Proto::Udp, 0)?;
    crate::kassert!(EPHEMERAL.contains(&e.port), "an ephemeral port is in the range");
    drop(b);
    Ok(())
});

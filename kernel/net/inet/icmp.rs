//! What the sockets learn from received packets beside the engine:
//! ICMP errors for UDP sockets, and copies for raw sockets (Linux:
//! net/ipv4/icmp.c `icmp_unreach` → `icmp_socket_deliver` →
//! `__udp4_lib_err`, net/ipv6/icmp.c `icmpv6_notify`; net/ipv4/ip_input.c
//! `raw_local_deliver`).
//!
//! smoltcp answers a datagram to a closed port with an ICMP port
//! unreachable, and drops that message when it comes back: a packet tap
//! on the devices ([`IcmpTap`]) keeps a copy of each ICMP error, and of
//! every packet while raw sockets exist. The engine runs under the
//! `STACK` spinlock, where nothing may be woken, so the copies wait in
//! `PENDING` until [`icmp_rcv_deferred`], which `net_rx_action` calls
//! once it has let the lock go: then the UDP socket gets its error
//! (`icmp_err_convert`) and raw sockets their packets. On loopback this
//! happens before the `send` that provoked the error returns, as on
//! Linux, so the next call sees `ECONNREFUSED`.
//!
//! # Locking
//! `PENDING` is a leaf, taken under `STACK` by the tap.
#![deny(unsafe_code)]

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;

use smoltcp::wire::{IpAddress, Ipv4Address, Ipv6Address};

use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use crate::net::core::dev::{NetDevice, PacketDir, PacketTap, dev_add_pack};

/// Copies waiting for [`icmp_rcv_deferred`]; beyond this many the
/// newest are dropped (Linux drops on a full backlog too).
const PENDING_MAX: usize = 512;

static PENDING: SpinLock<VecDeque<(u32, Vec<u8>)>> = SpinLock::new(VecDeque::new());
static TAP: spin::Once<()> = spin::Once::new();

const ICMP_DEST_UNREACH: u8 = 3;
const ICMP_TIME_EXCEEDED: u8 = 11;
const ICMP_PARAMETERPROB: u8 = 12;
const ICMPV6_DEST_UNREACH: u8 = 1;
const ICMPV6_PKT_TOOBIG: u8 = 2;
const ICMPV6_TIME_EXCEED: u8 = 3;
const ICMPV6_PARAMPROB: u8 = 4;
const PROTO_ICMP: u8 = 1;
const PROTO_UDP: u8 = 17;
const PROTO_ICMPV6: u8 = 58;
const IPV6_HDR_LEN: usize = 40;

/// The tap that copies received packets for the sockets.
struct IcmpTap;

impl PacketTap for IcmpTap {
    fn func(&self, dev: &NetDevice, pkt: &[u8], dir: PacketDir) {
        if dir != PacketDir::Incoming || !(super::raw::raw_sockets_exist() || is_icmp_error(pkt)) {
            return;
        }
        let Ok(copy) = crate::mm::slab_common::kmemdup(pkt) else { return };
        let mut q = PENDING.lock();
        if q.len() < PENDING_MAX {
            q.push_back((dev.ifindex, copy));
        }
    }
}

/// Installs the tap, once (the first UDP or raw socket does).
pub fn icmp_tap_init() {
    TAP.call_once(|| dev_add_pack(Arc::new(IcmpTap)));
}

/// The ICMP message a packet carries: (type, code, body after the
/// 8-byte header), for ICMP over IPv4 and ICMPv6 over IPv6 without
/// extension headers.
fn icmp_of(pkt: &[u8]) -> Option<(bool, u8, u8, &[u8])> {
    match pkt.first()? >> 4 {
        4 => {
            let ihl = usize::from(pkt[0] & 0xf) * 4;
            if *pkt.get(9)? != PROTO_ICMP {
                return None;
            }
            let icmp = pkt.get(ihl..)?;
            Some((false, *icmp.first()?, *icmp.get(1)?, icmp.get(8..)?))
        }
        6 => {
            if *pkt.get(6)? != PROTO_ICMPV6 {
                return None;
            }
            let icmp = pkt.get(IPV6_HDR_LEN..)?;
            Some((true, *icmp.first()?, *icmp.get(1)?, icmp.get(8..)?))
        }
        _ => None,
    }
}

fn is_icmp_error(pkt: &[u8]) -> bool {
    match icmp_of(pkt) {
        Some((false, t, ..)) => {
            matches!(t, ICMP_DEST_UNREACH | ICMP_TIME_EXCEEDED | ICMP_PARAMETERPROB)
        }
        Some((true, t, ..)) => (ICMPV6_DEST_UNREACH..=ICMPV6_PARAMPROB).contains(&t),
        None => false,
    }
}

/// Linux: `icmp_err_convert[]` with `__udp4_lib_err`'s cases: the errno
/// and whether it is hard (reported to a connected socket without
/// `IP_RECVERR`). None for messages no socket hears of.
fn icmp_err_convert(type_: u8, code: u8) -> Option<(Errno, bool)> {
    const UNREACH: [(Errno, bool); 16] = [
        (Errno::ENETUNREACH, false),
        (Errno::EHOSTUNREACH, false),
        (Errno::ENOPROTOOPT, true),
        (Errno::ECONNREFUSED, true),
        (Errno::EMSGSIZE, false),
        (Errno::EOPNOTSUPP, false),
        (Errno::ENETUNREACH, true),
        (Errno::EHOSTDOWN, true),
        (Errno::ENONET, true),
        (Errno::ENETUNREACH, true),
        (Errno::EHOSTUNREACH, true),
        (Errno::ENETUNREACH, false),
        (Errno::EHOSTUNREACH, false),
        (Errno::EHOSTUNREACH, true),
        (Errno::EHOSTUNREACH, true),
        (Errno::EHOSTUNREACH, true),
    ];
    match type_ {
        ICMP_DEST_UNREACH => UNREACH.get(usize::from(code)).copied(),
        ICMP_TIME_EXCEEDED => Some((Errno::EHOSTUNREACH, false)),
        ICMP_PARAMETERPROB => Some((Errno::EPROTO, true)),
        _ => None,
    }
}

/// Linux: `icmpv6_err_convert`.
fn icmpv6_err_convert(type_: u8, code: u8) -> (Errno, bool) {
    const UNREACH: [(Errno, bool); 7] = [
        (Errno::ENETUNREACH, false),
        (Errno::EACCES, true),
        (Errno::EHOSTUNREACH, false),
        (Errno::EHOSTUNREACH, false),
        (Errno::ECONNREFUSED, true),
        (Errno::EACCES, true),
        (Errno::EACCES, true),
    ];
    match type_ {
        ICMPV6_DEST_UNREACH => {
            UNREACH.get(usize::from(code)).copied().unwrap_or((Errno::EPROTO, true))
        }
        ICMPV6_PKT_TOOBIG => (Errno::EMSGSIZE, false),
        ICMPV6_PARAMPROB => (Errno::EPROTO, true),
        ICMPV6_TIME_EXCEED => (Errno::EHOSTUNREACH, false),
        _ => (Errno::EPROTO, false),
    }
}

/// The addresses and ports of the UDP datagram an ICMP error quotes:
/// (source, source port, destination, destination port).
fn quoted_udp(v6: bool, inner: &[u8]) -> Option<(IpAddress, u16, IpAddress, u16)> {
    let (src, dst, udp) = if v6 {
        if *inner.get(6)? != PROTO_UDP {
            return None;
        }
        let src: [u8; 16] = inner.get(8..24)?.try_into().ok()?;
        let dst: [u8; 16] = inner.get(24..40)?.try_into().ok()?;
        (
            IpAddress::Ipv6(Ipv6Address::from(src)),
            IpAddress::Ipv6(Ipv6Address::from(dst)),
            inner.get(40..)?,
        )
    } else {
        let ihl = usize::from(inner.first()? & 0xf) * 4;
        if *inner.get(9)? != PROTO_UDP {
            return None;
        }
        let src: [u8; 4] = inner.get(12..16)?.try_into().ok()?;
        let dst: [u8; 4] = inner.get(16..20)?.try_into().ok()?;
        (
            IpAddress::Ipv4(Ipv4Address::from(src)),
            IpAddress::Ipv4(Ipv4Address::from(dst)),
            inner.get(ihl..)?,
        )
    };
    let port = |i: usize| Some(u16::from_be_bytes([*udp.get(i)?, *udp.get(i + 1)?]));
    Some((src, port(0)?, dst, port(2)?))
}

/// Hands an ICMP error to the socket whose datagram caused it (Linux:
/// `icmp_unreach` → `icmp_socket_deliver`, `icmpv6_notify`).
fn icmp_err_rcv(pkt: &[u8]) {
    let Some((v6, type_, code, inner)) = icmp_of(pkt) else { return };
    let conv = if v6 {
        (ICMPV6_DEST_UNREACH..=ICMPV6_PARAMPROB)
            .contains(&type_)
            .then(|| icmpv6_err_convert(type_, code))
    } else {
        icmp_err_convert(type_, code)
    };
    let Some((err, harderr)) = conv else { return };
    if let Some((saddr, sport, daddr, dport)) = quoted_udp(v6, inner) {
        super::udp::udp_err(saddr, sport, daddr, dport, err, harderr);
    }
}

/// Delivers the copies the tap kept, with no stack lock held (called by
/// `net_rx_action`).
pub fn icmp_rcv_deferred() {
    loop {
        let Some((ifindex, pkt)) = PENDING.lock().pop_front() else { return };
        super::raw::raw_rcv(ifindex, &pkt);
        icmp_err_rcv(&pkt);
    }
}

crate::ktest!(icmp_port_unreachable_is_econnrefused, {
    crate::kassert!(
        icmp_err_convert(3, 3) == Some((Errno::ECONNREFUSED, true)),
        "v4 port unreachable"
    );
    crate::kassert!(icmpv6_err_convert(1, 4) == (Errno::ECONNREFUSED, true), "v6 port unreachable");
    crate::kassert!(icmp_err_convert(0, 0).is_none(), "an echo reply is no error");
    // 127.0.0.1:40000 -> 127.0.0.1:53 quoted in a port unreachable.
    let mut pkt = alloc::vec![0u8; 20 + 8 + 20 + 8];
    pkt[0] = 0x45;
    pkt[9] = PROTO_ICMP;
    pkt[20] = 3;
    pkt[21] = 3;
    let inner = &mut pkt[28..];
    inner[0] = 0x45;
    inner[9] = PROTO_UDP;
    inner[12..16].copy_from_slice(&[127, 0, 0, 1]);
    inner[16..20].copy_from_slice(&[127, 0, 0, 1]);
    inner[20..22].copy_from_slice(&40000u16.to_be_bytes());
    inner[22..24].copy_from_slice(&53u16.to_be_bytes());
    crate::kassert!(is_icmp_error(&pkt), "seen as an ICMP error");
    let (v6, t, c, body) = icmp_of(&pkt).ok_or("icmp_of")?;
    crate::kassert!(!v6 && t == 3 && c == 3, "type and code");
    let q = quoted_udp(false, body).ok_or("quoted")?;
    crate::kassert!(q.1 == 40000 && q.3 == 53, "the quoted ports");
    Ok(())
});

//! Where a datagram to an address goes, and from which source address
//! (Linux: net/ipv4/route.c `ip_route_output_key`, net/ipv6/route.c
//! `ip6_route_output`, `inet_select_addr`, `ipv6_dev_get_saddr`).
//!
//! Ferrite keeps no routing table of its own: the routes are those Linux
//! derives from interface addresses (the `local`, `broadcast` and prefix
//! routes `fib_add_ifaddr` and `addrconf_prefix_route` add). A
//! destination that is one of our addresses goes to loopback; one on an
//! up interface's subnet goes out of that interface; anything else is
//! `ENETUNREACH` (there is no default route without a NIC).
//!
//! # Locking
//! Takes the device list and each device's address lock (leaves) in
//! turn; call it with no stack lock held.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use smoltcp::wire::{IpAddress, Ipv4Address, Ipv6Address};

use crate::kernel::errno::{Errno, KResult};
use crate::net::core::dev::{NetDevice, for_each_netdev};

/// A resolved output route (Linux: `struct rtable`'s useful part).
#[derive(Clone)]
pub struct Route {
    pub dev: Arc<NetDevice>,
    /// The preferred source address (Linux: `fl4->saddr` after lookup).
    pub src: IpAddress,
    /// The destination is a broadcast address (Linux: `RTCF_BROADCAST`).
    pub broadcast: bool,
    /// The destination is this host (Linux: `RTCF_LOCAL`).
    pub local: bool,
}

fn up_devices(oif: u32) -> impl Iterator<Item = Arc<NetDevice>> {
    for_each_netdev().into_iter().filter(move |d| d.is_up() && (oif == 0 || d.ifindex == oif))
}

fn v4_in_subnet(a: [u8; 4], b: [u8; 4], prefixlen: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefixlen.min(32))).unwrap_or(0);
    u32::from_be_bytes(a) & mask == u32::from_be_bytes(b) & mask
}

fn v6_in_subnet(a: &[u8; 16], b: &[u8; 16], prefixlen: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefixlen.min(128))).unwrap_or(0);
    u128::from_be_bytes(*a) & mask == u128::from_be_bytes(*b) & mask
}

/// An IPv4 route: local, then broadcast (subnet or, with `oif`, limited
/// `255.255.255.255`), then a subnet of an up interface.
fn route_v4(dst: Ipv4Address, oif: u32) -> KResult<Route> {
    let d = dst.octets();
    let mut subnet: Option<Route> = None;
    for dev in up_devices(0) {
        let addrs = dev.ip_ptr.lock().clone();
        for a in &addrs {
            let src = IpAddress::Ipv4(Ipv4Address::from(a.local));
            let hit = |broadcast, local| Route { dev: dev.clone(), src, broadcast, local };
            if a.local == d {
                return Ok(hit(false, true));
            }
            if (oif == 0 || oif == dev.ifindex) && subnet.is_none() {
                let bcast = a.broadcast != [0; 4] && a.broadcast == d
                    || a.prefixlen < 31 && d == subnet_broadcast(a.local, a.prefixlen);
                if bcast || v4_in_subnet(a.local, d, a.prefixlen) {
                    // A loopback prefix is all local (Linux: `fib_add_ifaddr`
                    // makes it `RTN_LOCAL`).
                    subnet = Some(hit(bcast, !bcast && dev.is_loopback()));
                }
            }
        }
    }
    if let Some(r) = subnet {
        return Ok(r);
    }
    if dst.is_broadcast() || dst.is_multicast() {
        // Linux: with an output interface these need no route.
        if let Some(dev) = up_devices(oif).find(|_| oif != 0) {
            let src = dev.ip_ptr.lock().first().map_or([0; 4], |a| a.local);
            let src = IpAddress::Ipv4(Ipv4Address::from(src));
            return Ok(Route { dev, src, broadcast: dst.is_broadcast(), local: false });
        }
    }
    Err(Errno::ENETUNREACH)
}

fn subnet_broadcast(local: [u8; 4], prefixlen: u8) -> [u8; 4] {
    let host = u32::MAX.checked_shr(u32::from(prefixlen.min(32))).unwrap_or(0);
    (u32::from_be_bytes(local) | host).to_be_bytes()
}

/// An IPv6 route: a local address, then an on-link prefix.
fn route_v6(dst: Ipv6Address, oif: u32) -> KResult<Route> {
    let d = dst.octets();
    let mut subnet: Option<Route> = None;
    for dev in up_devices(0) {
        let addrs = dev.ip6_ptr.lock().clone();
        for a in &addrs {
            let src = IpAddress::Ipv6(Ipv6Address::from(a.addr));
            if a.addr == d {
                return Ok(Route { dev: dev.clone(), src, broadcast: false, local: true });
            }
            if (oif == 0 || oif == dev.ifindex)
                && subnet.is_none()
                && v6_in_subnet(&a.addr, &d, a.prefixlen)
            {
                subnet = Some(Route { dev: dev.clone(), src, broadcast: false, local: false });
            }
        }
    }
    subnet.ok_or(Errno::ENETUNREACH)
}

/// The route to `dst`, through interface `oif` if not 0 (Linux:
/// `ip_route_output_key` / `ip6_route_output` + source selection):
/// `ENETUNREACH` when none.
pub fn ip_route_output(dst: IpAddress, oif: u32) -> KResult<Route> {
    match dst {
        IpAddress::Ipv4(d) => route_v4(d, oif),
        IpAddress::Ipv6(d) => route_v6(d, oif),
    }
}

/// Whether `addr` is one of this host's addresses (Linux:
/// `inet_addr_type() == RTN_LOCAL`, `ipv6_chk_addr`), as `bind` requires.
pub fn is_local_addr(addr: IpAddress) -> bool {
    ip_route_output(addr, 0).is_ok_and(|r| r.local)
}

crate::ktest!(route_subnet_math, {
    crate::kassert!(v4_in_subnet([127, 0, 0, 1], [127, 9, 9, 9], 8), "127/8 holds 127.9.9.9");
    crate::kassert!(!v4_in_subnet([127, 0, 0, 1], [10, 0, 0, 1], 8), "127/8 lacks 10.0.0.1");
    crate::kassert!(
        subnet_broadcast([127, 0, 0, 1], 8) == [127, 255, 255, 255],
        "broadcast of 127/8"
    );
    let one = Ipv6Address::LOCALHOST.octets();
    crate::kassert!(v6_in_subnet(&one, &one, 128), "::1/128 holds ::1");
    Ok(())
});

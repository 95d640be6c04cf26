//! Internet socket addresses as user space passes them (Linux:
//! include/uapi/linux/in.h `struct sockaddr_in`, in6.h `struct
//! sockaddr_in6`; the checks of `inet_bind`, `inet6_bind`,
//! `__ip4_datagram_connect`).
//!
//! An AF_INET6 socket also takes IPv4-mapped addresses (`::ffff:a.b.c.d`)
//! and shows IPv4 peers that way, as Linux's dual-stack sockets do.
//!
//! # Locking
//! None.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::net as uapi_net;
use smoltcp::wire::{IpAddress, Ipv4Address, Ipv6Address};

use crate::kernel::errno::{Errno, KResult};

/// Linux: `sizeof(struct sockaddr_in)` and `SIN6_LEN_RFC2133`/`sizeof(struct
/// sockaddr_in6)`.
const SOCKADDR_IN_LEN: usize = 16;
const SIN6_LEN_RFC2133: usize = 24;
const SOCKADDR_IN6_LEN: usize = 28;

/// A decoded address: `addr` is None for the wildcard (`INADDR_ANY`,
/// `in6addr_any`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InetAddr {
    pub addr: Option<IpAddress>,
    pub port: u16,
}

/// Whether `buf` names AF_UNSPEC (connect's "dissolve the association").
pub fn is_unspec(buf: &[u8]) -> bool {
    buf.len() >= 2 && u32::from(u16::from_ne_bytes([buf[0], buf[1]])) == uapi_net::AF_UNSPEC
}

/// Decodes a `sockaddr_in` or `sockaddr_in6` for a socket of `family`:
/// `EINVAL` when too short, `EAFNOSUPPORT` for another family (Linux's
/// choice in `inet_bind`; connect says the same).
pub fn decode(family: u32, buf: &[u8]) -> KResult<InetAddr> {
    if buf.len() < 2 {
        return Err(Errno::EINVAL);
    }
    let fam = u32::from(u16::from_ne_bytes([buf[0], buf[1]]));
    match family {
        uapi_net::AF_INET => {
            if buf.len() < SOCKADDR_IN_LEN {
                return Err(Errno::EINVAL);
            }
            // Linux's `inet_bind` also lets AF_UNSPEC with INADDR_ANY through.
            if fam != uapi_net::AF_INET && fam != uapi_net::AF_UNSPEC {
                return Err(Errno::EAFNOSUPPORT);
            }
            Ok(decode_in(buf))
        }
        _ => {
            if buf.len() < SIN6_LEN_RFC2133 {
                return Err(Errno::EINVAL);
            }
            if fam != uapi_net::AF_INET6 {
                return Err(Errno::EAFNOSUPPORT);
            }
            Ok(decode_in6(buf))
        }
    }
}

fn decode_in(buf: &[u8]) -> InetAddr {
    let port = u16::from_be_bytes([buf[2], buf[3]]);
    let ip = [buf[4], buf[5], buf[6], buf[7]];
    let addr = (ip != [0; 4]).then(|| IpAddress::Ipv4(Ipv4Address::from(ip)));
    InetAddr { addr, port }
}

fn decode_in6(buf: &[u8]) -> InetAddr {
    let port = u16::from_be_bytes([buf[2], buf[3]]);
    let mut ip = [0; 16];
    ip.copy_from_slice(&buf[8..24]);
    let addr = if ip == [0; 16] {
        None
    } else if ip[..12] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] {
        Some(IpAddress::Ipv4(Ipv4Address::new(ip[12], ip[13], ip[14], ip[15])))
    } else {
        Some(IpAddress::Ipv6(Ipv6Address::from(ip)))
    };
    InetAddr { addr, port }
}

/// `sa_family` as stored: a `u16`.
fn family_bytes(family: u32) -> [u8; 2] {
    u16::try_from(family).unwrap_or(0).to_ne_bytes()
}

/// Encodes an address for a socket of `family` (Linux: `inet_getname`,
/// `inet6_getname`): an IPv4 address on an AF_INET6 socket is shown
/// IPv4-mapped.
pub fn encode(family: u32, addr: Option<IpAddress>, port: u16) -> Vec<u8> {
    if family == uapi_net::AF_INET {
        let mut b = alloc::vec![0; SOCKADDR_IN_LEN];
        b[..2].copy_from_slice(&family_bytes(uapi_net::AF_INET));
        b[2..4].copy_from_slice(&port.to_be_bytes());
        if let Some(IpAddress::Ipv4(a)) = addr {
            b[4..8].copy_from_slice(&a.octets());
        }
        return b;
    }
    let mut b = alloc::vec![0; SOCKADDR_IN6_LEN];
    b[..2].copy_from_slice(&family_bytes(uapi_net::AF_INET6));
    b[2..4].copy_from_slice(&port.to_be_bytes());
    match addr {
        Some(IpAddress::Ipv6(a)) => b[8..24].copy_from_slice(&a.octets()),
        Some(IpAddress::Ipv4(a)) => {
            b[18..20].copy_from_slice(&[0xff, 0xff]);
            b[20..24].copy_from_slice(&a.octets());
        }
        None => {}
    }
    b
}

crate::ktest!(sockaddr_round_trip, {
    let a = encode(uapi_net::AF_INET, Some(IpAddress::v4(127, 0, 0, 1)), 8080);
    let d = decode(uapi_net::AF_INET, &a).map_err(|_| "decode")?;
    crate::kassert!(
        d.port == 8080 && d.addr == Some(IpAddress::v4(127, 0, 0, 1)),
        "AF_INET round trip"
    );
    let m = encode(uapi_net::AF_INET6, Some(IpAddress::v4(10, 0, 0, 2)), 53);
    let d = decode(uapi_net::AF_INET6, &m).map_err(|_| "decode6")?;
    crate::kassert!(d.addr == Some(IpAddress::v4(10, 0, 0, 2)), "a mapped address decodes to IPv4");
    crate::kassert!(decode(uapi_net::AF_INET, &a[..8]).is_err(), "short is EINVAL");
    Ok(())
});

//! IP headers for the packets raw sockets send, and the Internet checksum
//! (Linux: net/ipv4/ip_output.c `ip_append_data`'s header and
//! `ip_select_ident`, net/ipv4/raw.c `raw_send_hdrinc`, net/ipv6/raw.c
//! `rawv6_push_pending_frames`; include/net/checksum.h `csum_fold`,
//! `csum_ipv6_magic`).
//!
//! UDP and TCP leave header building to the engine; a raw socket hands
//! its packet straight to a device, so it builds the header here.
//!
//! # Locking
//! None: `IP_IDENT` is an atomic.
#![deny(unsafe_code)]

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU16, Ordering};

use smoltcp::wire::{Ipv4Address, Ipv6Address};

use crate::kernel::errno::{Errno, KResult};
use crate::mm::slab_common::{kmemdup, kzalloc};

pub const IPV4_HDR_LEN: usize = 20;
pub const IPV6_HDR_LEN: usize = 40;
/// The IPv4 identification counter (Linux: `ip_select_ident`).
static IP_IDENT: AtomicU16 = AtomicU16::new(1);

/// The Internet checksum of `data` added to `sum` (Linux: `csum_partial`
/// then `csum_fold`).
pub fn csum_fold(mut sum: u32, data: &[u8]) -> u16 {
    for pair in data.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum = sum.wrapping_add(u32::from(word));
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !u16::try_from(sum).unwrap_or(u16::MAX)
}

/// The IPv6 pseudo-header's sum (Linux: `csum_ipv6_magic`).
pub fn ipv6_pseudo_sum(src: &[u8; 16], dst: &[u8; 16], len: u32, proto: u8) -> u32 {
    let mut sum = 0u32;
    for pair in src.chunks(2).chain(dst.chunks(2)) {
        sum = sum.wrapping_add(u32::from(u16::from_be_bytes([pair[0], pair[1]])));
    }
    sum.wrapping_add(len >> 16).wrapping_add(len & 0xffff).wrapping_add(u32::from(proto))
}

/// What an IP header says besides the addresses.
#[derive(Clone, Copy, Debug)]
pub struct IpHeader {
    pub protocol: u8,
    pub ttl: u8,
    /// IPv4's TOS, IPv6's traffic class.
    pub tos: u8,
}

/// Fills an IPv4 header's total length and checksum.
fn ip_finish_v4(mut pkt: Vec<u8>) -> KResult<Vec<u8>> {
    let len = u16::try_from(pkt.len()).map_err(|_| Errno::EMSGSIZE)?;
    pkt[2..4].copy_from_slice(&len.to_be_bytes());
    let ihl = (usize::from(pkt[0] & 0xf) * 4).clamp(IPV4_HDR_LEN, pkt.len());
    pkt[10..12].copy_from_slice(&[0, 0]);
    let sum = csum_fold(0, &pkt[..ihl]);
    pkt[10..12].copy_from_slice(&sum.to_be_bytes());
    Ok(pkt)
}

/// An IPv4 packet of `data` (Linux: `ip_append_data`'s header), with DF
/// set as `IP_PMTUDISC_WANT` sets it on a packet that fits.
pub fn ip_build_v4(
    h: IpHeader,
    src: Ipv4Address,
    dst: Ipv4Address,
    data: &[u8],
) -> KResult<Vec<u8>> {
    let mut pkt = kzalloc(IPV4_HDR_LEN + data.len())?;
    pkt[0] = 0x45;
    pkt[1] = h.tos;
    pkt[4..6].copy_from_slice(&IP_IDENT.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    pkt[6] = 0x40;
    pkt[8] = h.ttl;
    pkt[9] = h.protocol;
    pkt[12..16].copy_from_slice(&src.octets());
    pkt[16..20].copy_from_slice(&dst.octets());
    pkt[IPV4_HDR_LEN..].copy_from_slice(data);
    ip_finish_v4(pkt)
}

/// The user's own IPv4 header completed (Linux: `raw_send_hdrinc`): the
/// source and identification when zero, always the length and checksum;
/// `EINVAL` when shorter than a header.
pub fn ip_hdrinc_v4(src: Ipv4Address, data: &[u8]) -> KResult<Vec<u8>> {
    if data.len() < IPV4_HDR_LEN {
        return Err(Errno::EINVAL);
    }
    let mut pkt = kmemdup(data)?;
    if pkt[12..16] == [0; 4] {
        pkt[12..16].copy_from_slice(&src.octets());
    }
    if pkt[4..6] == [0, 0] {
        pkt[4..6].copy_from_slice(&IP_IDENT.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    }
    ip_finish_v4(pkt)
}

/// An IPv6 packet of `data`, its transport checksum written at
/// `csum_offset` if given (Linux: `ip6_append_data`,
/// `rawv6_push_pending_frames`): `EINVAL` if the offset does not fit.
pub fn ip6_build(
    h: IpHeader,
    src: Ipv6Address,
    dst: Ipv6Address,
    data: &[u8],
    csum_offset: Option<usize>,
) -> KResult<Vec<u8>> {
    let len = u16::try_from(data.len()).map_err(|_| Errno::EMSGSIZE)?;
    let mut pkt = kzalloc(IPV6_HDR_LEN + data.len())?;
    pkt[0] = 0x60 | (h.tos >> 4);
    pkt[1] = h.tos << 4;
    pkt[4..6].copy_from_slice(&len.to_be_bytes());
    pkt[6] = h.protocol;
    pkt[7] = h.ttl;
    pkt[8..24].copy_from_slice(&src.octets());
    pkt[24..40].copy_from_slice(&dst.octets());
    pkt[IPV6_HDR_LEN..].copy_from_slice(data);
    if let Some(off) = csum_offset {
        if off + 2 > data.len() {
            return Err(Errno::EINVAL);
        }
        let at = IPV6_HDR_LEN + off;
        pkt[at..at + 2].copy_from_slice(&[0, 0]);
        let pseudo = ipv6_pseudo_sum(&src.octets(), &dst.octets(), u32::from(len), h.protocol);
        let sum = csum_fold(pseudo, &pkt[IPV6_HDR_LEN..]);
        pkt[at..at + 2].copy_from_slice(&sum.to_be_bytes());
    }
    Ok(pkt)
}

crate::ktest!(ip_output_checksums, {
    // RFC 1071's example words sum to 0xddf2; the checksum is its complement.
    let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    crate::kassert!(csum_fold(0, &data) == !0xddf2, "RFC 1071 example");
    let h = IpHeader { protocol: 58, ttl: 64, tos: 0 };
    let one = Ipv6Address::LOCALHOST;
    let pkt = ip6_build(h, one, one, &[128, 0, 0, 0, 0, 1, 0, 1], Some(2)).map_err(|_| "build")?;
    let pseudo = ipv6_pseudo_sum(&one.octets(), &one.octets(), 8, 58);
    crate::kassert!(csum_fold(pseudo, &pkt[IPV6_HDR_LEN..]) == 0, "the ICMPv6 checksum verifies");
    let lo = Ipv4Address::new(127, 0, 0, 1);
    let v4 = ip_build_v4(IpHeader { protocol: 1, ttl: 7, tos: 0 }, lo, lo, &[8, 0, 0, 0])
        .map_err(|_| "v4")?;
    crate::kassert!(
        v4.len() == 24 && v4[8] == 7 && csum_fold(0, &v4[..20]) == 0,
        "an IPv4 header verifies"
    );
    crate::kassert!(ip_hdrinc_v4(lo, &[0x45; 8]).is_err(), "a short header is EINVAL");
    Ok(())
});

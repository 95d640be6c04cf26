//! The options of raw sockets' own levels (Linux: net/ipv4/raw.c
//! `do_raw_setsockopt` and `raw_seticmpfilter`, net/ipv6/raw.c
//! `do_rawv6_setsockopt` and `rawv6_seticmpfilter`): `ICMP_FILTER` at
//! `SOL_RAW`, `ICMP6_FILTER` at `SOL_ICMPV6`, and `IPV6_CHECKSUM`, which
//! RFC 3542 keeps off the IPv6 level of an ICMPv6 socket.
//!
//! # Locking
//! One `RawSock::inner` (raw.rs), a leaf.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::net as uapi_net;

use super::af_inet::{IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IPV6};
use super::raw::RawSock;
use crate::kernel::errno::{Errno, KResult};

/// Linux: `SOL_RAW` and `SOL_ICMPV6`, the levels of `ICMP_FILTER`,
/// `IPV6_CHECKSUM` and `ICMP6_FILTER`.
const SOL_RAW: u32 = 255;
const SOL_ICMPV6: u32 = 58;
const ICMP_FILTER: u32 = 1;
const ICMPV6_FILTER: u32 = 1;

impl RawSock {
    /// `SOL_RAW`, `SOL_ICMPV6` and the IPv6 `IPV6_CHECKSUM` (Linux:
    /// `raw_setsockopt`, `rawv6_setsockopt`); None for the shared levels.
    pub(super) fn raw_setsockopt(
        &self,
        level: u32,
        optname: u32,
        optval: &[u8],
    ) -> Option<KResult<()>> {
        let mut st = self.inner.lock();
        match (self.v6(), level, optname) {
            (false, SOL_RAW, ICMP_FILTER) => {
                if self.protocol != IPPROTO_ICMP {
                    return Some(Err(Errno::EOPNOTSUPP));
                }
                let mut b = [0u8; 4];
                let n = optval.len().min(4);
                b[..n].copy_from_slice(&optval[..n]);
                st.icmp_filter = u32::from_ne_bytes(b);
                Some(Ok(()))
            }
            (false, SOL_RAW, _) => Some(Err(Errno::ENOPROTOOPT)),
            (true, SOL_ICMPV6, _) => {
                if self.protocol != IPPROTO_ICMPV6 {
                    return Some(Err(Errno::EOPNOTSUPP));
                }
                if optname != ICMPV6_FILTER {
                    return Some(Err(Errno::ENOPROTOOPT));
                }
                for (i, w) in optval.chunks(4).take(8).enumerate() {
                    let mut b = st.icmp6_filter[i].to_ne_bytes();
                    b[..w.len()].copy_from_slice(w);
                    st.icmp6_filter[i] = u32::from_ne_bytes(b);
                }
                Some(Ok(()))
            }
            (true, SOL_RAW | IPPROTO_IPV6, uapi_net::IPV6_CHECKSUM) => {
                let [a, b, c, d, ..] = *optval else { return Some(Err(Errno::EINVAL)) };
                let val = i32::from_ne_bytes([a, b, c, d]);
                // RFC 3542: not at the IPv6 level on an ICMPv6 socket.
                if self.protocol == IPPROTO_ICMPV6 && level == IPPROTO_IPV6
                    || val > 0 && val & 1 != 0
                {
                    return Some(Err(Errno::EINVAL));
                }
                st.checksum = usize::try_from(val).ok();
                Some(Ok(()))
            }
            (true, SOL_RAW, _) => Some(Err(Errno::ENOPROTOOPT)),
            _ => None,
        }
    }

    pub(super) fn raw_getsockopt(
        &self,
        level: u32,
        optname: u32,
        len: usize,
    ) -> Option<KResult<Vec<u8>>> {
        let st = self.inner.lock();
        match (self.v6(), level, optname) {
            (false, SOL_RAW, ICMP_FILTER) if self.protocol == IPPROTO_ICMP => {
                Some(Ok(st.icmp_filter.to_ne_bytes()[..len.min(4)].to_vec()))
            }
            (false, SOL_RAW, ICMP_FILTER) => Some(Err(Errno::EOPNOTSUPP)),
            (false, SOL_RAW, _) => Some(Err(Errno::ENOPROTOOPT)),
            (true, SOL_ICMPV6, ICMPV6_FILTER) if self.protocol == IPPROTO_ICMPV6 => {
                let bytes: Vec<u8> = st.icmp6_filter.iter().flat_map(|w| w.to_ne_bytes()).collect();
                Some(Ok(bytes))
            }
            (true, SOL_ICMPV6, _) => Some(Err(Errno::EOPNOTSUPP)),
            (true, SOL_RAW | IPPROTO_IPV6, uapi_net::IPV6_CHECKSUM) => {
                let val = st.checksum.map_or(-1, |o| i32::try_from(o).unwrap_or(-1));
                Some(Ok(val.to_ne_bytes().to_vec()))
            }
            (true, SOL_RAW, _) => Some(Err(Errno::ENOPROTOOPT)),
            _ => None,
        }
    }
}

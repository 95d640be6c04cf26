//! Creating internet sockets (Linux: net/ipv4/af_inet.c `inet_create`,
//! net/ipv6/af_inet6.c `inet6_create`, the `inetsw` table of types and
//! protocols).
//!
//! # Locking
//! None here.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use linux_raw_sys::general as uapi;
use linux_raw_sys::net as uapi_net;

use crate::fs::file_table::PollMask;
use crate::kernel::errno::{Errno, KResult};
use crate::net::socket::ProtoOps;

/// Linux: `IPPROTO_*` (include/uapi/linux/in.h, in6.h).
pub const IPPROTO_IP: u32 = 0;
pub const IPPROTO_ICMP: u32 = 1;
pub const IPPROTO_TCP: u32 = 6;
pub const IPPROTO_UDP: u32 = 17;
pub const IPPROTO_IPV6: u32 = 41;
pub const IPPROTO_ICMPV6: u32 = 58;
pub const IPPROTO_RAW: u32 = 255;

/// A socket of `family` (AF_INET or AF_INET6), `type_` and `protocol`
/// (Linux: `inet_create`'s walk of `inetsw`): `EPROTONOSUPPORT` for a
/// protocol the type does not carry, `ESOCKTNOSUPPORT` for another type.
pub fn inet_create(family: u32, type_: u32, protocol: i32) -> KResult<Arc<dyn ProtoOps>> {
    let protocol = u32::try_from(protocol).map_err(|_| Errno::EINVAL)?;
    match type_ {
        uapi_net::SOCK_STREAM => match protocol {
            IPPROTO_IP | IPPROTO_TCP => super::tcp::tcp_create(family),
            _ => Err(Errno::EPROTONOSUPPORT),
        },
        uapi_net::SOCK_DGRAM => match protocol {
            IPPROTO_IP | IPPROTO_UDP => super::udp::udp_create(family),
            IPPROTO_ICMP | IPPROTO_ICMPV6 => super::raw::ping_create(family, protocol),
            _ => Err(Errno::EPROTONOSUPPORT),
        },
        uapi_net::SOCK_RAW => super::raw::raw_create(family, protocol),
        _ => Err(Errno::ESOCKTNOSUPPORT),
    }
}

/// A socket's shut-down halves (Linux: `RCV_SHUTDOWN`, `SEND_SHUTDOWN`
/// in `sk_shutdown`).
pub const RCV_SHUTDOWN: u8 = 1;
pub const SEND_SHUTDOWN: u8 = 2;

/// The halves `shutdown(2)`'s `how` shuts (Linux: `inet_shutdown`'s
/// `how++`: `SHUT_RD` 0 → 1, `SHUT_WR` 1 → 2, `SHUT_RDWR` 2 → 3).
pub fn shutdown_bits(how: u32) -> u8 {
    u8::try_from((how + 1) & 3).unwrap_or(RCV_SHUTDOWN | SEND_SHUTDOWN)
}

/// What a datagram socket's error and shut-down halves add to its poll
/// mask (Linux: the first half of `datagram_poll`).
pub fn datagram_poll_state(shutdown: u8, has_err: bool) -> PollMask {
    let mut mask = 0;
    if has_err {
        mask |= uapi::POLLERR;
    }
    if shutdown & RCV_SHUTDOWN != 0 {
        mask |= uapi::POLLRDHUP | uapi::POLLIN | uapi::POLLRDNORM;
    }
    if shutdown == RCV_SHUTDOWN | SEND_SHUTDOWN {
        mask |= uapi::POLLHUP;
    }
    mask
}

/// The flags a datagram receive refuses before it looks at the queue;
/// whether it only peeks (Linux: `udp_recvmsg`, `raw_recvmsg`: no
/// out-of-band data; `MSG_ERRQUEUE` reads the error queue).
pub fn datagram_recv_flags(flags: u32) -> KResult<bool> {
    if flags & uapi_net::MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if flags & uapi_net::MSG_ERRQUEUE != 0 {
        // TODO(issue 7): IP_RECVERR's error queue is not kept.
        return Err(Errno::EAGAIN);
    }
    Ok(flags & uapi_net::MSG_PEEK != 0)
}

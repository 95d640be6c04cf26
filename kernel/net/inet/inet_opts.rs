//! The `IPPROTO_IP` and `IPPROTO_IPV6` socket options every internet
//! socket shares (Linux: net/ipv4/ip_sockglue.c `do_ip_setsockopt`,
//! `do_ip_getsockopt`, `ip_cmsg_recv`; net/ipv6/ipv6_sockglue.c
//! `do_ipv6_setsockopt`, `do_ipv6_getsockopt`, datagram.c
//! `ip6_datagram_recv_ctl`).
//!
//! [`InetOpts`] holds what `struct inet_sock` and `struct ipv6_pinfo`
//! hold: the TTL and hop limits a send uses, the receive-side flags that
//! ask for control messages (`IP_PKTINFO`, `IPV6_RECVHOPLIMIT`...), and
//! the flags a protocol acts on (`IP_HDRINCL`, `IP_RECVERR`,
//! `IPV6_V6ONLY`). Values are checked with Linux's errnos. The multicast
//! options are stored and reported; Ferrite sends no multicast.
//!
//! # Locking
//! `InetOpts::inner` is a leaf spinlock.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::net as uapi_net;

use super::af_inet::{IPPROTO_IP, IPPROTO_IPV6};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::net::sock::SockType;

/// Linux: `net.ipv4.ip_default_ttl` and IPv6's `hop_limit` default.
pub const IPDEFTTL: u8 = 64;

/// Linux: `IP_PMTUDISC_WANT`, the default path-MTU discovery mode.
const IP_PMTUDISC_WANT: u8 = 1;

/// The low byte of a value already checked to fit one.
fn byte(val: i32) -> u8 {
    val.to_le_bytes()[0]
}

/// The options' values (Linux: fields of `inet_sock`, `ipv6_pinfo`).
#[derive(Clone, Copy, Debug)]
pub struct InetOptsInner {
    /// `IP_TTL`, -1 for the default (Linux: `uc_ttl`).
    pub uc_ttl: i32,
    pub tos: u8,
    pub hdrincl: bool,
    pub recverr: bool,
    pub pktinfo: bool,
    pub recvttl: bool,
    pub recvtos: bool,
    pub mc_ttl: u8,
    pub mc_loop: bool,
    /// `IP_MULTICAST_IF`'s interface (Linux: `mc_index`).
    pub mc_index: i32,
    pub pmtudisc: u8,
    /// `IPV6_UNICAST_HOPS`, -1 for the default (Linux: `hop_limit`).
    pub hop_limit: i32,
    pub mcast_hops: i32,
    pub mc6_loop: bool,
    pub v6only: bool,
    pub recvpktinfo6: bool,
    pub rxpktinfo2292: bool,
    pub recvhoplimit: bool,
    pub rxhlim2292: bool,
    pub recverr6: bool,
    pub tclass: u8,
    pub pmtudisc6: u8,
}

/// The options of one socket.
pub struct InetOpts {
    pub inner: SpinLock<InetOptsInner>,
}

/// What the checks need to know about the socket.
pub struct OptCtx {
    pub family: u32,
    pub sk_type: SockType,
    /// Whether it has a local port (Linux: `inet_num`), for `IPV6_V6ONLY`.
    pub bound: bool,
}

impl Default for InetOpts {
    fn default() -> Self {
        Self::new()
    }
}

impl InetOpts {
    pub const fn new() -> Self {
        Self {
            inner: SpinLock::new(InetOptsInner {
                uc_ttl: -1,
                tos: 0,
                hdrincl: false,
                recverr: false,
                pktinfo: false,
                recvttl: false,
                recvtos: false,
                mc_ttl: 1,
                mc_loop: true,
                mc_index: 0,
                pmtudisc: IP_PMTUDISC_WANT,
                hop_limit: -1,
                mcast_hops: 1,
                mc6_loop: true,
                v6only: false,
                recvpktinfo6: false,
                rxpktinfo2292: false,
                recvhoplimit: false,
                rxhlim2292: false,
                recverr6: false,
                tclass: 0,
                pmtudisc6: IP_PMTUDISC_WANT,
            }),
        }
    }

    pub fn get(&self) -> InetOptsInner {
        *self.inner.lock()
    }

    /// The hop limit a unicast datagram to an address of `v6` leaves with.
    pub fn ttl(&self, v6: bool) -> u8 {
        let o = self.inner.lock();
        let v = if v6 { o.hop_limit } else { o.uc_ttl };
        u8::try_from(v).unwrap_or(IPDEFTTL)
    }

    /// Sets an option of `level` (`IPPROTO_IP` or `IPPROTO_IPV6`);
    /// `ENOPROTOOPT` for another level or an unknown option.
    pub fn setsockopt(&self, cx: &OptCtx, level: u32, optname: u32, optval: &[u8]) -> KResult<()> {
        match level {
            IPPROTO_IP => self.ip_setsockopt(cx, optname, optval),
            IPPROTO_IPV6 if cx.family == uapi_net::AF_INET6 => {
                self.ipv6_setsockopt(cx, optname, optval)
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    /// Reads an option: the value's bytes, cut by the caller to `len`.
    pub fn getsockopt(
        &self,
        cx: &OptCtx,
        level: u32,
        optname: u32,
        len: usize,
    ) -> KResult<Vec<u8>> {
        match level {
            IPPROTO_IP => self.ip_getsockopt(cx, optname, len),
            IPPROTO_IPV6 if cx.family == uapi_net::AF_INET6 => self.ipv6_getsockopt(optname),
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    /// Linux: `do_ip_setsockopt`: an int, or a single byte when shorter.
    fn ip_setsockopt(&self, cx: &OptCtx, optname: u32, optval: &[u8]) -> KResult<()> {
        if optname == uapi_net::IP_MULTICAST_IF {
            return self.set_multicast_if(optval);
        }
        let val = match optval {
            [a, b, c, d, ..] => i32::from_ne_bytes([*a, *b, *c, *d]),
            [a] | [a, _] | [a, _, _] => i32::from(*a),
            [] => 0,
        };
        let short = optval.is_empty();
        let mut o = self.inner.lock();
        match optname {
            uapi_net::IP_TTL => {
                if short || val != -1 && !(1..=255).contains(&val) {
                    return Err(Errno::EINVAL);
                }
                o.uc_ttl = val;
            }
            uapi_net::IP_TOS => o.tos = byte(val),
            uapi_net::IP_HDRINCL => {
                if cx.sk_type != SockType::Raw {
                    return Err(Errno::ENOPROTOOPT);
                }
                o.hdrincl = val != 0;
            }
            uapi_net::IP_RECVERR => o.recverr = val != 0,
            uapi_net::IP_PKTINFO => o.pktinfo = val != 0,
            uapi_net::IP_RECVTTL => o.recvttl = val != 0,
            uapi_net::IP_RECVTOS => o.recvtos = val != 0,
            uapi_net::IP_MULTICAST_TTL => {
                let val = if val == -1 { 1 } else { val };
                if cx.sk_type == SockType::Stream || short || !(0..=255).contains(&val) {
                    return Err(Errno::EINVAL);
                }
                o.mc_ttl = byte(val);
            }
            uapi_net::IP_MULTICAST_LOOP => {
                if short {
                    return Err(Errno::EINVAL);
                }
                o.mc_loop = val != 0;
            }
            uapi_net::IP_MTU_DISCOVER => {
                if !(0..=5).contains(&val) {
                    return Err(Errno::EINVAL);
                }
                o.pmtudisc = byte(val);
            }
            _ => return Err(Errno::ENOPROTOOPT),
        }
        Ok(())
    }

    /// `IP_MULTICAST_IF`: a `struct in_addr`, `ip_mreq` or `ip_mreqn`
    /// (whose third field is the interface index).
    fn set_multicast_if(&self, optval: &[u8]) -> KResult<()> {
        if optval.len() < 4 {
            return Err(Errno::EINVAL);
        }
        let index = match optval.get(8..12) {
            Some(&[a, b, c, d]) => i32::from_ne_bytes([a, b, c, d]),
            _ => 0,
        };
        self.inner.lock().mc_index = index;
        Ok(())
    }

    /// Linux: `do_ip_getsockopt`: a byte if the caller asks for less than
    /// an int and the value fits, else an int.
    fn ip_getsockopt(&self, _cx: &OptCtx, optname: u32, len: usize) -> KResult<Vec<u8>> {
        let o = self.get();
        let val: i32 = match optname {
            uapi_net::IP_TTL => i32::from(u8::try_from(o.uc_ttl).unwrap_or(IPDEFTTL)),
            uapi_net::IP_TOS => i32::from(o.tos),
            uapi_net::IP_HDRINCL => i32::from(o.hdrincl),
            uapi_net::IP_RECVERR => i32::from(o.recverr),
            uapi_net::IP_PKTINFO => i32::from(o.pktinfo),
            uapi_net::IP_RECVTTL => i32::from(o.recvttl),
            uapi_net::IP_RECVTOS => i32::from(o.recvtos),
            uapi_net::IP_MULTICAST_TTL => i32::from(o.mc_ttl),
            uapi_net::IP_MULTICAST_LOOP => i32::from(o.mc_loop),
            uapi_net::IP_MTU_DISCOVER => i32::from(o.pmtudisc),
            uapi_net::IP_MULTICAST_IF => 0,
            _ => return Err(Errno::ENOPROTOOPT),
        };
        if len < 4 && len > 0 && (0..=255).contains(&val) {
            return Ok(alloc::vec![byte(val)]);
        }
        Ok(val.to_ne_bytes().to_vec())
    }

    /// Linux: `do_ipv6_setsockopt`: an int (zero when shorter), and
    /// `EINVAL` where the option needs a whole one.
    fn ipv6_setsockopt(&self, cx: &OptCtx, optname: u32, optval: &[u8]) -> KResult<()> {
        let full = optval.len() >= 4;
        let val = match optval {
            [a, b, c, d, ..] => i32::from_ne_bytes([*a, *b, *c, *d]),
            _ => 0,
        };
        let need_int = || if full { Ok(()) } else { Err(Errno::EINVAL) };
        let mut o = self.inner.lock();
        match optname {
            uapi_net::IPV6_V6ONLY => {
                need_int()?;
                if cx.bound {
                    return Err(Errno::EINVAL);
                }
                o.v6only = val != 0;
            }
            uapi_net::IPV6_RECVPKTINFO
            | uapi_net::IPV6_2292PKTINFO
            | uapi_net::IPV6_RECVHOPLIMIT
            | uapi_net::IPV6_2292HOPLIMIT
            | uapi_net::IPV6_RECVERR => {
                need_int()?;
                let flag = match optname {
                    uapi_net::IPV6_RECVPKTINFO => &mut o.recvpktinfo6,
                    uapi_net::IPV6_2292PKTINFO => &mut o.rxpktinfo2292,
                    uapi_net::IPV6_RECVHOPLIMIT => &mut o.recvhoplimit,
                    uapi_net::IPV6_2292HOPLIMIT => &mut o.rxhlim2292,
                    _ => &mut o.recverr6,
                };
                *flag = val != 0;
            }
            uapi_net::IPV6_UNICAST_HOPS => {
                need_int()?;
                if !(-1..=255).contains(&val) {
                    return Err(Errno::EINVAL);
                }
                o.hop_limit = val;
            }
            uapi_net::IPV6_MULTICAST_HOPS => {
                if cx.sk_type == SockType::Stream {
                    return Err(Errno::ENOPROTOOPT);
                }
                need_int()?;
                if !(-1..=255).contains(&val) {
                    return Err(Errno::EINVAL);
                }
                o.mcast_hops = if val == -1 { 1 } else { val };
            }
            uapi_net::IPV6_MULTICAST_LOOP => {
                need_int()?;
                if val != 0 && val != 1 {
                    return Err(Errno::EINVAL);
                }
                o.mc6_loop = val != 0;
            }
            uapi_net::IPV6_TCLASS => {
                need_int()?;
                if !(-1..=0xff).contains(&val) {
                    return Err(Errno::EINVAL);
                }
                o.tclass = byte(val.max(0));
            }
            uapi_net::IPV6_MTU_DISCOVER => {
                if !(0..=5).contains(&val) {
                    return Err(Errno::EINVAL);
                }
                o.pmtudisc6 = byte(val);
            }
            _ => return Err(Errno::ENOPROTOOPT),
        }
        Ok(())
    }

    /// Linux: `do_ipv6_getsockopt`: an int.
    fn ipv6_getsockopt(&self, optname: u32) -> KResult<Vec<u8>> {
        let o = self.get();
        let val: i32 = match optname {
            uapi_net::IPV6_V6ONLY => i32::from(o.v6only),
            uapi_net::IPV6_RECVPKTINFO => i32::from(o.recvpktinfo6),
            uapi_net::IPV6_2292PKTINFO => i32::from(o.rxpktinfo2292),
            uapi_net::IPV6_RECVHOPLIMIT => i32::from(o.recvhoplimit),
            uapi_net::IPV6_2292HOPLIMIT => i32::from(o.rxhlim2292),
            uapi_net::IPV6_RECVERR => i32::from(o.recverr6),
            uapi_net::IPV6_UNICAST_HOPS => i32::from(u8::try_from(o.hop_limit).unwrap_or(IPDEFTTL)),
            uapi_net::IPV6_MULTICAST_HOPS => o.mcast_hops,
            uapi_net::IPV6_MULTICAST_LOOP => i32::from(o.mc6_loop),
            uapi_net::IPV6_TCLASS => i32::from(o.tclass),
            uapi_net::IPV6_MTU_DISCOVER => i32::from(o.pmtudisc6),
            _ => return Err(Errno::ENOPROTOOPT),
        };
        Ok(val.to_ne_bytes().to_vec())
    }

    /// The control messages a datagram's receiver asked for (Linux:
    /// `ip_cmsg_recv` and `ip6_datagram_recv_ctl`).
    pub fn recv_cmsgs(&self, family: u32, info: &RecvInfo) -> Vec<(u32, u32, Vec<u8>)> {
        let o = self.get();
        let mut out = Vec::new();
        match info.dst {
            smoltcp::wire::IpAddress::Ipv4(dst) => {
                if o.pktinfo {
                    // struct in_pktinfo { int ifindex; in_addr spec_dst, addr; }
                    let mut b = Vec::with_capacity(12);
                    b.extend_from_slice(&info.ifindex.to_ne_bytes());
                    b.extend_from_slice(&dst.octets());
                    b.extend_from_slice(&dst.octets());
                    out.push((IPPROTO_IP, uapi_net::IP_PKTINFO, b));
                }
                if o.recvttl
                    && let Some(ttl) = info.ttl
                {
                    out.push((IPPROTO_IP, uapi_net::IP_TTL, i32::from(ttl).to_ne_bytes().to_vec()));
                }
                if o.recvtos
                    && let Some(tos) = info.tos
                {
                    out.push((IPPROTO_IP, uapi_net::IP_TOS, alloc::vec![tos]));
                }
                if family == uapi_net::AF_INET6 && (o.recvpktinfo6 || o.rxpktinfo2292) {
                    let mut mapped = [0u8; 16];
                    mapped[10..12].copy_from_slice(&[0xff, 0xff]);
                    mapped[12..].copy_from_slice(&dst.octets());
                    push_pktinfo6(&mut out, &o, &mapped, info.ifindex);
                }
            }
            smoltcp::wire::IpAddress::Ipv6(dst) => {
                push_pktinfo6(&mut out, &o, &dst.octets(), info.ifindex);
                let Some(ttl) = info.ttl else { return out };
                let hlim = i32::from(ttl).to_ne_bytes().to_vec();
                if o.recvhoplimit {
                    out.push((IPPROTO_IPV6, uapi_net::IPV6_HOPLIMIT, hlim.clone()));
                }
                if o.rxhlim2292 {
                    out.push((IPPROTO_IPV6, uapi_net::IPV6_2292HOPLIMIT, hlim));
                }
            }
        }
        out
    }
}

/// Where and how a datagram arrived, for [`InetOpts::recv_cmsgs`]: the
/// hop limit and TOS when known (the engine does not tell UDP; those
/// control messages are then left out).
#[derive(Clone, Copy, Debug)]
pub struct RecvInfo {
    pub dst: smoltcp::wire::IpAddress,
    pub ttl: Option<u8>,
    pub tos: Option<u8>,
    pub ifindex: u32,
}

/// `struct in6_pktinfo { in6_addr addr; int ifindex; }` under the type
/// the receiver asked for.
fn push_pktinfo6(
    out: &mut Vec<(u32, u32, Vec<u8>)>,
    o: &InetOptsInner,
    addr: &[u8; 16],
    ifindex: u32,
) {
    let mut b = Vec::with_capacity(20);
    b.extend_from_slice(addr);
    b.extend_from_slice(&ifindex.to_ne_bytes());
    if o.recvpktinfo6 {
        out.push((IPPROTO_IPV6, uapi_net::IPV6_PKTINFO, b.clone()));
    }
    if o.rxpktinfo2292 {
        out.push((IPPROTO_IPV6, uapi_net::IPV6_2292PKTINFO, b));
    }
}

crate::ktest!(inet_opts_checks, {
    let opts = InetOpts::new();
    let cx = OptCtx { family: uapi_net::AF_INET, sk_type: SockType::Dgram, bound: false };
    let set = |name, v: i32| opts.setsockopt(&cx, IPPROTO_IP, name, &v.to_ne_bytes());
    crate::kassert!(set(uapi_net::IP_TTL, 0) == Err(Errno::EINVAL), "IP_TTL 0 is EINVAL");
    crate::kassert!(set(uapi_net::IP_TTL, 7).is_ok() && opts.ttl(false) == 7, "IP_TTL 7 applies");
    crate::kassert!(set(uapi_net::IP_TTL, -1).is_ok() && opts.ttl(false) == IPDEFTTL, "-1 resets");
    crate::kassert!(set(uapi_net::IP_HDRINCL, 1) == Err(Errno::ENOPROTOOPT), "HDRINCL is raw only");
    let byte = opts.getsockopt(&cx, IPPROTO_IP, uapi_net::IP_TTL, 1).map_err(|_| "get")?;
    crate::kassert!(byte == [IPDEFTTL], "a one-byte read gets a byte");
    crate::kassert!(
        opts.setsockopt(&cx, IPPROTO_IPV6, uapi_net::IPV6_V6ONLY, &1i32.to_ne_bytes())
            == Err(Errno::ENOPROTOOPT),
        "IPv6 options on an IPv4 socket"
    );
    Ok(())
});

//! TCP's socket options and ioctls (Linux: net/ipv4/tcp.c
//! `do_tcp_setsockopt`, `do_tcp_getsockopt`, `tcp_get_info`, `tcp_ioctl`).
//!
//! `IPPROTO_TCP` options are kept here and handed to smoltcp where it has
//! the knob (Nagle, keep-alive); the others are accepted and reported
//! back as Linux validates them. `IPPROTO_IP`/`IPPROTO_IPV6` options go
//! to the `InetOpts` every internet socket shares (inet_opts.rs).
//!
//! # Locking
//! The TCP options live in the socket's `inner` (tcp.rs); `InetOpts`
//! has its own leaf lock, taken without `inner`.
#![deny(unsafe_code)]

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use linux_raw_sys::net as uapi_net;
use smoltcp::socket::tcp::{self, State};
use smoltcp::time::Duration;

use super::af_inet::IPPROTO_TCP;
use super::inet_opts::OptCtx;
use super::stack::with_stack;
use super::tcp::{SsState, TcpSock};
use crate::arch::uaccess::{UserAddr, copy_to_user};
use crate::kernel::errno::{Errno, KResult};
use crate::net::sock::SockType;

/// Linux: `TCP_MIN_MSS`, `MAX_TCP_WINDOW`, `MAX_TCP_KEEPIDLE`,
/// `MAX_TCP_KEEPINTVL`, `MAX_TCP_KEEPCNT`.
const TCP_MIN_MSS: i32 = 88;
const MAX_TCP_WINDOW: i32 = 32767;
const MAX_TCP_KEEPIDLE: i32 = 32767;
const MAX_TCP_KEEPINTVL: i32 = 32767;
const MAX_TCP_KEEPCNT: i32 = 127;
/// `sizeof(struct tcp_info)` in Linux 6.1.
const TCP_INFO_LEN: usize = 232;
/// Linux: `SIOCOUTQNSD`.
const SIOCOUTQNSD: u32 = 0x894B;

/// A stream socket's protocol options (Linux: fields of `tcp_sock`,
/// `inet_sock`, `ipv6_pinfo`).
#[derive(Clone, Debug)]
pub(super) struct TcpOpts {
    pub nodelay: bool,
    pub cork: bool,
    /// `TCP_MAXSEG` as set, 0 for none (Linux: `user_mss`).
    pub user_mss: i32,
    /// Keep-alive idle time, interval (seconds) and probes (Linux:
    /// `keepalive_time`, `keepalive_intvl`, `keepalive_probes`).
    pub keepidle: i32,
    pub keepintvl: i32,
    pub keepcnt: i32,
    pub syncnt: i32,
    pub linger2: i32,
    pub defer_accept: i32,
    pub window_clamp: i32,
    pub user_timeout: i32,
    pub quickack: bool,
}

impl Default for TcpOpts {
    /// Linux's defaults: `tcp_keepalive_time` 7200 s, `_intvl` 75 s,
    /// `_probes` 9.
    fn default() -> Self {
        Self {
            nodelay: false,
            cork: false,
            user_mss: 0,
            keepidle: 7200,
            keepintvl: 75,
            keepcnt: 9,
            syncnt: 0,
            linger2: 0,
            defer_accept: 0,
            window_clamp: 0,
            user_timeout: 0,
            quickack: true,
        }
    }
}

impl TcpOpts {
    /// Hands smoltcp what it can act on.
    pub fn apply(&self, t: &mut tcp::Socket<'static>, keepalive: bool) {
        t.set_nagle_enabled(!self.nodelay);
        let idle = u64::try_from(self.keepidle).unwrap_or(7200);
        t.set_keep_alive(keepalive.then(|| Duration::from_secs(idle)));
    }
}

fn int_val(optval: &[u8]) -> KResult<i32> {
    let b: [u8; 4] = optval.get(..4).and_then(|b| b.try_into().ok()).ok_or(Errno::EINVAL)?;
    Ok(i32::from_ne_bytes(b))
}

fn int_out(v: i32) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

/// Linux's `TCP_*` state numbers (include/net/tcp_states.h).
pub(super) fn tcp_state_num(state: State) -> u8 {
    match state {
        State::Established => 1,
        State::SynSent => 2,
        State::SynReceived => 3,
        State::FinWait1 => 4,
        State::FinWait2 => 5,
        State::TimeWait => 6,
        State::Closed => 7,
        State::CloseWait => 8,
        State::LastAck => 9,
        State::Listen => 10,
        State::Closing => 11,
    }
}

impl TcpSock {
    /// Linux: `tcp_setsockopt` → `do_tcp_setsockopt`, and the
    /// `IPPROTO_IP`/`IPPROTO_IPV6` options a stream socket uses.
    pub(super) fn tcp_setsockopt(&self, level: u32, optname: u32, optval: &[u8]) -> KResult<()> {
        if level != IPPROTO_TCP {
            return self.ip_opts.setsockopt(&self.opt_ctx(), level, optname, optval);
        }
        let val = int_val(optval)?;
        let mut st = self.inner.lock();
        let o = &mut st.opts;
        let in_range =
            |lo: i32, hi: i32| if (lo..=hi).contains(&val) { Ok(val) } else { Err(Errno::EINVAL) };
        match (level, optname) {
            (IPPROTO_TCP, uapi_net::TCP_NODELAY) => o.nodelay = val != 0,
            (IPPROTO_TCP, uapi_net::TCP_CORK) => o.cork = val != 0,
            (IPPROTO_TCP, uapi_net::TCP_MAXSEG) => {
                if val != 0 && !(TCP_MIN_MSS..=MAX_TCP_WINDOW).contains(&val) {
                    return Err(Errno::EINVAL);
                }
                o.user_mss = val;
            }
            (IPPROTO_TCP, uapi_net::TCP_KEEPIDLE) => o.keepidle = in_range(1, MAX_TCP_KEEPIDLE)?,
            (IPPROTO_TCP, uapi_net::TCP_KEEPINTVL) => o.keepintvl = in_range(1, MAX_TCP_KEEPINTVL)?,
            (IPPROTO_TCP, uapi_net::TCP_KEEPCNT) => o.keepcnt = in_range(1, MAX_TCP_KEEPCNT)?,
            (IPPROTO_TCP, uapi_net::TCP_SYNCNT) => o.syncnt = in_range(1, 127)?,
            (IPPROTO_TCP, uapi_net::TCP_LINGER2) => o.linger2 = val,
            (IPPROTO_TCP, uapi_net::TCP_DEFER_ACCEPT) => o.defer_accept = val.max(0),
            (IPPROTO_TCP, uapi_net::TCP_WINDOW_CLAMP) => o.window_clamp = val.max(0),
            (IPPROTO_TCP, uapi_net::TCP_QUICKACK) => o.quickack = val != 0,
            (IPPROTO_TCP, uapi_net::TCP_USER_TIMEOUT) => o.user_timeout = in_range(0, i32::MAX)?,
            _ => return Err(Errno::ENOPROTOOPT),
        }
        let (opts, h) = (st.opts.clone(), st.handle);
        drop(st);
        if let Some(h) = h {
            let keepalive = self.sk.keepalive.load(Ordering::Relaxed);
            let _ = with_stack(|s| {
                s.socket_mut::<tcp::Socket<'static>>(h).map(|t| opts.apply(t, keepalive))
            });
        }
        Ok(())
    }

    /// Linux: `do_tcp_getsockopt`.
    pub(super) fn tcp_getsockopt(&self, level: u32, optname: u32, len: usize) -> KResult<Vec<u8>> {
        if level != IPPROTO_TCP {
            return self.ip_opts.getsockopt(&self.opt_ctx(), level, optname, len);
        }
        let mut st = self.inner.lock();
        let state = self.tcp_state(&mut st);
        let o = &st.opts;
        let connected =
            state.is_some_and(|s| !matches!(s, State::Closed | State::Listen | State::SynSent));
        Ok(match (level, optname) {
            (IPPROTO_TCP, uapi_net::TCP_NODELAY) => int_out(i32::from(o.nodelay)),
            (IPPROTO_TCP, uapi_net::TCP_CORK) => int_out(i32::from(o.cork)),
            (IPPROTO_TCP, uapi_net::TCP_MAXSEG) => int_out(if connected {
                self.mss(o.user_mss)
            } else if o.user_mss != 0 {
                o.user_mss
            } else {
                uapi_net::TCP_MSS_DEFAULT as i32
            }),
            (IPPROTO_TCP, uapi_net::TCP_KEEPIDLE) => int_out(o.keepidle),
            (IPPROTO_TCP, uapi_net::TCP_KEEPINTVL) => int_out(o.keepintvl),
            (IPPROTO_TCP, uapi_net::TCP_KEEPCNT) => int_out(o.keepcnt),
            (IPPROTO_TCP, uapi_net::TCP_SYNCNT) => {
                int_out(if o.syncnt == 0 { 6 } else { o.syncnt })
            }
            (IPPROTO_TCP, uapi_net::TCP_LINGER2) => {
                int_out(if o.linger2 == 0 { 60 } else { o.linger2 })
            }
            (IPPROTO_TCP, uapi_net::TCP_DEFER_ACCEPT) => int_out(o.defer_accept),
            (IPPROTO_TCP, uapi_net::TCP_WINDOW_CLAMP) => int_out(o.window_clamp),
            (IPPROTO_TCP, uapi_net::TCP_QUICKACK) => int_out(i32::from(o.quickack)),
            (IPPROTO_TCP, uapi_net::TCP_USER_TIMEOUT) => int_out(o.user_timeout),
            (IPPROTO_TCP, uapi_net::TCP_INFO) => {
                let state = if st.ss == SsState::Listening { Some(State::Listen) } else { state };
                let mss = self.mss(o.user_mss);
                let mut info = tcp_info(state.unwrap_or(State::Closed), mss);
                info.truncate(len.min(TCP_INFO_LEN));
                info
            }
            _ => return Err(Errno::ENOPROTOOPT),
        })
    }

    /// What the shared IP options check against.
    fn opt_ctx(&self) -> OptCtx {
        let bound = self.inner.lock().port.is_some();
        OptCtx { family: self.family, sk_type: SockType::Stream, bound }
    }

    /// The segment size on `lo` (Linux: the MTU less IP and TCP headers
    /// and the timestamp option), or the user's if smaller.
    fn mss(&self, user_mss: i32) -> i32 {
        let hdr = if self.is_v6() { 40 + 20 + 12 } else { 20 + 20 + 12 };
        let mtu = crate::net::core::dev::dev_get_by_name("lo").map_or(65536, |d| d.mtu());
        let mss = i32::try_from(mtu).unwrap_or(65536) - hdr;
        if user_mss != 0 { mss.min(user_mss) } else { mss }
    }

    /// Linux: `tcp_ioctl`: `SIOCINQ` (`FIONREAD`), `SIOCOUTQ`
    /// (`TIOCOUTQ`), `SIOCOUTQNSD`; the rest go to the device layer.
    pub(super) fn tcp_ioctl(&self, cmd: u32, arg: u64) -> Option<KResult<i64>> {
        let n = match cmd {
            linux_raw_sys::ioctl::FIONREAD => self.tcp_inq(),
            linux_raw_sys::ioctl::TIOCOUTQ | SIOCOUTQNSD => self.tcp_outq(),
            _ => return None,
        };
        Some(n.and_then(|n| {
            let n = i32::try_from(n).unwrap_or(i32::MAX);
            copy_to_user(UserAddr::new(arg), &n.to_ne_bytes()).map_err(|_| Errno::EFAULT)?;
            Ok(0)
        }))
    }
}

/// A `struct tcp_info` with what smoltcp can tell: the state and segment
/// sizes; Linux's defaults for the timers and window.
fn tcp_info(state: State, mss: i32) -> Vec<u8> {
    let mut b = alloc::vec![0u8; TCP_INFO_LEN];
    b[0] = tcp_state_num(state);
    let mut put = |off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    let mss = u32::try_from(mss).unwrap_or(536);
    put(8, 200_000); // tcpi_rto, µs (Linux: TCP_RTO_MIN on loopback)
    put(16, mss); // tcpi_snd_mss
    put(20, mss); // tcpi_rcv_mss
    put(60, 65536); // tcpi_pmtu
    put(80, 10); // tcpi_snd_cwnd (Linux: TCP_INIT_CWND)
    put(84, mss); // tcpi_advmss
    b
}

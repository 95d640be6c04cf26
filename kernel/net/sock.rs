//! The protocol-independent part of a socket and its `SOL_SOCKET`
//! options (Linux: net/core/sock.c `struct sock`, `sock_setsockopt`,
//! `sock_getsockopt`; include/net/sock.h).
//!
//! [`Sock`] holds what every family shares: type, buffer sizes, the
//! pending error, the flags `setsockopt` sets, the peer's credentials and
//! the wait queue sleepers, `poll` and epoll hang on.
//!
//! # Locking
//! The fields are atomics; `peer_cred` is a leaf spinlock.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use linux_raw_sys::net as uapi_net;

use super::socket::{Socket, sockfd_lookup};
use crate::arch::uaccess::{UserAddr, copy_from_user, copy_to_user};
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::current;
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::syscall::args::{Fd, UserPtr};
use linux_raw_sys::general::{CAP_NET_ADMIN, CAP_NET_RAW};

/// Default send and receive buffer (Linux: `SK_WMEM_MAX`, 212992 bytes,
/// the value of `net.core.wmem_default` and `wmem_max`).
pub const SK_BUF_DEFAULT: u32 = 212_992;
/// Linux: `SOCK_MIN_SNDBUF` and `SOCK_MIN_RCVBUF` on x86_64.
const SOCK_MIN_SNDBUF: u32 = 4608;
const SOCK_MIN_RCVBUF: u32 = 2304;

/// A socket's type (Linux: `enum sock_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockType {
    Stream,
    Dgram,
    SeqPacket,
    Raw,
}

impl SockType {
    pub const fn raw(self) -> u32 {
        match self {
            Self::Stream => uapi_net::SOCK_STREAM,
            Self::Dgram => uapi_net::SOCK_DGRAM,
            Self::SeqPacket => uapi_net::SOCK_SEQPACKET,
            Self::Raw => uapi_net::SOCK_RAW,
        }
    }

    /// Connection-oriented types (Linux: stream and seqpacket paths).
    pub const fn is_connected_type(self) -> bool {
        !matches!(self, Self::Dgram | Self::Raw)
    }
}

/// Credentials carried by a message or remembered from a peer (Linux:
/// `struct ucred`, with `sk_peer_pid`/`scm->pid` as the process).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ucred {
    /// The process, by its number in the initial PID namespace; shown to
    /// a reader as its own namespace numbers it (`to_bytes`).
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

impl Ucred {
    /// The calling process's (Linux: `scm_set_cred` from `current`).
    pub fn current() -> Self {
        let task = current();
        let cred = task.cred();
        Self { pid: task.tgid, uid: cred.uid, gid: cred.gid }
    }

    /// What `SO_PEERCRED` says with no peer: pid 0, the overflow ids.
    const NONE: Self = Self { pid: 0, uid: 65534, gid: 65534 };

    /// `struct ucred` as the calling task sees it: the pid translated into
    /// its PID namespace, 0 if the process is outside it (Linux:
    /// `cred_to_ucred`'s and `scm_set_cred`'s `pid_vnr`).
    pub fn to_bytes(self) -> [u8; 12] {
        let mut b = [0; 12];
        let pid = crate::kernel::pid::nr_to_vnr(self.pid);
        b[..4].copy_from_slice(&pid.to_ne_bytes());
        b[4..8].copy_from_slice(&self.uid.to_ne_bytes());
        b[8..].copy_from_slice(&self.gid.to_ne_bytes());
        b
    }
}

/// The family-independent socket state (Linux: `struct sock`).
pub struct Sock {
    pub sk_type: SockType,
    pub sk_sndbuf: AtomicU32,
    pub sk_rcvbuf: AtomicU32,
    /// The pending asynchronous error, read once (Linux: `sk_err`).
    sk_err: AtomicU32,
    /// `SO_PASSCRED` (Linux: `SOCK_PASSCRED` in `sock->flags`).
    pub passcred: AtomicBool,
    /// `SO_REUSEADDR`: accepted and remembered, meaningless for AF_UNIX.
    reuse: AtomicBool,
    /// `SO_KEEPALIVE`, `SO_BROADCAST`, `SO_OOBINLINE`, `SO_DONTROUTE`,
    /// `SO_REUSEPORT` (Linux: `sk_flags` bits and `sk_reuseport`): kept
    /// for the families to act on.
    pub keepalive: AtomicBool,
    pub broadcast: AtomicBool,
    pub oobinline: AtomicBool,
    pub dontroute: AtomicBool,
    pub reuseport: AtomicBool,
    /// `SO_PRIORITY` (Linux: `sk_priority`).
    pub priority: AtomicU32,
    /// `SO_BINDTODEVICE`: the interface index, 0 for none (Linux:
    /// `sk_bound_dev_if`).
    pub bound_dev_if: AtomicU32,
    /// `SO_LINGER`: on, and the time in seconds (Linux: `SOCK_LINGER`,
    /// `sk_lingertime`).
    pub linger: SpinLock<Option<u32>>,
    /// `SO_RCVTIMEO`/`SO_SNDTIMEO` in nanoseconds, 0 for none (Linux:
    /// `sk_rcvtimeo`, `sk_sndtimeo`), for the families' sleeps.
    pub rcvtimeo_ns: AtomicU64,
    pub sndtimeo_ns: AtomicU64,
    /// The socket file's inode number, 0 before it has one (Linux:
    /// `sock_i_ino`, what /proc/net/tcp and `netstat -p` show).
    pub ino: AtomicU64,
    /// Linux: `sk_peer_pid`, `sk_peer_cred`.
    pub peer_cred: SpinLock<Option<Ucred>>,
    /// `SO_ATTACH_FILTER`'s program, for the family to run on receive
    /// (Linux: `sk_filter`); a leaf lock.
    pub filter: SpinLock<Option<crate::net::core::filter::SkFilter>>,
    /// Readers, writers, connectors, acceptors, poll and epoll (Linux:
    /// `sk_wq`).
    pub wq: WaitQueue,
}

impl Sock {
    pub fn new(sk_type: SockType) -> Self {
        Self {
            sk_type,
            sk_sndbuf: AtomicU32::new(SK_BUF_DEFAULT),
            sk_rcvbuf: AtomicU32::new(SK_BUF_DEFAULT),
            sk_err: AtomicU32::new(0),
            passcred: AtomicBool::new(false),
            reuse: AtomicBool::new(false),
            keepalive: AtomicBool::new(false),
            broadcast: AtomicBool::new(false),
            oobinline: AtomicBool::new(false),
            dontroute: AtomicBool::new(false),
            reuseport: AtomicBool::new(false),
            priority: AtomicU32::new(0),
            bound_dev_if: AtomicU32::new(0),
            linger: SpinLock::new(None),
            rcvtimeo_ns: AtomicU64::new(0),
            sndtimeo_ns: AtomicU64::new(0),
            ino: AtomicU64::new(0),
            peer_cred: SpinLock::new(None),
            filter: SpinLock::new(None),
            wq: WaitQueue::new(),
        }
    }

    pub fn sndbuf(&self) -> usize {
        self.sk_sndbuf.load(Ordering::Relaxed) as usize
    }

    /// Records an asynchronous error for the next call (Linux: `sk_err`).
    pub fn set_err(&self, e: Errno) {
        self.sk_err.store(e as u32, Ordering::Release);
    }

    /// Takes the pending error (Linux: `sock_error`).
    pub fn sock_error(&self) -> Option<Errno> {
        match self.sk_err.swap(0, Ordering::AcqRel) {
            0 => None,
            e => Some(Errno::from_raw(e).unwrap_or(Errno::EPIPE)),
        }
    }

    pub fn has_err(&self) -> bool {
        self.sk_err.load(Ordering::Acquire) != 0
    }

    /// Whether `SO_REUSEADDR` is set (Linux: `sk_reuse`).
    pub fn reuse(&self) -> bool {
        self.reuse.load(Ordering::Relaxed)
    }
}

/// The most option bytes a call copies in (an `ip_mreq_source` or a
/// socket filter header fit).
const SOCKOPT_MAX: usize = 256;
/// Linux: `IFNAMSIZ`.
const IFNAMSIZ: usize = crate::net::core::dev::IFNAMSIZ;

/// An `int` option value (Linux: `sockptr` + `copy_from_sockptr`):
/// `EINVAL` when shorter than an int.
fn opt_int(optval: UserAddr, optlen: i32) -> KResult<i32> {
    if optlen < 4 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0; 4];
    copy_from_user(&mut b, optval).map_err(|_| Errno::EFAULT)?;
    Ok(i32::from_ne_bytes(b))
}

/// A buffer size as Linux stores it: doubled for the kernel's overhead,
/// capped at the maximum, at least the minimum (Linux: `__sock_set_sndbuf`).
fn buf_size(val: i32, min: u32) -> u32 {
    let val = u32::try_from(val.max(0)).unwrap_or(0).min(SK_BUF_DEFAULT);
    (val * 2).max(min)
}

/// `SOL_SOCKET` options (Linux: `sock_setsockopt`).
fn sock_setsockopt(sock: &Socket, optname: u32, optval: UserAddr, optlen: i32) -> KResult<()> {
    let sk = sock.ops.sk();
    match optname {
        uapi_net::SO_BINDTODEVICE => return sock_bindtodevice(sk, optval, optlen),
        uapi_net::SO_LINGER => return sock_set_linger(sk, optval, optlen),
        uapi_net::SO_RCVTIMEO_OLD | uapi_net::SO_SNDTIMEO_OLD => {
            let ns = sock_set_timeout(optval, optlen)?;
            let slot = if optname == uapi_net::SO_RCVTIMEO_OLD {
                &sk.rcvtimeo_ns
            } else {
                &sk.sndtimeo_ns
            };
            slot.store(ns, Ordering::Relaxed);
            return Ok(());
        }
        _ => {}
    }
    let val = opt_int(optval, optlen)?;
    let flag = |b: &AtomicBool| b.store(val != 0, Ordering::Relaxed);
    match optname {
        uapi_net::SO_ATTACH_FILTER => {
            return crate::net::core::filter::sk_attach_filter(sk, optval, optlen);
        }
        uapi_net::SO_DETACH_FILTER => return crate::net::core::filter::sk_detach_filter(sk),
        uapi_net::SO_REUSEADDR => flag(&sk.reuse),
        uapi_net::SO_PASSCRED => flag(&sk.passcred),
        uapi_net::SO_KEEPALIVE => flag(&sk.keepalive),
        uapi_net::SO_BROADCAST => flag(&sk.broadcast),
        uapi_net::SO_OOBINLINE => flag(&sk.oobinline),
        uapi_net::SO_DONTROUTE => flag(&sk.dontroute),
        uapi_net::SO_REUSEPORT => flag(&sk.reuseport),
        uapi_net::SO_PRIORITY => {
            // Linux: 0-6 for anyone, more with CAP_NET_ADMIN.
            if !(0..=6).contains(&val) && !capable(CAP_NET_ADMIN) {
                return Err(Errno::EPERM);
            }
            sk.priority.store(val as u32, Ordering::Relaxed)
        }
        uapi_net::SO_SNDBUF => {
            sk.sk_sndbuf.store(buf_size(val, SOCK_MIN_SNDBUF), Ordering::Relaxed)
        }
        uapi_net::SO_RCVBUF => {
            sk.sk_rcvbuf.store(buf_size(val, SOCK_MIN_RCVBUF), Ordering::Relaxed)
        }
        _ => return Err(Errno::ENOPROTOOPT),
    }
    Ok(())
}

/// `SO_BINDTODEVICE` (Linux: `sock_setbindtodevice`): a name, empty for
/// none; `ENODEV` for no such interface.
fn sock_bindtodevice(sk: &Sock, optval: UserAddr, optlen: i32) -> KResult<()> {
    // Linux 5.7+: anyone may bind an unbound socket; moving it takes
    // CAP_NET_RAW (`sock_bindtoindex_locked`).
    if sk.bound_dev_if.load(Ordering::Relaxed) != 0 && !capable(CAP_NET_RAW) {
        return Err(Errno::EPERM);
    }
    let len = usize::try_from(optlen).map_err(|_| Errno::EINVAL)?.min(IFNAMSIZ - 1);
    let mut name = [0; IFNAMSIZ];
    copy_from_user(&mut name[..len], optval).map_err(|_| Errno::EFAULT)?;
    let end = name.iter().position(|&b| b == 0).unwrap_or(len);
    let name = core::str::from_utf8(&name[..end]).map_err(|_| Errno::ENODEV)?;
    let ifindex = if name.is_empty() {
        0
    } else {
        crate::net::core::dev::dev_get_by_name(name).ok_or(Errno::ENODEV)?.ifindex
    };
    sk.bound_dev_if.store(ifindex, Ordering::Relaxed);
    Ok(())
}

/// `SO_LINGER` (Linux: `struct linger { int l_onoff; int l_linger; }`).
fn sock_set_linger(sk: &Sock, optval: UserAddr, optlen: i32) -> KResult<()> {
    if optlen < 8 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0; 8];
    copy_from_user(&mut b, optval).map_err(|_| Errno::EFAULT)?;
    let on = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
    let secs = i32::from_ne_bytes([b[4], b[5], b[6], b[7]]);
    *sk.linger.lock() = (on != 0).then_some(secs.max(0) as u32);
    Ok(())
}

/// A `struct timeval` timeout in nanoseconds (Linux: `sock_set_timeout`):
/// `EINVAL` for microseconds out of range; a negative time is no wait.
fn sock_set_timeout(optval: UserAddr, optlen: i32) -> KResult<u64> {
    if optlen < 16 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0; 16];
    copy_from_user(&mut b, optval).map_err(|_| Errno::EFAULT)?;
    let mut sec = [0; 8];
    let mut usec = [0; 8];
    sec.copy_from_slice(&b[..8]);
    usec.copy_from_slice(&b[8..]);
    let (sec, usec) = (i64::from_ne_bytes(sec), i64::from_ne_bytes(usec));
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno::EDOM);
    }
    if sec < 0 {
        return Ok(0);
    }
    Ok((sec as u64).saturating_mul(1_000_000_000).saturating_add(usec as u64 * 1000))
}

/// The value of a `SOL_SOCKET` option and its length (Linux:
/// `sock_getsockopt`); `len` is what the caller's buffer holds.
fn sock_getsockopt(sock: &Socket, optname: u32, len: usize) -> KResult<([u8; 16], usize)> {
    let sk = sock.ops.sk();
    let int = |v: u32| {
        let mut b = [0; 16];
        b[..4].copy_from_slice(&v.to_ne_bytes());
        Ok((b, 4))
    };
    match optname {
        uapi_net::SO_TYPE => int(sk.sk_type.raw()),
        uapi_net::SO_DOMAIN => int(sock.ops.family()),
        uapi_net::SO_PROTOCOL => int(sock.ops.protocol()),
        uapi_net::SO_ERROR => int(sk.sock_error().map_or(0, |e| e as u32)),
        uapi_net::SO_ACCEPTCONN => int(u32::from(sock.ops.is_listening())),
        uapi_net::SO_SNDBUF => int(sk.sk_sndbuf.load(Ordering::Relaxed)),
        uapi_net::SO_RCVBUF => int(sk.sk_rcvbuf.load(Ordering::Relaxed)),
        uapi_net::SO_PASSCRED => int(u32::from(sk.passcred.load(Ordering::Relaxed))),
        uapi_net::SO_REUSEADDR => int(u32::from(sk.reuse.load(Ordering::Relaxed))),
        uapi_net::SO_KEEPALIVE => int(u32::from(sk.keepalive.load(Ordering::Relaxed))),
        uapi_net::SO_BROADCAST => int(u32::from(sk.broadcast.load(Ordering::Relaxed))),
        uapi_net::SO_OOBINLINE => int(u32::from(sk.oobinline.load(Ordering::Relaxed))),
        uapi_net::SO_DONTROUTE => int(u32::from(sk.dontroute.load(Ordering::Relaxed))),
        uapi_net::SO_REUSEPORT => int(u32::from(sk.reuseport.load(Ordering::Relaxed))),
        uapi_net::SO_PRIORITY => int(sk.priority.load(Ordering::Relaxed)),
        uapi_net::SO_LINGER => {
            let l = *sk.linger.lock();
            let mut b = [0; 16];
            b[..4].copy_from_slice(&u32::from(l.is_some()).to_ne_bytes());
            b[4..8].copy_from_slice(&l.unwrap_or(0).to_ne_bytes());
            Ok((b, 8))
        }
        uapi_net::SO_PEERCRED => {
            let mut b = [0; 16];
            b[..12].copy_from_slice(&sk.peer_cred.lock().unwrap_or(Ucred::NONE).to_bytes());
            Ok((b, 12))
        }
        uapi_net::SO_RCVTIMEO_OLD => {
            Ok((timeval_bytes(sk.rcvtimeo_ns.load(Ordering::Relaxed)), 16))
        }
        uapi_net::SO_SNDTIMEO_OLD => {
            Ok((timeval_bytes(sk.sndtimeo_ns.load(Ordering::Relaxed)), 16))
        }
        uapi_net::SO_BINDTODEVICE => sock_getbindtodevice(sk, len),
        _ => Err(Errno::ENOPROTOOPT),
    }
}

/// A timeout as `struct timeval` (Linux: `sock_get_timeout`).
fn timeval_bytes(ns: u64) -> [u8; 16] {
    let mut b = [0; 16];
    b[..8].copy_from_slice(&(ns / 1_000_000_000).to_ne_bytes());
    b[8..].copy_from_slice(&(ns % 1_000_000_000 / 1000).to_ne_bytes());
    b
}

/// `SO_BINDTODEVICE`'s value (Linux: `sock_getbindtodevice`): the name
/// with its NUL, nothing when unbound; `EINVAL` for a buffer too short.
fn sock_getbindtodevice(sk: &Sock, len: usize) -> KResult<([u8; 16], usize)> {
    let mut b = [0; 16];
    let ifindex = sk.bound_dev_if.load(Ordering::Relaxed);
    if ifindex == 0 {
        return Ok((b, 0));
    }
    let dev = crate::net::core::dev::dev_get_by_index(ifindex).ok_or(Errno::ENODEV)?;
    let name = dev.name.as_bytes();
    let n = name.len().min(IFNAMSIZ - 1);
    b[..n].copy_from_slice(&name[..n]);
    if len < n + 1 {
        return Err(Errno::EINVAL);
    }
    Ok((b, n + 1))
}

/// setsockopt(2): `SOL_SOCKET` only; AF_UNIX has no options of its own
/// (Linux: `EOPNOTSUPP` for a missing `proto_ops.setsockopt`).
pub fn sys_setsockopt(
    fd: Fd,
    level: i32,
    optname: i32,
    optval: UserAddr,
    optlen: i32,
) -> KResult<()> {
    let sock = sockfd_lookup(fd)?;
    if optlen < 0 {
        return Err(Errno::EINVAL);
    }
    if level != uapi_net::SOL_SOCKET as i32 {
        let len = usize::try_from(optlen).map_err(|_| Errno::EINVAL)?.min(SOCKOPT_MAX);
        let mut val = alloc::vec![0; len];
        copy_from_user(&mut val, optval).map_err(|_| Errno::EFAULT)?;
        return sock.ops.setsockopt(level as u32, optname as u32, &val);
    }
    sock_setsockopt(&sock, optname as u32, optval, optlen)
}

/// getsockopt(2): copies at most `*optlen` bytes and stores the length
/// written (Linux: `sock_getsockopt`'s `len = min(len, lv)`).
pub fn sys_getsockopt(
    fd: Fd,
    level: i32,
    optname: i32,
    optval: UserAddr,
    optlen: UserPtr<i32>,
) -> KResult<()> {
    let sock = sockfd_lookup(fd)?;
    let len = optlen.read()?;
    let len = usize::try_from(len).map_err(|_| Errno::EINVAL)?;
    if level != uapi_net::SOL_SOCKET as i32 {
        let val = sock.ops.getsockopt(level as u32, optname as u32, len)?;
        let len = len.min(val.len());
        copy_to_user(optval, &val[..len]).map_err(|_| Errno::EFAULT)?;
        return optlen.write(&i32::try_from(len).unwrap_or(0));
    }
    let (val, lv) = sock_getsockopt(&sock, optname as u32, len)?;
    let len = len.min(lv);
    copy_to_user(optval, &val[..len]).map_err(|_| Errno::EFAULT)?;
    optlen.write(&i32::try_from(len).unwrap_or(0))
}

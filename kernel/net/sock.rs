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

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use linux_raw_sys::net as uapi_net;

use super::socket::{Socket, sockfd_lookup};
use crate::arch::uaccess::{UserAddr, copy_from_user, copy_to_user};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::current;
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::syscall::args::{Fd, UserPtr};

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
}

impl SockType {
    pub const fn raw(self) -> u32 {
        match self {
            Self::Stream => uapi_net::SOCK_STREAM,
            Self::Dgram => uapi_net::SOCK_DGRAM,
            Self::SeqPacket => uapi_net::SOCK_SEQPACKET,
        }
    }

    /// Connection-oriented types (Linux: stream and seqpacket paths).
    pub const fn is_connected_type(self) -> bool {
        !matches!(self, Self::Dgram)
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
    /// Linux: `sk_peer_pid`, `sk_peer_cred`.
    pub peer_cred: SpinLock<Option<Ucred>>,
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
            peer_cred: SpinLock::new(None),
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
            e if e == Errno::ECONNRESET as u32 => Some(Errno::ECONNRESET),
            e if e == Errno::ECONNREFUSED as u32 => Some(Errno::ECONNREFUSED),
            _ => Some(Errno::EPIPE),
        }
    }

    pub fn has_err(&self) -> bool {
        self.sk_err.load(Ordering::Acquire) != 0
    }
}

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
    let val = opt_int(optval, optlen)?;
    match optname {
        uapi_net::SO_REUSEADDR => sk.reuse.store(val != 0, Ordering::Relaxed),
        uapi_net::SO_PASSCRED => sk.passcred.store(val != 0, Ordering::Relaxed),
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

/// The value of a `SOL_SOCKET` option (Linux: `sock_getsockopt`).
fn sock_getsockopt(sock: &Socket, optname: u32) -> KResult<([u8; 12], usize)> {
    let sk = sock.ops.sk();
    let int = |v: u32| {
        let mut b = [0; 12];
        b[..4].copy_from_slice(&v.to_ne_bytes());
        Ok((b, 4))
    };
    match optname {
        uapi_net::SO_TYPE => int(sk.sk_type.raw()),
        uapi_net::SO_DOMAIN => int(sock.ops.family()),
        uapi_net::SO_PROTOCOL => int(0),
        uapi_net::SO_ERROR => int(sk.sock_error().map_or(0, |e| e as u32)),
        uapi_net::SO_ACCEPTCONN => int(u32::from(sock.ops.is_listening())),
        uapi_net::SO_SNDBUF => int(sk.sk_sndbuf.load(Ordering::Relaxed)),
        uapi_net::SO_RCVBUF => int(sk.sk_rcvbuf.load(Ordering::Relaxed)),
        uapi_net::SO_PASSCRED => int(u32::from(sk.passcred.load(Ordering::Relaxed))),
        uapi_net::SO_REUSEADDR => int(u32::from(sk.reuse.load(Ordering::Relaxed))),
        uapi_net::SO_PEERCRED => Ok((sk.peer_cred.lock().unwrap_or(Ucred::NONE).to_bytes(), 12)),
        _ => Err(Errno::ENOPROTOOPT),
    }
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
        return Err(Errno::EOPNOTSUPP);
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
    if level != uapi_net::SOL_SOCKET as i32 {
        return Err(Errno::EOPNOTSUPP);
    }
    let len = optlen.read()?;
    let len = usize::try_from(len).map_err(|_| Errno::EINVAL)?;
    let (val, lv) = sock_getsockopt(&sock, optname as u32)?;
    let len = len.min(lv);
    copy_to_user(optval, &val[..len]).map_err(|_| Errno::EFAULT)?;
    optlen.write(&i32::try_from(len).unwrap_or(0))
}

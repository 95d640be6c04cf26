//! Sending and receiving messages: send, sendto, sendmsg, recv, recvfrom,
//! recvmsg (Linux: net/socket.c `__sys_sendto`, `__sys_recvfrom`,
//! `___sys_sendmsg`, `___sys_recvmsg`, `copy_msghdr_from_user`).
//!
//! The user's segments are gathered into a kernel buffer and handed to
//! the family in one piece: a whole datagram, or for a byte stream steps
//! of at most [`STREAM_STEP`] bytes (control data rides with the first).
//! Receiving fills a kernel buffer and scatters it; `MSG_WAITALL` on a
//! stream goes round until the count is done.
//!
//! # Locking
//! None: every user copy happens outside the family's locks.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::net as uapi_net;

use super::scm::{CmsgOut, Scm, scm_send};
use super::sock::{SockType, Ucred};
use super::socket::{
    Socket, move_addr_to_kernel, move_addr_to_user, restart_code, sockfd_lookup_file,
};
use crate::arch::uaccess::{UserAddr, access_ok, copy_from_user, copy_to_user};
use crate::fs::uio::{IoVec, copy_from_iov, copy_to_iov, import_iovec};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{Fd, UserPtr};
use crate::mm::slab_common::kzalloc;

/// Bytes a stream send or receive moves per step.
pub const STREAM_STEP: usize = 64 * 1024;
/// Largest control buffer a sender may pass (Linux: `net.core.optmem_max`).
const OPTMEM_MAX: usize = 20480;
/// `sizeof(struct user_msghdr)`.
const MSGHDR_SIZE: usize = 56;

/// One send as the family sees it (Linux: `struct msghdr` in the kernel).
pub struct SendMsg<'a> {
    pub data: &'a [u8],
    /// The destination, for unconnected datagrams.
    pub name: Option<&'a [u8]>,
    pub scm: Option<Scm>,
}

impl<'a> SendMsg<'a> {
    /// Plain data: `write(2)`.
    pub fn data(data: &'a [u8]) -> Self {
        Self { data, name: None, scm: None }
    }
}

/// What one receive got.
#[derive(Default)]
pub struct RecvMsg {
    /// Bytes placed in the buffer.
    pub len: usize,
    /// The datagram's full length (for `MSG_TRUNC`).
    pub full_len: usize,
    /// The sender's address (datagrams from a bound socket).
    pub name: Option<Vec<u8>>,
    pub fds: Vec<alloc::sync::Arc<crate::fs::file_table::File>>,
    /// The sender's credentials, for `SO_PASSCRED`.
    pub cred: Option<Ucred>,
    /// Control messages of the protocol levels, `(level, type, data)`:
    /// `IP_PKTINFO`, `IPV6_HOPLIMIT`... (Linux: `ip_cmsg_recv`,
    /// `ip6_datagram_recv_ctl`).
    pub cmsgs: Vec<(u32, u32, Vec<u8>)>,
}

/// Gathers a datagram or steps a stream through the family (Linux:
/// `sock_sendmsg`). `O_NONBLOCK` on the file acts as `MSG_DONTWAIT`.
fn sock_sendmsg(
    sock: &Socket,
    nonblock: bool,
    segs: &[IoVec],
    total: usize,
    name: Option<&[u8]>,
    mut scm: Option<Scm>,
    flags: u32,
) -> KResult<usize> {
    let nonblock = nonblock || flags & uapi_net::MSG_DONTWAIT != 0;
    let stream = sock.sock_type() == SockType::Stream;
    if !stream && total > sock.ops.sk().sndbuf().saturating_sub(32) {
        return Err(Errno::EMSGSIZE);
    }
    let step = if stream { total.min(STREAM_STEP) } else { total };
    let mut buf = kzalloc(step)?;
    let mut done = 0;
    loop {
        let want = (total - done).min(step);
        let got = copy_from_iov(segs, done, &mut buf[..want]);
        if got < want && (!stream || got == 0) {
            return if done == 0 { Err(Errno::EFAULT) } else { Ok(done) };
        }
        let msg = SendMsg { data: &buf[..got], name, scm: scm.take() };
        let n = match sock.ops.sendmsg(msg, flags, nonblock) {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(restart_code(e)),
            Err(_) => return Ok(done),
        };
        done += n;
        if !stream || n < got || done >= total {
            return Ok(done);
        }
    }
}

/// Receives into the segments (Linux: `sock_recvmsg`); fds and
/// credentials come from the first step only.
fn sock_recvmsg(
    sock: &Socket,
    nonblock: bool,
    segs: &[IoVec],
    total: usize,
    flags: u32,
) -> KResult<(usize, RecvMsg)> {
    let nonblock = nonblock || flags & uapi_net::MSG_DONTWAIT != 0;
    let stream = sock.sock_type() == SockType::Stream;
    let step = if stream { total.min(STREAM_STEP) } else { total.min(sock.ops.sk().sndbuf()) };
    let mut buf = kzalloc(step)?;
    let mut first: Option<RecvMsg> = None;
    let mut done = 0;
    loop {
        let want = (total - done).min(step);
        let got = match sock.ops.recvmsg(&mut buf[..want], flags, nonblock) {
            Ok(got) => got,
            Err(e) if first.is_none() => return Err(restart_code(e)),
            Err(_) => break,
        };
        let copied = copy_to_iov(segs, done, &buf[..got.len]);
        done += copied;
        let more = stream
            && flags & uapi_net::MSG_WAITALL != 0
            && flags & uapi_net::MSG_PEEK == 0
            && got.len == want
            && got.fds.is_empty()
            && done < total;
        let faulted = copied < got.len;
        if first.is_none() {
            first = Some(got);
        }
        if faulted {
            if done == 0 {
                return Err(Errno::EFAULT);
            }
            break;
        }
        if !more {
            break;
        }
    }
    Ok((done, first.unwrap_or_default()))
}

/// Writes the control messages of a receive (Linux: `scm_recv`):
/// credentials if the receiver asked for them, then the descriptors.
fn scm_recv(sock: &Socket, got: &mut RecvMsg, cap: usize, flags: u32) -> KResult<CmsgOut> {
    let mut out = CmsgOut::new(cap);
    for (level, kind, data) in &got.cmsgs {
        out.put_cmsg_level(*level, *kind, data)?;
    }
    let passcred = sock.ops.sk().passcred.load(core::sync::atomic::Ordering::Relaxed);
    if passcred && let Some(cred) = got.cred {
        out.put_cmsg(uapi_net::SCM_CREDENTIALS, &cred.to_bytes())?;
    }
    let fds = core::mem::take(&mut got.fds);
    out.detach_fds(fds, flags & uapi_net::MSG_CMSG_CLOEXEC != 0)?;
    Ok(out)
}

/// One user buffer as a one-segment list.
fn user_seg(buf: UserAddr, len: usize) -> KResult<[IoVec; 1]> {
    if !access_ok(buf, len) {
        return Err(Errno::EFAULT);
    }
    Ok([IoVec { base: buf, len: len.min(crate::fs::read_write::MAX_RW_COUNT) }])
}

/// sendto(2); send(2) is sendto without an address.
pub fn sys_sendto(
    fd: Fd,
    buff: UserAddr,
    len: usize,
    flags: u32,
    addr: UserAddr,
    addr_len: i32,
) -> KResult<usize> {
    let (sock, file) = sockfd_lookup_file(fd)?;
    let seg = user_seg(buff, len)?;
    let name = if addr.is_null() { None } else { Some(move_addr_to_kernel(addr, addr_len)?) };
    let name = name.as_deref().filter(|n| !n.is_empty());
    sock_sendmsg(&sock, file.is_nonblocking(), &seg, seg[0].len, name, None, flags)
}

/// recvfrom(2); recv(2) is recvfrom without an address.
pub fn sys_recvfrom(
    fd: Fd,
    ubuf: UserAddr,
    size: usize,
    flags: u32,
    addr: UserAddr,
    addr_len: UserPtr<i32>,
) -> KResult<usize> {
    let (sock, file) = sockfd_lookup_file(fd)?;
    let seg = user_seg(ubuf, size)?;
    let (n, got) = sock_recvmsg(&sock, file.is_nonblocking(), &seg, seg[0].len, flags)?;
    if !addr.is_null() {
        move_addr_to_user(got.name.as_deref().unwrap_or_default(), addr, addr_len)?;
    }
    Ok(if flags & uapi_net::MSG_TRUNC != 0 { got.full_len.max(n) } else { n })
}

/// A user `struct msghdr` (Linux: `struct user_msghdr`).
struct UserMsghdr {
    name: UserAddr,
    namelen: i32,
    iov: UserAddr,
    iovlen: u64,
    control: UserAddr,
    controllen: u64,
}

fn read_msghdr(umsg: UserAddr) -> KResult<UserMsghdr> {
    let mut b = [0u8; MSGHDR_SIZE];
    copy_from_user(&mut b, umsg).map_err(|_| Errno::EFAULT)?;
    let w = |i: usize| {
        let mut x = [0; 8];
        x.copy_from_slice(&b[i * 8..i * 8 + 8]);
        u64::from_ne_bytes(x)
    };
    #[expect(clippy::cast_possible_truncation, reason = "msg_namelen is a 32-bit socklen_t")]
    let namelen = w(1) as u32 as i32;
    Ok(UserMsghdr {
        name: UserAddr::new(w(0)),
        namelen,
        iov: UserAddr::new(w(2)),
        iovlen: w(3),
        control: UserAddr::new(w(4)),
        controllen: w(5),
    })
}

/// sendmsg(2) (Linux: `____sys_sendmsg`).
pub fn sys_sendmsg(fd: Fd, umsg: UserAddr, flags: u32) -> KResult<usize> {
    let (sock, file) = sockfd_lookup_file(fd)?;
    let msg = read_msghdr(umsg)?;
    let name = if msg.name.is_null() || msg.namelen == 0 {
        None
    } else {
        Some(move_addr_to_kernel(msg.name, msg.namelen)?)
    };
    let (segs, total) = import_iovec(msg.iov, msg.iovlen)?;
    let controllen = usize::try_from(msg.controllen).map_err(|_| Errno::ENOBUFS)?;
    if controllen > i32::MAX as usize {
        return Err(Errno::ENOBUFS);
    }
    let scm = if controllen == 0 {
        None
    } else {
        if controllen > OPTMEM_MAX {
            return Err(Errno::ENOBUFS);
        }
        let mut control = kzalloc(controllen)?;
        copy_from_user(&mut control, msg.control).map_err(|_| Errno::EFAULT)?;
        Some(scm_send(&control)?)
    };
    sock_sendmsg(&sock, file.is_nonblocking(), &segs, total, name.as_deref(), scm, flags)
}

/// recvmsg(2) (Linux: `____sys_recvmsg`): writes back `msg_namelen`,
/// `msg_controllen` and `msg_flags`.
pub fn sys_recvmsg(fd: Fd, umsg: UserAddr, flags: u32) -> KResult<usize> {
    let (sock, file) = sockfd_lookup_file(fd)?;
    let msg = read_msghdr(umsg)?;
    let (segs, total) = import_iovec(msg.iov, msg.iovlen)?;
    let (n, mut got) = sock_recvmsg(&sock, file.is_nonblocking(), &segs, total, flags)?;
    let mut msg_flags = flags & uapi_net::MSG_CMSG_CLOEXEC;
    if got.full_len > n && sock.sock_type() != SockType::Stream {
        msg_flags |= uapi_net::MSG_TRUNC;
    }
    let cap = usize::try_from(msg.controllen).unwrap_or(usize::MAX);
    let cmsg = scm_recv(&sock, &mut got, if msg.control.is_null() { 0 } else { cap }, flags)?;
    if cmsg.truncated {
        msg_flags |= uapi_net::MSG_CTRUNC;
    }
    let name = got.name.as_deref().unwrap_or_default();
    let namelen = if msg.name.is_null() {
        0
    } else {
        name.len().min(usize::try_from(msg.namelen).unwrap_or(0))
    };
    if namelen > 0 {
        copy_to_user(msg.name, &name[..namelen]).map_err(|_| Errno::EFAULT)?;
    }
    if !cmsg.buf.is_empty() {
        copy_to_user(msg.control, &cmsg.buf).map_err(|_| Errno::EFAULT)?;
    }
    let put = |off: u64, b: &[u8]| -> KResult<()> {
        let at = umsg.checked_add(usize::try_from(off).unwrap_or(0)).ok_or(Errno::EFAULT)?;
        copy_to_user(at, b).map_err(|_| Errno::EFAULT)
    };
    let full_namelen = if msg.name.is_null() { 0 } else { name.len() };
    put(8, &u32::try_from(full_namelen).unwrap_or(0).to_ne_bytes())?;
    put(40, &(cmsg.buf.len() as u64).to_ne_bytes())?;
    put(48, &msg_flags.to_ne_bytes())?;
    Ok(if flags & uapi_net::MSG_TRUNC != 0 { got.full_len.max(n) } else { n })
}

//! Kernel self-tests of netlink, driven through
//! [`ProtoOps`](crate::net::socket::ProtoOps) with kernel buffers.
//!
//! # Locking
//! None of its own.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::net as uapi_net;
use linux_raw_sys::netlink as nl;

use super::af_netlink::{netlink_create, sockaddr_nl};
use super::attr::consts::{NLM_F_DUMP, NLM_F_REQUEST};
use super::attr::{Attrs, NlBuf, nlmsg_iter};
use super::rtnetlink::{RTM_GETLINK, RTM_NEWLINK};
use crate::kernel::errno::Errno;
use crate::net::msg::SendMsg;

/// A dump request of `ty` (`struct rtgenmsg` padded to 4).
fn dump_request(ty: u16, seq: u32) -> Vec<u8> {
    let mut b = NlBuf::new();
    let flags = NLM_F_REQUEST | NLM_F_DUMP;
    let at = b.begin(ty, flags, seq, 0);
    b.put(&[0]);
    b.end(at);
    b.buf
}

crate::ktest!(netlink_socket_rules, {
    crate::kassert!(
        netlink_create(uapi_net::SOCK_STREAM, 0).err() == Some(Errno::ESOCKTNOSUPPORT),
        "stream"
    );
    crate::kassert!(
        netlink_create(uapi_net::SOCK_RAW, 99).err() == Some(Errno::EPROTONOSUPPORT),
        "99"
    );
    crate::kassert!(
        netlink_create(uapi_net::SOCK_RAW, 4).err() == Some(Errno::EPROTONOSUPPORT),
        "diag"
    );
    let a = netlink_create(uapi_net::SOCK_RAW, 0).map_err(|_| "a")?;
    let b = netlink_create(uapi_net::SOCK_DGRAM, 0).map_err(|_| "b")?;
    crate::kassert!(a.getname(false).ok() == Some(sockaddr_nl(0, 0)), "unbound name");
    a.bind(&sockaddr_nl(0, 1)).map_err(|_| "autobind")?;
    let pid_a = a.getname(false).map_err(|_| "name")?;
    crate::kassert!(pid_a[4..8] != [0; 4], "autobind picks a port");
    crate::kassert!(pid_a[8..12] == 1u32.to_ne_bytes(), "groups kept");
    b.bind(&sockaddr_nl(0, 0)).map_err(|_| "b autobind")?;
    crate::kassert!(b.getname(false).ok() != Some(pid_a.clone()), "second port differs");
    let c = netlink_create(uapi_net::SOCK_RAW, 0).map_err(|_| "c")?;
    let port = u32::from_ne_bytes([pid_a[4], pid_a[5], pid_a[6], pid_a[7]]);
    crate::kassert!(c.bind(&sockaddr_nl(port, 0)) == Err(Errno::EADDRINUSE), "port taken");
    crate::kassert!(c.bind(&[16, 0, 0]) == Err(Errno::EINVAL), "short address");
    let mut buf = [0u8; 64];
    crate::kassert!(a.recvmsg(&mut buf, 0, true).err() == Some(Errno::EAGAIN), "empty queue");
    for s in [a, b, c] {
        s.release();
    }
    Ok(())
});

crate::ktest!(netlink_route_getlink_dump, {
    let s = netlink_create(uapi_net::SOCK_RAW, 0).map_err(|_| "socket")?;
    let req = dump_request(RTM_GETLINK, 42);
    crate::kassert!(s.sendmsg(SendMsg::data(&req), 0, true) == Ok(req.len()), "send");
    let mut buf = alloc::vec![0u8; 16384];
    let got = s.recvmsg(&mut buf, 0, true).map_err(|_| "recv")?;
    let mut names = Vec::new();
    for (hdr, payload) in nlmsg_iter(&buf[..got.len]) {
        crate::kassert!(hdr.ty == RTM_NEWLINK && hdr.seq == 42, "a link message");
        crate::kassert!(u32::from(hdr.flags) & nl::NLM_F_MULTI != 0, "multipart");
        let attrs = Attrs::parse(payload.get(16..).unwrap_or_default());
        names.push(attrs.str(3).map(<[u8]>::to_vec).unwrap_or_default());
    }
    crate::kassert!(names.iter().any(|n| n == b"lo"), "lo is listed");
    crate::kassert!(got.name.as_deref() == Some(&sockaddr_nl(0, 0)[..]), "from the kernel");
    let done = s.recvmsg(&mut buf, 0, true).map_err(|_| "done")?;
    let first = nlmsg_iter(&buf[..done.len]).next().ok_or("no DONE")?;
    crate::kassert!(u32::from(first.0.ty) == nl::NLMSG_DONE && first.0.seq == 42, "DONE");
    // An unknown type is refused with NLMSG_ERROR even without NLM_F_ACK.
    let mut bad = dump_request(RTM_GETLINK, 43);
    bad[4..6].copy_from_slice(&200u16.to_ne_bytes());
    s.sendmsg(SendMsg::data(&bad), 0, true).map_err(|_| "send bad")?;
    let err = s.recvmsg(&mut buf, 0, true).map_err(|_| "recv err")?;
    let (hdr, payload) = nlmsg_iter(&buf[..err.len]).next().ok_or("no error")?;
    crate::kassert!(u32::from(hdr.ty) == nl::NLMSG_ERROR, "NLMSG_ERROR");
    let code = i32::from_ne_bytes(payload.get(..4).and_then(|b| b.try_into().ok()).ok_or("short")?);
    crate::kassert!(code == -(Errno::EOPNOTSUPP as i32), "EOPNOTSUPP");
    s.release();
    Ok(())
});

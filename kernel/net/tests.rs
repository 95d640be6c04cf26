//! Kernel self-tests of the socket layer and AF_UNIX, driven through
//! [`ProtoOps`](super::socket::ProtoOps) with kernel buffers.
//!
//! # Locking
//! None of its own.
#![deny(unsafe_code)]

use linux_raw_sys::net as uapi_net;

use super::msg::SendMsg;
use super::socket::ProtoOps;
use super::unix::{UnixName, unix_create, unix_mkname, unix_socketpair};
use crate::kernel::errno::Errno;

crate::ktest!(unix_address_rules, {
    let mut addr = alloc::vec![1u8, 0, b'a', b'b', 0, b'z'];
    crate::kassert!(
        matches!(unix_mkname(&addr), Ok(UnixName::Bsd(p)) if p == b"ab"),
        "path ends at NUL"
    );
    crate::kassert!(unix_mkname(&addr[..2]).is_err(), "the family alone is not a name");
    addr[2] = 0;
    crate::kassert!(
        matches!(unix_mkname(&addr), Ok(UnixName::Abstract(a)) if a.len() == 6),
        "abstract"
    );
    addr[0] = 2;
    crate::kassert!(unix_mkname(&addr).is_err(), "another family");
    crate::kassert!(unix_mkname(&[1; 111]).is_err(), "longer than sockaddr_un");
    crate::kassert!(unix_create(4, 0).err() == Some(Errno::ESOCKTNOSUPPORT), "SOCK_RDM");
    crate::kassert!(unix_create(1, 2).err() == Some(Errno::EPROTONOSUPPORT), "protocol");
    Ok(())
});

crate::ktest!(unix_stream_pair_peek_shutdown, {
    let (a, b) = (unix_create(1, 0).map_err(|_| "a")?, unix_create(1, 0).map_err(|_| "b")?);
    unix_socketpair(&a, &b);
    let nosig = uapi_net::MSG_NOSIGNAL;
    crate::kassert!(a.sendmsg(SendMsg::data(b"hello"), nosig, true) == Ok(5), "send");
    let mut buf = [0u8; 8];
    let peeked = b.recvmsg(&mut buf[..2], uapi_net::MSG_PEEK, true).map(|r| r.len);
    crate::kassert!(peeked == Ok(2) && &buf[..2] == b"he", "peek");
    let got = b.recvmsg(&mut buf, 0, true).map(|r| r.len);
    crate::kassert!(got == Ok(5) && &buf[..5] == b"hello", "the bytes, once");
    crate::kassert!(b.recvmsg(&mut buf, 0, true).err() == Some(Errno::EAGAIN), "empty");
    crate::kassert!(a.shutdown(uapi_net::SHUT_WR).is_ok(), "shutdown");
    crate::kassert!(b.recvmsg(&mut buf, 0, true).map(|r| r.len) == Ok(0), "EOF");
    crate::kassert!(a.sendmsg(SendMsg::data(b"x"), nosig, true) == Err(Errno::EPIPE), "EPIPE");
    a.release();
    b.release();
    Ok(())
});

crate::ktest!(unix_dgram_pair_truncates, {
    let (a, b) = (unix_create(2, 0).map_err(|_| "a")?, unix_create(2, 0).map_err(|_| "b")?);
    unix_socketpair(&a, &b);
    crate::kassert!(a.sendmsg(SendMsg::data(b"0123456789"), 0, true) == Ok(10), "send");
    let mut buf = [0u8; 4];
    let got = b.recvmsg(&mut buf, 0, true).map(|r| (r.len, r.full_len));
    crate::kassert!(got == Ok((4, 10)), "cut to the buffer, full length kept");
    crate::kassert!(b.recvmsg(&mut buf, 0, true).err() == Some(Errno::EAGAIN), "rest dropped");
    b.release();
    crate::kassert!(
        a.sendmsg(SendMsg::data(b"x"), 0, true) == Err(Errno::ECONNREFUSED),
        "peer gone"
    );
    a.release();
    Ok(())
});

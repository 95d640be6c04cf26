//! Kernel self-tests of TCP: a connection over `lo` driven through the
//! socket operations with kernel buffers, and the SYN parser the listen
//! backlog relies on. user/tests/tcp.c checks the same from user space,
//! on Linux too.
//!
//! # Locking
//! None of its own.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use linux_raw_sys::net as uapi_net;
use smoltcp::wire::IpAddress;

use super::sockaddr::{decode, encode};
use super::tcp::tcp_create;
use crate::net::core::dev::{IFF_UP, dev_change_flags, dev_get_by_name, rtnl_lock};
use crate::net::msg::SendMsg;

/// Sets `lo`'s `IFF_UP` to `up`; returns whether it was up.
fn lo_set_up(up: bool) -> Result<bool, &'static str> {
    let lo = dev_get_by_name("lo").ok_or("no lo")?;
    let _rtnl = rtnl_lock();
    let was = lo.flags() & IFF_UP != 0;
    let flags = if up { lo.flags() | IFF_UP } else { lo.flags() & !IFF_UP };
    dev_change_flags(&lo, flags).map_err(|_| "dev_change_flags")?;
    Ok(was)
}

fn loopback_exchange() -> Result<(), &'static str> {
    let lo4 = Some(IpAddress::v4(127, 0, 0, 1));
    let l = tcp_create(uapi_net::AF_INET).map_err(|_| "create")?;
    l.bind(&encode(uapi_net::AF_INET, lo4, 0)).map_err(|_| "bind")?;
    l.listen(4).map_err(|_| "listen")?;
    let port = decode(uapi_net::AF_INET, &l.getname(false).map_err(|_| "getname")?)
        .map_err(|_| "decode")?
        .port;
    crate::kassert!(port != 0, "bind chose a port");
    crate::kassert!(
        l.poll() & linux_raw_sys::general::POLLIN == 0,
        "an idle listener is not readable"
    );

    let c = tcp_create(uapi_net::AF_INET).map_err(|_| "create client")?;
    // On loopback the handshake completes inside the call.
    c.connect(&encode(uapi_net::AF_INET, lo4, port), false).map_err(|_| "connect")?;
    crate::kassert!(l.poll() & linux_raw_sys::general::POLLIN != 0, "the listener is readable");
    let s: Arc<dyn crate::net::socket::ProtoOps> = l.accept(true).map_err(|_| "accept")?;
    let peer =
        decode(uapi_net::AF_INET, &s.getname(true).map_err(|_| "peer")?).map_err(|_| "decode")?;
    let me =
        decode(uapi_net::AF_INET, &c.getname(false).map_err(|_| "name")?).map_err(|_| "decode")?;
    crate::kassert!(peer == me, "accept's peer is the client");

    crate::kassert!(c.sendmsg(SendMsg::data(b"ping"), 0, true) == Ok(4), "send");
    let mut buf = [0u8; 16];
    let got = s.recvmsg(&mut buf, 0, true).map_err(|_| "recv")?;
    crate::kassert!(got.len == 4 && &buf[..4] == b"ping", "the bytes arrive");
    crate::kassert!(
        s.recvmsg(&mut buf, 0, true).err() == Some(crate::kernel::errno::Errno::EAGAIN),
        "then EAGAIN"
    );
    c.shutdown(uapi_net::SHUT_WR).map_err(|_| "shutdown")?;
    crate::kassert!(s.recvmsg(&mut buf, 0, true).map(|r| r.len) == Ok(0), "FIN reads as EOF");
    for sock in [c, s, l] {
        sock.release();
    }
    Ok(())
}

crate::ktest!(tcp_loopback_exchange, {
    let was_up = lo_set_up(true)?;
    let r = loopback_exchange();
    if !was_up {
        lo_set_up(false)?;
    }
    r
});

crate::ktest!(tcp_syn_port_parse, {
    // IPv4, IHL 5, protocol 6; TCP to port 0x1f90 with SYN.
    let mut v4 = [0u8; 40];
    v4[0] = 0x45;
    v4[9] = 6;
    v4[22] = 0x1f;
    v4[23] = 0x90;
    v4[33] = 0x02;
    crate::kassert!(super::stack::tcp_syn_port(&v4) == Some(8080), "an IPv4 SYN");
    v4[33] = 0x12;
    crate::kassert!(super::stack::tcp_syn_port(&v4).is_none(), "a SYN-ACK is no request");
    crate::kassert!(super::stack::tcp_syn_port(&v4[..30]).is_none(), "a short packet is none");
    let mut v6 = [0u8; 60];
    v6[0] = 0x60;
    v6[6] = 6;
    v6[42] = 0x00;
    v6[43] = 0x16;
    v6[53] = 0x02;
    crate::kassert!(super::stack::tcp_syn_port(&v6) == Some(22), "an IPv6 SYN");
    Ok(())
});

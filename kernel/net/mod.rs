//! Networking: the BSD socket layer and the address families behind it.
//!
//! Linux: net/socket.c (the system calls, `struct socket`, sockfs),
//! net/core/sock.c (`struct sock`, `SOL_SOCKET` options), net/core/scm.c
//! (control messages), net/unix/af_unix.c (AF_UNIX).
//!
//! A socket is a file on an inode of the internal `sockfs` ([`socket`]);
//! its family's protocol operations ([`socket::ProtoOps`], Linux's
//! `proto_ops`) do the work. Only AF_UNIX exists yet ([`unix`]): other
//! families give `EAFNOSUPPORT`, as a Linux built without them.
//!
//! # Locking
//! Each AF_UNIX socket's state lock is a leaf: never two at once, never
//! across a user copy, a sleep or the drop of a passed file (see
//! kernel/locking/mod.rs). The AF_UNIX name tables are leaves too.
#![deny(unsafe_code)]

pub mod bridge;
pub mod core;
pub mod inet;
pub mod ipv4;
pub mod ipv6;
pub mod msg;
pub mod netlink;
pub mod packet;
pub mod proc;
pub mod scm;
pub mod sock;
pub mod socket;
pub mod unix;

mod tests;

/// Brings networking up (Linux: `net_dev_init`, `inet_init`,
/// `addrconf_init`, `loopback_net_init`): the address handlers, `lo`
/// (down, as at Linux's boot), and the TCP/IP engine over it.
pub fn net_dev_init() {
    // First on the chain, so that a link's change is told before the
    // addresses it brings (Linux: `__dev_notify_flags`).
    netlink::netlink_proto_init();
    ipv4::devinet::devinet_init();
    ipv6::addrconf::addrconf_init();
    let started = crate::drivers::net::loopback::loopback_net_init()
        .and_then(|_| inet::stack::inet_stack_init());
    if let Err(e) = started {
        crate::pr_err!("net: cannot start: {}", e.description());
    }
}

//! Netlink: datagram sockets between user space and the kernel (Linux:
//! net/netlink/, net/core/rtnetlink.c, lib/kobject_uevent.c).
//!
//! [`af_netlink`] has the sockets (addresses, queues, multicast groups);
//! [`rtnetlink`] the kernel's end of `NETLINK_ROUTE`, whose handlers are
//! in [`link`], [`addr`] and [`route`]; [`uevent`] sends device events on
//! `NETLINK_KOBJECT_UEVENT`. [`attr`] encodes and decodes messages.
//!
//! # Locking
//! See [`af_netlink`] (the socket table, then one socket's state, both
//! spinlocks) and [`rtnetlink`] (`rtnl_lock` around changes).
#![deny(unsafe_code)]

pub mod addr;
pub mod af_netlink;
pub mod attr;
pub mod link;
pub mod route;
pub mod rtnetlink;
pub mod uevent;

mod tests;

pub use af_netlink::netlink_create;

/// Linux: `netlink_proto_init` + `rtnetlink_init`: the route protocol's
/// notifications.
pub fn netlink_proto_init() {
    rtnetlink::rtnetlink_init();
}

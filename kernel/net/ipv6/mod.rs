//! IPv6 configuration (Linux: net/ipv6/). The protocol engine is
//! net/inet/ (smoltcp).
#![deny(unsafe_code)]

pub mod addrconf;

//! IPv4 configuration (Linux: net/ipv4/). The protocol engine is
//! net/inet/ (smoltcp).
#![deny(unsafe_code)]

pub mod devinet;
pub mod devinet_ioctl;

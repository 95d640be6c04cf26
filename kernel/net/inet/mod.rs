//! Internet sockets: AF_INET and AF_INET6 over smoltcp (Linux:
//! net/ipv4/af_inet.c, net/ipv6/af_inet6.c and the protocols they
//! register).
#![deny(unsafe_code)]

pub mod af_inet;
pub mod icmp;
pub mod inet_opts;
pub mod inet_proc;
pub mod ip_output;
pub mod port;
pub mod raw;
pub mod raw_opts;
pub mod route;
pub mod sockaddr;
pub mod stack;
pub mod tcp;
pub mod tcp_io;
pub mod tcp_listen;
pub mod tcp_opts;
pub mod tcp_proc;
mod tcp_tests;
pub mod udp;

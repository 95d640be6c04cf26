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

pub mod msg;
pub mod proc;
pub mod scm;
pub mod sock;
pub mod socket;
pub mod unix;

mod tests;

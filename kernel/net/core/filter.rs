//! Socket filters: `SO_ATTACH_FILTER` and `SO_DETACH_FILTER` (Linux:
//! net/core/filter.c `sk_attach_filter`, `sk_detach_filter`,
//! `bpf_check_classic`).
//!
//! A classic BPF program is copied in, checked (libs/bpf) and kept in the
//! socket's [`Sock::filter`]; the family runs it on each packet it would
//! queue (AF_PACKET does; Linux's `sk_filter` runs it for every family).
//!
//! # Locking
//! `Sock::filter` is a leaf spinlock: the program is an `Arc`, cloned out
//! before it runs.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use bpf::{BPF_MAXINSNS, SockFilter, bpf_check_classic};

use crate::arch::uaccess::{UserAddr, copy_from_user};
use crate::kernel::errno::{Errno, KResult};
use crate::net::sock::Sock;

/// An attached program (Linux: `struct sk_filter`).
pub type SkFilter = Arc<Vec<SockFilter>>;

/// Linux: `sizeof(struct sock_fprog)` on x86_64 (a length, then a pointer).
const SOCK_FPROG_SIZE: usize = 16;

/// Linux: `sk_attach_filter`: `EINVAL` for a bad `sock_fprog` or a program
/// the checker refuses, `EFAULT` for one it cannot read.
pub fn sk_attach_filter(sk: &Sock, optval: UserAddr, optlen: i32) -> KResult<()> {
    if usize::try_from(optlen).ok() != Some(SOCK_FPROG_SIZE) {
        return Err(Errno::EINVAL);
    }
    let mut fprog = [0; SOCK_FPROG_SIZE];
    copy_from_user(&mut fprog, optval).map_err(|_| Errno::EFAULT)?;
    let len = usize::from(u16::from_ne_bytes([fprog[0], fprog[1]]));
    let mut ptr = [0; 8];
    ptr.copy_from_slice(&fprog[8..]);
    let insns = UserAddr::new(u64::from_ne_bytes(ptr));
    if len == 0 || len > BPF_MAXINSNS || insns.is_null() {
        return Err(Errno::EINVAL);
    }
    let mut raw = alloc::vec![0; len * 8];
    copy_from_user(&mut raw, insns).map_err(|_| Errno::EFAULT)?;
    let mut prog = Vec::new();
    prog.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
    for chunk in raw.chunks_exact(8) {
        let mut b = [0; 8];
        b.copy_from_slice(chunk);
        prog.push(SockFilter::from_bytes(b));
    }
    bpf_check_classic(&prog).map_err(|_| Errno::EINVAL)?;
    *sk.filter.lock() = Some(Arc::new(prog));
    Ok(())
}

/// Linux: `sk_detach_filter`: `ENOENT` when none is attached.
pub fn sk_detach_filter(sk: &Sock) -> KResult<()> {
    sk.filter.lock().take().map(drop).ok_or(Errno::ENOENT)
}

/// The attached program, if any.
pub fn sk_filter(sk: &Sock) -> Option<SkFilter> {
    sk.filter.lock().clone()
}

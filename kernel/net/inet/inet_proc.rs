//! The rows /proc/net/udp, udp6, raw and raw6 share (Linux:
//! net/ipv4/udp.c `udp4_format_sock`, net/ipv4/raw.c `raw_sock_seq_show`,
//! net/ipv6/datagram.c `__ip6_dgram_sock_seq_show`).
//!
//! # Locking
//! None: the callers copy each socket's fields out first.
#![deny(unsafe_code)]

use smoltcp::wire::IpAddress;

use crate::fs::proc::generic::SeqBuf;
use crate::kernel::errno::KResult;

/// The IPv6 tables' header (Linux: `IPV6_SEQ_DGRAM_HEADER`).
pub const IPV6_SEQ_DGRAM_HEADER: &[u8] = b"  sl  local_address                         \
remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout \
inode ref pointer drops\n";

/// `TCP_ESTABLISHED` and `TCP_CLOSE`, the states a datagram socket shows.
pub const TCP_ESTABLISHED: u8 = 1;
pub const TCP_CLOSE: u8 = 7;

/// One socket's line.
pub struct DgramRow {
    /// Linux's hash bucket, the first column.
    pub bucket: u32,
    pub local: Option<IpAddress>,
    pub local_port: u16,
    pub remote: Option<IpAddress>,
    pub remote_port: u16,
    pub rx_queue: usize,
    pub uid: u32,
    pub ino: u64,
}

/// An address as Linux prints it: each 32-bit word with `%08X` as the
/// CPU holds it (a big-endian word on a little-endian machine); IPv4
/// shown IPv4-mapped in an IPv6 table.
pub fn hex_addr(out: &mut SeqBuf, addr: Option<IpAddress>, v6: bool) -> KResult<()> {
    let mut bytes = [0u8; 16];
    let len = if v6 { 16 } else { 4 };
    match (addr, v6) {
        (Some(IpAddress::Ipv4(a)), false) => bytes[..4].copy_from_slice(&a.octets()),
        (Some(IpAddress::Ipv4(a)), true) => {
            bytes[10..12].copy_from_slice(&[0xff, 0xff]);
            bytes[12..].copy_from_slice(&a.octets());
        }
        (Some(IpAddress::Ipv6(a)), _) => bytes.copy_from_slice(&a.octets()),
        (None, _) => {}
    }
    for w in bytes[..len].chunks(4) {
        let word = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        out.printf(format_args!("{word:08X}"))?;
    }
    Ok(())
}

/// Prints `r`: the bucket `width` columns wide, the line padded to 127
/// columns when `pad` (Linux's `seq_setwidth` for /proc/net/udp).
pub fn dgram_row(out: &mut SeqBuf, v6: bool, width: usize, pad: bool, r: &DgramRow) -> KResult<()> {
    let start = out.buf.len();
    out.printf(format_args!("{:width$}: ", r.bucket))?;
    hex_addr(out, r.local, v6)?;
    out.printf(format_args!(":{:04X} ", r.local_port))?;
    hex_addr(out, r.remote, v6)?;
    let state = if r.remote.is_some() { TCP_ESTABLISHED } else { TCP_CLOSE };
    out.printf(format_args!(
        ":{:04X} {state:02X} {:08X}:{:08X} 00:00000000 00000000 {:>5} {:>8} {} 2 {:016x} 0",
        r.remote_port, 0, r.rx_queue, r.uid, 0, r.ino, 0usize,
    ))?;
    if pad {
        let used = out.buf.len() - start;
        out.printf(format_args!("{:w$}", "", w = 127usize.saturating_sub(used)))?;
    }
    out.puts(b"\n")
}

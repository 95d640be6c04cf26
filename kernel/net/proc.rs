//! /proc/net: the network tables `ifconfig`, `arp`, `route` and `netstat`
//! read (Linux: net/core/net-procfs.c, net/ipv4/arp.c `arp_seq_show`,
//! net/ipv4/fib_trie.c `fib_route_seq_show`, net/packet/af_packet.c
//! `packet_seq_show`).
//!
//! The tables are rendered by their owners (net/core/net_procfs.rs, the
//! families: TCP, UDP and raw sockets list themselves); this file only
//! names them. Ferrite has no neighbours (no
//! NIC, so no ARP), so /proc/net/arp is Linux's header and no rows. Linux's
//! /proc/net is a link to `self/net`, per network namespace; with one
//! namespace, a directory is the same.
//!
//! # Locking
//! None here.
#![deny(unsafe_code)]

use crate::fs::proc::generic::{ProcEntry, ProcKind, SeqBuf};
use crate::kernel::errno::KResult;
use crate::net::core::net_procfs;
use crate::net::inet::{raw, tcp_proc, udp};

/// The entries of /proc/net.
pub static PROC_NET_ENTRIES: &[ProcEntry] = &[
    ProcEntry { name: "arp", kind: ProcKind::Global(arp_seq_show) },
    ProcEntry { name: "dev", kind: ProcKind::Global(net_procfs::dev_seq_show) },
    ProcEntry { name: "if_inet6", kind: ProcKind::Global(net_procfs::if6_seq_show) },
    ProcEntry { name: "packet", kind: ProcKind::Global(crate::net::packet::packet_seq_show) },
    ProcEntry { name: "raw", kind: ProcKind::Global(|m| raw::raw_seq_show(m, false)) },
    ProcEntry { name: "raw6", kind: ProcKind::Global(|m| raw::raw_seq_show(m, true)) },
    ProcEntry { name: "route", kind: ProcKind::Global(net_procfs::fib_route_seq_show) },
    ProcEntry { name: "tcp", kind: ProcKind::Global(|m| tcp_proc::tcp4_seq_show(m, false)) },
    ProcEntry { name: "tcp6", kind: ProcKind::Global(|m| tcp_proc::tcp4_seq_show(m, true)) },
    ProcEntry { name: "udp", kind: ProcKind::Global(|m| udp::udp4_seq_show(m, false)) },
    ProcEntry { name: "udp6", kind: ProcKind::Global(|m| udp::udp4_seq_show(m, true)) },
];

/// /proc/net/arp: the neighbour table's header (Linux: `arp_seq_show`).
fn arp_seq_show(m: &mut SeqBuf) -> KResult<()> {
    m.puts(b"IP address       HW type     Flags       HW address            Mask     Device\n")
}

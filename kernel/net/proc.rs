//! /proc/net: the network tables `arp`, `route` and `netstat` read
//! (Linux: net/ipv4/arp.c `arp_seq_show`, net/ipv4/fib_trie.c
//! `fib_route_seq_show`).
//!
//! Ferrite has no IPv4 yet (only AF_UNIX, see net/mod.rs), so it has no
//! neighbours and no routes: each table is Linux's header and no rows,
//! what Linux shows on a machine without IPv4 interfaces. Linux's
//! /proc/net is a link to `self/net`, per network namespace; with one
//! namespace, a directory is the same.
//!
//! # Locking
//! None: fixed text.
#![deny(unsafe_code)]

use crate::fs::proc::generic::{ProcEntry, ProcKind, SeqBuf};
use crate::kernel::errno::KResult;

/// The entries of /proc/net.
pub static PROC_NET_ENTRIES: &[ProcEntry] = &[
    ProcEntry { name: "arp", kind: ProcKind::Global(arp_seq_show) },
    ProcEntry { name: "route", kind: ProcKind::Global(fib_route_seq_show) },
];

/// /proc/net/arp: the neighbour table's header (Linux: `arp_seq_show`).
fn arp_seq_show(m: &mut SeqBuf) -> KResult<()> {
    m.puts(b"IP address       HW type     Flags       HW address            Mask     Device\n")
}

/// /proc/net/route: the main table's header, padded to 127 columns as
/// Linux pads every line (Linux: `fib_route_seq_show`).
fn fib_route_seq_show(m: &mut SeqBuf) -> KResult<()> {
    let header =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT";
    m.printf(format_args!("{header:<127}\n"))
}

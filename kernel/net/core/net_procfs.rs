//! The interface tables of /proc/net: `dev` (counters), `if_inet6` (IPv6
//! addresses) and `route` (the IPv4 main table) (Linux:
//! net/core/net-procfs.c `dev_seq_show`, net/ipv6/addrconf.c
//! `if6_seq_show`, net/ipv4/fib_trie.c `fib_route_seq_show`).
//!
//! Ferrite keeps no routing table of its own: the routes are those Linux
//! derives from the addresses (`fib_add_ifaddr`). A loopback device's
//! prefix routes are `local`, in the local table, so `lo` alone puts
//! nothing in the main table that /proc/net/route shows.
//!
//! # Locking
//! Each device's address list is copied under its leaf lock; nothing else
//! is held while rendering.
#![deny(unsafe_code)]

use core::sync::atomic::Ordering;

use crate::fs::proc::generic::SeqBuf;
use crate::kernel::errno::KResult;
use crate::net::core::dev::{NetDevice, for_each_netdev};
use crate::net::ipv4::devinet::{IFA_F_SECONDARY, RT_SCOPE_HOST, RT_SCOPE_LINK};

/// /proc/net/dev (Linux: `dev_seq_show`, `dev_seq_printf_stats`).
pub fn dev_seq_show(m: &mut SeqBuf) -> KResult<()> {
    m.puts(
        b"Inter-|   Receive                                                |  Transmit\n \
          face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets \
          errs drop fifo colls carrier compressed\n",
    )?;
    for dev in for_each_netdev() {
        dev_seq_printf_stats(m, &dev)?;
    }
    Ok(())
}

fn dev_seq_printf_stats(m: &mut SeqBuf, dev: &NetDevice) -> KResult<()> {
    let s = &dev.stats;
    let get = |c: &core::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    m.printf(format_args!(
        "{:>6}: {:7} {:7} {:4} {:4} {:4} {:5} {:10} {:9} {:8} {:7} {:4} {:4} {:4} {:5} {:7} {:10}\n",
        dev.name,
        get(&s.rx_bytes),
        get(&s.rx_packets),
        get(&s.rx_errors),
        get(&s.rx_dropped),
        0,
        0,
        0,
        get(&s.multicast),
        get(&s.tx_bytes),
        get(&s.tx_packets),
        get(&s.tx_errors),
        get(&s.tx_dropped),
        0,
        0,
        0,
        0,
    ))
}

/// The IPv6 scope bits /proc/net/if_inet6 shows (Linux:
/// `IPV6_ADDR_LOOPBACK` 0x10, `IPV6_ADDR_LINKLOCAL` 0x20, global 0).
fn ipv6_scope_bits(rt_scope: u8) -> u8 {
    match rt_scope {
        RT_SCOPE_HOST => 0x10,
        RT_SCOPE_LINK => 0x20,
        _ => 0,
    }
}

/// /proc/net/if_inet6: address, index, prefix, scope, flags, name
/// (Linux: `if6_seq_show`).
pub fn if6_seq_show(m: &mut SeqBuf) -> KResult<()> {
    for dev in for_each_netdev() {
        let addrs = dev.ip6_ptr.lock().clone();
        for ifa in addrs {
            for b in ifa.addr {
                m.printf(format_args!("{b:02x}"))?;
            }
            m.printf(format_args!(
                " {:02x} {:02x} {:02x} {:02x} {:>8}\n",
                dev.ifindex,
                ifa.prefixlen,
                ipv6_scope_bits(ifa.scope),
                ifa.flags & 0xff,
                dev.name
            ))?;
        }
    }
    Ok(())
}

/// Linux: `RTF_UP`.
const RTF_UP: u32 = 0x0001;

/// /proc/net/route: the main table's routes, each line padded to 127
/// columns; addresses are printed as the `__be32` read in host order, as
/// Linux's `%08X` does (Linux: `fib_route_seq_show`).
pub fn fib_route_seq_show(m: &mut SeqBuf) -> KResult<()> {
    let header =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT";
    m.printf(format_args!("{header:<127}\n"))?;
    for dev in for_each_netdev() {
        // Linux: `fib_add_ifaddr` puts a loopback device's prefix routes
        // in the local table, and a down device has none.
        if dev.is_loopback() || !dev.is_up() {
            continue;
        }
        let addrs = dev.ip_ptr.lock().clone();
        for ifa in addrs.iter().filter(|a| a.flags & IFA_F_SECONDARY == 0) {
            let mask = u32::from_be_bytes(ifa.mask());
            let prefix = u32::from_be_bytes(ifa.local) & mask;
            if prefix & 0xff00_0000 == 0
                || (ifa.local == prefix.to_be_bytes() && ifa.prefixlen == 32)
            {
                continue;
            }
            let line = alloc::format!(
                "{}\t{:08X}\t{:08X}\t{:04X}\t{}\t{}\t{}\t{:08X}\t{}\t{}\t{}",
                dev.name,
                u32::from_le_bytes(prefix.to_be_bytes()),
                0,
                RTF_UP,
                0,
                0,
                0,
                u32::from_le_bytes(mask.to_be_bytes()),
                0,
                0,
                0
            );
            m.printf(format_args!("{line:<127}\n"))?;
        }
    }
    Ok(())
}

/// /proc/sys/net/core/somaxconn (read-only here: the cap `listen`
/// applies, Linux's default).
pub fn somaxconn_show(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("{}\n", crate::net::socket::SOMAXCONN))
}

/// /proc/sys/net/ipv4/ip_local_port_range (read-only here): the
/// ephemeral ports, tab-separated as Linux prints them.
pub fn port_range_show(m: &mut SeqBuf) -> KResult<()> {
    let r = crate::net::inet::port::EPHEMERAL;
    m.printf(format_args!("{}\t{}\n", r.start(), r.end()))
}

crate::ktest!(net_procfs_dev_header_and_lo, {
    let text = crate::fs::proc::generic::render(dev_seq_show).map_err(|_| "render")?;
    let text = core::str::from_utf8(&text).map_err(|_| "utf8")?;
    let mut lines = text.lines();
    crate::kassert!(
        lines.next()
            == Some("Inter-|   Receive                                                |  Transmit"),
        "first header line"
    );
    crate::kassert!(
        lines.next()
            == Some(
                " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed"
            ),
        "second header line"
    );
    crate::kassert!(lines.any(|l| l.starts_with("    lo: ")), "lo row");
    Ok(())
});

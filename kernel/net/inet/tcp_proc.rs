//! /proc/net/tcp and /proc/net/tcp6 (Linux: net/ipv4/tcp_ipv4.c
//! `tcp4_seq_show`, `get_tcp4_sock`, `get_timewait4_sock`;
//! net/ipv6/tcp_ipv6.c `tcp6_seq_show`, `get_tcp6_sock`).
//!
//! One row per listener and per connection: the sockets with a file,
//! then the connections waiting in accept queues and the orphans (inode
//! 0). An address is the `__be32` words printed as the machine reads
//! them, so 127.0.0.1 is `0100007F`; ports are in host order. The timer
//! columns carry Linux's idle values: smoltcp keeps its timers to itself.
//!
//! # Locking
//! Rows are gathered under each socket's `inner` and `STACK`, printed
//! after.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use smoltcp::socket::tcp::{self, State};
use smoltcp::wire::IpAddress;

use super::stack::with_stack;
use super::tcp::{SsState, TcpSock};
use super::tcp_opts::tcp_state_num;
use crate::fs::proc::generic::SeqBuf;
use crate::kernel::errno::KResult;

/// One row.
struct Row {
    local: (Option<IpAddress>, u16),
    remote: (Option<IpAddress>, u16),
    state: State,
    tx_queue: usize,
    rx_queue: usize,
    uid: u32,
    ino: u64,
}

/// Linux: `TMPSZ`: /proc/net/tcp lines are padded to 149 columns.
const TMPSZ: usize = 150;

/// The rows of the sockets of one family.
fn gather(v6: bool) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut listener_ids = Vec::new();
    for sock in TcpSock::all() {
        if sock.is_v6() != v6 {
            continue;
        }
        let ino = sock.sk.ino.load(core::sync::atomic::Ordering::Relaxed);
        let mut st = sock.inner.lock();
        if st.ss == SsState::Listening {
            let queued = with_stack(|s| s.tcp.listeners.get(&sock.id).map_or(0, |l| l.queue.len()));
            rows.push(Row {
                local: (st.local_addr, st.local_port),
                remote: (None, 0),
                state: State::Listen,
                tx_queue: 0,
                rx_queue: queued.unwrap_or(0),
                uid: sock.uid,
                ino,
            });
            listener_ids.push((sock.id, sock.uid));
            continue;
        }
        let Some(h) = st.handle else { continue };
        if sock.tcp_state(&mut st).is_none_or(|s| s == State::Closed) {
            continue;
        }
        let _ = with_stack(|s| {
            if let Some(t) = s.socket_mut::<tcp::Socket<'static>>(h) {
                rows.push(conn_row(t, sock.uid, ino));
            }
        });
    }
    let _ = with_stack(|s| {
        let mut handles = Vec::new();
        for (id, uid) in &listener_ids {
            if let Some(l) = s.tcp.listeners.get(id) {
                handles.extend(l.queue.iter().map(|h| (*h, *uid)));
            }
        }
        handles.extend(s.tcp.orphans.iter().filter(|o| o.v6 == v6).map(|o| (o.handle, o.uid)));
        for (h, uid) in handles {
            if let Some(t) = s.socket_mut::<tcp::Socket<'static>>(h)
                && t.state() != State::Closed
            {
                rows.push(conn_row(t, uid, 0));
            }
        }
    });
    rows
}

fn conn_row(t: &tcp::Socket<'static>, uid: u32, ino: u64) -> Row {
    let local = t.local_endpoint().map_or((None, 0), |e| (Some(e.addr), e.port));
    let remote = t.remote_endpoint().map_or((None, 0), |e| (Some(e.addr), e.port));
    Row {
        local,
        remote,
        state: t.state(),
        tx_queue: t.send_queue(),
        rx_queue: t.recv_queue(),
        uid,
        ino,
    }
}

/// `%08X` of a `__be32` as x86 reads it.
fn v4_word(a: Option<IpAddress>) -> u32 {
    match a {
        Some(IpAddress::Ipv4(a)) => u32::from_le_bytes(a.octets()),
        _ => 0,
    }
}

/// The four `s6_addr32` words of an address (an IPv4 one mapped).
fn v6_words(a: Option<IpAddress>) -> [u32; 4] {
    let octets = match a {
        Some(IpAddress::Ipv6(a)) => a.octets(),
        Some(IpAddress::Ipv4(a)) => a.to_ipv6_mapped().octets(),
        None => [0; 16],
    };
    let mut w = [0; 4];
    for (i, c) in octets.chunks_exact(4).enumerate() {
        w[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    w
}

/// The columns after the addresses, as `get_tcp4_sock` prints them (or
/// `get_timewait4_sock` for TIME-WAIT).
fn tail(r: &Row) -> alloc::string::String {
    let st = tcp_state_num(r.state);
    if r.state == State::TimeWait {
        return alloc::format!(
            "{st:02X} 00000000:00000000 03:00000000 00000000     0        0 0 1 0000000000000000"
        );
    }
    let listen = r.state == State::Listen;
    let (rto, ato, ssthresh) = if listen { (100, 0, 0) } else { (20, 4, -1) };
    alloc::format!(
        "{st:02X} {:08X}:{:08X} 00:00000000 00000000 {:5} {:8} {} 1 0000000000000000 {rto} {ato} 0 10 {ssthresh}",
        r.tx_queue,
        r.rx_queue,
        r.uid,
        0,
        r.ino
    )
}

/// /proc/net/tcp (`v6` false) or /proc/net/tcp6 (Linux: `tcp4_seq_show`,
/// `tcp6_seq_show`).
pub fn tcp4_seq_show(m: &mut SeqBuf, v6: bool) -> KResult<()> {
    let rows = gather(v6);
    if !v6 {
        let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
        m.printf(format_args!("{header:<w$}\n", w = TMPSZ - 1))?;
        for (i, r) in rows.iter().enumerate() {
            let line = alloc::format!(
                "{i:4}: {:08X}:{:04X} {:08X}:{:04X} {}",
                v4_word(r.local.0),
                r.local.1,
                v4_word(r.remote.0),
                r.remote.1,
                tail(r)
            );
            m.printf(format_args!("{line:<w$}\n", w = TMPSZ - 1))?;
        }
        return Ok(());
    }
    m.puts(
        b"  sl  local_address                         remote_address                        \
st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
    )?;
    for (i, r) in rows.iter().enumerate() {
        let l = v6_words(r.local.0);
        let p = v6_words(r.remote.0);
        m.printf(format_args!(
            "{i:4}: {:08X}{:08X}{:08X}{:08X}:{:04X} {:08X}{:08X}{:08X}{:08X}:{:04X} {}\n",
            l[0],
            l[1],
            l[2],
            l[3],
            r.local.1,
            p[0],
            p[1],
            p[2],
            p[3],
            r.remote.1,
            tail(r)
        ))?;
    }
    Ok(())
}

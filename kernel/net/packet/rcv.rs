//! Packet sockets, the receive side: the tap each socket puts on the
//! device layer, turning what it sees into queued frames (Linux:
//! net/packet/af_packet.c `packet_rcv`, `run_filter`,
//! `tpacket_auxdata`'s fill in `packet_recvmsg`).
//!
//! # Locking
//! The taps run under the stack's lock: a socket's `inner`, its
//! `Sock::filter` and `PACKET_WAKE` are taken one at a time, and the wake
//! is left to [`packet_wake_pending`] (a timer, or the sender).
#![deny(unsafe_code)]

use alloc::sync::Weak;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use linux_raw_sys::if_arp::{ARPHRD_ETHER, ARPHRD_LOOPBACK};
use linux_raw_sys::if_ether::{ETH_P_ALL, ETH_P_IP, ETH_P_IPV6};

#[expect(clippy::cast_possible_truncation, reason = "ethertypes are 16 bits")]
const PROTO_ALL: u16 = ETH_P_ALL as u16;
#[expect(clippy::cast_possible_truncation, reason = "ethertypes are 16 bits")]
const PROTO_IP: u16 = ETH_P_IP as u16;
#[expect(clippy::cast_possible_truncation, reason = "ethertypes are 16 bits")]
const PROTO_IPV6: u16 = ETH_P_IPV6 as u16;
use linux_raw_sys::if_packet as uapi_pkt;

use super::{ETH_HDR, PacketSkb, PacketSock, SA_FAMILY_PACKET, SLL_ADDR_OFF, SOCKADDR_LL_SIZE};
use crate::kernel::locking::SpinLock;
use crate::kernel::time::timer::TimerList;
use crate::net::core::dev::{NetDevice, PacketDir, PacketTap};
use crate::net::sock::SockType;

/// The tap that delivers to one socket; weak, so that it never keeps a
/// closed socket alive.
pub(super) struct PacketHook(pub(super) Weak<PacketSock>);

impl PacketTap for PacketHook {
    fn func(&self, dev: &NetDevice, pkt: &[u8], dir: PacketDir) {
        if let Some(po) = self.0.upgrade() {
            po.packet_rcv(dev, pkt, dir);
        }
    }
}

/// Sockets given a packet under the stack's lock, to be woken.
static PACKET_WAKE: SpinLock<Vec<Weak<PacketSock>>> = SpinLock::new(Vec::new());
static PACKET_WAKE_TIMER: spin::Lazy<TimerList> =
    spin::Lazy::new(|| TimerList::new(packet_wake_pending));

/// Wakes the sockets that were given packets (Linux: `sk_data_ready`,
/// here deferred out of the stack's lock).
pub fn packet_wake_pending() {
    let list = core::mem::take(&mut *PACKET_WAKE.lock());
    let mut woke = false;
    for po in list.iter().filter_map(Weak::upgrade) {
        po.inner.lock().wake_pending = false;
        po.sk.wq.wake_up_all();
        woke = true;
    }
    if woke {
        crate::fs::select::poll_wake();
    }
}

/// The ethertype of a bare IP packet, from its version.
fn ip_ethertype(pkt: &[u8]) -> u16 {
    match pkt.first().map(|b| b >> 4) {
        Some(4) => PROTO_IP,
        Some(6) => PROTO_IPV6,
        _ => 0,
    }
}

impl PacketSock {
    /// A packet seen on `dev`; queued if it is for this socket and the
    /// filter keeps it (Linux: `packet_rcv`). Runs under the stack lock.
    fn packet_rcv(&self, dev: &NetDevice, pkt: &[u8], dir: PacketDir) {
        let (num, ifindex, ignore_out, sending) = {
            let st = self.inner.lock();
            (st.num, st.ifindex, st.opts.ignore_outgoing, st.sending)
        };
        let outgoing = dir == PacketDir::Outgoing;
        if (ifindex != 0 && ifindex != dev.ifindex)
            || (outgoing && (num != PROTO_ALL || ignore_out || sending == pkt.as_ptr() as usize))
        {
            return;
        }
        let (frame, net_off, proto) = match u32::from(dev.dev_type) {
            ARPHRD_ETHER if pkt.len() >= ETH_HDR => {
                (pkt.to_vec(), ETH_HDR, u16::from_be_bytes([pkt[12], pkt[13]]))
            }
            ARPHRD_ETHER => return,
            ARPHRD_LOOPBACK => {
                let proto = ip_ethertype(pkt);
                let mut f = Vec::new();
                if f.try_reserve_exact(ETH_HDR + pkt.len()).is_err() {
                    return;
                }
                f.extend_from_slice(&[0; 12]);
                f.extend_from_slice(&proto.to_be_bytes());
                f.extend_from_slice(pkt);
                (f, ETH_HDR, proto)
            }
            _ => (pkt.to_vec(), 0, ip_ethertype(pkt)),
        };
        if num != PROTO_ALL && num != proto {
            return;
        }
        let pkttype = u8::try_from(match (outgoing, frame.first()) {
            (true, _) => uapi_pkt::PACKET_OUTGOING,
            (false, _) if net_off == 0 => uapi_pkt::PACKET_HOST,
            (false, _) if frame[..6] == [0xff; 6] => uapi_pkt::PACKET_BROADCAST,
            (false, Some(b)) if b & 1 != 0 => uapi_pkt::PACKET_MULTICAST,
            (false, _) if frame[..6] == dev.dev_addr => uapi_pkt::PACKET_HOST,
            (false, _) => uapi_pkt::PACKET_OTHERHOST,
        })
        .unwrap_or(0);
        self.queue_frame(dev, frame, net_off, proto, pkttype);
    }

    /// Filters and queues a frame (the second half of `packet_rcv`).
    fn queue_frame(
        &self,
        dev: &NetDevice,
        frame: Vec<u8>,
        net_off: usize,
        proto: u16,
        pkttype: u8,
    ) {
        let data_off = if self.sk.sk_type == SockType::Raw { 0 } else { net_off };
        let len = frame.len() - data_off;
        let snaplen = match crate::net::core::filter::sk_filter(&self.sk) {
            Some(prog) => {
                let pkt = bpf::BpfPacket {
                    buf: &frame,
                    data: data_off,
                    net: net_off,
                    protocol: proto,
                    pkttype,
                    ifindex: dev.ifindex,
                    hatype: dev.dev_type,
                };
                usize::try_from(bpf::bpf_run(&prog, &pkt)).unwrap_or(usize::MAX).min(len)
            }
            None => len,
        };
        if snaplen == 0 {
            return;
        }
        let mut sll = [0; SOCKADDR_LL_SIZE];
        sll[..2].copy_from_slice(&SA_FAMILY_PACKET.to_ne_bytes());
        sll[2..4].copy_from_slice(&proto.to_be_bytes());
        sll[4..8].copy_from_slice(&dev.ifindex.to_ne_bytes());
        sll[8..10].copy_from_slice(&dev.dev_type.to_ne_bytes());
        sll[10] = pkttype;
        if net_off >= ETH_HDR {
            // Linux: `dev_parse_header`, the source address.
            sll[11] = 6;
            sll[SLL_ADDR_OFF..SLL_ADDR_OFF + 6].copy_from_slice(&frame[6..12]);
        }
        let data = frame[data_off..data_off + snaplen].to_vec();
        let skb = PacketSkb {
            data,
            sll,
            origlen: len,
            net_off: u16::try_from(net_off - data_off).unwrap_or(0),
            pkttype,
        };
        let rcvbuf = self.sk.sk_rcvbuf.load(Ordering::Relaxed) as usize;
        let first = {
            let mut st = self.inner.lock();
            if st.queued_bytes >= rcvbuf || st.queue.try_reserve(1).is_err() {
                st.tp_drops = st.tp_drops.saturating_add(1);
                return;
            }
            st.queued_bytes += skb.data.len();
            st.queue.push_back(skb);
            st.tp_packets = st.tp_packets.saturating_add(1);
            !core::mem::replace(&mut st.wake_pending, true)
        };
        // One entry per socket until it is woken keeps the list short.
        if first {
            PACKET_WAKE.lock().push(self.me.clone());
        }
        let _ = PACKET_WAKE_TIMER.mod_timer(crate::kernel::time::jiffies::jiffies() + 1);
    }
}

/// `struct tpacket_auxdata` for a packet (Linux: `packet_recvmsg`):
/// looped-back packets have checksums Ferrite computed, so incoming ones
/// are valid (Linux: `CHECKSUM_UNNECESSARY` on loopback).
pub(super) fn tpacket_auxdata(skb: &PacketSkb) -> Vec<u8> {
    const TP_STATUS_USER: u32 = 1;
    const TP_STATUS_CSUM_VALID: u32 = 0x80;
    let mut status = TP_STATUS_USER;
    if u32::from(skb.pkttype) != uapi_pkt::PACKET_OUTGOING {
        status |= TP_STATUS_CSUM_VALID;
    }
    let mut b = Vec::with_capacity(20);
    b.extend_from_slice(&status.to_ne_bytes());
    b.extend_from_slice(&u32::try_from(skb.origlen).unwrap_or(u32::MAX).to_ne_bytes());
    b.extend_from_slice(&u32::try_from(skb.data.len()).unwrap_or(u32::MAX).to_ne_bytes());
    b.extend_from_slice(&0u16.to_ne_bytes());
    b.extend_from_slice(&skb.net_off.to_ne_bytes());
    b.extend_from_slice(&[0; 4]);
    b
}

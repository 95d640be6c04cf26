//! Packet sockets: raw access to the frames of an interface (Linux:
//! net/packet/af_packet.c `packet_create`, `packet_bind`, `packet_rcv`,
//! `packet_snd`, `packet_recvmsg`, `packet_seq_show`).
//!
//! A socket of protocol P (an ethertype in network order, or `ETH_P_ALL`)
//! is a [`PacketTap`] on the device layer: it sees every packet in and,
//! for `ETH_P_ALL`, every packet out, of the device it is bound to (any
//! without a bind). `SOCK_RAW` reads and writes whole frames, `SOCK_DGRAM`
//! what follows the link-layer header, with the link address in a
//! `struct sockaddr_ll`. An attached classic BPF filter (net/core/
//! filter.rs) decides what is queued and how much of it.
//!
//! Loopback: Linux's `lo` frames carry a 14-byte Ethernet header of zero
//! addresses; Ferrite's `lo` carries bare IP packets (smoltcp's
//! `Medium::Ip`), so that header is made on receive (its ethertype from
//! the IP version) and taken off on send. A `SOCK_RAW` frame of another
//! ethertype sent on `lo` goes out as its payload and reads back as IP
//! or nothing: the only difference from Linux.
//!
//! # Locking
//! A socket's `inner` is a leaf spinlock: the taps run under the stack's
//! lock (net/inet/stack.rs), so nothing is woken there; the wake is
//! deferred to [`packet_wake_pending`], run by a timer or right after a
//! send. `PACKET_SOCKS` and `PACKET_WAKE` are leaves.
#![deny(unsafe_code)]

mod rcv;
mod sockopt;

pub use rcv::packet_wake_pending;
use rcv::{PacketHook, tpacket_auxdata};

use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use linux_raw_sys::general::{self as uapi, CAP_NET_RAW};
use linux_raw_sys::if_arp::{ARPHRD_ETHER, ARPHRD_LOOPBACK};
use linux_raw_sys::if_ether::ETH_HLEN;
use linux_raw_sys::if_packet as uapi_pkt;
use linux_raw_sys::net as uapi_net;

use crate::fs::file_table::PollMask;
use crate::fs::proc::generic::SeqBuf;
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::net::core::dev::{
    NetDevice, PacketTap, dev_add_pack, dev_get_by_index, dev_remove_pack,
};
use crate::net::msg::{RecvMsg, SendMsg};
use crate::net::sock::{Sock, SockType};
use crate::net::socket::ProtoOps;

/// `sll_family`.
#[expect(clippy::cast_possible_truncation, reason = "AF_PACKET is 17")]
const SA_FAMILY_PACKET: u16 = uapi_net::AF_PACKET as u16;
/// Linux: `offsetof(struct sockaddr_ll, sll_addr)` and its size.
const SLL_ADDR_OFF: usize = 12;
const SOCKADDR_LL_SIZE: usize = 20;
const ETH_HDR: usize = ETH_HLEN as usize;
/// Linux: `VLAN_HLEN`, the slack a raw frame may have over the MTU.
const VLAN_HLEN: usize = 4;

/// One queued packet (Linux: an `sk_buff` with `PACKET_SKB_CB`).
struct PacketSkb {
    data: Vec<u8>,
    /// The `sockaddr_ll` recvfrom gives.
    sll: [u8; SOCKADDR_LL_SIZE],
    /// Bytes before the filter cut it (Linux: `origlen`, `tp_len`).
    origlen: usize,
    /// Where the network header starts in `data` (`tp_net`).
    net_off: u16,
    pkttype: u8,
}

/// The state behind the socket's lock (Linux: `struct packet_sock`).
struct PacketInner {
    /// The protocol in host order (Linux: `ntohs(po->num)`), 0 for none.
    num: u16,
    /// 0 for every device (Linux: `po->ifindex`).
    ifindex: u32,
    /// The tap is registered (Linux: `po->running`).
    tap: Option<Arc<dyn PacketTap>>,
    queue: VecDeque<PacketSkb>,
    queued_bytes: usize,
    /// The buffer being sent, so that the socket does not see its own
    /// packet go out (Linux: `skb_loop_sk`).
    sending: usize,
    /// The socket is on `PACKET_WAKE` (rcv.rs).
    wake_pending: bool,
    opts: sockopt::PacketOpts,
    /// Linux: `tpacket_stats`, reset when read.
    tp_packets: u32,
    tp_drops: u32,
}

/// A packet socket (Linux: `struct packet_sock`).
pub struct PacketSock {
    sk: Sock,
    /// The protocol `socket(2)` was given, as `SO_PROTOCOL` reports it.
    protocol: u16,
    /// Linux: `sock_i_uid`, for /proc/net/packet.
    uid: u32,
    id: u64,
    me: Weak<PacketSock>,
    inner: SpinLock<PacketInner>,
}

/// Every packet socket, for /proc/net/packet (Linux: `net->packet.sklist`).
static PACKET_SOCKS: SpinLock<Vec<Weak<PacketSock>>> = SpinLock::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Linux: `packet_create`: `EPERM` without CAP_NET_RAW,
/// `ESOCKTNOSUPPORT` for a type other than raw and datagram (Ferrite has
/// no obsolete `SOCK_PACKET`).
pub fn packet_create(type_: u32, protocol: i32) -> KResult<Arc<dyn ProtoOps>> {
    if !capable(CAP_NET_RAW) {
        return Err(Errno::EPERM);
    }
    let sk_type = match type_ {
        uapi_net::SOCK_RAW => SockType::Raw,
        uapi_net::SOCK_DGRAM => SockType::Dgram,
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    };
    // The protocol is a `__be16` in an int.
    let proto_be = u16::try_from(protocol & 0xffff).unwrap_or(0);
    let po = Arc::new_cyclic(|me| PacketSock {
        sk: Sock::new(sk_type),
        protocol: proto_be,
        uid: crate::kernel::sched::current().cred().euid,
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        me: me.clone(),
        inner: SpinLock::new(PacketInner {
            num: u16::from_be(proto_be),
            ifindex: 0,
            tap: None,
            queue: VecDeque::new(),
            queued_bytes: 0,
            sending: 0,
            wake_pending: false,
            opts: sockopt::PacketOpts::default(),
            tp_packets: 0,
            tp_drops: 0,
        }),
    });
    PACKET_SOCKS.lock().push(Arc::downgrade(&po));
    if proto_be != 0 {
        po.register_prot_hook();
    }
    Ok(po)
}

impl PacketSock {
    /// Linux: `register_prot_hook`.
    fn register_prot_hook(&self) {
        let tap: Arc<dyn PacketTap> = Arc::new(PacketHook(self.me.clone()));
        let old = self.inner.lock().tap.replace(tap.clone());
        if let Some(old) = old {
            dev_remove_pack(&old);
        }
        dev_add_pack(tap);
    }

    /// Linux: `unregister_prot_hook`.
    fn unregister_prot_hook(&self) {
        let old = self.inner.lock().tap.take();
        if let Some(old) = old {
            dev_remove_pack(&old);
        }
    }

    /// The device a send goes to and the protocol and address it carries
    /// (Linux: the start of `packet_snd`).
    fn snd_target(&self, name: Option<&[u8]>) -> KResult<(Arc<NetDevice>, u16)> {
        let (ifindex, proto) = match name {
            None => {
                let st = self.inner.lock();
                (st.ifindex, st.num)
            }
            Some(a) => {
                if a.len() < SOCKADDR_LL_SIZE || a.len() < SLL_ADDR_OFF + usize::from(a[11]) {
                    return Err(Errno::EINVAL);
                }
                let ifindex = i32::from_ne_bytes([a[4], a[5], a[6], a[7]]);
                (u32::try_from(ifindex).unwrap_or(0), u16::from_be_bytes([a[2], a[3]]))
            }
        };
        let dev = dev_get_by_index(ifindex).ok_or(Errno::ENXIO)?;
        if !dev.is_up() {
            return Err(Errno::ENETDOWN);
        }
        Ok((dev, proto))
    }

    /// Linux: `packet_snd`: builds the frame the device takes and sends
    /// it, then lets loopback deliver it.
    fn packet_snd(&self, msg: &SendMsg<'_>) -> KResult<usize> {
        let (dev, _proto) = self.snd_target(msg.name)?;
        let hard_header = if matches!(u32::from(dev.dev_type), ARPHRD_ETHER | ARPHRD_LOOPBACK) {
            ETH_HDR
        } else {
            0
        };
        let raw = self.sk.sk_type == SockType::Raw;
        let len = msg.data.len();
        let mtu = dev.mtu() as usize;
        if len > mtu + if raw { hard_header + VLAN_HLEN } else { 0 } {
            return Err(Errno::EMSGSIZE);
        }
        if raw && len < hard_header {
            // Linux: `dev_validate_header`.
            return Err(Errno::EINVAL);
        }
        let pkt = match u32::from(dev.dev_type) {
            // `lo` carries bare IP packets (see the module header).
            ARPHRD_LOOPBACK if raw => msg.data[ETH_HDR..].to_vec(),
            // TODO(issue 7): an Ethernet device's `SOCK_DGRAM` send needs
            // `dev_hard_header` (destination from `sll_addr`).
            _ => msg.data.to_vec(),
        };
        self.inner.lock().sending = pkt.as_ptr() as usize;
        let sent = dev.dev_queue_xmit(pkt);
        self.inner.lock().sending = 0;
        sent?;
        crate::net::inet::stack::net_rx_action();
        packet_wake_pending();
        Ok(len)
    }

    /// Takes (or, with `MSG_PEEK`, copies) the first packet.
    fn dequeue(&self, buf: &mut [u8], peek: bool) -> Option<RecvMsg> {
        let mut st = self.inner.lock();
        let auxdata = st.opts.auxdata;
        let skb = st.queue.front()?;
        let n = skb.data.len().min(buf.len());
        buf[..n].copy_from_slice(&skb.data[..n]);
        let mut out = RecvMsg {
            len: n,
            full_len: skb.data.len(),
            name: Some(skb.sll.to_vec()),
            ..RecvMsg::default()
        };
        if auxdata {
            out.cmsgs.push((uapi_net::SOL_PACKET, uapi_pkt::PACKET_AUXDATA, tpacket_auxdata(skb)));
        }
        if !peek {
            let used = skb.data.len();
            st.queue.pop_front();
            st.queued_bytes -= used;
        }
        Some(out)
    }
}

impl ProtoOps for PacketSock {
    fn sk(&self) -> &Sock {
        &self.sk
    }

    fn family(&self) -> u32 {
        uapi_net::AF_PACKET
    }

    fn protocol(&self) -> u32 {
        u32::from(self.protocol)
    }

    /// Linux: `packet_bind` → `packet_do_bind`: a protocol of 0 keeps the
    /// socket's; a device that is down leaves the socket not running with
    /// `ENETDOWN` pending.
    fn bind(&self, addr: &[u8]) -> KResult<()> {
        if addr.len() < SOCKADDR_LL_SIZE
            || u16::from_ne_bytes([addr[0], addr[1]]) != SA_FAMILY_PACKET
        {
            return Err(Errno::EINVAL);
        }
        let proto = u16::from_be_bytes([addr[2], addr[3]]);
        let ifindex = i32::from_ne_bytes([addr[4], addr[5], addr[6], addr[7]]);
        let dev = match ifindex {
            0 => None,
            i => Some(
                dev_get_by_index(u32::try_from(i).map_err(|_| Errno::ENODEV)?)
                    .ok_or(Errno::ENODEV)?,
            ),
        };
        self.unregister_prot_hook();
        let num = {
            let mut st = self.inner.lock();
            if proto != 0 {
                st.num = proto;
            }
            st.ifindex = dev.as_ref().map_or(0, |d| d.ifindex);
            st.num
        };
        if num == 0 {
            return Ok(());
        }
        if dev.as_ref().is_none_or(|d| d.is_up()) {
            self.register_prot_hook();
        } else {
            self.sk.set_err(Errno::ENETDOWN);
        }
        Ok(())
    }

    fn connect(&self, _addr: &[u8], _nonblock: bool) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }

    /// Linux: `packet_getname`: the bound device's type and address.
    fn getname(&self, peer: bool) -> KResult<Vec<u8>> {
        if peer {
            return Err(Errno::EOPNOTSUPP);
        }
        let (num, ifindex) = {
            let st = self.inner.lock();
            (st.num, st.ifindex)
        };
        let mut sll = alloc::vec![0; SOCKADDR_LL_SIZE];
        sll[..2].copy_from_slice(&SA_FAMILY_PACKET.to_ne_bytes());
        sll[2..4].copy_from_slice(&num.to_be_bytes());
        sll[4..8].copy_from_slice(&ifindex.to_ne_bytes());
        let mut halen = 0;
        if let Some(dev) = dev_get_by_index(ifindex) {
            sll[8..10].copy_from_slice(&dev.dev_type.to_ne_bytes());
            halen = usize::from(dev.addr_len).min(8).min(dev.dev_addr.len());
            sll[11] = u8::try_from(halen).unwrap_or(0);
            sll[SLL_ADDR_OFF..SLL_ADDR_OFF + halen].copy_from_slice(&dev.dev_addr[..halen]);
        }
        sll.truncate(SLL_ADDR_OFF + halen);
        Ok(sll)
    }

    /// Linux: `datagram_poll`.
    fn poll(&self) -> PollMask {
        let mut mask: PollMask = uapi::POLLOUT | uapi::POLLWRNORM | uapi::POLLWRBAND;
        if !self.inner.lock().queue.is_empty() {
            mask |= uapi::POLLIN | uapi::POLLRDNORM;
        }
        if self.sk.has_err() {
            mask |= uapi::POLLERR;
        }
        mask
    }

    fn shutdown(&self, _how: u32) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }

    fn sendmsg(&self, msg: SendMsg<'_>, _flags: u32, _nonblock: bool) -> KResult<usize> {
        self.packet_snd(&msg)
    }

    /// Linux: `packet_recvmsg`: one packet, waiting unless `nonblock`
    /// (or until `SO_RCVTIMEO`).
    fn recvmsg(&self, buf: &mut [u8], flags: u32, nonblock: bool) -> KResult<RecvMsg> {
        let allowed = uapi_net::MSG_PEEK
            | uapi_net::MSG_DONTWAIT
            | uapi_net::MSG_TRUNC
            | uapi_net::MSG_CMSG_CLOEXEC;
        if flags & !allowed != 0 {
            return Err(Errno::EINVAL);
        }
        let peek = flags & uapi_net::MSG_PEEK != 0;
        loop {
            if let Some(e) = self.sk.sock_error() {
                return Err(e);
            }
            if let Some(out) = self.dequeue(buf, peek) {
                return Ok(out);
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            let ready = || !self.inner.lock().queue.is_empty() || self.sk.has_err();
            let timeo_ns = self.sk.rcvtimeo_ns.load(Ordering::Relaxed);
            if timeo_ns == 0 {
                self.sk.wq.wait_event_interruptible(ready)?;
            } else {
                let ticks =
                    crate::kernel::time::jiffies::msecs_to_jiffies(timeo_ns.div_ceil(1_000_000));
                if !self.sk.wq.wait_event_interruptible_timeout(ready, ticks)? {
                    return Err(Errno::EAGAIN);
                }
            }
        }
    }

    /// Linux: `packet_ioctl`'s `SIOCINQ`: the first packet's length.
    fn inq_len(&self) -> KResult<usize> {
        Ok(self.inner.lock().queue.front().map_or(0, |s| s.data.len()))
    }

    fn release(&self) {
        self.unregister_prot_hook();
        let me = self.me.as_ptr();
        PACKET_SOCKS.lock().retain(|w| w.as_ptr() != me && w.strong_count() > 0);
        let mut st = self.inner.lock();
        st.queue.clear();
        st.queued_bytes = 0;
    }

    fn setsockopt(&self, level: u32, optname: u32, optval: &[u8]) -> KResult<()> {
        sockopt::packet_setsockopt(self, level, optname, optval)
    }

    fn getsockopt(&self, level: u32, optname: u32, len: usize) -> KResult<Vec<u8>> {
        sockopt::packet_getsockopt(self, level, optname, len)
    }
}

/// /proc/net/packet (Linux: `packet_seq_show`).
pub fn packet_seq_show(m: &mut SeqBuf) -> KResult<()> {
    m.puts(b"sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n")?;
    let socks: Vec<Arc<PacketSock>> =
        PACKET_SOCKS.lock().iter().filter_map(Weak::upgrade).collect();
    for po in socks {
        let (num, ifindex, running, rmem) = {
            let st = po.inner.lock();
            (st.num, st.ifindex, st.tap.is_some(), st.queued_bytes)
        };
        m.printf(format_args!(
            "{:016x} {:<6} {:<4} {:04x}   {:<5} {:1} {:<6} {:<6} {:<6}\n",
            po.id,
            Arc::strong_count(&po),
            po.sk.sk_type.raw(),
            num,
            ifindex,
            u8::from(running),
            rmem,
            po.uid,
            po.sk.ino.load(Ordering::Relaxed)
        ))?;
    }
    Ok(())
}

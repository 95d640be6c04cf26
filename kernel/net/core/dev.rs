//! Network devices: the registry of interfaces, their flags and counters,
//! the notifier chain that tells protocols about changes, and the packet
//! taps (Linux: net/core/dev.c `register_netdevice`, `dev_get_by_index`,
//! `dev_get_by_name`, `dev_change_flags`, `dev_queue_xmit`, `dev_add_pack`,
//! `call_netdevice_notifiers`; include/linux/netdevice.h `struct
//! net_device`).
//!
//! A [`NetDevice`] is an interface as user space sees it: a name, an
//! index, a type (`ARPHRD_*`), the `IFF_*` flags, an MTU, a hardware
//! address, statistics, and its protocol addresses (IPv4 in `ip_ptr`,
//! Linux's `in_device`; IPv6 in `ip6_ptr`, Linux's `inet6_dev`). The driver
//! behind it ([`NetDeviceOps`]) sends packets. Only one network namespace
//! exists (Linux: `init_net`).
//!
//! # Locking
//! `DEV_BASE` (the list), a device's `ip_ptr`/`ip6_ptr` and `PTYPE_ALL`/
//! `NOTIFIERS` are leaf spinlocks: each is copied out before anything is
//! called, so that notifier functions and taps run with none held.
//! Changes to flags and addresses are serialised by `RTNL` (Linux:
//! `rtnl_lock`), a sleeping mutex taken first.
#![deny(unsafe_code)]

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use linux_raw_sys::net::net_device_flags as nf;

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::locking::mutex::{Mutex, MutexGuard};

/// `IFF_*` flags as plain numbers.
pub const IFF_UP: u32 = nf::IFF_UP as u32;
pub const IFF_BROADCAST: u32 = nf::IFF_BROADCAST as u32;
pub const IFF_LOOPBACK: u32 = nf::IFF_LOOPBACK as u32;
pub const IFF_RUNNING: u32 = nf::IFF_RUNNING as u32;
pub const IFF_NOARP: u32 = nf::IFF_NOARP as u32;
pub const IFF_PROMISC: u32 = nf::IFF_PROMISC as u32;
pub const IFF_ALLMULTI: u32 = nf::IFF_ALLMULTI as u32;
pub const IFF_MULTICAST: u32 = nf::IFF_MULTICAST as u32;
pub const IFF_LOWER_UP: u32 = nf::IFF_LOWER_UP as u32;

/// The flags user space may change (Linux: `dev_change_flags` keeps
/// `IFF_UP`, `IFF_DEBUG`, `IFF_NOTRAILERS`, `IFF_NOARP`, `IFF_DYNAMIC`,
/// `IFF_MULTICAST`, `IFF_PORTSEL`, `IFF_AUTOMEDIA`, `IFF_PROMISC`,
/// `IFF_ALLMULTI` from the caller).
const IFF_USER_SETTABLE: u32 = IFF_UP
    | nf::IFF_DEBUG as u32
    | nf::IFF_NOTRAILERS as u32
    | IFF_NOARP
    | nf::IFF_DYNAMIC as u32
    | IFF_MULTICAST
    | nf::IFF_PORTSEL as u32
    | nf::IFF_AUTOMEDIA as u32
    | IFF_PROMISC
    | IFF_ALLMULTI;

/// Linux: `IFNAMSIZ`, the name with its NUL.
pub const IFNAMSIZ: usize = 16;

/// What a driver does (Linux: `struct net_device_ops`).
pub trait NetDeviceOps: Send + Sync {
    /// Sends one packet (Linux: `ndo_start_xmit`). For a `Medium::Ip`
    /// device such as loopback the packet starts at the IP header.
    fn ndo_start_xmit(&self, dev: &NetDevice, pkt: Vec<u8>) -> KResult<()>;
    /// The device is brought up or down (Linux: `ndo_open`/`ndo_stop`).
    fn ndo_open(&self, _dev: &NetDevice) -> KResult<()> {
        Ok(())
    }
    fn ndo_stop(&self, _dev: &NetDevice) {}
}

/// Counters (Linux: `struct rtnl_link_stats64`, the fields `/proc/net/dev`
/// and `IFLA_STATS64` show).
#[derive(Default)]
pub struct NetDeviceStats {
    pub rx_packets: AtomicU64,
    pub tx_packets: AtomicU64,
    pub rx_bytes: AtomicU64,
    pub tx_bytes: AtomicU64,
    pub rx_errors: AtomicU64,
    pub tx_errors: AtomicU64,
    pub rx_dropped: AtomicU64,
    pub tx_dropped: AtomicU64,
    pub multicast: AtomicU64,
}

impl NetDeviceStats {
    pub fn count_tx(&self, len: usize) {
        self.tx_packets.fetch_add(1, Ordering::Relaxed);
        self.tx_bytes.fetch_add(len as u64, Ordering::Relaxed);
    }

    pub fn count_rx(&self, len: usize) {
        self.rx_packets.fetch_add(1, Ordering::Relaxed);
        self.rx_bytes.fetch_add(len as u64, Ordering::Relaxed);
    }
}

/// One IPv4 address of an interface (Linux: `struct in_ifaddr`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InIfaddr {
    /// The address itself (Linux: `ifa_local`).
    pub local: [u8; 4],
    /// The peer on a point-to-point link, else `local` (`ifa_address`).
    pub address: [u8; 4],
    pub prefixlen: u8,
    /// Linux: `ifa_broadcast`; zero when none.
    pub broadcast: [u8; 4],
    /// `RT_SCOPE_*` (Linux: `ifa_scope`).
    pub scope: u8,
    /// `IFA_F_*` (Linux: `ifa_flags`).
    pub flags: u32,
    /// Linux: `ifa_label` (the device name, or an alias such as `lo:1`).
    pub label: String,
}

impl InIfaddr {
    /// The netmask (Linux: `inet_make_mask`).
    pub fn mask(&self) -> [u8; 4] {
        let bits = u32::MAX.checked_shl(32 - u32::from(self.prefixlen.min(32))).unwrap_or(0);
        bits.to_be_bytes()
    }
}

/// One IPv6 address of an interface (Linux: `struct inet6_ifaddr`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inet6Ifaddr {
    pub addr: [u8; 16],
    pub prefixlen: u8,
    /// `RT_SCOPE_*` as `ip` shows it (host for `::1`).
    pub scope: u8,
    /// `IFA_F_*`.
    pub flags: u32,
}

/// A network interface (Linux: `struct net_device`).
pub struct NetDevice {
    pub name: String,
    pub ifindex: u32,
    /// `ARPHRD_*` (Linux: `type`).
    pub dev_type: u16,
    /// Linux: `dev_addr` and `addr_len` (6 zero bytes for loopback).
    pub dev_addr: [u8; 6],
    pub addr_len: u8,
    /// Linux: `broadcast`.
    pub broadcast: [u8; 6],
    flags: AtomicU32,
    mtu: AtomicU32,
    pub min_mtu: u32,
    pub max_mtu: u32,
    pub tx_queue_len: AtomicU32,
    pub stats: NetDeviceStats,
    /// IPv4 addresses, primary first (Linux: `ip_ptr->ifa_list`).
    pub ip_ptr: SpinLock<Vec<InIfaddr>>,
    /// IPv6 addresses (Linux: `ip6_ptr->addr_list`).
    pub ip6_ptr: SpinLock<Vec<Inet6Ifaddr>>,
    ops: Arc<dyn NetDeviceOps>,
}

/// What a new device is made of (Linux: what `alloc_netdev` and the
/// driver's `setup` fill in).
pub struct NetDeviceSetup {
    pub name: String,
    pub dev_type: u16,
    pub dev_addr: [u8; 6],
    pub addr_len: u8,
    pub flags: u32,
    pub mtu: u32,
    pub min_mtu: u32,
    pub max_mtu: u32,
    pub tx_queue_len: u32,
}

impl NetDevice {
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Acquire)
    }

    pub fn is_up(&self) -> bool {
        self.flags() & IFF_UP != 0
    }

    pub fn is_loopback(&self) -> bool {
        self.flags() & IFF_LOOPBACK != 0
    }

    pub fn mtu(&self) -> u32 {
        self.mtu.load(Ordering::Relaxed)
    }

    /// The flags as `SIOCGIFFLAGS` and `ifi_flags` report them: with
    /// `IFF_RUNNING` and `IFF_LOWER_UP` while up and the carrier is on
    /// (Linux: `dev_get_flags`; a virtual device always has carrier).
    pub fn dev_get_flags(&self) -> u32 {
        let f = self.flags();
        if f & IFF_UP != 0 { f | IFF_RUNNING | IFF_LOWER_UP } else { f }
    }

    /// `IF_OPER_*` (Linux: `operstate`): loopback has no lower layer to
    /// report, so it is UNKNOWN while up, as on Linux.
    pub fn operstate(&self) -> u8 {
        use linux_raw_sys::net::_bindgen_ty_7 as op;
        match (self.is_up(), self.is_loopback()) {
            (false, _) => op::IF_OPER_DOWN as u8,
            (true, true) => op::IF_OPER_UNKNOWN as u8,
            (true, false) => op::IF_OPER_UP as u8,
        }
    }

    /// Hands a packet to the driver, showing it to the taps first (Linux:
    /// `dev_queue_xmit` → `dev_queue_xmit_nit` → `ndo_start_xmit`). A
    /// device that is down drops it.
    pub fn dev_queue_xmit(&self, pkt: Vec<u8>) -> KResult<()> {
        if !self.is_up() {
            self.stats.tx_dropped.fetch_add(1, Ordering::Relaxed);
            return Err(Errno::ENETDOWN);
        }
        deliver_to_taps(self, &pkt, PacketDir::Outgoing);
        self.ops.ndo_start_xmit(self, pkt)
    }
}

/// The interfaces, in index order (Linux: `init_net.dev_base_head`).
static DEV_BASE: SpinLock<Vec<Arc<NetDevice>>> = SpinLock::new(Vec::new());
/// Linux: `net->ifindex`, the last index handed out.
static IFINDEX: AtomicU32 = AtomicU32::new(0);
/// Serialises configuration changes (Linux: `rtnl_mutex`).
static RTNL: Mutex<()> = Mutex::new(());

/// Linux: `rtnl_lock`.
pub fn rtnl_lock() -> MutexGuard<'static, ()> {
    RTNL.lock()
}

/// Adds a device under a fresh index (Linux: `register_netdevice`):
/// `EEXIST` if the name is taken.
pub fn register_netdev(
    setup: NetDeviceSetup,
    ops: Arc<dyn NetDeviceOps>,
) -> KResult<Arc<NetDevice>> {
    let mut list = DEV_BASE.lock();
    if list.iter().any(|d| d.name == setup.name) {
        return Err(Errno::EEXIST);
    }
    let dev = Arc::new(NetDevice {
        name: setup.name,
        ifindex: IFINDEX.fetch_add(1, Ordering::Relaxed) + 1,
        dev_type: setup.dev_type,
        dev_addr: setup.dev_addr,
        addr_len: setup.addr_len,
        broadcast: [0; 6],
        flags: AtomicU32::new(setup.flags),
        mtu: AtomicU32::new(setup.mtu),
        min_mtu: setup.min_mtu,
        max_mtu: setup.max_mtu,
        tx_queue_len: AtomicU32::new(setup.tx_queue_len),
        stats: NetDeviceStats::default(),
        ip_ptr: SpinLock::new(Vec::new()),
        ip6_ptr: SpinLock::new(Vec::new()),
        ops,
    });
    list.push(dev.clone());
    drop(list);
    call_netdevice_notifiers(NetdevEvent::Register, &dev);
    Ok(dev)
}

/// Removes a device that is down (Linux: `unregister_netdevice`):
/// `EBUSY` while it is up. Its index is not reused.
pub fn unregister_netdev(dev: &Arc<NetDevice>) -> KResult<()> {
    if dev.is_up() {
        return Err(Errno::EBUSY);
    }
    DEV_BASE.lock().retain(|d| !Arc::ptr_eq(d, dev));
    Ok(())
}

/// Every interface, in index order (Linux: `for_each_netdev`).
pub fn for_each_netdev() -> Vec<Arc<NetDevice>> {
    DEV_BASE.lock().clone()
}

/// Linux: `dev_get_by_index`.
pub fn dev_get_by_index(ifindex: u32) -> Option<Arc<NetDevice>> {
    DEV_BASE.lock().iter().find(|d| d.ifindex == ifindex).cloned()
}

/// Linux: `dev_get_by_name`.
pub fn dev_get_by_name(name: &str) -> Option<Arc<NetDevice>> {
    DEV_BASE.lock().iter().find(|d| d.name == name).cloned()
}

/// Changes the user-settable flags (Linux: `dev_change_flags`): bringing
/// a device up opens it and tells the protocols (`NETDEV_UP`), which is
/// when loopback gets 127.0.0.1 and ::1; down stops it (`NETDEV_DOWN`).
/// The caller holds [`rtnl_lock`] and has checked `CAP_NET_ADMIN`.
pub fn dev_change_flags(dev: &Arc<NetDevice>, flags: u32) -> KResult<()> {
    let old = dev.flags();
    let new = (old & !IFF_USER_SETTABLE) | (flags & IFF_USER_SETTABLE);
    let going_up = new & IFF_UP != 0 && old & IFF_UP == 0;
    let going_down = new & IFF_UP == 0 && old & IFF_UP != 0;
    if going_up {
        dev.ops.ndo_open(dev)?;
    }
    dev.flags.store(new, Ordering::Release);
    if going_down {
        dev.ops.ndo_stop(dev);
    }
    let event = match (going_up, going_down) {
        (true, _) => NetdevEvent::Up,
        (_, true) => NetdevEvent::Down,
        _ if new != old => NetdevEvent::Change,
        _ => return Ok(()),
    };
    call_netdevice_notifiers(event, dev);
    Ok(())
}

/// Sets the MTU (Linux: `dev_set_mtu`): `EINVAL` outside the device's
/// range. The caller holds [`rtnl_lock`].
pub fn dev_set_mtu(dev: &Arc<NetDevice>, mtu: u32) -> KResult<()> {
    if mtu < dev.min_mtu || mtu > dev.max_mtu {
        return Err(Errno::EINVAL);
    }
    if dev.mtu.swap(mtu, Ordering::Relaxed) != mtu {
        call_netdevice_notifiers(NetdevEvent::ChangeMtu, dev);
    }
    Ok(())
}

/// What changed (Linux: `NETDEV_*` and the address chains' `NETDEV_UP`/
/// `NETDEV_DOWN` for addresses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetdevEvent {
    Register,
    Up,
    Down,
    Change,
    ChangeMtu,
    /// An IPv4 address was added or removed (Linux: `inetaddr_chain`).
    NewAddr(InIfaddr),
    DelAddr(InIfaddr),
    /// An IPv6 address was added or removed (Linux: `inet6addr_chain`).
    NewAddr6(Inet6Ifaddr),
    DelAddr6(Inet6Ifaddr),
}

/// A listener on the chain (Linux: `struct notifier_block`'s call).
pub type NetdevNotifier = fn(&NetdevEvent, &Arc<NetDevice>);

static NOTIFIERS: SpinLock<Vec<NetdevNotifier>> = SpinLock::new(Vec::new());

/// Linux: `register_netdevice_notifier` (and the address chains).
pub fn register_netdevice_notifier(f: NetdevNotifier) {
    NOTIFIERS.lock().push(f);
}

/// Calls every listener, in registration order, with no lock held
/// (Linux: `call_netdevice_notifiers`).
pub fn call_netdevice_notifiers(event: NetdevEvent, dev: &Arc<NetDevice>) {
    let list = NOTIFIERS.lock().clone();
    for f in list {
        f(&event, dev);
    }
}

/// Which way a tapped packet goes (Linux: `PACKET_OUTGOING` vs the
/// `PACKET_HOST` of a received one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketDir {
    Incoming,
    Outgoing,
}

/// A handler shown every packet (Linux: `struct packet_type` on
/// `ptype_all`, which is how AF_PACKET sockets see traffic).
pub trait PacketTap: Send + Sync {
    /// `pkt` starts at the network header for `Medium::Ip` devices.
    fn func(&self, dev: &NetDevice, pkt: &[u8], dir: PacketDir);
}

static PTYPE_ALL: SpinLock<Vec<Arc<dyn PacketTap>>> = SpinLock::new(Vec::new());

/// Linux: `dev_add_pack`.
pub fn dev_add_pack(tap: Arc<dyn PacketTap>) {
    PTYPE_ALL.lock().push(tap);
}

/// Linux: `dev_remove_pack`.
pub fn dev_remove_pack(tap: &Arc<dyn PacketTap>) {
    PTYPE_ALL.lock().retain(|t| !Arc::ptr_eq(t, tap));
}

/// Shows a packet to every tap, with no lock held (Linux:
/// `dev_queue_xmit_nit` for outgoing, `__netif_receive_skb`'s `ptype_all`
/// walk for incoming).
pub fn deliver_to_taps(dev: &NetDevice, pkt: &[u8], dir: PacketDir) {
    let taps = {
        let list = PTYPE_ALL.lock();
        if list.is_empty() {
            return;
        }
        list.clone()
    };
    for tap in taps {
        tap.func(dev, pkt, dir);
    }
}

/// Packets received and not yet taken by the protocols, with their
/// device (Linux: `softnet_data.input_pkt_queue`).
static BACKLOG: SpinLock<VecDeque<(u32, Vec<u8>)>> = SpinLock::new(VecDeque::new());
/// Linux: `net.core.netdev_max_backlog`.
const NETDEV_MAX_BACKLOG: usize = 1000;

/// Queues a received packet for the protocols (Linux: `netif_rx`):
/// `ENOBUFS` (and a drop counted) when the backlog is full. The caller
/// makes the stack run ([`crate::net::inet::stack::net_rx_action`]) once
/// it holds no stack lock.
pub fn netif_rx(dev: &NetDevice, pkt: Vec<u8>) -> KResult<()> {
    let mut q = BACKLOG.lock();
    if q.len() >= NETDEV_MAX_BACKLOG {
        dev.stats.rx_dropped.fetch_add(1, Ordering::Relaxed);
        return Err(Errno::ENOBUFS);
    }
    q.push_back((dev.ifindex, pkt));
    Ok(())
}

/// The next received packet and its device, shown to the taps (Linux:
/// `process_backlog` → `__netif_receive_skb`).
pub fn backlog_dequeue() -> Option<(Arc<NetDevice>, Vec<u8>)> {
    loop {
        let (ifindex, pkt) = BACKLOG.lock().pop_front()?;
        if let Some(dev) = dev_get_by_index(ifindex) {
            deliver_to_taps(&dev, &pkt, PacketDir::Incoming);
            return Some((dev, pkt));
        }
    }
}

/// Whether packets wait in the backlog.
pub fn backlog_pending() -> bool {
    !BACKLOG.lock().is_empty()
}

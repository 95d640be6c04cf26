//! Ethernet bridges, as far as `brctl addbr`/`delbr` go: a bridge is an
//! interface of its own, with no ports yet (Linux: net/bridge/br_if.c
//! `br_add_bridge`, `br_del_bridge`; br_ioctl.c `br_ioctl_stub`;
//! br_device.c `br_dev_setup`).
//!
//! TODO(issue 7): ports (`brctl addif`), forwarding and STP are not
//! there: with no NIC there is nothing to enslave. A frame sent on a
//! bridge goes to its (absent) ports, that is nowhere.
//!
//! # Locking
//! `rtnl_lock` around a change; `BRIDGES` is a leaf.
#![deny(unsafe_code)]

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general::CAP_NET_ADMIN;
use linux_raw_sys::if_arp::ARPHRD_ETHER;

use crate::arch::uaccess::{UserAddr, copy_from_user};
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::net::core::dev::{
    IFF_BROADCAST, IFF_MULTICAST, IFNAMSIZ, NetDevice, NetDeviceOps, NetDeviceSetup,
    dev_get_by_name, register_netdev, rtnl_lock, unregister_netdev,
};

#[expect(clippy::cast_possible_truncation, reason = "ARPHRD_ETHER is 1")]
const BR_TYPE: u16 = ARPHRD_ETHER as u16;

/// The bridges' interface indices (Linux: `IFF_EBRIDGE` in `priv_flags`).
static BRIDGES: SpinLock<Vec<u32>> = SpinLock::new(Vec::new());

/// Linux: `ETH_DATA_LEN`, `ETH_MIN_MTU`, `ETH_MAX_MTU`.
const ETH_DATA_LEN: u32 = 1500;
const ETH_MIN_MTU: u32 = 68;
const ETH_MAX_MTU: u32 = 0xffff;

struct BridgeDev;

impl NetDeviceOps for BridgeDev {
    /// Linux: `br_dev_xmit` flooding to no ports.
    fn ndo_start_xmit(&self, dev: &NetDevice, pkt: Vec<u8>) -> KResult<()> {
        dev.stats.count_tx(pkt.len());
        Ok(())
    }
}

/// Whether `dev` is a bridge (Linux: `netif_is_bridge_master`).
pub fn netif_is_bridge_master(dev: &NetDevice) -> bool {
    BRIDGES.lock().contains(&dev.ifindex)
}

/// Linux: `dev_valid_name`.
fn dev_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() < IFNAMSIZ
        && name != "."
        && name != ".."
        && !name.bytes().any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace())
}

/// A random unicast, locally administered address (Linux:
/// `eth_hw_addr_random`).
fn eth_random_addr() -> [u8; 6] {
    let mut addr = [0; 6];
    crate::drivers::char::random::get_random_bytes(&mut addr);
    addr[0] = (addr[0] & 0xfe) | 0x02;
    addr
}

/// Linux: `br_add_bridge`: `EINVAL` for a bad name, `EEXIST` for a
/// taken one.
pub fn br_add_bridge(name: &str) -> KResult<()> {
    if !dev_valid_name(name) {
        return Err(Errno::EINVAL);
    }
    let _rtnl = rtnl_lock();
    let setup = NetDeviceSetup {
        name: String::from(name),
        dev_type: BR_TYPE,
        dev_addr: eth_random_addr(),
        addr_len: 6,
        flags: IFF_BROADCAST | IFF_MULTICAST,
        mtu: ETH_DATA_LEN,
        min_mtu: ETH_MIN_MTU,
        max_mtu: ETH_MAX_MTU,
        tx_queue_len: 1000,
    };
    let dev = register_netdev(setup, Arc::new(BridgeDev))?;
    BRIDGES.lock().push(dev.ifindex);
    Ok(())
}

/// Linux: `br_del_bridge`: `ENXIO` for no such device, `EPERM` for one
/// that is not a bridge, `EBUSY` while it is up.
pub fn br_del_bridge(name: &str) -> KResult<()> {
    let _rtnl = rtnl_lock();
    let dev = dev_get_by_name(name).ok_or(Errno::ENXIO)?;
    if !netif_is_bridge_master(&dev) {
        return Err(Errno::EPERM);
    }
    unregister_netdev(&dev)?;
    BRIDGES.lock().retain(|&i| i != dev.ifindex);
    Ok(())
}

/// `SIOCBRADDBR`/`SIOCBRDELBR` on any socket: `arg` points to the name
/// (Linux: `br_ioctl_stub`).
pub fn br_ioctl(add: bool, arg: UserAddr) -> KResult<i64> {
    if !capable(CAP_NET_ADMIN) {
        return Err(Errno::EPERM);
    }
    let mut buf = [0; IFNAMSIZ];
    copy_from_user(&mut buf[..IFNAMSIZ - 1], arg).map_err(|_| Errno::EFAULT)?;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(IFNAMSIZ - 1);
    let name = core::str::from_utf8(&buf[..end]).map_err(|_| Errno::EINVAL)?;
    if add { br_add_bridge(name) } else { br_del_bridge(name) }.map(|()| 0)
}

crate::ktest!(bridge_add_del_and_sysfs, {
    let listed = |name: &str| {
        crate::net::core::net_sysfs::class_net_names().is_ok_and(|n| n.iter().any(|x| x == name))
    };
    br_add_bridge("ktbr0").map_err(|_| "addbr")?;
    crate::kassert!(br_add_bridge("ktbr0") == Err(Errno::EEXIST), "addbr twice");
    crate::kassert!(br_add_bridge("a/b") == Err(Errno::EINVAL), "bad name");
    crate::kassert!(listed("ktbr0"), "in /sys/class/net");
    let dev = dev_get_by_name("ktbr0").ok_or("no device")?;
    crate::kassert!(netif_is_bridge_master(&dev) && dev.dev_addr[0] & 3 == 2, "local unicast MAC");
    crate::kassert!(br_del_bridge("lo") == Err(Errno::EPERM), "lo is no bridge");
    br_del_bridge("ktbr0").map_err(|_| "delbr")?;
    crate::kassert!(br_del_bridge("ktbr0") == Err(Errno::ENXIO), "delbr twice");
    crate::kassert!(!listed("ktbr0"), "gone from /sys/class/net");
    Ok(())
});

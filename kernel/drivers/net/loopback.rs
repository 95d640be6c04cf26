//! The loopback device `lo` (Linux: drivers/net/loopback.c).
//!
//! Every packet sent on `lo` is received on it: `loopback_xmit` hands it
//! straight to the receive backlog ([`netif_rx`]), counting it once for
//! both directions as Linux's `dev_lstats_add` does.
//!
//! # Locking
//! None of its own; the backlog is net/core/dev.rs's.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::if_arp::ARPHRD_LOOPBACK;

use crate::kernel::errno::KResult;
use crate::net::core::dev::{
    IFF_LOOPBACK, NetDevice, NetDeviceOps, NetDeviceSetup, netif_rx, register_netdev,
};

/// Linux: `LOOPBACK_MTU` (64 KiB), the MTU `ip link` shows for `lo`.
const LOOPBACK_MTU: u32 = 65536;

struct Loopback;

impl NetDeviceOps for Loopback {
    /// Linux: `loopback_xmit`.
    fn ndo_start_xmit(&self, dev: &NetDevice, pkt: Vec<u8>) -> KResult<()> {
        let len = pkt.len();
        netif_rx(dev, pkt)?;
        dev.stats.count_tx(len);
        dev.stats.count_rx(len);
        Ok(())
    }
}

/// Registers `lo`, index 1, down (Linux: `loopback_net_init`; the init
/// scripts bring it up, or `ip link set lo up`).
pub fn loopback_net_init() -> KResult<Arc<NetDevice>> {
    let setup = NetDeviceSetup {
        name: alloc::string::String::from("lo"),
        dev_type: u16::try_from(ARPHRD_LOOPBACK).unwrap_or(0),
        dev_addr: [0; 6],
        addr_len: 6,
        flags: IFF_LOOPBACK,
        mtu: LOOPBACK_MTU,
        min_mtu: 0,
        max_mtu: u32::MAX,
        tx_queue_len: 1000,
    };
    register_netdev(setup, Arc::new(Loopback))
}

//! IPv6 addresses of interfaces (Linux: net/ipv6/addrconf.c
//! `ipv6_add_addr`, `inet6_addr_del`, `addrconf_notify`, `init_loopback`).
//!
//! Loopback gets `::1/128` when it comes up and loses its IPv6 addresses
//! when it goes down (Linux's `addrconf_ifdown` with `keep_addr_on_down`
//! at its default 0).
//!
//! # Locking
//! Callers hold `rtnl_lock`; `ip6_ptr` is a leaf spinlock, released before
//! the notifiers run.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::kernel::errno::{Errno, KResult};
use crate::net::core::dev::{Inet6Ifaddr, NetDevice, NetdevEvent, call_netdevice_notifiers};
use crate::net::ipv4::devinet::{IFA_F_PERMANENT, RT_SCOPE_HOST};

/// `::1`.
pub const IN6ADDR_LOOPBACK: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

/// Adds an address (Linux: `ipv6_add_addr`): `EEXIST` if it is there.
pub fn ipv6_add_addr(dev: &Arc<NetDevice>, ifa: Inet6Ifaddr) -> KResult<()> {
    {
        let mut list = dev.ip6_ptr.lock();
        if list.iter().any(|a| a.addr == ifa.addr) {
            return Err(Errno::EEXIST);
        }
        list.push(ifa.clone());
    }
    call_netdevice_notifiers(NetdevEvent::NewAddr6(ifa), dev);
    Ok(())
}

/// Removes an address (Linux: `inet6_addr_del`): `EADDRNOTAVAIL` if it
/// is not there.
pub fn inet6_addr_del(dev: &Arc<NetDevice>, addr: [u8; 16], prefixlen: u8) -> KResult<()> {
    let ifa = {
        let mut list = dev.ip6_ptr.lock();
        let at = list
            .iter()
            .position(|a| a.addr == addr && a.prefixlen == prefixlen)
            .ok_or(Errno::EADDRNOTAVAIL)?;
        list.remove(at)
    };
    call_netdevice_notifiers(NetdevEvent::DelAddr6(ifa), dev);
    Ok(())
}

/// Linux: `addrconf_notify`.
fn addrconf_notify(event: &NetdevEvent, dev: &Arc<NetDevice>) {
    match event {
        NetdevEvent::Up if dev.is_loopback() => {
            let lo = Inet6Ifaddr {
                addr: IN6ADDR_LOOPBACK,
                prefixlen: 128,
                scope: RT_SCOPE_HOST,
                flags: IFA_F_PERMANENT,
            };
            let _ = ipv6_add_addr(dev, lo);
        }
        NetdevEvent::Down => {
            let gone: Vec<Inet6Ifaddr> = core::mem::take(&mut *dev.ip6_ptr.lock());
            for ifa in gone {
                call_netdevice_notifiers(NetdevEvent::DelAddr6(ifa), dev);
            }
        }
        _ => {}
    }
}

/// Linux: `addrconf_init`.
pub fn addrconf_init() {
    crate::net::core::dev::register_netdevice_notifier(addrconf_notify);
}

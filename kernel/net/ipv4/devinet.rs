//! IPv4 addresses of interfaces (Linux: net/ipv4/devinet.c
//! `inet_insert_ifa`, `inet_del_ifa`, `inetdev_event`).
//!
//! The addresses live in each [`NetDevice`]'s `ip_ptr`; adding or removing
//! one tells the notifier chain, which is how the stack and netlink learn
//! of it. Bringing a loopback device up gives it 127.0.0.1/8, as Linux's
//! `inetdev_event` does on `NETDEV_UP`.
//!
//! # Locking
//! Callers hold `rtnl_lock`; `ip_ptr` is a leaf spinlock, released before
//! the notifiers run.
#![deny(unsafe_code)]

use alloc::string::String;
use alloc::sync::Arc;

use crate::kernel::errno::{Errno, KResult};
use crate::net::core::dev::{InIfaddr, NetDevice, NetdevEvent, call_netdevice_notifiers};

/// Linux: `RT_SCOPE_*` (include/uapi/linux/rtnetlink.h).
pub const RT_SCOPE_UNIVERSE: u8 = 0;
pub const RT_SCOPE_LINK: u8 = 253;
pub const RT_SCOPE_HOST: u8 = 254;
/// Linux: `IFA_F_SECONDARY` and `IFA_F_PERMANENT`.
pub const IFA_F_SECONDARY: u32 = 0x01;
pub const IFA_F_PERMANENT: u32 = 0x80;

/// Whether two addresses share the first `prefixlen` bits (Linux:
/// `inet_ifa_match`).
pub fn same_subnet(a: [u8; 4], b: [u8; 4], prefixlen: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefixlen.min(32))).unwrap_or(0);
    u32::from_be_bytes(a) & mask == u32::from_be_bytes(b) & mask
}

/// Adds an address (Linux: `__inet_insert_ifa`): `EEXIST` for one already
/// there with the same prefix; an address in the subnet of an existing
/// one is secondary and goes after the primaries.
pub fn inet_insert_ifa(dev: &Arc<NetDevice>, mut ifa: InIfaddr) -> KResult<()> {
    {
        let mut list = dev.ip_ptr.lock();
        if list.iter().any(|a| a.local == ifa.local && a.prefixlen == ifa.prefixlen) {
            return Err(Errno::EEXIST);
        }
        let primary_exists = list.iter().any(|a| {
            a.flags & IFA_F_SECONDARY == 0
                && a.prefixlen == ifa.prefixlen
                && same_subnet(a.local, ifa.local, ifa.prefixlen)
        });
        if primary_exists {
            ifa.flags |= IFA_F_SECONDARY;
            list.push(ifa.clone());
        } else {
            let at = list.iter().position(|a| a.flags & IFA_F_SECONDARY != 0).unwrap_or(list.len());
            list.insert(at, ifa.clone());
        }
    }
    call_netdevice_notifiers(NetdevEvent::NewAddr(ifa), dev);
    Ok(())
}

/// Removes the address `local/prefixlen` (Linux: `inet_rtm_deladdr` →
/// `__inet_del_ifa`): `EADDRNOTAVAIL` if it is not there. Removing a
/// primary removes its secondaries too, as Linux does without
/// `promote_secondaries`.
pub fn inet_del_ifa(dev: &Arc<NetDevice>, local: [u8; 4], prefixlen: u8) -> KResult<()> {
    let removed: alloc::vec::Vec<InIfaddr> = {
        let mut list = dev.ip_ptr.lock();
        let at = list
            .iter()
            .position(|a| a.local == local && a.prefixlen == prefixlen)
            .ok_or(Errno::EADDRNOTAVAIL)?;
        let ifa = list.remove(at);
        let mut gone = alloc::vec![ifa.clone()];
        if ifa.flags & IFA_F_SECONDARY == 0 {
            list.retain(|a| {
                let sec = a.flags & IFA_F_SECONDARY != 0
                    && a.prefixlen == ifa.prefixlen
                    && same_subnet(a.local, ifa.local, ifa.prefixlen);
                if sec {
                    gone.push(a.clone());
                }
                !sec
            });
        }
        gone
    };
    for ifa in removed {
        call_netdevice_notifiers(NetdevEvent::DelAddr(ifa), dev);
    }
    Ok(())
}

/// A new address with the usual defaults: the local and peer address the
/// same, no broadcast, the device's name as label.
pub fn ifaddr(dev: &NetDevice, local: [u8; 4], prefixlen: u8, scope: u8) -> InIfaddr {
    InIfaddr {
        local,
        address: local,
        prefixlen,
        broadcast: [0; 4],
        scope,
        flags: IFA_F_PERMANENT,
        label: String::from(dev.name.as_str()),
    }
}

/// Linux: `inetdev_event`: loopback gets 127.0.0.1/8 when it comes up.
fn inetdev_event(event: &NetdevEvent, dev: &Arc<NetDevice>) {
    if *event == NetdevEvent::Up && dev.is_loopback() {
        // EEXIST: it kept its address while down.
        let _ = inet_insert_ifa(dev, ifaddr(dev, [127, 0, 0, 1], 8, RT_SCOPE_HOST));
    }
}

/// Linux: `devinet_init`.
pub fn devinet_init() {
    crate::net::core::dev::register_netdevice_notifier(inetdev_event);
}

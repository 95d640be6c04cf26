//! The IPv4 address ioctls `ifconfig` uses: `SIOCGIFADDR`,
//! `SIOCSIFADDR`, the netmask, broadcast and peer address, and
//! `SIOCSIFFLAGS` on an alias (Linux: net/ipv4/devinet.c `devinet_ioctl`,
//! `inet_abc_len`, `bad_mask`).
//!
//! An address is found by its label (the interface name, or an alias such
//! as `lo:1`) and, for the queries, by the address the caller passed
//! (4.4BSD style) first. A change removes the address and inserts it
//! again with the new field, as Linux does, so that the stack and netlink
//! see a `DelAddr` then a `NewAddr`.
//!
//! # Locking
//! Everything runs under `rtnl_lock`; a device's `ip_ptr` is only copied.
#![deny(unsafe_code)]

use alloc::string::String;
use alloc::sync::Arc;

use linux_raw_sys::general::CAP_NET_ADMIN;
use linux_raw_sys::ioctl as io;

use super::devinet::{
    IFA_F_PERMANENT, IFA_F_SECONDARY, RT_SCOPE_HOST, inet_del_ifa, inet_insert_ifa,
};
use crate::arch::uaccess::UserAddr;
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::net::core::dev::{
    IFF_BROADCAST, IFF_UP, InIfaddr, NetDevice, dev_change_flags, rtnl_lock,
};
use crate::net::core::dev_ioctl::{Ifreq, SA_FAMILY_INET};

/// Linux: `IFF_POINTOPOINT`.
const IFF_POINTOPOINT: u32 = linux_raw_sys::net::net_device_flags::IFF_POINTOPOINT as u32;

/// The prefix of an address's class, or `None` for a multicast one
/// (Linux: `inet_abc_len`).
pub fn inet_abc_len(addr: [u8; 4]) -> Option<u8> {
    if addr[0] == 0 || addr == [255; 4] {
        return Some(0);
    }
    match addr[0] {
        0..=127 => Some(8),
        128..=191 => Some(16),
        192..=223 => Some(24),
        224..=239 => None,
        _ => Some(32),
    }
}

/// Whether `mask` is not a run of ones then zeros (Linux: `bad_mask`
/// with no address).
fn bad_mask(mask: [u8; 4]) -> bool {
    let inv = !u32::from_be_bytes(mask);
    inv & inv.wrapping_add(1) != 0
}

/// The prefix length of a good mask (Linux: `inet_mask_len`).
fn inet_mask_len(mask: [u8; 4]) -> u8 {
    u8::try_from(u32::from_be_bytes(mask).leading_ones()).unwrap_or(32)
}

fn mask_of(prefixlen: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefixlen.min(32))).unwrap_or(0)
}

/// Linux: `devinet_ioctl`.
pub fn devinet_ioctl(cmd: u32, arg: UserAddr) -> KResult<i64> {
    let mut ifr = Ifreq::from_user(arg)?;
    let is_get = matches!(
        cmd,
        io::SIOCGIFADDR | io::SIOCGIFBRDADDR | io::SIOCGIFDSTADDR | io::SIOCGIFNETMASK
    );
    // 4.4BSD: a query may name the address it means.
    let tryaddrmatch = is_get && ifr.sa_family() == SA_FAMILY_INET;
    let wanted = ifr.sin_addr();
    if !is_get {
        if !capable(CAP_NET_ADMIN) {
            return Err(Errno::EPERM);
        }
        if cmd != io::SIOCSIFFLAGS && ifr.sa_family() != SA_FAMILY_INET {
            return Err(Errno::EINVAL);
        }
    }
    let _rtnl = rtnl_lock();
    let dev = ifr.dev()?;
    let (_, colon) = ifr.dev_name()?;
    let label = String::from(ifr.name()?);
    let ifa = {
        let list = dev.ip_ptr.lock();
        let by_addr = list.iter().find(|a| tryaddrmatch && a.label == label && a.local == wanted);
        by_addr.or_else(|| list.iter().find(|a| a.label == label)).cloned()
    };
    if is_get {
        let ifa = ifa.ok_or(Errno::EADDRNOTAVAIL)?;
        ifr.set_sin(match cmd {
            io::SIOCGIFADDR => ifa.local,
            io::SIOCGIFBRDADDR => ifa.broadcast,
            io::SIOCGIFDSTADDR => ifa.address,
            _ => ifa.mask(),
        });
        ifr.to_user(arg)?;
        return Ok(0);
    }
    let new = ifr.sin_addr();
    match cmd {
        io::SIOCSIFFLAGS if colon => {
            let ifa = ifa.ok_or(Errno::EADDRNOTAVAIL)?;
            if ifr.flags() & IFF_UP == 0 {
                inet_del_ifa(&dev, ifa.local, ifa.prefixlen)?;
            }
        }
        io::SIOCSIFFLAGS => dev_change_flags(&dev, ifr.flags())?,
        io::SIOCSIFADDR => {
            let prefixlen = inet_abc_len(new).ok_or(Errno::EINVAL)?;
            let ifa = match ifa {
                Some(old) if old.local == new => return Ok(0),
                Some(old) => {
                    inet_del_ifa(&dev, old.local, old.prefixlen)?;
                    InIfaddr { broadcast: [0; 4], scope: 0, ..old }
                }
                None => InIfaddr {
                    local: new,
                    address: new,
                    prefixlen: 0,
                    broadcast: [0; 4],
                    scope: 0,
                    flags: IFA_F_PERMANENT,
                    label,
                },
            };
            let (prefixlen, broadcast) = if dev.flags() & IFF_POINTOPOINT != 0 {
                (32, [0; 4])
            } else if dev.flags() & IFF_BROADCAST != 0 && prefixlen < 31 {
                (prefixlen, (u32::from_be_bytes(new) | !mask_of(prefixlen)).to_be_bytes())
            } else {
                (prefixlen, [0; 4])
            };
            inet_set_ifa(&dev, InIfaddr { local: new, address: new, prefixlen, broadcast, ..ifa })?;
        }
        _ => {
            let ifa = ifa.ok_or(Errno::EADDRNOTAVAIL)?;
            devinet_change(&dev, ifa, cmd, new)?;
        }
    }
    Ok(0)
}

/// `SIOCSIFBRDADDR`, `SIOCSIFDSTADDR`, `SIOCSIFNETMASK` on an address.
fn devinet_change(dev: &Arc<NetDevice>, ifa: InIfaddr, cmd: u32, new: [u8; 4]) -> KResult<()> {
    let mut changed = ifa.clone();
    match cmd {
        io::SIOCSIFBRDADDR => changed.broadcast = new,
        io::SIOCSIFDSTADDR => {
            if ifa.address == new {
                return Ok(());
            }
            inet_abc_len(new).ok_or(Errno::EINVAL)?;
            changed.address = new;
        }
        io::SIOCSIFNETMASK => {
            if bad_mask(new) {
                return Err(Errno::EINVAL);
            }
            changed.prefixlen = inet_mask_len(new);
            // A broadcast that matched the old mask follows the new one.
            let old_bcast = u32::from_be_bytes(ifa.local) | !mask_of(ifa.prefixlen);
            if dev.flags() & IFF_BROADCAST != 0
                && changed.prefixlen < 31
                && u32::from_be_bytes(ifa.broadcast) == old_bcast
            {
                changed.broadcast =
                    (u32::from_be_bytes(ifa.local) | !u32::from_be_bytes(new)).to_be_bytes();
            }
        }
        _ => return Err(Errno::EINVAL),
    }
    if changed == ifa {
        return Ok(());
    }
    inet_del_ifa(dev, ifa.local, ifa.prefixlen)?;
    changed.flags &= !IFA_F_SECONDARY;
    inet_insert_ifa(dev, changed)
}

/// Inserts an address set by ioctl: loopback addresses get host scope,
/// 0.0.0.0 is not inserted (it removes the address) (Linux:
/// `inet_set_ifa`, `__inet_insert_ifa`).
fn inet_set_ifa(dev: &Arc<NetDevice>, mut ifa: InIfaddr) -> KResult<()> {
    if ifa.local == [0; 4] {
        return Ok(());
    }
    if ifa.local[0] == 127 {
        ifa.scope = RT_SCOPE_HOST;
    }
    ifa.flags &= !IFA_F_SECONDARY;
    inet_insert_ifa(dev, ifa)
}

crate::ktest!(devinet_ioctl_classes_and_masks, {
    crate::kassert!(inet_abc_len([10, 1, 2, 3]) == Some(8), "class A");
    crate::kassert!(inet_abc_len([172, 16, 0, 1]) == Some(16), "class B");
    crate::kassert!(inet_abc_len([192, 168, 1, 1]) == Some(24), "class C");
    crate::kassert!(inet_abc_len([224, 0, 0, 1]).is_none(), "multicast has no class");
    crate::kassert!(inet_abc_len([240, 0, 0, 1]) == Some(32), "class E");
    crate::kassert!(inet_abc_len([0, 0, 0, 0]) == Some(0), "zeronet");
    crate::kassert!(
        !bad_mask([255, 255, 254, 0]) && inet_mask_len([255, 255, 254, 0]) == 23,
        "/23"
    );
    crate::kassert!(!bad_mask([0, 0, 0, 0]) && inet_mask_len([0; 4]) == 0, "/0");
    crate::kassert!(bad_mask([255, 0, 255, 0]), "holes");
    crate::kassert!(bad_mask([0, 255, 255, 255]), "inverted");
    Ok(())
});

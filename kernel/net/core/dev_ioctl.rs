//! Interface ioctls on any socket: `SIOCGIFCONF`, `SIOCGIFFLAGS`,
//! `SIOCSIFMTU`... (Linux: net/core/dev_ioctl.c `dev_ioctl`, `dev_ifconf`,
//! `dev_ifsioc_locked`, `dev_ifsioc`; net/socket.c `sock_do_ioctl`).
//!
//! A request names its interface in a `struct ifreq` ([`Ifreq`], 40
//! bytes: the name, then a 24-byte union). An alias suffix (`lo:1`) is
//! cut off to find the device, as Linux does. The IPv4 address requests
//! (`SIOCGIFADDR`...) belong to AF_INET and AF_PACKET sockets and are in
//! net/ipv4/devinet_ioctl.rs.
//!
//! # Locking
//! Changes take `rtnl_lock` (a sleeping mutex); reads take none beyond
//! the device list's leaf lock. No lock is held across a user copy.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use linux_raw_sys::general::CAP_NET_ADMIN;
use linux_raw_sys::ioctl as io;
use linux_raw_sys::net as uapi_net;

use crate::arch::uaccess::{UserAddr, copy_from_user, copy_to_user};
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::net::core::dev::{
    IFNAMSIZ, NetDevice, dev_change_flags, dev_get_by_index, dev_get_by_name, dev_set_mtu,
    for_each_netdev, rtnl_lock,
};

/// `sa_family` of an AF_INET address.
#[expect(clippy::cast_possible_truncation, reason = "AF_INET is 2")]
pub const SA_FAMILY_INET: u16 = uapi_net::AF_INET as u16;

/// Linux: `SIOCBRADDBR`, `SIOCBRDELBR` (include/uapi/linux/sockios.h).
const SIOCBRADDBR: u32 = 0x89a0;
const SIOCBRDELBR: u32 = 0x89a1;

/// Linux: `sizeof(struct ifreq)`.
pub const IFREQ_SIZE: usize = 40;
/// Where the union starts (after `ifr_name`).
const IFR_DATA: usize = IFNAMSIZ;

/// A `struct ifreq` as the caller passed it (Linux: `struct ifreq`).
pub struct Ifreq {
    pub bytes: [u8; IFREQ_SIZE],
}

impl Ifreq {
    /// Linux: `get_user_ifreq`; the name is always NUL-terminated.
    pub fn from_user(arg: UserAddr) -> KResult<Self> {
        let mut bytes = [0; IFREQ_SIZE];
        copy_from_user(&mut bytes, arg).map_err(|_| Errno::EFAULT)?;
        bytes[IFNAMSIZ - 1] = 0;
        Ok(Self { bytes })
    }

    /// Linux: `put_user_ifreq`.
    pub fn to_user(&self, arg: UserAddr) -> KResult<()> {
        copy_to_user(arg, &self.bytes).map_err(|_| Errno::EFAULT)
    }

    /// `ifr_name` up to its NUL, alias included; `ENODEV` if not text.
    pub fn name(&self) -> KResult<&str> {
        let end = self.bytes[..IFNAMSIZ].iter().position(|&b| b == 0).unwrap_or(IFNAMSIZ);
        core::str::from_utf8(&self.bytes[..end]).map_err(|_| Errno::ENODEV)
    }

    /// The device part of the name (before any `:`), and whether an
    /// alias was named (Linux: `strchr(ifr->ifr_name, ':')`).
    pub fn dev_name(&self) -> KResult<(&str, bool)> {
        let name = self.name()?;
        Ok(match name.split_once(':') {
            Some((dev, _)) => (dev, true),
            None => (name, false),
        })
    }

    /// The device named, `ENODEV` if none (Linux: `__dev_get_by_name`).
    pub fn dev(&self) -> KResult<Arc<NetDevice>> {
        dev_get_by_name(self.dev_name()?.0).ok_or(Errno::ENODEV)
    }

    pub fn set_name(&mut self, name: &str) {
        let n = name.len().min(IFNAMSIZ - 1);
        self.bytes[..IFNAMSIZ].fill(0);
        self.bytes[..n].copy_from_slice(&name.as_bytes()[..n]);
    }

    /// The union, cleared (Linux: the fields a reply sets).
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[IFR_DATA..]
    }

    /// `ifr_ifindex`, `ifr_mtu`, `ifr_qlen`, `ifr_metric`.
    pub fn int(&self) -> i32 {
        let mut b = [0; 4];
        b.copy_from_slice(&self.bytes[IFR_DATA..IFR_DATA + 4]);
        i32::from_ne_bytes(b)
    }

    pub fn set_int(&mut self, v: i32) {
        self.bytes[IFR_DATA..IFR_DATA + 4].copy_from_slice(&v.to_ne_bytes());
    }

    /// `ifr_flags`, a `short` that `dev_change_flags` sign-extends.
    pub fn flags(&self) -> u32 {
        i16::from_ne_bytes([self.bytes[IFR_DATA], self.bytes[IFR_DATA + 1]]) as i32 as u32
    }

    pub fn set_flags(&mut self, flags: u32) {
        self.bytes[IFR_DATA..IFR_DATA + 2]
            .copy_from_slice(&u16::try_from(flags & 0xffff).unwrap_or(0).to_ne_bytes());
    }

    /// `ifr_addr.sa_family`.
    pub fn sa_family(&self) -> u16 {
        u16::from_ne_bytes([self.bytes[IFR_DATA], self.bytes[IFR_DATA + 1]])
    }

    /// `((struct sockaddr_in *)&ifr_addr)->sin_addr`.
    pub fn sin_addr(&self) -> [u8; 4] {
        let mut a = [0; 4];
        a.copy_from_slice(&self.bytes[IFR_DATA + 4..IFR_DATA + 8]);
        a
    }

    /// Replaces `ifr_addr` with an AF_INET `sockaddr_in` of `addr`.
    pub fn set_sin(&mut self, addr: [u8; 4]) {
        self.bytes[IFR_DATA..IFR_DATA + 16].fill(0);
        self.bytes[IFR_DATA..IFR_DATA + 2].copy_from_slice(&SA_FAMILY_INET.to_ne_bytes());
        self.bytes[IFR_DATA + 4..IFR_DATA + 8].copy_from_slice(&addr);
    }
}

/// The device-layer ioctls of a socket of `family` (Linux: the part of
/// `sock_do_ioctl` after the family's own ioctl declined): `ENOTTY` for
/// a command no layer knows.
pub fn dev_ioctl(family: u32, cmd: u32, arg: UserAddr) -> KResult<i64> {
    let inet = family == uapi_net::AF_INET || family == uapi_net::AF_PACKET;
    match cmd {
        io::SIOCGIFCONF => dev_ifconf(arg),
        io::SIOCGIFNAME => dev_ifname(arg),
        io::SIOCGIFFLAGS
        | io::SIOCGIFMETRIC
        | io::SIOCGIFMTU
        | io::SIOCGIFMAP
        | io::SIOCGIFINDEX
        | io::SIOCGIFTXQLEN
        | io::SIOCGIFHWADDR => {
            let mut ifr = Ifreq::from_user(arg)?;
            dev_ifsioc_locked(&mut ifr, cmd)?;
            ifr.to_user(arg)?;
            Ok(0)
        }
        io::SIOCGIFADDR
        | io::SIOCSIFADDR
        | io::SIOCGIFBRDADDR
        | io::SIOCSIFBRDADDR
        | io::SIOCGIFNETMASK
        | io::SIOCSIFNETMASK
        | io::SIOCGIFDSTADDR
        | io::SIOCSIFDSTADDR
            if inet =>
        {
            crate::net::ipv4::devinet_ioctl::devinet_ioctl(cmd, arg)
        }
        // AF_INET and AF_PACKET route SIOCSIFFLAGS through devinet for
        // the alias case; a plain name ends in `dev_change_flags` as here.
        io::SIOCSIFFLAGS if inet => crate::net::ipv4::devinet_ioctl::devinet_ioctl(cmd, arg),
        // Linux: `inet_ioctl` hands them to `devinet_ioctl`, which knows
        // neither.
        io::SIOCGIFPFLAGS | io::SIOCSIFPFLAGS if family == uapi_net::AF_INET => Err(Errno::EINVAL),
        io::SIOCADDRT | io::SIOCDELRT if inet => {
            // TODO(issue 7): no IPv4 routing table yet (routes follow the
            // addresses), so `route add` cannot work.
            if !capable(CAP_NET_ADMIN) {
                return Err(Errno::EPERM);
            }
            Err(Errno::EOPNOTSUPP)
        }
        io::SIOCSIFFLAGS
        | io::SIOCSIFMETRIC
        | io::SIOCSIFMTU
        | io::SIOCSIFMAP
        | io::SIOCSIFTXQLEN
        | io::SIOCSIFHWADDR
        | io::SIOCADDMULTI
        | io::SIOCDELMULTI => {
            if !capable(CAP_NET_ADMIN) {
                return Err(Errno::EPERM);
            }
            let ifr = Ifreq::from_user(arg)?;
            let _rtnl = rtnl_lock();
            dev_ifsioc(&ifr, cmd)?;
            Ok(0)
        }
        // Linux: `sock_ioctl` hands them to the bridge for every family.
        SIOCBRADDBR | SIOCBRDELBR => crate::net::bridge::br_ioctl(cmd == SIOCBRADDBR, arg),
        _ => Err(Errno::ENOTTY),
    }
}

/// The requests anyone may make (Linux: `dev_ifsioc_locked`).
fn dev_ifsioc_locked(ifr: &mut Ifreq, cmd: u32) -> KResult<()> {
    let dev = ifr.dev()?;
    match cmd {
        io::SIOCGIFFLAGS => ifr.set_flags(dev.dev_get_flags()),
        io::SIOCGIFMETRIC => ifr.set_int(0),
        io::SIOCGIFMTU => ifr.set_int(dev.mtu() as i32),
        // Linux: `dev_getifmap`: a virtual device has no memory, I/O
        // port, IRQ or DMA channel.
        io::SIOCGIFMAP => ifr.data_mut().fill(0),
        io::SIOCGIFINDEX => ifr.set_int(dev.ifindex as i32),
        io::SIOCGIFTXQLEN => {
            ifr.set_int(dev.tx_queue_len.load(core::sync::atomic::Ordering::Relaxed) as i32)
        }
        // Linux: `dev_get_mac_address`: `sa_family` is the device type.
        io::SIOCGIFHWADDR => {
            let data = ifr.data_mut();
            data[..2].copy_from_slice(&dev.dev_type.to_ne_bytes());
            match usize::from(dev.addr_len).min(dev.dev_addr.len()) {
                0 => data[2..16].fill(0),
                n => data[2..2 + n].copy_from_slice(&dev.dev_addr[..n]),
            }
        }
        _ => return Err(Errno::ENOTTY),
    }
    Ok(())
}

/// The requests that change a device, under `rtnl_lock` (Linux:
/// `dev_ifsioc`).
fn dev_ifsioc(ifr: &Ifreq, cmd: u32) -> KResult<()> {
    let dev = ifr.dev()?;
    match cmd {
        io::SIOCSIFFLAGS => dev_change_flags(&dev, ifr.flags()),
        io::SIOCSIFMTU => dev_set_mtu(&dev, u32::try_from(ifr.int()).map_err(|_| Errno::EINVAL)?),
        io::SIOCSIFTXQLEN => {
            let qlen = u32::try_from(ifr.int()).map_err(|_| Errno::EINVAL)?;
            dev.tx_queue_len.store(qlen, core::sync::atomic::Ordering::Relaxed);
            Ok(())
        }
        // Linux: `-EOPNOTSUPP` for a metric, and for a device without
        // `ndo_set_config` or `ndo_set_mac_address` (loopback has neither).
        io::SIOCSIFMETRIC | io::SIOCSIFMAP | io::SIOCSIFHWADDR => Err(Errno::EOPNOTSUPP),
        // Linux: `EINVAL` without `ndo_set_rx_mode` (loopback).
        io::SIOCADDMULTI | io::SIOCDELMULTI => Err(Errno::EINVAL),
        _ => Err(Errno::ENOTTY),
    }
}

/// `SIOCGIFNAME`: the name of `ifr_ifindex` (Linux: `dev_ifname`).
fn dev_ifname(arg: UserAddr) -> KResult<i64> {
    let mut ifr = Ifreq::from_user(arg)?;
    let index = u32::try_from(ifr.int()).map_err(|_| Errno::ENODEV)?;
    let dev = dev_get_by_index(index).ok_or(Errno::ENODEV)?;
    ifr.set_name(&dev.name);
    ifr.to_user(arg)?;
    Ok(0)
}

/// `SIOCGIFCONF`: one `ifreq` per IPv4 address, named by its label;
/// with a NULL buffer, only the length needed (Linux: `dev_ifconf`,
/// `inet_gifconf`).
fn dev_ifconf(arg: UserAddr) -> KResult<i64> {
    // struct ifconf { int ifc_len; union { char *ifc_buf; ... } } (16 bytes).
    let mut ifc = [0; 16];
    copy_from_user(&mut ifc, arg).map_err(|_| Errno::EFAULT)?;
    let len = i32::from_ne_bytes([ifc[0], ifc[1], ifc[2], ifc[3]]);
    let mut buf = [0; 8];
    buf.copy_from_slice(&ifc[8..16]);
    let buf = UserAddr::new(u64::from_ne_bytes(buf));
    let mut left = usize::try_from(len).unwrap_or(0);
    let mut done = 0usize;
    'devs: for dev in for_each_netdev() {
        let addrs = dev.ip_ptr.lock().clone();
        for ifa in addrs {
            if buf.is_null() {
                done = done.saturating_add(IFREQ_SIZE);
                continue;
            }
            if left < IFREQ_SIZE {
                break 'devs;
            }
            let mut ifr = Ifreq { bytes: [0; IFREQ_SIZE] };
            ifr.set_name(&ifa.label);
            ifr.set_sin(ifa.local);
            ifr.to_user(buf.checked_add(done).ok_or(Errno::EFAULT)?)?;
            done += IFREQ_SIZE;
            left -= IFREQ_SIZE;
        }
    }
    let done = i32::try_from(done).map_err(|_| Errno::EINVAL)?;
    copy_to_user(arg, &done.to_ne_bytes()).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}

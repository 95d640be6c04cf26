//! The socket calls of a netlink socket (Linux: net/netlink/af_netlink.c
//! `netlink_ops`: `netlink_bind`, `netlink_connect`, `netlink_getname`,
//! `netlink_sendmsg`, `netlink_recvmsg`, `netlink_release`,
//! `netlink_setsockopt`, `netlink_getsockopt`).
//!
//! # Locking
//! As the parent module: `NL_TABLE`, then one socket's `inner`, neither
//! held across a copy, a sleep, a wake or the protocol's input.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use linux_raw_sys::general as uapi;
use linux_raw_sys::general::CAP_NET_ADMIN;
use linux_raw_sys::net as uapi_net;
use linux_raw_sys::netlink as nl;

use super::{
    NL_TABLE, NetlinkSock, SKB_OVERHEAD, ffs, group_mask, netlink_broadcast, netlink_lookup,
    parse_sockaddr_nl, sockaddr_nl,
};
use crate::fs::file_table::PollMask;
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::net::msg::{RecvMsg, SendMsg};
use crate::net::sock::Sock;
use crate::net::socket::ProtoOps;

impl NetlinkSock {
    fn this(&self) -> KResult<Arc<NetlinkSock>> {
        self.me.upgrade().ok_or(Errno::ECONNRESET)
    }

    /// Joins or leaves the groups of `mask` (the low 32 of `nl_groups`).
    fn set_groups_low(&self, mask: u32) {
        let mut st = self.inner.lock();
        st.groups = (st.groups & !u64::from(u32::MAX)) | u64::from(mask);
    }

    /// A message to the kernel's port (Linux: `netlink_unicast_kernel` →
    /// the protocol's `input`).
    fn kernel_input(&self, data: &[u8]) -> KResult<()> {
        let me = self.this()?;
        match self.protocol {
            nl::NETLINK_ROUTE => crate::net::netlink::rtnetlink::rtnetlink_rcv(&me, data),
            nl::NETLINK_KOBJECT_UEVENT => crate::net::netlink::uevent::uevent_net_rcv(&me, data),
            _ => return Err(Errno::ECONNREFUSED),
        }
        Ok(())
    }

    /// Linux: `netlink_setsockopt`.
    fn nl_setsockopt(&self, optname: u32, optval: &[u8]) -> KResult<()> {
        let val = optval.get(..4).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
        let val = val.ok_or(Errno::EINVAL)?;
        let on = val != 0;
        match optname {
            nl::NETLINK_ADD_MEMBERSHIP | nl::NETLINK_DROP_MEMBERSHIP => {
                if val == 0 || val > self.proto().groups || val > 64 {
                    return Err(Errno::EINVAL);
                }
                let mut st = self.inner.lock();
                let bit = 1u64 << (val - 1);
                if optname == nl::NETLINK_ADD_MEMBERSHIP {
                    st.groups |= bit;
                } else {
                    st.groups &= !bit;
                }
                return Ok(());
            }
            nl::NETLINK_LISTEN_ALL_NSID if !capable(linux_raw_sys::general::CAP_NET_BROADCAST) => {
                return Err(Errno::EPERM);
            }
            _ => {}
        }
        let mut st = self.inner.lock();
        let f = &mut st.flags;
        match optname {
            nl::NETLINK_PKTINFO => f.pktinfo = on,
            nl::NETLINK_BROADCAST_ERROR => f.broadcast_error = on,
            nl::NETLINK_NO_ENOBUFS => f.no_enobufs = on,
            nl::NETLINK_LISTEN_ALL_NSID => f.listen_all_nsid = on,
            nl::NETLINK_CAP_ACK => f.cap_ack = on,
            nl::NETLINK_EXT_ACK => f.ext_ack = on,
            nl::NETLINK_GET_STRICT_CHK => f.strict_chk = on,
            _ => return Err(Errno::ENOPROTOOPT),
        }
        Ok(())
    }

    /// Linux: `netlink_getsockopt`: an int, `EINVAL` for a shorter buffer.
    fn nl_getsockopt(&self, optname: u32, len: usize) -> KResult<Vec<u8>> {
        if len < 4 {
            return Err(Errno::EINVAL);
        }
        let f = self.inner.lock().flags;
        let v = match optname {
            nl::NETLINK_PKTINFO => f.pktinfo,
            nl::NETLINK_BROADCAST_ERROR => f.broadcast_error,
            nl::NETLINK_NO_ENOBUFS => f.no_enobufs,
            nl::NETLINK_LISTEN_ALL_NSID => f.listen_all_nsid,
            nl::NETLINK_CAP_ACK => f.cap_ack,
            nl::NETLINK_EXT_ACK => f.ext_ack,
            nl::NETLINK_GET_STRICT_CHK => f.strict_chk,
            _ => return Err(Errno::ENOPROTOOPT),
        };
        Ok(u32::from(v).to_ne_bytes().to_vec())
    }
}

impl ProtoOps for NetlinkSock {
    fn sk(&self) -> &Sock {
        &self.sk
    }

    fn family(&self) -> u32 {
        uapi_net::AF_NETLINK
    }

    fn protocol(&self) -> u32 {
        self.protocol
    }

    /// Linux: `netlink_bind`: a port id (0: autobind) and the groups.
    fn bind(&self, addr: &[u8]) -> KResult<()> {
        let (portid, groups) = parse_sockaddr_nl(addr)?;
        let ngroups = self.proto().groups;
        let groups = if ngroups < 32 { groups & ((1u32 << ngroups) - 1) } else { groups };
        if self.is_bound() && portid != self.portid() {
            return Err(Errno::EINVAL);
        }
        if !self.is_bound() {
            if portid != 0 { self.netlink_insert(portid) } else { self.netlink_autobind() }?;
        }
        self.set_groups_low(groups);
        Ok(())
    }

    /// Linux: `netlink_connect`: `AF_UNSPEC` forgets the destination;
    /// sending to a group needs the protocol's permission.
    fn connect(&self, addr: &[u8], _nonblock: bool) -> KResult<()> {
        if addr.len() < 2 {
            return Err(Errno::EINVAL);
        }
        if u32::from(u16::from_ne_bytes([addr[0], addr[1]])) == uapi_net::AF_UNSPEC {
            let mut st = self.inner.lock();
            st.dst_portid = 0;
            st.dst_group = 0;
            return Ok(());
        }
        let (portid, groups) = parse_sockaddr_nl(addr)?;
        if groups != 0 && !self.proto().nonroot_send && !capable(CAP_NET_ADMIN) {
            return Err(Errno::EPERM);
        }
        self.netlink_autobind()?;
        let mut st = self.inner.lock();
        st.dst_portid = portid;
        st.dst_group = ffs(groups);
        Ok(())
    }

    /// Linux: `netlink_getname`: our port and groups, or the connected
    /// destination.
    fn getname(&self, peer: bool) -> KResult<Vec<u8>> {
        let st = self.inner.lock();
        Ok(if peer {
            sockaddr_nl(st.dst_portid, group_mask(st.dst_group))
        } else {
            let portid = if self.is_bound() { self.portid() } else { 0 };
            #[expect(
                clippy::cast_possible_truncation,
                reason = "nl_groups has the first 32 groups"
            )]
            sockaddr_nl(portid, st.groups as u32)
        })
    }

    /// Linux: `datagram_poll`: readable with a message or an error, always
    /// writable.
    fn poll(&self) -> PollMask {
        let mut mask = uapi::POLLOUT | uapi::POLLWRNORM | uapi::POLLWRBAND;
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

    /// Linux: `netlink_sendmsg`: to the address given or the connected
    /// one; a group gets a copy, then the port (0: the kernel) gets it.
    fn sendmsg(&self, msg: SendMsg<'_>, flags: u32, nonblock: bool) -> KResult<usize> {
        if flags & uapi_net::MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let (dst_portid, dst_group) = match msg.name {
            Some(name) => {
                let (pid, groups) = parse_sockaddr_nl(name)?;
                let group = ffs(groups);
                if (group != 0 || pid != 0) && !self.proto().nonroot_send && !capable(CAP_NET_ADMIN)
                {
                    return Err(Errno::EPERM);
                }
                (pid, group)
            }
            None => {
                let st = self.inner.lock();
                (st.dst_portid, st.dst_group)
            }
        };
        self.netlink_autobind()?;
        if msg.data.len() > self.sk.sndbuf().saturating_sub(32) {
            return Err(Errno::EMSGSIZE);
        }
        if dst_group != 0 {
            netlink_broadcast(self.protocol, self.portid(), dst_group, msg.data, Some(dst_portid));
        }
        if dst_portid == 0 {
            self.kernel_input(msg.data)?;
        } else {
            let dst = netlink_lookup(self.protocol, dst_portid).ok_or(Errno::ECONNREFUSED)?;
            self.user_unicast(&dst, msg.data, nonblock)?;
        }
        Ok(msg.data.len())
    }

    /// Linux: `netlink_recvmsg`: one message, cut to the buffer
    /// (`MSG_TRUNC`), with the sender's address.
    fn recvmsg(&self, buf: &mut [u8], flags: u32, nonblock: bool) -> KResult<RecvMsg> {
        if flags & uapi_net::MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let peek = flags & uapi_net::MSG_PEEK != 0;
        loop {
            // A pending error comes before queued messages (Linux:
            // `__skb_try_recv_datagram` reads `sock_error` first).
            if let Some(e) = self.sk.sock_error() {
                return Err(e);
            }
            let got = {
                let mut st = self.inner.lock();
                match st.queue.front_mut() {
                    Some(skb) => {
                        let len = skb.data.len().min(buf.len());
                        buf[..len].copy_from_slice(&skb.data[..len]);
                        let out = RecvMsg {
                            len,
                            full_len: skb.data.len(),
                            name: Some(sockaddr_nl(skb.portid, group_mask(skb.dst_group))),
                            ..RecvMsg::default()
                        };
                        // Reaching a dump's last data, even by a peek, makes
                        // the next step of the dump (Linux: `netlink_recvmsg`
                        // calls `netlink_dump` while `cb_running`).
                        let ends_dump = core::mem::take(&mut skb.ends_dump);
                        if !peek && let Some(skb) = st.queue.pop_front() {
                            st.rmem = st.rmem.saturating_sub(skb.data.len() + SKB_OVERHEAD);
                        }
                        if ends_dump {
                            Self::dump_finish(&mut st);
                        }
                        Some(out)
                    }
                    None => None,
                }
            };
            if let Some(out) = got {
                self.wake();
                return Ok(out);
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            self.sk.wq.wait_event_interruptible(|| {
                !self.inner.lock().queue.is_empty() || self.sk.has_err()
            })?;
        }
    }

    /// Not reached: `ioctl` refuses `FIONREAD`.
    fn inq_len(&self) -> KResult<usize> {
        Err(Errno::ENOTTY)
    }

    /// Netlink has no ioctls of its own (Linux: `netlink_ioctl` returns
    /// `-ENOIOCTLCMD`): the device ioctls work, anything else, `FIONREAD`
    /// included, is `ENOTTY` (`sock_do_ioctl`).
    fn ioctl(&self, cmd: u32, _arg: u64) -> Option<KResult<i64>> {
        (cmd == linux_raw_sys::ioctl::FIONREAD).then_some(Err(Errno::ENOTTY))
    }

    /// Linux: `netlink_release`.
    fn release(&self) {
        let queue = {
            let _table = NL_TABLE.lock();
            let mut st = self.inner.lock();
            st.dead = true;
            st.groups = 0;
            st.rmem = 0;
            st.dump_done = None;
            self.bound.store(false, Ordering::Release);
            core::mem::take(&mut st.queue)
        };
        drop(queue);
        self.wake();
    }

    fn setsockopt(&self, level: u32, optname: u32, optval: &[u8]) -> KResult<()> {
        if level != uapi_net::SOL_NETLINK {
            return Err(Errno::ENOPROTOOPT);
        }
        self.nl_setsockopt(optname, optval)
    }

    fn getsockopt(&self, level: u32, optname: u32, len: usize) -> KResult<Vec<u8>> {
        if level != uapi_net::SOL_NETLINK {
            return Err(Errno::ENOPROTOOPT);
        }
        self.nl_getsockopt(optname, len)
    }
}

//! AF_UNIX datagrams (Linux: net/unix/af_unix.c `unix_dgram_connect`,
//! `unix_dgram_sendmsg`, `unix_dgram_recvmsg`, `unix_dgram_poll`).
//!
//! Each send is one message, kept whole: a receiver with a short buffer
//! gets the head and `MSG_TRUNC`. A datagram goes to the address given or
//! to the connected peer; a receiver connected elsewhere refuses it
//! (`EPERM`), a closed one gives `ECONNREFUSED` and disconnects the
//! sender. A receiver takes at most [`MAX_DGRAM_QLEN`] queued messages
//! from senders it is not connected to, and at most a send buffer's worth
//! of bytes from anyone; senders beyond that wait.
//!
//! # Locking
//! See mod.rs: one socket's `inner` at a time.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use linux_raw_sys::general as uapi;
use linux_raw_sys::net as uapi_net;

use super::{
    MAX_DGRAM_QLEN, RCV_SHUTDOWN, SHUTDOWN_MASK, SkBuff, UnixSock, UnixState, unix_find_other,
    unix_mkname,
};
use crate::fs::file_table::PollMask;
use crate::kernel::errno::{Errno, KResult};
use crate::net::msg::{RecvMsg, SendMsg};
use crate::net::sock::Ucred;

impl UnixSock {
    /// Whether `other` cannot take `len` more bytes from `self` now
    /// (Linux: `unix_recvq_full` and the send-buffer limit).
    fn dgram_full(&self, o: &UnixState, len: usize) -> bool {
        let connected_to_us = o.peer.as_ref().is_some_and(|p| self.is(p));
        (!connected_to_us && o.rcv_queue.len() > MAX_DGRAM_QLEN)
            || (o.rcv_bytes > 0 && o.rcv_bytes + len > self.sk.sndbuf())
    }

    /// Linux: `unix_dgram_connect`: `AF_UNSPEC` disconnects; otherwise the
    /// target must accept messages from us (`EPERM`).
    pub(super) fn dgram_connect(&self, addr: &[u8]) -> KResult<()> {
        if addr.len() < 2 {
            return Err(Errno::EINVAL);
        }
        if u32::from(u16::from_ne_bytes([addr[0], addr[1]])) == uapi_net::AF_UNSPEC {
            let old = self.inner.lock().peer.take();
            drop(old);
            return Ok(());
        }
        let name = unix_mkname(addr)?;
        if self.sk.passcred.load(core::sync::atomic::Ordering::Relaxed) {
            self.autobind()?;
        }
        let other = unix_find_other(&name, self.sk.sk_type)?;
        if other.inner.lock().peer.as_ref().is_some_and(|p| !self.is(p)) {
            return Err(Errno::EPERM);
        }
        let old = self.inner.lock().peer.replace(other);
        drop(old);
        Ok(())
    }

    /// Linux: `unix_dgram_sendmsg`.
    pub(super) fn dgram_sendmsg(&self, msg: SendMsg<'_>, nonblock: bool) -> KResult<usize> {
        if msg.data.len() > self.sk.sndbuf().saturating_sub(32) {
            return Err(Errno::EMSGSIZE);
        }
        let other = match msg.name {
            Some(addr) => unix_find_other(&unix_mkname(addr)?, self.sk.sk_type)?,
            None => self.inner.lock().peer.clone().ok_or(Errno::ENOTCONN)?,
        };
        if self.sk.passcred.load(core::sync::atomic::Ordering::Relaxed) {
            self.autobind()?;
        }
        let from = self.inner.lock().addr.clone();
        let scm = msg.scm.unwrap_or_default();
        let cred = scm.cred.unwrap_or_else(Ucred::current);
        let mut skb = Some(SkBuff {
            data: crate::mm::slab_common::kmemdup(msg.data)?,
            off: 0,
            fds: scm.fds,
            cred,
            from,
        });
        loop {
            let queued = self.dgram_queue(&other, &mut skb)?;
            if queued {
                other.wake();
                return Ok(msg.data.len());
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            other.sk.wq.wait_event_interruptible(|| {
                let o = other.inner.lock();
                o.dead || o.shutdown & RCV_SHUTDOWN != 0 || !self.dgram_full(&o, msg.data.len())
            })?;
        }
    }

    /// One attempt to queue `skb` on `other`: `Ok(false)` if it is full.
    fn dgram_queue(&self, other: &Arc<UnixSock>, skb: &mut Option<SkBuff>) -> KResult<bool> {
        let len = skb.as_ref().map_or(0, |s| s.data.len());
        let mut o = other.inner.lock();
        if o.dead {
            drop(o);
            let mut st = self.inner.lock();
            let old = st.peer.take_if(|p| Arc::ptr_eq(p, other));
            drop(st);
            drop(old);
            return Err(Errno::ECONNREFUSED);
        }
        if o.peer.as_ref().is_some_and(|p| !self.is(p)) {
            return Err(Errno::EPERM);
        }
        if o.shutdown & RCV_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        if self.dgram_full(&o, len) {
            return Ok(false);
        }
        if let Some(skb) = skb.take() {
            UnixSock::queue_tail(&mut o, skb)?;
        }
        Ok(true)
    }

    /// Linux: `unix_dgram_recvmsg` (and seqpacket's): one message; 0 once
    /// input is shut down and the queue is empty.
    pub(super) fn dgram_recvmsg(
        &self,
        buf: &mut [u8],
        flags: u32,
        nonblock: bool,
    ) -> KResult<RecvMsg> {
        let peek = flags & uapi_net::MSG_PEEK != 0;
        loop {
            let (got, used, peer) = {
                let mut st = self.inner.lock();
                let peer = st.peer.clone();
                match st.rcv_queue.front_mut() {
                    Some(skb) => {
                        let mut out = RecvMsg {
                            full_len: skb.data.len(),
                            cred: Some(skb.cred),
                            name: skb.from.as_deref().map(<[u8]>::to_vec),
                            ..RecvMsg::default()
                        };
                        out.len = skb.data.len().min(buf.len());
                        buf[..out.len].copy_from_slice(&skb.data[..out.len]);
                        if peek {
                            out.fds = skb.fds.clone();
                            (Some(out), None, peer)
                        } else {
                            let mut skb = st.rcv_queue.pop_front();
                            st.rcv_bytes -= out.full_len;
                            out.fds = skb
                                .as_mut()
                                .map(|s| core::mem::take(&mut s.fds))
                                .unwrap_or_default();
                            (Some(out), skb, peer)
                        }
                    }
                    None => (None, None, peer),
                }
            };
            drop(used);
            if let Some(out) = got {
                if !peek {
                    self.wake();
                    if let Some(peer) = peer {
                        peer.wake();
                    }
                }
                return Ok(out);
            }
            if let Some(e) = self.sk.sock_error() {
                return Err(e);
            }
            if self.inner.lock().shutdown & RCV_SHUTDOWN != 0 {
                return Ok(RecvMsg::default());
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            self.sk.wq.wait_event_interruptible(|| {
                let st = self.inner.lock();
                !st.rcv_queue.is_empty() || st.shutdown & RCV_SHUTDOWN != 0 || self.sk.has_err()
            })?;
        }
    }

    /// Linux: `unix_dgram_poll`.
    pub(super) fn dgram_poll(&self) -> PollMask {
        let (mut mask, peer) = {
            let st = self.inner.lock();
            let mut mask = 0;
            if st.shutdown & RCV_SHUTDOWN != 0 {
                mask |= uapi::POLLRDHUP | uapi::POLLIN | uapi::POLLRDNORM;
            }
            if st.shutdown == SHUTDOWN_MASK {
                mask |= uapi::POLLHUP;
            }
            if !st.rcv_queue.is_empty() {
                mask |= uapi::POLLIN | uapi::POLLRDNORM;
            }
            (mask, st.peer.clone())
        };
        if self.sk.has_err() {
            mask |= uapi::POLLERR;
        }
        let writable = peer.is_none_or(|p| {
            let o = p.inner.lock();
            o.rcv_bytes * 4 <= self.sk.sndbuf() && !self.dgram_full(&o, 0)
        });
        if writable {
            mask |= uapi::POLLOUT | uapi::POLLWRNORM | uapi::POLLWRBAND;
        }
        mask
    }
}

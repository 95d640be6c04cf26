//! AF_UNIX connections: listen, connect, accept, and the stream and
//! seqpacket data paths (Linux: net/unix/af_unix.c `unix_listen`,
//! `unix_stream_connect`, `unix_accept`, `unix_stream_sendmsg`,
//! `unix_seqpacket_sendmsg`, `unix_stream_read_generic`, `unix_poll`).
//!
//! `connect` makes the server's end at once, links the two and queues it
//! on the listener: it returns before `accept`, and waits only while the
//! listener's backlog is full. A stream send copies what fits in the
//! peer's queue (the sender's `SO_SNDBUF`), wakes the reader and waits
//! for room for the rest; a reader takes across messages until its buffer
//! is full, stopping after one that carried files.
//!
//! # Locking
//! See mod.rs: one socket's `inner` at a time.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;
use linux_raw_sys::net as uapi_net;

use super::{
    RCV_SHUTDOWN, SEND_SHUTDOWN, SHUTDOWN_MASK, SkBuff, SkState, UnixSock, unix_find_other,
    unix_mkname,
};
use crate::fs::file_table::PollMask;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::signal::Signal;
use crate::kernel::signal::task_impl::send_sig_current;
use crate::net::msg::{RecvMsg, SendMsg};
use crate::net::sock::Ucred;

/// `EPIPE`, with SIGPIPE unless `MSG_NOSIGNAL` (Linux: `pipe_err`).
fn pipe_err(flags: u32) -> Errno {
    if flags & uapi_net::MSG_NOSIGNAL == 0 {
        send_sig_current(Signal::SIGPIPE);
    }
    Errno::EPIPE
}

impl UnixSock {
    /// Linux: `unix_listen`: a bound, unconnected stream or seqpacket
    /// socket; `listen` again changes the backlog.
    pub(super) fn do_listen(&self, backlog: u32) -> KResult<()> {
        if !self.sk.sk_type.is_connected_type() {
            return Err(Errno::EOPNOTSUPP);
        }
        {
            let mut st = self.inner.lock();
            if st.addr.is_none() || st.state == SkState::Established {
                return Err(Errno::EINVAL);
            }
            st.backlog = backlog;
            st.state = SkState::Listen;
        }
        *self.sk.peer_cred.lock() = Some(Ucred::current());
        self.wake();
        Ok(())
    }

    /// Linux: `unix_stream_connect`.
    pub(super) fn stream_connect(&self, addr: &[u8], nonblock: bool) -> KResult<()> {
        let name = unix_mkname(addr)?;
        if self.sk.passcred.load(core::sync::atomic::Ordering::Relaxed) {
            self.autobind()?;
        }
        let other = unix_find_other(&name, self.sk.sk_type)?;
        self.wait_for_backlog(&other, nonblock)?;
        // Linux checks the caller's state only once the listener has room.
        match self.inner.lock().state {
            SkState::Close => {}
            SkState::Established => return Err(Errno::EISCONN),
            SkState::Listen => return Err(Errno::EINVAL),
        }
        // The server's end: connected to us, named as the listener.
        let newsk = UnixSock::new(self.sk.sk_type);
        *newsk.sk.peer_cred.lock() = Some(Ucred::current());
        let listener_addr = other.inner.lock().addr.clone();
        {
            let mut ns = newsk.inner.lock();
            ns.state = SkState::Established;
            ns.peer = Some(self.this()?);
            ns.addr = listener_addr;
        }
        let queued = {
            let mut o = other.inner.lock();
            if o.dead || o.state != SkState::Listen {
                Err(Errno::ECONNREFUSED)
            } else {
                o.accept_queue.try_reserve(1).map_err(|_| Errno::ENOMEM).map(|()| {
                    o.accept_queue.push_back(newsk.clone());
                })
            }
        };
        if let Err(e) = queued {
            newsk.inner.lock().peer = None;
            return Err(e);
        }
        let listener_cred = *other.sk.peer_cred.lock();
        *self.sk.peer_cred.lock() = listener_cred;
        {
            let mut st = self.inner.lock();
            st.state = SkState::Established;
            st.peer = Some(newsk);
        }
        other.wake();
        Ok(())
    }

    /// Waits while `other`'s backlog is full (Linux: `unix_recvq_full`
    /// and `unix_wait_for_peer`); `ECONNREFUSED` unless it listens.
    fn wait_for_backlog(&self, other: &UnixSock, nonblock: bool) -> KResult<()> {
        let refused = |o: &super::UnixState| o.dead || o.state != SkState::Listen;
        let full = |o: &super::UnixState| o.accept_queue.len() > o.backlog as usize;
        loop {
            {
                let o = other.inner.lock();
                if refused(&o) {
                    return Err(Errno::ECONNREFUSED);
                }
                if !full(&o) {
                    return Ok(());
                }
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            other.sk.wq.wait_event_interruptible(|| {
                let o = other.inner.lock();
                refused(&o) || !full(&o)
            })?;
        }
    }

    /// Linux: `unix_accept`: `EINVAL` unless listening.
    pub(super) fn do_accept(&self, nonblock: bool) -> KResult<Arc<UnixSock>> {
        if !self.sk.sk_type.is_connected_type() {
            return Err(Errno::EOPNOTSUPP);
        }
        loop {
            let got = {
                let mut st = self.inner.lock();
                if st.state != SkState::Listen {
                    return Err(Errno::EINVAL);
                }
                st.accept_queue.pop_front()
            };
            if let Some(newsk) = got {
                // A connector may wait for room in the backlog.
                self.wake();
                return Ok(newsk);
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            self.sk.wq.wait_event_interruptible(|| {
                let st = self.inner.lock();
                st.state != SkState::Listen || !st.accept_queue.is_empty()
            })?;
        }
    }

    /// The connected peer, or the errors a send on this socket gives.
    fn stream_peer(&self, flags: u32) -> KResult<Arc<UnixSock>> {
        let st = self.inner.lock();
        let peer = st.peer.clone().filter(|_| st.state == SkState::Established);
        let Some(peer) = peer else { return Err(Errno::ENOTCONN) };
        if st.shutdown & SEND_SHUTDOWN != 0 {
            drop(st);
            return Err(pipe_err(flags));
        }
        Ok(peer)
    }

    /// Queues what fits of `data` on `other` (all of it for `atomic`);
    /// `Ok(None)` when it must wait. `EPIPE` once the reader is gone.
    fn queue_some(
        &self,
        other: &UnixSock,
        data: &[u8],
        fds: &mut Option<crate::net::scm::Scm>,
        atomic: bool,
    ) -> KResult<Option<usize>> {
        let sndbuf = self.sk.sndbuf();
        let mut o = other.inner.lock();
        if o.dead || o.shutdown & RCV_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        let room = sndbuf.saturating_sub(o.rcv_bytes);
        let fits = if atomic {
            room >= data.len() || o.rcv_bytes == 0
        } else {
            room > 0 || data.is_empty()
        };
        if !fits {
            return Ok(None);
        }
        let n = if atomic { data.len() } else { room.min(data.len()) };
        let mut buf = Vec::new();
        buf.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
        buf.extend_from_slice(&data[..n]);
        let scm = fds.take().unwrap_or_default();
        let cred = scm.cred.unwrap_or_else(Ucred::current);
        let skb = SkBuff { data: buf, off: 0, fds: scm.fds, cred, from: None };
        UnixSock::queue_tail(&mut o, skb)?;
        drop(o);
        other.wake();
        Ok(Some(n))
    }

    /// Waits on the reader's queue for room, or for it to go away.
    fn wait_for_room(&self, other: &UnixSock, need: usize) -> KResult<()> {
        let sndbuf = self.sk.sndbuf();
        other.sk.wq.wait_event_interruptible(|| {
            let o = other.inner.lock();
            o.dead
                || o.shutdown & RCV_SHUTDOWN != 0
                || o.rcv_bytes == 0
                || sndbuf.saturating_sub(o.rcv_bytes) >= need
        })
    }

    /// Linux: `unix_stream_sendmsg`: an address is `EISCONN` (or
    /// `EOPNOTSUPP` unconnected); a send broken off after some bytes
    /// returns their count.
    pub(super) fn stream_sendmsg(
        &self,
        msg: SendMsg<'_>,
        flags: u32,
        nonblock: bool,
    ) -> KResult<usize> {
        if msg.name.is_some() {
            let connected = self.inner.lock().state == SkState::Established;
            return Err(if connected { Errno::EISCONN } else { Errno::EOPNOTSUPP });
        }
        let other = self.stream_peer(flags)?;
        let mut scm = msg.scm;
        let mut sent = 0;
        loop {
            match self.queue_some(&other, &msg.data[sent..], &mut scm, false) {
                Ok(Some(n)) => sent += n,
                Ok(None) => {}
                Err(Errno::EPIPE) if sent == 0 => return Err(pipe_err(flags)),
                Err(Errno::EPIPE) => return Ok(sent),
                Err(e) => return Err(e),
            }
            if sent == msg.data.len() {
                return Ok(sent);
            }
            if nonblock {
                return if sent > 0 { Ok(sent) } else { Err(Errno::EAGAIN) };
            }
            if let Err(e) = self.wait_for_room(&other, 1) {
                return if sent > 0 { Ok(sent) } else { Err(e) };
            }
        }
    }

    /// Linux: `unix_seqpacket_sendmsg` → `unix_dgram_sendmsg` to the
    /// peer: one record, whole; an address is ignored; no SIGPIPE.
    pub(super) fn seqpacket_sendmsg(&self, msg: SendMsg<'_>, nonblock: bool) -> KResult<usize> {
        if msg.data.len() > self.sk.sndbuf().saturating_sub(32) {
            return Err(Errno::EMSGSIZE);
        }
        let other = {
            let st = self.inner.lock();
            st.peer.clone().filter(|_| st.state == SkState::Established).ok_or(Errno::ENOTCONN)?
        };
        let mut scm = msg.scm;
        loop {
            if let Some(n) = self.queue_some(&other, msg.data, &mut scm, true)? {
                return Ok(n);
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            self.wait_for_room(&other, msg.data.len())?;
        }
    }

    /// Copies from the head of the queue into `buf` (consuming unless
    /// `peek`), stopping after a message that carried files.
    fn dequeue_stream(
        &self,
        buf: &mut [u8],
        peek: bool,
        out: &mut RecvMsg,
    ) -> (usize, Vec<SkBuff>) {
        let mut st = self.inner.lock();
        let mut done = 0;
        let mut used = Vec::new();
        let mut i = 0;
        while done < buf.len() && i < st.rcv_queue.len() {
            let skb = &mut st.rcv_queue[i];
            let n = skb.left().min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&skb.data[skb.off..skb.off + n]);
            done += n;
            if out.cred.is_none() {
                out.cred = Some(skb.cred);
            }
            let had_fds = !skb.fds.is_empty();
            if peek {
                out.fds.extend(skb.fds.iter().cloned());
                i += 1;
            } else {
                out.fds.append(&mut skb.fds);
                skb.off += n;
                if skb.left() == 0 {
                    used.extend(st.rcv_queue.pop_front());
                }
                st.rcv_bytes -= n;
            }
            if had_fds {
                break;
            }
        }
        (done, used)
    }

    /// Linux: `unix_stream_read_generic`: `EINVAL` unless connected; 0 at
    /// end of input; `MSG_WAITALL` waits for the whole buffer.
    pub(super) fn stream_recvmsg(
        &self,
        buf: &mut [u8],
        flags: u32,
        nonblock: bool,
    ) -> KResult<RecvMsg> {
        let peer = {
            let st = self.inner.lock();
            if st.state != SkState::Established {
                return Err(Errno::EINVAL);
            }
            st.peer.clone()
        };
        let target = if flags & uapi_net::MSG_WAITALL != 0 { buf.len() } else { buf.len().min(1) };
        let peek = flags & uapi_net::MSG_PEEK != 0;
        let mut out = RecvMsg::default();
        let mut copied = 0;
        loop {
            let (n, used) = self.dequeue_stream(&mut buf[copied..], peek, &mut out);
            drop(used);
            if n > 0 && !peek {
                self.wake();
                if let Some(peer) = &peer {
                    peer.wake();
                }
            }
            copied += n;
            if copied >= target || !out.fds.is_empty() || (peek && n > 0) {
                break;
            }
            if copied == 0
                && let Some(e) = self.sk.sock_error()
            {
                return Err(e);
            }
            if self.inner.lock().shutdown & RCV_SHUTDOWN != 0 {
                break;
            }
            if nonblock {
                if copied > 0 {
                    break;
                }
                return Err(Errno::EAGAIN);
            }
            let waited = self.sk.wq.wait_event_interruptible(|| {
                let st = self.inner.lock();
                !st.rcv_queue.is_empty() || st.shutdown & RCV_SHUTDOWN != 0 || self.sk.has_err()
            });
            if let Err(e) = waited {
                if copied > 0 {
                    break;
                }
                return Err(e);
            }
        }
        out.len = copied;
        out.full_len = copied;
        Ok(out)
    }

    /// Linux: `unix_poll` for stream and seqpacket sockets.
    pub(super) fn stream_poll(&self) -> PollMask {
        let (mut mask, peer, writable_state) = {
            let st = self.inner.lock();
            let mut mask = 0;
            if st.shutdown == SHUTDOWN_MASK {
                mask |= uapi::POLLHUP;
            }
            if st.shutdown & RCV_SHUTDOWN != 0 {
                mask |= uapi::POLLRDHUP | uapi::POLLIN | uapi::POLLRDNORM;
            }
            if !st.rcv_queue.is_empty() || !st.accept_queue.is_empty() {
                mask |= uapi::POLLIN | uapi::POLLRDNORM;
            }
            if st.state == SkState::Close {
                mask |= uapi::POLLHUP;
            }
            (mask, st.peer.clone(), st.state != SkState::Listen)
        };
        if self.sk.has_err() {
            mask |= uapi::POLLERR;
        }
        let queued = peer.map_or(0, |p| p.inner.lock().rcv_bytes);
        if writable_state && queued * 4 <= self.sk.sndbuf() {
            mask |= uapi::POLLOUT | uapi::POLLWRNORM | uapi::POLLWRBAND;
        }
        mask
    }
}

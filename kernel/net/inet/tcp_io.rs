//! TCP's data path, poll, shutdown and close (Linux: net/ipv4/tcp.c
//! `tcp_sendmsg_locked`, `tcp_recvmsg_locked`, `tcp_poll`,
//! `inet_shutdown`, `tcp_close`).
//!
//! Data is copied between the caller's kernel buffer (msg.rs gathers
//! user memory first) and smoltcp's rings under `STACK`; the engine then
//! runs once per call, not per segment, so on loopback a 64 KiB send is
//! segmented, delivered and acknowledged in one [`net_rx_action`].
//!
//! # Locking
//! As tcp.rs: `inner`, then `STACK`; neither across a sleep or
//! [`net_rx_action`].
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;
use linux_raw_sys::net as uapi_net;
use smoltcp::socket::tcp::{self, State};

use super::stack::{net_rx_action, with_stack};
use super::tcp::{SsState, TcpSock};
use super::tcp_listen::{self, Orphan, TCP_BUF};
use crate::fs::file_table::PollMask;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::signal::Signal;
use crate::kernel::signal::task_impl::send_sig_current;
use crate::net::msg::RecvMsg;

type TcpSocket = tcp::Socket<'static>;

/// `EPIPE`, with SIGPIPE unless `MSG_NOSIGNAL` (Linux: `sk_stream_error`).
fn pipe_err(flags: u32) -> Errno {
    if flags & uapi_net::MSG_NOSIGNAL == 0 {
        send_sig_current(Signal::SIGPIPE);
    }
    Errno::EPIPE
}

/// Whether the handshake is still under way.
fn is_syn(state: State) -> bool {
    matches!(state, State::SynSent | State::SynReceived)
}

/// What one attempt to move data found.
enum Step {
    Moved(usize),
    /// Nothing now; more may come.
    Wait,
    /// The stream is over that way (EOF for a reader, EPIPE for a writer).
    Done,
}

impl TcpSock {
    /// Linux: `tcp_sendmsg_locked`: waits for the connection and for
    /// room; a send broken off after some bytes returns their count.
    pub(super) fn tcp_sendmsg(&self, data: &[u8], flags: u32, nonblock: bool) -> KResult<usize> {
        if flags & uapi_net::MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let nonblock = nonblock || flags & uapi_net::MSG_DONTWAIT != 0;
        let mut sent = 0;
        loop {
            let step = self.send_step(&data[sent..]);
            let step = match step {
                Err(e) if sent > 0 => {
                    // Reported by the next call.
                    if e != Errno::EPIPE {
                        self.sk.set_err(e);
                    }
                    return Ok(sent);
                }
                Err(Errno::EPIPE) => return Err(pipe_err(flags)),
                Err(e) => return Err(e),
                Ok(s) => s,
            };
            match step {
                Step::Moved(n) => {
                    sent += n;
                    net_rx_action();
                    if sent == data.len() {
                        return Ok(sent);
                    }
                }
                Step::Done if sent > 0 => return Ok(sent),
                Step::Done => return Err(pipe_err(flags)),
                Step::Wait => {}
            }
            if nonblock {
                return if sent > 0 { Ok(sent) } else { Err(Errno::EAGAIN) };
            }
            if let Err(e) = self.wait(false, || self.send_ready()) {
                return if sent > 0 { Ok(sent) } else { Err(e) };
            }
        }
    }

    /// Queues what fits of `data`.
    fn send_step(&self, data: &[u8]) -> KResult<Step> {
        let mut st = self.inner.lock();
        let state = self.tcp_state(&mut st);
        if let Some(e) = self.sk.sock_error() {
            return Err(e);
        }
        if st.snd_shutdown {
            return Err(Errno::EPIPE);
        }
        let (Some(h), Some(state)) = (st.handle, state) else {
            // Linux: `sk_stream_wait_connect` on a closed socket.
            return Err(Errno::EPIPE);
        };
        if is_syn(state) {
            return Ok(Step::Wait);
        }
        let sent = with_stack(|s| {
            let t = s.socket_mut::<TcpSocket>(h)?;
            if !t.may_send() {
                return None;
            }
            t.send_slice(data).ok()
        })?;
        Ok(match sent {
            None => Step::Done,
            Some(0) if !data.is_empty() => Step::Wait,
            Some(n) => Step::Moved(n),
        })
    }

    /// Whether a sleeping sender should look again.
    fn send_ready(&self) -> bool {
        let mut st = self.inner.lock();
        let state = self.tcp_state(&mut st);
        let Some(h) = st.handle else { return true };
        if self.sk.has_err()
            || st.snd_shutdown
            || state.is_none_or(|s| !is_syn(s) && s != State::Established && s != State::CloseWait)
        {
            return true;
        }
        with_stack(|s| s.socket_mut::<TcpSocket>(h).is_none_or(|t| t.can_send())).unwrap_or(true)
    }

    /// Linux: `tcp_recvmsg_locked`: data first, then a pending error,
    /// then 0 at end of stream; `MSG_WAITALL` waits for the whole buffer.
    pub(super) fn tcp_recvmsg(
        &self,
        buf: &mut [u8],
        flags: u32,
        nonblock: bool,
    ) -> KResult<RecvMsg> {
        if flags & uapi_net::MSG_OOB != 0 {
            return Err(Errno::EINVAL);
        }
        let nonblock = nonblock || flags & uapi_net::MSG_DONTWAIT != 0;
        let peek = flags & uapi_net::MSG_PEEK != 0;
        let target =
            if flags & uapi_net::MSG_WAITALL != 0 && !peek { buf.len() } else { buf.len().min(1) };
        let mut copied = 0;
        loop {
            match self.recv_step(&mut buf[copied..], peek) {
                Err(e) if copied > 0 => {
                    self.sk.set_err(e);
                    break;
                }
                Err(e) => return Err(e),
                Ok(Step::Moved(n)) => {
                    copied += n;
                    if !peek {
                        // A window update may go out.
                        net_rx_action();
                    }
                    if copied >= target || peek {
                        break;
                    }
                    continue;
                }
                Ok(Step::Done) => break,
                Ok(Step::Wait) => {}
            }
            if nonblock {
                if copied > 0 {
                    break;
                }
                return Err(Errno::EAGAIN);
            }
            if let Err(e) = self.wait(true, || self.recv_ready()) {
                if copied > 0 {
                    break;
                }
                return Err(e);
            }
        }
        Ok(RecvMsg { len: copied, full_len: copied, ..Default::default() })
    }

    /// Takes (or peeks at) what is queued.
    fn recv_step(&self, buf: &mut [u8], peek: bool) -> KResult<Step> {
        let mut st = self.inner.lock();
        if st.ss == SsState::Listening {
            return Err(Errno::ENOTCONN);
        }
        let state = self.tcp_state(&mut st);
        let (Some(h), Some(state)) = (st.handle, state) else { return Err(Errno::ENOTCONN) };
        let got = with_stack(|s| {
            let t = s.socket_mut::<TcpSocket>(h)?;
            if t.recv_queue() == 0 {
                return Some(0);
            }
            if peek { t.peek_slice(buf).ok() } else { t.recv_slice(buf).ok() }
        })?;
        match got {
            Some(n) if n > 0 => return Ok(Step::Moved(n)),
            _ if buf.is_empty() => return Ok(Step::Done),
            _ => {}
        }
        if st.fin_rcvd {
            return Ok(Step::Done);
        }
        if let Some(e) = self.sk.sock_error() {
            return Err(e);
        }
        if st.rcv_shutdown {
            return Ok(Step::Done);
        }
        Ok(match state {
            State::Established
            | State::FinWait1
            | State::FinWait2
            | State::SynSent
            | State::SynReceived => Step::Wait,
            _ => Step::Done,
        })
    }

    /// Whether a sleeping reader should look again.
    fn recv_ready(&self) -> bool {
        let mut st = self.inner.lock();
        let state = self.tcp_state(&mut st);
        let Some(h) = st.handle else { return true };
        if self.sk.has_err() || st.rcv_shutdown {
            return true;
        }
        let open = matches!(
            state,
            Some(
                State::Established
                    | State::FinWait1
                    | State::FinWait2
                    | State::SynSent
                    | State::SynReceived
            )
        );
        !open
            || with_stack(|s| s.socket_mut::<TcpSocket>(h).is_none_or(|t| t.recv_queue() > 0))
                .unwrap_or(true)
    }

    /// Bytes waiting to be read (Linux: `SIOCINQ`, `tcp_inq`): `EINVAL`
    /// on a listener.
    pub(super) fn tcp_inq(&self) -> KResult<usize> {
        let st = self.inner.lock();
        if st.ss == SsState::Listening {
            return Err(Errno::EINVAL);
        }
        let Some(h) = st.handle else { return Ok(0) };
        with_stack(|s| s.socket_mut::<TcpSocket>(h).map_or(0, |t| t.recv_queue()))
    }

    /// Bytes sent and not yet acknowledged (Linux: `SIOCOUTQ`).
    pub(super) fn tcp_outq(&self) -> KResult<usize> {
        let st = self.inner.lock();
        if st.ss == SsState::Listening {
            return Err(Errno::EINVAL);
        }
        let Some(h) = st.handle else { return Ok(0) };
        with_stack(|s| s.socket_mut::<TcpSocket>(h).map_or(0, |t| t.send_queue()))
    }

    /// Linux: `tcp_poll`.
    pub(super) fn tcp_poll(&self) -> PollMask {
        let mut st = self.inner.lock();
        if st.ss == SsState::Listening {
            let ready =
                with_stack(|s| s.tcp.listeners.get(&self.id).is_some_and(|l| !l.queue.is_empty()));
            return if ready.unwrap_or(false) { uapi::POLLIN | uapi::POLLRDNORM } else { 0 };
        }
        let state = self.tcp_state(&mut st).unwrap_or(State::Closed);
        let (rx, tx_room) = st
            .handle
            .and_then(|h| {
                with_stack(|s| {
                    s.socket_mut::<TcpSocket>(h)
                        .map(|t| (t.recv_queue(), t.send_capacity() - t.send_queue()))
                })
                .ok()
                .flatten()
            })
            .unwrap_or((0, TCP_BUF));
        let mut mask = 0;
        if (st.rcv_shutdown && st.snd_shutdown) || state == State::Closed {
            mask |= uapi::POLLHUP;
        }
        let peer_fin =
            matches!(state, State::CloseWait | State::LastAck | State::Closing | State::TimeWait);
        if st.rcv_shutdown || peer_fin {
            mask |= uapi::POLLIN | uapi::POLLRDNORM | uapi::POLLRDHUP;
        }
        if !is_syn(state) {
            if rx > 0 {
                mask |= uapi::POLLIN | uapi::POLLRDNORM;
            }
            // Linux: writable once a third of the buffer is free.
            if !st.snd_shutdown && tx_room >= TCP_BUF / 3 {
                mask |= uapi::POLLOUT | uapi::POLLWRNORM;
            }
        }
        if self.sk.has_err() {
            mask |= uapi::POLLERR;
        }
        mask
    }

    /// Linux: `inet_shutdown`: `SHUT_WR` sends our FIN once the queue is
    /// out; `SHUT_RD` on a listener stops it; `ENOTCONN` unconnected.
    pub(super) fn inet_shutdown(&self, how: u32) -> KResult<()> {
        let rd = how != uapi_net::SHUT_WR;
        let wr = how != uapi_net::SHUT_RD;
        let mut st = self.inner.lock();
        let state = self.tcp_state(&mut st);
        let r = match (st.ss, state) {
            (SsState::Listening, _) => {
                if rd {
                    let _ =
                        with_stack(|s| tcp_listen::listen_stop(s, self.id, self.uid, self.is_v6()));
                    st.ss = SsState::Unconnected;
                    if let Some(p) = st.port.take() {
                        // The port stays ours, no longer listening.
                        st.port = Some(p.inherit());
                    }
                }
                Ok(())
            }
            (_, None | Some(State::Closed)) => Err(Errno::ENOTCONN),
            (_, Some(_)) => Ok(()),
        };
        st.rcv_shutdown |= rd;
        if wr && !st.snd_shutdown {
            st.snd_shutdown = true;
            if let Some(h) = st.handle {
                st.fin_sent = true;
                let _ = with_stack(|s| s.socket_mut::<TcpSocket>(h).map(|t| t.close()));
            }
        }
        drop(st);
        net_rx_action();
        self.sk.wq.wake_up_interruptible_all();
        r
    }

    pub(super) fn is_v6(&self) -> bool {
        self.family == uapi_net::AF_INET6
    }

    /// Linux: `tcp_close`: a graceful FIN, or a reset when unread data
    /// would be lost or `SO_LINGER` is 0; the connection finishes as an
    /// orphan holding its port.
    pub(super) fn tcp_close(&self) {
        let (handle, port, listening) = {
            let mut st = self.inner.lock();
            let listening = st.ss == SsState::Listening;
            st.ss = SsState::Unconnected;
            (st.handle.take(), st.port.take(), listening)
        };
        let linger0 = *self.sk.linger.lock() == Some(0);
        let (uid, v6) = (self.uid, self.is_v6());
        let _ = with_stack(|s| {
            if listening {
                tcp_listen::listen_stop(s, self.id, uid, v6);
            }
            let Some(h) = handle else { return };
            if let Some(t) = s.socket_mut::<TcpSocket>(h) {
                if linger0 || t.recv_queue() > 0 {
                    t.abort();
                } else {
                    t.close();
                }
            }
            s.tcp.orphans.push(Orphan { handle: h, _port: port, uid, v6 });
        });
        net_rx_action();
    }
}

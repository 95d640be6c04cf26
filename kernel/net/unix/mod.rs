//! AF_UNIX sockets: local byte streams, datagrams and sequenced packets,
//! named in the file system, in the abstract namespace, or not at all
//! (Linux: net/unix/af_unix.c, include/net/af_unix.h).
//!
//! A [`UnixSock`] keeps its receive queue of [`SkBuff`]s (data, passed
//! files, the sender's credentials and address), its peer, its address
//! and, when listening, the queue of connections not yet accepted (Linux
//! keeps those "embryos" on the receive queue; here they have their own).
//! A sender appends to its peer's queue, bounded by its send buffer, and
//! sleeps on the peer's wait queue when it is full; a receiver sleeps on
//! its own and wakes both when it takes data. [`stream`] has the
//! connection-oriented half (stream and seqpacket), [`dgram`] datagrams.
//!
//! Names: a path (`sun_path[0] != 0`) is an `S_IFSOCK` inode made by
//! `bind`; connect finds the socket by that inode (Linux:
//! `unix_find_socket_byinode`). An abstract name (`sun_path[0] == 0`) is
//! a key of its own table; an empty `bind` picks one ("autobind": NUL and
//! five hex digits).
//!
//! # Locking
//! `UnixSock::inner` is a leaf: never held with another socket's, never
//! across a user copy, a sleep, or the drop of a passed file (queues are
//! taken out and dropped after unlocking). The name tables `UNIX_BSD` and
//! `UNIX_ABSTRACT` are leaves too, never nested with `inner`.
//!
//! Not yet: the garbage collector for sockets passed over themselves
//! (such a cycle is leaked), `SO_PEEK_OFF`, out-of-band data.
#![deny(unsafe_code)]

pub mod dgram;
pub mod stream;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use linux_raw_sys::general as uapi;
use linux_raw_sys::net as uapi_net;

use super::msg::{RecvMsg, SendMsg};
use super::sock::{Sock, SockType, Ucred};
use super::socket::ProtoOps;
use crate::fs::current_fs;
use crate::fs::file_table::{File, PollMask};
use crate::fs::inode::{DevT, FileType, Inode};
use crate::fs::namei::create::{filename_create, vfs_create_with};
use crate::fs::namei::{AT_FDCWD, LookupFlags, MAY_WRITE, filename_lookup, inode_permission};
use crate::fs::select::poll_wake;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

/// `sk_shutdown` bits (Linux: `RCV_SHUTDOWN`, `SEND_SHUTDOWN`).
pub const RCV_SHUTDOWN: u8 = 1;
pub const SEND_SHUTDOWN: u8 = 2;
pub const SHUTDOWN_MASK: u8 = 3;
/// `sun_family` of an AF_UNIX address.
#[expect(clippy::cast_possible_truncation, reason = "AF_UNIX is 1")]
const SA_FAMILY_UNIX: u16 = uapi_net::AF_UNIX as u16;
/// `offsetof(struct sockaddr_un, sun_path)`.
const SUN_PATH_OFF: usize = 2;
/// `sizeof(struct sockaddr_un)`.
const SOCKADDR_UN_SIZE: usize = 110;
/// Datagrams queued for a receiver by senders it is not connected to
/// (Linux: `net.unix.max_dgram_qlen`).
pub const MAX_DGRAM_QLEN: usize = 10;

/// Connection state (Linux: `TCP_CLOSE`, `TCP_LISTEN`, `TCP_ESTABLISHED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkState {
    Close,
    Listen,
    Established,
}

/// One queued message or piece of a stream (Linux: `struct sk_buff` with
/// `struct unix_skb_parms`).
pub struct SkBuff {
    pub data: Vec<u8>,
    /// How much of `data` a stream reader has taken.
    pub off: usize,
    pub fds: Vec<Arc<File>>,
    pub cred: Ucred,
    /// The sender's address, for datagrams.
    pub from: Option<Arc<[u8]>>,
}

impl SkBuff {
    pub fn left(&self) -> usize {
        self.data.len() - self.off
    }
}

/// The state under `UnixSock::inner`.
pub struct UnixState {
    pub state: SkState,
    pub shutdown: u8,
    /// Released: its file is closed (Linux: `SOCK_DEAD`).
    pub dead: bool,
    pub peer: Option<Arc<UnixSock>>,
    /// The bound address as `getsockname` returns it (Linux: `u->addr`).
    pub addr: Option<Arc<[u8]>>,
    /// The inode of a path name, kept as Linux keeps `u->path`.
    bsd_inode: Option<Arc<Inode>>,
    pub rcv_queue: VecDeque<SkBuff>,
    pub rcv_bytes: usize,
    pub backlog: u32,
    /// Connections waiting for `accept`.
    pub accept_queue: VecDeque<Arc<UnixSock>>,
}

/// An AF_UNIX socket (Linux: `struct unix_sock`).
pub struct UnixSock {
    pub sk: Sock,
    me: Weak<UnixSock>,
    pub inner: SpinLock<UnixState>,
}

/// Path-bound sockets by inode (Linux: `bsd_socket_buckets`).
static UNIX_BSD: SpinLock<BTreeMap<usize, Weak<UnixSock>>> = SpinLock::new(BTreeMap::new());
/// Abstract names by type and address (Linux: the hash of
/// `unix_socket_table`, which mixes in the type).
static UNIX_ABSTRACT: SpinLock<AbstractTable> = SpinLock::new(BTreeMap::new());
type AbstractTable = BTreeMap<(u32, Vec<u8>), Weak<UnixSock>>;
static AUTOBIND_ORDER: AtomicU32 = AtomicU32::new(0);

impl UnixSock {
    pub fn new(sk_type: SockType) -> Arc<Self> {
        let state = UnixState {
            state: SkState::Close,
            shutdown: 0,
            dead: false,
            peer: None,
            addr: None,
            bsd_inode: None,
            rcv_queue: VecDeque::new(),
            rcv_bytes: 0,
            backlog: 0,
            accept_queue: VecDeque::new(),
        };
        Arc::new_cyclic(|me| Self {
            sk: Sock::new(sk_type),
            me: me.clone(),
            inner: SpinLock::new(state),
        })
    }

    /// This socket as a counted reference (the `Arc` it lives in).
    pub fn this(&self) -> KResult<Arc<Self>> {
        self.me.upgrade().ok_or(Errno::ECONNRESET)
    }

    pub fn is(&self, other: &Arc<UnixSock>) -> bool {
        core::ptr::eq(self, Arc::as_ptr(other))
    }

    /// Wakes everyone sleeping on or polling this socket.
    pub fn wake(&self) {
        self.sk.wq.wake_up_all();
        poll_wake();
    }

    /// Appends a message to this socket's receive queue.
    pub fn queue_tail(st: &mut UnixState, skb: SkBuff) -> KResult<()> {
        st.rcv_queue.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        st.rcv_bytes += skb.data.len();
        st.rcv_queue.push_back(skb);
        Ok(())
    }

    /// The address `getsockname` reports (an unbound socket: the family).
    fn name_of(st: &UnixState) -> Vec<u8> {
        st.addr.as_deref().map_or_else(|| unnamed().to_vec(), <[u8]>::to_vec)
    }

    /// Linux: `unix_release_sock`. `embryo`: a connection never accepted,
    /// whose peer then sees `ECONNRESET`.
    fn release_sock(&self, embryo: bool) {
        let (peer, queue, embryos, addr, inode) = {
            let mut st = self.inner.lock();
            st.dead = true;
            st.state = SkState::Close;
            st.shutdown = SHUTDOWN_MASK;
            st.rcv_bytes = 0;
            let queue = core::mem::take(&mut st.rcv_queue);
            let embryos = core::mem::take(&mut st.accept_queue);
            (st.peer.take(), queue, embryos, st.addr.clone(), st.bsd_inode.take())
        };
        self.unhash(addr.as_deref(), inode.as_ref());
        if let Some(peer) = &peer
            && self.sk.sk_type.is_connected_type()
        {
            peer.inner.lock().shutdown = SHUTDOWN_MASK;
            if !queue.is_empty() || embryo {
                peer.sk.set_err(Errno::ECONNRESET);
            }
            peer.wake();
        }
        self.wake();
        for e in embryos {
            e.release_sock(true);
        }
        drop(queue);
    }

    /// Removes this socket's name from its table, if it is still the
    /// socket the name leads to.
    fn unhash(&self, addr: Option<&[u8]>, inode: Option<&Arc<Inode>>) {
        if let Some(inode) = inode {
            let mut table = UNIX_BSD.lock();
            let key = Arc::as_ptr(inode) as usize;
            if table.get(&key).is_some_and(|w| core::ptr::eq(w.as_ptr(), self)) {
                table.remove(&key);
            }
        } else if let Some(addr) = addr {
            let mut table = UNIX_ABSTRACT.lock();
            let key = (self.sk.sk_type.raw(), addr.to_vec());
            if table.get(&key).is_some_and(|w| core::ptr::eq(w.as_ptr(), self)) {
                table.remove(&key);
            }
        }
    }

    fn set_addr(&self, addr: Arc<[u8]>, inode: Option<Arc<Inode>>) {
        let mut st = self.inner.lock();
        st.addr = Some(addr);
        st.bsd_inode = inode;
    }

    /// Linux: `unix_bind` (`unix_bind_bsd`, `unix_bind_abstract`).
    fn do_bind(&self, addr: &[u8]) -> KResult<()> {
        if addr.len() == SUN_PATH_OFF && family_of(addr) == uapi_net::AF_UNIX {
            return self.autobind();
        }
        let name = unix_mkname(addr)?;
        if self.inner.lock().addr.is_some() {
            return Err(Errno::EINVAL);
        }
        match name {
            UnixName::Bsd(path) => self.bind_bsd(&path),
            UnixName::Abstract(addr) => self.bind_abstract(addr),
        }
    }

    /// Makes the `S_IFSOCK` node (`EADDRINUSE` if the name exists) and
    /// files the socket under its inode.
    fn bind_bsd(&self, path: &[u8]) -> KResult<()> {
        let cur = current_fs()?;
        let ctx = cur.ctx();
        let mode = uapi::S_IFSOCK | (0o777 & !ctx.fs.umask());
        let made = filename_create(ctx, AT_FDCWD, path, false).and_then(|(parent, last)| {
            vfs_create_with(ctx, &parent, &last, |dir| {
                dir.i_op.mknod(dir, &last, mode, DevT(0), ctx.cred)
            })
        });
        let dentry = made.map_err(|e| if e == Errno::EEXIST { Errno::EADDRINUSE } else { e })?;
        let inode = dentry.positive()?;
        UNIX_BSD.lock().insert(Arc::as_ptr(&inode) as usize, self.me.clone());
        let mut name = Vec::new();
        name.try_reserve(SUN_PATH_OFF + path.len() + 1).map_err(|_| Errno::ENOMEM)?;
        name.extend_from_slice(&SA_FAMILY_UNIX.to_ne_bytes());
        name.extend_from_slice(path);
        name.push(0);
        self.set_addr(name.into(), Some(inode));
        Ok(())
    }

    fn bind_abstract(&self, addr: Vec<u8>) -> KResult<()> {
        {
            let mut table = UNIX_ABSTRACT.lock();
            let key = (self.sk.sk_type.raw(), addr.clone());
            if table.get(&key).is_some_and(|w| w.strong_count() > 0) {
                return Err(Errno::EADDRINUSE);
            }
            table.insert(key, self.me.clone());
        }
        self.set_addr(addr.into(), None);
        Ok(())
    }

    /// Picks a free abstract name, NUL and five hex digits (Linux:
    /// `unix_autobind`); a bound socket keeps its name.
    pub fn autobind(&self) -> KResult<()> {
        if self.inner.lock().addr.is_some() {
            return Ok(());
        }
        for _ in 0..=0xfffff {
            let order = AUTOBIND_ORDER.fetch_add(1, Ordering::Relaxed) & 0xfffff;
            let mut addr = Vec::new();
            addr.try_reserve(8).map_err(|_| Errno::ENOMEM)?;
            addr.extend_from_slice(&SA_FAMILY_UNIX.to_ne_bytes());
            addr.push(0);
            addr.extend_from_slice(alloc::format!("{order:05x}").as_bytes());
            match self.bind_abstract(addr) {
                Err(Errno::EADDRINUSE) => continue,
                other => return other,
            }
        }
        Err(Errno::ENOSPC)
    }
}

/// The address of an unbound socket: the family alone.
fn unnamed() -> [u8; 2] {
    SA_FAMILY_UNIX.to_ne_bytes()
}

fn family_of(addr: &[u8]) -> u32 {
    addr.get(..2).map_or(u32::MAX, |f| u32::from(u16::from_ne_bytes([f[0], f[1]])))
}

/// A checked AF_UNIX address.
pub enum UnixName {
    /// A path, without the NUL.
    Bsd(Vec<u8>),
    /// The whole address, family included.
    Abstract(Vec<u8>),
}

/// Checks an address (Linux: `unix_validate_addr`, `unix_mkname_bsd`):
/// `EINVAL` unless it is AF_UNIX and longer than the family, at most
/// `sizeof(struct sockaddr_un)`. A path ends at its first NUL.
pub fn unix_mkname(addr: &[u8]) -> KResult<UnixName> {
    if addr.len() <= SUN_PATH_OFF || addr.len() > SOCKADDR_UN_SIZE {
        return Err(Errno::EINVAL);
    }
    if family_of(addr) != uapi_net::AF_UNIX {
        return Err(Errno::EINVAL);
    }
    let path = &addr[SUN_PATH_OFF..];
    if path[0] == 0 {
        return Ok(UnixName::Abstract(addr.to_vec()));
    }
    let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
    Ok(UnixName::Bsd(path[..end].to_vec()))
}

/// The socket a name leads to (Linux: `unix_find_other`): for a path,
/// `ENOENT` if it is missing, `EACCES` without write permission,
/// `ECONNREFUSED` if it is not a socket or none is bound there,
/// `EPROTOTYPE` for a socket of another type; for an abstract name,
/// `ECONNREFUSED` if none is bound.
pub fn unix_find_other(name: &UnixName, sk_type: SockType) -> KResult<Arc<UnixSock>> {
    match name {
        UnixName::Bsd(path) => {
            let cur = current_fs()?;
            let ctx = cur.ctx();
            let found = filename_lookup(ctx, AT_FDCWD, path, LookupFlags::FOLLOW)?;
            let inode = found.dentry.positive()?;
            inode_permission(&inode, MAY_WRITE, ctx.cred)?;
            if inode.file_type() != FileType::Socket {
                return Err(Errno::ECONNREFUSED);
            }
            let key = Arc::as_ptr(&inode) as usize;
            let other = UNIX_BSD.lock().get(&key).and_then(Weak::upgrade);
            let other = other.ok_or(Errno::ECONNREFUSED)?;
            if other.sk.sk_type != sk_type {
                return Err(Errno::EPROTOTYPE);
            }
            Ok(other)
        }
        UnixName::Abstract(addr) => {
            let key = (sk_type.raw(), addr.clone());
            UNIX_ABSTRACT.lock().get(&key).and_then(Weak::upgrade).ok_or(Errno::ECONNREFUSED)
        }
    }
}

/// A new socket for `socket(2)` (Linux: `unix_create`): protocol 0 or
/// `PF_UNIX`; `SOCK_RAW` is taken as `SOCK_DGRAM`, other unknown types
/// are `ESOCKTNOSUPPORT`.
pub fn unix_create(type_: u32, protocol: i32) -> KResult<Arc<UnixSock>> {
    if protocol != 0 && protocol != uapi_net::AF_UNIX as i32 {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let sk_type = match type_ {
        uapi_net::SOCK_STREAM => SockType::Stream,
        uapi_net::SOCK_DGRAM | uapi_net::SOCK_RAW => SockType::Dgram,
        uapi_net::SOCK_SEQPACKET => SockType::SeqPacket,
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    };
    Ok(UnixSock::new(sk_type))
}

/// Connects two fresh sockets to each other (Linux: `unix_socketpair`);
/// each sees the caller's credentials as its peer's.
pub fn unix_socketpair(a: &Arc<UnixSock>, b: &Arc<UnixSock>) {
    let cred = Ucred::current();
    for (x, y) in [(a, b), (b, a)] {
        let mut st = x.inner.lock();
        st.peer = Some(y.clone());
        if x.sk.sk_type.is_connected_type() {
            st.state = SkState::Established;
        }
        drop(st);
        *x.sk.peer_cred.lock() = Some(cred);
    }
}

impl ProtoOps for UnixSock {
    fn sk(&self) -> &Sock {
        &self.sk
    }
    fn family(&self) -> u32 {
        uapi_net::AF_UNIX
    }
    fn bind(&self, addr: &[u8]) -> KResult<()> {
        self.do_bind(addr)
    }
    fn connect(&self, addr: &[u8], nonblock: bool) -> KResult<()> {
        match self.sk.sk_type {
            SockType::Dgram => self.dgram_connect(addr),
            _ => self.stream_connect(addr, nonblock),
        }
    }
    fn listen(&self, backlog: u32) -> KResult<()> {
        self.do_listen(backlog)
    }
    fn is_listening(&self) -> bool {
        self.inner.lock().state == SkState::Listen
    }
    fn accept(&self, nonblock: bool) -> KResult<Arc<dyn ProtoOps>> {
        Ok(self.do_accept(nonblock)?)
    }
    /// Linux: `unix_getname`: `ENOTCONN` for the peer of an unconnected
    /// socket.
    fn getname(&self, peer: bool) -> KResult<Vec<u8>> {
        if !peer {
            return Ok(Self::name_of(&self.inner.lock()));
        }
        let other = self.inner.lock().peer.clone().ok_or(Errno::ENOTCONN)?;
        let name = Self::name_of(&other.inner.lock());
        Ok(name)
    }
    fn poll(&self) -> PollMask {
        match self.sk.sk_type {
            SockType::Dgram => self.dgram_poll(),
            _ => self.stream_poll(),
        }
    }
    /// Linux: `unix_shutdown`: the peer of a connection sees the mirror
    /// image (our `SHUT_WR` is its end of input).
    fn shutdown(&self, how: u32) -> KResult<()> {
        let mode = u8::try_from((how + 1) & 3).unwrap_or(SHUTDOWN_MASK);
        let peer = {
            let mut st = self.inner.lock();
            st.shutdown |= mode;
            st.peer.clone()
        };
        if let Some(peer) = peer
            && self.sk.sk_type.is_connected_type()
        {
            let mut peer_mode = 0;
            if mode & RCV_SHUTDOWN != 0 {
                peer_mode |= SEND_SHUTDOWN;
            }
            if mode & SEND_SHUTDOWN != 0 {
                peer_mode |= RCV_SHUTDOWN;
            }
            peer.inner.lock().shutdown |= peer_mode;
            peer.wake();
        }
        self.wake();
        Ok(())
    }
    fn sendmsg(&self, msg: SendMsg<'_>, flags: u32, nonblock: bool) -> KResult<usize> {
        if flags & uapi_net::MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        match self.sk.sk_type {
            SockType::Stream => self.stream_sendmsg(msg, flags, nonblock),
            SockType::SeqPacket => self.seqpacket_sendmsg(msg, nonblock),
            SockType::Dgram | SockType::Raw => self.dgram_sendmsg(msg, nonblock),
        }
    }
    fn recvmsg(&self, buf: &mut [u8], flags: u32, nonblock: bool) -> KResult<RecvMsg> {
        if flags & uapi_net::MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        match self.sk.sk_type {
            SockType::Stream => self.stream_recvmsg(buf, flags, nonblock),
            SockType::SeqPacket => {
                if self.inner.lock().state != SkState::Established {
                    return Err(Errno::ENOTCONN);
                }
                self.dgram_recvmsg(buf, flags, nonblock)
            }
            SockType::Dgram | SockType::Raw => self.dgram_recvmsg(buf, flags, nonblock),
        }
    }
    /// Linux: `unix_inq_len`: all unread bytes of a connection, the next
    /// datagram's length; `EINVAL` on a listener.
    fn inq_len(&self) -> KResult<usize> {
        let st = self.inner.lock();
        if st.state == SkState::Listen {
            return Err(Errno::EINVAL);
        }
        Ok(match self.sk.sk_type {
            SockType::Dgram => st.rcv_queue.front().map_or(0, |skb| skb.data.len()),
            _ => st.rcv_queue.iter().map(SkBuff::left).sum(),
        })
    }
    fn release(&self) {
        self.release_sock(false);
    }
}

//! Sockets as files, and the socket system calls that are not about
//! messages (Linux: net/socket.c `struct socket`, sockfs, `sock_alloc_file`,
//! `__sys_socket`, `__sys_socketpair`, `__sys_bind`, `__sys_listen`,
//! `do_accept`, `__sys_connect`, `__sys_getsockname`, `__sys_shutdown`;
//! include/linux/net.h `struct proto_ops`).
//!
//! Every socket is a file on its own `S_IFSOCK` inode in the internal
//! `sockfs`; the inode's private part is the [`Socket`], whose protocol
//! operations ([`ProtoOps`]) belong to its family. `read`, `write`,
//! `poll` and `close` on the file go to the same operations as `recv`,
//! `send` and `shutdown`.
//!
//! # Locking
//! None here: a `Socket` is immutable; the family locks its own state.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;
use linux_raw_sys::net as uapi_net;

use super::msg::{RecvMsg, SendMsg};
use super::sock::{Sock, SockType};
use super::unix;
use crate::arch::uaccess::{UserAddr, copy_from_user, copy_to_user};
use crate::fs::current_files;
use crate::fs::fdget;
use crate::fs::file_table::{FMode, File, FileOps, PollMask};
use crate::fs::inode::InodeAttr;
use crate::fs::libfs::PseudoFs;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::syscall::args::{Fd, UserPtr};

/// `socket(2)`'s type flags (Linux: `SOCK_NONBLOCK`, `SOCK_CLOEXEC`, the
/// values of `O_NONBLOCK` and `O_CLOEXEC`).
pub const SOCK_NONBLOCK: u32 = uapi::O_NONBLOCK;
pub const SOCK_CLOEXEC: u32 = uapi::O_CLOEXEC;
const SOCK_TYPE_MASK: u32 = 0xf;
/// One past the last socket type (Linux: `SOCK_MAX`, `SOCK_PACKET + 1`).
const SOCK_MAX: u32 = 11;
/// Largest address a call copies in (Linux: `sizeof(struct sockaddr_storage)`).
const SOCKADDR_STORAGE: usize = 128;
/// The most `listen` queues (Linux: `net.core.somaxconn`).
pub const SOMAXCONN: u32 = 4096;

/// What a family does with its sockets (Linux: `struct proto_ops`, with
/// the `struct sock` behind it). Addresses are raw `sockaddr` bytes.
pub trait ProtoOps: Send + Sync {
    /// The generic part (Linux: `sock->sk`).
    fn sk(&self) -> &Sock;
    /// Linux: `proto_ops.family`.
    fn family(&self) -> u32;
    fn bind(&self, addr: &[u8]) -> KResult<()>;
    fn connect(&self, addr: &[u8], nonblock: bool) -> KResult<()>;
    /// Datagram families cannot listen (Linux: `sock_no_listen`).
    fn listen(&self, _backlog: u32) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    fn is_listening(&self) -> bool {
        false
    }
    /// The next connection, as a new socket of the same type (Linux:
    /// `sock_no_accept` for datagram families).
    fn accept(&self, _nonblock: bool) -> KResult<Arc<dyn ProtoOps>> {
        Err(Errno::EOPNOTSUPP)
    }
    /// The socket's own address, or its peer's (Linux: `getname`).
    fn getname(&self, peer: bool) -> KResult<Vec<u8>>;
    fn poll(&self) -> PollMask;
    /// `how` is `SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`, already checked.
    fn shutdown(&self, how: u32) -> KResult<()>;
    /// Sends one buffer with its address and control data.
    fn sendmsg(&self, msg: SendMsg<'_>, flags: u32, nonblock: bool) -> KResult<usize>;
    /// Receives into `buf`.
    fn recvmsg(&self, buf: &mut [u8], flags: u32, nonblock: bool) -> KResult<RecvMsg>;
    /// Bytes `FIONREAD` reports (Linux: `SIOCINQ` in the family's ioctl).
    fn inq_len(&self) -> KResult<usize>;
    /// The last file reference is gone (Linux: `release`).
    fn release(&self);
    /// Options of levels other than `SOL_SOCKET` (`IPPROTO_IP`,
    /// `IPPROTO_TCP`...; Linux: `proto_ops.setsockopt`).
    fn setsockopt(&self, _level: u32, _optname: u32, _optval: &[u8]) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    /// Their values, at most `len` bytes wanted (Linux:
    /// `proto_ops.getsockopt`).
    fn getsockopt(&self, _level: u32, _optname: u32, _len: usize) -> KResult<Vec<u8>> {
        Err(Errno::EOPNOTSUPP)
    }
    /// The family's own ioctls; `None` passes the command on to the
    /// device layer (Linux: `proto_ops.ioctl` returning `-ENOIOCTLCMD`,
    /// then `dev_ioctl`).
    fn ioctl(&self, _cmd: u32, _arg: u64) -> Option<KResult<i64>> {
        None
    }
    /// Linux: `sk_protocol`, what `SO_PROTOCOL` reports.
    fn protocol(&self) -> u32 {
        0
    }
}

/// A socket (Linux: `struct socket`).
pub struct Socket {
    pub ops: Arc<dyn ProtoOps>,
}

impl Socket {
    pub fn sock_type(&self) -> SockType {
        self.ops.sk().sk_type
    }
}

/// The socket behind `fd`: `EBADF` if none is open, `ENOTSOCK` if it is
/// another kind of file (Linux: `sockfd_lookup`).
pub fn sockfd_lookup(fd: Fd) -> KResult<Arc<Socket>> {
    let file = fdget(fd)?;
    sock_from_file(&file).cloned().map_err(|_| Errno::ENOTSOCK)
}

/// The socket and its file: calls that look at `O_NONBLOCK` need both.
pub fn sockfd_lookup_file(fd: Fd) -> KResult<(Arc<Socket>, Arc<File>)> {
    let file = fdget(fd)?;
    let sock = sock_from_file(&file).cloned().map_err(|_| Errno::ENOTSOCK)?;
    Ok((sock, file))
}

/// Linux: `sock_from_file`.
fn sock_from_file(file: &File) -> KResult<&Arc<Socket>> {
    file.f_inode.private::<Arc<Socket>>()
}

/// A socket file's operations (Linux: `socket_file_ops`).
struct SocketFileOps;
static SOCKET_FOPS: SocketFileOps = SocketFileOps;

impl FileOps for SocketFileOps {
    fn release(&self, file: &File) {
        if let Ok(sock) = sock_from_file(file) {
            sock.ops.release();
        }
    }
    /// Linux: `sock_read_iter`, a `recvmsg` without flags.
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        let sock = sock_from_file(file)?;
        if buf.is_empty() {
            return Ok(0);
        }
        Ok(sock.ops.recvmsg(buf, 0, file.is_nonblocking())?.len)
    }
    /// Linux: `sock_write_iter`: SIGPIPE is raised as for `send` without
    /// `MSG_NOSIGNAL`.
    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        let sock = sock_from_file(file)?;
        sock.ops.sendmsg(SendMsg::data(buf), 0, file.is_nonblocking())
    }
    fn poll(&self, file: &File) -> PollMask {
        sock_from_file(file).map_or(uapi::POLLNVAL, |sock| sock.ops.poll())
    }
    /// Linux: `sock_ioctl`: the family's ioctls, `SIOCINQ` (`FIONREAD`),
    /// then the device layer's (`SIOCGIFFLAGS`...).
    fn ioctl(&self, file: &File, cmd: u32, arg: u64) -> KResult<i64> {
        let sock = sock_from_file(file)?;
        if let Some(r) = sock.ops.ioctl(cmd, arg) {
            return r;
        }
        if cmd != linux_raw_sys::ioctl::FIONREAD {
            let family = sock.ops.family();
            return crate::net::core::dev_ioctl::dev_ioctl(family, cmd, UserAddr::new(arg));
        }
        let count = i32::try_from(sock.ops.inq_len()?).unwrap_or(i32::MAX);
        copy_to_user(UserAddr::new(arg), &count.to_ne_bytes()).map_err(|_| Errno::EFAULT)?;
        Ok(0)
    }
    fn poll_wait_queue<'a>(&self, file: &'a File) -> &'a WaitQueue {
        match sock_from_file(file) {
            Ok(sock) => &sock.ops.sk().wq,
            Err(_) => crate::fs::select::poll_wait_queue(),
        }
    }
    fn seekable(&self) -> bool {
        false
    }
}

/// The pseudo file system of socket inodes (Linux: `sock_fs_type`).
static SOCKFS: PseudoFs = PseudoFs::new("sockfs", SOCKFS_MAGIC);
/// Linux: `SOCKFS_MAGIC`.
const SOCKFS_MAGIC: u64 = 0x534F_434B;

/// A file for a new socket (Linux: `sock_alloc` + `sock_alloc_file`):
/// an `S_IFSOCK` inode, mode 0777, owned by the caller. Should this fail,
/// the socket is released.
pub fn sock_alloc_file(ops: Arc<dyn ProtoOps>, flags: u32) -> KResult<Arc<File>> {
    let made = (|| {
        let cred = current().cred();
        let attr = InodeAttr::new(uapi::S_IFSOCK | 0o777, cred.fsuid, cred.fsgid);
        let sock = Arc::new(Socket { ops: ops.clone() });
        let (path, inode) = SOCKFS.new_inode_path(attr, &SOCKET_FOPS, Box::new(sock))?;
        ops.sk().ino.store(inode.ino, core::sync::atomic::Ordering::Relaxed);
        let fmode = FMode::READ | FMode::WRITE;
        File::open(path, inode, &SOCKET_FOPS, fmode, uapi::O_RDWR | (flags & SOCK_NONBLOCK))
    })();
    made.inspect_err(|_| ops.release())
}

/// Checks `socket(2)`'s arguments (Linux: `__sys_socket` →
/// `__sock_create`): the type without its flags, and the flags.
fn check_socket_args(family: i32, type_: i32) -> KResult<(u32, u32)> {
    let type_ = type_ as u32;
    let flags = type_ & !SOCK_TYPE_MASK;
    if flags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    if !(0..uapi_net::AF_MAX as i32).contains(&family) {
        return Err(Errno::EAFNOSUPPORT);
    }
    if type_ & SOCK_TYPE_MASK >= SOCK_MAX {
        return Err(Errno::EINVAL);
    }
    Ok((type_ & SOCK_TYPE_MASK, flags))
}

/// A new socket of `family` (Linux: `__sock_create` → the family's
/// `net_proto_family.create`).
fn sock_create(family: i32, type_: u32, protocol: i32) -> KResult<Arc<dyn ProtoOps>> {
    match family as u32 {
        uapi_net::AF_UNIX => Ok(unix::unix_create(type_, protocol)?),
        uapi_net::AF_INET | uapi_net::AF_INET6 => {
            crate::net::inet::af_inet::inet_create(family as u32, type_, protocol)
        }
        uapi_net::AF_NETLINK => crate::net::netlink::netlink_create(type_, protocol),
        uapi_net::AF_PACKET => crate::net::packet::packet_create(type_, protocol),
        _ => Err(Errno::EAFNOSUPPORT),
    }
}

/// Installs `file` as a new descriptor of the caller.
fn install(file: Arc<File>, flags: u32) -> KResult<i32> {
    current_files()?.alloc_fd(0, file, flags & SOCK_CLOEXEC != 0)
}

/// socket(2).
pub fn sys_socket(family: i32, type_: i32, protocol: i32) -> KResult<i32> {
    let (type_, flags) = check_socket_args(family, type_)?;
    let sk = sock_create(family, type_, protocol)?;
    install(sock_alloc_file(sk, flags)?, flags)
}

/// socketpair(2) (Linux: `__sys_socketpair` → `unix_socketpair`).
pub fn sys_socketpair(
    family: i32,
    type_: i32,
    protocol: i32,
    usockvec: UserPtr<[i32; 2]>,
) -> KResult<()> {
    let (type_, flags) = check_socket_args(family, type_)?;
    if family as u32 != uapi_net::AF_UNIX {
        // Linux: `sock_no_socketpair` for the other families.
        return Err(Errno::EOPNOTSUPP);
    }
    let a = unix::unix_create(type_, protocol)?;
    let b = unix::unix_create(type_, protocol)?;
    unix::unix_socketpair(&a, &b);
    let fa = sock_alloc_file(a, flags).inspect_err(|_| b.release())?;
    let fb = sock_alloc_file(b, flags)?;
    let files = current_files()?;
    let cloexec = flags & SOCK_CLOEXEC != 0;
    let fd0 = files.alloc_fd(0, fa, cloexec)?;
    let fd1 = files.alloc_fd(0, fb, cloexec).inspect_err(|_| {
        let _ = files.close(fd0);
    })?;
    usockvec.write(&[fd0, fd1]).inspect_err(|_| {
        let _ = files.close(fd0);
        let _ = files.close(fd1);
    })
}

/// Copies an address in (Linux: `move_addr_to_kernel`): `EINVAL` for a
/// negative or oversized length.
pub fn move_addr_to_kernel(uaddr: UserAddr, addrlen: i32) -> KResult<Vec<u8>> {
    let len = usize::try_from(addrlen).map_err(|_| Errno::EINVAL)?;
    if len > SOCKADDR_STORAGE {
        return Err(Errno::EINVAL);
    }
    let mut addr = alloc::vec![0; len];
    copy_from_user(&mut addr, uaddr).map_err(|_| Errno::EFAULT)?;
    Ok(addr)
}

/// Copies an address out, cut to the caller's buffer, and stores its full
/// length (Linux: `move_addr_to_user`).
pub fn move_addr_to_user(kaddr: &[u8], uaddr: UserAddr, ulen: UserPtr<i32>) -> KResult<()> {
    let len = ulen.read()?;
    let klen = i32::try_from(kaddr.len()).unwrap_or(0);
    let len = usize::try_from(len.min(klen)).map_err(|_| Errno::EINVAL)?;
    if len > 0 {
        copy_to_user(uaddr, &kaddr[..len]).map_err(|_| Errno::EFAULT)?;
    }
    ulen.write(&klen)
}

/// A sleep broken by a signal restarts the call under `SA_RESTART`
/// (Linux: `sock_intr_errno` with no timeout).
pub fn restart_code(e: Errno) -> Errno {
    if e == Errno::EINTR { Errno::ERESTARTSYS } else { e }
}

/// bind(2).
pub fn sys_bind(fd: Fd, umyaddr: UserAddr, addrlen: i32) -> KResult<()> {
    let sock = sockfd_lookup(fd)?;
    let addr = move_addr_to_kernel(umyaddr, addrlen)?;
    sock.ops.bind(&addr)
}

/// listen(2): the backlog is capped at `SOMAXCONN` (a negative one too).
pub fn sys_listen(fd: Fd, backlog: i32) -> KResult<()> {
    let sock = sockfd_lookup(fd)?;
    sock.ops.listen((backlog as u32).min(SOMAXCONN))
}

/// accept(2).
pub fn sys_accept(fd: Fd, upeer: UserAddr, upeer_len: UserPtr<i32>) -> KResult<i32> {
    sys_accept4(fd, upeer, upeer_len, 0)
}

/// accept4(2) (Linux: `do_accept`): the new socket's file gets the
/// `SOCK_NONBLOCK` of `flags`, not the listener's.
pub fn sys_accept4(fd: Fd, upeer: UserAddr, upeer_len: UserPtr<i32>, flags: u32) -> KResult<i32> {
    if flags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let (sock, file) = sockfd_lookup_file(fd)?;
    let new = sock.ops.accept(file.is_nonblocking()).map_err(restart_code)?;
    let newfile = sock_alloc_file(new.clone(), flags)?;
    if !upeer.is_null() {
        move_addr_to_user(&new.getname(true)?, upeer, upeer_len)?;
    }
    install(newfile, flags)
}

/// connect(2).
pub fn sys_connect(fd: Fd, uservaddr: UserAddr, addrlen: i32) -> KResult<()> {
    let (sock, file) = sockfd_lookup_file(fd)?;
    let addr = move_addr_to_kernel(uservaddr, addrlen)?;
    sock.ops.connect(&addr, file.is_nonblocking()).map_err(restart_code)
}

/// getsockname(2).
pub fn sys_getsockname(fd: Fd, usockaddr: UserAddr, usockaddr_len: UserPtr<i32>) -> KResult<()> {
    let sock = sockfd_lookup(fd)?;
    move_addr_to_user(&sock.ops.getname(false)?, usockaddr, usockaddr_len)
}

/// getpeername(2): `ENOTCONN` without a peer.
pub fn sys_getpeername(fd: Fd, usockaddr: UserAddr, usockaddr_len: UserPtr<i32>) -> KResult<()> {
    let sock = sockfd_lookup(fd)?;
    move_addr_to_user(&sock.ops.getname(true)?, usockaddr, usockaddr_len)
}

/// shutdown(2): `EINVAL` for a `how` other than `SHUT_RD`, `SHUT_WR`,
/// `SHUT_RDWR`.
pub fn sys_shutdown(fd: Fd, how: i32) -> KResult<()> {
    let sock = sockfd_lookup(fd)?;
    let how = u32::try_from(how).ok().filter(|&h| h <= uapi_net::SHUT_RDWR).ok_or(Errno::EINVAL)?;
    sock.ops.shutdown(how)
}

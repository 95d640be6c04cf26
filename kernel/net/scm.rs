//! Control messages: passing descriptors (`SCM_RIGHTS`) and credentials
//! (`SCM_CREDENTIALS`) with a message (Linux: net/core/scm.c
//! `__scm_send`, `scm_fp_copy`, `scm_check_creds`, `put_cmsg`,
//! `scm_detach_fds`; include/linux/socket.h `CMSG_*`).
//!
//! Sending turns the descriptors into references to their open files, so
//! a file stays open while in flight even if the sender closes it;
//! receiving installs them as new descriptors of the receiver. A control
//! buffer too small for them sets `MSG_CTRUNC` and the files that did not
//! fit are closed.
//!
//! # Locking
//! None; a `Scm` in flight lives in a socket's queue under that socket's
//! lock, and is dropped (closing files) only after the lock is released.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::net as uapi_net;

use super::sock::Ucred;
use crate::fs::current_files;
use crate::fs::file_table::File;
use crate::kernel::errno::{Errno, KResult};

/// Most descriptors one message carries (Linux: `SCM_MAX_FD`).
pub const SCM_MAX_FD: usize = 253;
/// `sizeof(struct cmsghdr)`.
const CMSG_HDR: usize = 16;

/// Linux: `CMSG_ALIGN`.
const fn cmsg_align(len: usize) -> usize {
    (len + 7) & !7
}

/// Linux: `CMSG_LEN`, `CMSG_SPACE`.
pub const fn cmsg_len(len: usize) -> usize {
    CMSG_HDR + len
}
pub const fn cmsg_space(len: usize) -> usize {
    CMSG_HDR + cmsg_align(len)
}

/// What rides with a message (Linux: `struct scm_cookie`).
#[derive(Default)]
pub struct Scm {
    pub fds: Vec<Arc<File>>,
    /// Credentials the sender claimed; `None` means its own.
    pub cred: Option<Ucred>,
}

fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_ne_bytes(w)
}

fn int(b: &[u8], at: usize) -> i32 {
    let mut w = [0; 4];
    w.copy_from_slice(&b[at..at + 4]);
    i32::from_ne_bytes(w)
}

/// Parses a sender's control buffer (Linux: `__scm_send`): `EINVAL` for a
/// malformed header or an unknown `SOL_SOCKET` type, `EBADF` for a bad
/// descriptor, `EPERM` for credentials not the sender's own (root may
/// claim any). Other levels are ignored.
pub fn scm_send(control: &[u8]) -> KResult<Scm> {
    let mut scm = Scm::default();
    let mut at = 0;
    while at + CMSG_HDR <= control.len() {
        let len = usize::try_from(word(control, at)).map_err(|_| Errno::EINVAL)?;
        if len < CMSG_HDR || len > control.len() - at {
            return Err(Errno::EINVAL);
        }
        let (level, kind) = (int(control, at + 8), int(control, at + 12));
        let data = &control[at + CMSG_HDR..at + len];
        if level == uapi_net::SOL_SOCKET as i32 {
            match kind as u32 {
                uapi_net::SCM_RIGHTS => scm_fp_copy(&mut scm, data)?,
                uapi_net::SCM_CREDENTIALS => scm.cred = Some(scm_check_creds(data)?),
                _ => return Err(Errno::EINVAL),
            }
        }
        at += cmsg_align(len);
    }
    Ok(scm)
}

/// Takes references to the files of an `SCM_RIGHTS` array (Linux:
/// `scm_fp_copy`).
fn scm_fp_copy(scm: &mut Scm, data: &[u8]) -> KResult<()> {
    let num = data.len() / 4;
    if scm.fds.len() + num > SCM_MAX_FD {
        return Err(Errno::EINVAL);
    }
    let files = current_files()?;
    scm.fds.try_reserve(num).map_err(|_| Errno::ENOMEM)?;
    for fd in data.chunks_exact(4) {
        scm.fds.push(files.get(int(fd, 0))?);
    }
    Ok(())
}

/// Linux: `scm_check_creds`: a process may send only its own pid and ids
/// unless it is root. The pid is given as the sender's namespace numbers
/// it and kept as the initial namespace's; one that names no process is
/// `ESRCH` (Linux: `__scm_send`'s `find_get_pid`).
fn scm_check_creds(data: &[u8]) -> KResult<Ucred> {
    use crate::kernel::pid;
    if data.len() != 12 {
        return Err(Errno::EINVAL);
    }
    let claimed = Ucred { pid: int(data, 0), uid: int(data, 4) as u32, gid: int(data, 8) as u32 };
    let task = crate::kernel::sched::current();
    let cred = task.cred();
    let ok_uid = [cred.uid, cred.euid, cred.suid].contains(&claimed.uid);
    let ok_gid = [cred.gid, cred.egid, cred.sgid].contains(&claimed.gid);
    let own_pid = pid::pid_vnr(&pid::task_tgid(&task));
    if cred.euid != 0 && (claimed.pid != own_pid || !ok_uid || !ok_gid) {
        return Err(Errno::EPERM);
    }
    let ns = pid::task_active_pid_ns(&task);
    let nr = pid::find_pid_ns(claimed.pid, &ns).ok_or(Errno::ESRCH)?.nr();
    Ok(Ucred { pid: nr, ..claimed })
}

/// The receiver's control buffer being filled (Linux: `msg_control` and
/// `msg_controllen` of a `recvmsg`, with `MSG_CTRUNC`).
pub struct CmsgOut {
    pub buf: Vec<u8>,
    /// Room the caller gave.
    pub cap: usize,
    pub truncated: bool,
}

impl CmsgOut {
    pub fn new(cap: usize) -> Self {
        Self { buf: Vec::new(), cap, truncated: false }
    }

    fn room(&self) -> usize {
        self.cap - self.buf.len()
    }

    /// Appends one control message (Linux: `put_cmsg`): cut to the room
    /// left, with `MSG_CTRUNC`, or left out if not even a header fits.
    pub fn put_cmsg(&mut self, kind: u32, data: &[u8]) -> KResult<()> {
        self.put_cmsg_level(uapi_net::SOL_SOCKET, kind, data)
    }

    /// [`Self::put_cmsg`] at another level (`IPPROTO_IP`, `IPPROTO_IPV6`).
    pub fn put_cmsg_level(&mut self, level: u32, kind: u32, data: &[u8]) -> KResult<()> {
        if self.room() < CMSG_HDR {
            self.truncated = true;
            return Ok(());
        }
        let mut cmsg = Vec::new();
        cmsg.try_reserve(cmsg_space(data.len())).map_err(|_| Errno::ENOMEM)?;
        cmsg.extend_from_slice(&(cmsg_len(data.len()) as u64).to_ne_bytes());
        cmsg.extend_from_slice(&(level as i32).to_ne_bytes());
        cmsg.extend_from_slice(&(kind as i32).to_ne_bytes());
        cmsg.extend_from_slice(data);
        cmsg.resize(cmsg_space(data.len()), 0);
        if cmsg_len(data.len()) > self.room() {
            self.truncated = true;
        }
        let n = cmsg.len().min(self.room());
        self.buf.try_reserve(n).map_err(|_| Errno::ENOMEM)?;
        self.buf.extend_from_slice(&cmsg[..n]);
        Ok(())
    }

    /// Installs as many passed files as fit and reports them (Linux:
    /// `scm_detach_fds`); the rest are closed when `fds` drops.
    pub fn detach_fds(&mut self, fds: Vec<Arc<File>>, cloexec: bool) -> KResult<()> {
        if fds.is_empty() {
            return Ok(());
        }
        let fdmax = self.room().saturating_sub(CMSG_HDR) / 4;
        let files = current_files()?;
        let mut data = Vec::new();
        for file in fds.iter().take(fdmax) {
            match files.alloc_fd(0, file.clone(), cloexec) {
                Ok(fd) => data.extend_from_slice(&fd.to_ne_bytes()),
                Err(_) => break,
            }
        }
        if data.len() / 4 < fds.len() {
            self.truncated = true;
        }
        if !data.is_empty() {
            let was = self.truncated;
            self.put_cmsg(uapi_net::SCM_RIGHTS, &data)?;
            self.truncated |= was;
        }
        Ok(())
    }
}

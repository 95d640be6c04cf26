//! pidfds: file descriptors that name a process, which no reuse of its
//! number can redirect to another.
//!
//! Linux: kernel/pid.c (`pidfd_open`, `pidfd_create`, `pidfd_get_pid`,
//! `pidfd_getfd`), kernel/fork.c (`pidfd_fops`, `pidfd_poll`, the
//! `CLONE_PIDFD` part of `copy_process`), kernel/signal.c
//! (`pidfd_send_signal`, `access_pidfd_pidns`), kernel/exit.c (waitid's
//! `P_PIDFD`, in wait.rs), include/uapi/linux/pidfd.h.
//!
//! A pidfd is an anonymous-inode file ("[pidfd]") whose private data holds
//! an `Arc<Pid>`: the `struct pid` object, not the number. Once the
//! process is reaped its numbers go back to their namespaces and may name
//! a new process, but the object stays with the pidfd and finds no task,
//! so signals through it fail with `ESRCH` instead of hitting a stranger.
//! A pidfd is always O_RDWR and close-on-exec; `PIDFD_NONBLOCK` makes
//! waitid(`P_PIDFD`) fail with `EAGAIN` rather than sleep.
//!
//! poll/epoll report a pidfd readable once the whole thread group has
//! exited (a zombie, or reaped). Linux keeps a `wait_pidfd` queue in each
//! `struct pid`; Ferrite's pidfds use the shared poll queue
//! (`fs::select::poll_wake`), woken by the exit path's `do_notify_pidfd`
//! when it tells the parent, as Linux's `do_notify_parent` does.
//!
//! # Locking
//! The readiness test takes `fork::TASKLIST_LOCK` so that it sees the exit
//! state and the thread list as `exit_notify` leaves them (the wake-up
//! comes under that lock, before the state is set); it is never called
//! with a lock held. No lock is held across a user copy.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;

use linux_raw_sys::general as uapi;

use crate::arch::uaccess::UserAddr;
use crate::fs::anon_inodes::anon_inode_getfile;
use crate::fs::current_files;
use crate::fs::fdtable::FdTable;
use crate::fs::file_table::{File, FileOps, PollMask};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::fork::TASKLIST_LOCK;
use crate::kernel::pid::{self, Pid, PidType};
use crate::kernel::sched::{Task, current};
use crate::kernel::signal::send::{KillInfo, group_send_sig_info};
use crate::kernel::signal::si_code;
use crate::kernel::signal::sigwait::siginfo_from_user;
use crate::kernel::signal::syscalls::{kill_info, sig_from_user};
use crate::kernel::syscall::args::UserPtr;
use crate::kernel::wait::WaitFor;

/// pidfd_open's one flag (Linux: `PIDFD_NONBLOCK`, include/uapi/linux/pidfd.h).
pub const PIDFD_NONBLOCK: u32 = uapi::O_NONBLOCK;

/// A pidfd's private data: the process it names (Linux: the file's
/// `private_data`, a `struct pid *`).
struct PidFd {
    pid: Arc<Pid>,
}

/// Linux: `pidfd_fops`.
struct PidfdFileOps;
static PIDFD_FOPS: PidfdFileOps = PidfdFileOps;

impl FileOps for PidfdFileOps {
    /// Linux: `pidfd_poll`.
    fn poll(&self, file: &File) -> PollMask {
        match file.private::<PidFd>() {
            Some(pidfd) if thread_group_exited(&pidfd.pid) => uapi::POLLIN | uapi::POLLRDNORM,
            Some(_) => 0,
            None => uapi::POLLERR,
        }
    }

    fn seekable(&self) -> bool {
        false
    }
}

/// Whether the process `pid` names has exited with all its threads: a
/// leader that exited first leaves the pidfd unready, as it stays
/// unwaitable (Linux: `thread_group_exited`).
fn thread_group_exited(pid: &Pid) -> bool {
    let _tasklist = TASKLIST_LOCK.lock();
    match pid.pid_task(PidType::Pid) {
        None => true,
        Some(t) => t.exit_state() != 0 && t.thread_group().threads.lock().is_empty(),
    }
}

/// Wakes the pidfd pollers: `tsk`, a group leader, has exited with its
/// threads (Linux: `do_notify_pidfd`, called from `do_notify_parent`).
pub fn do_notify_pidfd(tsk: &Task) {
    if tsk.is_group_leader() {
        crate::fs::select::poll_wake();
    }
}

/// A new pidfd file for `pid`, which must name a process, not a thread
/// (Linux: `pidfd_create` without the descriptor; `EINVAL` as
/// `pid_has_task(pid, PIDTYPE_TGID)` fails).
fn pidfd_file(pid: &Arc<Pid>, flags: u32) -> KResult<Arc<File>> {
    let leads = pid.pid_task(PidType::Pid).is_some_and(|t| t.tgid == pid.nr());
    if !leads {
        return Err(Errno::EINVAL);
    }
    let private = Box::new(PidFd { pid: pid.clone() });
    anon_inode_getfile(&PIDFD_FOPS, private, uapi::O_RDWR | (flags & PIDFD_NONBLOCK))
}

/// The process a pidfd file names; `EBADF` for any other file (Linux:
/// `pidfd_pid`).
fn pidfd_pid(file: &File) -> KResult<Arc<Pid>> {
    file.private::<PidFd>().map(|p| p.pid.clone()).ok_or(Errno::EBADF)
}

/// The process behind descriptor `fd` and the file's status flags
/// (Linux: `pidfd_get_pid`).
fn pidfd_get_pid(fd: i32) -> KResult<(Arc<Pid>, u32)> {
    let file = current_files()?.get(fd)?;
    Ok((pidfd_pid(&file)?, file.flags()))
}

/// waitid(`P_PIDFD`, `fd`)'s target, and whether the pidfd is
/// non-blocking. A reaped process whose number now names another gets a
/// target no child matches (`ECHILD`), as Linux compares `struct pid`s.
pub fn pidfd_wait_target(fd: i32) -> KResult<(WaitFor, bool)> {
    let (pid, flags) = pidfd_get_pid(fd)?;
    let same =
        pid::find_pid_ns(pid.nr(), pid::init_pid_ns()).is_some_and(|p| Arc::ptr_eq(&p, &pid));
    let nr = if same { pid.nr() } else { -1 };
    Ok((WaitFor::Pid(nr), flags & uapi::O_NONBLOCK != 0))
}

/// pidfd_open(2): a pidfd for process `upid` of the caller's namespace.
pub fn sys_pidfd_open(upid: i32, flags: u32) -> KResult<i32> {
    if flags & !PIDFD_NONBLOCK != 0 || upid <= 0 {
        return Err(Errno::EINVAL);
    }
    let ns = pid::task_active_pid_ns(&current());
    let pid = pid::find_pid_ns(upid, &ns).ok_or(Errno::ESRCH)?;
    let file = pidfd_file(&pid, flags)?;
    current_files()?.alloc_fd(0, file, true)
}

/// A pidfd `copy_process` has installed for `CLONE_PIDFD`, closed again
/// if the fork fails after all (Linux: `bad_fork_put_pidfd`).
pub struct ClonePidfd {
    files: Arc<FdTable>,
    fd: i32,
    keep: bool,
}

impl ClonePidfd {
    /// The fork succeeded: the descriptor stays.
    pub fn install(mut self) {
        self.keep = true;
    }
}

impl Drop for ClonePidfd {
    fn drop(&mut self) {
        if !self.keep {
            let _ = self.files.close(self.fd);
        }
    }
}

/// The `CLONE_PIDFD` step of `copy_process`: a close-on-exec pidfd for
/// the child's `pid` in the caller's table, its number written to the
/// `int` at `uaddr` (`EFAULT` fails the fork, as in Linux). Called after
/// the child's table was copied, so that the child does not inherit it.
pub fn clone_pidfd(pid: &Arc<Pid>, uaddr: u64) -> KResult<ClonePidfd> {
    let private = Box::new(PidFd { pid: pid.clone() });
    let file = anon_inode_getfile(&PIDFD_FOPS, private, uapi::O_RDWR)?;
    let files = current_files()?;
    let fd = files.alloc_fd(0, file, true)?;
    let guard = ClonePidfd { files, fd, keep: false };
    UserPtr::<i32>::new(UserAddr::new(uaddr)).write(&fd)?;
    Ok(guard)
}

/// Whether the caller's namespace can see `pid`: it was made there or
/// below (Linux: `access_pidfd_pidns`).
fn access_pidfd_pidns(pid: &Pid) -> bool {
    let active = pid::task_active_pid_ns(&current());
    let mut ns = pid.ns();
    while let Some(p) = ns {
        if Arc::ptr_eq(p, &active) {
            return true;
        }
        ns = p.parent.as_ref();
    }
    false
}

/// What pidfd_send_signal sends: kill's siginfo, or the caller's own,
/// whose `si_signo` must be `sig` and whose `si_code` may claim the kernel
/// or tkill only towards the caller itself.
fn pidfd_info(sig: i32, uinfo: UserPtr<[u8; 128]>, pid: &Arc<Pid>) -> KResult<KillInfo> {
    if uinfo.is_null() {
        return Ok(kill_info::<Task>(sig, si_code::SI_USER));
    }
    let bytes = uinfo.read()?;
    let word = |off: usize| {
        i32::from_ne_bytes([bytes[off], bytes[off + 1], bytes[off + 2], bytes[off + 3]])
    };
    if word(0) != sig {
        return Err(Errno::EINVAL);
    }
    let code = word(8);
    let me = pid::task_pid(&current()).clone();
    if !Arc::ptr_eq(&me, pid) && (code >= 0 || code == si_code::SI_TKILL) {
        return Err(Errno::EPERM);
    }
    if sig == 0 {
        return Ok(Ok(None));
    }
    Ok(sig_from_user(sig).map(|s| Some(siginfo_from_user(s, &bytes))))
}

/// pidfd_send_signal(2): `sig` to the process `pidfd` names, `ESRCH`
/// once it is reaped; `flags` must be 0 (Linux: kernel/signal.c).
pub fn sys_pidfd_send_signal(
    pidfd: i32,
    sig: i32,
    uinfo: UserPtr<[u8; 128]>,
    flags: u32,
) -> KResult<()> {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let file = current_files()?.get(pidfd)?;
    let pid = pidfd_pid(&file)?;
    if !access_pidfd_pidns(&pid) {
        return Err(Errno::EINVAL);
    }
    let info = pidfd_info(sig, uinfo, &pid)?;
    let task = pid.pid_task(PidType::Pid).ok_or(Errno::ESRCH)?;
    group_send_sig_info(info, &task)
}

/// Whether the caller may take `task`'s files: its own process, one whose
/// ids are all the caller's and which is dumpable, or any with
/// `CAP_SYS_PTRACE` (Linux: `ptrace_may_access(task,
/// PTRACE_MODE_ATTACH_REALCREDS)`).
fn ptrace_may_access(task: &Task) -> KResult<()> {
    let me = current();
    if me.tgid == task.tgid {
        return Ok(());
    }
    let (c, t) = (me.cred(), task.cred());
    let root = c.euid == 0;
    let same_ids = [t.uid, t.euid, t.suid] == [c.uid; 3] && [t.gid, t.egid, t.sgid] == [c.gid; 3];
    let dumpable = task.thread_group().dumpable.load(core::sync::atomic::Ordering::Relaxed) == 1;
    if root || (same_ids && dumpable) { Ok(()) } else { Err(Errno::EPERM) }
}

/// pidfd_getfd(2): a close-on-exec duplicate of descriptor `fd` of the
/// process `pidfd` names; `flags` must be 0 (Linux: kernel/pid.c).
pub fn sys_pidfd_getfd(pidfd: i32, fd: i32, flags: u32) -> KResult<i32> {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let file = current_files()?.get(pidfd)?;
    let pid = pidfd_pid(&file)?;
    let task = pid.pid_task(PidType::Pid).ok_or(Errno::ESRCH)?;
    ptrace_may_access(&task)?;
    // An exited task has no table left: no such descriptor.
    let files = task.files.lock().clone().ok_or(Errno::EBADF)?;
    let file = files.get(fd)?;
    current_files()?.alloc_fd(0, file, true)
}

crate::ktest!(pidfd_names_the_pid_object, {
    let me = current();
    let pid = pid::task_pid(&me).clone();
    // A kernel thread is a process of its own: it has a pidfd.
    let file = pidfd_file(&pid, PIDFD_NONBLOCK).map_err(|_| "pidfd of a live process")?;
    crate::kassert!(file.flags() & uapi::O_NONBLOCK != 0, "PIDFD_NONBLOCK is O_NONBLOCK");
    crate::kassert!(file.flags() & uapi::O_ACCMODE == uapi::O_RDWR, "always O_RDWR");
    crate::kassert!(pidfd_pid(&file).is_ok_and(|p| Arc::ptr_eq(&p, &pid)), "the same Pid");
    crate::kassert!(file.f_op.poll(&file) == 0, "a live process is not readable");
    crate::kassert!(access_pidfd_pidns(&pid), "its own namespace sees it");
    Ok(())
});

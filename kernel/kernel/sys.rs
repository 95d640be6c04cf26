//! System information and control calls: `uname`, `sethostname`,
//! `setdomainname`, `sysinfo`, `reboot`,
//! the process IDs as the caller's PID namespace numbers them (getpid,
//! getppid, gettid, process groups and sessions), `prctl`, `personality`
//! and `getcpu`.
//!
//! Linux: kernel/sys.c (`newuname`, `do_sysinfo`, `getpid`, `setpgid`,
//! `prctl`, `getcpu`…), kernel/exec_domain.c (`personality`),
//! kernel/reboot.c (`reboot`), include/uapi/linux/utsname.h,
//! include/uapi/linux/sysinfo.h, include/uapi/linux/prctl.h.
//!
//! # Locking
//! The UTS namespace's names are a leaf (kernel/utsname.rs). setpgid and setsid hold `fork::TASKLIST_LOCK` (PID lookups nest inside
//! it); the rest reads atomics, the page allocator's counters or one of the
//! task's own locks at a time.

use linux_raw_sys::general::{
    LINUX_REBOOT_CMD_CAD_OFF, LINUX_REBOOT_CMD_CAD_ON, LINUX_REBOOT_CMD_HALT,
    LINUX_REBOOT_CMD_KEXEC, LINUX_REBOOT_CMD_POWER_OFF, LINUX_REBOOT_CMD_RESTART,
    LINUX_REBOOT_CMD_RESTART2, LINUX_REBOOT_CMD_SW_SUSPEND, LINUX_REBOOT_MAGIC1,
    LINUX_REBOOT_MAGIC2, LINUX_REBOOT_MAGIC2A, LINUX_REBOOT_MAGIC2B, LINUX_REBOOT_MAGIC2C,
};
use linux_raw_sys::system::new_utsname;

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::arch::uaccess::UserAddr;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::fork::TASKLIST_LOCK;
use crate::kernel::pid::{self, Pid, PidType, find_task_by_vpid};
use crate::kernel::sched::task::PF_FORKNOEXEC;
use crate::kernel::sched::{Task, current};
use crate::kernel::syscall::args::{UserPtr, UserSlice};
use crate::kernel::time::{NSEC_PER_SEC, ktime_get_ns};
use crate::mm::addr::PAGE_SIZE;

/// What `uname -a` shows. The release looks like a Linux 6.1 kernel's, as
/// programs (glibc, busybox) parse it for the version.
pub const UTS_SYSNAME: &str = "Linux";
pub const UTS_NODENAME: &str = "(none)";
pub const UTS_RELEASE: &str = "6.1.0-ferrite";
pub const UTS_VERSION: &str = concat!("#1 SMP PREEMPT Ferrite ", env!("CARGO_PKG_VERSION"));
pub const UTS_MACHINE: &str = "x86_64";
pub const UTS_DOMAINNAME: &str = "(none)";

/// `s` as a NUL-padded `c_char` array (strings here are ASCII and short).
const fn uts_field(s: &str) -> [core::ffi::c_char; 65] {
    let mut field = [0; 65];
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() && i < 64 {
        field[i] = bytes[i].cast_signed();
        i += 1;
    }
    field
}

/// The initial UTS namespace's names (Linux: `init_uts_ns.name`'s
/// `nodename` and `domainname`).
pub fn init_uts_ns() -> Arc<crate::kernel::utsname::UtsNamespace> {
    crate::kernel::utsname::init_uts_ns([uts_field(UTS_NODENAME), uts_field(UTS_DOMAINNAME)])
}

/// The caller's UTS namespace (Linux: `current->nsproxy->uts_ns`).
fn current_uts_ns() -> Arc<crate::kernel::utsname::UtsNamespace> {
    crate::kernel::nsproxy::task_nsproxy(&current()).uts_ns.clone()
}

/// Which changeable name of the host (Linux: `UTS_PROC_HOSTNAME`,
/// `UTS_PROC_DOMAINNAME`).
#[derive(Clone, Copy)]
pub enum UtsName {
    Node = 0,
    Domain = 1,
}

fn uts_names() -> [[core::ffi::c_char; 65]; 2] {
    current_uts_ns().names()
}

/// The current name, without its NUL padding.
pub fn uts_name(which: UtsName) -> Vec<u8> {
    let field = uts_names()[which as usize];
    field.iter().take_while(|&&c| c != 0).map(|&c| c.cast_unsigned()).collect()
}

/// Sets a name (Linux: `sethostname`, `setdomainname`, the uts sysctls):
/// at most 64 bytes, `EINVAL` beyond. No permission check: callers make it.
pub fn set_uts_name(which: UtsName, name: &[u8]) -> KResult<()> {
    if name.len() > 64 {
        return Err(Errno::EINVAL);
    }
    let mut field = [0; 65];
    for (dst, &b) in field.iter_mut().zip(name) {
        *dst = b.cast_signed();
    }
    current_uts_ns().set(which as usize, field)
}

/// The caller's identity (Linux: `utsname()`, its UTS namespace's).
pub fn utsname() -> new_utsname {
    let [nodename, domainname] = uts_names();
    new_utsname {
        sysname: uts_field(UTS_SYSNAME),
        nodename,
        release: uts_field(UTS_RELEASE),
        version: uts_field(UTS_VERSION),
        machine: uts_field(UTS_MACHINE),
        domainname,
    }
}

/// sethostname(2) and setdomainname(2): `EPERM` without `CAP_SYS_ADMIN`,
/// then `EINVAL` for a length outside 0..=64 (Linux checks in that order).
fn do_set_uts_name(which: UtsName, name: UserPtr<u8>, len: i32) -> KResult<()> {
    if !crate::kernel::cred::capable(linux_raw_sys::general::CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let len = usize::try_from(len).ok().filter(|&n| n <= 64).ok_or(Errno::EINVAL)?;
    let mut buf = [0u8; 64];
    let buf = buf.get_mut(..len).ok_or(Errno::EINVAL)?;
    UserSlice::new(name, len)?.read(buf)?;
    set_uts_name(which, buf)
}

/// Linux: `sethostname`.
pub fn sys_sethostname(name: UserPtr<u8>, len: i32) -> KResult<()> {
    do_set_uts_name(UtsName::Node, name, len)
}

/// Linux: `setdomainname`.
pub fn sys_setdomainname(name: UserPtr<u8>, len: i32) -> KResult<()> {
    do_set_uts_name(UtsName::Domain, name, len)
}

/// uname(2) (Linux: `newuname`). Under `PER_LINUX32` (linux32, setarch i686) the machine is `i686`
/// (Linux: `override_architecture`, `COMPAT_UTS_MACHINE`).
pub fn sys_newuname(name: UserPtr<new_utsname>) -> KResult<()> {
    let mut uts = utsname();
    let personality = current().personality.load(core::sync::atomic::Ordering::Relaxed);
    if personality & PER_MASK == PER_LINUX32 {
        uts.machine = uts_field("i686");
    }
    name.write(&uts)
}

/// The execution domain's bits of a personality, and the 32-bit Linux
/// domain (Linux: include/uapi/linux/personality.h, not in linux-raw-sys).
const PER_MASK: u32 = 0xff;
const PER_LINUX32: u32 = 0x0008;

/// `struct sysinfo` with its padding spelled out, so it can be copied to
/// user space without leaking kernel bytes (Linux zeroes the C struct).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Sysinfo {
    pub uptime: i64,
    pub loads: [u64; 3],
    pub totalram: u64,
    pub freeram: u64,
    pub sharedram: u64,
    pub bufferram: u64,
    pub totalswap: u64,
    pub freeswap: u64,
    pub procs: u16,
    pub pad: u16,
    pad2: u32,
    pub totalhigh: u64,
    pub freehigh: u64,
    pub mem_unit: u32,
    pad3: u32,
}

const _: () = {
    use core::mem::offset_of;
    use linux_raw_sys::system::sysinfo as linux;
    assert!(size_of::<Sysinfo>() == size_of::<linux>());
    assert!(offset_of!(Sysinfo, procs) == offset_of!(linux, procs));
    assert!(offset_of!(Sysinfo, totalhigh) == offset_of!(linux, totalhigh));
    assert!(offset_of!(Sysinfo, mem_unit) == offset_of!(linux, mem_unit));
};

/// The number of tasks, kernel threads included (Linux: `nr_threads`):
/// every task holds one PID of the initial namespace. Clamped as Linux's
/// 16-bit `procs` field is.
fn nr_threads() -> u16 {
    let nr = crate::kernel::pid::init_pid_ns().nr_allocated();
    u16::try_from(nr).unwrap_or(u16::MAX)
}

/// Linux: `do_sysinfo`. With 64-bit longs every figure fits in bytes, so
/// `mem_unit` is 1, as Linux reports on x86_64. The load averages stay 0
/// until the scheduler keeps them (Linux: `calc_global_load`).
pub fn do_sysinfo() -> Sysinfo {
    let now = ktime_get_ns();
    let mem = crate::mm::si_meminfo();
    let bytes = |pages: u64| pages.saturating_mul(PAGE_SIZE as u64);
    Sysinfo {
        // Linux rounds a partial second up.
        uptime: i64::try_from(now.div_ceil(NSEC_PER_SEC)).unwrap_or(i64::MAX),
        totalram: bytes(mem.total_ram_pages),
        freeram: bytes(mem.free_ram_pages),
        procs: nr_threads(),
        mem_unit: 1,
        ..Sysinfo::default()
    }
}

/// sysinfo(2).
pub fn sys_sysinfo(info: UserPtr<Sysinfo>) -> KResult<()> {
    info.write(&do_sysinfo())
}

/// PR_SET_NAME: the calling thread's name, at most 15 bytes (as
/// /proc/PID/comm and `ps` show it).
fn prctl_set_name(me: &Task, arg2: UserAddr) -> KResult<i32> {
    use crate::arch::uaccess::{StrncpyError, strncpy_from_user};
    use crate::kernel::sched::task::TASK_COMM_LEN;
    let mut name = [0u8; TASK_COMM_LEN];
    // A name longer than 15 bytes is cut, as Linux's
    // `strncpy_from_user(comm, …, sizeof(comm) - 1)`.
    let len = match strncpy_from_user(&mut name[..TASK_COMM_LEN - 1], arg2) {
        Ok(len) => len,
        Err(StrncpyError::TooLong) => TASK_COMM_LEN - 1,
        Err(StrncpyError::Fault) => return Err(Errno::EFAULT),
    };
    me.set_comm(&name[..len]);
    Ok(0)
}

/// Stores an `int` answer at `arg2` (the `put_user(…, (int __user *)arg2)`
/// of prctl's getters).
fn prctl_put_int(arg2: UserAddr, value: i32) -> KResult<i32> {
    UserPtr::<i32>::new(arg2).write(&value)?;
    Ok(0)
}

/// prctl(2) (Linux: kernel/sys.c `SYSCALL_DEFINE5(prctl)`): the thread's
/// name, the parent-death signal, child subreaping, the dumpable flag
/// and no_new_privs; the capability bounding and ambient sets are read
/// only. Other options give `EINVAL`, as an unknown one does.
pub fn sys_prctl(option: u32, arg2: UserAddr, arg3: u64, arg4: u64, arg5: u64) -> KResult<i32> {
    use core::sync::atomic::Ordering::Relaxed;
    use linux_raw_sys::prctl as pr;
    let me = current();
    let value = arg2.as_u64();
    match option {
        pr::PR_SET_NAME => prctl_set_name(&me, arg2),
        pr::PR_GET_NAME => {
            let comm = me.comm();
            crate::arch::uaccess::copy_to_user(arg2, &comm).map_err(|_| Errno::EFAULT)?;
            Ok(0)
        }
        pr::PR_SET_PDEATHSIG => {
            // Linux: `valid_signal`.
            let sig = i32::try_from(value).ok().filter(|&s| s <= 64).ok_or(Errno::EINVAL)?;
            me.pdeath_signal.store(sig, Relaxed);
            Ok(0)
        }
        pr::PR_GET_PDEATHSIG => prctl_put_int(arg2, me.pdeath_signal.load(Relaxed)),
        pr::PR_SET_CHILD_SUBREAPER => {
            me.thread_group().is_child_subreaper.store(value != 0, Relaxed);
            Ok(0)
        }
        pr::PR_GET_CHILD_SUBREAPER => {
            prctl_put_int(arg2, i32::from(me.thread_group().is_child_subreaper.load(Relaxed)))
        }
        pr::PR_GET_DUMPABLE => {
            Ok(i32::try_from(me.thread_group().dumpable.load(Relaxed)).unwrap_or(0))
        }
        // Linux: only `SUID_DUMP_DISABLE` (0) and `SUID_DUMP_USER` (1).
        pr::PR_SET_DUMPABLE if value <= 1 => {
            me.thread_group().dumpable.store(u32::from(value == 1), Relaxed);
            Ok(0)
        }
        // Every process's bounding set is full, its ambient set empty
        // (kernel/capability.rs).
        pr::PR_CAPBSET_READ if crate::kernel::capability::cap_valid(value) => Ok(1),
        pr::PR_CAP_AMBIENT if value == u64::from(pr::PR_CAP_AMBIENT_IS_SET) => {
            crate::kernel::capability::cap_valid(arg3).then_some(0).ok_or(Errno::EINVAL)
        }
        pr::PR_SET_NO_NEW_PRIVS if value == 1 && arg3 | arg4 | arg5 == 0 => {
            me.no_new_privs.store(true, Relaxed);
            Ok(0)
        }
        pr::PR_GET_NO_NEW_PRIVS if value | arg3 | arg4 | arg5 == 0 => {
            Ok(i32::from(me.no_new_privs.load(Relaxed)))
        }
        _ => Err(Errno::EINVAL),
    }
}

/// personality(2): the execution domain; 0xffffffff only asks. Returns
/// the old one (Linux: kernel/exec_domain.c). Only `PER_LINUX` (0) and
/// its flags mean anything to Ferrite; any value is kept, as Linux keeps it.
pub fn sys_personality(personality: u32) -> KResult<u32> {
    let me = current();
    let old = me.personality.load(core::sync::atomic::Ordering::Relaxed);
    if personality != 0xffff_ffff {
        me.personality.store(personality, core::sync::atomic::Ordering::Relaxed);
    }
    Ok(old)
}

/// getcpu(2): the CPU and NUMA node the caller runs on (Linux:
/// kernel/sys.c `getcpu`); one node, 0.
pub fn sys_getcpu(cpup: UserPtr<u32>, nodep: UserPtr<u32>, _unused: u64) -> KResult<()> {
    let cpu = u32::try_from(crate::arch::percpu::smp_processor_id()).unwrap_or(0);
    let mut failed = false;
    if !cpup.is_null() {
        failed |= cpup.write(&cpu).is_err();
    }
    if !nodep.is_null() {
        failed |= nodep.write(&0).is_err();
    }
    if failed { Err(Errno::EFAULT) } else { Ok(()) }
}

/// getpid(2): the thread-group ID (Linux: `task_tgid_vnr`). A task of the
/// initial PID namespace reads its own field; one in a child namespace
/// has its number there looked up.
pub fn sys_getpid() -> KResult<i32> {
    let nr = crate::arch::current::with_current(|t| match t {
        Some(t) if t.pid_link.level() == 0 => Ok(t.tgid),
        _ => Err(()),
    });
    Ok(nr.unwrap_or_else(|()| pid::nr_to_vnr(current().tgid)))
}

/// getppid(2): 0 when the parent is outside the caller's PID namespace.
///
/// Borrows `current` without touching its reference count and reads the
/// cached parent tgid: no atomic read-modify-write, no lock. Only a task
/// in a child namespace pays for the translation.
pub fn sys_getppid() -> KResult<i32> {
    let nr = crate::arch::current::with_current(|t| match t {
        Some(t) if t.pid_link.level() == 0 => Ok(t.ppid()),
        _ => Err(()),
    });
    Ok(nr.unwrap_or_else(|()| pid::nr_to_vnr(current().ppid())))
}

/// gettid(2) (Linux: `task_pid_vnr`).
pub fn sys_gettid() -> KResult<i32> {
    let nr = crate::arch::current::with_current(|t| match t {
        Some(t) if t.pid_link.level() == 0 && t.exec_pid.get().is_none() => Ok(t.pid),
        _ => Err(()),
    });
    Ok(nr.unwrap_or_else(|()| pid::pid_vnr(pid::task_pid(&current()))))
}

/// set_tid_address(2): where to clear the TID at exit (Linux:
/// `clear_child_tid`); returns the caller's TID.
pub fn sys_set_tid_address(tidptr: u64) -> KResult<i32> {
    let tsk = current();
    tsk.clear_child_tid.store(tidptr, core::sync::atomic::Ordering::Relaxed);
    Ok(pid::pid_vnr(pid::task_pid(&tsk)))
}

/// The process a `pid` argument names: 0 is the caller.
fn process_by_pid(pid: i32) -> KResult<Arc<Task>> {
    match pid {
        0 => Ok(current()),
        p if p < 0 => Err(Errno::ESRCH),
        // A thread that exec'd holds its process's PID (`exec_pid`).
        p => find_task_by_vpid(p)
            .filter(|t| t.is_group_leader() || t.exec_pid.get().is_some())
            .ok_or(Errno::ESRCH),
    }
}

/// getpgid(2); 0 for a group led from outside the caller's namespace
/// (Linux: `pid_vnr(task_pgrp(p))`).
pub fn sys_getpgid(pid: i32) -> KResult<i32> {
    Ok(pid::pid_vnr(&process_by_pid(pid)?.task_pgrp()))
}

/// getpgrp(2).
pub fn sys_getpgrp() -> KResult<i32> {
    Ok(pid::pid_vnr(&current().task_pgrp()))
}

/// getsid(2).
pub fn sys_getsid(pid: i32) -> KResult<i32> {
    Ok(pid::pid_vnr(&process_by_pid(pid)?.task_session()))
}

/// Whether `p` leads its session (Linux: `p->signal->leader`).
fn is_session_leader(p: &Task) -> bool {
    Arc::ptr_eq(&p.task_session(), &pid::task_tgid(p))
}

/// The group `pgid` (the caller's number) if one of its members is in
/// `session` (Linux: the `find_vpid` + `pid_task(pgrp, PIDTYPE_PGID)`
/// test of setpgid): a group may be joined only within its session.
fn pgrp_in_session(pgid: i32, session: &Arc<Pid>) -> Option<Arc<Pid>> {
    let ns = pid::task_active_pid_ns(&current());
    let pgrp = pid::find_pid_ns(pgid, &ns)?;
    let members = pgrp.tasks(PidType::Pgid);
    members.iter().any(|g| Arc::ptr_eq(&g.task_session(), session)).then_some(pgrp)
}

/// Links every thread of process `p` to `pgrp` (and `session`): Linux
/// keeps them once per process, in `signal_struct`.
fn change_process_pids(p: &Arc<Task>, pgrp: &Arc<Pid>, session: Option<&Arc<Pid>>) -> KResult<()> {
    for t in p.threads() {
        if let Some(session) = session {
            t.set_session(session.clone())?;
        }
        t.set_pgrp(pgrp.clone())?;
    }
    Ok(())
}

/// setpgid(2) (Linux: kernel/sys.c `setpgid`): a process may move itself
/// or a child that has not exec'd, within its session, to a group of that
/// session or a new group named after the moved process.
pub fn sys_setpgid(pid: i32, pgid: i32) -> KResult<()> {
    let me = current();
    if pgid < 0 || (pgid == 0 && pid < 0) {
        return Err(Errno::EINVAL);
    }
    let p = process_by_pid(pid)?;
    let p_pid = pid::task_tgid(&p);
    let pgid = if pgid == 0 { pid::pid_vnr(&p_pid) } else { pgid };
    let _tasklist = TASKLIST_LOCK.lock();
    let my_session = me.task_session();
    let is_child = p.real_parent.lock().upgrade().is_some_and(|parent| parent.tgid == me.tgid);
    if is_child {
        if !Arc::ptr_eq(&p.task_session(), &my_session) {
            return Err(Errno::EPERM);
        }
        if p.flags() & PF_FORKNOEXEC == 0 {
            return Err(Errno::EACCES);
        }
    } else if p.tgid != me.tgid {
        return Err(Errno::ESRCH);
    }
    if is_session_leader(&p) {
        return Err(Errno::EPERM); // a session leader stays in its group
    }
    let pgrp = if pgid == pid::pid_vnr(&p_pid) {
        p_pid
    } else {
        pgrp_in_session(pgid, &my_session).ok_or(Errno::EPERM)?
    };
    change_process_pids(&p, &pgrp, None)
}

/// setsid(2): a new session and process group led by the caller, with no
/// controlling terminal; `EPERM` while a process group of the caller's
/// number exists (Linux: `ksys_setsid`).
pub fn sys_setsid() -> KResult<i32> {
    let me = current();
    let sid = pid::task_tgid(&me);
    let _tasklist = TASKLIST_LOCK.lock();
    if is_session_leader(&me) || sid.pid_task(PidType::Pgid).is_some() {
        return Err(Errno::EPERM);
    }
    let leader = me.group_leader.lock().upgrade().unwrap_or_else(|| me.clone());
    change_process_pids(&leader, &sid, Some(&sid))?;
    Ok(pid::pid_vnr(&sid))
}

/// reboot(2) (Linux: kernel/reboot.c). `CAP_SYS_BOOT` first (`EPERM`),
/// then the magic numbers guard against a stray call. Before
/// powering off, integration should sync and shut devices down (Linux:
/// `kernel_power_off` → `kernel_shutdown_prepare`).
pub fn sys_reboot(magic1: u32, magic2: u32, cmd: u32, _arg: UserAddr) -> KResult<()> {
    if !crate::kernel::cred::capable(linux_raw_sys::general::CAP_SYS_BOOT) {
        return Err(Errno::EPERM);
    }
    let magic2_ok =
        [LINUX_REBOOT_MAGIC2, LINUX_REBOOT_MAGIC2A, LINUX_REBOOT_MAGIC2B, LINUX_REBOOT_MAGIC2C]
            .contains(&magic2);
    if magic1 != LINUX_REBOOT_MAGIC1 || !magic2_ok {
        return Err(Errno::EINVAL);
    }
    reboot_pid_ns(cmd)?;
    match cmd {
        LINUX_REBOOT_CMD_RESTART | LINUX_REBOOT_CMD_RESTART2 => {
            crate::arch::reboot::kernel_restart()
        }
        LINUX_REBOOT_CMD_POWER_OFF => crate::arch::reboot::kernel_power_off(),
        LINUX_REBOOT_CMD_HALT => kernel_halt(),
        // Ctrl-Alt-Del handling: accepted, there is no keyboard to send it.
        LINUX_REBOOT_CMD_CAD_ON | LINUX_REBOOT_CMD_CAD_OFF => Ok(()),
        // Without CONFIG_HIBERNATION and CONFIG_KEXEC_CORE, as Linux.
        LINUX_REBOOT_CMD_SW_SUSPEND => Err(Errno::ENOSYS),
        LINUX_REBOOT_CMD_KEXEC => Err(Errno::EINVAL),
        _ => Err(Errno::EINVAL),
    }
}

/// reboot(2) inside a PID namespace ends the namespace, not the machine
/// (Linux: `reboot_pid_ns`): its init dies of SIGKILL, its parent sees it
/// killed by SIGHUP (restart) or SIGINT (power off, halt), and the caller
/// exits. Other commands there are `EINVAL`. Returns in the initial one.
fn reboot_pid_ns(cmd: u32) -> KResult<()> {
    let me = current();
    let ns = pid::task_active_pid_ns(&me);
    if ns.level == 0 {
        return Ok(());
    }
    let sig = match cmd {
        LINUX_REBOOT_CMD_RESTART | LINUX_REBOOT_CMD_RESTART2 => linux_raw_sys::general::SIGHUP,
        LINUX_REBOOT_CMD_POWER_OFF | LINUX_REBOOT_CMD_HALT => linux_raw_sys::general::SIGINT,
        _ => return Err(Errno::EINVAL),
    };
    ns.set_reboot(sig);
    if let Some(init) = ns.child_reaper() {
        crate::kernel::signal::send_sigkill(&init);
    }
    drop((me, ns));
    crate::kernel::exit::do_exit(0)
}

/// Stops the machine without powering it off (Linux: `kernel_halt`).
fn kernel_halt() -> ! {
    crate::pr_emerg!("reboot: System halted");
    crate::arch::irqflags::local_irq_disable();
    loop {
        crate::arch::irqflags::halt();
    }
}

crate::ktest!(uname_fields, {
    let u = utsname();
    let field = |f: &[core::ffi::c_char; 65]| -> [u8; 65] { f.map(|c| c.cast_unsigned()) };
    crate::kassert!(field(&u.sysname).starts_with(b"Linux\0"), "sysname");
    crate::kassert!(field(&u.machine).starts_with(b"x86_64\0"), "machine");
    crate::kassert!(field(&u.release).starts_with(b"6.1.0-ferrite\0"), "release parses as 6.1");
    crate::kassert!(field(&u.nodename).starts_with(b"(none)\0"), "nodename");
    crate::kassert!(field(&u.version)[64] == 0, "NUL terminated");
    Ok(())
});

crate::ktest!(sysinfo_and_reboot_checks, {
    let info = do_sysinfo();
    crate::kassert!(info.totalram >= info.freeram && info.freeram > 0, "memory figures");
    crate::kassert!(info.uptime >= 1 && info.mem_unit == 1, "uptime, mem_unit");
    let bad = sys_reboot(0, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF, UserAddr::new(0));
    crate::kassert!(bad == Err(Errno::EINVAL), "bad magic1 is EINVAL");
    let bad = sys_reboot(LINUX_REBOOT_MAGIC1, 1, LINUX_REBOOT_CMD_POWER_OFF, UserAddr::new(0));
    crate::kassert!(bad == Err(Errno::EINVAL), "bad magic2 is EINVAL");
    let cmd = sys_reboot(LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, 0x1234, UserAddr::new(0));
    crate::kassert!(cmd == Err(Errno::EINVAL), "unknown cmd is EINVAL");
    let cad = sys_reboot(LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, 0, UserAddr::new(0));
    crate::kassert!(cad == Ok(()), "CAD_OFF");
    Ok(())
});

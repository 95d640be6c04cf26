//! The signal system calls as the syscall table names them: the bodies in
//! `syscalls.rs` (and `arch::signal` for `rt_sigreturn`) are generic over
//! the task type; these run them for the scheduler's `Task`.
//!
//! Linux: kernel/signal.c, arch/x86/kernel/signal_64.c (the
//! `SYSCALL_DEFINE`s).
//!
//! # Locking
//! None here; see `signal/mod.rs`.

use super::syscalls;
use crate::arch::ptrace::PtRegs;
use crate::kernel::errno::KResult;
use crate::kernel::sched::Task;
use crate::kernel::syscall::args::UserPtr;

/// rt_sigaction(2).
pub fn sys_rt_sigaction(
    sig: i32,
    act: UserPtr<[u64; 4]>,
    oact: UserPtr<[u64; 4]>,
    sigsetsize: usize,
) -> KResult<()> {
    syscalls::sys_rt_sigaction::<Task>(sig, act, oact, sigsetsize)
}

/// rt_sigprocmask(2).
pub fn sys_rt_sigprocmask(
    how: i32,
    set: UserPtr<u64>,
    oset: UserPtr<u64>,
    sigsetsize: usize,
) -> KResult<()> {
    syscalls::sys_rt_sigprocmask::<Task>(how, set, oset, sigsetsize)
}

/// rt_sigreturn(2): the saved context comes back from the user stack.
pub fn sys_rt_sigreturn(regs: &mut PtRegs) -> KResult<i64> {
    crate::arch::signal::sys_rt_sigreturn::<Task>(regs)
}

/// pause(2).
pub fn sys_pause() -> KResult<()> {
    syscalls::sys_pause::<Task>()
}

/// kill(2).
pub fn sys_kill(pid: i32, sig: i32) -> KResult<()> {
    syscalls::sys_kill::<Task>(pid, sig)
}

/// rt_sigpending(2).
pub fn sys_rt_sigpending(set: UserPtr<u64>, sigsetsize: usize) -> KResult<()> {
    syscalls::sys_rt_sigpending::<Task>(set, sigsetsize)
}

/// rt_sigsuspend(2).
pub fn sys_rt_sigsuspend(mask: UserPtr<u64>, sigsetsize: usize) -> KResult<()> {
    syscalls::sys_rt_sigsuspend::<Task>(mask, sigsetsize)
}

/// tkill(2).
pub fn sys_tkill(tid: i32, sig: i32) -> KResult<()> {
    syscalls::sys_tkill::<Task>(tid, sig)
}

/// tgkill(2).
pub fn sys_tgkill(tgid: i32, tid: i32, sig: i32) -> KResult<()> {
    syscalls::sys_tgkill::<Task>(tgid, tid, sig)
}

/// sigaltstack(2): the caller's user stack pointer says whether it runs on
/// the alternate stack.
pub fn sys_sigaltstack(
    regs: &mut PtRegs,
    uss: UserPtr<[u64; 3]>,
    uoss: UserPtr<[u64; 3]>,
) -> KResult<()> {
    super::altstack::sys_sigaltstack::<Task>(uss, uoss, regs.rsp)
}

/// rt_sigqueueinfo(2).
pub fn sys_rt_sigqueueinfo(pid: i32, sig: i32, uinfo: UserPtr<[u8; 128]>) -> KResult<()> {
    super::sigwait::sys_rt_sigqueueinfo::<Task>(pid, sig, uinfo)
}

/// rt_tgsigqueueinfo(2).
pub fn sys_rt_tgsigqueueinfo(
    tgid: i32,
    tid: i32,
    sig: i32,
    uinfo: UserPtr<[u8; 128]>,
) -> KResult<()> {
    super::sigwait::sys_rt_tgsigqueueinfo::<Task>(tgid, tid, sig, uinfo)
}

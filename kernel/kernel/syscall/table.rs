//! The system call table: number, name, handler and argument types, one
//! line per call, in the order of Linux's table.
//!
//! Linux: arch/x86/entry/syscalls/syscall_64.tbl, and the
//! `SYSCALL_DEFINEn` wrappers that decode the registers.
//!
//! Adding a system call is adding a line: the handler lives with its
//! subsystem (`fs::read_write::sys_read`), takes decoded arguments (see
//! `args.rs`; each type's `FromSyscallArg` turns a bad value into the
//! errno Linux gives) and returns `KResult<T>` for any `T: SyscallRet`.
//! Arguments come from RDI, RSI, RDX, R10, R8, R9, in that order.
//!
//! # Locking
//! None: the table is code.

use linux_raw_sys::general::{__kernel_old_timeval, __kernel_timespec, timezone};
use linux_raw_sys::system::new_utsname;

use super::args::FromSyscallArg;
use crate::arch::ptrace::PtRegs;
use crate::arch::uaccess::UserAddr;
use crate::drivers::char::random::GrndFlags;
use crate::kernel::errno::KResult;
use crate::kernel::sys::Sysinfo;
use crate::kernel::syscall::args::UserPtr;
use crate::kernel::time::posix::ClockId;

/// What a handler's success value becomes in RAX.
pub trait SyscallRet {
    fn into_ret(self) -> i64;
}

impl SyscallRet for () {
    fn into_ret(self) -> i64 {
        0
    }
}

impl SyscallRet for usize {
    /// Counts are at most `MAX_RW_COUNT`, far below `i64::MAX`.
    fn into_ret(self) -> i64 {
        i64::try_from(self).unwrap_or(i64::MAX)
    }
}

impl SyscallRet for isize {
    fn into_ret(self) -> i64 {
        self as i64
    }
}

impl SyscallRet for i64 {
    fn into_ret(self) -> i64 {
        self
    }
}

impl SyscallRet for i32 {
    fn into_ret(self) -> i64 {
        i64::from(self)
    }
}

impl SyscallRet for u32 {
    fn into_ret(self) -> i64 {
        i64::from(self)
    }
}

/// The six argument registers, in the syscall ABI's order.
fn syscall_args(regs: &PtRegs) -> [u64; 6] {
    [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9]
}

/// Decodes an argument, handing a missing one (never: at most six) as 0.
fn arg<T: FromSyscallArg>(raw: &mut impl Iterator<Item = u64>) -> KResult<T> {
    T::from_arg(raw.next().unwrap_or(0))
}

macro_rules! syscall_table {
    ($($nr:literal $name:ident => $($path:ident)::+ ($($arg:ident: $ty:ty),* $(,)?);)*) => {
        /// Every implemented call as (number, name), in table order.
        pub const IMPLEMENTED: &[(i64, &str)] = &[$(($nr, stringify!($name))),*];

        /// Runs syscall `nr`; `None` if the table has no such number
        /// (Linux: `x64_sys_call`'s switch).
        #[allow(clippy::redundant_closure_call, reason = "the closure scopes `?` to one call")]
        pub fn dispatch(regs: &PtRegs, nr: i64) -> Option<KResult<i64>> {
            let mut raw = syscall_args(regs).into_iter();
            let result = match nr {
                $($nr => (|| -> KResult<i64> {
                    $(let $arg: $ty = arg(&mut raw)?;)*
                    crate::$($path)::+($($arg),*).map(SyscallRet::into_ret)
                })(),)*
                _ => return None,
            };
            Some(result)
        }
    };
}

syscall_table! {
    35  nanosleep       => kernel::time::posix::sys_nanosleep(rqtp: UserPtr<__kernel_timespec>, rmtp: UserPtr<__kernel_timespec>);
    63  uname           => kernel::sys::sys_newuname(name: UserPtr<new_utsname>);
    96  gettimeofday    => kernel::time::posix::sys_gettimeofday(tv: UserPtr<__kernel_old_timeval>, tz: UserPtr<timezone>);
    99  sysinfo         => kernel::sys::sys_sysinfo(info: UserPtr<Sysinfo>);
    102 getuid          => kernel::sys::sys_getuid();
    104 getgid          => kernel::sys::sys_getgid();
    107 geteuid         => kernel::sys::sys_geteuid();
    108 getegid         => kernel::sys::sys_getegid();
    169 reboot          => kernel::sys::sys_reboot(magic1: u32, magic2: u32, cmd: u32, arg: UserAddr);
    201 time            => kernel::time::posix::sys_time(tloc: UserPtr<i64>);
    228 clock_gettime   => kernel::time::posix::sys_clock_gettime(which: ClockId, tp: UserPtr<__kernel_timespec>);
    229 clock_getres    => kernel::time::posix::sys_clock_getres(which: ClockId, tp: UserPtr<__kernel_timespec>);
    230 clock_nanosleep => kernel::time::posix::sys_clock_nanosleep(which: ClockId, flags: u32, rqtp: UserPtr<__kernel_timespec>, rmtp: UserPtr<__kernel_timespec>);
    318 getrandom       => drivers::char::random::sys_getrandom(buf: UserPtr<u8>, count: usize, flags: GrndFlags);
}

crate::ktest!(syscall_table_matches_linux_names, {
    for &(nr, name) in IMPLEMENTED {
        crate::kassert!(super::names::syscall_name(nr) == Some(name), "table name is Linux's");
    }
    Ok(())
});

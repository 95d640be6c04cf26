//! System call dispatch: from the number in RAX to a handler, and the
//! work done on the way back to user mode.
//!
//! Linux: arch/x86/entry/common.c (`do_syscall_x64`), arch/x86/entry/
//! syscall_64.c (`x64_sys_call`), kernel/entry/common.c.
//!
//! The entry asm and `do_syscall_64` are in `arch::syscall`; they call
//! [`x64_sys_call`] with the saved registers, which looks the number up in
//! the table (`table.rs`), decodes the arguments into types (`args.rs`)
//! and returns the handler's value, or `-errno`. An unknown number is
//! `ENOSYS` and a warning, once per number, with Linux's name for it
//! (`names.rs`). Then `exit_to_user_mode_loop` (`entry_common.rs`) runs
//! before the return.
//!
//! # Locking
//! `LOGGED` is a bitmap of atomics; handlers run with interrupts on and no
//! lock held.

pub mod args;
pub mod entry_common;
pub mod names;
pub mod table;

use core::sync::atomic::{AtomicU64, Ordering};

pub use entry_common::exit_to_user_mode_loop;

use crate::arch::ptrace::PtRegs;
use crate::kernel::errno::Errno;
use crate::kernel::trace::events::raw_syscalls;
use crate::pr_warn;

/// One bit per syscall number already warned about; numbers past the
/// table share the last bit.
static LOGGED: [AtomicU64; names::NR_SYSCALLS.div_ceil(64) + 1] =
    [const { AtomicU64::new(0) }; names::NR_SYSCALLS.div_ceil(64) + 1];

/// Runs system call `nr` with the arguments in `regs`; returns what RAX
/// gets: the result, or `-errno` (Linux: `x64_sys_call`).
pub fn x64_sys_call(regs: &mut PtRegs, nr: i64) -> i64 {
    // Linux: the `SYSCALL_WORK_SYSCALL_TRACEPOINT` test of
    // `syscall_enter_from_user_mode`: one load while tracing is off.
    if raw_syscalls::syscall_tracepoints_on() {
        return raw_syscalls::traced_sys_call(regs, nr, invoke_sys_call);
    }
    invoke_sys_call(regs, nr)
}

#[inline(always)]
fn invoke_sys_call(regs: &mut PtRegs, nr: i64) -> i64 {
    match table::dispatch(regs, nr) {
        Some(Ok(ret)) => ret,
        Some(Err(e)) => -(e as i64),
        None => {
            warn_unimplemented(nr);
            -(Errno::ENOSYS as i64)
        }
    }
}

/// `pr_warn!` the first time each number is seen.
fn warn_unimplemented(nr: i64) {
    let last = names::NR_SYSCALLS;
    let bit = usize::try_from(nr).map_or(last, |n| n.min(last));
    let mask = 1u64 << (bit % 64);
    if LOGGED[bit / 64].fetch_or(mask, Ordering::Relaxed) & mask != 0 {
        return;
    }
    match names::syscall_name(nr) {
        Some(name) => pr_warn!("ferrite: unimplemented syscall {nr} ({name})"),
        None => pr_warn!("ferrite: unimplemented syscall {nr}"),
    }
}

crate::ktest!(syscall_dispatch, {
    use crate::arch::uaccess::TASK_SIZE_MAX;
    let mut regs = PtRegs::default();
    let enosys = -(Errno::ENOSYS as i64);
    crate::kassert!(x64_sys_call(&mut regs, 1000) == enosys, "unknown number is ENOSYS");
    crate::kassert!(x64_sys_call(&mut regs, -1) == enosys, "negative number is ENOSYS");
    crate::kassert!(x64_sys_call(&mut regs, 102) == 0, "getuid is root");
    regs.rdi = TASK_SIZE_MAX + 1;
    crate::kassert!(x64_sys_call(&mut regs, 63) == -(Errno::EFAULT as i64), "uname(bad) is EFAULT");
    regs.rdi = 0x1000;
    crate::kassert!(x64_sys_call(&mut regs, 63) == -(Errno::EFAULT as i64), "uname(unmapped)");
    regs.rdi = 0;
    regs.rsi = 0;
    regs.rdx = 8;
    crate::kassert!(x64_sys_call(&mut regs, 318) == -(Errno::EINVAL as i64), "getrandom bad flags");
    regs.rdi = 99;
    crate::kassert!(x64_sys_call(&mut regs, 228) == -(Errno::EINVAL as i64), "bad clock id");
    Ok(())
});

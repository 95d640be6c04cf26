//! Every system call's entry and exit.
//!
//! Linux: include/trace/events/syscalls.h (`raw_syscalls:sys_enter`,
//! `sys_exit`), fired from kernel/entry/common.c
//! (`syscall_trace_enter`, `syscall_exit_work`).
//!
//! # Locking
//! None beyond the ring's: they fire in process context with no lock held.
#![deny(unsafe_code)]

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use super::{Entry, Field, TraceEvent, rd_i64, rd_u64};
use crate::arch::ptrace::PtRegs;

pub static SYS_ENTER: TraceEvent = TraceEvent {
    system: "raw_syscalls",
    name: "sys_enter",
    id: 351,
    enabled: AtomicBool::new(false),
    fields: &[
        Field { decl: "long id", offset: 8, size: 8, signed: true },
        Field { decl: "unsigned long args[6]", offset: 16, size: 48, signed: false },
    ],
    print_fmt: "\"NR %ld (%lx, %lx, %lx, %lx, %lx, %lx)\", REC->id, REC->args[0], REC->args[1], REC->args[2], REC->args[3], REC->args[4], REC->args[5]",
    output: output_enter,
};

pub static SYS_EXIT: TraceEvent = TraceEvent {
    system: "raw_syscalls",
    name: "sys_exit",
    id: 350,
    enabled: AtomicBool::new(false),
    fields: &[
        Field { decl: "long id", offset: 8, size: 8, signed: true },
        Field { decl: "long ret", offset: 16, size: 8, signed: true },
    ],
    print_fmt: "\"NR %ld = %ld\", REC->id, REC->ret",
    output: output_exit,
};

/// Whether either event is on: the one load a system call pays while
/// both are off (Linux: `SYSCALL_WORK_SYSCALL_TRACEPOINT`, set on every
/// task when `sys_enter` or `sys_exit` is registered).
static SYSCALL_TRACEPOINTS: AtomicBool = AtomicBool::new(false);

/// Recomputes [`SYSCALL_TRACEPOINTS`] after an event was switched.
pub fn sync_syscall_work() {
    let on = SYS_ENTER.is_enabled() || SYS_EXIT.is_enabled();
    SYSCALL_TRACEPOINTS.store(on, Ordering::Relaxed);
}

#[inline(always)]
pub fn syscall_tracepoints_on() -> bool {
    SYSCALL_TRACEPOINTS.load(Ordering::Relaxed)
}

/// Runs system call `nr` through `invoke` between `sys_enter` and
/// `sys_exit` (Linux: `syscall_trace_enter`, then `syscall_exit_work`).
#[cold]
#[inline(never)]
pub fn traced_sys_call(regs: &mut PtRegs, nr: i64, invoke: fn(&mut PtRegs, i64) -> i64) -> i64 {
    if SYS_ENTER.is_enabled() {
        record_enter(nr, [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9]);
    }
    let ret = invoke(regs, nr);
    if SYS_EXIT.is_enabled() {
        record_exit(nr, ret);
    }
    ret
}

#[cold]
#[inline(never)]
fn record_enter(id: i64, args: [u64; 6]) {
    let mut e = Entry::new(&SYS_ENTER, 64);
    e.put(8, &id.to_le_bytes());
    for (i, a) in args.iter().enumerate() {
        e.put(16 + 8 * i, &a.to_le_bytes());
    }
    e.commit();
}

fn output_enter(p: &[u8], m: &mut dyn fmt::Write) -> fmt::Result {
    write!(m, "NR {} (", rd_i64(p, 8))?;
    for i in 0..6 {
        let sep = if i == 5 { ")" } else { ", " };
        write!(m, "{:x}{sep}", rd_u64(p, 16 + 8 * i))?;
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn record_exit(id: i64, ret: i64) {
    let mut e = Entry::new(&SYS_EXIT, 24);
    e.put(8, &id.to_le_bytes());
    e.put(16, &ret.to_le_bytes());
    e.commit();
}

fn output_exit(p: &[u8], m: &mut dyn fmt::Write) -> fmt::Result {
    write!(m, "NR {} = {}", rd_i64(p, 8), rd_i64(p, 16))
}

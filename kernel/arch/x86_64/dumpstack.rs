//! The oops: printing a dying context's registers and backtrace.
//!
//! Linux: arch/x86/kernel/dumpstack.c (`die`, `__die`, `oops_begin`,
//! `oops_end`, `show_trace_log_lvl`), arch/x86/kernel/process_64.c
//! (`__show_regs`), lib/dump_stack.c.
//!
//! Everything here prints with `emergency_write`, which takes no lock: the
//! CPU that oopsed may hold the log or console lock.
//!
//! # Locking
//! `DIE_OWNER` serialises oopses of different CPUs so their reports do not
//! interleave; the owning CPU may re-enter (an oops inside an oops).

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use x86_64::registers::control::{Cr0, Cr2, Cr3, Cr4};
use x86_64::registers::model_specific::{FsBase, GsBase, KernelGsBase};

use super::percpu::{in_hardirq, smp_processor_id};
use super::ptrace::PtRegs;
use super::stacktrace::FrameWalker;
use crate::kernel::kallsyms::{BacktraceSymbol, SymbolName};
use crate::kernel::panic::{TAINT_DIE, add_taint, print_tainted};
use crate::kernel::printk::emergency_write;

static DIE_COUNTER: AtomicU32 = AtomicU32::new(0);
const NO_OWNER: usize = usize::MAX;
static DIE_OWNER: AtomicUsize = AtomicUsize::new(NO_OWNER);

macro_rules! emerg {
    ($($arg:tt)*) => { emergency_write(format_args!($($arg)*)) };
}

/// Takes the oops "lock" (Linux: `oops_begin`).
pub fn oops_begin() {
    let cpu = smp_processor_id();
    while let Err(owner) =
        DIE_OWNER.compare_exchange(NO_OWNER, cpu, Ordering::Acquire, Ordering::Relaxed)
    {
        if owner == cpu {
            break;
        }
        core::hint::spin_loop();
    }
}

/// Prints the oops header, registers and backtrace (Linux: `__die`).
pub fn __die(what: &str, regs: &PtRegs, err: u64) {
    let n = DIE_COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    emerg!("{what}: {:04x} [#{n}] SMP", err & 0xffff);
    show_regs(regs);
}

/// Reports a fatal kernel exception and never returns (Linux: `die`,
/// then `oops_end` with `panic_on_oops`, since there is no task to kill).
pub fn die(what: &str, regs: &PtRegs, err: u64) -> ! {
    oops_begin();
    __die(what, regs, err);
    emerg!("---[ end trace 0000000000000000 ]---");
    // Linux: `oops_end`; the taint also tells `panic` the trace is out.
    add_taint(TAINT_DIE);
    if in_hardirq() {
        panic!("Fatal exception in interrupt");
    }
    panic!("Fatal exception");
}

/// The "CPU: ... Comm: ..." line (Linux: `dump_stack_print_info`).
pub fn dump_stack_print_info() {
    emergency_write(format_args!("{}", PrintInfo));
}

/// The "CPU: ... Comm: ..." line of the running task; before the first
/// task exists, the boot context is CPU 0's idle task, Linux's "swapper/0".
struct PrintInfo;

impl core::fmt::Display for PrintInfo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::kernel::sched::task::comm_str;
        let cpu = smp_processor_id();
        let (tainted, release) = (print_tainted(), env!("CARGO_PKG_VERSION"));
        let Some(task) = crate::kernel::sched::try_current() else {
            return write!(f, "CPU: {cpu} PID: 0 Comm: swapper/{cpu} {tainted} {release} #1");
        };
        let comm = task.try_comm();
        let name = comm.as_ref().map_or("?", comm_str);
        write!(f, "CPU: {cpu} PID: {} Comm: {name} {tainted} {release} #1", task.pid)
    }
}

crate::ktest!(dump_stack_names_the_running_task, {
    use crate::kernel::sched::task::comm_str;
    let task = crate::kernel::sched::current();
    let line = alloc::format!("{PrintInfo}");
    let want = alloc::format!(" PID: {} Comm: {} ", task.pid, comm_str(&task.comm()));
    crate::kassert!(task.pid != 0, "runs in a task, not the idle context");
    crate::kassert!(line.starts_with("CPU: 0 ") && line.contains(want.as_str()), "pid and comm");
    Ok(())
});

/// Linux: `show_regs` / `__show_regs`.
pub fn show_regs(regs: &PtRegs) {
    dump_stack_print_info();
    emerg!("RIP: {:04x}:{}", regs.cs, SymbolName(regs.rip));
    emerg!("RSP: {:04x}:{:016x} EFLAGS: {:08x}", regs.ss, regs.rsp, regs.eflags);
    emerg!("RAX: {:016x} RBX: {:016x} RCX: {:016x}", regs.rax, regs.rbx, regs.rcx);
    emerg!("RDX: {:016x} RSI: {:016x} RDI: {:016x}", regs.rdx, regs.rsi, regs.rdi);
    emerg!("RBP: {:016x} R08: {:016x} R09: {:016x}", regs.rbp, regs.r8, regs.r9);
    emerg!("R10: {:016x} R11: {:016x} R12: {:016x}", regs.r10, regs.r11, regs.r12);
    emerg!("R13: {:016x} R14: {:016x} R15: {:016x}", regs.r13, regs.r14, regs.r15);
    let (fs, gs, ds, es) = segment_selectors();
    emerg!(
        "FS:  {:016x}({fs:04x}) GS:{:016x}({gs:04x}) knlGS:{:016x}",
        FsBase::read().as_u64(),
        GsBase::read().as_u64(),
        KernelGsBase::read().as_u64()
    );
    emerg!("CS:  {:04x} DS: {ds:04x} ES: {es:04x} CR0: {:016x}", regs.cs, Cr0::read_raw());
    let (cr3_frame, cr3_flags) = Cr3::read_raw();
    let cr3 = cr3_frame.start_address().as_u64() | u64::from(cr3_flags);
    emerg!("CR2: {:016x} CR3: {cr3:016x} CR4: {:016x}", Cr2::read_raw(), Cr4::read_raw());
    show_trace(regs.rip, regs.rbp);
}

fn segment_selectors() -> (u16, u16, u16, u16) {
    let (fs, gs, ds, es): (u16, u16, u16, u16);
    // SAFETY: reading segment selectors has no side effects.
    unsafe {
        core::arch::asm!(
            "mov {0:x}, fs", "mov {1:x}, gs", "mov {2:x}, ds", "mov {3:x}, es",
            out(reg) fs, out(reg) gs, out(reg) ds, out(reg) es,
            options(nomem, nostack, preserves_flags),
        );
    }
    (fs, gs, ds, es)
}

/// Prints "Call Trace:" for a context at `rip` with frame pointer `rbp`
/// (Linux: `show_trace_log_lvl`).
pub fn show_trace(rip: u64, rbp: u64) {
    emerg!("Call Trace:");
    emerg!(" <TASK>");
    if rip != 0 {
        emerg!(" {}", SymbolName(rip));
    }
    for ret in FrameWalker::new(rbp) {
        emerg!(" {}", BacktraceSymbol(ret));
    }
    emerg!(" </TASK>");
}

/// Prints the caller's backtrace (Linux: `dump_stack`).
#[inline(never)]
pub fn dump_stack() {
    dump_stack_print_info();
    show_trace(0, super::stacktrace::current_frame_pointer());
}

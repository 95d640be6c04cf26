//! CPU exceptions: installing the descriptor tables, and the handlers of
//! the 32 exception vectors.
//!
//! Linux: arch/x86/kernel/traps.c (`trap_init`, `do_error_trap`,
//! `exc_double_fault`, `exc_int3`, …), arch/x86/kernel/nmi.c.
//!
//! Each `exc_*` function is called by its `asm_exc_*` stub in entry.rs with
//! the saved registers and the error code (0 when the CPU pushes none).
//! A user-mode exception becomes a signal for the current task, delivered
//! on the way back to user mode (Linux: `do_trap` → `force_sig` /
//! `force_sig_fault`): #DE and #MF/#XM SIGFPE, #UD SIGILL, #GP, #TS, #OF
//! and #BR SIGSEGV, #NP, #SS and #AC SIGBUS, int3 SIGTRAP. A kernel-mode
//! exception whose RIP has an exception-table entry resumes at the fixup;
//! any other is fatal and ends in `die` (the oops).
//!
//! # Locking
//! Handlers run with interrupts off (all gates are interrupt gates) and
//! take no locks on the fatal path; sending a signal takes the IRQ-safe
//! signal locks.

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::registers::control::Cr2;

use super::dumpstack::{die, oops_begin};
use super::extable::{asm_extable, fixup_exception};
use super::percpu::{NR_CPUS, setup_this_cpu, this_cpu};
use super::ptrace::PtRegs;
use super::{gdt, idt};
use crate::kernel::printk::emergency_write;
use crate::kernel::sched::Task;
use crate::kernel::signal::{SigHandler, SigInfo, SigTask, Signal, force_sig_info};
use crate::mm::addr::PAGE_SIZE;
use crate::pr_info;
use linux_raw_sys::general as uapi;

unsafe extern "C" {
    static boot_stack_bottom: u8;
    static boot_stack_top: u8;
}

/// Installs the GDT, TSS, per-CPU area and IDT on the boot CPU (Linux:
/// `trap_init`, with `setup_per_cpu_areas` and `cpu_init` folded in).
pub fn trap_init() {
    let bottom = (&raw const boot_stack_bottom).addr() as u64;
    let top = (&raw const boot_stack_top).addr() as u64;
    gdt::cpu_init(0, gdt::boot_exception_stacks());
    setup_this_cpu(0, bottom, top);
    idt::idt_setup();
    idt::load_idt();
    pr_info!(
        "setup_percpu: NR_CPUS:{NR_CPUS} nr_cpumask_bits:{NR_CPUS} nr_cpu_ids:1 nr_node_ids:1"
    );
    pr_info!(
        "traps: IDT loaded, IST stacks for #DF #NMI #DB #MC of {} KiB each",
        gdt::EXCEPTION_STKSZ / 1024
    );
}

/// What an exception from user mode becomes (Linux: the `signr`, `sicode`
/// and `addr` arguments of `do_error_trap`).
#[derive(Clone, Copy)]
enum UserTrap {
    /// `force_sig(sig)`: `si_code` is `SI_KERNEL`.
    Sig(Signal),
    /// `force_sig_fault(sig, code, ip)`: the faulting instruction's address.
    Fault(Signal, u32),
    /// `force_sig_fault(sig, code, 0)`.
    FaultNoAddr(Signal, u32),
    /// SIGFPE for a floating-point error, the code from the FPU's status:
    /// MXCSR for SIMD (#XM), else the x87 words (#MF).
    Math { simd: bool },
    /// Never the user's doing: a kernel bug even from user mode.
    Die,
}

/// The common path of the "simple" exceptions (Linux: `do_error_trap`,
/// `do_trap`).
fn do_error_trap(regs: &mut PtRegs, error_code: u64, what: &str, user: UserTrap) {
    if regs.user_mode() {
        let info = match user {
            UserTrap::Sig(sig) => Some(SigInfo::kernel(sig)),
            UserTrap::Fault(sig, code) => Some(SigInfo::fault(sig, code.cast_signed(), regs.rip)),
            UserTrap::FaultNoAddr(sig, code) => Some(SigInfo::fault(sig, code.cast_signed(), 0)),
            UserTrap::Math { simd } => {
                Some(SigInfo::fault(Signal::SIGFPE, math_error_code(simd), regs.rip))
            }
            UserTrap::Die => None,
        };
        if let Some(info) = info {
            show_unhandled_signal(regs, error_code, what, info.signo);
            force_sig_info(info, &Task::current());
            return;
        }
    } else if fixup_exception(regs) {
        return;
    }
    die(what, regs, error_code);
}

/// Logs a user trap that will kill the task, as Linux does with
/// `show_unhandled_signals` ("traps: sh[42] trap invalid opcode ip:…").
fn show_unhandled_signal(regs: &PtRegs, error_code: u64, what: &str, sig: Signal) {
    let Some(task) = crate::kernel::sched::try_current() else { return };
    if !matches!(task.sighand().action(sig).sig_handler(), SigHandler::Default) {
        return;
    }
    let comm = task.comm();
    let comm = crate::kernel::sched::task::comm_str(&comm);
    let (pid, ip, sp) = (task.pid, regs.rip, regs.rsp);
    let trap = if sig == Signal::SIGSEGV && what.starts_with("general") { "" } else { "trap " };
    pr_info!("traps: {comm}[{pid}] {trap}{what} ip:{ip:x} sp:{sp:x} error:{error_code:x}");
}

/// The `si_code` of a floating-point exception from the unmasked status
/// bits: x87's status and control words for #MF, MXCSR for #XM (Linux:
/// `fpu__exception_code`). The user's FPU state is live in the registers.
fn math_error_code(simd: bool) -> i32 {
    let err = if simd {
        let mut mxcsr: u32 = 0;
        // SAFETY: `stmxcsr` stores the 4-byte MXCSR into the local.
        unsafe { core::arch::asm!("stmxcsr [{}]", in(reg) &raw mut mxcsr, options(nostack)) };
        mxcsr & !(mxcsr >> 7)
    } else {
        let (mut swd, mut cwd): (u16, u16) = (0, 0);
        // SAFETY: `fnstsw`/`fnstcw` store 2 bytes each into the locals and
        // do not raise the pending exception.
        unsafe { core::arch::asm!("fnstsw [{}]", in(reg) &raw mut swd, options(nostack)) };
        // SAFETY: as above.
        unsafe { core::arch::asm!("fnstcw [{}]", in(reg) &raw mut cwd, options(nostack)) };
        u32::from(swd & !cwd)
    };
    let code = if err & 0x01 != 0 {
        uapi::FPE_FLTINV
    } else if err & 0x04 != 0 {
        uapi::FPE_FLTDIV
    } else if err & 0x08 != 0 {
        uapi::FPE_FLTOVF
    } else if err & 0x12 != 0 {
        uapi::FPE_FLTUND
    } else if err & 0x20 != 0 {
        uapi::FPE_FLTRES
    } else {
        // Linux sends nothing then; a signal still beats refaulting.
        uapi::FPE_FLTINV
    };
    code.cast_signed()
}

/// Defines `exc_NAME` handlers that end in `do_error_trap` with Linux's
/// message; `$err` says whether the CPU's error code is reported, `$user`
/// what user mode gets.
macro_rules! error_traps {
    ($($name:ident: $what:literal, $err:literal, $user:expr;)*) => {$(
        #[unsafe(no_mangle)]
        extern "C" fn $name(regs: &mut PtRegs, error_code: u64) {
            do_error_trap(regs, if $err { error_code } else { 0 }, $what, $user);
        }
    )*};
}

use UserTrap::{Die, Fault, FaultNoAddr, Math, Sig};

error_traps! {
    exc_divide_error: "divide error", false, Fault(Signal::SIGFPE, uapi::FPE_INTDIV);
    exc_overflow: "overflow", false, Sig(Signal::SIGSEGV);
    exc_bounds: "bounds", false, Sig(Signal::SIGSEGV);
    exc_invalid_op: "invalid opcode", false, Fault(Signal::SIGILL, uapi::ILL_ILLOPN);
    exc_device_not_available: "device not available", false, Die;
    exc_coproc_segment_overrun: "coprocessor segment overrun", false, Sig(Signal::SIGFPE);
    exc_invalid_tss: "invalid TSS", true, Sig(Signal::SIGSEGV);
    exc_segment_not_present: "segment not present", true, Sig(Signal::SIGBUS);
    exc_stack_segment: "stack segment", true, Sig(Signal::SIGBUS);
    exc_general_protection: "general protection fault", true, Sig(Signal::SIGSEGV);
    exc_coprocessor_error: "coprocessor error", false, Math { simd: false };
    exc_alignment_check: "alignment check", true, FaultNoAddr(Signal::SIGBUS, uapi::BUS_ADRALN);
    exc_simd_coprocessor_error: "SIMD coprocessor error", false, Math { simd: true };
    exc_virtualization_exception: "virtualization exception", false, Sig(Signal::SIGSEGV);
    exc_control_protection: "control protection fault", true, Sig(Signal::SIGSEGV);
    exc_vmm_communication: "VMM communication", true, Sig(Signal::SIGSEGV);
    exc_security: "security exception", true, Sig(Signal::SIGSEGV);
    exc_reserved: "reserved exception", false, Sig(Signal::SIGSEGV);
    exc_machine_check: "machine check", false, Die;
}

/// Linux: `exc_double_fault`. On its own IST stack, because the usual
/// reason is a kernel stack overflow: the #PF on the guard page below the
/// stack could not push its frame.
#[unsafe(no_mangle)]
extern "C" fn exc_double_fault(regs: &mut PtRegs, error_code: u64) {
    let cr2 = Cr2::read_raw();
    let (bottom, top) = this_cpu().current_stack();
    if bottom != 0 && cr2 < bottom && cr2 >= bottom - PAGE_SIZE as u64 {
        oops_begin();
        emergency_write(format_args!(
            "BUG: stack guard page was hit at {cr2:016x} (stack is {bottom:016x}..{top:016x})"
        ));
        die("kernel stack overflow (double-fault)", regs, 0);
    }
    oops_begin();
    emergency_write(format_args!("PANIC: double fault, error_code: {error_code:#x}"));
    die("double fault", regs, error_code);
}

/// Breakpoints handled (for the self-test; kprobes and kgdb hook here
/// later, Linux: `do_int3`).
static INT3_COUNT: AtomicU64 = AtomicU64::new(0);

/// Linux: `exc_int3`. `int3` is a trap: RIP already points past it.
/// From user mode it is SIGTRAP (Linux: `do_int3_user`).
#[unsafe(no_mangle)]
extern "C" fn exc_int3(regs: &mut PtRegs, _error_code: u64) {
    if regs.user_mode() {
        force_sig_info(SigInfo::kernel(Signal::SIGTRAP), &Task::current());
        return;
    }
    INT3_COUNT.fetch_add(1, Ordering::Relaxed);
}

/// Linux: `exc_debug`; no debugger uses the debug registers yet.
#[unsafe(no_mangle)]
extern "C" fn exc_debug(_regs: &mut PtRegs, _error_code: u64) {}

/// Linux: `exc_nmi` → `unknown_nmi_error`; lock-free, since an NMI can
/// interrupt a printk.
#[unsafe(no_mangle)]
extern "C" fn exc_nmi(_regs: &mut PtRegs, _error_code: u64) {
    let cpu = this_cpu().cpu();
    emergency_write(format_args!("Uhhuh. NMI received for unknown reason 00 on CPU {cpu}."));
    emergency_write(format_args!("Dazed and confused, but trying to continue"));
}

/// Vector 15 is reserved; old CPUs raised it spuriously (Linux:
/// `exc_spurious_interrupt_bug`), so it is ignored.
#[unsafe(no_mangle)]
extern "C" fn exc_spurious_interrupt_bug(_regs: &mut PtRegs, _error_code: u64) {}

crate::ktest!(traps_int3_returns, {
    let before = INT3_COUNT.load(Ordering::Relaxed);
    // SAFETY: `exc_int3` only counts and returns to the next instruction.
    unsafe { core::arch::asm!("int3") };
    crate::kassert!(INT3_COUNT.load(Ordering::Relaxed) == before + 1, "int3 ran its handler");
    Ok(())
});

crate::ktest!(traps_ud2_fixup, {
    // An exception-table entry turns even #UD into a recoverable event,
    // as Linux's `ex_handler_*` do for `rdmsr` and friends.
    let reached_fixup: u64;
    // SAFETY: the ud2 has an `__ex_table` entry whose fixup is label 3,
    // so `exc_invalid_op` resumes there instead of oopsing.
    unsafe {
        core::arch::asm!(
            "xor {r:e}, {r:e}",
            "2: ud2",
            "jmp 4f",
            "3: mov {r:e}, 1",
            "4:",
            asm_extable!("2b", "3b"),
            r = out(reg) reached_fixup,
        );
    }
    crate::kassert!(reached_fixup == 1, "ud2 resumed at its fixup");
    Ok(())
});

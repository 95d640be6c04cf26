//! CPU exceptions: installing the descriptor tables, and the handlers of
//! the 32 exception vectors.
//!
//! Linux: arch/x86/kernel/traps.c (`trap_init`, `do_error_trap`,
//! `exc_double_fault`, `exc_int3`, …), arch/x86/kernel/nmi.c.
//!
//! Each `exc_*` function is called by its `asm_exc_*` stub in entry.rs with
//! the saved registers and the error code (0 when the CPU pushes none).
//! A kernel-mode exception whose RIP has an exception-table entry resumes
//! at the fixup; any other is fatal and ends in `die` (the oops). User mode
//! does not exist yet: the next issue turns user exceptions into signals
//! (Linux: `do_trap` → `force_sig`) where `die` is called today.
//!
//! # Locking
//! Handlers run with interrupts off (all gates are interrupt gates) and
//! take no locks on the fatal path.

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::registers::control::Cr2;

use super::dumpstack::{die, oops_begin};
use super::extable::fixup_exception;
use super::percpu::{NR_CPUS, setup_this_cpu, this_cpu};
use super::ptrace::PtRegs;
use super::{gdt, idt};
use crate::kernel::printk::emergency_write;
use crate::mm::addr::PAGE_SIZE;
use crate::pr_info;

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

/// The common path of the "simple" exceptions (Linux: `do_error_trap`).
fn do_error_trap(regs: &mut PtRegs, error_code: u64, what: &str) {
    if !regs.user_mode() && fixup_exception(regs) {
        return;
    }
    die(what, regs, error_code);
}

/// Defines `exc_NAME` handlers that end in `do_error_trap` with Linux's
/// message; `$err` says whether the CPU's error code is reported.
macro_rules! error_traps {
    ($($name:ident: $what:literal, $err:literal;)*) => {$(
        #[unsafe(no_mangle)]
        extern "C" fn $name(regs: &mut PtRegs, error_code: u64) {
            do_error_trap(regs, if $err { error_code } else { 0 }, $what);
        }
    )*};
}

error_traps! {
    exc_divide_error: "divide error", false;
    exc_overflow: "overflow", false;
    exc_bounds: "bounds", false;
    exc_invalid_op: "invalid opcode", false;
    exc_device_not_available: "device not available", false;
    exc_coproc_segment_overrun: "coprocessor segment overrun", false;
    exc_invalid_tss: "invalid TSS", true;
    exc_segment_not_present: "segment not present", true;
    exc_stack_segment: "stack segment", true;
    exc_general_protection: "general protection fault", true;
    exc_coprocessor_error: "coprocessor error", false;
    exc_alignment_check: "alignment check", true;
    exc_simd_coprocessor_error: "SIMD coprocessor error", false;
    exc_virtualization_exception: "virtualization exception", false;
    exc_control_protection: "control protection fault", true;
    exc_vmm_communication: "VMM communication", true;
    exc_security: "security exception", true;
    exc_reserved: "reserved exception", false;
    exc_machine_check: "machine check", false;
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
#[unsafe(no_mangle)]
extern "C" fn exc_int3(_regs: &mut PtRegs, _error_code: u64) {
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
            ".pushsection __ex_table, \"a\"",
            ".balign 4",
            ".long 2b - .",
            ".long 3b - .",
            ".popsection",
            r = out(reg) reached_fixup,
        );
    }
    crate::kassert!(reached_fixup == 1, "ud2 resumed at its fixup");
    Ok(())
});

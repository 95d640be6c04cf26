//! Interrupt and exception entry: the assembly between the CPU's interrupt
//! frame and the Rust handlers.
//!
//! Linux: arch/x86/entry/entry_64.S (`idtentry`, `error_entry`,
//! `irq_entries_start`, `PUSH_AND_CLEAR_REGS`), arch/x86/include/asm/idtentry.h.
//!
//! Every stub leaves a [`PtRegs`](super::ptrace::PtRegs) at the stack
//! pointer: the CPU pushed `ss rsp rflags cs rip` (and an error code for
//! some exceptions, in the `orig_rax` slot; stubs without one push -1),
//! then the stub pushes the 15 general registers. If the frame came from
//! ring 3 (`cs` RPL 3) it runs `swapgs` so that GS base points at this CPU's
//! `PerCpu`, and again before `iretq`. Then it takes the error code (or
//! vector) out of the frame, sets `orig_rax` to -1 (not a system call, so
//! signal delivery never "restarts" an interrupted instruction; Linux:
//! `error_entry`) and calls `handler(regs: &mut PtRegs, error_code: u64)`
//! with a 16-byte aligned stack: the CPU aligns RSP before pushing, and the
//! 21-word frame plus 8 bytes of padding keep the alignment Rust expects.
//!
//! Back to ring 3, the stub first runs `syscall_exit_to_user_mode(regs)`
//! on the task's stack, so the tick preempts user code and signals (the
//! ones exceptions raise included) are delivered (Linux:
//! `irqentry_exit_to_user_mode`). The IST vectors (#DB, NMI, #DF, #MC)
//! return without that work: they run on per-CPU stacks where sleeping
//! would be fatal (Linux's `paranoid_exit`).
//!
//! External vectors 32..=255 have 16-byte stubs starting at
//! `irq_entries_start` that push their vector and jump to
//! `asm_common_interrupt`, which calls `common_interrupt(regs, vector)`.
//!
//! # Locking
//! None: entry code touches only the stack it runs on.

use core::arch::global_asm;

use super::ptrace::{PT_REGS_CS, PT_REGS_ORIG_RAX, PT_REGS_SIZE};

/// Size of one stub in `irq_entries_start`.
pub const IRQ_ENTRY_STUB_SIZE: usize = 16;

// The asm below hard-codes the frame layout.
const _: () = assert!(PT_REGS_CS == 17 * 8 && PT_REGS_ORIG_RAX == 15 * 8 && PT_REGS_SIZE == 21 * 8);

/// Wraps the assembler text `$body` in the definitions of `PUSH_REGS`
/// and `POP_REGS`, which push and pop the 15 general registers of a
/// [`PtRegs`](super::ptrace::PtRegs) (Linux: arch/x86/entry/calling.h).
/// `PUSH_REGS rax=X` saves `X` in the `ax` slot (the syscall entry's
/// -ENOSYS). Every `global_asm!` block that uses them gets its own copy,
/// purged at its end: assembler macros are global to the one module all
/// blocks land in, and their order there is not defined.
macro_rules! with_pt_regs_macros {
    ($body:expr) => {
        concat!(
            r#"
.macro PUSH_REGS rax=rax
    push rdi
    push rsi
    push rdx
    push rcx
    push \rax
    push r8
    push r9
    push r10
    push r11
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
.endm

.macro POP_REGS
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    pop r11
    pop r10
    pop r9
    pop r8
    pop rax
    pop rcx
    pop rdx
    pop rsi
    pop rdi
.endm

"#,
            $body,
            "\n.purgem PUSH_REGS\n.purgem POP_REGS\n",
        )
    };
}
pub(super) use with_pt_regs_macros;

global_asm!(with_pt_regs_macros!(
    r#"
    .pushsection .text
/* rsp points at a complete PtRegs; rax holds the Rust handler. */
.macro ENTRY_CALL_HANDLER
    test byte ptr [rsp + 17 * 8], 3          /* came from user mode? */
    jz 2f
    swapgs
2:  cld
    mov rdi, rsp                             /* arg 1: &mut PtRegs */
    mov rsi, [rsp + 15 * 8]                  /* arg 2: error code or vector */
    mov qword ptr [rsp + 15 * 8], -1         /* orig_rax: not a syscall */
    sub rsp, 8                               /* 16-byte alignment for Rust */
    call rax
    add rsp, 8
.endm

    .balign 16
error_entry_common:
    ENTRY_CALL_HANDLER
    test byte ptr [rsp + 17 * 8], 3
    jz 3f
    mov rdi, rsp                             /* irqentry_exit_to_user_mode */
    sub rsp, 8
    call syscall_exit_to_user_mode
    add rsp, 8
    swapgs
3:  POP_REGS
    add rsp, 8                               /* orig_rax */
    iretq

    /* The IST vectors: no exit work on a per-CPU stack. */
    .balign 16
paranoid_entry_common:
    ENTRY_CALL_HANDLER
    test byte ptr [rsp + 17 * 8], 3
    jz 3f
    swapgs
3:  POP_REGS
    add rsp, 8                               /* orig_rax */
    iretq

.macro idtentry asmsym, cfunc, has_error_code, ist=0
    .globl \asmsym
    .balign 16
\asmsym:
    .if \has_error_code == 0
    push -1
    .endif
    PUSH_REGS
    lea rax, [rip + \cfunc]
    .if \ist
    jmp paranoid_entry_common
    .else
    jmp error_entry_common
    .endif
.endm

    idtentry asm_exc_divide_error, exc_divide_error, 0
    idtentry asm_exc_debug, exc_debug, 0, 1
    idtentry asm_exc_nmi, exc_nmi, 0, 1
    idtentry asm_exc_int3, exc_int3, 0
    idtentry asm_exc_overflow, exc_overflow, 0
    idtentry asm_exc_bounds, exc_bounds, 0
    idtentry asm_exc_invalid_op, exc_invalid_op, 0
    idtentry asm_exc_device_not_available, exc_device_not_available, 0
    idtentry asm_exc_double_fault, exc_double_fault, 1, 1
    idtentry asm_exc_coproc_segment_overrun, exc_coproc_segment_overrun, 0
    idtentry asm_exc_invalid_tss, exc_invalid_tss, 1
    idtentry asm_exc_segment_not_present, exc_segment_not_present, 1
    idtentry asm_exc_stack_segment, exc_stack_segment, 1
    idtentry asm_exc_general_protection, exc_general_protection, 1
    idtentry asm_exc_page_fault, exc_page_fault, 1
    idtentry asm_exc_spurious_interrupt_bug, exc_spurious_interrupt_bug, 0
    idtentry asm_exc_coprocessor_error, exc_coprocessor_error, 0
    idtentry asm_exc_alignment_check, exc_alignment_check, 1
    idtentry asm_exc_machine_check, exc_machine_check, 0, 1
    idtentry asm_exc_simd_coprocessor_error, exc_simd_coprocessor_error, 0
    idtentry asm_exc_virtualization_exception, exc_virtualization_exception, 0
    idtentry asm_exc_control_protection, exc_control_protection, 1
    idtentry asm_exc_reserved, exc_reserved, 0
    idtentry asm_exc_vmm_communication, exc_vmm_communication, 1
    idtentry asm_exc_security, exc_security, 1

    /* The vector is already in the orig_rax slot, like an error code. */
    .balign 16
asm_common_interrupt:
    PUSH_REGS
    lea rax, [rip + common_interrupt]
    jmp error_entry_common

    .balign 16
    .globl irq_entries_start
irq_entries_start:
    .set vector, 32
    .rept 224
    .balign 16
    push vector
    jmp asm_common_interrupt
    .set vector, vector + 1
    .endr
    .globl irq_entries_end
irq_entries_end:
    .popsection
"#
));

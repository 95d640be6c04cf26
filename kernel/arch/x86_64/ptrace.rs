//! The register frame every kernel entry saves on the stack.
//!
//! Linux: arch/x86/include/asm/ptrace.h (`struct pt_regs`).
//!
//! The entry stubs in `entry.rs` push the general registers below the frame
//! the CPU pushed, so that the whole is one `PtRegs` at the stack pointer;
//! handlers get `&mut PtRegs` and may change what `iretq` restores (the
//! exception-table fixup rewrites `rip`).
//!
//! # Locking
//! A frame belongs to the CPU (and stack) that built it; nothing is shared.

use core::mem::offset_of;

/// Saved registers of an interrupted context (Linux: `struct pt_regs`; the
/// field names are ptrace's `user_regs_struct`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct PtRegs {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    /// The error code or vector the entry pushed; -1 for a syscall restart
    /// check later (Linux: `orig_ax`).
    pub orig_rax: u64,
    // Pushed by the CPU.
    pub rip: u64,
    pub cs: u64,
    pub eflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Where `cs` sits in the frame: the entry stubs test its RPL to decide on
/// `swapgs` (checked against the asm by a const assertion in entry.rs).
pub const PT_REGS_CS: usize = offset_of!(PtRegs, cs);
pub const PT_REGS_ORIG_RAX: usize = offset_of!(PtRegs, orig_rax);
pub const PT_REGS_SIZE: usize = size_of::<PtRegs>();

impl PtRegs {
    /// Whether the frame was pushed on entry from ring 3 (Linux: `user_mode`).
    pub const fn user_mode(&self) -> bool {
        self.cs & 3 == 3
    }
}

//! Linux's x86_64 signal frame, `struct rt_sigframe`, and the register
//! copies into and out of it.
//!
//! Linux: arch/x86/include/asm/sigframe.h (`struct rt_sigframe`),
//! arch/x86/include/uapi/asm/sigcontext.h (`struct sigcontext`),
//! include/uapi/asm-generic/ucontext.h, arch/x86/kernel/signal.c and
//! signal_64.c (`get_sigframe`, `setup_sigcontext`, `restore_sigcontext`,
//! `FIX_EFLAGS`).
//!
//! The layout, as gcc computes it from Debian's linux-libc-dev headers:
//! `sizeof(struct sigcontext)` 256, `sizeof(struct ucontext)` 304 with
//! `uc_mcontext` at 40 and `uc_sigmask` at 296, `sizeof(siginfo_t)` 128,
//! `struct rt_sigframe` 440 with `uc` at 8 and `info` at 312. The const
//! assertions below hold the Rust structs to those numbers.
//!
//! # Locking
//! None: a frame image is a local value until copied to the user stack.

use core::mem::offset_of;

use super::super::gdt::{__USER_CS, __USER_DS};
use super::super::ptrace::PtRegs;
use super::super::uaccess::{Pod, TASK_SIZE_MAX};
use crate::kernel::signal::SigSet;
use crate::kernel::signal::altstack::SigAltStack;

/// The registers a handler may look at and `rt_sigreturn` puts back
/// (Linux: `struct sigcontext`, 64-bit).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SigContext {
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub rdx: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rsp: u64,
    pub rip: u64,
    pub eflags: u64,
    pub cs: u16,
    pub gs: u16,
    pub fs: u16,
    pub ss: u16,
    pub err: u64,
    pub trapno: u64,
    pub oldmask: u64,
    pub cr2: u64,
    /// User address of the FPU state (`struct _fpstate *`), 0 for none.
    pub fpstate: u64,
    pub reserved1: [u64; 8],
}

/// `stack_t` (Linux: `struct sigaltstack`), with its padding spelled out.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct StackT {
    pub ss_sp: u64,
    pub ss_flags: i32,
    pub pad: i32,
    pub ss_size: u64,
}

/// Linux: `struct ucontext` (asm-generic), with the kernel's 8-byte `sigset_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct UContext {
    pub uc_flags: u64,
    pub uc_link: u64,
    pub uc_stack: StackT,
    pub uc_mcontext: SigContext,
    pub uc_sigmask: u64,
}

/// Linux: `struct rt_sigframe` (x86_64). The handler's `ret` pops
/// `pretcode`, the `sa_restorer` that calls `rt_sigreturn`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RtSigframe {
    pub pretcode: u64,
    pub uc: UContext,
    pub info: [u8; 128],
}

impl Default for RtSigframe {
    fn default() -> Self {
        RtSigframe { pretcode: 0, uc: UContext::default(), info: [0; 128] }
    }
}

const _: () = assert!(size_of::<SigContext>() == 256);
const _: () = assert!(offset_of!(SigContext, rdi) == 64);
const _: () = assert!(offset_of!(SigContext, rsp) == 120 && offset_of!(SigContext, rip) == 128);
const _: () = assert!(offset_of!(SigContext, eflags) == 136 && offset_of!(SigContext, cs) == 144);
const _: () = assert!(offset_of!(SigContext, ss) == 150 && offset_of!(SigContext, err) == 152);
const _: () = assert!(offset_of!(SigContext, oldmask) == 168 && offset_of!(SigContext, cr2) == 176);
const _: () = assert!(offset_of!(SigContext, fpstate) == 184);
const _: () = assert!(offset_of!(SigContext, reserved1) == 192);
const _: () = assert!(size_of::<StackT>() == 24);
const _: () = assert!(size_of::<UContext>() == 304);
const _: () = assert!(offset_of!(UContext, uc_stack) == 16);
const _: () = assert!(offset_of!(UContext, uc_mcontext) == 40);
const _: () = assert!(offset_of!(UContext, uc_sigmask) == 296);
const _: () = assert!(size_of::<RtSigframe>() == 440);
const _: () = assert!(offset_of!(RtSigframe, uc) == 8 && offset_of!(RtSigframe, info) == 312);

// SAFETY: `#[repr(C)]` structs of integers only, whose sizes asserted
// above equal the sums of their fields: no padding, any bits valid.
unsafe impl Pod for RtSigframe {}

/// `uc_flags` (Linux: arch/x86/include/uapi/asm/ucontext.h).
pub const UC_FP_XSTATE: u64 = 0x1;
pub const UC_SIGCONTEXT_SS: u64 = 0x2;
pub const UC_STRICT_RESTORE_SS: u64 = 0x4;

const X86_EFLAGS_CF: u64 = 1 << 0;
const X86_EFLAGS_PF: u64 = 1 << 2;
const X86_EFLAGS_AF: u64 = 1 << 4;
const X86_EFLAGS_ZF: u64 = 1 << 6;
const X86_EFLAGS_SF: u64 = 1 << 7;
pub const X86_EFLAGS_TF: u64 = 1 << 8;
pub const X86_EFLAGS_DF: u64 = 1 << 10;
const X86_EFLAGS_OF: u64 = 1 << 11;
pub const X86_EFLAGS_RF: u64 = 1 << 16;
const X86_EFLAGS_AC: u64 = 1 << 18;
/// The flags user space may set through `rt_sigreturn`; IF, IOPL, VM, NT
/// and the rest stay as the kernel had them (Linux: `FIX_EFLAGS`).
pub const FIX_EFLAGS: u64 = X86_EFLAGS_AC
    | X86_EFLAGS_OF
    | X86_EFLAGS_DF
    | X86_EFLAGS_TF
    | X86_EFLAGS_SF
    | X86_EFLAGS_ZF
    | X86_EFLAGS_AF
    | X86_EFLAGS_PF
    | X86_EFLAGS_CF
    | X86_EFLAGS_RF;

/// The user's red zone: the ABI lets leaf functions use 128 bytes below RSP.
const RED_ZONE: u64 = 128;

/// Where the FPU state and the frame go below user stack pointer `sp`:
/// red zone, then the FPU state 64-aligned, then the frame placed so that
/// `(rsp + 8) % 16 == 0` at handler entry, as after a `call` (Linux:
/// `get_sigframe`, `fpu__alloc_mathframe`, `align_sigframe`). Returns
/// `(frame, fpstate)`; wrapped values fail `access_ok` later.
pub fn get_sigframe(sp: u64, fpstate_size: u64) -> (u64, u64) {
    alloc_sigframe(sp.wrapping_sub(RED_ZONE), fpstate_size)
}

/// [`get_sigframe`] below `top`, which has no red zone to skip: the top
/// of the alternate stack, or a user RSP already moved past its red zone.
pub fn alloc_sigframe(top: u64, fpstate_size: u64) -> (u64, u64) {
    let fpstate = top.wrapping_sub(fpstate_size) & !63;
    let frame = (fpstate.wrapping_sub(size_of::<RtSigframe>() as u64) & !15).wrapping_sub(8);
    (frame, fpstate)
}

/// Where the frame's stack starts for a thread at user RSP `sp`: below
/// the red zone, or at the top of the alternate stack when the action
/// has `SA_ONSTACK` and the thread is not on it already (Linux: the
/// first half of `get_sigframe`).
pub fn sigframe_top(sp: u64, onstack: bool, sas: &SigAltStack) -> u64 {
    let below_red_zone = sp.wrapping_sub(RED_ZONE);
    if onstack && sas.sas_ss_flags(below_red_zone) == 0 { sas.top() } else { below_red_zone }
}

impl StackT {
    /// The saved alternate stack, with the flags as the thread set them
    /// (Linux: `unsafe_save_altstack` stores `sas_ss_flags` raw).
    pub fn from_altstack(sas: &SigAltStack) -> StackT {
        #[expect(clippy::cast_possible_wrap, reason = "the C int holds the same bits")]
        let ss_flags = sas.flags as i32;
        StackT { ss_sp: sas.sp, ss_flags, pad: 0, ss_size: sas.size }
    }

    /// Back to the kernel's form for `restore_altstack`.
    pub fn to_altstack(self) -> SigAltStack {
        #[expect(clippy::cast_sign_loss, reason = "the C int holds the same bits")]
        let flags = self.ss_flags as u32;
        SigAltStack { sp: self.ss_sp, size: self.ss_size, flags }
    }
}

/// Copies the interrupted registers into a sigcontext (Linux:
/// `setup_sigcontext`).
pub fn setup_sigcontext(regs: &PtRegs, mask: SigSet, fpstate: u64) -> SigContext {
    SigContext {
        r8: regs.r8,
        r9: regs.r9,
        r10: regs.r10,
        r11: regs.r11,
        r12: regs.r12,
        r13: regs.r13,
        r14: regs.r14,
        r15: regs.r15,
        rdi: regs.rdi,
        rsi: regs.rsi,
        rbp: regs.rbp,
        rbx: regs.rbx,
        rdx: regs.rdx,
        rax: regs.rax,
        rcx: regs.rcx,
        rsp: regs.rsp,
        rip: regs.rip,
        eflags: regs.eflags,
        // Selectors are 16 bits; the frame's upper bits are the CPU's padding.
        cs: u16::try_from(regs.cs & 0xffff).unwrap_or(__USER_CS),
        gs: 0,
        fs: 0,
        ss: u16::try_from(regs.ss & 0xffff).unwrap_or(__USER_DS),
        err: 0,
        trapno: 0,
        oldmask: mask.bits(),
        cr2: 0,
        fpstate,
        reserved1: [0; 8],
    }
}

/// Why a frame was refused (Linux: `goto badframe` → SIGSEGV).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadFrame;

/// Puts the registers of `sc` back into `regs`, keeping user space out of
/// the kernel's privileges: only [`FIX_EFLAGS`] flags come from the frame,
/// CS and SS are the user selectors, and a RIP outside the user half is
/// refused rather than left to fault in `sysret`/`iretq` (Linux:
/// `restore_sigcontext`).
pub fn restore_sigcontext(regs: &mut PtRegs, sc: &SigContext) -> Result<(), BadFrame> {
    if sc.rip >= TASK_SIZE_MAX {
        return Err(BadFrame);
    }
    regs.r8 = sc.r8;
    regs.r9 = sc.r9;
    regs.r10 = sc.r10;
    regs.r11 = sc.r11;
    regs.r12 = sc.r12;
    regs.r13 = sc.r13;
    regs.r14 = sc.r14;
    regs.r15 = sc.r15;
    regs.rdi = sc.rdi;
    regs.rsi = sc.rsi;
    regs.rbp = sc.rbp;
    regs.rbx = sc.rbx;
    regs.rdx = sc.rdx;
    regs.rax = sc.rax;
    regs.rcx = sc.rcx;
    regs.rsp = sc.rsp;
    regs.rip = sc.rip;
    regs.eflags = (regs.eflags & !FIX_EFLAGS) | (sc.eflags & FIX_EFLAGS);
    regs.cs = u64::from(__USER_CS);
    regs.ss = u64::from(__USER_DS);
    // Not a syscall any more: no restart may rewind this RIP.
    regs.orig_rax = u64::MAX;
    Ok(())
}

crate::ktest!(sigframe_on_the_alternate_stack, {
    use crate::kernel::signal::altstack::SS_AUTODISARM;
    let sas = SigAltStack { sp: 0x10_0000, size: 0x1_0000, flags: 0 };
    let sp = 0x7fff_0000;
    crate::kassert!(sigframe_top(sp, true, &sas) == 0x11_0000, "SA_ONSTACK: from the top");
    crate::kassert!(sigframe_top(sp, false, &sas) == sp - RED_ZONE, "no SA_ONSTACK");
    crate::kassert!(sigframe_top(0x10_8000, true, &sas) == 0x10_8000 - RED_ZONE, "nested on it");
    crate::kassert!(sigframe_top(sp, true, &SigAltStack::DISABLED) == sp - RED_ZONE, "none set");
    let armed = SigAltStack { flags: SS_AUTODISARM, ..sas };
    crate::kassert!(sigframe_top(0x10_8000, true, &armed) == 0x11_0000, "autodisarm: the top");
    let saved = StackT::from_altstack(&armed);
    crate::kassert!(saved.ss_flags == i32::MIN && saved.to_altstack() == armed, "uc_stack");
    Ok(())
});

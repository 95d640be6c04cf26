//! The `syscall` instruction's way into the kernel and `sysret`/`iretq`'s
//! way back out.
//!
//! Linux: arch/x86/entry/entry_64.S (`entry_SYSCALL_64`,
//! `swapgs_restore_regs_and_return_to_usermode`, `ret_from_fork`),
//! arch/x86/entry/common.c (`do_syscall_64`), arch/x86/kernel/cpu/common.c
//! (`syscall_init`, `setup_smep`, `setup_smap`).
//!
//! The path of one system call:
//! 1. `syscall` (user): RCX = user RIP, R11 = user RFLAGS, CS/SS from
//!    `IA32_STAR`, RIP = `IA32_LSTAR`, RFLAGS &= ~`IA32_FMASK` (interrupts
//!    off). RSP is still the user's.
//! 2. `entry_SYSCALL_64`: `swapgs`; save the user RSP in the per-CPU
//!    scratch slot; load the task's kernel stack top from the per-CPU area
//!    (`PERCPU_TOP_OF_STACK`, kept current by the scheduler); push a
//!    [`PtRegs`] exactly as Linux (ss, rsp, r11 as flags, cs, rcx as ip,
//!    orig_rax = the number, then the general registers with rax = -ENOSYS).
//! 3. [`do_syscall_64`]: interrupts on, dispatch through the table
//!    (`kernel::syscall::x64_sys_call`), then [`syscall_exit_to_user_mode`]
//!    (need-resched, signals; interrupts off again). It answers whether the
//!    frame can go back with `sysretq`: RCX == RIP, R11 == RFLAGS, Linux's
//!    user selectors, RIP below `TASK_SIZE_MAX` (a non-canonical RCX makes
//!    `sysret` fault in ring 0 on Intel) and neither RF nor TF set.
//! 4. Back out: `sysretq` after restoring the registers and the user RSP,
//!    or `iretq` through `swapgs_restore_regs_and_return_to_usermode`.
//!
//! New tasks enter user mode through [`ret_to_user`]: with RSP at a
//! `PtRegs` it runs the exit-to-user work and `iretq`s (Linux:
//! `ret_from_fork` → `syscall_exit_to_user_mode` → the iret path).
//! [`return_to_user`] is the Rust way in: it puts a sanitised `PtRegs` at
//! the top of the current kernel stack and jumps there.
//!
//! 64-bit only: IA32 emulation is off, as Linux with `ia32_emulation=0`.
//! A `syscall` from compatibility mode lands on `entry_SYSCALL32_ignore`
//! (-ENOSYS), `sysenter` has no target (#GP), `int $0x80` has no user gate.
//!
//! # Locking
//! None: the entry code uses only this CPU's stack and per-CPU slots.

use core::arch::global_asm;

use x86_64::registers::control::{Cr4, Cr4Flags};
use x86_64::registers::model_specific::{Efer, EferFlags, Msr};

use super::cpu::{X86Feature, boot_cpu_has};
use super::entry::with_pt_regs_macros;
use super::gdt::{__KERNEL_CS, __USER_CS, __USER_DS, __USER32_CS};
use super::irqflags::{local_irq_disable, local_irq_enable};
use super::percpu::{PERCPU_TOP_OF_STACK, PERCPU_USER_RSP_SCRATCH, this_cpu};
use super::ptrace::{PT_REGS_SIZE, PtRegs};
use super::uaccess::TASK_SIZE_MAX;

const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_CSTAR: u32 = 0xc000_0083;
const MSR_SYSCALL_MASK: u32 = 0xc000_0084;
const MSR_IA32_SYSENTER_CS: u32 = 0x174;

/// RFLAGS bits (Linux: arch/x86/include/uapi/asm/processor-flags.h).
pub const X86_EFLAGS_FIXED: u64 = 1 << 1;
pub const X86_EFLAGS_TF: u64 = 1 << 8;
pub const X86_EFLAGS_IF: u64 = 1 << 9;
pub const X86_EFLAGS_DF: u64 = 1 << 10;
pub const X86_EFLAGS_IOPL: u64 = 3 << 12;
pub const X86_EFLAGS_NT: u64 = 1 << 14;
pub const X86_EFLAGS_RF: u64 = 1 << 16;
pub const X86_EFLAGS_AC: u64 = 1 << 18;
pub const X86_EFLAGS_ID: u64 = 1 << 21;
/// The arithmetic flags user code owns: CF PF AF ZF SF OF.
const X86_EFLAGS_ARITH: u64 = 0x8d5;

/// What `syscall` clears in RFLAGS (Linux's `MSR_SYSCALL_MASK` value).
const SYSCALL_MASK: u64 = X86_EFLAGS_ARITH
    | X86_EFLAGS_TF
    | X86_EFLAGS_IF
    | X86_EFLAGS_DF
    | X86_EFLAGS_IOPL
    | X86_EFLAGS_NT
    | X86_EFLAGS_RF
    | X86_EFLAGS_AC
    | X86_EFLAGS_ID;

/// RFLAGS a user program may set (Linux: `FLAG_MASK` in signal.c, less TF).
#[allow(dead_code, reason = "for return_to_user, which exec's start_thread uses next")]
const USER_EFLAGS_MASK: u64 = X86_EFLAGS_ARITH | X86_EFLAGS_DF | X86_EFLAGS_AC | X86_EFLAGS_ID;

const ENOSYS: i64 = linux_raw_sys::errno::ENOSYS as i64;

// The asm hard-codes the frame: 21 words, rcx at 11, r11 at 6.
const _: () = assert!(PT_REGS_SIZE == 21 * 8);

global_asm!(
    with_pt_regs_macros!(r#"
    .pushsection .text
    .balign 16
    .globl entry_SYSCALL_64
entry_SYSCALL_64:
    swapgs
    mov gs:[{scratch}], rsp
    mov rsp, gs:[{top}]
    push {user_ds}                          /* pt_regs->ss */
    push qword ptr gs:[{scratch}]           /* pt_regs->sp */
    push r11                                /* pt_regs->flags */
    push {user_cs}                          /* pt_regs->cs */
    push rcx                                /* pt_regs->ip */
    push rax                                /* pt_regs->orig_ax */
    PUSH_REGS rax={enosys}
    cld
    mov rdi, rsp                            /* arg 1: &mut PtRegs */
    movsxd rsi, eax                         /* arg 2: the number, as int */
    sub rsp, 8                              /* 16-byte alignment for Rust */
    call do_syscall_64
    add rsp, 8
    test al, al
    jz swapgs_restore_regs_and_return_to_usermode
    /* sysret: RCX and R11 in the frame equal RIP and RFLAGS (checked). */
    POP_REGS
    mov rsp, [rsp + 4 * 8]                  /* skip orig_ax ip cs flags: user sp */
    swapgs
    sysretq

    /* RSP at a user PtRegs: run the exit work, then iretq to it. */
    .balign 16
    .globl ret_to_user
ret_to_user:
    mov rdi, rsp
    sub rsp, 8
    call syscall_exit_to_user_mode
    add rsp, 8
    .globl swapgs_restore_regs_and_return_to_usermode
swapgs_restore_regs_and_return_to_usermode:
    POP_REGS
    add rsp, 8                              /* orig_ax */
    swapgs
    iretq

    /* A `syscall` from 32-bit code: no IA32 emulation (Linux:
       `entry_SYSCALL32_ignore` without CONFIG_IA32_EMULATION). */
    .balign 16
    .globl entry_SYSCALL32_ignore
entry_SYSCALL32_ignore:
    mov eax, {enosys}
    sysret

    /* Copies a PtRegs from RSI to the top of the stack RDX (backwards, as
       the source may lie just below) and enters it. */
    .balign 16
    .globl enter_user_frame
enter_user_frame:
    cli
    lea rdi, [rdx - 1]
    lea rsi, [rsi + {size} - 1]
    mov rcx, {size}
    std
    rep movsb
    cld
    lea rsp, [rdx - {size}]
    jmp ret_to_user
    .popsection
"#),
    scratch = const PERCPU_USER_RSP_SCRATCH,
    top = const PERCPU_TOP_OF_STACK,
    user_ds = const __USER_DS as u64,
    user_cs = const __USER_CS as u64,
    enosys = const -ENOSYS,
    size = const PT_REGS_SIZE,
);

unsafe extern "C" {
    fn entry_SYSCALL_64();
    fn entry_SYSCALL32_ignore();
    /// The iret path for a frame at RSP; not called, jumped to (see the
    /// module header). The scheduler's `ret_from_fork` ends with `jmp`.
    #[allow(dead_code, reason = "the scheduler's ret_from_fork jumps here next")]
    pub fn ret_to_user();
    fn enter_user_frame(unused: u64, regs: *const PtRegs, stack_top: u64) -> !;
}

/// Called from `entry_SYSCALL_64` with the frame it built; returns whether
/// `sysretq` may return it (Linux: `do_syscall_64`).
#[unsafe(no_mangle)]
extern "C" fn do_syscall_64(regs: &mut PtRegs, nr: i64) -> bool {
    // Linux: `syscall_enter_from_user_mode`.
    local_irq_enable();
    let ret = crate::kernel::syscall::x64_sys_call(regs, nr);
    regs.rax = ret as u64;
    syscall_exit_to_user_mode(regs);
    sysret_possible(regs)
}

/// Linux's conditions for `sysret` (the tail of `do_syscall_64`).
fn sysret_possible(regs: &PtRegs) -> bool {
    regs.rcx == regs.rip
        && regs.r11 == regs.eflags
        && regs.cs == u64::from(__USER_CS)
        && regs.ss == u64::from(__USER_DS)
        && regs.rip < TASK_SIZE_MAX
        && regs.eflags & (X86_EFLAGS_RF | X86_EFLAGS_TF) == 0
}

/// The last work before user mode, with interrupts off when it returns
/// (Linux: `syscall_exit_to_user_mode` → `exit_to_user_mode_prepare`).
#[unsafe(no_mangle)]
extern "C" fn syscall_exit_to_user_mode(regs: &mut PtRegs) {
    local_irq_disable();
    crate::kernel::syscall::exit_to_user_mode_loop(regs);
}

/// Enters user mode with `regs`, abandoning the current kernel stack
/// (Linux: `start_thread` + the tail of `ret_from_fork`). CS, SS and the
/// privileged RFLAGS bits are forced to a user's, so `regs` can only ever
/// name user mode.
///
/// # Safety
/// The current stack is this CPU's recorded kernel stack (`PerCpu`'s
/// `current_stack`, and `sp0` in the TSS) and nothing on it is needed
/// again: its frames are dropped without running destructors, so the
/// caller holds no lock, and the address space that `regs` points into
/// is the one loaded in CR3.
#[allow(dead_code, reason = "exec's start_thread and new user tasks use it next")]
pub unsafe fn return_to_user(regs: &PtRegs) -> ! {
    let mut frame = *regs;
    frame.cs = u64::from(__USER_CS);
    frame.ss = u64::from(__USER_DS);
    frame.eflags = (frame.eflags & USER_EFLAGS_MASK) | X86_EFLAGS_IF | X86_EFLAGS_FIXED;
    let (_, top) = this_cpu().current_stack();
    // SAFETY: the caller gives up the stack (see `# Safety`); the copy goes
    // to the top `PT_REGS_SIZE` bytes of it, and the sanitised frame can
    // only return to ring 3.
    unsafe { enter_user_frame(0, &raw const frame, top) }
}

/// Programs the `syscall` MSRs and turns on SMEP/SMAP on this CPU (Linux:
/// `syscall_init`, `setup_smep`, `setup_smap`). Call once per CPU, after
/// `trap_init` (the GDT and per-CPU area) and `early_cpu_init`.
pub fn syscall_init() {
    let star = (u64::from(__USER32_CS) << 48) | (u64::from(__KERNEL_CS) << 32);
    // SAFETY: STAR names Linux's GDT layout (gdt.rs): `syscall` loads
    // __KERNEL_CS/__KERNEL_DS, `sysretq` __USER_CS/__USER_DS.
    unsafe { Msr::new(MSR_STAR).write(star) };
    // SAFETY: LSTAR is the 64-bit entry, which builds a frame on the
    // per-CPU kernel stack before touching anything else.
    unsafe { Msr::new(MSR_LSTAR).write(entry_SYSCALL_64 as *const () as u64) };
    // SAFETY: CSTAR's target only loads -ENOSYS and returns.
    unsafe { Msr::new(MSR_CSTAR).write(entry_SYSCALL32_ignore as *const () as u64) };
    // SAFETY: a null SYSENTER_CS makes `sysenter` fault (#GP): no entry.
    unsafe { Msr::new(MSR_IA32_SYSENTER_CS).write(0) };
    // SAFETY: the mask clears IF (no interrupt before the stack switch),
    // DF (the ABI's direction), AC (SMAP on) and TF (no single step).
    unsafe { Msr::new(MSR_SYSCALL_MASK).write(SYSCALL_MASK) };
    // SAFETY: SCE enables `syscall`, whose MSRs are now set.
    unsafe { Efer::update(|f| f.insert(EferFlags::SYSTEM_CALL_EXTENSIONS)) };
    setup_smep_smap();
}

/// SMEP: the kernel never runs user pages; SMAP: it never touches them
/// outside `stac`/`clac` (uaccess.rs).
fn setup_smep_smap() {
    let mut flags = Cr4Flags::empty();
    if boot_cpu_has(X86Feature::SMEP) {
        flags |= Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION;
    }
    if boot_cpu_has(X86Feature::SMAP) {
        flags |= Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION;
    }
    // SAFETY: the kernel executes only kernel pages and reaches user pages
    // only through uaccess.rs, which brackets each access with stac/clac.
    unsafe { Cr4::update(|f| f.insert(flags)) };
    let smap = flags.contains(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION);
    super::uaccess::SMAP_ENABLED.store(smap, core::sync::atomic::Ordering::Relaxed);
    if this_cpu().cpu() == 0 {
        let on = |f| if flags.contains(f) { "on" } else { "off" };
        crate::pr_info!(
            "x86/cpu: SMEP {}, SMAP {}",
            on(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION),
            on(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION),
        );
    }
}

/// Whether the `syscall` MSRs point at our entry (for the self-test).
fn lstar_is_ours() -> bool {
    // SAFETY: reading an MSR that exists on every x86_64 CPU.
    let lstar = unsafe { Msr::new(MSR_LSTAR).read() };
    lstar == entry_SYSCALL_64 as *const () as u64
}

crate::ktest!(syscall_msrs, {
    crate::kassert!(lstar_is_ours(), "LSTAR is entry_SYSCALL_64");
    crate::kassert!(Efer::read().contains(EferFlags::SYSTEM_CALL_EXTENSIONS), "EFER.SCE");
    // STAR's user base 0x23: sysretq loads CS = base + 16, SS = base + 8.
    crate::kassert!(__USER32_CS + 16 == __USER_CS && __USER32_CS + 8 == __USER_DS, "STAR");
    Ok(())
});

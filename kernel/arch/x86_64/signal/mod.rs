//! Signal delivery on x86_64: syscall restart, building the handler's
//! frame on the user stack, and `rt_sigreturn`.
//!
//! Linux: arch/x86/kernel/signal.c (`arch_do_signal_or_restart`,
//! `handle_signal`), arch/x86/kernel/signal_64.c (`x64_setup_rt_frame`,
//! `SYSCALL_DEFINE0(rt_sigreturn)`).
//!
//! On the way back to user mode with a signal pending, the generic
//! `get_signal` picks one; if it has a handler, an interrupted syscall is
//! either restarted (`SA_RESTART`, `-ERESTARTNOINTR`) or fails with `EINTR`,
//! then the `rt_sigframe` goes below the red zone (or, for `SA_ONSTACK`, at
//! the top of the alternate stack, which `uc_stack` records and
//! `rt_sigreturn` restores) and the registers are set
//! so the `iretq` lands in the handler:
//! `rdi` = signo, `rsi` = &info, `rdx` = &uc, `rax` = 0, `rsp` = frame.
//! The handler returns into `sa_restorer`, which calls `rt_sigreturn`.
//!
//! The syscall return path must leave through `iretq` after `rt_sigreturn`
//! (and after a frame is built): RCX and R11 hold user values, not the
//! `sysret` pair (Linux checks this in `do_syscall_64`).
//!
//! # Locking
//! No lock is held here; the generic code takes the signal locks briefly.

pub mod fpu;
pub mod sigframe;

use linux_raw_sys::general::__NR_restart_syscall;

use self::fpu::{copy_fpstate_to_sigframe, fp_format, fpstate_sigframe_size};
use self::sigframe::{BadFrame, RtSigframe, UContext, get_sigframe, restore_sigcontext};
use self::sigframe::{StackT, UC_FP_XSTATE, UC_SIGCONTEXT_SS, UC_STRICT_RESTORE_SS};
use self::sigframe::{X86_EFLAGS_DF, X86_EFLAGS_RF, X86_EFLAGS_TF, setup_sigcontext};
use self::sigframe::{alloc_sigframe, sigframe_top};
use super::gdt::{__USER_CS, __USER_DS};
use super::ptrace::PtRegs;
use super::uaccess::{Efault, UserAddr, get_user, put_user};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::signal::altstack::{
    SigAltStack, current_altstack, disarm_after_delivery, restore_altstack,
};
use crate::kernel::signal::deliver::{
    restore_saved_sigmask, set_current_blocked, sigmask_to_save, signal_delivered,
};
use crate::kernel::signal::{KSigAction, KSignal, SaFlags, SigSet, SigTask, Signal};
use crate::kernel::signal::{force_sig, get_signal};

/// What a syscall's return value says about restarting it.
fn restart_code(regs: &PtRegs) -> Option<Errno> {
    // Linux: `syscall_get_nr(regs) >= 0`; non-syscall entries set -1.
    if (regs.orig_rax as i64) < 0 {
        return None;
    }
    [Errno::ERESTARTSYS, Errno::ERESTARTNOINTR, Errno::ERESTARTNOHAND, Errno::ERESTART_RESTARTBLOCK]
        .into_iter()
        .find(|&e| regs.rax as i64 == -(e as i64))
}

/// Rewinds to the `syscall` instruction (2 bytes) with the number back in RAX.
fn restart_syscall(regs: &mut PtRegs, nr: u64) {
    regs.rax = nr;
    regs.rip = regs.rip.wrapping_sub(2);
}

fn set_eintr(regs: &mut PtRegs) {
    regs.rax = (-(Errno::EINTR as i64)) as u64;
}

/// Delivers a pending signal or restarts the interrupted syscall (Linux:
/// `arch_do_signal_or_restart`). Called by `exit_to_user_mode_loop`.
pub fn arch_do_signal_or_restart<T: SigTask>(regs: &mut PtRegs) {
    if let Some(ksig) = get_signal::<T>() {
        handle_signal::<T>(&ksig, regs);
        return;
    }
    match restart_code(regs) {
        Some(Errno::ERESTART_RESTARTBLOCK) => {
            restart_syscall(regs, u64::from(__NR_restart_syscall));
        }
        Some(_) => restart_syscall(regs, regs.orig_rax),
        None => {}
    }
    restore_saved_sigmask(T::current().as_ref());
}

/// Settles the interrupted syscall, builds the frame and blocks what the
/// action says; a frame that cannot be written is SIGSEGV (Linux:
/// `handle_signal`, `signal_setup_done`).
fn handle_signal<T: SigTask>(ksig: &KSignal, regs: &mut PtRegs) {
    syscall_restart_for_handler(regs, &ksig.ka);
    let cur = T::current();
    let oldset = sigmask_to_save(cur.as_ref());
    let sas = current_altstack(cur.as_ref());
    if setup_rt_frame(ksig, oldset, regs, &sas).is_err() {
        cur.thread_signal().lock().saved_sigmask.get_or_insert(oldset);
        force_sigsegv::<T>(ksig.info.signo);
        return;
    }
    // The handler starts with a clean direction flag, and without a
    // single-step trap or resume flag carried over (Linux: `handle_signal`).
    regs.eflags &= !(X86_EFLAGS_DF | X86_EFLAGS_RF | X86_EFLAGS_TF);
    signal_delivered(cur.as_ref(), ksig);
    disarm_after_delivery(cur.as_ref());
}

/// A syscall interrupted by a signal with a handler: restart it or fail it
/// with `EINTR`, by its restart code and `SA_RESTART`.
fn syscall_restart_for_handler(regs: &mut PtRegs, ka: &KSigAction) {
    match restart_code(regs) {
        Some(Errno::ERESTART_RESTARTBLOCK | Errno::ERESTARTNOHAND) => set_eintr(regs),
        Some(Errno::ERESTARTSYS) if !ka.flags.contains(SaFlags::RESTART) => set_eintr(regs),
        Some(_) => restart_syscall(regs, regs.orig_rax),
        None => {}
    }
}

/// SIGSEGV when a handler cannot be entered; if SIGSEGV's own handler
/// failed, it falls back to the default so the task dies (Linux:
/// `force_sigsegv`).
fn force_sigsegv<T: SigTask>(sig: Signal) {
    if sig == Signal::SIGSEGV {
        T::current().sighand().update(sig, |a| *a = KSigAction::DEFAULT);
    }
    force_sig::<T>(Signal::SIGSEGV);
}

/// The frame image for `ksig` at user address `frame` (Linux: the body of
/// `x64_setup_rt_frame`). Separate from the copy so it can be tested.
pub fn build_rt_frame(
    ksig: &KSignal,
    oldset: SigSet,
    regs: &PtRegs,
    sas: &SigAltStack,
    (fpstate, xstate): (u64, bool),
) -> RtSigframe {
    let mut uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
    if xstate {
        uc_flags |= UC_FP_XSTATE;
    }
    let info =
        if ksig.ka.flags.contains(SaFlags::SIGINFO) { ksig.info.to_bytes() } else { [0; 128] };
    RtSigframe {
        pretcode: ksig.ka.restorer,
        uc: UContext {
            uc_flags,
            uc_link: 0,
            uc_stack: StackT::from_altstack(sas),
            uc_mcontext: setup_sigcontext(regs, oldset, fpstate),
            uc_sigmask: oldset.bits(),
        },
        info,
    }
}

/// Points `regs` at the handler with its three arguments.
pub fn enter_handler(regs: &mut PtRegs, ksig: &KSignal, frame: u64) {
    regs.rdi = u64::from(ksig.info.signo.number());
    regs.rsi = frame + core::mem::offset_of!(RtSigframe, info) as u64;
    regs.rdx = frame + core::mem::offset_of!(RtSigframe, uc) as u64;
    regs.rax = 0;
    regs.rip = ksig.ka.handler;
    regs.rsp = frame;
    regs.cs = u64::from(__USER_CS);
    regs.ss = u64::from(__USER_DS);
}

/// Writes the FPU state and the frame below the user stack (or on the
/// alternate stack `sas`) and points `regs` at the handler (Linux:
/// `x64_setup_rt_frame`). x86_64 has no trampoline on the stack: without
/// `SA_RESTORER` there is nowhere to return to, and Linux refuses with
/// `EFAULT`, i.e. SIGSEGV.
fn setup_rt_frame(
    ksig: &KSignal,
    oldset: SigSet,
    regs: &mut PtRegs,
    sas: &SigAltStack,
) -> Result<(), Efault> {
    if !ksig.ka.flags.contains(SaFlags::RESTORER) {
        return Err(Efault);
    }
    let format = fp_format();
    let onstack = ksig.ka.flags.contains(SaFlags::ONSTACK);
    let top = sigframe_top(regs.rsp, onstack, sas);
    let (frame, fpstate) = alloc_sigframe(top, fpstate_sigframe_size(format) as u64);
    // A handler already on the alternate stack that would overflow it
    // dies with SIGSEGV rather than write below it (Linux: the bogus -1L).
    if sas.on_sig_stack(regs.rsp) && !sas.on_sig_stack(frame) {
        return Err(Efault);
    }
    let xstate = copy_fpstate_to_sigframe(UserAddr::new(fpstate), format)?;
    let image = build_rt_frame(ksig, oldset, regs, sas, (fpstate, xstate));
    put_frame(UserAddr::new(frame), &image)?;
    enter_handler(regs, ksig, frame);
    Ok(())
}

fn put_frame(at: UserAddr, frame: &RtSigframe) -> Result<(), Efault> {
    put_user(at, frame)
}

/// rt_sigreturn(2): back from a handler to the interrupted context, whose
/// RAX this returns so the syscall exit leaves it in place. A frame that
/// cannot be read or is refused is SIGSEGV (Linux: `badframe`).
pub fn sys_rt_sigreturn<T: SigTask>(regs: &mut PtRegs) -> KResult<i64> {
    match restore_rt_frame::<T>(regs) {
        Ok(()) => Ok(regs.rax as i64),
        Err(BadFrame) => {
            force_sig::<T>(Signal::SIGSEGV);
            Ok(0)
        }
    }
}

fn restore_rt_frame<T: SigTask>(regs: &mut PtRegs) -> Result<(), BadFrame> {
    let (frame, restored) = read_rt_frame(regs)?;
    let cur = T::current();
    set_current_blocked(cur.as_ref(), SigSet::from_bits(frame.uc.uc_sigmask));
    *regs = restored;
    restore_altstack(cur.as_ref(), frame.uc.uc_stack.to_altstack(), regs.rsp);
    let fpstate = UserAddr::new(frame.uc.uc_mcontext.fpstate);
    self::fpu::restore_fpstate_from_sigframe(fpstate, fp_format()).map_err(|_| BadFrame)
}

/// Reads the frame the handler returned from and the registers it
/// restores; nothing changes until all of it is accepted.
fn read_rt_frame(regs: &PtRegs) -> Result<(RtSigframe, PtRegs), BadFrame> {
    // The handler's `ret` popped `pretcode`.
    let at = UserAddr::new(regs.rsp.wrapping_sub(8));
    let frame: RtSigframe = get_user(at).map_err(|_| BadFrame)?;
    let mut restored = *regs;
    restore_sigcontext(&mut restored, &frame.uc.uc_mcontext)?;
    Ok((frame, restored))
}

crate::ktest!(rt_sigframe_round_trip, {
    use crate::kernel::signal::{SigInfo, si_code};
    let regs = PtRegs {
        r15: 15,
        r14: 14,
        r13: 13,
        r12: 12,
        rbp: 0x7ff0,
        rbx: 3,
        r11: 0x202,
        r10: 10,
        r9: 9,
        r8: 8,
        rax: (-(Errno::ERESTARTSYS as i64)) as u64,
        rcx: 0x40_1002,
        rdx: 2,
        rsi: 1,
        rdi: 7,
        orig_rax: 61,
        rip: 0x40_1002,
        cs: u64::from(__USER_CS),
        eflags: 0x246,
        rsp: 0x7fff_f000_1238,
        ss: u64::from(__USER_DS),
    };
    let ka = KSigAction {
        handler: 0x40_2000,
        flags: SaFlags::SIGINFO | SaFlags::RESTORER | SaFlags::RESTART,
        restorer: 0x40_3000,
        mask: SigSet::EMPTY,
    };
    let info = SigInfo::fault(Signal::SIGSEGV, si_code::SEGV_MAPERR, 0xdead);
    let ksig = KSignal { info, ka };
    let old = SigSet::of(Signal::SIGUSR2);
    let (frame, fp) = get_sigframe(regs.rsp, 836);
    crate::kassert!(frame % 16 == 8, "(rsp + 8) % 16 == 0 at handler entry");
    crate::kassert!(fp % 64 == 0 && fp + 836 <= regs.rsp - 128, "fpstate below the red zone");
    crate::kassert!(frame + size_of::<RtSigframe>() as u64 <= fp, "frame below fpstate");
    let image = build_rt_frame(&ksig, old, &regs, &SigAltStack::DISABLED, (fp, true));
    crate::kassert!(image.pretcode == 0x40_3000, "pretcode is sa_restorer");
    crate::kassert!(image.uc.uc_flags == 7, "UC_FP_XSTATE|UC_SIGCONTEXT_SS|UC_STRICT_RESTORE_SS");
    crate::kassert!(
        image.uc.uc_sigmask == old.bits() && image.uc.uc_mcontext.oldmask == old.bits(),
        "mask"
    );
    crate::kassert!(image.info[0] == 11 && image.info[16] == 0xad, "siginfo");
    crate::kassert!(image.uc.uc_mcontext.fpstate == fp, "fpstate pointer");
    let mut entered = regs;
    enter_handler(&mut entered, &ksig, frame);
    crate::kassert!(
        entered.rdi == 11 && entered.rsi == frame + 312 && entered.rdx == frame + 8,
        "args"
    );
    crate::kassert!(entered.rip == 0x40_2000 && entered.rsp == frame && entered.rax == 0, "entry");
    let mut back = entered;
    restore_sigcontext(&mut back, &image.uc.uc_mcontext).map_err(|_| "frame refused")?;
    crate::kassert!(
        back.rip == regs.rip && back.rsp == regs.rsp && back.rax == regs.rax,
        "regs back"
    );
    crate::kassert!(
        back.r15 == 15 && back.rdi == 7 && back.rcx == regs.rcx && back.r11 == 0x202,
        "gprs"
    );
    crate::kassert!(back.eflags == regs.eflags && back.orig_rax == u64::MAX, "flags, no restart");
    // A forged frame: IOPL 3, IF off, kernel CS and SS, kernel RIP.
    let mut forged = image.uc.uc_mcontext;
    forged.eflags = 0x3000 | 0x4_0000 | 0x1;
    forged.cs = 0x08;
    forged.ss = 0x10;
    let mut after = entered;
    restore_sigcontext(&mut after, &forged).map_err(|_| "forged flags refused")?;
    crate::kassert!(after.eflags & 0x3000 == 0 && after.eflags & 0x200 != 0, "IOPL/IF kept");
    crate::kassert!(after.eflags & 0x4_0001 == 0x4_0001, "AC and CF are the user's");
    crate::kassert!(
        after.cs == u64::from(__USER_CS) && after.ss == u64::from(__USER_DS),
        "selectors"
    );
    forged.rip = 0xffff_8000_0000_0000;
    crate::kassert!(restore_sigcontext(&mut after, &forged) == Err(BadFrame), "kernel RIP refused");
    Ok(())
});

crate::ktest!(rt_sigframe_restart_rules, {
    let ka = KSigAction { flags: SaFlags::RESTORER, ..KSigAction::DEFAULT };
    let mut regs = PtRegs { orig_rax: 0, rip: 0x1002, ..PtRegs::default() };
    for (err, flags, restarted) in [
        (Errno::ERESTARTSYS, SaFlags::RESTART, true),
        (Errno::ERESTARTSYS, SaFlags::empty(), false),
        (Errno::ERESTARTNOINTR, SaFlags::empty(), true),
        (Errno::ERESTARTNOHAND, SaFlags::RESTART, false),
        (Errno::ERESTART_RESTARTBLOCK, SaFlags::RESTART, false),
    ] {
        regs.rax = (-(err as i64)) as u64;
        regs.rip = 0x1002;
        syscall_restart_for_handler(&mut regs, &KSigAction { flags: ka.flags | flags, ..ka });
        let eintr = regs.rax == (-(Errno::EINTR as i64)) as u64;
        crate::kassert!(restarted == (regs.rip == 0x1000 && regs.rax == 0), "restart");
        crate::kassert!(restarted != eintr, "or EINTR");
    }
    regs.orig_rax = u64::MAX; // not a syscall: -512 in RAX is just data
    regs.rax = (-(Errno::ERESTARTSYS as i64)) as u64;
    syscall_restart_for_handler(&mut regs, &ka);
    crate::kassert!(regs.rax == (-(Errno::ERESTARTSYS as i64)) as u64, "left alone");
    Ok(())
});

crate::ktest!(rt_sigframe_on_a_user_stack, {
    use super::uaccess::with_scratch_user_page;
    use crate::kernel::signal::SigInfo;
    use x86_64::registers::control::{Cr4, Cr4Flags};
    let outcome = with_scratch_user_page(|page| -> Result<(), &'static str> {
        let top = page.as_u64() + crate::mm::addr::PAGE_SIZE as u64;
        let regs = PtRegs {
            rsp: top - 16,
            rip: 0x40_1000,
            rax: 42,
            r12: 12,
            eflags: 0x202,
            ..PtRegs::default()
        };
        let ka = KSigAction {
            handler: 0x40_2000,
            flags: SaFlags::RESTORER,
            restorer: 0x40_3000,
            mask: SigSet::EMPTY,
        };
        let ksig = KSignal { info: SigInfo::kernel(Signal::SIGUSR1), ka };
        let set = 0x1234_5678_9abc_def0u64;
        let none = SigAltStack::DISABLED;
        // SSE runs only once `fpu__init_system` has set CR4.OSFXSR.
        let sse = Cr4::read().contains(Cr4Flags::OSFXSR);
        if sse {
            // SAFETY: writes XMM0, user state only; interrupts are off here.
            unsafe { core::arch::asm!("movq xmm0, {}", in(reg) set, options(nomem, nostack)) };
        }
        let mut entered = regs;
        setup_rt_frame(&ksig, SigSet::of(Signal::SIGUSR2), &mut entered, &none)
            .map_err(|_| "setup")?;
        crate::kassert!(entered.rsp >= page.as_u64() && entered.rsp % 16 == 8, "frame on the page");
        if sse {
            // SAFETY: as above.
            unsafe { core::arch::asm!("pxor xmm0, xmm0", options(nomem, nostack)) };
        }
        // The handler's `ret` to the restorer pops pretcode.
        entered.rsp += 8;
        let (frame, restored) = read_rt_frame(&entered).map_err(|_| "read")?;
        crate::kassert!(frame.pretcode == 0x40_3000, "pretcode");
        crate::kassert!(frame.uc.uc_sigmask == SigSet::of(Signal::SIGUSR2).bits(), "saved mask");
        crate::kassert!(restored.rip == regs.rip && restored.rsp == regs.rsp, "rip, rsp");
        crate::kassert!(restored.rax == 42 && restored.r12 == 12, "gprs");
        let fpstate = UserAddr::new(frame.uc.uc_mcontext.fpstate);
        self::fpu::restore_fpstate_from_sigframe(fpstate, fp_format()).map_err(|_| "fpu")?;
        if sse {
            let got: u64;
            // SAFETY: reads XMM0.
            unsafe { core::arch::asm!("movq {}, xmm0", out(reg) got, options(nomem, nostack)) };
            crate::kassert!(got == set, "XMM0 comes back from the frame");
        }
        let no_restorer = KSignal { ka: KSigAction { flags: SaFlags::empty(), ..ka }, ..ksig };
        let mut r = regs;
        crate::kassert!(
            setup_rt_frame(&no_restorer, SigSet::EMPTY, &mut r, &none).is_err(),
            "SA_RESTORER"
        );
        let mut r = PtRegs { rsp: 0x100, ..regs };
        crate::kassert!(setup_rt_frame(&ksig, SigSet::EMPTY, &mut r, &none).is_err(), "bad stack");
        Ok(())
    });
    outcome?
});

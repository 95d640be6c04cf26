//! A user process's registers at its birth, and `arch_prctl`.
//!
//! Linux: arch/x86/kernel/process_64.c (`start_thread`,
//! `start_thread_common`, `do_arch_prctl_64`), arch/x86/include/asm/
//! processor.h (`task_pt_regs`), arch/x86/include/uapi/asm/prctl.h.
//!
//! Every task with a kernel stack keeps its user registers in a `PtRegs`
//! at the top of that stack: the syscall entry pushes it there, and
//! `copy_thread` puts one there for a new task. A kernel thread that execs
//! (PID 1's `kernel_execve`) fills its own and then returns from its thread
//! function, so that `ret_from_fork` enters user mode with it, as Linux.
//!
//! # Locking
//! None: only the running task's own registers and MSRs, with interrupts
//! off where a switch could interleave.

use core::sync::atomic::Ordering;

use x86_64::registers::model_specific::Msr;

use super::gdt::{__USER_CS, __USER_DS};
use super::irqflags::{local_irq_restore, local_irq_save};
use super::ptrace::{PT_REGS_SIZE, PtRegs};
use super::switch_to::{save_fsgs_current, write_fsbase_current};
use super::syscall::{X86_EFLAGS_FIXED, X86_EFLAGS_IF};
use super::uaccess::{TASK_SIZE_MAX, UserAddr, put_user};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::current;

const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;

/// Linux: `ARCH_SET_GS`, `ARCH_SET_FS`, `ARCH_GET_FS`, `ARCH_GET_GS`.
pub const ARCH_SET_GS: u32 = 0x1001;
pub const ARCH_SET_FS: u32 = 0x1002;
pub const ARCH_GET_FS: u32 = 0x1003;
pub const ARCH_GET_GS: u32 = 0x1004;

/// Sets up `regs` to enter a new program at `new_ip` with stack `new_sp`
/// (Linux: `start_thread` + `ELF_PLAT_INIT`): every general register 0,
/// user CS/SS, interrupts on. The FS and GS bases are cleared too.
pub fn start_thread(regs: &mut PtRegs, new_ip: u64, new_sp: u64) {
    let orig_rax = regs.orig_rax;
    *regs = PtRegs {
        orig_rax,
        rip: new_ip,
        cs: u64::from(__USER_CS),
        eflags: X86_EFLAGS_IF | X86_EFLAGS_FIXED,
        rsp: new_sp,
        ss: u64::from(__USER_DS),
        ..PtRegs::default()
    };
    let tsk = current();
    write_fsbase_current(&tsk.thread, 0);
    write_gsbase_current(0);
    tsk.thread.gsbase.store(0, Ordering::Relaxed);
}

/// Replaces the user registers saved at the top of the current task's
/// kernel stack (Linux: `*current_pt_regs() = …`), for a kernel thread
/// that execs: `ret_from_fork` returns to user mode with them.
#[expect(clippy::cast_possible_truncation, reason = "usize is 64 bits on x86_64")]
pub fn set_current_pt_regs(regs: &PtRegs) {
    let tsk = current();
    let (bottom, top) = tsk.thread.stack();
    let addr = top - PT_REGS_SIZE as u64;
    if tsk.is_idle() || addr < bottom {
        return; // a boot stack has no frame to return through
    }
    // SAFETY: `copy_thread` reserved `[top - PT_REGS_SIZE, top)` of this
    // task's own stack for its `PtRegs`, below which all frames live; the
    // task runs, so nobody else reads it now, and the address is aligned.
    unsafe { core::ptr::with_exposed_provenance_mut::<PtRegs>(addr as usize).write(*regs) };
}

/// The user GS base lives in `KERNEL_GS_BASE` while in the kernel.
fn write_gsbase_current(base: u64) {
    // SAFETY: KERNEL_GS_BASE holds only the user's GS base, which `swapgs`
    // loads on the way out; the kernel's own GS is untouched.
    unsafe { Msr::new(MSR_KERNEL_GS_BASE).write(base) };
}

/// arch_prctl(2) (Linux: `do_arch_prctl_64`).
pub fn sys_arch_prctl(option: u32, arg2: u64) -> KResult<()> {
    let tsk = current();
    match option {
        ARCH_SET_FS | ARCH_SET_GS if arg2 >= TASK_SIZE_MAX => Err(Errno::EPERM),
        ARCH_SET_FS => {
            write_fsbase_current(&tsk.thread, arg2);
            Ok(())
        }
        ARCH_SET_GS => {
            let flags = local_irq_save();
            tsk.thread.gsbase.store(arg2, Ordering::Relaxed);
            write_gsbase_current(arg2);
            local_irq_restore(flags);
            Ok(())
        }
        ARCH_GET_FS | ARCH_GET_GS => {
            let flags = local_irq_save();
            save_fsgs_current(&tsk.thread);
            local_irq_restore(flags);
            let base = if option == ARCH_GET_FS { &tsk.thread.fsbase } else { &tsk.thread.gsbase };
            put_user(UserAddr::new(arg2), &base.load(Ordering::Relaxed)).map_err(|_| Errno::EFAULT)
        }
        _ => Err(Errno::EINVAL),
    }
}

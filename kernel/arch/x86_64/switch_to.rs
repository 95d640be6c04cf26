//! The context switch: from one task's kernel stack to another's, and the
//! first steps of a new task.
//!
//! Linux: arch/x86/entry/entry_64.S (`__switch_to_asm`, `ret_from_fork`),
//! arch/x86/kernel/process_64.c (`__switch_to`, `save_fsgs`,
//! `x86_fsbase_write_task`), arch/x86/kernel/process.c (`copy_thread`,
//! `ret_from_fork`), arch/x86/include/asm/switch_to.h
//! (`struct inactive_task_frame`), arch/x86/include/asm/processor.h
//! (`struct thread_struct`).
//!
//! A task that is not running is described by [`ThreadStruct::sp`]: its
//! kernel stack pointer, which points at an `InactiveTaskFrame` (the
//! callee-saved registers and a return address). `__switch_to_asm` pushes
//! one for `prev`, stores RSP, loads `next`'s RSP and pops `next`'s frame;
//! its `ret` resumes `next` where it once called `__switch_to_asm`, or, for
//! a new task, in `ret_from_fork_asm`, because [`ThreadStruct::copy_thread`]
//! built such a frame at the top of the new stack, below a `PtRegs`.
//!
//! Everything else a switch changes is done by [`__switch_to`] first: the
//! user FPU state and FS/GS bases (skipped for kernel threads, which have
//! none), `sp0` in the TSS for entries from ring 3, the per-CPU stack
//! bounds (which the syscall entry and the overflow check read) and the
//! per-CPU `current`.
//!
//! Ownership: [`switch_to`] takes a strong reference to `next` and moves
//! it into the per-CPU `current`; the reference `current` held on `prev`
//! moves into this CPU's `LAST_TASK` slot, which the scheduler empties
//! with [`take_last_task`] once it runs on `next`'s stack (Linux:
//! `finish_task_switch` dropping a dead task). So a dead task's stack is
//! freed by the next task, never under the feet of the dying one.
//!
//! # Locking
//! Called with interrupts off and no spinlock held (the run-queue lock is
//! dropped before the switch; see sched/core.rs). `LAST_TASK[cpu]` is
//! written and read only by its CPU.

use alloc::sync::Arc;
use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use x86_64::registers::control::{Cr4, Cr4Flags};
use x86_64::registers::model_specific::Msr;

use super::fpu::Fpu;
use super::irqflags::local_irq_save;
use super::percpu::{NR_CPUS, this_cpu};
use super::ptrace::{PT_REGS_SIZE, PtRegs};
use crate::kernel::sched::Task;
use crate::mm::kstack::KernelStack;

const MSR_FS_BASE: u32 = 0xc000_0100;
const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;

/// What `__switch_to_asm` leaves on a sleeping task's stack (Linux:
/// `struct inactive_task_frame`), lowest address first.
#[repr(C)]
struct InactiveTaskFrame {
    r15: u64,
    r14: u64,
    r13: u64,
    r12: u64,
    rbx: u64,
    rbp: u64,
    ret_addr: u64,
}

global_asm!(
    r#"
    .pushsection .text
    /* rdi: &prev->thread.sp, rsi: next->thread.sp */
    .balign 16
    .globl __switch_to_asm
__switch_to_asm:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    mov rsp, rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret

    /* A new task's first instructions; RSP points at its PtRegs. */
    .balign 16
    .globl ret_from_fork_asm
ret_from_fork_asm:
    xor ebp, ebp                  /* the end of every backtrace */
    mov rdi, rsp
    sub rsp, 8                    /* 16-byte alignment for Rust */
    call ret_from_fork
    add rsp, 8
    jmp ret_to_user
    .popsection
"#
);

unsafe extern "C" {
    fn __switch_to_asm(prev_sp: *mut u64, next_sp: u64);
    fn ret_from_fork_asm();
}

/// The architecture's part of a task (Linux: `struct thread_struct`, plus
/// the stack Linux keeps in `task_struct`).
pub struct ThreadStruct {
    /// The saved kernel RSP while switched out (Linux: `thread.sp`).
    sp: AtomicU64,
    /// User FS base (TLS) and GS base (Linux: `fsbase`, `gsbase`).
    pub fsbase: AtomicU64,
    pub gsbase: AtomicU64,
    /// `[bottom, top)` of the kernel stack.
    stack_bottom: u64,
    stack_top: u64,
    /// The stack itself; `None` for a CPU's boot stack (the idle task).
    _stack: Option<KernelStack>,
    pub fpu: Fpu,
}

impl ThreadStruct {
    /// The thread of the code running now on this CPU's boot stack, which
    /// becomes its idle task (Linux: `init_task.thread`).
    pub fn for_boot_stack() -> Self {
        let (bottom, top) = this_cpu().current_stack();
        Self::new(bottom, top, None)
    }

    fn new(stack_bottom: u64, stack_top: u64, stack: Option<KernelStack>) -> Self {
        Self {
            sp: AtomicU64::new(0),
            fsbase: AtomicU64::new(0),
            gsbase: AtomicU64::new(0),
            stack_bottom,
            stack_top,
            _stack: stack,
            fpu: Fpu::new(),
        }
    }

    /// A new task's thread on `stack` (Linux: `copy_thread`): the stack's
    /// top holds a `PtRegs` and below it a frame whose return address is
    /// `ret_from_fork_asm`. With `user_regs` (a fork from a system call)
    /// the child returns to user mode with the parent's registers, RAX = 0
    /// (fork's result in the child), RSP = `user_sp` if non-zero and FS
    /// base = `tls` if given; it also gets the parent's FPU state and GS
    /// base. Without (a kernel thread) the `PtRegs` is zeroed and unused.
    #[expect(clippy::cast_possible_truncation, reason = "usize is 64 bits on x86_64")]
    pub fn copy_thread(
        stack: KernelStack,
        user_regs: Option<&PtRegs>,
        user_sp: u64,
        tls: Option<u64>,
    ) -> Self {
        let (bottom, top) = (stack.bottom().as_u64(), stack.top().as_u64());
        let thread = Self::new(bottom, top, Some(stack));
        let mut regs = PtRegs::default();
        if let Some(parent) = user_regs {
            regs = *parent;
            regs.rax = 0;
            if user_sp != 0 {
                regs.rsp = user_sp;
            }
            let flags = local_irq_save();
            save_fsgs_current(&thread);
            thread.fpu.clone_from_current();
            super::irqflags::local_irq_restore(flags);
            if let Some(tls) = tls {
                thread.fsbase.store(tls, Ordering::Relaxed);
            }
        }
        let regs_addr = top - PT_REGS_SIZE as u64;
        let frame_addr = regs_addr - size_of::<InactiveTaskFrame>() as u64;
        let frame = InactiveTaskFrame {
            r15: 0,
            r14: 0,
            r13: 0,
            r12: 0,
            rbx: 0,
            rbp: 0,
            ret_addr: ret_from_fork_asm as *const () as usize as u64,
        };
        // SAFETY: `[frame_addr, top)` lies in the stack this function was
        // given by value, which is mapped, 16-aligned at the top and used
        // by nobody yet; both objects are naturally aligned there.
        unsafe { core::ptr::with_exposed_provenance_mut::<PtRegs>(regs_addr as usize).write(regs) };
        // SAFETY: as above.
        unsafe {
            core::ptr::with_exposed_provenance_mut::<InactiveTaskFrame>(frame_addr as usize)
                .write(frame)
        };
        thread.sp.store(frame_addr, Ordering::Relaxed);
        thread
    }

    /// `[bottom, top)` of the kernel stack.
    pub fn stack(&self) -> (u64, u64) {
        (self.stack_bottom, self.stack_top)
    }

    /// A switched-out task's saved frame pointer and the return address
    /// of its `InactiveTaskFrame`: where an unwind of its stack starts
    /// (Linux: `unwind_start` for a task that is not current). `None` if
    /// the saved RSP is not within the stack. Meaningless (but harmless:
    /// the reads cannot fault) for a task that is running.
    pub fn inactive_frame(&self) -> Option<(u64, u64)> {
        let sp = self.sp.load(Ordering::Relaxed);
        let size = core::mem::size_of::<InactiveTaskFrame>() as u64;
        if sp < self.stack_bottom || sp.checked_add(size)? > self.stack_top {
            return None;
        }
        let read = |offset: usize| {
            super::extable::probe_read_u64(crate::mm::addr::VirtAddr::new(sp + offset as u64)).ok()
        };
        let rbp = read(core::mem::offset_of!(InactiveTaskFrame, rbp))?;
        let ret = read(core::mem::offset_of!(InactiveTaskFrame, ret_addr))?;
        Some((rbp, ret))
    }
}

/// The task this CPU switched away from, whose reference `switch_to` left
/// behind (Linux: the `prev` that `finish_task_switch` gets).
static LAST_TASK: [AtomicPtr<Task>; NR_CPUS] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; NR_CPUS];

fn fsgsbase_enabled() -> bool {
    Cr4::read().contains(Cr4Flags::FSGSBASE)
}

fn read_fsbase() -> u64 {
    if fsgsbase_enabled() {
        let v: u64;
        // SAFETY: CR4.FSGSBASE is set, so `rdfsbase` is allowed; it only reads.
        unsafe { asm!("rdfsbase {}", out(reg) v, options(nomem, nostack, preserves_flags)) };
        v
    } else {
        // SAFETY: reading the FS base MSR has no side effects.
        unsafe { Msr::new(MSR_FS_BASE).read() }
    }
}

fn write_fsbase(v: u64) {
    // SAFETY: the kernel never uses FS; its base matters only to user
    // space, which gets the running task's value.
    unsafe { Msr::new(MSR_FS_BASE).write(v) };
}

/// Saves the user FS and GS bases of the task running now into `thread`
/// (Linux: `save_fsgs`). In the kernel the user GS base sits in
/// `KERNEL_GS_BASE`, `swapgs` having exchanged them on entry.
pub(super) fn save_fsgs_current(thread: &ThreadStruct) {
    thread.fsbase.store(read_fsbase(), Ordering::Relaxed);
    // SAFETY: reading an MSR has no side effects.
    let gs = unsafe { Msr::new(MSR_KERNEL_GS_BASE).read() };
    thread.gsbase.store(gs, Ordering::Relaxed);
}

fn load_fsgs(thread: &ThreadStruct) {
    write_fsbase(thread.fsbase.load(Ordering::Relaxed));
    // SAFETY: KERNEL_GS_BASE is the user's GS base while in the kernel;
    // `swapgs` on the way out makes it the user's again.
    unsafe { Msr::new(MSR_KERNEL_GS_BASE).write(thread.gsbase.load(Ordering::Relaxed)) };
}

/// Sets the running task's user FS base (Linux: `x86_fsbase_write_task`
/// for `current`, behind `arch_prctl(ARCH_SET_FS)`).
pub fn write_fsbase_current(thread: &ThreadStruct, base: u64) {
    let flags = local_irq_save();
    thread.fsbase.store(base, Ordering::Relaxed);
    write_fsbase(base);
    super::irqflags::local_irq_restore(flags);
}

/// Everything but the registers and the stack (Linux: `__switch_to`).
fn __switch_to(prev: &Task, next: &Task) {
    if !prev.is_kthread() {
        prev.thread.fpu.save();
        save_fsgs_current(&prev.thread);
    }
    if !next.is_kthread() {
        next.thread.fpu.restore();
        load_fsgs(&next.thread);
    }
    let pcpu = this_cpu();
    let (bottom, top) = next.thread.stack();
    super::gdt::load_sp0(pcpu.cpu(), top);
    pcpu.set_current_stack(bottom, top);
}

/// Switches this CPU from `current` to `next` and returns once something
/// switches back (Linux: `switch_to` → `__switch_to_asm`). Interrupts
/// must be off and no spinlock held.
pub fn switch_to(next: Arc<Task>) {
    let next_ptr = Arc::as_ptr(&next);
    let next_sp = next.thread.sp.load(Ordering::Relaxed);
    let prev = super::current::exchange_current(next);
    if prev.is_null() {
        return; // before `sched_init`, which never switches
    }
    // SAFETY: `prev` is the owning pointer `current` held: it stays valid
    // until `take_last_task` on the next task's stack turns it back into
    // an `Arc`, which happens after this function's last use of it.
    let prev_ref = unsafe { &*prev };
    // SAFETY: `next_ptr` is now owned by the per-CPU `current`.
    let next_ref = unsafe { &*next_ptr };
    __switch_to(prev_ref, next_ref);
    let prev_sp = prev_ref.thread.sp.as_ptr();
    LAST_TASK[this_cpu().cpu()].store(prev.cast_mut(), Ordering::Relaxed);
    // SAFETY: `prev_sp` is prev's saved-RSP slot (alive as argued above);
    // `next_sp` was stored by `__switch_to_asm` when `next` was switched
    // out, or by `copy_thread`, and points at an `InactiveTaskFrame` on
    // `next`'s stack, which nothing else runs on.
    unsafe { __switch_to_asm(prev_sp, next_sp) };
}

/// Takes back the reference to the task this CPU last switched away from
/// (Linux: the `prev` of `finish_task_switch`).
pub fn take_last_task() -> Option<Arc<Task>> {
    let ptr = LAST_TASK[this_cpu().cpu()].swap(core::ptr::null_mut(), Ordering::Relaxed);
    if ptr.is_null() {
        return None;
    }
    // SAFETY: `switch_to` stored a pointer that owned one strong reference
    // (`current`'s), and the swap above makes this the only taker.
    Some(unsafe { Arc::from_raw(ptr.cast_const()) })
}

/// Where a new task starts, on its own stack with interrupts off (Linux:
/// `ret_from_fork`): finish the switch, then run the kernel thread's
/// function, or return to user mode through `ret_to_user` with the
/// `PtRegs` `copy_thread` prepared. A kernel thread's function ends in
/// `do_exit`, unless it exec'd a user program (PID 1's `kernel_execve`
/// cleared `PF_KTHREAD` and filled the `PtRegs`): then it returns to user
/// mode too. `regs` is not touched here: exec may have rewritten it.
#[unsafe(no_mangle)]
extern "C" fn ret_from_fork(_regs: *mut PtRegs) {
    crate::kernel::sched::schedule_tail();
    if let Some(threadfn) = crate::kernel::fork::take_thread_fn() {
        let code = threadfn();
        if crate::kernel::sched::current().is_kthread() {
            crate::kernel::exit::do_exit(code);
        }
    }
    super::irqflags::local_irq_disable();
}

//! Per-CPU data, reached through the GS segment base.
//!
//! Linux: arch/x86/include/asm/percpu.h (`this_cpu_read`, `%gs:` accesses),
//! arch/x86/kernel/setup_percpu.c, include/linux/smp.h (`smp_processor_id`).
//!
//! Each CPU owns one [`PerCpu`] in [`PER_CPU`] (a static array of `NR_CPUS`,
//! Linux's `__per_cpu_offset` areas in their simplest form). In the kernel,
//! `IA32_GS_BASE` points at this CPU's `PerCpu`, whose first word points at
//! itself, so `mov reg, gs:[0]` finds it in one instruction.
//! `IA32_KERNEL_GS_BASE` holds the user's GS base while in the kernel; the
//! entry code swaps the two with `swapgs` on every crossing from ring 3.
//!
//! # Locking
//! A CPU writes only its own `PerCpu`, with interrupts off where an
//! interrupt handler also writes the field. Fields are atomics (Relaxed) so
//! that another CPU may read them, for instance to print a backtrace.

use core::arch::asm;
use core::mem::offset_of;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};

/// Linux: `CONFIG_NR_CPUS`.
pub const NR_CPUS: usize = 64;

const MSR_GS_BASE: u32 = 0xc000_0101;
const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;

/// Linux: `HARDIRQ_OFFSET` in `preempt_count`.
pub const HARDIRQ_OFFSET: u32 = 1 << 16;
const HARDIRQ_MASK: u32 = 0xf << 16;

/// One CPU's private data.
#[repr(C, align(64))]
pub struct PerCpu {
    /// Points at this struct; read as `gs:[0]` (Linux: `this_cpu_off`).
    this: AtomicPtr<PerCpu>,
    /// Linux: `cpu_number`.
    cpu: AtomicU32,
    /// Preemption and interrupt nesting (Linux: `__preempt_count`): the
    /// hard-IRQ depth is in bits 16..20, as there.
    preempt_count: AtomicU32,
    /// The kernel stack this CPU runs on now, `[bottom, top)`, for the
    /// backtrace walker and the stack-overflow check in the double fault.
    stack_bottom: AtomicU64,
    stack_top: AtomicU64,
    /// The running task, once there are tasks (Linux: `current_task`).
    current: AtomicPtr<()>,
    /// Scratch for the syscall entry's user RSP (Linux: `rsp_scratch`).
    pub user_rsp_scratch: AtomicU64,
}

/// Offsets the syscall entry asm uses (arch/x86_64/syscall.rs): the user
/// RSP scratch slot, and the top of the running task's kernel stack
/// (Linux: `cpu_current_top_of_stack`), which `set_current_stack` keeps
/// current at every context switch.
pub const PERCPU_USER_RSP_SCRATCH: usize = offset_of!(PerCpu, user_rsp_scratch);
pub const PERCPU_TOP_OF_STACK: usize = offset_of!(PerCpu, stack_top);

#[allow(clippy::declare_interior_mutable_const)]
const PER_CPU_INIT: PerCpu = PerCpu {
    this: AtomicPtr::new(core::ptr::null_mut()),
    cpu: AtomicU32::new(0),
    preempt_count: AtomicU32::new(0),
    stack_bottom: AtomicU64::new(0),
    stack_top: AtomicU64::new(0),
    current: AtomicPtr::new(core::ptr::null_mut()),
    user_rsp_scratch: AtomicU64::new(0),
};

/// Every CPU's area, indexed by CPU number.
pub static PER_CPU: [PerCpu; NR_CPUS] = [PER_CPU_INIT; NR_CPUS];

/// Set once the boot CPU's GS base is loaded; before that `this_cpu` falls
/// back to CPU 0's area (only the boot CPU runs then).
static GS_READY: AtomicBool = AtomicBool::new(false);

fn wrmsr(msr: u32, value: u64) {
    // SAFETY: the GS base MSRs only change where `gs:` accesses go; every
    // `gs:` access in the kernel goes through `this_cpu`, which we are
    // pointing at a valid `PerCpu` here.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value & 0xffff_ffff, in("edx") value >> 32,
             options(nostack, preserves_flags));
    }
}

/// Points this CPU's GS base at `PER_CPU[cpu]` and records its boot stack
/// (Linux: `setup_per_cpu_areas` + `load_percpu_segment`).
///
/// Call on the CPU itself, after the GDT is loaded (loading a GS selector
/// clears the base), with interrupts off.
pub fn setup_this_cpu(cpu: usize, stack_bottom: u64, stack_top: u64) {
    let Some(pcpu) = PER_CPU.get(cpu) else { return };
    let ptr = core::ptr::from_ref(pcpu).cast_mut();
    pcpu.this.store(ptr, Ordering::Relaxed);
    // `cpu < NR_CPUS`, checked above, so it fits.
    pcpu.cpu.store(u32::try_from(cpu).unwrap_or(u32::MAX), Ordering::Relaxed);
    set_current_stack(pcpu, stack_bottom, stack_top);
    wrmsr(MSR_GS_BASE, ptr as u64);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    GS_READY.store(true, Ordering::Release);
}

/// This CPU's area (Linux: `this_cpu_ptr`).
///
/// The caller should have preemption off to keep using it; with one CPU
/// and no preemption yet that always holds.
pub fn this_cpu() -> &'static PerCpu {
    if !GS_READY.load(Ordering::Acquire) {
        return &PER_CPU[0];
    }
    let ptr: *const PerCpu;
    // SAFETY: GS base points at a `PerCpu` (set in `setup_this_cpu`, and
    // `swapgs` on entry from user space restores it before Rust runs), whose
    // first word is its own address.
    unsafe { asm!("mov {}, gs:[0]", out(reg) ptr, options(nostack, readonly, preserves_flags)) };
    // SAFETY: `ptr` is the address of an element of the static `PER_CPU`.
    unsafe { &*ptr }
}

/// The number of the CPU we run on (Linux: `smp_processor_id`).
pub fn smp_processor_id() -> usize {
    this_cpu().cpu.load(Ordering::Relaxed) as usize
}

fn set_current_stack(pcpu: &PerCpu, bottom: u64, top: u64) {
    pcpu.stack_bottom.store(bottom, Ordering::Relaxed);
    pcpu.stack_top.store(top, Ordering::Relaxed);
}

// The scheduler (next issues) uses the `current` and stack setters.
#[allow(dead_code)]
impl PerCpu {
    pub fn cpu(&self) -> usize {
        self.cpu.load(Ordering::Relaxed) as usize
    }

    /// The kernel stack this CPU runs on, `(bottom, top)`.
    pub fn current_stack(&self) -> (u64, u64) {
        (self.stack_bottom.load(Ordering::Relaxed), self.stack_top.load(Ordering::Relaxed))
    }

    /// Records the stack of the task switched to (the scheduler calls this
    /// in `switch_to`).
    pub fn set_current_stack(&self, bottom: u64, top: u64) {
        set_current_stack(self, bottom, top);
    }

    pub fn current(&self) -> *mut () {
        self.current.load(Ordering::Relaxed)
    }

    pub fn set_current(&self, task: *mut ()) {
        self.current.store(task, Ordering::Relaxed);
    }

    pub fn preempt_count(&self) -> u32 {
        self.preempt_count.load(Ordering::Relaxed)
    }

    /// Linux: `__preempt_count_add`; only this CPU calls it, so a plain
    /// load and store would do, but the atomic keeps readers honest.
    pub fn preempt_count_add(&self, val: u32) {
        self.preempt_count.fetch_add(val, Ordering::Relaxed);
    }

    pub fn preempt_count_sub(&self, val: u32) {
        self.preempt_count.fetch_sub(val, Ordering::Relaxed);
    }
}

/// Whether this CPU is in a hard interrupt handler (Linux: `in_irq`).
pub fn in_hardirq() -> bool {
    this_cpu().preempt_count() & HARDIRQ_MASK != 0
}

crate::ktest!(percpu_gs_base, {
    let pcpu = this_cpu();
    crate::kassert!(core::ptr::eq(pcpu, &PER_CPU[smp_processor_id()]), "gs:[0] is our area");
    crate::kassert!(smp_processor_id() == 0, "the boot CPU is CPU 0");
    let (bottom, top) = pcpu.current_stack();
    let here = core::ptr::from_ref(&pcpu).addr() as u64;
    crate::kassert!(bottom < here && here < top, "we run on the recorded stack");
    Ok(())
});

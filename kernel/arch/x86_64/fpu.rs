//! User FPU/SSE/AVX register state: enabling it at boot, and saving and
//! restoring it per task at context switch.
//!
//! Linux: arch/x86/kernel/fpu/init.c (`fpu__init_cpu`, `fpu__init_system`),
//! arch/x86/kernel/fpu/xstate.c (XCR0, the XSAVE area size),
//! arch/x86/kernel/fpu/core.c (`save_fpregs_to_fpstate`, `fpu_clone`,
//! `restore_fpregs_from_fpstate`), arch/x86/include/asm/fpu/types.h.
//!
//! The kernel itself is built soft-float (`x86_64-unknown-none`), so the FPU
//! registers only ever hold user state. The switch is eager (Linux since
//! 4.x): `__switch_to` saves a user task's registers into its [`Fpu`] and
//! loads the next user task's. Kernel threads own no FPU state and are
//! skipped both ways, so the registers of a user task survive a detour
//! through kernel threads untouched.
//!
//! XSAVE/XRSTOR with x87|SSE|AVX (whatever the CPU has of AVX) when the CPU
//! has XSAVE, else FXSAVE/FXRSTOR. One fixed 1 KiB area per task covers the
//! 576-byte legacy+header part plus the 256-byte AVX upper halves; a CPU
//! whose area for these features is larger falls back to x87|SSE only.
//!
//! # Locking
//! An [`Fpu`] is touched only by the CPU running or switching its task,
//! with interrupts off, or by `copy_process` before the child first runs.

use core::arch::asm;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use raw_cpuid::CpuId;
use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};

use super::cpu::{X86Feature, boot_cpu_has};
use crate::pr_info;

const XFEATURE_MASK_FP: u64 = 1 << 0;
const XFEATURE_MASK_SSE: u64 = 1 << 1;
const XFEATURE_MASK_YMM: u64 = 1 << 2;

/// Bytes of the per-task save area (Linux: `fpu_kernel_cfg.max_size`).
const FPSTATE_SIZE: usize = 1024;
/// The x87 control word and MXCSR of a fresh task (Linux: `fpstate_init_fx`).
const FCW_DEFAULT: u16 = 0x037f;
const MXCSR_DEFAULT: u32 = 0x1f80;

static USE_XSAVE: AtomicBool = AtomicBool::new(false);
/// The features XSAVE saves (Linux: `fpu_kernel_cfg.max_features`).
static XFEATURES_MASK: AtomicU64 = AtomicU64::new(0);

/// The register image (Linux: `union fpregs_state`): the FXSAVE layout,
/// then the XSAVE header at 512, then the AVX state.
#[repr(C, align(64))]
#[derive(Clone)]
struct FpState([u8; FPSTATE_SIZE]);

impl FpState {
    /// The state a new program starts with: all registers zero, exceptions
    /// masked; an all-zero XSAVE header means "initial" for every feature.
    fn init() -> Self {
        let mut s = FpState([0; FPSTATE_SIZE]);
        s.0[0..2].copy_from_slice(&FCW_DEFAULT.to_le_bytes());
        s.0[24..28].copy_from_slice(&MXCSR_DEFAULT.to_le_bytes());
        s
    }
}

/// One task's user FPU state (Linux: `struct fpu`).
pub struct Fpu {
    state: UnsafeCell<FpState>,
}

// SAFETY: see the module's locking: only the CPU switching the owning task
// (interrupts off) or `copy_process` before the task runs touches `state`.
unsafe impl Sync for Fpu {}

impl Fpu {
    /// The initial state (Linux: `fpstate_init_user`).
    pub fn new() -> Self {
        Self { state: UnsafeCell::new(FpState::init()) }
    }

    /// Saves this CPU's registers into `self` (Linux:
    /// `save_fpregs_to_fpstate`). Call with interrupts off, for the task
    /// whose state the registers hold.
    pub fn save(&self) {
        let area = self.state.get();
        let (lo, hi) = split(XFEATURES_MASK.load(Ordering::Relaxed));
        if USE_XSAVE.load(Ordering::Relaxed) {
            // SAFETY: `area` is a 64-byte aligned, FPSTATE_SIZE-byte buffer
            // that only this CPU writes now (module locking); XSAVE with the
            // features enabled in XCR0 writes at most that many bytes
            // (checked in `fpu__init_system`).
            unsafe {
                asm!("xsave64 [{}]", in(reg) area, in("eax") lo, in("edx") hi,
                     options(nostack, preserves_flags))
            };
        } else {
            // SAFETY: as above; FXSAVE writes 512 bytes at a 16-aligned address.
            unsafe { asm!("fxsave64 [{}]", in(reg) area, options(nostack, preserves_flags)) };
        }
    }

    /// Loads `self` into this CPU's registers (Linux:
    /// `restore_fpregs_from_fpstate`). Call with interrupts off.
    pub fn restore(&self) {
        let area = self.state.get();
        let (lo, hi) = split(XFEATURES_MASK.load(Ordering::Relaxed));
        if USE_XSAVE.load(Ordering::Relaxed) {
            // SAFETY: `area` holds either the init image (valid header of
            // zeros, default MXCSR) or what XSAVE wrote; nobody else writes
            // it now. XRSTOR of such an image cannot fault.
            unsafe {
                asm!("xrstor64 [{}]", in(reg) area, in("eax") lo, in("edx") hi,
                     options(nostack, preserves_flags))
            };
        } else {
            // SAFETY: as above, for the FXSAVE image (reserved MXCSR bits clear).
            unsafe { asm!("fxrstor64 [{}]", in(reg) area, options(nostack, preserves_flags)) };
        }
    }

    /// Gives a forked child the parent's registers as they are now (Linux:
    /// `fpu_clone`): the caller is the parent, a user task, interrupts off.
    pub fn clone_from_current(&self) {
        self.save();
    }

    /// Back to the initial state, for `execve` (Linux: `fpu_flush_thread`).
    /// The caller is the owner, with interrupts off; the registers are
    /// loaded from it at once so that the new program starts clean.
    #[allow(dead_code, reason = "execve, wired by the integration step")]
    pub fn reset_current(&self) {
        // SAFETY: the caller owns this task's state (module locking).
        unsafe { *self.state.get() = FpState::init() };
        self.restore();
    }
}

impl Default for Fpu {
    fn default() -> Self {
        Self::new()
    }
}

/// Enables the FPU, SSE and, where present, XSAVE and AVX on this CPU
/// (Linux: `fpu__init_cpu`), and picks the save format (Linux:
/// `fpu__init_system`). Call once per CPU at boot, interrupts off.
#[expect(non_snake_case, reason = "Linux's name")]
pub fn fpu__init_system() {
    // SAFETY: clearing EM/TS and setting MP makes x87/SSE instructions run
    // instead of trapping; the kernel never uses them itself (soft-float).
    unsafe { Cr0::update(|f| f.set(Cr0Flags::MONITOR_COPROCESSOR, true)) };
    // SAFETY: as above.
    unsafe { Cr0::update(|f| f.remove(Cr0Flags::EMULATE_COPROCESSOR | Cr0Flags::TASK_SWITCHED)) };
    // SAFETY: OSFXSR/OSXMMEXCPT enable SSE and its exceptions for user space.
    unsafe { Cr4::update(|f| f.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE)) };
    if !boot_cpu_has(X86Feature::XSAVE) {
        pr_info!("x86/fpu: x87 FPU will use FXSAVE");
        return;
    }
    // SAFETY: the CPU has XSAVE, so CR4.OSXSAVE exists; it enables XSETBV.
    unsafe { Cr4::update(|f| f.insert(Cr4Flags::OSXSAVE)) };
    let mut mask = XFEATURE_MASK_FP | XFEATURE_MASK_SSE;
    if boot_cpu_has(X86Feature::AVX) {
        mask |= XFEATURE_MASK_YMM;
    }
    xsetbv(mask);
    let size = CpuId::new()
        .get_extended_state_info()
        .map_or(usize::MAX, |x| x.xsave_area_size_enabled_features() as usize);
    if size > FPSTATE_SIZE {
        mask = XFEATURE_MASK_FP | XFEATURE_MASK_SSE;
        xsetbv(mask);
    }
    XFEATURES_MASK.store(mask, Ordering::Relaxed);
    USE_XSAVE.store(true, Ordering::Relaxed);
    pr_info!(
        "x86/fpu: Enabled xstate features {mask:#x}, context size is {size} bytes, using 'standard' format."
    );
}

/// `mask` as the EDX:EAX pair the XSAVE family takes.
fn split(mask: u64) -> (u32, u32) {
    let lo = u32::try_from(mask & 0xffff_ffff).unwrap_or(0);
    let hi = u32::try_from(mask >> 32).unwrap_or(0);
    (lo, hi)
}

fn xsetbv(mask: u64) {
    let (lo, hi) = split(mask);
    // SAFETY: CR4.OSXSAVE is set and `mask` holds x87|SSE and at most AVX,
    // all of which the CPU reported; XCR0 only selects what XSAVE covers.
    unsafe {
        asm!("xsetbv", in("ecx") 0, in("eax") lo, in("edx") hi,
             options(nomem, nostack, preserves_flags))
    };
}

crate::ktest!(fpu_state_survives_save_restore, {
    let fpu = Fpu::new();
    let flags = super::irqflags::local_irq_save();
    let set = 0x1234_5678_9abc_def0u64;
    // XMM0 holds only user state: save it around the test.
    let saved = Fpu::new();
    saved.save();
    // SAFETY: writes XMM0, which the kernel (soft-float) never uses.
    unsafe { asm!("movq xmm0, {}", in(reg) set, options(nomem, nostack)) };
    fpu.save();
    // SAFETY: as above.
    unsafe { asm!("pxor xmm0, xmm0", options(nomem, nostack)) };
    fpu.restore();
    let got: u64;
    // SAFETY: reads XMM0.
    unsafe { asm!("movq {}, xmm0", out(reg) got, options(nomem, nostack)) };
    saved.restore();
    super::irqflags::local_irq_restore(flags);
    crate::kassert!(got == set, "XMM0 comes back from the save area");
    Ok(())
});

//! The global descriptor table and the task state segment, one per CPU.
//!
//! Linux: arch/x86/include/asm/segment.h (selector layout),
//! arch/x86/kernel/cpu/common.c (`gdt_page`, `load_direct_gdt`,
//! `cpu_init_exception_handling`), arch/x86/include/asm/cpu_entry_area.h
//! (the IST stacks).
//!
//! The layout is Linux's, so that user space sees the same `%cs`/`%ss`
//! values (0x33/0x2b) and a reader can hold segment.h beside it:
//!
//! ```text
//!  1  0x08  __KERNEL32_CS     4  0x23  __USER32_CS      8  0x40  TSS (16 bytes)
//!  2  0x10  __KERNEL_CS       5  0x2b  __USER_DS
//!  3  0x18  __KERNEL_DS       6  0x33  __USER_CS
//! ```
//!
//! The TSS's IST slots give the double fault, NMI and machine check stacks
//! of their own, so a kernel stack overflow (no stack left for a #PF frame)
//! still reaches a handler. The boot CPU's IST stacks are static, in .bss,
//! without guard pages between them; other CPUs pass theirs to [`cpu_init`].
//!
//! # Locking
//! Each CPU writes only its own GDT and TSS, during its bring-up with
//! interrupts off (and `sp0` at context switch, later).

use core::arch::asm;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering};

use super::percpu::NR_CPUS;

pub const GDT_ENTRY_KERNEL32_CS: u16 = 1;
pub const GDT_ENTRY_KERNEL_CS: u16 = 2;
pub const GDT_ENTRY_KERNEL_DS: u16 = 3;
pub const GDT_ENTRY_DEFAULT_USER32_CS: u16 = 4;
pub const GDT_ENTRY_DEFAULT_USER_DS: u16 = 5;
pub const GDT_ENTRY_DEFAULT_USER_CS: u16 = 6;
pub const GDT_ENTRY_TSS: u16 = 8;
pub const GDT_ENTRIES: usize = 16;

pub const __KERNEL32_CS: u16 = GDT_ENTRY_KERNEL32_CS * 8;
pub const __KERNEL_CS: u16 = GDT_ENTRY_KERNEL_CS * 8;
pub const __KERNEL_DS: u16 = GDT_ENTRY_KERNEL_DS * 8;
pub const __USER32_CS: u16 = GDT_ENTRY_DEFAULT_USER32_CS * 8 + 3;
pub const __USER_DS: u16 = GDT_ENTRY_DEFAULT_USER_DS * 8 + 3;
pub const __USER_CS: u16 = GDT_ENTRY_DEFAULT_USER_CS * 8 + 3;
pub const GDT_ENTRY_TSS_SELECTOR: u16 = GDT_ENTRY_TSS * 8;

/// IST slots (Linux: `IST_INDEX_*`); the IDT gate holds index + 1.
pub const IST_INDEX_DF: usize = 0;
pub const IST_INDEX_NMI: usize = 1;
pub const IST_INDEX_DB: usize = 2;
pub const IST_INDEX_MCE: usize = 3;
pub const N_EXCEPTION_STACKS: usize = 4;
/// Linux: `EXCEPTION_STKSZ`, larger because the oops formats in Rust.
pub const EXCEPTION_STKSZ: usize = 16 * 1024;

/// The descriptors of Linux's `gdt_page` (GDT_ENTRY_INIT in common.c).
const GDT_INIT: [u64; GDT_ENTRIES] = {
    let mut gdt = [0u64; GDT_ENTRIES];
    gdt[GDT_ENTRY_KERNEL32_CS as usize] = 0x00cf_9b00_0000_ffff;
    gdt[GDT_ENTRY_KERNEL_CS as usize] = 0x00af_9b00_0000_ffff;
    gdt[GDT_ENTRY_KERNEL_DS as usize] = 0x00cf_9300_0000_ffff;
    gdt[GDT_ENTRY_DEFAULT_USER32_CS as usize] = 0x00cf_fb00_0000_ffff;
    gdt[GDT_ENTRY_DEFAULT_USER_DS as usize] = 0x00cf_f300_0000_ffff;
    gdt[GDT_ENTRY_DEFAULT_USER_CS as usize] = 0x00af_fb00_0000_ffff;
    gdt
};

/// The hardware TSS (Linux: `struct x86_hw_tss`).
#[repr(C, packed(4))]
#[derive(Clone, Copy)]
pub struct X86HwTss {
    reserved1: u32,
    /// Stack for entries from ring 3 in `sp[0]` (Linux: `sp0`).
    pub sp: [u64; 3],
    reserved2: u64,
    pub ist: [u64; 7],
    reserved3: u64,
    reserved4: u16,
    pub io_bitmap_base: u16,
}

const TSS_LIMIT: u64 = size_of::<X86HwTss>() as u64 - 1;

/// One CPU's TSS; written only by that CPU (see the module's locking).
struct CpuTss(UnsafeCell<X86HwTss>);

// SAFETY: each element is written only by the CPU it belongs to, before
// `ltr` and with interrupts off; the CPU itself only reads it.
unsafe impl Sync for CpuTss {}

/// Linux: `gdt_page` (per CPU); atomics because the CPU sets the TSS busy bit.
static GDT: [[AtomicU64; GDT_ENTRIES]; NR_CPUS] =
    [const { [const { AtomicU64::new(0) }; GDT_ENTRIES] }; NR_CPUS];

static TSS: [CpuTss; NR_CPUS] = [const {
    CpuTss(UnsafeCell::new(X86HwTss {
        reserved1: 0,
        sp: [0; 3],
        reserved2: 0,
        ist: [0; 7],
        reserved3: 0,
        reserved4: 0,
        // No I/O bitmap: the offset points past the limit (Linux:
        // `IO_BITMAP_OFFSET_INVALID`).
        io_bitmap_base: TSS_SIZE,
    }))
}; NR_CPUS];

#[repr(C, align(4096))]
struct ExceptionStacks(UnsafeCell<[[u8; EXCEPTION_STKSZ]; N_EXCEPTION_STACKS]>);

// SAFETY: only the CPU uses this memory, as stacks; Rust never reads it.
unsafe impl Sync for ExceptionStacks {}

/// The boot CPU's IST stacks (Linux: `cpu_entry_area.estacks`).
static BOOT_EXCEPTION_STACKS: ExceptionStacks =
    ExceptionStacks(UnsafeCell::new([[0; EXCEPTION_STKSZ]; N_EXCEPTION_STACKS]));

/// The boot CPU's IST stack tops (stacks grow down), as `cpu_init` wants.
pub fn boot_exception_stacks() -> [u64; N_EXCEPTION_STACKS] {
    let base = BOOT_EXCEPTION_STACKS.0.get().addr() as u64;
    core::array::from_fn(|i| base + ((i + 1) * EXCEPTION_STKSZ) as u64)
}

/// The IST stack `(bottom, top)` of this CPU that `addr` lies on, if any.
pub fn exception_stack_of(cpu: usize, addr: u64) -> Option<(u64, u64)> {
    let tss = TSS.get(cpu)?;
    // SAFETY: a plain copy of a TSS that only its CPU writes, during bring-up.
    let ist = unsafe { (*tss.0.get()).ist };
    ist.into_iter()
        .filter(|&top| top != 0)
        .map(|top| (top - EXCEPTION_STKSZ as u64, top))
        .find(|&(bottom, top)| bottom <= addr && addr < top)
}

/// Sets the stack the CPU loads on an interrupt or exception from ring 3:
/// the top of the running task's kernel stack (Linux: `load_sp0`, called
/// by `switch_to` through `update_task_stack`).
///
/// Call on the CPU itself with interrupts off (or preemption off, once it
/// exists): the CPU reads `sp0` at the next entry from user mode.
pub fn load_sp0(cpu: usize, sp0: u64) {
    let Some(tss) = TSS.get(cpu) else { return };
    // SAFETY: a place computation inside this CPU's static TSS; no
    // reference is made to the packed field.
    let sp = unsafe { &raw mut (*tss.0.get()).sp };
    // SAFETY: only this CPU writes its TSS (see `CpuTss`), and the CPU
    // itself reads `sp0` only on a privilege change, which cannot happen
    // while this kernel code runs. Unaligned: the struct is packed.
    unsafe { sp.write_unaligned([sp0, 0, 0]) };
}

/// A TSS descriptor: 16 bytes, type 9 (available 64-bit TSS), present.
fn tss_descriptor(base: u64) -> (u64, u64) {
    let low = (TSS_LIMIT & 0xffff)
        | ((base & 0xff_ffff) << 16)
        | (0x89 << 40)
        | (((TSS_LIMIT >> 16) & 0xf) << 48)
        | (((base >> 24) & 0xff) << 56);
    (low, base >> 32)
}

/// Loads this CPU's GDT and TSS, with `ist_tops` as its IST stacks (Linux:
/// `cpu_init` → `switch_to_new_gdt`, `cpu_init_exception_handling`).
///
/// Call once per CPU, on that CPU, with interrupts off.
pub fn cpu_init(cpu: usize, ist_tops: [u64; N_EXCEPTION_STACKS]) {
    let (Some(gdt), Some(tss)) = (GDT.get(cpu), TSS.get(cpu)) else { return };
    let tss_ptr = tss.0.get();
    // SAFETY: this CPU has not loaded its TSS yet and is the only writer.
    let hw = unsafe { &mut *tss_ptr };
    let mut ist = hw.ist;
    ist[..N_EXCEPTION_STACKS].copy_from_slice(&ist_tops);
    hw.ist = ist;
    for (slot, desc) in gdt.iter().zip(GDT_INIT) {
        slot.store(desc, Ordering::Relaxed);
    }
    let (low, high) = tss_descriptor(tss_ptr.addr() as u64);
    gdt[GDT_ENTRY_TSS as usize].store(low, Ordering::Relaxed);
    gdt[GDT_ENTRY_TSS as usize + 1].store(high, Ordering::Relaxed);
    load_gdt(gdt.as_ptr().addr() as u64);
    // SAFETY: the TSS descriptor was just written into the loaded GDT and
    // points at this CPU's static TSS.
    unsafe { asm!("ltr {0:x}", in(reg) GDT_ENTRY_TSS_SELECTOR, options(nostack, preserves_flags)) };
}

/// The TSS is 104 bytes, so the cast cannot truncate.
#[expect(clippy::cast_possible_truncation, reason = "a 104-byte struct")]
const TSS_SIZE: u16 = size_of::<X86HwTss>() as u16;
#[expect(clippy::cast_possible_truncation, reason = "a few dozen 8-byte entries")]
const GDT_LIMIT: u16 = (GDT_ENTRIES * 8 - 1) as u16;

fn load_gdt(base: u64) {
    #[repr(C, packed(2))]
    struct DescPtr {
        limit: u16,
        base: u64,
    }
    let ptr = DescPtr { limit: GDT_LIMIT, base };
    // SAFETY: `base` is this CPU's static GDT, whose code and data entries
    // match the selectors the CPU holds now (head.rs uses the same values).
    unsafe {
        asm!("lgdt [{}]", in(reg) &raw const ptr, options(readonly, nostack, preserves_flags))
    };
    // SAFETY:
    // 1. A far return reloads CS with __KERNEL_CS from the new table; the
    //    pushed return address is the next instruction.
    // 2. SS/DS/ES get __KERNEL_DS, FS/GS the null selector (their bases come
    //    from MSRs, written after this: loading GS clears GS base).
    unsafe {
        asm!(
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ss, {ds:e}",
            "mov ds, {ds:e}",
            "mov es, {ds:e}",
            "xor {tmp:e}, {tmp:e}",
            "mov fs, {tmp:e}",
            "mov gs, {tmp:e}",
            cs = in(reg) u64::from(__KERNEL_CS),
            ds = in(reg) u32::from(__KERNEL_DS),
            tmp = out(reg) _,
        );
    }
}

crate::ktest!(gdt_linux_selectors, {
    let cs: u16;
    let ss: u16;
    // SAFETY: reading segment selectors has no side effects.
    unsafe {
        asm!("mov {0:x}, cs", "mov {1:x}, ss", out(reg) cs, out(reg) ss, options(nomem, nostack))
    };
    crate::kassert!(cs == __KERNEL_CS, "kernel runs with __KERNEL_CS = 0x10");
    crate::kassert!(ss == __KERNEL_DS, "kernel stack segment is __KERNEL_DS = 0x18");
    crate::kassert!(
        __USER_CS == 0x33 && __USER_DS == 0x2b && __USER32_CS == 0x23,
        "user selectors"
    );
    Ok(())
});

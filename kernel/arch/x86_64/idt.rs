//! The interrupt descriptor table: which entry stub each vector runs.
//!
//! Linux: arch/x86/kernel/idt.c (`idt_table`, `def_idts`, `idt_setup_*`),
//! arch/x86/include/asm/desc_defs.h (`struct gate_struct`).
//!
//! One table serves every CPU, as in Linux. Exceptions 0..32 get their
//! `asm_exc_*` stubs (double fault, NMI, debug and machine check on their
//! IST stacks); vectors 32..=255 get the stubs of `irq_entries_start`.
//! All gates are interrupt gates (IF cleared on entry); only `int3` may be
//! raised from ring 3 (DPL 3), as Linux allows.
//!
//! # Locking
//! The table is written by the boot CPU in `idt_setup` before any CPU loads
//! it, and read-only afterwards.

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};

use super::entry::IRQ_ENTRY_STUB_SIZE;
use super::gdt::{__KERNEL_CS, IST_INDEX_DB, IST_INDEX_DF, IST_INDEX_MCE, IST_INDEX_NMI};

pub const IDT_ENTRIES: usize = 256;
const NR_EXCEPTION_VECTORS: usize = 32;

unsafe extern "C" {
    fn asm_exc_divide_error();
    fn asm_exc_debug();
    fn asm_exc_nmi();
    fn asm_exc_int3();
    fn asm_exc_overflow();
    fn asm_exc_bounds();
    fn asm_exc_invalid_op();
    fn asm_exc_device_not_available();
    fn asm_exc_double_fault();
    fn asm_exc_coproc_segment_overrun();
    fn asm_exc_invalid_tss();
    fn asm_exc_segment_not_present();
    fn asm_exc_stack_segment();
    fn asm_exc_general_protection();
    fn asm_exc_page_fault();
    fn asm_exc_spurious_interrupt_bug();
    fn asm_exc_coprocessor_error();
    fn asm_exc_alignment_check();
    fn asm_exc_machine_check();
    fn asm_exc_simd_coprocessor_error();
    fn asm_exc_virtualization_exception();
    fn asm_exc_control_protection();
    fn asm_exc_reserved();
    fn asm_exc_vmm_communication();
    fn asm_exc_security();
    static irq_entries_start: u8;
}

/// (stub, IST index + 1 or 0, DPL) for each exception vector, as Linux's
/// `def_idts` and `early_idts`.
fn exception_gate(vector: usize) -> (unsafe extern "C" fn(), usize, u64) {
    let ist = |index: usize| index + 1;
    match vector {
        0 => (asm_exc_divide_error, 0, 0),
        1 => (asm_exc_debug, ist(IST_INDEX_DB), 0),
        2 => (asm_exc_nmi, ist(IST_INDEX_NMI), 0),
        3 => (asm_exc_int3, 0, 3),
        4 => (asm_exc_overflow, 0, 0),
        5 => (asm_exc_bounds, 0, 0),
        6 => (asm_exc_invalid_op, 0, 0),
        7 => (asm_exc_device_not_available, 0, 0),
        8 => (asm_exc_double_fault, ist(IST_INDEX_DF), 0),
        9 => (asm_exc_coproc_segment_overrun, 0, 0),
        10 => (asm_exc_invalid_tss, 0, 0),
        11 => (asm_exc_segment_not_present, 0, 0),
        12 => (asm_exc_stack_segment, 0, 0),
        13 => (asm_exc_general_protection, 0, 0),
        14 => (asm_exc_page_fault, 0, 0),
        15 => (asm_exc_spurious_interrupt_bug, 0, 0),
        16 => (asm_exc_coprocessor_error, 0, 0),
        17 => (asm_exc_alignment_check, 0, 0),
        18 => (asm_exc_machine_check, ist(IST_INDEX_MCE), 0),
        19 => (asm_exc_simd_coprocessor_error, 0, 0),
        20 => (asm_exc_virtualization_exception, 0, 0),
        21 => (asm_exc_control_protection, 0, 0),
        29 => (asm_exc_vmm_communication, 0, 0),
        30 => (asm_exc_security, 0, 0),
        _ => (asm_exc_reserved, 0, 0),
    }
}

/// Linux: `idt_table`; each gate is two words (`struct gate_struct`).
static IDT_TABLE: [[AtomicU64; 2]; IDT_ENTRIES] =
    [const { [AtomicU64::new(0), AtomicU64::new(0)] }; IDT_ENTRIES];

/// A 64-bit interrupt gate (type 0xe) to `addr`, present, with `ist`, `dpl`.
fn gate(addr: u64, ist: usize, dpl: u64) -> [u64; 2] {
    let low = (addr & 0xffff)
        | (u64::from(__KERNEL_CS) << 16)
        | ((ist as u64 & 7) << 32)
        | ((0x8e | (dpl << 5)) << 40)
        | (((addr >> 16) & 0xffff) << 48);
    [low, addr >> 32]
}

fn set_gate(vector: usize, words: [u64; 2]) {
    IDT_TABLE[vector][0].store(words[0], Ordering::Relaxed);
    IDT_TABLE[vector][1].store(words[1], Ordering::Relaxed);
}

/// Fills the table (Linux: `idt_setup_traps` + `idt_setup_apic_and_irq_gates`).
pub fn idt_setup() {
    for vector in 0..NR_EXCEPTION_VECTORS {
        let (stub, ist, dpl) = exception_gate(vector);
        set_gate(vector, gate(stub as usize as u64, ist, dpl));
    }
    let base = (&raw const irq_entries_start).addr() as u64;
    for vector in NR_EXCEPTION_VECTORS..IDT_ENTRIES {
        let offset = ((vector - NR_EXCEPTION_VECTORS) * IRQ_ENTRY_STUB_SIZE) as u64;
        set_gate(vector, gate(base + offset, 0, 0));
    }
}

/// Loads the table on this CPU (Linux: `load_idt`).
pub fn load_idt() {
    #[repr(C, packed(2))]
    struct DescPtr {
        limit: u16,
        base: u64,
    }
    #[expect(clippy::cast_possible_truncation, reason = "256 16-byte gates: 4095")]
    const IDT_LIMIT: u16 = (IDT_ENTRIES * 16 - 1) as u16;
    let ptr = DescPtr { limit: IDT_LIMIT, base: IDT_TABLE.as_ptr().addr() as u64 };
    // SAFETY: the table is static and filled by `idt_setup` with gates to
    // entry stubs that save and restore all state.
    unsafe {
        asm!("lidt [{}]", in(reg) &raw const ptr, options(readonly, nostack, preserves_flags))
    };
}

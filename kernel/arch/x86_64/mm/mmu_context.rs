//! Loading a user address space on this CPU.
//!
//! Linux: arch/x86/include/asm/mmu_context.h (`switch_mm`, `activate_mm`,
//! `enter_lazy_tlb`), arch/x86/mm/tlb.c (`switch_mm_irqs_off`).
//!
//! Without PCID a CR3 load drops every non-global TLB entry, which is what
//! a switch between user spaces needs; the kernel half is global and
//! survives. PCID, and lazy TLB for kernel threads, come later.
//!
//! # Locking
//! None: CR3 is per CPU, and the caller keeps the `Mm` alive while loaded.

use super::tlb::{read_cr3, write_cr3};
use crate::mm::mm_types::Mm;
use crate::mm::page_table::KERNEL_PGTABLE;

/// Makes `next` the address space of this CPU (Linux: `switch_mm`).
pub fn switch_mm(next: &Mm) {
    let root = next.pgd().phys();
    if read_cr3() != root {
        // SAFETY:
        // 1. An `Mm`'s table comes only from `pgd_alloc`, whose kernel half
        //    is the kernel's own tables, so the running code, its stack and
        //    all kernel data stay mapped.
        // 2. `next` is borrowed, and `Mm::drop` switches away before freeing
        //    a loaded table, so the frame outlives its use here.
        unsafe { write_cr3(root) };
    }
}

/// Loads the kernel's own page table, which maps no user space (Linux:
/// `switch_mm(…, &init_mm)`, as a kernel thread or an exiting task does).
pub fn switch_to_kernel_mm() {
    let Some(root) = KERNEL_PGTABLE.lock().as_ref().map(|pgd| pgd.root().phys()) else {
        return;
    };
    if read_cr3() != root {
        // SAFETY: the kernel page table maps the whole kernel, and it is
        // never freed.
        unsafe { write_cr3(root) };
    }
}

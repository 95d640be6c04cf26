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

use core::sync::atomic::{AtomicU64, Ordering};

use super::tlb::{read_cr3, write_cr3};
use crate::mm::addr::PhysAddr;
use crate::mm::mm_types::Mm;
use crate::mm::page_table::KERNEL_PGTABLE;

/// The kernel table's root, cached: it never changes after `mem_init`, and
/// the context switch to every kernel thread needs it, so it should not
/// take `KERNEL_PGTABLE`'s lock each time. 0 until first read.
static KERNEL_ROOT: AtomicU64 = AtomicU64::new(0);

fn kernel_root() -> Option<PhysAddr> {
    match KERNEL_ROOT.load(Ordering::Relaxed) {
        0 => {
            let root = KERNEL_PGTABLE.lock().as_ref().map(|pgd| pgd.root().phys())?;
            KERNEL_ROOT.store(root.as_u64(), Ordering::Relaxed);
            Some(root)
        }
        root => Some(PhysAddr::new(root)),
    }
}

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
    let Some(root) = kernel_root() else { return };
    if read_cr3() != root {
        // SAFETY: the kernel page table maps the whole kernel, and it is
        // never freed.
        unsafe { write_cr3(root) };
    }
}

//! x86_64 page-table hardware: the entry format, CR3, the TLB, and the
//! building of the kernel's own page tables at boot.
//!
//! Linux: arch/x86/mm/.

pub mod init_64;
pub mod ioremap;
pub mod mmu_context;
pub mod pgtable_types;
pub mod tlb;

//! Paging control: CR3, the TLB, and the CPU features paging depends on
//! (no-execute, global pages, 1 GiB pages).
//!
//! Linux: arch/x86/mm/tlb.c, arch/x86/include/asm/tlbflush.h,
//! arch/x86/include/asm/special_insns.h.
//!
//! These act on the local CPU only. Once other CPUs run, changing a kernel
//! mapping that they may have cached needs a TLB shootdown IPI (Linux:
//! `flush_tlb_kernel_range`); the callers that would need it are marked.

use core::sync::atomic::{AtomicBool, Ordering};

use raw_cpuid::CpuId;
use x86_64::registers::control::{Cr0, Cr0Flags, Cr3, Cr4, Cr4Flags};
use x86_64::registers::model_specific::{Efer, EferFlags};
use x86_64::structures::paging::PhysFrame;

use crate::mm::addr::{PhysAddr, VirtAddr};

/// Paging features found by [`probe_paging_features`] (Linux: the
/// `X86_FEATURE_NX`, `X86_FEATURE_PGE`, `X86_FEATURE_GBPAGES` bits).
static HAS_NX: AtomicBool = AtomicBool::new(false);
static HAS_PGE: AtomicBool = AtomicBool::new(false);
static HAS_GBPAGES: AtomicBool = AtomicBool::new(false);

/// Reads the paging-related CPUID bits once, on the boot CPU.
pub fn probe_paging_features() {
    let cpuid = CpuId::new();
    let ext = cpuid.get_extended_processor_and_feature_identifiers();
    // CPUID 0x80000001 EDX bit 20 (NX) and bit 26 (Page1GB).
    HAS_NX.store(ext.as_ref().is_some_and(|e| e.has_execute_disable()), Ordering::Relaxed);
    HAS_GBPAGES.store(ext.as_ref().is_some_and(|e| e.has_1gib_pages()), Ordering::Relaxed);
    HAS_PGE.store(cpuid.get_feature_info().is_some_and(|f| f.has_pge()), Ordering::Relaxed);
}

pub fn cpu_has_nx() -> bool {
    HAS_NX.load(Ordering::Relaxed)
}

pub fn cpu_has_pge() -> bool {
    HAS_PGE.load(Ordering::Relaxed)
}

pub fn cpu_has_gbpages() -> bool {
    HAS_GBPAGES.load(Ordering::Relaxed)
}

/// Turns on what the kernel's page tables rely on: EFER.NXE (without it
/// the NX bit is reserved and faults), CR4.PGE, CR0.WP (the kernel too
/// obeys read-only pages, as copy-on-write will need).
pub fn enable_paging_features() {
    if cpu_has_nx() {
        // SAFETY: NXE only gives meaning to bit 63 of entries; the boot
        // tables and ours set that bit only when NX exists.
        unsafe { Efer::update(|f| f.insert(EferFlags::NO_EXECUTE_ENABLE)) };
    }
    if cpu_has_pge() {
        // SAFETY: PGE makes GLOBAL entries survive CR3 loads; the kernel half
        // is the same in every address space, which is what GLOBAL claims.
        unsafe { Cr4::update(|f| f.insert(Cr4Flags::PAGE_GLOBAL)) };
    }
    // SAFETY: WP makes ring 0 honour read-only pages; the kernel writes only
    // through writable mappings.
    unsafe { Cr0::update(|f| f.insert(Cr0Flags::WRITE_PROTECT)) };
}

/// The physical address of the current top-level table (Linux: `__read_cr3`).
pub fn read_cr3() -> PhysAddr {
    let (frame, _) = Cr3::read_raw();
    PhysAddr::new(frame.start_address().as_u64())
}

/// Switches to the page tables rooted at `pml4` (Linux: `write_cr3`).
///
/// # Safety
/// `pml4` must be a page-aligned top-level table that maps the running
/// code, its stack and everything the kernel is about to touch, with the
/// kernel half the same as in every other address space.
pub unsafe fn write_cr3(pml4: PhysAddr) {
    let frame = PhysFrame::containing_address(x86_64::PhysAddr::new_truncate(pml4.as_u64()));
    // SAFETY: the caller promises `pml4` maps everything we run on.
    unsafe { Cr3::write_raw(frame, 0) };
}

/// Drops the TLB entry for one kernel page on this CPU (Linux:
/// `flush_tlb_one_kernel`, the `invlpg` instruction). Other CPUs need a
/// shootdown once SMP runs.
pub fn flush_tlb_one_kernel(va: VirtAddr) {
    x86_64::instructions::tlb::flush(x86_64::VirtAddr::new_truncate(va.as_u64()));
}

/// Drops every TLB entry on this CPU, global ones too (Linux:
/// `__flush_tlb_all`): toggling CR4.PGE flushes globals, a CR3 reload the
/// rest.
pub fn flush_tlb_all() {
    if cpu_has_pge() {
        let cr4 = Cr4::read();
        // SAFETY: clearing and restoring PGE changes no mapping; it only
        // empties the TLB, global entries included.
        unsafe { Cr4::write(cr4 - Cr4Flags::PAGE_GLOBAL) };
        // SAFETY: as above, restores the flags read a moment ago.
        unsafe { Cr4::write(cr4) };
    } else {
        x86_64::instructions::tlb::flush_all();
    }
}

//! CPU identification: vendor, model name, family/model/stepping and the
//! feature bits the rest of the kernel asks about.
//!
//! Linux: arch/x86/kernel/cpu/common.c (`early_cpu_init`, `identify_cpu`,
//! `print_cpu_info`), arch/x86/include/asm/cpufeature.h (`boot_cpu_has`).
//!
//! Key type: [`CpuInfoX86`] (Linux: `struct cpuinfo_x86`); the boot CPU's is
//! [`boot_cpu_data`]. Ferrite assumes all CPUs share the boot CPU's features,
//! as Linux does once it has checked the secondaries.
//!
//! # Locking
//! `BOOT_CPU_DATA` is written once by `early_cpu_init` on the boot CPU before
//! any other CPU runs (`spin::Once`), and is read-only afterwards.

use bitflags::bitflags;
use raw_cpuid::{CpuId, CpuIdReaderNative};

use crate::pr_info;

bitflags! {
    /// The CPU features Ferrite uses (Linux: the `X86_FEATURE_*` bits).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct X86Feature: u64 {
        const APIC = 1 << 0;
        const X2APIC = 1 << 1;
        const TSC_DEADLINE_TIMER = 1 << 2;
        /// The TSC ticks at a constant rate in all P-, C- and T-states.
        const NONSTOP_TSC = 1 << 3;
        const NX = 1 << 4;
        const GBPAGES = 1 << 5;
        const PCID = 1 << 6;
        const INVPCID = 1 << 7;
        const SMEP = 1 << 8;
        const SMAP = 1 << 9;
        const XSAVE = 1 << 10;
        const AVX = 1 << 11;
        const AVX2 = 1 << 12;
        const AVX512F = 1 << 13;
        const FSGSBASE = 1 << 14;
        const PGE = 1 << 15;
        const PAT = 1 << 16;
        const RDRAND = 1 << 17;
        const RDSEED = 1 << 18;
        const RDTSCP = 1 << 19;
        const HYPERVISOR = 1 << 20;
        const UMIP = 1 << 21;
        const LA57 = 1 << 22;
        const FXSR = 1 << 23;
        const SYSCALL = 1 << 24;
        const XSAVEOPT = 1 << 25;
    }
}

/// What identifying a CPU found (Linux: `struct cpuinfo_x86`).
#[derive(Clone, Debug)]
pub struct CpuInfoX86 {
    /// "GenuineIntel", "AuthenticAMD", ...
    pub x86_vendor_id: [u8; 12],
    /// The brand string, e.g. "QEMU TCG CPU version 2.5+"; NUL padded.
    pub x86_model_id: [u8; 48],
    pub x86: u8,
    pub x86_model: u8,
    pub x86_stepping: u8,
    /// The initial APIC id CPUID reports (leaf 1, EBX[31:24]).
    pub initial_apicid: u8,
    pub x86_capability: X86Feature,
}

impl CpuInfoX86 {
    pub fn vendor(&self) -> &str {
        ascii_str(&self.x86_vendor_id)
    }

    pub fn model_name(&self) -> &str {
        ascii_str(&self.x86_model_id).trim()
    }
}

/// The bytes up to the first NUL, or "" if they are not UTF-8.
fn ascii_str(bytes: &[u8]) -> &str {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    core::str::from_utf8(&bytes[..end]).unwrap_or("")
}

static BOOT_CPU_DATA: spin::Once<CpuInfoX86> = spin::Once::new();

/// Identifies the CPU executing this (Linux: `identify_cpu`).
pub fn identify_cpu() -> CpuInfoX86 {
    let cpuid = CpuId::new();
    let mut c = CpuInfoX86 {
        x86_vendor_id: [0; 12],
        x86_model_id: [0; 48],
        x86: 0,
        x86_model: 0,
        x86_stepping: 0,
        initial_apicid: 0,
        x86_capability: X86Feature::empty(),
    };
    if let Some(v) = cpuid.get_vendor_info() {
        copy_str(&mut c.x86_vendor_id, v.as_str());
    }
    if let Some(b) = cpuid.get_processor_brand_string() {
        copy_str(&mut c.x86_model_id, b.as_str());
    }
    if let Some(fi) = cpuid.get_feature_info() {
        c.x86 = fi.family_id();
        c.x86_model = fi.model_id();
        c.x86_stepping = fi.stepping_id();
        c.initial_apicid = fi.initial_local_apic_id();
    }
    c.x86_capability = read_features(&cpuid);
    c
}

fn copy_str(dst: &mut [u8], src: &str) {
    let n = src.len().min(dst.len());
    dst[..n].copy_from_slice(&src.as_bytes()[..n]);
}

/// Collects the feature bits from CPUID leaves 1, 7, 0xd, 0x80000001 and
/// 0x80000007.
fn read_features(cpuid: &CpuId<CpuIdReaderNative>) -> X86Feature {
    let mut f = X86Feature::empty();
    if let Some(fi) = cpuid.get_feature_info() {
        f.set(X86Feature::APIC, fi.has_apic());
        f.set(X86Feature::X2APIC, fi.has_x2apic());
        f.set(X86Feature::TSC_DEADLINE_TIMER, fi.has_tsc_deadline());
        f.set(X86Feature::PCID, fi.has_pcid());
        f.set(X86Feature::XSAVE, fi.has_xsave());
        f.set(X86Feature::AVX, fi.has_avx());
        f.set(X86Feature::PGE, fi.has_pge());
        f.set(X86Feature::PAT, fi.has_pat());
        f.set(X86Feature::RDRAND, fi.has_rdrand());
        f.set(X86Feature::HYPERVISOR, fi.has_hypervisor());
        f.set(X86Feature::FXSR, fi.has_fxsave_fxstor());
    }
    if let Some(ef) = cpuid.get_extended_feature_info() {
        f.set(X86Feature::INVPCID, ef.has_invpcid());
        f.set(X86Feature::SMEP, ef.has_smep());
        f.set(X86Feature::SMAP, ef.has_smap());
        f.set(X86Feature::AVX2, ef.has_avx2());
        f.set(X86Feature::AVX512F, ef.has_avx512f());
        f.set(X86Feature::FSGSBASE, ef.has_fsgsbase());
        f.set(X86Feature::RDSEED, ef.has_rdseed());
        f.set(X86Feature::UMIP, ef.has_umip());
        f.set(X86Feature::LA57, ef.has_la57());
    }
    if let Some(xs) = cpuid.get_extended_state_info() {
        f.set(X86Feature::XSAVEOPT, xs.has_xsaveopt());
    }
    if let Some(ext) = cpuid.get_extended_processor_and_feature_identifiers() {
        f.set(X86Feature::NX, ext.has_execute_disable());
        f.set(X86Feature::GBPAGES, ext.has_1gib_pages());
        f.set(X86Feature::RDTSCP, ext.has_rdtscp());
        f.set(X86Feature::SYSCALL, ext.has_syscall_sysret());
    }
    if let Some(apm) = cpuid.get_advanced_power_mgmt_info() {
        f.set(X86Feature::NONSTOP_TSC, apm.has_invariant_tsc());
    }
    f
}

/// Identifies the boot CPU and prints what it is (Linux: `early_cpu_init`
/// and `print_cpu_info`). Idempotent.
pub fn early_cpu_init() {
    let c = BOOT_CPU_DATA.call_once(identify_cpu);
    pr_info!(
        "smpboot: CPU0: {} (family: {:#x}, model: {:#x}, stepping: {:#x})",
        c.model_name(),
        c.x86,
        c.x86_model,
        c.x86_stepping
    );
    pr_info!("x86/cpu: Vendor {}, features: {:?}", c.vendor(), c.x86_capability);
}

/// The boot CPU's identification; identifies it on first use.
pub fn boot_cpu_data() -> &'static CpuInfoX86 {
    BOOT_CPU_DATA.call_once(identify_cpu)
}

/// Whether the boot CPU has all of `feature` (Linux: `boot_cpu_has`).
pub fn boot_cpu_has(feature: X86Feature) -> bool {
    boot_cpu_data().x86_capability.contains(feature)
}

crate::ktest!(cpu_identified, {
    let c = boot_cpu_data();
    crate::kassert!(!c.vendor().is_empty(), "CPUID gave a vendor");
    crate::kassert!(boot_cpu_has(X86Feature::APIC), "an x86_64 CPU has a local APIC");
    crate::kassert!(boot_cpu_has(X86Feature::FXSR), "an x86_64 CPU has FXSAVE");
    Ok(())
});

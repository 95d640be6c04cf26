//! /proc/cpuinfo: one block per online CPU (Linux:
//! arch/x86/kernel/cpu/proc.c `show_cpuinfo`, the flag names of
//! arch/x86/include/asm/cpufeatures.h as mkcapflags.sh turns them into
//! `x86_cap_flags`).
//!
//! Ferrite runs on one CPU. The flags are the CPUID bits Linux names, in
//! Linux's word order (CPUID 1 EDX, 0x80000001 EDX, 1 ECX, 0x80000001 ECX,
//! 7 EBX, 0xd.1 EAX, 7 ECX, 7 EDX); Linux's synthetic flags (`constant_tsc`,
//! `rep_good`…) are its own conclusions and are left out, as are the lines
//! Linux only prints when it knows the value (`microcode`, `cache size`).
//! `bogomips` is what Linux derives from a calibrated TSC (`lpj_fine`).
//!
//! # Locking
//! None: CPUID and the boot CPU's data are read-only.
#![deny(unsafe_code)]

use raw_cpuid::cpuid;

use super::generic::SeqBuf;
use crate::arch::cpu::boot_cpu_data;
use crate::kernel::errno::KResult;
use crate::kernel::time::tsc_khz;

/// The names of one 32-bit CPUID register's bits; "" for bits Linux does
/// not show.
type FlagWord = [&'static str; 32];

/// CPUID 1, EDX (Linux: word 0).
const WORD0: FlagWord = [
    "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "", "sep", "mtrr", "pge",
    "mca", "cmov", "pat", "pse36", "pn", "clflush", "", "dts", "acpi", "mmx", "fxsr", "sse",
    "sse2", "ss", "ht", "tm", "ia64", "pbe",
];
/// CPUID 0x80000001, EDX (Linux: word 1; the bits mirroring word 0 are
/// not named again).
const WORD1: FlagWord = [
    "", "", "", "", "", "", "", "", "", "", "", "syscall", "", "", "", "", "", "", "", "mp", "nx",
    "", "mmxext", "", "", "fxsr_opt", "pdpe1gb", "rdtscp", "", "lm", "3dnowext", "3dnow",
];
/// CPUID 1, ECX (Linux: word 4).
const WORD4: FlagWord = [
    "pni",
    "pclmulqdq",
    "dtes64",
    "monitor",
    "ds_cpl",
    "vmx",
    "smx",
    "est",
    "tm2",
    "ssse3",
    "cid",
    "sdbg",
    "fma",
    "cx16",
    "xtpr",
    "pdcm",
    "",
    "pcid",
    "dca",
    "sse4_1",
    "sse4_2",
    "x2apic",
    "movbe",
    "popcnt",
    "tsc_deadline_timer",
    "aes",
    "xsave",
    "",
    "avx",
    "f16c",
    "rdrand",
    "hypervisor",
];
/// CPUID 0x80000001, ECX (Linux: word 6).
const WORD6: FlagWord = [
    "lahf_lm",
    "cmp_legacy",
    "svm",
    "extapic",
    "cr8_legacy",
    "abm",
    "sse4a",
    "misalignsse",
    "3dnowprefetch",
    "osvw",
    "ibs",
    "xop",
    "skinit",
    "wdt",
    "",
    "lwp",
    "fma4",
    "tce",
    "",
    "nodeid_msr",
    "",
    "tbm",
    "topoext",
    "perfctr_core",
    "perfctr_nb",
    "",
    "bpext",
    "ptsc",
    "perfctr_llc",
    "mwaitx",
    "",
    "",
];
/// CPUID 7.0, EBX (Linux: word 9).
const WORD9: FlagWord = [
    "fsgsbase",
    "tsc_adjust",
    "sgx",
    "bmi1",
    "hle",
    "avx2",
    "",
    "smep",
    "bmi2",
    "erms",
    "invpcid",
    "rtm",
    "cqm",
    "",
    "mpx",
    "rdt_a",
    "avx512f",
    "avx512dq",
    "rdseed",
    "adx",
    "smap",
    "avx512ifma",
    "",
    "clflushopt",
    "clwb",
    "intel_pt",
    "avx512pf",
    "avx512er",
    "avx512cd",
    "sha_ni",
    "avx512bw",
    "avx512vl",
];
/// CPUID 0xd.1, EAX (Linux: word 10).
const WORD10: FlagWord = {
    let mut w = [""; 32];
    w[0] = "xsaveopt";
    w[1] = "xsavec";
    w[2] = "xgetbv1";
    w[3] = "xsaves";
    w[4] = "xfd";
    w
};
/// CPUID 7.0, ECX (Linux: word 16).
const WORD16: FlagWord = [
    "",
    "avx512vbmi",
    "umip",
    "pku",
    "ospke",
    "waitpkg",
    "avx512_vbmi2",
    "",
    "gfni",
    "vaes",
    "vpclmulqdq",
    "avx512_vnni",
    "avx512_bitalg",
    "tme",
    "avx512_vpopcntdq",
    "",
    "la57",
    "",
    "",
    "",
    "",
    "",
    "rdpid",
    "",
    "bus_lock_detect",
    "cldemote",
    "",
    "movdiri",
    "movdir64b",
    "enqcmd",
    "sgx_lc",
    "",
];
/// CPUID 7.0, EDX (Linux: word 18).
const WORD18: FlagWord = [
    "",
    "",
    "avx512_4vnniw",
    "avx512_4fmaps",
    "fsrm",
    "",
    "",
    "",
    "avx512_vp2intersect",
    "",
    "md_clear",
    "",
    "",
    "",
    "serialize",
    "",
    "tsxldtrk",
    "",
    "pconfig",
    "arch_lbr",
    "ibt",
    "",
    "amx_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_int8",
    "",
    "",
    "flush_l1d",
    "arch_capabilities",
    "",
    "",
];

/// Each named word with its CPUID register, in Linux's order.
fn flag_words() -> [(u32, &'static FlagWord); 8] {
    let max = cpuid!(0).eax;
    let max_ext = cpuid!(0x8000_0000u32).eax;
    let leaf = |l: u32, sub: u32| (l <= max).then(|| cpuid!(l, sub));
    let ext = (max_ext >= 0x8000_0001).then(|| cpuid!(0x8000_0001u32));
    let l1 = leaf(1, 0);
    let l7 = leaf(7, 0);
    [
        (l1.map_or(0, |r| r.edx), &WORD0),
        (ext.map_or(0, |r| r.edx), &WORD1),
        (l1.map_or(0, |r| r.ecx), &WORD4),
        (ext.map_or(0, |r| r.ecx), &WORD6),
        (l7.map_or(0, |r| r.ebx), &WORD9),
        (leaf(0xd, 1).map_or(0, |r| r.eax), &WORD10),
        (l7.map_or(0, |r| r.ecx), &WORD16),
        (l7.map_or(0, |r| r.edx), &WORD18),
    ]
}

/// The `flags` line's value, each name followed by a space as Linux
/// prints it.
fn show_flags(m: &mut SeqBuf) -> KResult<()> {
    for (reg, names) in flag_words() {
        for (bit, name) in names.iter().enumerate() {
            if !name.is_empty() && reg & (1 << bit) != 0 {
                m.printf(format_args!(" {name}"))?;
            }
        }
    }
    Ok(())
}

/// Linux: `show_cpuinfo` for CPU 0.
pub fn show_cpuinfo(m: &mut SeqBuf) -> KResult<()> {
    let c = boot_cpu_data();
    let khz = tsc_khz();
    let l1 = cpuid!(1);
    let max_ext = cpuid!(0x8000_0000u32).eax;
    let sizes = if max_ext >= 0x8000_0008 { cpuid!(0x8000_0008u32).eax } else { 0 };
    let clflush = ((l1.ebx >> 8) & 0xff) * 8;
    m.printf(format_args!(
        "processor\t: 0\nvendor_id\t: {}\ncpu family\t: {}\nmodel\t\t: {}\nmodel name\t: {}\n\
         stepping\t: {}\n",
        c.vendor(),
        c.x86,
        c.x86_model,
        c.model_name(),
        c.x86_stepping,
    ))?;
    m.printf(format_args!(
        "cpu MHz\t\t: {}.{:03}\nphysical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\n\
         apicid\t\t: {apic}\ninitial apicid\t: {apic}\nfpu\t\t: {fpu}\nfpu_exception\t: {fpu}\n\
         cpuid level\t: {}\nwp\t\t: yes\nflags\t\t:",
        khz / 1000,
        khz % 1000,
        cpuid!(0).eax,
        apic = c.initial_apicid,
        fpu = if l1.edx & 1 != 0 { "yes" } else { "no" },
    ))?;
    show_flags(m)?;
    m.printf(format_args!(
        "\nbugs\t\t:\nbogomips\t: {}.{:02}\nclflush size\t: {clflush}\ncache_alignment\t: {clflush}\n\
         address sizes\t: {} bits physical, {} bits virtual\npower management:\n\n",
        khz / 500,
        khz / 5 % 100,
        sizes & 0xff,
        (sizes >> 8) & 0xff,
    ))
}

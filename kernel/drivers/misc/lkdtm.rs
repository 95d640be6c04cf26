//! Deliberate crashes, to check that each one ends in a readable oops and a
//! clean stop rather than a hang or a triple fault.
//!
//! Linux: drivers/misc/lkdtm/ (core.c, bugs.c, perms.c), the "Linux Kernel
//! Dump Test Module", whose crash type names are kept.
//!
//! `lkdtm=NAME` on the command line triggers NAME at the end of
//! `start_kernel` (Linux takes `lkdtm.cpoint_type=` at boot or writes to
//! /sys/kernel/debug/provoke-crash/DIRECT; this is the "direct" point).
//!
//! ```text
//! EXCEPTION       NULL write              → #PF oops, error_code(0x0002) not-present
//! EXHAUST_STACK   unbounded recursion     → guard page → #DF → "kernel stack overflow"
//! WRITE_RO        write to .rodata        → #PF oops, error_code(0x0003) permissions violation
//! EXEC_DATA       call into .data         → #PF oops, instruction fetch (NX)
//! DIVIDE_ERROR    div by zero             → "divide error: 0000"
//! BUG             Rust panic              → "Kernel panic - not syncing: lkdtm BUG"
//! INVALID_OPCODE  ud2                     → "invalid opcode: 0000"
//! ```
//!
//! # Locking
//! None.

use core::arch::asm;
use core::cell::UnsafeCell;
use core::hint::black_box;

use crate::{pr_err, pr_info};

/// A crash point (Linux: `struct crashtype`).
struct CrashType {
    name: &'static str,
    func: fn(),
}

const CRASHTYPES: &[CrashType] = &[
    CrashType { name: "EXCEPTION", func: lkdtm_exception },
    CrashType { name: "EXHAUST_STACK", func: lkdtm_exhaust_stack },
    CrashType { name: "WRITE_RO", func: lkdtm_write_ro },
    CrashType { name: "EXEC_DATA", func: lkdtm_exec_data },
    CrashType { name: "DIVIDE_ERROR", func: lkdtm_divide_error },
    CrashType { name: "BUG", func: lkdtm_bug },
    CrashType { name: "INVALID_OPCODE", func: lkdtm_invalid_opcode },
];

/// Triggers the crash named by `lkdtm=NAME` in `cmdline`, if any.
pub fn run(cmdline: &str) {
    let Some(name) = cmdline.split_whitespace().find_map(|w| w.strip_prefix("lkdtm=")) else {
        return;
    };
    match CRASHTYPES.iter().find(|c| c.name == name) {
        Some(crash) => {
            pr_info!("lkdtm: Performing direct entry {}", crash.name);
            (crash.func)();
            pr_err!("lkdtm: FAIL: {} did not crash", crash.name);
        }
        None => pr_err!("lkdtm: Unknown crash type '{name}'"),
    }
}

#[inline(never)]
fn lkdtm_exception() {
    // SAFETY: address 0 is never mapped, so the store faults and the oops
    // never returns here; no Rust-visible memory changes. Inline asm,
    // because a Rust null write would be undefined behaviour, not a fault.
    unsafe { asm!("mov dword ptr [{}], 0", in(reg) black_box(0u64), options(nostack)) };
}

/// Each level keeps 1 KiB live, as Linux's `recursive_loop`.
#[inline(never)]
fn recursive_loop(remaining: u64) -> u64 {
    let mut buf = [0u8; 1024];
    buf[0] = remaining.to_le_bytes()[0];
    let buf = black_box(buf);
    if remaining == 0 {
        return u64::from(buf[0]);
    }
    let deeper = recursive_loop(black_box(remaining - 1));
    deeper + u64::from(black_box(buf)[1])
}

#[inline(never)]
fn lkdtm_exhaust_stack() {
    // Far more than any kernel stack holds.
    black_box(recursive_loop(black_box(1 << 20)));
}

static RODATA: u64 = 0xaa55_aa55;

#[inline(never)]
fn lkdtm_write_ro() {
    let ptr = black_box(core::ptr::from_ref(&RODATA).addr());
    pr_info!("lkdtm: attempting bad rodata write at {ptr:#x}");
    // SAFETY: the target is mapped read-only, so the store faults and the
    // oops never returns; if it did not fault (early RWX page tables), the
    // static is only read through `black_box`ed addresses.
    unsafe { asm!("mov qword ptr [{}], 0", in(reg) ptr, options(nostack)) };
}

/// A `ret` instruction in writable, non-executable data.
struct DataArea(UnsafeCell<[u8; 16]>);
// SAFETY: never written; only its address is used (to execute it).
unsafe impl Sync for DataArea {}
static DATA_AREA: DataArea = DataArea(UnsafeCell::new([0xc3; 16]));

#[inline(never)]
fn lkdtm_exec_data() {
    let ptr = black_box(DATA_AREA.0.get().addr());
    pr_info!("lkdtm: attempting bad execution at {ptr:#x}");
    // SAFETY: the target is a lone `ret`: with NX it faults on fetch and the
    // oops never returns; without NX it returns at once, clobbering only
    // what the C ABI allows.
    unsafe { asm!("call {}", in(reg) ptr, clobber_abi("C")) };
}

#[inline(never)]
fn lkdtm_divide_error() {
    // SAFETY: only registers are touched; the #DE's oops never returns
    // (Rust's `/` would check and panic instead of trapping).
    unsafe {
        asm!("xor edx, edx", "div {0:e}", in(reg) black_box(0u32), inout("eax") 1u32 => _, out("edx") _,
             options(nostack));
    }
}

#[inline(never)]
fn lkdtm_bug() {
    panic!("lkdtm BUG");
}

#[inline(never)]
fn lkdtm_invalid_opcode() {
    // SAFETY: ud2 raises #UD, whose oops never returns; no state changes.
    unsafe { asm!("ud2", options(nostack)) };
}

//! The exception table: instructions that may fault on purpose, and where
//! execution continues when they do.
//!
//! Linux: arch/x86/mm/extable.c (`fixup_exception`),
//! arch/x86/include/asm/asm.h (`_ASM_EXTABLE`), mm/maccess.c
//! (`copy_from_kernel_nofault`).
//!
//! Code that touches memory which may not be there (user memory, or a
//! pointer being probed) puts `(instruction, fixup)` into the `__ex_table`
//! section, as self-relative 32-bit offsets like Linux's
//! `struct exception_table_entry`. The page-fault and general-protection
//! handlers look the faulting RIP up here before deciding on an oops; a hit
//! resumes at the fixup instead. The table is searched linearly: it has a
//! handful of entries (Linux sorts it at build time for its thousands).
//!
//! # Locking
//! The table is read-only.

use core::arch::asm;

use super::ptrace::PtRegs;
use crate::mm::addr::VirtAddr;

/// The assembler text of one `__ex_table` entry: a fault at label `$insn`
/// resumes at label `$fixup` (Linux: `_ASM_EXTABLE(from, to)`). For use
/// inside `asm!`, e.g. `asm_extable!("2b", "3b")`.
macro_rules! asm_extable {
    ($insn:literal, $fixup:literal) => {
        concat!(
            ".pushsection __ex_table, \"a\"\n",
            ".balign 4\n",
            ".long ",
            $insn,
            " - .\n",
            ".long ",
            $fixup,
            " - .\n",
            ".popsection",
        )
    };
}
pub(crate) use asm_extable;

/// One entry (Linux: `struct exception_table_entry`): both fields are
/// offsets from the field's own address.
#[repr(C)]
pub struct ExceptionTableEntry {
    insn: i32,
    fixup: i32,
}

impl ExceptionTableEntry {
    fn field_addr(field: &i32) -> u64 {
        let at = core::ptr::from_ref(field).addr() as u64;
        at.wrapping_add_signed(i64::from(*field))
    }

    pub fn insn(&self) -> u64 {
        Self::field_addr(&self.insn)
    }

    pub fn fixup(&self) -> u64 {
        Self::field_addr(&self.fixup)
    }
}

unsafe extern "C" {
    static __start___ex_table: ExceptionTableEntry;
    static __stop___ex_table: ExceptionTableEntry;
}

fn exception_table() -> &'static [ExceptionTableEntry] {
    let start = &raw const __start___ex_table;
    let end = &raw const __stop___ex_table;
    let len = (end.addr() - start.addr()) / size_of::<ExceptionTableEntry>();
    // SAFETY:
    // 1. linker.ld places `__start___ex_table`/`__stop___ex_table` around the
    //    `__ex_table` output section, which holds only 4-aligned 8-byte
    //    entries emitted by the asm in this file.
    // 2. The section is in read-only data and lives as long as the kernel.
    unsafe { core::slice::from_raw_parts(start, len) }
}

/// The fixup address for a fault at `ip`, if `ip` is in the table
/// (Linux: `search_exception_tables`).
pub fn search_exception_tables(ip: u64) -> Option<u64> {
    exception_table().iter().find(|e| e.insn() == ip).map(ExceptionTableEntry::fixup)
}

/// Resumes a faulting kernel context at its fixup, if it has one; returns
/// whether it did (Linux: `fixup_exception`).
pub fn fixup_exception(regs: &mut PtRegs) -> bool {
    match search_exception_tables(regs.rip) {
        Some(fixup) => {
            regs.rip = fixup;
            true
        }
        None => false,
    }
}

/// A failed access to memory that is not mapped or not readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Efault;

/// Reads 8 bytes at `addr`, or fails if that faults (Linux:
/// `copy_from_kernel_nofault`, `get_kernel_nofault`).
///
/// Unmapped, non-canonical or protected addresses give `Err(Efault)`
/// instead of an oops; so do user addresses (below the kernel half), as in
/// Linux, because reading those needs the user-access rules.
pub fn probe_read_u64(addr: VirtAddr) -> Result<u64, Efault> {
    if addr.as_u64() < 1 << 63 {
        return Err(Efault);
    }
    let value: u64;
    let failed: u64;
    // SAFETY:
    // 1. The load only reads; if `addr` is not readable the CPU faults, and
    //    the handler finds label 2 in `__ex_table` and resumes at label 3
    //    with `failed` still 1, so the fault never escapes this block.
    // 2. A successful read of an arbitrary kernel address has no side
    //    effect on Rust-visible state: it is a plain load into a register.
    unsafe {
        asm!(
            "mov {failed:e}, 1",
            "2: mov {value}, qword ptr [{addr}]",
            "xor {failed:e}, {failed:e}",
            "3:",
            asm_extable!("2b", "3b"),
            addr = in(reg) addr.as_u64(),
            value = out(reg) value,
            failed = out(reg) failed,
            options(nostack, readonly),
        );
    }
    if failed == 0 { Ok(value) } else { Err(Efault) }
}

crate::ktest!(extable_probe_read, {
    static MAPPED: u64 = 0x0123_4567_89ab_cdef;
    let mapped = VirtAddr::new(core::ptr::from_ref(&MAPPED).addr() as u64);
    crate::kassert!(probe_read_u64(mapped) == Ok(0x0123_4567_89ab_cdef), "mapped read works");
    let unmapped = VirtAddr::new(crate::mm::addr::VMALLOC_END & !0xfff);
    crate::kassert!(probe_read_u64(unmapped) == Err(Efault), "unmapped vmalloc is Efault");
    let noncanonical = VirtAddr::new(0xdead_0000_0000_0000);
    crate::kassert!(probe_read_u64(noncanonical) == Err(Efault), "non-canonical (#GP) is Efault");
    crate::kassert!(probe_read_u64(VirtAddr::new(0x1000)) == Err(Efault), "user address refused");
    Ok(())
});

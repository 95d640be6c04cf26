//! Page faults, from user mode and from the kernel.
//!
//! Linux: arch/x86/include/asm/trace/exceptions.h
//! (`exceptions:page_fault_user`, `page_fault_kernel`), fired from
//! arch/x86/mm/fault.c `trace_page_fault_entries`.
//!
//! # Locking
//! None beyond the ring's; they fire at the top of the fault handler,
//! with whatever the faulting code held.
#![deny(unsafe_code)]

use core::fmt;
use core::sync::atomic::AtomicBool;

use super::{Entry, Field, TraceEvent, rd_u64};

const FIELDS: &[Field] = &[
    Field { decl: "unsigned long address", offset: 8, size: 8, signed: false },
    Field { decl: "unsigned long ip", offset: 16, size: 8, signed: false },
    Field { decl: "unsigned long error_code", offset: 24, size: 8, signed: false },
];
const FMT: &str = "\"address=%ps ip=%ps error_code=0x%lx\", (void *)REC->address, (void *)REC->ip, REC->error_code";

pub static PAGE_FAULT_USER: TraceEvent = TraceEvent {
    system: "exceptions",
    name: "page_fault_user",
    id: 118,
    enabled: AtomicBool::new(false),
    fields: FIELDS,
    print_fmt: FMT,
    output,
};

pub static PAGE_FAULT_KERNEL: TraceEvent = TraceEvent {
    system: "exceptions",
    name: "page_fault_kernel",
    id: 117,
    enabled: AtomicBool::new(false),
    fields: FIELDS,
    print_fmt: FMT,
    output,
};

/// Linux: `trace_page_fault_entries(regs, error_code, address)`: the
/// user or the kernel event by the mode that faulted.
#[inline(always)]
pub fn trace_page_fault_entries(user: bool, address: u64, ip: u64, error_code: u64) {
    let ev = if user { &PAGE_FAULT_USER } else { &PAGE_FAULT_KERNEL };
    if ev.is_enabled() {
        record(ev, address, ip, error_code);
    }
}

#[cold]
#[inline(never)]
fn record(ev: &TraceEvent, address: u64, ip: u64, error_code: u64) {
    let mut e = Entry::new(ev, 32);
    e.put(8, &address.to_le_bytes());
    e.put(16, &ip.to_le_bytes());
    e.put(24, &error_code.to_le_bytes());
    e.commit();
}

/// Linux's `%ps`: a kernel symbol's name, else the address in hex.
fn symbol(m: &mut dyn fmt::Write, addr: u64) -> fmt::Result {
    const KERNEL_START: u64 = 0xffff_8000_0000_0000;
    match (addr >= KERNEL_START).then(|| crate::kernel::kallsyms::lookup(addr)).flatten() {
        Some((name, _, _)) => m.write_str(name),
        None => write!(m, "{addr:#x}"),
    }
}

fn output(p: &[u8], m: &mut dyn fmt::Write) -> fmt::Result {
    m.write_str("address=")?;
    symbol(m, rd_u64(p, 8))?;
    m.write_str(" ip=")?;
    symbol(m, rd_u64(p, 16))?;
    write!(m, " error_code={:#x}", rd_u64(p, 24))
}

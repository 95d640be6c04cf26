//! The page-fault exception: fixups, and the oops for a kernel fault.
//!
//! Linux: arch/x86/mm/fault.c (`exc_page_fault`, `show_fault_oops`,
//! `dump_pagetable`, `page_fault_oops`).
//!
//! The CPU reports the faulting address in CR2 and why in the error code
//! (the course notes' "Page fault handling in X86: Hardware"): P = the page
//! was present, so this is a protection fault; W = a write; U = from user
//! mode; R = a reserved bit was set in a paging entry; I = an instruction
//! fetch. A fault on a user address, from user mode or from a kernel
//! instruction listed in the exception table (`copy_from_user`), goes to
//! [`do_user_addr_fault`] and on to the mm's `handle_user_fault`; when that
//! fails, user mode gets a signal and the kernel its fixup. Any other
//! kernel fault resumes at its fixup if it has one, else oopses.
//!
//! # Locking
//! The oops path is lock-free (see dumpstack.rs). A user fault is resolved
//! with interrupts back on if the faulting context had them on (always,
//! for user mode), since `handle_user_fault` takes the sleeping
//! `mmap_lock` and a file fault may wait for I/O. A fault from a kernel
//! user copy under a spinlock or with interrupts off breaks the lock
//! rules: mm/memory.rs reports it once and then only tries `mmap_lock`.

use x86_64::registers::control::{Cr2, Cr3};

use super::dumpstack::{die, oops_begin};
use super::extable::{fixup_exception, probe_read_u64, search_exception_tables};
use super::irqflags::{local_irq_disable, local_irq_enable};
use super::ptrace::PtRegs;
use super::syscall::X86_EFLAGS_IF;
use crate::kernel::printk::emergency_write;
use crate::mm::addr::{PAGE_SIZE, PhysAddr, phys_to_virt};
use crate::mm::memory::{FaultFlags, VmFault, handle_user_fault};
use crate::mm::mm_types::{Mm, TASK_SIZE};

/// Page-fault error code bits (Linux: `enum x86_pf_error_code`).
pub const X86_PF_PROT: u64 = 1 << 0;
pub const X86_PF_WRITE: u64 = 1 << 1;
pub const X86_PF_USER: u64 = 1 << 2;
pub const X86_PF_RSVD: u64 = 1 << 3;
pub const X86_PF_INSTR: u64 = 1 << 4;
pub const X86_PF_PK: u64 = 1 << 5;

/// Entry point from `asm_exc_page_fault` (Linux: `exc_page_fault`).
#[unsafe(no_mangle)]
extern "C" fn exc_page_fault(regs: &mut PtRegs, error_code: u64) {
    // Read CR2 first: a fault while handling this one would overwrite it.
    let address = Cr2::read_raw();
    // Linux: `trace_page_fault_entries` in `handle_page_fault`.
    crate::kernel::trace::events::exceptions::trace_page_fault_entries(
        regs.user_mode(),
        address,
        regs.rip,
        error_code,
    );
    // Linux: `fault_in_kernel_space`; user mode touching the kernel half
    // gets its signal there too.
    if address < TASK_SIZE || regs.user_mode() {
        do_user_addr_fault(regs, error_code, address);
        return;
    }
    if fixup_exception(regs) {
        return;
    }
    page_fault_oops(regs, error_code, address);
}

/// The address space of the running task, if it has one (Linux:
/// `current->mm`; a kernel thread has none).
fn current_mm() -> Option<alloc::sync::Arc<Mm>> {
    crate::mm::mm_types::current_mm()
}

/// A fault on a user address, or from user mode (Linux:
/// `do_user_addr_fault`).
fn do_user_addr_fault(regs: &mut PtRegs, error_code: u64, address: u64) {
    let user = regs.user_mode();
    // Kernel code may touch user memory only where a fixup is ready;
    // a corrupt page table (RSVD) is never the user's doing.
    if error_code & X86_PF_RSVD != 0 || (!user && search_exception_tables(regs.rip).is_none()) {
        page_fault_oops(regs, error_code, address);
    }
    // Resolving a fault allocates and may later sleep (swap-in): run it
    // with interrupts on if the faulting context had them on, as Linux
    // does; they go off again before the iret path swaps GS back.
    let irqs_were_on = regs.eflags & X86_EFLAGS_IF != 0;
    if irqs_were_on {
        local_irq_enable();
    }
    let result = resolve_user_fault(error_code, address, user);
    if result == Err(VmFault::Oom) && user {
        pagefault_out_of_memory(address);
    }
    if irqs_were_on {
        local_irq_disable();
    }
    let Err(fault) = result else { return };
    if !user {
        if fixup_exception(regs) {
            return;
        }
        page_fault_oops(regs, error_code, address);
    }
    bad_area_user(regs, error_code, address, fault);
}

/// Hands the fault to the mm of the running task (Linux: the part of
/// `do_user_addr_fault` from `lock_mm_and_find_vma` on).
fn resolve_user_fault(error_code: u64, address: u64, user: bool) -> Result<(), VmFault> {
    let mut flags = FaultFlags::empty();
    flags.set(FaultFlags::WRITE, error_code & X86_PF_WRITE != 0);
    flags.set(FaultFlags::INSTRUCTION, error_code & X86_PF_INSTR != 0);
    flags.set(FaultFlags::USER, user);
    let maperr = VmFault::Sigsegv { code: linux_raw_sys::general::SEGV_MAPERR };
    match current_mm() {
        // A read that hit a present page was refused by protection
        // (Linux: `access_error`'s X86_PF_PROT rule).
        Some(_)
            if address < TASK_SIZE
                && error_code & (X86_PF_PROT | X86_PF_WRITE | X86_PF_INSTR) == X86_PF_PROT =>
        {
            Err(VmFault::Sigsegv { code: linux_raw_sys::general::SEGV_ACCERR })
        }
        Some(mm) if address < TASK_SIZE => handle_user_fault(&mm, address, flags),
        _ => Err(maperr),
    }
}

/// A user fault found no memory for a page or a page table (Linux:
/// `pagefault_out_of_memory`, then the OOM killer). Without an OOM killer
/// choosing a victim, the faulting task is the one killed: `bad_area_user`
/// sends it SIGKILL; this logs it as Linux's OOM killer does.
fn pagefault_out_of_memory(address: u64) {
    let Some(task) = crate::kernel::sched::try_current() else { return };
    let comm = task.comm();
    crate::pr_err!(
        "Out of memory: Killed process {} ({}) faulting at {address:#x}",
        task.pid,
        crate::kernel::sched::task::comm_str(&comm)
    );
}

/// Reports a user fault the mm could not resolve (Linux:
/// `show_signal_msg` then `force_sig_fault`).
/// The signal is delivered on the way back to user mode, where the
/// faulting instruction would otherwise run again.
fn bad_area_user(regs: &PtRegs, error_code: u64, address: u64, fault: VmFault) {
    use crate::kernel::signal::{SigInfo, Signal, force_sig_info};
    let current = crate::kernel::sched::current();
    let info = match fault {
        VmFault::Sigsegv { code } => {
            show_signal_msg(&current, regs, error_code, address);
            SigInfo::fault(Signal::SIGSEGV, code.cast_signed(), address)
        }
        VmFault::Sigbus => {
            let code = linux_raw_sys::general::BUS_ADRERR.cast_signed();
            SigInfo::fault(Signal::SIGBUS, code, address)
        }
        // `pagefault_out_of_memory` normally ends the task first.
        VmFault::Oom => SigInfo::kernel(Signal::SIGKILL),
    };
    force_sig_info(info, &current);
}

/// Logs a segfault that will kill the task, in Linux's words ("sh[42]:
/// segfault at 0 ip … sp … error 4"); a task that handles SIGSEGV is not
/// logged (Linux: `show_signal_msg`, `unhandled_signal`).
fn show_signal_msg(
    task: &crate::kernel::sched::Task,
    regs: &PtRegs,
    error_code: u64,
    address: u64,
) {
    use crate::kernel::signal::{SigHandler, SigTask, Signal};
    if !matches!(task.sighand().action(Signal::SIGSEGV).sig_handler(), SigHandler::Default) {
        return;
    }
    let comm = task.comm();
    let comm = crate::kernel::sched::task::comm_str(&comm);
    let (pid, ip, sp) = (task.pid, regs.rip, regs.rsp);
    crate::pr_info!(
        "{comm}[{pid}]: segfault at {address:x} ip {ip:016x} sp {sp:016x} error {error_code:x}"
    );
}

/// Linux: `page_fault_oops`.
fn page_fault_oops(regs: &PtRegs, error_code: u64, address: u64) -> ! {
    oops_begin();
    show_fault_oops(regs, error_code, address);
    die("Oops", regs, error_code)
}

/// Linux: `show_fault_oops`.
pub fn show_fault_oops(regs: &PtRegs, error_code: u64, address: u64) {
    if error_code & X86_PF_INSTR != 0 && error_code & X86_PF_PROT != 0 && !regs.user_mode() {
        emergency_write(format_args!(
            "kernel tried to execute NX-protected page - exploit attempt? (uid: 0)"
        ));
    }
    if address < PAGE_SIZE as u64 && !regs.user_mode() {
        emergency_write(format_args!(
            "BUG: kernel NULL pointer dereference, address: {address:016x}"
        ));
    } else {
        emergency_write(format_args!(
            "BUG: unable to handle page fault for address: {address:016x}"
        ));
    }
    let who = if error_code & X86_PF_USER != 0 { "user" } else { "supervisor" };
    let access = if error_code & X86_PF_INSTR != 0 {
        "instruction fetch"
    } else if error_code & X86_PF_WRITE != 0 {
        "write access"
    } else {
        "read access"
    };
    let mode = if regs.user_mode() { "user" } else { "kernel" };
    emergency_write(format_args!("#PF: {who} {access} in {mode} mode"));
    let why = if error_code & X86_PF_PROT == 0 {
        "not-present page"
    } else if error_code & X86_PF_RSVD != 0 {
        "reserved bit violation"
    } else if error_code & X86_PF_PK != 0 {
        "protection keys violation"
    } else {
        "permissions violation"
    };
    emergency_write(format_args!("#PF: error_code({error_code:#06x}) - {why}"));
    dump_pagetable(address);
}

/// Prints the paging entries on the way to `address`, "PGD … P4D … PUD …
/// PMD … PTE …", stopping at one not present or mapping a large page
/// (Linux: `dump_pagetable`; the P4D level is folded into the PGD).
fn dump_pagetable(address: u64) {
    const PRESENT: u64 = 1;
    const HUGE: u64 = 1 << 7;
    const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
    let mut line = crate::kernel::printk::LineBuf::<160>::new();
    let mut table = Cr3::read_raw().0.start_address().as_u64();
    for (level, name) in ["PGD", "PUD", "PMD", "PTE"].into_iter().enumerate() {
        let shift = 39 - 9 * level as u64;
        let index = (address >> shift) & 0x1ff;
        let entry_va = phys_to_virt(PhysAddr::new(table + index * 8));
        let Ok(entry) = probe_read_u64(entry_va) else {
            let _ = core::fmt::Write::write_fmt(&mut line, format_args!("{name} (bad)"));
            break;
        };
        let _ = core::fmt::Write::write_fmt(&mut line, format_args!("{name} {entry:x} "));
        if level == 0 {
            let _ = core::fmt::Write::write_fmt(&mut line, format_args!("P4D {entry:x} "));
        }
        if entry & PRESENT == 0 || (level > 0 && entry & HUGE != 0) {
            break;
        }
        table = entry & ADDR_MASK;
    }
    emergency_write(format_args!("{}", core::str::from_utf8(line.as_bytes()).unwrap_or("")));
}

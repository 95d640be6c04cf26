//! Self-tests that cross into ring 3 and back: the syscall entry, `sysret`,
//! the iret path, SMAP-bracketed user copies and interrupts taken in user
//! mode, all for real.
//!
//! Linux: tools/testing/selftests/x86/ (`sysret_rip.c`, `test_syscall_vdso.c`)
//! do this from user space; Ferrite can do it before it has processes.
//!
//! The test builds a throwaway address space (a `pgd_alloc` page table with
//! one user code page, copied from `ktest_user_code` below, and one data
//! page), gives the CPU a fresh kernel stack (per-CPU top of stack and TSS
//! `sp0`), and enters the code through [`return_to_user`]'s path. The user
//! program makes a few system calls, stores each RAX in the data page, and
//! calls `exit_group`, which [`check_exit`] turns into a return to the
//! test while `RETURN_RSP` is armed (only during the test).
//!
//! # Locking
//! `RETURN_RSP` is written by the test with interrupts off and read by the
//! syscall path on the same CPU.

use core::arch::global_asm;
use core::sync::atomic::{AtomicU64, Ordering};

use super::gdt::{__USER_CS, __USER_DS, load_sp0};
use super::irqflags::{local_irq_restore, local_irq_save};
use super::mm::pgtable_types::PteFlags;
use super::mm::tlb::{read_cr3, write_cr3};
use super::percpu::{smp_processor_id, this_cpu};
use super::ptrace::PtRegs;
use super::syscall::{X86_EFLAGS_FIXED, X86_EFLAGS_IF};
use crate::mm::addr::{PAGE_SIZE, VirtAddr, phys_to_virt};
use crate::mm::kstack::KernelStack;
use crate::mm::page_alloc::{BuddyPgtableAlloc, alloc_pages, free_pages};
use crate::mm::page_table::{PageTable, pgd_alloc};

const USER_CODE: u64 = 0x40_0000;
const USER_DATA: u64 = 0x60_0000;

/// The kernel RSP to return to when the test's user program exits; 0 when
/// no test runs.
static RETURN_RSP: AtomicU64 = AtomicU64::new(0);

global_asm!(
    r#"
    .pushsection .text
    /* u64 ktest_run_user(u64 *saved_rsp, const PtRegs *regs, u64 stack_top) */
    .balign 16
ktest_run_user:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [rdi], rsp
    jmp enter_user_frame

    /* ktest_return_from_user(u64 saved_rsp): back into ktest_run_user's caller. */
    .balign 16
ktest_return_from_user:
    mov rsp, rdi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    xor eax, eax
    ret

    /* The user program: RDI = the data page. Results at [r15 + 8*i]. */
    .balign 16
ktest_user_code:
    mov r15, rdi
    mov rbx, 0x1122334455667788
    mov r12, -1
    mov eax, 63                 /* uname(1): a bad pointer */
    mov edi, 1
    syscall
    mov [r15], rax
    mov eax, 1000               /* no such syscall */
    syscall
    mov [r15 + 8], rax
    mov eax, 63                 /* uname(data + 1024) */
    lea rdi, [r15 + 1024]
    syscall
    mov [r15 + 16], rax
    mov eax, 63                 /* uname(a kernel address) */
    mov rdi, 0xffff888000000000
    syscall
    mov [r15 + 24], rax
    mov eax, 318                /* getrandom(data + 2048, 16, 0) */
    lea rdi, [r15 + 2048]
    mov esi, 16
    xor edx, edx
    syscall
    mov [r15 + 32], rax
    mov eax, 228                /* clock_gettime(CLOCK_MONOTONIC, data + 2560) */
    mov edi, 1
    lea rsi, [r15 + 2560]
    syscall
    mov [r15 + 40], rax
    mov ecx, 3000000            /* spin, so that a tick may land in ring 3 */
2:  dec ecx
    jnz 2b
    mov [r15 + 48], rbx
    mov [r15 + 56], r12
    mov [r15 + 64], rsp
    pushfq
    pop rax
    mov [r15 + 72], rax
    mov ax, cs
    mov [r15 + 80], rax
    mov eax, 231                /* exit_group(0) */
    xor edi, edi
    syscall
    ud2
ktest_user_code_end:
    .popsection
"#
);

unsafe extern "C" {
    fn ktest_run_user(saved_rsp: *mut u64, regs: *const PtRegs, stack_top: u64) -> u64;
    fn ktest_return_from_user(saved_rsp: u64) -> !;
    static ktest_user_code: u8;
    static ktest_user_code_end: u8;
}

/// Called by `sys_exit_group`: while a test's user program runs, its
/// `exit_group` ends the program and returns to the test.
pub fn check_exit() {
    let rsp = RETURN_RSP.swap(0, Ordering::Relaxed);
    if rsp != 0 {
        // SAFETY: `rsp` was saved by `ktest_run_user` on this CPU, whose
        // frame is still live below (the test waits in that call); the
        // syscall stack we leave holds nothing that needs dropping.
        unsafe { ktest_return_from_user(rsp) }
    }
}

/// The user program's bytes.
fn user_code() -> &'static [u8] {
    let start = &raw const ktest_user_code;
    let end = &raw const ktest_user_code_end;
    // SAFETY: both labels are in the kernel's .text above, start before
    // end, and kernel text is mapped readable for the kernel's lifetime.
    unsafe { core::slice::from_raw_parts(start, end.addr() - start.addr()) }
}

/// Maps the code and data pages into `pgd`; returns the data frame's
/// direct-map address, where the test reads the results.
fn map_user_pages(pgd: &mut PageTable) -> Result<VirtAddr, &'static str> {
    let code = alloc_pages(0).map_err(|_| "alloc code page")?;
    let data = alloc_pages(0).map_err(|_| "alloc data page")?;
    let code_va = phys_to_virt(code.phys());
    let data_va = phys_to_virt(data.phys());
    let text = user_code();
    // SAFETY: both frames were just allocated for this test; nothing else
    // maps them yet, and the direct map covers them.
    unsafe { core::ptr::write_bytes(data_va.as_mut_ptr::<u8>(), 0, PAGE_SIZE) };
    // SAFETY: as above; the program is shorter than a page (checked below).
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), code_va.as_mut_ptr(), text.len()) };
    let user = PteFlags::PRESENT | PteFlags::USER;
    let mut alloc = BuddyPgtableAlloc;
    pgd.map_with(VirtAddr::new(USER_CODE), code, user, 1, &mut alloc).map_err(|_| "map code")?;
    let rw = user | PteFlags::RW | PteFlags::NX;
    pgd.map_with(VirtAddr::new(USER_DATA), data, rw, 1, &mut alloc).map_err(|_| "map data")?;
    Ok(data_va)
}

/// Runs the user program in `pgd` on a fresh kernel stack; restores this
/// CPU's stack, `sp0` and CR3 afterwards.
fn run_user_program(pgd: &PageTable) -> Result<(), &'static str> {
    let stack = KernelStack::new().map_err(|_| "kernel stack")?;
    let top = stack.top().as_u64();
    let regs = PtRegs {
        rip: USER_CODE,
        cs: u64::from(__USER_CS),
        eflags: X86_EFLAGS_IF | X86_EFLAGS_FIXED,
        rsp: USER_DATA + PAGE_SIZE as u64,
        ss: u64::from(__USER_DS),
        rdi: USER_DATA,
        ..PtRegs::default()
    };
    let cpu = smp_processor_id();
    let flags = local_irq_save();
    let (old_bottom, old_top) = this_cpu().current_stack();
    let old_cr3 = read_cr3();
    this_cpu().set_current_stack(stack.bottom().as_u64(), top);
    load_sp0(cpu, top);
    // SAFETY: `pgd` shares the kernel half with every address space, so the
    // code, stack and data we run on stay mapped.
    unsafe { write_cr3(pgd.root().phys()) };
    // SAFETY:
    // 1. This CPU's recorded stack and `sp0` are the fresh `stack`, which
    //    nothing else uses; entries from ring 3 land on it.
    // 2. `RETURN_RSP` gets our RSP before the jump, and the program's
    //    `exit_group` comes back through `check_exit`, with callee-saved
    //    registers restored as in a normal return.
    unsafe { ktest_run_user(RETURN_RSP.as_ptr(), &raw const regs, top) };
    // `exit_group` returns here from a syscall, with interrupts on.
    super::irqflags::local_irq_disable();
    // SAFETY: the kernel's own table, loaded before the test.
    unsafe { write_cr3(old_cr3) };
    this_cpu().set_current_stack(old_bottom, old_top);
    load_sp0(cpu, old_top);
    local_irq_restore(flags);
    drop(stack);
    Ok(())
}

fn result(data: VirtAddr, index: usize) -> u64 {
    let slot = VirtAddr::new(data.as_u64() + 8 * index as u64);
    // SAFETY: `slot` lies in the test's data page (indices are below 512),
    // seen through the direct map; the user program wrote it and exited.
    unsafe { slot.as_ptr::<u64>().read_volatile() }
}

crate::ktest!(syscall_from_ring3, {
    use linux_raw_sys::errno::{EFAULT, ENOSYS};
    crate::kassert!(user_code().len() < PAGE_SIZE, "the program fits a page");
    let mut pgd = pgd_alloc().map_err(|_| "pgd_alloc")?;
    let data_va = map_user_pages(&mut pgd)?;
    let ran = run_user_program(&pgd);
    // Slots 0..=10: the RAX of each call, then RBX, R12, RSP, RFLAGS, CS;
    // 256..: getrandom's bytes; 320..: clock_gettime's timespec.
    let r: [u64; 11] = core::array::from_fn(|i| result(data_va, i));
    let random = result(data_va, 256) | result(data_va, 257);
    let timespec = result(data_va, 320) | result(data_va, 321);
    let uts = VirtAddr::new(data_va.as_u64() + 1024);
    // SAFETY: offset 1024 of the data page, where uname wrote.
    let sysname = unsafe { uts.as_ptr::<[u8; 6]>().read() };
    for va in [USER_CODE, USER_DATA] {
        if let Some(pfn) = pgd.unmap(VirtAddr::new(va)) {
            free_pages(pfn, 0);
        }
    }
    // The page-table pages below the root are the Mm's to free once it
    // exists (Linux: `free_pgtables`); this test leaks those three.
    free_pages(pgd.root(), 0);
    ran?;
    let err = |e: u32| (-i64::from(e)).cast_unsigned();
    crate::kassert!(r[0] == err(EFAULT), "uname(1) gives -EFAULT in rax");
    crate::kassert!(r[1] == err(ENOSYS), "syscall 1000 gives -ENOSYS");
    crate::kassert!(r[2] == 0 && &sysname == b"Linux\0", "uname works from ring 3");
    crate::kassert!(r[3] == err(EFAULT), "a kernel pointer is EFAULT");
    crate::kassert!(r[4] == 16 && random != 0, "getrandom filled 16 bytes");
    crate::kassert!(r[5] == 0 && timespec != 0, "clock_gettime wrote a timespec");
    crate::kassert!(r[6] == 0x1122_3344_5566_7788 && r[7] == u64::MAX, "callee regs survive");
    crate::kassert!(r[8] == USER_DATA + PAGE_SIZE as u64, "user RSP restored by sysret");
    crate::kassert!(r[9] & X86_EFLAGS_IF != 0, "interrupts on in user mode");
    crate::kassert!(r[10] & 0xffff == u64::from(__USER_CS), "user CS is __USER_CS");
    Ok(())
});

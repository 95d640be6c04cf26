//! The first instructions: from QEMU's PVH entry in 32-bit protected mode to
//! 64-bit Rust at the kernel's linked (higher-half) address.
//!
//! Linux: arch/x86/platform/pvh/head.S, arch/x86/kernel/head_64.S.
//!
//! QEMU's `-kernel` finds `XEN_ELFNOTE_PHYS32_ENTRY` in the ELF notes, loads
//! the segments at their physical addresses, and jumps to that entry with
//! paging off and `%ebx` holding the physical address of `hvm_start_info`.
//! We zero .bss, build throw-away page tables that map the first GiB three
//! times (identity, so the next instruction after enabling paging still
//! exists; at the direct map `PAGE_OFFSET`, so early Rust can read the boot
//! information; at `__START_KERNEL_map` shifted by `LOAD_OFFSET`, where the
//! kernel is linked: `early_level2_kernel_pgt`, Linux's `level2_kernel_pgt`
//! with `phys_base` applied), turn on long mode and call
//! [`super::x86_64_start_kernel`]. `mm::init` replaces these tables with the
//! real ones.
//!
//! Until paging is on, symbols are reached at their physical address,
//! `symbol - LOAD_OFFSET` (see linker.ld and `mm::addr::LOAD_OFFSET`).

use core::arch::global_asm;

use crate::arch::mm::pgtable_types::PMD_SIZE;
use crate::mm::addr::{KERNEL_MAP, LOAD_OFFSET};

global_asm!(
    r#"
    .set LOAD_OFFSET, {load_offset}          /* virtual - physical, image */
    .set PML4_PAGE_OFFSET, 273               /* pgd_index(0xffff888000000000) */
    .set EFER, 0xc0000080

    /* XEN_ELFNOTE_PHYS32_ENTRY (18): where QEMU jumps, as a physical address. */
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4, 4, 18
    .asciz "Xen"
    .balign 4
    .long pvh_start32 - LOAD_OFFSET
    .balign 4
    .popsection

    .pushsection .text.boot, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    mov esi, ebx                             /* hvm_start_info, kept to the end */

    mov edi, offset __bss_start - LOAD_OFFSET
    mov ecx, offset __bss_end - LOAD_OFFSET
    sub ecx, edi
    xor eax, eax
    rep stosb

    mov esp, offset boot_stack_top - LOAD_OFFSET

    /* early_pd: 512 x 2 MiB = the first GiB. */
    mov edi, offset early_pd - LOAD_OFFSET
    mov eax, 0x83                            /* present | writable | huge */
    mov ecx, 512
1:  mov dword ptr [edi], eax
    add eax, 0x200000
    add edi, 8
    loop 1b

    /* early_level2_kernel_pgt: __START_KERNEL_map + x -> x - phys_base;
       the entries below the one for physical 0 stay empty. */
    mov edi, offset early_level2_kernel_pgt - LOAD_OFFSET + {kernel_pmd_first} * 8
    mov eax, 0x83
    mov ecx, 512 - {kernel_pmd_first}
1:  mov dword ptr [edi], eax
    add eax, 0x200000
    add edi, 8
    loop 1b

    mov eax, offset early_pd - LOAD_OFFSET + 3
    mov dword ptr [early_pdpt - LOAD_OFFSET], eax
    mov eax, offset early_level2_kernel_pgt - LOAD_OFFSET + 3
    mov dword ptr [early_pdpt - LOAD_OFFSET + 510 * 8], eax
    mov eax, offset early_pdpt - LOAD_OFFSET + 3
    mov dword ptr [early_pml4 - LOAD_OFFSET], eax
    mov dword ptr [early_pml4 - LOAD_OFFSET + PML4_PAGE_OFFSET * 8], eax
    mov dword ptr [early_pml4 - LOAD_OFFSET + 511 * 8], eax

    mov eax, cr4
    or eax, 1 << 5                           /* PAE */
    mov cr4, eax
    mov eax, offset early_pml4 - LOAD_OFFSET
    mov cr3, eax

    /* EFER: long mode, and no-execute where the CPU has it. */
    mov eax, 0x80000001
    cpuid
    mov ebp, 1 << 8                          /* LME */
    bt edx, 20
    jnc 2f
    or ebp, 1 << 11                          /* NXE */
2:  mov ecx, EFER
    rdmsr
    or eax, ebp
    wrmsr

    mov eax, cr0
    or eax, (1 << 31) | (1 << 16)            /* PG | WP */
    mov cr0, eax

    lgdt [early_gdt_desc - LOAD_OFFSET]
    mov eax, offset pvh_start64 - LOAD_OFFSET
    push 0x10                                /* __KERNEL_CS */
    push eax
    retf

    .code64
pvh_start64:
    mov eax, 0x18                            /* __KERNEL_DS */
    mov ds, eax
    mov es, eax
    mov ss, eax
    xor eax, eax
    mov fs, eax
    mov gs, eax
    mov rsp, offset boot_stack_top
    xor ebp, ebp                             /* the end of every backtrace */
    mov edi, esi
    mov rax, offset x86_64_start_kernel
    call rax
    ud2
    .popsection

    .pushsection .data
    .balign 8
early_gdt:
    .quad 0
    .quad 0x00cf9b000000ffff                 /* 0x08: __KERNEL32_CS */
    .quad 0x00af9b000000ffff                 /* 0x10: __KERNEL_CS */
    .quad 0x00cf93000000ffff                 /* 0x18: __KERNEL_DS */
early_gdt_end:
early_gdt_desc:
    .word early_gdt_end - early_gdt - 1
    .long early_gdt - LOAD_OFFSET
    .popsection

    .pushsection .bss..page_aligned, "aw", @nobits
    .balign 4096
early_pml4: .skip 4096
early_pdpt: .skip 4096
early_pd:   .skip 4096
early_level2_kernel_pgt: .skip 4096
    /* The unmapped page below the boot stack catches its overflow. */
    .globl boot_stack_guard
boot_stack_guard: .skip 4096
    .globl boot_stack_bottom
boot_stack_bottom: .skip {stack_size}
    .globl boot_stack_top
boot_stack_top:
    .popsection
"#,
    stack_size = const super::super::THREAD_SIZE,
    load_offset = const LOAD_OFFSET,
    kernel_pmd_first = const KERNEL_PMD_FIRST,
);

/// The first `early_level2_kernel_pgt` entry in use: the one mapping
/// physical 0, `LOAD_OFFSET - __START_KERNEL_map` above the table's start.
const KERNEL_PMD_FIRST: u64 = (LOAD_OFFSET - KERNEL_MAP) / PMD_SIZE;
const _: () = assert!((LOAD_OFFSET - KERNEL_MAP).is_multiple_of(PMD_SIZE), "2 MiB-aligned");

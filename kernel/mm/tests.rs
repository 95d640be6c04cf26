//! Self-tests of address spaces: demand paging, mmap/munmap/mprotect/brk,
//! stack growth, copy-on-write across `dup`, and freeing on drop.
//!
//! They drive the fault path through `handle_user_fault`, as the page-fault
//! handler does, and look at memory through the page tables and the
//! direct map, so no test runs in user mode.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use linux_raw_sys::general::{SEGV_ACCERR, SEGV_MAPERR};

use crate::kernel::errno::Errno;
use crate::mm::addr::{PAGE_SIZE, Pfn, VirtAddr};
use crate::mm::highmem::{memcpy_from_page, memcpy_to_page};
use crate::mm::memory::{FaultFlags, VmFault, handle_user_fault, zero_pfn};
use crate::mm::mm_types::Mm;
use crate::mm::mmap::{MapFlags, Prot, do_brk, do_mmap, do_munmap};
use crate::mm::mprotect::do_mprotect;
use crate::mm::page_alloc::nr_free_pages;

const PAGE: u64 = PAGE_SIZE as u64;
const RW: Prot = Prot::READ.union(Prot::WRITE);
const ANON: MapFlags = MapFlags::PRIVATE.union(MapFlags::ANONYMOUS);

fn pfn_at(mm: &Mm, addr: u64) -> Option<Pfn> {
    mm.page_table().translate(VirtAddr::new(addr)).map(|(pa, _)| pa.pfn())
}

/// A store by "user space": the write fault, then the store.
fn user_write(mm: &Mm, addr: u64, val: u64) -> Result<(), VmFault> {
    handle_user_fault(mm, addr, FaultFlags::WRITE | FaultFlags::USER)?;
    let pfn = pfn_at(mm, addr).ok_or(VmFault::Sigbus)?;
    memcpy_to_page(pfn, (addr % PAGE) as usize, &val.to_le_bytes());
    Ok(())
}

fn user_read(mm: &Mm, addr: u64) -> Result<u64, VmFault> {
    handle_user_fault(mm, addr, FaultFlags::USER)?;
    let pfn = pfn_at(mm, addr).ok_or(VmFault::Sigbus)?;
    let mut b = [0u8; 8];
    memcpy_from_page(pfn, (addr % PAGE) as usize, &mut b);
    Ok(u64::from_le_bytes(b))
}

fn new_mm() -> Result<Arc<Mm>, &'static str> {
    Mm::new().map_err(|_| "Mm::new")
}

crate::ktest!(mm_demand_paging, {
    let mm = new_mm()?;
    let a = do_mmap(&mm, 0, 64 * PAGE, RW, ANON, 0).map_err(|_| "mmap")?;
    crate::kassert!(
        a % PAGE == 0 && a + 64 * PAGE <= mm.mmap_read().mmap_base,
        "top-down below mmap_base"
    );
    crate::kassert!(mm.rss() == 0 && pfn_at(&mm, a).is_none(), "nothing allocated before a touch");
    for i in [0, 5, 63] {
        user_write(&mm, a + i * PAGE + 8, i).map_err(|_| "write fault")?;
    }
    crate::kassert!(mm.rss() == 3, "three touched pages are resident");
    crate::kassert!(user_read(&mm, a + 5 * PAGE + 8) == Ok(5), "the value stays");
    crate::kassert!(user_read(&mm, a + 10 * PAGE) == Ok(0), "an untouched page reads zero");
    crate::kassert!(pfn_at(&mm, a + 10 * PAGE) == zero_pfn(), "a read maps the zero page");
    crate::kassert!(
        mm.rss() == 3 && pfn_at(&mm, a + 11 * PAGE).is_none(),
        "others stay unallocated"
    );
    user_write(&mm, a + 10 * PAGE, 7).map_err(|_| "write after zero page")?;
    crate::kassert!(
        pfn_at(&mm, a + 10 * PAGE) != zero_pfn() && mm.rss() == 4,
        "COW from the zero page"
    );
    let miss = handle_user_fault(&mm, a + 64 * PAGE, FaultFlags::USER);
    crate::kassert!(
        miss == Err(VmFault::Sigsegv { code: SEGV_MAPERR }),
        "past the end: SEGV_MAPERR"
    );
    Ok(())
});

crate::ktest!(mm_mmap_argument_checks, {
    let mm = new_mm()?;
    let fixed = ANON | MapFlags::FIXED;
    crate::kassert!(do_mmap(&mm, 0, 0, RW, ANON, 0) == Err(Errno::EINVAL), "len 0");
    crate::kassert!(
        do_mmap(&mm, 0x10_0001, PAGE, RW, fixed, 0) == Err(Errno::EINVAL),
        "unaligned fixed"
    );
    crate::kassert!(
        do_mmap(&mm, 0, PAGE, RW, MapFlags::ANONYMOUS, 0) == Err(Errno::EINVAL),
        "no type"
    );
    let validate = MapFlags::SHARED_VALIDATE | MapFlags::ANONYMOUS;
    crate::kassert!(
        do_mmap(&mm, 0, PAGE, RW, validate, 0) == Err(Errno::EINVAL),
        "anon SHARED_VALIDATE"
    );
    crate::kassert!(do_mmap(&mm, 0, u64::MAX - 5, RW, ANON, 0) == Err(Errno::ENOMEM), "overflow");
    let junk = ANON | MapFlags::from_bits_retain(1 << 30);
    crate::kassert!(do_mmap(&mm, 0, PAGE, RW, junk, 0).is_ok(), "unknown flag bits are ignored");
    let a = do_mmap(&mm, 0x20_0000, 2 * PAGE, RW, ANON, 0).map_err(|_| "hint")?;
    crate::kassert!(a == 0x20_0000, "a free hint is honoured");
    let b = do_mmap(&mm, 0x20_0000, PAGE, RW, ANON, 0).map_err(|_| "taken hint")?;
    crate::kassert!(b != a, "a taken hint is not");
    let noreplace = ANON | MapFlags::FIXED_NOREPLACE;
    crate::kassert!(
        do_mmap(&mm, a, PAGE, RW, noreplace, 0) == Err(Errno::EEXIST),
        "FIXED_NOREPLACE"
    );
    user_write(&mm, a, 1).map_err(|_| "write")?;
    crate::kassert!(do_mmap(&mm, a, PAGE, RW, fixed, 0) == Ok(a), "MAP_FIXED replaces");
    crate::kassert!(user_read(&mm, a) == Ok(0) && mm.rss() == 0, "the old page is gone");
    Ok(())
});

crate::ktest!(mm_mprotect_and_munmap_split, {
    let mm = new_mm()?;
    let a = do_mmap(&mm, 0, 3 * PAGE, RW, ANON, 0).map_err(|_| "mmap")?;
    for i in 0..3 {
        user_write(&mm, a + i * PAGE, i + 1).map_err(|_| "write")?;
    }
    do_mprotect(&mm, a + PAGE, PAGE, Prot::READ).map_err(|_| "mprotect")?;
    crate::kassert!(mm.mmap_read().vmas.len() == 3, "mprotect in the middle splits in three");
    let denied = handle_user_fault(&mm, a + PAGE, FaultFlags::WRITE | FaultFlags::USER);
    crate::kassert!(
        denied == Err(VmFault::Sigsegv { code: SEGV_ACCERR }),
        "write to read-only: ACCERR"
    );
    crate::kassert!(user_read(&mm, a + PAGE) == Ok(2), "still readable");
    crate::kassert!(
        do_mprotect(&mm, a, PAGE, Prot::from_bits_retain(0x40)) == Err(Errno::EINVAL),
        "bad prot"
    );
    crate::kassert!(
        do_mprotect(&mm, a + 3 * PAGE, PAGE, RW) == Err(Errno::ENOMEM),
        "unmapped: ENOMEM"
    );
    do_mprotect(&mm, a + PAGE, PAGE, RW).map_err(|_| "mprotect back")?;
    crate::kassert!(mm.mmap_read().vmas.len() == 1, "equal neighbours merge again");
    do_munmap(&mm, a + PAGE, PAGE).map_err(|_| "munmap")?;
    crate::kassert!(mm.mmap_read().vmas.len() == 2 && mm.rss() == 2, "munmap splits and frees");
    let gone = handle_user_fault(&mm, a + PAGE, FaultFlags::USER);
    crate::kassert!(gone == Err(VmFault::Sigsegv { code: SEGV_MAPERR }), "the hole is unmapped");
    crate::kassert!(user_read(&mm, a + 2 * PAGE) == Ok(3), "the rest keeps its data");
    crate::kassert!(do_munmap(&mm, a + 1, PAGE) == Err(Errno::EINVAL), "unaligned munmap");
    crate::kassert!(do_munmap(&mm, a, 0) == Err(Errno::EINVAL), "empty munmap");
    Ok(())
});

crate::ktest!(mm_brk_grows_and_shrinks, {
    let mm = new_mm()?;
    let base = 0x60_0000;
    {
        let mut layout = mm.mmap_write();
        layout.start_brk = base;
        layout.brk = base;
    }
    crate::kassert!(do_brk(&mm, base - 1) == base, "below start_brk: the old break");
    crate::kassert!(do_brk(&mm, base + 3 * PAGE + 5) == base + 3 * PAGE + 5, "grows");
    for i in 0..4 {
        user_write(&mm, base + i * PAGE, i).map_err(|_| "heap write")?;
    }
    crate::kassert!(mm.rss() == 4, "heap pages resident");
    crate::kassert!(do_brk(&mm, base + PAGE) == base + PAGE, "shrinks");
    crate::kassert!(mm.rss() == 1, "shrinking frees pages");
    let gone = handle_user_fault(&mm, base + PAGE, FaultFlags::USER);
    crate::kassert!(gone.is_err(), "above the break is unmapped");
    do_mmap(&mm, base + 4 * PAGE, PAGE, RW, ANON | MapFlags::FIXED, 0).map_err(|_| "blocker")?;
    crate::kassert!(
        do_brk(&mm, base + 4 * PAGE) == base + PAGE,
        "keeps a page below the next mapping"
    );
    Ok(())
});

crate::ktest!(mm_stack_grows_down, {
    let mm = new_mm()?;
    let flags = ANON | MapFlags::GROWSDOWN;
    let top = do_mmap(&mm, 0, 4 * PAGE, RW, flags, 0).map_err(|_| "mmap")?;
    user_write(&mm, top - 10 * PAGE, 1).map_err(|_| "just below the stack")?;
    crate::kassert!(mm.mmap_read().vmas.lookup(top - 10 * PAGE).is_some(), "the stack VMA grew");
    let far = handle_user_fault(&mm, top - (9 << 20), FaultFlags::WRITE);
    crate::kassert!(far == Err(VmFault::Sigsegv { code: SEGV_MAPERR }), "beyond the rlimit");
    Ok(())
});

crate::ktest!(mm_fork_copy_on_write, {
    let parent = new_mm()?;
    let a = do_mmap(&parent, 0, 2 * PAGE, RW, ANON, 0).map_err(|_| "mmap")?;
    let s = do_mmap(&parent, 0, PAGE, RW, MapFlags::SHARED | MapFlags::ANONYMOUS, 0)
        .map_err(|_| "shared")?;
    user_write(&parent, a, 0x1111).map_err(|_| "parent write")?;
    user_write(&parent, s, 0x5555).map_err(|_| "shared write")?;
    let child = parent.dup().map_err(|_| "dup")?;
    let old = pfn_at(&parent, a).ok_or("parent page")?;
    crate::kassert!(pfn_at(&child, a) == Some(old), "the child maps the same page");
    user_write(&child, a, 0x2222).map_err(|_| "child write")?;
    crate::kassert!(pfn_at(&child, a) != Some(old), "the child's write copied the page");
    crate::kassert!(user_read(&parent, a) == Ok(0x1111), "the parent's page is unchanged");
    user_write(&parent, a, 0x3333).map_err(|_| "parent write after COW")?;
    crate::kassert!(pfn_at(&parent, a) == Some(old), "the last owner reuses its page");
    crate::kassert!(user_read(&child, a) == Ok(0x2222), "the child keeps its copy");
    user_write(&child, s, 0x6666).map_err(|_| "child shared write")?;
    crate::kassert!(user_read(&parent, s) == Ok(0x6666), "MAP_SHARED is shared across fork");
    Ok(())
});

crate::ktest!(mm_switch_mm_loads_cr3, {
    use crate::arch::mm::tlb::read_cr3;
    let mm = new_mm()?;
    let before = read_cr3();
    mm.activate();
    let loaded = read_cr3() == mm.pgd().phys();
    crate::arch::mm::mmu_context::switch_to_kernel_mm();
    crate::kassert!(loaded, "switch_mm loads the mm's PML4");
    crate::kassert!(read_cr3() == before, "back on the kernel's table");
    drop(mm);
    Ok(())
});

/// One round of everything that allocates on behalf of an mm.
fn churn() -> Result<(), &'static str> {
    let mm = new_mm()?;
    let a = do_mmap(&mm, 0, 32 * PAGE, RW, ANON, 0).map_err(|_| "mmap")?;
    let s = do_mmap(&mm, 0, 4 * PAGE, RW, MapFlags::SHARED | MapFlags::ANONYMOUS, 0)
        .map_err(|_| "shm")?;
    for i in 0..16 {
        user_write(&mm, a + i * 2 * PAGE, i).map_err(|_| "write")?;
    }
    user_write(&mm, s, 1).map_err(|_| "shm write")?;
    user_read(&mm, a + PAGE).map_err(|_| "read")?;
    let child = mm.dup().map_err(|_| "dup")?;
    user_write(&child, a, 9).map_err(|_| "child write")?;
    user_write(&mm, 0x7000_0000, 1).err().ok_or("unmapped write must fail")?;
    drop(child);
    Ok(())
}

crate::ktest!(mm_drop_frees_everything, {
    churn()?; // warms the slab caches and the zero page
    let free = nr_free_pages();
    for _ in 0..20 {
        churn()?;
    }
    crate::kassert!(nr_free_pages() == free, "every page and page table comes back");
    Ok(())
});

crate::ktest!(mm_madvise_msync_and_wipeonfork, {
    use crate::mm::madvise::do_madvise;
    use crate::mm::msync::do_msync;
    use linux_raw_sys::general::{MADV_DONTNEED, MADV_REMOVE, MADV_WILLNEED, MADV_WIPEONFORK};
    let mm = new_mm()?;
    let a = do_mmap(&mm, 0, 4 * PAGE, RW, ANON, 0).map_err(|_| "mmap")?;
    user_write(&mm, a, 7).map_err(|_| "write")?;
    user_write(&mm, a + PAGE, 8).map_err(|_| "write")?;
    do_madvise(&mm, a, a + PAGE, MADV_DONTNEED).map_err(|_| "DONTNEED")?;
    crate::kassert!(user_read(&mm, a) == Ok(0), "DONTNEED: private memory reads back as zeros");
    crate::kassert!(user_read(&mm, a + PAGE) == Ok(8), "only the range is dropped");
    let shared = MapFlags::SHARED.union(MapFlags::ANONYMOUS);
    let s = do_mmap(&mm, 0, PAGE, RW, shared, 0).map_err(|_| "mmap shared")?;
    user_write(&mm, s, 9).map_err(|_| "write shared")?;
    do_madvise(&mm, s, s + PAGE, MADV_DONTNEED).map_err(|_| "DONTNEED shared")?;
    crate::kassert!(
        user_read(&mm, s) == Ok(9),
        "DONTNEED: shared memory comes back from its object"
    );
    do_madvise(&mm, s, s + PAGE, MADV_REMOVE).map_err(|_| "REMOVE")?;
    crate::kassert!(user_read(&mm, s) == Ok(0), "REMOVE frees the object's page");
    crate::kassert!(
        do_madvise(&mm, a, a + PAGE, MADV_REMOVE) == Err(Errno::EINVAL),
        "REMOVE private"
    );
    // A hole: the areas around it still get the advice, then ENOMEM.
    do_munmap(&mm, a + 2 * PAGE, PAGE).map_err(|_| "munmap")?;
    let hole = do_madvise(&mm, a, a + 4 * PAGE, MADV_WILLNEED);
    crate::kassert!(hole == Err(Errno::ENOMEM), "a hole in madvise's range is ENOMEM");
    crate::kassert!(do_msync(&mm, a, a + 2 * PAGE, true) == Ok(()), "msync on mapped memory");
    crate::kassert!(
        do_msync(&mm, a, a + 4 * PAGE, false) == Err(Errno::ENOMEM),
        "msync over a hole"
    );
    do_madvise(&mm, a + PAGE, a + 2 * PAGE, MADV_WIPEONFORK).map_err(|_| "WIPEONFORK")?;
    let child = mm.dup().map_err(|_| "dup")?;
    crate::kassert!(user_read(&child, a + PAGE) == Ok(0), "WIPEONFORK: the child's copy is empty");
    crate::kassert!(user_read(&mm, a + PAGE) == Ok(8), "and the parent keeps its data");
    crate::kassert!(
        mm.mmap_read().vmas.lookup(a + PAGE).is_some_and(|v| v.start == a + PAGE),
        "split"
    );
    Ok(())
});

//! Atomic operations on a user futex word, for the kernel's side of
//! robust futexes.
//!
//! Linux: arch/x86/include/asm/futex.h (`futex_atomic_cmpxchg_inatomic`).
//!
//! A `lock cmpxchg` on the user address itself, between `stac` and `clac`,
//! with an exception-table fixup: a user thread may change the word at
//! any moment, so a read-then-write would lose its update. The page-fault
//! handler resolves a fault on a valid user address (demand paging, COW)
//! before it looks for the fixup, so only a truly bad address fails.
//!
//! # Locking
//! None; it may fault, so no spinlock may be held across it (as for any
//! user access).

use core::arch::asm;

use super::extable::asm_extable;
use super::uaccess::{Efault, SMAP_ENABLED, UserAddr, access_ok, asm_clac, asm_stac};

/// Compare-and-exchange of the user `u32` at `uaddr`: stores `new` if it
/// holds `old`; returns the value found either way (Linux:
/// `futex_atomic_cmpxchg_inatomic`). `Efault` for a misaligned, kernel or
/// unmapped address.
pub fn futex_atomic_cmpxchg(uaddr: UserAddr, old: u32, new: u32) -> Result<u32, Efault> {
    if !uaddr.as_u64().is_multiple_of(4) || !access_ok(uaddr, 4) {
        return Err(Efault);
    }
    let found: u32;
    let failed: u64;
    // SAFETY:
    // 1. `[uaddr, uaddr + 4)` is an aligned user range (checked above), so
    //    the locked access cannot touch kernel memory or split a line.
    // 2. `stac` opens the SMAP window for this one instruction; a fault in
    //    it resumes at label 3 through `__ex_table` with `failed` still 1,
    //    where `clac` closes the window again.
    unsafe {
        asm!(
            "mov {failed:e}, 1",
            asm_stac!(),
            "2: lock cmpxchg dword ptr [{addr}], {new:e}",
            "mov {failed:e}, 0",
            "3:",
            asm_clac!(),
            asm_extable!("2b", "3b"),
            addr = in(reg) uaddr.as_u64(),
            new = in(reg) new,
            failed = out(reg) failed,
            inout("eax") old => found,
            smap = sym SMAP_ENABLED,
            options(nostack),
        );
    }
    if failed == 0 { Ok(found) } else { Err(Efault) }
}

crate::ktest!(futex_atomic_cmpxchg_user_word, {
    use super::uaccess::{SCRATCH_USER_PAGE, get_user, put_user};
    let outcome = super::uaccess::with_scratch_user_page(|page| {
        let word = UserAddr::new(page.as_u64() + 8);
        put_user(word, &7u32).map_err(|_| "put")?;
        let miss = futex_atomic_cmpxchg(word, 6, 9).map_err(|_| "miss faulted")?;
        let hit = futex_atomic_cmpxchg(word, 7, 9).map_err(|_| "hit faulted")?;
        let now = get_user::<u32>(word).map_err(|_| "get")?;
        let beyond = futex_atomic_cmpxchg(UserAddr::new(SCRATCH_USER_PAGE + 4096), 0, 1);
        let odd = futex_atomic_cmpxchg(UserAddr::new(page.as_u64() + 2), 0, 1);
        Ok::<_, &'static str>((miss, hit, now, beyond.is_err(), odd.is_err()))
    })?;
    let (miss, hit, now, beyond, odd) = outcome?;
    crate::kassert!(miss == 7 && hit == 7 && now == 9, "stores only on a match");
    crate::kassert!(beyond, "an unmapped page is Efault");
    crate::kassert!(odd, "a misaligned word is Efault");
    Ok(())
});

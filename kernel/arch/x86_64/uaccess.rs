//! User memory access: the only code that touches addresses a user program
//! chose.
//!
//! Linux: arch/x86/include/asm/uaccess.h (`access_ok`, `__uaccess_begin`),
//! arch/x86/lib/copy_user_64.S (`rep movsb` with `_ASM_EXTABLE`),
//! arch/x86/lib/usercopy_64.c (`clear_user`), lib/strncpy_from_user.c,
//! include/linux/uaccess.h (`copy_from_user`, `get_user`).
//!
//! Two guards make a bad pointer an `EFAULT` instead of an oops:
//! 1. [`access_ok`]: the whole range lies below [`TASK_SIZE_MAX`], so no
//!    user pointer can reach kernel memory (or a non-canonical address).
//! 2. The exception table: each instruction that reads or writes user
//!    memory (`rep movsq`, `rep movsb`, `rep stosb`) has a fixup, so a fault
//!    on an unmapped page resumes past the copy with RCX = the bytes not
//!    copied.
//!
//! With SMAP on (CR4.SMAP, set by `syscall::syscall_init`), the kernel may
//! touch user pages only between `stac` and `clac` (Linux: `stac()`/`clac()`
//! in `__uaccess_begin`/`__uaccess_end`); every access here brackets its
//! one instruction so. When demand paging exists, the page-fault handler
//! resolves a fault on a valid user address before it looks for a fixup.
//!
//! [`Pod`] marks the types that may be copied in and out as bytes: no
//! padding, every bit pattern valid. Add ABI structs to the list at the
//! end with a layout assertion against `linux-raw-sys`.
//!
//! # Locking
//! None. A copy may fault and (later) sleep in the fault handler: callers
//! must not hold a spinlock across a user copy, as in Linux.

use core::arch::asm;
use core::mem::MaybeUninit;
use core::sync::atomic::AtomicBool;

pub use super::extable::Efault;
use super::extable::asm_extable;
use crate::mm::addr::PAGE_SIZE;

/// Whether CR4.SMAP is on (set once by `syscall::setup_smep_smap`, before
/// the first user access). `stac` and `clac` raise #UD on a CPU without
/// SMAP, such as QEMU's default `qemu64` model, so each user access tests
/// this flag first: one load and a predicted branch, where Linux patches
/// the instructions in or out at boot (`ALTERNATIVE`).
pub static SMAP_ENABLED: AtomicBool = AtomicBool::new(false);

/// `stac` if SMAP is on; an `asm!` using it passes `smap = sym
/// SMAP_ENABLED` and keeps local label 7 free.
macro_rules! asm_stac {
    () => {
        "cmp byte ptr [rip + {smap}], 0\n je 7f\n stac\n 7:"
    };
}
/// `clac` if SMAP is on (label 8, as [`asm_stac`] uses 7).
macro_rules! asm_clac {
    () => {
        "cmp byte ptr [rip + {smap}], 0\n je 8f\n clac\n 8:"
    };
}
pub(crate) use {asm_clac, asm_stac};

/// The end of the user half minus a guard page (Linux: `TASK_SIZE_MAX`, so
/// that `sysret` never returns to a non-canonical RIP).
pub const TASK_SIZE_MAX: u64 = (1 << 47) - PAGE_SIZE as u64;
/// Longest path a syscall accepts, NUL included (Linux: `PATH_MAX`).
pub const PATH_MAX: usize = linux_raw_sys::general::PATH_MAX as usize;

/// An address in the user half, as a user program passed it (Linux: a
/// `void __user *`). Nothing can be read through it except by the copy
/// functions below.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UserAddr(u64);

impl UserAddr {
    pub const fn new(addr: u64) -> Self {
        Self(addr)
    }

    pub const fn as_u64(self) -> u64 {
        self.0
    }

    pub const fn is_null(self) -> bool {
        self.0 == 0
    }

    /// `self + len`, or `None` on overflow.
    pub fn checked_add(self, len: usize) -> Option<Self> {
        self.0.checked_add(u64::try_from(len).ok()?).map(Self)
    }
}

impl core::fmt::Debug for UserAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "UserAddr({:#x})", self.0)
    }
}

/// Whether `[addr, addr + len)` lies wholly in the user half (Linux:
/// `access_ok`, `valid_user_address`). An empty range anywhere up to the
/// limit is fine.
pub fn access_ok(addr: UserAddr, len: usize) -> bool {
    addr.checked_add(len).is_some_and(|end| end.0 <= TASK_SIZE_MAX)
}

/// Copies `len` bytes between a user and a kernel buffer; returns how many
/// were NOT copied (Linux: `copy_user_generic`, its `rep movsq` + byte tail
/// form, `copy_user_generic_string`).
///
/// Quadwords first, then the tail bytes. Linux prefers a plain `rep movsb`
/// on CPUs with fast string moves; under QEMU's TCG every iteration of a
/// `rep` instruction costs a dispatch, so moving eight bytes per iteration
/// makes the copy about eight times cheaper there. A fault in the
/// quadword loop goes on byte by byte from the faulting quadword, so the
/// count not copied is exact, as with `rep movsb` alone.
///
/// # Safety
/// One of `dst`/`src` is a user range that passed [`access_ok`]; the other
/// is a kernel buffer valid for `len` bytes of writing (`dst`) or reading
/// (`src`) that no one else touches during the copy.
unsafe fn copy_user_generic(dst: *mut u8, src: *const u8, len: usize) -> usize {
    let left: usize;
    // SAFETY:
    // 1. The caller vouches for both ranges (see `# Safety`).
    // 2. `stac` lets the two string instructions touch user pages under
    //    SMAP. A fault in `rep movsq` (label 2) resumes at label 5 with RCX
    //    = quadwords left, which becomes bytes left (plus the tail) for the
    //    byte loop at label 4, restarted at the faulting quadword; a fault
    //    in `rep movsb` (label 4) resumes at label 3 with RCX = bytes left.
    //    Every path leaves through label 3, where `clac` closes the window.
    unsafe {
        asm!(
            asm_stac!(),
            "mov {tail}, rcx",
            "and {tail}, 7",
            "shr rcx, 3",
            "2: rep movsq",
            "mov rcx, {tail}",
            "4: rep movsb",
            "3:",
            asm_clac!(),
            "jmp 6f",
            "5: lea rcx, [{tail} + rcx * 8]",
            "jmp 4b",
            "6:",
            asm_extable!("2b", "5b"),
            asm_extable!("4b", "3b"),
            tail = out(reg) _,
            inout("rcx") len => left,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            smap = sym SMAP_ENABLED,
            options(nostack),
        );
    }
    left
}

/// Zeroes `len` user bytes at `dst`; returns how many were NOT zeroed.
///
/// # Safety
/// `[dst, dst + len)` passed [`access_ok`].
unsafe fn clear_user_generic(dst: *mut u8, len: usize) -> usize {
    let left: usize;
    // SAFETY: as in `copy_user_generic`: a user range, `stac`/`clac` around
    // the single `rep stosb`, whose fault resumes at label 3.
    unsafe {
        asm!(
            asm_stac!(),
            "2: rep stosb",
            "3:",
            asm_clac!(),
            asm_extable!("2b", "3b"),
            inout("rcx") len => left,
            inout("rdi") dst => _,
            in("al") 0u8,
            smap = sym SMAP_ENABLED,
            options(nostack),
        );
    }
    left
}

/// Copies `dst.len()` bytes from user address `src` (Linux: `copy_from_user`).
pub fn copy_from_user(dst: &mut [u8], src: UserAddr) -> Result<(), Efault> {
    if !access_ok(src, dst.len()) {
        return Err(Efault);
    }
    // SAFETY:
    // 1. `[src, src + len)` passed `access_ok`, so it cannot alias kernel memory.
    // 2. A fault lands on the exception-table fixup and returns bytes left.
    // 3. `dst` is an exclusive kernel slice of `dst.len()` bytes.
    let left = unsafe { copy_user_generic(dst.as_mut_ptr(), src.0 as *const u8, dst.len()) };
    if left == 0 { Ok(()) } else { Err(Efault) }
}

/// Copies `src` to user address `dst` (Linux: `copy_to_user`).
pub fn copy_to_user(dst: UserAddr, src: &[u8]) -> Result<(), Efault> {
    if !access_ok(dst, src.len()) {
        return Err(Efault);
    }
    // SAFETY: as in `copy_from_user`, with the directions swapped; `src` is
    // a shared kernel slice that is only read.
    let left = unsafe { copy_user_generic(dst.0 as *mut u8, src.as_ptr(), src.len()) };
    if left == 0 { Ok(()) } else { Err(Efault) }
}

/// Zeroes `len` bytes at user address `dst` (Linux: `clear_user`).
pub fn clear_user(dst: UserAddr, len: usize) -> Result<(), Efault> {
    if !access_ok(dst, len) {
        return Err(Efault);
    }
    // SAFETY: the range passed `access_ok`; faults are fixed up.
    let left = unsafe { clear_user_generic(dst.0 as *mut u8, len) };
    if left == 0 { Ok(()) } else { Err(Efault) }
}

/// Why [`strncpy_from_user`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrncpyError {
    /// A byte of the string was not readable (Linux: `-EFAULT`).
    Fault,
    /// No NUL within `dst.len()` bytes (Linux: the caller's `ENAMETOOLONG`).
    TooLong,
}

/// How much `strncpy_from_user` reads per step (Linux reads a word at a
/// time; a few words per `stac`/`clac` round is the balance here).
const STRNCPY_CHUNK: usize = 64;

/// Copies a NUL-terminated string from `src` into `dst`; returns its length
/// without the NUL (Linux: `strncpy_from_user`).
///
/// Reads [`STRNCPY_CHUNK`] bytes at a time, never across a page, so a
/// string ending just before an unmapped page is not a fault, and a short
/// string costs a short copy rather than the rest of its page.
pub fn strncpy_from_user(dst: &mut [u8], src: UserAddr) -> Result<usize, StrncpyError> {
    let mut done = 0;
    while done < dst.len() {
        let at = src.checked_add(done).ok_or(StrncpyError::Fault)?;
        let in_page = usize::try_from(at.0 % PAGE_SIZE as u64).unwrap_or(0);
        let end = (done + PAGE_SIZE - in_page).min(dst.len()).min(done + STRNCPY_CHUNK);
        let chunk = &mut dst[done..end];
        copy_from_user(chunk, at).map_err(|Efault| StrncpyError::Fault)?;
        if let Some(nul) = chunk.iter().position(|&b| b == 0) {
            return Ok(done + nul);
        }
        done += chunk.len();
    }
    Err(StrncpyError::TooLong)
}

/// Plain old data: a type with no padding, for which every bit pattern is a
/// valid value, so it may be copied to and from user memory as bytes
/// (Linux needs no such marker; C structs are just bytes).
///
/// # Safety
/// Implement only for `#[repr(C)]` or primitive types without padding
/// bytes and without invalid bit patterns (no `bool`, `char`, enums,
/// references or pointers).
pub unsafe trait Pod: Copy + 'static {}

macro_rules! impl_pod {
    ($($t:ty),* $(,)?) => {
        // SAFETY: integers have no padding and accept every bit pattern.
        $(unsafe impl Pod for $t {})*
    };
}
impl_pod!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

// SAFETY: an array of Pod has no padding between elements (size is a
// multiple of alignment) and every element accepts any bits.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// `value`'s bytes.
fn pod_bytes<T: Pod>(value: &T) -> &[u8] {
    // SAFETY: `T: Pod` has no padding, so all `size_of::<T>()` bytes are
    // initialised; the slice borrows `value` and lives no longer.
    unsafe { core::slice::from_raw_parts(core::ptr::from_ref(value).cast::<u8>(), size_of::<T>()) }
}

/// Reads one `T` from user address `src` (Linux: `get_user`).
pub fn get_user<T: Pod>(src: UserAddr) -> Result<T, Efault> {
    let mut value = MaybeUninit::<T>::zeroed();
    // SAFETY: the zeroed storage is `size_of::<T>()` initialised bytes that
    // only this function can see.
    let bytes =
        unsafe { core::slice::from_raw_parts_mut(value.as_mut_ptr().cast::<u8>(), size_of::<T>()) };
    copy_from_user(bytes, src)?;
    // SAFETY: every byte is initialised (zeroed, then copied), and `T: Pod`
    // accepts any bit pattern.
    Ok(unsafe { value.assume_init() })
}

/// Writes `value` to user address `dst` (Linux: `put_user`).
pub fn put_user<T: Pod>(dst: UserAddr, value: &T) -> Result<(), Efault> {
    copy_to_user(dst, pod_bytes(value))
}

// The Linux ABI structs that are copied whole. Each has no padding
// (asserted by size: the fields add up to the struct).
use linux_raw_sys::general::{__kernel_old_timeval, __kernel_timespec, timezone};
use linux_raw_sys::system::new_utsname;

const _: () = assert!(size_of::<__kernel_timespec>() == 16);
const _: () = assert!(size_of::<__kernel_old_timeval>() == 16);
const _: () = assert!(size_of::<timezone>() == 8);
const _: () = assert!(size_of::<new_utsname>() == 6 * 65);
// SAFETY: two `i64`s, sizes asserted above.
unsafe impl Pod for __kernel_timespec {}
// SAFETY: two `long`s.
unsafe impl Pod for __kernel_old_timeval {}
// SAFETY: two `int`s.
unsafe impl Pod for timezone {}
// SAFETY: six `c_char` arrays (i8 on x86_64), no padding.
unsafe impl Pod for new_utsname {}
// SAFETY: a `#[repr(C)]` struct of u64/u32/u16 with its padding spelled out
// as fields; its size is asserted against Linux's in `kernel::sys`.
unsafe impl Pod for crate::kernel::sys::Sysinfo {}

const _: () = assert!(size_of::<linux_raw_sys::general::stat>() == 144);
const _: () = assert!(size_of::<linux_raw_sys::general::statx>() == 256);
// SAFETY: x86_64's `struct stat`: `u64`/`u32`/`i64` fields, naturally
// aligned, with its padding spelled out (`__pad0`, `__unused`); size
// asserted above.
unsafe impl Pod for linux_raw_sys::general::stat {}
// SAFETY: `struct statx`: integer fields and `statx_timestamp`s (an `i64`,
// a `u32` and an explicit `__reserved` `i32`), spare fields spelled out;
// size asserted above.
unsafe impl Pod for linux_raw_sys::general::statx {}
const _: () = assert!(size_of::<linux_raw_sys::general::statfs>() == 120);
// SAFETY: x86_64's `struct statfs`: fifteen `i64`s and an `__kernel_fsid_t`
// of two `i32`s, no padding; size asserted above.
unsafe impl Pod for linux_raw_sys::general::statfs {}

/// Where [`with_scratch_user_page`] maps its page; the page above stays
/// unmapped, to test faults at a page boundary.
pub const SCRATCH_USER_PAGE: u64 = 0x1000_0000;

/// Runs `f` with one zeroed, writable user page mapped at
/// [`SCRATCH_USER_PAGE`] (for self-tests of user copies and of system
/// calls). The page lives in a private `Mm` that stands in for the
/// current task's for the duration, so that a context switch reloads it
/// like any task's address space: `f` runs with interrupts on and may
/// sleep. The task's own mm is put back afterwards.
pub fn with_scratch_user_page<R>(f: impl FnOnce(UserAddr) -> R) -> Result<R, &'static str> {
    use crate::mm::mm_types::Mm;
    use crate::mm::mmap::{MapFlags, Prot, do_mmap};

    let task = crate::kernel::sched::try_current().ok_or("no current task")?;
    let mm = Mm::new().map_err(|_| "mm_alloc")?;
    let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
    do_mmap(&mm, SCRATCH_USER_PAGE, PAGE_SIZE as u64, Prot::READ | Prot::WRITE, flags, 0)
        .map_err(|_| "mmap")?;
    let old = task.mm.lock().replace(mm.clone());
    // A switch after the swap would load `mm` as well; either way it is
    // the table loaded from here on.
    mm.activate();
    let ret = f(UserAddr::new(SCRATCH_USER_PAGE));
    let ours = core::mem::replace(&mut *task.mm.lock(), old.clone());
    match &old {
        Some(old) => old.activate(),
        None => super::mm::mmu_context::switch_to_kernel_mm(),
    }
    // The last references go only now that neither the task nor CR3
    // refers to the scratch mm, and outside the `mm` lock.
    drop((ours, mm, old));
    Ok(ret)
}

crate::ktest!(uaccess_access_ok_bounds, {
    crate::kassert!(access_ok(UserAddr::new(0), 0), "empty at 0");
    crate::kassert!(access_ok(UserAddr::new(TASK_SIZE_MAX), 0), "empty at the limit");
    crate::kassert!(!access_ok(UserAddr::new(TASK_SIZE_MAX - 1), 2), "past the limit");
    crate::kassert!(!access_ok(UserAddr::new(u64::MAX), 1), "wrap-around");
    crate::kassert!(!access_ok(UserAddr::new(0x1000), usize::MAX), "length overflow");
    crate::kassert!(!access_ok(UserAddr::new(0xffff_8880_0000_0000), 8), "kernel address");
    let mut buf = [0u8; 8];
    crate::kassert!(copy_from_user(&mut buf, UserAddr::new(0x1000)) == Err(Efault), "unmapped");
    crate::kassert!(copy_to_user(UserAddr::new(0x1000), &buf) == Err(Efault), "unmapped write");
    let kernel = UserAddr::new(core::ptr::from_ref(&buf).addr() as u64);
    crate::kassert!(copy_from_user(&mut buf, kernel) == Err(Efault), "kernel stack refused");
    crate::kassert!(clear_user(UserAddr::new(0x1000), 8) == Err(Efault), "clear unmapped");
    Ok(())
});

crate::ktest!(uaccess_copies_on_a_mapped_page, {
    let outcome = with_scratch_user_page(|page| -> Result<(), &'static str> {
        let irqs_off = super::irqflags::irqs_disabled();
        crate::kassert!(!irqs_off, "runs with interrupts on, as a system call does");
        let at = |off: usize| page.checked_add(off).unwrap_or(page);
        copy_to_user(at(16), b"ferrite\0").map_err(|_| "copy_to_user")?;
        let mut back = [0u8; 8];
        copy_from_user(&mut back, at(16)).map_err(|_| "copy_from_user")?;
        crate::kassert!(&back == b"ferrite\0", "bytes round-trip");
        let mut name = [0u8; 32];
        crate::kassert!(strncpy_from_user(&mut name, at(16)) == Ok(7), "strncpy length");
        crate::kassert!(&name[..8] == b"ferrite\0", "strncpy bytes");
        let mut short = [0u8; 4];
        let too_long = strncpy_from_user(&mut short, at(16));
        crate::kassert!(too_long == Err(StrncpyError::TooLong), "no NUL in 4 bytes");
        // The last 3 bytes of the page hold no NUL and the next page is unmapped.
        copy_to_user(at(PAGE_SIZE - 3), b"abc").map_err(|_| "tail")?;
        let at_end = strncpy_from_user(&mut name, at(PAGE_SIZE - 3));
        crate::kassert!(at_end == Err(StrncpyError::Fault), "string runs off the page");
        let straddle = copy_from_user(&mut back, at(PAGE_SIZE - 4));
        crate::kassert!(straddle == Err(Efault), "a copy crossing into nothing faults");
        put_user(at(64), &0x1234_5678_9abc_def0u64).map_err(|_| "put_user")?;
        crate::kassert!(get_user::<u64>(at(64)) == Ok(0x1234_5678_9abc_def0), "get_user");
        clear_user(at(16), 8).map_err(|_| "clear_user")?;
        crate::kassert!(get_user::<u64>(at(16)) == Ok(0), "clear_user zeroed");
        Ok(())
    });
    outcome?
});

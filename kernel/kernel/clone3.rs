//! clone3's argument block: Linux's size-versioned `struct clone_args`,
//! read from user space and checked before `kernel_clone` sees it.
//!
//! Linux: kernel/fork.c (`copy_clone_args_from_user`, `clone3_stack_valid`,
//! `clone3_args_valid`), include/linux/uaccess.h (`copy_struct_from_user`),
//! include/uapi/linux/sched.h (`struct clone_args`, `CLONE_ARGS_SIZE_VER*`).
//!
//! The struct grows at its end (VER0 = 64 bytes, VER1 = 80 adds `set_tid`,
//! VER2 = 88 adds `cgroup`). An older program passes a shorter struct: the
//! missing fields read as 0. A newer one passes a longer struct: accepted
//! only if every byte the kernel does not know is 0 (else `E2BIG`), so a
//! request for a feature this kernel lacks is never silently dropped.
//!
//! # Locking
//! None: user copies only.
#![deny(unsafe_code)]

use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use crate::arch::uaccess::{UserAddr, copy_from_user};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::pid::MAX_PID_NS_LEVEL;
use crate::mm::addr::PAGE_SIZE;

/// The struct as this kernel knows it (`CLONE_ARGS_SIZE_VER2`).
const KSIZE: usize = uapi::CLONE_ARGS_SIZE_VER2 as usize;
const _: () = assert!(size_of::<uapi::clone_args>() == KSIZE);

/// clone3's flags beyond clone's 32 (Linux: `CLONE_LEGACY_FLAGS` and the
/// two 64-bit-only flags).
const CLONE3_FLAGS: u64 = 0xffff_ffff | uapi::CLONE_CLEAR_SIGHAND | uapi::CLONE_INTO_CGROUP;

/// The `CSIGNAL` bits, which clone3 keeps out of `flags` (all but
/// `CLONE_NEWTIME`, which lives among them).
const CSIGNAL: u64 = uapi::CSIGNAL as u64;

/// Reads `size` bytes of `struct clone_args` at `uargs` and the `set_tid`
/// array it points to (Linux: `copy_clone_args_from_user` with
/// `copy_struct_from_user`).
pub fn copy_clone_args_from_user(
    uargs: UserAddr,
    size: usize,
) -> KResult<(uapi::clone_args, Vec<i32>)> {
    if size > PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    if size < uapi::CLONE_ARGS_SIZE_VER0 as usize {
        return Err(Errno::EINVAL);
    }
    let mut raw = [0u8; KSIZE];
    let known = size.min(KSIZE);
    copy_from_user(&mut raw[..known], uargs).map_err(|_| Errno::EFAULT)?;
    if size > KSIZE {
        check_zeroed_user(uargs.checked_add(KSIZE).ok_or(Errno::EFAULT)?, size - KSIZE)?;
    }
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&raw[i * 8..i * 8 + 8]);
        u64::from_ne_bytes(b)
    };
    let args = uapi::clone_args {
        flags: word(0),
        pidfd: word(1),
        child_tid: word(2),
        parent_tid: word(3),
        exit_signal: word(4),
        stack: word(5),
        stack_size: word(6),
        tls: word(7),
        set_tid: word(8),
        set_tid_size: word(9),
        cgroup: word(10),
    };
    check_set_tid_and_signal(&args)?;
    let set_tid = copy_set_tid(&args)?;
    Ok((args, set_tid))
}

/// The `set_tid_size` PIDs at `set_tid` (at most `MAX_PID_NS_LEVEL`).
fn copy_set_tid(args: &uapi::clone_args) -> KResult<Vec<i32>> {
    let n = usize::try_from(args.set_tid_size).map_err(|_| Errno::EINVAL)?;
    let mut raw = [0u8; 4 * MAX_PID_NS_LEVEL as usize];
    let bytes = raw.get_mut(..n * 4).ok_or(Errno::EINVAL)?;
    copy_from_user(bytes, UserAddr::new(args.set_tid)).map_err(|_| Errno::EFAULT)?;
    let mut tids = Vec::new();
    tids.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
    tids.extend(bytes.chunks_exact(4).map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]])));
    Ok(tids)
}

/// `E2BIG` unless the `len` bytes at `addr` are all 0 (Linux:
/// `check_zeroed_user`).
fn check_zeroed_user(addr: UserAddr, len: usize) -> KResult<()> {
    let mut chunk = [0u8; 64];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(chunk.len());
        let at = addr.checked_add(done).ok_or(Errno::EFAULT)?;
        copy_from_user(&mut chunk[..n], at).map_err(|_| Errno::EFAULT)?;
        if chunk[..n].iter().any(|&b| b != 0) {
            return Err(Errno::E2BIG);
        }
        done += n;
    }
    Ok(())
}

/// The checks `copy_clone_args_from_user` makes on what it read; the PIDs
/// in `set_tid` themselves are checked by `alloc_pid_set_tid`.
fn check_set_tid_and_signal(args: &uapi::clone_args) -> KResult<()> {
    if args.set_tid_size > u64::from(MAX_PID_NS_LEVEL) {
        return Err(Errno::EINVAL);
    }
    if (args.set_tid == 0) != (args.set_tid_size == 0) {
        return Err(Errno::EINVAL);
    }
    if args.exit_signal & !CSIGNAL != 0 || args.exit_signal > 64 {
        return Err(Errno::EINVAL);
    }
    if args.flags & uapi::CLONE_INTO_CGROUP != 0 && args.cgroup > i32::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Linux: `clone3_stack_valid`: a stack is both a base and a size, or
/// neither, and lies in user space.
fn clone3_stack_valid(args: &uapi::clone_args) -> bool {
    if args.stack == 0 {
        return args.stack_size == 0;
    }
    let Ok(size) = usize::try_from(args.stack_size) else { return false };
    size != 0 && crate::arch::uaccess::access_ok(UserAddr::new(args.stack), size)
}

/// Linux: `clone3_args_valid`.
pub fn clone3_args_valid(args: &uapi::clone_args) -> KResult<()> {
    let flags = args.flags;
    let bad_bits = flags & !CLONE3_FLAGS != 0
        || flags & (u64::from(uapi::CLONE_DETACHED) | (CSIGNAL & !u64::from(uapi::CLONE_NEWTIME)))
            != 0;
    let sighand = u64::from(uapi::CLONE_SIGHAND) | uapi::CLONE_CLEAR_SIGHAND;
    let both_sighand = flags & sighand == sighand;
    let parent_or_thread = u64::from(uapi::CLONE_THREAD | uapi::CLONE_PARENT);
    let signal_to_nobody = flags & parent_or_thread != 0 && args.exit_signal != 0;
    if bad_bits || both_sighand || signal_to_nobody || !clone3_stack_valid(args) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

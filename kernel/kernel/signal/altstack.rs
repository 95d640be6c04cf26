//! The alternate signal stack: a per-thread region that `SA_ONSTACK`
//! handlers run on, so that a handler can run after the normal stack
//! overflowed (sigaltstack(2)).
//!
//! Linux: include/linux/sched/signal.h (`on_sig_stack`, `sas_ss_flags`,
//! `sas_ss_reset`), kernel/signal.c (`do_sigaltstack`, `restore_altstack`,
//! `SYSCALL_DEFINE2(sigaltstack)`), kernel/fork.c (the `sas_ss_reset` of
//! `copy_process`).
//!
//! The state is Linux's three `task_struct` fields, `sas_ss_sp`,
//! `sas_ss_size`, `sas_ss_flags`; whether the thread is *on* the stack is
//! never stored but computed from its user stack pointer, so a `longjmp`
//! out of a handler needs no kernel help.
//!
//! # Locking
//! The fields live under the thread's `ThreadSignal` lock; only the thread
//! itself changes them (sigaltstack, sigreturn, delivery, exec), fork
//! copies them before the child runs.

use super::task::SigTask;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::UserPtr;
use linux_raw_sys::general as uapi;

/// `ss_flags` bits (Linux: include/uapi/linux/signal.h).
pub const SS_ONSTACK: u32 = uapi::SS_ONSTACK;
pub const SS_DISABLE: u32 = uapi::SS_DISABLE;
/// Disarm the stack while a handler runs on it (Linux: `SS_AUTODISARM`).
pub const SS_AUTODISARM: u32 = uapi::SS_AUTODISARM;
/// The flag bits besides the mode (Linux: `SS_FLAG_BITS`).
const SS_FLAG_BITS: u32 = SS_AUTODISARM;
/// The smallest stack sigaltstack accepts on x86 (Linux: `MINSIGSTKSZ`).
pub const MINSIGSTKSZ: u64 = uapi::MINSIGSTKSZ as u64;

/// One thread's alternate stack (Linux: `sas_ss_sp`, `sas_ss_size`,
/// `sas_ss_flags` in `task_struct`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigAltStack {
    pub sp: u64,
    pub size: u64,
    /// As set: 0, `SS_DISABLE`, `SS_ONSTACK`, possibly with `SS_AUTODISARM`.
    pub flags: u32,
}

impl Default for SigAltStack {
    fn default() -> Self {
        SigAltStack::DISABLED
    }
}

impl SigAltStack {
    /// No alternate stack (Linux: `sas_ss_reset`).
    pub const DISABLED: SigAltStack = SigAltStack { sp: 0, size: 0, flags: SS_DISABLE };

    /// Whether user stack pointer `sp` is on this stack; never while
    /// `SS_AUTODISARM` is set, since the stack was disarmed on entry
    /// (Linux: `on_sig_stack`).
    pub fn on_sig_stack(&self, sp: u64) -> bool {
        if self.flags & SS_AUTODISARM != 0 {
            return false;
        }
        sp > self.sp && sp - self.sp <= self.size
    }

    /// `SS_DISABLE`, `SS_ONSTACK` or 0 for a thread at `sp` (Linux:
    /// `sas_ss_flags`).
    pub fn sas_ss_flags(&self, sp: u64) -> u32 {
        if self.size == 0 {
            SS_DISABLE
        } else if self.on_sig_stack(sp) {
            SS_ONSTACK
        } else {
            0
        }
    }

    /// The first byte above the stack: where a frame on it starts.
    pub fn top(&self) -> u64 {
        self.sp.wrapping_add(self.size)
    }

    /// What sigaltstack(2) reports as the old stack of a thread at `sp`.
    fn reported(&self, sp: u64) -> SigAltStack {
        SigAltStack { flags: self.sas_ss_flags(sp) | (self.flags & SS_FLAG_BITS), ..*self }
    }

    /// `stack_t` as three words: `ss_sp`, `ss_flags` (an `int` and its
    /// padding), `ss_size`.
    pub fn to_user_words(self) -> [u64; 3] {
        [self.sp, u64::from(self.flags), self.size]
    }

    /// The `stack_t` user space passed; `ss_flags` is the low `int`.
    pub fn from_user_words(w: [u64; 3]) -> SigAltStack {
        let flags = u32::try_from(w[1] & 0xffff_ffff).unwrap_or(u32::MAX);
        SigAltStack { sp: w[0], size: w[2], flags }
    }
}

/// Reads and maybe replaces `t`'s alternate stack; `sp` is the thread's
/// user stack pointer. Returns the old one as user space sees it (Linux:
/// `do_sigaltstack`): EPERM while running on it, EINVAL for an unknown
/// mode, ENOMEM below `MINSIGSTKSZ`.
pub fn do_sigaltstack<T: SigTask>(
    t: &T,
    new: Option<SigAltStack>,
    sp: u64,
) -> KResult<SigAltStack> {
    let mut th = t.thread_signal().lock();
    let old = th.sas.reported(sp);
    let Some(mut new) = new else { return Ok(old) };
    if th.sas.on_sig_stack(sp) {
        return Err(Errno::EPERM);
    }
    let mode = new.flags & !SS_FLAG_BITS;
    if mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0 {
        return Err(Errno::EINVAL);
    }
    if mode == SS_DISABLE {
        new.sp = 0;
        new.size = 0;
    } else if new.size < MINSIGSTKSZ {
        return Err(Errno::ENOMEM);
    }
    th.sas = new;
    Ok(old)
}

/// sigaltstack(2); `sp` is the caller's user stack pointer (Linux:
/// `current_user_stack_pointer()`). The new stack is set even if the old
/// one cannot be copied out, as in Linux.
pub fn sys_sigaltstack<T: SigTask>(
    uss: UserPtr<[u64; 3]>,
    uoss: UserPtr<[u64; 3]>,
    sp: u64,
) -> KResult<()> {
    let new = if uss.is_null() { None } else { Some(SigAltStack::from_user_words(uss.read()?)) };
    let old = do_sigaltstack(T::current().as_ref(), new, sp)?;
    if !uoss.is_null() {
        uoss.write(&old.to_user_words())?;
    }
    Ok(())
}

/// Puts back the stack a signal frame saved, on `rt_sigreturn`; errors
/// other than a fault are ignored, as Linux's `restore_altstack` does
/// (the frame may hold a stack the handler was running on).
pub fn restore_altstack<T: SigTask>(t: &T, saved: SigAltStack, sp: u64) {
    let _ = do_sigaltstack(t, Some(saved), sp);
}

/// After a frame is built on it: a stack with `SS_AUTODISARM` is
/// forgotten until sigreturn restores it (Linux: the `sas_ss_reset` in
/// `signal_delivered`).
pub fn disarm_after_delivery<T: SigTask>(t: &T) {
    let mut th = t.thread_signal().lock();
    if th.sas.flags & SS_AUTODISARM != 0 {
        th.sas = SigAltStack::DISABLED;
    }
}

/// The current thread's alternate stack, for building a frame.
pub fn current_altstack<T: SigTask>(t: &T) -> SigAltStack {
    t.thread_signal().lock().sas
}

crate::ktest!(sigaltstack_rules, {
    let sas = SigAltStack { sp: 0x1000, size: 0x2000, flags: 0 };
    crate::kassert!(sas.on_sig_stack(0x3000) && !sas.on_sig_stack(0x1000), "(sp, sp+size]");
    crate::kassert!(sas.sas_ss_flags(0x2000) == SS_ONSTACK, "on");
    crate::kassert!(sas.sas_ss_flags(0x8000) == 0, "off");
    crate::kassert!(SigAltStack::DISABLED.sas_ss_flags(0x2000) == SS_DISABLE, "none");
    let armed = SigAltStack { flags: SS_AUTODISARM, ..sas };
    crate::kassert!(!armed.on_sig_stack(0x2000), "autodisarm is never on");
    crate::kassert!(armed.reported(0x2000).flags == SS_AUTODISARM, "reported with its bit");
    let words = SigAltStack::from_user_words([0x1000, 0xdead_0000_0000_0001, 0x2000]);
    crate::kassert!(words.flags == SS_ONSTACK && words.size == 0x2000, "decode");
    crate::kassert!(MINSIGSTKSZ == 2048, "x86 MINSIGSTKSZ");
    Ok(())
});

//! Signal bookkeeping that needs no hardware and no tasks: which signals a
//! set holds, what a signal does by default, which pending signal goes next,
//! what `siginfo_t` looks like to user space, and how `wait4` encodes a
//! child's fate.
//!
//! Linux: `include/linux/signal.h` (`sigaddset`, `sig_kernel_*`),
//! `include/linux/signal_types.h` (`struct sigpending`), `kernel/signal.c`
//! (`next_signal`, `collect_signal`, `legacy_queue`, `flush_sigqueue_mask`),
//! `include/uapi/asm-generic/siginfo.h`, `include/uapi/linux/wait.h` and the
//! status arithmetic of `kernel/exit.c`.
//!
//! Key types: [`Signal`] (a number 1..=64), [`SigSet`] (Linux's 64-bit
//! `sigset_t`), [`DefaultAction`], [`SigInfo`] (serialised to Linux's
//! 128-byte `siginfo_t`), [`SigPending`] (a set plus the queue of `siginfo`s).
//!
//! Locking: none here; the kernel keeps these inside its signal locks.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod action;
mod pending;
mod siginfo;
mod sigset;
mod wait_status;

pub use action::{DefaultAction, sig_default_action, sig_fatal_default};
pub use pending::{SIGQUEUE_MAX, SigPending};
pub use siginfo::{SI_MAX_SIZE, SigFields, SigInfo, si_code};
pub use sigset::{
    NSIG, STOP_MASK, SYNCHRONOUS_MASK, SigSet, SigmaskHow, Signal, next_signal, sig_kernel_only,
};
pub use wait_status::{
    WaitStatus, cld_code_and_status, w_continued, w_exitcode, w_signaled, w_stopcode,
};

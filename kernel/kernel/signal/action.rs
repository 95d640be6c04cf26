//! Signal actions: what `rt_sigaction` installs, and the table of 64 of them
//! that threads share.
//!
//! Linux: include/linux/signal_types.h (`struct k_sigaction`),
//! include/linux/sched/signal.h (`struct sighand_struct`), kernel/signal.c
//! (`do_sigaction`, `flush_signal_handlers`), kernel/fork.c
//! (`copy_sighand`).
//!
//! # Locking
//! `SigHand::action` is Linux's `sighand->siglock` for the actions: the
//! innermost signal lock (see `signal/mod.rs`). Never held across a user copy.

use super::{SigSet, Signal};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use linux_raw_sys::general as uapi;

bitflags::bitflags! {
    /// `sa_flags` (Linux: `SA_*` in include/uapi/asm-generic/signal-defs.h).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct SaFlags: u64 {
        const NOCLDSTOP = uapi::SA_NOCLDSTOP as u64;
        const NOCLDWAIT = uapi::SA_NOCLDWAIT as u64;
        const SIGINFO = uapi::SA_SIGINFO as u64;
        const EXPOSE_TAGBITS = uapi::SA_EXPOSE_TAGBITS as u64;
        const RESTORER = uapi::SA_RESTORER as u64;
        const ONSTACK = uapi::SA_ONSTACK as u64;
        const RESTART = uapi::SA_RESTART as u64;
        const NODEFER = uapi::SA_NODEFER as u64;
        const RESETHAND = uapi::SA_RESETHAND as u64;
    }
}

/// What a signal's `sa_handler` says to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigHandler {
    /// `SIG_DFL`: the signal's [`super::DefaultAction`].
    Default,
    /// `SIG_IGN`: discard it.
    Ignore,
    /// Run the user function at this address.
    Handler(u64),
}

/// One signal's action, in the layout x86_64's `rt_sigaction` takes (Linux:
/// `struct k_sigaction` around the kernel's `struct sigaction`: handler,
/// flags, restorer, mask; 32 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSigAction {
    pub handler: u64,
    pub flags: SaFlags,
    pub restorer: u64,
    pub mask: SigSet,
}

/// Size of the user `struct sigaction` that `rt_sigaction` copies.
pub const KSIGACTION_SIZE: usize = 32;
const _: () = assert!(size_of::<uapi::kernel_sigaction>() == KSIGACTION_SIZE);
const _: () = assert!(core::mem::offset_of!(uapi::kernel_sigaction, sa_flags) == 8);
const _: () = assert!(core::mem::offset_of!(uapi::kernel_sigaction, sa_restorer) == 16);
const _: () = assert!(core::mem::offset_of!(uapi::kernel_sigaction, sa_mask) == 24);

impl KSigAction {
    /// `SIG_DFL`, no flags.
    pub const DEFAULT: KSigAction =
        KSigAction { handler: 0, flags: SaFlags::empty(), restorer: 0, mask: SigSet::EMPTY };

    /// The action from the four words user space passed. Unknown flag bits
    /// are dropped so that user space can probe for them, as Linux 5.11+ does.
    pub fn from_user_words(words: [u64; 4]) -> KSigAction {
        KSigAction {
            handler: words[0],
            flags: SaFlags::from_bits_truncate(words[1]),
            restorer: words[2],
            mask: SigSet::from_bits(words[3]),
        }
    }

    /// The four words user space reads back.
    pub fn to_user_words(self) -> [u64; 4] {
        [self.handler, self.flags.bits(), self.restorer, self.mask.bits()]
    }

    /// The handler decoded (`SIG_DFL` = 0, `SIG_IGN` = 1).
    pub const fn sig_handler(&self) -> SigHandler {
        match self.handler {
            0 => SigHandler::Default,
            1 => SigHandler::Ignore,
            addr => SigHandler::Handler(addr),
        }
    }
}

/// The table of signal actions, shared by the threads of a process and by
/// `CLONE_SIGHAND` children (Linux: `struct sighand_struct`).
pub struct SigHand {
    action: SpinLock<[KSigAction; 64]>,
}

impl SigHand {
    /// Every action `SIG_DFL`, as for init.
    pub fn new() -> SigHand {
        SigHand { action: SpinLock::new([KSigAction::DEFAULT; 64]) }
    }

    /// A private copy for a child forked without `CLONE_SIGHAND`
    /// (Linux: `copy_sighand`).
    #[allow(dead_code, reason = "copy_process without CLONE_SIGHAND")]
    pub fn copy(&self) -> SigHand {
        SigHand { action: SpinLock::new(*self.action.lock()) }
    }

    /// The action of `sig`.
    pub fn action(&self, sig: Signal) -> KSigAction {
        self.action.lock()[slot(sig)]
    }

    /// Installs `new` (if any) for `sig` and returns the old action
    /// (Linux: `do_sigaction`). SIGKILL's and SIGSTOP's may be read but
    /// never changed. The caller flushes pending instances of a newly
    /// ignored signal (`sig_ignored_now`).
    pub fn do_sigaction(&self, sig: Signal, new: Option<KSigAction>) -> KResult<KSigAction> {
        if new.is_some() && sig.is_kernel_only() {
            return Err(Errno::EINVAL);
        }
        let mut action = self.action.lock();
        let old = action[slot(sig)];
        if let Some(mut new) = new {
            new.mask = new.mask.without_kernel_only();
            action[slot(sig)] = new;
        }
        Ok(old)
    }

    /// Runs `f` on `sig`'s action under the lock (one-shot handlers reset
    /// themselves at delivery this way).
    pub fn update(&self, sig: Signal, f: impl FnOnce(&mut KSigAction)) {
        f(&mut self.action.lock()[slot(sig)]);
    }

    /// Whether a signal sent now would be thrown away: `SIG_IGN`, or
    /// `SIG_DFL` with a default of ignore (Linux: `sig_handler_ignored`).
    pub fn is_ignored(&self, sig: Signal) -> bool {
        handler_ignored(self.action(sig).sig_handler(), sig)
    }

    /// On exec, caught signals go back to `SIG_DFL`; ignored ones stay
    /// ignored (Linux: `flush_signal_handlers(t, 0)`).
    pub fn flush_signal_handlers(&self) {
        for action in self.action.lock().iter_mut() {
            if let SigHandler::Handler(_) = action.sig_handler() {
                *action = KSigAction::DEFAULT;
            }
            action.flags = SaFlags::empty();
            action.mask = SigSet::EMPTY;
            action.restorer = 0;
        }
    }
}

impl Default for SigHand {
    fn default() -> Self {
        SigHand::new()
    }
}

/// Whether `handler` discards `sig` (Linux: `sig_handler_ignored`).
pub fn handler_ignored(handler: SigHandler, sig: Signal) -> bool {
    use super::DefaultAction;
    match handler {
        SigHandler::Ignore => true,
        SigHandler::Default => matches!(
            super::sig_default_action(sig),
            DefaultAction::Ignore | DefaultAction::Continue
        ),
        SigHandler::Handler(_) => false,
    }
}

fn slot(sig: Signal) -> usize {
    // 1..=64 → 0..=63; widening, never truncating.
    sig.number() as usize - 1
}

crate::ktest!(sigaction_kill_stop_fixed, {
    let hand = SigHand::new();
    let catch = KSigAction { handler: 0x40_1000, ..KSigAction::DEFAULT };
    crate::kassert!(
        hand.do_sigaction(Signal::SIGKILL, Some(catch)) == Err(Errno::EINVAL),
        "SIGKILL cannot be caught"
    );
    crate::kassert!(
        hand.do_sigaction(Signal::SIGSTOP, None) == Ok(KSigAction::DEFAULT),
        "SIGSTOP's action can be read"
    );
    let blocks_kill = KSigAction { mask: SigSet::FULL, ..catch };
    crate::kassert!(hand.do_sigaction(Signal::SIGINT, Some(blocks_kill)).is_ok(), "SIGINT caught");
    crate::kassert!(
        !hand.action(Signal::SIGINT).mask.contains(Signal::SIGKILL),
        "sa_mask never blocks SIGKILL"
    );
    crate::kassert!(
        hand.do_sigaction(Signal::SIGQUIT, Some(KSigAction { handler: 1, ..catch })).is_ok(),
        "ign"
    );
    hand.flush_signal_handlers();
    crate::kassert!(hand.action(Signal::SIGINT) == KSigAction::DEFAULT, "exec resets caught");
    crate::kassert!(hand.is_ignored(Signal::SIGQUIT), "exec keeps SIG_IGN");
    crate::kassert!(hand.is_ignored(Signal::SIGCHLD), "SIGCHLD ignored by default");
    crate::kassert!(!hand.is_ignored(Signal::SIGTERM), "SIGTERM not ignored");
    Ok(())
});

//! Signal numbers and signal sets.
//!
//! Linux: `include/linux/signal.h`, `include/uapi/asm-generic/signal.h`,
//! `kernel/signal.c` (`next_signal`, `sigprocmask`).

use core::fmt;
use linux_raw_sys::general as uapi;

/// Number of signals, 1..=64 (Linux: `_NSIG`).
pub const NSIG: u32 = uapi::_NSIG;

/// A valid signal number, 1..=64 (Linux passes a bare `int sig`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signal(u8);

macro_rules! signals {
    ($($name:ident),* $(,)?) => {
        impl Signal {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                #[expect(clippy::cast_possible_truncation, reason = "signal numbers are below 65")]
                pub const $name: Signal = Signal(uapi::$name as u8);
            )*
        }
    };
}

signals!(
    SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGKILL, SIGUSR1, SIGSEGV,
    SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT, SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN,
    SIGTTOU, SIGURG, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGPWR, SIGSYS,
    SIGRTMIN,
);

impl Signal {
    /// The last real-time signal (Linux: `SIGRTMAX` = `_NSIG`).
    pub const SIGRTMAX: Signal = Signal(64);

    /// `sig` if it is a signal number (1..=64), as `valid_signal` checks.
    pub const fn new(sig: u32) -> Option<Signal> {
        if sig >= 1 && sig <= NSIG {
            #[expect(clippy::cast_possible_truncation, reason = "checked to be at most 64")]
            Some(Signal(sig as u8))
        } else {
            None
        }
    }

    /// The number, 1..=64.
    pub const fn number(self) -> u32 {
        self.0 as u32
    }

    /// The bit for this signal in a [`SigSet`] (Linux: `sigmask`).
    pub const fn mask(self) -> u64 {
        1 << (self.0 - 1)
    }

    /// Whether this is a real-time signal, queued once per send.
    pub const fn is_realtime(self) -> bool {
        self.0 as u32 >= uapi::SIGRTMIN
    }

    /// SIGKILL or SIGSTOP: never blocked, caught or ignored
    /// (Linux: `sig_kernel_only`).
    pub const fn is_kernel_only(self) -> bool {
        sig_kernel_only(self)
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signal({})", self.0)
    }
}

/// SIGKILL or SIGSTOP (Linux: `sig_kernel_only`).
pub const fn sig_kernel_only(sig: Signal) -> bool {
    sig.0 == Signal::SIGKILL.0 || sig.0 == Signal::SIGSTOP.0
}

/// A set of signals, Linux's `sigset_t` on x86_64: bit `n - 1` is signal `n`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SigSet(u64);

/// Faults the task caused itself: delivered before anything else so the
/// handler sees the state that raised them (Linux: `SYNCHRONOUS_MASK`).
pub const SYNCHRONOUS_MASK: SigSet = SigSet(
    Signal::SIGSEGV.mask()
        | Signal::SIGBUS.mask()
        | Signal::SIGILL.mask()
        | Signal::SIGTRAP.mask()
        | Signal::SIGFPE.mask()
        | Signal::SIGSYS.mask(),
);

/// The signals whose default action stops the task (Linux: `SIG_KERNEL_STOP_MASK`).
pub const STOP_MASK: SigSet = SigSet(
    Signal::SIGSTOP.mask()
        | Signal::SIGTSTP.mask()
        | Signal::SIGTTIN.mask()
        | Signal::SIGTTOU.mask(),
);

impl SigSet {
    /// No signal.
    pub const EMPTY: SigSet = SigSet(0);
    /// Every signal.
    pub const FULL: SigSet = SigSet(u64::MAX);
    /// SIGKILL and SIGSTOP (Linux: `SIG_KERNEL_ONLY_MASK`).
    pub const KERNEL_ONLY: SigSet = SigSet(Signal::SIGKILL.mask() | Signal::SIGSTOP.mask());

    /// The set whose bits are `bits`, as user space passes it.
    pub const fn from_bits(bits: u64) -> SigSet {
        SigSet(bits)
    }

    /// The raw mask, as user space reads it.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// The set holding only `sig`.
    pub const fn of(sig: Signal) -> SigSet {
        SigSet(sig.mask())
    }

    /// Whether `sig` is in the set (Linux: `sigismember`).
    pub const fn contains(self, sig: Signal) -> bool {
        self.0 & sig.mask() != 0
    }

    /// Adds `sig` (Linux: `sigaddset`).
    pub fn add(&mut self, sig: Signal) {
        self.0 |= sig.mask();
    }

    /// Removes `sig` (Linux: `sigdelset`).
    pub fn remove(&mut self, sig: Signal) {
        self.0 &= !sig.mask();
    }

    /// Whether no signal is in the set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Signals in either set (Linux: `sigorsets`).
    #[must_use]
    pub const fn union(self, other: SigSet) -> SigSet {
        SigSet(self.0 | other.0)
    }

    /// Signals in both sets (Linux: `sigandsets`).
    #[must_use]
    pub const fn intersection(self, other: SigSet) -> SigSet {
        SigSet(self.0 & other.0)
    }

    /// Signals in `self` but not in `other` (Linux: `sigandnsets`).
    #[must_use]
    pub const fn difference(self, other: SigSet) -> SigSet {
        SigSet(self.0 & !other.0)
    }

    /// The set with SIGKILL and SIGSTOP taken out: what any mask user space
    /// asks to block becomes (Linux: `sigdelsetmask(.., sigmask(SIGKILL)|sigmask(SIGSTOP))`).
    #[must_use]
    pub const fn without_kernel_only(self) -> SigSet {
        self.difference(SigSet::KERNEL_ONLY)
    }

    /// The lowest-numbered signal in the set.
    pub const fn first(self) -> Option<Signal> {
        if self.0 == 0 {
            None
        } else {
            #[expect(clippy::cast_possible_truncation, reason = "trailing_zeros of a u64 is < 64")]
            Some(Signal(self.0.trailing_zeros() as u8 + 1))
        }
    }

    /// The signals in the set, lowest first.
    pub fn iter(self) -> impl Iterator<Item = Signal> {
        let mut rest = self;
        core::iter::from_fn(move || {
            let sig = rest.first()?;
            rest.remove(sig);
            Some(sig)
        })
    }
}

impl fmt::Debug for SigSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigSet({:#x})", self.0)
    }
}

/// The signal to take next from `pending` when `blocked` is blocked: faults
/// first, then the lowest number (Linux: `next_signal`).
pub fn next_signal(pending: SigSet, blocked: SigSet) -> Option<Signal> {
    let ready = pending.difference(blocked);
    let sync = ready.intersection(SYNCHRONOUS_MASK);
    if sync.is_empty() { ready.first() } else { sync.first() }
}

/// What `rt_sigprocmask` does with the new set (Linux: `SIG_BLOCK`,
/// `SIG_UNBLOCK`, `SIG_SETMASK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigmaskHow {
    /// Add the set to the blocked mask.
    Block,
    /// Remove the set from the blocked mask.
    Unblock,
    /// Replace the blocked mask.
    SetMask,
}

impl SigmaskHow {
    /// Decodes `how`; `None` is `EINVAL`.
    pub const fn from_raw(how: u32) -> Option<SigmaskHow> {
        match how {
            uapi::SIG_BLOCK => Some(SigmaskHow::Block),
            uapi::SIG_UNBLOCK => Some(SigmaskHow::Unblock),
            uapi::SIG_SETMASK => Some(SigmaskHow::SetMask),
            _ => None,
        }
    }

    /// The blocked mask after applying `set` to `old`; SIGKILL and SIGSTOP
    /// never end up blocked (Linux: `sigprocmask`).
    pub const fn apply(self, old: SigSet, set: SigSet) -> SigSet {
        let new = match self {
            SigmaskHow::Block => old.union(set),
            SigmaskHow::Unblock => old.difference(set),
            SigmaskHow::SetMask => set,
        };
        new.without_kernel_only()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_match_linux() {
        assert_eq!(Signal::SIGKILL.number(), 9);
        assert_eq!(Signal::SIGCHLD.number(), 17);
        assert_eq!(Signal::SIGSYS.number(), 31);
        assert_eq!(Signal::SIGRTMIN.number(), 32);
        assert_eq!(Signal::new(0), None);
        assert_eq!(Signal::new(65), None);
        assert_eq!(Signal::new(64), Some(Signal::SIGRTMAX));
        assert_eq!(Signal::SIGHUP.mask(), 1);
        assert_eq!(Signal::SIGRTMAX.mask(), 1 << 63);
    }

    #[test]
    fn faults_go_first() {
        let pending = SigSet::of(Signal::SIGHUP).union(SigSet::of(Signal::SIGSEGV));
        assert_eq!(next_signal(pending, SigSet::EMPTY), Some(Signal::SIGSEGV));
        let pending = SigSet::of(Signal::SIGTRAP).union(SigSet::of(Signal::SIGILL));
        assert_eq!(next_signal(pending, SigSet::EMPTY), Some(Signal::SIGILL));
        assert_eq!(next_signal(pending, SigSet::of(Signal::SIGILL)), Some(Signal::SIGTRAP));
        let pending = SigSet::of(Signal::SIGUSR2).union(SigSet::of(Signal::SIGRTMIN));
        assert_eq!(next_signal(pending, SigSet::EMPTY), Some(Signal::SIGUSR2));
        assert_eq!(next_signal(pending, pending), None);
    }

    #[test]
    fn how_decodes() {
        assert_eq!(SigmaskHow::from_raw(0), Some(SigmaskHow::Block));
        assert_eq!(SigmaskHow::from_raw(1), Some(SigmaskHow::Unblock));
        assert_eq!(SigmaskHow::from_raw(2), Some(SigmaskHow::SetMask));
        assert_eq!(SigmaskHow::from_raw(3), None);
    }

    proptest! {
        #[test]
        fn kill_and_stop_never_blocked(old in any::<u64>(), set in any::<u64>(), how in 0u32..3) {
            let how = SigmaskHow::from_raw(how).expect("0..3 are valid");
            let new = how.apply(SigSet::from_bits(old), SigSet::from_bits(set));
            prop_assert!(!new.contains(Signal::SIGKILL));
            prop_assert!(!new.contains(Signal::SIGSTOP));
        }

        #[test]
        fn next_is_pending_and_unblocked(pending in any::<u64>(), blocked in any::<u64>()) {
            let (p, b) = (SigSet::from_bits(pending), SigSet::from_bits(blocked));
            match next_signal(p, b) {
                None => prop_assert!(p.difference(b).is_empty()),
                Some(sig) => {
                    prop_assert!(p.contains(sig) && !b.contains(sig));
                    let ready = p.difference(b);
                    let lower = SigSet::from_bits(sig.mask() - 1).intersection(ready);
                    // Only a fault may jump ahead of a lower-numbered signal.
                    prop_assert!(lower.is_empty() || SYNCHRONOUS_MASK.contains(sig));
                }
            }
        }

        #[test]
        fn iter_round_trips(bits in any::<u64>()) {
            let set = SigSet::from_bits(bits);
            let mut again = SigSet::EMPTY;
            for sig in set.iter() { again.add(sig); }
            prop_assert_eq!(set, again);
        }
    }
}

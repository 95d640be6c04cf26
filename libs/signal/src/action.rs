//! What a signal does when its handler is `SIG_DFL`.
//!
//! Linux: `include/linux/signal.h` (`sig_kernel_only`, `sig_kernel_coredump`,
//! `sig_kernel_ignore`, `sig_kernel_stop`, `sig_fatal`), the table in
//! signal(7).

use crate::sigset::{STOP_MASK, SigSet, Signal};

/// The default action of a signal (signal(7)'s "Action" column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// Terminate the thread group.
    Term,
    /// Terminate with the core-dump bit in the wait status (no core file yet).
    Core,
    /// Discard the signal.
    Ignore,
    /// Stop the thread group (job control).
    Stop,
    /// Continue a stopped thread group. The resume happens when SIGCONT is
    /// sent; at delivery SIGCONT is then ignored, as Linux does.
    Continue,
}

const COREDUMP_MASK: SigSet = SigSet::from_bits(
    Signal::SIGQUIT.mask()
        | Signal::SIGILL.mask()
        | Signal::SIGTRAP.mask()
        | Signal::SIGABRT.mask()
        | Signal::SIGFPE.mask()
        | Signal::SIGSEGV.mask()
        | Signal::SIGBUS.mask()
        | Signal::SIGSYS.mask()
        | Signal::SIGXCPU.mask()
        | Signal::SIGXFSZ.mask(),
);

const IGNORE_MASK: SigSet =
    SigSet::from_bits(Signal::SIGCHLD.mask() | Signal::SIGWINCH.mask() | Signal::SIGURG.mask());

/// The default action of `sig`; every real-time signal terminates.
pub const fn sig_default_action(sig: Signal) -> DefaultAction {
    if sig.number() == Signal::SIGCONT.number() {
        DefaultAction::Continue
    } else if STOP_MASK.contains(sig) {
        DefaultAction::Stop
    } else if IGNORE_MASK.contains(sig) {
        DefaultAction::Ignore
    } else if COREDUMP_MASK.contains(sig) {
        DefaultAction::Core
    } else {
        DefaultAction::Term
    }
}

/// Whether `sig` kills the process when left at `SIG_DFL` (Linux: `sig_fatal`
/// for a `SIG_DFL` handler).
pub const fn sig_fatal_default(sig: Signal) -> bool {
    matches!(sig_default_action(sig), DefaultAction::Term | DefaultAction::Core)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DefaultAction::*;

    /// signal(7), "Standard signals", for 1..=31 in order.
    const LINUX_TABLE: [DefaultAction; 31] = [
        Term,     // SIGHUP
        Term,     // SIGINT
        Core,     // SIGQUIT
        Core,     // SIGILL
        Core,     // SIGTRAP
        Core,     // SIGABRT
        Core,     // SIGBUS
        Core,     // SIGFPE
        Term,     // SIGKILL
        Term,     // SIGUSR1
        Core,     // SIGSEGV
        Term,     // SIGUSR2
        Term,     // SIGPIPE
        Term,     // SIGALRM
        Term,     // SIGTERM
        Term,     // SIGSTKFLT
        Ignore,   // SIGCHLD
        Continue, // SIGCONT
        Stop,     // SIGSTOP
        Stop,     // SIGTSTP
        Stop,     // SIGTTIN
        Stop,     // SIGTTOU
        Ignore,   // SIGURG
        Core,     // SIGXCPU
        Core,     // SIGXFSZ
        Term,     // SIGVTALRM
        Term,     // SIGPROF
        Ignore,   // SIGWINCH
        Term,     // SIGIO
        Term,     // SIGPWR
        Core,     // SIGSYS
    ];

    #[test]
    fn matches_signal_7() {
        for (n, want) in (1..=31).zip(LINUX_TABLE) {
            let sig = Signal::new(n).expect("1..=31 are signals");
            assert_eq!(sig_default_action(sig), want, "signal {n}");
        }
        for n in 32..=64 {
            let sig = Signal::new(n).expect("32..=64 are signals");
            assert_eq!(sig_default_action(sig), Term, "signal {n}");
        }
    }

    #[test]
    fn fatal() {
        assert!(sig_fatal_default(Signal::SIGKILL));
        assert!(sig_fatal_default(Signal::SIGSEGV));
        assert!(!sig_fatal_default(Signal::SIGCHLD));
        assert!(!sig_fatal_default(Signal::SIGTSTP));
    }
}

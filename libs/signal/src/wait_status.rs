//! The status word `wait4` returns and the SIGCHLD `si_code` that goes with it.
//!
//! Linux: `kernel/exit.c` (`do_exit`'s `(code & 0xff) << 8`,
//! `do_notify_parent`), `kernel/signal.c` (`do_notify_parent_cldstop`),
//! `include/uapi/linux/wait.h` and glibc's `W*` macros.

use crate::siginfo::si_code;
use crate::sigset::Signal;

/// The status of a child that called `exit(code)` (Linux: `__W_EXITCODE(code, 0)`).
pub const fn w_exitcode(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// The status of a child killed by `sig`; `core` sets `WCOREDUMP`'s 0x80.
#[expect(clippy::cast_possible_wrap, reason = "signal numbers are below 65")]
pub const fn w_signaled(sig: Signal, core: bool) -> i32 {
    sig.number() as i32 | if core { 0x80 } else { 0 }
}

/// The status of a child stopped by `sig` (Linux: `__W_STOPCODE`).
#[expect(clippy::cast_possible_wrap, reason = "signal numbers are below 65")]
pub const fn w_stopcode(sig: Signal) -> i32 {
    (sig.number() as i32) << 8 | 0x7f
}

/// The status of a continued child (Linux: `__W_CONTINUED`).
pub const fn w_continued() -> i32 {
    0xffff
}

/// A status word decoded, as the `WIF*` macros see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStatus {
    /// `WIFEXITED`, with `WEXITSTATUS`.
    Exited(i32),
    /// `WIFSIGNALED`, with `WTERMSIG` and `WCOREDUMP`.
    Signaled(i32, bool),
    /// `WIFSTOPPED`, with `WSTOPSIG`.
    Stopped(i32),
    /// `WIFCONTINUED`.
    Continued,
}

impl WaitStatus {
    /// Decodes `status` as glibc's macros do.
    pub const fn decode(status: i32) -> WaitStatus {
        if status == 0xffff {
            WaitStatus::Continued
        } else if status & 0xff == 0x7f {
            WaitStatus::Stopped((status >> 8) & 0xff)
        } else if status & 0x7f == 0 {
            WaitStatus::Exited((status >> 8) & 0xff)
        } else {
            WaitStatus::Signaled(status & 0x7f, status & 0x80 != 0)
        }
    }
}

/// SIGCHLD's `si_code` and `si_status` for a dead child whose wait status is
/// `exit_code` (Linux: `do_notify_parent`).
pub const fn cld_code_and_status(exit_code: i32) -> (i32, i32) {
    if exit_code & 0x80 != 0 {
        (si_code::CLD_DUMPED, exit_code & 0x7f)
    } else if exit_code & 0x7f != 0 {
        (si_code::CLD_KILLED, exit_code & 0x7f)
    } else {
        (si_code::CLD_EXITED, exit_code >> 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodings_match_glibc() {
        assert_eq!(w_exitcode(0), 0);
        assert_eq!(w_exitcode(1), 0x100);
        assert_eq!(w_exitcode(256 + 3), 0x300);
        assert_eq!(w_exitcode(-1), 0xff00);
        assert_eq!(w_signaled(Signal::SIGKILL, false), 9);
        assert_eq!(w_signaled(Signal::SIGSEGV, true), 0x8b);
        assert_eq!(w_stopcode(Signal::SIGTSTP), 0x147f);
        assert_eq!(w_continued(), 0xffff);
        assert_eq!(WaitStatus::decode(0x8b), WaitStatus::Signaled(11, true));
        assert_eq!(WaitStatus::decode(0x147f), WaitStatus::Stopped(20));
        assert_eq!(cld_code_and_status(0x8b), (si_code::CLD_DUMPED, 11));
        assert_eq!(cld_code_and_status(9), (si_code::CLD_KILLED, 9));
        assert_eq!(cld_code_and_status(0x2a00), (si_code::CLD_EXITED, 42));
    }

    proptest! {
        #[test]
        fn round_trips(code in any::<i32>(), n in 1u32..=64, core in any::<bool>()) {
            let sig = Signal::new(n).expect("valid");
            prop_assert_eq!(WaitStatus::decode(w_exitcode(code)), WaitStatus::Exited(code & 0xff));
            #[expect(clippy::cast_possible_wrap, reason = "small")]
            let n = n as i32;
            prop_assert_eq!(WaitStatus::decode(w_stopcode(sig)), WaitStatus::Stopped(n));
            // Linux's status has 7 bits for the signal: 0x7f would read as
            // "stopped", but signal 127 does not exist.
            prop_assert_eq!(WaitStatus::decode(w_signaled(sig, core)), WaitStatus::Signaled(n, core));
        }
    }
}

//! `siginfo_t`: what a handler with `SA_SIGINFO` learns about a signal.
//!
//! Linux: `include/uapi/asm-generic/siginfo.h`, `include/linux/signal_types.h`
//! (`kernel_siginfo`). The kernel keeps the fields that matter as an enum and
//! writes Linux's 128-byte layout only when copying to user space, so a
//! stale union member can never leak kernel bytes.

use crate::sigset::Signal;
use linux_raw_sys::general as uapi;

/// Size of `siginfo_t` (Linux: `SI_MAX_SIZE`).
pub const SI_MAX_SIZE: usize = uapi::SI_MAX_SIZE as usize;

/// `si_code` values: who sent the signal, or why the kernel raised it.
#[allow(missing_docs, reason = "Linux's names, documented in sigaction(2)")]
pub mod si_code {
    use linux_raw_sys::general as uapi;
    #[expect(clippy::cast_possible_wrap, reason = "small positive constants")]
    mod c {
        use super::uapi;
        pub const SI_USER: i32 = uapi::SI_USER as i32;
        pub const SI_KERNEL: i32 = uapi::SI_KERNEL as i32;
        pub const CLD_EXITED: i32 = uapi::CLD_EXITED as i32;
        pub const CLD_KILLED: i32 = uapi::CLD_KILLED as i32;
        pub const CLD_DUMPED: i32 = uapi::CLD_DUMPED as i32;
        pub const CLD_TRAPPED: i32 = uapi::CLD_TRAPPED as i32;
        pub const CLD_STOPPED: i32 = uapi::CLD_STOPPED as i32;
        pub const CLD_CONTINUED: i32 = uapi::CLD_CONTINUED as i32;
        pub const SEGV_MAPERR: i32 = uapi::SEGV_MAPERR as i32;
        pub const SEGV_ACCERR: i32 = uapi::SEGV_ACCERR as i32;
        pub const BUS_ADRALN: i32 = uapi::BUS_ADRALN as i32;
        pub const BUS_ADRERR: i32 = uapi::BUS_ADRERR as i32;
    }
    pub use c::*;
    pub const SI_QUEUE: i32 = uapi::SI_QUEUE;
    pub const SI_TKILL: i32 = uapi::SI_TKILL;
}

/// The union part of `siginfo_t`, by what sent the signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigFields {
    /// Nothing beyond signo/errno/code (e.g. `SI_KERNEL`).
    None,
    /// `kill`, `tgkill`, `raise`: the sender (Linux: `_kill`).
    Kill {
        /// Sender's thread-group id.
        pid: i32,
        /// Sender's real uid.
        uid: u32,
    },
    /// `rt_sigqueueinfo`, POSIX timers: sender plus `sigval` (Linux: `_rt`).
    Rt {
        /// Sender's thread-group id.
        pid: i32,
        /// Sender's real uid.
        uid: u32,
        /// `si_value`.
        value: u64,
    },
    /// SIGCHLD (Linux: `_sigchld`).
    Chld {
        /// The child's thread-group id.
        pid: i32,
        /// The child's real uid.
        uid: u32,
        /// Exit code or signal number, by `si_code`.
        status: i32,
        /// User time in clock ticks.
        utime: i64,
        /// System time in clock ticks.
        stime: i64,
    },
    /// SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP (Linux: `_sigfault`).
    Fault {
        /// The faulting address.
        addr: u64,
    },
}

/// One signal's information (Linux: `struct kernel_siginfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    /// `si_signo`.
    pub signo: Signal,
    /// `si_errno`, almost always 0.
    pub errno: i32,
    /// `si_code`: see [`si_code`].
    pub code: i32,
    /// The union.
    pub fields: SigFields,
}

impl SigInfo {
    /// What `kill(2)` from `pid`/`uid` sends.
    pub const fn user(signo: Signal, pid: i32, uid: u32) -> SigInfo {
        SigInfo { signo, errno: 0, code: si_code::SI_USER, fields: SigFields::Kill { pid, uid } }
    }

    /// What the kernel sends on its own behalf (Linux: `SEND_SIG_PRIV`).
    pub const fn kernel(signo: Signal) -> SigInfo {
        SigInfo { signo, errno: 0, code: si_code::SI_KERNEL, fields: SigFields::None }
    }

    /// A fault at `addr` with `code` (`SEGV_MAPERR`…) (Linux: `force_sig_fault`).
    pub const fn fault(signo: Signal, code: i32, addr: u64) -> SigInfo {
        SigInfo { signo, errno: 0, code, fields: SigFields::Fault { addr } }
    }

    /// Linux's 128-byte `siginfo_t`, zero where no field is written.
    pub fn to_bytes(&self) -> [u8; SI_MAX_SIZE] {
        let mut b = [0u8; SI_MAX_SIZE];
        let mut put = |off: usize, bytes: &[u8]| b[off..off + bytes.len()].copy_from_slice(bytes);
        #[expect(clippy::cast_possible_wrap, reason = "signal numbers are below 65")]
        put(0, &(self.signo.number() as i32).to_ne_bytes());
        put(4, &self.errno.to_ne_bytes());
        put(8, &self.code.to_ne_bytes());
        // The union starts at 16: `int` ×3 then padding to the 8-byte
        // alignment of its pointer and `clock_t` members.
        match self.fields {
            SigFields::None => {}
            SigFields::Kill { pid, uid } => {
                put(16, &pid.to_ne_bytes());
                put(20, &uid.to_ne_bytes());
            }
            SigFields::Rt { pid, uid, value } => {
                put(16, &pid.to_ne_bytes());
                put(20, &uid.to_ne_bytes());
                put(24, &value.to_ne_bytes());
            }
            SigFields::Chld { pid, uid, status, utime, stime } => {
                put(16, &pid.to_ne_bytes());
                put(20, &uid.to_ne_bytes());
                put(24, &status.to_ne_bytes());
                put(32, &utime.to_ne_bytes());
                put(40, &stime.to_ne_bytes());
            }
            SigFields::Fault { addr } => put(16, &addr.to_ne_bytes()),
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word<const N: usize>(b: &[u8], off: usize) -> [u8; N] {
        b[off..off + N].try_into().expect("in range")
    }

    /// Offsets from gcc against Debian's linux-libc-dev: si_pid 16, si_uid
    /// 20, si_status 24, si_utime 32, si_stime 40, si_addr 16, si_value 24.
    #[test]
    fn chld_layout() {
        let info = SigInfo {
            signo: Signal::SIGCHLD,
            errno: 0,
            code: si_code::CLD_EXITED,
            fields: SigFields::Chld { pid: 42, uid: 1000, status: 3, utime: 7, stime: -1 },
        };
        let b = info.to_bytes();
        assert_eq!(i32::from_ne_bytes(word(&b, 0)), 17);
        assert_eq!(i32::from_ne_bytes(word(&b, 8)), 1);
        assert_eq!(i32::from_ne_bytes(word(&b, 16)), 42);
        assert_eq!(u32::from_ne_bytes(word(&b, 20)), 1000);
        assert_eq!(i32::from_ne_bytes(word(&b, 24)), 3);
        assert_eq!(i64::from_ne_bytes(word(&b, 32)), 7);
        assert_eq!(i64::from_ne_bytes(word(&b, 40)), -1);
        assert!(b[48..].iter().all(|&x| x == 0));
    }

    #[test]
    fn fault_and_kill_layout() {
        let b = SigInfo::fault(Signal::SIGSEGV, si_code::SEGV_MAPERR, 0xdead_beef_0000).to_bytes();
        assert_eq!(u64::from_ne_bytes(word(&b, 16)), 0xdead_beef_0000);
        assert_eq!(i32::from_ne_bytes(word(&b, 8)), 1);
        let b = SigInfo::user(Signal::SIGTERM, 5, 0).to_bytes();
        assert_eq!(i32::from_ne_bytes(word(&b, 8)), 0);
        assert_eq!(i32::from_ne_bytes(word(&b, 16)), 5);
        let b = SigInfo::kernel(Signal::SIGKILL).to_bytes();
        assert_eq!(i32::from_ne_bytes(word(&b, 8)), 0x80);
        assert!(b[12..].iter().all(|&x| x == 0));
    }
}

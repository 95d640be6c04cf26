//! Pending signals: a set, plus the `siginfo` of each queued instance.
//!
//! Linux: `include/linux/signal_types.h` (`struct sigpending`),
//! `kernel/signal.c` (`__send_signal_locked`'s queueing, `legacy_queue`,
//! `collect_signal`, `__dequeue_signal`, `flush_sigqueue_mask`).
//!
//! A standard signal (1..=31) is pending at most once: a second send while
//! the first waits is dropped. A real-time signal is queued once per send, in
//! order. When the queue is full the bit is still set and delivery makes up a
//! `SI_USER` siginfo, as Linux does when it cannot allocate a `sigqueue`.

use crate::siginfo::{SigFields, SigInfo, si_code};
use crate::sigset::{SigSet, Signal, next_signal};
use alloc::collections::VecDeque;

/// Most `siginfo`s one [`SigPending`] queues (Linux bounds them per user by
/// `RLIMIT_SIGPENDING`, whose default is in the thousands).
pub const SIGQUEUE_MAX: usize = 1024;

/// Signals waiting for delivery (Linux: `struct sigpending`).
#[derive(Clone, Debug, Default)]
pub struct SigPending {
    signal: SigSet,
    queue: VecDeque<SigInfo>,
}

impl SigPending {
    /// Nothing pending.
    pub const fn new() -> SigPending {
        SigPending { signal: SigSet::EMPTY, queue: VecDeque::new() }
    }

    /// The set of pending signals.
    pub const fn signal(&self) -> SigSet {
        self.signal
    }

    /// Whether `sig` is pending.
    pub const fn contains(&self, sig: Signal) -> bool {
        self.signal.contains(sig)
    }

    /// How many `siginfo`s are queued (Linux counts them in
    /// `user->sigpending` against `RLIMIT_SIGPENDING`).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Queues `info`; returns false if it was dropped because its standard
    /// signal is already pending (Linux: `legacy_queue`).
    pub fn enqueue(&mut self, info: SigInfo) -> bool {
        let sig = info.signo;
        if !sig.is_realtime() && self.signal.contains(sig) {
            return false;
        }
        if self.queue.len() < SIGQUEUE_MAX {
            self.queue.push_back(info);
        }
        self.signal.add(sig);
        true
    }

    /// Takes the next signal not in `blocked`, faults first
    /// (Linux: `__dequeue_signal`).
    pub fn dequeue(&mut self, blocked: SigSet) -> Option<SigInfo> {
        let sig = next_signal(self.signal, blocked)?;
        Some(self.collect(sig))
    }

    /// Takes `sig`'s oldest instance, clearing its bit unless another one is
    /// queued behind it (Linux: `collect_signal`).
    fn collect(&mut self, sig: Signal) -> SigInfo {
        let mut found = None;
        let mut more = false;
        let mut i = 0;
        while i < self.queue.len() {
            if self.queue[i].signo == sig {
                if found.is_none() {
                    found = self.queue.remove(i);
                    continue;
                }
                more = true;
                break;
            }
            i += 1;
        }
        if !more {
            self.signal.remove(sig);
        }
        found.unwrap_or(SigInfo {
            signo: sig,
            errno: 0,
            code: si_code::SI_USER,
            fields: SigFields::Kill { pid: 0, uid: 0 },
        })
    }

    /// Discards every pending signal in `set` (Linux: `flush_sigqueue_mask`),
    /// as SIGCONT does to stop signals and a stop signal to SIGCONT; returns
    /// whether any was pending.
    pub fn flush(&mut self, set: SigSet) -> bool {
        let hit = self.signal.intersection(set);
        if hit.is_empty() {
            return false;
        }
        self.signal = self.signal.difference(set);
        self.queue.retain(|info| !set.contains(info.signo));
        true
    }

    /// Discards everything (Linux: `flush_sigqueue`).
    pub fn clear(&mut self) {
        self.signal = SigSet::EMPTY;
        self.queue.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rt(n: u32, value: u64) -> SigInfo {
        let signo = Signal::new(n).expect("valid");
        SigInfo {
            signo,
            errno: 0,
            code: si_code::SI_QUEUE,
            fields: SigFields::Rt { pid: 1, uid: 0, value },
        }
    }

    #[test]
    fn standard_signals_do_not_queue() {
        let mut p = SigPending::new();
        assert!(p.enqueue(SigInfo::user(Signal::SIGUSR1, 3, 0)));
        assert!(!p.enqueue(SigInfo::user(Signal::SIGUSR1, 4, 0)));
        let got = p.dequeue(SigSet::EMPTY).expect("pending");
        assert_eq!(got.fields, SigFields::Kill { pid: 3, uid: 0 });
        assert!(p.dequeue(SigSet::EMPTY).is_none());
    }

    #[test]
    fn realtime_signals_queue_in_order() {
        let mut p = SigPending::new();
        for v in 0..3 {
            assert!(p.enqueue(rt(40, v)));
        }
        assert!(p.enqueue(rt(35, 9)));
        let order: Vec<_> = core::iter::from_fn(|| p.dequeue(SigSet::EMPTY)).collect();
        let values: Vec<_> = order
            .iter()
            .map(|i| match i.fields {
                SigFields::Rt { value, .. } => (i.signo.number(), value),
                _ => (0, 0),
            })
            .collect();
        assert_eq!(values, [(35, 9), (40, 0), (40, 1), (40, 2)]);
        assert!(p.signal().is_empty());
    }

    #[test]
    fn overflow_still_delivers() {
        let mut p = SigPending::new();
        for v in 0..SIGQUEUE_MAX as u64 {
            p.enqueue(rt(50, v));
        }
        assert!(p.enqueue(SigInfo::user(Signal::SIGHUP, 7, 0)));
        let got = p.dequeue(SigSet::EMPTY).expect("pending");
        assert_eq!(got.signo, Signal::SIGHUP);
        assert_eq!(got.fields, SigFields::Kill { pid: 0, uid: 0 });
    }

    #[test]
    fn flush_drops_bits_and_infos() {
        let mut p = SigPending::new();
        p.enqueue(SigInfo::user(Signal::SIGTSTP, 1, 0));
        p.enqueue(SigInfo::user(Signal::SIGINT, 1, 0));
        assert!(p.flush(crate::STOP_MASK));
        assert!(!p.flush(crate::STOP_MASK));
        assert_eq!(p.dequeue(SigSet::EMPTY).map(|i| i.signo), Some(Signal::SIGINT));
        assert!(p.dequeue(SigSet::EMPTY).is_none());
    }

    proptest! {
        #[test]
        fn bits_match_queue(sends in proptest::collection::vec((1u32..=64, any::<bool>()), 0..64),
                            blocked in any::<u64>()) {
            let mut p = SigPending::new();
            let blocked = SigSet::from_bits(blocked);
            for (n, take) in sends {
                p.enqueue(rt(n, 0));
                if take { p.dequeue(blocked); }
                for info in &p.queue {
                    prop_assert!(p.signal.contains(info.signo));
                }
                let standard = p.queue.iter().filter(|i| !i.signo.is_realtime()).count();
                let distinct = p.signal.intersection(SigSet::from_bits(0x7fff_ffff)).iter().count();
                prop_assert_eq!(standard, distinct);
            }
        }
    }
}

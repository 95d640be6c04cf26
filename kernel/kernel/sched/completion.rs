//! Completions: "wait until this has happened", on a wait queue.
//!
//! Linux: kernel/sched/completion.c (`complete`, `complete_all`,
//! `wait_for_completion`), include/linux/completion.h.
//!
//! # Locking
//! `done` is an atomic consumed with compare-and-swap inside the wait
//! condition, so exactly one waiter takes each `complete()`; sleeping and
//! waking go through the wait queue's lock.
#![deny(unsafe_code)]

use core::sync::atomic::{AtomicU32, Ordering};

use super::wait::WaitQueue;

/// `done` after `complete_all`: every wait succeeds from then on.
const UINT_MAX: u32 = u32::MAX;

/// Linux: `struct completion`.
pub struct Completion {
    done: AtomicU32,
    wait: WaitQueue,
}

impl Default for Completion {
    fn default() -> Self {
        Self::new()
    }
}

impl Completion {
    /// Linux: `init_completion`.
    pub const fn new() -> Self {
        Self { done: AtomicU32::new(0), wait: WaitQueue::new() }
    }

    /// Lets one waiter through (Linux: `complete`).
    pub fn complete(&self) {
        let _ = self.done.fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| {
            (d != UINT_MAX).then(|| d.saturating_add(1).min(UINT_MAX - 1))
        });
        self.wait.wake_up();
    }

    /// Lets every waiter through, now and later (Linux: `complete_all`).
    pub fn complete_all(&self) {
        self.done.store(UINT_MAX, Ordering::Release);
        self.wait.wake_up_all();
    }

    /// Takes one `complete()` if there is one (Linux: `try_wait_for_completion`).
    pub fn try_wait(&self) -> bool {
        self.done
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| match d {
                0 => None,
                UINT_MAX => Some(UINT_MAX),
                d => Some(d - 1),
            })
            .is_ok()
    }

    /// Sleeps uninterruptibly until completed (Linux: `wait_for_completion`).
    pub fn wait_for_completion(&self) {
        self.wait.wait_event_exclusive(|| self.try_wait());
    }

    #[allow(dead_code, reason = "API: vfork_done, wired with fork")]
    /// Whether a wait would not sleep (Linux: `completion_done`).
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire) != 0
    }
}

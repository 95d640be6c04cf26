//! Sleeping mutexes: a lock whose waiters sleep instead of spinning, for
//! long critical sections in process context.
//!
//! Linux: kernel/locking/mutex.c (`mutex_lock`, `mutex_unlock`,
//! `__mutex_lock_common`), include/linux/mutex.h.
//!
//! The fast path is one compare-and-swap (`spin::Mutex::try_lock`); the
//! slow path sleeps, exclusively, on the mutex's wait queue until the lock
//! looks free, then tries again. Unlock wakes one exclusive sleeper, and
//! only if a task is in the slow path (`sleepers`: it counts itself before
//! testing the lock, the unlocker reads it after releasing, a full fence
//! between on each side, so one sees the other). Not for interrupt
//! context (it sleeps), and not to be taken under a spinlock: `lock`
//! calls `might_sleep`, which reports such a caller.
//!
//! # Locking
//! The mutex is its own lock; its wait queue's spinlock is taken only
//! inside `lock` and `drop(guard)`, never while holding another lock of
//! the list in mod.rs besides the ones the caller holds.
#![deny(unsafe_code)]

use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, Ordering, fence};

use super::might_sleep;
use crate::kernel::sched::wait::WaitQueue;

/// A sleeping lock (Linux: `struct mutex`).
pub struct Mutex<T: ?Sized> {
    wait: WaitQueue,
    /// Tasks in `lock`'s slow path.
    sleepers: AtomicU32,
    inner: spin::Mutex<T>,
}

impl<T> Mutex<T> {
    /// Linux: `DEFINE_MUTEX` / `mutex_init`.
    pub const fn new(value: T) -> Self {
        Self { wait: WaitQueue::new(), sleepers: AtomicU32::new(0), inner: spin::Mutex::new(value) }
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Takes the lock, sleeping while another task holds it (Linux:
    /// `mutex_lock`).
    pub fn lock(&self) -> MutexGuard<'_, T> {
        might_sleep();
        if let Some(guard) = self.inner.try_lock() {
            return MutexGuard { mutex: self, guard: Some(guard) };
        }
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let mut got = None;
        self.wait.wait_event_exclusive(|| {
            got = self.inner.try_lock();
            got.is_some()
        });
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        let guard = got.expect("the wait ends with the lock taken");
        MutexGuard { mutex: self, guard: Some(guard) }
    }

    /// Takes the lock only if it is free (Linux: `mutex_trylock`).
    #[allow(dead_code, reason = "API for the VFS and drivers")]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.inner.try_lock().map(|guard| MutexGuard { mutex: self, guard: Some(guard) })
    }

    /// Linux: `mutex_is_locked`.
    #[allow(dead_code, reason = "API for the VFS and drivers")]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }
}

/// Holds a [`Mutex`]; dropping it unlocks and wakes one waiter.
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    guard: Option<spin::MutexGuard<'a, T>>,
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_deref().expect("guard is held until drop")
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_deref_mut().expect("guard is held until drop")
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.guard.take());
        fence(Ordering::SeqCst);
        if self.mutex.sleepers.load(Ordering::SeqCst) != 0 {
            self.mutex.wait.wake_up();
        }
    }
}

crate::ktest!(mutex_excludes_sleeping_waiters, {
    use alloc::sync::Arc;
    use core::sync::atomic::{AtomicU32, Ordering};
    static M: Mutex<u32> = Mutex::new(0);
    static INSIDE: AtomicU32 = AtomicU32::new(0);
    static FINISHED: AtomicU32 = AtomicU32::new(0);
    FINISHED.store(0, Ordering::SeqCst);
    let worker = || {
        for _ in 0..200 {
            let mut g = M.lock();
            let was = INSIDE.fetch_add(1, Ordering::SeqCst);
            *g += 1;
            crate::kernel::sched::sched_yield(); // hold it across a switch
            INSIDE.fetch_sub(1, Ordering::SeqCst);
            if was != 0 {
                *g += 1_000_000; // two holders at once: poison the count
            }
        }
        FINISHED.fetch_add(1, Ordering::SeqCst);
        0
    };
    *M.lock() = 0;
    let a: Arc<_> = crate::kernel::kthread::kthread_run(worker, "ktest-mutex").map_err(|_| "a")?;
    let b = crate::kernel::kthread::kthread_run(worker, "ktest-mutex").map_err(|_| "b")?;
    while FINISHED.load(Ordering::SeqCst) < 2 {
        crate::kernel::sched::sched_yield();
    }
    crate::kernel::kthread::kthread_stop(&a);
    crate::kernel::kthread::kthread_stop(&b);
    crate::kassert!(*M.lock() == 400, "400 increments, never two holders");
    Ok(())
});

//! Sleeping reader-writer semaphores: many readers or one writer, whose
//! waiters sleep instead of spinning.
//!
//! Linux: kernel/locking/rwsem.c (`down_read`, `down_write`, `up_read`,
//! `up_write`, `downgrade_write`, `rwsem_down_read_slowpath`,
//! `rwsem_down_write_slowpath`), include/linux/rwsem.h.
//!
//! The count is a `spin::RwLock`'s word, used only through its `try_*`
//! calls, so the data needs no `unsafe` here and each fast path is one
//! atomic: `down_read` a `fetch_add`, `down_write` a compare-and-swap.
//! The slow paths sleep:
//! ```text
//! down_read    sleep on `wait` until try_read succeeds
//! down_write   sleep on `wait` (exclusive) until it holds the UPGRADED
//!              bit: it is then the next writer and new readers fail;
//!              sleep on `handoff` until the readers in drain and
//!              UPGRADED becomes WRITER
//! up_read      wakes `handoff` (the next writer) if anyone sleeps
//! up_write     wakes `wait`: every reader and one writer
//! ```
//! Holding UPGRADED is the writer preference of Linux's `RWSEM_FLAG_WAITERS`
//! and handoff: once a writer waits, no new reader gets in, so a stream of
//! readers cannot starve it. Readers can still wait behind a stream of
//! writers; mmap_lock's writers (mmap, munmap, brk) are not one.
//!
//! `sleepers` counts tasks in a slow path, so that an unlock with nobody
//! asleep costs no wait-queue lock. A sleeper counts itself before it
//! tests the lock, an unlocker releases before it reads the count, with a
//! full fence between on each side: one of them sees the other.
//!
//! A failed `try_read` adds and takes back a reader, which can make the
//! next writer's upgrade fail in between: a reader that failed kicks
//! `handoff` so that the writer tests again.
//!
//! Not for interrupt context, nor under a spinlock: `might_sleep` in every
//! down path reports a caller that could sleep in atomic context.
//!
//! # Locking
//! The semaphore is its own lock; its wait queues' spinlocks are taken
//! only inside the down and up paths. It sits wherever its user documents
//! it in mod.rs, always above every spinlock.
#![deny(unsafe_code)]

use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, Ordering, fence};

use spin::{RwLock, RwLockReadGuard, RwLockUpgradableGuard, RwLockWriteGuard};

use super::might_sleep;
use crate::kernel::sched::wait::WaitQueue;

/// A sleeping reader-writer lock around a `T` (Linux: `struct rw_semaphore`).
pub struct RwSemaphore<T> {
    inner: RwLock<T>,
    /// Readers, and writers waiting to become the next writer.
    wait: WaitQueue,
    /// The next writer, waiting for the readers in to leave.
    handoff: WaitQueue,
    /// Tasks in a slow path (asleep or about to be).
    sleepers: AtomicU32,
}

impl<T> RwSemaphore<T> {
    /// Linux: `DECLARE_RWSEM` / `init_rwsem`.
    pub const fn new(value: T) -> Self {
        Self {
            inner: RwLock::new(value),
            wait: WaitQueue::new(),
            handoff: WaitQueue::new(),
            sleepers: AtomicU32::new(0),
        }
    }

    /// Takes the lock shared, sleeping while a writer holds or waits for
    /// it (Linux: `down_read`).
    pub fn down_read(&self) -> RwSemReadGuard<'_, T> {
        might_sleep();
        if let Some(guard) = self.inner.try_read() {
            return RwSemReadGuard { sem: self, guard: Some(guard) };
        }
        self.kick_handoff();
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let mut got = None;
        self.wait.wait_event(|| {
            got = self.inner.try_read();
            if got.is_none() {
                self.kick_handoff();
            }
            got.is_some()
        });
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        RwSemReadGuard { sem: self, guard: Some(self.expect_granted(got)) }
    }

    /// Takes the lock shared only if that needs no wait (Linux:
    /// `down_read_trylock`).
    pub fn try_read(&self) -> Option<RwSemReadGuard<'_, T>> {
        match self.inner.try_read() {
            Some(guard) => Some(RwSemReadGuard { sem: self, guard: Some(guard) }),
            None => {
                self.kick_handoff();
                None
            }
        }
    }

    /// Takes the lock exclusive, sleeping while anyone holds it (Linux:
    /// `down_write`).
    pub fn down_write(&self) -> RwSemWriteGuard<'_, T> {
        might_sleep();
        if let Some(guard) = self.inner.try_write() {
            return RwSemWriteGuard { sem: self, guard: Some(guard) };
        }
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        // First become the next writer: that shuts new readers out.
        let mut next: Option<RwLockUpgradableGuard<'_, T>> = None;
        self.wait.wait_event_exclusive(|| {
            next = self.inner.try_upgradeable_read();
            next.is_some()
        });
        // Then wait for the readers already in.
        let mut got = None;
        self.handoff.wait_event_exclusive(|| match next.take().map(|n| n.try_upgrade()) {
            Some(Ok(write)) => {
                got = Some(write);
                true
            }
            Some(Err(still)) => {
                next = Some(still);
                false
            }
            None => true,
        });
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        RwSemWriteGuard { sem: self, guard: Some(self.expect_granted(got)) }
    }

    /// Takes the lock exclusive only if it is free (Linux:
    /// `down_write_trylock`).
    #[allow(dead_code, reason = "API for the VFS and mm")]
    pub fn try_write(&self) -> Option<RwSemWriteGuard<'_, T>> {
        self.inner.try_write().map(|guard| RwSemWriteGuard { sem: self, guard: Some(guard) })
    }

    /// The wait loops end only with the guard taken; a missing one would
    /// be a bug in them, and spinning for it is still correct.
    fn expect_granted<G>(&self, got: Option<G>) -> G {
        got.expect("rwsem slow path returns with the lock held")
    }

    /// Wakes the next writer if anyone might sleep (after a reader left,
    /// or a failed `try_read` disturbed its upgrade).
    fn kick_handoff(&self) {
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) != 0 {
            self.handoff.wake_up();
        }
    }

    /// Wakes the readers and one would-be writer if anyone might sleep.
    fn kick_waiters(&self) {
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) != 0 {
            self.wait.wake_up();
        }
    }
}

/// Holds a [`RwSemaphore`] shared; dropping it is `up_read`.
pub struct RwSemReadGuard<'a, T> {
    sem: &'a RwSemaphore<T>,
    guard: Option<RwLockReadGuard<'a, T>>,
}

/// Holds a [`RwSemaphore`] exclusive; dropping it is `up_write`.
pub struct RwSemWriteGuard<'a, T> {
    sem: &'a RwSemaphore<T>,
    guard: Option<RwLockWriteGuard<'a, T>>,
}

impl<T> Deref for RwSemReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_deref().expect("guard is held until drop")
    }
}

impl<T> Drop for RwSemReadGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.guard.take());
        self.sem.kick_handoff();
    }
}

impl<T> Deref for RwSemWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_deref().expect("guard is held until drop")
    }
}

impl<T> DerefMut for RwSemWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_deref_mut().expect("guard is held until drop")
    }
}

impl<'a, T> RwSemWriteGuard<'a, T> {
    /// Keeps the lock shared, letting waiting readers in (Linux:
    /// `downgrade_write`).
    pub fn downgrade(mut self) -> RwSemReadGuard<'a, T> {
        let sem = self.sem;
        let read = self.guard.take().map(RwLockWriteGuard::downgrade);
        drop(self); // no write guard left: this only wakes the readers
        RwSemReadGuard { sem, guard: read }
    }
}

impl<T> Drop for RwSemWriteGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.guard.take());
        self.sem.kick_waiters();
    }
}

crate::ktest!(rwsem_readers_share_writers_exclude, {
    use core::sync::atomic::AtomicU32;
    const WRITERS: u32 = 2;
    const READERS: u32 = 2;
    const ROUNDS: u32 = 150;
    static SEM: RwSemaphore<u64> = RwSemaphore::new(0);
    static WRITING: AtomicU32 = AtomicU32::new(0);
    static READING: AtomicU32 = AtomicU32::new(0);
    static MAX_READING: AtomicU32 = AtomicU32::new(0);
    static BAD: AtomicU32 = AtomicU32::new(0);
    static FINISHED: AtomicU32 = AtomicU32::new(0);
    for a in [&WRITING, &READING, &MAX_READING, &BAD, &FINISHED] {
        a.store(0, Ordering::SeqCst);
    }
    *SEM.down_write() = 0;
    let writer = || {
        for i in 0..ROUNDS {
            let mut g = SEM.down_write();
            if WRITING.fetch_add(1, Ordering::SeqCst) != 0 || READING.load(Ordering::SeqCst) != 0 {
                BAD.fetch_add(1, Ordering::SeqCst);
            }
            *g += 1;
            crate::kernel::sched::sched_yield(); // hold it across a switch
            WRITING.fetch_sub(1, Ordering::SeqCst);
            if i % 8 == 0 {
                let r = g.downgrade(); // shared now, writers still out
                if WRITING.load(Ordering::SeqCst) != 0 {
                    BAD.fetch_add(1, Ordering::SeqCst);
                }
                drop(r);
            }
        }
        FINISHED.fetch_add(1, Ordering::SeqCst);
        0
    };
    let reader = || {
        for _ in 0..ROUNDS {
            let g = SEM.down_read();
            let n = READING.fetch_add(1, Ordering::SeqCst) + 1;
            MAX_READING.fetch_max(n, Ordering::SeqCst);
            if WRITING.load(Ordering::SeqCst) != 0 {
                BAD.fetch_add(1, Ordering::SeqCst);
            }
            let seen = *g;
            crate::kernel::sched::sched_yield();
            if *g != seen {
                BAD.fetch_add(1, Ordering::SeqCst); // changed under a reader
            }
            READING.fetch_sub(1, Ordering::SeqCst);
        }
        FINISHED.fetch_add(1, Ordering::SeqCst);
        0
    };
    let mut threads = alloc::vec::Vec::new();
    for _ in 0..WRITERS {
        let t = crate::kernel::kthread::kthread_run(writer, "ktest-rwsem-w").map_err(|_| "w")?;
        threads.push(t);
    }
    for _ in 0..READERS {
        let t = crate::kernel::kthread::kthread_run(reader, "ktest-rwsem-r").map_err(|_| "r")?;
        threads.push(t);
    }
    while FINISHED.load(Ordering::SeqCst) < WRITERS + READERS {
        crate::kernel::sched::sched_yield();
    }
    for t in &threads {
        crate::kernel::kthread::kthread_stop(t);
    }
    crate::kassert!(BAD.load(Ordering::SeqCst) == 0, "a writer was never beside anyone");
    crate::kassert!(*SEM.down_read() == u64::from(WRITERS * ROUNDS), "every write counted");
    crate::kassert!(SEM.try_write().is_some(), "free again at the end");
    Ok(())
});

crate::ktest!(rwsem_waiting_writer_blocks_new_readers, {
    use core::sync::atomic::AtomicBool;
    static SEM: RwSemaphore<u32> = RwSemaphore::new(0);
    static WROTE: AtomicBool = AtomicBool::new(false);
    WROTE.store(false, Ordering::SeqCst);
    let first = SEM.down_read();
    let t = crate::kernel::kthread::kthread_run(
        || {
            *SEM.down_write() += 1;
            WROTE.store(true, Ordering::SeqCst);
            0
        },
        "ktest-rwsem-wr",
    )
    .map_err(|_| "kthread_run")?;
    // Let the writer reach its sleep behind our read hold.
    while t.state() != crate::kernel::sched::task::TASK_UNINTERRUPTIBLE {
        crate::kernel::sched::sched_yield();
    }
    crate::kassert!(SEM.try_read().is_none(), "a waiting writer shuts new readers out");
    crate::kassert!(!WROTE.load(Ordering::SeqCst), "the writer waits for the reader");
    drop(first);
    crate::kernel::kthread::kthread_stop(&t);
    crate::kassert!(WROTE.load(Ordering::SeqCst), "up_read handed the lock over");
    crate::kassert!(*SEM.down_read() == 1, "the write happened once");
    Ok(())
});

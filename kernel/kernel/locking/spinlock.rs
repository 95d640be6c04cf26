//! Spinlocks that are safe against interrupts on the local CPU.
//!
//! Linux: include/linux/spinlock.h (`spin_lock_irqsave`).
//!
//! [`SpinLock`] disables interrupts while held: a lock taken by an
//! interrupt handler and by process context on the same CPU would otherwise
//! deadlock. It is the default. [`SpinLockNoIrq`] (Linux: plain
//! `spin_lock`) only disables preemption, for data that no interrupt
//! handler ever touches (the VFS's dentry cache, descriptor tables, file
//! positions): re-enabling interrupts costs a `sti`, which under TCG leaves
//! translated code, and the path walk and `read`/`write` take such locks
//! several times per call. Hold either briefly and never sleep under one.
#![deny(unsafe_code)]

use core::ops::{Deref, DerefMut};

use crate::arch::irqflags::{IrqFlags, local_irq_restore, local_irq_save};
use crate::kernel::sched::core::{preempt_disable, preempt_enable};

/// A spinlock that disables local interrupts while held.
pub struct SpinLock<T: ?Sized> {
    inner: spin::Mutex<T>,
}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> Self {
        Self { inner: spin::Mutex::new(value) }
    }
}

impl<T: ?Sized> SpinLock<T> {
    /// Disables interrupts, then spins until the lock is ours.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        let flags = local_irq_save();
        SpinLockGuard { guard: Some(self.inner.lock()), flags }
    }

    /// Takes the lock only if it is free (for paths that must not wait,
    /// such as printing a panic).
    #[allow(dead_code, reason = "for paths that must not wait, as printing an oops")]
    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T>> {
        let flags = local_irq_save();
        match self.inner.try_lock() {
            Some(guard) => Some(SpinLockGuard { guard: Some(guard), flags }),
            None => {
                local_irq_restore(flags);
                None
            }
        }
    }
}

/// Holds a [`SpinLock`]; dropping it unlocks, then restores interrupts.
pub struct SpinLockGuard<'a, T: ?Sized> {
    guard: Option<spin::MutexGuard<'a, T>>,
    flags: IrqFlags,
}

impl<T: ?Sized> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_deref().expect("guard is held until drop")
    }
}

impl<T: ?Sized> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_deref_mut().expect("guard is held until drop")
    }
}

impl<T: ?Sized> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.guard.take());
        local_irq_restore(self.flags);
    }
}

/// A spinlock that disables preemption but not interrupts (Linux:
/// `spin_lock` on a `spinlock_t` no interrupt handler takes). Only for data
/// that interrupt handlers never touch: a handler that spun on it would
/// deadlock against the task it interrupted.
pub struct SpinLockNoIrq<T: ?Sized> {
    inner: spin::Mutex<T>,
}

impl<T> SpinLockNoIrq<T> {
    pub const fn new(value: T) -> Self {
        Self { inner: spin::Mutex::new(value) }
    }
}

impl<T: ?Sized> SpinLockNoIrq<T> {
    /// Disables preemption (the holder must not be switched away from
    /// while another task spins), then spins until the lock is ours.
    pub fn lock(&self) -> SpinLockNoIrqGuard<'_, T> {
        preempt_disable();
        SpinLockNoIrqGuard { guard: Some(self.inner.lock()) }
    }
}

/// Holds a [`SpinLockNoIrq`]; dropping it unlocks, then re-enables
/// preemption (which reschedules if a tick asked for it meanwhile).
pub struct SpinLockNoIrqGuard<'a, T: ?Sized> {
    guard: Option<spin::MutexGuard<'a, T>>,
}

impl<T: ?Sized> Deref for SpinLockNoIrqGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_deref().expect("guard is held until drop")
    }
}

impl<T: ?Sized> DerefMut for SpinLockNoIrqGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_deref_mut().expect("guard is held until drop")
    }
}

impl<T: ?Sized> Drop for SpinLockNoIrqGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.guard.take());
        preempt_enable();
    }
}

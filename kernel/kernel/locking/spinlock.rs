//! Spinlocks that are safe against interrupts on the local CPU.
//!
//! Linux: include/linux/spinlock.h (`spin_lock_irqsave`).
//!
//! Every Ferrite spinlock disables interrupts while held: a lock taken by an
//! interrupt handler and by process context on the same CPU would otherwise
//! deadlock, and one rule for all locks is easier to keep than two kinds.
//! Hold them briefly and never sleep under one.
#![deny(unsafe_code)]

use core::ops::{Deref, DerefMut};

use crate::arch::irqflags::{IrqFlags, local_irq_restore, local_irq_save};

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

//! Resuming an interrupted system call where it stopped: the restart
//! block and `restart_syscall`.
//!
//! Linux: include/linux/restart_block.h (`struct restart_block`),
//! kernel/signal.c (`sys_restart_syscall`, `do_no_restart_syscall`),
//! kernel/time/hrtimer.c (`hrtimer_nanosleep_restart`).
//!
//! A sleep with a timeout that a signal interrupts must not start over
//! with its whole timeout when the signal had no handler (a stop and a
//! continue): it stores how to go on in the task's [`RestartBlock`] and
//! fails with `-ERESTART_RESTARTBLOCK`. Without a handler, the signal code
//! rewinds the task to make `restart_syscall` (219), which runs what was
//! stored; with one, the call fails with `EINTR` and the block is unused.
//!
//! # Locking
//! The block's spinlock is a leaf, held only to swap the continuation.
#![deny(unsafe_code)]

use alloc::boxed::Box;

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

/// How to continue an interrupted call; its result is the call's.
pub type RestartFn = Box<dyn FnOnce() -> KResult<i64> + Send>;

/// Linux: `struct restart_block` in `task_struct`.
pub struct RestartBlock {
    func: SpinLock<Option<RestartFn>>,
}

impl Default for RestartBlock {
    fn default() -> Self {
        Self::new()
    }
}

impl RestartBlock {
    pub const fn new() -> Self {
        Self { func: SpinLock::new(None) }
    }

    /// Stores what `restart_syscall` will run and returns the error that
    /// asks for it (Linux: `set_restart_fn`).
    pub fn set(&self, func: RestartFn) -> Errno {
        let old = self.func.lock().replace(func);
        drop(old);
        Errno::ERESTART_RESTARTBLOCK
    }

    fn take(&self) -> Option<RestartFn> {
        self.func.lock().take()
    }
}

/// restart_syscall(2): continues the call a signal interrupted, or fails
/// with `EINTR` if there is none (Linux: `do_no_restart_syscall`).
pub fn sys_restart_syscall() -> KResult<i64> {
    let func = crate::kernel::sched::current().restart_block.take();
    func.map_or(Err(Errno::EINTR), |func| func())
}

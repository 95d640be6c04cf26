//! Kernel threads: `kthreadd`, the parent of them all, and the API to
//! create, start and stop them.
//!
//! Linux: kernel/kthread.c (`kthreadd`, `kthread_create`, `kthread_run`,
//! `kthread_stop`, `kthread_should_stop`, `kthread`), init/main.c
//! (`rest_init` starts `kthreadd` as PID 2).
//!
//! `kthread_create` does not fork the thread itself: it queues a request
//! and wakes `kthreadd`, which forks it, so that every kernel thread is a
//! child of `kthreadd` with its clean context whoever asked. The new
//! thread announces itself, then sleeps until `kthread_run`'s
//! `wake_up_process` (or `kthread_stop`, in which case its function never
//! runs). `kthread_stop` sets the stop flag, wakes the thread and waits
//! for it to exit; a thread function that loops checks
//! `kthread_should_stop()`. `kthreadd` ignores SIGCHLD, so its children
//! reap themselves when they exit.
//!
//! # Locking
//! `KTHREAD_CREATE_LIST` (Linux: `kthread_create_lock`) is a leaf
//! spinlock; everything else is atomics and completions.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::fork::{CloneFlags, KernelCloneArgs, kernel_clone};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::completion::Completion;
use crate::kernel::sched::task::{TASK_UNINTERRUPTIBLE, ThreadFn};
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::sched::{self, Task, current};

/// What a kernel thread made by `kthread_create` carries (Linux: `struct
/// kthread`).
pub struct Kthread {
    should_stop: AtomicBool,
    result: AtomicI32,
    exited: Completion,
}

impl Kthread {
    fn new() -> Self {
        Self {
            should_stop: AtomicBool::new(false),
            result: AtomicI32::new(0),
            exited: Completion::new(),
        }
    }

    /// Called by `do_exit` (Linux: `kthread_exit`): the result, then the
    /// completion `kthread_stop` waits on.
    pub fn exited(&self, code: i32) {
        self.result.store(code, Ordering::Release);
        self.exited.complete_all();
    }
}

/// A request to `kthreadd` (Linux: `struct kthread_create_info`).
struct KthreadCreateInfo {
    threadfn: SpinLock<Option<ThreadFn>>,
    name: &'static str,
    result: SpinLock<Option<KResult<Arc<Task>>>>,
    done: Completion,
}

static KTHREAD_CREATE_LIST: SpinLock<VecDeque<Arc<KthreadCreateInfo>>> =
    SpinLock::new(VecDeque::new());
static KTHREADD_WAIT: WaitQueue = WaitQueue::new();

/// Creates a kernel thread that will run `threadfn` once woken (Linux:
/// `kthread_create`). Its `comm` is `name`. Sleeps until `kthreadd` has
/// made it.
pub fn kthread_create(
    threadfn: impl FnOnce() -> i32 + Send + 'static,
    name: &'static str,
) -> KResult<Arc<Task>> {
    let info = Arc::new(KthreadCreateInfo {
        threadfn: SpinLock::new(Some(Box::new(threadfn))),
        name,
        result: SpinLock::new(None),
        done: Completion::new(),
    });
    {
        let mut list = KTHREAD_CREATE_LIST.lock();
        list.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        list.push_back(info.clone());
    }
    KTHREADD_WAIT.wake_up();
    info.done.wait_for_completion();
    let result = info.result.lock().take();
    result.unwrap_or(Err(Errno::ENOMEM))
}

/// Creates a kernel thread and starts it (Linux: `kthread_run`).
pub fn kthread_run(
    threadfn: impl FnOnce() -> i32 + Send + 'static,
    name: &'static str,
) -> KResult<Arc<Task>> {
    let task = kthread_create(threadfn, name)?;
    sched::wake_up_process(&task);
    Ok(task)
}

/// Asks `task` to stop, wakes it and waits for it to exit; returns its
/// result, or `-EINTR` if it never ran its function (Linux: `kthread_stop`).
pub fn kthread_stop(task: &Arc<Task>) -> i32 {
    let Some(kthread) = task.kthread.clone() else { return -(Errno::EINVAL as i32) };
    kthread.should_stop.store(true, Ordering::Release);
    sched::wake_up_process(task);
    kthread.exited.wait_for_completion();
    kthread.result.load(Ordering::Acquire)
}

/// Whether `kthread_stop` was called on the running thread (Linux:
/// `kthread_should_stop`).
#[allow(dead_code, reason = "API for looping kernel threads (kswapd, ksoftirqd)")]
pub fn kthread_should_stop() -> bool {
    current().kthread.as_ref().is_some_and(|k| k.should_stop.load(Ordering::Acquire))
}

/// The body of every `kthread_create` thread (Linux: `kthread`).
fn kthread(info: Arc<KthreadCreateInfo>, threadfn: ThreadFn) -> i32 {
    let me = current();
    me.set_state(TASK_UNINTERRUPTIBLE);
    *info.result.lock() = Some(Ok(me.clone()));
    info.done.complete();
    drop(info);
    let should_stop = || me.kthread.as_ref().is_some_and(|k| k.should_stop.load(Ordering::Acquire));
    // Sleep until `kthread_run` or `kthread_stop` wakes us.
    sched::schedule();
    if should_stop() {
        return -(Errno::EINTR as i32);
    }
    drop(me);
    threadfn()
}

/// Forks the thread a request asks for (Linux: `create_kthread`).
fn create_kthread(info: Arc<KthreadCreateInfo>) {
    let Some(threadfn) = info.threadfn.lock().take() else { return };
    let req = info.clone();
    let mut args = KernelCloneArgs::kernel_thread(
        Box::new(move || kthread(req, threadfn)),
        info.name,
        CloneFlags::FS | CloneFlags::FILES,
    );
    args.kthread = Some(Arc::new(Kthread::new()));
    if let Err(e) = kernel_clone(args) {
        *info.result.lock() = Some(Err(e));
        info.done.complete();
    }
}

/// PID 2: makes the kernel threads others ask for (Linux: `kthreadd`).
pub fn kthreadd() -> i32 {
    // Linux: `ignore_signals(tsk)`: children reap themselves.
    current().sigchld_ignored.store(true, Ordering::Relaxed);
    loop {
        let _ = KTHREADD_WAIT.wait_event_interruptible(|| !KTHREAD_CREATE_LIST.lock().is_empty());
        loop {
            let Some(info) = KTHREAD_CREATE_LIST.lock().pop_front() else { break };
            create_kthread(info);
        }
    }
}

crate::ktest!(kthread_stop_before_start_skips_the_function, {
    static RAN: AtomicBool = AtomicBool::new(false);
    let t = kthread_create(
        || {
            RAN.store(true, Ordering::SeqCst);
            0
        },
        "ktest-unstarted",
    )
    .map_err(|_| "create")?;
    crate::kassert!(t.ppid() == 2, "kernel threads are kthreadd's children");
    let ret = kthread_stop(&t);
    crate::kassert!(ret == -(Errno::EINTR as i32), "stopped before it ran: -EINTR");
    crate::kassert!(!RAN.load(Ordering::SeqCst), "the function never ran");
    Ok(())
});

crate::ktest!(kthread_churn_leaves_memory_as_it_was, {
    let churn = |n: usize| -> Result<(), &'static str> {
        for _ in 0..n {
            let t = kthread_run(|| 0, "ktest-churn").map_err(|_| "kthread_run")?;
            kthread_stop(&t);
            // The dead thread's last reference goes after its final switch.
            while Arc::strong_count(&t) > 1 {
                sched::sched_yield();
            }
        }
        Ok(())
    };
    churn(50)?; // warm the slab caches and the PID tree up
    let before = crate::mm::si_meminfo().free_ram_pages;
    churn(1000)?;
    let after = crate::mm::si_meminfo().free_ram_pages;
    crate::kassert!(after + 64 >= before, "1,000 threads made and reaped leak nothing");
    Ok(())
});

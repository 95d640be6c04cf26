//! Locking primitives. Linux: kernel/locking/.
//!
//! Lock order, outermost first (add to it when adding a lock). A lock may
//! be taken while holding only locks above it in this list.
//! Locks marked (noirq) are `SpinLockNoIrq`s: no interrupt handler takes
//! them, so they leave interrupts on and only disable preemption.
//! 0. The address-space locks (mm/mm_types.rs): an `Mm`'s `mmap_lock`
//!    (a spinning rwlock until there are sleeping locks), then its
//!    `page_table` lock (fork: the parent's, then the child's), then an
//!    `AnonShmem`'s page array or a page cache's `i_pages` (fs/pagecache.rs,
//!    a file fault), then that file's `Inode` `i_lock` (noirq, the size
//!    check), then a page cache's `i_mmap` (a leaf). Under them only 3 and
//!    4 are taken. Truncation (mm/filemap.rs) copies `i_mmap` out and holds
//!    no file lock while it takes each mapper's `mmap_lock` and `page_table`.
//! 0v. The VFS locks (fs/mod.rs), never nested with those of 0 (but for
//!    a page cache's `i_pages` and an `Inode`'s `i_lock`, see 0): a super
//!    block's `s_vfs_rename_lock` (noirq), a `File`'s `f_pos` (noirq),
//!    `fs::namespace::MOUNTS`, `fs::dcache::DENTRY_HASHTABLE` (noirq), a
//!    `Dentry`'s `d_lock` (noirq), a tmpfs directory's `entries` or file's
//!    page-cache `i_pages`, an `Inode`'s `i_lock` (noirq); then the leaves
//!    `FILE_SYSTEMS`, `CHRDEVS`, an `FdTable`'s and an `FsStruct`'s lock
//!    (both noirq); `fdget` takes an `FdTable`'s lock inside its task's
//!    `files` slot lock, which nothing else nests.
//!    Under them only 2 (initrd lookup), 3, 4 and 7.
//! 0p. procfs (fs/proc/) is the exception to 0v: it renders a file under
//!    that file's `f_pos` and looks names up under the proc super block's
//!    `s_vfs_rename_lock`, and there takes an `Mm`'s locks (0), the signal
//!    locks (0s), the pid and task locks (0 b, c, g, one at a time), the
//!    mount list and the leaf `proc::generic::SeqState::text`. Nothing
//!    takes a procfs file's or super block's lock under those, so no
//!    cycle closes.
//! 0s. The signal locks (kernel/signal/mod.rs), never across a user copy:
//!    a `GroupSignal` (shared pending, group flags), then one `ThreadSignal`
//!    at a time, then the leaves `Task::sighand` and `SigHand::action`. In
//!    the scheduler's list below they sit between b and e: `exit_notify`
//!    sends SIGCHLD under `TASKLIST_LOCK`, and the process list is copied
//!    out before them. Under them: the run-queue lock (wake-ups), 3, 4
//!    (queueing a siginfo allocates) and 9.
//! 0e. epoll (fs/eventpoll.rs): `EP_NESTED_LOCK`, then an `EventPoll`'s
//!    `items`, then a `File`'s `f_ep`, then a file's wait queue (e below),
//!    then an `EventPoll`'s `rdllist`, then its `wq`: a wake function on
//!    a file's queue wakes `wq` inside that queue's lock, and `wq` holds
//!    no wake functions, so wait queues nest one deep. eventfd's
//!    `EventFdCtx::count` is a leaf, dropped before its queue is woken.
//!    timerfd's `TimerFdCtx::state` (fs/timerfd.rs) takes only 0t under
//!    it and is dropped before its queue is woken.
//! 0n. AF_UNIX sockets (net/unix/mod.rs): one `UnixSock::inner` at a
//!    time, never across a user copy, a sleep, a VFS call or the drop of
//!    a passed file; the name tables `UNIX_BSD`, `UNIX_ABSTRACT` and a
//!    `Sock::peer_cred` are leaves never taken with it. Under them only 3
//!    and 4; wait queues (e) are woken after they are dropped.
//! 0f. The futex hash buckets (kernel/futex.rs), two at most, lower index
//!    first, then a `FutexQ::key`; under them an `Mm`'s page-table lock
//!    (the word is read through it), the run-queue lock (wake-ups), 3, 4.
//! 0. The scheduler's, outermost first (none is held while a task is
//!    freed: that takes vmalloc's lock):
//!    a. `kernel::fork::TASKLIST_LOCK` (the process tree)
//!    b. a `Task`'s `parent`/`real_parent`/`children`/`group_leader`
//!       locks, one task at a time; a `ThreadGroup::threads` list (a
//!       thread's PID is attached under it, so before c)
//!    c. `kernel::pid::Pid::tasks`, then `PidNamespace::idr`;
//!       `kernel::pid::PROCESSES` (the process list, a leaf);
//!       `PidNamespace::child_reaper`, `Task::pid_ns_for_children` and
//!       `Task::pgrp`/`session` (leaves: `pid::change_pid` drops them
//!       before it touches a `Pid::tasks`)
//!    d. `kernel::kthread::KTHREAD_CREATE_LIST` (a leaf)
//!    e. each `sched::wait::WaitQueue` (wakers take the run queue inside)
//!    f. each CPU's `sched::core::RunQueue`
//!    g. a `Task`'s `sched` (scheduling parameters), inside its run queue
//!    `locking::mutex::Mutex` sleeps: never take one under a spinlock.
//! 0i. The process timers (kernel/time/): a `PosixTimers::inner` (the id
//!    map), a `KItimer::state`, an `Itimers::inner`, one at a time; under
//!    them only 0t, 3 and 4. The tick takes them, and the leaves
//!    `ThreadGroup::rlim` and `cputime::PrevCputime`, with no other lock held;
//!    signals are sent after they are dropped.
//! 0t. `kernel::time::timer::TIMER_BASE` (pending kernel timers): only 3
//!    and 4 under it; timer functions run without it, in the tick's
//!    interrupt, and may take the run-queue lock (wake-ups).
//! 0d. The device lists and disks (drivers/pci, block/): `drivers::pci::
//!    PCI_DEVICES`, `block::DISKS` and a `VirtioBlk::inner` (held across a
//!    polled request), one at a time; under them only 3 and 4.
//!    `drivers::pci::access::PCI_CONFIG_LOCK` (the 0xCF8/0xCFC pair) is a
//!    leaf taken under none of them.
//! 1. `mm::vmalloc::VMAP_AREAS` (the vmalloc area list)
//! 2. `mm::page_table::KERNEL_PGTABLE` (the kernel page tables)
//! 3. each `mm::slub::KmemCache`'s slab lists
//! 4. `mm::page_alloc::ZONE` (the buddy allocator)
//! 5. `mm::memblock::MEMBLOCK` (boot-time memory, before the buddy exists)
//! 6. `arch::ioapic::IOAPICS` (IOAPIC redirection entries)
//! 7. `drivers::char::random::BASE_CRNG` (the random generator) and
//!    `drivers::rtc::rtc_cmos::RTC_LOCK` (the CMOS ports): leaves that
//!    take nothing else; neither is held across a user copy.
//! 8. `drivers::tty::tty_io::TTY_DRIVERS`, then a `TtyDriver`'s `ttys`;
//!    then one tty's `Tty::ctrl` or `Tty::ldisc` (never both, and neither
//!    while calling the driver or signalling); `fs::pipe`'s
//!    `PipeInodeInfo::inner` (a leaf, never held while sleeping);
//!    `tty_jobctrl::SESSION_TTYS` (a leaf, never with a `Tty::ctrl`).
//! 9. `kernel::printk::LOG` (the log ring), then the console port
//!    (`uart_8250::Uart8250::port`), then its input ring (`Uart8250::rx`):
//!    printk may be called under any lock.

pub mod mutex;
pub mod spinlock;

pub use spinlock::{SpinLock, SpinLockNoIrq};

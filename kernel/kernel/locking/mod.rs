//! Locking primitives. Linux: kernel/locking/.
//!
//! Lock order, outermost first (add to it when adding a lock). A lock may
//! be taken while holding only locks above it in this list.
//! Locks marked (noirq) are `SpinLockNoIrq`s: no interrupt handler takes
//! them, so they leave interrupts on and only disable preemption.
//!
//! Sleeping locks (`mutex::Mutex`, `rwsem::RwSemaphore`) come first, all
//! of them: a sleeping lock is never taken under a spinlock, with
//! interrupts off or in an interrupt handler (`might_sleep` reports it),
//! and its holder may sleep, fault on user memory (but for `mmap_lock`)
//! and take any spinlock below. Among them, outermost first:
//! S1. a `File`'s `f_pos` (fs/file_table.rs; held across a read, write or
//!    readdir, so a user copy may fault under it);
//! S2. a super block's `s_vfs_rename_lock` (fs/super_block.rs; around
//!    namespace changes and a lookup that asks the file system; procfs
//!    reads a process's `mmap_lock` under its own);
//! S2a. an `Inode`'s `i_rwsem` (fs/inode.rs `inode_lock`; around a
//!    regular file's write (ext2) and truncation (fs/open.rs `do_truncate`,
//!    `O_TRUNC`)): under S1, never with S2 held; its holder takes S3 (a
//!    truncation unmaps) and S4.
//! S3. an `Mm`'s `mmap_lock` (mm/mm_types.rs; a fault takes it shared,
//!    under S1 when a read or write copies); its holder never touches user
//!    memory (a waiting writer would make the fault's `down_read` wait for
//!    ever). Two at once only in fork: the parent's, then the new child's.
//! S4. an ext2 instance's `Ext2Sb::fs` (fs/ext2/mod.rs; around every call
//!    into the ext2 library): under S1-S3 (a read or readdir, a namespace
//!    change, a fault reading a page) or with nothing held (the flusher's
//!    `writepage` and `write_inode`, unmount). Under it only spinlocks: the
//!    buffer and page caches' (0v), an `Inode`'s `i_lock`, the block
//!    layer's (0d), and `Ext2Sb::icache`, a leaf.
//!    A vfat instance's `FatSb::fs` (fs/fat/mod.rs) sits at the same
//!    level, the same way (under `i_rwsem` for a write or truncation); under
//!    it `FatSb::icache` and a `FatInode`'s `state`, both leaves.
//! S4a. `kernel::power::hibernate::SYSTEM_TRANSITION` (a write to
//!    /sys/power/resume looking for a hibernation image): under a sysfs
//!    file's `f_pos` (S1) only; under it the buffer cache (0v) and the
//!    block layer (0d).
//! S4b. `kernel::module::MODULE_MUTEX` (kernel/module/): held across a
//!    whole module load or unload, the module's init or exit included;
//!    taken with no other lock held (after the image and arguments are
//!    copied in). Under it `kernel::module::MODULES` (a leaf spinlock,
//!    also read alone by /proc/modules), then vmalloc's locks (1, 2: module
//!    memory) and whatever a module's init takes.
//! 0. The address-space spinlocks (mm/mm_types.rs), under `mmap_lock`: an
//!    `Mm`'s `page_table` lock (fork: the parent's, then the child's), then
//!    an `AnonShmem`'s page array or a page cache's `i_pages`
//!    (fs/pagecache.rs: fault-around, and a file fault's `finish_fault`),
//!    then that file's `Inode` `i_lock` (noirq, the size check), then a
//!    page cache's `i_mmap` (a leaf). Under them only 3 and 4 are taken. A
//!    file fault gets its page (`filemap_fault`, which may sleep) with
//!    none of them held. Truncation (mm/filemap.rs) copies `i_mmap` out
//!    and holds no file lock while it takes each mapper's `mmap_lock` and
//!    `page_table`.
//! 0v. The VFS spinlocks (fs/mod.rs), never nested with those of 0 (but
//!    for a page cache's `i_pages` and an `Inode`'s `i_lock`, see 0):
//!    `fs::namespace::MOUNTS`, `fs::dcache::DENTRY_HASHTABLE` (noirq), a
//!    `Dentry`'s `d_lock` (noirq), a tmpfs directory's `entries` or file's
//!    page-cache `i_pages`, an `Inode`'s `i_lock` (noirq); then the leaves
//!    `FILE_SYSTEMS`, `CHRDEVS`, a `VfsMount`'s `mnt_mountpoint` (noirq,
//!    taken under `MOUNTS` by MS_MOVE, umount and pivot_root) and
//!    `mnt_propagation` (noirq), `namespace::mnt_ns::NS_ROOTS` (never
//!    with `MOUNTS`), a `Task`'s `nsproxy` (kernel/nsproxy.rs), an `FdTable`'s and an
//!    `FsStruct`'s lock (both noirq); `fdget` takes an `FdTable`'s lock inside its task's
//!    `files` slot lock, which nothing else nests.
//!    Page cache and writeback (fs/pagecache.rs, fs/fs_writeback.rs,
//!    fs/buffer.rs): `read_folio`/`writepage` run with no spinlock held;
//!    a page cache's `ra` and `wb_err`, a super block's `s_dirty`,
//!    `super_block::SUPER_BLOCKS`, `buffer::BDEV_INODES` and
//!    `block_dev::POLICY_RO` (noirq, BLKROSET's devices) are leaves
//!    (`mark_inode_dirty` wakes the flusher's queue after dropping
//!    `s_dirty`); `PAGE_WAIT` is a wait queue (e below) woken with no
//!    page-cache lock held. `mm::vmscan::RECLAIMABLE` (the page trees
//!    reclaim may shrink) is a leaf but for reclaim itself, which only
//!    `try_lock`s it and, under it, each tree's `i_pages`, skipping a
//!    busy one: the allocator may be entered with any lock held.
//!    Under them only 2 (initrd lookup), 3, 4 and 7.
//! 0p. procfs (fs/proc/) renders a file under that file's `f_pos` (S1)
//!    and looks names up under the proc super block's `s_vfs_rename_lock`
//!    (S2), and there takes an `Mm`'s locks (S3, 0; smaps walks the page
//!    table with each file page's `i_pages` under it), the signal locks
//!    (0s), the pid and task locks (0 b, c, g, one at a time), a CPU's
//!    run-queue lock alone (0 f, /proc/sched_debug copies it out), the mount
//!    list, the leaf `proc::generic::SeqState::text`, and one at a time
//!    the leaves a system file reads (3, 4, 5, 7, `CHRDEVS`). Nothing takes a
//!    procfs file's or super block's lock under those, so no cycle closes.
//!    sysfs (fs/sysfs/) is the same with fewer locks: its tree is built at
//!    mount (copying the disk, PCI and `CHRDEVS` lists, leaves) and then
//!    only read; an open attribute's text is the leaf `AttrText`; PCI
//!    `config` reads take `PCI_CONFIG_LOCK` (a leaf) per dword. debugfs
//!    (fs/debugfs.rs) serves a kernfs tree the same way; its `pid_idr`
//!    takes each `PidNamespace::idr` (0 c) alone. devtmpfs
//!    fills its tmpfs under the instance's `s_vfs_rename_lock` (S2).
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
//! 0nl. Netlink sockets (net/netlink/af_netlink.rs): `NL_TABLE`, then one
//!    `NetlinkSock::inner`; neither is held across a user copy, a sleep,
//!    a wake or a protocol's input. rtnetlink's handlers take `rtnl_lock`
//!    (a sleeping mutex, net/core/dev.rs) with neither held, and the
//!    device's address lists (leaves) one at a time under it. Under them
//!    only 3 and 4.
//! 0nu. UDP and raw sockets (net/inet/udp.rs, raw.rs, icmp.rs): a
//!    `UdpSock::inner` may be held while `net::inet::stack::STACK` is
//!    taken (binding the engine's socket); under `STACK` the packet tap
//!    takes icmp.rs's `PENDING` (a leaf). `UDP_TABLE`, `RAW_TABLE`, a
//!    `RawSock::inner`, an `InetOpts::inner` and the port table `PORTS`
//!    are leaves. None is held across a user copy, a sleep or a wake:
//!    ICMP errors and raw copies are delivered after `STACK` is dropped.
//! 0nt. TCP sockets (net/inet/tcp*.rs): a `TcpSock::inner`, then
//!    `net::inet::stack::STACK` (the engine, its listeners and orphans,
//!    tcp_listen.rs), then `PORTS` or a device's leaf locks; `TCP_SOCKS`
//!    and an `InetOpts::inner` are leaves taken alone. One `inner` at a
//!    time; none across a user copy, a sleep or `net_rx_action` (which
//!    wakes the sockets, from a task or the engine's timer).
//! 0np. Packet sockets (net/packet/): under `STACK` (a tap delivering)
//!    a `PacketSock::inner`, a `Sock::filter`, `PACKET_WAKE` and then
//!    0t (the wake timer), each a leaf taken alone; `PACKET_SOCKS` is a
//!    leaf. The sockets are woken from the timer or after a send, with
//!    none held. Interface ioctls (net/core/dev_ioctl.rs,
//!    net/ipv4/devinet_ioctl.rs) take `rtnl_lock` first, then the
//!    device's address lists (leaves) one at a time; the bridges'
//!    `net::bridge::BRIDGES` is a leaf taken under `rtnl_lock`.
//! 0l. File locks and FIFOs (fs/locks.rs, fs/fifo.rs): `fs::locks::
//!    FILE_LOCKS` (noirq) is a leaf, taken with nothing else held but
//!    where a `File` is dropped, never across a user copy; `LOCKS_WAIT`
//!    (e) is woken after it is dropped. `fs::fifo::FIFOS` (noirq), then a
//!    FIFO's `FifoInfo::counters` (noirq), then its pipe's
//!    `PipeInodeInfo::inner` (8). Under them only 3 and 4.
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
//!    A mutex's or rwsem's own wait queues (e) are taken only inside its
//!    lock and unlock paths.
//! 0i. The process timers (kernel/time/): a `PosixTimers::inner` (the id
//!    map), a `KItimer::state`, an `Itimers::inner`, one at a time; under
//!    them only 0t, 3 and 4. The tick takes them, and the leaves
//!    `ThreadGroup::rlim` and `cputime::PrevCputime`, with no other lock held;
//!    signals are sent after they are dropped.
//! 0t. `kernel::time::timer::TIMER_BASE` (pending kernel timers): only 3
//!    and 4 under it; timer functions run without it, in the tick's
//!    interrupt, and may take the run-queue lock (wake-ups).
//! 0d. The device lists and disks (drivers/pci, block/): `drivers::pci::
//!    PCI_DEVICES`, `block::genhd::DISKS`, one at a time; under them only
//!    3 and 4. virtio-blk's `VIRTBLK_DISKS` (taken by its interrupt) →
//!    a `VirtioBlk::inner` (never held while waiting) → 3, 4; its wait
//!    queue (0e) is woken after `inner` is dropped.
//!    `drivers::pci::access::PCI_CONFIG_LOCK` (the 0xCF8/0xCFC pair) is a
//!    leaf taken under none of them. A RAM disk's `Brd::pages`
//!    (drivers/block/brd.rs) is a leaf.
//! 0v. SysV IPC (ipc/): a kind's registry (`ipc::shm::SHM_IDS`,
//!    `ipc::sem::SEM_IDS`, `ipc::msg::MSG_IDS`), then one object's `state`;
//!    `ipc::sem::SEM_UNDOS` is a leaf taken with neither held. Under them
//!    only 3 and 4; their wait queues (0e) are woken after `state` is
//!    dropped, and shmat/shmdt take the mmap lock with none of them held.
//! 1. `mm::vmalloc::VMAP_AREAS` (the vmalloc area list)
//! 2. `mm::page_table::KERNEL_PGTABLE` (the kernel page tables)
//! 3. each `mm::slub::KmemCache`'s slab lists
//! 4. `mm::page_alloc::ZONE` (the buddy allocator)
//! 5. `mm::memblock::MEMBLOCK` (boot-time memory, before the buddy exists)
//! 6. `arch::ioapic::IOAPICS` (IOAPIC redirection entries)
//! 7. `drivers::char::random::BASE_CRNG` (the random generator),
//!    a `kernel::utsname::UtsNamespace`'s `names` (host and domain name) and
//!    `drivers::rtc::rtc_cmos::RTC_LOCK` (the CMOS ports),
//!    `kernel::time::timekeeping::NTP` and `SYS_TZ`, and a /dev/kmsg
//!    open's `DevkmsgUser::state` (never with 9): leaves that take
//!    nothing else; none is held across a user copy.
//! 8. `drivers::tty::tty_io::TTY_DRIVERS`, then a `TtyDriver`'s `ttys`;
//!    then one tty's `Tty::ctrl` or `Tty::ldisc` (never both, and neither
//!    while calling the driver or signalling); `fs::pipe`'s
//!    `PipeInodeInfo::inner` (a leaf, never held while sleeping);
//!    `tty_jobctrl::SESSION_TTYS` (a leaf, never with a `Tty::ctrl`).
//!    A pty (drivers/tty/pty.rs) writes into its other end's `Tty::ldisc`
//!    holding none of its own; the master never echoes, so a write nests
//!    master -> slave -> master at most, each step lock-free. devpts
//!    (fs/devpts/) keeps its instance's `PtsFsInfo::opts` and `ptys`
//!    (noirq leaves, taken with no tty lock).
//!    The virtual consoles' `drivers::tty::vt::vt::CONSOLES` (Linux's
//!    `console_lock`) is taken with no tty lock held (a console's tty
//!    driver is called without them); under it only the VT driver's
//!    `TtyDriver::ttys` (a lookup) and `vt::keyboard::KBD` (a leaf, also
//!    taken alone by the keyboard ioctls). It is dropped before signalling
//!    a `VT_PROCESS` owner, waking `VT_EVENT_WAIT` or feeding an answer
//!    to the tty's input. The keyboard interrupt takes `vt::i8042::I8042`
//!    (a leaf) to read a scan code, drops it, then takes `CONSOLES` and
//!    `KBD` one after the other and feeds the tty with neither held.
//! 9. `kernel::printk::LOG` (the log ring and the syslog readers'
//!    positions), then the console port (`uart_8250::Uart8250::port`),
//!    then its input ring (`Uart8250::rx`): printk may be called under any
//!    lock. The readers' queue `printk::LOG_WAIT` (0e) is woken by the
//!    tick (`printk_tick`), never by printk itself.
//! 10. `kernel::trace::ring_buffer::RINGS` (one per CPU): the last leaf.
//!     A tracepoint writes its CPU's ring under any lock (the run-queue
//!     lock, in a fault, in an interrupt) after dropping the task locks it
//!     read (`sched`, `comm`); nothing is taken under it and nothing is
//!     allocated or woken there (the tick wakes `trace_pipe` readers).
//!     tracefs (kernel/trace/tracefs*.rs) reads under a file's `f_pos`
//!     (S1): `trace::RESIZE_LOCK` and an open `trace`'s or `trace_pipe`'s
//!     reader are sleeping leaves taken under it, the rings (one at a
//!     time) and the poll queue (e) under them.

pub mod mutex;
pub mod rwsem;
pub mod spinlock;

pub use spinlock::{SpinLock, SpinLockNoIrq};

/// Reports, once, a sleeping lock taken where sleeping is a bug: under a
/// spinlock (preemption off), with interrupts off, or in an interrupt
/// handler (Linux: `might_sleep`, `__might_resched`). A warning with a
/// backtrace rather than a panic: the uncontended lock does not sleep, so
/// the caller may well survive, and the log names it. Silent for the boot
/// task (PID 0), which runs `start_kernel` with interrupts off before the
/// first other task exists (Linux: `system_state` below
/// `SYSTEM_SCHEDULING`).
pub fn might_sleep() {
    use core::sync::atomic::{AtomicBool, Ordering};
    static WARNED: AtomicBool = AtomicBool::new(false);
    let count = crate::arch::percpu::this_cpu().preempt_count();
    let irqs_off = crate::arch::irqflags::irqs_disabled();
    if count == 0 && !irqs_off {
        return;
    }
    let Some(task) = crate::kernel::sched::try_current() else { return };
    if task.pid == 0 || WARNED.swap(true, Ordering::Relaxed) {
        return;
    }
    let comm = task.comm();
    crate::pr_err!(
        "BUG: sleeping function called from invalid context: in_atomic(): {}, irqs_disabled(): {}, pid: {}, name: {}",
        u32::from(count != 0),
        u32::from(irqs_off),
        task.pid,
        crate::kernel::sched::task::comm_str(&comm)
    );
    crate::pr_err!("preempt_count: {count:#x}");
    crate::arch::dumpstack::dump_stack();
}

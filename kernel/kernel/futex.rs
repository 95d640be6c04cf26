//! Fast user-space mutexes: `futex(2)`, robust lists, and the thread-ID
//! wake-up at thread exit.
//!
//! Linux: kernel/futex/core.c (`get_futex_key`, `futex_hash`,
//! `futex_q`, `exit_robust_list`, `handle_futex_death`),
//! kernel/futex/waitwake.c (`futex_wait`, `futex_wake`),
//! kernel/futex/requeue.c (`futex_requeue`), kernel/futex/syscalls.c.
//!
//! A waiter is a `FutexQ` hung on one of `FUTEX_HASH_SIZE` buckets chosen
//! by hashing its `FutexKey`: (address space, address) for a private futex
//! or a futex in a private mapping, the physical address for one in a
//! `MAP_SHARED` mapping (so processes sharing memory meet on the same
//! key). `futex_wait` compares the user word with the expected value with
//! the bucket lock held and queues itself under the same lock: a waker
//! changes the word first, then takes the lock, so it either sees the
//! waiter queued or the waiter sees the new value. No wake-up is lost.
//! Timeouts are jiffies deadlines through `schedule_timeout`; a signal
//! ends a wait with `ERESTARTSYS`, or, for a timed one, through the restart
//! block so that a stop and continue resume with what was left.
//!
//! Robust futexes: a thread registers a user-space list of the locks it
//! holds (`set_robust_list`); when it dies, `exit_robust_list` walks at
//! most `ROBUST_LIST_LIMIT` entries and, for each word still holding its
//! TID, compare-exchanges in `FUTEX_OWNER_DIED` (keeping `FUTEX_WAITERS`)
//! and wakes one waiter, whose lock then reports `EOWNERDEAD`.
//!
//! # Locking
//! A bucket's lock (`FutexHashBucket::chain`) is taken before the address
//! space's page-table lock (the value is read through the page table under
//! it, never faulting) and before the run-queue lock (wake-ups). Requeue
//! holds two buckets, the lower index first. `FutexQ::key` is changed only
//! with the bucket(s) it moves between locked.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use linux_raw_sys::general as uapi;

use crate::arch::futex::futex_atomic_cmpxchg;
use crate::arch::uaccess::{UserAddr, get_user, put_user};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::locking::spinlock::SpinLockGuard;
use crate::kernel::pid::{pid_vnr, task_pid};
use crate::kernel::sched::task::{TASK_INTERRUPTIBLE, TASK_NORMAL, TASK_RUNNING, signal_pending};
use crate::kernel::sched::{self, Task, current};
use crate::kernel::time::jiffies::{HZ, jiffies};
use crate::kernel::time::timer::{MAX_SCHEDULE_TIMEOUT, schedule_timeout};
use crate::mm::addr::VirtAddr;
use crate::mm::mm_types::Mm;
use crate::mm::vma::VmFlags;

const FUTEX_HASH_BITS: u32 = 8;
const FUTEX_HASH_SIZE: usize = 1 << FUTEX_HASH_BITS;
/// Linux: `ROBUST_LIST_LIMIT`, against circular lists.
const ROBUST_LIST_LIMIT: usize = 2048;
/// `struct robust_list_head`: next, futex_offset, list_op_pending.
const ROBUST_LIST_HEAD_SIZE: usize = 24;
const NSEC_PER_SEC: u64 = 1_000_000_000;

/// What identifies a futex (Linux: `union futex_key`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FutexKey {
    /// A process-private futex: the address space and the address.
    Private { mm: usize, address: u64 },
    /// A futex in shared memory: the physical address of the word.
    Shared { phys: u64 },
}

impl FutexKey {
    /// The bucket index (Linux: `futex_hash`, a jhash; a multiplicative
    /// hash spreads word-aligned addresses as well).
    pub fn hash(&self) -> usize {
        let word = match *self {
            FutexKey::Private { mm, address } => (mm as u64).rotate_left(17) ^ address,
            FutexKey::Shared { phys } => phys ^ 0x5bd1_e995,
        };
        let mixed = word.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        usize::try_from(mixed >> (64 - FUTEX_HASH_BITS)).unwrap_or(0)
    }
}

/// One waiter (Linux: `struct futex_q`).
pub struct FutexQ {
    task: Arc<Task>,
    /// Which bucket it hangs on; requeue changes it.
    key: SpinLock<FutexKey>,
    bitset: u32,
    /// Taken off the queue by a waker (Linux: `plist_node_empty(&q->list)`).
    woken: AtomicBool,
}

/// Linux: `struct futex_hash_bucket`.
struct FutexHashBucket {
    chain: SpinLock<Vec<Arc<FutexQ>>>,
}

static FUTEX_QUEUES: [FutexHashBucket; FUTEX_HASH_SIZE] =
    [const { FutexHashBucket { chain: SpinLock::new(Vec::new()) } }; FUTEX_HASH_SIZE];

fn hash_bucket(key: &FutexKey) -> &'static FutexHashBucket {
    &FUTEX_QUEUES[key.hash() % FUTEX_HASH_SIZE]
}

fn current_mm() -> KResult<Arc<Mm>> {
    current().mm.lock().clone().ok_or(Errno::EFAULT)
}

/// Faults the word in for reading; `EFAULT` if it cannot be
/// (Linux: `fault_in_user_writeable`'s read cousin, `get_user`).
fn fault_in(uaddr: u64) -> KResult<u32> {
    get_user::<u32>(UserAddr::new(uaddr)).map_err(|_| Errno::EFAULT)
}

/// The key of the futex word at `uaddr` (Linux: `get_futex_key`).
pub fn get_futex_key(mm: &Arc<Mm>, uaddr: u64, private: bool) -> KResult<FutexKey> {
    if !uaddr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    fault_in(uaddr)?;
    let shared = !private
        && mm
            .mmap_read()
            .vmas
            .lookup(uaddr)
            .is_some_and(|v| v.data.flags.contains(VmFlags::SHARED));
    if !shared {
        let mm = Arc::as_ptr(mm) as usize;
        return Ok(FutexKey::Private { mm, address: uaddr });
    }
    for _ in 0..2 {
        if let Some((phys, _)) = mm.page_table().translate(VirtAddr::new(uaddr)) {
            return Ok(FutexKey::Shared { phys: phys.as_u64() });
        }
        fault_in(uaddr)?;
    }
    Err(Errno::EFAULT)
}

/// Reads the word without faulting, through the page table; `None` if the
/// page is not present (Linux: `futex_get_value_locked` with page faults
/// disabled). Callers hold a bucket lock.
fn get_value_locked(mm: &Mm, uaddr: u64) -> Option<u32> {
    let (phys, _) = mm.page_table().translate(VirtAddr::new(uaddr))?;
    let mut buf = [0u8; 4];
    let off = usize::try_from(phys.as_u64() & 0xfff).ok()?;
    crate::mm::highmem::memcpy_from_page(phys.pfn(), off, &mut buf);
    Some(u32::from_ne_bytes(buf))
}

/// Wakes `q`, which the caller has taken off its bucket (Linux: `futex_wake_mark`).
fn wake_futex(q: &FutexQ) {
    q.woken.store(true, Ordering::Release);
    sched::try_to_wake_up(&q.task, TASK_NORMAL);
}

/// Takes `q` off its bucket if no waker did; returns whether it was still
/// queued (Linux: `futex_unqueue`).
fn unqueue(q: &Arc<FutexQ>) -> bool {
    loop {
        let key = *q.key.lock();
        let mut chain = hash_bucket(&key).chain.lock();
        if *q.key.lock() != key {
            continue; // requeued meanwhile: look in the new bucket
        }
        let pos = chain.iter().position(|x| Arc::ptr_eq(x, q));
        return pos.map(|i| chain.swap_remove(i)).is_some();
    }
}

/// When a wait of `timeout_ns` from now ends, in jiffies (rounded up).
fn deadline_jiffies(timeout_ns: Option<u64>) -> u64 {
    match timeout_ns {
        None => MAX_SCHEDULE_TIMEOUT,
        Some(ns) => {
            let j = ns.saturating_mul(HZ).div_ceil(NSEC_PER_SEC);
            jiffies().saturating_add(j)
        }
    }
}

/// Queues the caller on `uaddr` if it still holds `val` (Linux:
/// `futex_wait_setup`).
fn wait_setup(mm: &Arc<Mm>, uaddr: u64, val: u32, q: &Arc<FutexQ>) -> KResult<()> {
    let key = *q.key.lock();
    loop {
        let mut chain = hash_bucket(&key).chain.lock();
        let Some(now) = get_value_locked(mm, uaddr) else {
            drop(chain);
            fault_in(uaddr)?;
            continue;
        };
        if now != val {
            return Err(Errno::EAGAIN);
        }
        chain.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        chain.push(q.clone());
        // Before the lock goes: a waker must find us asleep or about to be.
        q.task.set_state(TASK_INTERRUPTIBLE);
        return Ok(());
    }
}

/// FUTEX_WAIT / FUTEX_WAIT_BITSET (Linux: `futex_wait`). `timeout_ns` is
/// relative, already converted from the caller's clock.
pub fn futex_wait(
    uaddr: u64,
    private: bool,
    val: u32,
    timeout_ns: Option<u64>,
    bitset: u32,
) -> KResult<i64> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let deadline = timeout_ns.map(|ns| deadline_jiffies(Some(ns)));
    futex_wait_until(uaddr, private, val, deadline, bitset)
}

/// The body of `futex_wait`, with the timeout as an absolute jiffies
/// value, so that a restart after a stop waits only what was left (Linux:
/// `futex_wait_restart`).
fn futex_wait_until(
    uaddr: u64,
    private: bool,
    val: u32,
    deadline: Option<u64>,
    bitset: u32,
) -> KResult<i64> {
    let mm = current_mm()?;
    let key = get_futex_key(&mm, uaddr, private)?;
    let task = current();
    let q = Arc::new(FutexQ {
        task: task.clone(),
        key: SpinLock::new(key),
        bitset,
        woken: AtomicBool::new(false),
    });
    wait_setup(&mm, uaddr, val, &q)?;
    loop {
        let left = deadline.map_or(MAX_SCHEDULE_TIMEOUT, |d| d.saturating_sub(jiffies()));
        if !q.woken.load(Ordering::Acquire) && !signal_pending(&task) && left > 0 {
            schedule_timeout(left);
        }
        task.set_state(TASK_RUNNING);
        if q.woken.load(Ordering::Acquire) || !unqueue(&q) {
            return Ok(0);
        }
        if deadline.is_some_and(|d| jiffies() >= d) {
            return Err(Errno::ETIMEDOUT);
        }
        if signal_pending(&task) {
            // Without a timeout Linux restarts per SA_RESTART; with one,
            // a handler makes it EINTR and a stop resumes what was left.
            let Some(d) = deadline else { return Err(Errno::ERESTARTSYS) };
            let restart = move || futex_wait_until(uaddr, private, val, Some(d), bitset);
            return Err(task.restart_block.set(alloc::boxed::Box::new(restart)));
        }
        // A spurious wake-up: queue again, as Linux's `goto retry`.
        wait_setup(&mm, uaddr, val, &q)?;
    }
}

/// Takes up to `nr` waiters matching `key` and `bitset` off `chain`.
fn take_waiters(
    chain: &mut Vec<Arc<FutexQ>>,
    key: &FutexKey,
    bitset: u32,
    nr: usize,
) -> Vec<Arc<FutexQ>> {
    let mut taken = Vec::new();
    let mut i = 0;
    while i < chain.len() && taken.len() < nr {
        if *chain[i].key.lock() == *key && chain[i].bitset & bitset != 0 {
            if taken.try_reserve(1).is_err() {
                break;
            }
            taken.push(chain.remove(i));
        } else {
            i += 1;
        }
    }
    taken
}

/// FUTEX_WAKE / FUTEX_WAKE_BITSET: wakes up to `nr` waiters (Linux:
/// `futex_wake`); returns how many.
pub fn futex_wake(uaddr: u64, private: bool, nr: usize, bitset: u32) -> KResult<i64> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let mm = current_mm()?;
    let key = get_futex_key(&mm, uaddr, private)?;
    futex_wake_key(&key, nr, bitset)
}

fn futex_wake_key(key: &FutexKey, nr: usize, bitset: u32) -> KResult<i64> {
    let mut chain = hash_bucket(key).chain.lock();
    let taken = take_waiters(&mut chain, key, bitset, nr);
    taken.iter().for_each(|q| wake_futex(q));
    drop(chain);
    Ok(i64::try_from(taken.len()).unwrap_or(i64::MAX))
}

type ChainGuard = SpinLockGuard<'static, Vec<Arc<FutexQ>>>;

/// Both buckets of a requeue, locked lower index first (Linux:
/// `double_lock_hb`); `None` for the second if it is the first.
fn double_lock(k1: &FutexKey, k2: &FutexKey) -> (ChainGuard, Option<ChainGuard>) {
    let (i1, i2) = (k1.hash() % FUTEX_HASH_SIZE, k2.hash() % FUTEX_HASH_SIZE);
    if i1 == i2 {
        return (FUTEX_QUEUES[i1].chain.lock(), None);
    }
    if i1 < i2 {
        let a = FUTEX_QUEUES[i1].chain.lock();
        (a, Some(FUTEX_QUEUES[i2].chain.lock()))
    } else {
        let b = FUTEX_QUEUES[i2].chain.lock();
        (FUTEX_QUEUES[i1].chain.lock(), Some(b))
    }
}

/// FUTEX_REQUEUE / FUTEX_CMP_REQUEUE: wakes `nr_wake` waiters of `uaddr1`
/// and moves up to `nr_requeue` others to `uaddr2` (Linux:
/// `futex_requeue`); returns woken + moved.
pub fn futex_requeue(
    uaddr1: u64,
    uaddr2: u64,
    private: bool,
    nr_wake: usize,
    nr_requeue: usize,
    cmpval: Option<u32>,
) -> KResult<i64> {
    let mm = current_mm()?;
    let k1 = get_futex_key(&mm, uaddr1, private)?;
    let k2 = get_futex_key(&mm, uaddr2, private)?;
    loop {
        let (mut c1, mut c2) = double_lock(&k1, &k2);
        if let Some(expected) = cmpval {
            let Some(now) = get_value_locked(&mm, uaddr1) else {
                drop((c1, c2));
                fault_in(uaddr1)?;
                continue;
            };
            if now != expected {
                return Err(Errno::EAGAIN);
            }
        }
        let woken = take_waiters(&mut c1, &k1, u32::MAX, nr_wake);
        woken.iter().for_each(|q| wake_futex(q));
        let moved = take_waiters(&mut c1, &k1, u32::MAX, nr_requeue);
        for q in &moved {
            *q.key.lock() = k2;
        }
        let dest = c2.as_deref_mut().unwrap_or(&mut c1);
        if dest.try_reserve(moved.len()).is_err() {
            // Cannot move them: wake them instead, which futex users allow.
            moved.iter().for_each(|q| wake_futex(q));
        } else {
            dest.extend(moved.iter().cloned());
        }
        return Ok(i64::try_from(woken.len() + moved.len()).unwrap_or(i64::MAX));
    }
}

/// Reads a user `timespec` as nanoseconds from now: relative for
/// FUTEX_WAIT, absolute on the chosen clock for FUTEX_WAIT_BITSET (Linux:
/// `futex_init_timeout`).
fn read_timeout(utime: u64, absolute: bool, realtime: bool) -> KResult<Option<u64>> {
    if utime == 0 {
        return Ok(None);
    }
    let ts: uapi::__kernel_timespec = get_user(UserAddr::new(utime)).map_err(|_| Errno::EFAULT)?;
    let ns = crate::kernel::time::posix::timespec_to_ns(&ts)?;
    if !absolute {
        return Ok(Some(ns));
    }
    let now = if realtime {
        crate::kernel::time::posix::ktime_get_real_ns()
    } else {
        crate::kernel::time::ktime_get_ns()
    };
    Ok(Some(ns.saturating_sub(now)))
}

/// futex(2) (Linux: `sys_futex` → `do_futex`).
pub fn sys_futex(
    uaddr: u64,
    op: i32,
    val: u32,
    utime: u64,
    uaddr2: u64,
    val3: u32,
) -> KResult<i64> {
    let op = u32::try_from(op).map_err(|_| Errno::ENOSYS)?;
    let private = op & uapi::FUTEX_PRIVATE_FLAG != 0;
    let realtime = op & uapi::FUTEX_CLOCK_REALTIME != 0;
    let cmd = op & !(uapi::FUTEX_PRIVATE_FLAG | uapi::FUTEX_CLOCK_REALTIME);
    if realtime && cmd != uapi::FUTEX_WAIT_BITSET {
        return Err(Errno::ENOSYS);
    }
    // For the requeue operations the "timeout" argument is a count.
    let val2 = usize::try_from(utime & 0xffff_ffff).unwrap_or(0);
    let nr = usize::try_from(val).unwrap_or(usize::MAX);
    match cmd {
        uapi::FUTEX_WAIT => {
            let timeout = read_timeout(utime, false, false)?;
            futex_wait(uaddr, private, val, timeout, u32::MAX)
        }
        uapi::FUTEX_WAIT_BITSET => {
            let timeout = read_timeout(utime, true, realtime)?;
            futex_wait(uaddr, private, val, timeout, val3)
        }
        uapi::FUTEX_WAKE => futex_wake(uaddr, private, nr, u32::MAX),
        uapi::FUTEX_WAKE_BITSET => futex_wake(uaddr, private, nr, val3),
        uapi::FUTEX_REQUEUE => futex_requeue(uaddr, uaddr2, private, nr, val2, None),
        uapi::FUTEX_CMP_REQUEUE => futex_requeue(uaddr, uaddr2, private, nr, val2, Some(val3)),
        _ => Err(Errno::ENOSYS),
    }
}

/// set_robust_list(2): where this thread's robust mutexes are listed.
pub fn sys_set_robust_list(head: u64, len: usize) -> KResult<()> {
    if len != ROBUST_LIST_HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    current().robust_list.store(head, Ordering::Relaxed);
    Ok(())
}

/// Whether the caller may read `task`'s list: its own process, or one
/// whose IDs are all the caller's, or with `CAP_SYS_PTRACE` (Linux:
/// `ptrace_may_access(p, PTRACE_MODE_READ_REALCREDS)`, less `dumpable`).
fn may_read_robust_list(task: &Task) -> bool {
    let me = current();
    let (c, t) = (me.cred(), task.cred());
    me.tgid == task.tgid
        || c.euid == 0
        || ([t.uid, t.euid, t.suid] == [c.uid; 3] && [t.gid, t.egid, t.sgid] == [c.gid; 3])
}

/// get_robust_list(2): a thread's list head and its size.
pub fn sys_get_robust_list(pid: i32, head_ptr: u64, len_ptr: u64) -> KResult<()> {
    let task = if pid == 0 {
        current()
    } else {
        crate::kernel::pid::find_task_by_vpid(pid).ok_or(Errno::ESRCH)?
    };
    if !may_read_robust_list(&task) {
        return Err(Errno::EPERM);
    }
    let head = task.robust_list.load(Ordering::Relaxed);
    put_user(UserAddr::new(len_ptr), &ROBUST_LIST_HEAD_SIZE).map_err(|_| Errno::EFAULT)?;
    put_user(UserAddr::new(head_ptr), &head).map_err(|_| Errno::EFAULT)
}

/// Marks a robust futex held by the dying thread `tid` as owner-dead and
/// wakes one waiter (Linux: `handle_futex_death`). The word changes under
/// user space's feet, so it is a compare-exchange, retried until it sees
/// a stable value. `pending` is the lock the thread was taking or
/// releasing when it died: a zero word there may hide a waiter that the
/// unlocker never woke. Returns `Err` when the walk must stop.
fn handle_futex_death(uaddr: u64, tid: u32, pi: bool, pending: bool) -> Result<(), ()> {
    let addr = UserAddr::new(uaddr);
    if !uaddr.is_multiple_of(4) {
        return Err(());
    }
    loop {
        let val = get_user::<u32>(addr).map_err(drop)?;
        if pending && !pi && val == 0 {
            let _ = futex_wake(uaddr, false, 1, u32::MAX);
            return Ok(());
        }
        if val & uapi::FUTEX_TID_MASK != tid {
            return Ok(());
        }
        let new = (val & uapi::FUTEX_WAITERS) | uapi::FUTEX_OWNER_DIED;
        if futex_atomic_cmpxchg(addr, val, new).map_err(drop)? != val {
            continue; // a waiter set FUTEX_WAITERS meanwhile: look again
        }
        if !pi && val & uapi::FUTEX_WAITERS != 0 {
            let _ = futex_wake(uaddr, false, 1, u32::MAX);
        }
        return Ok(());
    }
}

/// A list pointer of the robust list: bit 0 marks a PI futex (Linux:
/// `fetch_robust_entry`).
fn fetch_robust_entry(uaddr: u64) -> Option<(u64, bool)> {
    let raw = get_user::<u64>(UserAddr::new(uaddr)).ok()?;
    Some((raw & !1, raw & 1 != 0))
}

/// Walks the exiting thread's robust list, at most `ROBUST_LIST_LIMIT`
/// entries against a circular list (Linux: `exit_robust_list`). Called
/// while the thread still has its address space.
pub fn exit_robust_list(tsk: &Task) {
    let head = tsk.robust_list.swap(0, Ordering::Relaxed);
    if head == 0 {
        return;
    }
    // The owner TID user space stored is the one its namespace shows.
    let tid = u32::try_from(pid_vnr(task_pid(tsk))).unwrap_or(0);
    let offset = get_user::<i64>(UserAddr::new(head.wrapping_add(8)));
    let (Some((mut entry, mut pi)), Ok(offset), Some((pending, pending_pi))) =
        (fetch_robust_entry(head), offset, fetch_robust_entry(head.wrapping_add(16)))
    else {
        return;
    };
    let at = |entry: u64| entry.wrapping_add_signed(offset);
    let mut limit = ROBUST_LIST_LIMIT;
    while entry != head {
        let next = fetch_robust_entry(entry);
        if entry != pending && handle_futex_death(at(entry), tid, pi, false).is_err() {
            return;
        }
        let Some((next, next_pi)) = next else { return };
        (entry, pi) = (next, next_pi);
        limit -= 1;
        if limit == 0 {
            break;
        }
    }
    if pending != 0 {
        let _ = handle_futex_death(at(pending), tid, pending_pi, true);
    }
}

/// At thread exit with `CLONE_CHILD_CLEARTID`: zero the TID word and wake
/// one waiter (pthread_join). Linux: the `clear_child_tid` part of
/// `mm_release`.
pub fn clear_child_tid(tid_addr: u64) {
    if put_user(UserAddr::new(tid_addr), &0i32).is_ok() {
        let _ = futex_wake(tid_addr, false, 1, u32::MAX);
    }
}

crate::ktest!(futex_key_hash_is_stable_and_in_range, {
    let a = FutexKey::Private { mm: 0x1000, address: 0x7000_0000 };
    let b = FutexKey::Private { mm: 0x1000, address: 0x7000_0004 };
    let c = FutexKey::Shared { phys: 0x7000_0000 };
    crate::kassert!(a.hash() == a.hash(), "same key, same bucket");
    crate::kassert!(a.hash() < FUTEX_HASH_SIZE && c.hash() < FUTEX_HASH_SIZE, "in range");
    crate::kassert!(a != b && a != c, "keys differ by address and kind");
    let mut buckets = [false; FUTEX_HASH_SIZE];
    for i in 0..64u64 {
        let k = FutexKey::Private { mm: 0x1000, address: 0x7000_0000 + 4 * i };
        buckets[k.hash()] = true;
    }
    let used = buckets.iter().filter(|b| **b).count();
    crate::kassert!(used > 32, "adjacent words spread over buckets");
    Ok(())
});

crate::ktest!(futex_take_waiters_matches_key_and_bitset, {
    let me = current();
    let k1 = FutexKey::Private { mm: 1, address: 0x10 };
    let k2 = FutexKey::Private { mm: 1, address: 0x20 };
    let q = |key, bitset| {
        Arc::new(FutexQ {
            task: me.clone(),
            key: SpinLock::new(key),
            bitset,
            woken: AtomicBool::new(false),
        })
    };
    let mut chain = alloc::vec![q(k1, 1), q(k2, 1), q(k1, 2), q(k1, 1)];
    let taken = take_waiters(&mut chain, &k1, 1, 8);
    crate::kassert!(taken.len() == 2, "two waiters of k1 with bit 0");
    crate::kassert!(chain.len() == 2, "the others stay");
    let taken = take_waiters(&mut chain, &k1, u32::MAX, 1);
    crate::kassert!(taken.len() == 1 && chain.len() == 1, "nr bounds the count");
    Ok(())
});

//! epoll: an interest list of files, and a ready list their wake-ups fill
//! (Linux: fs/eventpoll.c).
//!
//! An [`EventPoll`] (the epoll file's private data) holds one [`EpItem`]
//! per watched (file, fd) pair. Each item hooks a wake function on the
//! file's wait queue ([`FileOps::poll_wait_queue`]); when the file wakes
//! it, [`ep_poll_callback`] puts the item on the ready list and wakes the
//! tasks in `epoll_wait`. `epoll_wait` drains the ready list, asking each
//! file's `poll` again: items whose file is no longer ready fall off; a
//! level-triggered item that was reported goes back on the list (so the
//! next call asks again), an `EPOLLET` one does not, and an `EPOLLONESHOT`
//! one is disarmed until `EPOLL_CTL_MOD`.
//!
//! Items hold only a `Weak` reference to their file, as Linux holds none:
//! when the file is finally closed, [`eventpoll_release`] (called from
//! `File`'s drop) unhooks and removes every item watching it.
//!
//! Files without a queue of their own share select's queue, which every
//! pollable file's change wakes: their items are queued on any such
//! change, and re-checked, which costs time but loses nothing. An
//! `EPOLLET` item of such a file may be reported again while it stays
//! ready, which edge-triggered programs must tolerate anyway.
//!
//! The system calls are in `syscalls.rs`.
//!
//! # Locking
//! `EP_NESTED_LOCK` (only to add an epoll file to another), then
//! `EventPoll::items` (Linux: `ep->mtx`), then a file's `f_ep`, then a
//! file's wait queue, then `EventPoll::rdllist` (Linux: `ep->lock`), then
//! `EventPoll::wq`. The callback runs under the file's queue lock with
//! interrupts off: it takes only `rdllist`, which never allocates there
//! (its capacity is kept at the number of items), and wakes `wq`. Files
//! are polled with no epoll lock held.
#![deny(unsafe_code)]

mod syscalls;

pub use syscalls::{
    sys_epoll_create, sys_epoll_create1, sys_epoll_ctl, sys_epoll_pwait, sys_epoll_pwait2,
    sys_epoll_wait,
};

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use linux_raw_sys::general as uapi;

use super::anon_inodes::anon_inode_getfile;
use super::file_table::{File, FileOps, PollMask};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::{WaitQueue, WaitQueueFunc};

/// Flags that steer epoll rather than name events (Linux: `EP_PRIVATE_BITS`).
pub const EP_PRIVATE_BITS: u32 =
    uapi::EPOLLWAKEUP | uapi::EPOLLONESHOT | uapi::EPOLLET | uapi::EPOLLEXCLUSIVE;
/// How deep epoll files may watch epoll files (Linux: `EP_MAX_NESTS`).
const EP_MAX_NESTS: usize = 4;

/// What a file's item is found by: the file's address and the fd it was
/// added under (Linux: `struct epoll_filefd`).
type EpKey = (usize, i32);

/// An instance's items sorted by key (Linux: the red-black tree
/// `ep->rbr`); a vector so that growing it can fail with `ENOMEM`.
#[derive(Default)]
struct EpItems(Vec<Arc<EpItem>>);

impl EpItems {
    fn find(&self, key: &EpKey) -> Result<usize, usize> {
        self.0.binary_search_by(|item| item.key.cmp(key))
    }

    fn get(&self, key: &EpKey) -> Option<&Arc<EpItem>> {
        self.find(key).ok().map(|i| &self.0[i])
    }

    fn insert(&mut self, item: Arc<EpItem>) -> KResult<()> {
        let Err(at) = self.find(&item.key) else { return Err(Errno::EEXIST) };
        self.0.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        self.0.insert(at, item);
        Ok(())
    }

    fn remove(&mut self, key: &EpKey) -> Option<Arc<EpItem>> {
        self.find(key).ok().map(|i| self.0.remove(i))
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// A copy of the list, to walk with the lock dropped.
    fn snapshot(&self) -> KResult<Vec<Arc<EpItem>>> {
        let mut copy = Vec::new();
        copy.try_reserve_exact(self.0.len()).map_err(|_| Errno::ENOMEM)?;
        copy.extend(self.0.iter().cloned());
        Ok(copy)
    }
}

/// The epoll items watching a file (Linux: `file->f_ep`).
pub struct EpLinks(SpinLock<Vec<Weak<EpItem>>>);

impl Default for EpLinks {
    fn default() -> Self {
        Self(SpinLock::new(Vec::new()))
    }
}

/// One watched file (Linux: `struct epitem`).
pub struct EpItem {
    key: EpKey,
    file: Weak<File>,
    ep: Weak<EventPoll>,
    /// The events asked for, with the `EP_PRIVATE_BITS` (Linux: `event.events`).
    events: AtomicU32,
    /// The caller's cookie (Linux: `event.data`).
    data: AtomicU64,
    /// On `rdllist` (Linux: `ep_is_linked(&epi->rdllink)`).
    ready: AtomicBool,
    /// The entry hooked on the file's wait queue (Linux: `eppoll_entry`).
    wait: WaitQueueFunc,
}

/// An epoll instance (Linux: `struct eventpoll`).
pub struct EventPoll {
    items: SpinLock<EpItems>,
    rdllist: SpinLock<VecDeque<Arc<EpItem>>>,
    /// Tasks in `epoll_wait` (Linux: `ep->wq`).
    pub(super) wq: WaitQueue,
}

/// Puts `item` on its instance's ready list and wakes the waiters (Linux:
/// `ep_poll_callback`). Runs under the file's wait-queue lock.
fn ep_poll_callback(item: &Arc<EpItem>) {
    // A disarmed EPOLLONESHOT item waits for EPOLL_CTL_MOD.
    if item.events.load(Ordering::Acquire) & !EP_PRIVATE_BITS == 0 {
        return;
    }
    let Some(ep) = item.ep.upgrade() else { return };
    if !item.ready.swap(true, Ordering::AcqRel) {
        // Capacity is reserved for every item: this never allocates.
        ep.rdllist.lock().push_back(item.clone());
    }
    ep.wq.wake_up_all();
}

impl EpItem {
    fn file(&self) -> Option<Arc<File>> {
        self.file.upgrade()
    }

    /// The file's events that this item asks for (Linux: `ep_item_poll`).
    fn poll(&self, file: &File) -> PollMask {
        file.f_op.poll(file) & self.events.load(Ordering::Acquire) & !EP_PRIVATE_BITS
    }
}

impl EventPoll {
    fn new() -> Self {
        Self {
            items: SpinLock::new(EpItems(Vec::new())),
            rdllist: SpinLock::new(VecDeque::new()),
            wq: WaitQueue::new(),
        }
    }

    /// Queues `item` unless it is queued (Linux: `list_add_tail` on
    /// `rdllist` if `!ep_is_linked`), and wakes the waiters.
    fn queue_ready(&self, item: &Arc<EpItem>) {
        if !item.ready.swap(true, Ordering::AcqRel) {
            self.rdllist.lock().push_back(item.clone());
        }
        self.wq.wake_up_all();
    }

    /// Whether any waiter should look (Linux: `ep_events_available`).
    pub(super) fn events_available(&self) -> bool {
        !self.rdllist.lock().is_empty()
    }

    /// Adds a watch (Linux: `ep_insert`); the caller checked for a
    /// duplicate under `items`.
    fn insert(
        self: &Arc<Self>,
        items: &mut EpItems,
        file: &Arc<File>,
        key: EpKey,
        event: (u32, u64),
    ) -> KResult<Arc<EpItem>> {
        let item = Arc::new_cyclic(|me: &Weak<EpItem>| {
            let me = me.clone();
            let wait: WaitQueueFunc = Arc::new(move |_mode| {
                if let Some(item) = me.upgrade() {
                    ep_poll_callback(&item);
                }
            });
            EpItem {
                key,
                file: Arc::downgrade(file),
                ep: Arc::downgrade(self),
                events: AtomicU32::new(event.0),
                data: AtomicU64::new(event.1),
                ready: AtomicBool::new(false),
                wait,
            }
        });
        {
            let mut rdllist = self.rdllist.lock();
            let queued = rdllist.len();
            rdllist.try_reserve(items.len() + 1 - queued).map_err(|_| Errno::ENOMEM)?;
        }
        items.insert(item.clone())?;
        let mut links = file.f_ep.0.lock();
        let hooked = links
            .try_reserve(1)
            .map_err(|_| Errno::ENOMEM)
            .and_then(|()| file.f_op.poll_wait_queue(file).add_wait_queue(item.wait.clone()));
        if let Err(e) = hooked {
            drop(links);
            items.remove(&key);
            return Err(e);
        }
        links.push(Arc::downgrade(&item));
        Ok(item)
    }

    /// Unhooks `item` from its file and the ready list (Linux:
    /// `ep_remove`); the caller took it out of `items`.
    fn unhook(&self, item: &Arc<EpItem>, file: &File) {
        file.f_op.poll_wait_queue(file).remove_wait_queue(&item.wait);
        file.f_ep.0.lock().retain(|w| !core::ptr::eq(w.as_ptr(), Arc::as_ptr(item)));
        self.unqueue(item);
    }

    fn unqueue(&self, item: &Arc<EpItem>) {
        if item.ready.swap(false, Ordering::AcqRel) {
            self.rdllist.lock().retain(|i| !Arc::ptr_eq(i, item));
        }
    }

    /// Drops every watch (Linux: `ep_clear_and_put` when the epoll file
    /// is closed).
    fn clear(&self) {
        let items = core::mem::take(&mut *self.items.lock());
        for item in &items.0 {
            match item.file() {
                Some(file) => self.unhook(item, &file),
                None => self.unqueue(item),
            }
        }
    }

    /// Moves up to `maxevents` ready events out (Linux:
    /// `ep_send_events`): the ready list is taken whole under one lock
    /// (`ep_start_scan`), files are polled with no lock held until
    /// `maxevents` have answered, and one more lock puts back what was not
    /// looked at, in front, and the level-triggered items that reported, at
    /// the tail (`ep_done_scan`), so none is seen twice in one call.
    pub(super) fn send_events(&self, maxevents: usize) -> KResult<Vec<(u32, u64)>> {
        let mut txlist = Vec::new();
        {
            let mut rdllist = self.rdllist.lock();
            txlist.try_reserve_exact(rdllist.len()).map_err(|_| Errno::ENOMEM)?;
            // Cleared as they leave: a wake-up during the poll queues them again.
            txlist.extend(rdllist.drain(..).inspect(|i| i.ready.store(false, Ordering::Release)));
        }
        let mut out = Vec::new();
        if out.try_reserve_exact(txlist.len().min(maxevents)).is_err() {
            self.ep_done_scan(txlist, Vec::new());
            return Err(Errno::ENOMEM);
        }
        let (mut again, mut done) = (0, 0);
        while done < txlist.len() && out.len() < maxevents {
            let item = &txlist[done];
            done += 1;
            let Some(file) = item.file() else { continue };
            let revents = item.poll(&file);
            if revents == 0 {
                continue;
            }
            out.push((revents, item.data.load(Ordering::Acquire)));
            let events = item.events.load(Ordering::Acquire);
            if events & uapi::EPOLLONESHOT != 0 {
                item.events.fetch_and(EP_PRIVATE_BITS, Ordering::AcqRel);
            } else if events & uapi::EPOLLET == 0 {
                // Keeps the reported ones in order at the front.
                txlist.swap(again, done - 1);
                again += 1;
            }
        }
        let rest = txlist.split_off(done);
        txlist.truncate(again);
        self.ep_done_scan(rest, txlist);
        Ok(out)
    }

    /// Puts back the items `send_events` did not look at, in front and in
    /// order, and those to report again, at the tail; each only if no
    /// wake-up queued it meanwhile (Linux: `ep_done_scan`).
    fn ep_done_scan(&self, rest: Vec<Arc<EpItem>>, again: Vec<Arc<EpItem>>) {
        if rest.is_empty() && again.is_empty() {
            return;
        }
        let mut rdllist = self.rdllist.lock();
        // Capacity is reserved for every item: these never allocate.
        for item in rest.into_iter().rev() {
            if !item.ready.swap(true, Ordering::AcqRel) {
                rdllist.push_front(item);
            }
        }
        for item in again {
            if !item.ready.swap(true, Ordering::AcqRel) {
                rdllist.push_back(item);
            }
        }
    }

    /// Readiness of the epoll file itself (Linux: `ep_eventpoll_poll`):
    /// readable while a queued item's file is ready.
    fn poll(&self) -> PollMask {
        let mut queued = Vec::new();
        {
            let rdllist = self.rdllist.lock();
            if queued.try_reserve_exact(rdllist.len()).is_err() {
                // No memory to look closer: report what the list suggests.
                return if rdllist.is_empty() { 0 } else { uapi::POLLIN | uapi::POLLRDNORM };
            }
            queued.extend(rdllist.iter().cloned());
        }
        let ready = queued.iter().any(|item| item.file().is_some_and(|f| item.poll(&f) != 0));
        if ready { uapi::POLLIN | uapi::POLLRDNORM } else { 0 }
    }
}

/// The epoll instance behind `file`, if it is an epoll file (Linux:
/// `is_file_epoll` and `file->private_data`).
pub fn file_epoll(file: &File) -> Option<&Arc<EventPoll>> {
    file.private::<Arc<EventPoll>>()
}

/// Linux: `eventpoll_fops`.
struct EventPollFileOps;
static EVENTPOLL_FOPS: EventPollFileOps = EventPollFileOps;

impl FileOps for EventPollFileOps {
    fn release(&self, file: &File) {
        if let Some(ep) = file_epoll(file) {
            ep.clear();
        }
    }

    fn poll(&self, file: &File) -> PollMask {
        file_epoll(file).map_or(0, |ep| ep.poll())
    }

    fn seekable(&self) -> bool {
        false
    }
}

/// Makes an epoll file (Linux: `do_epoll_create` without the descriptor).
pub fn epoll_file() -> KResult<Arc<File>> {
    let ep = Arc::new(EventPoll::new());
    anon_inode_getfile(&EVENTPOLL_FOPS, Box::new(ep), uapi::O_RDWR)
}

/// The file is finally closed: every item watching it goes (Linux:
/// `eventpoll_release_file`).
pub fn eventpoll_release(file: &File) {
    let links = core::mem::take(&mut *file.f_ep.0.lock());
    for item in links.iter().filter_map(Weak::upgrade) {
        file.f_op.poll_wait_queue(file).remove_wait_queue(&item.wait);
        if let Some(ep) = item.ep.upgrade() {
            let removed = ep.items.lock().remove(&item.key);
            drop(removed);
            ep.unqueue(&item);
        }
    }
}

/// Whether `ep` can be reached from `target` through epoll files watching
/// epoll files, or the chain is deeper than `EP_MAX_NESTS` (Linux:
/// `ep_loop_check`).
fn ep_loop_check(ep: &Arc<EventPoll>, target: &Arc<EventPoll>, depth: usize) -> bool {
    if Arc::ptr_eq(ep, target) || depth > EP_MAX_NESTS {
        return true;
    }
    // Without memory to look, refuse as if it were a loop.
    let Ok(watched) = target.items.lock().snapshot() else { return true };
    watched
        .iter()
        .filter_map(|item| item.file())
        .any(|file| file_epoll(&file).is_some_and(|inner| ep_loop_check(ep, inner, depth + 1)))
}

/// Serialises adding epoll files to epoll files, so two of them cannot
/// close a loop at once (Linux: `epnested_mutex`).
static EP_NESTED_LOCK: SpinLock<()> = SpinLock::new(());

/// The checks and the change of epoll_ctl (Linux: `do_epoll_ctl`), once
/// both files are found; `op` is `EPOLL_CTL_ADD`, `_DEL` or `_MOD`.
pub fn do_epoll_ctl(
    ep_file: &Arc<File>,
    op: u32,
    fd: i32,
    file: &Arc<File>,
    event: (u32, u64),
) -> KResult<()> {
    // Regular files and directories have no `poll` in Linux.
    let fmt = file.f_inode.mode() & uapi::S_IFMT;
    if fmt == uapi::S_IFREG || fmt == uapi::S_IFDIR {
        return Err(Errno::EPERM);
    }
    let ep = file_epoll(ep_file).ok_or(Errno::EINVAL)?;
    if Arc::ptr_eq(ep_file, file) {
        return Err(Errno::EINVAL);
    }
    let (mut events, data) = event;
    if op != uapi::EPOLL_CTL_DEL && events & uapi::EPOLLEXCLUSIVE != 0 {
        const OK_BITS: u32 = uapi::EPOLLIN
            | uapi::EPOLLOUT
            | uapi::EPOLLERR
            | uapi::EPOLLHUP
            | uapi::EPOLLWAKEUP
            | uapi::EPOLLET
            | uapi::EPOLLEXCLUSIVE;
        if op == uapi::EPOLL_CTL_MOD || file_epoll(file).is_some() || events & !OK_BITS != 0 {
            return Err(Errno::EINVAL);
        }
    }
    events |= uapi::EPOLLERR | uapi::EPOLLHUP;
    let key = (Arc::as_ptr(file) as usize, fd);
    let nested = file_epoll(file).filter(|_| op == uapi::EPOLL_CTL_ADD);
    let _nested_guard = nested.map(|_| EP_NESTED_LOCK.lock());
    if nested.is_some_and(|target| ep_loop_check(ep, target, 1)) {
        return Err(Errno::ELOOP);
    }
    let mut items = ep.items.lock();
    let item = match (op, items.get(&key).cloned()) {
        (uapi::EPOLL_CTL_ADD, Some(_)) => return Err(Errno::EEXIST),
        (uapi::EPOLL_CTL_DEL | uapi::EPOLL_CTL_MOD, None) => return Err(Errno::ENOENT),
        (uapi::EPOLL_CTL_ADD, None) => ep.insert(&mut items, file, key, (events, data))?,
        (uapi::EPOLL_CTL_DEL, Some(item)) => {
            items.remove(&key);
            drop(items);
            ep.unhook(&item, file);
            return Ok(());
        }
        (uapi::EPOLL_CTL_MOD, Some(item)) => {
            if item.events.load(Ordering::Acquire) & uapi::EPOLLEXCLUSIVE != 0 {
                return Err(Errno::EINVAL);
            }
            item.data.store(data, Ordering::Release);
            item.events.store(events, Ordering::Release);
            item
        }
        _ => return Err(Errno::EINVAL),
    };
    drop(items);
    // Already ready: report it without waiting for a wake-up (Linux:
    // the `ep_item_poll` at the end of `ep_insert` and `ep_modify`).
    if item.poll(file) != 0 {
        ep.queue_ready(&item);
    }
    Ok(())
}

crate::ktest!(epoll_eventfd_ready_list_and_release, {
    let ep_file = epoll_file().map_err(|_| "epoll_file")?;
    let ep = file_epoll(&ep_file).ok_or("epoll private data")?.clone();
    let efd = super::eventfd::eventfd_file(0, uapi::EFD_NONBLOCK).map_err(|_| "eventfd")?;
    let add = do_epoll_ctl(&ep_file, uapi::EPOLL_CTL_ADD, 5, &efd, (uapi::EPOLLIN, 77));
    crate::kassert!(add == Ok(()), "EPOLL_CTL_ADD");
    crate::kassert!(ep.send_events(8) == Ok(Vec::new()), "nothing ready");
    let mut pos = 0;
    crate::kassert!(efd.f_op.write(&efd, &1u64.to_ne_bytes(), &mut pos) == Ok(8), "write");
    crate::kassert!(ep.events_available(), "the callback queued the item");
    crate::kassert!(ep.send_events(8) == Ok(alloc::vec![(uapi::EPOLLIN, 77)]), "reported");
    let again = do_epoll_ctl(&ep_file, uapi::EPOLL_CTL_ADD, 5, &efd, (uapi::EPOLLIN, 0));
    crate::kassert!(again == Err(Errno::EEXIST), "EEXIST");
    crate::kassert!(
        do_epoll_ctl(&ep_file, uapi::EPOLL_CTL_ADD, 6, &ep_file, (uapi::EPOLLIN, 0))
            == Err(Errno::EINVAL),
        "an epoll file cannot watch itself"
    );
    drop(efd);
    crate::kassert!(ep.items.lock().len() == 0, "the last close removed the item");
    crate::kassert!(!ep.events_available(), "and took it off the ready list");
    Ok(())
});

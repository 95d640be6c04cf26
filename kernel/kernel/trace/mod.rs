//! Tracing: static tracepoints recorded into per-CPU rings and read as
//! text from tracefs (`/sys/kernel/tracing`).
//!
//! Linux: kernel/trace/ (trace.c: `tracing_on`, `buffer_size_kb`, the
//! `trace` and `trace_pipe` files; trace_events.c: the event switches;
//! ring_buffer.c).
//!
//! - [`events`]: the events (sched, raw_syscalls, exceptions, block),
//!   their `format`, their output, and the `trace_*` calls the kernel's
//!   sites make: one relaxed load when the event is off.
//! - [`ring_buffer`]: a byte ring per CPU, oldest records overwritten.
//! - [`output`]: the `trace` header and lines, in Linux's text format.
//! - [`tracefs`]: the file system (`mount -t tracefs nodev /sys/kernel/tracing`),
//!   [`tracefs_files`] what its files do.
//!
//! The only tracer is `nop` (events only, no function tracer); the
//! clock is `local` (nanoseconds since boot, the TSC).
//!
//! # Locking
//! The switches here are atomics. The rings are leaf spinlocks (see
//! ring_buffer.rs); `buffer_size_kb` changes are serialised by
//! `RESIZE_LOCK`, a sleeping `Mutex` under which the rings are swapped.
#![deny(unsafe_code)]

pub mod events;
pub mod output;
pub mod ring_buffer;
pub mod tracefs;
pub mod tracefs_files;

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::mutex::Mutex;

/// Linux: `tracing_on` (`tracer_tracing_is_on`), on at boot.
static TRACING_ON: AtomicBool = AtomicBool::new(true);
/// The per-CPU ring size in KiB once expanded (Linux: `trace_buf_size`,
/// 1441792 bytes by default).
static BUFFER_SIZE_KB: AtomicUsize = AtomicUsize::new(1408);
/// Whether the rings have their full size (Linux: `ring_buffer_expanded`;
/// until the first event is enabled they are minimal).
static EXPANDED: AtomicBool = AtomicBool::new(false);
/// Serialises resizes (Linux: `trace_types_lock`).
static RESIZE_LOCK: Mutex<()> = Mutex::new(());
/// Records committed, and as many as the last tick saw: the tick wakes
/// `trace_pipe` readers when they differ.
static COMMITTED: AtomicU64 = AtomicU64::new(0);
static SEEN: AtomicU64 = AtomicU64::new(0);
/// Open `trace_pipe` files.
static PIPE_READERS: AtomicUsize = AtomicUsize::new(0);

pub fn tracing_is_on() -> bool {
    TRACING_ON.load(Ordering::Relaxed)
}

pub fn set_tracing_on(on: bool) {
    TRACING_ON.store(on, Ordering::Relaxed);
}

/// `buffer_size_kb` as Linux prints it: `7 (expanded: 1408)` before
/// the first event is enabled.
pub fn buffer_size_text(m: &mut dyn core::fmt::Write) -> core::fmt::Result {
    let kb = BUFFER_SIZE_KB.load(Ordering::Relaxed);
    if EXPANDED.load(Ordering::Relaxed) {
        writeln!(m, "{kb}")
    } else {
        writeln!(m, "7 (expanded: {kb})")
    }
}

/// Gives the rings their full size, once (Linux: `tracing_update_buffers`).
pub fn expand_buffers() -> KResult<()> {
    if EXPANDED.load(Ordering::Acquire) {
        return Ok(());
    }
    let _guard = RESIZE_LOCK.lock();
    if !EXPANDED.load(Ordering::Acquire) {
        ring_buffer::resize(BUFFER_SIZE_KB.load(Ordering::Relaxed).saturating_mul(1024))?;
        EXPANDED.store(true, Ordering::Release);
    }
    Ok(())
}

/// A write to `buffer_size_kb` (Linux: `tracing_entries_write`): the
/// new size per CPU, at least one KiB; it empties the rings.
pub fn set_buffer_size_kb(kb: usize) -> KResult<()> {
    if kb == 0 {
        return Err(Errno::EINVAL);
    }
    let bytes = kb.checked_mul(1024).ok_or(Errno::EINVAL)?;
    let _guard = RESIZE_LOCK.lock();
    ring_buffer::resize(bytes)?;
    BUFFER_SIZE_KB.store(kb, Ordering::Relaxed);
    EXPANDED.store(true, Ordering::Release);
    Ok(())
}

pub(crate) fn note_commit() {
    COMMITTED.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn pipe_opened() {
    PIPE_READERS.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn pipe_closed() {
    PIPE_READERS.fetch_sub(1, Ordering::Relaxed);
}

/// From the timer tick: wakes `trace_pipe` readers and pollers if records
/// came since the last tick. A tracepoint cannot wake them itself, as it
/// may fire under the run-queue lock a wake-up takes (Linux defers the
/// wake-up to an irq_work for the same reason).
pub fn trace_tick() {
    if PIPE_READERS.load(Ordering::Relaxed) == 0 {
        return;
    }
    let now = COMMITTED.load(Ordering::Relaxed);
    if SEEN.swap(now, Ordering::Relaxed) != now {
        crate::fs::select::poll_wake();
    }
}

/// Registers tracefs (Linux: `tracer_init_tracefs`).
pub fn trace_init() -> KResult<()> {
    crate::fs::super_block::register_filesystem(&tracefs::TRACEFS)
}

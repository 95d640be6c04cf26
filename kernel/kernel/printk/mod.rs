//! `printk`: the kernel log and its console.
//!
//! Linux: kernel/printk/printk.c, include/linux/printk.h, kern_levels.h.
//!
//! Every message is stored in the log ring with its level and a timestamp
//! from the boot clock, and printed on the console when its level is below
//! `console_loglevel` (7 by default, 4 with `quiet`, N with `loglevel=N`),
//! as `[    0.001234] message`. User space reads the ring through
//! syslog(2) and /proc/kmsg ([`syslog`]) and /dev/kmsg
//! (drivers/char/kmsg.rs), each from its own sequence number.
//!
//! Readers sleep on [`LOG_WAIT`]. A printk cannot wake them itself: it may
//! run in an interrupt or under the run-queue or a wait-queue lock, so it
//! only sets a flag that the next tick acts on ([`printk_tick`]; Linux
//! defers the same wake-up to an irq_work, `wake_up_klogd`).
//!
//! # Locking
//! `LOG` is held while a record is appended and printed, so console lines
//! come out in log order. Lock order: `LOG`, then the console port.
//! Nothing allocates or sleeps under `LOG`. A panicking CPU prints with
//! [`emergency_write`] and takes no lock.
#![deny(unsafe_code)]

pub mod ringbuf;
pub mod syslog;

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::drivers::tty::serial::uart_8250::COM1;
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::time;
use ringbuf::RingBuf;

/// Log levels (Linux: include/linux/kern_levels.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
#[allow(dead_code, reason = "Linux's full set of levels; not every one has a caller yet")]
pub enum LogLevel {
    Emerg = 0,
    Alert = 1,
    Crit = 2,
    Err = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

/// Linux: `CONFIG_LOG_BUF_SHIFT` = 17.
pub const LOG_BUF_LEN: usize = 1 << 17;
/// Longest message; longer ones are cut (Linux: `PRINTK_MESSAGE_MAX`).
pub const PRINTK_MESSAGE_MAX: usize = 1024;
/// Linux: `CONSOLE_LOGLEVEL_DEFAULT` and `CONSOLE_LOGLEVEL_QUIET`.
pub const CONSOLE_LOGLEVEL_DEFAULT: u8 = 7;
/// The level of a /dev/kmsg write without `<N>` (Linux:
/// `CONFIG_MESSAGE_LOGLEVEL_DEFAULT`).
pub const MESSAGE_LOGLEVEL_DEFAULT: u8 = 4;
/// The lowest console level `dmesg -n` may set (Linux:
/// `CONSOLE_LOGLEVEL_MIN`).
pub const CONSOLE_LOGLEVEL_MIN: u8 = 1;

/// The ring and the positions of its two shared readers (Linux: `prb`,
/// `syslog_seq`, `syslog_partial`, `clear_seq`).
pub struct Log {
    pub ring: RingBuf<LOG_BUF_LEN>,
    /// The next record syslog READ and /proc/kmsg hand out.
    pub syslog_seq: u64,
    /// Bytes of that record's text already read by a short READ.
    pub syslog_partial: usize,
    /// The first record READ_ALL shows; CLEAR moves it to the end.
    pub clear_seq: u64,
}

/// The kernel log (Linux: `prb` with `syslog_lock`, `clear_seq`).
pub static LOG: SpinLock<Log> =
    SpinLock::new(Log { ring: RingBuf::new(), syslog_seq: 0, syslog_partial: 0, clear_seq: 0 });
/// Where readers of the log sleep (Linux: `log_wait`).
pub static LOG_WAIT: WaitQueue = WaitQueue::new();
/// A record came since the last tick (Linux: `PRINTK_PENDING_WAKEUP`).
static WAKEUP_PENDING: AtomicBool = AtomicBool::new(false);

/// The four numbers of /proc/sys/kernel/printk (Linux: `console_printk`).
static CONSOLE_LOGLEVEL: AtomicU8 = AtomicU8::new(CONSOLE_LOGLEVEL_DEFAULT);
static DEFAULT_MESSAGE_LOGLEVEL: AtomicU8 = AtomicU8::new(MESSAGE_LOGLEVEL_DEFAULT);
static MINIMUM_CONSOLE_LOGLEVEL: AtomicU8 = AtomicU8::new(CONSOLE_LOGLEVEL_MIN);
static DEFAULT_CONSOLE_LOGLEVEL: AtomicU8 = AtomicU8::new(CONSOLE_LOGLEVEL_DEFAULT);

/// Sets the level below which messages reach the console.
pub fn set_console_loglevel(level: u8) {
    CONSOLE_LOGLEVEL.store(level.min(8), Ordering::Relaxed);
}

pub fn console_loglevel() -> u8 {
    CONSOLE_LOGLEVEL.load(Ordering::Relaxed)
}

/// The level given to /dev/kmsg writes without one.
pub fn default_message_loglevel() -> u8 {
    DEFAULT_MESSAGE_LOGLEVEL.load(Ordering::Relaxed)
}

pub fn minimum_console_loglevel() -> u8 {
    MINIMUM_CONSOLE_LOGLEVEL.load(Ordering::Relaxed)
}

/// /proc/sys/kernel/printk: `console default minimum boot-default`.
pub fn console_printk() -> [u8; 4] {
    [
        &CONSOLE_LOGLEVEL,
        &DEFAULT_MESSAGE_LOGLEVEL,
        &MINIMUM_CONSOLE_LOGLEVEL,
        &DEFAULT_CONSOLE_LOGLEVEL,
    ]
    .map(|v| v.load(Ordering::Relaxed))
}

/// Sets the first `values.len()` of the four (Linux: `proc_dointvec` on
/// `console_printk`, which takes as many numbers as are written).
pub fn set_console_printk(values: &[u8]) {
    let slots = [
        &CONSOLE_LOGLEVEL,
        &DEFAULT_MESSAGE_LOGLEVEL,
        &MINIMUM_CONSOLE_LOGLEVEL,
        &DEFAULT_CONSOLE_LOGLEVEL,
    ];
    for (slot, &v) in slots.iter().zip(values) {
        slot.store(v, Ordering::Relaxed);
    }
}

/// Wakes the log's readers if a record came since the last call; the
/// tick calls it (Linux: `wake_up_klogd_work_func`).
pub fn printk_tick() {
    if WAKEUP_PENDING.swap(false, Ordering::AcqRel) {
        LOG_WAIT.wake_up_all();
        crate::fs::select::poll_wake();
    }
}

/// A fixed buffer that `write!` fills and silently cuts when full.
pub struct LineBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> LineBuf<N> {
    pub const fn new() -> Self {
        Self { buf: [0; N], len: 0 }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends one byte; false when full.
    pub fn push(&mut self, byte: u8) -> bool {
        let Some(slot) = self.buf.get_mut(self.len) else { return false };
        *slot = byte;
        self.len += 1;
        true
    }

    /// Removes the last byte; false when empty.
    pub fn pop(&mut self) -> bool {
        let had = self.len > 0;
        self.len = self.len.saturating_sub(1);
        had
    }
}

impl<const N: usize> Default for LineBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Write for LineBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(N - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Writes `[    5.123456] ` for a timestamp in nanoseconds.
pub fn write_timestamp(out: &mut impl Write, ts_ns: u64) -> fmt::Result {
    write!(out, "[{:5}.{:06}] ", ts_ns / 1_000_000_000, ts_ns % 1_000_000_000 / 1000)
}

/// Prints `text` on the console, each line prefixed by the timestamp.
fn console_emit(ts_ns: u64, text: &[u8], write: impl Fn(&[u8])) {
    let mut prefix = LineBuf::<24>::new();
    let _ = write_timestamp(&mut prefix, ts_ns);
    for line in text.split(|&b| b == b'\n') {
        write(prefix.as_bytes());
        write(line);
        write(b"\n");
    }
}

/// Logs a message (Linux: `vprintk`). Use the `pr_*!` macros.
pub fn vprintk(level: LogLevel, args: fmt::Arguments<'_>) {
    let mut msg = LineBuf::<PRINTK_MESSAGE_MAX>::new();
    let _ = msg.write_fmt(args);
    vprintk_emit(0, level as u8, msg.as_bytes());
}

/// Stores one record of `facility` and `level` (0..=7) and prints it on
/// the console if its level is below the console's (Linux:
/// `vprintk_emit`). A trailing newline is dropped.
pub fn vprintk_emit(facility: u8, level: u8, text: &[u8]) {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let text = text.get(..PRINTK_MESSAGE_MAX).unwrap_or(text);
    let ts_ns = time::local_clock_ns();
    let mut log = LOG.lock();
    log.ring.push(level & 7, facility, ts_ns, text);
    if level & 7 < console_loglevel() {
        console_emit(ts_ns, text, |b| COM1.write(b));
    }
    drop(log);
    WAKEUP_PENDING.store(true, Ordering::Release);
}

/// Prints on the console without taking any lock and without logging: for
/// oopses and panics, when the lock holder may be the dying CPU.
pub fn emergency_write(args: fmt::Arguments<'_>) {
    let mut msg = LineBuf::<PRINTK_MESSAGE_MAX>::new();
    let _ = msg.write_fmt(args);
    let text = msg.as_bytes().strip_suffix(b"\n").unwrap_or(msg.as_bytes());
    console_emit(time::local_clock_ns(), text, |b| COM1.force_write(b));
}

/// Calls `f` with each record in the log, oldest first (for `dmesg`).
pub fn for_each_record(mut f: impl FnMut(ringbuf::Record<'_>)) {
    let mut scratch = [0u8; PRINTK_MESSAGE_MAX];
    LOG.lock().ring.for_each(&mut scratch, &mut f);
}

#[macro_export]
macro_rules! printk {
    ($level:expr, $($arg:tt)*) => {
        $crate::kernel::printk::vprintk($level, format_args!($($arg)*))
    };
}

#[macro_export]
macro_rules! pr_emerg { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::LogLevel::Emerg, $($arg)*) }; }
#[macro_export]
macro_rules! pr_alert { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::LogLevel::Alert, $($arg)*) }; }
#[macro_export]
macro_rules! pr_crit { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::LogLevel::Crit, $($arg)*) }; }
#[macro_export]
macro_rules! pr_err { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::LogLevel::Err, $($arg)*) }; }
#[macro_export]
macro_rules! pr_warn { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::LogLevel::Warning, $($arg)*) }; }
#[macro_export]
macro_rules! pr_notice { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::LogLevel::Notice, $($arg)*) }; }
#[macro_export]
macro_rules! pr_info { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::LogLevel::Info, $($arg)*) }; }
#[macro_export]
macro_rules! pr_debug { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::LogLevel::Debug, $($arg)*) }; }

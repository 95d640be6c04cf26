//! syslog(2) (glibc's `klogctl`): reading and clearing the kernel log,
//! setting the console's level. /proc/kmsg is the same reader behind a
//! file (fs/proc/kmsg.rs).
//!
//! Linux: kernel/printk/printk.c (`do_syslog`, `syslog_print`,
//! `syslog_print_all`, `check_syslog_permissions`, `record_print_text`).
//!
//! Records come out as `<P>[    1.234567] text\n`, `P` being the facility
//! times 8 plus the level, every line of a multi-line record prefixed.
//! READ consumes from the shared position `syslog_seq` (the reader is
//! meant to be the one klogd) and sleeps while there is nothing new;
//! READ_ALL shows, from `clear_seq` on, the newest records that fit.
//!
//! Permission (Linux: `syslog_action_restricted`): READ_ALL and
//! SIZE_BUFFER are open to everyone while `kernel.dmesg_restrict` is 0;
//! every other action wants `CAP_SYSLOG` (root). A /proc/kmsg file is
//! checked once, at open.
//!
//! # Locking
//! `printk::LOG` guards the ring and both reader positions; text is built
//! under it in a buffer allocated before taking it, and copied to user
//! space after dropping it. Readers sleep on `printk::LOG_WAIT`.
#![deny(unsafe_code)]

use alloc::vec::Vec;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU8, AtomicU32, Ordering};

use super::ringbuf::Record;
use super::{
    CONSOLE_LOGLEVEL_DEFAULT, LOG, LOG_BUF_LEN, LOG_WAIT, LineBuf, console_loglevel,
    minimum_console_loglevel, set_console_loglevel, write_timestamp,
};
use crate::kernel::cred::capable;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::syscall::args::{UserPtr, UserSliceMut};

/// Linux: `SYSLOG_ACTION_*` (include/linux/syslog.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyslogAction {
    Close = 0,
    Open = 1,
    Read = 2,
    ReadAll = 3,
    ReadClear = 4,
    Clear = 5,
    ConsoleOff = 6,
    ConsoleOn = 7,
    ConsoleLevel = 8,
    SizeUnread = 9,
    SizeBuffer = 10,
}

impl SyslogAction {
    fn from_raw(raw: i32) -> KResult<Self> {
        Ok(match raw {
            0 => Self::Close,
            1 => Self::Open,
            2 => Self::Read,
            3 => Self::ReadAll,
            4 => Self::ReadClear,
            5 => Self::Clear,
            6 => Self::ConsoleOff,
            7 => Self::ConsoleOn,
            8 => Self::ConsoleLevel,
            9 => Self::SizeUnread,
            10 => Self::SizeBuffer,
            _ => return Err(Errno::EINVAL),
        })
    }
}

/// Who asks (Linux: `SYSLOG_FROM_READER`, `SYSLOG_FROM_PROC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyslogSource {
    Reader,
    Proc,
}

/// `kernel.dmesg_restrict` (Linux: `dmesg_restrict`).
pub static DMESG_RESTRICT: AtomicU32 = AtomicU32::new(0);
/// The console level CONSOLE_OFF saved; 0 when none is saved (Linux:
/// `saved_console_loglevel`, `LOGLEVEL_DEFAULT` for none).
static SAVED_CONSOLE_LOGLEVEL: AtomicU8 = AtomicU8::new(0);

/// The most a READ or READ_ALL builds at once, so a huge `len` from user
/// space does not become a huge allocation.
const SYSLOG_READ_MAX: usize = 2 * LOG_BUF_LEN;

/// Linux: `syslog_action_restricted`.
fn syslog_action_restricted(action: SyslogAction) -> bool {
    DMESG_RESTRICT.load(Ordering::Relaxed) != 0
        || !matches!(action, SyslogAction::ReadAll | SyslogAction::SizeBuffer)
}

/// Linux: `check_syslog_permissions`.
pub fn check_syslog_permissions(action: SyslogAction, source: SyslogSource) -> KResult<()> {
    if source == SyslogSource::Proc && action != SyslogAction::Open {
        return Ok(());
    }
    if syslog_action_restricted(action) && !capable(linux_raw_sys::general::CAP_SYSLOG) {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// Appends to a vector within its reserved capacity after skipping the
/// first `skip` bytes, counting everything (so a length can be measured
/// without a buffer, and nothing allocates).
struct Sink<'a> {
    out: Option<&'a mut Vec<u8>>,
    skip: usize,
    len: usize,
}

impl Sink<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.len += bytes.len();
        let skipped = self.skip.min(bytes.len());
        self.skip -= skipped;
        let bytes = &bytes[skipped..];
        if let Some(out) = self.out.as_deref_mut() {
            let room = out.capacity() - out.len();
            out.extend_from_slice(bytes.get(..room).unwrap_or(bytes));
        }
    }
}

impl Write for Sink<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put(s.as_bytes());
        Ok(())
    }
}

/// Writes one record as syslog gives it, less its first `skip` bytes
/// (Linux: `record_print_text` with `syslog` true); returns its full
/// length.
fn record_print_text(rec: &Record<'_>, out: Option<&mut Vec<u8>>, skip: usize) -> usize {
    let mut sink = Sink { out, skip, len: 0 };
    let prefix = (u32::from(rec.facility) << 3) | u32::from(rec.level);
    let mut stamp = LineBuf::<24>::new();
    let _ = write_timestamp(&mut stamp, rec.ts_ns);
    for line in rec.text.split(|&b| b == b'\n') {
        let _ = write!(sink, "<{prefix}>");
        sink.put(stamp.as_bytes());
        sink.put(line);
        sink.put(b"\n");
    }
    sink.len
}

/// The length of a record's syslog text.
fn record_len(rec: &Record<'_>) -> usize {
    record_print_text(rec, None, 0)
}

/// A buffer for up to `len` bytes of text, allocated before `LOG` is taken.
fn text_buffer(len: usize) -> KResult<Vec<u8>> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(len.min(SYSLOG_READ_MAX)).map_err(|_| Errno::ENOMEM)?;
    Ok(buf)
}

/// Whether READ has something to return (Linux: `prb_read_valid` at
/// `syslog_seq`).
fn syslog_unread() -> bool {
    let log = LOG.lock();
    log.syslog_seq < log.ring.next_seq()
}

/// Moves records from `syslog_seq` on into `out` up to its capacity,
/// consuming them; a record too long for an empty buffer is handed out
/// in pieces (Linux: `syslog_print` after its wait).
fn syslog_take(out: &mut Vec<u8>) {
    let size = out.capacity();
    let mut scratch = [0u8; super::PRINTK_MESSAGE_MAX];
    let mut guard = LOG.lock();
    let log = &mut *guard;
    if log.syslog_seq < log.ring.first_seq() {
        // Overwritten while nobody read: go on from the oldest kept.
        log.syslog_seq = log.ring.first_seq();
        log.syslog_partial = 0;
    }
    let (mut seq, mut partial) = (log.syslog_seq, log.syslog_partial);
    log.ring.for_each_from(seq, &mut scratch, |rec| {
        let n = record_len(&rec);
        let left = size - out.len();
        if n - partial.min(n) <= left {
            record_print_text(&rec, Some(&mut *out), partial);
            seq = rec.seq + 1;
            partial = 0;
            true
        } else {
            if out.is_empty() {
                record_print_text(&rec, Some(&mut *out), partial);
                partial += left;
            }
            false
        }
    });
    log.syslog_seq = seq;
    log.syslog_partial = partial;
}

/// READ: waits for a record (unless `nonblock`), then consumes as many
/// as fit in `size` bytes (Linux: `syslog_print`).
pub fn syslog_print(size: usize, nonblock: bool) -> KResult<Vec<u8>> {
    let mut out = text_buffer(size)?;
    loop {
        if !syslog_unread() {
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            LOG_WAIT.wait_event_interruptible(syslog_unread).map_err(|_| Errno::ERESTARTSYS)?;
        }
        syslog_take(&mut out);
        // Another reader may have taken what woke us: then sleep again.
        if !out.is_empty() || size == 0 {
            return Ok(out);
        }
    }
}

/// READ_ALL: the newest records from `clear_seq` on that fit in `size`
/// bytes, oldest first; with `clear`, moves `clear_seq` past them all
/// (Linux: `syslog_print_all`).
fn syslog_print_all(size: usize, clear: bool) -> KResult<Vec<u8>> {
    let mut out = text_buffer(size)?;
    let size = out.capacity();
    let mut scratch = [0u8; super::PRINTK_MESSAGE_MAX];
    let mut log = LOG.lock();
    let from = log.clear_seq.max(log.ring.first_seq());
    let mut total = 0usize;
    log.ring.for_each_from(from, &mut scratch, |rec| {
        total += record_len(&rec);
        true
    });
    // Drop the oldest until the rest fits.
    let mut start = from;
    log.ring.for_each_from(from, &mut scratch, |rec| {
        if total <= size {
            return false;
        }
        total -= record_len(&rec);
        start = rec.seq + 1;
        true
    });
    log.ring.for_each_from(start, &mut scratch, |rec| {
        if record_len(&rec) > size - out.len() {
            return false;
        }
        record_print_text(&rec, Some(&mut out), 0);
        true
    });
    if clear {
        log.clear_seq = log.ring.next_seq();
    }
    Ok(out)
}

/// SIZE_UNREAD: for /proc/kmsg the number of unread records, for
/// syslog(2) the bytes of their text (Linux's two answers).
fn syslog_size_unread(source: SyslogSource) -> usize {
    let mut scratch = [0u8; super::PRINTK_MESSAGE_MAX];
    let mut log = LOG.lock();
    if log.syslog_seq < log.ring.first_seq() {
        log.syslog_seq = log.ring.first_seq();
        log.syslog_partial = 0;
    }
    if source == SyslogSource::Proc {
        return usize::try_from(log.ring.next_seq() - log.syslog_seq).unwrap_or(usize::MAX);
    }
    let mut bytes = 0usize;
    log.ring.for_each_from(log.syslog_seq, &mut scratch, |rec| {
        bytes += record_len(&rec);
        true
    });
    bytes.saturating_sub(log.syslog_partial)
}

/// The actions that change state or measure (everything but the reads).
pub fn do_syslog_ctl(action: SyslogAction, len: i32, source: SyslogSource) -> KResult<usize> {
    check_syslog_permissions(action, source)?;
    match action {
        SyslogAction::Close | SyslogAction::Open => Ok(0),
        SyslogAction::Clear => {
            let mut log = LOG.lock();
            log.clear_seq = log.ring.next_seq();
            Ok(0)
        }
        SyslogAction::ConsoleOff => {
            if SAVED_CONSOLE_LOGLEVEL.load(Ordering::Relaxed) == 0 {
                SAVED_CONSOLE_LOGLEVEL.store(console_loglevel(), Ordering::Relaxed);
            }
            set_console_loglevel(minimum_console_loglevel());
            Ok(0)
        }
        SyslogAction::ConsoleOn => {
            let saved = SAVED_CONSOLE_LOGLEVEL.swap(0, Ordering::Relaxed);
            if saved != 0 {
                set_console_loglevel(saved);
            }
            Ok(0)
        }
        SyslogAction::ConsoleLevel => {
            let level = u8::try_from(len).ok().filter(|l| (1..=8).contains(l));
            let level = level.ok_or(Errno::EINVAL)?.max(minimum_console_loglevel());
            set_console_loglevel(level);
            SAVED_CONSOLE_LOGLEVEL.store(0, Ordering::Relaxed);
            Ok(0)
        }
        SyslogAction::SizeUnread => Ok(syslog_size_unread(source)),
        SyslogAction::SizeBuffer => Ok(LOG_BUF_LEN),
        SyslogAction::Read | SyslogAction::ReadAll | SyslogAction::ReadClear => Err(Errno::EINVAL),
    }
}

/// syslog(2) (Linux: `do_syslog` from `SYSCALL_DEFINE3(syslog)`).
pub fn sys_syslog(action: i32, buf: UserPtr<u8>, len: i32) -> KResult<usize> {
    let action = SyslogAction::from_raw(action)?;
    if !matches!(action, SyslogAction::Read | SyslogAction::ReadAll | SyslogAction::ReadClear) {
        return do_syslog_ctl(action, len, SyslogSource::Reader);
    }
    check_syslog_permissions(action, SyslogSource::Reader)?;
    if buf.is_null() || len < 0 {
        return Err(Errno::EINVAL);
    }
    let len = usize::try_from(len).map_err(|_| Errno::EINVAL)?;
    if len == 0 {
        return Ok(0);
    }
    let mut dst = UserSliceMut::new(buf, len)?;
    let text = match action {
        SyslogAction::Read => syslog_print(len, false)?,
        _ => syslog_print_all(len, action == SyslogAction::ReadClear)?,
    };
    dst.write(&text)
}

crate::ktest!(syslog_formats_and_reads_all, {
    crate::pr_info!("syslog ktest marker\nsecond line");
    let all = syslog_print_all(SYSLOG_READ_MAX, false).map_err(|_| "read all")?;
    let find = |needle: &[u8]| all.windows(needle.len()).any(|w| w == needle);
    crate::kassert!(find(b"] syslog ktest marker\n<6>["), "each line has its own prefix");
    crate::kassert!(all.starts_with(b"<"), "records start with <P>");
    crate::kassert!(all.ends_with(b"] second line\n"), "the newest record is last");
    // The two-line record is about 70 bytes: 200 holds it and maybe more.
    let small = syslog_print_all(200, false).map_err(|_| "read small")?;
    crate::kassert!(small.len() <= 200 && small.ends_with(b"line\n"), "the newest that fit");
    let none = syslog_print_all(40, false).map_err(|_| "read tiny")?;
    crate::kassert!(none.is_empty(), "a newest record longer than the buffer: nothing");
    crate::kassert!(SyslogAction::from_raw(11) == Err(Errno::EINVAL), "unknown action");
    crate::kassert!(console_loglevel() <= CONSOLE_LOGLEVEL_DEFAULT + 1, "console level");
    Ok(())
});

/// /proc/sys/kernel/printk's text, without the newline (Linux:
/// `proc_dointvec` on `console_printk`, tab-separated).
pub fn proc_printk_get() -> Vec<u8> {
    let [a, b, c, d] = super::console_printk();
    alloc::format!("{a}\t{b}\t{c}\t{d}").into_bytes()
}

/// Sets as many of the four levels as numbers are written; anything but
/// up to four numbers in 0..=255 is `EINVAL` and changes nothing.
pub fn proc_printk_set(text: &[u8]) -> KResult<()> {
    let text = core::str::from_utf8(text).map_err(|_| Errno::EINVAL)?;
    let mut values = [0u8; 4];
    let mut n = 0;
    for word in text.split_ascii_whitespace() {
        let slot = values.get_mut(n).ok_or(Errno::EINVAL)?;
        *slot = word.parse::<u8>().map_err(|_| Errno::EINVAL)?;
        n += 1;
    }
    super::set_console_printk(&values[..n]);
    Ok(())
}

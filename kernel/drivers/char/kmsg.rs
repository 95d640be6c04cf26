//! /dev/kmsg (char 1:11): the kernel log one record per read, each
//! reader at its own place, and a way for user space to log.
//!
//! Linux: kernel/printk/printk.c (`devkmsg_open`, `devkmsg_read`,
//! `devkmsg_write`, `devkmsg_llseek`, `devkmsg_poll`,
//! `info_print_ext_header`, `msg_add_ext_text`);
//! Documentation/ABI/testing/dev-kmsg.
//!
//! A read returns one record, `PRI,SEQ,USEC,FLAG;TEXT\n`, with bytes
//! below space, from 127 on and `\` escaped as `\xNN`; it waits for one
//! unless the file is non-blocking (`EAGAIN`); a buffer too small for the
//! record is `EINVAL` (and the record is skipped, as in Linux). When the
//! reader's next record was overwritten, the read is `EPIPE` and the
//! reader goes on from the oldest kept. `lseek(fd, 0, SEEK_SET)` goes to
//! the oldest record, `SEEK_END` past the newest, `SEEK_DATA` to where
//! `dmesg -c` last cleared; any other offset is `ESPIPE`.
//!
//! A write logs its bytes as one record of facility `LOG_USER` and the
//! default level (4), or of the `<N>` it starts with (facility 0, the
//! kernel's, cannot be claimed); writes past ten in five seconds per
//! open file are dropped (Linux's default `printk.devkmsg=ratelimit`).
//!
//! # Locking
//! `DevkmsgUser::state` is a leaf spinlock, never held across a sleep,
//! the log lock or a user copy; the log itself is under `printk::LOG`.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;

use linux_raw_sys::general as uapi;

use super::mem::MEM_MAJOR;
use crate::fs::char_dev::register_chrdev_region;
use crate::fs::file_table::{FMode, File, FileOps, PollMask, Whence};
use crate::fs::inode::{DevT, Inode};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;
use crate::kernel::printk::ringbuf::Record;
use crate::kernel::printk::syslog::{SyslogAction, SyslogSource, check_syslog_permissions};
use crate::kernel::printk::{
    LOG, LOG_WAIT, PRINTK_MESSAGE_MAX, default_message_loglevel, vprintk_emit,
};
use crate::kernel::sched::wait::WaitQueue;
use crate::kernel::time::{HZ, jiffies};

/// Linux: `PRINTKRB_RECORD_MAX`, the longest write.
const PRINTKRB_RECORD_MAX: usize = 1024;
/// Linux: `LOG_USER`, the facility of a write without `<N>`.
const LOG_USER: u8 = 1;
/// Linux: `DEFAULT_RATELIMIT_INTERVAL` and `_BURST`.
const RATELIMIT_INTERVAL: u64 = 5 * HZ;
const RATELIMIT_BURST: u32 = 10;

/// One open file's place and write budget (Linux: `struct devkmsg_user`).
struct DevkmsgState {
    seq: u64,
    rs_begin: u64,
    rs_printed: u32,
    rs_missed: u32,
}

pub struct DevkmsgUser {
    state: SpinLock<DevkmsgState>,
}

fn user(file: &File) -> KResult<&DevkmsgUser> {
    file.private::<DevkmsgUser>().ok_or(Errno::EBADF)
}

/// Appends a record as /dev/kmsg shows it (Linux: `info_print_ext_header`
/// and `msg_add_ext_text`).
fn devkmsg_format(rec: &Record<'_>, out: &mut Vec<u8>) -> KResult<()> {
    let mut line = alloc::string::String::new();
    let prefix = (u32::from(rec.facility) << 3) | u32::from(rec.level);
    let usec = rec.ts_ns / 1000;
    let _ = write!(line, "{prefix},{},{usec},-;", rec.seq);
    for &c in rec.text {
        if !(b' '..127).contains(&c) || c == b'\\' {
            let _ = write!(line, "\\x{c:02x}");
        } else {
            line.push(char::from(c));
        }
    }
    line.push('\n');
    out.try_reserve(line.len()).map_err(|_| Errno::ENOMEM)?;
    out.extend_from_slice(line.as_bytes());
    Ok(())
}

/// A record copied out of the ring.
struct OwnedRecord {
    level: u8,
    facility: u8,
    ts_ns: u64,
    seq: u64,
    text: Vec<u8>,
}

/// What a reader at `seq` finds: `Ok(None)` nothing yet, `Err(EPIPE)`
/// if its record was overwritten (and `seq` moves to the oldest),
/// otherwise a copy of the record.
fn devkmsg_fetch(seq: &mut u64) -> KResult<Option<OwnedRecord>> {
    // Allocated before taking LOG: nothing allocates under it.
    let mut text = Vec::new();
    text.try_reserve_exact(PRINTK_MESSAGE_MAX).map_err(|_| Errno::ENOMEM)?;
    let mut scratch = [0u8; PRINTK_MESSAGE_MAX];
    let log = LOG.lock();
    if *seq < log.ring.first_seq() {
        *seq = log.ring.first_seq();
        return Err(Errno::EPIPE);
    }
    let mut found = None;
    log.ring.for_each_from(*seq, &mut scratch, |rec| {
        text.extend_from_slice(rec.text);
        found = Some((rec.level, rec.facility, rec.ts_ns, rec.seq));
        false
    });
    Ok(found.map(|(level, facility, ts_ns, seq)| OwnedRecord { level, facility, ts_ns, seq, text }))
}

/// Whether the record at `seq` exists yet (or was overwritten).
fn devkmsg_ready(seq: u64) -> bool {
    seq < LOG.lock().ring.next_seq()
}

/// Linux: `devkmsg_ops`.
pub struct DevkmsgOps;
pub static DEVKMSG_OPS: DevkmsgOps = DevkmsgOps;

impl DevkmsgOps {
    fn read_record(&self, file: &File) -> KResult<Vec<u8>> {
        let u = user(file)?;
        loop {
            let mut seq = u.state.lock().seq;
            let fetched = devkmsg_fetch(&mut seq);
            if let Err(Errno::EPIPE) = fetched {
                u.state.lock().seq = seq;
            }
            if let Some(r) = fetched? {
                let (seq, text) = (r.seq, &r.text);
                let rec =
                    Record { seq, level: r.level, facility: r.facility, ts_ns: r.ts_ns, text };
                let mut out = Vec::new();
                devkmsg_format(&rec, &mut out)?;
                u.state.lock().seq = seq + 1;
                return Ok(out);
            }
            if file.is_nonblocking() {
                return Err(Errno::EAGAIN);
            }
            LOG_WAIT
                .wait_event_interruptible(|| devkmsg_ready(seq))
                .map_err(|_| Errno::ERESTARTSYS)?;
        }
    }

    /// Linux: `___ratelimit` with `printk.devkmsg=ratelimit`'s defaults.
    fn ratelimit(&self, u: &DevkmsgUser) -> bool {
        let now = jiffies();
        let mut s = u.state.lock();
        if now.saturating_sub(s.rs_begin) >= RATELIMIT_INTERVAL {
            s.rs_begin = now;
            s.rs_printed = 0;
        }
        if s.rs_printed < RATELIMIT_BURST {
            s.rs_printed += 1;
            true
        } else {
            s.rs_missed = s.rs_missed.saturating_add(1);
            false
        }
    }
}

/// Splits a leading `<N>` off (Linux: `devkmsg_write`'s `simple_strtoul`):
/// (facility, level, the rest).
fn parse_prefix(buf: &[u8]) -> (u8, u8, &[u8]) {
    let default = (LOG_USER, default_message_loglevel(), buf);
    let Some(rest) = buf.strip_prefix(b"<") else { return default };
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    let Some(after) = rest.get(digits..).and_then(|r| r.strip_prefix(b">")) else {
        return default;
    };
    let mut u: u32 = 0;
    for &d in &rest[..digits] {
        u = u.wrapping_mul(10).wrapping_add(u32::from(d - b'0'));
    }
    let facility = u8::try_from((u & 0x3f8) >> 3).unwrap_or(LOG_USER);
    let facility = if facility == 0 { LOG_USER } else { facility };
    (facility, u8::try_from(u & 7).unwrap_or(0), after)
}

impl FileOps for DevkmsgOps {
    /// Linux: `devkmsg_open`: readers need what `dmesg` needs.
    fn open(&self, _inode: &Arc<Inode>, file: &File) -> KResult<()> {
        if file.f_mode.contains(FMode::READ) {
            check_syslog_permissions(SyslogAction::ReadAll, SyslogSource::Reader)?;
        }
        let seq = LOG.lock().ring.first_seq();
        let state = DevkmsgState { seq, rs_begin: jiffies(), rs_printed: 0, rs_missed: 0 };
        file.set_private(Box::new(DevkmsgUser { state: SpinLock::new(state) }));
        Ok(())
    }

    /// Says how many writes the rate limit dropped (Linux: `devkmsg_release`
    /// with `RATELIMIT_MSG_ON_RELEASE`).
    fn release(&self, file: &File) {
        let Ok(u) = user(file) else { return };
        let missed = u.state.lock().rs_missed;
        if missed > 0 {
            let comm = crate::kernel::sched::current().comm();
            let comm = crate::kernel::sched::task::comm_str(&comm);
            crate::pr_warn!("{comm}: {missed} output lines suppressed due to ratelimiting");
        }
    }

    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        let record = self.read_record(file)?;
        let dst = buf.get_mut(..record.len()).ok_or(Errno::EINVAL)?;
        dst.copy_from_slice(&record);
        Ok(record.len())
    }

    fn write(&self, file: &File, buf: &[u8], _pos: &mut u64) -> KResult<usize> {
        if buf.len() > PRINTKRB_RECORD_MAX {
            return Err(Errno::EINVAL);
        }
        if !self.ratelimit(user(file)?) {
            return Ok(buf.len());
        }
        // C string semantics: the text ends at a NUL.
        let text = buf.split(|&c| c == 0).next().unwrap_or(&[]);
        let (facility, level, text) = parse_prefix(text);
        vprintk_emit(facility, level, text);
        Ok(buf.len())
    }

    fn llseek(&self, file: &File, _pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        if offset != 0 {
            return Err(Errno::ESPIPE);
        }
        let seq = {
            let log = LOG.lock();
            match whence {
                Whence::Set => log.ring.first_seq(),
                Whence::Data => log.clear_seq.max(log.ring.first_seq()),
                Whence::End => log.ring.next_seq(),
                _ => return Err(Errno::EINVAL),
            }
        };
        user(file)?.state.lock().seq = seq;
        Ok(0)
    }

    fn poll(&self, file: &File) -> PollMask {
        let Ok(u) = user(file) else { return uapi::POLLERR };
        let seq = u.state.lock().seq;
        let log = LOG.lock();
        if seq < log.ring.first_seq() {
            uapi::POLLIN | uapi::POLLRDNORM | uapi::POLLERR | uapi::POLLPRI
        } else if seq < log.ring.next_seq() {
            uapi::POLLIN | uapi::POLLRDNORM
        } else {
            0
        }
    }

    fn poll_wait_queue<'a>(&self, _file: &'a File) -> &'a WaitQueue {
        &LOG_WAIT
    }
}

/// Registers /dev/kmsg (Linux: its line in `devlist`).
pub fn devkmsg_init() -> KResult<()> {
    register_chrdev_region(DevT::new(MEM_MAJOR, 11), 1, "kmsg", &DEVKMSG_OPS)
}

crate::ktest!(devkmsg_prefix_and_format, {
    crate::kassert!(parse_prefix(b"<3>x") == (1, 3, &b"x"[..]), "level, user facility");
    crate::kassert!(parse_prefix(b"<86>y") == (10, 6, &b"y"[..]), "authpriv.info");
    let (f, _, rest) = parse_prefix(b"<x>z");
    crate::kassert!(f == 1 && rest == b"<x>z", "no prefix");
    let rec = Record { seq: 7, level: 6, facility: 0, ts_ns: 1_234_567_000, text: b"a\\b\nc" };
    let mut out = Vec::new();
    devkmsg_format(&rec, &mut out).map_err(|_| "format")?;
    crate::kassert!(out == b"6,7,1234567,-;a\\x5cb\\x0ac\n", "record line");
    Ok(())
});

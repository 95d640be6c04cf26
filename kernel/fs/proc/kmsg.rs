//! /proc/kmsg: the kernel log for the one klogd, read and consumed as
//! syslog(2)'s READ would (Linux: fs/proc/kmsg.c).
//!
//! Opening it takes `CAP_SYSLOG` (root) whatever `dmesg_restrict` says; a
//! read sleeps until there is a record, unless the file is non-blocking
//! (`EAGAIN`); poll reports `POLLIN` while a record is unread. All readers
//! share one position, `printk::LOG`'s `syslog_seq`.
//!
//! # Locking
//! None of its own: see kernel/printk/syslog.rs.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use linux_raw_sys::general as uapi;

use crate::fs::file_table::{File, FileOps, PollMask};
use crate::fs::inode::Inode;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::printk::LOG_WAIT;
use crate::kernel::printk::syslog::{SyslogAction, SyslogSource, do_syslog_ctl, syslog_print};
use crate::kernel::sched::wait::WaitQueue;

/// Linux: `proc_kmsg_operations`.
pub struct KmsgOps;
pub static KMSG_OPS: KmsgOps = KmsgOps;

/// Whether a record is unread (Linux: `SYSLOG_ACTION_SIZE_UNREAD` from /proc).
fn unread() -> bool {
    do_syslog_ctl(SyslogAction::SizeUnread, 0, SyslogSource::Proc).is_ok_and(|n| n > 0)
}

impl FileOps for KmsgOps {
    /// Linux: `kmsg_open`.
    fn open(&self, _inode: &Arc<Inode>, _file: &File) -> KResult<()> {
        do_syslog_ctl(SyslogAction::Open, 0, SyslogSource::Reader).map(|_| ())
    }

    /// Linux: `kmsg_read`.
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let text = syslog_print(buf.len(), file.is_nonblocking())?;
        let n = text.len().min(buf.len());
        buf[..n].copy_from_slice(&text[..n]);
        Ok(n)
    }

    /// Linux: `kmsg_poll`.
    fn poll(&self, _file: &File) -> PollMask {
        if unread() { uapi::POLLIN | uapi::POLLRDNORM } else { 0 }
    }

    fn poll_wait_queue<'a>(&self, _file: &'a File) -> &'a WaitQueue {
        &LOG_WAIT
    }

    fn seekable(&self) -> bool {
        false
    }
}

crate::ktest!(proc_kmsg_consumes, {
    crate::kassert!(
        do_syslog_ctl(SyslogAction::SizeBuffer, 0, SyslogSource::Reader)
            == Ok(crate::kernel::printk::LOG_BUF_LEN),
        "SIZE_BUFFER"
    );
    crate::pr_info!("proc_kmsg ktest");
    crate::kassert!(unread(), "a new record is unread");
    // Drain: non-blocking reads until EAGAIN.
    let mut found = false;
    let needle = b"] proc_kmsg ktest\n";
    for _ in 0..10_000 {
        match syslog_print(4096, true) {
            Ok(text) => found |= text.windows(needle.len()).any(|w| w == needle),
            Err(Errno::EAGAIN) => break,
            Err(_) => return Err("read failed"),
        }
    }
    crate::kassert!(found, "the new record was read");
    Ok(())
});

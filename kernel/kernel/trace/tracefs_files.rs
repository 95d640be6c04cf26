//! What the tracefs files do when read and written.
//!
//! Linux: kernel/trace/trace.c (`tracing_open` and `s_show` for `trace`,
//! `tracing_read_pipe` and `tracing_poll_pipe` for `trace_pipe`,
//! `rb_simple_write` for `tracing_on`, `tracing_entries_write` for
//! `buffer_size_kb`, `tracing_set_trace_write`, `tracing_clock_write`),
//! kernel/trace/trace_events.c (`ftrace_event_write` and
//! `ftrace_set_clr_event` for `set_event`, `event_enable_write`,
//! `system_enable_read`/`write`, `event_id_read`, `f_show`).
//!
//! # Locking
//! An open `trace` or `trace_pipe` keeps its reader under a sleeping
//! `Mutex`, a leaf taken under the file's `f_pos`; `trace_pipe` sleeps
//! holding it (a second reader of the same open file waits its turn).
//! Text files render into a `SeqState`.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use core::fmt::Write;

use linux_raw_sys::general as uapi;

use super::events::{EVENTS, TraceEvent, set_enabled, write_format};
use super::output::{TextBuf, TraceSnapshot, consume_line, pipe_has_data};
use super::tracefs::{Node, TFile, system_name};
use crate::fs::file_table::{File, FileOps, PollMask, Whence};
use crate::fs::inode::Inode;
use crate::fs::proc::generic::{SeqBuf, SeqState, render};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::mutex::Mutex;
use alloc::sync::Arc;

fn tfile(inode: &Inode) -> KResult<TFile> {
    match super::tracefs::node_of(inode)? {
        Node::File(f) => Ok(f),
        _ => Err(Errno::EISDIR),
    }
}

/// `O_TRUNC` on a file (see `TracefsInodeOps::setattr`).
pub fn truncate(node: Node) -> KResult<()> {
    match node {
        Node::File(TFile::Trace) => super::ring_buffer::reset_all(),
        Node::File(TFile::SetEvent) => {
            for ev in EVENTS {
                set_enabled(ev, false)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The reader of an open `trace`.
#[derive(Default)]
struct TraceReader {
    snap: Option<TraceSnapshot>,
    delivered: u64,
}

/// The reader of an open `trace_pipe`: text consumed but not yet read.
#[derive(Default)]
struct PipeReader {
    text: TextBuf,
    read_any: bool,
}

/// Operations of every tracefs file but `trace_pipe`.
pub struct TracefsFileOps;
pub static TRACEFS_FILE_OPS: TracefsFileOps = TracefsFileOps;

impl FileOps for TracefsFileOps {
    fn open(&self, inode: &Arc<Inode>, file: &File) -> KResult<()> {
        match tfile(inode)? {
            TFile::Trace => file.set_private(Box::new(Mutex::new(TraceReader::default()))),
            _ => file.set_private(Box::new(SeqState::new())),
        }
        Ok(())
    }

    fn read(&self, file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        let f = tfile(&file.f_inode)?;
        if f == TFile::Trace {
            let reader = file.private::<Mutex<TraceReader>>().ok_or(Errno::EIO)?;
            return read_trace(&mut reader.lock(), buf, pos);
        }
        let state = file.private::<SeqState>().ok_or(Errno::EIO)?;
        state.read(buf, pos, || render(|m| show(f, m).map_err(|_| Errno::ENOMEM)))
    }

    fn write(&self, file: &File, buf: &[u8], pos: &mut u64) -> KResult<usize> {
        let f = tfile(&file.f_inode)?;
        let len = if f == TFile::SetEvent {
            set_event_write(buf)?
        } else {
            store(f, core::str::from_utf8(buf).map_err(|_| Errno::EINVAL)?)?;
            buf.len()
        };
        *pos = pos.saturating_add(len as u64);
        Ok(len)
    }

    fn llseek(&self, _file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        match whence {
            Whence::Set => u64::try_from(offset).map_err(|_| Errno::EINVAL),
            Whence::Cur => pos.checked_add_signed(offset).ok_or(Errno::EINVAL),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// `trace`: a snapshot taken at offset 0 and formatted as it is read;
/// a read elsewhere than where the last ended starts over and skips.
fn read_trace(r: &mut TraceReader, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
    if *pos == 0 || r.snap.is_none() || r.delivered != *pos {
        r.snap = Some(TraceSnapshot::take()?);
        r.delivered = 0;
        let mut scratch = [0u8; 256];
        while r.delivered < *pos {
            let want = usize::try_from(*pos - r.delivered).unwrap_or(usize::MAX).min(256);
            let n = r.snap.as_mut().ok_or(Errno::EIO)?.read(&mut scratch[..want])?;
            if n == 0 {
                return Ok(0);
            }
            r.delivered += n as u64;
        }
    }
    let n = r.snap.as_mut().ok_or(Errno::EIO)?.read(buf)?;
    r.delivered += n as u64;
    *pos = pos.saturating_add(n as u64);
    Ok(n)
}

fn event_enable_char(ev: &TraceEvent) -> char {
    if ev.is_enabled() { '1' } else { '0' }
}

/// `0`, `1` or `X` for mixed (Linux: `system_enable_read`).
fn group_enable_char<'a>(mut evs: impl Iterator<Item = &'a &'static TraceEvent>) -> char {
    let (mut on, mut off) = (false, false);
    evs.by_ref().for_each(|e| if e.is_enabled() { on = true } else { off = true });
    match (on, off) {
        (true, true) => 'X',
        (true, false) => '1',
        _ => '0',
    }
}

/// Renders a text file.
fn show(f: TFile, m: &mut SeqBuf) -> core::fmt::Result {
    match f {
        TFile::TracingOn => writeln!(m, "{}", u8::from(super::tracing_is_on())),
        TFile::AvailableEvents => {
            EVENTS.iter().try_for_each(|e| writeln!(m, "{}:{}", e.system, e.name))
        }
        TFile::SetEvent => EVENTS
            .iter()
            .filter(|e| e.is_enabled())
            .try_for_each(|e| writeln!(m, "{}:{}", e.system, e.name)),
        TFile::BufferSizeKb => super::buffer_size_text(m),
        TFile::TraceClock => writeln!(m, "[local]"),
        TFile::CurrentTracer | TFile::AvailableTracers => writeln!(m, "nop"),
        TFile::EventsEnable => writeln!(m, "{}", group_enable_char(EVENTS.iter())),
        TFile::SystemEnable(s) => {
            let sys = system_name(s).unwrap_or("");
            writeln!(m, "{}", group_enable_char(EVENTS.iter().filter(|e| e.system == sys)))
        }
        TFile::EventEnable(i) => {
            writeln!(m, "{}", EVENTS.get(i).map_or('0', |e| event_enable_char(e)))
        }
        TFile::EventId(i) => writeln!(m, "{}", EVENTS.get(i).map_or(0, |e| e.id)),
        TFile::EventFormat(i) => match EVENTS.get(i) {
            Some(ev) => write_format(ev, m),
            None => Ok(()),
        },
        TFile::Trace | TFile::TracePipe => Ok(()),
    }
}

/// A number written to a file (Linux: `kstrtoul_from_user`).
fn parse_ulong(text: &str) -> KResult<u64> {
    text.trim().parse::<u64>().map_err(|_| Errno::EINVAL)
}

/// `0` or `1` (Linux: `event_enable_write`, `system_enable_write`).
fn parse_bool(text: &str) -> KResult<bool> {
    match parse_ulong(text)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Errno::EINVAL),
    }
}

/// Takes a write.
fn store(f: TFile, text: &str) -> KResult<()> {
    match f {
        TFile::TracingOn => super::set_tracing_on(parse_ulong(text)? != 0),
        TFile::BufferSizeKb => {
            let kb = usize::try_from(parse_ulong(text)?).map_err(|_| Errno::EINVAL)?;
            super::set_buffer_size_kb(kb)?;
        }
        TFile::TraceClock if text.trim() == "local" => {}
        TFile::CurrentTracer if text.trim() == "nop" => {}
        TFile::EventsEnable => {
            let on = parse_bool(text)?;
            EVENTS.iter().try_for_each(|e| set_enabled(e, on))?;
        }
        TFile::SystemEnable(s) => {
            let (on, sys) = (parse_bool(text)?, system_name(s).ok_or(Errno::ENODEV)?);
            EVENTS.iter().filter(|e| e.system == sys).try_for_each(|e| set_enabled(e, on))?;
        }
        TFile::EventEnable(i) => {
            set_enabled(EVENTS.get(i).ok_or(Errno::ENODEV)?, parse_bool(text)?)?
        }
        // Linux: `tracing_write_stub`: `echo > trace` only truncates.
        TFile::Trace => {}
        _ => return Err(Errno::EINVAL),
    }
    Ok(())
}

/// A write to `set_event` takes one word, `!` in front to disable, and
/// returns the bytes it consumed: the word and one blank after it, or all
/// of a blank write (Linux: `ftrace_event_write` through `trace_get_user`;
/// `echo a b > set_event` writes again for `b`).
fn set_event_write(buf: &[u8]) -> KResult<usize> {
    let start = buf.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(buf.len());
    let len = buf[start..].iter().position(u8::is_ascii_whitespace).unwrap_or(buf.len() - start);
    if len == 0 {
        return Ok(buf.len());
    }
    let word = core::str::from_utf8(&buf[start..start + len]).map_err(|_| Errno::EINVAL)?;
    match word.strip_prefix('!') {
        Some(name) => set_clr_event(name, false)?,
        None => set_clr_event(word, true)?,
    }
    Ok((start + len + 1).min(buf.len()))
}

/// One `set_event` word (Linux: `ftrace_set_clr_event`): `system:event`
/// with `*` or nothing for any, or a bare name that is an event's or a
/// system's. `EINVAL` if no event matches.
fn set_clr_event(token: &str, on: bool) -> KResult<()> {
    let (matcher, sub, event) = match token.split_once(':') {
        Some((s, e)) => {
            let pick = |x: &str| -> Option<alloc::string::String> {
                (!x.is_empty() && x != "*").then(|| alloc::string::String::from(x))
            };
            (None, pick(s), pick(e))
        }
        None => (Some(token), None, None),
    };
    let mut found = false;
    for ev in EVENTS {
        let matches = matcher.is_none_or(|m| m == ev.name || m == ev.system)
            && sub.as_deref().is_none_or(|s| s == ev.system)
            && event.as_deref().is_none_or(|e| e == ev.name);
        if matches {
            set_enabled(ev, on)?;
            found = true;
        }
    }
    if found { Ok(()) } else { Err(Errno::EINVAL) }
}

/// Operations of `trace_pipe` (Linux: `tracing_pipe_fops`): not seekable.
pub struct TracePipeOps;
pub static TRACE_PIPE_OPS: TracePipeOps = TracePipeOps;

impl FileOps for TracePipeOps {
    fn open(&self, _inode: &Arc<Inode>, file: &File) -> KResult<()> {
        file.set_private(Box::new(Mutex::new(PipeReader::default())));
        super::pipe_opened();
        Ok(())
    }

    fn release(&self, file: &File) {
        if file.private::<Mutex<PipeReader>>().is_some() {
            super::pipe_closed();
        }
    }

    /// Consumes records; sleeps while there are none, until a signal,
    /// or returns EOF once something was read and tracing is off (Linux:
    /// `tracing_wait_pipe`).
    fn read(&self, file: &File, buf: &mut [u8], _pos: &mut u64) -> KResult<usize> {
        let reader = file.private::<Mutex<PipeReader>>().ok_or(Errno::EIO)?;
        let mut r = reader.lock();
        loop {
            while r.text.0.len() < buf.len() && consume_line(&mut r.text)? {}
            if !r.text.0.is_empty() {
                break;
            }
            if !super::tracing_is_on() && r.read_any {
                return Ok(0);
            }
            if file.is_nonblocking() {
                return Err(Errno::EAGAIN);
            }
            let hz = crate::kernel::time::HZ;
            crate::fs::select::wait_event_interruptible_timeout(pipe_has_data, hz)?;
        }
        let n = buf.len().min(r.text.0.len());
        buf[..n].copy_from_slice(&r.text.0[..n]);
        r.text.0.drain(..n);
        r.read_any = true;
        Ok(n)
    }

    /// Readable when a ring has records (text a short read left behind
    /// is not looked at: a sleeping reader holds it).
    fn poll(&self, _file: &File) -> PollMask {
        if pipe_has_data() { uapi::POLLIN | uapi::POLLRDNORM } else { 0 }
    }

    fn seekable(&self) -> bool {
        false
    }
}

crate::ktest!(trace_set_event_words, {
    use super::events::sched::{SCHED_SWITCH, SCHED_WAKEUP};
    let on = |ev: &TraceEvent| ev.is_enabled();
    crate::kassert!(set_event_write(b" sched:sched_switch  x") == Ok(20), "one word, one blank");
    crate::kassert!(on(&SCHED_SWITCH) && !on(&SCHED_WAKEUP), "only sched_switch");
    crate::kassert!(set_event_write(b"!sched_switch") == Ok(13), "a bare event name");
    crate::kassert!(!on(&SCHED_SWITCH), "disabled by !name");
    crate::kassert!(set_event_write(b"sched\n") == Ok(6), "a bare system name");
    crate::kassert!(on(&SCHED_SWITCH) && on(&SCHED_WAKEUP), "the whole system");
    crate::kassert!(set_event_write(b"*:sched_wakeup") == Ok(14), "any system");
    crate::kassert!(set_event_write(b"nosuch:event") == Err(Errno::EINVAL), "no match");
    crate::kassert!(set_event_write(b"  \n") == Ok(3), "blanks only");
    truncate(Node::File(TFile::SetEvent)).map_err(|_| "truncate")?;
    crate::kassert!(EVENTS.iter().all(|e| !on(e)), "O_TRUNC disables all");
    Ok(())
});

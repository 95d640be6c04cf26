//! The text of `trace` and `trace_pipe`: the header, then one line per
//! record in time order across CPUs.
//!
//! Linux: kernel/trace/trace.c (`print_trace_header`'s non-latency form
//! `print_func_help_header_irq`, `print_event_info`, `s_show`,
//! `tracing_read_pipe`, `peek_next_entry`), kernel/trace/trace_output.c
//! (`trace_print_context`, `trace_print_lat_fmt`).
//!
//! `trace` reads a snapshot: at offset 0 each ring is copied out, then
//! lines are formatted as the reader asks for them (Linux's iterator
//! stops the rings instead). `trace_pipe` consumes records one at a time.
//!
//! # Locking
//! Each ring is locked only to copy or consume; formatting runs unlocked.
#![deny(unsafe_code)]

use alloc::vec::Vec;
use core::fmt::{self, Write};

use super::events::{self, COMMON_SIZE, MAX_ENTRY, TRACE_FLAG_HARDIRQ, TRACE_FLAG_IRQS_OFF};
use super::events::{TRACE_FLAG_NEED_RESCHED, TRACE_FLAG_PREEMPT_RESCHED, rd};
use super::ring_buffer::{self, RECORD_HEADER, RecordRef, nr_tracing_cpus, parse_record};
use crate::kernel::errno::{Errno, KResult};

/// A growable text buffer that reports allocation failure.
#[derive(Default)]
pub struct TextBuf(pub Vec<u8>);

impl Write for TextBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.try_reserve(s.len()).map_err(|_| fmt::Error)?;
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// The header of `trace` (Linux: `s_show` with `print_func_help_header_irq`).
pub fn print_header(m: &mut dyn Write, entries: u64, written: u64) -> fmt::Result {
    const SP: &str = "  ";
    writeln!(m, "# tracer: nop\n#")?;
    writeln!(
        m,
        "# entries-in-buffer/entries-written: {entries}/{written}   #P:{}",
        nr_tracing_cpus()
    )?;
    writeln!(m, "#")?;
    writeln!(m, "#                            {SP}  _-----=> irqs-off/BH-disabled")?;
    writeln!(m, "#                            {SP} / _----=> need-resched")?;
    writeln!(m, "#                            {SP}| / _---=> hardirq/softirq")?;
    writeln!(m, "#                            {SP}|| / _--=> preempt-depth")?;
    writeln!(m, "#                            {SP}||| / _-=> migrate-disable")?;
    writeln!(m, "#                            {SP}|||| /     delay")?;
    writeln!(m, "#           TASK-PID  {} CPU#  |||||  TIMESTAMP  FUNCTION", &"     TGID   "[..2])?;
    writeln!(m, "#              | |    {}   |   |||||     |         |", &"       |    "[..2])
}

/// The five context letters (Linux: `trace_print_lat_fmt`).
fn lat_fmt(m: &mut dyn Write, flags: u8, preempt: u8) -> fmt::Result {
    let irqs_off = if flags & TRACE_FLAG_IRQS_OFF != 0 { 'd' } else { '.' };
    let resched =
        match (flags & TRACE_FLAG_NEED_RESCHED != 0, flags & TRACE_FLAG_PREEMPT_RESCHED != 0) {
            (true, true) => 'N',
            (true, false) => 'n',
            (false, true) => 'p',
            (false, false) => '.',
        };
    let hardsoft = if flags & TRACE_FLAG_HARDIRQ != 0 { 'h' } else { '.' };
    m.write_char(irqs_off)?;
    m.write_char(resched)?;
    m.write_char(hardsoft)?;
    match preempt & 0xf {
        0 => m.write_char('.')?,
        n => write!(m, "{n:x}")?,
    }
    match preempt >> 4 {
        0 => m.write_char('.'),
        n => write!(m, "{n:x}"),
    }
}

/// One record's line (Linux: `trace_print_context` + the event's output).
pub fn print_line(m: &mut dyn Write, cpu: usize, rec: &RecordRef<'_>) -> fmt::Result {
    let p = rec.payload;
    let [t0, t1, flags, preempt] = rd::<4>(p, 0);
    let id = u16::from_le_bytes([t0, t1]);
    let pid = events::rd_i32(p, 4);
    // Linux: `trace_find_cmdline` names PID 0 `<idle>`.
    let comm = if pid == 0 { "<idle>" } else { events::rd_str(rec.comm, 0, 16) };
    write!(m, "{comm:>16}-{pid:<7} [{cpu:03}] ")?;
    lat_fmt(m, flags, preempt)?;
    let usecs = rec.ts_ns / 1000;
    write!(m, " {:5}.{:06}: ", usecs / 1_000_000, usecs % 1_000_000)?;
    match events::find_event(id) {
        Some(ev) => {
            write!(m, "{}: ", ev.name)?;
            (ev.output)(p, m)?;
            m.write_char('\n')
        }
        None => writeln!(m, "Unknown type {id}"),
    }
}

/// The length of the record at the start of `raw`, if whole.
fn record_len(raw: &[u8]) -> Option<usize> {
    let len = usize::from(u16::from_le_bytes(rd::<2>(raw, 0)));
    (len >= RECORD_HEADER + COMMON_SIZE && len <= raw.len()).then_some(len)
}

/// A copy of every ring being read through `trace` (Linux: the
/// `trace_iterator` of a `trace` open).
pub struct TraceSnapshot {
    cpus: Vec<(Vec<u8>, usize)>,
    text: Vec<u8>,
    sent: usize,
}

impl TraceSnapshot {
    /// Copies the rings (memory first, then each ring under its lock) and
    /// renders the header.
    pub fn take() -> KResult<Self> {
        let mut cpus = Vec::new();
        cpus.try_reserve(nr_tracing_cpus()).map_err(|_| Errno::ENOMEM)?;
        let (mut entries, mut written) = (0, 0);
        for cpu in 0..nr_tracing_cpus() {
            let rb = ring_buffer::ring(cpu).ok_or(Errno::EIO)?;
            let size = rb.lock().size();
            let mut copy = Vec::new();
            copy.try_reserve_exact(size).map_err(|_| Errno::ENOMEM)?;
            let rb = rb.lock();
            rb.copy_to(&mut copy);
            let (e, w) = rb.counts();
            drop(rb);
            entries += e;
            written += w;
            cpus.push((copy, 0));
        }
        let mut text = TextBuf::default();
        print_header(&mut text, entries, written).map_err(|_| Errno::ENOMEM)?;
        Ok(Self { cpus, text: text.0, sent: 0 })
    }

    /// The CPU whose next record is the oldest (Linux: `__find_next_entry`).
    fn next_cpu(&self) -> Option<usize> {
        let ts = |(raw, at): &(Vec<u8>, usize)| {
            let rest = raw.get(*at..)?;
            record_len(rest).and_then(|n| parse_record(&rest[..n])).map(|r| r.ts_ns)
        };
        (0..self.cpus.len()).filter_map(|c| Some((ts(&self.cpus[c])?, c))).min().map(|(_, c)| c)
    }

    /// Formats the next record into the text; false at the end.
    fn render_next(&mut self) -> KResult<bool> {
        let Some(cpu) = self.next_cpu() else { return Ok(false) };
        let (raw, at) = &mut self.cpus[cpu];
        let rest = raw.get(*at..).unwrap_or(&[]);
        let Some(len) = record_len(rest) else { return Ok(false) };
        *at += len;
        let Some(rec) = parse_record(&rest[..len]) else { return Ok(true) };
        let mut out = TextBuf(core::mem::take(&mut self.text));
        let r = print_line(&mut out, cpu, &rec);
        self.text = out.0;
        r.map_err(|_| Errno::ENOMEM)?;
        Ok(true)
    }

    /// Copies the next text into `buf`; 0 at the end.
    pub fn read(&mut self, buf: &mut [u8]) -> KResult<usize> {
        while self.text.len() - self.sent < buf.len() {
            if self.sent > 0 {
                self.text.drain(..self.sent);
                self.sent = 0;
            }
            if !self.render_next()? {
                break;
            }
        }
        let n = buf.len().min(self.text.len() - self.sent);
        buf[..n].copy_from_slice(&self.text[self.sent..self.sent + n]);
        self.sent += n;
        Ok(n)
    }
}

/// Whether any ring has a record to consume.
pub fn pipe_has_data() -> bool {
    (0..nr_tracing_cpus()).any(|c| ring_buffer::ring(c).is_some_and(|rb| !rb.lock().is_empty()))
}

/// Consumes the oldest record of all rings and appends its line to `out`,
/// after a `CPU:N [LOST n EVENTS]` line if records were overwritten
/// before it (Linux: `trace_find_next_entry_inc` + `print_trace_line`).
/// Returns false when the rings are empty.
pub fn consume_line(out: &mut TextBuf) -> KResult<bool> {
    let oldest = (0..nr_tracing_cpus())
        .filter_map(|c| Some((ring_buffer::ring(c)?.lock().peek_ts()?, c)))
        .min()
        .map(|(_, c)| c);
    let Some(cpu) = oldest else { return Ok(false) };
    let mut raw = Vec::new();
    raw.try_reserve_exact(RECORD_HEADER + MAX_ENTRY).map_err(|_| Errno::ENOMEM)?;
    let lost = ring_buffer::ring(cpu).and_then(|rb| rb.lock().consume(&mut raw));
    let Some(lost) = lost else { return Ok(true) };
    if lost != 0 {
        writeln!(out, "CPU:{cpu} [LOST {lost} EVENTS]").map_err(|_| Errno::ENOMEM)?;
    }
    if let Some(rec) = parse_record(&raw) {
        print_line(out, cpu, &rec).map_err(|_| Errno::ENOMEM)?;
    }
    Ok(true)
}

crate::ktest!(trace_output_line_format, {
    let mut payload = [0u8; 64];
    payload[0..2].copy_from_slice(&events::sched::SCHED_SWITCH.id.to_le_bytes());
    payload[2] = TRACE_FLAG_IRQS_OFF;
    payload[3] = 2;
    payload[4..8].copy_from_slice(&123i32.to_le_bytes());
    payload[8..12].copy_from_slice(b"bash");
    payload[24..28].copy_from_slice(&123i32.to_le_bytes());
    payload[28..32].copy_from_slice(&120i32.to_le_bytes());
    payload[32..40].copy_from_slice(&1i64.to_le_bytes());
    payload[40..49].copy_from_slice(b"swapper/0");
    payload[60..64].copy_from_slice(&120i32.to_le_bytes());
    let mut comm = [0u8; 16];
    comm[..4].copy_from_slice(b"bash");
    let rec = RecordRef { ts_ns: 12_345_678_901, comm: &comm, payload: &payload };
    let mut out = TextBuf::default();
    print_line(&mut out, 0, &rec).map_err(|_| "fmt")?;
    let want = b"            bash-123     [000] d..2.    12.345678: sched_switch: prev_comm=bash prev_pid=123 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120\n";
    crate::kassert!(out.0 == want, "Linux's line");
    let mut head = TextBuf::default();
    print_header(&mut head, 0, 0).map_err(|_| "fmt")?;
    let head = core::str::from_utf8(&head.0).map_err(|_| "utf8")?;
    crate::kassert!(
        head.contains("\n#                                _-----=> irqs-off/BH-disabled\n"),
        "legend"
    );
    crate::kassert!(
        head.contains("\n#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"),
        "columns"
    );
    crate::kassert!(
        head.contains("\n#              | |         |   |||||     |         |\n"),
        "bars"
    );
    Ok(())
});

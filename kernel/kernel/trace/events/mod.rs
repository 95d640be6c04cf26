//! Trace events: what each one records, how its `format` file describes
//! it and how its line is printed; the registry tracefs lists.
//!
//! Linux: include/linux/trace_events.h (`struct trace_event_call`,
//! `struct trace_entry`), kernel/trace/trace_events.c (`f_show`, the
//! `enable` switches, `ftrace_set_clr_event`), include/trace/
//! trace_events.h (what `TRACE_EVENT` expands to), kernel/trace/
//! trace.c (`tracing_gen_ctx_irq_test`).
//!
//! An event is a [`TraceEvent`]: its system and name, an ID (Linux
//! numbers events as it registers them; these are the numbers Debian's
//! 6.1 gives, so that tools' expectations carry over), the
//! `enabled` switch every tracepoint site loads (one relaxed atomic load
//! when off, Linux's static key), its fields as the `format` file prints
//! them, its `print fmt`, and the function that prints a record. A site
//! builds an [`Entry`]: the common fields (type, flags, preempt count,
//! pid: Linux's `struct trace_entry`), then the event's at the offsets
//! its field table gives, then [`Entry::commit`] copies it to this CPU's
//! ring. Records are formatted only when `trace` or `trace_pipe` is read.
//!
//! # Locking
//! The switches are atomics; [`Entry::commit`] takes this CPU's ring
//! (a leaf, see ring_buffer.rs) and the writer's `comm` (a leaf).
#![deny(unsafe_code)]

pub mod block;
pub mod exceptions;
pub mod raw_syscalls;
pub mod sched;

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use super::ring_buffer;
use crate::kernel::errno::KResult;

/// A field as the `format` file prints it (Linux: `struct ftrace_event_field`).
pub struct Field {
    /// The C declaration: `pid_t prev_pid`, `char prev_comm[16]`.
    pub decl: &'static str,
    pub offset: u16,
    pub size: u16,
    pub signed: bool,
}

/// Prints a record's fields after `name: ` (Linux: the event's
/// `trace_raw_output_*`, made from `TP_printk`).
pub type OutputFn = fn(&[u8], &mut dyn fmt::Write) -> fmt::Result;

/// One event (Linux: `struct trace_event_call` with its `trace_event_class`).
pub struct TraceEvent {
    pub system: &'static str,
    pub name: &'static str,
    pub id: u16,
    pub enabled: AtomicBool,
    pub fields: &'static [Field],
    /// The `print fmt:` line of `format`, as Linux 6.1 prints it.
    pub print_fmt: &'static str,
    pub output: OutputFn,
}

impl TraceEvent {
    /// Whether the tracepoint is on: the one load a site pays.
    #[inline(always)]
    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }
}

/// Linux: `struct trace_entry`, the fields every record starts with.
pub const COMMON_FIELDS: &[Field] = &[
    Field { decl: "unsigned short common_type", offset: 0, size: 2, signed: false },
    Field { decl: "unsigned char common_flags", offset: 2, size: 1, signed: false },
    Field { decl: "unsigned char common_preempt_count", offset: 3, size: 1, signed: false },
    Field { decl: "int common_pid", offset: 4, size: 4, signed: true },
];
/// The size of the common fields.
pub const COMMON_SIZE: usize = 8;

/// `common_flags` bits (Linux: `enum trace_flag_type`).
pub const TRACE_FLAG_IRQS_OFF: u8 = 0x01;
pub const TRACE_FLAG_NEED_RESCHED: u8 = 0x04;
pub const TRACE_FLAG_HARDIRQ: u8 = 0x08;
pub const TRACE_FLAG_PREEMPT_RESCHED: u8 = 0x20;

/// Every event, in the order `available_events` lists them.
pub static EVENTS: &[&TraceEvent] = &[
    &block::BLOCK_BIO_QUEUE,
    &block::BLOCK_RQ_COMPLETE,
    &block::BLOCK_RQ_ISSUE,
    &exceptions::PAGE_FAULT_KERNEL,
    &exceptions::PAGE_FAULT_USER,
    &raw_syscalls::SYS_ENTER,
    &raw_syscalls::SYS_EXIT,
    &sched::SCHED_PROCESS_EXEC,
    &sched::SCHED_PROCESS_EXIT,
    &sched::SCHED_PROCESS_FORK,
    &sched::SCHED_SWITCH,
    &sched::SCHED_WAKEUP,
    &sched::SCHED_WAKEUP_NEW,
];

/// The event with `id` (Linux: `ftrace_find_event`).
pub fn find_event(id: u16) -> Option<&'static TraceEvent> {
    EVENTS.iter().copied().find(|e| e.id == id)
}

/// The systems, each once, in `EVENTS` order.
pub fn systems() -> impl Iterator<Item = &'static str> {
    EVENTS
        .iter()
        .enumerate()
        .filter(|(i, e)| !EVENTS[..*i].iter().any(|p| p.system == e.system))
        .map(|(_, e)| e.system)
}

/// Turns `ev` on or off (Linux: `ftrace_event_enable_disable`); the
/// first event turned on gives the rings their full size, as Linux's
/// `tracing_update_buffers` does.
pub fn set_enabled(ev: &TraceEvent, on: bool) -> KResult<()> {
    if on {
        super::expand_buffers()?;
    }
    ev.enabled.store(on, Ordering::Relaxed);
    raw_syscalls::sync_syscall_work();
    Ok(())
}

/// The largest record: the biggest event with its dynamic strings.
pub const MAX_ENTRY: usize = 192;

/// A record being filled in (Linux: the buffer `trace_event_buffer_reserve`
/// hands out).
pub struct Entry {
    buf: [u8; MAX_ENTRY],
    len: usize,
}

impl Entry {
    /// The common fields of `ev` for the current context, and `size`
    /// bytes for its own (Linux: `tracing_gen_ctx` + `tracing_generic_entry_update`).
    pub fn new(ev: &TraceEvent, size: usize) -> Self {
        let mut e = Entry { buf: [0; MAX_ENTRY], len: size.clamp(COMMON_SIZE, MAX_ENTRY) };
        let pc = crate::arch::percpu::this_cpu().preempt_count();
        let mut flags = 0;
        if crate::arch::irqflags::irqs_disabled() {
            flags |= TRACE_FLAG_IRQS_OFF;
        }
        if crate::arch::percpu::in_hardirq() {
            flags |= TRACE_FLAG_HARDIRQ;
        }
        let (pid, resched) = crate::arch::current::with_current(|t| {
            t.map_or((0, false), |t| (t.pid, t.need_resched()))
        });
        if resched {
            flags |= TRACE_FLAG_NEED_RESCHED | TRACE_FLAG_PREEMPT_RESCHED;
        }
        e.put(0, &ev.id.to_le_bytes());
        e.put(2, &[flags, (pc & 0xff) as u8]);
        e.put(4, &pid.to_le_bytes());
        e
    }

    /// Writes `bytes` at `offset`; what falls outside the entry is cut.
    pub fn put(&mut self, offset: usize, bytes: &[u8]) {
        let end = offset.saturating_add(bytes.len()).min(self.len);
        if let Some(dst) = self.buf.get_mut(offset..end) {
            dst.copy_from_slice(&bytes[..dst.len()]);
        }
    }

    /// A `char name[16]` field: the string, NUL-padded.
    pub fn put_comm(&mut self, offset: usize, comm: &[u8; 16]) {
        self.put(offset, comm);
    }

    /// A `__data_loc char[]` field: the string and its NUL appended, its
    /// place written as `len << 16 | offset` (Linux: `__assign_str`).
    pub fn put_data_loc(&mut self, offset: usize, s: &[u8]) {
        let start = self.len;
        let n = s.len().min(MAX_ENTRY.saturating_sub(start + 1));
        if let Some(dst) = self.buf.get_mut(start..start + n) {
            dst.copy_from_slice(&s[..n]);
        }
        self.len = (start + n + 1).min(MAX_ENTRY);
        // Both fit in 16 bits: the entry is `MAX_ENTRY` bytes.
        let loc = u32::try_from(((n + 1) << 16) | start).unwrap_or(0);
        self.put(offset, &loc.to_le_bytes());
    }

    /// Copies the record to this CPU's ring, if tracing is on (Linux:
    /// `trace_event_buffer_commit`).
    pub fn commit(&self) {
        if !super::tracing_is_on() {
            return;
        }
        let ts = crate::kernel::time::local_clock_ns();
        let comm = crate::arch::current::with_current(|t| t.map_or([0; 16], |t| t.comm()));
        let cpu = crate::arch::percpu::smp_processor_id();
        if let Some(rb) = ring_buffer::ring(cpu) {
            rb.lock().write(ts, &comm, &self.buf[..self.len]);
            super::note_commit();
        }
    }
}

/// Field readers for the output functions: a short record reads as zeros.
pub fn rd<const N: usize>(p: &[u8], off: usize) -> [u8; N] {
    p.get(off..off.saturating_add(N)).and_then(|s| s.try_into().ok()).unwrap_or([0; N])
}

pub fn rd_i32(p: &[u8], off: usize) -> i32 {
    i32::from_le_bytes(rd(p, off))
}

pub fn rd_u32(p: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(rd(p, off))
}

pub fn rd_u64(p: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(rd(p, off))
}

pub fn rd_i64(p: &[u8], off: usize) -> i64 {
    i64::from_le_bytes(rd(p, off))
}

/// A C string of at most `len` bytes at `off`, as text (`%s`).
pub fn rd_str(p: &[u8], off: usize, len: usize) -> &str {
    let s = p.get(off..off.saturating_add(len).min(p.len())).unwrap_or(&[]);
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    core::str::from_utf8(&s[..end]).unwrap_or("?")
}

/// A `__data_loc` string (Linux: `__get_str`).
pub fn rd_data_loc(p: &[u8], off: usize) -> &str {
    let loc = rd_u32(p, off) as usize;
    rd_str(p, loc & 0xffff, loc >> 16)
}

/// The event's `format` file (Linux: `f_show`).
pub fn write_format(ev: &TraceEvent, m: &mut dyn fmt::Write) -> fmt::Result {
    write!(m, "name: {}\nID: {}\nformat:\n", ev.name, ev.id)?;
    let field = |m: &mut dyn fmt::Write, f: &Field| {
        writeln!(
            m,
            "\tfield:{};\toffset:{};\tsize:{};\tsigned:{};",
            f.decl,
            f.offset,
            f.size,
            u8::from(f.signed)
        )
    };
    for f in COMMON_FIELDS {
        field(m, f)?;
    }
    m.write_str("\n")?;
    for f in ev.fields {
        field(m, f)?;
    }
    write!(m, "\nprint fmt: {}\n", ev.print_fmt)
}

crate::ktest!(trace_event_table_consistent, {
    for (i, ev) in EVENTS.iter().enumerate() {
        crate::kassert!(!EVENTS[..i].iter().any(|p| p.id == ev.id), "unique IDs");
        let end = ev.fields.iter().map(|f| usize::from(f.offset + f.size)).max().unwrap_or(0);
        crate::kassert!(end <= MAX_ENTRY, "fields fit an entry");
        let first = ev.fields.first().map_or(COMMON_SIZE, |f| usize::from(f.offset));
        crate::kassert!(first == COMMON_SIZE, "fields start after the common ones");
    }
    crate::kassert!(systems().count() == 4, "four systems");
    Ok(())
});

//! The scheduler's events: switches, wake-ups, fork, exec and exit.
//!
//! Linux: include/trace/events/sched.h (`sched_switch`,
//! `sched_wakeup_template`, `sched_process_fork`, `sched_process_exec`,
//! `sched_process_template`), kernel/sched/core.c where they fire.
//!
//! Each `trace_*` is inlined at its site and costs one relaxed load while
//! the event is off; the recording half is out of line.
//!
//! # Locking
//! `sched_switch` and the wake-ups fire under the run-queue lock; they
//! read a task's `sched` (inside the run queue's, as the lock order
//! allows) and its `comm` (a leaf), then write the ring (a leaf).
#![deny(unsafe_code)]

use core::fmt;
use core::sync::atomic::AtomicBool;

use super::{Entry, Field, TraceEvent, rd_data_loc, rd_i32, rd_i64, rd_str};
use crate::kernel::sched::Task;
use crate::kernel::sched::task::TASK_IDLE;

const fn field(decl: &'static str, offset: u16, size: u16, signed: bool) -> Field {
    Field { decl, offset, size, signed }
}

pub static SCHED_SWITCH: TraceEvent = TraceEvent {
    system: "sched",
    name: "sched_switch",
    id: 319,
    enabled: AtomicBool::new(false),
    fields: &[
        field("char prev_comm[16]", 8, 16, true),
        field("pid_t prev_pid", 24, 4, true),
        field("int prev_prio", 28, 4, true),
        field("long prev_state", 32, 8, true),
        field("char next_comm[16]", 40, 16, true),
        field("pid_t next_pid", 56, 4, true),
        field("int next_prio", 60, 4, true),
    ],
    print_fmt: "\"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d\", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1), \"|\", { 0x00000001, \"S\" }, { 0x00000002, \"D\" }, { 0x00000004, \"T\" }, { 0x00000008, \"t\" }, { 0x00000010, \"X\" }, { 0x00000020, \"Z\" }, { 0x00000040, \"P\" }, { 0x00000080, \"I\" }) : \"R\", REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? \"+\" : \"\", REC->next_comm, REC->next_pid, REC->next_prio",
    output: output_switch,
};

const WAKEUP_FIELDS: &[Field] = &[
    field("char comm[16]", 8, 16, true),
    field("pid_t pid", 24, 4, true),
    field("int prio", 28, 4, true),
    field("int target_cpu", 32, 4, true),
];
const WAKEUP_FMT: &str =
    "\"comm=%s pid=%d prio=%d target_cpu=%03d\", REC->comm, REC->pid, REC->prio, REC->target_cpu";

pub static SCHED_WAKEUP: TraceEvent = TraceEvent {
    system: "sched",
    name: "sched_wakeup",
    id: 321,
    enabled: AtomicBool::new(false),
    fields: WAKEUP_FIELDS,
    print_fmt: WAKEUP_FMT,
    output: output_wakeup,
};

pub static SCHED_WAKEUP_NEW: TraceEvent = TraceEvent {
    system: "sched",
    name: "sched_wakeup_new",
    id: 320,
    enabled: AtomicBool::new(false),
    fields: WAKEUP_FIELDS,
    print_fmt: WAKEUP_FMT,
    output: output_wakeup,
};

pub static SCHED_PROCESS_FORK: TraceEvent = TraceEvent {
    system: "sched",
    name: "sched_process_fork",
    id: 313,
    enabled: AtomicBool::new(false),
    fields: &[
        field("char parent_comm[16]", 8, 16, true),
        field("pid_t parent_pid", 24, 4, true),
        field("char child_comm[16]", 28, 16, true),
        field("pid_t child_pid", 44, 4, true),
    ],
    print_fmt: "\"comm=%s pid=%d child_comm=%s child_pid=%d\", REC->parent_comm, REC->parent_pid, REC->child_comm, REC->child_pid",
    output: output_fork,
};

pub static SCHED_PROCESS_EXEC: TraceEvent = TraceEvent {
    system: "sched",
    name: "sched_process_exec",
    id: 312,
    enabled: AtomicBool::new(false),
    fields: &[
        field("__data_loc char[] filename", 8, 4, true),
        field("pid_t pid", 12, 4, true),
        field("pid_t old_pid", 16, 4, true),
    ],
    print_fmt: "\"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, REC->old_pid",
    output: output_exec,
};

pub static SCHED_PROCESS_EXIT: TraceEvent = TraceEvent {
    system: "sched",
    name: "sched_process_exit",
    id: 316,
    enabled: AtomicBool::new(false),
    fields: &[
        field("char comm[16]", 8, 16, true),
        field("pid_t pid", 24, 4, true),
        field("int prio", 28, 4, true),
    ],
    print_fmt: "\"comm=%s pid=%d prio=%d\", REC->comm, REC->pid, REC->prio",
    output: output_exit,
};

/// `prev_state` as sched_switch reports it (Linux:
/// `__trace_sched_switch_state`): `TASK_REPORT_MAX` for a preempted
/// task, else one bit for the state's report index.
fn switch_state(preempt: bool, state: u32, exit_state: u32) -> i64 {
    const TASK_REPORT: u32 = 0x7f;
    const TASK_REPORT_MAX: i64 = 0x100;
    if preempt {
        return TASK_REPORT_MAX;
    }
    let mut report = (state | exit_state) & TASK_REPORT;
    if state == TASK_IDLE {
        report = 0x80;
    }
    // fls(report), then 1 << (index - 1): the highest bit set.
    if report == 0 { 0 } else { 1i64 << (31 - report.leading_zeros()) }
}

fn prio(t: &Task) -> i32 {
    t.sched.lock().prio
}

/// Linux: `trace_sched_switch(preempt, prev, next, prev_state)`.
#[inline(always)]
pub fn trace_sched_switch(preempt: bool, prev: &Task, next: &Task, prev_state: u32) {
    if SCHED_SWITCH.is_enabled() {
        record_switch(preempt, prev, next, prev_state);
    }
}

#[cold]
#[inline(never)]
fn record_switch(preempt: bool, prev: &Task, next: &Task, prev_state: u32) {
    let mut e = Entry::new(&SCHED_SWITCH, 64);
    e.put_comm(8, &prev.comm());
    e.put(24, &prev.pid.to_le_bytes());
    e.put(28, &prio(prev).to_le_bytes());
    e.put(32, &switch_state(preempt, prev_state, prev.exit_state()).to_le_bytes());
    e.put_comm(40, &next.comm());
    e.put(56, &next.pid.to_le_bytes());
    e.put(60, &prio(next).to_le_bytes());
    e.commit();
}

fn output_switch(p: &[u8], m: &mut dyn fmt::Write) -> fmt::Result {
    let state = rd_i64(p, 32);
    write!(
        m,
        "prev_comm={} prev_pid={} prev_prio={} prev_state=",
        rd_str(p, 8, 16),
        rd_i32(p, 24),
        rd_i32(p, 28)
    )?;
    const NAMES: [&str; 8] = ["S", "D", "T", "t", "X", "Z", "P", "I"];
    let bits = state & 0xff;
    if bits == 0 {
        m.write_str("R")?;
    } else {
        let mut first = true;
        for (i, name) in NAMES.iter().enumerate() {
            if bits & (1 << i) != 0 {
                m.write_str(if first { "" } else { "|" })?;
                m.write_str(name)?;
                first = false;
            }
        }
    }
    if state & 0x100 != 0 {
        m.write_str("+")?;
    }
    write!(
        m,
        " ==> next_comm={} next_pid={} next_prio={}",
        rd_str(p, 40, 16),
        rd_i32(p, 56),
        rd_i32(p, 60)
    )
}

/// Linux: `trace_sched_wakeup(p)` in `ttwu_do_wakeup`.
#[inline(always)]
pub fn trace_sched_wakeup(p: &Task) {
    if SCHED_WAKEUP.is_enabled() {
        record_wakeup(&SCHED_WAKEUP, p);
    }
}

/// Linux: `trace_sched_wakeup_new(p)` in `wake_up_new_task`.
#[inline(always)]
pub fn trace_sched_wakeup_new(p: &Task) {
    if SCHED_WAKEUP_NEW.is_enabled() {
        record_wakeup(&SCHED_WAKEUP_NEW, p);
    }
}

#[cold]
#[inline(never)]
fn record_wakeup(ev: &TraceEvent, p: &Task) {
    let mut e = Entry::new(ev, 36);
    e.put_comm(8, &p.comm());
    e.put(24, &p.pid.to_le_bytes());
    e.put(28, &prio(p).to_le_bytes());
    e.put(32, &i32::try_from(p.cpu()).unwrap_or(0).to_le_bytes());
    e.commit();
}

fn output_wakeup(p: &[u8], m: &mut dyn fmt::Write) -> fmt::Result {
    write!(
        m,
        "comm={} pid={} prio={} target_cpu={:03}",
        rd_str(p, 8, 16),
        rd_i32(p, 24),
        rd_i32(p, 28),
        rd_i32(p, 32)
    )
}

/// Linux: `trace_sched_process_fork(current, p)` in `kernel_clone`;
/// the parent is the current task.
#[inline(always)]
pub fn trace_sched_process_fork(child: &Task) {
    if SCHED_PROCESS_FORK.is_enabled() {
        record_fork(child);
    }
}

#[cold]
#[inline(never)]
fn record_fork(child: &Task) {
    let parent = crate::arch::current::with_current(|t| t.map(|t| (t.comm(), t.pid)));
    let (comm, pid) = parent.unwrap_or(([0; 16], 0));
    let mut e = Entry::new(&SCHED_PROCESS_FORK, 48);
    e.put_comm(8, &comm);
    e.put(24, &pid.to_le_bytes());
    e.put_comm(28, &child.comm());
    e.put(44, &child.pid.to_le_bytes());
    e.commit();
}

fn output_fork(p: &[u8], m: &mut dyn fmt::Write) -> fmt::Result {
    write!(
        m,
        "comm={} pid={} child_comm={} child_pid={}",
        rd_str(p, 8, 16),
        rd_i32(p, 24),
        rd_str(p, 28, 16),
        rd_i32(p, 44)
    )
}

/// Linux: `trace_sched_process_exec(current, old_pid, bprm)` in
/// `exec_binprm`: `filename` is the path exec was given.
#[inline(always)]
pub fn trace_sched_process_exec(filename: &[u8], pid: i32, old_pid: i32) {
    if SCHED_PROCESS_EXEC.is_enabled() {
        record_exec(filename, pid, old_pid);
    }
}

#[cold]
#[inline(never)]
fn record_exec(filename: &[u8], pid: i32, old_pid: i32) {
    let mut e = Entry::new(&SCHED_PROCESS_EXEC, 20);
    e.put(12, &pid.to_le_bytes());
    e.put(16, &old_pid.to_le_bytes());
    e.put_data_loc(8, filename);
    e.commit();
}

fn output_exec(p: &[u8], m: &mut dyn fmt::Write) -> fmt::Result {
    write!(m, "filename={} pid={} old_pid={}", rd_data_loc(p, 8), rd_i32(p, 12), rd_i32(p, 16))
}

/// Linux: `trace_sched_process_exit(tsk)` in `do_exit`.
#[inline(always)]
pub fn trace_sched_process_exit(t: &Task) {
    if SCHED_PROCESS_EXIT.is_enabled() {
        record_exit(t);
    }
}

#[cold]
#[inline(never)]
fn record_exit(t: &Task) {
    let mut e = Entry::new(&SCHED_PROCESS_EXIT, 32);
    e.put_comm(8, &t.comm());
    e.put(24, &t.pid.to_le_bytes());
    e.put(28, &prio(t).to_le_bytes());
    e.commit();
}

fn output_exit(p: &[u8], m: &mut dyn fmt::Write) -> fmt::Result {
    write!(m, "comm={} pid={} prio={}", rd_str(p, 8, 16), rd_i32(p, 24), rd_i32(p, 28))
}

crate::ktest!(trace_sched_switch_state_letters, {
    use crate::kernel::sched::task::{
        EXIT_ZOMBIE, TASK_INTERRUPTIBLE, TASK_RUNNING, TASK_UNINTERRUPTIBLE,
    };
    crate::kassert!(switch_state(true, TASK_INTERRUPTIBLE, 0) == 0x100, "preempted: R+");
    crate::kassert!(switch_state(false, TASK_RUNNING, 0) == 0, "running: R");
    crate::kassert!(switch_state(false, TASK_INTERRUPTIBLE, 0) == 1, "S");
    crate::kassert!(switch_state(false, TASK_UNINTERRUPTIBLE, 0) == 2, "D");
    crate::kassert!(switch_state(false, TASK_IDLE, 0) == 0x80, "I");
    crate::kassert!(switch_state(false, 0, EXIT_ZOMBIE) == 0x20, "Z");
    let mut rec = [0u8; 64];
    rec[32..40].copy_from_slice(&0x100i64.to_le_bytes());
    let mut out = alloc::string::String::new();
    output_switch(&rec, &mut out).map_err(|_| "fmt")?;
    crate::kassert!(out.contains("prev_state=R+ ==>"), "R+ printed");
    Ok(())
});

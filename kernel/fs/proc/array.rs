//! /proc/PID/stat and /proc/PID/status (Linux: fs/proc/array.c
//! `do_task_stat`, `proc_pid_status`, `task_state`, `task_mem` from
//! fs/proc/task_mmu.c, `task_sig`).
//!
//! `stat` keeps all 52 fields of Linux 6.1 in their order, so parsers
//! that count fields (procps, busybox `ps`/`top`) find each one; what
//! Ferrite does not keep (fault counts, children's times, the tty) is 0.
//! Times are in clock ticks of `USER_HZ` (100 per second).
//!
//! # Locking
//! The task's own locks (`sched`, `cred`, `comm`, `fs`, signal state) one
//! at a time; the mm's `mmap_lock` shared.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use linux_raw_sys::general as uapi;

use super::generic::SeqBuf;
use crate::fs::exec_stack::USER_HZ;
use crate::kernel::errno::KResult;
use crate::kernel::pid::{self, PidNamespace};
use crate::kernel::sched::MAX_RT_PRIO;
use crate::kernel::sched::task::{Task, comm_str};
use crate::kernel::signal::GroupSignal;
use crate::kernel::time::NSEC_PER_SEC;
use crate::mm::addr::PAGE_SIZE;
use crate::mm::vma::VmFlags;

/// Linux: `nsec_to_clock_t`.
pub const fn nsec_to_clock_t(ns: u64) -> u64 {
    ns / (NSEC_PER_SEC / USER_HZ)
}

/// What the two files read from the mm (Linux: the fields of `mm_struct`
/// and `task_mem`'s sums), in pages or addresses.
#[derive(Default)]
struct MmStats {
    total_vm: u64,
    rss: u64,
    data_vm: u64,
    stack_vm: u64,
    exec_vm: u64,
    start_code: u64,
    end_code: u64,
    start_stack: u64,
    start_data: u64,
    end_data: u64,
    start_brk: u64,
    arg_start: u64,
    arg_end: u64,
    env_start: u64,
    env_end: u64,
}

fn mm_stats(task: &Task) -> Option<MmStats> {
    let mm = task.mm.lock().clone()?;
    let l = mm.mmap_read();
    let mut s = MmStats {
        total_vm: l.total_vm,
        rss: mm.rss(),
        start_code: l.start_code,
        end_code: l.end_code,
        start_stack: l.start_stack,
        start_data: l.start_data,
        end_data: l.end_data,
        start_brk: l.start_brk,
        arg_start: l.arg_start,
        arg_end: l.arg_end,
        env_start: l.env_start,
        env_end: l.env_end,
        ..MmStats::default()
    };
    for vma in l.vmas.iter() {
        let pages = vma.len() / PAGE_SIZE as u64;
        // Linux: `vm_stat_account`'s classes.
        if vma.flags.contains(VmFlags::GROWSDOWN) {
            s.stack_vm += pages;
        } else if vma.flags.contains(VmFlags::EXEC) && !vma.flags.contains(VmFlags::WRITE) {
            s.exec_vm += pages;
        } else if vma.flags.contains(VmFlags::WRITE) && !vma.flags.contains(VmFlags::SHARED) {
            s.data_vm += pages;
        }
    }
    Some(s)
}

/// Signal masks for the two files: pending (thread, shared), blocked,
/// ignored, caught (Linux: `collect_sigign_sigcgt` and friends).
struct SigMasks {
    pending: u64,
    shared: u64,
    blocked: u64,
    ignored: u64,
    caught: u64,
}

fn sig_masks(task: &Task) -> SigMasks {
    let (pending, blocked) = {
        let s = task.sigpending.lock();
        (s.pending.signal().bits(), s.blocked.bits())
    };
    let shared =
        task.signal.get().map_or(0, |g: &Arc<GroupSignal>| g.lock().shared_pending.signal().bits());
    let sighand = task.sighand.lock().clone();
    let (mut ignored, mut caught) = (0u64, 0u64);
    for nr in 1..=64 {
        let Some(sig) = signal::Signal::new(nr) else { continue };
        match sighand.action(sig).handler {
            0 => {}
            1 => ignored |= sig.mask(),
            _ => caught |= sig.mask(),
        }
    }
    SigMasks { pending, shared, blocked, ignored, caught }
}

/// /proc/PID/stat (Linux: `proc_tgid_stat`): the process's ID and the
/// times of all its threads.
pub fn proc_tgid_stat(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    do_task_stat(task, m, true)
}

/// /proc/PID/task/TID/stat (Linux: `proc_tid_stat`): the thread's own.
pub fn proc_tid_stat(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    do_task_stat(task, m, false)
}

/// (minor, major) page faults of the thread or, for `whole`, its group,
/// and of the group's reaped children (Linux: `do_task_stat`'s
/// `min_flt`, `cmin_flt`, `maj_flt`, `cmaj_flt`).
fn task_faults(task: &Arc<Task>, whole: bool) -> ((u64, u64), (u64, u64)) {
    use core::sync::atomic::Ordering::Relaxed;
    let g = &task.thread_group().cputime;
    let own = if whole {
        crate::kernel::time::cputime::thread_group_faults(task)
    } else {
        (task.min_flt.load(Relaxed), task.maj_flt.load(Relaxed))
    };
    (own, (g.cmin_flt.load(Relaxed), g.cmaj_flt.load(Relaxed)))
}

/// Linux: `do_task_stat`.
fn do_task_stat(task: &Arc<Task>, m: &mut SeqBuf, whole: bool) -> KResult<()> {
    let (prio, rt_priority, policy, own_runtime) = {
        let s = task.sched.lock();
        (s.prio - MAX_RT_PRIO, s.rt_priority, s.policy, s.se.sum_exec_runtime)
    };
    let threads = task.threads();
    let runtime = if whole {
        threads.iter().fold(0u64, |sum, t| sum.saturating_add(t.sum_exec_runtime()))
    } else {
        own_runtime
    };
    let mm = mm_stats(task);
    let mmv = mm.unwrap_or_default();
    let sig = sig_masks(task);
    let rsslim = task.rlimit(uapi::RLIMIT_RSS as usize).cur;
    let (faults, cfaults) = task_faults(task, whole);
    let ns = m.pid_ns();
    // The controlling tty (drivers/tty/tty_io.rs): -1 for tpgid without one.
    let (tty_nr, tty_pgrp) = crate::drivers::tty::tty_io::proc_tty_nr(task.session());
    let tpgid = if tty_nr == 0 { -1 } else { tty_pgrp.map_or(0, |nr| pid::nr_to_ns(nr, &ns)) };
    m.printf(format_args!(
        "{} ({}) {} {} {} {} {} {} {} {} {} {} {} {} 0 0 0 {} {} {} 0 {} {} {} {}",
        if whole {
            pid::task_tgid_nr_ns(task, &ns)
        } else {
            pid::pid_nr_ns(pid::task_pid(task), &ns)
        },
        comm_str(&task.comm()),
        task.state_char(),
        pid::task_ppid_nr_ns(task, &ns),
        pid::pid_nr_ns(&task.task_pgrp(), &ns),
        pid::pid_nr_ns(&task.task_session(), &ns),
        tty_nr,
        tpgid,
        task.flags(),
        faults.0,
        cfaults.0,
        faults.1,
        cfaults.1,
        nsec_to_clock_t(runtime),
        prio,
        task.nice(),
        threads.len(),
        nsec_to_clock_t(task.start_time),
        mmv.total_vm * PAGE_SIZE as u64,
        mmv.rss,
        rsslim,
    ))?;
    m.printf(format_args!(
        " {} {} {} 0 0 {} {} {} {} {} 0 0 {} {} {} {} 0 0 0",
        mmv.start_code,
        mmv.end_code,
        mmv.start_stack,
        sig.pending & 0x7fff_ffff,
        sig.blocked & 0x7fff_ffff,
        sig.ignored & 0x7fff_ffff,
        sig.caught & 0x7fff_ffff,
        // Field 35, `wchan`: since Linux 5.16 only whether the task sleeps
        // (the function is in /proc/PID/wchan).
        u8::from(task.state() != crate::kernel::sched::task::TASK_RUNNING),
        task.exit_signal,
        task.cpu(),
        rt_priority,
        policy,
    ))?;
    m.printf(format_args!(
        " {} {} {} {} {} {} {} {}\n",
        mmv.start_data,
        mmv.end_data,
        mmv.start_brk,
        mmv.arg_start,
        mmv.arg_end,
        mmv.env_start,
        mmv.env_end,
        task.exit_code.load(core::sync::atomic::Ordering::Relaxed),
    ))
}

/// `State:`'s text (Linux: `task_state_array`).
fn state_name(c: char) -> &'static str {
    match c {
        'R' => "R (running)",
        'S' => "S (sleeping)",
        'D' => "D (disk sleep)",
        'T' => "T (stopped)",
        't' => "t (tracing stop)",
        'X' => "X (dead)",
        'Z' => "Z (zombie)",
        'P' => "P (parked)",
        'I' => "I (idle)",
        _ => "R (running)",
    }
}

/// The size of the descriptor table as Linux reports it (`max_fds`: a
/// multiple of 64, at least 64).
fn fd_size(task: &Task) -> u64 {
    let files = task.files.lock().clone();
    let top = files.and_then(|f| f.open_fds().last().copied()).unwrap_or(0);
    (u64::from(top.unsigned_abs()) + 1).next_multiple_of(64)
}

/// Linux: `task_state`, after `Name:`.
fn task_state(task: &Task, m: &mut SeqBuf) -> KResult<()> {
    if let Some(fs) = task.fs.lock().clone() {
        m.printf(format_args!("Umask:\t0{:03o}\n", fs.umask()))?;
    }
    let c = task.cred();
    let ns = m.pid_ns();
    let tgid = pid::task_tgid_nr_ns(task, &ns);
    let pid = pid::pid_nr_ns(pid::task_pid(task), &ns);
    m.printf(format_args!(
        "State:\t{}\nTgid:\t{tgid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{}\nTracerPid:\t0\n",
        state_name(task.state_char()),
        pid::task_ppid_nr_ns(task, &ns),
    ))?;
    m.printf(format_args!(
        "Uid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{}\nGroups:\t",
        c.uid,
        c.euid,
        c.suid,
        c.fsuid,
        c.gid,
        c.egid,
        c.sgid,
        c.fsgid,
        fd_size(task),
    ))?;
    // Linux: "%u " per supplementary group.
    for gid in task.groups().iter() {
        m.printf(format_args!("{gid} "))?;
    }
    m.puts(b"\n")?;
    ns_ids(task, &ns, m)
}

/// `NStgid:`, `NSpid:`, `NSpgid:`, `NSsid:`: each ID as every PID
/// namespace from /proc's (`ns`) down to the task's own numbers it,
/// tab-separated (Linux: the loops at the end of `task_state`).
fn ns_ids(task: &Task, ns: &PidNamespace, m: &mut SeqBuf) -> KResult<()> {
    let thread = pid::task_pid(task).clone();
    let ids = [
        ("NStgid", pid::task_tgid(task)),
        ("NSpid", thread.clone()),
        ("NSpgid", task.task_pgrp()),
        ("NSsid", task.task_session()),
    ];
    let levels = thread.numbers().get(ns.level as usize..).unwrap_or_default();
    for (name, id) in ids {
        m.printf(format_args!("{name}:"))?;
        for upid in levels {
            m.printf(format_args!("\t{}", pid::pid_nr_ns(&id, &upid.ns)))?;
        }
        m.puts(b"\n")?;
    }
    Ok(())
}

/// Linux: `task_mem`; figures in kB, right-aligned in 8 columns.
fn task_mem(s: &MmStats, m: &mut SeqBuf) -> KResult<()> {
    let kb = PAGE_SIZE as u64 / 1024;
    let lines: [(&str, u64); 16] = [
        ("VmPeak", s.total_vm),
        ("VmSize", s.total_vm),
        ("VmLck", 0),
        ("VmPin", 0),
        ("VmHWM", s.rss),
        ("VmRSS", s.rss),
        ("RssAnon", s.rss),
        ("RssFile", 0),
        ("RssShmem", 0),
        ("VmData", s.data_vm),
        ("VmStk", s.stack_vm),
        ("VmExe", s.exec_vm),
        ("VmLib", 0),
        ("VmPTE", 0),
        ("VmSwap", 0),
        ("HugetlbPages", 0),
    ];
    for (name, pages) in lines {
        m.printf(format_args!("{name}:\t{:>8} kB\n", pages * kb))?;
    }
    m.puts(b"CoreDumping:\t0\nTHP_enabled:\t1\n")
}

/// Linux: `task_sig`, `task_cap`, `task_seccomp`, `task_cpus_allowed`,
/// `task_context_switch_counts`.
fn task_sig_and_rest(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    let s = sig_masks(task);
    let sigq = task.rlimit(uapi::RLIMIT_SIGPENDING as usize).cur;
    m.printf(format_args!(
        "Threads:\t{}\nSigQ:\t0/{sigq}\nSigPnd:\t{:016x}\nShdPnd:\t{:016x}\n\
         SigBlk:\t{:016x}\nSigIgn:\t{:016x}\nSigCgt:\t{:016x}\n",
        task.threads().len(),
        s.pending,
        s.shared,
        s.blocked,
        s.ignored,
        s.caught
    ))?;
    // CAP_LAST_CAP is 40 in Linux 6.1: root holds all 41 capabilities.
    let caps: u64 = if task.cred().euid == 0 { (1 << 41) - 1 } else { 0 };
    m.printf(format_args!(
        "CapInh:\t0000000000000000\nCapPrm:\t{caps:016x}\nCapEff:\t{caps:016x}\n\
         CapBnd:\t{:016x}\nCapAmb:\t0000000000000000\n",
        (1u64 << 41) - 1
    ))?;
    let cpus = task.sched.lock().cpus_allowed;
    m.printf(format_args!(
        "NoNewPrivs:\t{}\nSeccomp:\t0\nSeccomp_filters:\t0\nCpus_allowed:\t{cpus:x}\n\
         Cpus_allowed_list:\t0\nMems_allowed:\t1\nMems_allowed_list:\t0\n",
        u8::from(task.no_new_privs.load(core::sync::atomic::Ordering::Relaxed)),
    ))?;
    m.printf(format_args!(
        "voluntary_ctxt_switches:\t{}\nnonvoluntary_ctxt_switches:\t{}\n",
        task.nvcsw.load(core::sync::atomic::Ordering::Relaxed),
        task.nivcsw.load(core::sync::atomic::Ordering::Relaxed),
    ))
}

/// /proc/PID/status (Linux: `proc_pid_status`).
pub fn proc_pid_status(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("Name:\t{}\n", comm_str(&task.comm())))?;
    task_state(task, m)?;
    if let Some(s) = mm_stats(task) {
        task_mem(&s, m)?;
    }
    task_sig_and_rest(task, m)
}

/// /proc/PID/statm: `size resident shared text lib data dt` in pages
/// (Linux: `proc_pid_statm` → `task_statm`). Ferrite does not count file
/// and shmem pages apart from the rest, so `shared` is 0, as `RssFile`
/// is in status; `lib` and `dt` are 0 in Linux 6.1 too. A kernel thread
/// shows seven zeros.
pub fn proc_pid_statm(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    let s = mm_stats(task).unwrap_or_default();
    let page = PAGE_SIZE as u64;
    let text = s.end_code.next_multiple_of(page).saturating_sub(s.start_code & !(page - 1)) / page;
    m.printf(format_args!("{} {} 0 {} 0 {} 0\n", s.total_vm, s.rss, text, s.data_vm + s.stack_vm))
}

//! Walking the kernel stack through the frame-pointer chain.
//!
//! Linux: arch/x86/kernel/unwind_frame.c, arch/x86/kernel/dumpstack.c
//! (`get_stack_info`, `show_trace_log_lvl`).
//!
//! The kernel is built with frame pointers (.cargo/config.toml), so every
//! frame starts with `[rbp] = caller's rbp, [rbp + 8] = return address`;
//! head.rs starts the chain with rbp = 0. The walker stops at rbp = 0, at a
//! misaligned rbp, at one outside this CPU's known stacks (the current
//! kernel stack and the IST stacks), or when the chain goes backwards within
//! a stack. It reads frames with `probe_read_u64`, so even a corrupt chain
//! cannot fault.
//!
//! # Locking
//! None: reads only this CPU's stacks.

use super::extable::probe_read_u64;
use super::gdt::exception_stack_of;
use super::percpu::{smp_processor_id, this_cpu};
use crate::mm::addr::VirtAddr;

/// The most frames printed: an overflowed stack holds thousands.
pub const MAX_FRAMES: usize = 48;

/// The stack `addr` is on, as `(bottom, top)` (Linux: `get_stack_info`).
pub fn get_stack_info(addr: u64) -> Option<(u64, u64)> {
    let (bottom, top) = this_cpu().current_stack();
    if bottom <= addr && addr < top {
        return Some((bottom, top));
    }
    exception_stack_of(smp_processor_id(), addr)
}

/// Iterates over the return addresses of the frame chain starting at
/// `rbp` (Linux: `unwind_start` / `unwind_next_frame`).
pub struct FrameWalker {
    rbp: u64,
    frames: usize,
    /// The one stack the chain may use, for a task that is not running
    /// here; `None`: this CPU's stacks (`get_stack_info`).
    stack: Option<(u64, u64)>,
}

impl FrameWalker {
    pub fn new(rbp: u64) -> Self {
        Self { rbp, frames: 0, stack: None }
    }

    /// Walks a switched-out task's stack `[bottom, top)` from its saved
    /// frame pointer (Linux: `unwind_start(&state, task, NULL, NULL)`).
    pub fn for_stack(rbp: u64, bottom: u64, top: u64) -> Self {
        Self { rbp, frames: 0, stack: Some((bottom, top)) }
    }

    fn stack_of(&self, addr: u64) -> Option<(u64, u64)> {
        match self.stack {
            Some((bottom, top)) => (bottom <= addr && addr < top).then_some((bottom, top)),
            None => get_stack_info(addr),
        }
    }

    /// Starts at the caller of this function.
    #[inline(always)]
    pub fn from_here() -> Self {
        Self::new(current_frame_pointer())
    }
}

impl Iterator for FrameWalker {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let rbp = self.rbp;
        if rbp == 0 || !rbp.is_multiple_of(8) || self.frames >= MAX_FRAMES {
            return None;
        }
        let (_, top) = self.stack_of(rbp)?;
        if rbp + 16 > top {
            return None;
        }
        let next = probe_read_u64(VirtAddr::new(rbp)).ok()?;
        let ret = probe_read_u64(VirtAddr::new(rbp + 8)).ok()?;
        // Within one stack frames only go up; a jump to another known stack
        // (from an IST stack back to the task stack) is allowed.
        let same_stack = self.stack_of(next) == self.stack_of(rbp);
        self.rbp = if next != 0 && same_stack && next <= rbp { 0 } else { next };
        self.frames += 1;
        // The first frame (head.rs) returns into the identity-mapped
        // copy of the boot code: the chain's end, as far as a reader cares.
        let text = super::sections::text();
        (text.start < ret && ret <= text.end).then_some(ret)
    }
}

/// Fills `out` with the return addresses on `task`'s kernel stack,
/// innermost first, and returns how many (Linux: `stack_trace_save_tsk`):
/// from here for the running task, from its switch frame for one that is
/// switched out, none for one running on another CPU. A task woken while
/// this walks gives a stale but harmless trace: every read is bounded by
/// its stack and cannot fault.
pub fn stack_trace_save_tsk(task: &crate::kernel::sched::Task, out: &mut [u64]) -> usize {
    let mut n = 0;
    let mut push = |ret: u64| {
        if let Some(slot) = out.get_mut(n) {
            *slot = ret;
            n += 1;
        }
    };
    let is_current = super::current::with_current(|c| c.is_some_and(|c| core::ptr::eq(c, task)));
    if is_current {
        FrameWalker::from_here().for_each(&mut push);
    } else if !task.on_cpu.load(core::sync::atomic::Ordering::Acquire)
        && let Some((rbp, ret)) = task.thread.inactive_frame()
    {
        let text = super::sections::text();
        if text.start < ret && ret <= text.end {
            push(ret);
        }
        let (bottom, top) = task.thread.stack();
        FrameWalker::for_stack(rbp, bottom, top).for_each(&mut push);
    }
    n
}

/// This function's caller's frame pointer.
#[inline(always)]
pub fn current_frame_pointer() -> u64 {
    let rbp: u64;
    // SAFETY: reading rbp has no side effects.
    unsafe {
        core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags))
    };
    rbp
}

crate::ktest!(stacktrace_walks_to_start_kernel, {
    let mut depth = 0;
    let mut saw_origin = false;
    for ret in FrameWalker::from_here() {
        depth += 1;
        let name = crate::kernel::kallsyms::lookup(ret).map_or("", |(name, _, _)| name);
        // The boot stack starts in start_kernel; a task's (self-tests run
        // in PID 1) in ret_from_fork.
        saw_origin |= name == "ferrite::init::main::start_kernel" || name == "ret_from_fork";
    }
    crate::kassert!(depth >= 2, "the chain reaches the stack's first frame");
    if crate::kernel::kallsyms::nr_symbols() > 0 {
        crate::kassert!(saw_origin, "start_kernel or ret_from_fork is on the way up");
    }
    Ok(())
});

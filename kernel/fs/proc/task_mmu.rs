//! /proc/PID/maps: the address space's areas, one line each (Linux:
//! fs/proc/task_mmu.c `show_map_vma`, `show_vma_header_prefix`).
//!
//! `start-end perms offset dev inode`, then, padded to column 73, a name:
//! `[heap]` for the brk area, `[stack]` for the area holding the initial
//! stack, `/dev/zero (deleted)` for shared anonymous memory. Ferrite's
//! VMAs are all anonymous (programs are copied in at exec), so device and
//! inode are 0.
//!
//! # Locking
//! The mm's `mmap_lock` shared while the lines are rendered.
#![deny(unsafe_code)]

use alloc::sync::Arc;

use super::generic::SeqBuf;
use crate::kernel::errno::KResult;
use crate::kernel::sched::Task;
use crate::mm::addr::PAGE_SHIFT;
use crate::mm::vma::{VmFlags, Vma};

/// Where a named line's name starts (Linux: `25 + sizeof(void *) * 6`).
const NAME_COLUMN: usize = 73;

/// The bracketed name Linux gives an anonymous area, if any.
fn vma_name(vma: &Vma, start_brk: u64, brk: u64, start_stack: u64) -> Option<&'static str> {
    if vma.shmem.is_some() {
        Some("/dev/zero (deleted)")
    } else if vma.start <= brk && vma.end >= start_brk && brk > start_brk {
        Some("[heap]")
    } else if vma.start <= start_stack && start_stack <= vma.end {
        Some("[stack]")
    } else {
        None
    }
}

/// Linux: `show_map` for every VMA.
pub fn show_maps(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    let Some(mm) = task.mm.lock().clone() else { return Ok(()) };
    let layout = mm.mmap_read();
    for vma in layout.vmas.iter() {
        let line_start = m.buf.len();
        let f = vma.flags;
        let bit = |flag: VmFlags, c: char| if f.contains(flag) { c } else { '-' };
        m.printf(format_args!(
            "{:08x}-{:08x} {}{}{}{} {:08x} 00:00 0 ",
            vma.start,
            vma.end,
            bit(VmFlags::READ, 'r'),
            bit(VmFlags::WRITE, 'w'),
            bit(VmFlags::EXEC, 'x'),
            if f.contains(VmFlags::MAYSHARE) { 's' } else { 'p' },
            vma.pgoff << PAGE_SHIFT,
        ))?;
        if let Some(name) = vma_name(vma, layout.start_brk, layout.brk, layout.start_stack) {
            let used = m.buf.len() - line_start;
            for _ in used..NAME_COLUMN {
                m.puts(b" ")?;
            }
            m.puts(name.as_bytes())?;
        }
        m.puts(b"\n")?;
    }
    Ok(())
}

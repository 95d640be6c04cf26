//! /proc/PID/maps: the address space's areas, one line each (Linux:
//! fs/proc/task_mmu.c `show_map_vma`, `show_vma_header_prefix`).
//!
//! `start-end perms offset dev inode`, then, padded to column 73, a name:
//! a file mapping's path (as the reader's root sees it) with the file's
//! device and inode number, `[heap]` for the brk area, `[stack]` for the
//! area holding the initial stack, `/dev/zero (deleted)` for shared
//! anonymous memory; anonymous areas show device and inode 0.
//!
//! # Locking
//! The mm's `mmap_lock` shared while the areas are copied out; the lines
//! are rendered after it is dropped, since a path walk takes VFS locks.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::base::reader_root;
use super::generic::SeqBuf;
use crate::fs::d_path::d_path;
use crate::fs::file_table::File;
use crate::fs::inode::DevT;
use crate::fs::namespace::Path;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::sched::Task;
use crate::mm::addr::PAGE_SHIFT;
use crate::mm::vma::{VmFlags, Vma};

/// Where a named line's name starts (Linux: `25 + sizeof(void *) * 6`).
const NAME_COLUMN: usize = 73;

/// The bracketed name Linux gives an anonymous area, if any.
pub(super) fn vma_name(
    vma: &Vma,
    start_brk: u64,
    brk: u64,
    start_stack: u64,
) -> Option<&'static str> {
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

/// One line's worth of a VMA, copied out under `mmap_lock`.
pub(super) struct MapLine {
    pub start: u64,
    pub end: u64,
    pub flags: VmFlags,
    pub pgoff: u64,
    pub file: Option<Arc<File>>,
    pub name: Option<&'static str>,
}

/// Linux: `show_map` for every VMA.
pub fn show_maps(task: &Arc<Task>, m: &mut SeqBuf) -> KResult<()> {
    let Some(mm) = task.mm.lock().clone() else { return Ok(()) };
    let mut lines = Vec::new();
    {
        let layout = mm.mmap_read();
        lines.try_reserve(layout.vmas.len()).map_err(|_| Errno::ENOMEM)?;
        for vma in layout.vmas.iter() {
            let name = vma_name(vma, layout.start_brk, layout.brk, layout.start_stack);
            let (start, end, flags, pgoff) = (vma.start, vma.end, vma.flags, vma.pgoff);
            lines.push(MapLine { start, end, flags, pgoff, file: vma.file.clone(), name });
        }
    }
    let root = reader_root(task)?;
    for line in &lines {
        show_map_vma(m, line, &root)?;
    }
    Ok(())
}

/// Linux: `show_map_vma`.
pub(super) fn show_map_vma(m: &mut SeqBuf, vma: &MapLine, root: &Path) -> KResult<()> {
    let line_start = m.buf.len();
    let f = vma.flags;
    let bit = |flag: VmFlags, c: char| if f.contains(flag) { c } else { '-' };
    let (dev, ino) = match &vma.file {
        Some(file) => (file.f_inode.sb.s_dev, file.f_inode.ino),
        None => (DevT(0), 0),
    };
    m.printf(format_args!(
        "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ",
        vma.start,
        vma.end,
        bit(VmFlags::READ, 'r'),
        bit(VmFlags::WRITE, 'w'),
        bit(VmFlags::EXEC, 'x'),
        if f.contains(VmFlags::MAYSHARE) { 's' } else { 'p' },
        vma.pgoff << PAGE_SHIFT,
        dev.major(),
        dev.minor(),
        ino,
    ))?;
    let path = match &vma.file {
        Some(file) => Some(d_path(&file.f_path, root)?),
        None => vma.name.map(|n| n.as_bytes().to_vec()),
    };
    if let Some(name) = path {
        let used = m.buf.len() - line_start;
        for _ in used..NAME_COLUMN {
            m.puts(b" ")?;
        }
        m.puts(&name)?;
    }
    m.puts(b"\n")
}

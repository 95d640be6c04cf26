//! `/dev/vcs*` and `/dev/vcsa*`: the consoles' screens as files.
//!
//! Linux: drivers/tty/vt/vc_screen.c (`vcs_read`, `vcs_size`, `vcs_lseek`,
//! `vcs_init`).
//!
//! Major 7: minor N (1..63) is console N's text, one glyph byte per cell,
//! row after row with no line ends; minor 128 + N is the same with
//! attributes, after a 4-byte header (rows, columns, cursor column, cursor
//! row), each cell its glyph then its attribute. Minors 0 and 128 are the
//! console in front. A console that is not allocated opens (and, freed
//! since, reads) as `ENXIO`.
//! Ferrite's files are read-only (Linux also writes the screen through
//! them) and there is no `vcsu` (the Unicode view, minors 64..127).
//!
//! # Locking
//! vt.rs's `CONSOLES`, while the cells are copied out.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::screen::{COLS, ROWS};
use super::vt::CONSOLES;
use crate::fs::char_dev::register_chrdev_region;
use crate::fs::file_table::{File, FileOps, Whence};
use crate::fs::inode::{DevT, Inode};
use crate::fs::read_write::generic_file_llseek;
use crate::kernel::errno::{Errno, KResult};

/// Linux: `VCS_MAJOR`.
pub const VCS_MAJOR: u32 = 7;
/// The attribute view's first minor (Linux: `minor & 128`).
const VCSA_MINOR: u32 = 128;
const HEADER_SIZE: usize = 4;

/// Which console and which view a file is (Linux: `vcs_vc`, `use_attributes`).
fn vcs_target(file: &File) -> (Option<usize>, bool) {
    let minor = file.f_inode.attr().rdev.minor();
    let attr = minor & VCSA_MINOR != 0;
    let n = (minor & 63) as usize;
    (n.checked_sub(1), attr)
}

/// Linux: `vcs_size`.
fn vcs_size(attr: bool) -> u64 {
    let cells = (COLS * ROWS) as u64;
    if attr { HEADER_SIZE as u64 + 2 * cells } else { cells }
}

/// The file's bytes now (Linux: the loop of `vcs_read`).
fn vcs_contents(console: Option<usize>, attr: bool) -> KResult<Vec<u8>> {
    let mut c = CONSOLES.lock();
    let i = console.unwrap_or(c.fg_console);
    let vc = c.vc(i).ok_or(Errno::ENXIO)?;
    let cells = vc.screen.cells();
    let mut out = Vec::new();
    out.try_reserve_exact(usize::try_from(vcs_size(attr)).unwrap_or(0))
        .map_err(|_| Errno::ENOMEM)?;
    if attr {
        let cursor = vc.screen.cursor();
        let b = |n: usize| u8::try_from(n).unwrap_or(u8::MAX);
        out.extend_from_slice(&[b(ROWS), b(COLS), b(cursor % COLS), b(cursor / COLS)]);
        cells.iter().for_each(|&c| out.extend_from_slice(&c.to_le_bytes()));
    } else {
        out.extend(cells.iter().map(|&c| (c & 0xff) as u8));
    }
    Ok(out)
}

/// The file operations of major 7 (Linux: `vcs_fops`).
struct VcsFops;

impl FileOps for VcsFops {
    /// Linux: `vcs_open`: a console that does not exist cannot be opened.
    fn open(&self, inode: &Arc<Inode>, _file: &File) -> KResult<()> {
        let minor = inode.attr().rdev.minor();
        match ((minor & 63) as usize).checked_sub(1) {
            Some(i) if !CONSOLES.lock().is_allocated(i) => Err(Errno::ENXIO),
            _ => Ok(()),
        }
    }

    fn read(&self, file: &File, buf: &mut [u8], pos: &mut u64) -> KResult<usize> {
        let (console, attr) = vcs_target(file);
        let data = vcs_contents(console, attr)?;
        let start = usize::try_from(*pos).unwrap_or(usize::MAX).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        *pos += n as u64;
        Ok(n)
    }

    fn llseek(&self, file: &File, pos: u64, offset: i64, whence: Whence) -> KResult<u64> {
        let (_, attr) = vcs_target(file);
        generic_file_llseek(pos, vcs_size(attr), offset, whence)
    }
}

static VCS_FOPS: VcsFops = VcsFops;

/// Registers major 7's text and attribute views (Linux: `vcs_init`).
pub fn vcs_init() -> KResult<()> {
    register_chrdev_region(DevT::new(VCS_MAJOR, 0), 64, "vcs", &VCS_FOPS)?;
    register_chrdev_region(DevT::new(VCS_MAJOR, VCSA_MINOR), 64, "vcs", &VCS_FOPS)
}

//! /proc/devices: the registered character and block majors (Linux:
//! fs/proc/devices.c `devinfo_show`, fs/char_dev.c `chrdev_show`,
//! block/genhd.c `blkdev_show`).
//!
//! Character majors come from the char-device regions (fs/char_dev.rs),
//! one line per major and name, by major. The one block driver Ferrite
//! has, virtio-blk, holds its major from boot as Linux's `virtblk` does
//! from `register_blkdev` at module init.
//!
//! # Locking
//! `CHRDEVS`, briefly, inside `chrdevs`.
#![deny(unsafe_code)]

use super::generic::SeqBuf;
use crate::drivers::block::loop_dev::LOOP_MAJOR;
use crate::drivers::block::virtio_blk::VIRTBLK_MAJOR;
use crate::drivers::char::mem::MEM_MAJOR;
use crate::fs::char_dev::chrdevs;
use crate::kernel::errno::KResult;

/// Linux: `devinfo_show` over both tables, `%3d %s` per line.
pub fn devinfo_show(m: &mut SeqBuf) -> KResult<()> {
    let mut chr = chrdevs();
    for (major, name) in chr.iter_mut() {
        // Linux registers the memory devices' major whole, as "mem"
        // (`chr_dev_init`); Ferrite's regions are one per minor.
        if *major == MEM_MAJOR {
            *name = "mem";
        }
    }
    chr.sort_by_key(|&(major, _)| major);
    chr.dedup();
    m.puts(b"Character devices:\n")?;
    for (major, name) in chr {
        m.printf(format_args!("{major:>3} {name}\n"))?;
    }
    m.printf(format_args!("\nBlock devices:\n{LOOP_MAJOR:>3} loop\n{VIRTBLK_MAJOR:>3} virtblk\n"))
}

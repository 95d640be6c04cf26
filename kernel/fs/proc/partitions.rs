//! /proc/partitions (every disk and partition with its size in 1 KiB
//! blocks) and /proc/diskstats (their I/O counters), from the block
//! layer's device list.
//!
//! Linux: block/genhd.c (`show_partition`, `partitions_op`,
//! `diskstats_show`).
//!
//! # Locking
//! The device list is copied under its leaf lock (`all_bdevs`), then
//! formatted without it.
#![deny(unsafe_code)]

use super::generic::SeqBuf;
use crate::block::genhd::all_bdevs;
use crate::kernel::errno::KResult;

/// Linux: `show_partition`, with the header of `show_partition_start`;
/// empty devices are left out, as Linux does.
pub fn show_partition(m: &mut SeqBuf) -> KResult<()> {
    m.printf(format_args!("major minor  #blocks  name\n\n"))?;
    for entry in all_bdevs() {
        let dev = &entry.bdev;
        let sectors = dev.capacity();
        if sectors == 0 {
            continue;
        }
        let devt = dev.devt();
        m.printf(format_args!(
            "{:4}  {:7} {:10} {}\n",
            devt.major(),
            devt.minor(),
            sectors >> 1,
            dev.disk_name()
        ))?;
    }
    Ok(())
}

/// Linux: `diskstats_show`: 20 fields, times in milliseconds; discards
/// are not counted yet, so their four fields are 0.
pub fn diskstats_show(m: &mut SeqBuf) -> KResult<()> {
    for entry in all_bdevs() {
        let dev = &entry.bdev;
        let devt = dev.devt();
        let s = dev.stats().map(|s| s.snapshot()).unwrap_or_default();
        m.printf(format_args!("{:4} {:7} {}", devt.major(), devt.minor(), dev.disk_name()))?;
        for field in s.iostat_fields() {
            m.printf(format_args!(" {field}"))?;
        }
        m.puts(b"\n")?;
    }
    Ok(())
}

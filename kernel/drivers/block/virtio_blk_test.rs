//! Self-tests of virtio-blk against the scratch disk `cargo xtask test`
//! attaches to the ktest boot (xtask/src/test.rs, `write_ktest_disk`):
//! 2048 sectors, byte `j` of sector `s` being `(s * 31 + j) % 251`, but for
//! a DOS partition table over bytes 446..512 of sector 0.
//! Booted without a disk (by hand), the tests say so and pass; the
//! xtask run separately checks that the disk was probed.

use alloc::vec;
use alloc::vec::Vec;

use super::virtio_blk::virtblk_stats;
use super::virtio_blk_rq::NR_SLOTS;
use crate::block::{BlockDevice, SECTOR_SIZE, get_disk};
use crate::kernel::errno::Errno;
use crate::pr_info;

const KTEST_DISK_SECTORS: u64 = 2048;

/// What xtask wrote at byte `j` of sector `s`.
pub(crate) fn pattern(sector: u64, j: usize) -> u8 {
    let value = (sector * 31 + j as u64) % 251;
    u8::try_from(value).unwrap_or(0)
}

/// Whether `buf`, read from sector `lba` on, holds xtask's pattern.
pub(crate) fn holds_pattern(lba: u64, buf: &[u8]) -> bool {
    buf.chunks(SECTOR_SIZE)
        .zip(lba..)
        .all(|(sector, s)| sector.iter().enumerate().all(|(j, &b)| b == pattern(s, j)))
}

/// The scratch disk, or `None` (after saying so) when booted without it.
fn scratch_disk() -> Option<alloc::sync::Arc<dyn BlockDevice>> {
    let disk = get_disk("vda");
    if disk.is_none() {
        pr_info!("ktest: no vda attached; virtio_blk test skipped");
    }
    disk
}

crate::ktest!(virtio_blk_capacity, {
    let Some(disk) = scratch_disk() else { return Ok(()) };
    crate::kassert!(disk.capacity() == KTEST_DISK_SECTORS, "capacity from the config space");
    crate::kassert!(!disk.read_only(), "the scratch disk is writable");
    Ok(())
});

crate::ktest!(virtio_blk_reads_pattern, {
    let Some(disk) = scratch_disk() else { return Ok(()) };
    let mut sector = [0u8; SECTOR_SIZE];
    crate::kassert!(disk.read_blocks(1, &mut sector).is_ok(), "read sector 1");
    crate::kassert!(holds_pattern(1, &sector), "sector 1 holds the pattern");
    crate::kassert!(disk.read_blocks(1000, &mut sector).is_ok(), "read sector 1000");
    crate::kassert!(holds_pattern(1000, &sector), "sector 1000 holds the pattern");
    // 80 sectors: more than one bounce buffer, so two requests.
    let mut big: Vec<u8> = vec![0; 80 * SECTOR_SIZE];
    crate::kassert!(disk.read_blocks(100, &mut big).is_ok(), "read 80 sectors");
    crate::kassert!(holds_pattern(100, &big), "sectors 100-179 hold the pattern");
    Ok(())
});

crate::ktest!(virtio_blk_write_read_back, {
    let Some(disk) = scratch_disk() else { return Ok(()) };
    let lba = KTEST_DISK_SECTORS - 2;
    let written: Vec<u8> = (0..2 * SECTOR_SIZE).map(|i| i.to_le_bytes()[0] ^ 0xa5).collect();
    crate::kassert!(disk.write_blocks(lba, &written).is_ok(), "write the last two sectors");
    let mut back = vec![0u8; 2 * SECTOR_SIZE];
    crate::kassert!(disk.read_blocks(lba, &mut back).is_ok(), "read them back");
    crate::kassert!(back == written, "what was written is read back");
    let mut before = [0u8; SECTOR_SIZE];
    crate::kassert!(disk.read_blocks(lba - 1, &mut before).is_ok(), "read the sector before");
    crate::kassert!(holds_pattern(lba - 1, &before), "the write stayed in its sectors");
    Ok(())
});

crate::ktest!(virtio_blk_out_of_range, {
    let Some(disk) = scratch_disk() else { return Ok(()) };
    let mut two = [0u8; 2 * SECTOR_SIZE];
    let end = KTEST_DISK_SECTORS;
    crate::kassert!(
        disk.read_blocks(end, &mut two[..SECTOR_SIZE]) == Err(Errno::EIO),
        "at the end"
    );
    crate::kassert!(disk.read_blocks(end - 1, &mut two) == Err(Errno::EIO), "across the end");
    crate::kassert!(disk.write_blocks(u64::MAX, &two) == Err(Errno::EIO), "lba overflow");
    crate::kassert!(disk.read_blocks(0, &mut two[..100]) == Err(Errno::EINVAL), "part of a sector");
    crate::kassert!(disk.read_blocks(1, &mut two).is_ok(), "the disk still works after");
    crate::kassert!(holds_pattern(1, &two), "and reads the pattern");
    Ok(())
});

/// The `/proc/interrupts` count of the "virtio_blk" vector.
fn irq_count() -> u64 {
    let mut count = 0;
    crate::kernel::irq::for_each_action(|_, name, n| {
        if name == "virtio_blk" {
            count = n;
        }
    });
    count
}

crate::ktest!(virtio_blk_many_in_flight_by_interrupt, {
    let Some(disk) = scratch_disk() else { return Ok(()) };
    let (irqs_before, _) = virtblk_stats("vda").ok_or("vda has no statistics")?;
    let vector_before = irq_count();
    // 256 KiB: eight 32 KiB requests, queued together.
    let mut big: Vec<u8> = vec![0; 512 * SECTOR_SIZE];
    crate::kassert!(disk.read_blocks(1, &mut big).is_ok(), "read 512 sectors");
    crate::kassert!(holds_pattern(1, &big), "sectors 1-512 hold the pattern");
    let (irqs, max_in_flight) = virtblk_stats("vda").ok_or("vda has no statistics")?;
    crate::kassert!(max_in_flight > 1 && max_in_flight <= NR_SLOTS, "several in flight");
    crate::kassert!(irqs > irqs_before, "completions came by interrupt");
    crate::kassert!(irq_count() > vector_before, "the vector's count grew");
    Ok(())
});

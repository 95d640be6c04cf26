//! Self-tests of partitions against the ktest scratch disk
//! (xtask/src/test.rs `write_ktest_disk`): a DOS table with vda1 =
//! sectors 64..1024 and vda2 = 1024..2048 over the virtio_blk pattern.
//! Booted without a disk, the tests say so and pass.

use alloc::vec;

use crate::block::{SECTOR_SIZE, get_disk, get_disk_by_devt};
use crate::drivers::block::virtio_blk_test::holds_pattern;
use crate::fs::inode::DevT;
use crate::kernel::errno::Errno;
use crate::pr_info;

/// Whether the scratch disk is there (after saying so when not).
fn have_disk() -> bool {
    let there = get_disk("vda").is_some();
    if !there {
        pr_info!("ktest: no vda attached; partition test skipped");
    }
    there
}

crate::ktest!(partitions_msdos_of_ktest_disk, {
    if !have_disk() {
        return Ok(());
    }
    let vda1 = get_disk("vda1").ok_or("vda1 was not found")?;
    let vda2 = get_disk("vda2").ok_or("vda2 was not found")?;
    crate::kassert!(get_disk("vda3").is_none(), "no third partition");
    crate::kassert!(vda1.capacity() == 960 && vda2.capacity() == 1024, "sizes from the table");
    crate::kassert!(vda1.devt() == DevT::new(254, 1), "vda1 is 254:1");
    let by_devt = get_disk_by_devt(DevT::new(254, 2)).ok_or("254:2 was not found")?;
    crate::kassert!(by_devt.disk_name() == "vda2", "254:2 is vda2");
    crate::kassert!(get_disk_by_devt(DevT::new(254, 3)).is_none(), "254:3 is nobody");
    Ok(())
});

crate::ktest!(partitions_io_is_offset_and_bounded, {
    if !have_disk() {
        return Ok(());
    }
    let vda1 = get_disk("vda1").ok_or("vda1 was not found")?;
    let vda2 = get_disk("vda2").ok_or("vda2 was not found")?;
    let mut two = vec![0u8; 2 * SECTOR_SIZE];
    crate::kassert!(vda1.read_blocks(0, &mut two).is_ok(), "read vda1's first sectors");
    crate::kassert!(holds_pattern(64, &two), "vda1 sector 0 is disk sector 64");
    // Not its last two sectors: virtio_blk_write_read_back writes there.
    crate::kassert!(vda2.read_blocks(1000, &mut two).is_ok(), "read vda2's sectors 1000-1001");
    crate::kassert!(holds_pattern(2024, &two), "vda2 sector 1000 is disk sector 2024");
    crate::kassert!(vda1.read_blocks(959, &mut two) == Err(Errno::EIO), "across vda1's end");
    crate::kassert!(vda1.read_blocks(960, &mut two[..512]) == Err(Errno::EIO), "at vda1's end");
    crate::kassert!(vda2.write_blocks(u64::MAX, &two) == Err(Errno::EIO), "lba overflow");
    Ok(())
});

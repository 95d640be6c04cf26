//! FITRIM's walk over mke2fs images: the extents handed to the discard are
//! exactly the free blocks (zeroing them leaves `e2fsck -fn` clean and the
//! files intact), a second walk finds nothing until a block is freed, and
//! the byte range is checked and clamped as ext4's `ext4_trim_fs` does.

mod common;

use common::*;
use ext2::{Creds, Error, Ext2, ROOT_INO, TrimRange};

const C: Creds = Creds { uid: 0, gid: 0, now: NOW };

/// Walks every group of `r`, as the kernel does, zeroing what is discarded
/// in `dev`; returns the extents.
fn trim(fs: &mut Ext2<MemDev>, dev: &MemDev, r: TrimRange) -> Vec<(u32, u32)> {
    let bs = fs.block_size() as usize;
    let mut extents = Vec::new();
    for g in r.first_group..=r.last_group {
        let from = if g == r.first_group { r.first_offset } else { 0 };
        let to = if g == r.last_group { r.last_offset } else { u32::MAX };
        let mut discard = |b: u32, n: u32| {
            let mut d = dev.data.borrow_mut();
            d[b as usize * bs..(b + n) as usize * bs].fill(0);
            extents.push((b, n));
            Ok(())
        };
        fs.trim_group(g, from, to, r.minlen, &mut discard).expect("trim group");
    }
    fs.trim_done(r.minlen);
    extents
}

fn total(extents: &[(u32, u32)]) -> u64 {
    extents.iter().map(|&(_, n)| u64::from(n)).sum()
}

/// A FITRIM of everything with minlen 0 on a disk of 512-byte granularity.
fn trim_all(fs: &mut Ext2<MemDev>, dev: &MemDev) -> Vec<(u32, u32)> {
    let r = fs.trim_range(0, u64::MAX, 0, 512).expect("range").expect("something to trim");
    trim(fs, dev, r)
}

fn exercise(bs: u32) {
    let work = scratch(&format!("trim-{bs}"));
    // Three groups or more at any block size.
    let img = mkfs(&work, None, bs, 8 * bs * 3 + 512, &[]);
    let (mut fs, dev) = mount(img, false);
    let data: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let ino = fs.create(ROOT_INO, b"f", 0o100644, (0, 0), C).expect("create");
    let mut inode = fs.read_inode(ino).expect("inode");
    fs.write_data(&mut inode, 0, &data).expect("write");
    assert!(fs.groups_count() >= 3, "want several groups");

    let free = u64::from(fs.statfs().blocks_free);
    let first = trim_all(&mut fs, &dev);
    assert_eq!(total(&first), free, "every free block, once");
    // The discarded blocks really were free: zeroed, nothing is lost.
    assert_eq!(read_all(&mut fs, ino), data, "file intact after trim");
    assert_clean(&work, &dev.snapshot());

    assert!(trim_all(&mut fs, &dev).is_empty(), "second trim finds nothing");

    let gone = fs.unlink(ROOT_INO, b"f", NOW).expect("unlink");
    assert!(fs.evict(gone.ino, NOW).expect("evict"));
    let freed = u64::from(fs.statfs().blocks_free) - free;
    let again = trim_all(&mut fs, &dev);
    assert!(total(&again) >= freed, "the freed blocks' groups are walked again");
    fs.sync_super(NOW).expect("sync");
    assert_clean(&work, &dev.snapshot());

    // A smaller minlen walks trimmed groups again.
    let big = fs.trim_range(0, u64::MAX, 64 * u64::from(bs), 0).expect("ok").expect("some");
    assert_eq!(big.minlen, 64);
    trim(&mut fs, &dev, big);
    assert!(!trim_all(&mut fs, &dev).is_empty(), "minlen 1 after minlen 64");
}

#[test]
fn trim_walks_the_free_blocks_1k() {
    exercise(1024);
}

#[test]
fn trim_walks_the_free_blocks_4k() {
    exercise(4096);
}

#[test]
fn trim_range_checks_and_clamps_like_ext4() {
    let work = scratch("trim-range");
    let img = mkfs(&work, None, 1024, 20 * 1024, &[]);
    let (fs, _dev) = mount(img, false);
    let bpg = 8192u64;
    assert_eq!(fs.trim_range(0, 1023, 0, 0), Err(Error::Invalid), "len under a block");
    assert_eq!(fs.trim_range(20 * 1024 * 1024, 4096, 0, 0), Err(Error::Invalid), "past the end");
    assert_eq!(fs.trim_range(0, 4096, (bpg + 1) * 1024, 0), Err(Error::Invalid), "minlen > group");
    // Ends in the first data block (block 1 with 1 KiB blocks): nothing.
    assert_eq!(fs.trim_range(0, 2048, 0, 0), Ok(None));
    // A granularity past a group: nothing, not an error.
    assert_eq!(fs.trim_range(0, u64::MAX, 0, (bpg + 1) * 1024), Ok(None));
    let r = fs.trim_range(0, u64::MAX, 0, 4096).expect("ok").expect("some");
    assert_eq!(r.minlen, 4, "granularity raises minlen");
    assert_eq!((r.first_group, r.first_offset), (0, 0), "starts at the first data block");
    assert_eq!((r.last_group, r.last_offset), (2, 20 * 1024 - 1 - 1 - 2 * 8192), "clamped");
    let r = fs.trim_range(8193 * 1024, 10 * 1024, 0, 0).expect("ok").expect("some");
    assert_eq!((r.first_group, r.first_offset, r.last_group, r.last_offset), (1, 0, 1, 9));
}

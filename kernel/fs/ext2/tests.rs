//! Self-tests of the ext2 glue (run with `ktest=ext2`), on RAM disks
//! holding a small image made by `mke2fs -t ext2 -b 1024 -N 16 -m 0 -O
//! ^resize_inode` (128 KiB; `testdata/ktest-head.img` is its first 22
//! blocks, the rest is zeros). Each test gets its own disk name, since the
//! buffer cache is per disk name and kept.
//!
//! # Locking
//! A RAM disk's bytes are under its own leaf spinlock.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use super::{EXT2_FS_TYPE, ext2_fill_super};
use crate::block::{BlockDevice, SECTOR_SIZE, check_io};
use crate::fs::FsCred;
use crate::fs::inode::Inode;
use crate::fs::pagecache::{generic_file_read, generic_perform_write};
use crate::fs::sync::{deactivate_super, sync_filesystem};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

const IMAGE_HEAD: &[u8] = include_bytes!("testdata/ktest-head.img");
const IMAGE_SIZE: usize = 128 * 1024;

/// A disk in memory.
struct RamDisk {
    name: &'static str,
    data: SpinLock<Vec<u8>>,
}

impl RamDisk {
    /// The test image, changed by `patch` first.
    fn with_image(name: &'static str, patch: impl FnOnce(&mut [u8])) -> Arc<dyn BlockDevice> {
        let mut data = vec![0u8; IMAGE_SIZE];
        data[..IMAGE_HEAD.len()].copy_from_slice(IMAGE_HEAD);
        patch(&mut data);
        Arc::new(RamDisk { name, data: SpinLock::new(data) })
    }
}

impl BlockDevice for RamDisk {
    fn disk_name(&self) -> &str {
        self.name
    }
    fn capacity(&self) -> u64 {
        (IMAGE_SIZE / SECTOR_SIZE) as u64
    }
    fn read_blocks(&self, lba: u64, buf: &mut [u8]) -> KResult<()> {
        check_io(lba, buf.len(), self.capacity())?;
        let at = usize::try_from(lba).map_err(|_| Errno::EIO)? * SECTOR_SIZE;
        buf.copy_from_slice(&self.data.lock()[at..at + buf.len()]);
        Ok(())
    }
    fn write_blocks(&self, lba: u64, buf: &[u8]) -> KResult<()> {
        check_io(lba, buf.len(), self.capacity())?;
        let at = usize::try_from(lba).map_err(|_| Errno::EIO)? * SECTOR_SIZE;
        self.data.lock()[at..at + buf.len()].copy_from_slice(buf);
        Ok(())
    }
}

/// The superblock's `s_state` on the disk itself (1: clean).
fn disk_state(disk: &Arc<dyn BlockDevice>) -> u16 {
    let mut sector = [0u8; SECTOR_SIZE];
    let _ = disk.read_blocks(2, &mut sector);
    u16::from_le_bytes([sector[58], sector[59]])
}

fn free_blocks(root: &Inode) -> u64 {
    root.sb.s_op.statfs(&root.sb).map_or(0, |st| st.f_bfree)
}

fn lookup(dir: &Inode, name: &[u8]) -> Result<Arc<Inode>, &'static str> {
    dir.i_op.lookup(dir, name).map_err(|_| "lookup failed")?.ok_or("name not found")
}

fn read_all(inode: &Inode) -> Result<Vec<u8>, &'static str> {
    let mut buf = vec![0u8; usize::try_from(inode.size()).map_err(|_| "size")?];
    let mut pos = 0;
    let n = generic_file_read(inode, &mut buf, &mut pos).map_err(|_| "read")?;
    crate::kassert!(n == buf.len(), "read the whole file");
    Ok(buf)
}

const LONG_TARGET: &[u8] = b"a/target/longer/than/sixty/characters/so/that/it/needs/its/own/block";

/// The namespace changes of the first mount; returns the file's data.
fn populate(root: &Arc<Inode>) -> Result<Vec<u8>, &'static str> {
    let cred = FsCred::ROOT;
    let d = root.i_op.mkdir(root, b"d", uapi::S_IFDIR | 0o755, cred).map_err(|_| "mkdir")?;
    crate::kassert!(root.attr().nlink == 4, "mkdir counted the parent's new link");
    let f = d.i_op.create(&d, b"f", uapi::S_IFREG | 0o644, cred).map_err(|_| "create")?;
    let data: Vec<u8> = (0..5000u32).map(|i| u8::try_from(i * 7 % 251).unwrap_or(0)).collect();
    let mut pos = 0;
    crate::kassert!(generic_perform_write(&f, &data, &mut pos) == Ok(5000), "write");
    crate::kassert!(Arc::ptr_eq(&lookup(&d, b"f")?, &f), "one inode per number");
    d.i_op.symlink(&d, b"s", b"f", cred).map_err(|_| "fast symlink")?;
    d.i_op.symlink(&d, b"long", LONG_TARGET, cred).map_err(|_| "slow symlink")?;
    d.i_op.link(&f, &d, b"g").map_err(|_| "link")?;
    crate::kassert!(f.attr().nlink == 2, "link counted");
    let moved = d.i_op.rename(&d, b"g", root, b"h", crate::fs::inode::RenameFlags::empty());
    crate::kassert!(moved.is_ok(), "rename across directories");
    let noreplace = crate::fs::inode::RenameFlags::NOREPLACE;
    let busy = root.i_op.rename(root, b"h", &d, b"f", noreplace);
    crate::kassert!(busy == Err(Errno::EEXIST), "RENAME_NOREPLACE onto a name");
    root.i_op.unlink(root, b"h").map_err(|_| "unlink")?;
    crate::kassert!(f.attr().nlink == 1, "unlink counted");
    crate::kassert!(lookup(root, b"h").is_err(), "unlinked name is gone");
    Ok(data)
}

crate::ktest!(ext2_mount_write_remount, {
    let disk = RamDisk::with_image("ext2kt0", |_| {});
    let root = ext2_fill_super(&EXT2_FS_TYPE, disk.clone(), false).map_err(|_| "mount")?;
    let sb = root.sb.clone();
    crate::kassert!(sb.s_magic == 0xEF53 && sb.s_blocksize == 1024, "super block");
    crate::kassert!(disk_state(&disk) == 0, "a read-write mount marks the disk not clean");
    let data = populate(&root)?;
    drop(root);
    deactivate_super(&sb);
    drop(sb);
    crate::kassert!(disk_state(&disk) == 1, "unmount marks the disk clean");

    let root = ext2_fill_super(&EXT2_FS_TYPE, disk.clone(), false).map_err(|_| "remount")?;
    let d = lookup(&root, b"d")?;
    let f = lookup(&d, b"f")?;
    crate::kassert!(f.size() == 5000 && f.attr().nlink == 1, "size and links persisted");
    crate::kassert!(f.attr().blocks == 10, "five 1 KiB blocks in i_blocks");
    crate::kassert!(read_all(&f)? == data, "data persisted");
    let s = lookup(&d, b"s")?;
    crate::kassert!(s.i_op.get_link(&s).as_deref() == Ok(&b"f"[..]), "fast symlink");
    let long = lookup(&d, b"long")?;
    crate::kassert!(long.i_op.get_link(&long).as_deref() == Ok(LONG_TARGET), "slow symlink");
    let sb = root.sb.clone();
    drop((root, d, f, s, long));
    deactivate_super(&sb);
    Ok(())
});

crate::ktest!(ext2_unlinked_open_file_freed_after_last_reference, {
    let disk = RamDisk::with_image("ext2kt1", |_| {});
    let root = ext2_fill_super(&EXT2_FS_TYPE, disk, false).map_err(|_| "mount")?;
    let before = free_blocks(&root);
    let u =
        root.i_op.create(&root, b"u", uapi::S_IFREG | 0o600, FsCred::ROOT).map_err(|_| "create")?;
    let mut pos = 0;
    crate::kassert!(generic_perform_write(&u, &[0x5a; 3000], &mut pos) == Ok(3000), "write");
    sync_filesystem(&root.sb).map_err(|_| "sync")?;
    crate::kassert!(free_blocks(&root) == before - 3, "three blocks allocated");
    root.i_op.unlink(&root, b"u").map_err(|_| "unlink")?;
    sync_filesystem(&root.sb).map_err(|_| "sync 2")?;
    crate::kassert!(free_blocks(&root) == before - 3, "still held while referenced");
    crate::kassert!(read_all(&u)? == [0x5a; 3000], "an unlinked open file reads");
    drop(u);
    sync_filesystem(&root.sb).map_err(|_| "sync 3")?;
    crate::kassert!(free_blocks(&root) == before, "freed after the last reference");
    let sb = root.sb.clone();
    drop(root);
    deactivate_super(&sb);
    Ok(())
});

crate::ktest!(ext2_truncate_and_readdir_offsets, {
    let disk = RamDisk::with_image("ext2kt2", |_| {});
    let root = ext2_fill_super(&EXT2_FS_TYPE, disk, false).map_err(|_| "mount")?;
    let before = free_blocks(&root);
    let t =
        root.i_op.create(&root, b"t", uapi::S_IFREG | 0o600, FsCred::ROOT).map_err(|_| "create")?;
    let mut pos = 0;
    crate::kassert!(generic_perform_write(&t, &[7u8; 9000], &mut pos) == Ok(9000), "write");
    sync_filesystem(&root.sb).map_err(|_| "sync")?;
    let shrink = crate::fs::inode::SetAttr { size: Some(1500), ..Default::default() };
    t.i_op.setattr(&t, &shrink).map_err(|_| "truncate")?;
    crate::kassert!(free_blocks(&root) == before - 2, "truncation freed the blocks past 1500");
    let grow = crate::fs::inode::SetAttr { size: Some(6000), ..Default::default() };
    t.i_op.setattr(&t, &grow).map_err(|_| "extend")?;
    let back = read_all(&t)?;
    crate::kassert!(back[..1500].iter().all(|&b| b == 7), "kept data");
    crate::kassert!(back[1500..].iter().all(|&b| b == 0), "the extension reads as zeros");
    let info = super::ext2_sb(&root.sb).map_err(|_| "sb")?;
    let mut names = Vec::new();
    info.with_fs(|fs| {
        fs.readdir(2, 0, |name, _, _, next| {
            names.push((name.to_vec(), next));
            true
        })
        .map_err(|_| Errno::EIO)
    })
    .map_err(|_| "readdir")?;
    crate::kassert!(names.first().is_some_and(|(n, off)| n == b"." && *off == 12), "`.` first");
    crate::kassert!(names.iter().any(|(n, _)| n == b"t"), "the new file listed");
    let sb = root.sb.clone();
    drop((root, t));
    deactivate_super(&sb);
    Ok(())
});

crate::ktest!(ext2_holes_stay_holes_and_full_disk_is_enospc, {
    let disk = RamDisk::with_image("ext2kt6", |_| {});
    let root = ext2_fill_super(&EXT2_FS_TYPE, disk, false).map_err(|_| "mount")?;
    let before = free_blocks(&root);
    let cred = FsCred::ROOT;
    let h = root.i_op.create(&root, b"h", uapi::S_IFREG | 0o600, cred).map_err(|_| "create")?;
    let (mut at0, mut at3) = (0, 3500);
    crate::kassert!(generic_perform_write(&h, b"a", &mut at0) == Ok(1), "write");
    crate::kassert!(generic_perform_write(&h, b"b", &mut at3) == Ok(1), "write 2");
    sync_filesystem(&root.sb).map_err(|_| "sync")?;
    crate::kassert!(h.attr().blocks == 4, "blocks 1 and 2 of the page stay holes");
    crate::kassert!(free_blocks(&root) == before - 2, "two blocks allocated");
    let big =
        root.i_op.create(&root, b"big", uapi::S_IFREG | 0o600, cred).map_err(|_| "create 2")?;
    let file = crate::fs::file_table::File::open(
        crate::fs::namespace::root_path().map_err(|_| "root path")?,
        big.clone(),
        big.i_fop,
        crate::fs::file_table::FMode::READ | crate::fs::file_table::FMode::WRITE,
        uapi::O_RDWR,
    )
    .map_err(|_| "open")?;
    let mut pos = 0;
    let n = big.i_fop.write(&file, &vec![1u8; 200 * 1024], &mut pos).map_err(|_| "big write")?;
    crate::kassert!(n > 0 && n < 200 * 1024, "a short write when the disk fills");
    crate::kassert!(free_blocks(&root) == 0, "the disk is full");
    let full = big.i_fop.write(&file, b"more", &mut pos);
    crate::kassert!(full == Err(Errno::ENOSPC), "then ENOSPC");
    sync_filesystem(&root.sb).map_err(|_| "sync 2")?;
    crate::kassert!(read_all(&big)?.iter().all(|&b| b == 1), "what was written reads back");
    drop(file);
    root.i_op.unlink(&root, b"big").map_err(|_| "unlink")?;
    drop(big);
    sync_filesystem(&root.sb).map_err(|_| "sync 3")?;
    crate::kassert!(free_blocks(&root) == before - 2, "the big file's blocks are back");
    let sb = root.sb.clone();
    drop((root, h));
    deactivate_super(&sb);
    Ok(())
});

crate::ktest!(ext2_refuses_bad_superblocks, {
    let bad_magic = RamDisk::with_image("ext2kt3", |d| d[1024 + 56] = 0);
    let r = ext2_fill_super(&EXT2_FS_TYPE, bad_magic, false);
    crate::kassert!(r.err() == Some(Errno::EINVAL), "bad magic refused");
    let incompat = RamDisk::with_image("ext2kt4", |d| d[1024 + 99] |= 0x80);
    let r = ext2_fill_super(&EXT2_FS_TYPE, incompat, false);
    crate::kassert!(r.err() == Some(Errno::EINVAL), "unknown INCOMPAT feature refused");
    let big_blocks = RamDisk::with_image("ext2kt7", |d| d[1024 + 24] = 3);
    let r = ext2_fill_super(&EXT2_FS_TYPE, big_blocks, false);
    crate::kassert!(r.err() == Some(Errno::EINVAL), "8 KiB blocks (past a page) refused");
    let ro_compat = RamDisk::with_image("ext2kt5", |d| d[1024 + 103] |= 0x80);
    let root = ext2_fill_super(&EXT2_FS_TYPE, ro_compat.clone(), false).map_err(|_| "ro mount")?;
    crate::kassert!(disk_state(&ro_compat) == 1, "a read-only mount leaves the disk alone");
    let made = root.i_op.create(&root, b"x", uapi::S_IFREG | 0o600, FsCred::ROOT);
    crate::kassert!(made.err() == Some(Errno::EROFS), "read-only refuses creation");
    let sb = root.sb.clone();
    drop(root);
    deactivate_super(&sb);
    Ok(())
});

/// `inode` open for reading and writing, for its `write` (which allocates).
fn open_rw(inode: &Arc<Inode>) -> Result<Arc<crate::fs::file_table::File>, &'static str> {
    crate::fs::file_table::File::open(
        crate::fs::namespace::root_path().map_err(|_| "root path")?,
        inode.clone(),
        inode.i_fop,
        crate::fs::file_table::FMode::READ | crate::fs::file_table::FMode::WRITE,
        uapi::O_RDWR,
    )
    .map_err(|_| "open")
}

// File data goes to the disk by bio, metadata through the buffer cache:
// an indirect block, dirty in the buffer cache when its file is
// truncated, reused as another file's data, must not be written back
// over that data (Linux: `clean_bdev_aliases`). The second file's data is
// then checked on the disk itself and after a remount, which reads the
// disk (the buffer cache is dropped at the last unmount).
crate::ktest!(ext2_freed_metadata_reused_as_data_not_clobbered, {
    let disk = RamDisk::with_image("ext2kt8", |_| {});
    let root = ext2_fill_super(&EXT2_FS_TYPE, disk.clone(), false).map_err(|_| "mount")?;
    let info = super::ext2_sb(&root.sb).map_err(|_| "sb")?;
    let cred = FsCred::ROOT;
    let a = root.i_op.create(&root, b"a", uapi::S_IFREG | 0o600, cred).map_err(|_| "create")?;
    let file = open_rw(&a)?;
    let mut pos = 0;
    // 14 blocks: 12 direct, then the indirect block (dirty, not synced).
    let n = a.i_fop.write(&file, &[0xaa; 14 * 1024], &mut pos).map_err(|_| "write a")?;
    crate::kassert!(n == 14 * 1024, "wrote a");
    let ind = info
        .with_fs(|fs| fs.read_inode(super::inode::disk_ino(&a)).map_err(|_| Errno::EIO))
        .map_err(|_| "read inode")?
        .block[12];
    crate::kassert!(ind != 0, "a has an indirect block");
    a.i_op
        .setattr(&a, &crate::fs::inode::SetAttr { size: Some(0), ..Default::default() })
        .map_err(|_| "truncate")?;
    drop(file);
    // One block taken first, so that b's blocks fall on a's shifted by
    // one, and a's indirect block becomes one of b's data blocks.
    let c = root.i_op.create(&root, b"c", uapi::S_IFREG | 0o600, cred).map_err(|_| "create c")?;
    let file_c = open_rw(&c)?;
    let mut pos = 0;
    crate::kassert!(c.i_fop.write(&file_c, &[0xcc; 1024], &mut pos) == Ok(1024), "wrote c");
    drop(file_c);
    let b = root.i_op.create(&root, b"b", uapi::S_IFREG | 0o600, cred).map_err(|_| "create b")?;
    let file = open_rw(&b)?;
    let data: Vec<u8> = (0..12 * 1024u32).map(|i| u8::try_from(i % 253).unwrap_or(0)).collect();
    let mut pos = 0;
    crate::kassert!(b.i_fop.write(&file, &data, &mut pos) == Ok(data.len()), "wrote b");
    let blocks = info
        .with_fs(|fs| fs.read_inode(super::inode::disk_ino(&b)).map_err(|_| Errno::EIO))
        .map_err(|_| "read inode b")?
        .block;
    let at = blocks.iter().take(12).position(|&blk| blk == ind);
    crate::kassert!(at.is_some(), "b reuses a's old indirect block as data");
    let at = at.unwrap_or(0);
    drop(file);
    let sb = root.sb.clone();
    drop((root, a, b, c));
    deactivate_super(&sb);
    drop(sb);
    let mut raw = vec![0u8; 1024];
    disk.read_blocks(u64::from(ind) * 2, &mut raw).map_err(|_| "raw read")?;
    crate::kassert!(raw[..] == data[at * 1024..(at + 1) * 1024], "b's block on the disk");

    let root = ext2_fill_super(&EXT2_FS_TYPE, disk.clone(), false).map_err(|_| "remount")?;
    let b = lookup(&root, b"b")?;
    crate::kassert!(read_all(&b)? == data, "b reads back after remount");
    let sb = root.sb.clone();
    drop((root, b));
    deactivate_super(&sb);
    Ok(())
});

// A read-only mount leaves the disk clean and refuses writes; remount
// read-write marks it not clean and counts the mount; remount read-only
// writes everything and marks it clean again (Linux: `ext2_remount`).
crate::ktest!(ext2_remount_ro_rw, {
    let disk = RamDisk::with_image("ext2kt9", |_| {});
    let count = |disk: &Arc<dyn BlockDevice>| {
        let mut sector = [0u8; SECTOR_SIZE];
        let _ = disk.read_blocks(2, &mut sector);
        u16::from_le_bytes([sector[52], sector[53]])
    };
    let mounts = count(&disk);
    let root = ext2_fill_super(&EXT2_FS_TYPE, disk.clone(), true).map_err(|_| "ro mount")?;
    let (sb, cred, reg) = (root.sb.clone(), FsCred::ROOT, uapi::S_IFREG | 0o600);
    crate::kassert!(disk_state(&disk) == 1, "read-only: clean");
    let made = root.i_op.create(&root, b"x", reg, cred);
    crate::kassert!(made.err() == Some(Errno::EROFS), "read-only refuses creation");
    sb.s_op.remount_fs(&sb, false).map_err(|_| "remount rw")?;
    crate::kassert!(disk_state(&disk) == 0, "read-write: not clean");
    crate::kassert!(count(&disk) == mounts + 1, "the mount counted");
    let f = root.i_op.create(&root, b"x", reg, cred).map_err(|_| "create after remount")?;
    let mut pos = 0;
    crate::kassert!(generic_perform_write(&f, b"kept", &mut pos) == Ok(4), "write");
    sb.s_op.remount_fs(&sb, true).map_err(|_| "remount ro")?;
    crate::kassert!(disk_state(&disk) == 1, "read-only again: clean");
    let made = root.i_op.create(&root, b"y", reg, cred);
    crate::kassert!(made.err() == Some(Errno::EROFS), "read-only again refuses creation");
    drop((root, f));
    deactivate_super(&sb);
    drop(sb);
    let root = ext2_fill_super(&EXT2_FS_TYPE, disk.clone(), true).map_err(|_| "mount 2")?;
    let f = lookup(&root, b"x")?;
    crate::kassert!(read_all(&f)? == b"kept", "the data written before remount ro");
    let sb = root.sb.clone();
    drop((root, f));
    deactivate_super(&sb);
    crate::kassert!(disk_state(&disk) == 1, "still clean");
    Ok(())
});

crate::ktest!(ext2_fitrim_walks_free_blocks_once, {
    use super::ioctl::ext2_trim_fs;
    let disk = RamDisk::with_image("ext2kt-trim", |_| {});
    let root = ext2_fill_super(&EXT2_FS_TYPE, disk, false).map_err(|_| "mount")?;
    let info = super::ext2_sb(&root.sb).map_err(|_| "instance")?;
    let free = free_blocks(&root) * 1024;
    // A RAM disk takes no discard: the blocks count all the same (Linux:
    // `ext4_try_to_trim_range` ignores EOPNOTSUPP).
    crate::kassert!(ext2_trim_fs(info, 0, u64::MAX, 0) == Ok(free), "every free byte");
    crate::kassert!(ext2_trim_fs(info, 0, u64::MAX, 0) == Ok(0), "nothing the second time");
    crate::kassert!(ext2_trim_fs(info, 0, 512, 0) == Err(Errno::EINVAL), "under a block");
    crate::kassert!(ext2_trim_fs(info, 1 << 30, 4096, 0) == Err(Errno::EINVAL), "past the end");
    let f = root.i_op.create(&root, b"f", uapi::S_IFREG | 0o600, FsCred::ROOT);
    let f = f.map_err(|_| "create")?;
    let mut pos = 0;
    crate::kassert!(generic_perform_write(&f, &[1u8; 4096], &mut pos) == Ok(4096), "write");
    sync_filesystem(&root.sb).map_err(|_| "sync")?;
    // Held across the unlink, as a dentry would hold it.
    root.i_op.unlink(&root, b"f").map_err(|_| "unlink")?;
    drop(f);
    sync_filesystem(&root.sb).map_err(|_| "sync 2")?;
    crate::kassert!(free_blocks(&root) * 1024 == free, "the file's blocks freed");
    let again = ext2_trim_fs(info, 0, u64::MAX, 0).map_err(|_| "trim again")?;
    crate::kassert!(again == free_blocks(&root) * 1024, "a freed block's group walked again");
    let sb = root.sb.clone();
    drop(root);
    deactivate_super(&sb);
    Ok(())
});

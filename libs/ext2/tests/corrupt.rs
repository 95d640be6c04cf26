//! Damaged images: each damaged field gives the documented error for the
//! operation that meets it, never a panic, and that operation writes
//! nothing (the image bytes are compared before and after).

mod common;

use common::*;
use ext2::{Creds, Error, Ext2, ROOT_INO};
use std::fs;
use std::path::{Path, PathBuf};

const C: Creds = Creds { uid: 0, gid: 0, now: NOW };
const SB: usize = 1024;

/// A 1 KiB-block image with a small file, a file with indirect blocks, a
/// directory tree and symlinks.
fn base(name: &str) -> (PathBuf, Vec<u8>) {
    let work = scratch(name);
    let src = work.join("src");
    fs::create_dir_all(src.join("d/e")).expect("mkdir");
    fs::write(src.join("f"), vec![1u8; 3000]).expect("write");
    fs::write(src.join("big"), vec![2u8; 40_000]).expect("write");
    std::os::unix::fs::symlink("f", src.join("fast")).expect("symlink");
    std::os::unix::fs::symlink("z".repeat(300), src.join("slow")).expect("symlink");
    let img = mkfs(&work, Some(&src), 1024, 4096, &[]);
    (work, img)
}

fn debugfs_img(work: &Path, img: &[u8], cmd: &str) -> String {
    let p = work.join("probe.img");
    fs::write(&p, img).expect("write");
    debugfs(&p, cmd)
}

/// Byte offset of `path`'s inode in the image.
fn inode_offset(work: &Path, img: &[u8], path: &str) -> usize {
    let out = debugfs_img(work, img, &format!("imap {path}"));
    let at = out.find("located at block ").expect("imap output");
    let rest = &out[at + 17..];
    let block: usize = rest.split(',').next().and_then(|w| w.trim().parse().ok()).expect("block");
    let off = rest
        .split("offset 0x")
        .nth(1)
        .and_then(|w| usize::from_str_radix(w.trim(), 16).ok())
        .expect("offset");
    block * 1024 + off
}

/// First data block of `path`.
fn first_block(work: &Path, img: &[u8], path: &str) -> usize {
    let out = debugfs_img(work, img, &format!("blocks {path}"));
    out.split_whitespace().next().and_then(|w| w.parse().ok()).expect("blocks output")
}

fn put32(img: &mut [u8], off: usize, v: u32) {
    img[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn put16(img: &mut [u8], off: usize, v: u16) {
    img[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

fn mount_err(img: Vec<u8>, ro: bool) -> Error {
    let dev = MemDev::new(img.clone());
    match Ext2::mount(dev.clone(), ro, NOW) {
        Ok(_) => panic!("mounted a bad image"),
        Err(e) => {
            assert!(dev.snapshot() == img, "failed mount wrote");
            e
        }
    }
}

#[test]
fn bad_superblocks_refuse_mount() {
    let (_, img) = base("corrupt-sb");
    let cases: [(&str, usize, u32, u8); 8] = [
        ("magic", SB + 56, 0x1234, 2),
        ("log_block_size", SB + 24, 7, 4),
        ("blocks_count zero", SB + 4, 0, 4),
        ("blocks_count huge", SB + 4, u32::MAX, 4),
        ("blocks_per_group", SB + 32, 0, 4),
        ("inodes_per_group", SB + 40, 1 << 30, 4),
        ("inode_size", SB + 88, 100, 2),
        ("first_data_block", SB + 20, 5, 4),
    ];
    for (what, off, v, width) in cases {
        let mut bad = img.clone();
        if width == 2 {
            put16(&mut bad, off, u16::try_from(v).expect("16-bit field"))
        } else {
            put32(&mut bad, off, v)
        }
        for ro in [true, false] {
            assert!(matches!(mount_err(bad.clone(), ro), Error::Corrupt(_)), "{what}");
        }
    }
    // A group descriptor pointing outside its group (GDT at block 2).
    let mut bad = img.clone();
    put32(&mut bad, 2 * 1024 + 8, 999_999);
    assert!(matches!(mount_err(bad, true), Error::Corrupt(_)));
    // Truncated device.
    assert_eq!(mount_err(img[..1500].to_vec(), true), Error::Io);
}

#[test]
fn unknown_features() {
    let (_, img) = base("corrupt-features");
    let mut bad = img.clone();
    put32(&mut bad, SB + 96, 0x0002 | 0x0040); // filetype + extents
    assert!(matches!(mount_err(bad, false), Error::Unsupported(_)));
    let mut bad = img.clone();
    let ro = u32::from_le_bytes(bad[SB + 100..SB + 104].try_into().expect("4 bytes"));
    put32(&mut bad, SB + 100, ro | 0x8000);
    let (mut fs_, dev) = mount(bad.clone(), false);
    assert!(fs_.is_read_only());
    assert!(fs_.forced_read_only().is_some());
    assert_eq!(fs_.create(ROOT_INO, b"x", 0o100644, (0, 0), C), Err(Error::ReadOnly));
    assert_eq!(fs_.mkdir(ROOT_INO, b"x", 0o755, C), Err(Error::ReadOnly));
    let f = resolve(&mut fs_, "/f").expect("read still works");
    assert_eq!(read_all(&mut fs_, f).len(), 3000);
    drop(fs_.unmount(NOW));
    assert!(dev.snapshot() == bad, "read-only mount wrote");
}

/// Mounts read-write, runs `op`, and checks it failed with `Corrupt` without
/// writing anything.
fn op_corrupt(img: Vec<u8>, what: &str, op: impl FnOnce(&mut Ext2<MemDev>) -> Result<(), Error>) {
    let (mut fs_, dev) = mount(img, false);
    let before = dev.snapshot();
    let r = op(&mut fs_);
    assert!(matches!(r, Err(Error::Corrupt(_))), "{what}: {r:?}");
    assert!(dev.snapshot() == before, "{what}: wrote to the image");
}

#[test]
fn bad_block_pointers() {
    let (work, img) = base("corrupt-ptr");
    let f = inode_offset(&work, &img, "/f");
    let big = inode_offset(&work, &img, "/big");
    for (what, off, v) in [
        ("pointer past the end", f + 40, 10_000_000),
        ("pointer into the superblock", f + 40, 1),
        ("pointer into the group descriptors", f + 44, 2),
        ("indirect pointer into the inode table", big + 40 + 12 * 4, 40),
    ] {
        let mut bad = img.clone();
        put32(&mut bad, off, v);
        let path = if off >= big && off < big + 256 { "/big" } else { "/f" };
        op_corrupt(bad.clone(), what, |fs_| {
            let ino = resolve(fs_, path)?;
            let inode = fs_.read_inode(ino)?;
            let mut buf = vec![0u8; 40_000];
            fs_.read_data(&inode, 0, &mut buf).map(|_| ())
        });
        op_corrupt(bad.clone(), what, |fs_| {
            let ino = resolve(fs_, path)?;
            let mut inode = fs_.read_inode(ino)?;
            fs_.truncate(&mut inode, 0)
        });
        op_corrupt(bad.clone(), what, |fs_| {
            let ino = resolve(fs_, path)?;
            let mut inode = fs_.read_inode(ino)?;
            fs_.write_data(&mut inode, 0, &[9u8; 40_000]).map(|_| ())
        });
        // Unlinking drops the name; the eviction that frees blocks must refuse whole.
        let (mut fs_, dev) = mount(bad, false);
        let gone = fs_.unlink(ROOT_INO, &path.as_bytes()[1..], NOW).expect("unlink");
        let before = dev.snapshot();
        assert!(matches!(fs_.evict(gone.ino, NOW), Err(Error::Corrupt(_))), "{what}");
        assert!(dev.snapshot() == before, "{what}: evict wrote");
    }
}

#[test]
fn bad_directory_entries() {
    let (work, img) = base("corrupt-dirent");
    let root = first_block(&work, &img, "/") * 1024;
    let inodes = u32::from_le_bytes(img[SB..SB + 4].try_into().expect("4 bytes"));
    // "." is at 0 (rec_len 12), ".." at 12.
    let cases: [(&str, usize, u32, u8); 6] = [
        ("rec_len below 12", root + 4, 8, 2),
        ("rec_len not 4-aligned", root + 4, 14, 2),
        ("rec_len past the block", root + 12 + 4, 2000, 2),
        ("rec_len zero", root + 12 + 4, 0, 2),
        ("name_len over rec_len", root + 6, 200, 1),
        ("inode out of range", root + 12, inodes + 1, 4),
    ];
    for (what, off, v, width) in cases {
        let mut bad = img.clone();
        match width {
            1 => bad[off] = u8::try_from(v).expect("8-bit field"),
            2 => put16(&mut bad, off, u16::try_from(v).expect("16-bit field")),
            _ => put32(&mut bad, off, v),
        }
        op_corrupt(bad.clone(), what, |fs_| fs_.lookup(ROOT_INO, b"f").map(|_| ()));
        op_corrupt(bad.clone(), what, |fs_| fs_.readdir(ROOT_INO, 0, |_, _, _, _| true));
        op_corrupt(bad.clone(), what, |fs_| {
            fs_.create(ROOT_INO, b"new", 0o100644, (0, 0), C).map(|_| ())
        });
        op_corrupt(bad.clone(), what, |fs_| fs_.mkdir(ROOT_INO, b"new", 0o755, C).map(|_| ()));
        op_corrupt(bad.clone(), what, |fs_| fs_.unlink(ROOT_INO, b"f", NOW).map(|_| ()));
        op_corrupt(bad, what, |fs_| fs_.rename(ROOT_INO, b"f", ROOT_INO, b"g", 0, NOW).map(|_| ()));
    }
}

#[test]
fn directory_loop_in_rename() {
    let (work, img) = base("corrupt-loop");
    // /d/e's ".." made to point at /d/e itself... and /d's ".." at /d/e: a cycle.
    let e_blk = first_block(&work, &img, "/d/e") * 1024;
    let d_blk = first_block(&work, &img, "/d") * 1024;
    let (mut fs_, _) = mount(img.clone(), true);
    let e_ino = resolve(&mut fs_, "/d/e").expect("resolve");
    drop(fs_);
    let mut bad = img.clone();
    put32(&mut bad, d_blk + 12, e_ino);
    let (mut fs_, dev) = mount(bad, false);
    let x = fs_.mkdir(ROOT_INO, b"x", 0o755, C).expect("mkdir");
    let before = dev.snapshot();
    let r = fs_.rename(ROOT_INO, b"x", e_ino, b"x", 0, NOW);
    assert!(matches!(r, Err(Error::Corrupt(_))), "{r:?}");
    assert!(dev.snapshot() == before);
    let _ = (x, e_blk);
}

#[test]
fn bad_symlinks() {
    let (work, img) = base("corrupt-symlink");
    let fast = inode_offset(&work, &img, "/fast");
    let slow = inode_offset(&work, &img, "/slow");
    for (what, off, v) in [
        ("fast symlink longer than i_block", fast + 4, 100),
        ("slow symlink longer than a block", slow + 4, 5000),
    ] {
        let mut bad = img.clone();
        put32(&mut bad, off, v);
        op_corrupt(bad, what, |fs_| {
            let path = if off == fast + 4 { "/fast" } else { "/slow" };
            let ino = resolve(fs_, path)?;
            fs_.readlink(ino).map(|_| ())
        });
    }
}

#[test]
fn inode_numbers_out_of_range() {
    let (_, img) = base("corrupt-ino");
    let (mut fs_, _) = mount(img, true);
    assert!(matches!(fs_.read_inode(0), Err(Error::Corrupt(_))));
    assert!(matches!(fs_.read_inode(u32::MAX), Err(Error::Corrupt(_))));
    assert!(matches!(fs_.lookup(u32::MAX, b"x"), Err(Error::Corrupt(_))));
}

//! Images made by the real `mke2fs -d` read back through the crate, entry by
//! entry, against the source directory: types, modes, owners, link counts,
//! sizes, contents (sparse files with double and triple indirection), long
//! directories, fast and slow symlinks, hard links, device nodes, FIFOs.

#![allow(
    clippy::cast_possible_truncation,
    reason = "test data on a 64-bit host; every value cast is small"
)]

mod common;

use common::*;
use ext2::FileType;
use std::fs;
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, symlink};
use std::path::Path;
use std::process::Command;

const BIG_OFFSETS: [u64; 2] = [70 << 20, 1 << 30];

fn populate(src: &Path) {
    fs::create_dir_all(src.join("dir/sub")).expect("mkdir");
    fs::write(src.join("empty"), b"").expect("write");
    fs::write(src.join("small"), b"hello, ext2\n").expect("write");
    let multi: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(src.join("dir/multi"), &multi).expect("write");
    let sparse = fs::File::create(src.join("sparse")).expect("create");
    for off in BIG_OFFSETS {
        sparse.write_at(b"X", off).expect("write_at");
    }
    let long = src.join("long");
    fs::create_dir(&long).expect("mkdir");
    for i in 0..3000 {
        fs::write(long.join(format!("entry-with-a-longish-name-{i:05}")), i.to_string())
            .expect("write");
    }
    symlink("small", src.join("fastlink")).expect("symlink");
    symlink("x".repeat(59), src.join("fast59")).expect("symlink");
    symlink("y".repeat(60), src.join("slow60")).expect("symlink");
    symlink(format!("/{}", "dir/".repeat(100)), src.join("slowlink")).expect("symlink");
    fs::hard_link(src.join("small"), src.join("dir/sub/hardlink")).expect("link");
    for (name, kind, maj, min) in
        [("null", "c", "1", "3"), ("vda", "b", "254", "0"), ("big", "c", "300", "70000")]
    {
        let st = Command::new("mknod")
            .arg(src.join(name))
            .args([kind, maj, min])
            .status()
            .expect("mknod");
        assert!(st.success(), "mknod needs root");
    }
    assert!(Command::new("mkfifo").arg(src.join("fifo")).status().expect("mkfifo").success());
}

fn expected_type(md: &fs::Metadata) -> FileType {
    FileType::from_mode((md.mode() & 0o170000) as u16)
}

fn compare(fs_: &mut ext2::Ext2<MemDev>, src: &Path, dir_ino: u32) -> usize {
    let mut n = 0;
    let mut names: Vec<_> =
        fs::read_dir(src).expect("read_dir").map(|e| e.expect("entry").file_name()).collect();
    names.sort();
    let mut listed = list(fs_, dir_ino);
    if dir_ino == ext2::ROOT_INO {
        let before = listed.len();
        listed.retain(|(n, _, ft)| !(n == b"lost+found" && *ft == FileType::Dir));
        assert_eq!(before, listed.len() + 1, "lost+found");
    }
    assert_eq!(listed.len(), names.len(), "entry count of {}", src.display());
    let by_name: std::collections::BTreeMap<Vec<u8>, (u32, FileType)> =
        listed.iter().map(|(n, i, t)| (n.clone(), (*i, *t))).collect();
    for (k, name) in names.iter().enumerate() {
        let path = src.join(name);
        let md = fs::symlink_metadata(&path).expect("lstat");
        let bytes = name.as_encoded_bytes();
        let listed_entry =
            *by_name.get(bytes).unwrap_or_else(|| panic!("{} not listed", path.display()));
        // Lookup scans linearly: in long directories check a sample of names.
        if names.len() < 200 || k % 37 == 0 || k + 1 == names.len() {
            let found = fs_.lookup(dir_ino, bytes).expect("lookup");
            assert_eq!(found, Some(listed_entry), "{}", path.display());
        }
        let (ino, ft) = listed_entry;
        assert_eq!(ft, expected_type(&md), "{}", path.display());
        let inode = fs_.read_inode(ino).expect("inode");
        assert_eq!(u32::from(inode.mode), md.mode(), "mode of {}", path.display());
        assert_eq!(inode.uid, md.uid());
        assert_eq!(inode.gid, md.gid());
        assert_eq!(u64::from(inode.links_count), md.nlink(), "nlink of {}", path.display());
        assert_eq!(i64::from(inode.mtime), md.mtime(), "mtime of {}", path.display());
        let ty = md.file_type();
        if ty.is_dir() {
            n += compare(fs_, &path, ino);
        } else if ty.is_symlink() {
            let want = fs::read_link(&path).expect("readlink");
            assert_eq!(fs_.readlink(ino).expect("readlink"), want.as_os_str().as_encoded_bytes());
        } else if ty.is_file() && md.len() < (1 << 20) {
            assert_eq!(inode.size, md.len());
            assert_eq!(read_all(fs_, ino), fs::read(&path).expect("read"), "{}", path.display());
        } else if ty.is_file() {
            assert_eq!(inode.size, md.len());
            let f = fs::File::open(&path).expect("open");
            for off in BIG_OFFSETS.iter().flat_map(|&o| [o - 4096, o - 1]) {
                let (mut a, mut b) = ([0u8; 4096], [0u8; 4096]);
                let na = fs_.read_data(&inode, off, &mut a).expect("read_data");
                let nb = f.read_at(&mut b, off).expect("read_at");
                assert_eq!(a[..na], b[..nb], "{} at {off}", path.display());
            }
            // A hole maps to nothing.
            let mut copy = inode.clone();
            assert_eq!(fs_.bmap(&mut copy, 1000, false).expect("bmap"), None);
        } else if ty.is_char_device() || ty.is_block_device() {
            let rdev = md.rdev();
            let want = (
                ((rdev >> 8) & 0xfff) as u32 | ((rdev >> 32) & !0xfff) as u32,
                ((rdev & 0xff) | ((rdev >> 12) & !0xff)) as u32,
            );
            assert_eq!(inode.rdev(), want, "rdev of {}", path.display());
        }
        n += 1;
    }
    n
}

fn check_block_size(bs: u32) {
    let work = scratch(&format!("read-{bs}"));
    let src = work.join("src");
    populate(&src);
    let img = mkfs(&work, Some(&src), bs, 32 * 1024, &[]);
    let (mut fs_, dev) = mount(img.clone(), true);
    let n = compare(&mut fs_, &src, ext2::ROOT_INO);
    assert!(n > 3000, "walked {n}");
    let st = fs_.statfs();
    assert_eq!(st.block_size, bs);
    assert!(st.blocks_free > 0 && st.files_free > 0);
    // A read-only mount writes nothing.
    drop(fs_);
    assert!(dev.snapshot() == img, "read-only mount wrote to the image");
}

#[test]
fn read_1k_image() {
    check_block_size(1024);
}

#[test]
fn read_4k_image() {
    check_block_size(4096);
}

#[test]
fn read_2k_image() {
    let work = scratch("read-2k");
    let src = work.join("src");
    fs::create_dir_all(&src).expect("mkdir");
    fs::write(src.join("f"), vec![7u8; 10_000]).expect("write");
    let img = mkfs(&work, Some(&src), 2048, 4096, &[]);
    let (mut fs_, _) = mount(img, true);
    assert_eq!(compare(&mut fs_, &src, ext2::ROOT_INO), 1);
}

#[test]
fn read_revision_0() {
    let work = scratch("read-rev0");
    let src = work.join("src");
    fs::create_dir_all(src.join("d")).expect("mkdir");
    fs::write(src.join("d/f"), b"old").expect("write");
    let img = mkfs(&work, Some(&src), 1024, 2048, &["-r", "0"]);
    let (mut fs_, _) = mount(img, false);
    let ino = resolve(&mut fs_, "/d/f").expect("resolve");
    assert_eq!(read_all(&mut fs_, ino), b"old");
    let c = ext2::Creds { uid: 0, gid: 0, now: NOW };
    let d = resolve(&mut fs_, "/d").expect("resolve");
    let n = fs_.create(d, b"new", 0o100644, (0, 0), c).expect("create");
    let mut inode = fs_.read_inode(n).expect("inode");
    fs_.write_data(&mut inode, 0, b"rev0 write").expect("write");
    assert!(n >= 11);
    let dev = fs_.unmount(NOW).expect("unmount");
    assert_clean(&work, &dev.snapshot());
}

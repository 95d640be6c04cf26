//! Writing with the library, then checking with dosfstools and mtools:
//! after creating, writing, growing, shrinking, renaming and removing
//! files and directories, `fsck.vfat -n` finds nothing wrong and mtools
//! reads back the same names and bytes, on FAT12, FAT16 and FAT32.

mod common;

use common::*;
use fat::{DirRef, Error};

fn check(bits: u32, size_kib: u32, cluster_sectors: &str) {
    check_sectors(bits, size_kib, cluster_sectors, "512");
}

fn check_sectors(bits: u32, size_kib: u32, cluster_sectors: &str, sector: &str) {
    let work = scratch(&format!("write{bits}-{cluster_sectors}-{sector}"));
    let img = mkfs(&work, bits, size_kib, &["-s", cluster_sectors, "-S", sector]);
    let (mut fs, dev) = mount(&img);
    let root = DirRef::Root;

    // Files: a write past the end zero-fills; a rewrite in the middle.
    let f = fs.create(root, b"Hello World.txt", false, NOW).expect("create");
    assert_eq!(fs.create(root, b"HELLO WORLD.TXT", false, NOW), Err(Error::Exists));
    let data = pattern(50_000, 7);
    let (ext, n) = fs.write(f.raw.start, 0, 1000, &data).expect("write");
    assert_eq!((n, ext.size), (data.len(), 51_000));
    let (ext, _) = fs.write(ext.start, ext.size, 10, b"abc").expect("rewrite");
    fs.update_entry(f.pos, |r| (r.start, r.size) = (ext.start, ext.size)).expect("update");
    let mut expect = vec![0u8; 1000];
    expect.extend_from_slice(&data);
    expect[10..13].copy_from_slice(b"abc");

    // Truncation down and up again: the regrown part reads as zeros.
    let g = fs.create(root, b"g", false, NOW).expect("create g");
    let (ext, _) = fs.write(0, 0, 0, &pattern(20_000, 1)).expect("write g");
    let ext = fs.truncate(ext.start, ext.size, 100).expect("shrink");
    let ext = fs.truncate(ext.start, ext.size, 9000).expect("grow");
    fs.update_entry(g.pos, |r| (r.start, r.size) = (ext.start, ext.size)).expect("update g");
    let mut g_expect = pattern(20_000, 1)[..100].to_vec();
    g_expect.resize(9000, 0);
    let mut back = vec![0u8; 9000];
    assert_eq!(fs.read(ext.start, ext.size, 0, &mut back), Ok(9000));
    assert_eq!(back, g_expect);

    // A truncated-to-zero file has no clusters.
    let z = fs.create(root, b"zero", false, NOW).expect("create zero");
    let (ext, _) = fs.write(0, 0, 0, b"xyz").expect("write zero");
    let ext = fs.truncate(ext.start, ext.size, 0).expect("truncate 0");
    assert_eq!(ext.start, 0);
    fs.update_entry(z.pos, |r| (r.start, r.size) = (ext.start, ext.size)).expect("update");

    // Directories: enough entries to grow a directory past one cluster.
    let d = fs.create(root, b"dir one", true, NOW).expect("mkdir");
    let dref = fs.dir_of(d.raw.start);
    for i in 0..40 {
        fs.create(dref, format!("file number {i}").as_bytes(), false, NOW).expect("create");
    }
    let sub = fs.create(dref, b"sub", true, NOW).expect("mkdir sub");
    assert_eq!(fs.subdirs(dref), Ok(1));
    assert_eq!(fs.dir_is_empty(dref), Ok(false));

    // Rename: across directories (the directory's `..` follows), and a
    // change of case in place.
    let moved = fs.rename(dref, &sub, root, b"Moved Sub").expect("rename dir");
    let mref = fs.dir_of(moved.raw.start);
    let dotdot = fs.read_dir(mref).expect("read").into_iter().nth(1).expect("..");
    assert_eq!(dotdot.raw.start, 0, ".. of a directory in the root");
    let e = fs.lookup(dref, b"file number 3").expect("lookup");
    fs.rename(dref, &e, dref, b"FILE NUMBER 3").expect("rename case");
    let e = fs.lookup(dref, b"file number 4").expect("lookup");
    fs.rename(dref, &e, mref, b"four").expect("rename file");

    // Removal: a file with its clusters, an empty directory.
    for i in 10..40 {
        let e = fs.lookup(dref, format!("file number {i}").as_bytes()).expect("lookup");
        fs.remove(dref, &e).expect("remove");
        fs.free_chain(e.raw.start).expect("free");
    }
    let e = fs.create(root, b"gone dir", true, NOW).expect("mkdir");
    assert_eq!(fs.dir_is_empty(fs.dir_of(e.raw.start)), Ok(true));
    fs.remove(root, &e).expect("rmdir");
    fs.free_chain(e.raw.start).expect("free dir");
    let before = fs.statfs().expect("statfs").free_clusters;
    unmount(fs, &dev, &img);

    fsck_clean(&img);
    let i = img.to_str().expect("utf-8");
    assert_eq!(mtype(&img, "hello world.txt"), expect);
    assert_eq!(mtype(&img, "g"), g_expect);
    assert_eq!(mtype(&img, "zero"), b"");
    let listing = run("mdir", &["-i", i, "-b", "::dir one"]);
    assert!(listing.contains("FILE NUMBER 3"), "{listing}");
    assert!(!listing.contains("file number 4"), "{listing}");
    assert!(!listing.contains("file number 10"), "{listing}");
    let listing = run("mdir", &["-i", i, "-b", "::Moved Sub"]);
    assert!(listing.contains("four"), "{listing}");
    // The free count is what a fresh count finds.
    let (mut fs, _) = mount(&img);
    assert_eq!(fs.statfs().expect("statfs").free_clusters, before);
}

#[test]
fn writes_fat12() {
    check(12, 4096, "2");
}

#[test]
fn writes_fat16() {
    check(16, 20 * 1024, "1");
}

#[test]
fn writes_fat32() {
    check(32, 40 * 1024, "1");
}

#[test]
fn writes_fat32_big_clusters() {
    check(32, 300 * 1024, "8");
}

#[test]
fn writes_fat16_4k_sectors() {
    check_sectors(16, 40 * 1024, "1", "4096");
}

/// A full disk: a write stops short, nothing leaks, `fsck` agrees.
#[test]
fn full_disk() {
    let work = scratch("full");
    let img = mkfs(&work, 12, 200, &["-s", "1"]);
    let (mut fs, dev) = mount(&img);
    let f = fs.create(DirRef::Root, b"big", false, NOW).expect("create");
    let data = pattern(300_000, 9);
    let (ext, n) = fs.write(0, 0, 0, &data).expect("write");
    assert!(n < data.len() && n > 0, "short write, got {n}");
    assert_eq!(fs.statfs().expect("statfs").free_clusters, 0);
    let (_, n2) = fs.write(ext.start, ext.size, u64::from(ext.size), b"more").expect("write");
    assert_eq!(n2, 0);
    fs.update_entry(f.pos, |r| (r.start, r.size) = (ext.start, ext.size)).expect("update");
    assert_eq!(fs.create(DirRef::Root, b"newdir", true, NOW), Err(Error::NoSpace));
    unmount(fs, &dev, &img);
    fsck_clean(&img);
    assert_eq!(mtype(&img, "big"), data[..ext.size as usize]);
}

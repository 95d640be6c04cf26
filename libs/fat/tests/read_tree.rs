//! Reading volumes written by mtools: long and short names, case
//! variants, file contents across clusters, subdirectories, on FAT12,
//! FAT16 and FAT32.

mod common;

use common::*;
use fat::{DirRef, Fat};

fn names(fs: &mut Fat<MemDev>, dir: DirRef) -> Vec<String> {
    let mut v: Vec<String> = fs
        .read_dir(dir)
        .expect("read_dir")
        .into_iter()
        .map(|e| String::from_utf8(e.name).expect("utf-8"))
        .collect();
    v.sort();
    v
}

fn read_all(fs: &mut Fat<MemDev>, dir: DirRef, name: &str) -> Vec<u8> {
    let e = fs.lookup(dir, name.as_bytes()).expect("lookup");
    let mut buf = vec![0u8; e.raw.size as usize + 10];
    let n = fs.read(e.raw.start, e.raw.size, 0, &mut buf).expect("read");
    buf.truncate(n);
    buf
}

fn check(bits: u32, size_kib: u32) {
    let work = scratch(&format!("read{bits}"));
    let img = mkfs(&work, bits, size_kib, &[]);
    let i = img.to_str().expect("utf-8");
    let big = pattern(70_000, 3);
    std::fs::write(work.join("big"), &big).expect("write");
    std::fs::write(work.join("small"), b"hello\n").expect("write");
    run("mmd", &["-i", i, "::Sub Dir", "::UPPER"]);
    run("mcopy", &["-i", i, work.join("big").to_str().expect("p"), "::A Long File Name.dat"]);
    run("mcopy", &["-i", i, work.join("small").to_str().expect("p"), "::Sub Dir/readme.txt"]);
    run("mcopy", &["-i", i, work.join("small").to_str().expect("p"), "::UPPER/SHORT.TXT"]);

    let (mut fs, _dev) = mount(&img);
    assert_eq!(fs.geometry().fat_bits, bits);
    assert_eq!(names(&mut fs, DirRef::Root), ["A Long File Name.dat", "Sub Dir", "UPPER"]);
    assert_eq!(read_all(&mut fs, DirRef::Root, "a long file NAME.DAT"), big);
    let sub = fs.lookup(DirRef::Root, b"SUB DIR").expect("lookup dir");
    assert!(sub.raw.is_dir());
    let sub = fs.dir_of(sub.raw.start);
    assert_eq!(names(&mut fs, sub), [".", "..", "readme.txt"]);
    assert_eq!(read_all(&mut fs, sub, "README.TXT"), b"hello\n");
    let upper = fs.lookup(DirRef::Root, b"upper").expect("lookup").raw.start;
    let upper = fs.dir_of(upper);
    assert_eq!(read_all(&mut fs, upper, "short.txt"), b"hello\n");
    // The short alias of a long name finds it too.
    assert!(fs.lookup(DirRef::Root, b"ALONGF~1.DAT").is_ok());
    assert_eq!(fs.lookup(DirRef::Root, b"missing"), Err(fat::Error::NotFound));
    let st = fs.statfs().expect("statfs");
    // The big file, two directories, two small files, FAT32's root.
    let used = 70_000u32.div_ceil(st.cluster_size) + 4 + u32::from(bits == 32);
    assert_eq!(st.clusters - st.free_clusters, used, "used clusters");
}

#[test]
fn reads_fat12() {
    check(12, 2048);
}

#[test]
fn reads_fat16() {
    check(16, 20 * 1024);
}

#[test]
fn reads_fat32() {
    check(32, 40 * 1024);
}

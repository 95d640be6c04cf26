//! Writes through the crate — create, write, append, rename, link, symlink,
//! mknod, truncate, unlink, rmdir, a 200 MiB sparse file, long and htree
//! directories — then `e2fsck -fn` must be clean and `debugfs` must read back
//! what was written.

#![allow(
    clippy::cast_possible_truncation,
    reason = "test data on a 64-bit host; every value cast is small"
)]

mod common;

use common::*;
use ext2::{Creds, Error, Ext2, FileType, RENAME_NOREPLACE, ROOT_INO};
use std::fs;
use std::path::Path;

const C: Creds = Creds { uid: 1000, gid: 100, now: NOW };
const REG: u16 = 0o100644;

fn write_file(fs_: &mut Ext2<MemDev>, dir: u32, name: &str, data: &[u8]) -> u32 {
    let ino = fs_.create(dir, name.as_bytes(), REG, (0, 0), C).expect("create");
    let mut inode = fs_.read_inode(ino).expect("inode");
    assert_eq!(fs_.write_data(&mut inode, 0, data).expect("write"), data.len());
    ino
}

fn append(fs_: &mut Ext2<MemDev>, ino: u32, data: &[u8]) {
    let mut inode = fs_.read_inode(ino).expect("inode");
    let size = inode.size;
    fs_.write_data(&mut inode, size, data).expect("append");
}

fn stat_field(out: &str, key: &str) -> u64 {
    let at = out.find(key).unwrap_or_else(|| panic!("no {key} in {out}"));
    out[at + key.len()..].split_whitespace().next().and_then(|w| w.parse().ok()).expect("number")
}

fn pattern(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32).map(|i| (i.wrapping_mul(31).wrapping_add(seed) % 253) as u8).collect()
}

fn exercise(bs: u32) {
    let work = scratch(&format!("write-{bs}"));
    let src = work.join("src");
    fs::create_dir_all(src.join("indexed")).expect("mkdir");
    for i in 0..400 {
        fs::write(src.join(format!("indexed/name-{i:04}")), b"x").expect("write");
    }
    let img = mkfs(&work, Some(&src), bs, 16 * 1024, &[]);
    // Let e2fsck build an htree index for the big directory, as a Linux
    // ext3/4 mount or `e2fsck -D` would leave it.
    let p = save(&work, &img);
    let st = std::process::Command::new("/usr/sbin/e2fsck")
        .arg("-fyD")
        .arg(&p)
        .output()
        .expect("e2fsck -D");
    assert!(st.status.code().unwrap_or(8) <= 1, "e2fsck -D failed");
    let img = fs::read(&p).expect("read");

    let (mut fs_, _dev) = mount(img, false);
    let free0 = fs_.statfs();

    // create / write / append
    let a = write_file(&mut fs_, ROOT_INO, "a.txt", b"hello");
    append(&mut fs_, a, b", world\n");
    let multi = pattern(100_000, 1);
    let m = write_file(&mut fs_, ROOT_INO, "multi", &multi);
    assert_eq!(fs_.create(ROOT_INO, b"a.txt", REG, (0, 0), C), Err(Error::Exists));

    // directories and renames
    let d1 = fs_.mkdir(ROOT_INO, b"d1", 0o755, C).expect("mkdir");
    let d2 = fs_.mkdir(d1, b"d2", 0o700, C).expect("mkdir");
    write_file(&mut fs_, d2, "f", b"in d2");
    fs_.rename(ROOT_INO, b"a.txt", d1, b"b.txt", 0, NOW).expect("rename file");
    fs_.rename(d1, b"d2", ROOT_INO, b"d3", 0, NOW).expect("rename dir across");
    assert_eq!(fs_.rename(ROOT_INO, b"d1", d1, b"x", 0, NOW), Err(Error::Invalid));
    let victim = write_file(&mut fs_, d1, "victim", b"old");
    let r = fs_.rename(ROOT_INO, b"multi", d1, b"victim", RENAME_NOREPLACE, NOW);
    assert_eq!(r.map(|_| ()), Err(Error::Exists));
    let replaced =
        fs_.rename(d1, b"b.txt", d1, b"victim", 0, NOW).expect("rename over").expect("replaced");
    assert_eq!((replaced.ino, replaced.links_count), (victim, 0));
    assert!(fs_.evict(victim, NOW).expect("evict"));
    fs_.rename(d1, b"victim", d1, b"b.txt", 0, NOW).expect("rename back");
    let empty = fs_.mkdir(ROOT_INO, b"empty", 0o755, C).expect("mkdir");
    let replaced = fs_
        .rename(ROOT_INO, b"d3", ROOT_INO, b"empty", 0, NOW)
        .expect("dir over dir")
        .expect("replaced");
    assert_eq!(replaced.ino, empty);
    fs_.evict(empty, NOW).expect("evict");

    // links, symlinks, nodes
    fs_.link(a, ROOT_INO, b"hard", NOW).expect("link");
    assert_eq!(fs_.link(d1, ROOT_INO, b"dirlink", NOW), Err(Error::NotPermitted));
    fs_.symlink(ROOT_INO, b"fast", b"d1/b.txt", C).expect("symlink");
    let slow_target = "s/".repeat(200);
    fs_.symlink(ROOT_INO, b"slow", slow_target.as_bytes(), C).expect("symlink");
    fs_.create(ROOT_INO, b"null", 0o020666, (1, 3), C).expect("mknod");
    fs_.create(ROOT_INO, b"bigdev", 0o060600, (300, 70000), C).expect("mknod");
    fs_.create(ROOT_INO, b"fifo", 0o010644, (0, 0), C).expect("mkfifo");
    fs_.create(ROOT_INO, b"sock", 0o140755, (0, 0), C).expect("mksock");

    // truncate down, to zero, and up (sparse)
    let t = write_file(&mut fs_, ROOT_INO, "trunc", &pattern(100_000, 2));
    let mut ti = fs_.read_inode(t).expect("inode");
    fs_.truncate(&mut ti, 5000).expect("truncate");
    fs_.truncate(&mut ti, 20_000).expect("extend");

    // chmod, chown, utimes, ftruncate through setattr
    let attr = ext2::SetAttr {
        mode: Some(0o600),
        uid: Some(7),
        gid: Some(8),
        size: Some(12_345),
        mtime: Some(1234),
        ..Default::default()
    };
    let set = fs_.setattr(m, &attr).expect("setattr");
    assert_eq!((set.mode, set.uid, set.gid, set.size, set.mtime), (0o100600, 7, 8, 12_345, 1234));
    let dir_size = ext2::SetAttr { size: Some(0), ..Default::default() };
    assert_eq!(fs_.setattr(d1, &dir_size).map(|_| ()), Err(Error::IsDir));

    // a 200 MiB sparse file (triple indirection with 1 KiB blocks), then cut to 70 MiB
    let s = write_file(&mut fs_, ROOT_INO, "sparse", b"head");
    let mut si = fs_.read_inode(s).expect("inode");
    fs_.write_data(&mut si, (200 << 20) - 4, b"tail").expect("write far");
    fs_.write_data(&mut si, 70 << 20, b"mid").expect("write mid");
    let blocks_200 = si.blocks;
    fs_.truncate(&mut si, (70 << 20) + 2).expect("truncate sparse");
    assert!(si.blocks < blocks_200);

    // a long directory: grow, punch holes, refill
    let many = fs_.mkdir(ROOT_INO, b"many", 0o755, C).expect("mkdir");
    for i in 0..600 {
        write_file(&mut fs_, many, &format!("file-number-{i:04}"), i.to_string().as_bytes());
    }
    for i in (0..600).step_by(2) {
        let gone = fs_.unlink(many, format!("file-number-{i:04}").as_bytes(), NOW).expect("unlink");
        assert!(fs_.evict(gone.ino, NOW).expect("evict"));
    }
    for i in 0..100 {
        write_file(&mut fs_, many, &format!("again-{i}"), b"again");
    }

    // the htree directory loses its index flag when written
    let indexed = resolve(&mut fs_, "/indexed").expect("indexed");
    assert_ne!(
        fs_.read_inode(indexed).expect("inode").flags & 0x1000,
        0,
        "e2fsck -D made no index"
    );
    write_file(&mut fs_, indexed, "added-later", b"y");
    let gone = fs_.unlink(indexed, b"name-0007", NOW).expect("unlink");
    fs_.evict(gone.ino, NOW).expect("evict");
    assert_eq!(fs_.read_inode(indexed).expect("inode").flags & 0x1000, 0);

    // rmdir
    let doomed = fs_.mkdir(ROOT_INO, b"doomed", 0o755, C).expect("mkdir");
    write_file(&mut fs_, doomed, "inside", b"z");
    assert_eq!(fs_.rmdir(ROOT_INO, b"doomed", NOW).map(|_| ()), Err(Error::NotEmpty));
    let gone = fs_.unlink(doomed, b"inside", NOW).expect("unlink");
    fs_.evict(gone.ino, NOW).expect("evict");
    let gone = fs_.rmdir(ROOT_INO, b"doomed", NOW).expect("rmdir");
    assert!(fs_.evict(gone.ino, NOW).expect("evict"));
    assert_eq!(fs_.lookup(ROOT_INO, b"doomed").expect("lookup"), None);
    assert!(fs_.statfs().blocks_free < free0.blocks_free);

    let img = fs_.unmount(NOW + 1).expect("unmount").snapshot();
    assert_clean(&work, &img);
    let p = save(&work, &img);

    assert_eq!(debugfs(&p, "cat /d1/b.txt"), "hello, world\n");
    assert_eq!(debugfs(&p, "cat /hard"), "hello, world\n");
    assert_eq!(debugfs(&p, "cat /empty/f"), "in d2");
    assert_eq!(debugfs(&p, "cat /many/file-number-0599"), "599");
    assert_eq!(debugfs(&p, "cat /many/again-99"), "again");
    let st = debugfs(&p, "stat /d1/b.txt");
    assert_eq!(stat_field(&st, "Links:"), 2, "{st}");
    assert_eq!(stat_field(&st, "Size:"), 13);
    assert!(st.contains("User:  1000") && st.contains("Group:   100"), "{st}");
    let st = debugfs(&p, "stat /sparse");
    assert_eq!(stat_field(&st, "Size:"), (70 << 20) + 2);
    let st = debugfs(&p, "stat /trunc");
    assert_eq!(stat_field(&st, "Size:"), 20_000);
    let ls = debugfs(&p, "ls -l /");
    for name in ["d1", "empty", "fast", "slow", "null", "bigdev", "fifo", "sock", "many", "multi"] {
        assert!(ls.contains(name), "{name} missing from {ls}");
    }
    assert!(!ls.contains("doomed") && !ls.contains("d3"), "{ls}");
    assert!(debugfs(&p, "stat /fast").contains("Fast link dest: \"d1/b.txt\""));
    let st = debugfs(&p, "stat /null");
    assert!(st.contains("Device major/minor number: 01:03"), "{st}");
    let st = debugfs(&p, "stat /bigdev");
    assert!(st.contains("Device major/minor number: 300:70000"), "{st}");
    let dumped = work.join("multi.out");
    debugfs(&p, &format!("dump /multi {}", dumped.display()));
    assert_eq!(fs::read(&dumped).expect("dump"), multi[..12_345]);
    let st = debugfs(&p, "stat /multi");
    assert!(st.contains("Mode:  0600") && st.contains("User:     7"), "{st}");
    let hdr = std::process::Command::new("/usr/sbin/dumpe2fs")
        .arg("-h")
        .arg(&p)
        .output()
        .expect("dumpe2fs");
    let hdr = String::from_utf8_lossy(&hdr.stdout);
    assert!(hdr.contains("Filesystem state:         clean"), "{hdr}");

    // Remount and read back through the crate.
    let (mut fs_, _) = mount(img, true);
    let t = resolve(&mut fs_, "/trunc").expect("trunc");
    let data = read_all(&mut fs_, t);
    assert_eq!(data[..5000], pattern(100_000, 2)[..5000]);
    assert!(data[5000..].iter().all(|&b| b == 0));
    let s = resolve(&mut fs_, "/sparse").expect("sparse");
    let si = fs_.read_inode(s).expect("inode");
    let mut buf = [0u8; 8];
    fs_.read_data(&si, 70 << 20, &mut buf).expect("read");
    assert_eq!(&buf[..2], b"mi");
    let slow = resolve(&mut fs_, "/slow").expect("slow");
    assert_eq!(fs_.readlink(slow).expect("readlink"), slow_target.as_bytes());
    assert_eq!(resolve(&mut fs_, "/m").err(), Some(Error::NotFound));
    let _ = (m, FileType::Regular, Path::new("/"));
}

#[test]
fn write_1k_image() {
    exercise(1024);
}

#[test]
fn write_4k_image() {
    exercise(4096);
}

/// A file past 2 GiB turns on `large_file` (and lifts revision 0 to 1), by
/// writing or by truncating upwards; e2fsck then accepts the sizes.
#[test]
fn large_file_feature_is_turned_on() {
    for (name, extra) in
        [("large-rev1", &["-O", "^large_file"][..]), ("large-rev0", &["-r", "0"][..])]
    {
        let work = scratch(name);
        let img = mkfs(&work, None, 4096, 8192, extra);
        let (mut fs_, _) = mount(img, false);
        let a = write_file(&mut fs_, ROOT_INO, "written", b"");
        let mut ai = fs_.read_inode(a).expect("inode");
        fs_.write_data(&mut ai, 3 << 30, b"3G").expect("write at 3 GiB");
        let t = write_file(&mut fs_, ROOT_INO, "truncated", b"x");
        let mut ti = fs_.read_inode(t).expect("inode");
        fs_.truncate(&mut ti, 5 << 30).expect("truncate up");
        let img = fs_.unmount(NOW).expect("unmount").snapshot();
        assert_clean(&work, &img);
        let p = save(&work, &img);
        assert_eq!(stat_field(&debugfs(&p, "stat /written"), "Size:"), (3 << 30) + 2);
        assert_eq!(stat_field(&debugfs(&p, "stat /truncated"), "Size:"), 5 << 30);
        let hdr = std::process::Command::new("/usr/sbin/dumpe2fs")
            .arg("-h")
            .arg(&p)
            .output()
            .expect("dumpe2fs");
        let hdr = String::from_utf8_lossy(&hdr.stdout);
        assert!(
            hdr.lines().any(|l| l.starts_with("Filesystem features:") && l.contains("large_file")),
            "{hdr}"
        );
    }
}

/// Filling the disk and the inode table gives `NoSpace`, leaves the file
/// system consistent, and frees everything again on unlink.
#[test]
fn running_out_of_space() {
    let work = scratch("nospace");
    let img = mkfs(&work, None, 1024, 1024, &["-N", "32"]);
    let (mut fs_, _) = mount(img, false);
    let free0 = fs_.statfs();
    let f = write_file(&mut fs_, ROOT_INO, "filler", b"");
    let mut fi = fs_.read_inode(f).expect("inode");
    let chunk = vec![0xabu8; 64 * 1024];
    let mut pos = 0u64;
    let err = loop {
        match fs_.write_data(&mut fi, pos, &chunk) {
            Ok(n) => pos += n as u64,
            Err(e) => break e,
        }
    };
    assert_eq!(err, Error::NoSpace);
    let fi = fs_.read_inode(f).expect("inode");
    assert!(fi.size >= pos && fi.size < pos + chunk.len() as u64);
    assert_eq!(fs_.statfs().blocks_free, 0);
    assert_eq!(fs_.mkdir(ROOT_INO, b"nodir", 0o755, C), Err(Error::NoSpace));
    assert_eq!(fs_.symlink(ROOT_INO, b"slow", &[b'x'; 100], C), Err(Error::NoSpace));
    let mut n = 0;
    let err = loop {
        match fs_.create(ROOT_INO, format!("f{n}").as_bytes(), REG, (0, 0), C) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err, Error::NoSpace);
    assert_eq!(fs_.statfs().files_free, 0);
    let img = fs_.unmount(NOW).expect("unmount").snapshot();
    assert_clean(&work, &img);

    let (mut fs_, _) = mount(img, false);
    let gone = fs_.unlink(ROOT_INO, b"filler", NOW).expect("unlink");
    assert!(fs_.evict(gone.ino, NOW).expect("evict"));
    for i in 0..n {
        let gone = fs_.unlink(ROOT_INO, format!("f{i}").as_bytes(), NOW).expect("unlink");
        assert!(fs_.evict(gone.ino, NOW).expect("evict"));
    }
    let st = fs_.statfs();
    assert_eq!((st.blocks_free, st.files_free), (free0.blocks_free, free0.files_free));
    let img = fs_.unmount(NOW).expect("unmount").snapshot();
    assert_clean(&work, &img);
}

/// `readdir` resumes at the `next_pos` it handed out, and `statfs` agrees
/// with what `dumpe2fs` reads from the superblock.
#[test]
fn readdir_resumes_and_statfs_matches() {
    let work = scratch("readdir-resume");
    let src = work.join("src");
    fs::create_dir_all(&src).expect("mkdir");
    for i in 0..300 {
        fs::write(src.join(format!("n{i}")), b"").expect("write");
    }
    let img = mkfs(&work, Some(&src), 1024, 2048, &["-N", "512"]);
    let (mut fs_, _) = mount(img.clone(), true);
    let all = list(&mut fs_, ROOT_INO);
    let mut resumed = Vec::new();
    let mut pos = 0;
    loop {
        let mut got = 0;
        fs_.readdir(ROOT_INO, pos, |name, _, _, next| {
            if name != b"." && name != b".." {
                resumed.push(name.to_vec());
            }
            pos = next;
            got += 1;
            got < 7
        })
        .expect("readdir");
        if got < 7 {
            break;
        }
    }
    assert_eq!(resumed, all.iter().map(|e| e.0.clone()).collect::<Vec<_>>());
    let st = fs_.statfs();
    let p = save(&work, &img);
    let hdr = std::process::Command::new("/usr/sbin/dumpe2fs")
        .arg("-h")
        .arg(&p)
        .output()
        .expect("dumpe2fs");
    let hdr = String::from_utf8_lossy(&hdr.stdout);
    assert_eq!(stat_field(&hdr, "Free blocks:"), u64::from(st.blocks_free));
    assert_eq!(stat_field(&hdr, "Free inodes:"), u64::from(st.files_free));
    assert_eq!(stat_field(&hdr, "Inode count:"), u64::from(st.files));
    assert_eq!(FileType::Regular.dt(), 8);
    assert_eq!(FileType::Dir.dt(), 4);
}

/// `remount`: read-only to read-write counts the mount and marks the disk
/// not clean; back to read-only marks it clean again and refuses writes,
/// and `e2fsck -fn` finds the image clean (Linux: `ext2_remount`).
#[test]
fn remount_read_only_and_back() {
    let work = scratch("remount");
    let img = mkfs(&work, None, 1024, 1024, &[]);
    let (mut fs_, dev) = mount(img, true);
    let state = |dev: &MemDev| {
        let d = dev.snapshot();
        (
            u16::from_le_bytes([d[1024 + 58], d[1024 + 59]]),
            u16::from_le_bytes([d[1024 + 52], d[1024 + 53]]),
        )
    };
    let (clean, count) = state(&dev);
    assert_eq!(clean, 1, "mkfs leaves it clean");
    assert_eq!(fs_.create(ROOT_INO, b"no", REG, (0, 0), C), Err(Error::ReadOnly));
    fs_.remount(false, NOW).expect("remount rw");
    assert!(!fs_.is_read_only());
    assert_eq!(state(&dev), (0, count + 1), "rw: not clean, mount counted");
    write_file(&mut fs_, ROOT_INO, "yes", b"written after remount");
    fs_.remount(true, NOW).expect("remount ro");
    assert!(fs_.is_read_only());
    assert_eq!(state(&dev).0, 1, "ro again: clean");
    assert_eq!(fs_.create(ROOT_INO, b"no", REG, (0, 0), C), Err(Error::ReadOnly));
    fs_.remount(true, NOW).expect("ro to ro is nothing");
    assert_clean(&work, &dev.snapshot());
    let ino = resolve(&mut fs_, "/yes").expect("file kept");
    assert_eq!(read_all(&mut fs_, ino), b"written after remount");
}

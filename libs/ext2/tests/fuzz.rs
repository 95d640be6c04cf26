//! A stable-toolchain stand-in for cargo-fuzz: random byte damage to a small
//! real image (seeded, thousands of cases), then mount, a walk of the whole
//! tree with reads and readlinks, and a handful of writes. Any result is
//! fine except a panic (or a hang).

#![allow(
    clippy::cast_possible_truncation,
    reason = "test data on a 64-bit host; every value cast is small"
)]

mod common;

use common::*;
use ext2::{Creds, Ext2, FileType, ROOT_INO};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use std::fs;
use std::sync::OnceLock;

const C: Creds = Creds { uid: 0, gid: 0, now: NOW };

fn base_image() -> &'static Vec<u8> {
    static IMG: OnceLock<Vec<u8>> = OnceLock::new();
    IMG.get_or_init(|| {
        let work = scratch("fuzz-base");
        let src = work.join("src");
        fs::create_dir_all(src.join("d/e/f")).expect("mkdir");
        fs::write(src.join("small"), b"small file").expect("write");
        fs::write(src.join("d/ind"), vec![3u8; 20_000]).expect("write");
        for i in 0..40 {
            fs::write(src.join(format!("d/e/n{i}")), [i as u8; 100]).expect("write");
        }
        std::os::unix::fs::symlink("small", src.join("fast")).expect("symlink");
        std::os::unix::fs::symlink("q".repeat(200), src.join("slow")).expect("symlink");
        let f = fs::File::create(src.join("sparse")).expect("create");
        std::os::unix::fs::FileExt::write_at(&f, b"!", 300_000).expect("write_at");
        mkfs(&work, Some(&src), 1024, 512, &["-N", "64"])
    })
}

/// Walks the tree, bounded, reading everything; errors are fine.
fn walk(fs_: &mut Ext2<MemDev>, dir: u32, depth: u32, budget: &mut u32) {
    let mut entries = Vec::new();
    let _ = fs_.readdir(dir, 0, |name, ino, ft, _| {
        entries.push((name.to_vec(), ino, ft));
        entries.len() < 200
    });
    for (name, ino, ft) in entries {
        if *budget == 0 || name == b"." || name == b".." {
            continue;
        }
        *budget -= 1;
        let _ = fs_.lookup(dir, &name);
        let Ok(inode) = fs_.read_inode(ino) else { continue };
        let mut buf = vec![0u8; 8192];
        let _ = fs_.read_data(&inode, 0, &mut buf);
        let _ = fs_.read_data(&inode, 299_000, &mut buf);
        let _ = fs_.readlink(ino);
        if ft == FileType::Dir && depth < 6 {
            walk(fs_, ino, depth + 1, budget);
        }
    }
}

fn exercise(img: Vec<u8>) {
    if let Ok(mut fs_) = Ext2::mount(MemDev::new(img.clone()), true, NOW) {
        let _ = fs_.statfs();
        walk(&mut fs_, ROOT_INO, 0, &mut 300);
    }
    let Ok(mut fs_) = Ext2::mount(MemDev::new(img), false, NOW) else { return };
    walk(&mut fs_, ROOT_INO, 0, &mut 100);
    if let Ok(ino) = fs_.create(ROOT_INO, b"new", 0o100644, (0, 0), C)
        && let Ok(mut inode) = fs_.read_inode(ino)
    {
        let _ = fs_.write_data(&mut inode, 0, &[5u8; 3000]);
        let _ = fs_.write_data(&mut inode, 100_000, b"far");
        let _ = fs_.truncate(&mut inode, 10);
    }
    let _ = fs_.mkdir(ROOT_INO, b"nd", 0o755, C);
    let _ = fs_.symlink(ROOT_INO, b"ns", b"target", C);
    if let Ok(Some((d, _))) = fs_.lookup(ROOT_INO, b"d") {
        let _ = fs_.rename(ROOT_INO, b"small", d, b"moved", 0, NOW);
        let _ = fs_.rename(ROOT_INO, b"nd", d, b"nd2", 0, NOW);
        if let Ok(gone) = fs_.unlink(d, b"ind", NOW) {
            let _ = fs_.evict(gone.ino, NOW);
        }
    }
    if let Ok(gone) = fs_.rmdir(ROOT_INO, b"nd", NOW) {
        let _ = fs_.evict(gone.ino, NOW);
    }
    if let Ok(gone) = fs_.unlink(ROOT_INO, b"sparse", NOW) {
        let _ = fs_.evict(gone.ino, NOW);
    }
    let _ = fs_.unmount(NOW);
}

fn damage() -> impl Strategy<Value = Vec<(usize, u8)>> {
    let len = base_image().len();
    // Mostly the metadata at the front (superblock, descriptors, bitmaps,
    // inode table, directory and indirect blocks), sometimes anywhere.
    let off = prop_oneof![4 => 1024..64 * 1024usize, 1 => 0..len];
    prop::collection::vec((off, any::<u8>()), 1..12)
}

proptest! {
    #![proptest_config(Config { cases: 2000, rng_seed: RngSeed::Fixed(0xf022), failure_persistence: None, ..Config::default() })]
    #[test]
    fn damaged_images_never_panic(edits in damage()) {
        let mut img = base_image().clone();
        for (off, b) in edits {
            if let Some(x) = img.get_mut(off) {
                *x = b;
            }
        }
        exercise(img);
    }
}

#[test]
fn undamaged_base_image_is_clean_after_exercise() {
    let img = base_image().clone();
    let dev = MemDev::new(img.clone());
    drop(Ext2::mount(dev.clone(), false, NOW).expect("mount"));
    exercise(img);
    // The same writes on the good image must leave it clean.
    let mut fs_ = Ext2::mount(MemDev::new(base_image().clone()), false, NOW).expect("mount");
    walk(&mut fs_, ROOT_INO, 0, &mut 300);
    let ino = fs_.create(ROOT_INO, b"new", 0o100644, (0, 0), C).expect("create");
    let mut inode = fs_.read_inode(ino).expect("inode");
    fs_.write_data(&mut inode, 100_000, b"far").expect("write");
    let out = fs_.unmount(NOW).expect("unmount").snapshot();
    assert_clean(&scratch("fuzz-clean"), &out);
}

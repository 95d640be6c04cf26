//! Bad images: boot sectors that must be refused at mount, and random
//! damage that must give errors, never a panic (property test).

mod common;

use common::*;
use fat::{DirRef, Error, Fat};
use proptest::prelude::*;

/// The smallest sizes `mkfs.vfat` accepts for each width, about.
fn size_kib(bits: u32) -> u32 {
    match bits {
        12 => 1024,
        16 => 9 * 1024,
        _ => 34 * 1024,
    }
}

fn fresh(bits: u32) -> Vec<u8> {
    let work = scratch(&format!("corrupt{bits}"));
    std::fs::read(mkfs(&work, bits, size_kib(bits), &[])).expect("read image")
}

fn mount_err(img: Vec<u8>) -> Error {
    match Fat::mount(MemDev::new(img)) {
        Ok(_) => panic!("a bad boot sector was accepted"),
        Err(e) => e,
    }
}

#[test]
fn refuses_bad_boot_sectors() {
    for bits in [16, 32] {
        let good = fresh(bits);
        assert!(Fat::mount(MemDev::new(good.clone())).is_ok());
        let patches: [(usize, &[u8]); 8] = [
            (11, &[0, 3]), // 768-byte sectors
            (11, &[0, 0]), // no sector size
            (13, &[3]),    // 3 sectors per cluster
            (14, &[0, 0]), // no reserved sectors
            (16, &[0]),    // no FAT
            (21, &[0x12]), // bad media byte
            (19, &[1, 0]), // 1 sector in total
            (32, &[1, 0, 0, 0]),
        ];
        for (off, bytes) in patches {
            let mut img = good.clone();
            img[off..off + bytes.len()].copy_from_slice(bytes);
            if off == 32 {
                img[19..21].copy_from_slice(&[0, 0]);
            }
            assert!(matches!(mount_err(img), Error::Corrupt(_)), "patch at {off}");
        }
    }
    let mut img = fresh(32);
    img[44..48].copy_from_slice(&0x00FF_FFFF_u32.to_le_bytes());
    assert!(matches!(mount_err(img), Error::Corrupt(_)), "root cluster out of range");
    let mut img = fresh(16);
    img[17..19].copy_from_slice(&0u16.to_le_bytes());
    assert!(matches!(mount_err(img), Error::Corrupt(_)), "no root entries on FAT16");
    assert_eq!(mount_err(vec![0u8; 100]), Error::Io);
}

/// A chain that loops ends as corruption.
#[test]
fn chain_loop_is_corruption() {
    let work = scratch("loop");
    let img = mkfs(&work, 16, size_kib(16), &[]);
    let (mut fs, dev) = mount(&img);
    let f = fs.create(DirRef::Root, b"f", false, NOW).expect("create");
    let (ext, _) = fs.write(0, 0, 0, &pattern(5000, 1)).expect("write");
    fs.update_entry(f.pos, |r| (r.start, r.size) = (ext.start, ext.size)).expect("update");
    drop(fs);
    // Point the file's second cluster back at its first.
    let geo = Fat::mount(dev.clone()).expect("mount").geometry().to_owned();
    let second = {
        let mut fs = Fat::mount(dev.clone()).expect("mount");
        fs.chain(ext.start).expect("chain")[1]
    };
    let off = (geo.fat_start * geo.sector_size) as usize + second as usize * 2;
    dev.data.borrow_mut()[off..off + 2].copy_from_slice(&ext.start.to_le_bytes()[..2]);
    let mut fs = Fat::mount(dev).expect("mount");
    assert!(matches!(fs.chain(ext.start), Err(Error::Corrupt(_))));
    let mut buf = [0u8; 100];
    assert!(matches!(fs.read(ext.start, 100_000, 0, &mut buf), Err(Error::Corrupt(_))));
}

/// Runs every operation on an image; returns nothing, only must not panic.
fn exercise(img: Vec<u8>) {
    let Ok(mut fs) = Fat::mount(MemDev::new(img)) else { return };
    let _ = fs.statfs();
    let entries = fs.read_dir(DirRef::Root).unwrap_or_default();
    for e in entries.iter().take(8) {
        let mut buf = [0u8; 3000];
        let _ = fs.read(e.raw.start, e.raw.size, 0, &mut buf);
        let _ = fs.write(e.raw.start, e.raw.size, 100, b"data");
        let _ = fs.truncate(e.raw.start, e.raw.size, 10);
        if e.raw.is_dir() {
            let d = fs.dir_of(e.raw.start);
            let _ = fs.read_dir(d);
            let _ = fs.create(d, b"new file", false, NOW);
        }
        let _ = fs.rename(DirRef::Root, e, DirRef::Root, b"renamed");
        let _ = fs.remove(DirRef::Root, e);
        let _ = fs.free_chain(e.raw.start);
    }
    let _ = fs.create(DirRef::Root, b"x", true, NOW);
    let _ = fs.lookup(DirRef::Root, b"x");
    let _ = fs.sync();
}

/// A small volume with files and directories, made once per width.
fn populated(bits: u32) -> Vec<u8> {
    static IMAGES: std::sync::Mutex<Vec<(u32, Vec<u8>)>> = std::sync::Mutex::new(Vec::new());
    let mut cache = IMAGES.lock().expect("lock");
    if let Some((_, img)) = cache.iter().find(|(b, _)| *b == bits) {
        return img.clone();
    }
    let img = make_populated(bits);
    cache.push((bits, img.clone()));
    img
}

fn make_populated(bits: u32) -> Vec<u8> {
    let work = scratch(&format!("fuzz{bits}"));
    let img = mkfs(&work, bits, size_kib(bits), &[]);
    let (mut fs, dev) = mount(&img);
    for i in 0..6 {
        let e = fs.create(DirRef::Root, format!("file {i}").as_bytes(), i % 2 == 0, NOW);
        let e = e.expect("create");
        if !e.raw.is_dir() {
            let (ext, _) = fs.write(0, 0, 0, &pattern(3000 * i, 2)).expect("write");
            fs.update_entry(e.pos, |r| (r.start, r.size) = (ext.start, ext.size)).expect("upd");
        }
    }
    fs.unmount().expect("unmount");
    dev.snapshot()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Damage in the boot sector, the FATs and the root directory.
    #[test]
    fn random_damage_never_panics(
        bits in prop::sample::select(vec![12u32, 16, 32]),
        hits in prop::collection::vec((0usize..200_000, any::<u8>()), 1..40),
    ) {
        let mut img = populated(bits);
        // Aim most hits at the metadata at the front of the image.
        let meta = 64 * 1024;
        for (off, byte) in hits {
            let at = if off % 4 == 0 { off % img.len() } else { off % meta };
            img[at] = byte;
        }
        exercise(img);
    }
}

//! A property test against a model: random sequences of create, write,
//! truncate, remove and rename in two directories, applied to a FAT12 or
//! FAT16 volume and to a map of names (ASCII case folded) to contents.
//! After each sequence the library lists and reads exactly the model,
//! `fsck.vfat -n` finds nothing wrong, and mtools reads the same bytes.

mod common;

use std::collections::BTreeMap;

use common::*;
use fat::{DirRef, Error, Fat};
use proptest::prelude::*;

const NAMES: [&str; 8] = [
    "a",
    "B.txt",
    "long file name number one",
    "Long File Name Number Two.data",
    "x+y",
    "UPPER.TXT",
    "lower.txt",
    ".hidden",
];

#[derive(Debug, Clone)]
enum Op {
    Create(usize),
    Write(usize, u16, u16, u8),
    Truncate(usize, u16),
    Remove(usize),
    Rename(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let n = 0..NAMES.len() * 2;
    prop_oneof![
        n.clone().prop_map(Op::Create),
        (n.clone(), any::<u16>(), 0..6000u16, any::<u8>()).prop_map(|(i, o, l, s)| Op::Write(
            i,
            o % 9000,
            l,
            s
        )),
        (n.clone(), any::<u16>()).prop_map(|(i, s)| Op::Truncate(i, s % 12000)),
        n.clone().prop_map(Op::Remove),
        (n.clone(), n).prop_map(|(a, b)| Op::Rename(a, b)),
    ]
}

/// Model key: directory (0 root, 1 sub) and the folded name.
type Key = (usize, String);
type Model = BTreeMap<Key, (String, Vec<u8>)>;

fn key(i: usize) -> Key {
    (i / NAMES.len(), NAMES[i % NAMES.len()].to_ascii_lowercase())
}

fn name(i: usize) -> &'static str {
    NAMES[i % NAMES.len()]
}

struct Vol {
    fs: Fat<MemDev>,
    dirs: [DirRef; 2],
}

impl Vol {
    fn dir(&self, i: usize) -> DirRef {
        self.dirs[i / NAMES.len()]
    }

    fn apply(&mut self, model: &mut Model, op: &Op) {
        match *op {
            Op::Create(i) => {
                let r = self.fs.create(self.dir(i), name(i).as_bytes(), false, NOW);
                match model.entry(key(i)) {
                    std::collections::btree_map::Entry::Occupied(_) => {
                        assert_eq!(r, Err(Error::Exists));
                    }
                    std::collections::btree_map::Entry::Vacant(v) => {
                        r.expect("create");
                        v.insert((name(i).to_string(), Vec::new()));
                    }
                }
            }
            Op::Write(i, off, len, seed) => {
                // The kernel never passes an empty write down.
                let Some((_, data)) = model.get_mut(&key(i)).filter(|_| len > 0) else { return };
                let e = self.fs.lookup(self.dir(i), name(i).as_bytes()).expect("lookup");
                let bytes = pattern(usize::from(len), seed);
                let (ext, n) =
                    self.fs.write(e.raw.start, e.raw.size, u64::from(off), &bytes).expect("write");
                assert_eq!(n, bytes.len());
                self.fs.update_entry(e.pos, |r| (r.start, r.size) = (ext.start, ext.size)).ok();
                let (off, end) = (usize::from(off), usize::from(off) + bytes.len());
                if data.len() < end {
                    data.resize(end, 0);
                }
                data[off..end].copy_from_slice(&bytes);
            }
            Op::Truncate(i, size) => {
                let Some((_, data)) = model.get_mut(&key(i)) else { return };
                let e = self.fs.lookup(self.dir(i), name(i).as_bytes()).expect("lookup");
                let ext = self.fs.truncate(e.raw.start, e.raw.size, u64::from(size));
                let ext = ext.expect("truncate");
                self.fs.update_entry(e.pos, |r| (r.start, r.size) = (ext.start, ext.size)).ok();
                data.resize(usize::from(size), 0);
            }
            Op::Remove(i) => {
                let r = self.fs.lookup(self.dir(i), name(i).as_bytes());
                if model.remove(&key(i)).is_none() {
                    assert_eq!(r, Err(Error::NotFound));
                    return;
                }
                let e = r.expect("lookup");
                self.fs.remove(self.dir(i), &e).expect("remove");
                self.fs.free_chain(e.raw.start).expect("free");
            }
            Op::Rename(a, b) => {
                let Some(moved) = model.get(&key(a)).cloned() else { return };
                let src = self.fs.lookup(self.dir(a), name(a).as_bytes()).expect("lookup");
                if let Ok(t) = self.fs.lookup(self.dir(b), name(b).as_bytes())
                    && t.pos != src.pos
                {
                    self.fs.remove(self.dir(b), &t).expect("remove target");
                    self.fs.free_chain(t.raw.start).expect("free target");
                }
                let src = self.fs.lookup(self.dir(a), name(a).as_bytes()).expect("lookup");
                self.fs.rename(self.dir(a), &src, self.dir(b), name(b).as_bytes()).expect("mv");
                model.remove(&key(a));
                model.insert(key(b), (name(b).to_string(), moved.1));
            }
        }
    }

    /// The library shows exactly the model.
    fn check(&mut self, model: &Model) {
        for (d, dir) in self.dirs.into_iter().enumerate() {
            let mut seen: Vec<String> = self
                .fs
                .read_dir(dir)
                .expect("read_dir")
                .into_iter()
                .filter(|e| !e.is_dot() && !e.raw.is_dir())
                .map(|e| String::from_utf8(e.name).expect("utf-8"))
                .collect();
            seen.sort();
            let mut want: Vec<String> =
                model.iter().filter(|((md, _), _)| *md == d).map(|(_, (n, _))| n.clone()).collect();
            want.sort();
            assert_eq!(seen, want, "names in directory {d}");
        }
        for ((d, _), (n, data)) in model {
            let e = self.fs.lookup(self.dirs[*d], n.as_bytes()).expect("lookup");
            let mut buf = vec![0u8; data.len() + 1];
            let got = self.fs.read(e.raw.start, e.raw.size, 0, &mut buf).expect("read");
            assert_eq!(&buf[..got], &data[..], "contents of {n}");
        }
    }
}

fn run_ops(bits: u32, ops: &[Op]) {
    let work = scratch(&format!("model{bits}"));
    let img = mkfs(&work, bits, if bits == 12 { 1024 } else { 9 * 1024 }, &["-s", "1"]);
    let (mut fs, dev) = mount(&img);
    let sub = fs.create(DirRef::Root, b"sub", true, NOW).expect("mkdir");
    let dirs = [DirRef::Root, fs.dir_of(sub.raw.start)];
    let mut vol = Vol { fs, dirs };
    let mut model = Model::new();
    for op in ops {
        vol.apply(&mut model, op);
    }
    vol.check(&model);
    unmount(vol.fs, &dev, &img);
    fsck_clean(&img);
    for ((d, _), (n, data)) in &model {
        let path = if *d == 0 { n.clone() } else { format!("sub/{n}") };
        assert_eq!(&mtype(&img, &path), data, "mtools reads {path}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn matches_model(
        bits in prop::sample::select(vec![12u32, 16]),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        run_ops(bits, &ops);
    }
}

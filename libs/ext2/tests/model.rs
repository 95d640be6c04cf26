//! Random sequences of operations applied both to the crate and to an
//! in-memory model of the tree; each operation must succeed exactly when the
//! model says it should, and at the end `e2fsck -fn` must be clean and the
//! tree read back through a fresh mount must equal the model.

#![allow(
    clippy::cast_possible_truncation,
    reason = "test data on a 64-bit host; every value cast is small"
)]

mod common;

use common::*;
use ext2::{Creds, Ext2, ROOT_INO};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const C: Creds = Creds { uid: 0, gid: 0, now: NOW };
const NAMES: [&str; 5] = ["a", "b", "c", "dir", "a-much-longer-name-to-fill-blocks-faster"];

#[derive(Debug, Clone)]
enum Op {
    Create(usize, usize),
    Write(usize, u64, usize, u8),
    Truncate(usize, u64),
    Unlink(usize),
    Mkdir(usize, usize),
    Rmdir(usize),
    Rename(usize, usize, usize),
    Link(usize, usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let pos = prop_oneof![6 => 0..20_000u64, 4 => 0..300_000u64, 1 => Just(70 << 20)];
    prop_oneof![
        (any::<usize>(), 0..NAMES.len()).prop_map(|(d, n)| Op::Create(d, n)),
        (any::<usize>(), pos, 0..5000usize, any::<u8>())
            .prop_map(|(f, p, l, s)| Op::Write(f, p, l, s)),
        (any::<usize>(), prop_oneof![0..20_000u64, 0..400_000u64])
            .prop_map(|(f, s)| Op::Truncate(f, s)),
        any::<usize>().prop_map(Op::Unlink),
        (any::<usize>(), 0..NAMES.len()).prop_map(|(d, n)| Op::Mkdir(d, n)),
        any::<usize>().prop_map(Op::Rmdir),
        (any::<usize>(), any::<usize>(), 0..NAMES.len()).prop_map(|(s, d, n)| Op::Rename(s, d, n)),
        (any::<usize>(), any::<usize>(), 0..NAMES.len()).prop_map(|(f, d, n)| Op::Link(f, d, n)),
    ]
}

/// The model: path → inode, and each file inode's contents.
#[derive(Default)]
struct Model {
    paths: BTreeMap<String, (u32, bool)>,
    data: BTreeMap<u32, Vec<u8>>,
}

impl Model {
    fn dirs(&self) -> Vec<String> {
        let mut v = vec![String::new()];
        v.extend(self.paths.iter().filter(|(_, (_, d))| *d).map(|(p, _)| p.clone()));
        v
    }
    fn files(&self) -> Vec<String> {
        self.paths.iter().filter(|(_, (_, d))| !*d).map(|(p, _)| p.clone()).collect()
    }
    fn ino_of_dir(&self, p: &str) -> u32 {
        if p.is_empty() { ROOT_INO } else { self.paths[p].0 }
    }
    fn is_empty_dir(&self, p: &str) -> bool {
        let prefix = format!("{p}/");
        !self.paths.keys().any(|k| k.starts_with(&prefix))
    }
    fn drop_path(&mut self, p: &str, fs_: &mut Ext2<MemDev>) {
        let (ino, _) = self.paths.remove(p).expect("path");
        if !self.paths.values().any(|(i, _)| *i == ino) {
            self.data.remove(&ino);
            assert!(fs_.evict(ino, NOW).expect("evict"), "{p} not freed");
        }
    }
}

fn pick<T: Clone>(v: &[T], i: usize) -> Option<T> {
    if v.is_empty() { None } else { Some(v[i % v.len()].clone()) }
}

fn apply(fs_: &mut Ext2<MemDev>, m: &mut Model, op: &Op) {
    match *op {
        Op::Create(d, n) | Op::Mkdir(d, n) => {
            let dir = pick(&m.dirs(), d).expect("root");
            let path = format!("{dir}/{}", NAMES[n]);
            let is_dir = matches!(op, Op::Mkdir(..));
            let di = m.ino_of_dir(&dir);
            let r = if is_dir {
                fs_.mkdir(di, NAMES[n].as_bytes(), 0o755, C)
            } else {
                fs_.create(di, NAMES[n].as_bytes(), 0o100644, (0, 0), C)
            };
            assert_eq!(r.is_ok(), !m.paths.contains_key(&path), "{op:?} {r:?}");
            if let Ok(ino) = r {
                m.paths.insert(path, (ino, is_dir));
                if !is_dir {
                    m.data.insert(ino, Vec::new());
                }
            }
        }
        Op::Write(f, pos, len, seed) => {
            let Some(p) = pick(&m.files(), f) else { return };
            let ino = m.paths[&p].0;
            let bytes: Vec<u8> = (0..len).map(|i| seed.wrapping_add(i as u8) | 1).collect();
            let mut inode = fs_.read_inode(ino).expect("inode");
            fs_.write_data(&mut inode, pos, &bytes).expect("write");
            let d = m.data.get_mut(&ino).expect("data");
            let end = pos as usize + len;
            if d.len() < end {
                d.resize(end, 0);
            }
            d[pos as usize..end].copy_from_slice(&bytes);
        }
        Op::Truncate(f, size) => {
            let Some(p) = pick(&m.files(), f) else { return };
            let ino = m.paths[&p].0;
            let mut inode = fs_.read_inode(ino).expect("inode");
            fs_.truncate(&mut inode, size).expect("truncate");
            m.data.get_mut(&ino).expect("data").resize(size as usize, 0);
        }
        Op::Unlink(f) => {
            let Some(p) = pick(&m.files(), f) else { return };
            let (dir, name) = p.rsplit_once('/').expect("slash");
            fs_.unlink(m.ino_of_dir(dir), name.as_bytes(), NOW).expect("unlink");
            m.drop_path(&p, fs_);
        }
        Op::Rmdir(d) => {
            let dirs: Vec<String> = m.dirs().into_iter().filter(|d| !d.is_empty()).collect();
            let Some(p) = pick(&dirs, d) else { return };
            let (parent, name) = p.rsplit_once('/').expect("slash");
            let r = fs_.rmdir(m.ino_of_dir(parent), name.as_bytes(), NOW);
            assert_eq!(r.is_ok(), m.is_empty_dir(&p), "{op:?} {r:?}");
            if r.is_ok() {
                m.drop_path(&p, fs_);
            }
        }
        Op::Rename(s, d, n) => {
            let all: Vec<String> = m.paths.keys().cloned().collect();
            let Some(src) = pick(&all, s) else { return };
            let dir = pick(&m.dirs(), d).expect("root");
            let dst = format!("{dir}/{}", NAMES[n]);
            let (sdir, sname) = src.rsplit_once('/').expect("slash");
            let (sino, sdir_is) = m.paths[&src];
            let into_self = sdir_is && (dir == src || dir.starts_with(&format!("{src}/")));
            let valid = !into_self
                && match m.paths.get(&dst) {
                    None => true,
                    Some(&(tino, tdir)) => {
                        tino == sino || (sdir_is == tdir && (!tdir || m.is_empty_dir(&dst)))
                    }
                };
            let r = fs_.rename(
                m.ino_of_dir(sdir),
                sname.as_bytes(),
                m.ino_of_dir(&dir),
                NAMES[n].as_bytes(),
                0,
                NOW,
            );
            assert_eq!(r.is_ok(), valid, "{op:?} {src} -> {dst}: {r:?}");
            if r.is_err() || m.paths.get(&dst).is_some_and(|t| t.0 == sino) {
                return;
            }
            if m.paths.contains_key(&dst) {
                m.drop_path(&dst, fs_);
            }
            let moved: Vec<(String, (u32, bool))> = m
                .paths
                .iter()
                .filter(|(k, _)| *k == &src || k.starts_with(&format!("{src}/")))
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            for (k, v) in moved {
                m.paths.remove(&k);
                m.paths.insert(format!("{dst}{}", &k[src.len()..]), v);
            }
        }
        Op::Link(f, d, n) => {
            let Some(p) = pick(&m.files(), f) else { return };
            let dir = pick(&m.dirs(), d).expect("root");
            let dst = format!("{dir}/{}", NAMES[n]);
            let ino = m.paths[&p].0;
            let r = fs_.link(ino, m.ino_of_dir(&dir), NAMES[n].as_bytes(), NOW);
            assert_eq!(r.is_ok(), !m.paths.contains_key(&dst), "{op:?} {r:?}");
            if r.is_ok() {
                m.paths.insert(dst, (ino, false));
            }
        }
    }
}

/// Every path of the tree read through the crate, with file contents.
fn walk(
    fs_: &mut Ext2<MemDev>,
    dir: u32,
    prefix: &str,
    out: &mut BTreeMap<String, Option<Vec<u8>>>,
) {
    for (name, ino, ft) in list(fs_, dir) {
        let name = String::from_utf8(name).expect("utf8");
        if prefix.is_empty() && name == "lost+found" {
            continue;
        }
        let path = format!("{prefix}/{name}");
        if ft == ext2::FileType::Dir {
            out.insert(path.clone(), None);
            walk(fs_, ino, &path, out);
        } else {
            out.insert(path, Some(read_all(fs_, ino)));
        }
    }
}

fn base_image() -> &'static Vec<u8> {
    static IMG: OnceLock<Vec<u8>> = OnceLock::new();
    IMG.get_or_init(|| mkfs(&scratch("model-base"), None, 1024, 8192, &[]))
}

proptest! {
    #![proptest_config(Config { cases: 48, rng_seed: RngSeed::Fixed(0xe2f5), failure_persistence: None, ..Config::default() })]
    #[test]
    fn ops_match_model(ops in prop::collection::vec(op(), 1..60)) {
        let (mut fs_, _) = mount(base_image().clone(), false);
        let mut m = Model::default();
        for o in &ops {
            apply(&mut fs_, &mut m, o);
        }
        let img = fs_.unmount(NOW).expect("unmount").snapshot();
        let work = scratch(&format!("model-{}", std::process::id()));
        assert_clean(&work, &img);
        let (mut fs_, _) = mount(img, true);
        let mut got = BTreeMap::new();
        walk(&mut fs_, ROOT_INO, "", &mut got);
        let want: BTreeMap<String, Option<Vec<u8>>> = m
            .paths
            .iter()
            .map(|(p, (ino, d))| (p.clone(), if *d { None } else { Some(m.data[ino].clone()) }))
            .collect();
        prop_assert!(got == want, "tree differs: got {:?}\nwant {:?}", got.keys(), want.keys());
    }
}

//! Helpers shared by the integration tests: an in-memory block device and
//! wrappers around e2fsprogs (`mke2fs`, `e2fsck`, `debugfs`). The tools must
//! be installed (`cargo xtask test` installs e2fsprogs): tests fail, not
//! skip, without them.
#![allow(dead_code)]

use ext2::{BlockIo, Error, Ext2};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

/// A disk image in memory, shared so a test can look at it while mounted.
#[derive(Clone)]
pub struct MemDev {
    pub data: Rc<RefCell<Vec<u8>>>,
}

impl MemDev {
    pub fn new(img: Vec<u8>) -> Self {
        MemDev { data: Rc::new(RefCell::new(img)) }
    }
    pub fn snapshot(&self) -> Vec<u8> {
        self.data.borrow().clone()
    }
}

impl BlockIo for MemDev {
    fn read_block(&mut self, block: u32, buf: &mut [u8]) -> Result<(), Error> {
        let off = block as usize * buf.len();
        let d = self.data.borrow();
        buf.copy_from_slice(d.get(off..off + buf.len()).ok_or(Error::Io)?);
        Ok(())
    }
    fn write_block(&mut self, block: u32, buf: &[u8]) -> Result<(), Error> {
        let off = block as usize * buf.len();
        let mut d = self.data.borrow_mut();
        d.get_mut(off..off + buf.len()).ok_or(Error::Io)?.copy_from_slice(buf);
        Ok(())
    }
}

pub const NOW: u32 = 1_700_000_000;

/// A fresh scratch directory under the target dir.
pub fn scratch(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ext2-tests").join(name);
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).expect("create scratch dir");
    p
}

fn tool(name: &str) -> Command {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return Command::new(p);
        }
    }
    panic!("{name} not found: install e2fsprogs (apt-get install -y e2fsprogs)");
}

/// Runs `mke2fs -t ext2 -b BS [-d SRC] [extra] IMG SIZE_KIB` and returns the image.
pub fn mkfs(work: &Path, src: Option<&Path>, bs: u32, size_kib: u32, extra: &[&str]) -> Vec<u8> {
    let img = work.join("mkfs.img");
    let _ = std::fs::remove_file(&img);
    let mut c = tool("mke2fs");
    c.args(["-q", "-F", "-t", "ext2", "-b", &bs.to_string(), "-E", "root_owner=0:0"]);
    if let Some(s) = src {
        c.arg("-d").arg(s);
    }
    c.args(extra).arg(&img).arg(size_kib.to_string());
    let out = c.output().expect("run mke2fs");
    assert!(out.status.success(), "mke2fs failed: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(&img).expect("read image")
}

/// Writes `img` to `work/check.img` and returns its path.
pub fn save(work: &Path, img: &[u8]) -> PathBuf {
    let p = work.join("check.img");
    std::fs::write(&p, img).expect("write image");
    p
}

/// Runs `e2fsck -fn`; returns (exit code, output).
pub fn fsck(work: &Path, img: &[u8]) -> (i32, String) {
    let p = save(work, img);
    let out = tool("e2fsck").arg("-fn").arg(&p).output().expect("run e2fsck");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// Asserts `e2fsck -fn` finds nothing to fix.
pub fn assert_clean(work: &Path, img: &[u8]) {
    let (code, text) = fsck(work, img);
    assert_eq!(code, 0, "e2fsck -fn not clean:\n{text}");
}

/// Runs `debugfs -R CMD` on an image file; returns stdout.
pub fn debugfs(img: &Path, cmd: &str) -> String {
    let out = tool("debugfs").arg("-R").arg(cmd).arg(img).output().expect("run debugfs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Mounts an image held in memory.
pub fn mount(img: Vec<u8>, ro: bool) -> (Ext2<MemDev>, MemDev) {
    let dev = MemDev::new(img);
    let fs = Ext2::mount(dev.clone(), ro, NOW).expect("mount");
    (fs, dev)
}

/// Resolves an absolute path through the crate.
pub fn resolve(fs: &mut Ext2<MemDev>, path: &str) -> Result<u32, Error> {
    let mut ino = ext2::ROOT_INO;
    for c in path.split('/').filter(|c| !c.is_empty()) {
        ino = fs.lookup(ino, c.as_bytes())?.ok_or(Error::NotFound)?.0;
    }
    Ok(ino)
}

/// Reads a whole file through the crate.
pub fn read_all(fs: &mut Ext2<MemDev>, ino: u32) -> Vec<u8> {
    let inode = fs.read_inode(ino).expect("read inode");
    let mut buf = vec![0u8; usize::try_from(inode.size).expect("file fits in memory")];
    let n = fs.read_data(&inode, 0, &mut buf).expect("read data");
    buf.truncate(n);
    buf
}

/// All entries of a directory but `.` and `..`.
pub fn list(fs: &mut Ext2<MemDev>, dir: u32) -> Vec<(Vec<u8>, u32, ext2::FileType)> {
    let mut v = Vec::new();
    fs.readdir(dir, 0, |name, ino, ft, _| {
        if name != b"." && name != b".." {
            v.push((name.to_vec(), ino, ft));
        }
        true
    })
    .expect("readdir");
    v
}

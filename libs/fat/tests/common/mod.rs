//! Helpers shared by the integration tests: an in-memory sector device
//! and wrappers around dosfstools (`mkfs.vfat`, `fsck.vfat`) and mtools
//! (`mcopy`, `mmd`, `mtype`, `mdir`). The tools must be installed
//! (`cargo xtask test` installs dosfstools and mtools): tests fail, not
//! skip, without them.
#![allow(dead_code)]

use fat::{BlockIo, Error, Fat};
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
    fn read_sector(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), Error> {
        let off = usize::try_from(sector).map_err(|_| Error::Io)? * buf.len();
        let d = self.data.borrow();
        buf.copy_from_slice(d.get(off..off + buf.len()).ok_or(Error::Io)?);
        Ok(())
    }
    fn write_sector(&mut self, sector: u64, buf: &[u8]) -> Result<(), Error> {
        let off = usize::try_from(sector).map_err(|_| Error::Io)? * buf.len();
        let mut d = self.data.borrow_mut();
        d.get_mut(off..off + buf.len()).ok_or(Error::Io)?.copy_from_slice(buf);
        Ok(())
    }
}

pub const NOW: i64 = 1_700_000_000;

/// A fresh scratch directory under the target dir.
pub fn scratch(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fat-tests").join(name);
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).expect("create scratch dir");
    p
}

fn tool(name: &str) -> Command {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            let mut c = Command::new(p);
            // mtools refuses images whose geometry it cannot check otherwise.
            c.env("MTOOLS_SKIP_CHECK", "1");
            return c;
        }
    }
    panic!(
        "{name} not found: install dosfstools and mtools (apt-get install -y dosfstools mtools)"
    );
}

/// Runs `mkfs.vfat -F BITS [extra] IMG SIZE_KIB` and returns the image path.
pub fn mkfs(work: &Path, bits: u32, size_kib: u32, extra: &[&str]) -> PathBuf {
    let img = work.join("fat.img");
    let _ = std::fs::remove_file(&img);
    let out = tool("mkfs.vfat")
        .args(["-C", "-F", &bits.to_string(), "-i", "12345678"])
        .args(extra)
        .arg(&img)
        .arg(size_kib.to_string())
        .output()
        .expect("run mkfs.vfat");
    assert!(out.status.success(), "mkfs.vfat failed: {}", String::from_utf8_lossy(&out.stderr));
    img
}

/// Runs a tool on `img` with `args` (`::` image syntax for mtools).
pub fn run(name: &str, args: &[&str]) -> String {
    let out = tool(name).args(args).output().expect("run tool");
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `fsck.vfat -n` finds nothing wrong with `img`.
pub fn fsck_clean(img: &Path) {
    let out = tool("fsck.vfat").arg("-n").arg(img).output().expect("run fsck.vfat");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "fsck.vfat -n found problems:\n{text}");
}

/// `mtype -i IMG ::PATH`: a file's bytes as mtools reads them.
pub fn mtype(img: &Path, path: &str) -> Vec<u8> {
    let out = tool("mtype")
        .args(["-i", img.to_str().expect("utf-8 path"), &format!("::{path}")])
        .output()
        .expect("run mtype");
    assert!(out.status.success(), "mtype {path}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Mounts the image file `img` from memory.
pub fn mount(img: &Path) -> (Fat<MemDev>, MemDev) {
    let dev = MemDev::new(std::fs::read(img).expect("read image"));
    let fs = Fat::mount(dev.clone()).expect("mount");
    (fs, dev)
}

/// Unmounts and writes the image back to `img`.
pub fn unmount(fs: Fat<MemDev>, dev: &MemDev, img: &Path) {
    fs.unmount().expect("unmount");
    std::fs::write(img, dev.snapshot()).expect("write image");
}

/// A deterministic pseudo-random byte pattern.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i.to_le_bytes()[0]).wrapping_mul(31).wrapping_add(seed) ^ i.to_le_bytes()[1])
        .collect()
}

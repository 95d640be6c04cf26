//! devpts: the file system of pty slaves, `/dev/pts/N`, and `/dev/pts/ptmx`.
//!
//! Linux: fs/devpts/inode.c (`devpts_fill_super`, `mknod_ptmx`,
//! `devpts_acquire`, `devpts_mntget`, `devpts_new_index`,
//! `devpts_pty_new`, `devpts_pty_kill`).
//!
//! Every mount is a new instance ([`PtsFsInfo`]), as in Linux since 4.7:
//! its own numbers (an IDR), its own options (`uid=`, `gid=`, `mode=`,
//! `ptmxmode=`, `max=`; `newinstance` is accepted and changes nothing) and
//! its own `ptmx` node (5:2, inode 2, mode `ptmxmode`, 0 by default). An
//! open of a `ptmx` finds its instance as Linux does: the devpts it lives
//! in, or the devpts mounted on `pts` beside it (`/dev/ptmx` finds
//! `/dev/pts`). The pty driver (drivers/tty/pty.rs) then takes a number
//! ([`devpts_new_index`]), makes the slave's node `N` ([`devpts_pty_new`],
//! mode `mode=`, owned by the opener or `uid=`/`gid=`, inode N + 3) and
//! removes it when the master closes ([`devpts_pty_kill`]); the number
//! is given back once both ends are closed ([`devpts_kill_index`]).
//!
//! The directory is not cached by the dentry cache's rules alone: names
//! come and go without a VFS call, so a dentry stays valid only while a
//! lookup would still give the same inode ([`FileSystemType::d_revalidate`],
//! Linux's `DCACHE_DONTCACHE` plus `d_drop` in `devpts_pty_kill`).
//!
//! The instance is owned by its root inode; each pty holds it too (Linux:
//! `devpts_acquire` takes `s_active`), so an unmounted devpts lives until
//! its last pty closes. The super block reaches it through a `Weak`.
//!
//! # Locking
//! `PtsFsInfo::ptys` (the IDR and the nodes) and `PtsFsInfo::opts` are
//! `SpinLockNoIrq` leaves: held to look up, insert or remove, never
//! across an allocation of an inode or a call out of this file.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicU32, Ordering};

use idr::Idr;
use linux_raw_sys::general as uapi;

use super::FsCred;
use super::dcache::Dentry;
use super::file_table::{File, FileOps};
use super::inode::{DevT, FileType, Inode, InodeAttr, InodeOps};
use super::namei::lookup_one;
use super::namespace::{Path, lookup_mnt};
use super::proc::generic::SeqBuf;
use super::readdir::DirContext;
use super::super_block::{FileSystemType, SuperBlock, SuperOperations, register_filesystem};
use crate::drivers::tty::tty_io::Tty;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLockNoIrq;

/// Linux: `DEVPTS_SUPER_MAGIC`.
pub const DEVPTS_SUPER_MAGIC: u64 = uapi::DEVPTS_SUPER_MAGIC as u64;
/// Linux: `UNIX98_PTY_SLAVE_MAJOR`.
pub const UNIX98_PTY_SLAVE_MAJOR: u32 = 136;
/// Linux: `NR_UNIX98_PTY_MAX`, the minors of major 136.
pub const NR_UNIX98_PTY_MAX: u32 = 1 << 20;
/// Linux: `NR_UNIX98_PTY_DEFAULT`, `/proc/sys/kernel/pty/max`.
const NR_UNIX98_PTY_DEFAULT: u32 = 4096;

/// Ptys open in all instances (Linux: `pty_count`, `/proc/sys/kernel/pty/nr`).
pub static PTY_COUNT: AtomicU32 = AtomicU32::new(0);
/// At most this many (Linux: `pty_limit`, `/proc/sys/kernel/pty/max`).
pub static PTY_LIMIT: AtomicU32 = AtomicU32::new(NR_UNIX98_PTY_DEFAULT);

/// Mount options (Linux: `struct pts_mount_opts`).
#[derive(Clone, Copy, Debug)]
struct PtsMountOpts {
    uid: Option<u32>,
    gid: Option<u32>,
    mode: u32,
    ptmxmode: u32,
    max: u32,
}

impl PtsMountOpts {
    /// Linux: `devpts_parse_param`; an unknown option is `EINVAL`.
    fn parse(data: &[u8]) -> KResult<Self> {
        let mut opts =
            Self { uid: None, gid: None, mode: 0o600, ptmxmode: 0, max: NR_UNIX98_PTY_MAX };
        let text = core::str::from_utf8(data).map_err(|_| Errno::EINVAL)?;
        for opt in text.trim_end_matches('\0').split(',').filter(|o| !o.is_empty()) {
            let (key, value) = opt.split_once('=').unwrap_or((opt, ""));
            let dec = || value.parse::<u32>().map_err(|_| Errno::EINVAL);
            let oct =
                || u32::from_str_radix(value, 8).map(|m| m & 0o7777).map_err(|_| Errno::EINVAL);
            match key {
                "uid" => opts.uid = Some(dec()?),
                "gid" => opts.gid = Some(dec()?),
                "mode" => opts.mode = oct()?,
                "ptmxmode" => opts.ptmxmode = oct()?,
                "max" => opts.max = dec()?.min(NR_UNIX98_PTY_MAX),
                "newinstance" => {}
                _ => return Err(Errno::EINVAL),
            }
        }
        Ok(opts)
    }
}

/// The numbers in use and the slaves' nodes, by number.
#[derive(Default)]
struct PtsTable {
    ida: Idr<()>,
    nodes: BTreeMap<u32, Arc<Inode>>,
}

/// One devpts instance (Linux: `struct pts_fs_info`).
pub struct PtsFsInfo {
    opts: SpinLockNoIrq<PtsMountOpts>,
    ptys: SpinLockNoIrq<PtsTable>,
    ptmx: spin::Once<Arc<Inode>>,
}

/// The "devpts" file-system type (Linux: `devpts_fs_type`).
pub struct Devpts;
pub static DEVPTS: Devpts = Devpts;

impl FileSystemType for Devpts {
    fn name(&self) -> &'static str {
        "devpts"
    }

    /// A new instance (Linux: `devpts_get_tree` -> `devpts_fill_super`,
    /// `mknod_ptmx`).
    fn mount(&'static self, _source: &[u8], data: &[u8], _sb_flags: u32) -> KResult<Arc<Inode>> {
        let opts = PtsMountOpts::parse(data)?;
        let fsi = Arc::new(PtsFsInfo {
            opts: SpinLockNoIrq::new(opts),
            ptys: SpinLockNoIrq::new(PtsTable::default()),
            ptmx: spin::Once::new(),
        });
        let info = Box::new(Arc::downgrade(&fsi));
        let sb = SuperBlock::new_anon_with_ops(self, DEVPTS_SUPER_MAGIC, &DEVPTS_SOPS, info);
        let cred = current_cred();
        let mut attr = InodeAttr::new(uapi::S_IFCHR | opts.ptmxmode, cred.fsuid, cred.fsgid);
        attr.rdev = DevT::new(crate::drivers::tty::tty_io::TTYAUX_MAJOR, 2);
        let ptmx = new_node(&sb, 2, attr, Box::new(()))?;
        fsi.ptmx.call_once(|| ptmx);
        let root = InodeAttr::new(uapi::S_IFDIR | 0o755, 0, 0);
        Inode::new_with_mapping(
            sb,
            1,
            root,
            (&DEVPTS_DIR_IOPS, &DEVPTS_DIR_FOPS, None),
            Box::new(fsi),
        )
    }

    /// A name is valid while a lookup would find the same inode: slaves
    /// appear and vanish without the VFS (Linux: `devpts_pty_kill` drops
    /// the dentry).
    fn d_revalidate(&self, dentry: &Dentry) -> bool {
        let Some(fsi) = sb_info(&dentry.d_sb) else { return false };
        if dentry.is_root() {
            return true;
        }
        let now = fsi.lookup(&dentry.name());
        match (now, dentry.inode()) {
            (Some(a), Some(b)) => Arc::ptr_eq(&a, &b),
            (None, None) => true,
            _ => false,
        }
    }
}

/// Linux: `devpts_sops`.
struct DevptsSuperOps;
static DEVPTS_SOPS: DevptsSuperOps = DevptsSuperOps;

impl SuperOperations for DevptsSuperOps {
    /// Linux: `devpts_show_options`: `/proc/mounts` shows
    /// `gid=5,mode=620,ptmxmode=000` for Debian's mount.
    fn show_options(&self, sb: &SuperBlock, m: &mut SeqBuf) -> KResult<()> {
        let Some(fsi) = sb_info(sb) else { return Ok(()) };
        let o = *fsi.opts.lock();
        if let Some(uid) = o.uid {
            m.printf(format_args!(",uid={uid}"))?;
        }
        if let Some(gid) = o.gid {
            m.printf(format_args!(",gid={gid}"))?;
        }
        m.printf(format_args!(",mode={:03o},ptmxmode={:03o}", o.mode, o.ptmxmode))?;
        if o.max < NR_UNIX98_PTY_MAX {
            m.printf(format_args!(",max={}", o.max))?;
        }
        Ok(())
    }
}

/// A device node of the instance numbered `ino`.
fn new_node(
    sb: &Arc<SuperBlock>,
    ino: u64,
    attr: InodeAttr,
    private: Box<dyn core::any::Any + Send + Sync>,
) -> KResult<Arc<Inode>> {
    Inode::new_with_mapping(
        sb.clone(),
        ino,
        attr,
        (&DEVPTS_NODE_IOPS, &DEVPTS_DIR_FOPS, None),
        private,
    )
}

fn current_cred() -> FsCred {
    let cred = crate::kernel::sched::current().cred();
    FsCred { fsuid: cred.fsuid, fsgid: cred.fsgid }
}

/// The instance of a devpts super block, while it lives.
fn sb_info(sb: &SuperBlock) -> Option<Arc<PtsFsInfo>> {
    sb.s_fs_info.downcast_ref::<Weak<PtsFsInfo>>()?.upgrade()
}

/// A slave's name: the number in decimal, without leading zeros.
fn parse_index(name: &[u8]) -> Option<u32> {
    let index = core::str::from_utf8(name).ok()?.parse::<u32>().ok()?;
    (format!("{index}").as_bytes() == name).then_some(index)
}

impl PtsFsInfo {
    fn lookup(&self, name: &[u8]) -> Option<Arc<Inode>> {
        if name == b"ptmx" {
            return self.ptmx.get().cloned();
        }
        let index = parse_index(name)?;
        self.ptys.lock().nodes.get(&index).cloned()
    }
}

/// The root directory's name operations (Linux: `simple_dir_inode_operations`
/// over the dentries devpts adds itself).
struct DevptsDirOps;
static DEVPTS_DIR_IOPS: DevptsDirOps = DevptsDirOps;

impl InodeOps for DevptsDirOps {
    fn lookup(&self, dir: &Inode, name: &[u8]) -> KResult<Option<Arc<Inode>>> {
        Ok(dir.private::<Arc<PtsFsInfo>>()?.lookup(name))
    }
}

/// The nodes: attributes only (chmod and chown work, as on Linux).
struct DevptsNodeOps;
static DEVPTS_NODE_IOPS: DevptsNodeOps = DevptsNodeOps;
impl InodeOps for DevptsNodeOps {}

/// Listing the root (Linux: `simple_dir_operations`, `dcache_readdir`):
/// `.`, `..`, `ptmx`, then the slaves by number; offset 3 + N is slave N.
struct DevptsDirFileOps;
static DEVPTS_DIR_FOPS: DevptsDirFileOps = DevptsDirFileOps;

impl FileOps for DevptsDirFileOps {
    fn iterate_shared(&self, file: &File, ctx: &mut DirContext<'_>) -> KResult<()> {
        let inode = &file.f_inode;
        let fsi = inode.private::<Arc<PtsFsInfo>>()?;
        let dir = FileType::Directory.dtype();
        if ctx.pos == 0 && !ctx.emit(b".", inode.ino, dir, 1) {
            return Ok(());
        }
        if ctx.pos == 1 {
            let parent =
                file.f_path.dentry.parent().and_then(|p| p.inode()).map_or(inode.ino, |p| p.ino);
            if !ctx.emit(b"..", parent, dir, 2) {
                return Ok(());
            }
        }
        if ctx.pos == 2 && !ctx.emit(b"ptmx", 2, FileType::CharDev.dtype(), 3) {
            return Ok(());
        }
        // A copy, so that no lock is held while the caller copies names out.
        let from = u32::try_from(ctx.pos.saturating_sub(3)).unwrap_or(u32::MAX);
        let nodes: alloc::vec::Vec<(u32, u64)> =
            fsi.ptys.lock().nodes.range(from..).map(|(&n, inode)| (n, inode.ino)).collect();
        for (index, ino) in nodes {
            let name = format!("{index}");
            if !ctx.emit(name.as_bytes(), ino, FileType::CharDev.dtype(), u64::from(index) + 4) {
                break;
            }
        }
        Ok(())
    }
}

/// The devpts root mounted on `path` (following mounts stacked there),
/// if `path` has one (Linux: `path_pts` + the checks of `devpts_ptmx_path`).
fn devpts_mounted_on(path: Path) -> KResult<Path> {
    let mut top = None;
    let mut place = path;
    while let Some(mnt) = lookup_mnt(&place) {
        place = Path::new(mnt.clone(), mnt.mnt_root.clone());
        top = Some(mnt);
    }
    let mnt = top.ok_or(Errno::ENODEV)?;
    if mnt.mnt_sb.s_magic != DEVPTS_SUPER_MAGIC || !mnt.mnt_root.is_root() {
        return Err(Errno::ENODEV);
    }
    Ok(Path::new(mnt.clone(), mnt.mnt_root.clone()))
}

/// The devpts root a ptmx file belongs to: its own, or the one on `pts`
/// in its directory (Linux: `devpts_ptmx_path`).
fn devpts_ptmx_path(file: &File) -> KResult<Path> {
    let mnt = &file.f_path.mnt;
    if mnt.mnt_sb.s_magic == DEVPTS_SUPER_MAGIC {
        return Ok(Path::new(mnt.clone(), mnt.mnt_root.clone()));
    }
    let parent = file.f_path.dentry.parent().ok_or(Errno::ENODEV)?;
    let pts = lookup_one(&parent, b"pts")?;
    devpts_mounted_on(Path::new(mnt.clone(), pts))
}

/// The instance an open of a ptmx node allocates from (Linux:
/// `devpts_acquire`); `ENODEV` without one.
pub fn devpts_acquire(file: &File) -> KResult<Arc<PtsFsInfo>> {
    let root = devpts_ptmx_path(file)?;
    root.dentry.positive()?.private::<Arc<PtsFsInfo>>().cloned()
}

/// The devpts root of `fsi` as reached from the ptmx `file`, to open a
/// slave by (Linux: `devpts_mntget`).
pub fn devpts_mntget(file: &File, fsi: &Arc<PtsFsInfo>) -> KResult<Path> {
    let root = devpts_ptmx_path(file)?;
    let found = root.dentry.positive()?.private::<Arc<PtsFsInfo>>().cloned()?;
    if !Arc::ptr_eq(&found, fsi) {
        return Err(Errno::ENODEV);
    }
    Ok(root)
}

/// A free pty number, the lowest (Linux: `devpts_new_index`): `ENOSPC`
/// past `max=` or `/proc/sys/kernel/pty/max`.
pub fn devpts_new_index(fsi: &PtsFsInfo) -> KResult<u32> {
    let limit = PTY_LIMIT.load(Ordering::Relaxed);
    if PTY_COUNT.fetch_add(1, Ordering::AcqRel) >= limit {
        PTY_COUNT.fetch_sub(1, Ordering::AcqRel);
        return Err(Errno::ENOSPC);
    }
    let max = fsi.opts.lock().max;
    let index = fsi.ptys.lock().ida.alloc((), 0, max).map_err(|e| match e {
        idr::IdrError::NoSpace => Errno::ENOSPC,
        idr::IdrError::NoMemory => Errno::ENOMEM,
    });
    if index.is_err() {
        PTY_COUNT.fetch_sub(1, Ordering::AcqRel);
    }
    index
}

/// Gives number `index` back (Linux: `devpts_kill_index`).
pub fn devpts_kill_index(fsi: &PtsFsInfo, index: u32) {
    if fsi.ptys.lock().ida.remove(index).is_some() {
        PTY_COUNT.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Makes the node `/dev/pts/N` of slave `tty` (Linux: `devpts_pty_new`).
pub fn devpts_pty_new(fsi: &Arc<PtsFsInfo>, index: u32, tty: Weak<Tty>) -> KResult<()> {
    let opts = *fsi.opts.lock();
    let sb = fsi.ptmx.get().ok_or(Errno::ENODEV)?.sb.clone();
    let cred = current_cred();
    let (uid, gid) = (opts.uid.unwrap_or(cred.fsuid), opts.gid.unwrap_or(cred.fsgid));
    let mut attr = InodeAttr::new(uapi::S_IFCHR | opts.mode, uid, gid);
    attr.rdev = DevT::new(UNIX98_PTY_SLAVE_MAJOR, index);
    let node = new_node(&sb, u64::from(index) + 3, attr, Box::new(tty))?;
    fsi.ptys.lock().nodes.insert(index, node);
    Ok(())
}

/// The slave tty behind a devpts node, `None` for any other inode (Linux:
/// `devpts_get_priv`).
pub fn devpts_get_priv(inode: &Inode) -> Option<Arc<Tty>> {
    if inode.sb.s_magic != DEVPTS_SUPER_MAGIC {
        return None;
    }
    inode.private::<Weak<Tty>>().ok()?.upgrade()
}

/// Removes `/dev/pts/N`; open files of it stay open (Linux: `devpts_pty_kill`).
pub fn devpts_pty_kill(fsi: &PtsFsInfo, index: u32) {
    let node = fsi.ptys.lock().nodes.remove(&index);
    if let Some(node) = node {
        node.update_attr(|a| a.nlink = 0);
    }
}

/// Registers devpts (Linux: `init_devpts_fs`).
pub fn init_devpts_fs() -> KResult<()> {
    register_filesystem(&DEVPTS)
}

crate::ktest!(devpts_options_parse_as_linux, {
    let o = PtsMountOpts::parse(b"gid=5,mode=620,ptmxmode=666,newinstance").map_err(|_| "parse")?;
    crate::kassert!(o.gid == Some(5) && o.uid.is_none(), "gid=5");
    crate::kassert!(o.mode == 0o620 && o.ptmxmode == 0o666, "modes are octal");
    let d = PtsMountOpts::parse(b"").map_err(|_| "empty")?;
    crate::kassert!(d.mode == 0o600 && d.ptmxmode == 0 && d.max == NR_UNIX98_PTY_MAX, "defaults");
    crate::kassert!(PtsMountOpts::parse(b"bogus").is_err(), "unknown option");
    crate::kassert!(PtsMountOpts::parse(b"mode=9").is_err(), "not octal");
    crate::kassert!(parse_index(b"12") == Some(12) && parse_index(b"012").is_none(), "names");
    Ok(())
});

//! FAT inodes in memory: made from directory entries, written back to
//! them, their mode and attribute bits, attribute changes and eviction
//! (Linux: fs/fat/inode.c `fat_build_inode`, `fat_fill_inode`,
//! `fat_read_root`, `__fat_write_inode`, `fat_evict_inode`; fs/fat/file.c
//! `fat_setattr`, `fat_sanitize_mode_change`; fs/fat/fat.h
//! `fat_make_mode`, `fat_make_attrs`, `fat_save_attrs`).
//!
//! A VFS inode's private part, [`FatInode`], holds what the entry holds
//! that the VFS attributes do not: the entry's position, the directory it
//! is in, its name (for revalidating dentries), the first cluster and the
//! attribute bits. Permission bits come from the mount's masks; the only
//! one stored is "read-only" (no write bit). Times are FAT's: mtime in
//! 2-second steps, atime a date, ctime the same as mtime (Linux 6.1).
//!
//! # Locking
//! [`FatInode::state`] is a leaf spinlock, taken under the instance mutex
//! (or alone, to read). Disk access runs under the instance mutex.
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use fat::{
    ATTR_ARCH, ATTR_DIR, ATTR_HIDDEN, ATTR_RO, ATTR_SYS, ATTR_VOLUME, DirEntry, DirRef, Fat,
};

use super::{BufDev, FatOptions, FatSb, MSDOS_ROOT_INO, fat_sb, file, namei};
use crate::fs::dcache::Dentry;
use crate::fs::inode::{Inode, InodeAttr, SetAttr, Timespec};
use crate::fs::super_block::SuperBlock;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

/// The attribute bits kept apart from the mode (Linux: `ATTR_UNUSED`).
pub const ATTR_UNUSED: u8 = ATTR_VOLUME | ATTR_ARCH | ATTR_SYS | ATTR_HIDDEN;
const S_IWUGO: u32 = 0o222;
const S_IRWXUGO: u32 = 0o777;

/// What the directory entry holds beyond the VFS attributes.
pub struct FatState {
    /// The entry's byte position on the disk; 0 for the root.
    pub pos: u64,
    /// The directory the entry is in.
    pub dir: DirRef,
    pub name: Vec<u8>,
    /// First cluster (0: an empty file).
    pub start: u32,
    /// Linux: `i_attrs`, the bits the mode cannot show.
    pub attrs: u8,
    /// Removed from its directory; its clusters go at eviction.
    pub unlinked: bool,
}

/// The private part of a FAT VFS inode (Linux: `struct msdos_inode_info`).
pub struct FatInode {
    pub state: SpinLock<FatState>,
}

/// The state of `inode`; `EIO` for another file system's inode.
pub fn state(inode: &Inode) -> KResult<&SpinLock<FatState>> {
    Ok(&inode.private::<FatInode>()?.state)
}

/// The directory `inode` is (by its first cluster).
pub fn dir_ref(fs: &Fat<BufDev>, inode: &Inode) -> KResult<DirRef> {
    if inode.ino == MSDOS_ROOT_INO {
        return Ok(DirRef::Root);
    }
    Ok(fs.dir_of(state(inode)?.lock().start))
}

/// Linux: `fat_mode_can_hold_ro`: whether a missing write bit can be
/// stored (directories never: no `rodir` option here).
fn can_hold_ro(opts: &FatOptions, is_dir: bool) -> bool {
    !is_dir && !opts.fs_fmask & S_IWUGO != 0
}

/// Linux: `fat_make_mode`.
pub fn make_mode(opts: &FatOptions, attrs: u8, mode: u32) -> u32 {
    let is_dir = attrs & ATTR_DIR != 0;
    let mode = if attrs & ATTR_RO != 0 && !is_dir { mode & !S_IWUGO } else { mode };
    if is_dir {
        (mode & !opts.fs_dmask) | uapi::S_IFDIR
    } else {
        (mode & !opts.fs_fmask) | uapi::S_IFREG
    }
}

/// The attribute byte of `inode` (Linux: `fat_make_attrs`).
pub fn make_attrs(opts: &FatOptions, inode: &Inode, attrs: u8) -> u8 {
    let is_dir = inode.is_dir();
    let mut a = attrs;
    if is_dir {
        a |= ATTR_DIR;
    }
    if can_hold_ro(opts, is_dir) && inode.mode() & S_IWUGO == 0 {
        a |= ATTR_RO;
    }
    a
}

/// Keeps the bits the mode cannot show (Linux: `fat_save_attrs`).
pub fn save_attrs(opts: &FatOptions, inode: &Inode, attrs: u8) -> u8 {
    if can_hold_ro(opts, inode.is_dir()) {
        attrs & ATTR_UNUSED
    } else {
        attrs & (ATTR_UNUSED | ATTR_RO)
    }
}

/// `i_blocks` for `size` bytes: whole clusters (Linux: `fat_fill_inode`).
pub fn blocks_of(size: u64, cluster_size: u32) -> u64 {
    size.div_ceil(u64::from(cluster_size)) * u64::from(cluster_size) / 512
}

/// A modification time as FAT keeps it (Linux: `fat_truncate_mtime`).
pub fn trunc_mtime(t: Timespec) -> Timespec {
    Timespec::from_secs(t.sec & !1)
}

/// An access time as FAT keeps it: the day (Linux: `fat_truncate_atime`).
pub fn trunc_atime(t: Timespec) -> Timespec {
    Timespec::from_secs(t.sec - t.sec.rem_euclid(86_400))
}

fn new_inode(
    sb: &Arc<SuperBlock>,
    info: &FatSb,
    ino: u64,
    attr: InodeAttr,
    st: FatState,
) -> KResult<Arc<Inode>> {
    let is_dir = attr.mode & uapi::S_IFMT == uapi::S_IFDIR;
    let ops = if is_dir {
        (&namei::VFAT_DIR_INODE_OPS as _, &file::FAT_DIR_OPS as _, None)
    } else {
        (&file::FAT_FILE_INODE_OPS as _, &file::FAT_FILE_OPS as _, None)
    };
    let pos = st.pos;
    let private = Box::new(FatInode { state: SpinLock::new(st) });
    let inode = Inode::new_with_mapping(sb.clone(), ino, attr, ops, private)?;
    // Under the instance mutex nobody else can have added it meanwhile.
    Ok(info.icache.lock().entry(pos).or_insert(inode).clone())
}

/// The root directory's inode (Linux: `fat_read_root`): no entry, no times.
pub fn fat_root(sb: &Arc<SuperBlock>, info: &FatSb, fs: &mut Fat<BufDev>) -> KResult<Arc<Inode>> {
    let size = fs.dir_size(DirRef::Root).map_err(|e| info.errno(e))?;
    let subdirs = fs.subdirs(DirRef::Root).map_err(|e| info.errno(e))?;
    let mut attr = InodeAttr::new(make_mode(&info.opts, ATTR_DIR, S_IRWXUGO), 0, 0);
    attr.uid = info.opts.fs_uid;
    attr.gid = info.opts.fs_gid;
    attr.size = size;
    attr.blocks = blocks_of(size, fs.cluster_size());
    attr.nlink = subdirs.saturating_add(2);
    (attr.atime, attr.mtime, attr.ctime) = Default::default();
    let st = FatState {
        pos: 0,
        dir: DirRef::Root,
        name: Vec::new(),
        start: 0,
        attrs: ATTR_DIR,
        unlinked: false,
    };
    new_inode(sb, info, MSDOS_ROOT_INO, attr, st)
}

/// The VFS inode of `entry` in `dir`, from the cache or made (Linux:
/// `fat_build_inode` → `fat_fill_inode`). Called with the instance locked.
pub fn iget(
    sb: &Arc<SuperBlock>,
    info: &FatSb,
    fs: &mut Fat<BufDev>,
    entry: &DirEntry,
    dir: DirRef,
) -> KResult<Arc<Inode>> {
    if let Some(inode) = info.icache_get(entry.pos) {
        return Ok(inode);
    }
    let raw = &entry.raw;
    let is_dir = raw.is_dir();
    let mode = make_mode(&info.opts, raw.attr, S_IRWXUGO);
    let mut attr = InodeAttr::new(mode, info.opts.fs_uid, info.opts.fs_gid);
    if is_dir {
        let d = fs.dir_of(raw.start);
        attr.size = fs.dir_size(d).map_err(|e| info.errno(e))?;
        attr.nlink = fs.subdirs(d).map_err(|e| info.errno(e))?.saturating_add(2);
    } else {
        attr.size = u64::from(raw.size);
    }
    attr.blocks = blocks_of(attr.size, fs.cluster_size());
    attr.mtime = Timespec::from_secs(fat::fat_to_unix(raw.date, raw.time, 0));
    attr.ctime = attr.mtime;
    attr.atime = Timespec::from_secs(fat::fat_to_unix(raw.adate, 0, 0));
    let attrs = if can_hold_ro(&info.opts, is_dir) {
        raw.attr & ATTR_UNUSED
    } else {
        raw.attr & (ATTR_UNUSED | ATTR_RO)
    };
    let st = FatState {
        pos: entry.pos,
        dir,
        name: entry.name.clone(),
        start: raw.start,
        attrs,
        unlinked: false,
    };
    new_inode(sb, info, info.iunique(), attr, st)
}

/// Writes the inode into its directory entry (Linux: `__fat_write_inode`).
pub fn write_entry(info: &FatSb, fs: &mut Fat<BufDev>, inode: &Inode) -> KResult<()> {
    let (pos, start, attrs) = {
        let st = state(inode)?.lock();
        if st.pos == 0 || st.unlinked {
            return Ok(());
        }
        (st.pos, st.start, st.attrs)
    };
    let a = inode.attr();
    let attr = make_attrs(&info.opts, inode, attrs);
    let is_dir = inode.is_dir();
    fs.update_entry(pos, |r| {
        r.attr = attr;
        r.start = start;
        r.size = if is_dir { 0 } else { u32::try_from(a.size).unwrap_or(u32::MAX) };
        r.set_mtime(a.mtime.sec);
        r.adate = fat::unix_to_fat(a.atime.sec, 0).0;
    })
    .map_err(|e| info.errno(e))?;
    Ok(())
}

/// Gives back an unlinked inode's clusters (Linux: `fat_evict_inode` →
/// `fat_truncate_blocks`). Called with the instance locked.
pub fn evict(info: &FatSb, fs: &mut Fat<BufDev>, inode: &Inode) {
    let Ok(st) = state(inode) else { return };
    let start = {
        let mut st = st.lock();
        if !st.unlinked || st.start == 0 {
            return;
        }
        core::mem::take(&mut st.start)
    };
    if let Err(e) = fs.free_chain(start) {
        info.errno(e);
    }
}

/// Whether a cached dentry still names its inode: a negative one is
/// asked again (the name may exist in another case), a positive one must
/// be linked, under its name (ASCII case aside) and in its parent.
pub fn fat_revalidate(dentry: &Dentry) -> bool {
    let Some(inode) = dentry.inode() else { return false };
    let Ok(st) = state(&inode) else { return true };
    if inode.ino == MSDOS_ROOT_INO {
        return true;
    }
    let (dir, name, unlinked) = {
        let st = st.lock();
        (st.dir, st.name.clone(), st.unlinked)
    };
    if unlinked || !fat::name_matches(&dentry.name(), &name) {
        return false;
    }
    let Some(parent) = dentry.parent().and_then(|p| p.inode()) else { return false };
    let Ok(pst) = state(&parent) else { return false };
    let parent_dir =
        if parent.ino == MSDOS_ROOT_INO { DirRef::Root } else { DirRef::Cluster(pst.lock().start) };
    parent_dir == dir || matches!((parent_dir, dir), (DirRef::Root, DirRef::Cluster(0)))
}

/// Linux: `fat_sanitize_mode_change`: of the r and x bits all must stay;
/// of the w bits all or none (none only where read-only can be stored).
pub fn sanitize_mode(opts: &FatOptions, inode: &Inode, mode: u32) -> KResult<u32> {
    let is_dir = inode.is_dir();
    let mask = if is_dir { opts.fs_dmask } else { opts.fs_fmask };
    let perm = mode & !(uapi::S_IFMT | mask) & 0o777;
    let old = inode.mode();
    if perm & 0o555 != old & 0o555 {
        return Err(Errno::EPERM);
    }
    let w = perm & S_IWUGO;
    let all_w = S_IWUGO & !mask;
    let ok = if can_hold_ro(opts, is_dir) { w == 0 || w == all_w } else { w == all_w };
    if !ok {
        return Err(Errno::EPERM);
    }
    Ok((old & uapi::S_IFMT) | perm)
}

/// Changes attributes (Linux: `fat_setattr`): owners other than the
/// mount's and set-id bits are `EPERM`, other modes FAT cannot hold are
/// ignored; times are kept in FAT's
/// steps; a size change frees or zero-fills clusters.
pub fn fat_setattr(inode: &Inode, attr: &SetAttr) -> KResult<()> {
    let info = fat_sb(&inode.sb)?;
    info.check_writable()?;
    if attr.uid.is_some_and(|u| u != info.opts.fs_uid)
        || attr.gid.is_some_and(|g| g != info.opts.fs_gid)
    {
        return Err(Errno::EPERM);
    }
    // Linux: `FAT_VALID_MODE`; a mode FAT cannot hold is ignored, not
    // refused ("too old behavior" to change, says `fat_setattr`).
    if attr.mode.is_some_and(|m| m & 0o7777 & !S_IRWXUGO != 0) {
        return Err(Errno::EPERM);
    }
    let mode = attr.mode.and_then(|m| sanitize_mode(&info.opts, inode, m).ok());
    info.with_fs(|fs| {
        if let Some(size) = attr.size {
            file::fat_setsize(info, fs, inode, size)?;
        }
        inode.update_attr(|a| {
            if let Some(m) = mode {
                a.mode = m;
            }
            if let Some(t) = attr.mtime {
                a.mtime = trunc_mtime(t);
                a.ctime = a.mtime;
            }
            if let Some(t) = attr.atime {
                a.atime = trunc_atime(t);
            }
        });
        write_entry(info, fs, inode)
    })
}

//! Name-space operations: create (files, device nodes, FIFOs, sockets),
//! mkdir, symlink, readlink, link, unlink, rmdir, rename, and evicting an
//! unlinked inode once its last user is gone.
//!
//! Linux: fs/ext2/namei.c (`ext2_create`, `ext2_mknod`, `ext2_mkdir`,
//! `ext2_symlink`, `ext2_link`, `ext2_unlink`, `ext2_rmdir`,
//! `ext2_rename`), fs/ext2/inode.c (`ext2_evict_inode`), fs/ext2/xattr.c
//! (`ext2_xattr_delete_inode`).
//!
//! Each operation looks up and checks everything it needs before its first
//! write, so a corrupt directory or inode fails it with the disk untouched.
//!
//! # Locking
//! None inside; see the crate header.

use crate::dir::{FileType, Found, check_name};
use crate::inode::{Inode, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};
use crate::layout::{rd32, wr32};
use crate::{BlockIo, Error, Ext2, LINK_MAX, RENAME_NOREPLACE, ROOT_INO, Result};
use alloc::vec::Vec;

/// Owner and time of a new inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Creds {
    pub uid: u32,
    pub gid: u32,
    pub now: u32,
}

const XATTR_MAGIC: u32 = 0xEA02_0000;

/// Attribute changes for [`Ext2::setattr`]; `None` leaves a field alone
/// (Linux: `struct iattr`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetAttr {
    /// Permission bits (`0o7777`); the file type cannot change.
    pub mode: Option<u16>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// New size of a regular file (truncate or extend, sparse).
    pub size: Option<u64>,
    pub atime: Option<u32>,
    pub mtime: Option<u32>,
    pub ctime: Option<u32>,
}

/// What `rename` found and checked before its first write.
struct RenamePlan {
    od: Inode,
    of: Found,
    src: Inode,
    nd: Inode,
    nf: Option<Found>,
    target: Option<Inode>,
    /// The moved directory's `..` entry, when it changes parent.
    dotdot: Option<Found>,
}

impl<D: BlockIo> Ext2<D> {
    /// Reads a directory that is still linked.
    fn live_dir(&mut self, ino: u32) -> Result<Inode> {
        let dir = self.read_inode(ino)?;
        if !dir.is_dir() {
            return Err(Error::NotDir);
        }
        if dir.links_count == 0 {
            return Err(Error::NotFound);
        }
        Ok(dir)
    }

    /// Allocates a new inode, lets `fill` complete it (blocks included),
    /// writes it and links it into `dir`; on any failure frees whatever was
    /// allocated, so the name is either fully there or not at all.
    fn new_inode(
        &mut self,
        dir: &mut Inode,
        name: &[u8],
        mode: u16,
        c: Creds,
        fill: impl FnOnce(&mut Self, &mut Inode) -> Result<()>,
    ) -> Result<Inode> {
        self.check_writable()?;
        check_name(name)?;
        if self.find_entry(dir, name)?.is_some() {
            return Err(Error::Exists);
        }
        let ino = self.alloc_inode(dir.ino, mode & S_IFMT == S_IFDIR)?;
        let mut inode = Inode::new(ino, self.sb.inode_size);
        inode.mode = mode;
        inode.uid = c.uid;
        inode.gid = c.gid;
        inode.atime = c.now;
        inode.ctime = c.now;
        inode.mtime = c.now;
        inode.links_count = 1;
        inode.generation = ino.wrapping_mul(0x9E37_79B9) ^ c.now;
        let r = fill(self, &mut inode)
            .and_then(|()| self.write_inode(&inode))
            .and_then(|()| self.add_entry(dir, name, ino, FileType::from_mode(mode), c.now));
        if let Err(e) = r {
            inode.links_count = 0;
            let undo = self.write_inode(&inode).and_then(|()| self.evict(ino, c.now));
            return Err(if let Err(Error::Io) = undo { Error::Io } else { e });
        }
        Ok(inode)
    }

    /// Creates a regular file, device node, FIFO or socket named `name` in
    /// `dir` (Linux: `ext2_create`, `ext2_mknod`); `rdev` is (major, minor).
    pub fn create(
        &mut self,
        dir: u32,
        name: &[u8],
        mode: u16,
        rdev: (u32, u32),
        c: Creds,
    ) -> Result<u32> {
        let ty = mode & S_IFMT;
        if ![S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK].contains(&ty) {
            return Err(Error::Invalid);
        }
        let mut d = self.live_dir(dir)?;
        let inode = self.new_inode(&mut d, name, mode, c, |_, i| {
            if ty == S_IFCHR || ty == S_IFBLK {
                i.set_rdev(rdev.0, rdev.1);
            }
            Ok(())
        })?;
        Ok(inode.ino)
    }

    /// Creates directory `name` in `dir` with `.` and `..`, its block near
    /// its inode (Linux: `ext2_mkdir`).
    pub fn mkdir(&mut self, dir: u32, name: &[u8], perm: u16, c: Creds) -> Result<u32> {
        self.check_writable()?;
        let mut d = self.live_dir(dir)?;
        if d.links_count >= LINK_MAX {
            return Err(Error::TooManyLinks);
        }
        let inode = self.new_inode(&mut d, name, S_IFDIR | (perm & 0o7777), c, |fs, i| {
            let block = fs.alloc_block(fs.inode_goal(i.ino))?;
            let bs = fs.sb.block_size;
            i.links_count = 2;
            i.size = u64::from(bs);
            i.blocks = bs / 512;
            i.block[0] = block;
            let buf = fs.init_dir_block(i.ino, dir);
            fs.dev.write_block(block, &buf)
        })?;
        d.links_count += 1;
        self.write_inode(&d)?;
        Ok(inode.ino)
    }

    /// Creates symlink `name` → `target`, in `i_block` if it fits with its
    /// NUL (fast), else in one block (Linux: `ext2_symlink`).
    pub fn symlink(&mut self, dir: u32, name: &[u8], target: &[u8], c: Creds) -> Result<u32> {
        self.check_writable()?;
        if target.is_empty() {
            return Err(Error::NotFound);
        }
        if target.len() >= self.sb.block_size as usize {
            return Err(Error::NameTooLong);
        }
        let mut d = self.live_dir(dir)?;
        let inode = self.new_inode(&mut d, name, S_IFLNK | 0o777, c, |fs, i| {
            if target.len() >= 60 {
                return fs.write_data(i, 0, target).map(|_| ());
            }
            let mut raw = [0u8; 60];
            if let Some(dst) = raw.get_mut(..target.len()) {
                dst.copy_from_slice(target);
            }
            for (k, b) in i.block.iter_mut().enumerate() {
                *b = rd32(&raw, k * 4);
            }
            i.size = target.len() as u64;
            Ok(())
        })?;
        Ok(inode.ino)
    }

    /// The target of symlink `ino`, checked against its size.
    pub fn readlink(&mut self, ino: u32) -> Result<Vec<u8>> {
        let inode = self.read_inode(ino)?;
        if !inode.is_symlink() {
            return Err(Error::Invalid);
        }
        let len = usize::try_from(inode.size).map_err(|_| Error::Corrupt("symlink size"))?;
        if inode.is_fast_symlink(self.sb.block_size) {
            if len > 60 {
                return Err(Error::Corrupt("fast symlink longer than i_block"));
            }
            let mut raw = [0u8; 60];
            for (k, b) in inode.block.iter().enumerate() {
                wr32(&mut raw, k * 4, *b);
            }
            return Ok(raw.get(..len).unwrap_or(&[]).to_vec());
        }
        if len >= self.sb.block_size as usize {
            return Err(Error::Corrupt("symlink longer than a block"));
        }
        let mut buf = alloc::vec![0u8; len];
        let n = self.read_data(&inode, 0, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Adds hard link `name` in `dir` to inode `ino` (Linux: `ext2_link`).
    pub fn link(&mut self, ino: u32, dir: u32, name: &[u8], now: u32) -> Result<()> {
        self.check_writable()?;
        let mut inode = self.read_inode(ino)?;
        if inode.is_dir() {
            return Err(Error::NotPermitted);
        }
        if inode.links_count >= LINK_MAX {
            return Err(Error::TooManyLinks);
        }
        if inode.links_count == 0 {
            return Err(Error::NotFound);
        }
        let mut d = self.live_dir(dir)?;
        self.add_entry(&mut d, name, ino, FileType::from_mode(inode.mode), now)?;
        inode.links_count += 1;
        inode.ctime = now;
        self.write_inode(&inode)
    }

    /// Removes non-directory `name` from `dir` and drops a link; returns the
    /// inode, which the caller evicts once unused if its count reached 0
    /// (Linux: `ext2_unlink`).
    pub fn unlink(&mut self, dir: u32, name: &[u8], now: u32) -> Result<Inode> {
        self.check_writable()?;
        let mut d = self.live_dir(dir)?;
        let f = self.find_entry(&mut d, name)?.ok_or(Error::NotFound)?;
        let mut inode = self.read_inode(f.de.ino)?;
        if inode.is_dir() {
            return Err(Error::IsDir);
        }
        self.delete_entry(&mut d, f, now)?;
        inode.links_count = inode.links_count.saturating_sub(1);
        inode.ctime = now;
        self.write_inode(&inode)?;
        Ok(inode)
    }

    /// Removes empty directory `name` from `dir`; returns its inode, now with
    /// no links, for the caller to evict (Linux: `ext2_rmdir`).
    pub fn rmdir(&mut self, dir: u32, name: &[u8], now: u32) -> Result<Inode> {
        self.check_writable()?;
        if name == b"." {
            return Err(Error::Invalid);
        }
        if name == b".." {
            return Err(Error::NotEmpty);
        }
        let mut d = self.live_dir(dir)?;
        let f = self.find_entry(&mut d, name)?.ok_or(Error::NotFound)?;
        let mut victim = self.read_inode(f.de.ino)?;
        if !victim.is_dir() {
            return Err(Error::NotDir);
        }
        if !self.dir_is_empty(&mut victim)? {
            return Err(Error::NotEmpty);
        }
        self.delete_entry(&mut d, f, now)?;
        victim.links_count = 0;
        victim.ctime = now;
        self.write_inode(&victim)?;
        d.links_count = d.links_count.saturating_sub(1);
        self.write_inode(&d)?;
        Ok(victim)
    }

    /// Whether directory `anc` is `dir` or one of its ancestors, walking `..`.
    fn is_ancestor(&mut self, anc: u32, dir: u32) -> Result<bool> {
        let mut cur = dir;
        for _ in 0..self.sb.inodes_count {
            if cur == anc {
                return Ok(true);
            }
            if cur == ROOT_INO {
                return Ok(false);
            }
            let mut d = self.read_inode(cur)?;
            let up =
                self.find_entry(&mut d, b"..")?.ok_or(Error::Corrupt("directory without .."))?;
            if up.de.ino == cur || up.de.ino == 0 {
                return Err(Error::Corrupt("directory loop"));
            }
            cur = up.de.ino;
        }
        Err(Error::Corrupt("directory loop"))
    }

    /// Renames `old_dir/old` to `new_dir/new`, replacing a compatible target
    /// unless `RENAME_NOREPLACE`; returns the replaced inode, if any, for the
    /// caller to evict once unused. Other flags, `RENAME_EXCHANGE` included,
    /// give `Invalid`, as Linux's ext2 does (Linux: `ext2_rename`).
    pub fn rename(
        &mut self,
        old_dir: u32,
        old: &[u8],
        new_dir: u32,
        new: &[u8],
        flags: u32,
        now: u32,
    ) -> Result<Option<Inode>> {
        let Some(p) = self.rename_check(old_dir, old, new_dir, new, flags)? else {
            return Ok(None);
        };
        let RenamePlan { mut od, mut of, mut src, mut nd, nf, mut target, dotdot } = p;
        let same_dir = new_dir == old_dir;
        let ft = FileType::from_mode(src.mode);
        match nf {
            Some(f) => self.set_entry(&mut nd, f, src.ino, ft, now)?,
            None => self.add_entry(&mut nd, new, src.ino, ft, now)?,
        }
        if same_dir {
            // The new entry may share the old one's block: look again.
            od = nd.clone();
            of = self.find_entry(&mut od, old)?.ok_or(Error::Corrupt("entry vanished"))?;
        }
        self.delete_entry(&mut od, of, now)?;
        if same_dir {
            nd = od.clone();
        }
        if let Some(t) = &mut target {
            t.ctime = now;
            if t.is_dir() {
                t.links_count = 0;
                nd.links_count = nd.links_count.saturating_sub(1);
            } else {
                t.links_count = t.links_count.saturating_sub(1);
            }
            self.write_inode(t)?;
        }
        src.ctime = now;
        self.write_inode(&src)?;
        if let Some(dotdot) = dotdot {
            self.set_entry(&mut src, dotdot, new_dir, FileType::Dir, now)?;
            od.links_count = od.links_count.saturating_sub(1);
            nd.links_count = nd.links_count.saturating_add(1);
            self.write_inode(&od)?;
        }
        self.write_inode(&nd)?;
        Ok(target)
    }

    /// Everything `rename` needs, looked up and checked before any write;
    /// `None` when there is nothing to do (both names link one inode).
    fn rename_check(
        &mut self,
        old_dir: u32,
        old: &[u8],
        new_dir: u32,
        new: &[u8],
        flags: u32,
    ) -> Result<Option<RenamePlan>> {
        self.check_writable()?;
        if flags & !RENAME_NOREPLACE != 0 || old == b"." || old == b".." {
            return Err(Error::Invalid);
        }
        check_name(new)?;
        let mut od = self.live_dir(old_dir)?;
        let of = self.find_entry(&mut od, old)?.ok_or(Error::NotFound)?;
        let mut src = self.read_inode(of.de.ino)?;
        let mut nd = if new_dir == old_dir { od.clone() } else { self.live_dir(new_dir)? };
        let nf = self.find_entry(&mut nd, new)?;
        let moves_dir = src.is_dir() && new_dir != old_dir;
        if moves_dir && self.is_ancestor(src.ino, new_dir)? {
            return Err(Error::Invalid);
        }
        if moves_dir && nf.is_none() && nd.links_count >= LINK_MAX {
            return Err(Error::TooManyLinks);
        }
        let mut target = None;
        if let Some(f) = &nf {
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Error::Exists);
            }
            if f.de.ino == src.ino {
                return Ok(None);
            }
            let mut t = self.read_inode(f.de.ino)?;
            match (src.is_dir(), t.is_dir()) {
                (true, false) => return Err(Error::NotDir),
                (false, true) => return Err(Error::IsDir),
                (true, true) if !self.dir_is_empty(&mut t)? => return Err(Error::NotEmpty),
                _ => {}
            }
            target = Some(t);
        }
        let dotdot = if moves_dir {
            let f = self.find_entry(&mut src, b"..")?;
            Some(f.ok_or(Error::Corrupt("directory without .."))?)
        } else {
            None
        };
        Ok(Some(RenamePlan { od, of, src, nd, nf, target, dotdot }))
    }

    /// Changes attributes of inode `ino` (Linux: `ext2_setattr`): permission
    /// bits (the type bits stay), owner, times, and the size of a regular
    /// file through [`Ext2::truncate`]. Returns the inode as written.
    pub fn setattr(&mut self, ino: u32, attr: &SetAttr) -> Result<Inode> {
        self.check_writable()?;
        let mut inode = self.read_inode(ino)?;
        if let Some(size) = attr.size {
            if inode.is_dir() {
                return Err(Error::IsDir);
            }
            if !inode.is_reg() {
                return Err(Error::Invalid);
            }
            self.truncate(&mut inode, size)?;
        }
        if let Some(mode) = attr.mode {
            inode.mode = (inode.mode & S_IFMT) | (mode & 0o7777);
        }
        inode.uid = attr.uid.unwrap_or(inode.uid);
        inode.gid = attr.gid.unwrap_or(inode.gid);
        inode.atime = attr.atime.unwrap_or(inode.atime);
        inode.mtime = attr.mtime.unwrap_or(inode.mtime);
        inode.ctime = attr.ctime.unwrap_or(inode.ctime);
        self.write_inode(&inode)?;
        Ok(inode)
    }

    /// Frees inode `ino` and its blocks if it has no links left; the caller
    /// calls this when the last user closes it (Linux: `ext2_evict_inode`).
    /// Returns whether it was freed.
    pub fn evict(&mut self, ino: u32, now: u32) -> Result<bool> {
        self.check_writable()?;
        let mut inode = self.read_inode(ino)?;
        if inode.links_count != 0 || inode.dtime != 0 || inode.mode == 0 {
            return Ok(false);
        }
        let ea = inode.file_acl;
        if ea != 0 {
            self.check_data_block(ea)?;
            if rd32(&self.read_buf(ea)?, 0) != XATTR_MAGIC {
                return Err(Error::Corrupt("bad xattr block"));
            }
        }
        if !self.inode_in_use(ino)? {
            return Err(Error::Corrupt("evicting a free inode"));
        }
        self.truncate(&mut inode, 0)?;
        if ea != 0 {
            self.release_xattr_block(ea)?;
            inode.file_acl = 0;
            inode.blocks = inode.blocks.saturating_sub(self.sb.block_size / 512);
        }
        inode.dtime = now.max(1);
        self.write_inode(&inode)?;
        self.free_inode(ino, inode.is_dir())?;
        Ok(true)
    }

    /// Drops one reference to a shared xattr block, freeing it at zero
    /// (Linux: `ext2_xattr_delete_inode`).
    fn release_xattr_block(&mut self, block: u32) -> Result<()> {
        let mut buf = self.read_buf(block)?;
        if rd32(&buf, 0) != XATTR_MAGIC {
            return Err(Error::Corrupt("bad xattr block"));
        }
        let refs = rd32(&buf, 4);
        if refs <= 1 {
            self.free_blocks(alloc::vec![block])
        } else {
            wr32(&mut buf, 4, refs - 1);
            self.dev.write_block(block, &buf)
        }
    }
}

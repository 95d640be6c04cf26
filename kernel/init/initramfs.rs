//! Unpacks the initramfs into the root tmpfs (Linux: init/initramfs.c
//! `populate_rootfs`, `unpack_to_rootfs`, `do_name`, `do_copy`,
//! `do_symlink`; init/noinitramfs.c `default_rootfs`).
//!
//! The image is a sequence of newc cpio archives, each plain or
//! gzip-compressed, separated by zero padding (libs/cpio parses and
//! inflates). Entries become directories, regular files (mode, owner,
//! mtime kept), symlinks and device nodes; a regular file whose (ino, dev)
//! was seen before becomes a hard link to it. Directory mtimes are set last,
//! since adding entries changes them (Linux: `dir_utime`). A corrupt image
//! prints Linux's "Initramfs unpacking failed: ..." and keeps what was
//! unpacked.
//!
//! Basic device nodes (console, null, zero, full, random, urandom, tty,
//! ttyS0) are made in /dev where the archive has none. Linux makes only
//! /dev/console (its built-in `default_cpio_list`); the rest are a
//! convenience for the kernel's own monitor and ktest boots, which have no
//! archive. As in Linux, the kernel does not mount devtmpfs here: an
//! initramfs's /init mounts it if it wants it; the kernel mounts it itself
//! only on a `root=` file system (do_mounts.rs, Linux's
//! CONFIG_DEVTMPFS_MOUNT, which applies after the root mount).
//!
//! # Locking
//! None of its own; runs once at boot through the VFS.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use cpio::{Entry, Reader};
use linux_raw_sys::general as uapi;

use crate::arch::boot::PhysRange;
use crate::fs::fdtable::FdTable;
use crate::fs::fs_struct::FsStruct;
use crate::fs::inode::{DevT, SetAttr, Timespec};
use crate::fs::namei::create::do_linkat;
use crate::fs::namei::create::{do_mkdirat, do_mknodat, do_symlinkat};
use crate::fs::namei::remove::do_unlinkat;
use crate::fs::namei::{AT_FDCWD, LookupFlags, filename_lookup};
use crate::fs::open::do_sys_open;
use crate::fs::read_write::vfs_write;
use crate::fs::{FsContext, FsCred};
use crate::kernel::errno::{Errno, KResult};
use crate::{pr_err, pr_info};

/// Largest inflated archive accepted: a gzip bomb stops here.
const MAX_INFLATED: usize = 512 << 20;

/// Why unpacking stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnpackError {
    Cpio(cpio::Error),
    /// Neither "0707" nor a known compression magic at an archive start.
    BadMagic,
}

impl UnpackError {
    /// Linux's message after "Initramfs unpacking failed: ".
    pub fn message(self) -> &'static str {
        match self {
            UnpackError::Cpio(e) => e.message(),
            UnpackError::BadMagic => "invalid magic at start of compressed archive",
        }
    }
}

impl From<cpio::Error> for UnpackError {
    fn from(e: cpio::Error) -> Self {
        UnpackError::Cpio(e)
    }
}

/// The state of one unpack (Linux: the statics of initramfs.c).
pub struct Unpacker<'a> {
    ctx: FsContext<'a>,
    /// (ino, dev major, dev minor) of regular files with nlink >= 2, to
    /// their first name (Linux: `head[]`, `find_link`).
    links: BTreeMap<(u32, u32, u32), Vec<u8>>,
    /// Directories and their mtimes, applied at the end.
    dir_mtimes: Vec<(Vec<u8>, u32)>,
    /// Entries created.
    pub count: usize,
}

impl<'a> Unpacker<'a> {
    pub fn new(ctx: FsContext<'a>) -> Self {
        Self { ctx, links: BTreeMap::new(), dir_mtimes: Vec::new(), count: 0 }
    }

    /// Unpacks a whole image: archives, gzip members and padding (Linux:
    /// `unpack_to_rootfs`). What was unpacked before an error stays.
    pub fn unpack(&mut self, buf: &[u8]) -> Result<(), UnpackError> {
        let result = self.unpack_stream(buf, true);
        self.finish();
        result
    }

    fn unpack_stream(&mut self, buf: &[u8], may_inflate: bool) -> Result<(), UnpackError> {
        let mut pos = 0;
        while pos < buf.len() {
            pos += cpio::skip_padding(&buf[pos..], pos)?;
            let rest = &buf[pos..];
            if rest.is_empty() {
                break;
            }
            if rest.starts_with(b"0707") {
                pos += self.unpack_archive(rest)?;
            } else if may_inflate && cpio::is_gzip(rest) {
                let (data, used) = cpio::gunzip(rest, MAX_INFLATED)?;
                self.unpack_stream(&data, false)?;
                pos += used;
            } else {
                return Err(UnpackError::BadMagic);
            }
        }
        Ok(())
    }

    /// One archive, up to and including its trailer; returns its length.
    fn unpack_archive(&mut self, buf: &[u8]) -> Result<usize, UnpackError> {
        let mut reader = Reader::new(buf);
        while let Some(entry) = reader.next_entry()? {
            if entry.is_trailer() {
                // Linux forgets hard-link candidates at each trailer.
                self.links.clear();
                break;
            }
            if self.do_entry(&entry).is_ok() {
                self.count += 1;
            }
        }
        Ok(reader.offset())
    }

    /// Creates one entry (Linux: `do_name` and the states after it).
    fn do_entry(&mut self, e: &Entry<'_>) -> KResult<()> {
        let name = e.name;
        if name.is_empty() || name == b"." || name == b"./" {
            return Err(Errno::EEXIST);
        }
        let ctx = self.ctx;
        let perm = e.mode & 0o7777;
        match e.mode & uapi::S_IFMT {
            uapi::S_IFDIR => {
                match do_mkdirat(ctx, AT_FDCWD, name, perm) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(err) => return Err(err),
                }
                self.dir_mtimes.push((name.to_vec(), e.mtime));
            }
            uapi::S_IFREG => return self.do_file(e),
            uapi::S_IFLNK => {
                clean_path(ctx, name);
                do_symlinkat(ctx, e.data, AT_FDCWD, name)?;
            }
            uapi::S_IFCHR | uapi::S_IFBLK | uapi::S_IFIFO | uapi::S_IFSOCK => {
                clean_path(ctx, name);
                let dev = DevT::new(e.rdev_major, e.rdev_minor).encode();
                do_mknodat(ctx, AT_FDCWD, name, e.mode, dev)?;
            }
            _ => return Err(Errno::EINVAL),
        }
        set_attrs(ctx, name, e)
    }

    /// A regular file, or a hard link to one seen before (Linux:
    /// `maybe_link`, `do_copy`).
    fn do_file(&mut self, e: &Entry<'_>) -> KResult<()> {
        let ctx = self.ctx;
        clean_path(ctx, e.name);
        let key = (e.ino, e.dev_major, e.dev_minor);
        if e.nlink >= 2 {
            if let Some(first) = self.links.get(&key) {
                do_linkat(ctx, AT_FDCWD, first, AT_FDCWD, e.name, 0)?;
                if e.data.is_empty() {
                    return Ok(());
                }
            } else {
                self.links.insert(key, e.name.to_vec());
            }
        }
        let flags = uapi::O_WRONLY | uapi::O_CREAT | uapi::O_TRUNC;
        let fd = do_sys_open(ctx, AT_FDCWD, e.name, flags, e.mode & 0o7777)?;
        let file = ctx.files.get(fd);
        let _ = ctx.files.close(fd);
        let file = file?;
        let mut done = 0;
        while done < e.data.len() {
            done += vfs_write(&file, &e.data[done..])?;
        }
        drop(file);
        set_attrs(ctx, e.name, e)
    }

    /// Sets directory mtimes, last (Linux: `dir_utime`).
    fn finish(&mut self) {
        for (name, mtime) in core::mem::take(&mut self.dir_mtimes) {
            let t = Timespec::from_secs(i64::from(mtime));
            let attr = SetAttr { atime: Some(t), mtime: Some(t), ..SetAttr::default() };
            if let Ok(path) = filename_lookup(self.ctx, AT_FDCWD, &name, LookupFlags::empty())
                && let Some(inode) = path.dentry.inode()
            {
                let _ = inode.i_op.setattr(&inode, &attr);
            }
        }
    }
}

/// Removes what is in the way of a new non-directory (Linux: `clean_path`,
/// which also removes a directory; a tmpfs root from one image has none).
fn clean_path(ctx: FsContext<'_>, name: &[u8]) {
    let _ = do_unlinkat(ctx, AT_FDCWD, name, 0);
}

/// Owner, mode and times from the archive (Linux: `init_chown`,
/// `init_chmod`, `do_utime`); a symlink keeps mode 0777.
fn set_attrs(ctx: FsContext<'_>, name: &[u8], e: &Entry<'_>) -> KResult<()> {
    let path = filename_lookup(ctx, AT_FDCWD, name, LookupFlags::empty())?;
    let inode = path.dentry.positive()?;
    let t = Timespec::from_secs(i64::from(e.mtime));
    let is_link = e.mode & uapi::S_IFMT == uapi::S_IFLNK;
    let attr = SetAttr {
        mode: if is_link { None } else { Some(e.mode & 0o7777) },
        uid: Some(e.uid),
        gid: Some(e.gid),
        atime: Some(t),
        mtime: Some(t),
        size: None,
    };
    inode.i_op.setattr(&inode, &attr)
}

/// The device nodes devtmpfs would provide: (name, mode, major, minor).
const DEFAULT_DEV_NODES: [(&[u8], u32, u32, u32); 8] = [
    (b"/dev/console", uapi::S_IFCHR | 0o600, 5, 1),
    (b"/dev/null", uapi::S_IFCHR | 0o666, 1, 3),
    (b"/dev/zero", uapi::S_IFCHR | 0o666, 1, 5),
    (b"/dev/full", uapi::S_IFCHR | 0o666, 1, 7),
    (b"/dev/random", uapi::S_IFCHR | 0o666, 1, 8),
    (b"/dev/urandom", uapi::S_IFCHR | 0o666, 1, 9),
    (b"/dev/tty", uapi::S_IFCHR | 0o666, 5, 0),
    (b"/dev/ttyS0", uapi::S_IFCHR | 0o660, 4, 64),
];

/// Makes /dev and its basic nodes where missing (Linux: `default_rootfs`
/// makes /dev/console; devtmpfs the rest).
pub fn create_default_dev_nodes(ctx: FsContext<'_>) {
    let _ = do_mkdirat(ctx, AT_FDCWD, b"/dev", 0o755);
    for (name, mode, major, minor) in DEFAULT_DEV_NODES {
        // Created with umask 0, as devtmpfs does.
        let old = ctx.fs.set_umask(0);
        let _ = do_mknodat(ctx, AT_FDCWD, name, mode, DevT::new(major, minor).encode());
        ctx.fs.set_umask(old);
    }
}

/// Unpacks the boot loader's initrd into the root tmpfs and makes the
/// default device nodes (Linux: `populate_rootfs`, an initcall there).
pub fn populate_rootfs(initrd: Option<PhysRange>) {
    let (Ok(fs), files) = (FsStruct::new_init(), FdTable::new()) else {
        pr_err!("VFS: no root file system to unpack into");
        return;
    };
    let ctx = FsContext { fs: &fs, files: &files, cred: FsCred::ROOT };
    if let Some(range) = initrd {
        pr_info!("Trying to unpack rootfs image as initramfs...");
        let mut unpacker = Unpacker::new(ctx);
        match crate::drivers::char::mem::initrd_bytes(range.start, range.end) {
            Some(image) => {
                if let Err(e) = unpacker.unpack(image) {
                    pr_err!("Initramfs unpacking failed: {}", e.message());
                }
            }
            None => pr_err!("Initramfs unpacking failed: initrd not in the direct map"),
        }
        pr_info!("initramfs: unpacked {} entries", unpacker.count);
    }
    create_default_dev_nodes(ctx);
}

/// Self-tests: archives built with `cpio::Writer`, unpacked into a
/// private tmpfs.
mod ktests {
    use super::*;
    use crate::fs::tests::Scratch;

    fn sample_archive() -> Vec<u8> {
        let mut w = cpio::Writer::new();
        w.dir(b"bin", 0o755);
        w.file(b"bin/busybox", 0o755, b"\x7fELF pretend");
        w.symlink(b"bin/sh", b"busybox");
        w.dir(b"dev", 0o755);
        w.node(b"dev/console", uapi::S_IFCHR | 0o600, 5, 1);
        w.linked_file(&[b"init", b"init2"], 0o700, b"#!/bin/sh\n");
        w.finish()
    }

    fn check_sample(s: &Scratch) -> Result<(), &'static str> {
        let ctx = s.ctx();
        let st = crate::fs::stat::vfs_fstatat(ctx, AT_FDCWD, b"/bin/busybox", 0)
            .map_err(|_| "busybox")?;
        crate::kassert!(st.mode == uapi::S_IFREG | 0o755 && st.size == 12, "file mode and size");
        let sh = crate::fs::stat::vfs_fstatat(ctx, AT_FDCWD, b"/bin/sh", 0).map_err(|_| "sh")?;
        crate::kassert!(sh.ino == st.ino, "symlink resolves to busybox");
        let con = crate::fs::stat::vfs_fstatat(ctx, AT_FDCWD, b"/dev/console", 0)
            .map_err(|_| "console")?;
        crate::kassert!(con.rdev == DevT::new(5, 1), "device node number");
        let init =
            crate::fs::stat::vfs_fstatat(ctx, AT_FDCWD, b"/init2", 0).map_err(|_| "init2")?;
        crate::kassert!(init.nlink == 2 && init.mode & 0o777 == 0o700, "hard link to init");
        Ok(())
    }

    crate::ktest!(initramfs_plain_archive, {
        let s = Scratch::new()?;
        let mut u = Unpacker::new(s.ctx());
        u.unpack(&sample_archive()).map_err(|e| e.message())?;
        crate::kassert!(u.count == 7, "seven entries");
        check_sample(&s)
    });

    crate::ktest!(initramfs_gzip_and_concatenated, {
        let s = Scratch::new()?;
        let mut image = cpio::gzip_stored(&sample_archive());
        image.extend_from_slice(&[0; 3]);
        let pad = (4 - image.len() % 4) % 4;
        image.extend(core::iter::repeat_n(0u8, pad));
        let mut w = cpio::Writer::new();
        w.file(b"extra", 0o644, b"second archive");
        image.extend_from_slice(&w.finish());
        let mut u = Unpacker::new(s.ctx());
        u.unpack(&image).map_err(|e| e.message())?;
        crate::kassert!(u.count == 8, "both archives unpacked");
        check_sample(&s)?;
        crate::kassert!(
            filename_lookup(s.ctx(), AT_FDCWD, b"/extra", LookupFlags::empty()).is_ok(),
            "extra"
        );
        Ok(())
    });

    /// `gzip -9` of a newc archive holding etc/ and etc/motd (380 bytes),
    /// made on the host: real Huffman-coded deflate, as initramfs images are.
    const GZIP_MOTD: &[u8] = &[
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x33, 0x30, 0x37, 0x30, 0x37,
        0x30, 0x34, 0x80, 0x00, 0x30, 0x6d, 0x62, 0xe8, 0xea, 0x62, 0x80, 0x1d, 0x18, 0x1a, 0x90,
        0x07, 0x4c, 0x60, 0x8c, 0xd4, 0x92, 0x64, 0x06, 0x06, 0x06, 0x03, 0x64, 0x3b, 0x8d, 0x40,
        0x84, 0x85, 0xa1, 0xa3, 0x09, 0x51, 0x76, 0x1a, 0x9a, 0x3b, 0x13, 0x69, 0xa7, 0x25, 0x92,
        0x9d, 0xfa, 0xb9, 0xf9, 0x25, 0x29, 0x0c, 0x0c, 0xe1, 0xa9, 0x39, 0xc9, 0xf9, 0xb9, 0xa9,
        0x0a, 0x25, 0xf9, 0x0a, 0x6e, 0xa9, 0x45, 0x45, 0x99, 0x25, 0xa9, 0x5c, 0xa3, 0x42, 0x74,
        0x12, 0x42, 0x89, 0x73, 0x63, 0x02, 0x71, 0x47, 0x6e, 0x3a, 0x73, 0x82, 0x31, 0x42, 0x82,
        0x1c, 0x3d, 0x7d, 0x5c, 0x83, 0x14, 0x15, 0x15, 0x81, 0xc9, 0x8d, 0x01, 0x00, 0xd3, 0x29,
        0xfb, 0xb2, 0xe4, 0x02, 0x00, 0x00,
    ];

    crate::ktest!(initramfs_real_gzip, {
        let s = Scratch::new()?;
        let mut u = Unpacker::new(s.ctx());
        u.unpack(GZIP_MOTD).map_err(|e| e.message())?;
        let st =
            crate::fs::stat::vfs_fstatat(s.ctx(), AT_FDCWD, b"/etc/motd", 0).map_err(|_| "motd")?;
        crate::kassert!(u.count == 2 && st.size == 380, "motd unpacked from real gzip");
        Ok(())
    });

    crate::ktest!(initramfs_corrupt_keeps_what_was_unpacked, {
        let s = Scratch::new()?;
        let mut image = sample_archive();
        // Cut the archive inside bin/sh's header and add junk.
        let cut = image.windows(6).skip(8).position(|w| w == b"070701").ok_or("second header")? + 8;
        let second =
            image[cut..].windows(6).skip(1).position(|w| w == b"070701").ok_or("third header")?;
        image.truncate(cut + second + 1 + 20);
        let mut u = Unpacker::new(s.ctx());
        let err = u.unpack(&image);
        crate::kassert!(err.is_err(), "a truncated archive is an error");
        crate::kassert!(u.count >= 1, "entries before the damage stay");
        crate::kassert!(
            filename_lookup(s.ctx(), AT_FDCWD, b"/bin", LookupFlags::empty()).is_ok(),
            "bin kept"
        );
        let mut junk = Unpacker::new(s.ctx());
        crate::kassert!(junk.unpack(b"garbage!") == Err(UnpackError::BadMagic), "bad magic");
        let gz = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff];
        crate::kassert!(junk.unpack(&gz).is_err(), "corrupt gzip");
        Ok(())
    });

    crate::ktest!(initramfs_default_dev_nodes, {
        let s = Scratch::new()?;
        create_default_dev_nodes(s.ctx());
        let null = crate::fs::open::do_sys_open(s.ctx(), AT_FDCWD, b"/dev/null", uapi::O_RDWR, 0)
            .map_err(|_| "open null")?;
        let file = s.files.get(null).map_err(|_| "fd")?;
        crate::kassert!(vfs_write(&file, b"gone") == Ok(4), "null swallows writes");
        let mut buf = [1u8; 8];
        crate::kassert!(
            crate::fs::read_write::vfs_read(&file, &mut buf) == Ok(0),
            "null reads EOF"
        );
        let zero = crate::fs::open::do_sys_open(s.ctx(), AT_FDCWD, b"/dev/zero", uapi::O_RDONLY, 0)
            .map_err(|_| "zero")?;
        let zf = s.files.get(zero).map_err(|_| "fd")?;
        crate::kassert!(
            crate::fs::read_write::vfs_read(&zf, &mut buf) == Ok(8) && buf == [0; 8],
            "zeros"
        );
        let full = crate::fs::open::do_sys_open(s.ctx(), AT_FDCWD, b"/dev/full", uapi::O_WRONLY, 0)
            .map_err(|_| "full")?;
        let ff = s.files.get(full).map_err(|_| "fd")?;
        crate::kassert!(vfs_write(&ff, b"x") == Err(Errno::ENOSPC), "full is full");
        let tty = crate::fs::open::do_sys_open(s.ctx(), AT_FDCWD, b"/dev/ttyS0", uapi::O_RDWR, 0);
        crate::kassert!(
            tty == Err(Errno::ENXIO) || tty.is_ok(),
            "ttyS0 opens once a driver registers"
        );
        Ok(())
    });
}

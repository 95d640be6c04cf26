//! VFS self-tests that cross several files: path walk, tmpfs I/O, the fd
//! table, rename and unlink rules, mounts; each on a private tmpfs
//! (`vfs_kern_mount`) so they neither see nor change the root.
#![deny(unsafe_code)]

use alloc::vec;
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;

use super::d_path::do_getcwd;
use super::fcntl::{do_fcntl, ksys_dup3};
use super::fdtable::FdTable;
use super::fs_struct::FsStruct;
use super::namei::create::{do_linkat, do_mkdirat, do_mknodat, do_symlinkat};
use super::namei::remove::{do_rmdir, do_unlinkat};
use super::namei::rename::do_renameat2;
use super::namei::{AT_FDCWD, LookupFlags, filename_lookup};
use super::namespace::{Path, do_new_mount, do_umount, vfs_kern_mount};
use super::open::{do_chdir, do_faccessat, do_sys_ftruncate, do_sys_open};
use super::read_write::{vfs_llseek, vfs_pread, vfs_read, vfs_write};
use super::readdir::do_getdents64;
use super::stat::{cp_new_stat, do_readlinkat, do_statx, vfs_fstat, vfs_fstatat};
use super::{FsContext, FsCred};
use crate::kassert;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::ktest::KTestResult;

/// A process view rooted at a fresh tmpfs.
pub(crate) struct Scratch {
    pub fs: FsStruct,
    pub files: FdTable,
}

impl Scratch {
    pub(crate) fn new() -> Result<Self, &'static str> {
        let mnt = vfs_kern_mount(b"tmpfs", b"none", b"").map_err(|_| "mount a scratch tmpfs")?;
        let root = Path::new(mnt.clone(), mnt.mnt_root.clone());
        Ok(Self { fs: FsStruct::with_root(root), files: FdTable::new() })
    }

    pub(crate) fn ctx(&self) -> FsContext<'_> {
        FsContext { fs: &self.fs, files: &self.files, cred: FsCred::ROOT }
    }
}

/// `r` must fail with `errno`.
fn expect_err<T>(r: KResult<T>, errno: Errno, msg: &'static str) -> KTestResult {
    match r {
        Err(e) if e == errno => Ok(()),
        _ => Err(msg),
    }
}

fn ok<T>(r: KResult<T>, msg: &'static str) -> Result<T, &'static str> {
    r.map_err(|_| msg)
}

fn open(s: &Scratch, name: &[u8], flags: u32) -> Result<i32, &'static str> {
    ok(do_sys_open(s.ctx(), AT_FDCWD, name, flags, 0o644), "open")
}

fn write_file(s: &Scratch, name: &[u8], data: &[u8]) -> KTestResult {
    let fd = open(s, name, uapi::O_CREAT | uapi::O_WRONLY | uapi::O_TRUNC)?;
    let file = ok(s.files.get(fd), "get fd")?;
    kassert!(ok(vfs_write(&file, data), "write")? == data.len(), "whole write");
    ok(s.files.close(fd), "close")
}

fn lookup(s: &Scratch, name: &[u8]) -> KResult<Path> {
    filename_lookup(s.ctx(), AT_FDCWD, name, LookupFlags::FOLLOW)
}

fn same(a: &Path, b: &Path) -> bool {
    a.same(b)
}

crate::ktest!(vfs_walk_dot_dotdot_symlink, {
    let s = Scratch::new()?;
    let c = s.ctx();
    ok(do_mkdirat(c, AT_FDCWD, b"/a", 0o755), "mkdir a")?;
    ok(do_mkdirat(c, AT_FDCWD, b"a/b", 0o755), "mkdir a/b")?;
    ok(do_symlinkat(c, b"a/b", AT_FDCWD, b"/l"), "symlink")?;
    let b = ok(lookup(&s, b"/a/b"), "a/b")?;
    kassert!(same(&ok(lookup(&s, b"/a/./b/../b/"), "dots")?, &b), "dots walk to a/b");
    kassert!(same(&ok(lookup(&s, b"/l"), "link")?, &b), "link resolves");
    kassert!(same(&ok(lookup(&s, b"l/.."), "link/..")?, &ok(lookup(&s, b"/a"), "a")?), "l/.. is a");
    kassert!(same(&ok(lookup(&s, b"/../../.."), "root ..")?, &s.fs.root()), ".. stops at the root");
    let nofollow = ok(filename_lookup(c, AT_FDCWD, b"/l", LookupFlags::empty()), "lstat path")?;
    kassert!(!same(&nofollow, &b), "no follow gives the link");
    let target = ok(do_readlinkat(c, AT_FDCWD, b"/l", 100), "readlink")?;
    kassert!(target == b"a/b", "readlink target");
    expect_err(do_readlinkat(c, AT_FDCWD, b"/a", 100), Errno::EINVAL, "readlink of a dir")?;
    expect_err(lookup(&s, b""), Errno::ENOENT, "empty path")?;
    Ok(())
});

crate::ktest!(vfs_walk_eloop, {
    let s = Scratch::new()?;
    let c = s.ctx();
    ok(do_symlinkat(c, b"y", AT_FDCWD, b"x"), "x")?;
    ok(do_symlinkat(c, b"x", AT_FDCWD, b"y"), "y")?;
    expect_err(lookup(&s, b"x"), Errno::ELOOP, "x <-> y loops")?;
    ok(do_mkdirat(c, AT_FDCWD, b"d", 0o755), "d")?;
    // l0 -> d, l1 -> l0, ... l40 -> l39: 40 links resolve, 41 do not.
    ok(do_symlinkat(c, b"d", AT_FDCWD, b"l0"), "l0")?;
    for i in 1..=40 {
        let (name, target) = (alloc::format!("l{i}"), alloc::format!("l{}", i - 1));
        ok(do_symlinkat(c, target.as_bytes(), AT_FDCWD, name.as_bytes()), "chain")?;
    }
    kassert!(lookup(&s, b"l39").is_ok(), "40 links are followed");
    expect_err(lookup(&s, b"l40"), Errno::ELOOP, "41 links are too many")?;
    expect_err(
        do_sys_open(c, AT_FDCWD, b"x", uapi::O_RDONLY | uapi::O_NOFOLLOW, 0),
        Errno::ELOOP,
        "O_NOFOLLOW",
    )?;
    let fd = ok(
        do_sys_open(c, AT_FDCWD, b"x", uapi::O_PATH | uapi::O_NOFOLLOW, 0),
        "O_PATH|O_NOFOLLOW",
    )?;
    ok(s.files.close(fd), "close")
});

crate::ktest!(vfs_walk_enotdir_enametoolong, {
    let s = Scratch::new()?;
    let c = s.ctx();
    write_file(&s, b"f", b"x")?;
    expect_err(lookup(&s, b"f/x"), Errno::ENOTDIR, "through a file")?;
    expect_err(lookup(&s, b"f/"), Errno::ENOTDIR, "trailing slash on a file")?;
    expect_err(do_mkdirat(c, AT_FDCWD, b"f/d", 0o755), Errno::ENOTDIR, "mkdir under a file")?;
    let long = vec![b'n'; 256];
    expect_err(do_mkdirat(c, AT_FDCWD, &long, 0o755), Errno::ENAMETOOLONG, "256-byte name")?;
    ok(do_mkdirat(c, AT_FDCWD, &long[..255], 0o755), "255-byte name")?;
    expect_err(lookup(&s, &vec![b'/'; 5000]), Errno::ENAMETOOLONG, "path over PATH_MAX")?;
    expect_err(lookup(&s, b"nope"), Errno::ENOENT, "missing")?;
    expect_err(do_mkdirat(c, AT_FDCWD, b"f", 0o755), Errno::EEXIST, "mkdir over a file")?;
    expect_err(do_mkdirat(c, AT_FDCWD, b".", 0o755), Errno::EEXIST, "mkdir .")?;
    Ok(())
});

crate::ktest!(vfs_tmpfs_read_write_seek_truncate, {
    let s = Scratch::new()?;
    let fd = open(&s, b"file", uapi::O_CREAT | uapi::O_RDWR)?;
    let file = ok(s.files.get(fd), "fd")?;
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    kassert!(ok(vfs_write(&file, &data), "write")? == data.len(), "write all");
    kassert!(ok(vfs_llseek(&file, 0, uapi::SEEK_SET), "seek")? == 0, "seek 0");
    let mut back = vec![0u8; 12_000];
    kassert!(ok(vfs_read(&file, &mut back), "read")? == data.len(), "read stops at EOF");
    kassert!(back[..data.len()] == data[..], "data round-trips across pages");
    kassert!(ok(vfs_read(&file, &mut back), "read eof")? == 0, "EOF reads 0");
    let mut four = [0u8; 4];
    ok(vfs_pread(&file, &mut four, 4096), "pread")?;
    kassert!(four[..] == data[4096..4100], "pread at an offset");
    kassert!(ok(vfs_llseek(&file, -10, uapi::SEEK_END), "seek end")? == 9_990, "SEEK_END");
    expect_err(vfs_llseek(&file, -1, uapi::SEEK_SET), Errno::EINVAL, "negative offset")?;
    expect_err(vfs_llseek(&file, 0, 7), Errno::EINVAL, "bad whence")?;
    // A write past the end leaves a hole of zeros.
    ok(vfs_llseek(&file, 20_000, uapi::SEEK_SET), "seek far")?;
    ok(vfs_write(&file, b"end"), "write far")?;
    ok(vfs_pread(&file, &mut four, 15_000), "pread hole")?;
    kassert!(four == [0; 4], "holes read as zeros");
    kassert!(
        ok(vfs_llseek(&file, 12_288, uapi::SEEK_DATA), "data")? == 16_384,
        "SEEK_DATA skips the hole page"
    );
    kassert!(
        ok(vfs_llseek(&file, 100, uapi::SEEK_HOLE), "hole")? == 12_288,
        "SEEK_HOLE finds the hole page"
    );
    ok(do_sys_ftruncate(s.ctx(), fd, 100), "shrink")?;
    ok(do_sys_ftruncate(s.ctx(), fd, 5_000), "extend")?;
    ok(vfs_pread(&file, &mut four, 100), "pread after truncate")?;
    kassert!(four == [0; 4], "truncated bytes come back as zeros");
    let st = ok(vfs_fstat(s.ctx(), fd), "fstat")?;
    kassert!(st.size == 5_000, "size after truncate");
    expect_err(do_sys_ftruncate(s.ctx(), fd, -1), Errno::EINVAL, "negative length")?;
    drop(file);
    ok(s.files.close(fd), "close")?;
    let fd = open(&s, b"file", uapi::O_WRONLY | uapi::O_APPEND)?;
    let file = ok(s.files.get(fd), "fd")?;
    ok(vfs_write(&file, b"++"), "append")?;
    kassert!(file.pos() == 5_002, "O_APPEND writes at the end");
    let mut buf = [0u8; 1];
    expect_err(vfs_read(&file, &mut buf), Errno::EBADF, "read on O_WRONLY")?;
    Ok(())
});

crate::ktest!(vfs_getdents64_layout, {
    let s = Scratch::new()?;
    let c = s.ctx();
    ok(do_mkdirat(c, AT_FDCWD, b"d", 0o755), "d")?;
    write_file(&s, b"d/a", b"")?;
    ok(do_mkdirat(c, AT_FDCWD, b"d/subdir", 0o755), "sub")?;
    let fd = open(&s, b"d", uapi::O_RDONLY | uapi::O_DIRECTORY)?;
    let dir = ok(s.files.get(fd), "fd")?;
    expect_err(do_getdents64(&dir, &mut [0u8; 20]), Errno::EINVAL, "buffer below one record")?;
    let mut buf = vec![0u8; 4096];
    let n = ok(do_getdents64(&dir, &mut buf), "getdents")?;
    let mut names = Vec::new();
    let mut off = 0;
    let mut last_doff = 0i64;
    while off < n {
        let reclen = usize::from(u16::from_le_bytes([buf[off + 16], buf[off + 17]]));
        kassert!(reclen % 8 == 0 && reclen >= 24, "8-aligned records");
        let d_off = i64::from_le_bytes(buf[off + 8..off + 16].try_into().map_err(|_| "d_off")?);
        kassert!(d_off > last_doff, "d_off grows");
        last_doff = d_off;
        let name = &buf[off + 19..off + reclen];
        let len = name.iter().position(|&b| b == 0).ok_or("NUL-terminated")?;
        names.push((name[..len].to_vec(), buf[off + 18]));
        off += reclen;
    }
    kassert!(names.len() == 4, "., .., a, subdir");
    kassert!(names[0].0 == b"." && u32::from(names[0].1) == uapi::DT_DIR, ". first");
    kassert!(names[1].0 == b"..", ".. second");
    kassert!(names[2].0 == b"a" && u32::from(names[2].1) == uapi::DT_REG, "a is DT_REG");
    kassert!(names[3].0 == b"subdir" && u32::from(names[3].1) == uapi::DT_DIR, "subdir is DT_DIR");
    kassert!(ok(do_getdents64(&dir, &mut buf), "eof")? == 0, "end of directory");
    ok(vfs_llseek(&dir, 2, uapi::SEEK_SET), "rewind to 2")?;
    let n = ok(do_getdents64(&dir, &mut buf), "again")?;
    kassert!(n > 0 && &buf[19..20] == b"a", "resume at a d_off");
    Ok(())
});

crate::ktest!(vfs_rename_rules, {
    let s = Scratch::new()?;
    let c = s.ctx();
    for d in [&b"d1"[..], b"d1/sub", b"d2", b"full", b"full/x"] {
        ok(do_mkdirat(c, AT_FDCWD, d, 0o755), "mkdir")?;
    }
    write_file(&s, b"f1", b"one")?;
    write_file(&s, b"f2", b"two")?;
    let rn = |a: &[u8], b: &[u8], fl: u32| do_renameat2(c, AT_FDCWD, a, AT_FDCWD, b, fl);
    expect_err(rn(b"d1", b"d1/sub/x", 0), Errno::EINVAL, "into itself")?;
    expect_err(rn(b"d2", b"full", 0), Errno::ENOTEMPTY, "over a non-empty dir")?;
    expect_err(rn(b"f1", b"d2", 0), Errno::EISDIR, "file over dir")?;
    expect_err(rn(b"d2", b"f1", 0), Errno::ENOTDIR, "dir over file")?;
    expect_err(rn(b"f1", b"f2", uapi::RENAME_NOREPLACE), Errno::EEXIST, "NOREPLACE")?;
    expect_err(rn(b"f1", b"f2", 8), Errno::EINVAL, "unknown flag")?;
    expect_err(rn(b"f1", b"f2", 3), Errno::EINVAL, "NOREPLACE|EXCHANGE")?;
    expect_err(rn(b"nope", b"f2", 0), Errno::ENOENT, "missing source")?;
    ok(rn(b"f1", b"f2", uapi::RENAME_EXCHANGE), "exchange")?;
    ok(do_chdir(c, b"d1/sub"), "chdir")?;
    ok(rn(b"/f2", b"/f1", 0), "replace")?;
    let fd = open(&s, b"/f1", uapi::O_RDONLY)?;
    let mut buf = [0u8; 3];
    ok(vfs_read(&*ok(s.files.get(fd), "fd")?, &mut buf), "read")?;
    kassert!(&buf == b"one", "exchange then replace moved the data");
    expect_err(lookup(&s, b"/f2"), Errno::ENOENT, "old name gone")?;
    ok(rn(b"/d1", b"/d2", 0), "dir over empty dir")?;
    kassert!(ok(do_getcwd(c, 100), "cwd")? == b"/d2/sub\0", "cwd follows the rename");
    expect_err(do_getcwd(c, 4), Errno::ERANGE, "short buffer")?;
    Ok(())
});

crate::ktest!(vfs_unlink_open_file_keeps_data, {
    let s = Scratch::new()?;
    let c = s.ctx();
    write_file(&s, b"tmp", b"still here")?;
    let fd = open(&s, b"tmp", uapi::O_RDONLY)?;
    ok(do_unlinkat(c, AT_FDCWD, b"tmp", 0), "unlink")?;
    expect_err(lookup(&s, b"tmp"), Errno::ENOENT, "name gone")?;
    let mut buf = [0u8; 10];
    ok(vfs_read(&*ok(s.files.get(fd), "fd")?, &mut buf), "read")?;
    kassert!(&buf == b"still here", "data lives while open");
    kassert!(ok(vfs_fstat(c, fd), "fstat")?.nlink == 0, "nlink is 0");
    ok(do_mkdirat(c, AT_FDCWD, b"d", 0o755), "d")?;
    expect_err(do_unlinkat(c, AT_FDCWD, b"d", 0), Errno::EISDIR, "unlink a dir")?;
    expect_err(do_unlinkat(c, AT_FDCWD, b"x", 1), Errno::EINVAL, "bad flags")?;
    write_file(&s, b"d/x", b"")?;
    expect_err(do_rmdir(c, AT_FDCWD, b"d"), Errno::ENOTEMPTY, "rmdir non-empty")?;
    expect_err(do_rmdir(c, AT_FDCWD, b"d/x"), Errno::ENOTDIR, "rmdir a file")?;
    expect_err(do_rmdir(c, AT_FDCWD, b"d/."), Errno::EINVAL, "rmdir .")?;
    ok(do_unlinkat(c, AT_FDCWD, b"d/x", 0), "unlink x")?;
    ok(do_unlinkat(c, AT_FDCWD, b"d", uapi::AT_REMOVEDIR), "AT_REMOVEDIR")?;
    ok(s.files.close(fd), "close")
});

crate::ktest!(vfs_links_and_stat_fields, {
    let s = Scratch::new()?;
    let c = s.ctx();
    write_file(&s, b"f", &[7u8; 5000])?;
    ok(do_linkat(c, AT_FDCWD, b"f", AT_FDCWD, b"g", 0), "link")?;
    let st = ok(vfs_fstatat(c, AT_FDCWD, b"g", 0), "stat")?;
    kassert!(st.nlink == 2 && st.size == 5000, "two links, size");
    kassert!(st.blocks == 16, "two pages are 16 blocks");
    kassert!(st.mode == uapi::S_IFREG | 0o644, "mode with umask 022");
    ok(do_mkdirat(c, AT_FDCWD, b"d", 0o777), "d")?;
    ok(do_mkdirat(c, AT_FDCWD, b"d/e", 0o777), "d/e")?;
    let st = ok(vfs_fstatat(c, AT_FDCWD, b"d", 0), "stat d")?;
    kassert!(st.nlink == 3 && st.mode == uapi::S_IFDIR | 0o755, "dir nlink and mode");
    expect_err(do_linkat(c, AT_FDCWD, b"d", AT_FDCWD, b"dl", 0), Errno::EPERM, "link a dir")?;
    ok(do_mknodat(c, AT_FDCWD, b"tty", uapi::S_IFCHR | 0o600, 0x440), "mknod")?;
    let raw = cp_new_stat(&ok(vfs_fstatat(c, AT_FDCWD, b"tty", 0), "stat tty")?);
    kassert!(raw.st_rdev == 0x440 && raw.st_mode == uapi::S_IFCHR | 0o600, "device node");
    let stx = ok(do_statx(c, AT_FDCWD, b"f", 0, uapi::STATX_BASIC_STATS), "statx")?;
    kassert!(stx.stx_size == 5000 && stx.stx_nlink == 2, "statx fields");
    expect_err(do_statx(c, AT_FDCWD, b"f", 0x8000_0000, 0), Errno::EINVAL, "statx bad flag")?;
    ok(do_faccessat(c, AT_FDCWD, b"f", uapi::R_OK | uapi::W_OK, 0), "access rw")?;
    expect_err(
        do_faccessat(c, AT_FDCWD, b"f", uapi::X_OK, 0),
        Errno::EACCES,
        "root needs an x bit",
    )?;
    let user = FsContext { cred: FsCred { fsuid: 1000, fsgid: 1000 }, ..c };
    expect_err(
        do_faccessat(user, AT_FDCWD, b"f", uapi::W_OK, 0),
        Errno::EACCES,
        "other may not write",
    )?;
    ok(do_faccessat(user, AT_FDCWD, b"f", uapi::R_OK, 0), "other may read")?;
    expect_err(
        do_sys_open(user, AT_FDCWD, b"d/new", uapi::O_CREAT, 0o644),
        Errno::EACCES,
        "create needs w",
    )?;
    Ok(())
});

crate::ktest!(vfs_fd_table_dup_cloexec_emfile, {
    let s = Scratch::new()?;
    write_file(&s, b"f", b"x")?;
    let fd = open(&s, b"f", uapi::O_RDONLY | uapi::O_CLOEXEC)?;
    kassert!(fd == 0, "lowest descriptor");
    kassert!(ok(s.files.dup(fd), "dup")? == 1, "dup takes the next");
    kassert!(ok(s.files.dup2(0, 7), "dup2")? == 7, "dup2 to 7");
    expect_err(ksys_dup3(&s.files, 7, 7, 0), Errno::EINVAL, "dup3 same fd")?;
    expect_err(ksys_dup3(&s.files, 7, 8, 1), Errno::EINVAL, "dup3 bad flag")?;
    kassert!(ok(ksys_dup3(&s.files, 7, 9, uapi::O_CLOEXEC), "dup3")? == 9, "dup3");
    kassert!(ok(do_fcntl(&s.files, 0, uapi::F_GETFD, 0), "getfd")? == 1, "O_CLOEXEC set");
    kassert!(ok(do_fcntl(&s.files, 1, uapi::F_GETFD, 0), "getfd")? == 0, "dup clears it");
    kassert!(ok(do_fcntl(&s.files, 0, uapi::F_DUPFD, 5), "dupfd")? == 5, "F_DUPFD from 5");
    ok(do_fcntl(&s.files, 0, uapi::F_SETFL, u64::from(uapi::O_APPEND | uapi::O_RDWR)), "setfl")?;
    let fl = ok(do_fcntl(&s.files, 0, uapi::F_GETFL, 0), "getfl")?;
    kassert!(
        fl & i64::from(uapi::O_ACCMODE) == 0 && fl & i64::from(uapi::O_APPEND) != 0,
        "only O_APPEND changes"
    );
    s.files.close_on_exec();
    expect_err(s.files.get(0), Errno::EBADF, "cloexec fd closed")?;
    expect_err(s.files.get(9), Errno::EBADF, "dup3 cloexec closed")?;
    kassert!(s.files.get(1).is_ok() && s.files.get(7).is_ok(), "others stay");
    let child = ok(s.files.dup_fd(), "fork copy")?;
    kassert!(child.get(7).is_ok(), "fork shares files");
    ok(s.files.set_nofile(10), "rlimit")?;
    let mut last = Ok(0);
    for _ in 0..12 {
        last = do_sys_open(s.ctx(), AT_FDCWD, b"f", uapi::O_RDONLY, 0);
        if last.is_err() {
            break;
        }
    }
    expect_err(last, Errno::EMFILE, "RLIMIT_NOFILE")?;
    expect_err(s.files.close(42), Errno::EBADF, "close a free fd")?;
    Ok(())
});

crate::ktest!(vfs_mount_crossing, {
    let s = Scratch::new()?;
    let c = s.ctx();
    ok(do_mkdirat(c, AT_FDCWD, b"/mnt", 0o755), "mnt")?;
    let mp = ok(lookup(&s, b"/mnt"), "mnt path")?;
    let flags = super::namespace::MntFlags::RELATIME;
    let mnt = ok(do_new_mount(&mp, b"tmpfs", b"none", b"", flags), "mount")?;
    write_file(&s, b"/mnt/inside", b"x")?;
    let inside = ok(lookup(&s, b"/mnt/inside"), "inside")?;
    kassert!(alloc::sync::Arc::ptr_eq(&inside.mnt, &mnt), "crossed into the mount");
    kassert!(same(&ok(lookup(&s, b"/mnt/.."), "..")?, &s.fs.root()), ".. leaves the mount");
    expect_err(do_rmdir(c, AT_FDCWD, b"/mnt"), Errno::EBUSY, "rmdir a mountpoint")?;
    expect_err(
        do_linkat(c, AT_FDCWD, b"/mnt/inside", AT_FDCWD, b"/out", 0),
        Errno::EXDEV,
        "link across mounts",
    )?;
    expect_err(do_umount(&inside), Errno::EINVAL, "umount a non-mountpoint")?;
    let root_of_mount = ok(lookup(&s, b"/mnt"), "root of mount")?;
    expect_err(do_umount(&root_of_mount), Errno::EBUSY, "umount while in use")?;
    drop((inside, mnt, root_of_mount));
    ok(do_umount(&ok(lookup(&s, b"/mnt"), "root of mount")?), "umount")?;
    expect_err(lookup(&s, b"/mnt/inside"), Errno::ENOENT, "gone after umount")?;
    Ok(())
});

crate::ktest!(vfs_open_flags, {
    let s = Scratch::new()?;
    let c = s.ctx();
    let o = |name: &[u8], flags: u32| do_sys_open(c, AT_FDCWD, name, flags, 0o600);
    ok(o(b"f", uapi::O_CREAT | uapi::O_EXCL | uapi::O_WRONLY), "create")?;
    expect_err(o(b"f", uapi::O_CREAT | uapi::O_EXCL), Errno::EEXIST, "O_EXCL")?;
    expect_err(o(b"f", uapi::O_DIRECTORY), Errno::ENOTDIR, "O_DIRECTORY on a file")?;
    expect_err(o(b"/", uapi::O_WRONLY), Errno::EISDIR, "write a dir")?;
    expect_err(o(b"new/", uapi::O_CREAT), Errno::EISDIR, "O_CREAT with a slash")?;
    expect_err(o(b"missing", uapi::O_RDONLY), Errno::ENOENT, "missing")?;
    let st = ok(vfs_fstatat(c, AT_FDCWD, b"f", 0), "stat")?;
    kassert!(st.mode == uapi::S_IFREG | 0o600, "create mode");
    write_file(&s, b"f", b"abc")?;
    let fd = ok(o(b"f", uapi::O_RDWR | uapi::O_TRUNC), "trunc")?;
    kassert!(ok(vfs_fstat(c, fd), "fstat")?.size == 0, "O_TRUNC");
    let p = ok(o(b"f", uapi::O_PATH), "O_PATH")?;
    let mut b = [0u8; 1];
    expect_err(vfs_read(&*ok(s.files.get(p), "p")?, &mut b), Errno::EBADF, "no I/O on O_PATH")?;
    Ok(())
});

//! Extended attributes through the crate on mke2fs images: set, get, list,
//! replace and remove "user." attributes, then `e2fsck -fn` must be clean
//! and `debugfs ea_list` must show what the crate wrote; attributes
//! `debugfs ea_set` wrote read back through the crate; a shared EA block is
//! copied on write; a corrupted EA block is refused.

mod common;

use common::*;
use ext2::{Error, Ext2, XATTR_INDEX_USER, XattrMode};
use std::fs;

const U: u8 = XATTR_INDEX_USER;

fn image(name: &str, bs: u32) -> (std::path::PathBuf, Vec<u8>) {
    let work = scratch(name);
    let src = work.join("src");
    fs::create_dir_all(&src).expect("mkdir");
    fs::write(src.join("f"), b"data").expect("write");
    fs::write(src.join("g"), b"more").expect("write");
    let img = mkfs(&work, Some(&src), bs, 8 * 1024, &[]);
    (work, img)
}

fn set(
    fs_: &mut Ext2<MemDev>,
    ino: u32,
    name: &str,
    v: &[u8],
    mode: XattrMode,
) -> Result<(), Error> {
    fs_.set_xattr(ino, U, name.as_bytes(), Some(v), mode, NOW)
}

fn names(fs_: &mut Ext2<MemDev>, ino: u32) -> Vec<String> {
    let list = fs_.list_xattrs(ino).expect("list");
    list.iter().map(|a| format!("{}:{}", a.index, String::from_utf8_lossy(&a.name))).collect()
}

fn exercise(bs: u32) {
    let (work, img) = image(&format!("xattr-{bs}"), bs);
    let (mut fs_, dev) = mount(img, false);
    let f = resolve(&mut fs_, "/f").expect("f");
    assert_eq!(fs_.get_xattr(f, U, b"x").expect("get"), None);
    set(&mut fs_, f, "x", b"v", XattrMode::Create).expect("create");
    assert_eq!(set(&mut fs_, f, "x", b"w", XattrMode::Create), Err(Error::Exists));
    assert_eq!(set(&mut fs_, f, "y", b"w", XattrMode::Replace), Err(Error::NotFound));
    set(&mut fs_, f, "long-name", &[b'z'; 300], XattrMode::Any).expect("set");
    set(&mut fs_, f, "empty", b"", XattrMode::Any).expect("set empty");
    set(&mut fs_, f, "ab", b"12345", XattrMode::Any).expect("set");
    set(&mut fs_, f, "ab", b"replaced", XattrMode::Replace).expect("replace");
    // Linux's order: by name length, then name.
    assert_eq!(names(&mut fs_, f), ["1:x", "1:ab", "1:empty", "1:long-name"]);
    assert_eq!(fs_.get_xattr(f, U, b"ab").expect("get"), Some(b"replaced".to_vec()));
    assert_eq!(fs_.get_xattr(f, U, b"empty").expect("get"), Some(Vec::new()));
    assert_eq!(fs_.get_xattr(f, 2, b"ab").expect("other index"), None);
    let blocks = fs_.read_inode(f).expect("inode").blocks;
    drop(fs_);
    let img = dev.snapshot();
    assert_clean(&work, &img);
    let p = save(&work, &img);
    let out = debugfs(&p, "ea_list /f");
    assert!(out.contains("user.x (1) = \"v\""), "ea_list: {out}");
    assert!(out.contains("user.ab (8) = \"replaced\""), "ea_list: {out}");
    assert!(out.contains("user.long-name (300)"), "ea_list: {out}");
    assert!(out.contains("user.empty"), "ea_list: {out}");

    // Fill the block: NoSpace, nothing changed.
    let (mut fs_, dev) = mount(img, false);
    let big = vec![7u8; bs as usize - 200];
    assert_eq!(set(&mut fs_, f, "big", &big, XattrMode::Any), Err(Error::NoSpace));
    assert_eq!(
        set(&mut fs_, f, "huge", &vec![1; bs as usize + 1], XattrMode::Any),
        Err(Error::TooBig)
    );
    assert_eq!(names(&mut fs_, f).len(), 4);
    // Remove all: the block goes, i_blocks with it.
    for n in ["x", "ab", "empty", "long-name"] {
        fs_.set_xattr(f, U, n.as_bytes(), None, XattrMode::Any, NOW).expect("remove");
    }
    assert_eq!(fs_.set_xattr(f, U, b"x", None, XattrMode::Any, NOW), Err(Error::NotFound));
    let inode = fs_.read_inode(f).expect("inode");
    assert_eq!((inode.file_acl, inode.blocks), (0, blocks - bs / 512));
    drop(fs_);
    let img = dev.snapshot();
    assert_clean(&work, &img);
    let out = debugfs(&save(&work, &img), "ea_list /f");
    assert!(!out.contains("user."), "ea_list after removal: {out}");
}

#[test]
fn user_xattrs_1k() {
    exercise(1024);
}

#[test]
fn user_xattrs_4k() {
    exercise(4096);
}

/// Attributes e2fsprogs wrote read back, and a set next to them stays clean.
#[test]
fn reads_debugfs_attributes() {
    let (work, img) = image("xattr-debugfs", 1024);
    let p = save(&work, &img);
    let big = work.join("big");
    fs::write(&big, [b'q'; 400]).expect("write");
    // A short value goes in the (256-byte) inode's body, a long one in a block.
    for cmd in [
        "ea_set /f user.from_debugfs hello".to_string(),
        format!("ea_set -f {} /f user.big", big.display()),
    ] {
        let out = std::process::Command::new("/usr/sbin/debugfs")
            .args(["-w", "-R", &cmd])
            .arg(&p)
            .output()
            .expect("debugfs -w");
        assert!(out.status.success(), "debugfs {cmd} failed");
    }
    let (mut fs_, dev) = mount(fs::read(&p).expect("read"), false);
    let f = resolve(&mut fs_, "/f").expect("f");
    assert_eq!(fs_.get_xattr(f, U, b"from_debugfs").expect("get"), Some(b"hello".to_vec()));
    assert_eq!(fs_.get_xattr(f, U, b"big").expect("get"), Some(vec![b'q'; 400]));
    assert_ne!(fs_.read_inode(f).expect("f").file_acl, 0, "debugfs made no block");
    assert!(matches!(
        set(&mut fs_, f, "from_debugfs", b"x", XattrMode::Any),
        Err(Error::Unsupported(_))
    ));
    assert_eq!(set(&mut fs_, f, "big", b"x", XattrMode::Create), Err(Error::Exists));
    set(&mut fs_, f, "mine", b"1", XattrMode::Create).expect("set");
    drop(fs_);
    let img = dev.snapshot();
    assert_clean(&work, &img);
    let out = debugfs(&save(&work, &img), "ea_list /f");
    assert!(
        out.contains("user.from_debugfs (5) = \"hello\"")
            && out.contains("user.mine (1) = \"1\"")
            && out.contains("user.big (400)"),
        "{out}"
    );
}

/// A block shared by two inodes is copied for the one that changes.
#[test]
fn shared_block_is_copied() {
    let (work, img) = image("xattr-shared", 1024);
    let (mut fs_, dev) = mount(img, false);
    let f = resolve(&mut fs_, "/f").expect("f");
    let g = resolve(&mut fs_, "/g").expect("g");
    set(&mut fs_, f, "s", b"shared", XattrMode::Create).expect("set");
    let fi = fs_.read_inode(f).expect("f");
    let ea = fi.file_acl;
    // Share it, as Linux's mbcache would: refcount 2, both inodes point there.
    let mut gi = fs_.read_inode(g).expect("g");
    gi.file_acl = ea;
    gi.blocks += 2;
    fs_.write_inode(&gi).expect("write g");
    {
        let mut d = dev.data.borrow_mut();
        let off = ea as usize * 1024 + 4;
        d[off..off + 4].copy_from_slice(&2u32.to_le_bytes());
    }
    set(&mut fs_, g, "t", b"own", XattrMode::Create).expect("set on g");
    let gi = fs_.read_inode(g).expect("g");
    assert_ne!(gi.file_acl, ea);
    assert_eq!(fs_.get_xattr(f, U, b"t").expect("get"), None);
    assert_eq!(fs_.get_xattr(g, U, b"s").expect("get"), Some(b"shared".to_vec()));
    drop(fs_);
    assert_eq!(dev.snapshot()[ea as usize * 1024 + 4], 1, "refcount not dropped");
    assert_clean(&work, &dev.snapshot());
}

/// A corrupted EA block is `Corrupt` for every call, with nothing written.
#[test]
fn corrupt_block_is_refused() {
    let (_work, img) = image("xattr-corrupt", 1024);
    let (mut fs_, dev) = mount(img, false);
    let f = resolve(&mut fs_, "/f").expect("f");
    set(&mut fs_, f, "x", b"v", XattrMode::Create).expect("set");
    let ea = fs_.read_inode(f).expect("f").file_acl as usize;
    for (off, bytes) in
        [(32 + 2, [0xff, 0xff, 0, 0]), (32 + 8, [0xff, 0xff, 0xff, 0x7f]), (0, [0; 4])]
    {
        let saved = dev.snapshot();
        dev.data.borrow_mut()[ea * 1024 + off..ea * 1024 + off + 4].copy_from_slice(&bytes);
        let before = dev.snapshot();
        assert!(matches!(fs_.get_xattr(f, U, b"x"), Err(Error::Corrupt(_))));
        assert!(matches!(fs_.list_xattrs(f), Err(Error::Corrupt(_))));
        assert!(matches!(set(&mut fs_, f, "y", b"1", XattrMode::Any), Err(Error::Corrupt(_))));
        assert!(dev.snapshot() == before, "wrote to a corrupt image");
        *dev.data.borrow_mut() = saved;
    }
    // A file_acl pointing outside the file system.
    let mut fi = fs_.read_inode(f).expect("f");
    fi.file_acl = u32::MAX;
    fs_.write_inode(&fi).expect("write");
    assert!(fs_.get_xattr(f, U, b"x").is_err());
}

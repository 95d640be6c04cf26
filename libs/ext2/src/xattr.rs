//! Extended attributes in an inode's EA block (Linux: fs/ext2/xattr.c,
//! xattr.h): a 32-byte header (magic `0xEA020000`, refcount, `h_blocks` 1,
//! block hash), entries from byte 32 sorted by (name index, name length,
//! name) and ended by four zero bytes, values packed downwards from the
//! block's end, each padded to 4 bytes. Entry and block hashes are Linux's
//! `ext2_xattr_hash_entry` and `ext2_xattr_rehash`, so `e2fsck -fn` stays
//! clean and `debugfs ea_list` reads them.
//!
//! Attributes ext4 or e2fsprogs stored in a large inode's body are read
//! (listed and got) but not changed: setting or removing one is
//! `Unsupported`; new ones always go to the block, which the ext4 driver
//! reads too.
//!
//! Every set rewrites the whole block from the parsed entries. A block
//! shared by several inodes (refcount > 1; mke2fs never makes one) is
//! copied on write: the inode gets a private block, the shared one loses a
//! reference. An emptied block is freed and `i_file_acl` cleared. Only
//! values stored in the EA block itself are read (`e_value_block` 0, as
//! Linux's ext2 requires); anything else is `Corrupt`.
//!
//! # Locking
//! None inside: `&mut Ext2`, serialized by the caller (see lib.rs).

use alloc::vec;
use alloc::vec::Vec;

use crate::layout::{rd16, rd32, wr16, wr32};
use crate::{BlockIo, Error, Ext2, Inode, Result};

/// EA block magic (Linux: `EXT2_XATTR_MAGIC`).
const XATTR_MAGIC: u32 = 0xEA02_0000;
/// Name index of "user." attributes (Linux: `EXT2_XATTR_INDEX_USER`).
pub const XATTR_INDEX_USER: u8 = 1;
const HEADER_LEN: usize = 32;
const ENTRY_LEN: usize = 16;

/// How `set_xattr` treats an existing or missing attribute (Linux:
/// `XATTR_CREATE`, `XATTR_REPLACE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XattrMode {
    /// Create or replace.
    Any,
    /// Fail with [`Error::Exists`] if it exists.
    Create,
    /// Fail with [`Error::NotFound`] if it does not.
    Replace,
}

/// One attribute: name index (1 for "user."), name without its prefix,
/// value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xattr {
    pub index: u8,
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

fn pad4(n: usize) -> usize {
    (n + 3) & !3
}

fn entry_len(name_len: usize) -> usize {
    pad4(ENTRY_LEN + name_len)
}

/// Linux: `ext2_xattr_hash_entry` (names hashed as unsigned bytes, as
/// e2fsprogs does).
fn hash_entry(name: &[u8], value: &[u8]) -> u32 {
    let mut hash = 0u32;
    for &c in name {
        hash = (hash << 5) ^ (hash >> 27) ^ u32::from(c);
    }
    for word in value.chunks(4) {
        let mut w = [0u8; 4];
        w[..word.len()].copy_from_slice(word);
        hash = (hash << 16) ^ (hash >> 16) ^ u32::from_le_bytes(w);
    }
    hash
}

/// Linux: `ext2_xattr_rehash` over the entries' hashes.
fn hash_block(hashes: &[u32]) -> u32 {
    let mut hash = 0u32;
    for &h in hashes {
        if h == 0 {
            return 0;
        }
        hash = (hash << 16) ^ (hash >> 16) ^ h;
    }
    hash
}

/// Parses and checks an EA block (Linux: `ext2_xattr_get`'s checks and
/// `ext2_xattr_set`'s `bad_block`).
fn parse_block(buf: &[u8]) -> Result<Vec<Xattr>> {
    if buf.len() < HEADER_LEN + 4 || rd32(buf, 0) != XATTR_MAGIC || rd32(buf, 8) != 1 {
        return Err(Error::Corrupt("bad xattr block"));
    }
    parse_entries(buf, HEADER_LEN)
}

/// The attributes in a large inode's body after `i_extra_isize` (ext4's
/// in-inode attributes: e2fsprogs and the ext4 driver Debian uses for ext2
/// put them there; Linux's fs/ext2 ignores them): a magic, then entries
/// whose value offsets count from the first entry.
fn parse_ibody(raw: &[u8]) -> Result<Vec<Xattr>> {
    let Some(extra) = raw.get(128..130).map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
    else {
        return Ok(Vec::new());
    };
    let magic_at = 128 + extra;
    match raw.get(magic_at..magic_at + 4) {
        Some(m) if m == XATTR_MAGIC.to_le_bytes() => {}
        _ => return Ok(Vec::new()),
    }
    let area = raw.get(magic_at + 4..).ok_or(Error::Corrupt("bad in-inode xattrs"))?;
    parse_entries(area, 0)
}

/// The entries of `buf` from byte `first` to their four-zero-byte end;
/// value offsets count from `buf`'s start. Every entry and value lies in
/// `buf`, values past the entry table.
fn parse_entries(buf: &[u8], first: usize) -> Result<Vec<Xattr>> {
    let bad = Error::Corrupt("bad xattr entry");
    let mut out = Vec::new();
    let mut off = first;
    loop {
        let head = buf.get(off..off + 4).ok_or(bad)?;
        if head == [0, 0, 0, 0] {
            break;
        }
        let e = buf.get(off..off + ENTRY_LEN).ok_or(bad)?;
        let name_len = usize::from(e[0]);
        let next = off + entry_len(name_len);
        let name = buf.get(off + ENTRY_LEN..off + ENTRY_LEN + name_len).ok_or(bad)?;
        let value_offs = usize::from(rd16(e, 2));
        let value_size = rd32(e, 8) as usize;
        if rd32(e, 4) != 0 || name_len == 0 {
            return Err(bad);
        }
        let end = value_offs.checked_add(value_size).ok_or(bad)?;
        if value_size != 0 && (value_offs < next || end > buf.len()) {
            return Err(bad);
        }
        let value = if value_size == 0 { &[][..] } else { buf.get(value_offs..end).ok_or(bad)? };
        out.push(Xattr { index: e[1], name: name.to_vec(), value: value.to_vec() });
        off = next;
    }
    Ok(out)
}

/// Lays `attrs` (sorted) out in a block of `bs` bytes, or `None` if they
/// do not fit.
fn build_block(attrs: &[Xattr], refcount: u32, bs: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; bs];
    wr32(&mut buf, 0, XATTR_MAGIC);
    wr32(&mut buf, 4, refcount);
    wr32(&mut buf, 8, 1);
    let table: usize = attrs.iter().map(|a| entry_len(a.name.len())).sum();
    let mut limit = bs;
    let mut off = HEADER_LEN;
    let mut hashes = Vec::new();
    for a in attrs {
        let name_len = u8::try_from(a.name.len()).ok()?;
        let value_offs = if a.value.is_empty() {
            0
        } else {
            limit = limit.checked_sub(pad4(a.value.len()))?;
            buf.get_mut(limit..limit + a.value.len())?.copy_from_slice(&a.value);
            limit
        };
        let h = hash_entry(&a.name, &a.value);
        let e = buf.get_mut(off..off + entry_len(a.name.len()))?;
        e[0] = name_len;
        e[1] = a.index;
        wr16(e, 2, u16::try_from(value_offs).ok()?);
        wr32(e, 8, u32::try_from(a.value.len()).ok()?);
        wr32(e, 12, h);
        e[ENTRY_LEN..ENTRY_LEN + a.name.len()].copy_from_slice(&a.name);
        hashes.push(h);
        off += entry_len(a.name.len());
    }
    // The table and its four-byte terminator must end before the values.
    if HEADER_LEN + table + 4 > limit {
        return None;
    }
    wr32(&mut buf, 12, hash_block(&hashes));
    Some(buf)
}

/// Linux's sort order: name index, then name length, then the name.
fn order(a: &Xattr, index: u8, name: &[u8]) -> core::cmp::Ordering {
    (a.index, a.name.len(), a.name.as_slice()).cmp(&(index, name.len(), name))
}

impl<D: BlockIo> Ext2<D> {
    /// The attributes of `inode` (empty without an EA block).
    fn read_xattrs(&mut self, inode: &Inode) -> Result<(Vec<Xattr>, u32)> {
        if inode.file_acl == 0 {
            return Ok((Vec::new(), 0));
        }
        self.check_data_block(inode.file_acl)?;
        let buf = self.read_buf(inode.file_acl)?;
        Ok((parse_block(&buf)?, rd32(&buf, 4)))
    }

    /// Every attribute of inode `ino`: those in the inode body, then the
    /// block's in block order (Linux: `ext4_listxattr`, before the
    /// prefixes are added).
    pub fn list_xattrs(&mut self, ino: u32) -> Result<Vec<Xattr>> {
        let inode = self.read_inode(ino)?;
        let mut all = parse_ibody(inode.raw())?;
        all.extend(self.read_xattrs(&inode)?.0);
        Ok(all)
    }

    /// The value of attribute `index`/`name` of `ino`, or `None`
    /// (Linux: `ext2_xattr_get`; the kernel's `ENODATA`).
    pub fn get_xattr(&mut self, ino: u32, index: u8, name: &[u8]) -> Result<Option<Vec<u8>>> {
        let attrs = self.list_xattrs(ino)?;
        Ok(attrs.into_iter().find(|a| a.index == index && a.name == name).map(|a| a.value))
    }

    /// Sets (`Some`) or removes (`None`) attribute `index`/`name` of `ino`
    /// and sets its ctime to `now` (Linux: `ext2_xattr_set`). Errors:
    /// `Exists` (`Create`), `NotFound` (`Replace`, or removing a missing
    /// one), `NoSpace` (the block is full or no block is free), `TooBig`
    /// (a name over 255 bytes or a value over a block), `Invalid` (an empty
    /// name).
    pub fn set_xattr(
        &mut self,
        ino: u32,
        index: u8,
        name: &[u8],
        value: Option<&[u8]>,
        mode: XattrMode,
        now: u32,
    ) -> Result<()> {
        self.check_writable()?;
        let bs = self.sb.block_size as usize;
        if name.is_empty() {
            return Err(Error::Invalid);
        }
        if name.len() > 255 || value.is_some_and(|v| v.len() > bs) {
            return Err(Error::TooBig);
        }
        let mut inode = self.read_inode(ino)?;
        // Only the EA block is written; an attribute e2fsprogs or ext4 put
        // in the inode body stays as it is, read-only.
        if parse_ibody(inode.raw())?.iter().any(|a| a.index == index && a.name == name) {
            return Err(Error::Unsupported("xattr in the inode body"));
        }
        let (mut attrs, refcount) = self.read_xattrs(&inode)?;
        let found = attrs.iter().position(|a| a.index == index && a.name == name);
        match (found, value, mode) {
            (Some(_), Some(_), XattrMode::Create) => return Err(Error::Exists),
            (None, Some(_), XattrMode::Replace) | (None, None, _) => return Err(Error::NotFound),
            (Some(i), None, _) => {
                attrs.remove(i);
            }
            (Some(i), Some(v), _) => {
                if let Some(a) = attrs.get_mut(i) {
                    a.value = v.to_vec();
                }
            }
            (None, Some(v), _) => {
                let at = attrs.iter().position(|a| order(a, index, name).is_gt());
                let new = Xattr { index, name: name.to_vec(), value: v.to_vec() };
                attrs.insert(at.unwrap_or(attrs.len()), new);
            }
        }
        self.store_xattrs(&mut inode, &attrs, refcount)?;
        inode.ctime = now;
        self.write_inode(&inode)
    }

    /// Drops one reference to an EA block, freeing it at zero (Linux:
    /// `ext2_xattr_release_block`).
    fn put_xattr_block(&mut self, block: u32) -> Result<()> {
        let mut buf = self.read_buf(block)?;
        let refs = rd32(&buf, 4);
        if refs <= 1 {
            self.free_blocks(vec![block])
        } else {
            wr32(&mut buf, 4, refs - 1);
            self.dev.write_block(block, &buf)
        }
    }

    /// Writes `attrs` as `inode`'s EA block: in place if the block is its
    /// own, in a new block if there was none or it is shared, none at all
    /// if `attrs` is empty. The caller writes the inode.
    fn store_xattrs(&mut self, inode: &mut Inode, attrs: &[Xattr], refcount: u32) -> Result<()> {
        let bs = self.sb.block_size as usize;
        let old = inode.file_acl;
        let sectors = self.sb.block_size / 512;
        if attrs.is_empty() {
            if old != 0 {
                self.put_xattr_block(old)?;
                inode.file_acl = 0;
                inode.blocks = inode.blocks.saturating_sub(sectors);
            }
            return Ok(());
        }
        let buf = build_block(attrs, 1, bs).ok_or(Error::NoSpace)?;
        if old != 0 && refcount <= 1 {
            return self.dev.write_block(old, &buf);
        }
        let goal = self.inode_goal(inode.ino);
        let new = self.alloc_block(goal)?;
        if let Err(e) = self.dev.write_block(new, &buf) {
            let _ = self.free_blocks(vec![new]);
            return Err(e);
        }
        if old != 0 {
            // Shared: the others keep the old block, one reference fewer.
            self.put_xattr_block(old)?;
        } else {
            inode.blocks = inode.blocks.saturating_add(sectors);
        }
        inode.file_acl = new;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_then_parse_round_trips_sorted() {
        let attrs = vec![
            Xattr { index: 1, name: b"a".to_vec(), value: b"xyz".to_vec() },
            Xattr { index: 1, name: b"bb".to_vec(), value: Vec::new() },
        ];
        let buf = build_block(&attrs, 1, 1024).expect("fits");
        assert_eq!(parse_block(&buf).expect("parses"), attrs);
        assert_ne!(rd32(&buf, 12), 0);
    }

    #[test]
    fn too_much_does_not_fit() {
        let attrs = vec![Xattr { index: 1, name: b"a".to_vec(), value: vec![7; 1024] }];
        assert!(build_block(&attrs, 1, 1024).is_none());
    }

    #[test]
    fn corrupt_blocks_are_refused() {
        let attrs = vec![Xattr { index: 1, name: b"a".to_vec(), value: b"v".to_vec() }];
        let good = build_block(&attrs, 1, 1024).expect("fits");
        let mut bad = good.clone();
        wr16(&mut bad, HEADER_LEN + 2, 1022); // value runs off the block end
        wr32(&mut bad, HEADER_LEN + 8, 100);
        assert!(parse_block(&bad).is_err());
        let mut bad = good.clone();
        wr16(&mut bad, HEADER_LEN + 2, 40); // value inside the entry table
        assert!(parse_block(&bad).is_err());
        let mut bad = good.clone();
        wr32(&mut bad, HEADER_LEN + 4, 9); // value in another block
        assert!(parse_block(&bad).is_err());
        let mut bad = good;
        bad[HEADER_LEN..].iter_mut().for_each(|b| *b = 0xff); // no terminator
        assert!(parse_block(&bad).is_err());
        assert!(parse_block(&[0u8; 1024]).is_err());
    }
}

//! Directories: reading entries with their long names, finding a name,
//! adding and removing entries, making a new directory, moving an entry
//! (Linux: fs/fat/dir.c `fat_search_long`, `fat_get_entry`,
//! `fat_add_entries`, `fat_remove_entries`, `fat_alloc_new_dir`,
//! `fat_dir_empty`, `fat_subdirs`; fs/fat/namei_vfat.c `vfat_build_slots`,
//! `vfat_rename`).
//!
//! A directory is read whole into memory ([`DirBuf`]): its sectors in
//! order and their bytes; a change rewrites the sectors it touched. A
//! long name is taken only when its slots are in sequence and their
//! checksum matches the short entry; otherwise the short name is shown,
//! as Linux does. Directories grow a cluster at a time, up to Linux's
//! `FAT_MAX_DIR_SIZE` (2 MiB); the FAT12/16 root has a fixed size.
//!
//! # Locking
//! None: called under the caller's serialization of `&mut Fat`.
#![forbid(unsafe_code)]

use alloc::vec;
use alloc::vec::Vec;

use crate::name::{
    ShortName, eq_ignore_case, lfn_checksum, make_short_name, short_to_unicode, to_unicode, to_utf8,
};
use crate::time::unix_to_fat;
use crate::{ATTR_DIR, ATTR_EXT, ATTR_VOLUME, BlockIo, Error, Fat, Result};

/// Linux: `FAT_MAX_DIR_ENTRIES` (65536 entries of 32 bytes).
const MAX_DIR_SLOTS: usize = 65536;
/// A free slot's first byte (Linux: `DELETED_FLAG`).
const DELETED: u8 = 0xE5;
/// Characters in one long-name slot.
const LFN_CHARS: usize = 13;
/// Byte offsets of a slot's 13 characters.
const LFN_OFFSETS: [usize; LFN_CHARS] = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/// A directory, by where its entries live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirRef {
    /// The root: FAT12/16's fixed area, or FAT32's root cluster chain.
    Root,
    /// Any other directory, by its first cluster.
    Cluster(u32),
}

/// A short directory entry (Linux: `struct msdos_dir_entry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawEntry {
    pub name: ShortName,
    pub attr: u8,
    /// Case of the shown short name (Linux: `lcase`).
    pub lcase: u8,
    pub ctime_cs: u8,
    pub ctime: u16,
    pub cdate: u16,
    pub adate: u16,
    /// First cluster, 0 for an empty file.
    pub start: u32,
    pub time: u16,
    pub date: u16,
    pub size: u32,
}

fn le16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

impl RawEntry {
    /// Decodes 32 bytes.
    pub fn decode(b: &[u8; 32]) -> Self {
        let mut name = [0u8; 11];
        name.copy_from_slice(&b[..11]);
        RawEntry {
            name,
            attr: b[11],
            lcase: b[12],
            ctime_cs: b[13],
            ctime: le16(b, 14),
            cdate: le16(b, 16),
            adate: le16(b, 18),
            start: (u32::from(le16(b, 20)) << 16) | u32::from(le16(b, 26)),
            time: le16(b, 22),
            date: le16(b, 24),
            size: u32::from_le_bytes([b[28], b[29], b[30], b[31]]),
        }
    }

    /// Encodes into 32 bytes.
    pub fn encode(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        b[..11].copy_from_slice(&self.name);
        b[11] = self.attr;
        b[12] = self.lcase;
        b[13] = self.ctime_cs;
        b[14..16].copy_from_slice(&self.ctime.to_le_bytes());
        b[16..18].copy_from_slice(&self.cdate.to_le_bytes());
        b[18..20].copy_from_slice(&self.adate.to_le_bytes());
        #[expect(clippy::cast_possible_truncation, reason = "the two halves of start")]
        let (hi, lo) = ((self.start >> 16) as u16, self.start as u16);
        b[20..22].copy_from_slice(&hi.to_le_bytes());
        b[22..24].copy_from_slice(&self.time.to_le_bytes());
        b[24..26].copy_from_slice(&self.date.to_le_bytes());
        b[26..28].copy_from_slice(&lo.to_le_bytes());
        b[28..32].copy_from_slice(&self.size.to_le_bytes());
        b
    }

    pub fn is_dir(&self) -> bool {
        self.attr & ATTR_DIR != 0
    }

    /// Sets the modification time (and the access date) to `now`.
    pub fn set_mtime(&mut self, now: i64) {
        let (date, time, _) = unix_to_fat(now, 0);
        self.date = date;
        self.time = time;
    }

    /// A new entry named `name`, times now.
    fn new(name: ShortName, attr: u8, start: u32, now: i64) -> Self {
        let (date, time, cs) = unix_to_fat(now, 0);
        RawEntry {
            name,
            attr,
            lcase: 0,
            ctime_cs: cs,
            ctime: time,
            cdate: date,
            adate: date,
            start,
            time,
            date,
            size: 0,
        }
    }
}

/// One name in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The long name if valid, else the shown short name, in UTF-8.
    pub name: Vec<u8>,
    pub raw: RawEntry,
    /// Index of the first slot (a long-name slot, or the short entry).
    pub first_slot: u32,
    /// Index of the short entry; its byte offset in the directory is 32 times this.
    pub slot: u32,
    /// The short entry's byte position on the disk (Linux: `i_pos`).
    pub pos: u64,
}

impl DirEntry {
    /// `.` or `..`.
    pub fn is_dot(&self) -> bool {
        self.raw.name[0] == b'.'
    }
}

/// A directory's sectors and bytes.
pub(crate) struct DirBuf {
    sectors: Vec<u64>,
    clusters: Vec<u32>,
    data: Vec<u8>,
}

impl DirBuf {
    fn slots(&self) -> usize {
        self.data.len() / 32
    }

    fn slot(&self, i: usize) -> [u8; 32] {
        let mut s = [0u8; 32];
        if let Some(b) = self.data.get(i * 32..i * 32 + 32) {
            s.copy_from_slice(b);
        }
        s
    }
}

/// A parsed long name being collected: its checksum, the next sequence
/// number expected, the characters so far.
struct Lfn {
    checksum: u8,
    next: u8,
    chars: Vec<u16>,
}

impl<D: BlockIo> Fat<D> {
    /// The directory whose first cluster is `start` (0 is the root, as
    /// `..` entries say).
    pub fn dir_of(&self, start: u32) -> DirRef {
        if start == 0 || (self.geo.fat_bits == 32 && start == self.geo.root_cluster) {
            DirRef::Root
        } else {
            DirRef::Cluster(start)
        }
    }

    /// The first cluster `..` records for `dir` (0 for the root).
    pub fn dir_start(&self, dir: DirRef) -> u32 {
        match dir {
            DirRef::Root => 0,
            DirRef::Cluster(c) => c,
        }
    }

    fn dir_chain_start(&self, dir: DirRef) -> Option<u32> {
        match dir {
            DirRef::Root if self.geo.fat_bits != 32 => None,
            DirRef::Root => Some(self.geo.root_cluster),
            DirRef::Cluster(c) => Some(c),
        }
    }

    pub(crate) fn load_dir(&mut self, dir: DirRef) -> Result<DirBuf> {
        let (sectors, clusters) = match self.dir_chain_start(dir) {
            None => {
                let n = self.geo.root_entries * 32 / self.geo.sector_size;
                let s0 = u64::from(self.geo.root_start);
                ((s0..s0 + u64::from(n)).collect(), Vec::new())
            }
            Some(start) => {
                let clusters = self.chain(start)?;
                let spc = u64::from(self.geo.sectors_per_cluster);
                if clusters.len() as u64 * spc * u64::from(self.geo.sector_size) / 32
                    > MAX_DIR_SLOTS as u64
                {
                    return Err(Error::Corrupt("directory too large"));
                }
                let mut sectors = Vec::new();
                for &c in &clusters {
                    let s0 = self.geo.cluster_sector(c);
                    sectors.extend(s0..s0 + spc);
                }
                (sectors, clusters)
            }
        };
        let ss = self.geo.sector_size as usize;
        let mut data = vec![0u8; sectors.len() * ss];
        for (i, &s) in sectors.iter().enumerate() {
            self.dev.read_sector(s, &mut data[i * ss..(i + 1) * ss])?;
        }
        Ok(DirBuf { sectors, clusters, data })
    }

    /// Writes slots `first..=last` of `buf` back.
    fn store_slots(&mut self, buf: &DirBuf, first: usize, last: usize) -> Result<()> {
        let ss = self.geo.sector_size as usize;
        for i in (first * 32 / ss)..=(last * 32 / ss) {
            let s = *buf.sectors.get(i).ok_or(Error::Io)?;
            self.dev.write_sector(s, &buf.data[i * ss..(i + 1) * ss])?;
        }
        Ok(())
    }

    fn slot_pos(&self, buf: &DirBuf, i: usize) -> u64 {
        let ss = self.geo.sector_size as usize;
        buf.sectors.get(i * 32 / ss).map_or(0, |&s| s * ss as u64 + (i * 32 % ss) as u64)
    }

    /// Every name in `dir`, `.` and `..` included, in disk order (Linux:
    /// `fat_readdir`'s walk).
    pub fn read_dir(&mut self, dir: DirRef) -> Result<Vec<DirEntry>> {
        let buf = self.load_dir(dir)?;
        self.parse_dir(&buf)
    }

    fn parse_dir(&self, buf: &DirBuf) -> Result<Vec<DirEntry>> {
        let mut out = Vec::new();
        let mut lfn: Option<Lfn> = None;
        let mut first = 0;
        for i in 0..buf.slots() {
            let s = buf.slot(i);
            if s[0] == 0 {
                break;
            }
            if s[0] == DELETED {
                lfn = None;
                continue;
            }
            if s[11] == ATTR_EXT {
                lfn = parse_lfn_slot(lfn.take(), &s);
                if s[0] & 0x40 != 0 {
                    first = i;
                }
                continue;
            }
            let raw = RawEntry::decode(&s);
            let long = lfn.take().filter(|l| l.next == 0 && l.checksum == lfn_checksum(&raw.name));
            if raw.attr & ATTR_VOLUME != 0 && !raw.is_dir() {
                continue;
            }
            let name = match long {
                Some(l) => {
                    let end = l
                        .chars
                        .iter()
                        .position(|&c| c == 0 || c == 0xFFFF)
                        .unwrap_or(l.chars.len());
                    to_utf8(&l.chars[..end])
                }
                None => {
                    first = i;
                    to_utf8(&short_to_unicode(&raw.name, raw.lcase))
                }
            };
            out.try_reserve(1).map_err(|_| Error::NoSpace)?;
            #[expect(clippy::cast_possible_truncation, reason = "at most MAX_DIR_SLOTS")]
            out.push(DirEntry {
                name,
                raw,
                first_slot: first as u32,
                slot: i as u32,
                pos: self.slot_pos(buf, i),
            });
        }
        Ok(out)
    }

    /// The entry named `name` in `dir`, long or short, ASCII case
    /// ignored (Linux: `vfat_find` → `fat_search_long`).
    pub fn lookup(&mut self, dir: DirRef, name: &[u8]) -> Result<DirEntry> {
        let want = to_unicode(name)?;
        self.read_dir(dir)?
            .into_iter()
            .filter(|e| !e.is_dot())
            .find(|e| {
                let long: Vec<u16> = core::str::from_utf8(&e.name)
                    .map(|s| s.encode_utf16().collect())
                    .unwrap_or_default();
                eq_ignore_case(&long, &want)
                    || eq_ignore_case(&short_to_unicode(&e.raw.name, e.raw.lcase), &want)
            })
            .ok_or(Error::NotFound)
    }

    /// Rewrites the short entry at disk position `pos` through `f`.
    pub fn update_entry(&mut self, pos: u64, f: impl FnOnce(&mut RawEntry)) -> Result<RawEntry> {
        let ss = u64::from(self.geo.sector_size);
        let (sector, off) = (pos / ss, usize::try_from(pos % ss).unwrap_or(0));
        let mut buf = self.sector_buf();
        self.dev.read_sector(sector, &mut buf)?;
        let bytes: &mut [u8; 32] = buf
            .get_mut(off..off + 32)
            .and_then(|b| b.try_into().ok())
            .ok_or(Error::Corrupt("bad entry position"))?;
        let mut raw = RawEntry::decode(bytes);
        f(&mut raw);
        *bytes = raw.encode();
        self.dev.write_sector(sector, &buf)?;
        Ok(raw)
    }

    /// Finds (or makes, by growing the directory) `n` free slots in a row.
    fn find_free_slots(&mut self, dir: DirRef, n: usize) -> Result<(DirBuf, usize)> {
        loop {
            let buf = self.load_dir(dir)?;
            let mut run = 0;
            for i in 0..buf.slots() {
                let b = buf.data[i * 32];
                run = if b == 0 || b == DELETED { run + 1 } else { 0 };
                if run == n {
                    return Ok((buf, i + 1 - n));
                }
            }
            let Some(&last) = buf.clusters.last() else { return Err(Error::NoSpace) };
            let grown = (buf.sectors.len() * self.geo.sector_size as usize)
                .saturating_add(self.cluster_size() as usize);
            if grown / 32 > MAX_DIR_SLOTS {
                return Err(Error::NoSpace);
            }
            let c = self.alloc_cluster(Some(last))?;
            self.zero_cluster(c)?;
        }
    }

    /// Adds `long` (needing slots if `lfn`) with short entry `raw` to `dir`.
    fn add_entry(
        &mut self,
        dir: DirRef,
        long: &[u16],
        lfn: bool,
        raw: &RawEntry,
    ) -> Result<DirEntry> {
        let nslots = if lfn { long.len().div_ceil(LFN_CHARS) } else { 0 };
        let (mut buf, at) = self.find_free_slots(dir, nslots + 1)?;
        let sum = lfn_checksum(&raw.name);
        for k in 0..nslots {
            // Slots run from the last piece of the name to the first.
            let seq = nslots - k;
            let mut s = [0u8; 32];
            #[expect(clippy::cast_possible_truncation, reason = "at most 20 slots")]
            let id = seq as u8;
            s[0] = if k == 0 { id | 0x40 } else { id };
            s[11] = ATTR_EXT;
            s[13] = sum;
            for (j, &off) in LFN_OFFSETS.iter().enumerate() {
                let idx = (seq - 1) * LFN_CHARS + j;
                let w: u16 = match idx.cmp(&long.len()) {
                    core::cmp::Ordering::Less => long[idx],
                    core::cmp::Ordering::Equal => 0,
                    core::cmp::Ordering::Greater => 0xFFFF,
                };
                s[off..off + 2].copy_from_slice(&w.to_le_bytes());
            }
            buf.data[(at + k) * 32..(at + k + 1) * 32].copy_from_slice(&s);
        }
        let slot = at + nslots;
        buf.data[slot * 32..(slot + 1) * 32].copy_from_slice(&raw.encode());
        self.store_slots(&buf, at, slot)?;
        #[expect(clippy::cast_possible_truncation, reason = "at most MAX_DIR_SLOTS")]
        Ok(DirEntry {
            name: to_utf8(long),
            raw: *raw,
            first_slot: at as u32,
            slot: slot as u32,
            pos: self.slot_pos(&buf, slot),
        })
    }

    /// Names a new entry `name` in `dir`: its UTF-16, short name and
    /// whether it needs long-name slots. `Exists` if taken.
    fn name_new_entry(
        &mut self,
        dir: DirRef,
        name: &[u8],
        except: Option<u64>,
    ) -> Result<(Vec<u16>, ShortName, bool)> {
        let long = to_unicode(name)?;
        match self.lookup(dir, name) {
            Ok(e) if Some(e.pos) != except => return Err(Error::Exists),
            Ok(_) | Err(Error::NotFound) => {}
            Err(e) => return Err(e),
        }
        let taken: Vec<ShortName> = self
            .read_dir(dir)?
            .iter()
            .filter(|e| Some(e.pos) != except)
            .map(|e| e.raw.name)
            .collect();
        let (short, lfn) = make_short_name(&long, &taken)?;
        Ok((long, short, lfn))
    }

    /// Creates `name` in `dir` (Linux: `vfat_create`, `vfat_mkdir`): a
    /// file with the archive bit, or (`dir_attr`) a directory with its
    /// first cluster holding `.` and `..`. `now` is Unix seconds.
    pub fn create(&mut self, dir: DirRef, name: &[u8], is_dir: bool, now: i64) -> Result<DirEntry> {
        let (long, short, lfn) = self.name_new_entry(dir, name, None)?;
        let mut start = 0;
        if is_dir {
            start = self.alloc_cluster(None)?;
            if let Err(e) = self.init_dir(start, self.dir_start(dir), now) {
                let _ = self.free_chain(start);
                return Err(e);
            }
        }
        let attr = if is_dir { ATTR_DIR } else { crate::ATTR_ARCH };
        let raw = RawEntry::new(short, attr, start, now);
        self.add_entry(dir, &long, lfn, &raw).inspect_err(|_| {
            if start != 0 {
                let _ = self.free_chain(start);
            }
        })
    }

    /// Fills a new directory's cluster (Linux: `fat_alloc_new_dir`).
    fn init_dir(&mut self, c: u32, parent: u32, now: i64) -> Result<()> {
        self.zero_cluster(c)?;
        let dot = RawEntry::new(*b".          ", ATTR_DIR, c, now);
        let dotdot = RawEntry::new(*b"..         ", ATTR_DIR, parent, now);
        let mut buf = self.sector_buf();
        buf[..32].copy_from_slice(&dot.encode());
        buf[32..64].copy_from_slice(&dotdot.encode());
        self.dev.write_sector(self.geo.cluster_sector(c), &buf)
    }

    /// Frees the slots of `entry` (Linux: `fat_remove_entries`); its data
    /// is the caller's to free ([`free_chain`](Self::free_chain)).
    pub fn remove(&mut self, dir: DirRef, entry: &DirEntry) -> Result<()> {
        let mut buf = self.load_dir(dir)?;
        let (first, last) = (entry.first_slot as usize, entry.slot as usize);
        if last >= buf.slots() || first > last || self.slot_pos(&buf, last) != entry.pos {
            return Err(Error::Corrupt("directory entry moved"));
        }
        for i in first..=last {
            buf.data[i * 32] = DELETED;
        }
        self.store_slots(&buf, first, last)
    }

    /// Whether `dir` holds nothing but `.` and `..` (Linux: `fat_dir_empty`).
    pub fn dir_is_empty(&mut self, dir: DirRef) -> Result<bool> {
        Ok(self.read_dir(dir)?.iter().all(DirEntry::is_dot))
    }

    /// Subdirectories of `dir` (Linux: `fat_subdirs`), for its link count.
    pub fn subdirs(&mut self, dir: DirRef) -> Result<u32> {
        let n = self.read_dir(dir)?.iter().filter(|e| !e.is_dot() && e.raw.is_dir()).count();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// A directory's size in bytes: its clusters, or the fixed root's area.
    pub fn dir_size(&mut self, dir: DirRef) -> Result<u64> {
        match self.dir_chain_start(dir) {
            None => Ok(u64::from(self.geo.root_entries) * 32),
            Some(start) => Ok(self.chain(start)?.len() as u64 * u64::from(self.geo.cluster_size())),
        }
    }

    /// Moves `entry` from `old_dir` to `new_name` in `new_dir`, which must
    /// be free (or name the entry itself: a change of case). A moved
    /// directory's `..` follows (Linux: `vfat_rename`). Returns the new entry.
    pub fn rename(
        &mut self,
        old_dir: DirRef,
        entry: &DirEntry,
        new_dir: DirRef,
        new_name: &[u8],
    ) -> Result<DirEntry> {
        let except = (old_dir == new_dir).then_some(entry.pos);
        let (long, short, lfn) = self.name_new_entry(new_dir, new_name, except)?;
        let mut raw = entry.raw;
        raw.name = short;
        raw.lcase = 0;
        // Added before the old is removed: a full disk loses nothing.
        let new = self.add_entry(new_dir, &long, lfn, &raw)?;
        self.remove(old_dir, entry)?;
        if raw.is_dir() && old_dir != new_dir {
            let parent = self.dir_start(new_dir);
            let moved = self.load_dir(DirRef::Cluster(raw.start))?;
            let pos = self.slot_pos(&moved, 1);
            if moved.slot(1)[..2] == *b".." {
                self.update_entry(pos, |r| r.start = parent)?;
            }
        }
        Ok(new)
    }
}

/// Adds slot `s` to the long name being collected; `None` when it does
/// not continue it (Linux: the checks of `fat_parse_long`).
fn parse_lfn_slot(cur: Option<Lfn>, s: &[u8; 32]) -> Option<Lfn> {
    let seq = s[0] & 0x1F;
    if seq == 0 || usize::from(seq) * LFN_CHARS > 20 * LFN_CHARS {
        return None;
    }
    let mut l = if s[0] & 0x40 != 0 {
        Lfn { checksum: s[13], next: seq, chars: vec![0xFFFF; usize::from(seq) * LFN_CHARS] }
    } else {
        cur.filter(|l| l.next == seq && l.checksum == s[13])?
    };
    let base = usize::from(seq - 1) * LFN_CHARS;
    for (j, &off) in LFN_OFFSETS.iter().enumerate() {
        if let Some(c) = l.chars.get_mut(base + j) {
            *c = le16(s, off);
        }
    }
    l.next = seq - 1;
    Some(l)
}

//! Partition tables as pure logic: the DOS (MBR) table, four primary
//! entries in sector 0 and a chain of extended boot records for logical
//! partitions.
//!
//! Linux: block/partitions/msdos.c (`msdos_partition`, `parse_extended`,
//! `msdos_magic_present`, `is_extended_partition`), block/partitions/core.c
//! (`blk_add_partition`'s end-of-disk checks, the `" vda: vda1 vda2"` line).
//!
//! The disk is read through a callback, so the parser runs the same in the
//! kernel and under `cargo test`. Whatever the sectors hold, the parser
//! neither panics nor loops forever (the EBR chain is cut after 100 links
//! without a data partition, as Linux does, and after the minor limit), and
//! never returns a partition that reaches past the disk: one that starts
//! past the end is refused, one that only runs past it is cut at the end,
//! both with a note the kernel logs, as `blk_add_partition` does.
//!
//! # Locking
//! None: pure functions over the caller's buffers.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Bytes per sector of the table (Linux reads 512-byte sectors here).
pub const SECTOR_SIZE: usize = 512;
/// Where the four entries start in a boot record.
const TABLE_OFFSET: usize = 0x1be;
const ENTRY_SIZE: usize = 16;
/// Linux: `DOS_EXTENDED_PARTITION`, `WIN98_EXTENDED_PARTITION`,
/// `LINUX_EXTENDED_PARTITION`.
const EXTENDED_TYPES: [u8; 3] = [0x05, 0x0f, 0x85];
/// A protective MBR in front of a GPT (Linux: `EFI_PMBR_OSTYPE_EFI_GPT`);
/// not a DOS table.
const EFI_GPT_TYPE: u8 = 0xee;
/// Links of the EBR chain followed without finding a data partition.
const MAX_EMPTY_LINKS: u32 = 100;

/// One partition: number `n` is `/dev/vdaN`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    pub number: u32,
    /// First sector, from the start of the disk.
    pub start: u64,
    /// Length in sectors, at least 1.
    pub sectors: u64,
    /// The type byte (Linux: `sys_ind`).
    pub sys_ind: u8,
    /// Found in the extended chain (printed inside `< >`).
    pub logical: bool,
}

/// Why a table entry did not become a partition (logged by the kernel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// Linux: "vda: p5 start 4096 is beyond EOD".
    BeyondEnd { number: u32, start: u64 },
    /// Linux: "vda: p1 size 9000 extends beyond EOD, truncated".
    Truncated { number: u32, sectors: u64 },
}

/// What the table holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub partitions: Vec<Partition>,
    pub notes: Vec<Note>,
}

/// One 16-byte entry (Linux: `struct msdos_partition`).
#[derive(Clone, Copy)]
struct Entry {
    boot_ind: u8,
    sys_ind: u8,
    start_sect: u64,
    nr_sects: u64,
}

impl Entry {
    fn is_extended(&self) -> bool {
        EXTENDED_TYPES.contains(&self.sys_ind)
    }
}

fn le32(b: &[u8], at: usize) -> u64 {
    let word = b.get(at..at + 4).and_then(|s| <[u8; 4]>::try_from(s).ok());
    word.map_or(0, |w| u64::from(u32::from_le_bytes(w)))
}

/// The four entries of a boot record.
fn entries(sector: &[u8; SECTOR_SIZE]) -> [Entry; 4] {
    core::array::from_fn(|i| {
        let at = TABLE_OFFSET + i * ENTRY_SIZE;
        Entry {
            boot_ind: sector[at],
            sys_ind: sector[at + 4],
            start_sect: le32(sector, at + 8),
            nr_sects: le32(sector, at + 12),
        }
    })
}

/// Linux: `msdos_magic_present`.
fn magic_present(sector: &[u8; SECTOR_SIZE]) -> bool {
    sector[510] == 0x55 && sector[511] == 0xaa
}

/// Builds a table while checking every partition against the disk.
struct State {
    capacity: u64,
    /// Partition numbers stop below this (Linux: `disk_max_parts`).
    limit: u32,
    next: u32,
    table: Table,
}

impl State {
    /// Linux: `put_partition` + `blk_add_partition`'s checks.
    fn put(&mut self, number: u32, start: u64, sectors: u64, sys_ind: u8, logical: bool) {
        if start >= self.capacity {
            self.table.notes.push(Note::BeyondEnd { number, start });
            return;
        }
        let room = self.capacity - start;
        let sectors = if sectors > room {
            self.table.notes.push(Note::Truncated { number, sectors });
            room
        } else {
            sectors
        };
        self.table.partitions.push(Partition { number, start, sectors, sys_ind, logical });
    }

    /// Follows the EBR chain of the extended partition at `first`
    /// (`first_size` sectors long); Linux: `parse_extended`.
    fn parse_extended<R>(&mut self, read: &mut R, first: u64, first_size: u64)
    where
        R: FnMut(u64, &mut [u8; SECTOR_SIZE]) -> bool,
    {
        let (mut this_sect, mut this_size) = (first, first_size);
        let mut empty_links = 0;
        let mut sector = [0u8; SECTOR_SIZE];
        loop {
            empty_links += 1;
            if empty_links > MAX_EMPTY_LINKS || self.next >= self.limit {
                return;
            }
            if !read(this_sect, &mut sector) || !magic_present(&sector) {
                return;
            }
            let ebr = entries(&sector);
            for (i, p) in ebr.iter().enumerate() {
                if p.nr_sects == 0 || p.is_extended() {
                    continue;
                }
                let Some(next) = this_sect.checked_add(p.start_sect) else { continue };
                // The 3rd and 4th entries often hold garbage: only take
                // them when they lie inside the extended partition.
                if i >= 2 {
                    let inside = p.start_sect + p.nr_sects <= this_size
                        && next >= first
                        && next.saturating_add(p.nr_sects) <= first.saturating_add(first_size);
                    if !inside {
                        continue;
                    }
                }
                self.put(self.next, next, p.nr_sects, p.sys_ind, true);
                empty_links = 0;
                self.next += 1;
                if self.next >= self.limit {
                    return;
                }
            }
            let Some(link) = ebr.iter().find(|p| p.nr_sects != 0 && p.is_extended()) else {
                return;
            };
            this_sect = first.saturating_add(link.start_sect);
            this_size = link.nr_sects;
        }
    }
}

/// Parses the DOS partition table of a disk of `capacity` sectors, read
/// through `read(lba, buf)` (false on an I/O error). Partition numbers are
/// below `limit` (16 for virtio-blk's 16 minors a disk: vda1..vda15).
/// `None` if sector 0 holds no DOS table (Linux: `msdos_partition`
/// returning 0).
pub fn msdos_partition<R>(mut read: R, capacity: u64, limit: u32) -> Option<Table>
where
    R: FnMut(u64, &mut [u8; SECTOR_SIZE]) -> bool,
{
    let mut sector = [0u8; SECTOR_SIZE];
    if !read(0, &mut sector) || !magic_present(&sector) {
        return None;
    }
    let primary = entries(&sector);
    // A FAT boot sector also ends in 55aa: a boot indicator other than
    // 0 or 0x80 says this is not a partition table.
    if primary.iter().any(|p| p.boot_ind & 0x7f != 0) {
        return None;
    }
    if primary.iter().any(|p| p.sys_ind == EFI_GPT_TYPE) {
        return None;
    }
    let mut state = State { capacity, limit, next: 5, table: Table::default() };
    for (slot, p) in (1..).zip(primary.iter()) {
        if p.nr_sects == 0 || slot >= limit {
            continue;
        }
        if p.is_extended() {
            // Two sectors, so nobody makes a file system on the
            // container itself (Linux keeps room for LILO).
            state.put(slot, p.start_sect, p.nr_sects.min(2), p.sys_ind, false);
            state.parse_extended(&mut read, p.start_sect, p.nr_sects);
        } else {
            state.put(slot, p.start_sect, p.nr_sects, p.sys_ind, false);
        }
    }
    Some(state.table)
}

impl Table {
    /// The line Linux prints at probe: `" vda: vda1 vda2 < vda5 >"`
    /// (`check_partition`'s `pp_buf`).
    pub fn describe(&self, disk: &str) -> String {
        let mut line = format!(" {disk}:");
        let mut in_extended = false;
        for p in &self.partitions {
            if !p.logical && in_extended {
                line.push_str(" >");
                in_extended = false;
            }
            line.push_str(&format!(" {}", partition_name(disk, p.number)));
            if !p.logical && EXTENDED_TYPES.contains(&p.sys_ind) {
                line.push_str(" <");
                in_extended = true;
            }
        }
        if in_extended {
            line.push_str(" >");
        }
        line
    }
}

/// "vda1", or "nvme0n1p1" when the disk name ends in a digit (Linux:
/// `bdev_partition_name`'s `disk_name`).
pub fn partition_name(disk: &str, number: u32) -> String {
    if disk.ends_with(|c: char| c.is_ascii_digit()) {
        format!("{disk}p{number}")
    } else {
        format!("{disk}{number}")
    }
}

#[cfg(test)]
mod tests;

//! FITRIM: finding the free extents of each group's block bitmap so the
//! caller can tell the disk they are unused (`fstrim`).
//!
//! Linux's ext2 has no FITRIM; Debian mounts ext2 with the ext4 driver,
//! whose `ext4_trim_fs` is the model: the byte range is turned into blocks
//! and checked ([`Ext2::trim_range`]), then each group in it is walked for
//! runs of free blocks of at least `minlen` ([`Ext2::trim_group`]), cut at
//! the range's ends. A group whose every free block has been trimmed since
//! the mount is skipped until a block of it is freed again or a smaller
//! `minlen` is asked (Linux: `EXT4_GROUP_INFO_WAS_TRIMMED`,
//! `s_last_trim_minblks`), so a second `fstrim` reports 0 bytes.
//!
//! Linux: fs/ext4/mballoc.c (`ext4_trim_fs`, `ext4_trim_all_free`,
//! `ext4_try_to_trim_range`).
//!
//! # Locking
//! None inside; the caller holds the instance across one group's walk and
//! its discards, so no block of it is allocated meanwhile (Linux holds the
//! group lock and marks the extent busy).

use crate::{BlockIo, Error, Ext2, Result};

/// What a FITRIM covers, in blocks, after Linux's checks and clamping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrimRange {
    /// First and last group to walk.
    pub first_group: u32,
    pub last_group: u32,
    /// Offset in `first_group` of the first block, and in `last_group`
    /// of the last one (inclusive).
    pub first_offset: u32,
    pub last_offset: u32,
    /// Shortest free run worth a discard, in blocks.
    pub minlen: u32,
}

fn bit_is_set(map: &[u8], i: u32) -> bool {
    map.get((i / 8) as usize).is_none_or(|b| b & (1 << (i % 8)) != 0)
}

impl<D: BlockIo> Ext2<D> {
    /// Checks and converts a FITRIM request of bytes (Linux: the head of
    /// `ext4_trim_fs`): `Invalid` if `minlen` exceeds a group, `start` is
    /// past the last block or `len` is shorter than a block. `Ok(None)` if
    /// nothing is left to walk (the range ends in the first data block, or
    /// `granularity` — the disk's discard granularity in bytes, which
    /// raises a smaller `minlen` — exceeds a group).
    pub fn trim_range(
        &self,
        start: u64,
        len: u64,
        minlen: u64,
        granularity: u64,
    ) -> Result<Option<TrimRange>> {
        let sb = &self.sb;
        let bits = sb.block_size.trailing_zeros();
        let bpg = u64::from(sb.blocks_per_group);
        let max_blks = u64::from(sb.blocks_count);
        let first = start >> bits;
        let mut minblks = minlen >> bits;
        if minblks > bpg || first >= max_blks || len < u64::from(sb.block_size) {
            return Err(Error::Invalid);
        }
        if minlen < granularity {
            minblks = granularity >> bits;
            if minblks > bpg {
                return Ok(None);
            }
        }
        // `len >= block_size`, so at least one block: no underflow.
        let last = first.saturating_add((len >> bits) - 1).min(max_blks - 1);
        let fdb = u64::from(sb.first_data_block);
        if last <= fdb {
            return Ok(None);
        }
        let first = first.max(fdb);
        // Blocks are below `blocks_count`, a u32: the parts fit.
        let part = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        let group_of = |b: u64| (part((b - fdb) / bpg), part((b - fdb) % bpg));
        let (first_group, first_offset) = group_of(first);
        let (last_group, last_offset) = group_of(last);
        Ok(Some(TrimRange {
            first_group,
            last_group,
            first_offset,
            last_offset,
            minlen: part(minblks),
        }))
    }

    /// The free runs of group `g` between offsets `from` and `to`
    /// (inclusive) of at least `minlen` blocks, as `(first block, count)`,
    /// handed to `discard` one by one (Linux: `ext4_trim_all_free`).
    /// Returns the blocks handed over; a group trimmed since its last free
    /// gives 0. After a walk of the whole group that `discard` never
    /// failed, the group counts as trimmed. An error from `discard` ends
    /// the walk and is returned.
    pub fn trim_group(
        &mut self,
        g: u32,
        from: u32,
        to: u32,
        minlen: u32,
        discard: &mut dyn FnMut(u32, u32) -> Result<()>,
    ) -> Result<u32> {
        if g >= self.sb.groups_count || u32::from(self.gd.free_blocks(g)) < minlen {
            return Ok(0);
        }
        let trimmed = self.trimmed.get(g as usize).copied().unwrap_or(false);
        if trimmed && minlen >= self.last_trim_minlen {
            return Ok(0);
        }
        let n = self.sb.blocks_in_group(g);
        let end = to.saturating_add(1).min(n);
        let base = self.sb.group_first_block(g);
        let map = self.read_buf(self.gd.block_bitmap(g))?;
        let mut count = 0u32;
        let mut bit = from;
        while bit < end {
            if bit_is_set(&map, bit) {
                bit += 1;
                continue;
            }
            let run_start = bit;
            while bit < end && !bit_is_set(&map, bit) {
                bit += 1;
            }
            let run = bit - run_start;
            if run >= minlen.max(1) {
                discard(base + run_start, run)?;
                count += run;
            }
        }
        if from == 0
            && end == n
            && let Some(flag) = self.trimmed.get_mut(g as usize)
        {
            *flag = true;
        }
        Ok(count)
    }

    /// Records the `minlen` of a FITRIM that walked all its groups (Linux:
    /// `s_last_trim_minblks`): a later one with a smaller `minlen` walks
    /// the trimmed groups again.
    pub fn trim_done(&mut self, minlen: u32) {
        self.last_trim_minlen = minlen;
    }

    /// Forgets that group `g` was trimmed: a block of it was freed.
    pub(crate) fn clear_trimmed(&mut self, g: u32) {
        if let Some(flag) = self.trimmed.get_mut(g as usize) {
            *flag = false;
        }
    }

    /// Number of block groups.
    pub fn groups_count(&self) -> u32 {
        self.sb.groups_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Free runs of `map` over bits `[from, end)`, for tests of the walk.
    fn runs(map: &[u8], from: u32, end: u32) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let mut bit = from;
        while bit < end {
            if bit_is_set(map, bit) {
                bit += 1;
                continue;
            }
            let s = bit;
            while bit < end && !bit_is_set(map, bit) {
                bit += 1;
            }
            out.push((s, bit - s));
        }
        out
    }

    #[test]
    fn runs_stop_at_set_bits_and_the_end() {
        // bits 0-2 set, 3-9 free, 10 set, 11-15 free
        let map = [0b0000_0111, 0b0000_0100];
        assert_eq!(runs(&map, 0, 16), vec![(3, 7), (11, 5)]);
        assert_eq!(runs(&map, 5, 12), vec![(5, 5), (11, 1)]);
        // Bits past the bitmap count as used.
        assert_eq!(runs(&map, 12, 40), vec![(12, 4)]);
    }
}

//! O_DIRECT on ext2 regular files (Linux: fs/ext2/inode.c
//! `ext2_direct_IO`, mm/filemap.c `generic_file_direct_write`).
//!
//! Ferrite has no direct-I/O path: an O_DIRECT read or write still copies
//! through the inode's page cache (buffered underneath, as Linux falls back
//! to when direct I/O cannot be done). What O_DIRECT promises a program is
//! kept: a write is on the disk when the call returns (its pages are
//! written back before it does), and a read sees what is on the disk
//! coherently with the cache (the range is written back first, as Linux's
//! `kiocb_write_and_wait` does). Neither the alignment rules nor the
//! cache bypass are enforced; metadata (a new block's bitmap, the inode)
//! stays in the buffer cache, as with Linux's direct I/O without O_SYNC.
//!
//! # Locking
//! `filemap_write_and_wait_range` sleeps and takes the instance mutex in
//! `writepages`: the read side runs with no lock held, the write side
//! under the inode's `i_rwsem` only (as Linux's `generic_file_direct_write`
//! under `inode_lock`; `i_rwsem` comes before the instance mutex, which
//! `write`'s allocation takes too).
#![deny(unsafe_code)]

use linux_raw_sys::general as uapi;

use crate::fs::file_table::File;
use crate::kernel::errno::KResult;
use crate::mm::addr::PAGE_SIZE;
use crate::mm::page_writeback::filemap_write_and_wait_range;

/// Writes back the bytes `[start, start + len)` of `file`'s page cache if
/// it was opened (or set by F_SETFL) with O_DIRECT.
fn direct_sync_range(file: &File, start: u64, len: usize) -> KResult<()> {
    if file.flags() & uapi::O_DIRECT == 0 || len == 0 {
        return Ok(());
    }
    let Some(mapping) = file.f_inode.i_mapping() else {
        return Ok(());
    };
    let page = PAGE_SIZE as u64;
    let end = start.saturating_add(len as u64);
    filemap_write_and_wait_range(mapping, start / page, end.div_ceil(page))
}

/// Before an O_DIRECT read of `len` bytes at `pos`: the disk must hold
/// what the cache holds.
pub fn ext2_direct_read_prepare(file: &File, pos: u64, len: usize) -> KResult<()> {
    direct_sync_range(file, pos, len)
}

/// After a write that started at `start`: an O_DIRECT write's bytes go to
/// the disk before the call returns; a write-back error fails the call.
pub fn ext2_direct_write_finish(
    file: &File,
    start: u64,
    written: KResult<usize>,
) -> KResult<usize> {
    let done = written?;
    direct_sync_range(file, start, done)?;
    Ok(done)
}

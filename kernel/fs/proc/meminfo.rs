//! /proc/meminfo (Linux: fs/proc/meminfo.c `meminfo_proc_show`).
//!
//! Linux 6.1's fields in its order and format (`%-16s%8lu kB`), so that
//! `free`, `top` and scripts find each by name. Ferrite counts total and
//! free pages (`si_meminfo`), the slab caches' pages, and the page cache:
//! `Buffers` (the disks' buffer caches), `Cached` (every other page
//! cache, tmpfs's included), `Dirty` and `Writeback` (pages being
//! written right now). The rest are not counted yet and read 0.
//! `MemAvailable` is what is free plus the disk-backed page cache that
//! reclaim can take (Linux's `si_mem_available`, with no watermarks).
//!
//! # Locking
//! None of its own: the counters are atomics; `Buffers` and
//! `MemAvailable` copy the list of page caches out of its leaf lock, then
//! take each cache's `i_pages` in turn.
#![deny(unsafe_code)]

use super::generic::SeqBuf;
use crate::fs::buffer::nr_blockdev_pages;
use crate::kernel::errno::KResult;
use crate::mm::addr::PAGE_SIZE;
use crate::mm::filemap::nr_file_pages;
use crate::mm::page_writeback::{nr_file_dirty, nr_writeback};

/// `VmallocTotal` on x86_64 with 4-level paging (Linux: `VMALLOC_TOTAL`).
const VMALLOC_TOTAL_KB: u64 = 34_359_738_367;

/// The fields after `MemAvailable`, in Linux's order: those [`counted`]
/// knows, and the rest 0 until their subsystems keep them.
const FIELDS: &[&str] = &[
    "Buffers",
    "Cached",
    "SwapCached",
    "Active",
    "Inactive",
    "Active(anon)",
    "Inactive(anon)",
    "Active(file)",
    "Inactive(file)",
    "Unevictable",
    "Mlocked",
    "SwapTotal",
    "SwapFree",
    "Zswap",
    "Zswapped",
    "Dirty",
    "Writeback",
    "AnonPages",
    "Mapped",
    "Shmem",
    "KReclaimable",
    "Slab",
    "SReclaimable",
    "SUnreclaim",
    "KernelStack",
    "PageTables",
    "NFS_Unstable",
    "Bounce",
    "WritebackTmp",
];

/// A field of [`FIELDS`] that Ferrite counts, in pages.
fn counted(name: &str) -> Option<u64> {
    let pages = |n: usize| Some(u64::try_from(n).unwrap_or(u64::MAX));
    match name {
        "Buffers" => pages(nr_blockdev_pages()),
        // Linux: `NR_FILE_PAGES - total_swapcache_pages - bufferram`;
        // tmpfs pages count here too.
        "Cached" => pages(nr_file_pages().saturating_sub(nr_blockdev_pages())),
        "Dirty" => pages(nr_file_dirty()),
        "Writeback" => pages(nr_writeback()),
        // Every slab is kmalloc's, none reclaimable.
        "Slab" | "SUnreclaim" => Some(super::slabinfo::slab_pages()),
        _ => None,
    }
}

/// One `Name:  value kB` line (Linux: `show_val_kb`).
fn show_val_kb(m: &mut SeqBuf, name: &str, kb: u64) -> KResult<()> {
    let pad = 15usize.saturating_sub(name.len());
    m.printf(format_args!("{name}:{:pad$}{kb:>8} kB\n", ""))
}

/// Linux: `meminfo_proc_show`.
pub fn meminfo_proc_show(m: &mut SeqBuf) -> KResult<()> {
    let info = crate::mm::si_meminfo();
    let kb = |pages: u64| pages * (PAGE_SIZE as u64 / 1024);
    let total = kb(info.total_ram_pages);
    let free = kb(info.free_ram_pages);
    show_val_kb(m, "MemTotal", total)?;
    show_val_kb(m, "MemFree", free)?;
    // Linux: `si_mem_available`, whose low watermark is 0 here: what is
    // free plus the page cache reclaim can take (not tmpfs's).
    let cache = u64::try_from(crate::mm::vmscan::nr_reclaimable_file_pages()).unwrap_or(0);
    show_val_kb(m, "MemAvailable", free.saturating_add(kb(cache)).min(total))?;
    for name in FIELDS {
        show_val_kb(m, name, kb(counted(name).unwrap_or(0)))?;
    }
    // Without swap the commit limit is the overcommit ratio (50%) of RAM.
    show_val_kb(m, "CommitLimit", total / 2)?;
    show_val_kb(m, "Committed_AS", total - free)?;
    show_val_kb(m, "VmallocTotal", VMALLOC_TOTAL_KB)?;
    for name in ["VmallocUsed", "VmallocChunk", "Percpu"] {
        show_val_kb(m, name, 0)?;
    }
    m.printf(format_args!("HardwareCorrupted: {:>5} kB\n", 0))?;
    for name in ["AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages"] {
        show_val_kb(m, name, 0)?;
    }
    show_val_kb(m, "FilePmdMapped", 0)?;
    m.printf(format_args!(
        "HugePages_Total:   {0:>5}\nHugePages_Free:    {0:>5}\nHugePages_Rsvd:    {0:>5}\n\
         HugePages_Surp:    {0:>5}\n",
        0
    ))?;
    show_val_kb(m, "Hugepagesize", 2048)?;
    show_val_kb(m, "Hugetlb", 0)?;
    show_val_kb(m, "DirectMap4k", 0)?;
    show_val_kb(m, "DirectMap2M", total)?;
    show_val_kb(m, "DirectMap1G", 0)
}

crate::ktest!(meminfo_counts_the_page_cache, {
    use crate::fs::pagecache::generic_perform_write;
    use crate::fs::read_write::vfs_write;
    let field = |name: &str| -> Result<u64, &'static str> {
        let text = super::generic::render(meminfo_proc_show).map_err(|_| "render")?;
        let text = core::str::from_utf8(&text).map_err(|_| "utf-8")?;
        let line = text.lines().find(|l| l.split(':').next() == Some(name)).ok_or("a field")?;
        line[16..].trim_end_matches(" kB").trim().parse().map_err(|_| "a number")
    };
    let s = crate::fs::tests::Scratch::new()?;
    // 64 pages of a tmpfs file are 256 kB more page cache (Linux counts
    // shmem in Cached); tmpfs pages are never reclaimed meanwhile.
    let cached = field("Cached")?;
    let flags = linux_raw_sys::general::O_CREAT | linux_raw_sys::general::O_RDWR;
    let fd = crate::fs::open::do_sys_open(s.ctx(), crate::fs::namei::AT_FDCWD, b"m", flags, 0o600)
        .map_err(|_| "open")?;
    let file = s.files.get(fd).map_err(|_| "fd")?;
    let data = alloc::vec![3u8; 64 * PAGE_SIZE];
    crate::kassert!(vfs_write(&file, &data) == Ok(data.len()), "tmpfs write");
    crate::kassert!(field("Cached")? >= cached + 256, "Cached grew by the file");
    // Eight dirty pages of a written-back file are at least 32 kB Dirty.
    let disk_file = crate::fs::buffer::counting_file(s.fs.root()).map_err(|_| "file")?;
    let mut pos = 0;
    generic_perform_write(&disk_file.f_inode, &data[..8 * PAGE_SIZE], &mut pos)
        .map_err(|_| "write")?;
    crate::kassert!(field("Dirty")? >= 32, "Dirty counts them");
    crate::kassert!(field("Writeback")? < field("MemTotal")?, "Writeback is a count");
    if let Some(disk) = crate::block::get_disk("vda") {
        let bh = crate::fs::buffer::bread(&disk, 0, 512).map_err(|_| "bread")?;
        crate::kassert!(field("Buffers")? >= 4, "a cached block is Buffers");
        drop(bh);
    }
    let mapping = disk_file.f_inode.i_mapping().ok_or("mapping")?;
    mapping.lock().truncate(0); // not to be written back later
    s.files.close(fd).map_err(|_| "close")?;
    Ok(())
});

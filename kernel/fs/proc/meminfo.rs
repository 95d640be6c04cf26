//! /proc/meminfo (Linux: fs/proc/meminfo.c `meminfo_proc_show`).
//!
//! Linux 6.1's fields in its order and format (`%-16s%8lu kB`), so that
//! `free`, `top` and scripts find each by name. Ferrite counts total and
//! free pages (`si_meminfo`); the page cache, slab and the rest are not
//! counted separately yet and read 0, and with no reclaim what is free is
//! what is available.
//!
//! # Locking
//! None: the page allocator's counters are read atomically.
#![deny(unsafe_code)]

use super::generic::SeqBuf;
use crate::kernel::errno::KResult;
use crate::mm::addr::PAGE_SIZE;

/// `VmallocTotal` on x86_64 with 4-level paging (Linux: `VMALLOC_TOTAL`).
const VMALLOC_TOTAL_KB: u64 = 34_359_738_367;

/// The fields after `MemAvailable` that are counted in kB and are 0 here
/// until their subsystems keep them, in Linux's order.
const ZERO_FIELDS: &[&str] = &[
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
    show_val_kb(m, "MemAvailable", free)?;
    for name in ZERO_FIELDS {
        show_val_kb(m, name, 0)?;
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

//! The bookkeeping of the binary buddy page allocator: which page frames are
//! free, grouped in naturally aligned blocks of 2^order frames.
//!
//! Linux: `mm/page_alloc.c` (`free_area[]`, `__rmqueue_smallest`, `expand`,
//! `__free_one_page`, `buddy_merge_likely`, `__free_pages_memory`),
//! `include/linux/mmzone.h` (`struct free_area`, `MAX_ORDER`).
//!
//! Key types: [`BuddyAllocator`] keeps one [`FreeArea`] per order; each free
//! list is threaded through the page descriptors themselves, as Linux threads
//! `page->lru` through `struct page`. The descriptors stay the kernel's: it
//! gives the allocator a [`FrameMap`] (for example a slice of its page
//! structs implementing [`BuddyPage`]), and the allocator only reads and
//! writes each frame's buddy order and list links. Links are frame indices,
//! not pointers, so the crate has no `unsafe`.
//!
//! Not here (the kernel's part, as in Linux's callers): zones, per-CPU page
//! lists, migrate types, watermarks, and zeroing or mapping the memory.
//!
//! Locking: none inside. The kernel keeps each allocator behind its zone lock
//! (Linux: `zone->lock`), so `&mut BuddyAllocator` is proof the lock is held.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod allocator;
mod frame_map;
mod free_area;

use core::fmt;

pub use allocator::BuddyAllocator;
pub use frame_map::{BuddyPage, BuddyState, FrameMap};
pub use free_area::FreeArea;

/// A page frame number: a physical address divided by the page size.
pub type Pfn = u64;

/// Number of block orders: blocks have 2^0 to 2^(`MAX_ORDER` - 1) frames
/// (Linux 6.1: `MAX_ORDER`, 11, so the largest block is 4 MiB of 4 KiB pages;
/// Linux 6.4 renamed the largest order itself `MAX_ORDER`).
pub const MAX_ORDER: u8 = 11;

/// Frames in the largest block (Linux: `MAX_ORDER_NR_PAGES`).
pub const MAX_ORDER_NR_PAGES: u64 = 1 << (MAX_ORDER - 1);

/// Why a free was refused. The allocator's state is unchanged when one of
/// these is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuddyError {
    /// The order is not below [`MAX_ORDER`].
    BadOrder,
    /// The first frame is not a multiple of 2^order.
    Misaligned,
    /// The block is not wholly inside the allocator's frames, or a range
    /// ends before it starts.
    OutOfRange,
    /// Some frame of the block is already free: a double free, or a free
    /// with the wrong order or start.
    AlreadyFree,
}

impl fmt::Display for BuddyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadOrder => "order too large",
            Self::Misaligned => "block not aligned to its order",
            Self::OutOfRange => "block outside the managed frames",
            Self::AlreadyFree => "block already (partly) free",
        })
    }
}

impl core::error::Error for BuddyError {}

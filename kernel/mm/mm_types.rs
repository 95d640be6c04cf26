//! A process's address space (Linux: `struct mm_struct`,
//! include/linux/mm_types.h, kernel/fork.c `mm_alloc`).
//!
//! Being built: the page table, the tree of VMAs, brk, and the lock that
//! guards them.
#![deny(unsafe_code)]

/// A user address space (Linux: `mm_struct`).
#[allow(dead_code, reason = "the process work fills it in this session")]
pub struct Mm {}

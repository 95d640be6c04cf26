//! The core kernel: tasks, scheduling, time, printk, panic.
//!
//! Linux: kernel/.
#![deny(unsafe_code)]

pub mod errno;
pub mod irq;
pub mod kallsyms;
pub mod ktest;
pub mod locking;
pub mod panic;
pub mod printk;
pub mod time;

//! The core kernel: tasks, scheduling, time, printk, panic.
//!
//! Linux: kernel/.
#![deny(unsafe_code)]

pub mod capability;
pub mod clone3;
pub mod cred;
pub mod errno;
pub mod exit;
pub mod fork;
pub mod futex;
pub mod irq;
pub mod kallsyms;
pub mod ktest;
pub mod kthread;
pub mod locking;
pub mod module;
pub mod nsproxy;
pub mod panic;
pub mod pid;
pub mod pidfd;
pub mod power;
pub mod printk;
pub mod resource;
pub mod restart_block;
pub mod rseq;
pub mod rusage;
pub mod sched;
pub mod signal;
pub mod softirq;
pub mod sys;
pub mod syscall;
pub mod time;
pub mod trace;
pub mod utsname;
pub mod wait;

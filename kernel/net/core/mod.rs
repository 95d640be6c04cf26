//! The device-independent core of networking (Linux: net/core/).
#![deny(unsafe_code)]

pub mod dev;
pub mod dev_ioctl;
pub mod filter;
pub mod net_procfs;
pub mod net_sysfs;

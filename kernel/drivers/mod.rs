//! Device drivers. Linux: drivers/.
//!
//! Drivers touch hardware, so `unsafe` is allowed here for port I/O and
//! MMIO, each use with its `SAFETY:` argument (DESIGN.md §3).

pub mod acpi;
pub mod block;
pub mod char;
pub mod misc;
pub mod net;
pub mod pci;
pub mod rtc;
pub mod tty;
pub mod virtio;

//! Terminals. Linux: drivers/tty/.

pub mod serial;

//! Terminals. Linux: drivers/tty/.

pub mod n_tty;
pub mod pty;
pub mod serial;
pub mod serial_core;
pub mod tty_io;
pub mod tty_ioctl;
pub mod tty_jobctrl;
mod tty_test;
pub mod vt;

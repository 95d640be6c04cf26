//! Character devices. Linux: drivers/char/.

pub mod kmsg;
pub mod mem;
pub mod random;

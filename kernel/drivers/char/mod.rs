//! Character devices. Linux: drivers/char/.

pub mod mem;
pub mod random;

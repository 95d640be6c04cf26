//! Character devices. Linux: drivers/char/.

pub mod devmem;
pub mod kmsg;
pub mod mem;
pub mod random;

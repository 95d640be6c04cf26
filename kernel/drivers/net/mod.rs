//! Network device drivers (Linux: drivers/net/).

pub mod loopback;

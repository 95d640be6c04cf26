//! Real-time clocks. Linux: drivers/rtc/.

pub mod dev;
pub mod lib;
pub mod rtc_cmos;

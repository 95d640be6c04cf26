//! Real-time clocks. Linux: drivers/rtc/.

pub mod rtc_cmos;

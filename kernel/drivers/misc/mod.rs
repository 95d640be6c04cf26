//! Miscellaneous drivers. Linux: drivers/misc/.

pub mod lkdtm;

//! The virtual file system and the file systems behind it.
//!
//! Linux: fs/.
#![deny(unsafe_code)]

pub mod fdtable;
pub mod fs_struct;

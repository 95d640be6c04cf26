//! Kernel initialisation and the hand-over to init.
//!
//! Linux: init/.
#![deny(unsafe_code)]

mod do_mounts;
pub mod initramfs;
mod main;
mod monitor;
mod run_init;

pub use main::{on_panic, start_kernel};

//! Kernel initialisation and the hand-over to init.
//!
//! Linux: init/.
#![deny(unsafe_code)]

mod main;
mod monitor;

pub use main::{on_panic, start_kernel};

//! Architecture-specific code. Ferrite runs on x86_64 only, but keeps the
//! split Linux has so that a reader knows which half of a subsystem is
//! hardware and which is policy.

pub mod x86_64;

pub use self::x86_64::*;

//! The initramfs image format: newc cpio archives, optionally gzip'd and
//! concatenated, as Linux's `unpack_to_rootfs` reads them.
//!
//! Linux: init/initramfs.c (the cpio state machine), lib/decompress_inflate.c
//! (gunzip), Documentation/driver-api/early-userspace/buffer-format.rst.
//!
//! Key types: [`Reader`] walks one archive entry by entry; [`Entry`] is one
//! member (name, mode, ids, data); [`Error`] carries Linux's messages
//! ("no cpio magic", ...); [`gunzip`] inflates one gzip member and says how
//! many input bytes it used, so that concatenated archives can follow it;
//! [`Writer`] builds archives (for tests and tools).
//!
//! Nothing here panics, whatever the input (property-tested), and every
//! entry borrows from the input buffer.
//!
//! Locking: none; pure functions over byte slices.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod gzip;
mod newc;
mod writer;

pub use gzip::{GZIP_MAGIC, gunzip, gzip_stored, is_gzip};
pub use newc::{Entry, Error, HEADER_LEN, Reader, TRAILER, skip_padding};
pub use writer::Writer;

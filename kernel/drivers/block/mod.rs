//! Block device drivers. Linux: drivers/block/.
#![deny(unsafe_code)]

pub mod brd;
pub mod loop_dev;
pub mod virtio_blk;
mod virtio_blk_rq;
pub(crate) mod virtio_blk_test;

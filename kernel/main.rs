//! Ferrite: a Linux-compatible, monolithic, preemptive kernel for x86_64.
//!
//! The crate mirrors Linux's source tree: `arch/` (x86_64 hardware), `init/`
//! (`start_kernel`), `kernel/` (core), `mm/` (memory), `drivers/`. Read
//! `init/main.rs` first: it calls everything else in order.
#![no_std]
#![no_main]

extern crate alloc;

mod arch;
mod block;
mod drivers;
mod fs;
mod init;
mod ipc;
mod kernel;
mod mm;
mod net;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    kernel::panic::panic(info)
}

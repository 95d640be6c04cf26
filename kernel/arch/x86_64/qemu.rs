//! QEMU's `isa-debug-exit` device: how a test run ends QEMU with a verdict.
//!
//! QEMU is started with `-device isa-debug-exit,iobase=0xf4,iosize=0x04`;
//! writing v to port 0xf4 ends QEMU with exit status (v << 1) | 1. Without
//! the device the write does nothing and the caller goes on to power off.

use x86_64::instructions::port::Port;

const ISA_DEBUG_EXIT_PORT: u16 = 0xf4;

/// The values `ktest` reports; QEMU exits with 33 and 35 respectively.
#[derive(Clone, Copy, Debug)]
#[repr(u32)]
pub enum QemuExitCode {
    Success = 0x10,
    Failure = 0x11,
}

/// Ends QEMU with `code`, if the debug-exit device is present.
pub fn qemu_exit(code: QemuExitCode) {
    let mut port = Port::<u32>::new(ISA_DEBUG_EXIT_PORT);
    // SAFETY: port 0xf4 is the debug-exit device or nothing; writing it
    // touches no memory.
    unsafe { port.write(code as u32) };
}

//! The serial ports as ttys: `/dev/ttyS0` on COM1's 8250, and the console.
//!
//! Linux: drivers/tty/serial/serial_core.c (`uart_register_driver`,
//! `uart_write`, `uart_insert_char`), drivers/tty/serial/8250/8250_core.c.
//!
//! Received bytes reach the ttyS0 line discipline from the UART interrupt
//! once the tty is open; until then they stay in the UART's ring, where
//! the kernel monitor reads them with `COM1.getc()`. Output is polled
//! through `write_raw`: the line discipline has already done OPOST.
//!
//! # Locking
//! `SERIAL_TTY` is set once at boot and read without a lock; the tty's own
//! locks and the UART's port lock are described in tty_io.rs and
//! uart_8250.rs.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use super::n_tty::n_tty_receive_buf;
use super::serial::uart_8250::COM1;
use super::tty_io::{
    TTY_MAJOR, Tty, TtyDriver, TtyOperations, set_console_tty, tty_chrdev_init, tty_register_driver,
};
use crate::kernel::errno::KResult;

/// First minor of `ttyS*` (Linux: `TTY_MAJOR`'s minors 64..).
pub const SERIAL_MINOR_START: u32 = 64;
/// Serial ports Ferrite drives: COM1 only, for now.
const UART_NR: usize = 1;

/// The 8250 seen from the tty core (Linux: `uart_ops` behind `uart_write`).
struct Serial8250Tty;

impl TtyOperations for Serial8250Tty {
    fn write(&self, _tty: &Tty, buf: &[u8]) -> usize {
        COM1.write_raw(buf);
        buf.len()
    }
}

static SERIAL8250_TTY_OPS: Serial8250Tty = Serial8250Tty;

/// ttyS0, once registered.
static SERIAL_TTY: spin::Once<Arc<Tty>> = spin::Once::new();

/// COM1's receiver: the tty takes input once someone has it open.
fn serial8250_receive(bytes: &[u8]) -> bool {
    let Some(tty) = SERIAL_TTY.get() else { return false };
    if tty.count.load(Ordering::Acquire) == 0 {
        return false;
    }
    n_tty_receive_buf(tty, bytes);
    true
}

/// Registers the `ttyS` driver (major 4, minors 64..), creates ttyS0 on
/// COM1, makes it the console's tty and registers the tty device numbers
/// with the VFS (Linux: `serial8250_init` ->
/// `uart_register_driver` + `uart_add_one_port`, `console=ttyS0`).
pub fn serial_core_init() -> KResult<()> {
    let driver = Arc::new(TtyDriver::new(
        "ttyS",
        TTY_MAJOR,
        SERIAL_MINOR_START,
        UART_NR,
        &SERIAL8250_TTY_OPS,
    ));
    tty_register_driver(driver.clone())?;
    let tty = driver.tty(0)?;
    set_console_tty(tty.clone());
    SERIAL_TTY.call_once(|| tty);
    COM1.set_receiver(serial8250_receive);
    tty_chrdev_init()
}

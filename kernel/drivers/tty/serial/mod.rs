//! Serial ports. Linux: drivers/tty/serial/.

pub mod uart_8250;

//! The 16550A UART on COM1: the kernel console, `/dev/ttyS0` later.
//!
//! Linux: drivers/tty/serial/8250/8250_port.c, 8250_early.c.
//!
//! Output is polled (as Linux's console write is: it must work from any
//! context, an oops included). Input is interrupt-driven: the receive
//! interrupt (IRQ 4) drains the FIFO and hands the bytes to the receiver
//! serial_core.rs installs (the ttyS0 line discipline, once the tty is
//! open), or else into a ring that the kernel monitor reads with `getc`.
//!
//! # Locking
//! `Uart8250::port` is an IRQ-safe spinlock; the console path in a panic
//! uses `force_write`, which takes no lock, because the lock holder may be
//! the CPU that oopsed. `Uart8250::rx` (the input ring) is a second
//! IRQ-safe lock; order: `port`, then `rx`. The receiver is called with
//! neither held, so that it can echo through `write_raw`.

use x86_64::instructions::port::Port;

use crate::arch::ioapic;
use crate::arch::irq_vectors::isa_irq_vector;
use crate::kernel::errno::KResult;
use crate::kernel::irq::request_irq;
use crate::kernel::locking::SpinLock;

/// COM1's I/O base and its ISA interrupt line.
pub const COM1_BASE: u16 = 0x3f8;
pub const COM1_IRQ: u8 = 4;

const UART_RX: u16 = 0; // receive buffer (read), DLAB=0
const UART_TX: u16 = 0; // transmit holding (write), DLAB=0
const UART_DLL: u16 = 0; // divisor latch low, DLAB=1
const UART_IER: u16 = 1; // interrupt enable
const UART_DLM: u16 = 1; // divisor latch high, DLAB=1
const UART_FCR: u16 = 2; // FIFO control (write)
const UART_LCR: u16 = 3; // line control
const UART_MCR: u16 = 4; // modem control
const UART_LSR: u16 = 5; // line status

const UART_IER_RDI: u8 = 0x01; // receive data interrupt
const UART_LCR_DLAB: u8 = 0x80;
const UART_LCR_WLEN8: u8 = 0x03;
const UART_FCR_ENABLE_FIFO: u8 = 0x01;
const UART_FCR_CLEAR: u8 = 0x06;
const UART_MCR_DTR: u8 = 0x01;
const UART_MCR_RTS: u8 = 0x02;
const UART_MCR_OUT2: u8 = 0x08; // gates the IRQ line on PC hardware
const UART_MCR_LOOP: u8 = 0x10;
const UART_LSR_DR: u8 = 0x01; // data ready
const UART_LSR_THRE: u8 = 0x20; // transmit holding register empty

/// The UART's base clock divided by 16, and the speed Linux's console=ttyS0
/// defaults to.
const BASE_BAUD: u32 = 115_200;

/// The registers of one 8250-family port.
struct Regs {
    base: u16,
}

impl Regs {
    fn read(&self, reg: u16) -> u8 {
        let mut port = Port::<u8>::new(self.base + reg);
        // SAFETY: `base` is a 16550 we probed in `init`; reading its
        // registers has no effect on memory.
        unsafe { port.read() }
    }

    fn write(&self, reg: u16, value: u8) {
        let mut port = Port::<u8>::new(self.base + reg);
        // SAFETY: as for `read`; register writes only program the UART.
        unsafe { port.write(value) }
    }

    fn put_byte(&self, byte: u8) {
        while self.read(UART_LSR) & UART_LSR_THRE == 0 {
            core::hint::spin_loop();
        }
        self.write(UART_TX, byte);
    }

    fn put_bytes(&self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.put_byte(b'\r');
            }
            self.put_byte(b);
        }
    }
}

/// Bytes received and not yet read (Linux: the tty flip buffer). A full
/// ring drops new bytes and counts them, as a UART overrun would.
struct RxRing {
    buf: [u8; RX_RING_SIZE],
    head: usize,
    len: usize,
    overruns: u64,
}

const RX_RING_SIZE: usize = 4096;
/// Most bytes taken from the FIFO per interrupt (a 16550A holds 16).
const RX_BURST: usize = 64;

impl RxRing {
    const fn new() -> Self {
        Self { buf: [0; RX_RING_SIZE], head: 0, len: 0, overruns: 0 }
    }

    fn push(&mut self, byte: u8) {
        if self.len == RX_RING_SIZE {
            self.overruns += 1;
            return;
        }
        self.buf[(self.head + self.len) % RX_RING_SIZE] = byte;
        self.len += 1;
    }

    fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        let byte = self.buf[self.head];
        self.head = (self.head + 1) % RX_RING_SIZE;
        self.len -= 1;
        Some(byte)
    }
}

/// A 16550A port.
pub struct Uart8250 {
    port: SpinLock<Regs>,
    rx: SpinLock<RxRing>,
    /// Takes received bytes; returns false to leave them to `getc`.
    receiver: spin::Once<fn(&[u8]) -> bool>,
    base: u16,
}

impl Uart8250 {
    pub const fn new(base: u16) -> Self {
        Self {
            port: SpinLock::new(Regs { base }),
            rx: SpinLock::new(RxRing::new()),
            receiver: spin::Once::new(),
            base,
        }
    }

    /// Programs 8N1 at `baud`, FIFOs on, receive interrupt enabled, and
    /// checks that a UART answers, through its loopback mode. Returns false
    /// when no UART is there.
    pub fn init(&self, baud: u32) -> bool {
        let regs = self.port.lock();
        // The divisor latch is 16 bits: 2 baud is the slowest it can say.
        let divisor = u16::try_from(BASE_BAUD / baud.clamp(2, BASE_BAUD)).unwrap_or(u16::MAX);
        let [dll, dlm] = divisor.to_le_bytes();
        regs.write(UART_IER, 0);
        regs.write(UART_LCR, UART_LCR_DLAB);
        regs.write(UART_DLL, dll);
        regs.write(UART_DLM, dlm);
        regs.write(UART_LCR, UART_LCR_WLEN8);
        regs.write(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR);
        regs.write(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_DTR);
        regs.write(UART_TX, 0xae);
        let present = regs.read(UART_RX) == 0xae;
        regs.write(UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
        regs.write(UART_IER, UART_IER_RDI);
        present
    }

    /// Writes `bytes`, turning `\n` into `\r\n` as a terminal expects.
    pub fn write(&self, bytes: &[u8]) {
        self.port.lock().put_bytes(bytes);
    }

    /// Writes `bytes` unchanged: the tty layer has done output processing.
    pub fn write_raw(&self, bytes: &[u8]) {
        let regs = self.port.lock();
        for &b in bytes {
            regs.put_byte(b);
        }
    }

    /// Installs the function that receives input from now on (Linux: the
    /// port's `tty_port`); a second call is ignored.
    pub fn set_receiver(&self, receiver: fn(&[u8]) -> bool) {
        self.receiver.call_once(|| receiver);
    }

    /// Writes without taking the lock: only for a dying kernel.
    pub fn force_write(&self, bytes: &[u8]) {
        Regs { base: self.base }.put_bytes(bytes);
    }

    /// Drains the receive FIFO into the receiver or the input ring (Linux:
    /// `serial8250_handle_irq` -> `serial8250_rx_chars`). Reading the data
    /// clears the receive interrupt.
    pub fn handle_irq(&self) {
        // Until the FIFO is empty (an edge-triggered line would not fire
        // again), bounded in case a broken UART reports data forever.
        for _ in 0..RX_RING_SIZE / RX_BURST {
            let mut bytes = [0; RX_BURST];
            let n = self.rx_chars(&mut bytes);
            if n == 0 {
                break;
            }
            if !self.receiver.get().is_some_and(|receive| receive(&bytes[..n])) {
                let mut rx = self.rx.lock();
                bytes[..n].iter().for_each(|&b| rx.push(b));
            }
        }
    }

    /// Reads up to `bytes.len()` received bytes from the FIFO.
    fn rx_chars(&self, bytes: &mut [u8]) -> usize {
        let regs = self.port.lock();
        let mut n = 0;
        while n < bytes.len() && regs.read(UART_LSR) & UART_LSR_DR != 0 {
            bytes[n] = regs.read(UART_RX);
            n += 1;
        }
        n
    }

    /// Takes the oldest received byte from the input ring; never blocks.
    pub fn getc(&self) -> Option<u8> {
        self.rx.lock().pop()
    }

    /// Bytes dropped because the input ring was full.
    #[allow(dead_code, reason = "for /proc/tty/driver/serial")]
    pub fn rx_overruns(&self) -> u64 {
        self.rx.lock().overruns
    }

    /// Connects the transmitter to the receiver inside the UART (MCR LOOP),
    /// for self-tests; console output is swallowed meanwhile.
    fn set_loopback(&self, on: bool) {
        let regs = self.port.lock();
        let mcr = regs.read(UART_MCR);
        regs.write(UART_MCR, if on { mcr | UART_MCR_LOOP } else { mcr & !UART_MCR_LOOP });
    }
}

fn serial8250_interrupt() {
    COM1.handle_irq();
}

/// Requests COM1's interrupt and unmasks its IOAPIC line, so typed bytes
/// reach `COM1.getc()` (Linux: `serial8250_startup` ->
/// `serial_link_irq_chain`).
pub fn serial8250_startup() -> KResult<()> {
    request_irq(isa_irq_vector(COM1_IRQ), "ttyS0", serial8250_interrupt)?;
    ioapic::enable_irq(COM1_IRQ)?;
    // Bytes that arrived before the line was open raised no interrupt.
    COM1.handle_irq();
    Ok(())
}

/// Opens COM1's input path at boot and makes it ttyS0; a failure leaves
/// input polled only.
pub fn serial8250_init() {
    if let Err(e) = serial8250_startup() {
        crate::pr_err!("serial8250: ttyS0: no receive interrupt: {}", e.description());
    }
    if let Err(e) = crate::drivers::tty::serial_core::serial_core_init() {
        crate::pr_err!("serial8250: ttyS0: no tty: {}", e.description());
    }
}

crate::ktest!(serial_rx_interrupt_loopback, {
    while COM1.getc().is_some() {}
    COM1.set_loopback(true);
    COM1.port.lock().put_byte(0x5a);
    // The byte goes round the loop and raises IRQ 4; the handler moves it
    // into the ring. 100 ms is ample even under emulation.
    let deadline = crate::kernel::time::ktime_get_ns() + 100 * crate::kernel::time::NSEC_PER_MSEC;
    let mut got = None;
    while got.is_none() && crate::kernel::time::ktime_get_ns() < deadline {
        core::hint::spin_loop();
        got = COM1.getc();
    }
    COM1.set_loopback(false);
    crate::kassert!(got == Some(0x5a), "the looped-back byte arrived through the interrupt");
    Ok(())
});

/// COM1, the console.
pub static COM1: Uart8250 = Uart8250::new(COM1_BASE);

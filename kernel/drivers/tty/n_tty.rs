//! The N_TTY line discipline bound to a tty: input from the driver's
//! interrupt, blocking reads, processed writes, poll.
//!
//! Linux: drivers/tty/n_tty.c (`n_tty_receive_buf`, `n_tty_read`,
//! `n_tty_write`, `n_tty_poll`). The editing rules themselves are the
//! `n_tty` library (libs/n_tty), tested on the host.
//!
//! # Locking
//! `Tty::ldisc` is held only to move bytes in or out of the line
//! discipline; echoes and writes go to the driver after it is dropped, and
//! signals are sent with no tty lock held. Readers sleep on
//! `Tty::read_wait`, writers on `Tty::write_wait`; the receive path wakes
//! them.
#![deny(unsafe_code)]

use core::sync::atomic::Ordering;

use n_tty::{ECHO_BUF_SIZE, ReadStep, Received};

use super::tty_io::{TTY_OTHER_CLOSED, Tty};
use super::tty_jobctrl::tty_isig;
use crate::fs::file_table::PollMask;
use crate::fs::select::{poll_wake, wait_event_interruptible_timeout};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::time::HZ;
use linux_raw_sys::general as uapi;

/// Bytes output-processed per pass of a write, on the stack.
const WRITE_CHUNK: usize = 256;

/// Input from the driver, typically in its interrupt handler (Linux:
/// `tty_flip_buffer_push` -> `n_tty_receive_buf`): edits, echoes, wakes
/// readers and signals the foreground group. Returns what the line
/// discipline asked for, for self-tests.
pub fn n_tty_receive_buf(tty: &Tty, bytes: &[u8]) -> Received {
    let (received, started) = {
        let mut ldisc = tty.ldisc.lock();
        let was_stopped = ldisc.is_stopped();
        let received = ldisc.receive_buf(bytes);
        (received, was_stopped && !ldisc.is_stopped())
    };
    if started {
        // VSTART (^Q): the writers held by VSTOP go on.
        tty.write_wait.wake_up_all();
    }
    flush_echoes(tty);
    for sig in received.signals() {
        tty_isig(tty, sig);
    }
    if received.wake_readers {
        tty.read_wait.wake_up_all();
        poll_wake();
    }
    received
}

/// Input from the other end of a pty (Linux: `pty_write` ->
/// `tty_insert_flip_string` -> `n_tty_receive_buf`): takes only what the
/// input buffer has room for and returns how much, so that the writer
/// waits for the reader instead of losing bytes.
pub fn n_tty_receive_buf_room(tty: &Tty, bytes: &[u8]) -> usize {
    let (taken, received, started) = {
        let mut ldisc = tty.ldisc.lock();
        let taken = bytes.len().min(ldisc.receive_room());
        let was_stopped = ldisc.is_stopped();
        let received = ldisc.receive_buf(&bytes[..taken]);
        (taken, received, was_stopped && !ldisc.is_stopped())
    };
    if started {
        tty.write_wait.wake_up_all();
    }
    flush_echoes(tty);
    for sig in received.signals() {
        tty_isig(tty, sig);
    }
    if received.wake_readers {
        tty.read_wait.wake_up_all();
        poll_wake();
    }
    taken
}

/// Bytes `n_tty_receive_buf_room` would take now (Linux: a pty's
/// `write_room`, the room left at the other end).
pub fn n_tty_receive_room(tty: &Tty) -> usize {
    tty.ldisc.lock().receive_room()
}

/// Writes pending echoes to the driver (Linux: `flush_echoes`).
fn flush_echoes(tty: &Tty) {
    let mut echo = [0; ECHO_BUF_SIZE];
    let n = tty.ldisc.lock().take_echoes(&mut echo);
    if n > 0 {
        tty.driver.ops.write(tty, &echo[..n]);
    }
}

/// read(2) on a tty (Linux: `n_tty_read`): a line in canonical mode, the
/// VMIN/VTIME rules otherwise; `EAGAIN` for a non-blocking file with
/// nothing to read, `EINTR` when a signal interrupts an empty read.
pub fn n_tty_read(tty: &Tty, buf: &mut [u8], nonblock: bool) -> KResult<usize> {
    let mut copied = 0;
    loop {
        if tty.is_hung_up() {
            return Ok(copied);
        }
        // A pty master in packet mode: a status change is read alone, data
        // comes after a TIOCPKT_DATA byte (Linux: the `packet` parts of
        // `n_tty_read`).
        let packet = tty.packet.load(Ordering::Acquire) && copied == 0 && buf.len() > 1;
        if packet && let Some(status) = take_packet_status(tty) {
            buf[0] = status;
            return Ok(1);
        }
        let skip = usize::from(packet);
        if packet {
            buf[0] = 0; // TIOCPKT_DATA, kept only if data follows
        }
        let step = tty.ldisc.lock().read(&mut buf[copied + skip..], copied);
        // Room was made: a pty wakes its other end's writers (Linux:
        // `n_tty_check_unthrottle`).
        tty.driver.ops.unthrottle(tty);
        let timeout_ds = match step {
            ReadStep::Done(0) => return Ok(copied),
            ReadStep::Done(n) => return Ok(copied + n + skip),
            ReadStep::Wait { copied: n, timeout_ds } => {
                copied += if n > 0 { n + skip } else { 0 };
                timeout_ds
            }
        };
        // A pty whose other end is closed: what was left has been read.
        if tty.test_flag(TTY_OTHER_CLOSED) {
            return if copied > 0 { Ok(copied) } else { Err(Errno::EIO) };
        }
        if nonblock {
            return if copied > 0 { Ok(copied) } else { Err(Errno::EAGAIN) };
        }
        let more = || {
            tty.ldisc.lock().input_available(false)
                || tty.is_hung_up()
                || tty.test_flag(TTY_OTHER_CLOSED)
                || (packet && packet_status(tty) != 0)
        };
        let waited = match timeout_ds {
            None => tty.read_wait.wait_event_interruptible(more).map(|()| true),
            // Input wakes timed waiters too: n_tty_receive_buf calls poll_wake.
            Some(ds) => wait_event_interruptible_timeout(more, u64::from(ds) * HZ / 10),
        };
        match waited {
            Ok(true) => {}
            Ok(false) => return Ok(copied),
            Err(_) if copied > 0 => return Ok(copied),
            Err(e) => return Err(e),
        }
    }
}

/// write(2) on a tty (Linux: `n_tty_write` -> `process_output_block`):
/// OPOST processing, then the driver; waits for room when the driver has
/// none (a pty), `EAGAIN` if non-blocking and nothing was written.
pub fn n_tty_write(tty: &Tty, buf: &[u8], nonblock: bool) -> KResult<usize> {
    let mut done = 0;
    while done < buf.len() {
        if tty.is_hung_up() {
            return if done > 0 { Ok(done) } else { Err(Errno::EIO) };
        }
        if tty.ldisc.lock().is_stopped() {
            if let Err(e) = wait_output_started(tty, nonblock) {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
            continue;
        }
        // Only what the driver has room for is processed (Linux:
        // `process_output_block` asks `tty_write_room` first).
        let room = tty.driver.ops.write_room(tty).min(WRITE_CHUNK);
        let mut out = [0; WRITE_CHUNK];
        let (used, made) = tty.ldisc.lock().process_output(&buf[done..], &mut out[..room]);
        if used == 0 {
            // No room, or too little for the next byte's expansion.
            if let Err(e) = wait_write_room(tty, nonblock, room + 1) {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
            continue;
        }
        // Another writer may have taken the room meanwhile: the bytes that
        // no longer fit are dropped, as a full UART FIFO would drop them.
        tty.driver.ops.write(tty, &out[..made]);
        done += used;
    }
    Ok(done)
}

/// Sleeps while VSTOP (^S, under IXON) holds the output, until VSTART
/// (^Q) or a hang-up (Linux: `tty->flow.stopped`, which makes the driver's
/// room run out, so the writer sleeps in `n_tty_write`).
fn wait_output_started(tty: &Tty, nonblock: bool) -> KResult<()> {
    let started = || !tty.ldisc.lock().is_stopped() || tty.is_hung_up();
    if nonblock { Err(Errno::EAGAIN) } else { tty.write_wait.wait_event_interruptible(started) }
}

/// Bytes one input byte may become (a tab expanded to spaces).
const MAX_EXPANSION: usize = 8;

/// Sleeps until the driver has room for `want` bytes (at most
/// `MAX_EXPANSION`, which is always enough) or the tty hangs up;
/// `EAGAIN` for a non-blocking writer, `EINTR` for a signal.
fn wait_write_room(tty: &Tty, nonblock: bool, want: usize) -> KResult<()> {
    let want = want.min(MAX_EXPANSION);
    let room = || tty.driver.ops.write_room(tty) >= want || tty.is_hung_up();
    if nonblock { Err(Errno::EAGAIN) } else { tty.write_wait.wait_event_interruptible(room) }
}

/// Readiness of a tty (Linux: `n_tty_poll`).
pub fn n_tty_poll(tty: &Tty) -> PollMask {
    if tty.is_hung_up() {
        // Linux: `hung_up_tty_poll`.
        return uapi::POLLIN
            | uapi::POLLOUT
            | uapi::POLLERR
            | uapi::POLLHUP
            | uapi::POLLRDNORM
            | uapi::POLLWRNORM;
    }
    let mut mask = 0;
    if tty.ldisc.lock().input_available(true) {
        mask |= uapi::POLLIN | uapi::POLLRDNORM;
    }
    if tty.packet.load(Ordering::Acquire) && packet_status(tty) != 0 {
        mask |= uapi::POLLPRI | uapi::POLLIN | uapi::POLLRDNORM;
    }
    if tty.test_flag(TTY_OTHER_CLOSED) {
        mask |= uapi::POLLHUP;
    }
    if tty.driver.ops.write_room(tty) > 0 {
        mask |= uapi::POLLOUT | uapi::POLLWRNORM;
    }
    mask
}

/// `FIONREAD`/`TIOCINQ`: bytes a read would return now.
pub fn n_tty_inq(tty: &Tty) -> usize {
    tty.ldisc.lock().inq()
}

/// `TCFLSH` with `TCIFLUSH`: throws away typed input.
pub fn n_tty_flush_input(tty: &Tty) {
    tty.ldisc.lock().flush_input();
    // Linux: `n_tty_packet_mode_flush`.
    pty_packet_event(tty, uapi::TIOCPKT_FLUSHREAD);
}

/// Tells a packet-mode master reading `tty`'s other end about a change
/// (`TIOCPKT_FLUSHREAD`...), kept in `tty.pktstatus` (Linux: the
/// `pktstatus` updates of n_tty.c and pty.c).
pub fn pty_packet_event(tty: &Tty, bits: u32) {
    let Some(master) = tty.link() else { return };
    if master.packet.load(Ordering::Acquire) {
        tty.pktstatus.fetch_or(bits, Ordering::AcqRel);
        master.read_wait.wake_up_all();
        poll_wake();
    }
}

/// The status a packet-mode master's next read would return, 0 for none.
fn packet_status(master: &Tty) -> u32 {
    master.link().map_or(0, |slave| slave.pktstatus.load(Ordering::Acquire))
}

fn take_packet_status(master: &Tty) -> Option<u8> {
    let slave = master.link()?;
    let status = slave.pktstatus.swap(0, Ordering::AcqRel);
    // The TIOCPKT_* bits all fit in the byte.
    (status != 0).then_some(status.to_le_bytes()[0])
}

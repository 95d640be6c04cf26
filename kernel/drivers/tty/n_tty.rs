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

use n_tty::{ECHO_BUF_SIZE, ReadStep, Received};

use super::tty_io::Tty;
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
    let received = tty.ldisc.lock().receive_buf(bytes);
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
        let step = tty.ldisc.lock().read(&mut buf[copied..], copied);
        let timeout_ds = match step {
            ReadStep::Done(n) => return Ok(copied + n),
            ReadStep::Wait { copied: n, timeout_ds } => {
                copied += n;
                timeout_ds
            }
        };
        if nonblock {
            return if copied > 0 { Ok(copied) } else { Err(Errno::EAGAIN) };
        }
        let more = || tty.ldisc.lock().input_available(false) || tty.is_hung_up();
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
            return Err(Errno::EIO);
        }
        let mut out = [0; WRITE_CHUNK];
        let (used, made) = tty.ldisc.lock().process_output(&buf[done..], &mut out);
        let mut sent = 0;
        while sent < made {
            sent += tty.driver.ops.write(tty, &out[sent..made]);
            if sent < made {
                wait_write_room(tty, nonblock, done)?;
            }
        }
        done += used;
    }
    Ok(done)
}

/// Sleeps until the driver has room; an error ends the write, unless some
/// bytes were written, which are then reported instead.
fn wait_write_room(tty: &Tty, nonblock: bool, done: usize) -> KResult<()> {
    let room = || tty.driver.ops.write_room(tty) > 0 || tty.is_hung_up();
    let result =
        if nonblock { Err(Errno::EAGAIN) } else { tty.write_wait.wait_event_interruptible(room) };
    match result {
        Err(e) if done == 0 => Err(e),
        _ => Ok(()),
    }
}

/// Readiness of a tty (Linux: `n_tty_poll`).
pub fn n_tty_poll(tty: &Tty) -> PollMask {
    let mut mask = 0;
    if tty.ldisc.lock().input_available(true) {
        mask |= uapi::POLLIN | uapi::POLLRDNORM;
    }
    if tty.is_hung_up() {
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
}

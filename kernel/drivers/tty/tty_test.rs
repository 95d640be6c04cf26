//! Self-tests of the tty layer on a fake driver that captures output.
//!
//! Linux: none (tools/testing/selftests/tty has a few user-space ones).
//!
//! # Locking
//! `CAPTURE` is a leaf lock; tests take one tty each.
#![deny(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general as uapi;
use linux_raw_sys::ioctl as cmds;
use n_tty::{TERMIOS_SIZE, Termios};

use super::n_tty::{n_tty_poll, n_tty_read, n_tty_receive_buf, n_tty_write};
use super::tty_io::{Tty, TtyDriver, TtyOperations};
use super::tty_ioctl::{IoctlArg, tty_ioctl};
use super::tty_jobctrl::{JobControl, tty_check_change};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::locking::SpinLock;

/// A driver whose "wire" is a buffer.
struct Capture {
    out: SpinLock<Vec<u8>>,
}

impl TtyOperations for Capture {
    fn write(&self, _tty: &Tty, buf: &[u8]) -> usize {
        self.out.lock().extend_from_slice(buf);
        buf.len()
    }
}

static CAPTURE: Capture = Capture { out: SpinLock::new(Vec::new()) };

fn test_tty() -> KResult<Arc<Tty>> {
    CAPTURE.out.lock().clear();
    Arc::new(TtyDriver::new("ktest", 0, 0, 1, &CAPTURE)).tty(0)
}

fn wire() -> Vec<u8> {
    core::mem::take(&mut *CAPTURE.out.lock())
}

/// An ioctl argument in kernel memory.
struct KernelArg<'a>(&'a SpinLock<Vec<u8>>, u64);

impl IoctlArg for KernelArg<'_> {
    fn value(&self) -> u64 {
        self.1
    }
    fn read_bytes(&self, buf: &mut [u8]) -> KResult<()> {
        let src = self.0.lock();
        buf.copy_from_slice(src.get(..buf.len()).ok_or(Errno::EFAULT)?);
        Ok(())
    }
    fn write_bytes(&self, buf: &[u8]) -> KResult<()> {
        *self.0.lock() = buf.to_vec();
        Ok(())
    }
}

/// A process 10 in group 10 of session 10, which may hold a tty.
struct Leader {
    ctty: SpinLock<Option<Arc<Tty>>>,
}

impl JobControl for Leader {
    fn pid(&self) -> i32 {
        10
    }
    fn pgrp(&self) -> i32 {
        10
    }
    fn sid(&self) -> i32 {
        10
    }
    fn controlling_tty(&self) -> Option<Arc<Tty>> {
        self.ctty.lock().clone()
    }
    fn set_controlling_tty(&self, tty: Option<Arc<Tty>>) {
        *self.ctty.lock() = tty;
    }
    fn session_of_pgrp(&self, pgrp: i32) -> Option<i32> {
        match pgrp {
            10 | 11 => Some(10),
            20 => Some(20),
            _ => None,
        }
    }
    fn capable_sys_admin(&self) -> bool {
        false
    }
    /// A job-control shell: SIGTTOU ignored, so that it may set the tty
    /// from the background.
    fn is_ignored(&self, sig: u32) -> bool {
        sig == uapi::SIGTTOU
    }
}

crate::ktest!(tty_canonical_erase_and_echo, {
    let tty = test_tty().map_err(|_| "tty")?;
    let mut buf = [0; 16];
    n_tty_receive_buf(&tty, b"ab\x7fc");
    crate::kassert!(n_tty_read(&tty, &mut buf, true) == Err(Errno::EAGAIN), "no line yet");
    n_tty_receive_buf(&tty, b"\n");
    crate::kassert!(wire() == b"ab\x08 \x08c\r\n", "echo rubs the b out");
    crate::kassert!(n_tty_poll(&tty) & uapi::POLLIN != 0, "a line is readable");
    crate::kassert!(n_tty_read(&tty, &mut buf, true) == Ok(3), "one line");
    crate::kassert!(&buf[..3] == b"ac\n", "the edited line");
    crate::kassert!(n_tty_write(&tty, b"hi\n", false) == Ok(3), "write");
    crate::kassert!(wire() == b"hi\r\n", "ONLCR");
    Ok(())
});

crate::ktest!(tty_interrupt_flushes_line, {
    let tty = test_tty().map_err(|_| "tty")?;
    n_tty_receive_buf(&tty, b"sleep 1");
    let got = n_tty_receive_buf(&tty, b"\x03");
    crate::kassert!(got.signals == 1 << uapi::SIGINT, "^C asks for SIGINT");
    crate::kassert!(wire().ends_with(b"^C"), "^C is echoed");
    n_tty_receive_buf(&tty, b"\n");
    let mut buf = [0; 16];
    crate::kassert!(n_tty_read(&tty, &mut buf, true) == Ok(1), "only the newline is left");
    Ok(())
});

crate::ktest!(tty_vmin_vtime, {
    let tty = test_tty().map_err(|_| "tty")?;
    let mut t = Termios::default();
    t.c_lflag &= !(uapi::ICANON | uapi::ECHO);
    t.c_cc[uapi::VMIN as usize] = 0;
    t.c_cc[uapi::VTIME as usize] = 0;
    tty.set_termios(t);
    let mut buf = [0; 8];
    crate::kassert!(n_tty_read(&tty, &mut buf, false) == Ok(0), "MIN 0 TIME 0 polls");
    t.c_cc[uapi::VMIN as usize] = 3;
    tty.set_termios(t);
    n_tty_receive_buf(&tty, b"xy");
    crate::kassert!(
        n_tty_read(&tty, &mut buf, true) == Ok(2),
        "non-blocking returns what is there"
    );
    n_tty_receive_buf(&tty, b"abc");
    crate::kassert!(
        n_tty_read(&tty, &mut buf, false) == Ok(3),
        "MIN bytes satisfy a blocking read"
    );
    Ok(())
});

crate::ktest!(tty_ioctl_termios_and_job_control, {
    let tty = test_tty().map_err(|_| "tty")?;
    let leader = Leader { ctty: SpinLock::new(None) };
    let mem = SpinLock::new(Vec::new());
    let get = |cmd| tty_ioctl(&tty, &leader, cmd, &KernelArg(&mem, 0));
    crate::kassert!(get(cmds::TCGETS) == Ok(0), "TCGETS");
    crate::kassert!(mem.lock().len() == TERMIOS_SIZE, "36 bytes of termios");
    let mut raw = Termios::default();
    raw.c_lflag &= !uapi::ICANON;
    *mem.lock() = raw.to_bytes().to_vec();
    crate::kassert!(get(cmds::TCSETSF) == Ok(0), "TCSETSF");
    crate::kassert!(tty.termios() == raw, "the new termios took");
    crate::kassert!(get(cmds::TIOCGPGRP) == Err(Errno::ENOTTY), "not our controlling tty yet");
    crate::kassert!(
        tty_ioctl(&tty, &leader, cmds::TIOCSCTTY, &KernelArg(&mem, 0)) == Ok(0),
        "TIOCSCTTY"
    );
    crate::kassert!(get(cmds::TIOCGPGRP) == Ok(0) && *mem.lock() == 10i32.to_ne_bytes(), "pgrp 10");
    *mem.lock() = 11i32.to_ne_bytes().to_vec();
    crate::kassert!(get(cmds::TIOCSPGRP) == Ok(0), "a group of our session");
    *mem.lock() = 20i32.to_ne_bytes().to_vec();
    crate::kassert!(get(cmds::TIOCSPGRP) == Err(Errno::EPERM), "another session's group");
    *mem.lock() = 99i32.to_ne_bytes().to_vec();
    crate::kassert!(get(cmds::TIOCSPGRP) == Err(Errno::ESRCH), "no such group");
    crate::kassert!(get(cmds::TIOCGSID) == Ok(0) && *mem.lock() == 10i32.to_ne_bytes(), "sid 10");
    n_tty_receive_buf(&tty, b"abcd");
    crate::kassert!(get(cmds::FIONREAD) == Ok(0) && *mem.lock() == 4i32.to_ne_bytes(), "FIONREAD");
    crate::kassert!(tty_ioctl(&tty, &leader, cmds::TCFLSH, &KernelArg(&mem, 0)) == Ok(0), "TCFLSH");
    crate::kassert!(get(cmds::FIONREAD) == Ok(0) && *mem.lock() == 0i32.to_ne_bytes(), "flushed");
    crate::kassert!(get(cmds::TIOCNOTTY) == Ok(0), "TIOCNOTTY");
    crate::kassert!(leader.controlling_tty().is_none(), "no controlling tty");
    crate::kassert!(get(0x5401_0000) == Err(Errno::ENOTTY), "unknown ioctl");
    Ok(())
});

/// Process 110 leading group and session 110, in a PID namespace that
/// numbers the initial namespace's 110, 111 and 120 as 10, 11 and 20.
struct NestedLeader {
    ctty: SpinLock<Option<Arc<Tty>>>,
}

impl JobControl for NestedLeader {
    fn pid(&self) -> i32 {
        110
    }
    fn pgrp(&self) -> i32 {
        110
    }
    fn sid(&self) -> i32 {
        110
    }
    fn controlling_tty(&self) -> Option<Arc<Tty>> {
        self.ctty.lock().clone()
    }
    fn set_controlling_tty(&self, tty: Option<Arc<Tty>>) {
        *self.ctty.lock() = tty;
    }
    fn session_of_pgrp(&self, pgrp: i32) -> Option<i32> {
        match pgrp {
            110 | 111 | 5 => Some(110),
            120 => Some(120),
            _ => None,
        }
    }
    fn capable_sys_admin(&self) -> bool {
        false
    }
    fn is_ignored(&self, sig: u32) -> bool {
        sig == uapi::SIGTTOU
    }
    fn nr_to_vnr(&self, nr: i32) -> i32 {
        if matches!(nr, 110 | 111 | 120) { nr - 100 } else { 0 }
    }
    fn vnr_to_nr(&self, vnr: i32) -> Option<i32> {
        matches!(vnr, 10 | 11 | 20).then_some(vnr + 100)
    }
}

crate::ktest!(tty_job_control_pid_namespace, {
    let tty = test_tty().map_err(|_| "tty")?;
    let leader = NestedLeader { ctty: SpinLock::new(None) };
    let mem = SpinLock::new(Vec::new());
    let get = |cmd| tty_ioctl(&tty, &leader, cmd, &KernelArg(&mem, 0));
    let set = |nr: i32| {
        *mem.lock() = nr.to_ne_bytes().to_vec();
        get(cmds::TIOCSPGRP)
    };
    crate::kassert!(get(cmds::TIOCSCTTY) == Ok(0), "TIOCSCTTY");
    crate::kassert!(get(cmds::TIOCGPGRP) == Ok(0) && *mem.lock() == 10i32.to_ne_bytes(), "pgrp 10");
    crate::kassert!(get(cmds::TIOCGSID) == Ok(0) && *mem.lock() == 10i32.to_ne_bytes(), "sid 10");
    crate::kassert!(set(11) == Ok(0), "our group 11");
    crate::kassert!(tty.ctrl.lock().pgrp == Some(111), "stored as the initial namespace's 111");
    crate::kassert!(set(20) == Err(Errno::EPERM), "another session's group");
    crate::kassert!(set(111) == Err(Errno::ESRCH), "111 is not a number here");
    tty.ctrl.lock().pgrp = Some(5);
    crate::kassert!(
        get(cmds::TIOCGPGRP) == Ok(0) && *mem.lock() == 0i32.to_ne_bytes(),
        "unseen: 0"
    );
    Ok(())
});

/// A process of background group 11 in session 10, whose controlling tty
/// has group 10 in the foreground.
struct Background {
    ctty: Arc<Tty>,
    ignored: bool,
    orphaned: bool,
}

impl JobControl for Background {
    fn pid(&self) -> i32 {
        11
    }
    fn pgrp(&self) -> i32 {
        11
    }
    fn sid(&self) -> i32 {
        10
    }
    fn controlling_tty(&self) -> Option<Arc<Tty>> {
        Some(self.ctty.clone())
    }
    fn set_controlling_tty(&self, _tty: Option<Arc<Tty>>) {}
    fn session_of_pgrp(&self, _pgrp: i32) -> Option<i32> {
        Some(10)
    }
    fn capable_sys_admin(&self) -> bool {
        false
    }
    fn is_ignored(&self, _sig: u32) -> bool {
        self.ignored
    }
    fn is_pgrp_orphaned(&self) -> bool {
        self.orphaned
    }
}

// The cases that send no signal (the stop itself is the terminal tier's:
// xtask/src/systest/terminal.rs, `cat &` and `stty tostop`).
crate::ktest!(tty_background_check_change, {
    let tty = test_tty().map_err(|_| "tty")?;
    {
        let mut ctrl = tty.ctrl.lock();
        ctrl.session = Some(10);
        ctrl.pgrp = Some(10);
    }
    let (ttin, ttou) = (uapi::SIGTTIN, uapi::SIGTTOU);
    let bg = |ignored, orphaned| Background { ctty: tty.clone(), ignored, orphaned };
    crate::kassert!(
        tty_check_change(&tty, &bg(true, false), ttin) == Err(Errno::EIO),
        "TTIN ignored"
    );
    crate::kassert!(tty_check_change(&tty, &bg(true, false), ttou) == Ok(()), "TTOU ignored");
    crate::kassert!(tty_check_change(&tty, &bg(false, true), ttou) == Err(Errno::EIO), "orphaned");
    tty.ctrl.lock().pgrp = Some(11);
    crate::kassert!(tty_check_change(&tty, &bg(false, true), ttin) == Ok(()), "foreground");
    Ok(())
});

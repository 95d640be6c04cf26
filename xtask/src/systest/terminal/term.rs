//! The guest's serial console as the terminal tier's user sees it: the
//! slave of the pty QEMU opened (`-chardev pty`), read by a thread into
//! a screen buffer, written as keys; `expect` waits for text after a mark.
//!
//! An expect-style driver with std only: the pty is made raw with the
//! host's `stty -F`, so no CR/NL translation, echo or signal happens on
//! the host's side.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::{Kernel, ROOT_PROMPT, STEP_TIMEOUT};
use crate::qemu::Machine;
use crate::systest::FATAL;

/// The guest's console through the host pty.
pub(super) struct Term {
    pub kernel: Kernel,
    qemu: Child,
    start: Instant,
    tty: File,
    output: Receiver<Vec<u8>>,
    /// Everything the guest wrote.
    pub screen: Vec<u8>,
    /// Where the next `expect` starts looking.
    mark: usize,
    /// A kernel's fatal line was seen (then nothing waits any longer).
    dead: bool,
}

impl Term {
    pub fn start(machine: &Machine, kernel: Kernel) -> Result<Term, String> {
        let mut cmd = machine.command();
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let start = Instant::now();
        let mut qemu = cmd.spawn().map_err(|e| format!("cannot start QEMU: {e}"))?;
        let stdout = qemu.stdout.take().ok_or("QEMU has no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let pts = loop {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                _ => return Err("QEMU ended without naming its pty".into()),
            };
            if let Some(rest) = line.strip_prefix("char device redirected to ") {
                break rest.split_whitespace().next().unwrap_or_default().to_string();
            }
        };
        // Drain QEMU's stdout so that it never blocks on it.
        std::thread::spawn(move || lines.for_each(drop));
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&pts)
            .map_err(|e| format!("{pts}: {e}"))?;
        // QEMU makes the pty raw; make sure of it (no echo, no signals, no
        // CR/NL translation on the host's side).
        let status = Command::new("stty").args(["-F", &pts, "raw", "-echo"]).status();
        if !status.is_ok_and(|s| s.success()) {
            return Err(format!("stty -F {pts} raw -echo failed"));
        }
        let mut reader = tty.try_clone().map_err(|e| format!("{pts}: {e}"))?;
        let (tx, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once QEMU closes the master.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Ok(Term { kernel, qemu, start, tty, output, screen: Vec::new(), mark: 0, dead: false })
    }

    pub fn send(&mut self, keys: &str) {
        // A write error means QEMU is gone: the next expect says so.
        let _ = self.tty.write_all(keys.as_bytes());
    }

    /// Lets the guest take what was typed before the next keys (vi's ESC).
    pub fn pause(&self) {
        std::thread::sleep(Duration::from_millis(400));
    }

    /// Waits for `text` after the mark; moves the mark past it and returns
    /// the time since QEMU's start.
    pub fn expect(&mut self, text: &str) -> Result<Duration, String> {
        self.expect_within(text, STEP_TIMEOUT)
    }

    pub fn expect_within(&mut self, text: &str, timeout: Duration) -> Result<Duration, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.screen.get(self.mark..).unwrap_or_default();
            if let Some(at) = find(seen, text.as_bytes()) {
                self.mark += at + text.len();
                return Ok(self.start.elapsed());
            }
            let left = deadline.checked_duration_since(Instant::now());
            let left =
                left.filter(|_| !self.dead).ok_or(format!("no {text:?} within {timeout:?}"))?;
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.take(&bytes),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!("QEMU ended before {text:?}"));
                }
            }
        }
    }

    /// Takes in whatever the guest writes during `time`.
    pub fn read_for(&mut self, time: Duration) {
        let deadline = Instant::now() + time;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.take(&bytes),
                Err(_) => break,
            }
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        self.screen.extend_from_slice(bytes);
        let text = String::from_utf8_lossy(&self.screen[self.screen.len().saturating_sub(4096)..]);
        if FATAL.iter().any(|f| text.contains(f)) {
            self.dead = true;
        }
    }

    pub fn expect_prompt(&mut self) -> Result<Duration, String> {
        self.expect(ROOT_PROMPT)?;
        self.expect("# ")
    }

    /// Types `command`, waits for `wanted` in its output and the next prompt.
    pub fn run(&mut self, command: &str, wanted: &str) -> Result<(), String> {
        self.send(command);
        self.send("\r");
        // Past the echo of the command line itself.
        self.expect(&format!("{command}\r\n"))?;
        self.expect(wanted)?;
        self.expect_prompt().map(drop)
    }

    /// Types `command`; returns what it printed before `marker` (which its
    /// last command echoes), carriage returns removed.
    pub fn capture(&mut self, command: &str, marker: &str) -> Result<String, String> {
        self.send(command);
        self.send("\r");
        self.expect(&format!("{command}\r\n"))?;
        let from = self.mark;
        self.expect(marker)?;
        let to = self.mark - marker.len();
        let output = String::from_utf8_lossy(&self.screen[from..to]).replace('\r', "");
        self.expect_prompt()?;
        Ok(output)
    }

    /// After a failed step: leaves whatever runs (vi, a job, a subshell)
    /// and finds the root shell again.
    pub fn resync(&mut self) -> Result<(), String> {
        self.send("\x1b:q!\r\x03");
        self.pause();
        self.mark = self.screen.len();
        self.send("\x03\recho resync-$((6*7))\r");
        self.expect("resync-42")?;
        if self.expect_prompt().is_err() {
            // Still in su's shell.
            self.send("exit\r");
            self.expect_prompt()?;
        }
        Ok(())
    }

    /// The screen as text (lossy).
    pub fn screen_text(&self) -> String {
        String::from_utf8_lossy(&self.screen).into_owned()
    }

    /// The last lines of the screen, escape characters made visible.
    pub fn tail(&self) -> String {
        let text = String::from_utf8_lossy(&self.screen[self.screen.len().saturating_sub(2048)..])
            .replace('\x1b', "^[")
            .replace('\r', "");
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Waits for QEMU to exit; its exit code, or `None` if it had to be killed.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.qemu.try_wait() {
                return status.code();
            }
            if let Ok(bytes) = self.output.recv_timeout(Duration::from_millis(100)) {
                self.take(&bytes);
            }
        }
        None
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        if let Ok(None) = self.qemu.try_wait() {
            let _ = self.qemu.kill();
            let _ = self.qemu.wait();
        }
    }
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_text_in_the_screen() {
        assert_eq!(super::find(b"root@ferrite:~# ", b"# "), Some(14));
        assert_eq!(super::find(b"login:", b"Password:"), None);
        assert_eq!(super::find(b"", b""), Some(0));
    }
}

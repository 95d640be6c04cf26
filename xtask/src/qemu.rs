//! Boots a kernel in QEMU: the one place that knows QEMU's flags, so that
//! Ferrite and Linux always run in the same machine.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::build::{Profile, build_kernel};
use crate::deps;

/// `isa-debug-exit`: the guest writes a value v to port 0xf4 and QEMU exits
/// with status (v << 1) | 1. Ferrite writes 0x10 for success, 0x11 for failure.
pub const EXIT_SUCCESS: i32 = (0x10 << 1) | 1;
pub const EXIT_FAILURE: i32 = (0x11 << 1) | 1;

/// How to boot one kernel.
pub struct Machine {
    pub kernel: PathBuf,
    pub initrd: Option<PathBuf>,
    pub cmdline: String,
    pub smp: u32,
    pub memory_mib: u32,
    pub kvm: bool,
    pub gdb: bool,
    /// Give QEMU a pipe for console input (see `Boot::type_input`).
    pub stdin_piped: bool,
    /// A raw image attached as a virtio-blk PCI disk (the guest's vda).
    pub disk: Option<PathBuf>,
    /// QEMU's `-cpu` model under TCG (`max` unless a check needs another).
    pub cpu: &'static str,
    /// The serial port on a host pseudo-terminal QEMU opens (it names it on
    /// stdout: "char device redirected to /dev/pts/N") instead of stdio.
    pub serial_pty: bool,
}

impl Machine {
    pub fn new(kernel: &Path, cmdline: &str) -> Self {
        Machine {
            kernel: kernel.to_path_buf(),
            initrd: None,
            cmdline: cmdline.to_string(),
            smp: 1,
            memory_mib: 1024,
            kvm: false,
            gdb: false,
            stdin_piped: false,
            disk: None,
            cpu: "max",
            serial_pty: false,
        }
    }

    /// The QEMU command line. The serial port is QEMU's stdio; there is no
    /// display and no monitor, and a guest reboot ends QEMU.
    pub fn command(&self) -> Command {
        let mut qemu = Command::new(deps::QEMU.program);
        qemu.args(["-machine", "q35", "-m"]).arg(self.memory_mib.to_string());
        qemu.args(["-smp"]).arg(self.smp.to_string());
        if self.kvm {
            qemu.args(["-accel", "kvm", "-cpu", "host"]);
        } else {
            qemu.args(["-accel", "tcg", "-cpu", self.cpu]);
        }
        qemu.args(["-display", "none", "-monitor", "none", "-no-reboot"]);
        if self.serial_pty {
            qemu.args(["-chardev", "pty,id=s0", "-serial", "chardev:s0"]);
        } else {
            qemu.args(["-serial", "stdio"]);
        }
        qemu.args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
        qemu.arg("-kernel").arg(&self.kernel);
        if let Some(initrd) = &self.initrd {
            qemu.arg("-initrd").arg(initrd);
        }
        qemu.arg("-append").arg(&self.cmdline);
        if let Some(disk) = &self.disk {
            let mut drive = std::ffi::OsString::from("file=");
            drive.push(disk);
            drive.push(",format=raw,if=none,id=d0");
            qemu.arg("-drive").arg(drive).args(["-device", "virtio-blk-pci,drive=d0"]);
        }
        if self.gdb {
            qemu.args(["-s", "-S"]);
        }
        qemu
    }
}

/// An initramfs with Debian's busybox and `user/init/shell.sh` as /init.
pub fn busybox_initramfs() -> Result<PathBuf, String> {
    let mut cpio = crate::initramfs::Archive::new();
    crate::systest::build::busybox_root(&mut cpio)?;
    cpio.file_from("init", 0o755, &crate::workspace_root().join("user/init/shell.sh"))?;
    let path = crate::workspace_root().join("target/busybox.cpio");
    cpio.write(&path)?;
    Ok(path)
}

/// `cargo xtask run`.
pub fn cmd_run(args: &[String]) -> Result<ExitCode, String> {
    deps::ensure(&[deps::QEMU])?;
    let image = build_kernel(Profile::from_args(args))?;
    let mut words = vec!["console=ttyS0".to_string()];
    let mut machine = Machine::new(&image, "");
    // The default is the ext2 root disk; `--busybox` boots the initramfs
    // instead, `--monitor` neither (the kernel's own monitor).
    let (mut disk, mut fresh) = (true, false);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--disk" => disk = true,
            "--fresh" => fresh = true,
            "--monitor" => disk = false,
            "--kvm" => machine.kvm = true,
            "--gdb" => machine.gdb = true,
            "--debug" => {}
            "--busybox" => {
                machine.initrd = Some(busybox_initramfs()?);
                disk = false;
            }
            "--smp" => {
                let n = rest.next().and_then(|n| n.parse().ok());
                machine.smp = n.ok_or("--smp needs a number")?;
            }
            word => words.push(word.to_string()),
        }
    }
    if disk {
        // The image stays in target/ across boots, so that files persist.
        let root = crate::workspace_root().join(crate::image::DEFAULT_IMAGE);
        if fresh || !root.is_file() {
            crate::image::build_image(&root)?;
        } else if etc_newer_than(&root) {
            eprintln!(
                "xtask: user/init/disk/etc changed since {}: --fresh rebuilds it",
                root.display()
            );
        }
        machine.disk = Some(root);
        // After "console=", before the user's words, which may override.
        words.splice(1..1, ["root=/dev/vda".to_string(), "rw".to_string()]);
    }
    machine.cmdline = words.join(" ");
    if machine.gdb {
        eprintln!("xtask: QEMU waits for gdb; in another terminal:");
        eprintln!("  gdb {} -ex 'target remote :1234'", image.display());
    }
    eprintln!("xtask: booting {} (Ctrl-C ends QEMU)", image.display());
    let status = machine.command().status().map_err(|e| format!("cannot start QEMU: {e}"))?;
    Ok(match status.code() {
        Some(0) | Some(EXIT_SUCCESS) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

/// Whether a file of the image's /etc (user/init/disk/etc/) was changed
/// after `image` was built.
fn etc_newer_than(image: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(built) = modified(image) else { return false };
    let etc = crate::workspace_root().join("user/init/disk/etc");
    let mut dirs = vec![etc];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if modified(&path).is_some_and(|m| m > built) {
                return true;
            }
        }
    }
    false
}

/// A running QEMU whose serial console we read line by line, each line
/// stamped with the time since QEMU was started.
pub struct Boot {
    child: Child,
    start: Instant,
    lines: Receiver<(Duration, String)>,
    /// QEMU closed its console: it is exiting.
    closed: bool,
    /// Every line read so far.
    pub console: Vec<String>,
}

impl Boot {
    /// Starts `machine` with the console on a pipe.
    pub fn start(machine: &Machine) -> Result<Boot, String> {
        let mut cmd = machine.command();
        cmd.stdin(if machine.stdin_piped { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let start = Instant::now();
        let mut child = cmd.spawn().map_err(|e| format!("cannot start QEMU: {e}"))?;
        let stdout = child.stdout.take().ok_or("QEMU has no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut raw = Vec::new();
            while reader.read_until(b'\n', &mut raw).unwrap_or(0) > 0 {
                let line = String::from_utf8_lossy(&raw).trim_end().to_string();
                if tx.send((start.elapsed(), line)).is_err() {
                    break;
                }
                raw.clear();
            }
        });
        Ok(Boot { child, start, lines: rx, closed: false, console: Vec::new() })
    }

    /// Reads lines until one satisfies `found`; returns when it appeared
    /// (from QEMU's start), or `None` if the console closed or `timeout`
    /// passed first.
    pub fn wait_for(
        &mut self,
        found: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Option<Duration> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let (at, line) = match self.lines.recv_timeout(left) {
                Ok(stamped) => stamped,
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => {
                    self.closed = true;
                    return None;
                }
            };
            let hit = found(&line);
            self.console.push(line);
            if hit {
                return Some(at);
            }
        }
    }

    /// Waits for QEMU to exit, reading the rest of the console; kills it at
    /// `timeout`. Returns its exit code and when it exited (from its start),
    /// or `None` if it had to be killed.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<(i32, Duration)> {
        self.wait_for(|_| false, timeout);
        if !self.closed {
            self.kill();
            return None;
        }
        let status = self.child.wait().ok()?;
        Some((status.code()?, self.start.elapsed()))
    }

    /// The console's input, when the machine was started with a pipe.
    pub fn stdin(&mut self) -> Option<&mut std::process::ChildStdin> {
        self.child.stdin.as_mut()
    }

    /// Ends QEMU (which this process started).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Boot {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

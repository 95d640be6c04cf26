//! Boots a kernel in QEMU: the one place that knows QEMU's flags, so that
//! Ferrite and Linux always run in the same machine.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

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
            qemu.args(["-accel", "tcg", "-cpu", "max"]);
        }
        qemu.args(["-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot"]);
        qemu.args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
        qemu.arg("-kernel").arg(&self.kernel);
        if let Some(initrd) = &self.initrd {
            qemu.arg("-initrd").arg(initrd);
        }
        qemu.arg("-append").arg(&self.cmdline);
        if self.gdb {
            qemu.args(["-s", "-S"]);
        }
        qemu
    }
}

/// `cargo xtask run`.
pub fn cmd_run(args: &[String]) -> Result<ExitCode, String> {
    deps::ensure(&[deps::QEMU])?;
    let image = build_kernel(Profile::from_args(args))?;
    let mut words = vec!["console=ttyS0".to_string()];
    let mut machine = Machine::new(&image, "");
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--kvm" => machine.kvm = true,
            "--gdb" => machine.gdb = true,
            "--debug" => {}
            "--smp" => {
                let n = rest.next().and_then(|n| n.parse().ok());
                machine.smp = n.ok_or("--smp needs a number")?;
            }
            word => words.push(word.to_string()),
        }
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
